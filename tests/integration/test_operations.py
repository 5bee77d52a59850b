"""What an operator sees: /metrics that Prometheus' own checker accepts, one
access-log line for every request (logfmt or JSON, with journal priorities when
stderr is the journal), settings from the environment, and HEAD answering a cached
clip's headers."""
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

from harness import DAEMON, REPO_DATA, Daemon

RENDER = "/v1/render?url=float32_nan_tiny.tif&width=96&height=64&frames=3&format=gif"


def promtool():
    tool = shutil.which("promtool")
    if not tool:
        raise AssertionError("promtool is missing: scripts/setup.sh installs prometheus")
    return tool


class MetricsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.daemon = Daemon("--clip-cache", tempfile.mkdtemp(prefix="rasterclip-clips-"))

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()

    def metrics(self):
        status, headers, text = self.daemon.request("GET", "/metrics")
        self.assertEqual(status, 200)
        return text.decode()

    def test_promtool_accepts_the_metrics(self):
        # Requests of several kinds first, so labelled families have samples.
        self.assertEqual(self.daemon.request("GET", RENDER)[0], 200)
        self.assertEqual(self.daemon.request("GET", "/v1/render?url=nope.tif")[0], 404)
        self.assertEqual(self.daemon.request("HEAD", RENDER)[0], 200)
        text = self.metrics()
        check = subprocess.run([promtool(), "check", "metrics"], input=text,
                               capture_output=True, text=True)
        self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
        self.assertEqual(check.stdout + check.stderr, "")  # not even a lint warning
        families = re.findall(r"^# TYPE (\S+) ", text, re.M)
        helps = re.findall(r"^# HELP (\S+) ", text, re.M)
        self.assertEqual(families, helps)
        self.assertGreater(len(families), 30)
        info = json.loads(self.daemon.request("GET", "/v1/info")[2])
        build = re.search(r"^rasterclip_build_info\{(.*)\} 1$", text, re.M)
        labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', build.group(1)))
        self.assertEqual(labels["version"], info["version"])
        self.assertEqual(labels["gdal"], info["libraries"]["gdal"])
        self.assertEqual(labels["libvpx"], info["libraries"]["libvpx"])
        self.assertEqual(labels["openh264"], info["libraries"]["openh264"])
        self.assertEqual(labels["renderer"], info["renderer"]["gl_renderer"])
        for name in ("process_cpu_seconds_total", "process_resident_memory_bytes",
                     "process_open_fds", "process_max_fds", "process_start_time_seconds"):
            self.assertIn("# TYPE %s " % name, text)
        start = float(re.search(r"^process_start_time_seconds (\S+)$", text, re.M).group(1))
        self.assertLess(abs(start - time.time()), 3600)
        rss = int(float(re.search(r"^process_resident_memory_bytes (\S+)$", text, re.M).group(1)))
        with open("/proc/%d/status" % self.daemon.proc.pid) as f:
            vm_rss = int(re.search(r"VmRSS:\s+(\d+) kB", f.read()).group(1)) * 1024
        self.assertLess(abs(rss - vm_rss), 64 << 20)
        fds = int(re.search(r"^process_open_fds (\d+)$", text, re.M).group(1))
        self.assertLess(abs(fds - len(os.listdir("/proc/%d/fd" % self.daemon.proc.pid))), 8)

    def test_requests_are_counted_by_method_route_and_code(self):
        def count(method, route, code):
            found = re.search(r'^rasterclip_http_requests_total\{method="%s",route="%s",'
                              r'code="%s"\} (\d+)$' % (method, re.escape(route), code),
                              self.metrics(), re.M)
            return int(found.group(1)) if found else 0

        before = count("GET", "/v1/jobs/{id}", 404)
        for _ in range(3):
            self.assertEqual(self.daemon.request("GET", "/v1/jobs/%s" % os.urandom(8).hex())[0],
                             404)
        self.assertEqual(count("GET", "/v1/jobs/{id}", 404), before + 3)
        # A path of the client's own is "other": a scan cannot grow the metrics.
        for n in range(3):
            self.daemon.request("GET", "/scan-%d" % n)
        self.assertNotIn("scan-", self.metrics())
        self.assertGreaterEqual(count("GET", "other", 404), 3)
        before = count("DELETE", "/v1/cache", 200)
        self.assertEqual(self.daemon.request("DELETE", "/v1/cache")[0], 200)
        self.assertEqual(count("DELETE", "/v1/cache", 200), before + 1)


