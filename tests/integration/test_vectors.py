"""style.vectors and style.graticule: OGR layers read in the confined reader,
reprojected onto the raster's grid and drawn over it in every mode. Where a line
lands is worked out from GDAL's geotransform of the raster and the camera's
own geometry (numpy), never from the daemon's code; refusals name the field."""
import json
import os
import tempfile
import unittest
import urllib.parse

import numpy as np
from osgeo import gdal, ogr, osr

from harness import decode_frames, metric, top_down_pixel, write_geotiff
from test_clipcache import CacheDaemonTest
from test_formats import decode_rgba
from test_uploads import multipart
from test_pictures import PictureBase
from test_remote import served

MERIDIAN = -84.25  # crosses jacksboro_dem.tif (EPSG:4326) from south to north
BBOX = [-84.35, 36.5, -84.15, 36.7]


def write_geojson(path, features, crs=None):
    collection = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": g} for g in features]}
    if crs:
        collection["crs"] = {"type": "name", "properties": {"name": crs}}
    with open(path, "w") as f:
        json.dump(collection, f)


def meridian(lon, south=36.0, north=37.2):
    return {"type": "LineString", "coordinates": [[lon, south], [lon, north]]}


def redness(frame):
    """How much redder than grey each pixel is (4:2:0 chroma spreads a thin red
    line's colour over its neighbours, so no pixel need be pure red)."""
    f = frame[..., :3].astype(float)
    return np.clip(f[..., 0] - (f[..., 1] + f[..., 2]) / 2 - 40, 0, None)


def ink_columns(frame, rows):
    """Column of the red ink's centre, row by row over `rows` (rows without any
    are left out)."""
    weight = redness(frame)
    cols = np.arange(frame.shape[1])
    out = []
    for r in rows:
        if weight[r].sum() > 0:
            out.append((weight[r] * cols).sum() / weight[r].sum())
    return np.array(out)


