"""Signed render URLs (the daemon's --url-signing-key-file): HMAC-SHA256 over the
path and the canonical query, as daemon/base/urlsign.h defines them."""
import hashlib
import hmac
import time
import urllib.parse
from typing import Union


def _encode(text: str) -> str:
    return urllib.parse.quote(text, safe="-_.~", encoding="utf-8")


def sign_url(url: str, key: Union[bytes, str], expires_in: float = 3600) -> str:
    """``url`` (a GET of /v1/render) with ``expires`` and ``sig`` added, valid for
    ``expires_in`` seconds: a page's ``<video src>`` then needs no token. ``key``
    is the bytes of the daemon's key file (a str is taken as UTF-8). An
    ``expires`` or ``sig`` already in ``url`` is replaced."""
    if isinstance(key, str):
        key = key.encode("utf-8")
    if len(key) < 16:
        raise ValueError("the URL signing key must be at least 16 bytes")
    parts = urllib.parse.urlsplit(url)
    if not parts.scheme or not parts.path:
        raise ValueError("sign_url needs an absolute URL with a path")
    kept = [p for p in parts.query.split("&") if p and p.split("=", 1)[0] not in ("sig", "expires")]
    pairs = urllib.parse.parse_qsl("&".join(kept), keep_blank_values=True)
    expires = str(int(time.time() + expires_in))
    pairs.append(("expires", expires))
    canonical = "&".join(sorted("%s=%s" % (_encode(k), _encode(v)) for k, v in pairs))
    message = urllib.parse.unquote(parts.path) + "\n" + canonical
    sig = hmac.new(key, message.encode("utf-8"), hashlib.sha256).hexdigest()
    query = "&".join(kept + ["expires=" + expires, "sig=" + sig])
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
