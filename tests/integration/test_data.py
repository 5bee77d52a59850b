"""Everyday scientific data drawn right: any geotransform north up and east right,
the ground's aspect, a file's own colour table and classes, and datacubes with a
time axis. Every expectation comes from the file's own numbers through numpy and
GDAL's Python bindings, never from rasterclip's code."""
import math
import os
import shutil
import sys
import tempfile
import unittest
import urllib.parse

import numpy as np
from osgeo import gdal

from harness import SOURCE, decode_frames, top_down_pixel
from test_pictures import PictureBase
from rangeserver import RangeServer

sys.path.insert(0, os.path.join(SOURCE, "client", "python"))
import rasterclip  # noqa: E402

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


class DataBase(PictureBase):
    def frame(self, job, name="clip.webm"):
        return self.clip(job, name)[0]


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


def read_cf(path, name):
    """A CF variable as netCDF4 decodes it (scale, offset and _FillValue applied,
    fill as NaN), its latitudes, and its instants as "YYYY-MM" labels."""
    import netCDF4
    with netCDF4.Dataset(path) as nc:
        var = nc.variables[name]
        values = np.ma.filled(var[:].astype(np.float64), np.nan)
        lat = np.asarray(nc.variables["lat"][:])
        dates = netCDF4.num2date(nc.variables["time"][:], nc.variables["time"].units,
                                 nc.variables["time"].calendar)
        return values, lat, ["%04d-%02d" % (d.year, d.month) for d in dates], var.units


def geotiff_like(path, values, lat):
    """The same values as a north-up float GeoTIFF: rows north first, NaN no data."""
    if lat[0] < lat[-1]:
        values = values[..., ::-1, :]
    rows, cols = values.shape[-2:]
    ds = write(path, values.astype(np.float32), (-180.0, 360.0 / cols, 0, 90.0, 0, -180.0 / rows),
               srs_epsg=4326)
    for b in range(ds.RasterCount):
        ds.GetRasterBand(b + 1).SetNoDataValue(float("nan"))
    ds = None


class CubeBase(DataBase):
    """The generated CF NetCDF datacube (ascending latitudes, int16 with scale,
    offset and _FillValue), the same values as north-up GeoTIFFs, and the cube as
    Zarr, served on loopback."""

    daemon_args = ("--allow-private",)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        root = cls.daemon.root
        cls.nc = os.path.join(root, "sst_monthly.nc")
        cls.sst, cls.lat, cls.labels, cls.units = read_cf(cls.nc, "sst")
        geotiff_like(os.path.join(root, "sst_same.tif"), cls.sst, cls.lat)
        temp, _, _, _ = read_cf(cls.nc, "temp")
        geotiff_like(os.path.join(root, "temp_10m.tif"), temp[:, 1], cls.lat)
        gdal.MultiDimTranslate(os.path.join(root, "sst.zarr"), cls.nc, format="Zarr",
                               arraySpecs=["sst"])
        cls.served = tempfile.mkdtemp(prefix="rasterclip-cubes-")
        cls.zipped = shutil.make_archive(os.path.join(cls.served, "sst.zarr"), "zip",
                                         os.path.join(root, "sst.zarr"))
        shutil.copy(cls.nc, cls.served)
        cls.server = RangeServer(cls.served)
        cls.server.slow_seconds = 0

    @classmethod
    def tearDownClass(cls):
        cls.server.close()
        shutil.rmtree(cls.served, ignore_errors=True)
        super().tearDownClass()

    def job(self, raster, **style):
        return {"raster": raster,
                "style": dict({"colormap": "viridis", "background": "#202020",
                               "band_labels": True, "colorbar": True}, **style),
                "camera": {"orbit": {"start": 0, "degrees": 0, "elevation": 90,
                                     "distance": "fit"}},
                "timeline": {"frames_per_band": 1},
                "output": {"width": 320, "height": 200, "fps": 4, "crf": 4,
                           "format": "gif"}}

    def frames(self, job, raster=None, **client):
        path = os.path.join(self.tmp.name, "clip.gif")
        if raster is None:
            self.render_ok(job, path)
        else:
            with open(path, "wb") as f:
                f.write(rasterclip.render(job, raster=raster, server=self.daemon.url, **client))
        return decode_frames(path, 320, 200).astype(int)

    def expected(self, bands, tif="sst_same.tif"):
        """The GeoTIFF's frames for `bands` (1-based), labelled and titled by hand."""
        job = self.job({"url": tif, "bands": bands, "rescale": [10, 35]},
                       band_labels=[self.labels[b - 1] for b in bands],
                       title="sea surface temperature", colorbar={"label": "degC"})
        return self.frames(job)

    def assertFramesEqual(self, got, want):
        self.assertEqual(got.shape, want.shape)
        worst = np.abs(got - want).max(axis=(1, 2, 3))
        self.assertTrue((worst <= 2).all(), worst)