class VectorTest(PictureBase):
    W, H, DISTANCE, FOV = 640, 360, 1.3, 40.0

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        root = cls.daemon.root
        write_geojson(os.path.join(root, "meridian.geojson"), [meridian(MERIDIAN)])
        # The same meridian as a Shapefile in Web Mercator: reprojected on the way in.
        merc = osr.SpatialReference()
        merc.ImportFromEPSG(3857)
        ds = ogr.GetDriverByName("ESRI Shapefile").CreateDataSource(
            os.path.join(root, "meridian_3857.shp"))
        layer = ds.CreateLayer("m", merc, ogr.wkbLineString)
        line = ogr.CreateGeometryFromJson(json.dumps(meridian(MERIDIAN)))
        wgs = osr.SpatialReference()
        wgs.ImportFromEPSG(4326)
        wgs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        merc.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        line.Transform(osr.CoordinateTransformation(wgs, merc))
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetGeometry(line)
        layer.CreateFeature(feature)
        ds = None
        # A Shapefile with no .prj: its coordinates mean nothing known.
        ds = ogr.GetDriverByName("ESRI Shapefile").CreateDataSource(
            os.path.join(root, "no_crs.shp"))
        layer = ds.CreateLayer("n", None, ogr.wkbLineString)
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetGeometry(ogr.CreateGeometryFromJson(json.dumps(meridian(MERIDIAN))))
        layer.CreateFeature(feature)
        ds = None
        # A square with a square hole, in the box's middle.
        outer = [[-84.30, 36.55], [-84.20, 36.55], [-84.20, 36.65], [-84.30, 36.65]]
        inner = [[-84.27, 36.58], [-84.23, 36.58], [-84.23, 36.62], [-84.27, 36.62]]
        write_geojson(os.path.join(root, "ring.geojson"),
                      [{"type": "Polygon", "coordinates": [outer + outer[:1], inner + inner[:1]]}])
        with open(os.path.join(root, "not_vectors.geojson"), "w") as f:
            f.write("these are not features")
        write_geotiff(os.path.join(root, "byte_nocrs.tif"), np.arange(400.0).reshape(20, 20))
        geo = gdal.Open(os.path.join(root, "jacksboro_dem.tif"))
        cls.gt, cls.cols, cls.rows = geo.GetGeoTransform(), geo.RasterXSize, geo.RasterYSize

    def job(self, mode, layers, **extra):
        job = {"raster": {"url": "jacksboro_dem.tif"},
               "style": dict({"mode": mode, "colormap": "gray", "vectors": layers}, **extra),
               "output": {"width": self.W, "height": self.H, "fps": 10, "frames": 1, "crf": 4,
                          "speed": "good"}}
        if mode != "map":
            job["camera"] = {"orbit": {"degrees": 0, "elevation": 90,
                                       "distance": self.DISTANCE, "fov": self.FOV}}
        return job

    def top_down_column(self, lon):
        """Where the top-down camera sees longitude `lon`: the raster's longer side
        spans one world unit (square cells in degrees here), centred on the origin."""
        fraction = (lon - self.gt[0]) / (self.cols * self.gt[1])
        width = self.cols / max(self.cols, self.rows)
        return top_down_pixel((fraction - 0.5) * width, 0.0, self.W, self.H, self.DISTANCE,
                              self.FOV)[0]

    def assert_line_at(self, frame, want, rows, label):
        got = ink_columns(frame, rows)
        self.assertGreater(len(got), 0.9 * len(rows), "%s: the line is missing" % label)
        # A line at x covers the pixels whose centres (c + 0.5) lie on it.
        error = np.abs(got + 0.5 - want)
        print("\n%s: line at column %.2f, expected %.2f (worst %.2f px)"
              % (label, np.median(got) + 0.5, want, error.max()))
        self.assertLessEqual(error.max(), 1.0, label)

    def test_a_meridian_lands_on_its_column_in_every_mode(self):
        layer = [{"source": "meridian.geojson", "color": "#ff0000", "width": 2}]
        want = self.top_down_column(MERIDIAN)
        _, top = top_down_pixel(0, (self.rows / max(self.cols, self.rows)) / 2, self.W,
                                self.H, self.DISTANCE, self.FOV)
        rows = range(int(top) + 10, self.H - int(top) - 10)
        image = self.clip(self.job("image", layer), "image.webm")[0]
        self.assert_line_at(image, want, rows, "image")
        # Flat (no relief) so that straight down, perspective moves nothing sideways.
        flat = self.clip(self.job("surface", layer, exaggeration=0), "surface.webm")[0]
        self.assert_line_at(flat, want, rows, "surface")
        # In Web Mercator over a box: x is linear in longitude, the box fills the frame.
        job = self.job("map", layer)
        job["output"].update(crs="EPSG:3857", bbox=BBOX)
        webmap = self.clip(job, "map.webm")[0]
        self.assert_line_at(webmap, (MERIDIAN - BBOX[0]) / (BBOX[2] - BBOX[0]) * self.W,
                            range(10, self.H - 10), "map")
        # A layer in another CRS is carried into the raster's: the same column.
        job = self.job("map", [dict(layer[0], source="meridian_3857.shp")])
        job["output"].update(crs="EPSG:3857", bbox=BBOX)
        self.assert_line_at(self.clip(job, "shp.webm")[0],
                            (MERIDIAN - BBOX[0]) / (BBOX[2] - BBOX[0]) * self.W,
                            range(10, self.H - 10), "map, Shapefile in EPSG:3857")
        # Without the layer there is no red line at all.
        plain = self.clip(self.job("image", []), "plain.webm")[0]
        self.assertEqual(len(ink_columns(plain, rows)), 0)

    def test_a_draped_line_follows_the_relief(self):
        """Seen from the side, a meridian on the relief is no straight line: its
        pixels bend with the ground under them, unlike the flat one's."""
        layer = [{"source": "meridian.geojson", "color": "#ff0000", "width": 2}]
        spread = {}
        for name, extra in (("flat", {"exaggeration": 0}), ("relief", {"exaggeration": 3})):
            job = self.job("surface", layer, **extra)
            job["camera"]["orbit"].update(elevation=25, start=90)
            frame = self.clip(job, name + ".webm")[0]
            near = redness(frame) > 0
            rows, cols = np.nonzero(near)
            self.assertGreater(len(rows), 50, name)
            # Seen from the east, a meridian runs across the frame; its rows' spread
            # about a straight fit measures how it bends.
            fit = np.polyval(np.polyfit(cols, rows, 1), cols)
            spread[name] = np.std(rows - fit)
        print("\ndraped meridian, row spread about a straight line: flat %.2f px, "
              "relief %.2f px" % (spread["flat"], spread["relief"]))
        self.assertLess(spread["flat"], 1.5)
        self.assertGreater(spread["relief"], 3 * spread["flat"])

    def test_polygons_are_filled_with_their_holes_open(self):
        layers = [{"source": "ring.geojson", "color": "#ff0000", "width": 1,
                   "fill": "#0000ff"}]
        job = self.job("map", layers, background="transparent")
        job["output"].update(crs="EPSG:4326", bbox=BBOX)
        frame = decode_rgba(self.render_clip(job), self.W, self.H, "libvpx-vp9")[0]

        def at(lon, lat):
            col = (lon - BBOX[0]) / (BBOX[2] - BBOX[0]) * self.W
            row = (BBOX[3] - lat) / (BBOX[3] - BBOX[1]) * self.H
            return frame[int(row), int(col)].astype(int)
        inside = at(-84.285, 36.6)   # between the rings
        hole = at(-84.25, 36.6)      # in the hole: the raster's grey
        outside = at(-84.32, 36.6)
        self.assertTrue(inside[2] > 200 and inside[0] < 60 and inside[1] < 60, inside)
        for px in (hole, outside):
            self.assertLess(abs(int(px[0]) - int(px[2])), 30, px)  # grey, not blue

    def render_clip(self, job, name="rgba.webm"):
        path = os.path.join(self.tmp.name, name)
        self.render_ok(job, path)
        return path

    def test_the_graticule_draws_meridians_and_parallels(self):
        job = self.job("map", [], graticule={"step": 0.05, "color": "#ff0000", "width": 2})
        job["output"].update(crs="EPSG:3857", bbox=BBOX)
        frame = self.clip(job, "graticule.webm")[0]
        for lon in (-84.3, -84.25, -84.2):
            want = (lon - BBOX[0]) / (BBOX[2] - BBOX[0]) * self.W
            got = ink_columns(frame[:, int(want) - 6:int(want) + 7], range(20, 40))
            self.assertGreater(len(got), 15, lon)
            self.assertLessEqual(np.abs(got + int(want) - 6 + 0.5 - want).max(), 1.0, lon)
        # Parallels: in Web Mercator their rows follow the Mercator y of each latitude.
        merc = lambda lat: np.log(np.tan(np.pi / 4 + np.radians(lat) / 2))
        for lat in (36.55, 36.6, 36.65):
            want = (merc(BBOX[3]) - merc(lat)) / (merc(BBOX[3]) - merc(BBOX[1])) * self.H
            band = frame[int(want) - 6:int(want) + 7, 200:220].transpose(1, 0, 2)
            got = ink_columns(band, range(20))
            self.assertGreater(len(got), 15, lat)
            self.assertLessEqual(np.abs(got + int(want) - 6 + 0.5 - want).max(), 1.0, lat)

    def test_graticule_lines_are_labelled_where_they_meet_the_edge(self):
        """Meridians are labelled just inside the south edge, centred on their line,
        parallels just inside the west edge: what the labels add to the picture is
        found by comparing with the same graticule's lines alone, drawn as a layer."""
        job = self.job("map", [], graticule={"step": 0.05})
        job["output"].update(crs="EPSG:3857", bbox=BBOX)
        labelled = self.clip(job, "labelled.webm")[0]
        # The same lines with no labels: the graticule as a GeoJSON layer.
        lines = [meridian(lon, 36.4, 36.8) for lon in (-84.3, -84.25, -84.2)]
        lines += [{"type": "LineString", "coordinates": [[-84.4, lat], [-84.1, lat]]}
                  for lat in (36.55, 36.6, 36.65)]
        write_geojson(os.path.join(self.daemon.root, "graticule.geojson"), lines)
        job = self.job("map", [{"source": "graticule.geojson", "color": "#808080",
                                "width": 1}])
        job["output"].update(crs="EPSG:3857", bbox=BBOX)
        bare = self.clip(job, "bare.webm")[0]
        text = np.abs(labelled - bare).max(axis=-1) > 60
        merc = lambda lat: np.log(np.tan(np.pi / 4 + np.radians(lat) / 2))
        for lon in (-84.3, -84.25, -84.2):
            col = (lon - BBOX[0]) / (BBOX[2] - BBOX[0]) * self.W
            box = text[self.H - 30:, int(col) - 40:int(col) + 41]
            ys, xs = np.nonzero(box)
            self.assertGreater(len(xs), 40, "no label at %.2f" % lon)
            centre = (xs.min() + xs.max()) / 2 + int(col) - 40
            self.assertLess(abs(centre - col), 4, "label of %.2f at %.1f, line at %.1f"
                            % (lon, centre, col))
        for lat in (36.55, 36.6, 36.65):
            row = (merc(BBOX[3]) - merc(lat)) / (merc(BBOX[3]) - merc(BBOX[1])) * self.H
            box = text[int(row) - 20:int(row) + 21, :90]
            ys, xs = np.nonzero(box)
            self.assertGreater(len(ys), 40, "no label at %.2f" % lat)
            centre = (ys.min() + ys.max()) / 2 + int(row) - 20
            self.assertLess(abs(centre - row), 4, "label of %.2f at %.1f" % (lat, centre))
            self.assertLess(xs.min(), 10)  # against the west edge
        # Nothing else differs: away from the edges the two pictures agree.
        self.assertEqual(text[40:self.H - 40, 100:].sum(), 0)

    def test_the_get_form_names_layers(self):
        query = {"url": "jacksboro_dem.tif", "mode": "map", "colormap_name": "gray",
                 "width": self.W, "height": self.H, "fps": 10, "frames": 1, "crf": 4,
                 "speed": "good", "vectors": json.dumps(
                     [{"source": "meridian.geojson", "color": "#ff0000", "width": 2}])}
        status, _, body = self.daemon.request("GET", "/v1/render?" + urllib.parse.urlencode(query))
        self.assertEqual(status, 200, body[:300])
        _, _, posted = self.daemon.render(self.job("map", [
            {"source": "meridian.geojson", "color": "#ff0000", "width": 2}]))
        self.assertEqual(body, posted)
        query.pop("vectors")
        query["vector"] = "meridian.geojson"
        status, _, body = self.daemon.request("GET", "/v1/render?" + urllib.parse.urlencode(query))
        self.assertEqual(status, 200, body[:300])

    def test_the_layers_come_as_geojson_in_degrees(self):
        """/v1/vectors: the layer as the clip reads it, cut to the clip's bounds and
        back in EPSG:4326 — the meridian's own longitude, the box's latitudes."""
        query = {"url": "jacksboro_dem.tif", "mode": "map", "dst_crs": "EPSG:3857",
                 "bbox": ",".join(map(str, BBOX)), "vector": "meridian_3857.shp"}
        status, headers, body = self.daemon.request(
            "GET", "/v1/vectors?" + urllib.parse.urlencode(query))
        self.assertEqual(status, 200, body[:300])
        self.assertEqual(headers["content-type"], "application/geo+json")
        collection = json.loads(body)
        lines = collection["features"][0]["geometry"]["coordinates"]
        points = np.array([p for line in lines for p in line])
        self.assertLess(np.abs(points[:, 0] - MERIDIAN).max(), 1e-6)
        # Cut to the box (plus the reader's 5 % margin), not the file's 36.0..37.2.
        self.assertGreater(points[:, 1].min(), BBOX[1] - 0.02)
        self.assertLess(points[:, 1].max(), BBOX[3] + 0.02)
        self.assertLess(points[:, 1].min(), BBOX[1] + 1e-6)
        del query["vector"]
        status, _, body = self.daemon.request(
            "GET", "/v1/vectors?" + urllib.parse.urlencode(query))
        self.assertEqual((status, json.loads(body)["error"]["field"]), (400, "vector"))

    def test_a_layer_uploaded_with_the_job_is_drawn_as_a_file_is(self):
        """A layer without a source comes as the multipart part vector<i>: the same
        line as from the file under the data root; the parts and layers must pair."""
        layer = {"color": "#ff0000", "width": 2}
        job = self.job("map", [layer])
        job["output"].update(crs="EPSG:3857", bbox=BBOX)
        with open(os.path.join(self.daemon.root, "meridian.geojson"), "rb") as f:
            geojson = f.read()

        def post(parts):
            body, ctype = multipart(parts)
            return self.daemon.request("POST", "/v1/render", body=body,
                                       headers={"Content-Type": ctype})
        status, _, uploaded = post([("job", "application/json", json.dumps(job).encode()),
                                    ("vector0", "application/geo+json", geojson)])
        self.assertEqual(status, 200, uploaded[:300])
        job["style"]["vectors"] = [dict(layer, source="meridian.geojson")]
        _, _, from_file = self.daemon.render(job)
        self.assertEqual(uploaded, from_file)
        # A layer with no source and no part; a part with no layer for it.
        job["style"]["vectors"] = [layer]
        status, _, body = self.daemon.render(job)
        self.assertEqual((status, json.loads(body)["error"]["field"]),
                         (400, "style.vectors[0].source"))
        job["style"]["vectors"] = [dict(layer, source="meridian.geojson")]
        status, _, body = post([("job", "application/json", json.dumps(job).encode()),
                                ("vector0", "application/geo+json", geojson)])
        self.assertEqual((status, json.loads(body)["error"]["field"]), (400, "vector0"))
        # An uploaded part that is no vector dataset.
        job["style"]["vectors"] = [layer]
        status, _, body = post([("job", "application/json", json.dumps(job).encode()),
                                ("vector0", "application/geo+json", b"not a layer")])
        self.assertEqual((status, json.loads(body)["error"]["field"]),
                         (422, "style.vectors[0].source"))

    def refused(self, job, status, field):
        code, _, body = self.daemon.render(job)
        self.assertEqual(code, status, body[:300])
        self.assertEqual(json.loads(body)["error"]["field"], field, body)
        return json.loads(body)["error"]["message"]

    def test_refusals_name_the_field(self):
        one = lambda source: [{"source": source}]
        self.refused(self.job("map", one("not_vectors.geojson")), 422,
                     "style.vectors[0].source")
        self.refused(self.job("map", [{"source": "meridian.geojson"}] + one("no_crs.shp")),
                     422, "style.vectors[1].source")
        self.refused(self.job("map", one("missing.geojson")), 404, "style.vectors[0].source")
        self.refused(self.job("map", one("../../etc/passwd")), 403, "style.vectors[0].source")
        self.refused(self.job("map", [{"source": "meridian.geojson", "width": 100}]), 422,
                     "style.vectors[0].width")
        self.refused(self.job("map", [{"color": "#ff0000"}]), 400, "style.vectors[0].source")
        self.refused(self.job("map", [], graticule={"step": 0}), 422, "style.graticule.step")
        # A raster with no CRS has nothing to lay vectors on.
        self.refused(dict(self.job("image", one("meridian.geojson")),
                          raster={"url": "byte_nocrs.tif"}), 422, "style.vectors")


