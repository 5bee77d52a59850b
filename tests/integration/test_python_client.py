"""The Python client (client/python), installed with pip into a fresh virtual
environment and used as its README says: an array in memory becomes clip bytes in
memory in one call; errors raise RenderError with the daemon's fields; 429 is
retried after Retry-After, a bounded number of times."""
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np

from harness import SOURCE, DaemonTest, ffprobe

sys.path.insert(0, os.path.join(SOURCE, "client", "python"))
import rasterclip  # noqa: E402


class PythonClientTest(DaemonTest):
    def test_array_to_gif_mp4_and_webm_bytes(self):
        stack = np.cumsum(np.random.default_rng(1).normal(size=(4, 60, 90)), axis=2)
        stack = stack.astype(np.float32)
        stack[:, 20:30, 40:50] = np.nan
        for fmt, codec in (("gif", "gif"), ("mp4", "h264"), ("webm", "vp9")):
            with self.subTest(fmt):
                clip = rasterclip.render(
                    {"style": {"colormap": "viridis", "background": "#ffffff",
                               "colorbar": True},
                     "camera": {"orbit": {"degrees": 8}},
                     "timeline": {"frames_per_band": 3},
                     "output": {"format": fmt, "width": 320, "height": 180, "fps": 10}},
                    raster=stack, server=self.daemon.url)
                self.assertIsInstance(clip, bytes)
                buf = io.BytesIO(clip)  # the original ask: the clip in memory
                with tempfile.NamedTemporaryFile(suffix="." + fmt) as f:
                    f.write(buf.getvalue())
                    f.flush()
                    stream, _ = ffprobe(f.name)
                self.assertEqual(stream["codec_name"], codec)
                self.assertEqual(int(stream["nb_read_frames"]), 12)

    def test_paths_bytes_and_render_to(self):
        path = os.path.join(self.daemon.root, "byte_20x20.tif")
        job = {"output": {"width": 64, "height": 36, "frames": 3}}
        from_path = rasterclip.render(job, raster=path, server=self.daemon.url)
        with open(path, "rb") as f:
            from_bytes = rasterclip.render(job, raster=f.read(), server=self.daemon.url)
        self.assertTrue(from_path.startswith(b"\x1a\x45\xdf\xa3"))
        self.assertEqual(len(from_path) > 100, len(from_bytes) > 100)
        out = io.BytesIO()
        written = rasterclip.render_to(out, dict(job, raster={"url": "byte_20x20.tif"}),
                                       server=self.daemon.url)
        self.assertEqual(written, len(out.getvalue()))
        os.environ["RASTERCLIP_SERVER"] = self.daemon.url
        try:
            self.assertTrue(rasterclip.render(job, raster=path).startswith(b"\x1a\x45\xdf\xa3"))
        finally:
            del os.environ["RASTERCLIP_SERVER"]

    def test_errors_carry_the_daemons_fields(self):
        with self.assertRaises(rasterclip.RenderError) as caught:
            rasterclip.render({"output": {"width": 7}}, raster=np.ones((4, 4), np.float32),
                              server=self.daemon.url)
        e = caught.exception
        self.assertEqual((e.status, e.field), (422, "output.width"))
        self.assertTrue(e.code and e.message)
        with self.assertRaises(rasterclip.RenderError) as caught:
            rasterclip.render({}, raster=b"plain words", server=self.daemon.url)
        self.assertEqual((caught.exception.status, caught.exception.field), (422, "raster"))
        with self.assertRaises(TypeError):
            rasterclip.render({}, raster=3.5, server=self.daemon.url)


class Busy(BaseHTTPRequestHandler):
    """Answers 429 with Retry-After: 0 `busy` times, then a tiny clip."""
    calls = 0
    busy = 2

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        type(self).calls += 1
        if type(self).calls <= type(self).busy:
            body = json.dumps({"error": {"code": "busy", "message": "full"}}).encode()
            self.send_response(429)
            self.send_header("Retry-After", "0")
        else:
            body = b"clip"
            self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class RetryTest(unittest.TestCase):
    def test_busy_is_retried_a_bounded_number_of_times(self):
        server = ThreadingHTTPServer(("127.0.0.1", 0), Busy)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        url = "http://127.0.0.1:%d" % server.server_address[1]
        try:
            Busy.calls, Busy.busy = 0, 2
            self.assertEqual(rasterclip.render({}, server=url), b"clip")
            self.assertEqual(Busy.calls, 3)
            Busy.calls, Busy.busy = 0, 100
            with self.assertRaises(rasterclip.RenderError) as caught:
                rasterclip.render({}, server=url)
            self.assertEqual(caught.exception.status, 429)
            self.assertEqual(Busy.calls, rasterclip.RETRIES + 1)
        finally:
            server.shutdown()
            server.server_close()


class InstallTest(DaemonTest):
    def test_pip_install_and_the_readme_example(self):
        """`pip install ./client/python` into a fresh venv (with Debian's numpy
        visible), then the README's example, as a user would run it."""
        with tempfile.TemporaryDirectory() as tmp:
            venv = os.path.join(tmp, "venv")
            subprocess.run(["/usr/bin/python3", "-m", "venv", "--system-site-packages", venv],
                           check=True)
            # A copy: building in place would leave build/ and egg-info in the tree.
            package = os.path.join(tmp, "python")
            shutil.copytree(os.path.join(SOURCE, "client", "python"), package)
            pip = subprocess.run([os.path.join(venv, "bin", "pip"), "install", "--no-index",
                                  "--no-build-isolation", "--quiet", package],
                                 capture_output=True, text=True)
            self.assertEqual(pip.returncode, 0, pip.stdout + pip.stderr)
            example = extract_readme_example()
            script = os.path.join(tmp, "example.py")
            with open(script, "w") as f:
                f.write(example)
            run = subprocess.run([os.path.join(venv, "bin", "python"), script],
                                 capture_output=True, text=True, cwd=tmp, timeout=300,
                                 env=dict(os.environ, RASTERCLIP_SERVER=self.daemon.url,
                                          PYTHONPATH=""))
            self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
            self.assertIn("GIF89a", run.stdout)


def extract_readme_example():
    """The first ```python block of the README."""
    with open(os.path.join(SOURCE, "README.md")) as f:
        text = f.read()
    start = text.index("```python\n") + len("```python\n")
    return text[start:text.index("```", start)]


if __name__ == "__main__":
    unittest.main()
