"""Hostile clients, bounded in count and time, on loopback only, each kind from its
own address and the measured client from another: slow headers, a flood of
connect-and-drop, stalled readers and clients that hang up mid-clip. The measured
client is served throughout; afterwards no worker is busy and the daemon's heap,
RSS and descriptors are back near idle."""
import json
import os
import re
import resource
import socket
import threading
import time
import unittest

from harness import Daemon, metric

MEASURED = "127.0.0.3"
SLOW_HEADERS, FLOOD, HANG_UP, STALLED = "127.0.0.2", "127.0.0.4", "127.0.0.5", "127.0.0.6"


def rss_mib(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"VmRSS:\s+(\d+) kB", f.read()).group(1)) / 1024


class HostileClientsTest(unittest.TestCase):
    JOB = {"raster": {"url": "jacksboro_dem.tif"},
           "output": {"width": 320, "height": 180, "frames": 20}}
    LONG = {"raster": {"url": "jacksboro_dem.tif"},
            "output": {"width": 640, "height": 360, "frames": 3000, "bitrate_kbps": 20000}}

    def setUp(self):
        self.daemon = Daemon("--workers", "2", "--queue", "8", "--max-connections-per-address",
                             "32", "--max-job-seconds", "6")

    def tearDown(self):
        self.daemon.stop()

    def connect(self, source):
        s = socket.socket()
        s.bind((source, 0))
        s.settimeout(30)
        s.connect((self.daemon.host, self.daemon.port))
        return s

    def post(self, sock, job):
        body = json.dumps(job).encode()
        sock.sendall(b"POST /v1/render HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def measured(self):
        return self.daemon.render_from(MEASURED, self.JOB)

    def metrics(self):
        _, _, text = self.daemon.request("GET", "/metrics")
        return {k: float(v) for k, v in re.findall(r"^([a-z_]+) (\S+)$", text.decode(), re.M)}

    def settle(self, fds0):
        """Waits (bounded) until no worker is busy and the descriptors are back."""
        pid = self.daemon.proc.pid
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            m = self.metrics()
            fds = len(os.listdir("/proc/%d/fd" % pid))
            if m["rasterclip_workers_busy"] == 0 and m["rasterclip_queue_depth"] == 0 \
                    and fds <= fds0 + 1:
                return m, fds
            self.daemon._reader.join(0.1)
        self.fail("the daemon did not settle: %s, %d descriptors" % (m, fds))

    def attack(self):
        """One round of every kind of attacker, the measured client served meanwhile;
        returns how long its renders took."""
        held = []
        try:
            # Slow headers: 100 connections that never finish their request.
            for _ in range(100):
                s = self.connect(SLOW_HEADERS)
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                held.append(s)
            # Stalled readers: two long jobs whose clients read nothing.
            for _ in range(2):
                s = self.connect(STALLED)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                self.post(s, self.LONG)
                held.append(s)

            # A flood of connect-and-drop, and clients that hang up mid-clip.
            def flood():
                for _ in range(300):
                    try:
                        self.connect(FLOOD).close()
                    except OSError:
                        pass

            def hang_ups():
                for _ in range(40):
                    try:
                        s = self.connect(HANG_UP)
                        self.post(s, self.LONG)
                        s.recv(1024)
                        s.close()
                    except OSError:
                        pass
            attackers = [threading.Thread(target=flood), threading.Thread(target=hang_ups)]
            for t in attackers:
                t.start()
            during = [self.measured() for _ in range(3)]
            for t in attackers:
                t.join(120)
            return during
        finally:
            for s in held:
                s.close()

    def test_hostile_clients(self):
        pid = self.daemon.proc.pid
        usual = min(self.measured() for _ in range(2))
        # The first round fills what a daemon keeps (caches, pools, the driver's
        # shader variants); the second must leave it where the first did.
        self.attack()
        m, fds0 = self.settle(len(os.listdir("/proc/%d/fd" % pid)))
        heap0, rss0 = m["rasterclip_heap_bytes"] / 2**20, rss_mib(pid)
        during = self.attack()
        m, fds1 = self.settle(fds0)
        heap1, rss1 = m["rasterclip_heap_bytes"] / 2**20, rss_mib(pid)
        hung_up = len(re.findall(r"outcome=cancelled w=640 h=360 frames=3000", self.daemon.log()))
        print("\nhostile: measured client %.0f ms before, %s ms during; %d long jobs ended "
              "cancelled; after the first and second rounds: heap %.1f -> %.1f MiB, RSS %.1f -> "
              "%.1f MiB, fds %d -> %d" % (usual * 1e3, [round(d * 1e3) for d in during], hung_up,
                                         heap0, heap1, rss0, rss1, fds0, fds1))
        self.assertLess(min(during), usual * 10 + 2)  # served, not starved
        self.assertGreaterEqual(hung_up, 20)
        self.assertLessEqual(fds1, fds0 + 1)
        # The GL driver keeps the textures of a worker's last draw until its next one
        # (a 640x360 job's values and colours: 1.1 MiB), and which job each of the two
        # workers ran last differs between rounds: the heap after a round moves by 0,
        # 1.1 or 2.2 MiB (34.6, 35.7, 35.7, 34.7 MiB after four rounds, no growth).
        # 80 hung-up jobs leaking 40 KiB each would show.
        self.assertLess(heap1 - heap0, 3, "heap grew %.1f MiB" % (heap1 - heap0))
        self.assertLess(rss1 - rss0, 32, "RSS grew %.1f MiB" % (rss1 - rss0))


if __name__ == "__main__":
    unittest.main()


class ManyAddressesTest(unittest.TestCase):
    """Slow-header connections from many addresses, each within its per-address cap,
    reconnecting as they are cut: the table (sized from the descriptor limit) holds
    them, or, when it cannot, the guard closes those longest in their headers
    first, so a normal job and /healthz from other addresses are still answered."""
    ATTACKERS = ["127.0.1.%d" % i for i in range(1, 101)]
    PER_ADDRESS = 40  # 4000 in all
    JOB = {"raster": {"url": "byte_20x20.tif"},
           "output": {"width": 64, "height": 36, "frames": 2}}

    @classmethod
    def setUpClass(cls):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        cls.saved = (soft, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    @classmethod
    def tearDownClass(cls):
        resource.setrlimit(resource.RLIMIT_NOFILE, cls.saved)

    def first_byte(self, daemon):
        """Seconds from connecting (from 127.0.0.2) to the first byte of a clip."""
        body = json.dumps(self.JOB).encode()
        s = socket.socket()
        s.bind(("127.0.0.2", 0))
        s.settimeout(30)
        started = time.monotonic()
        s.connect((daemon.host, daemon.port))
        s.sendall(b"POST /v1/render HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: %d\r\n\r\n" % len(body) + body)
        head = s.recv(4096)
        took = time.monotonic() - started
        s.close()
        self.assertTrue(head.startswith(b"HTTP/1.1 200"), head[:100])
        return took

    def health(self, daemon):
        s = socket.socket()
        s.bind(("127.0.0.3", 0))
        s.settimeout(30)
        started = time.monotonic()
        s.connect((daemon.host, daemon.port))
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        head = s.recv(4096)
        took = time.monotonic() - started
        s.close()
        self.assertTrue(head.startswith(b"HTTP/1.1 200"), head[:100])
        return took

    def attack(self, daemon, seconds):
        """Holds 4000 slow-header connections for `seconds`, reopening each one the
        daemon closes (bounded: at most 12000 opens). Returns the measurements taken
        meanwhile and the opens made."""
        lock = threading.Lock()
        live = {}
        opens = [0]
        stop = threading.Event()

        def open_one(address):
            s = socket.socket()
            s.bind((address, 0))
            s.settimeout(2)
            try:
                s.connect((daemon.host, daemon.port))
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")  # never ends
            except OSError:
                s.close()
                return
            s.setblocking(False)
            with lock:
                live[s] = address
                opens[0] += 1

        for address in self.ATTACKERS:
            for _ in range(self.PER_ADDRESS):
                open_one(address)

        def reconnect():
            import selectors
            while not stop.is_set() and opens[0] < 12000:
                sel = selectors.DefaultSelector()
                with lock:
                    for s in live:
                        sel.register(s, selectors.EVENT_READ)
                closed = [key.fileobj for key, _ in sel.select(0.2)]
                sel.close()
                for s in closed:
                    with lock:
                        address = live.pop(s)
                    s.close()
                    if not stop.is_set():
                        open_one(address)
        thread = threading.Thread(target=reconnect)
        thread.start()
        try:
            held = metric(daemon, "rasterclip_connections_open")
            jobs, checks = [], []
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                jobs.append(self.first_byte(daemon))
                checks.append(self.health(daemon))
            return jobs, checks, held, opens[0]
        finally:
            stop.set()
            thread.join(30)
            with lock:
                for s in live:
                    s.close()

    def run_attack(self, daemon, seconds, job_margin=1.0, health_margin=0.2):
        usual_job = min(self.first_byte(daemon) for _ in range(3))
        usual_health = min(self.health(daemon) for _ in range(3))
        jobs, checks, held, opens = self.attack(daemon, seconds)
        print("\n%d attackers' connections (%d opened), table %d: first byte %.0f ms before, "
              "worst %.0f ms during; /healthz %.0f ms before, worst %.0f ms during; evicted %d"
              % (held, opens, metric(daemon, "rasterclip_connection_table_size"),
                 usual_job * 1e3, max(jobs) * 1e3, usual_health * 1e3, max(checks) * 1e3,
                 metric(daemon, 'rasterclip_connections_cut_total{reason="evicted"}')))
        # Margins over the same daemon's own unloaded times.
        self.assertLess(max(jobs), usual_job + job_margin)
        self.assertLess(max(checks), usual_health + health_margin)
        return held

    def test_a_table_sized_from_the_descriptor_limit_holds_them(self):
        daemon = Daemon("--workers", "1")
        try:
            self.assertGreaterEqual(metric(daemon, "rasterclip_connection_table_size"), 4096)
            held = self.run_attack(daemon, 4)
            self.assertGreaterEqual(held, 3900)  # the attack was really there
        finally:
            daemon.stop()

    def test_a_full_table_sheds_the_slowest(self):
        # 1280 descriptors: a table of 1024 for 4000 attackers.
        daemon = Daemon("--workers", "1", open_files=1280)
        try:
            self.assertEqual(metric(daemon, "rasterclip_connection_table_size"), 1024)
            # A flood that refills the table as fast as it is shed queues in the
            # kernel's backlog ahead of everyone: served all the same (two or three
            # seconds here, under ThreadSanitizer; without the shedding, not until
            # the attackers' header deadline, 10 s, and then only by luck). The
            # measured requests are never the ones shed: a connection whose whole
            # request head waits unread is not slow, and connections already cut
            # do not count towards the room still to make (counting them shed
            # everyone, the newest too, and /healthz got a 408).
            self.run_attack(daemon, 4, job_margin=8.0, health_margin=8.0)
            self.assertGreater(metric(daemon, 'rasterclip_connections_cut_total{reason="evicted"}'),
                               0)
        finally:
            daemon.stop()