class HeadTest(unittest.TestCase):
    def test_head_of_a_cached_clip_says_what_get_says(self):
        daemon = Daemon("--clip-cache", tempfile.mkdtemp(prefix="rasterclip-clips-"))
        try:
            # Not cached yet: a stream's headers (no length), and nothing rendered.
            status, headers, body = daemon.request("HEAD", RENDER)
            self.assertEqual((status, body), (200, b""))
            self.assertNotIn("content-length", headers)
            self.assertNotIn("etag", headers)
            self.assertEqual(headers["x-frame-count"], "3")
            self.assertNotIn('msg="job started"', daemon.log())
            status, got, clip = daemon.request("GET", RENDER)
            self.assertEqual(status, 200)
            status, headers, body = daemon.request("HEAD", RENDER)
            self.assertEqual((status, body), (200, b""))
            self.assertEqual(headers["x-rasterclip-cache"], "hit")
            self.assertEqual(int(headers["content-length"]), len(clip))
            self.assertEqual(headers["accept-ranges"], "bytes")
            self.assertEqual(headers["x-frame-count"], "3")
            again = daemon.request("GET", RENDER)[1]
            self.assertEqual(headers["etag"], again["etag"])
            self.assertEqual(daemon.log().count('msg="job started"'), 1)  # HEADs render nothing
        finally:
            daemon.stop()


def access_lines(log):
    return [line for line in log.splitlines() if "msg=access" in line]


class AccessLogTest(unittest.TestCase):
    def test_every_request_leaves_one_line(self):
        daemon = Daemon()
        try:
            requests = [
                ("GET", "/healthz", None, {}, 200),
                ("GET", "/v1/info", None, {}, 200),
                ("GET", "/v1/render?url=nope.tif", None, {}, 404),
                ("GET", "/v1/render?url=x.tif&width=banana", None, {}, 400),
                ("POST", "/v1/render", b"{}", {"Content-Type": "text/plain"}, 415),
                ("OPTIONS", "/v1/render", None, {"Origin": "http://a.example"}, 204),
                ("GET", RENDER, None, {}, 200),
                ("GET", "/nowhere", None, {}, 404),
            ]
            for method, path, body, headers, expected in requests:
                status, got, _ = daemon.request(method, path, body, headers)
                self.assertEqual(status, expected, path)
            lines = daemon.wait_for_log("(?s)(msg=access.*){%d}" % len(requests)) and \
                access_lines(daemon.log())
            self.assertEqual(len(lines), len(requests), "\n".join(lines))
            for line, (method, path, _, _, expected) in zip(lines, requests):
                fields = dict(re.findall(r'(\w+)=("[^"]*"|\S+)', line))
                self.assertEqual(fields["method"], method)
                self.assertEqual(fields["status"], str(expected))
                self.assertEqual(fields["path"], '"%s"' % path.split("?")[0])
                self.assertEqual(fields["peer"], "127.0.0.1")
                self.assertRegex(fields["duration_ms"], r"^\d+\.\d$")
                self.assertIn("bytes", fields)
                if expected >= 400:
                    self.assertIn("reason", fields, line)  # every 4xx says why
            render = dict(re.findall(r'(\w+)=("[^"]*"|\S+)', lines[6]))
            self.assertEqual(render["route"], "/v1/render")
            self.assertGreater(int(render["bytes"]), 1000)
            self.assertRegex(render["request_id"], r"^[0-9a-f]{16}$")
            self.assertIn("width", lines[3])  # the field at fault
            # The guard's own answer (a request line too long) has its line too.
            conn = http.client.HTTPConnection(daemon.host, daemon.port, timeout=30)
            conn.request("GET", "/v1/render?" + "a" * 40000)
            self.assertEqual(conn.getresponse().status, 414)
            conn.close()
            daemon.wait_for_log(r"msg=access .*status=414 .*reason=")
            # A body that stops short: the guard's 408, on the request's own line, once.
            with socket.create_connection((daemon.host, daemon.port), timeout=60) as raw:
                raw.sendall(b"POST /v1/render HTTP/1.1\r\nHost: x\r\nContent-Type: "
                            b"application/json\r\nContent-Length: 99\r\n\r\n{")
                self.assertEqual(int(raw.recv(64).split()[1]), 408)
            daemon.wait_for_log(r"msg=access method=POST .*status=408 .*reason=")
            self.assertEqual(daemon.request("GET", "/healthz?after=408")[0], 200)
            daemon.wait_for_log(r"status=408(.|\n)*msg=access method=GET route=/healthz")
            self.assertEqual(len([line for line in access_lines(daemon.log())
                                  if "status=408" in line]), 1)
        finally:
            daemon.stop()


