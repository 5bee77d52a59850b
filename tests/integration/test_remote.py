"""Remote rasters from a range-honouring HTTP server on loopback: overviews and
ranged reads, the cache and its revalidation, and upstream failures."""
import contextlib
import json
import os
import re
import shutil
import tempfile
import unittest

import numpy as np
from osgeo import gdal

from harness import SOURCE, Daemon, at_once, decode_frames, ffprobe
from rangeserver import RangeServer


def make_cog(path, size):
    """A Cloud-Optimised GeoTIFF of the demo DEM at size x size with overviews."""
    gdal.UseExceptions()
    demo = os.path.join(SOURCE, "demo", "jacksboro_dem.tif")
    mem = gdal.Translate("", demo, format="MEM", width=size, height=size, resampleAlg="bilinear",
                         outputType=gdal.GDT_Float32)
    gdal.Translate(path, mem, format="COG",
                   creationOptions=["BLOCKSIZE=256", "COMPRESS=DEFLATE", "PREDICTOR=3",
                                    "OVERVIEW_RESAMPLING=AVERAGE"])


@contextlib.contextmanager
def served(fill, *daemon_args):
    """A folder filled by `fill(folder)`, a range server on it and a daemon; all
    three go away afterwards (the daemon's clean exit is asserted)."""
    folder = tempfile.mkdtemp(prefix="rasterclip-remote-")
    server = daemon = None
    try:
        fill(folder)
        server = RangeServer(folder)
        daemon = Daemon(*daemon_args)
        yield server, daemon
    finally:
        if daemon:
            daemon.stop()
        if server:
            server.close()
        shutil.rmtree(folder, ignore_errors=True)


def copy_test_raster(name):
    return lambda folder: shutil.copy(os.path.join(SOURCE, "tests", "data", name), folder)


class RemoteTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.folder = tempfile.mkdtemp(prefix="rasterclip-remote-")
        make_cog(os.path.join(cls.folder, "big_cog.tif"), 4096)
        for name in ("byte_20x20.tif", "broken_not_a_raster.tif"):
            shutil.copy(os.path.join(SOURCE, "tests", "data", name), cls.folder)
        cls.server = RangeServer(cls.folder)
        # Loopback is a private target: this daemon may reach it. The fetch timeout
        # is the whole read's: a 1280-wide read of the COG takes ~50 ranged requests,
        # which under ThreadSanitizer on a busy machine has run past 2 s (a 504).
        cls.daemon = Daemon("--allow-private", "--fetch-timeout-ms", "10000",
                            "--max-fetch-mb", "4")

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()
        cls.server.close()
        shutil.rmtree(cls.folder, ignore_errors=True)

    def metric(self, name):
        _, _, text = self.daemon.request("GET", "/metrics")
        m = re.search(r"^%s (\d+)" % re.escape(name), text.decode(), re.M)
        return int(m.group(1))

    def job(self, url, **output):
        out = {"width": 320, "height": 180, "fps": 10, "frames": 3}
        out.update(output)
        return {"raster": {"url": url},
                "camera": {"orbit": {"degrees": 0, "elevation": 90, "distance": 1.3}},
                "output": out}

    def error(self, job):
        status, headers, body = self.daemon.render(job)
        self.assertEqual(headers.get("content-type"), "application/json", body[:200])
        return status, json.loads(body)["error"]

    def test_cog_reads_an_overview_through_ranges(self):
        self.server.log.clear()
        size = os.path.getsize(os.path.join(self.folder, "big_cog.tif"))
        status, headers, body = self.daemon.render(self.job(self.server.url("/files/big_cog.tif")))
        self.assertEqual(status, 200, body[:300])
        fetched = self.server.bytes_served("big_cog.tif")
        self.assertTrue(all(first > 0 or last < size - 1 for _, first, last, _ in self.server.log),
                        "every request was ranged")
        # 320 output pixels need the 512x512 level: a small part of the file.
        self.assertLess(fetched, size * 0.08, "read %d of %d bytes" % (fetched, size))
        self.server.log.clear()
        status, _, _ = self.daemon.render(self.job(self.server.url("/files/big_cog.tif"),
                                                   width=1280, height=720))
        self.assertEqual(status, 200)
        finer = self.server.bytes_served("big_cog.tif")
        self.assertGreater(finer, 2 * fetched)  # 1280 pixels need the 2048 level
        self.assertLess(finer, size * 0.6)
        with tempfile.NamedTemporaryFile(suffix=".webm") as f:
            f.write(body)
            f.flush()
            stream, _ = ffprobe(f.name)
            self.assertEqual(int(stream["nb_read_frames"]), 3)
            frame = decode_frames(f.name, 320, 180)[0]
        self.assertGreater(frame.std(), 10)  # a picture, not a blank
        print("\nremote COG: %d of %d bytes in %d requests"
              % (fetched, size, len(self.server.log)))

    def test_cache_hits_and_revalidates(self):
        url = self.server.url("/files/byte_20x20.tif")
        hits, misses = self.metric("rasterclip_cache_hits_total"), \
            self.metric("rasterclip_cache_misses_total")
        self.assertEqual(self.daemon.render(self.job(url))[0], 200)
        self.assertEqual(self.daemon.render(self.job(url))[0], 200)
        self.assertEqual(self.metric("rasterclip_cache_misses_total"), misses + 1)
        self.assertEqual(self.metric("rasterclip_cache_hits_total"), hits + 1)
        self.assertGreater(self.metric("rasterclip_cache_bytes"), 0)
        # A new version upstream (new ETag) is a miss, not a stale hit.
        self.server.versions["byte_20x20.tif"] = "v2"
        self.assertEqual(self.daemon.render(self.job(url))[0], 200)
        self.assertEqual(self.metric("rasterclip_cache_misses_total"), misses + 2)

    def test_upstream_missing_is_404(self):
        status, err = self.error(self.job(self.server.url("/files/nope.tif")))
        self.assertEqual((status, err["code"], err["field"]), (404, "not_found", "raster.url"))

    def test_not_a_raster_is_422(self):
        status, err = self.error(self.job(self.server.url("/files/broken_not_a_raster.tif")))
        self.assertEqual((status, err["code"]), (422, "impossible"))

    def test_server_that_never_answers_is_504(self):
        status, err = self.error(self.job(self.server.url("/hang")))
        self.assertEqual((status, err["code"]), (504, "upstream_timeout"))

    def test_unreachable_host_is_502(self):
        port = self.server.port
        # A loopback port nobody listens on: bind one, close it, use it.
        import socket
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
        s.close()
        self.assertNotEqual(free, port)
        status, err = self.error(self.job("http://127.0.0.1:%d/files/x.tif" % free))
        self.assertEqual((status, err["code"]), (502, "upstream"))

    def test_oversized_body_is_refused(self):
        # The server ignores ranges, so the whole 4096^2 COG would have to come.
        status, err = self.error(self.job(self.server.url("/norange/big_cog.tif")))
        self.assertEqual((status, err["code"]), (403, "forbidden"))
        self.assertIn("max_fetch_bytes", err["message"])

    def test_whole_file_when_ranges_are_ignored(self):
        status, _, body = self.daemon.render(self.job(self.server.url("/norange/byte_20x20.tif")))
        self.assertEqual(status, 200, body[:300])

    def test_redirects_are_followed_and_checked(self):
        target = self.server.url("/files/byte_20x20.tif")
        status, _, body = self.daemon.render(self.job(self.server.url("/redirect?to=" + target)))
        self.assertEqual(status, 200, body[:300])
        status, err = self.error(self.job(self.server.url("/redirect?to=file:///etc/passwd")))
        self.assertEqual((status, err["code"]), (403, "forbidden"))
        self.assertIn('"scheme"', err["message"])


