"""The Python client (client/python), installed with pip into a fresh virtual
environment and used as its README says: an array in memory becomes clip bytes in
memory in one call; errors raise RenderError with the daemon's fields; 429 is
retried after Retry-After, a bounded number of times."""
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np

from harness import DAEMON, SOURCE, DaemonTest, ffprobe, metric_total

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


LOCAL_EXAMPLE = """
import os, sys, numpy as np, rasterclip
gif = rasterclip.render({"output": {"format": "gif", "width": 64, "height": 48, "frames": 3}},
                        raster=np.arange(600, dtype=np.float32).reshape(20, 30))
server = rasterclip._local._default
print(bytes(gif[:6]).decode(), gif.content_type, gif.frames, server.url, server._proc.pid)
again = rasterclip.render({"output": {"format": "gif", "width": 64, "height": 48,
                                      "frames": 2}}, raster=np.ones((4, 4)))
print(rasterclip._local._default is server, again.frames)
"""


class LocalDaemonTest(unittest.TestCase):
    """No server named: the client starts its own rasterclipd on a Unix socket,
    reuses it, and stops it when the interpreter exits."""

    def run_python(self, code, **env):
        clean = {k: v for k, v in os.environ.items() if k != "RASTERCLIP_SERVER"}
        clean.update(env, PYTHONPATH=os.path.join(SOURCE, "client", "python"))
        return subprocess.run(["/usr/bin/python3", "-c", code], capture_output=True, text=True,
                              timeout=300, env=clean)

    def test_started_on_demand_reused_and_stopped_at_exit(self):
        run = self.run_python(LOCAL_EXAMPLE, RASTERCLIP_DAEMON=DAEMON)
        self.assertEqual(run.returncode, 0, run.stderr[-3000:])
        first, second = run.stdout.split("\n")[:2]
        magic, ctype, frames, url, pid = first.split()
        self.assertEqual((magic, ctype, frames), ("GIF89a", "image/gif", "3"))
        self.assertTrue(url.startswith("unix:"))
        self.assertEqual(second, "True 2")  # the same daemon served the second call
        self.assertFalse(os.path.exists(url[5:]))  # its socket and folder are gone
        self.assertFalse(os.path.exists("/proc/%s" % pid))  # and so is the daemon

    def test_local_as_a_context(self):
        with rasterclip.local(workers=1, daemon=DAEMON) as server:
            clip = rasterclip.render({"output": {"format": "gif", "width": 32, "height": 32,
                                                 "frames": 1}},
                                     raster=np.ones((8, 8), np.float32), server=server)
            self.assertEqual(bytes(clip[:6]), b"GIF89a")
            self.assertTrue(os.path.exists(server.socket))
        self.assertFalse(os.path.exists(server.socket))
        self.assertEqual(server.returncode, 0, server.log()[-2000:])

    def test_without_a_daemon_the_error_says_how_to_get_one(self):
        run = self.run_python("import rasterclip; rasterclip.render({}, raster=b'x')",
                              PATH="/nonexistent", RASTERCLIP_DAEMON="")
        self.assertNotEqual(run.returncode, 0)
        self.assertIn("NoDaemon", run.stderr)
        self.assertIn("RASTERCLIP_SERVER", run.stderr)
        self.assertIn("Debian package", run.stderr)

    def test_a_network_error_names_the_url(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]  # nobody listens on it once closed
        url = "http://127.0.0.1:%d" % port
        with self.assertRaises(rasterclip.RenderError) as caught:
            rasterclip.render({}, raster=b"x", server=url)
        self.assertEqual(caught.exception.status, 0)
        self.assertIn(url, str(caught.exception))


