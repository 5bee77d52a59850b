"""The raster reader's sandbox: every raster is decoded in a separate process,
confined before it reads a byte, and files that name other files (HDF5 external
storage, external links, virtual datasets) cannot make the daemon read outside its
data root and the upload.

The hostile files are made here with Debian's h5py and netCDF4, pointing at
/etc/passwd, the daemon's own /proc/PID/environ and a file beside the data root.
"""
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
import unittest

import h5py
import netCDF4
import numpy as np

from harness import (DAEMON, SANITIZED, Daemon, DaemonTest, decode_frames, patch_mean,
                     raster_cell_centre, top_down_pixel)
from test_uploads import multipart

# Top down over a 16 x 8 raster in grey, value v drawn as grey level v: each
# cell's byte can be read back from the frame (harness.top_down_pixel).
WIDTH, HEIGHT, DISTANCE, FOV = 640, 360, 1.2, 40.0
JOB = {"raster": {"rescale": [0, 255]},
       "style": {"colormap": "gray", "colorbar": False},
       "camera": {"orbit": {"degrees": 0, "elevation": 90, "distance": DISTANCE, "fov": FOV}},
       "output": {"width": WIDTH, "height": HEIGHT, "fps": 5, "frames": 3, "crf": 10}}


def check_sandbox(*args):
    root = tempfile.mkdtemp(prefix="rasterclip-check-")
    try:
        return subprocess.run([DAEMON, "--check-sandbox", "--data-root", root, *args],
                              capture_output=True, text=True, timeout=120)
    finally:
        shutil.rmtree(root, ignore_errors=True)


