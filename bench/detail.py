#!/usr/bin/python3
"""Surface mesh density against speed: the 1280x720 surface job on a 1024x1024 DEM
(120 frames) at style.detail from one cell per 16 output pixels to one per pixel,
end-to-end fps and the render stage's milliseconds a frame (median of --repeat
runs, a fresh daemon each): what a uniform grid of a given number of cells costs
(style.detail "auto" refines the mesh instead; bench/NOTES.md).

    /usr/bin/python3 bench/detail.py [--build build] [--repeat 3]

Writes bench/DETAIL.md.
"""
import argparse
import os
import re
import sys
import tempfile
import time

from osgeo import gdal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import client  # noqa: E402
from run import Daemon, cpu_model  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
CELLS = [80, 160, 320, 640, 1024]
FRAMES = 120


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        gdal.UseExceptions()
        gdal.Translate(os.path.join(tmp, "dem_1024.tif"),
                       os.path.join(ROOT, "demo", "jacksboro_dem.tif"), width=1024, height=1024,
                       resampleAlg="bilinear", outputType=gdal.GDT_Float32)
        for cells in CELLS:
            runs = []
            for _ in range(args.repeat):
                daemon = Daemon(os.path.join(args.build, "rasterclipd"), tmp)
                try:
                    job = {"raster": {"url": "dem_1024.tif"},
                           "style": {"mode": "surface", "detail": cells},
                           "output": {"width": 1280, "height": 720, "frames": FRAMES}}
                    status, ttfb, total, clip = client.post_job(daemon.port, job)
                    line = daemon.job_line()
                finally:
                    daemon.stop()
                if status != 200:
                    raise RuntimeError("HTTP %d" % status)
                render = float(re.search(r"ms_render=([\d.]+)", line).group(1)) / FRAMES
                mesh = re.search(r"mesh=(\d+x\d+)", line).group(1)
                runs.append((FRAMES / total, render, mesh))
            fps, render, mesh = sorted(runs)[len(runs) // 2]
            rows.append((cells, mesh, 1280 / cells, fps, render))
            print("done: %d cells" % cells, file=sys.stderr)
    lines = ["# surface detail, %s, %s (%d cores)" % (time.strftime("%Y-%m-%d"), cpu_model(),
                                                      os.cpu_count()), "",
             "1280x720 surface, 1024x1024 DEM, %d frames; median of %d runs." % (FRAMES,
                                                                                 args.repeat),
             "", "| style.detail | mesh | output px per cell | fps | render ms/frame |",
             "|---|---|---|---|---|"]
    for cells, mesh, ppc, fps, render in rows:
        lines.append("| %d | %s | %.2f | %.1f | %.2f |" % (cells, mesh, ppc, fps, render))
    client.write_markdown("DETAIL.md", lines)


if __name__ == "__main__":
    main()
