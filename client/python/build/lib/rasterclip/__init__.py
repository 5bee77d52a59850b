"""Client for the rasterclip daemon: a raster in, a clip out, in one call.

    import rasterclip
    gif = rasterclip.render({"style": {"colormap": "viridis"},
                             "output": {"format": "gif"}}, raster=array)

The raster may be a NumPy array (sent as .npy; NaN is no data), a path to any
file the daemon's GDAL reads (or a .npy), or the bytes of one. Without a raster
the job's raster.url names one the daemon can reach. Standard library only; NumPy
is imported only to serialise an array.
"""
import http.client
import io
import json
import os
import time
import urllib.parse
import uuid

__all__ = ["render", "render_to", "RenderError", "DEFAULT_SERVER"]

DEFAULT_SERVER = "http://127.0.0.1:8080"
RETRIES = 3           # 429/503 answers retried this many times
MAX_RETRY_AFTER = 30  # seconds: a longer Retry-After is capped
CHUNK = 64 * 1024


class RenderError(Exception):
    """The daemon refused or failed the job: `status` (HTTP; 0 for a cut stream or
    a network failure), and from the JSON error `code`, `field` and `message`."""

    def __init__(self, status, code, message, field=None):
        super().__init__("%s%s: %s" % (code, " (%s)" % field if field else "", message))
        self.status = status
        self.code = code
        self.field = field
        self.message = message


def render(job, raster=None, heights=None, server=None, timeout=None):
    """Renders `job` and returns the clip's bytes."""
    out = io.BytesIO()
    render_to(out, job, raster=raster, heights=heights, server=server, timeout=timeout)
    return out.getvalue()


def render_to(fileobj, job, raster=None, heights=None, server=None, timeout=None):
    """Renders `job` and writes the clip into `fileobj` (anything with write()) as
    it streams; returns the number of bytes written."""
    parts = [("job", "job.json", "application/json", json.dumps(job).encode())]
    for name, value in (("raster", raster), ("heights", heights)):
        if value is not None:
            parts.append((name,) + _payload(value))
    body, content_type = _multipart(parts) if len(parts) > 1 else (
        parts[0][3], "application/json")
    url = urllib.parse.urlsplit(server or os.environ.get("RASTERCLIP_SERVER") or DEFAULT_SERVER)
    if url.scheme not in ("http", "https"):
        raise ValueError("server must be an http(s) URL, got %r" % (server,))
    for attempt in range(RETRIES + 1):
        conn_type = http.client.HTTPSConnection if url.scheme == "https" else (
            http.client.HTTPConnection)
        conn = conn_type(url.hostname, url.port, timeout=timeout)
        try:
            try:
                conn.request("POST", (url.path.rstrip("/") or "") + "/v1/render", body=body,
                             headers={"Content-Type": content_type})
                resp = conn.getresponse()
            except OSError as e:
                raise RenderError(0, "network", str(e)) from e
            if resp.status in (429, 503) and attempt < RETRIES:
                resp.read()
                time.sleep(_retry_after(resp))
                continue
            if resp.status != 200:
                raise _error(resp)
            return _copy(resp, fileobj)
        finally:
            conn.close()
    raise AssertionError("unreachable")


def _payload(value):
    """(filename, content type, bytes) of a raster given as an array, path or bytes."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
        is_npy = data[:6] == b"\x93NUMPY"
        return ("raster.npy" if is_npy else "raster", _type_of(is_npy), data)
    if isinstance(value, (str, os.PathLike)):
        with open(value, "rb") as f:
            data = f.read()
        return (os.path.basename(os.fspath(value)), _type_of(data[:6] == b"\x93NUMPY"), data)
    if hasattr(value, "__array__") or type(value).__module__.startswith("numpy"):
        import numpy as np  # only when an array is given
        buf = io.BytesIO()
        np.save(buf, np.asarray(value), allow_pickle=False)
        return ("raster.npy", "application/x-npy", buf.getvalue())
    raise TypeError("raster must be a NumPy array, a path or bytes, not %s" % type(value).__name__)


def _type_of(is_npy):
    return "application/x-npy" if is_npy else "application/octet-stream"


def _multipart(parts):
    boundary = "rasterclip-" + uuid.uuid4().hex
    out = io.BytesIO()
    for name, filename, ctype, data in parts:
        out.write(("--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\n"
                   "Content-Type: %s\r\n\r\n" % (boundary, name, filename, ctype)).encode())
        out.write(data)
        out.write(b"\r\n")
    out.write(("--%s--\r\n" % boundary).encode())
    return out.getvalue(), "multipart/form-data; boundary=" + boundary


def _retry_after(resp):
    try:
        return min(max(float(resp.getheader("Retry-After", "1")), 0.0), MAX_RETRY_AFTER)
    except ValueError:
        return 1.0


def _error(resp):
    data = resp.read()
    try:
        err = json.loads(data)["error"]
        return RenderError(resp.status, err.get("code", "error"), err.get("message", ""),
                           err.get("field"))
    except (ValueError, KeyError, TypeError):
        return RenderError(resp.status, "http_%d" % resp.status,
                           data[:200].decode("utf-8", "replace"))


def _copy(resp, fileobj):
    written = 0
    try:
        while True:
            chunk = resp.read1(CHUNK) if hasattr(resp, "read1") else resp.read(CHUNK)
            if not chunk:
                break
            fileobj.write(chunk)
            written += len(chunk)
    except http.client.IncompleteRead as e:
        raise RenderError(0, "incomplete", "the stream was cut after %d bytes: the job failed "
                          "while rendering" % (written + len(e.partial))) from e
    return written
