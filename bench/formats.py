#!/usr/bin/python3
"""rasterclip formats benchmark: the 720p demo job (proto/examples/demo.json: image
mode, 1280x720, 120 frames) as WebM, MP4 and GIF. For each format: end-to-end fps,
time to first byte, clip bytes and the daemon's peak RSS (median of --repeat runs,
a fresh daemon each), beside the encoder-only ceiling of that format measured in
the same run on the same frames (bench/encode_ceiling.c).

    /usr/bin/python3 bench/formats.py [--build build] [--repeat 3]

Writes bench/formats.json and bench/FORMATS.md.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import client  # noqa: E402
from run import Daemon, cpu_model  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
FORMATS = ["webm", "mp4", "gif"]


def ceiling(build, frames_path, width, height, fps, fmt):
    out = subprocess.run([os.path.join(build, "encode_ceiling"), frames_path, str(width),
                          str(height), str(fps), fmt], check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with open(os.path.join(ROOT, "proto", "examples", "demo.json")) as f:
        demo = json.load(f)
    out = demo["output"]
    width, height, fps = out["width"], out["height"], out["fps"]
    frames = round(out["duration"] * fps)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        raw = os.path.join(tmp, "frames.rgba")
        for fmt in FORMATS:
            job = json.loads(json.dumps(demo))
            job["output"]["format"] = fmt
            runs = []
            for _ in range(args.repeat):
                daemon = Daemon(os.path.join(args.build, "rasterclipd"),
                                os.path.join(ROOT, "demo"))
                try:
                    status, ttfb, total, clip = client.post_job(daemon.port, job)
                    daemon.job_line()
                    rss = daemon.status_mib("VmHWM")
                finally:
                    daemon.stop()
                if status != 200:
                    raise RuntimeError("%s: HTTP %d" % (fmt, status))
                runs.append({"fps": frames / total, "ttfb_ms": ttfb * 1e3, "bytes": len(clip),
                             "peak_rss_mib": rss})
                # The ceiling's frames: the daemon's own, decoded (for a GIF, its
                # palette's colours, as near the drawn frames as the format allows).
                path = os.path.join(tmp, "clip." + fmt)
                with open(path, "wb") as c:
                    c.write(clip)
                subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", path, "-f", "rawvideo",
                                "-pix_fmt", "rgba", raw], check=True)
            median = sorted(runs, key=lambda r: r["fps"])[len(runs) // 2]
            ceil = ceiling(args.build, raw, width, height, fps, fmt)
            results.append({"format": fmt, "median": median, "runs": runs,
                            "ceiling_fps": ceil["fps"], "ceiling_bytes": ceil["bytes"],
                            "ratio": median["fps"] / ceil["fps"]})
            print("done: %s" % fmt, file=sys.stderr)
    info = {"date": time.strftime("%Y-%m-%d"), "cpu": cpu_model(), "cores": os.cpu_count(),
            "job": "proto/examples/demo.json", "width": width, "height": height,
            "frames": frames, "results": results}
    with open(os.path.join(ROOT, "bench", "formats.json"), "w") as f:
        json.dump(info, f, indent=1)
    lines = ["# rasterclip formats, %s, %s (%d cores)" % (info["date"], info["cpu"],
                                                          info["cores"]), "",
             "The demo job (%s), %dx%d, %d frames; median of %d runs, a fresh daemon each."
             % (info["job"], width, height, frames, args.repeat), "",
             "| format | fps | ceiling fps | ratio | TTFB ms | clip bytes | peak RSS MiB |",
             "|---|---|---|---|---|---|---|"]
    for r in results:
        m = r["median"]
        lines.append("| %s | %.1f | %.1f | %.2f | %.0f | %d | %.0f |" % (
            r["format"], m["fps"], r["ceiling_fps"], r["ratio"], m["ttfb_ms"], m["bytes"],
            m["peak_rss_mib"]))
    client.write_markdown("FORMATS.md", lines)


if __name__ == "__main__":
    main()
