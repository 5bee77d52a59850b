#!/usr/bin/python3
"""The daemon against libvpx alone in alternating rounds: each round renders a
workload's clip (a fresh, warmed daemon) and at once encodes that clip's frames
with encode_ceiling (the daemon's own encoder settings), so both see the machine
as it is in that minute. Reports the median ratio of each workload, with the
daemon's render time and triangles a frame (from its log line).

    /usr/bin/python3 bench/rounds.py [--build build] [--rounds 5] [--frames 120]

Writes bench/ROUNDS.md.
"""
import argparse
import os
import re
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import Daemon, ceiling, cpu_model, make_rasters, run_job  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))

# The targets of bench/NOTES.md: surfaces at 720p and 360p, image mode at 720p and
# on the 4096x4096 DEM.
WORKLOADS = [
    ("surface dem 403x344", "dem_403x344.tif", 1280, 720, "surface"),
    ("surface dem 403x344", "dem_403x344.tif", 640, 360, "surface"),
    ("image dem 403x344", "dem_403x344.tif", 1280, 720, "image"),
    ("image dem 4096x4096", "dem_4096.tif", 1280, 720, "image"),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--frames", type=int, default=120)
    args = ap.parse_args()
    binary = os.path.join(args.build, "rasterclipd")
    ratios = {w: [] for w in WORKLOADS}
    rows = {w: [] for w in WORKLOADS}
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "data")
        os.mkdir(data)
        make_rasters(data)
        for _ in range(args.rounds):
            for w in WORKLOADS:
                name, raster, width, height, mode = w
                job = {"raster": {"url": raster}, "style": {"mode": mode},
                       "output": {"width": width, "height": height, "fps": 30,
                                  "frames": args.frames}}
                daemon = Daemon(binary, data)
                try:
                    daemon.warm(job)
                    clip = os.path.join(tmp, "clip.webm")
                    _, total, _ = run_job(daemon.port, job, clip)
                    line = daemon.job_line()
                finally:
                    daemon.stop()
                ceil = ceiling(args.build, clip, width, height, 30, tmp)
                fps = args.frames / total
                ratios[w].append(fps / ceil["fps"])
                render = float(re.search(r"ms_render=([\d.]+)", line).group(1)) / args.frames
                triangles = int(re.search(r"triangles=(\d+)", line).group(1))
                rows[w].append((fps, ceil["fps"], render, triangles))
                print("%s %dx%d: %.1f fps, ceiling %.1f, ratio %.2f" % (
                    name, width, height, fps, ceil["fps"], ratios[w][-1]), file=sys.stderr)
    out = ["# The daemon against libvpx alone, alternating rounds\n",
           "Made by `/usr/bin/python3 bench/rounds.py` on %s, %s, %d cores. %d rounds of %d "
           "frames; each round renders the clip, then encodes its frames with encode_ceiling. "
           "Medians of the rounds.\n" % (time.strftime("%Y-%m-%d"), cpu_model(), os.cpu_count(),
                                         args.rounds, args.frames),
           "| workload | size | fps | ceiling fps | ratio (median) | ratios | render ms/f "
           "| triangles/frame |",
           "|---|---|---|---|---|---|---|---|"]
    for w in WORKLOADS:
        name, _, width, height, _ = w
        r = rows[w]
        out.append("| %s | %dx%d | %.1f | %.1f | %.2f | %s | %.2f | %d |" % (
            name, width, height, statistics.median(x[0] for x in r),
            statistics.median(x[1] for x in r), statistics.median(ratios[w]),
            " ".join("%.2f" % x for x in ratios[w]), statistics.median(x[2] for x in r),
            r[-1][3]))
    with open(os.path.join(ROOT, "bench", "ROUNDS.md"), "w") as f:
        f.write("\n".join(out) + "\n")
    print("\n".join(out))


if __name__ == "__main__":
    main()
