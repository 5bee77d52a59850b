"""HTTP to a rasterclip daemon: over TCP ("http(s)://HOST:PORT[/prefix]") or a
Unix socket ("unix:PATH"), through the proxy the environment names for http(s)
as urllib honours it."""
import http.client
import ipaddress
import json
import socket
import urllib.parse
import urllib.request


class UnixConnection(http.client.HTTPConnection):
    """HTTP/1.1 over a Unix stream socket."""

    def __init__(self, path, timeout=None):
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if self.timeout is not None:
            sock.settimeout(self.timeout)
        try:
            sock.connect(self._path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


def _loopback(host):
    """A daemon on this machine is never reached through a proxy."""
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def connection(server, timeout=None):
    """(connection, path prefix) for a server URL."""
    if server.startswith("unix:"):
        return UnixConnection(server[5:], timeout=timeout), ""
    url = urllib.parse.urlsplit(server)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise ValueError("server must be http(s)://HOST:PORT or unix:PATH, got %r" % (server,))
    prefix = url.path.rstrip("/")
    proxy = urllib.request.getproxies().get(url.scheme)
    if proxy and not _loopback(url.hostname) and not urllib.request.proxy_bypass(url.hostname):
        p = urllib.parse.urlsplit(proxy)
        if url.scheme == "http":
            # An HTTP proxy takes the absolute URL as the request target.
            conn = http.client.HTTPConnection(p.hostname, p.port or 8080, timeout=timeout)
            return conn, "%s://%s%s" % (url.scheme, url.netloc, prefix)
        conn = http.client.HTTPSConnection(p.hostname, p.port or 8080, timeout=timeout)
        conn.set_tunnel(url.hostname, url.port or 443)
        return conn, prefix
    kind = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
    return kind(url.hostname, url.port, timeout=timeout), prefix


def get(server, path, headers=None, timeout=10):
    """(status, parsed JSON or None) of a GET."""
    conn, prefix = connection(server, timeout)
    try:
        conn.request("GET", prefix + path, headers=headers or {})
        resp = conn.getresponse()
        body = resp.read()
        try:
            return resp.status, json.loads(body)
        except ValueError:
            return resp.status, None
    finally:
        conn.close()
