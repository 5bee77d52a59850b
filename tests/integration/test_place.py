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
from harness import psnr
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
