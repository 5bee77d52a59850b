#!/usr/bin/python3
"""The GPU table: what the daemon does on the renderer it finds (a GPU through
EGL_EXT_platform_device, else llvmpipe — the table says which by GL_RENDERER).

  * fps per size (image and surface, 640x360 to 1920x1080, 120 frames) beside the
    encoder-only ceiling on the same frames, and their ratio;
  * colour conversion on the GPU (a shader before readback) against the CPU;
  * jobs at once: 1, 2, 4, ... concurrent 1280x720 image jobs, one worker each,
    until the fps per job has halved (or --max-jobs).

    /usr/bin/python3 bench/gpu.py [--build build] [--max-jobs 16] [--frames 120]

Writes bench/GPU.md and prints it. bench/gpu.sh builds and runs it.
"""
import argparse
import json
import os
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import client  # noqa: E402
from run import ceiling, cpu_model  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
SIZES = [(640, 360), (1280, 720), (1920, 1080)]


def job(mode, width, height, frames):
    return {"raster": {"url": "jacksboro_dem.tif"}, "style": {"mode": mode},
            "output": {"width": width, "height": height, "fps": 30, "frames": frames}}


def info(port):
    return json.loads(urllib.request.urlopen("http://127.0.0.1:%d/v1/info" % port,
                                             timeout=30).read())


def timed(port, body):
    status, ttfb, total, clip = client.post_job(port, body)
    if status != 200:
        raise RuntimeError("job failed with HTTP %d" % status)
    return ttfb, total, clip


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--max-jobs", type=int, default=16)
    ap.add_argument("--frames", type=int, default=120)
    args = ap.parse_args()
    binary = os.path.join(args.build, "rasterclipd")
    demo = os.path.join(ROOT, "demo")
    frames = args.frames
    rows, convert_rows, load_rows = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        proc, port = client.start_daemon(binary, "--data-root", demo)
        try:
            about = info(port)["renderer"]
            timed(port, job("image", 640, 360, 10))  # drivers and shaders warm
            for mode in ("image", "surface"):
                for w, h in SIZES:
                    ttfb, total, clip = timed(port, job(mode, w, h, frames))
                    path = os.path.join(tmp, "clip.webm")
                    with open(path, "wb") as f:
                        f.write(clip)
                    ceil = ceiling(args.build, path, w, h, 30, tmp,
                                   "hardware" if about["hardware"] else "software")["fps"]
                    rows.append((mode, w, h, frames / total, ceil, ttfb * 1e3))
                    print("gpu: %s %dx%d %.1f fps" % (mode, w, h, frames / total),
                          file=sys.stderr)
        finally:
            proc.terminate()
            proc.wait(timeout=60)
        for convert in ("gpu", "cpu"):
            proc, port = client.start_daemon(binary, "--data-root", demo, "--convert", convert)
            try:
                timed(port, job("image", 640, 360, 10))
                for w, h in SIZES[1:]:
                    _, total, _ = timed(port, job("image", w, h, frames))
                    convert_rows.append((convert, w, h, frames / total))
            finally:
                proc.terminate()
                proc.wait(timeout=60)
        workers = args.max_jobs
        proc, port = client.start_daemon(binary, "--data-root", demo, "--workers", str(workers),
                                         "--queue", "0")
        try:
            timed(port, job("image", 640, 360, 10))
            n, single = 1, None
            while n <= workers:
                fps = []
                lock = threading.Lock()

                def one():
                    _, total, _ = timed(port, job("image", 1280, 720, frames))
                    with lock:
                        fps.append(frames / total)
                threads = [threading.Thread(target=one) for _ in range(n)]
                start = time.monotonic()
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                wall = time.monotonic() - start
                per_job = sum(fps) / len(fps)
                single = single or per_job
                load_rows.append((n, per_job, n * frames / wall))
                print("gpu: %d jobs at once, %.1f fps each" % (n, per_job), file=sys.stderr)
                if per_job < single / 2:
                    break
                n *= 2
        finally:
            proc.terminate()
            proc.wait(timeout=60)
    lines = ["# GPU table, %s, %s (%d cores)" % (time.strftime("%Y-%m-%d"), cpu_model(),
                                                  os.cpu_count()), "",
             "Made by `bash bench/gpu.sh`. GL_RENDERER: `%s` (EGL %s, device %s, hardware: %s; "
             "colour conversion by default: %s)." % (
                 about.get("gl_renderer"), about.get("egl_platform"), about.get("egl_device"),
                 about.get("hardware"), about.get("convert")), "",
             "| mode | size | fps | ceiling fps | ratio | TTFB ms |", "|---|---|---|---|---|---|"]
    for mode, w, h, fps, ceil, ttfb in rows:
        lines.append("| %s | %dx%d | %.1f | %.1f | %.2f | %.0f |" % (mode, w, h, fps, ceil,
                                                                      fps / ceil, ttfb))
    lines += ["", "| conversion | size | fps (image) |", "|---|---|---|"]
    for convert, w, h, fps in convert_rows:
        lines.append("| %s | %dx%d | %.1f |" % (convert, w, h, fps))
    lines += ["", "| 1280x720 image jobs at once | fps per job | frames/s in all |",
              "|---|---|---|"]
    for n, per_job, total in load_rows:
        lines.append("| %d | %.1f | %.1f |" % (n, per_job, total))
    client.write_markdown("GPU.md", lines)


if __name__ == "__main__":
    main()
