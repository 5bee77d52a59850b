"""Rasters that come with the request: multipart parts (job, raster, heights) or a
raw body with the job in the query string; NumPy .npy in every dtype, byte order
and memory order, and any file GDAL reads, all from memory. The same pixels make
the same clip whichever way they arrive."""
import http.client
import io
import json
import os
import re
import socket
import tempfile
import time
import unittest
import uuid

import numpy as np

from harness import (THREAD_SANITIZED, Daemon, DaemonTest, ffprobe, metric, read_head,
                     write_geotiff)

JOB = {"style": {"colormap": "viridis"},
       "camera": {"orbit": {"degrees": 20}},
       "output": {"width": 160, "height": 90, "fps": 10, "frames": 6, "speed": "good"}}


def npy(array):
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=False)
    return buf.getvalue()


def multipart(parts):
    boundary = "b-" + uuid.uuid4().hex
    out = io.BytesIO()
    for name, ctype, data in parts:
        out.write(("--%s\r\nContent-Disposition: form-data; name=\"%s\"; filename=\"%s\"\r\n"
                   "Content-Type: %s\r\n\r\n" % (boundary, name, name, ctype)).encode())
        out.write(data)
        out.write(b"\r\n")
    out.write(("--%s--\r\n" % boundary).encode())
    return out.getvalue(), "multipart/form-data; boundary=" + boundary


def field_grid():
    """A smooth (3, 40, 60) float32 stack with a hole of NaN."""
    y, x = np.mgrid[0:40, 0:60]
    stack = np.stack([np.sin(x / 7.0 + k) * np.cos(y / 9.0) * 100 + 50 * k for k in range(3)])
    stack = stack.astype(np.float32)
    stack[:, 10:15, 20:30] = np.nan
    return stack


