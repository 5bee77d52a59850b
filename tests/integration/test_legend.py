"""GET /v1/legend: the colorbar the same query's clip would draw, alone, as PNG
or SVG (a map clip has none of its own). Its colours are checked against
matplotlib's colormap and its end labels against GDAL's own statistics of the
raster, not against the daemon's code."""
import io
import json
import os
import urllib.parse
import xml.etree.ElementTree as ET

import matplotlib
import numpy as np
from osgeo import gdal
from PIL import Image

from harness import DaemonTest

SVG = "{http://www.w3.org/2000/svg}"


class LegendTest(DaemonTest):
    QUERY = {"url": "jacksboro_dem.tif", "colormap_name": "terrain", "width": "640",
             "height": "360", "colorbar": "Elevation (m)"}

    def legend(self, **extra):
        query = dict(self.QUERY, **extra)
        return self.daemon.request("GET", "/v1/legend?" + urllib.parse.urlencode(query))

    def ramp(self, image):
        """The bar's colours from bottom to top: the column with the most distinct
        colours, between its outline's rows."""
        rgb = np.asarray(image.convert("RGB")).astype(int)
        distinct = [len({tuple(p) for p in rgb[:, x]}) for x in range(rgb.shape[1])]
        x = int(np.argmax(distinct))
        column = rgb[:, x]
        # The longest run of rows off the background (the label above is apart).
        on = np.abs(column - column[0]).sum(axis=1) > 0
        best, start = (0, 0), None
        for y, v in enumerate(list(on) + [False]):
            if v and start is None:
                start = y
            elif not v and start is not None:
                best = max(best, (y - start, start))
                start = None
        length, first = best
        top, bottom = first + 1, first + length - 2  # inside the outline
        self.assertGreater(bottom - top, 100)
        return column[top:bottom + 1][::-1]

    def test_a_png_legend_shows_the_colormap_over_the_datas_range(self):
        status, headers, body = self.legend(background="ffffff")
        self.assertEqual(status, 200, body[:300])
        self.assertEqual(headers["content-type"], "image/png")
        image = Image.open(io.BytesIO(body))
        self.assertEqual(image.mode, "RGBA")
        self.assertEqual(image.size[1], 360)
        self.assertLess(image.size[0], 640 / 3 + 1)  # the panel, not the frame
        ramp = self.ramp(image)
        t = (np.arange(len(ramp)) + 0.5) / len(ramp)
        want = matplotlib.colormaps["terrain"](t)[:, :3] * 255
        error = np.abs(ramp - want).mean()
        print("\nlegend ramp against matplotlib's terrain: mean error %.2f" % error)
        self.assertLess(error, 3.0)
        other = matplotlib.colormaps["viridis"](t)[:, :3] * 255
        self.assertGreater(np.abs(ramp - other).mean(), 30)

    def test_an_svg_legend_draws_the_same_bar_and_the_datas_range(self):
        status, headers, body = self.legend(format="svg", background="ffffff")
        self.assertEqual(status, 200, body[:300])
        self.assertEqual(headers["content-type"], "image/svg+xml")
        root = ET.fromstring(body)
        texts = [t.text for t in root.iter(SVG + "text")]
        ds = gdal.Open(os.path.join(self.daemon.root, "jacksboro_dem.tif"))
        low, high = ds.GetRasterBand(1).ComputeRasterMinMax(False)
        self.assertIn("%.0f" % low, texts)
        self.assertIn("%.0f" % high, texts)
        self.assertIn("Elevation (m)", texts)
        # Its rectangles are the PNG's pixels: the same ramp, colour for colour.
        _, _, png = self.legend(background="ffffff")
        ramp = self.ramp(Image.open(io.BytesIO(png)))
        fills = [r.get("fill") for r in root.iter(SVG + "rect")]
        colours = {tuple(int(f[k:k + 2], 16) for k in (1, 3, 5)) for f in fills if f}
        self.assertTrue({tuple(p) for p in ramp} <= colours)
        self.assertEqual((int(root.get("width")), int(root.get("height"))),
                         Image.open(io.BytesIO(png)).size)

    def test_rescale_sets_the_range_and_a_map_clip_has_a_legend(self):
        status, _, body = self.legend(format="svg", rescale="0,2000")
        self.assertEqual(status, 200, body[:300])
        texts = [t.text for t in ET.fromstring(body).iter(SVG + "text")]
        self.assertIn("0", texts)
        self.assertIn("2000", texts)
        # A map clip refuses a colorbar; its legend is this route's.
        status, _, body = self.daemon.request("GET", "/v1/render?" + urllib.parse.urlencode(
            dict(self.QUERY, mode="map")))
        self.assertEqual(status, 422)
        self.assertIn("/v1/legend", json.loads(body)["error"]["message"])
        status, headers, body = self.legend(mode="map", dst_crs="EPSG:3857")
        self.assertEqual(status, 200, body[:300])
        image = Image.open(io.BytesIO(body))
        self.assertEqual(image.mode, "RGBA")
        # Transparent as the map clip is: the corner shows nothing.
        self.assertEqual(image.getpixel((0, 0))[3], 0)

    def test_refusals_name_the_parameter(self):
        status, _, body = self.legend(format="jpeg")
        self.assertEqual((status, json.loads(body)["error"]["field"]), (400, "format"))
        status, _, body = self.legend(rescale="per_band")
        self.assertEqual((status, json.loads(body)["error"]["field"]), (422, "rescale"))
        status, _, body = self.legend(url="missing.tif")
        self.assertEqual(status, 404)
        status, headers, body = self.daemon.request(
            "HEAD", "/v1/legend?" + urllib.parse.urlencode(self.QUERY))
        self.assertEqual((status, body), (200, b""))
        self.assertEqual(headers["content-type"], "image/png")
