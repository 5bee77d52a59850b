#!/usr/bin/python3
"""Concurrency benchmark: N clients each post M jobs back to back against one daemon;
prints jobs per minute and the 50th/99th percentile time to first byte.

    /usr/bin/python3 bench/concurrency.py [--clients 8] [--jobs 6] [--workers 2] [--queue 8]
"""
import argparse
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import client  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--jobs", type=int, default=6)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--queue", type=int, default=8)
    args = ap.parse_args()
    proc, port = client.start_daemon(os.path.join(args.build, "rasterclipd"), "--data-root",
                                     os.path.join(ROOT, "demo"), "--workers", str(args.workers),
                                     "--queue", str(args.queue))
    job = {"raster": {"url": "jacksboro_dem.tif"},
           "output": {"width": 640, "height": 360, "fps": 30, "frames": 60}}
    results, lock = [], threading.Lock()

    def one_client():
        for _ in range(args.jobs):
            r = client.post_job(port, job)[:3]
            with lock:
                results.append(r)

    start = time.monotonic()
    threads = [threading.Thread(target=one_client) for _ in range(args.clients)]
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
