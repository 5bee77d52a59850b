"""The clip streams: bytes arrive long before the last frame is rendered, and a
client that goes away frees its worker."""
import json
import os
import re
import socket
import sys
import tempfile
import threading
import time
import unittest

from harness import SANITIZED, DaemonTest, ffprobe

LONG_JOB = {"raster": {"url": "jacksboro_dem.tif"},
            "output": {"width": 640, "height": 360, "fps": 30, "frames": 600}}


def post_raw(host, port, job):
    body = json.dumps(job).encode()
    sock = socket.create_connection((host, port), timeout=120)
    sock.sendall(b"POST /v1/render HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                 b"Content-Length: %d\r\nConnection: close\r\n\r\n" % (host.encode(), len(body))
                 + body)
    return sock


def dechunk(raw):
    head, _, rest = raw.partition(b"\r\n\r\n")
    out = bytearray()
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            return head, bytes(out), True
        out += rest[:size]
        rest = rest[size + 2:]
    return head, bytes(out), False


class StreamTest(DaemonTest):
    # Backpressure alone: a reader that stops is held back, not cut off (that is
    # StalledClientTest's), so the memory measured is the held job's.
    daemon_args = ("--min-read-kb-per-s", "0")

    def test_first_bytes_arrive_while_rendering(self):
        start = time.monotonic()
        sock = post_raw(self.daemon.host, self.daemon.port, LONG_JOB)
        raw = bytearray()
        first_body = None
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            raw += chunk
            if first_body is None and b"\r\n\r\n" in raw:
                head, body, _ = dechunk(bytes(raw))
                if len(body) > 0:
                    first_body = time.monotonic() - start
        total = time.monotonic() - start
        sock.close()
        head, body, complete = dechunk(bytes(raw))
        self.assertIn(b"200 OK", head.split(b"\r\n")[0])
        self.assertIn(b"Transfer-Encoding: chunked", head)
        self.assertTrue(complete, "stream did not end with its terminating chunk")
        self.assertEqual(body[:4], b"\x1a\x45\xdf\xa3")
        # The job takes a while; its first bytes must come in the first fifth of it.
        self.assertGreater(total, 1.0)
        self.assertLess(first_body, 0.2 * total,
                        "first byte after %.3f s of %.3f s" % (first_body, total))
        with tempfile.TemporaryDirectory() as tmp:
            clip = os.path.join(tmp, "long.webm")
            with open(clip, "wb") as f:
                f.write(body)
            stream, fmt = ffprobe(clip)
            self.assertEqual(int(stream["nb_read_frames"]), 600)
            self.assertAlmostEqual(float(fmt["duration"]), 20.0, places=3)
        print("\nstreaming: first body byte after %.3f s, whole clip after %.3f s"
              % (first_body, total))

    def rss_kib(self):
        with open("/proc/%d/status" % self.daemon.proc.pid) as f:
            return int(next(line for line in f if line.startswith("VmRSS:")).split()[1])

    def test_slow_reader_is_held_back_with_bounded_memory(self):
        # 50 Mbit/s of VP9 at 1280x720: without backpressure the daemon would buffer
        # several megabytes a second for a client that reads nothing.
        job = {"raster": {"url": "jacksboro_dem.tif"},
               "output": {"width": 1280, "height": 720, "fps": 30, "frames": 3000,
                          "bitrate_kbps": 50000}}
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect((self.daemon.host, self.daemon.port))
        body = json.dumps(job).encode()
        sock.sendall(b"POST /v1/render HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\n\r\n" % len(body) + body)
        head = sock.recv(4096)  # streaming has begun; now stop reading
        job_id = re.search(rb"X-Request-Id: ([0-9a-f]+)", head).group(1).decode()
        pause = threading.Event()

        def frames_done():
            _, _, report = self.daemon.request("GET", "/v1/jobs/" + job_id)
            return json.loads(report)["frames_done"]
        # Held: the pipe and the socket buffers are full, the encoder waits (the job's
        # progress stops moving). How soon depends on the build's speed.
        # (Frames must have begun: a slow build may still be loading the raster.)
        done, deadline = frames_done(), time.monotonic() + 120
        while time.monotonic() < deadline:
            pause.wait(1.0)
            now = frames_done()
            if now == done and now > 0:
                break
            done = now
        before = self.rss_kib()
        samples = []
        for _ in range(12):
            pause.wait(0.25)
            samples.append(self.rss_kib())
        growth_mib = (max(samples) - before) / 1024
        # The mechanism: nothing more was encoded while the client read nothing.
        self.assertEqual(frames_done(), done)
        if not SANITIZED:
            # A sanitizer's own bookkeeping moves RSS whatever the job does; the
            # release build's memory must stay put.
            self.assertLess(growth_mib, 8, "RSS grew %.1f MiB while the client read nothing"
                            % growth_mib)
        self.assertLess(done, 3000)
        self.assertNotIn("frames=3000 encoded=3000", self.daemon.log())  # held back
        sock.close()
        found = self.daemon.wait_for_log(r"outcome=cancelled w=1280 h=720 frames=3000 "
                                         r"encoded=(\d+)", timeout=60)
        print("\nslow reader: job held at %s of 3000 frames, RSS growth %.1f MiB"
              % (found.group(1), growth_mib))

    def test_disconnect_cancels_the_job(self):
        job = dict(LONG_JOB, output=dict(LONG_JOB["output"], frames=3000, width=1280,
                                          height=720))
        sock = post_raw(self.daemon.host, self.daemon.port, job)
        got = b""
        while len(got) < 4096:
            got += sock.recv(4096)
        sock.close()
        found = self.daemon.wait_for_log(r"job=(\w+) outcome=cancelled w=1280 h=720 "
                                         r"frames=3000 encoded=(\d+)", timeout=60)
        self.assertLess(int(found.group(2)), 3000)
        # The worker is free again: a short job completes.
        status, headers, body = self.daemon.render(
            {"raster": {"url": "byte_20x20.tif"},
             "output": {"width": 160, "height": 90, "frames": 3}})
        self.assertEqual(status, 200)
        status, _, metrics = self.daemon.request("GET", "/metrics")
        self.assertRegex(metrics.decode(), r'rasterclip_jobs_total\{outcome="cancelled"\} 1\b')
        self.assertRegex(metrics.decode(), r"rasterclip_workers_busy 0\b")