class CubeTest(CubeBase):
    """The cube from a file, a Zarr store, an upload, a URL and the GET form: its
    frames equal those of the same values given as a GeoTIFF, its labels the same
    labels given as a list."""

    def test_file_url_upload_and_get_form_equal_the_geotiff(self):
        want = self.expected([3, 5, 7])
        cube = {"variable": "sst", "datetime": "2001-03/2001-08", "step": "P2M",
                "rescale": [10, 35]}
        self.assertFramesEqual(self.frames(self.job(dict(cube, url="sst_monthly.nc"))), want)
        with open(self.nc, "rb") as f:
            uploaded = self.frames(self.job(cube), raster=f.read())
        self.assertFramesEqual(uploaded, want)
        remote = "http://127.0.0.1:%d/files/sst_monthly.nc" % self.server.port
        self.assertFramesEqual(self.frames(self.job(dict(cube, url=remote))), want)
        query = urllib.parse.urlencode(
            {"url": "sst_monthly.nc", "variable": "sst", "datetime": "2001-03/2001-08",
             "step": "P2M", "rescale": "10,35", "colormap_name": "viridis",
             "background": "202020", "band_labels": "true", "colorbar": "true",
             "elevation": 90, "orbit": 0, "azimuth": 0, "distance": "fit",
             "frames_per_band": 1, "width": 320, "height": 200, "fps": 4, "format": "gif"})
        status, _, body = self.daemon.request("GET", "/v1/render?" + query)
        self.assertEqual(status, 200, body[:300])
        path = os.path.join(self.tmp.name, "get.gif")
        with open(path, "wb") as f:
            f.write(body)
        self.assertFramesEqual(decode_frames(path, 320, 200).astype(int), want)

    def test_zarr_store_zipped_upload_and_remote_zip(self):
        want = self.expected([1, 12, 24])
        cube = {"variable": "sst", "datetime": ["2001-01", "2001-12", "2002-12"],
                "rescale": [10, 35]}
        self.assertFramesEqual(self.frames(self.job(dict(cube, url="sst.zarr"))), want)
        with open(self.zipped, "rb") as f:
            self.assertFramesEqual(self.frames(self.job(cube), raster=f.read()), want)
        remote = "http://127.0.0.1:%d/files/sst.zarr.zip" % self.server.port
        self.assertFramesEqual(self.frames(self.job(dict(cube, url=remote))), want)

    def test_a_depth_held_by_value_or_index(self):
        want = self.expected([2], tif="temp_10m.tif")
        for select in ({"depth": 10}, {"depth": {"index": 1}}):
            with self.subTest(select=select):
                job = self.job({"url": "sst_monthly.nc", "variable": "temp", "select": select,
                                "datetime": "2001-02", "rescale": [10, 35]},
                               title="sea surface temperature")
                self.assertFramesEqual(self.frames(job), want)

    def test_label_format_and_default_labels(self):
        job = self.job({"url": "sst_monthly.nc", "variable": "sst", "datetime": "2002-06",
                        "rescale": [10, 35]}, band_label_format="%B %Y")
        custom = self.frames(job)
        by_hand = self.job({"url": "sst_same.tif", "bands": [18], "rescale": [10, 35]},
                           band_labels=["June 2002"], title="sea surface temperature",
                           colorbar={"label": "degC"})
        self.assertFramesEqual(custom, self.frames(by_hand))

    def test_an_hdf5_array_without_coordinates(self):
        import h5py
        values = (np.arange(3 * 20 * 30).reshape(3, 20, 30) % 97).astype(np.float32)
        with h5py.File(os.path.join(self.daemon.root, "plain.h5"), "w") as f:
            f["temp"] = values
            f["other"] = values[0]
        write(os.path.join(self.daemon.root, "plain.tif"), values)
        style = {"band_labels": False, "colorbar": False}
        # No coordinates: (frames, y, x), as a .npy is read; a select holds the first axis.
        got = self.frames(self.job({"url": "plain.h5", "variable": "temp", "rescale": [0, 96]},
                                   **style))
        want = self.frames(self.job({"url": "plain.tif", "rescale": [0, 96]}, **style))
        self.assertEqual(len(got), 3)
        self.assertFramesEqual(got, want)
        held = self.frames(self.job({"url": "plain.h5", "variable": "temp", "rescale": [0, 96],
                                     "select": {"dim0": {"index": 1}}}, **style))
        self.assertFramesEqual(held, want[1:2])

    def test_missing_value_and_valid_range_are_no_data(self):
        import netCDF4
        data = (np.arange(40 * 60) % 900).reshape(40, 60).astype(np.int16)
        data[5:10, 5:20] = -1
        data[20:30, 30:50] = 2000
        with netCDF4.Dataset(os.path.join(self.daemon.root, "ranged.nc"), "w") as nc:
            nc.createDimension("y", 40)
            nc.createDimension("x", 60)
            v = nc.createVariable("v", "i2", ("y", "x"))
            v.set_auto_maskandscale(False)
            v.missing_value = np.int16(-1)
            v.valid_range = np.array([0, 1000], np.int16)
            v[:] = data
        expect = data.astype(np.float32)
        expect[(data == -1) | (data > 1000)] = np.nan
        write(os.path.join(self.daemon.root, "ranged.tif"), expect)
        style = {"band_labels": False, "colorbar": False, "nan_color": "#ff00ff"}
        got = self.frames(self.job({"url": "ranged.nc", "rescale": [0, 1000]}, **style))
        want = self.frames(self.job({"url": "ranged.tif", "rescale": [0, 1000]}, **style))
        self.assertFramesEqual(got, want)
        magenta = (got[0] == (255, 0, 255)).all(axis=2).sum()
        self.assertGreater(magenta, 100)  # both holes drawn as no data

    def test_what_is_missing_is_named(self):
        cases = [
            ({"url": "sst_monthly.nc"}, "raster.variable", b"sst, temp"),
            ({"url": "sst_monthly.nc", "variable": "chl"}, "raster.variable", b"chl"),
            ({"url": "sst_monthly.nc", "variable": "temp"}, "raster.select", b"depth"),
            ({"url": "sst_monthly.nc", "variable": "temp", "select": {"depth": 11}},
             "raster.select.depth", b"11"),
            ({"url": "sst_monthly.nc", "variable": "sst", "datetime": "1999"},
             "raster.datetime", b"2001-01-15"),
            ({"url": "sst_monthly.nc", "variable": "sst", "datetime": "2001-13"},
             "raster.datetime", b"ISO 8601"),
            ({"url": "sst_monthly.nc", "variable": "sst", "step": "monthly"},
             "raster.step", b"P1M"),
            ({"url": "byte_20x20.tif", "datetime": "2001"}, "raster.url", b"datacube"),
        ]
        for raster, field, words in cases:
            with self.subTest(raster=raster):
                status, _, body = self.daemon.render(self.job(raster))
                self.assertIn(status, (400, 422), body)
                self.assertIn(('"field":"%s"' % field).encode(), body)
                self.assertIn(words, body)
        status, _, body = self.daemon.render(
            self.job({"url": "byte_20x20.tif"}, band_label_format="%Y"))
        self.assertEqual(status, 422, body)
        self.assertIn(b'"style.band_label_format"', body)