class ParityTest(DaemonTest):
    """What the CLI does, the client does: a token, the job's id and progress, the
    upload limit checked before a byte is sent, a clip Jupyter displays."""

    TOKEN = "python-client-token"

    @classmethod
    def setUpClass(cls):
        cls.tokens = tempfile.NamedTemporaryFile("w", delete=False)
        cls.tokens.write(cls.TOKEN + "\n")
        cls.tokens.close()
        cls.daemon_args = ("--token-file", cls.tokens.name, "--max-upload-mb", "1")
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        os.unlink(cls.tokens.name)

    JOB = {"output": {"format": "gif", "width": 96, "height": 64, "frames": 40, "fps": 20}}

    def test_token_from_the_argument_or_the_environment(self):
        raster = np.ones((8, 8), np.float32)
        with self.assertRaises(rasterclip.RenderError) as caught:
            rasterclip.render(self.JOB, raster=raster, server=self.daemon.url)
        self.assertEqual(caught.exception.status, 401)
        clip = rasterclip.render(self.JOB, raster=raster, server=self.daemon.url,
                                 token=self.TOKEN)
        self.assertEqual(bytes(clip[:6]), b"GIF89a")
        os.environ["RASTERCLIP_TOKEN"] = self.TOKEN
        try:
            self.assertEqual(bytes(rasterclip.render(self.JOB, raster=raster,
                                                     server=self.daemon.url)[:6]), b"GIF89a")
        finally:
            del os.environ["RASTERCLIP_TOKEN"]

    def test_job_id_progress_and_display(self):
        seen = []
        clip = rasterclip.render(self.JOB, raster=np.random.default_rng(0).random((64, 64)),
                                 server=self.daemon.url, token=self.TOKEN,
                                 headers={"X-Trace": "parity"},
                                 progress=lambda done, total: seen.append((done, total)))
        self.assertEqual(clip.frames, 40)
        self.assertEqual(seen[-1], (40, 40))  # the last call: every frame done
        self.assertEqual([d for d, _ in seen], sorted(d for d, _ in seen))
        status, _, body = self.daemon.request(
            "GET", "/v1/jobs/" + clip.job_id,
            headers={"Authorization": "Bearer " + self.TOKEN})
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["frames_done"], 40)
        self.assertIn('src="data:image/gif;base64,', clip._repr_html_())

    def test_info_colormaps_and_health_as_the_cli_has_them(self):
        with self.assertRaises(rasterclip.RenderError) as caught:
            rasterclip.info(server=self.daemon.url)
        self.assertEqual(caught.exception.status, 401)
        info = rasterclip.info(server=self.daemon.url, token=self.TOKEN)
        self.assertEqual(info["limits"]["max_upload_mb"], 1)
        names = rasterclip.colormaps(server=self.daemon.url, token=self.TOKEN)
        self.assertIn("viridis", names)
        self.assertGreater(len(names), 100)
        self.assertEqual(rasterclip.health(server=self.daemon.url)["status"], "ok")
        self.assertEqual(rasterclip.__version__, info["version"])

    def test_an_upload_over_the_limit_is_refused_before_it_is_sent(self):
        before = metric_total(self.daemon, "rasterclip_http_requests_total")
        with self.assertRaises(rasterclip.RenderError) as caught:
            rasterclip.render(self.JOB, raster=np.zeros((1024, 1024), np.float32),
                              server=self.daemon.url, token=self.TOKEN)
        self.assertEqual((caught.exception.status, caught.exception.field), (413, "raster"))
        # One request reached the daemon (/v1/info), and the first metrics read is
        # another (a request is counted when it ends).
        self.assertEqual(metric_total(self.daemon, "rasterclip_http_requests_total"), before + 2)

    def test_an_array_is_sent_from_its_own_buffer(self):
        import tracemalloc
        stack = np.random.default_rng(1).random((4, 256, 256)).astype(np.float32)  # 1 MiB
        job = {"output": {"format": "gif", "width": 64, "height": 48, "frames": 4}}
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            with self.assertRaises(rasterclip.RenderError):  # 1 MiB + header: over the limit
                rasterclip.render(job, raster=stack, server=self.daemon.url, token=self.TOKEN)
            tracemalloc.reset_peak()
            clip = rasterclip.render(job, raster=stack[:, :200], server=self.daemon.url,
                                     token=self.TOKEN)
            peak = tracemalloc.get_traced_memory()[1] - base
        finally:
            tracemalloc.stop()
        self.assertEqual(bytes(clip[:6]), b"GIF89a")
        sent = stack[:, :200].nbytes
        # The sliced array is made contiguous once; no further copies of it.
        self.assertLess(peak, 1.3 * sent, (peak, sent))


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


class Proxy(Busy):
    """An HTTP proxy that records the request target it was asked for, and answers
    as Busy does."""
    targets = []
    busy = 0

    def do_POST(self):
        type(self).targets.append(self.path)
        super().do_POST()


class ProxyTest(DaemonTest):
    def test_the_environments_proxy_is_used(self):
        proxy = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
        threading.Thread(target=proxy.serve_forever, daemon=True).start()
        saved = {k: os.environ.get(k) for k in ("http_proxy", "no_proxy", "NO_PROXY")}
        os.environ["http_proxy"] = "http://127.0.0.1:%d" % proxy.server_address[1]
        os.environ.pop("no_proxy", None)
        os.environ.pop("NO_PROXY", None)
        try:
            # A name nobody resolves: only the proxy can have answered.
            self.assertEqual(rasterclip.render({}, server="http://daemon.invalid:8080"), b"clip")
            self.assertEqual(Proxy.targets, ["http://daemon.invalid:8080/v1/render"])
            # A daemon on loopback is reached directly, proxy or not.
            self.assertEqual(rasterclip.health(server=self.daemon.url)["status"], "ok")
            os.environ["no_proxy"] = "daemon.invalid"
            with self.assertRaises(rasterclip.RenderError):  # direct, and unreachable
                rasterclip.render({}, server="http://daemon.invalid:8080", timeout=5)
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
            proxy.shutdown()
            proxy.server_close()


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