class StalledClientTest(unittest.TestCase):
    """A client that stops reading, or reads too slowly, cannot hold a worker: the
    job's wall-time limit holds while it waits on the client, and a reader under the
    floor rate is cut off; the next client is served."""

    BIG = {"raster": {"url": "jacksboro_dem.tif"},
           "output": {"width": 1280, "height": 720, "fps": 30, "frames": 3000,
                      "bitrate_kbps": 50000}}

    def stalled(self, daemon, read_per_second=0):
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect((daemon.host, daemon.port))
        body = json.dumps(self.BIG).encode()
        sock.sendall(b"POST /v1/render HTTP/1.1\r\nHost: x\r\nContent-Type: "
                     b"application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        self.assertTrue(sock.recv(4096))
        stop = threading.Event()

        def trickle():
            while read_per_second and not stop.wait(0.25):
                try:
                    sock.recv(max(1, read_per_second // 4))
                except OSError:
                    return
        # A daemon thread, stopped by the test's cleanup too: a failed assertion must
        # not leave it reading forever and the interpreter waiting for it at exit.
        reader = threading.Thread(target=trickle, daemon=True)
        reader.start()
        self.addCleanup(stop.set)
        return sock, stop, reader

    def served_after(self, daemon, started, cut_line):
        """Renders a short job; asserts the worker took it only after the stalled
        job's end was logged (the mechanism that freed it). Returns the seconds since
        `started`, for the record."""
        status, _, body = daemon.render({"raster": {"url": "byte_20x20.tif"},
                                         "output": {"width": 64, "height": 36, "frames": 2}})
        self.assertEqual(status, 200)
        log = daemon.log()
        ended = log.index(cut_line)
        self.assertRegex(log[ended:], r"outcome=ok w=64 h=36 frames=2")
        return time.monotonic() - started

    def test_wall_time_holds_while_waiting_on_the_client(self):
        from harness import Daemon
        daemon = Daemon("--workers", "1", "--max-job-seconds", "3", "--min-read-kb-per-s", "0",
                        "--byte-queue-kb", "64")
        try:
            started = time.monotonic()
            sock, stop, reader = self.stalled(daemon)
            # Cut while waiting on the client (cut=deadline), or, where drawing is slower
            # than the pipe fills (sanitizer builds), at the deadline between frames.
            found = daemon.wait_for_log(r"outcome=failed w=1280 h=720 frames=3000 encoded=(\d+)"
                                        r".* cut=(deadline|none)", timeout=60)
            self.assertIn("past max_job_seconds", daemon.log())
            waited = self.served_after(daemon, started, found.group(0))
            print("\nstalled reader: cut at the 3 s limit after %s frames (cut=%s); the next "
                  "job was served %.1f s after the stalled one began"
                  % (found.group(1), found.group(2), waited))
            stop.set()
            sock.close()
            reader.join()
        finally:
            daemon.stop()

    def test_a_reader_under_the_floor_rate_is_cut_off(self):
        from harness import Daemon
        daemon = Daemon("--workers", "1", "--min-read-kb-per-s", "256")
        try:
            started = time.monotonic()
            sock, stop, reader = self.stalled(daemon, read_per_second=16 * 1024)
            found = daemon.wait_for_log(r"outcome=cancelled w=1280 h=720 frames=3000 .* "
                                        r"cut=slow_reader", timeout=60)
            waited = self.served_after(daemon, started, found.group(0))
            print("\nreader under the floor rate: cut (cut=slow_reader); the next job was served "
                  "%.1f s after the slow one began" % waited)
            stop.set()
            sock.close()
            reader.join()
        finally:
            daemon.stop()


class SlowClientsTest(unittest.TestCase):
    """Slow-header connections from one address (127.0.0.2) hold at most
    --max-connections-per-address slots: a client from another address
    (127.0.0.3) is served as fast as before the attack."""

    JOB = {"raster": {"url": "jacksboro_dem.tif"},
           "output": {"width": 320, "height": 180, "frames": 10}}

    def render_from(self, daemon, address):
        return daemon.render_from(address, self.JOB)

    def test_one_address_cannot_take_every_connection(self):
        from harness import Daemon
        daemon = Daemon("--max-connections-per-address", "32")
        attackers = []
        try:
            usual = min(self.render_from(daemon, "127.0.0.3") for _ in range(3))
            for _ in range(700):  # more than the 512 the daemon takes; bounded, seconds
                s = socket.socket()
                s.bind(("127.0.0.2", 0))
                s.settimeout(5)
                s.connect((daemon.host, daemon.port))
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")  # never ends
                attackers.append(s)
            during = min(self.render_from(daemon, "127.0.0.3") for _ in range(3))
            # Those past the limit were closed at once.
            closed = 0
            for s in attackers:
                s.settimeout(0.01)
                try:
                    closed += s.recv(1) == b""
                except (socket.timeout, ConnectionResetError):
                    closed += isinstance(sys.exc_info()[1], ConnectionResetError)
            print("\nslow headers from one address: %d of 700 connections refused; a client "
                  "from another address took %.0f ms (%.0f ms before)"
                  % (closed, during * 1e3, usual * 1e3))
            self.assertGreaterEqual(closed, 700 - 32)
            self.assertLess(during, usual * 3 + 0.5)
        finally:
            for s in attackers:
                s.close()
            daemon.stop()


class DeadlineTest(unittest.TestCase):
    """The request line and headers have a total deadline, a body a floor rate:
    trickling them byte by byte (which restarts an idle timeout every time) gets
    a JSON 408 all the same, while a client from another address is served."""

    def answer(self, source, first, then=b"", pause=0.0):
        """Sends `first`, then `then` a byte every `pause` seconds; returns the answer
        and how long it took."""
        s = socket.socket()
        s.bind((source, 0))
        s.settimeout(30)
        started = time.monotonic()
        got = b""
        try:
            s.connect(self.daemon_address)
            s.sendall(first)
            for b in then:
                time.sleep(pause)
                s.send(bytes([b]))
        except (BrokenPipeError, ConnectionResetError):
            pass
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
        except ConnectionResetError:
            pass
        s.close()
        return got, time.monotonic() - started

    def test_headers_and_bodies_have_deadlines(self):
        from harness import Daemon
        daemon = Daemon("--header-timeout-seconds", "2", "--min-upload-kb-per-s", "16")
        self.daemon_address = (daemon.host, daemon.port)
        post = (b"POST /v1/render HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: 4000\r\n\r\n")
        cases = {
            "slow headers": ("127.0.0.2", b"GET /healthz HTTP/1.1\r\n", b"X-Slow: " + b"a" * 200,
                             0.25),
            "slow request line": ("127.0.0.4", b"GET /heal", b"thz" + b"z" * 200, 0.25),
            "body stops": ("127.0.0.5", post + b'{"raster": ', b"", 0),
            "body trickles": ("127.0.0.6", post, b"{" + b" " * 200, 0.2),
        }
        results = {}
        try:
            usual = daemon.render_from("127.0.0.3", SlowClientsTest.JOB)
            threads = [threading.Thread(target=lambda k=k, c=c: results.__setitem__(
                k, self.answer(*c))) for k, c in cases.items()]
            for t in threads:
                t.start()
            during = daemon.render_from("127.0.0.3", SlowClientsTest.JOB)
            for t in threads:
                t.join(60)
            _, _, text = daemon.request("GET", "/metrics")
        finally:
            daemon.stop()
        print("\ndeadlines: " + ", ".join("%s 408 after %.1f s" % (k, v[1])
                                          for k, v in results.items())
              + "; a client from another address took %.0f ms (%.0f ms before)"
              % (during * 1e3, usual * 1e3))
        for name, (answer, took) in results.items():
            head, _, body = answer.partition(b"\r\n\r\n")
            self.assertTrue(head.startswith(b"HTTP/1.1 408 "), (name, answer[:200]))
            self.assertIn(b"content-type: application/json", head.lower(), name)
            self.assertEqual(json.loads(body)["error"]["code"], "timeout", name)
            limit = 2 if "body" not in name else 5
            self.assertGreaterEqual(took, limit - 0.5, name)
            self.assertLess(took, limit + 3, name)
        counts = dict(re.findall(r'rasterclip_connections_cut_total\{reason="(\w+)"\} (\d+)',
                                 text.decode()))
        self.assertEqual((counts["header_timeout"], counts["body_timeout"]), ("2", "2"))
        # ... and among the error answers: four 408s (the /metrics request before them
        # answered nothing else in error).
        self.assertIn('rasterclip_http_errors_total{class="4xx"} 4', text.decode())
        self.assertLess(during, usual * 3 + 0.5)


class EncoderFailureTest(unittest.TestCase):
    """An encoder failure after streaming began is a failure, not a cancellation:
    counted failed, its error logged, the stream left without its last chunk."""

    def test_encoder_failure_is_counted_failed(self):
        from harness import Daemon
        daemon = Daemon(env={"RASTERCLIP_FAULT_ENCODE_FRAME": "5"})
        try:
            if "fault injection built in" not in daemon.log():
                self.skipTest("SKIPPED: this build has no RC_FAULT_INJECTION (scripts/build.sh "
                              "asan|tsan turn it on)")
            job = {"raster": {"url": "jacksboro_dem.tif"},
                   "output": {"width": 320, "height": 180, "fps": 10, "frames": 30}}
            sock = post_raw(daemon.host, daemon.port, job)
            raw = b""
            while True:
                got = sock.recv(65536)
                if not got:
                    break
                raw += got
            sock.close()
            self.assertTrue(raw.startswith(b"HTTP/1.1 200"))
            self.assertFalse(raw.endswith(b"0\r\n\r\n"))  # no terminating chunk
            daemon.wait_for_log(r"outcome=failed w=320 h=180 frames=30 encoded=5 ")
            self.assertRegex(daemon.log(), r'job failed" code=internal .*video encoder encode')
            self.assertNotIn("outcome=cancelled", daemon.log())
            status, _, metrics = daemon.request("GET", "/metrics")
            text = metrics.decode()
            self.assertRegex(text, r'rasterclip_jobs_total\{outcome="failed"\} 1\b')
            self.assertRegex(text, r'rasterclip_jobs_total\{outcome="cancelled"\} 0\b')
        finally:
            daemon.stop()


if __name__ == "__main__":
    unittest.main()