class SandboxCheckTest(unittest.TestCase):
    """`rasterclipd --check-sandbox`: a reader tries, from inside, what it must not do."""

    def test_every_forbidden_attempt_fails_inside_the_reader(self):
        run = check_sandbox()
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        attempts = dict(re.findall(r"^attempt (\S+) (allowed|denied|ALLOWED)", run.stdout, re.M))
        # Landlock: outside the allowed set, and writing where reading is allowed.
        # seccomp: execve, sockets, ptrace, new processes. rlimits: address space.
        self.assertEqual(attempts, {name: "denied" for name in (
            "read_etc_passwd", "read_environ", "write_data_root", "execve", "socket", "ptrace",
            "fork", "map_past_limit")}, run.stdout)
        # Each refusal is logged by the reader itself.
        for name in attempts:
            self.assertRegex(run.stderr, r'reader=\d+ msg="reader probe" action=%s '
                                         r'outcome=denied errno=[1-9]' % name)
        report = dict(re.findall(r"(\w+)=(\S+)", run.stdout.splitlines()[0]))
        for key in ("landlock", "seccomp", "no_new_privs", "netns", "rlimits", "complete"):
            self.assertEqual(report[key], "1", run.stdout)
        # The reader's network namespace is not the one the daemon (and this test) is in.
        own = os.stat("/proc/self/ns/net").st_ino
        self.assertNotIn(report["netns_inode"], ("0", str(own)))

    def test_strict_mode_starts_when_everything_is_in_force(self):
        run = check_sandbox("--reader-sandbox", "strict")
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        bad = subprocess.run([DAEMON, "--reader-sandbox", "lax", "--check-sandbox"],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(bad.returncode, 2)
        self.assertIn("reader_sandbox", bad.stderr)


def cells_of(clip_bytes):
    """The 128 bytes the frames show, cell by cell in row order, from every frame."""
    with tempfile.NamedTemporaryFile(suffix=".webm") as f:
        f.write(clip_bytes)
        f.flush()
        frames = decode_frames(f.name, WIDTH, HEIGHT).astype(float)
    shown = []
    for frame in frames:
        values = []
        for r in range(8):
            for c in range(16):
                x, y = raster_cell_centre(c, r, 16, 8)
                px, py = top_down_pixel(x, y, WIDTH, HEIGHT, DISTANCE, FOV)
                values.append(patch_mean(frame, px, py).mean())
        shown.append(values)
    return shown


def longest_run(shown, target):
    """The longest run of consecutive cells showing the target's bytes (within 4
    grey levels) in any frame."""
    best = 0
    for values in shown:
        run = 0
        for value, byte in zip(values, target):
            run = run + 1 if abs(value - byte) <= 4 else 0
            best = max(best, run)
    return best


def write_bytes_file(path, data):
    with open(path, "wb") as f:
        f.write(data)


def hostile_files(folder, targets):
    """HDF5 and netCDF files that name `targets` (name -> absolute path) by each
    route HDF5 offers; plus inline twins that hold their own bytes (the control)."""
    made = {}
    for name, target in targets.items():
        size = 128
        path = os.path.join(folder, "external_%s.h5" % name)
        with h5py.File(path, "w") as f:
            f.create_dataset("data", shape=(8, 16), dtype="u1", external=[(target, 0, size)])
        made["external_" + name] = path
        # netCDF-4 is HDF5: the same raw storage behind the file's one netCDF
        # variable, on its two dimensions.
        path = os.path.join(folder, "netcdf_%s.nc" % name)
        with netCDF4.Dataset(path, "w") as nc:
            nc.createDimension("y", 8)
            nc.createDimension("x", 16)
        with h5py.File(path, "r+") as f:
            data = f.create_dataset("data", shape=(8, 16), dtype="u1",
                                    external=[(target, 0, size)])
            data.dims[0].attach_scale(f["y"])
            data.dims[1].attach_scale(f["x"])
        made["netcdf_" + name] = path
    # External links and virtual datasets name HDF5 files: one beside the data root
    # holding the secret bytes.
    secret = os.path.join(os.path.dirname(targets["beside"]), "secret.h5")
    with open(targets["beside"], "rb") as f:
        secret_bytes = np.frombuffer(f.read(128), dtype="u1").reshape(8, 16)
    with h5py.File(secret, "w") as f:
        f.create_dataset("data", data=secret_bytes)
    path = os.path.join(folder, "external_link.h5")
    with h5py.File(path, "w") as f:
        f["data"] = h5py.ExternalLink(secret, "/data")
    made["external_link"] = path
    path = os.path.join(folder, "virtual.h5")
    layout = h5py.VirtualLayout(shape=(8, 16), dtype="u1")
    layout[:] = h5py.VirtualSource(secret, "data", shape=(8, 16))
    with h5py.File(path, "w") as f:
        f.create_virtual_dataset("data", layout, fillvalue=0)
    made["virtual"] = path
    return made


def inline_twin(folder, name, data):
    """The same layout with the bytes inside the file: what a leak would look like."""
    path = os.path.join(folder, "inline_%s.h5" % name)
    with h5py.File(path, "w") as f:
        f.create_dataset("data", data=np.frombuffer(data[:128], dtype="u1").reshape(8, 16))
    return path


class HostileFileTest(DaemonTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.outside = tempfile.mkdtemp(prefix="rasterclip-outside-")
        beside = os.path.join(cls.outside, "beside.bin")
        write_bytes_file(beside, bytes((i * 37 + 11) % 251 for i in range(4096)))
        cls.targets = {"passwd": "/etc/passwd",
                       "environ": "/proc/%d/environ" % cls.daemon.proc.pid,
                       "beside": beside}
        cls.files = hostile_files(cls.daemon.root, cls.targets)
        cls.secrets = {}
        for name, target in cls.targets.items():
            with open(target, "rb") as f:
                cls.secrets[name] = f.read(128)
        cls.twins = {name: inline_twin(cls.daemon.root, name, data)
                     for name, data in cls.secrets.items()}

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(cls.outside, ignore_errors=True)

    def upload(self, path):
        with open(path, "rb") as f:
            data = f.read()
        body, ctype = multipart([("job", "application/json", json.dumps(JOB).encode()),
                                 ("raster", "application/x-hdf5", data)])
        return self.daemon.request("POST", "/v1/render", body=body,
                                   headers={"Content-Type": ctype})

    def by_path(self, path):
        return self.daemon.render(dict(JOB, raster=dict(JOB["raster"],
                                                         url=os.path.basename(path))))

    def test_a_leak_would_be_seen(self):
        # The control: each target's bytes held inside an HDF5 file render, and
        # are read back from the clip, so the check below can fail.
        for name, twin in self.twins.items():
            for send in (self.upload, self.by_path):
                status, _, body = send(twin)
                self.assertEqual(status, 200, body[:300])
                self.assertGreaterEqual(longest_run(cells_of(body), self.secrets[name]), 100,
                                        name)

    def test_files_that_name_other_files_never_show_their_bytes(self):
        refused = 0
        for name, path in sorted(self.files.items()):
            # Links and virtual datasets name the HDF5 file beside the data root.
            target = name.split("_")[-1] if name.split("_")[-1] in self.targets else "beside"
            for how, send, field in (("upload", self.upload, "raster"),
                                     ("path", self.by_path, "raster.url")):
                with self.subTest(file=name, sent=how):
                    status, _, body = send(path)
                    if status == 200:
                        # Read inside the sandbox, the named file was not there:
                        # every frame is checked for the target's bytes.
                        self.assertLess(longest_run(cells_of(body), self.secrets[target]), 8)
                        continue
                    self.assertEqual(status, 422, body[:300])
                    self.assertEqual(json.loads(body)["error"]["field"], field)
                    refused += 1
        # External storage (HDF5 and netCDF) and external links are refused outright.
        self.assertGreaterEqual(refused, 2 * 7)
        # The daemon is unharmed and the next job renders.
        status, _, _ = self.by_path(self.twins["beside"])
        self.assertEqual(status, 200)


class ReaderBudgetTest(DaemonTest):
    """The load is part of the job: its deadline and its cancel stop the reader."""
    # Reads of every band allowed, and a small grid, so that only time bounds the
    # load of the 1024-band file (each band a decimated read of 32000 x 32000).
    daemon_args = ("--max-read-pixels", "1099511627776", "--max-raster-pixels", "4096",
                   "--max-job-seconds", "4", "--workers", "1", "--log-level", "info")
    JOB = {"raster": {"url": "many_bands_sparse.tif"},
           "output": {"width": 160, "height": 90, "frames": 2}}

    def readers(self):
        return self.readers_of(self.daemon)

    @staticmethod
    def readers_of(daemon):
        """The daemon's live child processes: its readers, busy or started ahead (one
        a worker waits for the next job)."""
        pid = daemon.proc.pid
        kids = []
        for task in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/children" % (pid, task)) as f:
                kids += f.read().split()
        return kids

    def test_deadline_stops_the_load(self):
        started = time.monotonic()
        status, _, body = self.daemon.render(self.JOB)
        took = time.monotonic() - started
        self.assertEqual(status, 504, body[:300])
        err = json.loads(body)["error"]
        self.assertEqual(err["field"], "raster.url")
        self.assertIn("max_job_seconds", err["message"])
        self.daemon.wait_for_log(r'msg="raster reader stopped" why=deadline stop_ms=')
        self.assertEqual(len(self.readers()), 1)  # only the one started ahead is left
        # Before the reader the load ran for minutes whatever the limit.
        self.assertLess(took, 30)

    def test_cancel_stops_the_reader(self):
        before = len(re.findall(r"why=cancel", self.daemon.log()))
        def render():
            try:
                self.daemon.render(self.JOB)
            except OSError:
                pass  # cancelled before its first byte: the connection just ends
        thread = threading.Thread(target=render)
        thread.start()
        started = self.daemon.wait_for_log(r'job=(\w+) msg="job started"(?![\s\S]*job started)')
        job_id = started.group(1)
        # The job's reader at work, and the one started ahead for the next job.
        deadline = time.monotonic() + 30
        while len(self.readers()) < 2 and time.monotonic() < deadline:
            thread.join(0.01)
        self.assertEqual(len(self.readers()), 2, "the job took no reader")
        status, _, _ = self.daemon.request("DELETE", "/v1/jobs/" + job_id)
        self.assertIn(status, (200, 202))
        asked = time.monotonic()
        deadline = asked + 10
        while len(re.findall(r"why=cancel", self.daemon.log())) == before and \
                time.monotonic() < deadline:
            thread.join(0.005)
        gone = time.monotonic() - asked
        found = re.findall(r'why=cancel stop_ms=([\d.]+)', self.daemon.log())
        self.assertEqual(len(found), before + 1, self.daemon.log()[-2000:])
        # From the flag seen to the reader reaped, and from the DELETE to that line
        # (the flag is watched every 10 ms; the margin is for a loaded machine).
        self.assertLess(float(found[-1]), 100)
        self.assertLess(gone, 2.0)
        thread.join(30)
        self.assertEqual(len(self.readers()), 1)

    def test_every_band_counts_against_max_read_pixels(self):
        daemon = Daemon("--max-raster-pixels", "4096")
        try:
            started = time.monotonic()
            status, _, body = daemon.render(self.JOB)
            took = time.monotonic() - started
            self.assertEqual(status, 422, body[:300])
            err = json.loads(body)["error"]
            self.assertIn("max_read_pixels", err["message"])
            self.assertIn("1024 bands", err["message"])
            # Refused before the first band was read (each costs tens of ms).
            self.assertLess(took, 10)
        finally:
            daemon.stop()

    def test_a_crashed_or_hung_reader_costs_one_job(self):
        if not SANITIZED:
            self.skipTest("SKIPPED: RASTERCLIP_FAULT_READER needs a build with "
                          "RC_FAULT_INJECTION (scripts/build.sh asan or tsan)")
        def job(name):
            return {"raster": {"url": name}, "output": {"width": 64, "height": 64, "frames": 1}}
        for fault, code in (("crash", 422), ("hang", 504)):
            # Only readers of byte_20x20.tif misbehave.
            daemon = Daemon("--max-job-seconds", "3",
                            env={"RASTERCLIP_FAULT_READER": fault + ":byte_20x20"})
            try:
                status, _, body = daemon.render(job("byte_20x20.tif"))
                self.assertEqual(status, code, body[:300])
                self.assertEqual(json.loads(body)["error"]["field"], "raster.url")
                # The next job gets a fresh reader, and nothing was left behind.
                status, _, body = daemon.render(job("float32_nan_tiny.tif"))
                self.assertEqual(status, 200, body[:300])
                self.assertEqual(len(self.readers_of(daemon)), 1)
            finally:
                daemon.stop()


if __name__ == "__main__":
    unittest.main()
