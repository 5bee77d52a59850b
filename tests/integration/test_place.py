"""output.crs and output.bbox: the raster warped into another CRS over a box, in
the confined reader; style.mode "map", the box filling the frame pixel on pixel. The frame is checked against gdalwarp's own warp of the
same box and CRS (GDAL's Python bindings, not the daemon), coloured by
matplotlib; refusals name the field."""
import json
import os
import urllib.parse

import matplotlib
import numpy as np
from osgeo import gdal

from test_pictures import PictureBase, expected_top_down
from harness import Daemon, psnr
from test_clipcache import CacheDaemonTest
from test_formats import decode_rgba

BBOX = [-84.35, 36.5, -84.15, 36.7]  # inside jacksboro_dem.tif, in EPSG:4326


class PlaceTest(PictureBase):
    W, H, DISTANCE, FOV = 640, 360, 1.3, 40.0

    def job(self, **output):
        out = {"width": self.W, "height": self.H, "fps": 10, "frames": 1, "crf": 4,
               "speed": "good"}
        out.update(output)
        return {"raster": {"url": "jacksboro_dem.tif"},
                "style": {"colormap": "viridis"},
                "camera": {"orbit": {"degrees": 0, "elevation": 90, "distance": self.DISTANCE,
                                     "fov": self.FOV}},
                "output": out}

    def gdalwarp(self, crs):
        ds = gdal.Warp("", os.path.join(self.daemon.root, "jacksboro_dem.tif"), format="MEM",
                       dstSRS=crs, outputBounds=BBOX, outputBoundsSRS="EPSG:4326",
                       resampleAlg="near", outputType=gdal.GDT_Float32, dstNodata=float("nan"))
        return ds.ReadAsArray().astype(float)

    def expected(self, values):
        return expected_top_down(values, np.nanmin(values), np.nanmax(values), "viridis",
                                 self.W, self.H, self.DISTANCE, self.FOV, 255.0)[0]

    def test_a_box_in_web_mercator_matches_gdalwarp(self):
        frame = self.clip(self.job(crs="EPSG:3857", bbox=BBOX), "merc.webm")[0]
        mercator = self.gdalwarp("EPSG:3857")
        rows, cols = mercator.shape
        # Square cells in metres: the box is taller than wide by 1/cos(latitude).
        self.assertAlmostEqual(rows / cols, 1 / np.cos(np.radians(36.6)), delta=0.02)
        score = psnr(frame, self.expected(mercator))
        print("\nEPSG:3857 box against gdalwarp: %.2f dB (%dx%d cells)" % (score, cols, rows))
        self.assertGreaterEqual(score, 30.0)
        # The same box left in the raster's own CRS is another picture.
        geographic = self.gdalwarp("EPSG:4326")
        self.assertLess(psnr(frame, self.expected(geographic)), 22.0)
        own = self.clip(self.job(bbox=BBOX), "own.webm")[0]
        self.assertGreaterEqual(psnr(own, self.expected(geographic)), 30.0)

    def test_the_get_form_takes_titilers_names(self):
        query = {"url": "jacksboro_dem.tif", "colormap_name": "viridis", "orbit": 0,
                 "elevation": 90, "distance": self.DISTANCE, "fov": self.FOV,
                 "width": self.W, "height": self.H, "fps": 10, "frames": 1, "crf": 4,
                 "speed": "good", "dst_crs": "EPSG:3857",
                 "bbox": ",".join(str(v) for v in BBOX), "coord_crs": "EPSG:4326"}
        status, _, body = self.daemon.request("GET", "/v1/render?" + urllib.parse.urlencode(query))
        self.assertEqual(status, 200, body[:300])
        _, _, posted = self.daemon.render(self.job(crs="EPSG:3857", bbox=BBOX))
        self.assertEqual(body, posted)

    def refused(self, output, status, field):
        code, _, body = self.daemon.render(self.job(**output))
        self.assertEqual(code, status, body[:300])
        self.assertEqual(json.loads(body)["error"]["field"], field)
        return json.loads(body)["error"]["message"]

    def test_refusals_name_the_field(self):
        message = self.refused({"bbox": [10, 10, 11, 11]}, 422, "output.bbox")
        self.assertIn("outside", message)
        self.refused({"crs": "EPSG:999999"}, 422, "output.crs")
        self.refused({"bbox": BBOX, "bbox_crs": "EPSG:999999"}, 422, "output.bbox_crs")
        # Only EPSG codes and WKT: never a path or URL for GDAL to open.
        self.refused({"crs": "/etc/passwd"}, 400, "output.crs")
        self.refused({"crs": "https://example.org/crs"}, 400, "output.crs")
        self.refused({"bbox": [1, 2, 3]}, 400, "output.bbox")
        self.refused({"bbox": [3, 2, 1, 4]}, 400, "output.bbox")
        self.refused({"bbox_crs": "EPSG:4326"}, 400, "output.bbox_crs")
        # A raster with a grid but no CRS has nothing to warp from.
        code, _, body = self.daemon.render(
            {"raster": {"url": "float32_nan_tiny.tif"},
             "output": {"width": 64, "height": 36, "frames": 1, "crs": "EPSG:3857"}})
        self.assertEqual(code, 422, body[:300])
        self.assertEqual(json.loads(body)["error"]["field"], "output.crs")


