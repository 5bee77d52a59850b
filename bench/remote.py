#!/usr/bin/python3
"""Remote COG benchmark: bytes fetched and time to first byte, cold (nothing
cached) and warm (decoded bands cached, source revalidated), for a 4096x4096
Cloud-Optimized GeoTIFF served over HTTP with ranges from loopback.

    /usr/bin/python3 bench/remote.py [--build build]
"""
import argparse
import os
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import client  # noqa: E402
from rangeserver import RangeServer  # noqa: E402
from test_remote import make_cog  # noqa: E402


def ttfb(port, job):
    status, first, total, _ = client.post_job(port, job)
    assert status == 200, status
    return first, total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        make_cog(os.path.join(tmp, "cog.tif"), 4096)
        size = os.path.getsize(os.path.join(tmp, "cog.tif"))
        server = RangeServer(tmp)
        proc, port = client.start_daemon(os.path.join(args.build, "rasterclipd"), "--data-root",
                                         tmp, "--allow-private")
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
