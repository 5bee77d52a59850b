#!/usr/bin/python3
"""Remote COG benchmark: bytes fetched and time to first byte, cold (nothing
cached) and warm (decoded bands cached, source revalidated), for a 4096x4096
Cloud-Optimized GeoTIFF served over HTTP with ranges from loopback.

    /usr/bin/python3 bench/remote.py [--build build]
"""
import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from rangeserver import RangeServer  # noqa: E402
from test_remote import make_cog  # noqa: E402


def ttfb(port, job):
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
        raw += chunk
        if first is None and b"\r\n\r\n" in raw and len(raw.split(b"\r\n\r\n", 1)[1]) > 8:
            first = time.monotonic() - start
    assert b" 200 " in raw.split(b"\r\n", 1)[0], raw[:300]
    return first, time.monotonic() - start


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        make_cog(os.path.join(tmp, "cog.tif"), 4096)
        size = os.path.getsize(os.path.join(tmp, "cog.tif"))
        server = RangeServer(tmp)
        proc = subprocess.Popen([os.path.join(args.build, "rasterclipd"), "--listen",
                                 "127.0.0.1:0", "--data-root", tmp, "--allow-private"],
                                stderr=subprocess.PIPE, text=True)
        port = None
        for line in proc.stderr:
            m = re.search(r'url=http://127\.0\.0\.1:(\d+)', line)
            if m:
                port = int(m.group(1))
                break
        try:
            print("| run | size | TTFB ms | total s | bytes fetched | of file |")
            print("|---|---|---|---|---|---|")
            for w, h in [(1280, 720), (640, 360)]:
                job = {"raster": {"url": server.url("/files/cog.tif")},
                       "output": {"width": w, "height": h, "fps": 30, "frames": 120}}
                for run in ("cold", "warm"):
                    server.log.clear()
                    first, total = ttfb(port, job)
                    got = server.bytes_served()
                    print("| %s | %dx%d | %.0f | %.2f | %d | %.1f%% |"
                          % (run, w, h, first * 1e3, total, got, 100.0 * got / size))
                server.versions["cog.tif"] = "next"  # the next size starts cold again
        finally:
            proc.terminate()
            proc.wait()
            server.close()


if __name__ == "__main__":
    main()
