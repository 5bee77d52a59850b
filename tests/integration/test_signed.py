"""Signed render URLs: with tokens on, a URL signed with the daemon's key
(rasterclip.sign_url, `rasterclip sign`) renders without a token and plays in a
page's <video src>; a changed, expired or unsigned one is refused."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
import urllib.parse

from harness import SOURCE, Daemon

sys.path.insert(0, os.path.join(SOURCE, "client", "python"))
import rasterclip  # noqa: E402

CHROMIUM = shutil.which("chromium")
CLI = os.environ.get("RASTERCLIP", os.path.join(SOURCE, "build", "rasterclip"))
KEY = b"0123456789abcdef-signing-key\n"
QUERY = "/v1/render?url=float32_nan_tiny.tif&width=96&height=64&frames=6&fps=12&format=%s"


def json_error(body):
    return json.loads(body)["error"]


class SignedUrlTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="rasterclip-sign-")
        cls.key_file = os.path.join(cls.tmp, "key")
        with open(cls.key_file, "wb") as f:
            f.write(KEY)
        tokens = os.path.join(cls.tmp, "tokens")
        with open(tokens, "w") as f:
            f.write("a-token-nobody-here-sends\n")
        # The clip cache lets the browser test fetch a clip rendered beforehand, so a
        # slow (sanitizer) build does not outlast the browser's virtual time.
        cls.daemon = Daemon("--token-file", tokens, "--url-signing-key-file", cls.key_file,
                            "--clip-cache", os.path.join(cls.tmp, "clips"))

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()
        shutil.rmtree(cls.tmp)

    def get(self, url, method="GET"):
        parts = urllib.parse.urlsplit(url)
        return self.daemon.request(method, parts.path + "?" + parts.query)

    def test_a_signed_url_needs_no_token(self):
        url = self.daemon.url + QUERY % "gif"
        self.assertEqual(self.get(url)[0], 401)  # tokens are on
        signed = rasterclip.sign_url(url, KEY, expires_in=60)
        status, headers, body = self.get(signed)
        self.assertEqual(status, 200, body[:300])
        self.assertEqual(body[:6], b"GIF89a")
        self.assertNotIn("x-rasterclip-ignored", headers)  # expires and sig are not job fields
        self.assertEqual(self.get(signed, "HEAD")[0], 200)
        # The CLI signs the same way.
        cli = subprocess.run([CLI, "sign", "--key-file", self.key_file, "--expires-in", "60",
                              url], capture_output=True, text=True)
        self.assertEqual(cli.returncode, 0, cli.stderr)
        self.assertEqual(self.get(cli.stdout.strip())[0], 200)
        # A signature covers /v1/render only: no other route opens with one.
        info = self.daemon.request("GET", "/v1/info?" + urllib.parse.urlsplit(signed).query)
        self.assertEqual(info[0], 401)

    def test_changed_expired_and_foreign_urls_are_refused(self):
        url = self.daemon.url + QUERY % "gif"
        signed = rasterclip.sign_url(url, KEY, expires_in=60)
        for changed in (signed.replace("width=96", "width=960"),
                        signed + "&colormap=magma",
                        signed.replace("float32_nan_tiny.tif", "byte_20x20.tif"),
                        rasterclip.sign_url(url, b"another key of 16+ bytes", expires_in=60)):
            status, _, body = self.get(changed)
            self.assertEqual(status, 403, changed)
            self.assertEqual(json_error(body)["field"], "sig")
        # A later expiry with the old signature is a changed URL, too.
        later = re.sub(r"expires=(\d+)", lambda m: "expires=%d" % (int(m[1]) + 3600), signed)
        self.assertEqual(json_error(self.get(later)[2])["field"], "sig")
        expired = rasterclip.sign_url(url, KEY, expires_in=-5)
        status, _, body = self.get(expired)
        self.assertEqual((status, json_error(body)["field"]), (403, "expires"))
        self.assertIn("expired", json_error(body)["message"])
        no_expiry = re.sub(r"&expires=\d+", "", signed)
        self.assertEqual(json_error(self.get(no_expiry)[2])["field"], "expires")
        self.daemon.wait_for_log(r"msg=access .*status=403 .*reason=\"expires: ")

    def test_a_daemon_without_a_key_refuses_signatures(self):
        daemon = Daemon()
        try:
            signed = rasterclip.sign_url(daemon.url + QUERY % "gif", KEY, expires_in=60)
            parts = urllib.parse.urlsplit(signed)
            status, _, body = daemon.request("GET", parts.path + "?" + parts.query)
            self.assertEqual((status, json_error(body)["field"]), (403, "sig"))
        finally:
            daemon.stop()

    def test_a_key_file_too_short_stops_the_start(self):
        short = os.path.join(self.tmp, "short")
        with open(short, "wb") as f:
            f.write(b"short")
        out = subprocess.run([os.environ.get("RASTERCLIPD", ""), "--listen", "127.0.0.1:0",
                              "--url-signing-key-file", short], capture_output=True, text=True,
                             timeout=60)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("at least 16 bytes", out.stderr)

    def test_chromium_plays_a_signed_url(self):
        if not CHROMIUM:
            raise AssertionError("chromium is missing: scripts/setup.sh installs it")
        url = self.daemon.url + QUERY % "webm"
        signed = rasterclip.sign_url(url, KEY, expires_in=600)
        self.assertEqual(self.get(signed)[0], 200)  # rendered now, served from the cache
        results = {}
        for name, src in (("signed", signed), ("unsigned", url)):
            with tempfile.TemporaryDirectory() as tmp:
                page = os.path.join(tmp, "page.html")
                with open(page, "w") as f:
                    f.write('<!doctype html><html><body><video id="v" muted autoplay '
                            'src="%s"></video><p id="out">waiting</p><script>'
                            'const v = document.getElementById("v"), out = '
                            'document.getElementById("out");'
                            'v.addEventListener("loadeddata", () => { out.textContent = "loaded " '
                            '+ v.videoWidth + "x" + v.videoHeight + " " + v.duration; });'
                            'v.addEventListener("error", () => { out.textContent = "error"; });'
                            '</script></body></html>' % src)
                for attempt in range(2):
                    dom = subprocess.run(
                        [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-background-networking", "--disable-component-update",
                         "--disable-sync", "--no-first-run",
                         "--user-data-dir=%s/profile%d" % (tmp, attempt),
                         "--autoplay-policy=no-user-gesture-required",
                         "--virtual-time-budget=60000", "--dump-dom", "file://" + page],
                        capture_output=True, text=True, timeout=180).stdout
                    results[name] = re.search(r'<p id="out">([^<]*)</p>', dom).group(1)
                    if results[name] != "waiting":
                        break
                    # Virtual time now and then runs out before a slow (sanitizer)
                    # daemon's answer: the page is loaded once more.
                    print("\nbrowser: the page was still waiting; loading it again")
        self.assertRegex(results["signed"], r"^loaded 96x64 0\.5")
        self.assertEqual(results["unsigned"], "error")  # the page has no token


if __name__ == "__main__":
    unittest.main()
