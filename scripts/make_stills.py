#!/usr/bin/python3
"""Renders the README's example stills: one frame of each example job, saved as
PNG under docs/ (or --out). Starts its own rasterclipd on 127.0.0.1:0. The test
suite runs it into a temporary folder and compares the result with docs/, so the
stills cannot go stale (tests/integration/test_pictures.py).

    /usr/bin/python3 scripts/make_stills.py [--build build] [--daemon PATH] [--out DIR]
"""
import argparse
import os
import re
import shutil
import subprocess
import tempfile
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
STILLS = [("timeseries.json", "still_image.png", 30), ("surface.json", "still_surface.png", 20),
          ("mayavi_surface.json", "still_options_surface.png", 29),
          ("per_band.json", "still_options_bands.png", 19)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--daemon", help="rasterclipd to run (default: BUILD/rasterclipd)")
    ap.add_argument("--out", default=os.path.join(ROOT, "docs"))
    args = ap.parse_args()
    daemon = args.daemon or os.path.join(args.build, "rasterclipd")
    with tempfile.TemporaryDirectory() as tmp:
        for folder in ("demo", os.path.join("tests", "data")):
            for name in os.listdir(os.path.join(ROOT, folder)):
                shutil.copy(os.path.join(ROOT, folder, name), tmp)
        proc = subprocess.Popen([daemon, "--listen",
                                 "127.0.0.1:0", "--data-root", tmp],
                                stderr=subprocess.PIPE, text=True)
        try:
            url = None
            for line in proc.stderr:
                m = re.search(r'msg="listening" url=(\S+)', line)
                if m:
                    url = m.group(1)
                    break
            for example, png, frame in STILLS:
                with open(os.path.join(ROOT, "proto", "examples", example), "rb") as f:
                    body = f.read()
                req = urllib.request.Request(url + "/v1/render", data=body,
                                             headers={"Content-Type": "application/json"})
                clip = os.path.join(tmp, "clip.webm")
                with urllib.request.urlopen(req) as resp, open(clip, "wb") as out:
                    shutil.copyfileobj(resp, out)
                subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", clip, "-vf",
                                "select=eq(n\\,%d)" % frame, "-frames:v", "1",
                                os.path.join(args.out, png)], check=True)
                print("%s/%s from proto/examples/%s, frame %d" % (args.out, png, example, frame))
        finally:
            proc.terminate()
            proc.wait()


if __name__ == "__main__":
    main()