class MapModeTest(PictureBase):
    """style.mode "map": pixel (i, j) of the frame is cell (i, j) of gdalwarp's warp of
    the box at the output's size; transparent where there is no data."""
    W, H = 320, 400

    def job(self, bbox, **style):
        return {"raster": {"url": "jacksboro_dem.tif"},
                "style": dict({"mode": "map", "colormap": "viridis"}, **style),
                "output": {"width": self.W, "height": self.H, "fps": 10, "frames": 1, "crf": 4,
                           "speed": "good", "crs": "EPSG:3857", "bbox": bbox}}

    def test_pixels_are_gdalwarps_cells(self):
        frame = self.clip(self.job(BBOX, background="#ffffff"), "map.webm")[0]
        ds = gdal.Warp("", os.path.join(self.daemon.root, "jacksboro_dem.tif"), format="MEM",
                       dstSRS="EPSG:3857", outputBounds=BBOX, outputBoundsSRS="EPSG:4326",
                       resampleAlg="near", width=self.W, height=self.H,
                       outputType=gdal.GDT_Float32)
        values = ds.ReadAsArray().astype(float)
        norm = matplotlib.colors.Normalize(np.nanmin(values), np.nanmax(values))
        want = matplotlib.colormaps["viridis"](norm(values))[..., :3] * 255
        inner = (slice(2, self.H - 2), slice(2, self.W - 2))  # the codec's edges aside

        def shifted(dy, dx):
            return psnr(frame[2 + dy:self.H - 2 + dy, 2 + dx:self.W - 2 + dx], want[inner])
        score = shifted(0, 0)
        print("\nmap mode against gdalwarp cell for cell: %.2f dB" % score)
        self.assertGreaterEqual(score, 35.0)
        # The grid one pixel off in any direction scores lower: the alignment is exact.
        for dy, dx in ((0, 1), (0, -1), (1, 0), (-1, 0)):
            self.assertLess(shifted(dy, dx), score - 2, (dy, dx))

    def test_transparent_where_the_box_leaves_the_raster(self):
        # The box runs past the raster's western edge (-84.41): those cells are no data.
        path = os.path.join(self.tmp.name, "alpha.webm")
        self.render_ok(self.job([-84.6, 36.5, -84.2, 36.7]), path)
        rgba = decode_rgba(path, self.W, self.H, "libvpx-vp9")[0]
        self.assertEqual(rgba[self.H // 2, 5, 3], 0)      # west of the raster
        self.assertEqual(rgba[self.H // 2, -5, 3], 255)   # on it

    def test_nothing_takes_room_from_the_map(self):
        for style, field in (({"colorbar": True}, "style.colorbar"),
                             ({"title": "t"}, "style.title"),
                             ({"axes": True}, "style.axes")):
            status, _, body = self.daemon.render(self.job(BBOX, **style))
            self.assertEqual(status, 422, body[:200])
            self.assertEqual(json.loads(body)["error"]["field"], field)
        job = self.job(BBOX)
        job["camera"] = {"orbit": {"degrees": 90}}
        status, _, body = self.daemon.render(job)
        self.assertEqual((status, json.loads(body)["error"]["field"]), (422, "camera"))


class BoundsTest(CacheDaemonTest):
    """Where the clip lies, in X-Rasterclip-Bounds (its CRS) and
    X-Rasterclip-Bounds-Lonlat (EPSG:4326), against GDAL's own numbers: as it
    streams, from the clip cache (GET and HEAD), after a restart (the bounds kept
    beside the cached file), and in GET /v1/jobs/{id}."""

    QUERY = {"url": "jacksboro_dem.tif", "mode": "map", "dst_crs": "EPSG:3857",
             "bbox": ",".join(str(v) for v in BBOX), "width": 320, "height": 400,
             "frames": 2, "fps": 10}

    def bounds(self, headers):
        return ([float(v) for v in headers["x-rasterclip-bounds"].split(",")],
                [float(v) for v in headers["x-rasterclip-bounds-lonlat"].split(",")])

    def check(self, headers, xy, lonlat):
        got_xy, got_lonlat = self.bounds(headers)
        np.testing.assert_allclose(got_xy, xy, atol=1e-3)  # metres
        np.testing.assert_allclose(got_lonlat, lonlat, atol=1e-7)  # degrees

    def test_the_answer_says_where_the_clip_lies(self):
        ds = gdal.Warp("", os.path.join(self.daemon.root, "jacksboro_dem.tif"), format="MEM",
                       dstSRS="EPSG:3857", outputBounds=BBOX, outputBoundsSRS="EPSG:4326",
                       width=320, height=400)
        g = ds.GetGeoTransform()
        xy = [g[0], g[3] + 400 * g[5], g[0] + 320 * g[1], g[3]]
        status, headers, _ = self.get(self.QUERY)
        self.assertEqual(status, 200)
        self.assertNotIn("x-rasterclip-cache", headers)  # streamed
        self.check(headers, xy, BBOX)
        job = headers["x-request-id"]
        status, _, body = self.daemon.request("GET", "/v1/jobs/" + job)
        self.assertEqual(status, 200)
        reported = json.loads(body)["bounds"]
        np.testing.assert_allclose(reported["crs"], xy, atol=1e-3)
        np.testing.assert_allclose(reported["lonlat"], BBOX, atol=1e-7)
        # From the cache, GET and HEAD alike, and after a restart.
        for method in ("GET", "HEAD"):
            status, headers, _ = self.daemon.request(
                method, "/v1/render?" + urllib.parse.urlencode(self.QUERY))
            self.assertEqual((status, headers.get("x-rasterclip-cache")), (200, "hit"), method)
            self.check(headers, xy, BBOX)
        # The early answer took them from the file kept beside the clip: without it,
        # a cached clip has none.
        sides = []
        for name in os.listdir(self.cache_dir):
            if name.endswith(".b"):
                with open(os.path.join(self.cache_dir, name)) as f:
                    numbers = [float(v) for v in f.read().split()]
                if abs(numbers[0] - xy[0]) < 1e-3:
                    sides.append(name)
        self.assertEqual(len(sides), 1, sides)  # this clip's, beside its file
        self.assertTrue(os.path.exists(os.path.join(self.cache_dir, sides[0][:-2])))
        kept = os.path.join(self.cache_dir, sides[0])
        with open(kept) as f:
            saved = f.read()
        os.rename(kept, kept + ".away")
        status, headers, _ = self.get(self.QUERY)
        self.assertEqual((status, headers.get("x-rasterclip-cache")), (200, "hit"))
        self.assertNotIn("x-rasterclip-bounds", headers)
        os.rename(kept + ".away", kept)
        # At start-up a bounds file whose clip is gone is removed; one whose clip is
        # there stays.
        orphan = os.path.join(self.cache_dir, "0" * 64 + ".2.100." + "1" * 64 + ".b")
        with open(orphan, "w") as f:
            f.write(saved)
        self.daemon.stop()
        type(self).daemon = Daemon("--workers", "2", "--clip-cache", self.cache_dir)
        self.assertFalse(os.path.exists(orphan))
        self.assertTrue(os.path.exists(kept))

    def test_a_raster_in_its_own_crs(self):
        ds = gdal.Open(os.path.join(self.daemon.root, "jacksboro_dem.tif"))
        g, w, h = ds.GetGeoTransform(), ds.RasterXSize, ds.RasterYSize
        own = [g[0], g[3] + h * g[5], g[0] + w * g[1], g[3]]  # EPSG:4326 already
        status, headers, _ = self.get({"url": "jacksboro_dem.tif", "width": 64, "height": 36,
                                       "frames": 1})
        self.assertEqual(status, 200)
        self.check(headers, own, own)
        # A grid in no CRS has no bounds to give.
        status, headers, _ = self.get({"url": "float32_nan_tiny.tif", "width": 64,
                                       "height": 36, "frames": 1})
        self.assertEqual(status, 200)
        self.assertNotIn("x-rasterclip-bounds-lonlat", headers)
