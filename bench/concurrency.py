#!/usr/bin/python3
"""Concurrency benchmark: N clients each post M jobs back to back against one daemon;
prints jobs per minute and the 50th/99th percentile time to first byte.

    /usr/bin/python3 bench/concurrency.py [--clients 8] [--jobs 6] [--workers 2] [--queue 8]
"""
import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def one_job(port, job):
    body = json.dumps(job).encode()
    start = time.monotonic()
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(b"POST /v1/render HTTP/1.1\r\nHost: b\r\nContent-Type: application/json\r\n"
                 b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)
    first, raw = None, b""
    while True:
        chunk = sock.recv(1 << 16)
        if not chunk:
            break
        if first is None and raw == b"":
            first = time.monotonic() - start
        raw += chunk
    sock.close()
    status = int(raw.split(b" ", 2)[1])
    return status, first, time.monotonic() - start


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--jobs", type=int, default=6)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--queue", type=int, default=8)
    args = ap.parse_args()
    proc = subprocess.Popen([os.path.join(args.build, "rasterclipd"), "--listen", "127.0.0.1:0",
                             "--data-root", os.path.join(ROOT, "demo"), "--workers",
                             str(args.workers), "--queue", str(args.queue)],
                            stderr=subprocess.PIPE, text=True)
    port = None
    for line in proc.stderr:
        m = re.search(r"url=http://127\.0\.0\.1:(\d+)", line)
        if m:
            port = int(m.group(1))
            break
    job = {"raster": {"url": "jacksboro_dem.tif"},
           "output": {"width": 640, "height": 360, "fps": 30, "frames": 60}}
    results, lock = [], threading.Lock()

    def client():
        for _ in range(args.jobs):
            r = one_job(port, job)
            with lock:
                results.append(r)

    start = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - start
    proc.terminate()
    proc.wait()
    ok = [r for r in results if r[0] == 200]
    ttfb = sorted(r[1] for r in ok)
    p = lambda q: ttfb[min(len(ttfb) - 1, int(q * len(ttfb)))] * 1e3
    print("| clients | workers | queue | jobs ok | 429s | jobs/min | TTFB p50 ms | TTFB p99 ms |")
    print("|---|---|---|---|---|---|---|---|")
    print("| %d | %d | %d | %d | %d | %.0f | %.0f | %.0f |" % (
        args.clients, args.workers, args.queue, len(ok),
        sum(1 for r in results if r[0] == 429), len(ok) / wall * 60, p(0.5), p(0.99)))


if __name__ == "__main__":
    main()