class UploadTest(DaemonTest):
    def post(self, body, ctype, query=""):
        return self.daemon.request("POST", "/v1/render" + query, body=body,
                                   headers={"Content-Type": ctype})

    def upload(self, job, raster, heights=None, ctype="application/x-npy"):
        parts = [("job", "application/json", json.dumps(job).encode()),
                 ("raster", ctype, raster)]
        if heights is not None:
            parts.append(("heights", "application/x-npy", heights))
        return self.post(*multipart(parts))

    def test_npy_matches_the_same_pixels_as_a_geotiff(self):
        stack = field_grid()
        write_geotiff(os.path.join(self.daemon.root, "grid.tif"), stack)
        status, _, from_file = self.daemon.render(dict(JOB, raster={"url": "grid.tif"}))
        self.assertEqual(status, 200)
        status, headers, from_npy = self.upload(JOB, npy(stack))
        self.assertEqual(status, 200, from_npy[:300])
        self.assertEqual(headers["content-type"], "video/webm")
        self.assertEqual(from_npy, from_file)
        # The GeoTIFF itself, uploaded (GDAL reads it from memory), and as a raw body.
        with open(os.path.join(self.daemon.root, "grid.tif"), "rb") as f:
            tiff = f.read()
        status, _, from_tiff = self.upload(JOB, tiff, ctype="image/tiff")
        self.assertEqual(status, 200, from_tiff[:300])
        self.assertEqual(from_tiff, from_file)
        query = ("?colormap_name=viridis&orbit=20&width=160&height=90&fps=10&frames=6"
                 "&speed=good")
        status, _, raw = self.post(tiff, "image/tiff", query)
        self.assertEqual(status, 200, raw[:300])
        self.assertEqual(raw, from_file)

    def test_every_dtype_byte_order_and_memory_order(self):
        base = field_grid()[0]
        base = np.nan_to_num(base - np.nanmin(base))  # 0..~300, no NaN: fits every dtype
        for dtype in ("u1", "i1", "u2", "i2", "u4", "i4", "f4", "f8"):
            with self.subTest(dtype=dtype):
                values = np.clip(base / (3 if dtype in ("u1", "i1") else 1),
                                 0, 127).astype("<" + dtype)
                clips = set()
                for variant in (values, values.astype(">" + dtype), np.asfortranarray(values),
                                np.asfortranarray(values.astype(">" + dtype))):
                    status, _, body = self.upload(JOB, npy(variant))
                    self.assertEqual(status, 200, body[:300])
                    clips.add(body)
                self.assertEqual(len(clips), 1)  # the same pixels however they were laid out
        # Two dimensions are one band; three are bands, here as time steps.
        stack = field_grid()
        job = dict(JOB, timeline={"frames_per_band": 4})
        job["output"] = {k: v for k, v in JOB["output"].items() if k != "frames"}
        status, _, body = self.upload(job, npy(np.asfortranarray(stack)))
        self.assertEqual(status, 200)
        with tempfile.NamedTemporaryFile(suffix=".webm") as f:
            f.write(body)
            f.flush()
            self.assertEqual(int(ffprobe(f.name)[0]["nb_read_frames"]), 12)

    def test_raw_npy_body_with_the_job_in_the_query(self):
        """What `curl --data-binary @z.npy "…?colormap_name=viridis&format=gif"` sends."""
        status, headers, body = self.post(npy(field_grid()), "application/x-npy",
                                          "?colormap_name=viridis&format=gif&width=160"
                                          "&height=90&frames_per_band=2")
        self.assertEqual(status, 200, body[:300])
        self.assertEqual(headers["content-type"], "image/gif")
        self.assertTrue(body.startswith(b"GIF89a"))

    def test_heights_upload_in_surface_mode(self):
        values = np.tile(np.linspace(0, 1, 50, dtype=np.float32), (50, 1))
        y = np.linspace(-1, 1, 50)
        heights = (np.exp(-(y[:, None] ** 2 + y[None, :] ** 2) * 4) * 500).astype(np.float32)
        job = dict(JOB, style={"mode": "surface"})
        status, _, with_heights = self.upload(job, npy(values), heights=npy(heights))
        self.assertEqual(status, 200, with_heights[:300])
        status, _, flat = self.upload(job, npy(values))
        self.assertEqual(status, 200)
        self.assertNotEqual(with_heights, flat)  # the heights moved the surface
        status, _, body = self.upload(JOB, npy(values), heights=npy(heights))
        self.assertEqual(status, 422)
        self.assertEqual(json.loads(body)["error"]["field"], "heights")

    def test_the_same_upload_is_decoded_once(self):
        data = npy(field_grid() + 1000)  # bytes no other test sends
        hits = lambda: int(re.search(r"rasterclip_cache_hits_total (\d+)",  # noqa: E731
                                     self.daemon.request("GET", "/metrics")[2].decode()).group(1))
        before = hits()
        for _ in range(2):
            status, _, _ = self.upload(JOB, data)
            self.assertEqual(status, 200)
        self.assertEqual(hits(), before + 1)

    def test_bad_uploads_are_named(self):
        good = npy(field_grid())
        whole, ctype = multipart([("job", "application/json", json.dumps(JOB).encode()),
                                  ("raster", "application/x-npy", good)])
        cases = [
            # The raster part cut short, no closing boundary: not a render of half a file.
            (self.post(whole[:len(whole) * 3 // 4], ctype), 400, "body"),
            (self.post(good, "text/csv"), 415, "Content-Type"),
            (self.upload(JOB, b"not a raster, just words"), 422, "raster"),
            (self.upload(JOB, b"\x93NUMPY\x01\x00\x10\x00{'descr': '<c8'}  \n"), 422, "raster"),
            (self.upload(JOB, npy(np.zeros((2, 3, 4, 5), np.float32))), 422, "raster"),
            (self.upload(dict(JOB, raster={"url": "jacksboro_dem.tif"}), good), 400, "raster.url"),
            (self.post(*multipart([("raster", "application/x-npy", good)])), 400, "job"),
            (self.post(*multipart([("job", "application/json", b"{}"),
                                   ("extra", "text/plain", b"x")])), 400, "extra"),
        ]
        for (status, _, body), want, field in cases:
            with self.subTest(field=field, status=want):
                self.assertEqual(status, want, body[:300])
                self.assertEqual(json.loads(body)["error"]["field"], field)


class UploadLimitTest(unittest.TestCase):
    def test_too_large_is_refused_before_it_is_read(self):
        with tempfile.TemporaryDirectory() as tmp:
            daemon = Daemon("--max-upload-mb", "1", "--cache-mb", "0", env={"TMPDIR": tmp})
            try:
                # A declared 64 MiB upload: the 413 comes before any body byte is sent.
                sock = socket.create_connection((daemon.host, daemon.port), timeout=10)
                sock.sendall(b"POST /v1/render HTTP/1.1\r\nHost: x\r\nContent-Type: "
                             b"application/x-npy\r\nContent-Length: %d\r\n\r\n" % (64 << 20))
                start = time.monotonic()
                answer = sock.recv(4096)
                sock.close()
                self.assertTrue(answer.startswith(b"HTTP/1.1 413"), answer[:100])
                self.assertIn(b"max_upload_mb", answer)
                self.assertLess(time.monotonic() - start, 2)
                # Uploads under the limit work, and leave nothing on the disk.
                small = npy(np.ones((300, 400), np.float32))
                status, _, _ = daemon.request("POST", "/v1/render?frames=2&width=64&height=36",
                                              body=small,
                                              headers={"Content-Type": "application/x-npy"})
                self.assertEqual(status, 200)
                # Just over the limit, in a multipart body: the same, before any of it.
                big = npy(np.ones((800, 800), np.float32))  # 2.4 MiB
                body, ctype = multipart([("job", "application/json", b"{}"),
                                         ("raster", "application/x-npy", big)])
                sock = socket.create_connection((daemon.host, daemon.port), timeout=10)
                sock.sendall(b"POST /v1/render HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\n"
                             b"Content-Length: %d\r\n\r\n" % (ctype.encode(), len(body)))
                self.assertTrue(sock.recv(4096).startswith(b"HTTP/1.1 413"))
                sock.close()
                # A chunked body (no length up front) is counted as it arrives.
                errors = lambda: int(re.search(  # noqa: E731
                    r'rasterclip_http_errors_total\{class="4xx"\} (\d+)',
                    daemon.request("GET", "/metrics")[2].decode()).group(1))
                before = errors()
                conn = http.client.HTTPConnection(daemon.host, daemon.port)
                conn.putrequest("POST", "/v1/render?frames=2")
                conn.putheader("Content-Type", "application/x-npy")
                conn.putheader("Transfer-Encoding", "chunked")
                conn.endheaders()
                try:
                    for at in range(0, len(big), 65536):
                        piece = big[at:at + 65536]
                        conn.send(b"%x\r\n%s\r\n" % (len(piece), piece))
                    conn.send(b"0\r\n\r\n")
                    status = conn.getresponse().status
                except OSError:
                    status = None  # answered (and closed) before the client finished
                conn.close()
                self.assertIn(status, (413, None))
                self.assertEqual(errors(), before + 1)  # the one answer was the 413
                self.assertIsNone(daemon.proc.poll())
                self.assertEqual(os.listdir(tmp), [])
            finally:
                daemon.stop()


if __name__ == "__main__":
    unittest.main()


class AdmissionTest(unittest.TestCase):
    """A job is admitted on its headers, before its body is read: a full pool is a
    429 and a full upload budget a 503, both before a byte of the body, and a client
    that asked `Expect: 100-continue` is never told to send it."""
    UPLOAD_MB = 96

    def setUp(self):
        self.daemon = Daemon("--workers", "1", "--queue", "4", "--max-upload-mb", "128",
                             "--max-uploads-mb", "128", "--drain-grace-seconds", "1",
                             "--min-read-kb-per-s", "0")
        # The only worker held by a long job whose client stopped reading.
        self.busy = socket.socket()
        self.busy.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.busy.connect((self.daemon.host, self.daemon.port))
        body = json.dumps({"raster": {"url": "jacksboro_dem.tif"},
                           "output": {"width": 640, "height": 360, "frames": 7000,
                                      "bitrate_kbps": 50000}}).encode()
        self.busy.sendall(b"POST /v1/render HTTP/1.1\r\nHost: x\r\nContent-Type: "
                          b"application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        self.assertTrue(self.busy.recv(4096).startswith(b"HTTP/1.1 200"))

    def tearDown(self):
        self.busy.close()
        self.daemon.stop()

    def wait_metric(self, name, value, timeout=120):
        deadline = time.monotonic() + timeout
        while metric(self.daemon, name) != value and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(metric(self.daemon, name), value, name)

    def headers_only(self, length, ctype="application/x-npy"):
        """Sends a render's headers with Expect: 100-continue; returns the socket and
        the status line the daemon answers with before any body."""
        s = socket.create_connection((self.daemon.host, self.daemon.port), timeout=60)
        s.sendall(b"POST /v1/render?width=64&height=64&frames=1 HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Type: %s\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n"
                  % (ctype.encode(), length))
        return s, read_head(s)

    def hwm_mib(self):
        with open("/proc/%d/status" % self.daemon.proc.pid) as f:
            return int(next(l for l in f if l.startswith("VmHWM:")).split()[1]) / 1024

    def test_uploads_share_one_budget_and_wait_for_nothing(self):
        size = self.UPLOAD_MB << 20
        payload = npy(np.zeros((1, (size - 128) // 4), np.float32))
        # Peak RSS counted from here (Linux: writing 5 to clear_refs resets VmHWM).
        with open("/proc/%d/clear_refs" % self.daemon.proc.pid, "w") as f:
            f.write("5")
        base = self.hwm_mib()
        answers = [self.headers_only(len(payload)) for _ in range(6)]
        go = [(s, head) for s, head in answers if head.startswith(b"HTTP/1.1 100")]
        refused = [head for s, head in answers if not head.startswith(b"HTTP/1.1 100")]
        # One upload fits the 128 MiB; the rest are refused on their headers.
        self.assertEqual(len(go), 1, [h.split(b"\r\n")[0] for _, h in answers])
        for head in refused:
            self.assertRegex(head.split(b"\r\n")[0], rb"^HTTP/1.1 (429|503) ")
            self.assertIn(b"Retry-After:", head)
        sock = go[0][0]
        sock.sendall(payload)
        # Read whole and queued behind the busy job.
        self.wait_metric("rasterclip_queue_depth", 1)
        grew = self.hwm_mib() - base
        print("\nsix %d MiB uploads, one busy worker: peak RSS +%.0f MiB" % (self.UPLOAD_MB, grew))
        if not THREAD_SANITIZED:  # its shadow of the one upload alone is twice its size
            self.assertLess(grew, self.UPLOAD_MB + 64)
        self.assertGreaterEqual(metric(
            self.daemon, 'rasterclip_jobs_total{outcome="rejected_uploads"}'), 1)
        self.assertEqual(metric(self.daemon, "rasterclip_upload_bytes_reserved"),
                         len(payload))
        for s, _ in answers:
            s.close()
        # Held while the upload waits in the queue; given back once its job has ended
        # (the busy client leaves, the queued job runs to its absent client).
        self.busy.close()
        self.wait_metric("rasterclip_upload_bytes_reserved", 0)

    def test_a_full_pool_answers_on_the_headers(self):
        # Four queued jobs fill the queue: the next gets 429 without sending its body.
        held = [self.headers_only(1000, "application/json") for _ in range(4)]
        for s, head in held:
            self.assertTrue(head.startswith(b"HTTP/1.1 100"), head)
        s, head = self.headers_only(2000, "application/json")
        self.assertTrue(head.startswith(b"HTTP/1.1 429"), head)
        while b'"code":"busy"' not in head:
            chunk = s.recv(4096)
            if not chunk:
                break
            head += chunk
        self.assertIn(b'"code":"busy"', head)
        s.close()
        for s, _ in held:
            s.close()
