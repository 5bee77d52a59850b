"""A real browser (Debian's headless Chromium) plays the streamed clip from the demo
page: it knows the clip's length from the start (Duration in Info, not a live
stream), its size, and plays to the end."""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from harness import DaemonTest

CHROMIUM = shutil.which("chromium")


class BrowserTest(DaemonTest):
    def play(self, query):
        with tempfile.TemporaryDirectory() as profile:
            out = subprocess.run(
                [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--user-data-dir=" + profile,
                 "--autoplay-policy=no-user-gesture-required", "--virtual-time-budget=20000",
                 "--dump-dom", self.daemon.url + "/?" + query],
                capture_output=True, text=True, timeout=120)
        found = re.search(r'<p id="status"([^>]*)>', out.stdout)
        self.assertIsNotNone(found, out.stdout[-2000:] + out.stderr[-2000:])
        return dict(re.findall(r'data-(\w+)="([^"]*)"', found.group(1)))

    def test_demo_page_plays_the_stream(self):
        if not CHROMIUM:
            raise AssertionError("chromium is missing: scripts/setup.sh installs it")
        for mode in ("image", "surface"):
            with self.subTest(mode=mode):
                state = self.play("width=320&height=180&duration=2&mode=%s" % mode)
                self.assertEqual(state["duration"], "2")  # a real timeline, known up front
                self.assertEqual((state["width"], state["height"]), ("320", "180"))
                self.assertGreaterEqual(float(state["time"]), 1.9, state)
                self.assertFalse(state["state"].startswith("error"), state)