class VectorCacheTest(CacheDaemonTest):
    def test_a_changed_vector_file_is_drawn_again(self):
        path = os.path.join(self.daemon.root, "line.geojson")
        write_geojson(path, [meridian(MERIDIAN)])
        query = {"url": "jacksboro_dem.tif", "mode": "map", "width": "160", "height": "120",
                 "frames": "2",
                 "vectors": json.dumps([{"source": "line.geojson", "color": "#ff0000",
                                         "width": 3}])}
        hits = metric(self.daemon, "rasterclip_clip_cache_hits_total")
        first = self.get(query)
        again = self.get(query)
        self.assertEqual((first[0], again[0]), (200, 200))
        self.assertEqual(metric(self.daemon, "rasterclip_clip_cache_hits_total"), hits + 1)
        write_geojson(path, [meridian(MERIDIAN + 0.05)])
        moved = self.get(query)
        self.assertEqual(moved[0], 200)
        self.assertEqual(metric(self.daemon, "rasterclip_clip_cache_hits_total"), hits + 1)
        # The line moved east with the file: the cached clip was not served.
        with tempfile.TemporaryDirectory() as tmp:
            centres = []
            for name, body in (("again", again[2]), ("moved", moved[2])):
                path = os.path.join(tmp, name + ".webm")
                with open(path, "wb") as f:
                    f.write(body)
                frame = decode_frames(path, 160, 120)[0]
                columns = ink_columns(frame, range(20, 100))
                self.assertGreater(len(columns), 70, name)
                centres.append(np.median(columns))
            self.assertGreater(centres[1] - centres[0], 10)