class PythonInputsTest(CubeBase):
    """What a Python user holds: xarray objects with their coordinates, masked
    arrays, and NumPy's other dtypes, each against the same values sent plainly."""

    def array_job(self, **style):
        job = self.job(None, **style)
        job["raster"] = {"rescale": [10, 35]}
        return job

    def test_xarray_dataarray_and_dataset_keep_time_units_and_orientation(self):
        import xarray as xr
        want = self.expected([3, 4, 5])
        da = xr.DataArray(
            self.sst[2:5], dims=("time", "lat", "lon"), name="sst",
            coords={"time": np.array(["2001-03-15", "2001-04-15", "2001-05-15"],
                                     dtype="datetime64[ns]"),
                    "lat": self.lat, "lon": np.arange(180) * 2.0 - 179},
            attrs={"units": "degC", "long_name": "sea surface temperature"})
        self.assertLess(da.lat[0], da.lat[-1])  # south first, as in the file
        self.assertFramesEqual(self.frames(self.array_job(), raster=da), want)
        ds = xr.Dataset({"sst": da, "ice": da * 0})
        self.assertFramesEqual(self.frames(self.array_job(), raster=ds, var="sst"), want)
        with self.assertRaises(ValueError):
            rasterclip.render(self.array_job(), raster=ds, server=self.daemon.url)

    def plain(self, values, **client):
        """Frames of an array with the plain style (no labels, no title)."""
        job = self.array_job(band_labels=False, colorbar=False)
        return self.frames(job, raster=values, **client)

    def test_masked_arrays_and_every_dtype(self):
        ocean = np.where(np.isnan(self.sst[0]), 20.0, self.sst[0])[::-1]
        masked = np.ma.masked_array(np.where(np.isnan(self.sst[0]), 1e20, self.sst[0])[::-1],
                                    mask=np.isnan(self.sst[0])[::-1])
        with_nan = self.plain(np.ma.filled(masked, np.nan))
        self.assertFramesEqual(self.plain(masked), with_nan)
        # The mask ran: without it the land's 1e20 shows.
        self.assertGreater(np.abs(self.plain(masked.data) - with_nan).max(), 50)
        whole = np.round(ocean).astype(np.int64)
        self.assertFramesEqual(self.plain(whole), self.plain(whole.astype(np.float64)))
        self.assertFramesEqual(self.plain(whole.astype(np.uint64)),
                               self.plain(whole.astype(np.float64)))
        self.assertFramesEqual(self.plain(ocean.astype(np.float16)),
                               self.plain(ocean.astype(np.float16).astype(np.float32)))
        flags = ocean > 20
        job = self.array_job(band_labels=False, colorbar=False)
        job["raster"]["rescale"] = [0, 1]
        self.assertFramesEqual(self.frames(job, raster=flags),
                               self.frames(job, raster=flags.astype(np.uint8)))
        with self.assertRaises(ValueError):
            self.plain(np.full((4, 4), 2 ** 60, np.int64))
        with self.assertRaises(TypeError):
            self.plain(np.ones((4, 4), np.complex64))

    def test_ambiguous_axes_are_refused_until_named(self):
        cube = np.stack([np.where(np.isnan(b), 20.0, b)[::-1] for b in self.sst[:3]])
        last = np.moveaxis(cube, 0, -1)  # (90, 180, 3): bands last, or time first?
        with self.assertRaises(ValueError) as refused:
            self.plain(last)
        self.assertIn("dims=", str(refused.exception))
        self.assertFramesEqual(self.plain(last, dims=("y", "x", "time")), self.plain(cube))


