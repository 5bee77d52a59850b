#!/usr/bin/python3
"""Memory per job and over many jobs, against one daemon (release build, one worker):

  * a 1280x720 job's peak RSS over the idle daemon's RSS, for image and surface
    mode, and for clips of 120, 600 and 2400 frames (what a job holds must not
    grow with its length);
  * RSS and live heap (rasterclip_heap_bytes: glibc's in-use bytes) after 1, 25,
    50, 75 and 100 jobs — completed, failed (a file that is not a raster) and
    cancelled (the client hangs up mid-clip), one of each kind in turn.

    /usr/bin/python3 bench/memory.py [--build build]

Writes bench/MEMORY.md. Takes about three minutes on two cores.
"""
import argparse
import json
import os
import re
import shutil
import socket
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import client  # noqa: E402
from run import cpu_model  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def status_kib(pid, field):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"%s:\s+(\d+) kB" % field, f.read()).group(1))


def reset_peak(pid):
    """Linux 4.0+: writing 5 to clear_refs resets VmHWM to the current RSS."""
    with open("/proc/%d/clear_refs" % pid, "w") as f:
        f.write("5")


def heap_mib(port):
    text = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=30).read()
    return int(re.search(rb"^rasterclip_heap_bytes (\d+)$", text, re.M).group(1)) / 2**20


def job(mode, frames, url="jacksboro_dem.tif"):
    return {"raster": {"url": url}, "style": {"mode": mode},
            "output": {"width": 1280, "height": 720, "fps": 30, "frames": frames}}


def hang_up(port, body):
    """Starts a long job and leaves after its first bytes: the job is cancelled."""
    sock = socket.create_connection(("127.0.0.1", port))
    data = json.dumps(body).encode()
    sock.sendall(b"POST /v1/render HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
                 b"Content-Length: %d\r\n\r\n" % len(data) + data)
    sock.recv(65536)
    sock.close()


def settle(proc, port):
    """Waits until the worker is idle again (the cancelled job has ended)."""
    for _ in range(300):
        text = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=30).read()
        if re.search(rb"^rasterclip_workers_busy 0$", text, re.M):
            return
        time.sleep(0.1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    args = ap.parse_args()
    binary = os.path.join(args.build, "rasterclipd")
    with tempfile.TemporaryDirectory() as data:
        shutil.copy(os.path.join(ROOT, "demo", "jacksboro_dem.tif"), data)
        with open(os.path.join(data, "not_a_raster.tif"), "wb") as f:
            f.write(b"not a raster, only words\n" * 100)
        proc, port = client.start_daemon(binary, "--data-root", data, "--workers", "1",
                                         "--cache-mb", "0")
        try:
            pid = proc.pid
            client.post_job(port, job("image", 10))  # the first job loads drivers and shaders
            per_job = []
            for mode, frames in (("image", 120), ("image", 600), ("image", 2400),
                                 ("surface", 120), ("surface", 600)):
                settle(proc, port)
                idle = status_kib(pid, "VmRSS")
                reset_peak(pid)
                status = client.post_job(port, job(mode, frames))[0]
                peak = status_kib(pid, "VmHWM")
                per_job.append((mode, frames, status, idle / 1024, (peak - idle) / 1024))
                print("per job: %s %d frames: %.1f MiB over idle" % (mode, frames,
                                                                     (peak - idle) / 1024),
                      file=sys.stderr)
            rounds = []
            settle(proc, port)
            rounds.append((0, status_kib(pid, "VmRSS") / 1024, heap_mib(port)))
            outcomes = {"ok": 0, "failed": 0, "cancelled": 0}
            for i in range(1, 101):
                kind = ("ok", "failed", "cancelled")[i % 3]
                if kind == "ok":
                    outcomes[kind] += client.post_job(port, job("image", 30))[0] == 200
                elif kind == "failed":
                    outcomes[kind] += client.post_job(
                        port, job("image", 30, "not_a_raster.tif"))[0] == 422
                else:
                    hang_up(port, job("image", 3000))
                    outcomes[kind] += 1
                settle(proc, port)
                if i in (1, 25, 50, 75, 100):
                    rounds.append((i, status_kib(pid, "VmRSS") / 1024, heap_mib(port)))
        finally:
            proc.terminate()
            proc.wait(timeout=60)
    lines = ["# memory, %s, %s (%d cores)" % (time.strftime("%Y-%m-%d"), cpu_model(),
                                               os.cpu_count()), "",
             "Made by `/usr/bin/python3 bench/memory.py`: one daemon, one worker, no raster "
             "cache (`--cache-mb 0`), the demo DEM. Peak RSS over idle is VmHWM after the "
             "job minus VmRSS before it (VmHWM reset first).", "",
             "| job (1280x720) | frames | HTTP | idle RSS MiB | peak over idle MiB |",
             "|---|---|---|---|---|"]
    for mode, frames, status, idle, over in per_job:
        lines.append("| %s | %d | %d | %.1f | %.1f |" % (mode, frames, status, idle, over))
    lines += ["", "100 jobs in turn: completed (30 frames), failed (not a raster, 422) and "
              "cancelled (3000 frames, the client hangs up after its first bytes): "
              "%d, %d, %d." % (outcomes["ok"], outcomes["failed"], outcomes["cancelled"]), "",
              "| after jobs | RSS MiB | live heap MiB |", "|---|---|---|"]
    for n, rss, heap in rounds:
        lines.append("| %d | %.1f | %.2f |" % (n, rss, heap))
    client.write_markdown("MEMORY.md", lines)


if __name__ == "__main__":
    main()