class RemoteVectorTest(unittest.TestCase):
    """A layer at a URL is read under the URL policy, as a raster is: from a server
    on loopback when the daemon may reach private addresses, refused (403 naming the
    layer) when it may not."""

    def test_a_layer_from_a_url(self):
        def fill(folder):
            write_geojson(os.path.join(folder, "meridian.geojson"), [meridian(MERIDIAN)])
        job = {"raster": {"url": "jacksboro_dem.tif"},
               "style": {"mode": "map", "colormap": "gray", "vectors": []},
               "output": {"width": 320, "height": 180, "frames": 1,
                          "crs": "EPSG:3857", "bbox": BBOX}}
        with served(fill, "--allow-private") as (server, daemon):
            job["style"]["vectors"] = [{"source": server.url("/files/meridian.geojson"),
                                        "color": "#ff0000", "width": 2}]
            status, _, body = daemon.render(job)
            self.assertEqual(status, 200, body[:300])
            with tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, "remote.webm")
                with open(path, "wb") as f:
                    f.write(body)
                frame = decode_frames(path, 320, 180)[0]
            got = ink_columns(frame, range(10, 170))
            want = (MERIDIAN - BBOX[0]) / (BBOX[2] - BBOX[0]) * 320
            self.assertGreater(len(got), 150)
            self.assertLessEqual(np.abs(got + 0.5 - want).max(), 1.0)
        with served(fill) as (server, daemon):
            job["style"]["vectors"] = [{"source": server.url("/files/meridian.geojson")}]
            status, _, body = daemon.render(job)
            self.assertEqual((status, json.loads(body)["error"]["field"]),
                             (403, "style.vectors[0].source"), body)


