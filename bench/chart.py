#!/usr/bin/python3
"""Draws bench/results.json as bench/results.png (per-stage milliseconds per frame,
stacked, per workload, with the encoder-only ceiling's time per frame marked) and
writes bench/RESULTS.md with the table.

    /usr/bin/python3 bench/chart.py [results.json]
"""
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
STAGES = ["render", "readback", "convert", "encode", "mux"]


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    path = argv[0] if argv else os.path.join(HERE, "results.json")
    with open(path) as f:
        info = json.load(f)
    rows = info["results"]
    labels = ["%s\n%dx%d" % (r["workload"].replace(" dem ", "\n").replace(" stack ", "\nstack "),
                             r["width"], r["height"]) for r in rows]
    fig, ax = plt.subplots(figsize=(14, 6))
    bottom = [0.0] * len(rows)
    for stage in STAGES:
        values = [r["median"]["stage_ms_per_frame"][stage] for r in rows]
        ax.bar(range(len(rows)), values, bottom=bottom, label=stage)
        bottom = [b + v for b, v in zip(bottom, values)]
    wall = [1000.0 / r["median"]["fps"] for r in rows]
    ceiling = [1000.0 / r["ceiling_fps"] for r in rows]
    ax.scatter(range(len(rows)), wall, color="black", marker="o", zorder=3,
               label="end to end, ms per frame")
    ax.scatter(range(len(rows)), ceiling, color="red", marker="_", s=600, zorder=3,
               label="encoder-only ceiling, ms per frame")
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels(labels, fontsize=8)
    ax.set_ylabel("milliseconds per frame (stage times overlap on two threads)")
    ax.set_title("rasterclip, %s, %s (%d cores)" % (info["date"], info["cpu"], info["cores"]))
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(HERE, "results.png"), dpi=90)

    columns = ["load"] + STAGES + ["send"]
    lines = ["# Benchmark results", "",
             "Made by `/usr/bin/python3 bench/run.py` on "
             "%s, %s, %d cores, no GPU (Mesa llvmpipe). 120 frames per job, median of "
             "three daemon runs, each after a five-frame job of the same kind (drivers, "
             "shaders and libraries loaded); the ceiling is the same frames encoded by "
             "`encode_ceiling` with the daemon's own encoder settings (VP9 realtime, "
             "cpu-used 8, CBR 2000 kbit/s, lag 0, row-mt off, tile columns by width, one "
             "thread per core, or one thread below 1280x720 since a software renderer "
             "shares the cores, aq-mode 3) and nothing else running, RGBA to I420 "
             "conversion and WebM muxing included." % (info["date"], info["cpu"],
                                                       info["cores"]),
             "", "Stage times overlap: drawing, readback and conversion run on the worker "
             "thread, encoding and muxing on the encode thread, sending on the HTTP "
             "thread (send is first to last body byte, so it spans the whole job). CPU "
             "ms/f is the CPU time of all the daemon's threads over the job, per frame; "
             "the ceiling's is its encoding loop's. Peak RSS over idle: VmHWM during the "
             "job minus VmRSS before it. The machine is shared and noisy: compare ratios "
             "within one run.",
             "", "![per-stage time per frame](results.png)", "",
             "| workload | size | fps | ceiling fps | ratio | CPU ms/f | ceiling CPU ms/f | "
             "TTFB ms | " + " | ".join("%s ms/f" % c for c in columns)
             + " | peak RSS over idle MiB | bytes |",
             "|---|---|---|---|---|---|---|---|" + "---|" * len(columns) + "---|---|"]
    for r in rows:
        m = r["median"]
        lines.append("| %s | %dx%d | %.1f | %.1f | %.2f | %.2f | %.2f | %.0f | %s | %.0f | %d |" % (
            r["workload"], r["width"], r["height"], m["fps"], r["ceiling_fps"], r["ratio"],
            m.get("cpu_ms_per_frame", float("nan")),
            r.get("ceiling_cpu_ms_per_frame", float("nan")), m["ttfb_ms"],
            " | ".join("%.2f" % m["stage_ms_per_frame"].get(s, float("nan")) for s in columns),
            m["peak_rss_mib"] - m.get("idle_rss_mib", 0), m["bytes"]))
    notes = os.path.join(HERE, "NOTES.md")
    if os.path.exists(notes):
        with open(notes) as f:
            lines += ["", f.read().rstrip()]
    with open(os.path.join(HERE, "RESULTS.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
