"""The daemon against proto/openapi.yaml: every documented query parameter is
accepted with its documented example, every documented status of /v1/render is
reachable, and every endpoint the daemon serves is documented."""
import json
import os
import re
import signal
import socket
import tempfile
import unittest
import urllib.parse

import yaml

from harness import SOURCE, Daemon, at_once
from rangeserver import RangeServer

SPEC = os.path.join(SOURCE, "proto", "openapi.yaml")
TOKEN = "openapi-test-token"


class OpenApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(SPEC) as f:
            cls.spec = yaml.safe_load(f)
        cls.tokens = tempfile.NamedTemporaryFile("w", delete=False)
        cls.tokens.write(TOKEN + "\n")
        cls.tokens.close()
        cls.server = RangeServer(tempfile.mkdtemp(prefix="rasterclip-openapi-"))
        cls.server.slow_seconds = 0
        cls.daemon = Daemon("--token-file", cls.tokens.name, "--allow-private", "--workers", "1",
                            "--queue", "1", "--fetch-timeout-ms", "1000")

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()
        cls.server.close()
        os.unlink(cls.tokens.name)

    AUTH = {"Authorization": "Bearer " + TOKEN}

    def post(self, job, auth=True, daemon=None):
        body = job if isinstance(job, (bytes, str)) else json.dumps(job)
        headers = dict({"Content-Type": "application/json"}, **(self.AUTH if auth else {}))
        return (daemon or self.daemon).request("POST", "/v1/render", body=body, headers=headers)

    def test_document_is_openapi_3_1(self):
        self.assertEqual(self.spec["openapi"], "3.1.0")
        served = {"/", "/v1/render", "/v1/info", "/v1/colormaps", "/healthz", "/readyz",
                  "/metrics", "/v1/jobs/{id}", "/v1/cache", "/v1/cache/{key}", "/openapi.json",
                  "/docs", "/map", "/leaflet/{file}", "/v1/legend",
                  "/v1/vectors"}
        self.assertEqual(set(self.spec["paths"]), served)

    def test_the_document_and_its_page_are_served(self):
        status, headers, body = self.daemon.request("GET", "/openapi.json", headers=self.AUTH)
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], "application/json")
        self.assertEqual(json.loads(body), self.spec)  # the YAML the tests read, the same
        status, headers, body = self.daemon.request("GET", "/docs", headers=self.AUTH)
        self.assertEqual(status, 200)
        self.assertIn(b'fetch("/openapi.json")', body)
        self.assertNotIn(b"https://", body)  # nothing from outside the server

    def test_demo_page_builds_documented_queries(self):
        status, headers, body = self.daemon.request("GET", "/", headers=self.AUTH)
        self.assertEqual(status, 200)
        self.assertTrue(headers["content-type"].startswith("text/html"))
        page = body.decode()
        self.assertIn("<video", page)
        names = set(re.findall(r'<(?:input|select)[^>]*name="([^"]+)"', page))
        documented = {p["name"] for p in self.spec["components"]["parameters"].values()}
        self.assertGreater(len(names), 5)
        self.assertLessEqual(names, documented)
        # The page's default form, as the page sends it (empty fields left out), renders.
        defaults = {k: v for k, v in re.findall(r'name="([^"]+)" value="([^"]*)"', page) if v}
        defaults["mode"] = "surface"
        defaults["frames"] = "3"
        defaults.pop("duration")
        defaults["url"] = "byte_20x20.tif"
        status, _, clip = self.daemon.request(
            "GET", "/v1/render?" + urllib.parse.urlencode(defaults), headers=self.AUTH)
        self.assertEqual(status, 200, clip[:200])

    def test_the_route_table_is_the_documents(self):
        """Every documented path answers its documented methods and refuses the
        others by name; an undocumented path is a 404 for every method."""
        concrete = {"/v1/jobs/{id}": "/v1/jobs/" + "0" * 16, "/v1/cache/{key}": "/v1/cache/" +
                    "0" * 64}
        methods = ("get", "post", "delete")
        for path, item in self.spec["paths"].items():
            url = concrete.get(path, path)
            for method in methods:
                if method == "post":
                    body, headers = b"{}", dict(self.AUTH, **{"Content-Type": "text/plain"})
                else:
                    body, headers = None, self.AUTH
                status, _, answer = self.daemon.request(method.upper(), url, body, headers)
                error = json.loads(answer)["error"] if status >= 400 and answer else {}
                refused = status == 400 and error.get("message", "").startswith("use ")
                if method in item:
                    self.assertFalse(refused, "%s %s: %s" % (method, path, answer))
                    self.assertNotEqual(error.get("message"), "no such endpoint", path)
                else:
                    self.assertTrue(refused, "%s %s answered %d %s" % (method, path, status,
                                                                      answer))
                if method == "get":  # HEAD answers as GET does, without the body
                    head = self.daemon.request("HEAD", url, None, self.AUTH)
                    self.assertEqual((head[0], head[2]), (status, b""), path)
        for method in methods:
            status, _, answer = self.daemon.request(method.upper(), "/v1/nothing-here",
                                                    None, self.AUTH)
            self.assertEqual(status, 404, method)

    def test_every_query_parameter_is_accepted(self):
        params = self.spec["paths"]["/v1/render"]["get"]["parameters"]
        names = []
        for ref in params:
            p = self.spec["components"]["parameters"][ref["$ref"].rsplit("/", 1)[1]]
            names.append(p["name"])
            if p.get("x-signed"):
                continue  # a signature cannot be an example: test_signed.py signs URLs
            example = p["example"]
            value = str(example[0]) if isinstance(example, list) else str(example)
            query = {"url": "byte_20x20.tif"}
            query.update(p.get("x-with", {}))  # parameters that only apply beside another
            query[p["name"]] = value
            status, _, body = self.daemon.request(
                "HEAD", "/v1/render?" + urllib.parse.urlencode(query), headers=self.AUTH)
            self.assertEqual(status, 200, "%s=%s" % (p["name"], value))
        # The daemon's ignored list is exactly what the document calls ignored.
        _, _, info = self.daemon.request("GET", "/v1/info", headers=self.AUTH)
        ignored = json.loads(info)["ignored_query_parameters"]
        self.assertTrue(set(ignored) <= set(names))

    def test_every_documented_status_is_reachable(self):
        documented = set(self.spec["paths"]["/v1/render"]["post"]["responses"])
        reached = {}
        small = {"raster": {"url": "byte_20x20.tif"},
                 "output": {"width": 64, "height": 36, "frames": 2}}
        reached["200"] = self.post(small)[0]
        reached["400"] = self.post(b'{"raster":')[0]
        reached["401"] = self.post(small, auth=False)[0]
        reached["403"] = self.post(dict(small, raster={"url": "../../etc/passwd"}))[0]
        reached["404"] = self.post(dict(small, raster={"url": "missing.tif"}))[0]
        reached["413"] = self.post(b'{"pad":"' + b"x" * (2 << 20) + b'"}')[0]
        reached["415"] = self.daemon.request("POST", "/v1/render", body=b"a,b\n1,2\n",
                                             headers=dict({"Content-Type": "text/csv"},
                                                          **self.AUTH))[0]
        reached["422"] = self.post(dict(small, output={"width": 100000}))[0]

        def raw_status(request):
            with socket.create_connection((self.daemon.host, self.daemon.port), timeout=30) as s:
                s.sendall(request)
                return int(s.recv(64).split()[1])
        auth = b"Authorization: Bearer " + TOKEN.encode() + b"\r\n"
        # A body that stops short of its Content-Length: 408 within five seconds.
        reached["408"] = raw_status(b"POST /v1/render HTTP/1.1\r\nHost: x\r\n" + auth +
                                    b"Content-Type: application/json\r\nContent-Length: 99\r\n"
                                    b"\r\n{")
        reached["414"] = raw_status(b"GET /v1/render?title=%s HTTP/1.1\r\nHost: x\r\n\r\n"
                                    % (b"a" * 40000))
        reached["431"] = raw_status(b"POST /v1/render HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\n\r\n"
                                    % (b"a" * 200000))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            free = s.getsockname()[1]
        reached["502"] = self.post(dict(small, raster={
            "url": "http://127.0.0.1:%d/x.tif" % free}))[0]
        reached["504"] = self.post(dict(small, raster={"url": self.server.url("/hang")}))[0]
        # 429: one worker, a queue of one, five long jobs at once.
        long_job = {"raster": {"url": "jacksboro_dem.tif"},
                    "output": {"width": 640, "height": 360, "frames": 150}}
        statuses = at_once(lambda: self.post(long_job)[0], 5)
        reached["429"] = 429 if 429 in statuses else statuses[0]
        # 503: a new job while a daemon drains (a long job keeps it draining).
        draining = Daemon("--token-file", self.tokens.name)
        streaming = socket.create_connection((draining.host, draining.port))
        body = json.dumps(dict(long_job, output=dict(long_job["output"], frames=600))).encode()
        streaming.sendall(b"POST /v1/render HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                          + TOKEN.encode() + b"\r\nContent-Type: application/json\r\n"
                          b"Content-Length: %d\r\n\r\n" % len(body) + body)
        streaming.recv(1024)  # the clip has started
        draining.proc.send_signal(signal.SIGTERM)
        draining.wait_for_log(r'msg="draining"')
        status, headers, _ = self.post(small, daemon=draining)
        reached["503"] = status
        self.assertEqual(headers.get("retry-after"), "2")
        while streaming.recv(65536):
            pass  # the running job still finishes: a drain completes it
        streaming.close()
        draining.stop()
        self.assertIn("outcome=ok w=640 h=360 frames=600", draining.log())
        for code in sorted(documented):
            self.assertEqual(str(reached.get(code)), code, "status %s not reached" % code)
