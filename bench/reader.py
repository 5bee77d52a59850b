#!/usr/bin/python3
"""What the reader process costs a job: the raster decode in a confined process
(spawned, sandboxed, values handed back in a sealed memory file) against the same
decode in one process (bench/decode_inproc.c, the code the reader runs, as the
daemon ran it before), on the same files, in the same run.

For each raster, ROUNDS jobs with the decoded-raster cache off (every job decodes):
  * reader ms     the daemon's wait for its reader, request to values mapped
  * load ms       the job's whole load stage (ms_load of its log line)
  * reader CPU    CPU the reader process spent in all, its start-up included
  * reader peak   the reader's own peak RSS (VmHWM, since its exec)
  * in-process    decode_inproc's median ms and CPU ms, and its peak RSS growth
Jobs are spaced so that the reader started ahead for the next job is ready
(`spaced`), and then sent back to back (`back to back`: the next reader is still
starting).

    /usr/bin/python3 bench/reader.py [--build build] [--rounds 10]

Writes bench/READER.md.
"""
import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import client  # noqa: E402
from run import cpu_model  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def upload(port, data, query):
    """POSTs a raw .npy with the job in the query; returns the status."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(b"POST /v1/render?%s HTTP/1.1\r\nHost: bench\r\nContent-Type: application/x-npy"
                 b"\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % (query.encode(),
                                                                          len(data)) + data)
    raw = b""
    while True:
        chunk = sock.recv(1 << 16)
        if not chunk:
            break
        raw += chunk
    sock.close()
    return int(raw.split(b" ", 2)[1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--rounds", type=int, default=10)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as data:
        shutil.copy(os.path.join(ROOT, "demo", "jacksboro_dem.tif"), data)
        shutil.copy(os.path.join(ROOT, "tests", "data", "timeseries_precip_1999_12band.tif"), data)
        stack = np.random.default_rng(3).random((4, 1024, 1024)).astype(np.float32)
        npy_path = os.path.join(data, "stack.npy")
        np.save(npy_path, stack)
        with open(npy_path, "rb") as f:
            npy = f.read()
        proc, port = client.start_daemon(os.path.join(args.build, "rasterclipd"), "--data-root",
                                         data, "--cache-mb", "0", "--log-level", "debug",
                                         "--workers", "1")
        lines = []

        def drain_log(until):
            while True:
                line = proc.stderr.readline()
                lines.append(line)
                if re.search(until, line):
                    return

        rasters = [("jacksboro_dem.tif (DEM, 1 band)", "jacksboro_dem.tif", None),
                   ("timeseries_precip_1999_12band.tif (12 bands)",
                    "timeseries_precip_1999_12band.tif", None),
                   ("upload: 4 x 1024 x 1024 float32 .npy (16 MiB)", None, npy)]
        rows = []
        try:
            for name, url, body in rasters:
                for mode, gap in (("spaced", 0.5), ("back to back", 0.0)):
                    got = []
                    for i in range(args.rounds):
                        job = {"output": {"width": 64, "height": 36, "frames": 1},
                               "style": {"title": "r%d" % i}}
                        if url:
                            job["raster"] = {"url": url}
                            status = client.post_job(port, job)[0]
                        else:
                            status = upload(port, body, "width=64&height=36&frames=1&title=r%d" % i)
                        assert status == 200, status
                        before = len(lines)
                        drain_log(r"outcome=ok w=64 h=36")
                        reader = next(m for m in (re.search(
                            r'msg="raster reader" ms=([\d.]+) cpu_ms=([\d.]+) max_rss_kb=(\d+)', ln)
                            for ln in lines[before:]) if m)
                        load = float(re.search(r"ms_load=([\d.]+)", lines[-1]).group(1))
                        got.append((float(reader.group(1)), load, float(reader.group(2)),
                                    int(reader.group(3))))
                        time.sleep(gap)
                    rows.append((name, mode, got))
        finally:
            proc.terminate()
            proc.wait(60)
        inproc = {}
        for name, url, body in rasters:
            path = os.path.join(data, url) if url else npy_path
            out = subprocess.run([os.path.join(args.build, "decode_inproc"), path,
                                  str(args.rounds), "16384"], capture_output=True, text=True,
                                 check=True).stdout
            inproc[name] = json.loads(out)

    def med(values):
        return statistics.median(values)

    table = ["# The reader process's cost", "",
             "`bench/reader.py`, %d jobs a row, one worker, decoded-raster cache off; %s. "
             "Release build, Mesa llvmpipe. In-process: `decode_inproc`, the same decode in "
             "one process (the daemon before the reader)." % (args.rounds, cpu_model()), "",
             "| raster | jobs | reader ms | load ms | in-process ms | reader CPU ms | "
             "in-process CPU ms | reader peak RSS MiB | in-process RSS growth MiB |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, mode, got in rows:
        ip = inproc[name]
        table.append("| %s | %s | %.1f | %.1f | %.1f | %.0f | %.1f | %.1f | %.1f |" % (
            name, mode, med([g[0] for g in got]), med([g[1] for g in got]), ip["median_ms"],
            med([g[2] for g in got]), ip["cpu_ms"], med([g[3] for g in got]) / 1024,
            ip["peak_rss_over_start_kb"] / 1024))
    table += ["", "Reader ms and load ms are medians. A reader's CPU counts its whole life: "
              "its exec, libraries and GDAL's drivers (~100 ms, spent ahead of its job when "
              "jobs are spaced) and the decode. Its peak RSS is mostly the shared libraries' "
              "pages, which the daemon's own mapping of them shares in the page cache."]
    client.write_markdown("READER.md", table)


if __name__ == "__main__":
    main()
