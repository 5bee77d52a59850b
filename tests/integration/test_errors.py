"""Bad input gets a clear answer (status, JSON code and field), and the daemon
keeps serving afterwards."""
import json
import os
import shutil
import socket
import tempfile
import time
import unittest

from harness import DaemonTest, ffprobe

GOOD = {"raster": {"url": "byte_20x20.tif"},
        "output": {"width": 160, "height": 90, "fps": 10, "frames": 5}}


def job(**changes):
    j = json.loads(json.dumps(GOOD))
    for path, value in changes.items():
        node = j
        keys = path.split("__")
        for k in keys[:-1]:
            node = node.setdefault(k, {})
        node[keys[-1]] = value
    return j


# (name, body, status, code, field)
CASES = [
    ("malformed json", b'{"raster": ', 400, "invalid", None),
    ("not an object", b'[]', 400, "invalid", None),
    ("unknown top-level field", dict(GOOD, colour=1), 400, "invalid", "colour"),
    ("unknown nested field", job(style__colourmap="viridis"), 400, "invalid", "style.colourmap"),
    ("wrong type", job(output__width="640"), 400, "invalid", "output.width"),
    ("absurd width", job(output__width=100000), 422, "impossible", "output.width"),
    ("odd height", job(output__height=91), 422, "impossible", "output.height"),
    ("unknown colormap", job(style__colormap="nosuchmap"), 400, "invalid", "style.colormap"),
    ("bad colour", job(style__background="white"), 400, "invalid", "style.background"),
    ("missing raster", job(raster__url="nope.tif"), 404, "not_found", "raster.url"),
    ("not a raster", job(raster__url="broken_not_a_raster.tif"), 422, "impossible",
     "raster.url"),
    ("band past the end", job(raster__bands=[1, 2]), 422, "impossible", "raster.bands"),
    ("dot-dot escape", job(raster__url="../../../../etc/passwd"), 403, "forbidden",
     "raster.url"),
    ("absolute path outside", job(raster__url="/etc/passwd"), 403, "forbidden", "raster.url"),
    ("file url outside", job(raster__url="file:///etc/passwd"), 403, "forbidden", "raster.url"),
    ("other scheme", job(raster__url="ftp://example.invalid/a.tif"), 400, "invalid",
     "raster.url"),
    ("gdal virtual path", job(raster__url="/vsicurl/http://127.0.0.1:1/a.tif"), 400, "invalid",
     "raster.url"),
    ("unknown mode", job(style__mode="volume"), 400, "invalid", "style.mode"),
    ("exaggeration out of range", job(style__exaggeration=-1), 422, "impossible",
     "style.exaggeration"),
    ("keyframe times must increase",
     dict(GOOD, camera={"keyframes": [{"t": 1}, {"t": 0.5}]}), 422, "impossible",
     "camera.keyframes[1].t"),
]


