"""Service behaviour: a full queue answers 429 with Retry-After, every accepted
job still completes, and the daemon reports its workers in /metrics and /readyz."""
import json
import os
import re
import socket
import tempfile
import time
import unittest

from harness import Daemon, at_once, ffprobe


class QueueTest(unittest.TestCase):
    def test_full_queue_gets_429_and_accepted_jobs_finish(self):
        daemon = Daemon("--workers", "1", "--queue", "1")
        try:
            job = {"raster": {"url": "jacksboro_dem.tif"},
                   "output": {"width": 640, "height": 360, "fps": 30, "frames": 150}}
            results = at_once(lambda: daemon.render(job), 6)
            statuses = sorted(r[0] for r in results)
            self.assertEqual(len(statuses), 6)
            self.assertIn(429, statuses)
            self.assertIn(200, statuses)
            self.assertTrue(set(statuses) <= {200, 429}, statuses)
            self.assertEqual(statuses.count(200), 2)  # one running, one waiting
            for status, headers, body in results:
                if status == 429:
                    self.assertEqual(headers.get("retry-after"), "2")
                    self.assertEqual(json.loads(body)["error"]["code"], "busy")
                    continue
                with tempfile.NamedTemporaryFile(suffix=".webm") as f:
                    f.write(body)
                    f.flush()
                    stream, _ = ffprobe(f.name)
                    self.assertEqual(int(stream["nb_read_frames"]), 150)
            _, _, metrics = daemon.request("GET", "/metrics")
            text = metrics.decode()
            self.assertIn('rasterclip_jobs_total{outcome="rejected_busy"} %d'
                          % statuses.count(429), text)
            self.assertIn('rasterclip_jobs_total{outcome="ok"} %d' % statuses.count(200), text)
            status, _, _ = daemon.request("GET", "/readyz")
            self.assertEqual(status, 200)
        finally:
            daemon.stop()

    def test_idle_workers_take_jobs_that_arrive_together(self):
        """--queue 0 means no job waits for a busy worker; jobs arriving together while
        workers are idle are all taken (they were refused while the first one still
        waited to be picked up), and one more than the workers is a 429."""
        daemon = Daemon("--workers", "4", "--queue", "0")
        try:
            short = {"raster": {"url": "jacksboro_dem.tif"},
                     "output": {"width": 160, "height": 90, "frames": 2}}
            for _ in range(10):
                statuses = [r[0] for r in at_once(lambda: daemon.render(short), 4)]
                self.assertEqual(statuses, [200] * 4)
            long = {"raster": {"url": "jacksboro_dem.tif"},
                    "output": {"width": 640, "height": 360, "frames": 150}}
            statuses = sorted(r[0] for r in at_once(lambda: daemon.render(long), 5))
            self.assertEqual(statuses, [200] * 4 + [429])
        finally:
            daemon.stop()


if __name__ == "__main__":
    unittest.main()


class CorsAndTokenTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tokens = tempfile.NamedTemporaryFile("w", suffix=".tokens", delete=False)
        cls.tokens.write("# dashboards\nsecret-one\nsecret-two\n")
        cls.tokens.close()
        cls.daemon = Daemon("--cors-origin", "https://dash.example,https://other.example",
                            "--token-file", cls.tokens.name)

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()
        os.unlink(cls.tokens.name)

    JOB = json.dumps({"raster": {"url": "byte_20x20.tif"},
                      "output": {"width": 64, "height": 36, "frames": 2}})

    def post(self, headers):
        return self.daemon.request("POST", "/v1/render", body=self.JOB,
                                   headers=dict({"Content-Type": "application/json"}, **headers))

    def test_tokens(self):
        status, headers, body = self.post({})
        self.assertEqual(status, 401)
        self.assertEqual(headers.get("www-authenticate"), "Bearer")
        self.assertEqual(json.loads(body)["error"]["code"], "unauthorized")
        for wrong in ("Bearer secret-on", "Bearer secret-one2", "Basic c2VjcmV0LW9uZQ==",
                      "Bearer "):
            self.assertEqual(self.post({"Authorization": wrong})[0], 401, wrong)
        self.assertEqual(self.post({"Authorization": "Bearer secret-two"})[0], 200)
        status, _, _ = self.daemon.request("GET", "/v1/info")
        self.assertEqual(status, 401)
        # Health and metrics stay open unless --auth-health.
        for path in ("/healthz", "/readyz", "/metrics"):
            self.assertEqual(self.daemon.request("GET", path)[0], 200, path)

    def test_cors(self):
        status, headers, _ = self.daemon.request(
            "OPTIONS", "/v1/render", headers={"Origin": "https://dash.example",
                                              "Access-Control-Request-Method": "POST"})
        self.assertEqual(status, 204)
        self.assertEqual(headers.get("access-control-allow-origin"), "https://dash.example")
        self.assertIn("POST", headers.get("access-control-allow-methods"))
        self.assertIn("Authorization", headers.get("access-control-allow-headers"))
        status, headers, _ = self.post({"Authorization": "Bearer secret-one",
                                        "Origin": "https://other.example"})
        self.assertEqual(status, 200)
        self.assertEqual(headers.get("access-control-allow-origin"), "https://other.example")
        self.assertEqual(headers.get("access-control-expose-headers"),
                         "X-Request-Id, X-Frame-Count, X-Rasterclip-Ignored, "
                         "X-Rasterclip-Cache, X-Rasterclip-Bounds, X-Rasterclip-Bounds-Lonlat, "
                         "ETag, Content-Range")
        status, headers, _ = self.post({"Authorization": "Bearer secret-one",
                                        "Origin": "https://evil.example"})
        self.assertEqual(status, 200)
        self.assertNotIn("access-control-allow-origin", headers)


