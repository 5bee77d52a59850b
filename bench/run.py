#!/usr/bin/python3
"""rasterclip benchmark: end-to-end fps, time to first byte, per-stage time per
frame, peak RSS and clip bytes for standard workloads, beside the encoder-only
ceiling measured in the same run on the same frames.

    /usr/bin/python3 bench/run.py [--build build] [--repeat 3] [--json bench/results.json]

It also writes bench/results.png and bench/RESULTS.md (bench/chart.py).

Starts its own rasterclipd (release build) on 127.0.0.1:0 per workload, so peak
RSS is per job. Rasters: the demo DEM, a 512x512x10 band stack and a 4096x4096 DEM
made from the repository's rasters with GDAL (bilinear resampling).
"""
import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time

from osgeo import gdal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chart  # noqa: E402
import client  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))

SIZES = [(640, 360), (1280, 720), (1920, 1080)]
FRAMES = 120
DAEMON_STAGES = ["load", "render", "readback", "convert", "encode", "mux"]  # its log line
STAGES = DAEMON_STAGES + ["send"]


def make_rasters(folder):
    gdal.UseExceptions()
    demo = os.path.join(ROOT, "demo", "jacksboro_dem.tif")
    gdal.Translate(os.path.join(folder, "dem_403x344.tif"), demo)
    gdal.Translate(os.path.join(folder, "dem_1024.tif"), demo, width=1024, height=1024,
                   resampleAlg="bilinear", outputType=gdal.GDT_Float32)
    gdal.Translate(os.path.join(folder, "dem_4096.tif"), demo, width=4096, height=4096,
                   resampleAlg="bilinear", outputType=gdal.GDT_Float32,
                   creationOptions=["TILED=YES", "COMPRESS=DEFLATE"])
    series = os.path.join(ROOT, "tests", "data", "timeseries_precip_1999_12band.tif")
    gdal.Translate(os.path.join(folder, "stack_512x512x10.tif"), series, width=512, height=512,
                   bandList=list(range(1, 11)), resampleAlg="bilinear",
                   creationOptions=["TILED=YES", "COMPRESS=DEFLATE"])


class Daemon:
    def __init__(self, binary, root):
        self.proc, self.port = client.start_daemon(binary, "--data-root", root)

    def job_line(self):
        for line in self.proc.stderr:
            if " outcome=" in line and "job=" in line:
                return line
        raise RuntimeError("no job line")

    def status_mib(self, field):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024.0
        return float("nan")

    def warm(self, job):
        """A short job of the same kind first (drivers, shaders, encoder libraries
        loaded), then the peak RSS is reset to the idle daemon's RSS."""
        short = dict(job, output=dict(job["output"], frames=5))
        client.post_job(self.port, short)
        self.job_line()
        with open("/proc/%d/clear_refs" % self.proc.pid, "w") as f:
            f.write("5")  # VmHWM back to VmRSS (Linux 4.0+)
        return self.status_mib("VmRSS")

    def cpu_s(self):
        with open("/proc/%d/stat" % self.proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=60)


def run_job(port, job, out_path):
    """POSTs a job; returns (ttfb_s, total_s, bytes) and writes the clip's bytes."""
    status, ttfb, total, clip = client.post_job(port, job)
    if status != 200:
        raise RuntimeError("job failed with HTTP %d" % status)
    with open(out_path, "wb") as f:
        f.write(clip)
    return ttfb, total, len(clip)


def stage_ms(line):
    return {s: float(re.search(r"ms_%s=([\d.]+)" % s, line).group(1)) for s in DAEMON_STAGES}


def ceiling(build, clip, width, height, fps, tmp, renderer="software"):
    """libvpx alone on the clip's frames, with the settings the daemon drawing with
    `renderer` (software or hardware) gives that size."""
    raw = os.path.join(tmp, "frames.rgba")
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", clip, "-f", "rawvideo", "-pix_fmt",
                    "rgba", raw], check=True)
    out = subprocess.run([os.path.join(build, "encode_ceiling"), raw, str(width), str(height),
                          str(fps), "webm", renderer], check=True, capture_output=True,
                         text=True).stdout
    os.unlink(raw)
    return json.loads(out)


