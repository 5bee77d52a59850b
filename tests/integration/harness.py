"""Shared helpers for the integration tests: a real rasterclipd on an ephemeral
loopback port, HTTP against it, and decoding of what comes back.

Only loopback is ever contacted. Expected colours come from numpy and Debian's
matplotlib, never from rasterclip's own code.
"""
import http.client
import json
import os
import queue
import re
import resource
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest

import numpy as np

SOURCE = os.environ.get("RC_SOURCE_DIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
SHARED = os.environ.get("RC_SHARED_DATA", os.path.join(SOURCE, "..", "shared", "data"))
DAEMON = os.environ.get("RASTERCLIPD", os.path.join(SOURCE, "build", "rasterclipd"))
CLIENT = os.environ.get("RASTERCLIP", os.path.join(SOURCE, "build", "rasterclip"))
SANITIZED = bool(os.environ.get("RC_SANITIZE"))
# ThreadSanitizer shadows every byte the program touches several times over.
THREAD_SANITIZED = "thread" in os.environ.get("RC_SANITIZE", "")

# Rasters the repository ships (permissive licences) and the damaged ones that
# scripts/make_test_data.py writes (ctest runs it into the build tree first).
GENERATED = os.environ.get("RC_TEST_DATA")
if not GENERATED:
    GENERATED = tempfile.mkdtemp(prefix="rasterclip-generated-")
if not os.path.exists(os.path.join(GENERATED, "sst_monthly.nc")):
    subprocess.run(["/usr/bin/python3", os.path.join(SOURCE, "scripts", "make_test_data.py"),
                    GENERATED], check=True)
REPO_DATA = [os.path.join(SOURCE, "tests", "data"), os.path.join(SOURCE, "demo"), GENERATED]

SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                   "ThreadSanitizer")


def shared_file(name):
    """Path of a developer test raster, or None when shared/data is absent."""
    path = os.path.join(SHARED, name)
    return path if os.path.exists(path) else None


class Daemon:
    """rasterclipd on 127.0.0.1:0 with a private data root; stop() asserts a clean exit."""

    def __init__(self, *extra_args, shared=(), env=None, open_files=None):
        self.root = tempfile.mkdtemp(prefix="rasterclip-data-")
        for folder in REPO_DATA:
            for name in os.listdir(folder):
                if name.endswith((".tif", ".nc")):
                    shutil.copy(os.path.join(folder, name), self.root)
        for name in shared:
            path = shared_file(name)
            if path:
                shutil.copy(path, self.root)
        self.lines = []
        self._ready = queue.Queue()
        self.proc = subprocess.Popen(
            [DAEMON, "--listen", "127.0.0.1:0", "--data-root", self.root, *extra_args],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            text=True, env=dict(os.environ, **(env or {})),
            preexec_fn=(lambda: resource.setrlimit(resource.RLIMIT_NOFILE,
                                                   (open_files, open_files)))
            if open_files else None)
        self._reader = threading.Thread(target=self._read_stderr, daemon=True)
        self._reader.start()
        try:
            self.url = self._ready.get(timeout=60)
        except queue.Empty:
            self.proc.kill()
            raise AssertionError("daemon did not report its address:\n" + "".join(self.lines))
        if self.url is None:
            raise AssertionError("daemon exited during start-up:\n" + "".join(self.lines))
        match = re.match(r"http://([^:/]+):(\d+)", self.url)
        # A daemon on a Unix socket (--listen unix:PATH) has neither.
        self.host, self.port = (match.group(1), int(match.group(2))) if match else (None, None)

    def _read_stderr(self):
        for line in self.proc.stderr:
            self.lines.append(line)
            found = re.search(r'msg="listening" url=(\S+)', line)
            if found:
                self._ready.put(found.group(1))
        self._ready.put(None)

    def log(self):
        return "".join(self.lines)

    def wait_for_log(self, pattern, timeout=30):
        """Waits (polling the collected log, no fixed sleeps) for a regex to appear."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(pattern, self.log())
            if found:
                return found
            self._reader.join(0.05)
        raise AssertionError("log never matched %r:\n%s" % (pattern, self.log()[-3000:]))

    def request(self, method, path, body=None, headers=None, timeout=120):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            try:
                conn.request(method, path, body=body, headers=headers or {})
            except ConnectionRefusedError:
                raise AssertionError("daemon refused the connection (exit status %s):\n%s"
                                     % (self.proc.poll(), self.log()[-4000:]))
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
        finally:
            conn.close()

    def render_from(self, address, job):
        """Renders `job` from the loopback `address` (an attacker's and the measured
        client's must differ); asserts a clip came and returns the seconds it took."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60,
                                          source_address=(address, 0))
        started = time.monotonic()
        try:
            conn.request("POST", "/v1/render", body=json.dumps(job),
                         headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            body = resp.read()
        finally:
            conn.close()
        if resp.status != 200 or len(body) < 1000:
            raise AssertionError("render from %s: %d, %d bytes" % (address, resp.status,
                                                                    len(body)))
        return time.monotonic() - started

    def render(self, job):
        body = job if isinstance(job, (bytes, str)) else json.dumps(job)
        return self.request("POST", "/v1/render", body=body,
                            headers={"Content-Type": "application/json"})

    def stop(self, test=None):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError("daemon did not stop on SIGTERM")
        self._reader.join(5)
        self.proc.stderr.close()
        shutil.rmtree(self.root, ignore_errors=True)
        log = self.log()
        for mark in SANITIZER_MARKS:
            at = log.find(mark)
            if at >= 0:  # the report itself, not the access lines after it
                raise AssertionError("sanitizer report in daemon log:\n" + log[at:at + 8000])
        if code != 0:
            raise AssertionError("daemon exited %d:\n%s" % (code, log[-3000:]))


def read_head(sock):
    """What a socket brings up to the end of a response's head (or its close)."""
    got = b""
    while b"\r\n\r\n" not in got:
        chunk = sock.recv(4096)
        if not chunk:
            break
        got += chunk
    return got


def metric(daemon, name):
    """A sample's value from the daemon's /metrics (`name` with its labels), or None."""
    _, _, text = daemon.request("GET", "/metrics")
    found = re.search(r"^%s (\d+)$" % re.escape(name), text.decode(), re.M)
    return int(found.group(1)) if found else None


def metric_total(daemon, family):
    """The sum of every sample of a labelled family (`name{...} value`)."""
    _, _, text = daemon.request("GET", "/metrics")
    return sum(int(v) for v in re.findall(r"^%s\{[^}]*\} (\d+)$" % re.escape(family),
                                          text.decode(), re.M))


def at_once(call, count, timeout=300):
    """Runs `call()` on `count` threads at once; returns their results."""
    results = []
    lock = threading.Lock()

    def run():
        value = call()
        with lock:
            results.append(value)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    return results


class DaemonTest(unittest.TestCase):
    """One daemon for the whole test class."""
    daemon_args = ()
    shared = ()

    @classmethod
    def setUpClass(cls):
        cls.daemon = Daemon(*cls.daemon_args, shared=cls.shared)

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()

    def render_ok(self, job, path):
        status, headers, body = self.daemon.render(job)
        self.assertEqual(status, 200, body[:500])
        fmt = job.get("output", {}).get("format", "webm") if isinstance(job, dict) else "webm"
        self.assertEqual(headers.get("content-type"), CONTENT_TYPES[fmt])
        with open(path, "wb") as f:
            f.write(body)
        return headers, body


CONTENT_TYPES = {"webm": "video/webm", "mp4": "video/mp4", "gif": "image/gif"}
CODECS = {"webm": "vp9", "mp4": "h264", "gif": "gif"}


def ffprobe(path):
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-count_frames", "-print_format", "json", "-show_streams",
         "-show_format", path], check=True, capture_output=True, text=True).stdout
    info = json.loads(out)
    return info["streams"][0], info["format"]


