"""A daemon runs for months: after many jobs of alternating sizes — completed,
failed and cancelled by a client that hangs up — its memory and descriptors are
back where they were when it was idle."""
import os
import re
import socket
import json
import time
import unittest

from harness import SANITIZED, Daemon


def rss_mib(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"VmRSS:\s+(\d+) kB", f.read()).group(1)) / 1024


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


class LongRunTest(unittest.TestCase):
    JOBS = 120

    def setUp(self):
        # A small quarantine, so freed memory is given back as it would be without ASan.
        env = {"ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0:exitcode=23:"
                               "quarantine_size_mb=8:thread_local_quarantine_size_kb=64"}
        self.daemon = Daemon("--workers", "1", "--queue", "4", env=env)

    def tearDown(self):
        self.daemon.stop()

    def job(self, i):
        width, height = ((1280, 720), (640, 360), (960, 540))[i % 3]
        return {"raster": {"url": "jacksboro_dem.tif"},
                "style": {"mode": "surface" if i % 2 else "image", "colorbar": True,
                          "title": "t"},
                "output": {"width": width, "height": height, "fps": 10,
                           "frames": 400 if i % 4 == 3 else 2}}

    def hang_up(self, job):
        """Starts a long job and hangs up once the stream has begun."""
        body = json.dumps(job).encode()
        sock = socket.create_connection((self.daemon.host, self.daemon.port), timeout=60)
        sock.sendall(b"POST /v1/render HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\n\r\n" % len(body) + body)
        got = b""
        while len(got) < 2048:
            got += sock.recv(4096)
        sock.close()

    def idle(self, done):
        """Waits until `done` jobs have ended and no worker is busy."""
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            ended = len(re.findall(r" outcome=\w+ ", self.daemon.log()))
            status, _, metrics = self.daemon.request("GET", "/metrics")
            if ended >= done and re.search(r"rasterclip_workers_busy 0\b", metrics.decode()):
                return
            self.daemon._reader.join(0.05)  # waits on the log reader, not a fixed sleep
        self.fail("jobs did not end: %d of %d" % (ended, done))

    def settle(self, done):
        """After `done` jobs, one small completed job, then idle: memory is read after
        the same last job every time (what a worker holds between jobs follows the
        last one's size and mode, and a job cut short may leave its last textures
        bound in the GL driver until the next job draws)."""
        status, _, _ = self.daemon.render(self.job(4))  # 640x360, image, 2 frames
        self.assertEqual(status, 200)
        self.idle(done + 1)

    def heap_mib(self):
        """Live heap bytes the daemon reports (allocated, not freed), in MiB."""
        _, _, metrics = self.daemon.request("GET", "/metrics")
        return int(re.search(r"^rasterclip_heap_bytes (\d+)$", metrics.decode(), re.M)
                   .group(1)) / 2**20

    def run_jobs(self, first, count):
        outcomes = {"ok": 0, "failed": 0, "cancelled": 0}
        for i in range(first, first + count):
            job = self.job(i)
            if i % 4 == 3:
                self.hang_up(job)
                outcomes["cancelled"] += 1
            elif i % 7 == 5:
                job["raster"]["url"] = "broken_not_a_raster.tif"  # fails in the worker
                status, _, _ = self.daemon.render(job)
                self.assertEqual(status, 422)
                outcomes["failed"] += 1
            else:
                status, _, body = self.daemon.render(job)
                self.assertEqual(status, 200)
                self.assertGreater(len(body), 100)
                outcomes["ok"] += 1
        return outcomes

    def test_memory_and_descriptors_return_to_idle(self):
        pid = self.daemon.proc.pid
        warm = self.run_jobs(0, 12)  # every size, mode and outcome once: caches and pools fill
        self.settle(12)
        rss0, fds0, heap0 = rss_mib(pid), fd_count(pid), self.heap_mib()
        half = self.JOBS // 2
        outcomes = self.run_jobs(12, half)
        self.settle(13 + half)
        rss_half, heap_half = rss_mib(pid), self.heap_mib()
        for key, value in self.run_jobs(12 + half, self.JOBS - half).items():
            outcomes[key] += value
        self.settle(14 + self.JOBS)
        rss1, fds1, heap1 = rss_mib(pid), self.settled_fds(pid, fds0), self.heap_mib()
        print("\nlong run: %d jobs %s, RSS %.1f -> %.1f -> %.1f MiB, heap %.2f -> %.2f -> "
              "%.2f MiB, fds %d -> %d" % (self.JOBS, outcomes, rss0, rss_half, rss1, heap0,
                                          heap_half, heap1, fds0, fds1))
        self.assertGreater(heap0, 1)  # the gauge is live: the daemon holds its caches
        self.assertGreater(min(outcomes.values()), 5)
        self.assertGreater(warm["cancelled"], 0)
        log = self.daemon.log()
        self.assertEqual(len(re.findall(r"outcome=cancelled", log)),
                         warm["cancelled"] + outcomes["cancelled"])
        self.assertEqual(len(re.findall(r"outcome=failed", log)),
                         warm["failed"] + outcomes["failed"])
        self.assertLessEqual(fds1, fds0)  # the baseline may hold a closing connection
        # A 1280x720 frame is 3.5 MiB: a leak of one per job would add hundreds. The
        # first half may still fill the GL driver's caches (shader variants per size and
        # mode); over the second half the live heap (exact, unlike RSS, which moves with
        # the allocator's per-thread caches) grows by less than one small frame.
        if SANITIZED:
            # Each job maps its decoded values from the reader at a fresh address, and a
            # sanitizer's shadow of those addresses fills over the first half as well.
            self.assertLess(rss1 - rss_half, 40, "RSS grew %.1f MiB over the second half"
                            % (rss1 - rss_half))
        else:
            self.assertLess(rss1 - rss0, 40, "RSS grew %.1f MiB over %d jobs" % (rss1 - rss0,
                                                                                 self.JOBS))
        self.assertLess(heap1 - heap_half, 0.5, "heap grew %.2f MiB over the second half"
                        % (heap1 - heap_half))
        if not SANITIZED:
            # One malloc arena (daemon/main.c): an idle daemon's RSS comes back to
            # where it was, not 30-40 MiB either side of it with the same heap.
            self.assertLess(abs(rss1 - rss0), 8, "idle RSS moved %.1f MiB" % (rss1 - rss0))

    def settled_fds(self, pid, expected):
        """Descriptors once closing connections have gone (polled, bounded)."""
        for _ in range(100):
            count = fd_count(pid)
            if count <= expected:
                return count
            self.daemon._reader.join(0.05)
        return fd_count(pid)


if __name__ == "__main__":
    unittest.main()