class ErrorTest(DaemonTest):

    def check(self, body, status, code, field):
        got_status, headers, data = self.daemon.render(body)
        self.assertEqual(got_status, status, data[:300])
        self.assertEqual(headers.get("content-type"), "application/json")
        err = json.loads(data)["error"]
        self.assertEqual(err["code"], code)
        self.assertTrue(err["message"])
        if field is None:
            self.assertNotIn("field", err)
        else:
            self.assertEqual(err.get("field"), field)
        return err

    def test_error_table(self):
        for name, body, status, code, field in CASES:
            with self.subTest(name):
                err = self.check(body, status, code, field)
                self.assertNotIn(self.daemon.root, err["message"])  # no paths leak

    def test_damaged_raster(self):
        for name in ("broken_truncated.tif", "broken_empty.tif", "broken_header_only.tif",
                     "broken_not_a_raster.tif"):
            with self.subTest(name):
                self.check(job(raster__url=name), 422, "impossible", "raster.url")

    def test_leaving_the_root_is_403_whether_or_not_the_target_exists(self):
        outside = tempfile.mkdtemp(prefix="rasterclip-outside-")
        try:
            with open(os.path.join(outside, "there.tif"), "wb") as f:
                f.write(b"x")
            os.symlink(outside, os.path.join(self.daemon.root, "linked_dir"))
            os.symlink(os.path.join(outside, "there.tif"),
                       os.path.join(self.daemon.root, "link_there.tif"))
            os.symlink(os.path.join(outside, "absent.tif"),
                       os.path.join(self.daemon.root, "link_absent.tif"))
            up = "../" * 12
            pairs = [(up + outside[1:] + "/there.tif", up + outside[1:] + "/absent.tif"),
                     (outside + "/there.tif", outside + "/absent.tif"),
                     ("file://" + outside + "/there.tif", "file://" + outside + "/absent.tif"),
                     ("linked_dir/there.tif", "linked_dir/absent.tif"),
                     ("link_there.tif", "link_absent.tif"),
                     ("nowhere/../../there.tif", "nowhere/../../absent.tif")]
            messages = set()
            for existing, missing in pairs:
                for url in (existing, missing):
                    with self.subTest(url):
                        err = self.check(job(raster__url=url), 403, "forbidden", "raster.url")
                        messages.add(err["message"])
            self.assertEqual(len(messages), 1)
            # Inside the root, a missing file is 404 and ".." that stays inside is fine.
            self.check(job(raster__url="nowhere/absent.tif"), 404, "not_found", "raster.url")
            status, _, _ = self.daemon.render(job(raster__url="nowhere/../byte_20x20.tif"))
            self.assertEqual(status, 200)
        finally:
            for name in ("linked_dir", "link_there.tif", "link_absent.tif"):
                os.unlink(os.path.join(self.daemon.root, name))
            shutil.rmtree(outside)

    def test_huge_raster_without_overviews_is_refused_quickly(self):
        """A 10^10-pixel sparse file (a few hundred KB) would keep a worker for seconds
        and fill GDAL's block cache: refused before any pixel is read, naming the limit."""
        start = time.monotonic()
        err = self.check(job(raster__url="huge_sparse.tif", output__width=320,
                             output__height=180), 422, "impossible", "raster.url")
        elapsed = time.monotonic() - start
        print("\nhuge sparse raster refused in %.0f ms" % (elapsed * 1e3))
        self.assertIn("max_read_pixels", err["message"])
        self.assertLess(elapsed, 2.0)
        status, _, data = self.daemon.request("GET", "/v1/info")
        info = json.loads(data)
        self.assertEqual(info["gdal_cache_bytes"], 64 << 20)
        self.assertEqual(info["limits"]["max_read_pixels"], 1 << 30)

    def test_blocks_larger_than_the_block_cache_are_refused(self):
        """A file stored in 256 MiB tiles would make GDAL hold and decode whole tiles
        for a 320x180 clip: refused before any pixel is read, naming the limit."""
        start = time.monotonic()
        err = self.check(job(raster__url="giant_tiles.tif", output__width=320,
                             output__height=180), 422, "impossible", "raster.url")
        self.assertIn("gdal_cache_mb", err["message"])
        self.assertIn("8192x8192", err["message"])
        self.assertLess(time.monotonic() - start, 2.0)

    def test_symlink_out_of_root(self):
        link = os.path.join(self.daemon.root, "escape.tif")
        os.symlink("/etc/hostname", link)
        try:
            self.check(job(raster__url="escape.tif"), 403, "forbidden", "raster.url")
        finally:
            os.unlink(link)

    def test_body_too_large(self):
        big = b'{"raster":{"url":"byte_20x20.tif"},"pad":"' + b"x" * (2 << 20) + b'"}'
        status, _, data = self.daemon.render(big)
        self.assertEqual(status, 413)
        self.assertEqual(json.loads(data)["error"]["code"], "too_large")

    def test_http_edge_cases(self):
        """Requests a proxy and the daemon could read differently, or a cross-site form
        could send, are refused with the JSON error naming what is wrong."""
        def raw(request):
            # The answer may come, and the connection close, before all is sent.
            with socket.create_connection((self.daemon.host, self.daemon.port), timeout=30) as s:
                try:
                    s.sendall(request)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                got = b""
                while True:
                    try:
                        chunk = s.recv(65536)
                    except ConnectionResetError:
                        chunk = b""
                    if not chunk:
                        return got
                    got += chunk
        job = json.dumps({"raster": {"url": "byte_20x20.tif"},
                          "output": {"width": 64, "height": 36, "frames": 2}}).encode()
        answer = raw(b"POST /v1/render HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                     b"Content-Type: application/json\r\nContent-Length: %d\r\n"
                     b"Content-Length: %d\r\n\r\n" % (len(job), len(job)) + job)
        head, _, body = answer.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 400"), head)
        self.assertEqual(json.loads(body)["error"]["field"], "Content-Length")
        # No Content-Type, or a form's: not a job.
        for headers in ({}, {"Content-Type": "text/plain"},
                        {"Content-Type": "application/x-www-form-urlencoded"}):
            status, h, data = self.daemon.request("POST", "/v1/render", body=job,
                                                  headers=headers)
            self.assertEqual(status, 415, headers)
            self.assertEqual(h["content-type"], "application/json")
            self.assertEqual(json.loads(data)["error"]["field"], "Content-Type")
        # %00 would cut a value short; other control characters are refused too.
        for value in ("a%00b", "%00", "a%0Ab", "%7F"):
            status, _, data = self.daemon.request(
                "GET", "/v1/render?url=byte_20x20.tif&frames=2&title=" + value)
            self.assertEqual(status, 400, value)
            self.assertEqual(json.loads(data)["error"]["field"], "title")
        # Hundreds of parameters: the daemon's own 413 at once.
        started = time.monotonic()
        status, _, data = self.daemon.request(
            "GET", "/v1/render?url=byte_20x20.tif&" + "&".join("p%d=%d" % (i, i)
                                                             for i in range(500)), timeout=20)
        self.assertEqual(status, 413)
        self.assertEqual(json.loads(data)["error"]["code"], "too_large")
        self.assertLess(time.monotonic() - started, 5)
        # Thousands of parameters, or a request line of hundreds of KiB: a JSON 414 at
        # once (libmicrohttpd ran out of the connection's memory and answered nothing).
        for query in ("&".join("p%d=%d" % (i, i) for i in range(2000)), "title=" + "a" * 60000,
                      "title=" + "a" * 200000):
            started = time.monotonic()
            answer = raw(b"GET /v1/render?url=byte_20x20.tif&%s HTTP/1.1\r\nHost: x\r\n"
                         b"Connection: close\r\n\r\n" % query.encode())
            self.assertLess(time.monotonic() - started, 5)
            self.assert_json_answer(answer, 414, "too_large")
        # What libmicrohttpd answers itself is the daemon's JSON error too.
        for request, status, code, field in (
                (b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\n\r\n" % (b"a" * 200000),
                 431, "too_large", None),
                (b"GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n", 505, "invalid", None),
                (b"GET /healthz HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n", 400, "invalid",
                 None),
                (b"POST /v1/render HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Transfer-Encoding: chunked\r\n\r\nZZ\r\nabc\r\n", 400, "invalid",
                 "Transfer-Encoding")):
            self.assert_json_answer(raw(request), status, code, field)
        status, _, data = self.daemon.request("GET", "/v1/render?url=byte_20x20.tif&ti%00tle=x")
        self.assertEqual((status, json.loads(data)["error"]["field"]), (400, "query"))
        status, _, _ = self.daemon.request("GET", "/v1/render?url=byte_20x20.tif&frames=2"
                                                  "&width=64&height=36&title=a%20b")
        self.assertEqual(status, 200)

    def assert_json_answer(self, answer, status, code, field=None):
        head, _, body = answer.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 %d " % status), answer[:300])
        self.assertIn(b"\r\ncontent-type: application/json\r\n", head.lower() + b"\r\n")
        err = json.loads(body)["error"]
        self.assertEqual(err["code"], code, body)
        self.assertTrue(err["message"])
        if field:
            self.assertEqual(err.get("field"), field)

    def test_bands_without_a_valid_value(self):
        import numpy as np
        from harness import write_geotiff
        write_geotiff(os.path.join(self.daemon.root, "all_nan.tif"),
                      np.full((16, 16), np.nan, np.float32))
        write_geotiff(os.path.join(self.daemon.root, "all_nodata.tif"),
                      np.full((2, 16, 16), -9999, np.float32), nodata=-9999)
        stack = np.full((2, 16, 16), np.nan, np.float32)
        stack[1] = 5
        write_geotiff(os.path.join(self.daemon.root, "half_nan.tif"), stack)
        for url in ("all_nan.tif", "all_nodata.tif"):
            err = self.check(dict(GOOD, raster={"url": url}), 422, "impossible",
                             "raster.bands")
            self.assertIn("no valid value", err["message"])
        self.check(dict(GOOD, raster={"url": "half_nan.tif", "bands": [1]}), 422,
                   "impossible", "raster.bands")
        # One empty time step among others is data: it renders.
        status, _, _ = self.daemon.render(dict(GOOD, raster={"url": "half_nan.tif"}))
        self.assertEqual(status, 200)

    def test_routes(self):
        status, _, data = self.daemon.request("GET", "/v1/render")
        self.assertEqual(status, 400)
        status, _, data = self.daemon.request("GET", "/nowhere")
        self.assertEqual(status, 404)
        self.assertEqual(json.loads(data)["error"]["code"], "not_found")
        status, _, data = self.daemon.request("GET", "/healthz")
        self.assertEqual(status, 200)
        status, _, data = self.daemon.request("GET", "/readyz")
        self.assertEqual(status, 200)
        status, _, data = self.daemon.request("GET", "/v1/info")
        info = json.loads(data)
        self.assertEqual(status, 200)
        self.assertIn(info["renderer"]["egl_platform"], ("device", "surfaceless"))
        self.assertTrue(info["renderer"]["gl_renderer"])
        self.assertEqual(info["limits"]["max_width"], 3840)
        status, _, data = self.daemon.request("GET", "/v1/colormaps")
        names = {c["name"] for c in json.loads(data)["colormaps"]}
        self.assertTrue({"viridis", "magma", "plasma", "inferno", "cividis", "gray", "RdBu"}
                        <= names)
        status, _, data = self.daemon.request("GET", "/metrics")
        self.assertEqual(status, 200)
        self.assertIn(b"rasterclip_jobs_total{outcome=\"ok\"}", data)

    def test_still_serving_after_errors(self):
        for name, body, status, code, field in CASES:
            self.daemon.render(body)
        with tempfile.TemporaryDirectory() as tmp:
            clip = os.path.join(tmp, "after.webm")
            self.render_ok(GOOD, clip)
            stream, _ = ffprobe(clip)
            self.assertEqual(int(stream["nb_read_frames"]), 5)


if __name__ == "__main__":
    unittest.main()