def decode_frames(path, width, height):
    """All frames as an (n, height, width, 3) uint8 array, decoded by ffmpeg."""
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", path, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        check=True, capture_output=True).stdout
    frame = width * height * 3
    return np.frombuffer(raw, np.uint8).reshape(len(raw) // frame, height, width, 3)


def top_down_pixel(x, y, width, height, distance, fov_deg):
    """Pixel (column, row) where a pinhole camera looking straight down from
    `distance` above the origin, north up, sees the world point (x, y, 0)."""
    half_h = distance * np.tan(np.radians(fov_deg) / 2)
    col = width / 2 + x / half_h * (height / 2)
    row = height / 2 - y / half_h * (height / 2)
    return col, row


def raster_cell_centre(col, row, cols, rows):
    """World position of a raster cell's centre: longer side 1 unit, north up."""
    longest = max(cols, rows)
    sx, sy = cols / longest, rows / longest
    return (col + 0.5) / cols * sx - sx / 2, sy / 2 - (row + 0.5) / rows * sy


def patch_mean(frame, col, row, radius=2):
    c, r = int(round(col)), int(round(row))
    return frame[r - radius:r + radius + 1, c - radius:c + radius + 1].reshape(-1, 3).mean(axis=0)


def look_at_pixel(point, width, height, azimuth, elevation, distance, fov_deg,
                  target=(0.0, 0.0, 0.0), roll=0.0):
    """Pixel (column, row) of a world point for a camera at `azimuth` (0: looking
    north from the south, counter-clockwise from above) and `elevation`, `distance`
    from `target`, with a vertical field of view of `fov_deg` (square pixels)."""
    az, el = np.radians(azimuth), np.radians(elevation)
    target = np.asarray(target, float)
    eye = target + distance * np.array([np.cos(el) * np.sin(az), -np.cos(el) * np.cos(az),
                                        np.sin(el)])
    forward = (target - eye) / np.linalg.norm(target - eye)
    right = np.array([np.cos(az), np.sin(az), 0.0])
    up = np.cross(right, forward)
    up /= np.linalg.norm(up)
    r = np.radians(roll)  # the camera turns about its line of sight, the picture clockwise
    right, up = np.cos(r) * right + np.sin(r) * up, np.cos(r) * up - np.sin(r) * right
    rel = np.asarray(point, float) - eye
    depth = rel @ forward
    half_h = np.tan(np.radians(fov_deg) / 2) * depth
    x = (rel @ right) / (half_h * width / height)
    y = (rel @ up) / half_h
    return (x + 1) / 2 * width, (1 - y) / 2 * height


def psnr(a, b):
    mse = np.mean((np.asarray(a, float) - np.asarray(b, float)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255.0 ** 2 / mse)


def write_geotiff(path, array, nodata=None):
    from osgeo import gdal
    rows, cols = array.shape[-2:]
    bands = 1 if array.ndim == 2 else array.shape[0]
    ds = gdal.GetDriverByName("GTiff").Create(path, cols, rows, bands, gdal.GDT_Float32)
    for b in range(bands):
        band = ds.GetRasterBand(b + 1)
        band.WriteArray(array if array.ndim == 2 else array[b])
        if nodata is not None:
            band.SetNoDataValue(nodata)
    ds = None