def legend_panel(frame):
    """What lies right of the raster (whose middle row is unbroken colour, on a black
    background): the legend."""
    lit = np.nonzero(frame[H // 2].max(axis=1) > 16)[0]
    gaps = np.diff(lit) > 1
    edge = lit[0] + np.argmax(gaps) if gaps.any() else lit[-1]
    return frame[:, edge + 2:]


class PaletteTest(DataBase):
    """A paletted land cover: its own colour table, exactly, and a legend of the
    classes present with their names."""

    CODES = (11, 21, 41, 42, 82, 95)
    NAMES = ("Open water", "Developed", "Deciduous forest", "Evergreen forest",
             "Cultivated crops", "Herbaceous wetlands")

    def land_cover(self):
        path = os.path.join(self.daemon.root, "landcover.tif")
        values = np.zeros((60, 120), np.uint8)
        for i, code in enumerate(self.CODES):
            values[:, i * 20:(i + 1) * 20] = code
        ds = write(path, values, (500000.0, 30, 0, 4000000.0, 0, -30), gdal.GDT_Byte)
        band = ds.GetRasterBand(1)
        table = gdal.ColorTable()
        rng = np.random.default_rng(7)
        colours = {}
        for v in range(256):
            rgb = tuple(int(c) for c in rng.integers(0, 256, 3))
            colours[v] = rgb
            table.SetColorEntry(v, rgb + (255,))
        band.SetColorTable(table)
        names = [""] * 96
        for code, name in zip(self.CODES, self.NAMES):
            names[code] = name
        band.SetCategoryNames(names)  # a GeoTIFF keeps them in its .aux.xml sidecar
        ds = None
        self.assertTrue(os.path.exists(path + ".aux.xml"))
        return colours

    def job(self, **style):
        return {"raster": {"url": "landcover.tif"},
                "style": dict({"background": "#000000"}, **style),
                "camera": {"orbit": {"start": 0, "degrees": 0, "elevation": 90,
                                     "distance": 1.2, "fov": 40}},
                "output": {"width": W, "height": H, "fps": 4, "frames": 1, "format": "gif"}}

    def test_colour_table_exactly_and_a_legend_of_classes_present(self):
        colours = self.land_cover()
        frame = self.frame(self.job(), "lc.gif").astype(int)
        present = [colours[c] for c in self.CODES]
        # The scene: each column block shows its class's colour from the table.
        for i, code in enumerate(self.CODES):
            x = (i + 0.5) * 20 - 60  # cell columns centred on the origin
            col, row = top_down_pixel(x / 120.0, 0, W, H, 1.2, 40)
            got = tuple(frame[int(row), int(col)])
            self.assertEqual(got, colours[code], "class %d" % code)
        # The legend: a swatch of each class present, nothing of the other 250.
        frame = self.frame(self.job(colorbar=True), "legend.gif").astype(int)
        panel = legend_panel(frame)
        right = panel.reshape(-1, 3)
        seen = {tuple(p) for p in right}
        tops = []
        for rgb in present:
            rows, cols = np.nonzero((panel == rgb).all(axis=2))
            self.assertGreater(len(rows), 0, rgb)
            # A square swatch (a colour ramp would show a flat stripe), a name beside it.
            h, w = np.ptp(rows) + 1, np.ptp(cols) + 1
            self.assertGreaterEqual(h, 6)
            self.assertLessEqual(abs(h - w), 1, (h, w))
            self.assertEqual(len(rows), h * w)
            beside = panel[rows.min():rows.max() + 1, cols.max() + 3:]
            self.assertGreater((beside.max(axis=2) > 128).sum(), 10)  # light ink on black
            tops.append(rows.min())
        self.assertEqual(tops, sorted(tops))  # in the order of their codes
        absent = [colours[v] for v in range(256) if v not in self.CODES]
        self.assertFalse([rgb for rgb in absent if rgb in seen and rgb not in present])

    def test_attribute_table_names_without_a_colour_table(self):
        values = np.repeat(np.array([[3, 7, 12]], np.uint8), 30, axis=0).repeat(20, axis=1)
        ds = write(os.path.join(self.daemon.root, "rat.tif"), values,
                   (0.0, 10, 0, 300.0, 0, -10), gdal.GDT_Byte)
        rat = gdal.RasterAttributeTable()
        rat.CreateColumn("value", gdal.GFT_Integer, gdal.GFU_MinMax)
        rat.CreateColumn("class", gdal.GFT_String, gdal.GFU_Name)
        for row, (code, name) in enumerate(((3, "sand"), (7, "grass"), (12, "rock"))):
            rat.SetValueAsInt(row, 0, code)
            rat.SetValueAsString(row, 1, name)
        ds.GetRasterBand(1).SetDefaultRAT(rat)
        ds = None
        job = self.job(colorbar=True, colormap="viridis")
        job["raster"]["url"] = "rat.tif"
        frame = self.frame(job, "rat.gif").astype(int)
        import matplotlib
        for code in (3, 7, 12):
            rgb = tuple(int(round(c * 255)) for c in
                        matplotlib.colormaps["viridis"]((code - 3) / 9.0)[:3])
            legend = legend_panel(frame)
            rows, cols = np.nonzero((np.abs(legend - rgb) <= 3).all(axis=2))
            self.assertGreater(len(rows), 0, code)
            h, w = np.ptp(rows) + 1, np.ptp(cols) + 1  # a square swatch, not a ramp's stripe
            self.assertGreaterEqual(h, 6, code)
            self.assertLessEqual(abs(h - w), 1, (code, h, w))

    def test_a_colormap_given_wins(self):
        colours = self.land_cover()
        frame = self.frame(self.job(colormap="gray", background="#0000ff"),
                           "gray.gif").astype(int)
        col, row = top_down_pixel((0.5 * 20 - 60) / 120.0, 0, W, H, 1.2, 40)
        r, g, b = frame[int(row), int(col)]
        self.assertEqual((r, g, b), (0, 0, 0))  # the lowest class, gray's first entry
        self.assertNotEqual((r, g, b), colours[11])


if __name__ == "__main__":
    unittest.main()
