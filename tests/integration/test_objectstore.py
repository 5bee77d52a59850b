"""Object storage: s3:// and gs:// rasters render from an S3-compatible server on
loopback, signed with the credentials in the daemon's environment, read in ranges
(counted: an overview's worth, not the file), and the same picture as the file on
disk; buckets off the allow-list, a loopback endpoint without --allow-private, a
missing object and a key that climbs are refused before or as they are read."""
import json
import os
import shutil
import socket
import tempfile
import unittest

from harness import Daemon
from objectserver import ObjectServer

SIZE = 2048
QUERY = "width=160&height=96&frames=2&format=gif"


def make_raster(path):
    """A tiled float32 GeoTIFF with overviews: a render at 160 px reads the smallest."""
    import numpy as np
    from osgeo import gdal
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    values = np.sin(x / 97.0) * np.cos(y / 131.0) * 100 + x / 40.0
    ds = gdal.GetDriverByName("GTiff").Create(path, SIZE, SIZE, 1, gdal.GDT_Float32,
                                              ["TILED=YES", "COMPRESS=DEFLATE"])
    ds.SetGeoTransform((500000, 10, 0, 4000000, 0, -10))
    ds.GetRasterBand(1).WriteArray(values)
    ds.BuildOverviews("AVERAGE", [2, 4, 8, 16])
    ds = None


class ObjectStoreTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.folder = tempfile.mkdtemp(prefix="rasterclip-bucket-")
        os.makedirs(os.path.join(cls.folder, "dem"))
        cls.raster = os.path.join(cls.folder, "dem", "big.tif")
        make_raster(cls.raster)
        cls.server = ObjectServer({"rasters": cls.folder, "other": cls.folder})
        cls.env = {
            "AWS_S3_ENDPOINT": "127.0.0.1:%d" % cls.server.port, "AWS_HTTPS": "NO",
            "AWS_VIRTUAL_HOSTING": "FALSE", "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "AKIDRASTERCLIPTEST", "AWS_SECRET_ACCESS_KEY": "not-a-secret",
            "AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
            "CPL_GS_ENDPOINT": "http://127.0.0.1:%d/" % cls.server.port,
            "GS_NO_SIGN_REQUEST": "YES",
        }
        cls.daemon = Daemon("--allow-private", "--allow-bucket", "rasters,gs://rasters",
                            env=cls.env)
        shutil.copy(cls.raster, os.path.join(cls.daemon.root, "big.tif"))

    @classmethod
    def tearDownClass(cls):
        cls.daemon.stop()
        cls.server.stop()
        shutil.rmtree(cls.folder)

    def render(self, url, daemon=None):
        return (daemon or self.daemon).request("GET", "/v1/render?url=%s&%s" % (url, QUERY))

    def error(self, body):
        return json.loads(body)["error"]

    def test_s3_renders_what_the_file_on_disk_renders(self):
        del self.server.log[:]
        status, headers, clip = self.render("s3://rasters/dem/big.tif")
        self.assertEqual(status, 200, clip[:300])
        self.assertEqual(clip[:6], b"GIF89a")
        status, _, local = self.render("big.tif")
        self.assertEqual(status, 200)
        self.assertEqual(clip, local)  # the same bytes decoded, the same picture
        gets = [e for e in self.server.log if e["method"] == "GET"]
        self.assertGreater(len(gets), 0)
        for entry in self.server.log:
            self.assertEqual(entry["path"], "/rasters/dem/big.tif")
            # Signed (SigV4) with the environment's key id.
            self.assertTrue(entry["authorization"].startswith(
                "AWS4-HMAC-SHA256 Credential=AKIDRASTERCLIPTEST/"), entry["authorization"])
        self.assertTrue(all(e["range"] for e in gets), gets)  # ranged reads only
        sent = sum(e["sent"] for e in gets)
        size = os.path.getsize(self.raster)
        print("\ns3: %d ranged GETs sent %d of the file's %d bytes" % (len(gets), sent, size))
        self.assertLess(sent, size / 4, "read %d of %d bytes" % (sent, size))
        found = self.daemon.wait_for_log(r'msg="remote raster read" bytes=(\d+) requests=(\d+) '
                                         r'size=%d' % size)
        # What the reader was handed (some from GDAL's block cache): an overview's worth.
        self.assertGreater(int(found.group(2)), 0)
        self.assertLess(int(found.group(1)), size / 4)

    def test_gs_reads_through_the_same_endpoint_kind(self):
        del self.server.log[:]
        status, _, clip = self.render("gs://rasters/dem/big.tif")
        self.assertEqual(status, 200, clip[:300])
        self.assertEqual(clip, self.render("big.tif")[2])
        self.assertTrue(any(e["path"] == "/rasters/dem/big.tif" for e in self.server.log))

    def test_refusals(self):
        del self.server.log[:]
        status, _, body = self.render("s3://other/dem/big.tif")
        self.assertEqual((status, self.error(body)["field"]), (403, "raster.url"))
        self.assertIn("allow_bucket", self.error(body)["message"])
        status, _, body = self.render("gs://other/dem/big.tif")  # s3 only for this name
        self.assertEqual(status, 403)
        for climbing in ("s3://rasters/dem/../dem/big.tif", "s3://rasters/./dem/big.tif",
                         "s3://rasters/", "s3://Rasters/dem/big.tif"):
            status, _, body = self.render(climbing)
            self.assertEqual((status, self.error(body)["field"]), (400, "raster.url"), climbing)
        self.assertEqual(self.server.log, [])  # none of those reached the server
        status, _, body = self.render("s3://rasters/dem/missing.tif")
        self.assertEqual((status, self.error(body)["field"]), (404, "raster.url"),
                         body + self.daemon.log()[-2000:].encode())
        # Without --allow-private a loopback endpoint is refused by the URL policy.
        daemon = Daemon("--allow-bucket", "*", env=self.env)
        try:
            before = len(self.server.log)
            status, _, body = self.render("s3://rasters/dem/big.tif", daemon)
            self.assertEqual(status, 403)
            self.assertIn("loopback", self.error(body)["message"])
            self.assertEqual(len(self.server.log), before)
        finally:
            daemon.stop()
        # An endpoint that does not answer is the store's failure, not a missing object.
        with socket.socket() as closed:
            closed.bind(("127.0.0.1", 0))
            dead = dict(self.env, AWS_S3_ENDPOINT="127.0.0.1:%d" % closed.getsockname()[1])
            daemon = Daemon("--allow-private", "--allow-bucket", "*", env=dead)
            try:
                status, _, body = self.render("s3://rasters/dem/big.tif", daemon)
                self.assertEqual((status, self.error(body)["code"]), (502, "upstream"))
            finally:
                daemon.stop()
        # And without --allow-bucket, no object storage at all.
        daemon = Daemon("--allow-private", env=self.env)
        try:
            status, _, body = self.render("s3://rasters/dem/big.tif", daemon)
            self.assertEqual(status, 403)
        finally:
            daemon.stop()


if __name__ == "__main__":
    unittest.main()
