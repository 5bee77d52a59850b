"""A small HTTP file server for tests, on loopback: byte ranges, ETags that tests
can change, redirects, 404s, a path that never answers, one that ignores ranges,
and a log of every range it served."""
import http.server
import os
import re
import threading
import urllib.parse


class RangeServer:
    def __init__(self, folder, host="127.0.0.1"):
        self.folder = folder
        self.log = []  # (path, first, last, bytes)
        self.versions = {}  # name -> ETag suffix tests can bump
        self.release = threading.Event()
        self.slow_seconds = 0.25  # per request under /slow/
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_HEAD(self):
                self.do_GET(body=False)

            def do_GET(self, body=True):
                url = urllib.parse.urlsplit(self.path)
                query = urllib.parse.parse_qs(url.query)
                if url.path == "/redirect":
                    self.send_response(302)
                    self.send_header("Location", query["to"][0])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if url.path == "/hang":
                    server.release.wait(60)
                    return
                match = re.match(r"^/(files|norange|slow)/([\w.\-]+)$", url.path)
                if match and match.group(1) == "slow":
                    server.release.wait(server.slow_seconds)
                path = os.path.join(server.folder, match.group(2)) if match else None
                if not path or not os.path.isfile(path):
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                with open(path, "rb") as f:
                    data = f.read()
                name = match.group(2)
                etag = '"%s-%d-%s"' % (name, len(data), server.versions.get(name, "v1"))
                first, last = 0, len(data) - 1
                status = 200
                wanted = self.headers.get("Range")
                if wanted and match.group(1) in ("files", "slow"):
                    m = re.match(r"bytes=(\d+)-(\d*)$", wanted)
                    if m:
                        first = int(m.group(1))
                        last = min(int(m.group(2)) if m.group(2) else last, len(data) - 1)
                        status = 206
                chunk = data[first:last + 1]
                server.log.append((url.path, first, last, len(chunk) if body else 0))
                self.send_response(status)
                self.send_header("Content-Type", "image/tiff")
                self.send_header("ETag", etag)
                self.send_header("Accept-Ranges", "bytes")
                if status == 206:
                    self.send_header("Content-Range",
                                     "bytes %d-%d/%d" % (first, last, len(data)))
                self.send_header("Content-Length", str(len(chunk)))
                self.end_headers()
                if body:
                    try:
                        self.wfile.write(chunk)
                    except (BrokenPipeError, ConnectionResetError):
                        pass  # the client stopped reading: its choice

        self.httpd = http.server.ThreadingHTTPServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def bytes_served(self, name=None):
        return sum(n for p, _, _, n in self.log if name is None or p.endswith("/" + name))

    def close(self):
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