def workloads():
    for mode in ("image", "surface"):
        style = {"style": {"mode": mode}}
        for w, h in SIZES:
            yield ("%s dem 403x344" % mode, "dem_403x344.tif", w, h, style)
        yield ("%s stack 512x512x10" % mode, "stack_512x512x10.tif", 1280, 720,
               dict(style, timeline={"frames_per_band": 12, "blend": True}))
        yield ("%s dem 1024x1024" % mode, "dem_1024.tif", 1280, 720, style)
        yield ("%s dem 4096x4096" % mode, "dem_4096.tif", 1280, 720, style)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", default=os.path.join(ROOT, "bench", "results.json"))
    args = ap.parse_args()
    binary = os.path.join(args.build, "rasterclipd")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "data")
        os.mkdir(data)
        make_rasters(data)
        for name, raster, width, height, extra in workloads():
            job = {"raster": {"url": raster},
                   "output": {"width": width, "height": height, "fps": 30, "frames": FRAMES}}
            job.update(extra)
            runs = []
            for _ in range(args.repeat):
                daemon = Daemon(binary, data)
                try:
                    idle = daemon.warm(job)
                    clip = os.path.join(tmp, "clip.webm")
                    cpu0 = daemon.cpu_s()
                    ttfb, total, size = run_job(daemon.port, job, clip)
                    cpu = daemon.cpu_s() - cpu0
                    stages = stage_ms(daemon.job_line())
                    rss = daemon.status_mib("VmHWM")
                finally:
                    daemon.stop()
                per_frame = {k: v / FRAMES for k, v in stages.items()}
                # send: first to last body byte, as the client saw it, per frame.
                per_frame["send"] = (total - ttfb) * 1e3 / FRAMES
                runs.append({"ttfb_ms": ttfb * 1e3, "seconds": total, "fps": FRAMES / total,
                             "bytes": size, "peak_rss_mib": rss, "idle_rss_mib": idle,
                             "cpu_ms_per_frame": cpu * 1e3 / FRAMES,
                             "stage_ms_per_frame": per_frame})
            ceil = ceiling(args.build, clip, width, height, 30, tmp)
            best = sorted(runs, key=lambda r: r["fps"])[len(runs) // 2]  # median run
            results.append({"workload": name, "width": width, "height": height,
                            "frames": FRAMES, "median": best, "runs": runs,
                            "ceiling_fps": ceil["fps"], "ratio": best["fps"] / ceil["fps"],
                            "ceiling_cpu_ms_per_frame": ceil["cpu_seconds"] * 1e3 / ceil["frames"]})
            print("done: %s %dx%d" % (name, width, height), file=sys.stderr)
    info = {"date": time.strftime("%Y-%m-%d"), "machine": platform.node(),
            "cpu": cpu_model(), "cores": os.cpu_count(), "results": results}
    with open(args.json, "w") as f:
        json.dump(info, f, indent=1)
    print_table(info)
    chart.main([args.json])


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def print_table(info):
    print("# rasterclip benchmark, %s, %s (%d cores)\n" % (info["date"], info["cpu"],
                                                           info["cores"]))
    print("| workload | size | fps | ceiling fps | ratio | CPU ms/f | ceiling CPU ms/f | TTFB ms | "
          + " | ".join("%s ms/f" % s for s in STAGES)
          + " | peak RSS over idle MiB | clip bytes |")
    print("|---|---|---|---|---|---|---|---|" + "---|" * len(STAGES) + "---|---|")
    for r in info["results"]:
        m = r["median"]
        print("| %s | %dx%d | %.1f | %.1f | %.2f | %.2f | %.2f | %.0f | %s | %.0f | %d |" % (
            r["workload"], r["width"], r["height"], m["fps"], r["ceiling_fps"], r["ratio"],
            m["cpu_ms_per_frame"], r["ceiling_cpu_ms_per_frame"], m["ttfb_ms"],
            " | ".join("%.2f" % m["stage_ms_per_frame"][s] for s in STAGES),
            m["peak_rss_mib"] - m["idle_rss_mib"], m["bytes"]))


if __name__ == "__main__":
    main()