class LogFormatTest(unittest.TestCase):
    """Started by hand: stderr is a file here, as the journal's stream would be."""

    def start(self, env, extra=()):
        root = tempfile.mkdtemp(prefix="rasterclip-data-")
        shutil.copy(os.path.join(REPO_DATA[0], "float32_nan_tiny.tif"), root)
        log = tempfile.NamedTemporaryFile(prefix="rasterclip-log-", delete=False)
        proc = subprocess.Popen([DAEMON, "--listen", "127.0.0.1:0", "--data-root", root,
                                 *extra], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=log, env=dict(os.environ, **env(log)))
        self.addCleanup(os.unlink, log.name)
        self.addCleanup(shutil.rmtree, root, True)
        self.addCleanup(self.reap, proc)  # even when an assertion ends the test early
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with open(log.name) as f:
                found = re.search(r'listening"?[ ,]"?url"?[=:]"?http://127\.0\.0\.1:(\d+)',
                                  f.read())
            if found:
                return proc, int(found.group(1)), log.name
            self.assertIsNone(proc.poll(), "the daemon exited")
            time.sleep(0.05)
        proc.kill()
        raise AssertionError("the daemon never listened")

    @staticmethod
    def reap(proc):
        if proc.poll() is None:
            proc.kill()
            proc.wait(60)

    def stop(self, proc):
        proc.terminate()
        self.assertEqual(proc.wait(60), 0)

    def get(self, port, path):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.request("GET", path)
        resp = conn.getresponse()
        resp.read()
        conn.close()
        return resp.status

    def test_json_lines(self):
        proc, port, log = self.start(lambda f: {"RASTERCLIP_LOG_FORMAT": "json"})
        self.assertEqual(self.get(port, RENDER), 200)
        self.assertEqual(self.get(port, '/v1/render?url=no"pe.tif'), 404)
        self.stop(proc)
        with open(log) as f:
            records = [json.loads(line) for line in f]  # every line is one object
        access = [r for r in records if r.get("msg") == "access"]
        self.assertEqual([r["status"] for r in access], [200, 404])
        self.assertIsInstance(access[0]["bytes"], int)
        self.assertEqual(access[1]["reason"], "raster.url: no such raster under the data root")
        self.assertTrue(any(r.get("msg") == "reader sandbox" for r in records))
        self.assertTrue(all(r["level"] in ("info", "warn", "error") for r in records))

    def test_journal_priorities(self):
        def journal(f):
            st = os.fstat(f.fileno())
            return {"JOURNAL_STREAM": "%d:%d" % (st.st_dev, st.st_ino)}

        proc, port, log = self.start(journal)
        self.assertEqual(self.get(port, "/v1/render?url=nope.tif"), 404)
        self.stop(proc)
        with open(log) as f:
            lines = f.read().splitlines()
        self.assertTrue(all(re.match(r"<[3467]>ts=", line) for line in lines), lines[:5])
        self.assertTrue(any(line.startswith("<6>") and "msg=access" in line for line in lines))
        self.assertTrue(any(line.startswith("<4>") and "job failed" in line for line in lines))
        # Another stream's JOURNAL_STREAM (stderr was redirected): no prefixes.
        proc, port, log = self.start(lambda f: {"JOURNAL_STREAM": "1:1"})
        self.stop(proc)
        with open(log) as f:
            self.assertTrue(f.read().startswith("ts="))


class EnvironmentTest(unittest.TestCase):
    def test_settings_from_the_environment(self):
        daemon = Daemon(env={"RASTERCLIP_MAX_FRAMES": "123", "RASTERCLIP_WORKERS": "2",
                             "RASTERCLIP_LOG_FORMAT": "logfmt"})
        try:
            info = json.loads(daemon.request("GET", "/v1/info")[2])
            self.assertEqual(info["limits"]["max_frames"], 123)
            self.assertEqual(info["workers"]["count"], 2)
        finally:
            daemon.stop()
        # A flag still wins over the environment.
        daemon = Daemon("--max-frames", "77", env={"RASTERCLIP_MAX_FRAMES": "123"})
        try:
            info = json.loads(daemon.request("GET", "/v1/info")[2])
            self.assertEqual(info["limits"]["max_frames"], 77)
        finally:
            daemon.stop()
        bad = subprocess.run([DAEMON, "--log-format", "xml"], capture_output=True, text=True)
        self.assertEqual(bad.returncode, 2)
        self.assertIn("log_format", bad.stderr)


if __name__ == "__main__":
    unittest.main()