class JobBudgetTest(unittest.TestCase):
    """max_fetch_mb is one budget for the whole job, heights included."""

    def test_values_and_heights_share_the_budget(self):
        from harness import write_geotiff

        def fill(folder):
            field = np.random.default_rng(1).random((450, 450)).astype(np.float32)  # ~0.8 MB
            write_geotiff(os.path.join(folder, "a.tif"), field)
            write_geotiff(os.path.join(folder, "b.tif"), field)

        with served(fill, "--allow-private", "--max-fetch-mb", "1") as (server, daemon):
            one = {"raster": {"url": server.url("/norange/a.tif")},
                   "style": {"mode": "surface"},
                   "output": {"width": 64, "height": 36, "frames": 1}}
            self.assertEqual(daemon.render(one)[0], 200)
            both = dict(one, raster={"url": server.url("/norange/a.tif"),
                                     "height": {"url": server.url("/norange/b.tif")}})
            status, _, body = daemon.render(dict(both, output=dict(one["output"], frames=2)))
            self.assertEqual(status, 403, body)
            self.assertIn(b"max_fetch_bytes", body)


class ConcurrentLoadTest(unittest.TestCase):
    """Two jobs wanting the same remote raster at once load it once."""

    def test_one_load_for_two_jobs(self):
        fill = lambda folder: make_cog(os.path.join(folder, "shared_cog.tif"), 1024)  # noqa: E731
        with served(fill, "--allow-private", "--workers", "2") as (server, daemon):
            job = {"raster": {"url": server.url("/slow/shared_cog.tif")},
                   "output": {"width": 320, "height": 180, "frames": 2}}
            self.assertEqual(at_once(lambda: daemon.render(job)[0], 2), [200, 200])
            _, _, text = daemon.request("GET", "/metrics")
            text = text.decode()
            self.assertRegex(text, r"rasterclip_cache_misses_total 1\b")
            self.assertRegex(text, r"rasterclip_cache_hits_total 1\b")
            # Each job probes (revalidates) once; the pixel data comes once.
            probes = [r for r in server.log if r[1] == 0]
            self.assertEqual(len(probes), 2)
            data = [r for r in server.log if r[1] >= 65536]
            self.assertGreater(len(data), 0)
            self.assertEqual(len({(r[1], r[2]) for r in data}), len(data))


class AllowListTest(unittest.TestCase):
    """A redirect from an allowed host to one off the allow-list is refused."""

    def test_redirect_to_a_host_off_the_list(self):
        with served(copy_test_raster("byte_20x20.tif"), "--allow-private", "--allow-host",
                    "127.0.0.1") as (server, daemon):
            ok = "http://127.0.0.1:%d/files/byte_20x20.tif" % server.port
            job = {"raster": {"url": ok}, "output": {"width": 64, "height": 36, "frames": 1}}
            self.assertEqual(daemon.render(job)[0], 200)
            away = "http://localhost:%d/files/byte_20x20.tif" % server.port
            job["raster"]["url"] = server.url("/redirect?to=" + away)
            status, _, body = daemon.render(job)
            self.assertEqual(status, 403, body)
            self.assertIn('"host"', json.loads(body)["error"]["message"])


if __name__ == "__main__":
    unittest.main()
