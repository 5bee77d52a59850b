"""The rasterclip command-line client against the real daemon."""
import json
import os
import subprocess
import tempfile
import unittest

from harness import CLIENT, DaemonTest, ffprobe


class ClientTest(DaemonTest):
    def run_client(self, job, out):
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(job, f)
        try:
            return subprocess.run([CLIENT, "render", f.name, "-o", out, "--server",
                                   self.daemon.url], capture_output=True, text=True, timeout=300)
        finally:
            os.unlink(f.name)

    def test_saves_a_playable_clip(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "clip.webm")
            res = self.run_client({"raster": {"url": "jacksboro_dem.tif"},
                                   "output": {"width": 320, "height": 180, "frames": 30}}, out)
            self.assertEqual(res.returncode, 0, res.stderr)
            stream, _ = ffprobe(out)
            self.assertEqual(stream["codec_name"], "vp9")
            self.assertEqual(int(stream["nb_read_frames"]), 30)
            self.assertFalse(os.path.exists(out + ".part"))

    def test_prints_the_server_error_and_fails(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "clip.webm")
            res = self.run_client({"raster": {"url": "jacksboro_dem.tif"},
                                   "output": {"width": 99999}}, out)
            self.assertEqual(res.returncode, 1)
            self.assertIn("422", res.stderr)
            self.assertIn("output.width", res.stderr)
            self.assertFalse(os.path.exists(out))

    def test_unreachable_server_fails(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "clip.webm")
            job = os.path.join(tmp, "job.json")
            with open(job, "w") as f:
                json.dump({"raster": {"url": "x.tif"}}, f)
            # Port 1 on loopback: nothing listens there.
            res = subprocess.run([CLIENT, "render", job, "-o", out, "--server",
                                  "http://127.0.0.1:1"], capture_output=True, text=True)
            self.assertEqual(res.returncode, 1)
            self.assertIn("rasterclip:", res.stderr)
            self.assertFalse(os.path.exists(out))


if __name__ == "__main__":
    unittest.main()
