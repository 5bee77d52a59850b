"""Everyday scientific data drawn right: any geotransform north up and east right,
the ground's aspect, a file's own colour table and classes, and datacubes with a
time axis. Every expectation comes from the file's own numbers through numpy and
GDAL's Python bindings, never from rasterclip's code."""
import math
import os
import tempfile
import unittest

import numpy as np
from osgeo import gdal

from harness import DaemonTest, decode_frames, top_down_pixel

gdal.UseExceptions()

TOP_DOWN = {"orbit": {"start": 0, "degrees": 0, "elevation": 90, "distance": 1.5, "fov": 40}}
W, H = 480, 360


def write(path, array, geotransform=None, dtype=gdal.GDT_Float32, srs_epsg=None):
    rows, cols = array.shape[-2:]
    bands = 1 if array.ndim == 2 else array.shape[0]
    ds = gdal.GetDriverByName("GTiff").Create(path, cols, rows, bands, dtype)
    for b in range(bands):
        ds.GetRasterBand(b + 1).WriteArray(array if array.ndim == 2 else array[b])
    if geotransform:
        ds.SetGeoTransform(geotransform)
    if srs_epsg:
        from osgeo import osr
        srs = osr.SpatialReference()
        srs.ImportFromEPSG(srs_epsg)
        ds.SetProjection(srs.ExportToWkt())
    return ds


def ground(gt, col, row):
    """The ground point of a fractional pixel position under `gt`."""
    return (gt[0] + col * gt[1] + row * gt[2], gt[3] + col * gt[4] + row * gt[5])


class DataBase(DaemonTest):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.tmp.cleanup()

    def frame(self, job, name="clip.webm"):
        path = os.path.join(self.tmp.name, name)
        self.render_ok(job, path)
        out = job["output"]
        return decode_frames(path, out["width"], out["height"])[0].astype(float)


class OrientationTest(DataBase):
    """A marker in the ground's north-east corner lands top right whatever the
    grid's order: south up, columns running west, rotated by 30 degrees."""

    def marker_file(self, name, gt):
        rows, cols = 40, 60
        values = np.zeros((rows, cols), np.float32)
        # The cells whose centres lie furthest north-east on the ground.
        r, c = np.mgrid[0:rows, 0:cols]
        gx = gt[0] + (c + 0.5) * gt[1] + (r + 0.5) * gt[2]
        gy = gt[3] + (c + 0.5) * gt[4] + (r + 0.5) * gt[5]
        score = (gx - gx.min()) / np.ptp(gx) + (gy - gy.min()) / np.ptp(gy)
        values[score > np.percentile(score, 96)] = 1.0
        write(os.path.join(self.daemon.root, name), values, gt)
        # Where the marker's centre is on the ground, relative to the middle of
        # the grid's ground bounding box, in units of the box's longer side.
        corners = [ground(gt, cc, rr) for cc in (0, cols) for rr in (0, rows)]
        xs, ys = zip(*corners)
        span = max(max(xs) - min(xs), max(ys) - min(ys))
        mx, my = gx[values > 0].mean(), gy[values > 0].mean()
        return ((mx - (max(xs) + min(xs)) / 2) / span, (my - (max(ys) + min(ys)) / 2) / span)

    def check(self, name, gt, mode):
        want = self.marker_file(name, gt)
        job = {"raster": {"url": name},
               "style": {"colormap": "gray", "background": "#0000ff", "mode": mode,
                         "exaggeration": 0.01},
               "camera": TOP_DOWN,
               "output": {"width": W, "height": H, "fps": 4, "frames": 1, "crf": 4}}
        frame = self.frame(job, name + mode + ".webm")
        marker = (frame[..., 0] > 180) & (frame[..., 1] > 180)
        self.assertGreater(marker.sum(), 20)
        rows, cols = np.nonzero(marker)
        want_col, want_row = top_down_pixel(want[0], want[1], W, H, 1.5, 40)
        self.assertLess(abs(cols.mean() - want_col), 6, (cols.mean(), want_col))
        self.assertLess(abs(rows.mean() - want_row), 6, (rows.mean(), want_row))
        # Top right of the picture: right of and above its centre.
        self.assertGreater(cols.mean(), W / 2 + 40)
        self.assertLess(rows.mean(), H / 2 - 25)

    def test_every_grid_order_is_drawn_north_up(self):
        t = math.radians(30)
        cases = {
            "north_up.tif": (100.0, 0.5, 0, 20.0, 0, -0.5),
            "south_up.tif": (100.0, 0.5, 0, 0.0, 0, 0.5),
            "west_running.tif": (130.0, -0.5, 0, 20.0, 0, -0.5),
            "rotated.tif": (100.0, 0.5 * math.cos(t), 0.5 * math.sin(t), 20.0,
                            0.5 * math.sin(t), -0.5 * math.cos(t)),
        }
        for name, gt in cases.items():
            for mode in ("image", "surface"):
                with self.subTest(file=name, mode=mode):
                    self.check(name, gt, mode)


class AspectTest(DataBase):
    """A 2 by 1 degree global grid is twice as wide as tall on the ground."""

    def extent(self, job, name):
        frame = self.frame(job, name)
        raster = frame[..., 2] < 160  # not the blue background
        rows, cols = np.nonzero(raster)
        return (cols.max() - cols.min() + 1) / (rows.max() - rows.min() + 1)

    def job(self, url, **style):
        return {"raster": {"url": url},
                "style": dict({"colormap": "viridis", "background": "#0000ff"}, **style),
                "camera": {"orbit": {"start": 0, "degrees": 0, "elevation": 90,
                                     "distance": "fit"}},
                "output": {"width": W, "height": H, "fps": 4, "frames": 1, "crf": 4}}

    def test_pixels_not_square_on_the_ground(self):
        cols, rows = 90, 90  # 2 degrees wide, 1 degree tall: 180 x 90 degrees
        sst = np.add.outer(np.linspace(0, 1, rows), np.linspace(0, 1, cols)).astype(np.float32)
        write(os.path.join(self.daemon.root, "sst2x1.tif"), sst,
              (-180.0, 2.0, 0, 90.0, 0, -1.0), srs_epsg=4326)
        ground_aspect = (cols * 2.0) / (rows * 1.0)
        drawn = self.extent(self.job("sst2x1.tif"), "data.webm")
        self.assertLess(abs(drawn / ground_aspect - 1), 0.02, drawn)
        square = self.extent(self.job("sst2x1.tif", aspect="square"), "square.webm")
        self.assertLess(abs(square - 1), 0.02, square)
        explicit = self.extent(self.job("sst2x1.tif", aspect="data"), "explicit.webm")
        self.assertLess(abs(explicit / ground_aspect - 1), 0.02, explicit)

    def test_data_aspect_needs_a_geotransform(self):
        write(os.path.join(self.daemon.root, "plain.tif"), np.ones((4, 8), np.float32))
        self.assertLess(abs(self.extent(self.job("plain.tif"), "plain.webm") - 2), 0.04)
        status, _, body = self.daemon.render(self.job("plain.tif", aspect="data"))
        self.assertEqual(status, 422, body)
        self.assertIn(b'"style.aspect"', body)


if __name__ == "__main__":
    unittest.main()
