"""An S3-compatible object server for tests, on loopback: GET and HEAD of
/BUCKET/KEY with byte ranges, ETags, S3's XML errors, and a log of every request
(method, path, range, Authorization) so tests can count range reads and see how
they were signed. Google Cloud Storage's XML API reads objects the same way."""
import email.utils
import http.server
import os
import re
import threading
import urllib.parse


class ObjectServer:
    def __init__(self, buckets, host="127.0.0.1"):
        self.buckets = buckets  # name -> folder
        self.log = []  # dicts: method, path, range, authorization, sent
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def error(self, status, code):
                body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>%s</Code>"
                        "<Message>%s</Message></Error>" % (code, code)).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def do_HEAD(self):
                self.do_GET()

            def do_GET(self):
                url = urllib.parse.urlsplit(self.path)
                entry = {"method": self.command, "path": url.path, "query": url.query,
                         "range": self.headers.get("Range"),
                         "authorization": self.headers.get("Authorization") or "", "sent": 0}
                server.log.append(entry)
                parts = urllib.parse.unquote(url.path).lstrip("/").split("/", 1)
                if url.query or len(parts) != 2 or parts[0] not in server.buckets:
                    return self.error(404, "NoSuchBucket" if len(parts) < 2 else "NoSuchKey")
                path = os.path.join(server.buckets[parts[0]], parts[1])
                if ".." in parts[1].split("/") or not os.path.isfile(path):
                    return self.error(404, "NoSuchKey")
                with open(path, "rb") as f:
                    data = f.read()
                first, last, status = 0, len(data) - 1, 200
                m = re.match(r"bytes=(\d+)-(\d*)$", self.headers.get("Range") or "")
                if m:
                    first = int(m.group(1))
                    last = min(int(m.group(2)) if m.group(2) else last, len(data) - 1)
                    if first >= len(data):
                        return self.error(416, "InvalidRange")
                    status = 206
                self.send_response(status)
                self.send_header("ETag", '"%x-%x"' % (len(data), int(os.stat(path).st_mtime)))
                self.send_header("Last-Modified", email.utils.formatdate(os.stat(path).st_mtime,
                                                                         usegmt=True))
                self.send_header("Accept-Ranges", "bytes")
                self.send_header("Content-Type", "application/octet-stream")
                if status == 206:
                    self.send_header("Content-Range", "bytes %d-%d/%d" % (first, last, len(data)))
                self.send_header("Content-Length", str(last - first + 1))
                self.end_headers()
                if self.command == "GET":
                    self.wfile.write(data[first:last + 1])
                    entry["sent"] = last - first + 1

        self.httpd = http.server.ThreadingHTTPServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