class SystemdTest(unittest.TestCase):
    """READY=1 once serving, watchdog pings at half WATCHDOG_USEC, STOPPING=1."""

    def test_notify_and_watchdog(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "notify")
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            sock.bind(path)
            sock.settimeout(10)
            self.addCleanup(sock.close)
            daemon = Daemon(env={"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "200000"})
            try:
                self.assertIn("READY=1", sock.recv(256).decode())
                start = time.monotonic()
                pings = [sock.recv(256).decode() for _ in range(3)]
                self.assertEqual(pings, ["WATCHDOG=1"] * 3)
                self.assertLess(time.monotonic() - start, 2.0)  # every ~100 ms
            finally:
                daemon.stop()
            messages = []
            sock.settimeout(0.5)
            try:
                while True:
                    messages.append(sock.recv(256).decode())
            except socket.timeout:
                pass
            self.assertIn("STOPPING=1", messages)


class MetricsTest(unittest.TestCase):
    def test_stage_and_latency_histograms(self):
        daemon = Daemon()
        try:
            job = {"raster": {"url": "byte_20x20.tif"},
                   "output": {"width": 64, "height": 36, "frames": 4}}
            self.assertEqual(daemon.render(job)[0], 200)
            _, headers, text = daemon.request("GET", "/metrics")
            text = text.decode()
            self.assertTrue(headers["content-type"].startswith("text/plain"))
            for stage in ("load", "render", "readback", "convert", "encode", "mux"):
                self.assertRegex(text, r'rasterclip_stage_seconds_count\{stage="%s"\} 1\b'
                                 % stage)
            self.assertRegex(text, r"rasterclip_ttfb_seconds_count 1\b")
            self.assertRegex(text, r"rasterclip_send_seconds_count 1\b")
            self.assertRegex(text, r'rasterclip_jobs_total\{outcome="ok"\} 1\b')
            # Cumulative buckets never decrease.
            counts = [int(m) for m in re.findall(r'rasterclip_ttfb_seconds_bucket\{le="[^"]+"\} (\d+)',
                                                 text)]
            self.assertEqual(counts, sorted(counts))
        finally:
            daemon.stop()


class ConfigTest(unittest.TestCase):
    """One option table: flags over environment over config file; --help lists all."""

    def test_help(self):
        from harness import DAEMON
        import subprocess
        out = subprocess.run([DAEMON, "--help"], capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0)
        for name in ("--max-frames", "RASTERCLIP_MAX_FRAMES", "max_frames", "--cors-origin",
                     "--allow-private", "--cache-mb"):
            self.assertIn(name, out.stdout)
        bad = subprocess.run([DAEMON, "--max-frames", "zero"], capture_output=True, text=True,
                             timeout=30)
        self.assertEqual(bad.returncode, 2)
        self.assertIn("max_frames", bad.stderr)

    def test_precedence(self):
        with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
            f.write("# limits\nmax_width = 640\nmax_height=480\n")
        self.addCleanup(os.unlink, f.name)

        def limits(*args, env=None):
            daemon = Daemon("--config-file", f.name, *args, env=env)
            try:
                _, _, body = daemon.request("GET", "/v1/info")
                return json.loads(body)["limits"]
            finally:
                daemon.stop()

        self.assertEqual(limits()["max_width"], 640)
        self.assertEqual(limits(env={"RASTERCLIP_MAX_WIDTH": "800"})["max_width"], 800)
        got = limits("--max-width", "1000", env={"RASTERCLIP_MAX_WIDTH": "800"})
        self.assertEqual((got["max_width"], got["max_height"]), (1000, 480))


class DeviceTest(unittest.TestCase):
    def test_workers_and_device_pinning(self):
        daemon = Daemon("--workers", "2")
        try:
            _, _, body = daemon.request("GET", "/v1/info")
            renderer = json.loads(body)["renderer"]
            self.assertGreaterEqual(renderer["egl_displays"], 1)
            job = {"raster": {"url": "byte_20x20.tif"},
                   "output": {"width": 64, "height": 36, "frames": 2}}
            self.assertEqual(at_once(lambda: daemon.render(job)[0], 2), [200, 200])
        finally:
            daemon.stop()
        from harness import DAEMON
        import subprocess
        if renderer["hardware"]:
            self.skipTest("SKIPPED: pinning to a missing device needs a host without GPUs")
        # No hardware EGL device here: pinning one must fail at start-up, clearly.
        out = subprocess.run([DAEMON, "--listen", "127.0.0.1:0", "--device", "0"],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 1)
        self.assertIn("no usable EGL device 0", out.stderr)


class ReloadTest(unittest.TestCase):
    def test_sighup_rereads_the_config_file(self):
        import signal
        with tempfile.TemporaryDirectory() as tmp:
            conf = os.path.join(tmp, "rasterclipd.conf")
            tokens = os.path.join(tmp, "tokens")
            with open(tokens, "w") as f:
                f.write("first\n")
            with open(conf, "w") as f:
                f.write("max_width = 640\ntoken_file = %s\n" % tokens)
            daemon = Daemon("--config-file", conf)
            try:
                def head(width, token):
                    return daemon.request(
                        "HEAD", "/v1/render?url=byte_20x20.tif&width=%d" % width,
                        headers={"Authorization": "Bearer " + token})[0]

                self.assertEqual(head(800, "first"), 422)
                with open(conf, "w") as f:
                    f.write("max_width = 1000\nworkers = 3\ntoken_file = %s\n" % tokens)
                with open(tokens, "w") as f:
                    f.write("second\n")
                daemon.proc.send_signal(signal.SIGHUP)
                daemon.wait_for_log(r'msg="config reloaded"')
                self.assertIn('msg="option needs a restart, kept" option=workers', daemon.log())
                self.assertEqual(head(800, "second"), 200)
                self.assertEqual(head(800, "first"), 401)
                # A broken file keeps the config in force.
                with open(conf, "w") as f:
                    f.write("max_width = lots\n")
                daemon.proc.send_signal(signal.SIGHUP)
                daemon.wait_for_log(r'msg="reload failed, old config kept"')
                self.assertEqual(head(800, "second"), 200)
                _, _, body = daemon.request("GET", "/v1/info",
                                            headers={"Authorization": "Bearer second"})
                self.assertEqual(json.loads(body)["workers"]["count"], 1)
                # A file being rewritten or damaged is no configuration at all: empty,
                # cut short, or starting with a NUL, it keeps the one in force (and
                # authentication with it).
                reasons = (b"", b"max_width = 1000\ntoken_fi", b"\0max_width = 1000\n")
                for content, why in zip(reasons, ("is empty", "no newline", "NUL byte")):
                    with open(conf, "wb") as f:
                        f.write(content)
                    mark = len(daemon.log())
                    daemon.proc.send_signal(signal.SIGHUP)
                    daemon.wait_for_log(r'msg="reload failed, old config kept" field=config_file '
                                        r'error="[^"]*%s' % why)
                    self.assertNotIn("config reloaded", daemon.log()[mark:])
                    self.assertEqual(head(800, "nobody"), 401)
                    self.assertEqual(head(800, "second"), 200)
                # Dropping the tokens takes saying so: a sane file without token_file
                # keeps them; one that sets it empty turns authentication off.
                with open(conf, "w") as f:
                    f.write("max_width = 1000\n")
                daemon.proc.send_signal(signal.SIGHUP)
                daemon.wait_for_log(r'msg="reload failed, old config kept" field=token_file')
                self.assertEqual(head(800, "nobody"), 401)
                with open(conf, "w") as f:
                    f.write("max_width = 1000\ntoken_file =\n")
                reloads = daemon.log().count('msg="config reloaded"')
                daemon.proc.send_signal(signal.SIGHUP)
                deadline = time.monotonic() + 30
                while daemon.log().count('msg="config reloaded"') == reloads:  # this one's
                    self.assertLess(time.monotonic(), deadline, daemon.log()[-2000:])
                    daemon._reader.join(0.05)
                self.assertEqual(head(800, "nobody"), 200)
            finally:
                daemon.stop()


def start_stream(daemon, job):
    """Posts a job on a raw socket and returns it once the clip has started."""
    body = json.dumps(job).encode()
    sock = socket.create_connection((daemon.host, daemon.port), timeout=120)
    sock.sendall(b"POST /v1/render HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
    first = sock.recv(65536)
    assert b" 200 " in first.split(b"\r\n", 1)[0], first[:200]
    return sock, first


def read_all(sock, first):
    raw = first
    while True:
        chunk = sock.recv(1 << 16)
        if not chunk:
            return raw
        raw += chunk


LONG = {"raster": {"url": "jacksboro_dem.tif"},
        "output": {"width": 1280, "height": 720, "fps": 30, "frames": 3000}}


class LifecycleTest(unittest.TestCase):
    def test_wall_time_limit_ends_a_runaway_job(self):
        daemon = Daemon("--max-job-seconds", "1")
        try:
            sock, first = start_stream(daemon, LONG)
            raw = read_all(sock, first)
            sock.close()
            self.assertFalse(raw.endswith(b"0\r\n\r\n"), "an ended job must not look complete")
            daemon.wait_for_log(r'job failed.*max_job_seconds')
        finally:
            daemon.stop()

    def test_drain_grace_period_cancels_what_is_left(self):
        import signal
        daemon = Daemon("--drain-grace-seconds", "1")
        sock, first = start_stream(daemon, LONG)
        start = time.monotonic()
        daemon.proc.send_signal(signal.SIGTERM)
        raw = read_all(sock, first)
        sock.close()
        daemon.stop()  # exit status 0 is asserted there
        self.assertLess(time.monotonic() - start, 20)
        self.assertFalse(raw.endswith(b"0\r\n\r\n"))
        self.assertIn("drain grace period over", daemon.log())
        self.assertRegex(daemon.log(), r"outcome=cancelled w=1280 h=720 frames=3000")

    def test_get_and_post_make_the_same_bytes(self):
        daemon = Daemon()
        try:
            job = {"raster": {"url": "jacksboro_dem.tif", "rescale": [300, 900]},
                   "style": {"colormap": "magma_r", "mode": "surface"},
                   "camera": {"orbit": {"degrees": 90, "elevation": 40}},
                   "output": {"width": 320, "height": 180, "fps": 15, "frames": 20,
                              "speed": "good"}}
            # "good" is reproducible byte for byte; "realtime" adapts to the machine's load.
            status, _, posted = daemon.render(job)
            self.assertEqual(status, 200)
            query = ("url=jacksboro_dem.tif&rescale=300,900&colormap_name=magma_r&mode=surface"
                     "&orbit=90&elevation=40&width=320&height=180&fps=15&frames=20&speed=good")
            status, _, got = daemon.request("GET", "/v1/render?" + query)
            self.assertEqual(status, 200)
            self.assertEqual(len(got), len(posted))
            self.assertEqual(got, posted)
        finally:
            daemon.stop()


class ConvertTest(unittest.TestCase):
    """RGBA->I420 in a shader before readback gives exactly the CPU loop's bytes,
    once each path is proven to have run (log field, /metrics, /v1/info)."""

    def test_gpu_and_cpu_conversion_agree(self):
        job = {"raster": {"url": "jacksboro_dem.tif"},
               "style": {"mode": "surface", "colorbar": True, "title": "t"},
               "output": {"width": 640, "height": 360, "fps": 10, "frames": 6, "speed": "good"}}
        clips = {}
        for mode in ("gpu", "cpu"):
            daemon = Daemon("--convert", mode)
            try:
                status, _, info = daemon.request("GET", "/v1/info")
                self.assertEqual(json.loads(info)["renderer"]["convert"], mode)
                status, _, clips[mode] = daemon.render(job)
                self.assertEqual(status, 200)
                daemon.wait_for_log(r"outcome=ok .*convert=%s" % mode)
                status, _, metrics = daemon.request("GET", "/metrics")
                counts = dict(re.findall(
                    r'rasterclip_frames_converted_total\{where="(\w+)"\} (\d+)', metrics.decode()))
                self.assertEqual(int(counts[mode]), 6)
                self.assertEqual(int(counts["gpu" if mode == "cpu" else "cpu"]), 0)
                # A width that is not a multiple of 8 falls back to the CPU path.
                odd = dict(job, output=dict(job["output"], width=330, height=186))
                status, _, body = daemon.render(odd)
                self.assertEqual(status, 200)
                daemon.wait_for_log(r"outcome=ok w=330 .*convert=cpu")
            finally:
                daemon.stop()
        self.assertGreater(len(clips["gpu"]), 1000)
        self.assertEqual(clips["gpu"], clips["cpu"])