class VectorBudgetTest(PictureBase):
    def test_a_layer_with_too_many_points_in_view_is_refused(self):
        """More than 500,000 points inside the raster: a 422 naming the layer, from a
        reader that stopped counting there rather than a renderer that ran out."""
        lons = np.linspace(-84.40, -84.10, 520000)
        lats = 36.6 + 0.1 * np.sin(np.arange(lons.size) / 50.0)
        coords = ",".join("[%.6f,%.6f]" % p for p in zip(lons, lats))
        with open(os.path.join(self.daemon.root, "dense.geojson"), "w") as f:
            f.write('{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},'
                    '"geometry":{"type":"LineString","coordinates":[%s]}}]}' % coords)
        job = {"raster": {"url": "jacksboro_dem.tif"},
               "style": {"mode": "map", "vectors": [{"source": "dense.geojson"}]},
               "output": {"width": 160, "height": 90, "frames": 1}}
        status, _, body = self.daemon.render(job)
        self.assertEqual(status, 422, body[:300])
        error = json.loads(body)["error"]
        self.assertEqual(error["field"], "style.vectors[0].source")
        self.assertIn("500000", error["message"])
        # The same line with a tenth of its points is drawn.
        with open(os.path.join(self.daemon.root, "sparse.geojson"), "w") as f:
            f.write('{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},'
                    '"geometry":{"type":"LineString","coordinates":[%s]}}]}'
                    % ",".join("[%.6f,%.6f]" % p for p in zip(lons[::10], lats[::10])))
        job["style"]["vectors"] = [{"source": "sparse.geojson"}]
        self.assertEqual(self.daemon.render(job)[0], 200)
