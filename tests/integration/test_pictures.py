"""Pictures against independent expectations: whole frames coloured with
matplotlib's tables (PSNR), band blending, keyframes, surface geometry, and the
colorbar and title beside the scene."""
import json
import math
import os
import re
import tempfile
import unittest

import matplotlib
import numpy as np
from osgeo import gdal

from harness import (SOURCE, DaemonTest, decode_frames, look_at_pixel, psnr, raster_cell_centre,
                     top_down_pixel, write_geotiff)


def expected_top_down(values, vmin, vmax, cmap, width, height, distance, fov, background):
    """The frame a straight-down pinhole camera sees: each pixel centre's world point,
    the raster cell under it, coloured by matplotlib; background off the raster and
    where the cell is NaN (the default, transparent nan_color)."""
    rows, cols = values.shape
    longest = max(rows, cols)
    sx, sy = cols / longest, rows / longest
    half_h = distance * np.tan(np.radians(fov) / 2)
    px = (np.arange(width) + 0.5 - width / 2) / (height / 2) * half_h
    py = -(np.arange(height) + 0.5 - height / 2) / (height / 2) * half_h
    x, y = np.meshgrid(px, py)
    col = np.floor((x / sx + 0.5) * cols).astype(int)
    row = np.floor((0.5 - y / sy) * rows).astype(int)
    inside = (col >= 0) & (col < cols) & (row >= 0) & (row < rows)
    v = values[np.clip(row, 0, rows - 1), np.clip(col, 0, cols - 1)]
    norm = matplotlib.colors.Normalize(vmin=vmin, vmax=vmax)
    rgb = matplotlib.colormaps[cmap](norm(v))[..., :3] * 255
    out = np.empty((height, width, 3))
    out[:] = background
    painted = inside & ~np.isnan(v)
    out[painted] = rgb[painted]
    return out, inside


def read_bands(path, numbers):
    """The bands as float arrays, nodata as NaN: GDAL's reading, numpy's NaN."""
    ds = gdal.Open(path)
    out = []
    for b in numbers:
        band = ds.GetRasterBand(b)
        v = band.ReadAsArray().astype(float)
        v[v == band.GetNoDataValue()] = np.nan
        out.append(v)
    return out


class PictureBase(DaemonTest):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.tmp.cleanup()

    def clip(self, job, name="clip.webm"):
        path = os.path.join(self.tmp.name, name)
        self.render_ok(job, path)
        out = job["output"]
        return decode_frames(path, out["width"], out["height"]).astype(float)


class PictureTest(PictureBase):
    def test_image_frame_matches_matplotlib_psnr(self):
        width, height, distance, fov = 640, 360, 1.3, 40.0
        job = {"raster": {"url": "jacksboro_dem.tif"},
               "style": {"colormap": "magma"},
               "camera": {"orbit": {"degrees": 0, "elevation": 90, "distance": distance,
                                    "fov": fov}},
               "output": {"width": width, "height": height, "fps": 10, "frames": 2, "crf": 4}}
        frame = self.clip(job)[0]
        values = gdal.Open(os.path.join(self.daemon.root, "jacksboro_dem.tif")).ReadAsArray()
        values = values.astype(float)
        want, inside = expected_top_down(values, values.min(), values.max(), "magma", width,
                                         height, distance, fov, 255.0)
        self.assertGreater(inside.mean(), 0.5)
        score = psnr(frame, want)
        self.assertGreaterEqual(score, 30.0, "PSNR %.2f dB" % score)
        # The same frame against a different colormap must score far lower.
        other, _ = expected_top_down(values, values.min(), values.max(), "viridis", width,
                                     height, distance, fov, 255.0)
        self.assertLess(psnr(frame, other), 20.0)
        print("\nimage mode PSNR against matplotlib: %.2f dB" % score)

    def test_rescale_auto_uses_percentiles(self):
        width, height, distance, fov = 640, 360, 1.2, 40.0
        job = {"raster": {"url": "timeseries_precip_1999_12band.tif", "bands": [9],
                          "rescale": "auto"},
               "style": {"colormap": "viridis"},
               "camera": {"orbit": {"degrees": 0, "elevation": 90, "distance": distance,
                                    "fov": fov}},
               "output": {"width": width, "height": height, "fps": 10, "frames": 2, "crf": 4}}
        frame = self.clip(job)[0]
        values, = read_bands(os.path.join(self.daemon.root, "timeseries_precip_1999_12band.tif"),
                             (9,))
        lo, hi = np.nanpercentile(values, [2, 98])
        want, inside = expected_top_down(values, lo, hi, "viridis", width, height, distance,
                                         fov, 255.0)
        score = psnr(frame[inside], want[inside])
        self.assertGreaterEqual(score, 30.0, "PSNR %.2f dB" % score)
        # Plain min..max would look clearly different (September has outliers).
        plain, _ = expected_top_down(values, np.nanmin(values), np.nanmax(values), "viridis",
                                     width, height, distance, fov, 255.0)
        self.assertLess(psnr(frame[inside], plain[inside]), score - 3)

    def test_blend_halfway_is_the_mean(self):
        width, height, distance, fov = 640, 360, 1.2, 40.0
        job = {"raster": {"url": "timeseries_precip_1999_12band.tif", "bands": [1, 2]},
               "style": {"colormap": "viridis", "nan_color": "#ff00ffff"},
               "camera": {"orbit": {"degrees": 0, "elevation": 90, "distance": distance,
                                    "fov": fov}},
               "timeline": {"frames_per_band": 2, "blend": True},
               "output": {"width": width, "height": height, "fps": 10, "frames": 4, "crf": 4}}
        frames = self.clip(job)
        bands = read_bands(os.path.join(self.daemon.root, "timeseries_precip_1999_12band.tif"),
                           (1, 2))
        vmin = np.nanmin(bands)
        vmax = np.nanmax(bands)
        mean = (bands[0] + bands[1]) / 2
        norm = matplotlib.colors.Normalize(vmin=vmin, vmax=vmax)
        cmap = matplotlib.colormaps["viridis"]
        rows, cols = mean.shape
        errors_mean, errors_first = [], []
        for r in range(1, rows - 1, 2):
            for c in range(1, cols - 1, 3):
                if math.isnan(mean[r, c]):
                    continue
                x, y = raster_cell_centre(c, r, cols, rows)
                px, py = top_down_pixel(x, y, width, height, distance, fov)
                got = frames[1][int(py), int(px)]
                errors_mean.append(np.abs(got - np.array(cmap(norm(mean[r, c]))[:3]) * 255).max())
                errors_first.append(
                    np.abs(got - np.array(cmap(norm(bands[0][r, c]))[:3]) * 255).max())
        self.assertGreater(len(errors_mean), 200)
        self.assertLess(np.median(errors_mean), 6)
        self.assertGreater(np.mean(np.array(errors_mean) < 16), 0.95)
        self.assertGreater(np.median(errors_first), np.median(errors_mean) + 4)
        # Where either band lacks data, the blend has none: the nodata colour.
        missing = np.isnan(bands[0]) | np.isnan(bands[1])
        r, c = np.argwhere(missing & (np.arange(cols)[None, :] > 2)
                           & (np.arange(cols)[None, :] < cols - 3)
                           & (np.arange(rows)[:, None] > 2)
                           & (np.arange(rows)[:, None] < rows - 3))[0]
        x, y = raster_cell_centre(c, r, cols, rows)
        px, py = top_down_pixel(x, y, width, height, distance, fov)
        self.assertLess(np.abs(frames[1][int(py), int(px)] - [255, 0, 255]).max(), 60)

    def test_a_band_coloured_once_equals_it_coloured_per_pixel(self):
        """A band shown alone is coloured once and drawn from that (render/baked.c):
        final colours in image mode, on an unlit surface and under a sun fixed to the
        ground; the unlit colours under the light kit, lit per pixel. Frames between
        two bands colour each pixel. Two equal bands with blending give both kinds
        of frame for the same picture: lossless GIF frames, equal (a baked sun lights
        each texel, not each pixel: close)."""
        yy, xx = np.mgrid[0:48, 0:64]
        values = (np.sin(xx / 5.0) * np.cos(yy / 7.0) + xx / 64.0).astype(np.float32)
        values[10:20, 30:40] = np.nan
        write_geotiff(os.path.join(self.daemon.root, "twins.tif"), np.stack([values, values]))
        sun = {"azimuth": 315, "elevation": 45}
        for mode, lighting, exact in (("image", True, True), ("surface", False, True),
                                      ("surface", True, True), ("surface", sun, False)):
            job = {"raster": {"url": "twins.tif"},
                   "style": {"colormap": "tab10", "background": "#202020", "mode": mode,
                             "lighting": lighting},
                   "camera": {"orbit": {"degrees": 0, "elevation": 50, "distance": 1.6}},
                   "timeline": {"frames_per_band": 4, "blend": True},
                   "output": {"width": 320, "height": 180, "frames": 8, "format": "gif"}}
            frames = self.clip(job, "twins.gif")
            # Frames 0-3 blend band 1 into band 2 (per pixel), 4-7 show band 2 alone.
            logged = [l for l in self.daemon.log().splitlines() if "format=gif" in l][-1]
            self.assertIn(" baked=4 ", logged, (mode, lighting))
            self.assertEqual(len(frames), 8)
            self.assertGreater(len(np.unique(frames[0].reshape(-1, 3), axis=0)), 5)
            for i in range(1, 8):
                if exact:
                    self.assertTrue(np.array_equal(frames[i], frames[0]),
                                    "%s %s: frame %d differs" % (mode, lighting, i))
                else:
                    diff = np.abs(frames[i].astype(int) - frames[0]).mean()
                    self.assertLess(diff, 2.0, "%s %s: frame %d" % (mode, lighting, i))
            if not exact:
                self.assertTrue(np.array_equal(frames[7], frames[4]))

    def test_keyframes_are_hit_exactly(self):
        width, height = 320, 180
        keys = [{"t": 0.0, "azimuth": 0, "elevation": 90, "distance": 1.5},
                {"t": 1.0, "azimuth": 60, "elevation": 40, "distance": 2.0},
                {"t": 2.0, "azimuth": 300, "elevation": 25, "distance": 2.6, "fov": 40}]
        base = {"raster": {"url": "jacksboro_dem.tif"},
                "output": {"width": width, "height": height, "fps": 10, "crf": 8,
                           "keyframe_interval": 1}}
        for interpolation in ("linear", "smooth"):
            job = dict(base, camera={"keyframes": keys, "interpolation": interpolation})
            job["output"] = dict(base["output"], frames=21)
            frames = self.clip(job, "keys.webm")
            for key, index in zip(keys, (0, 10, 20)):
                still = {"start": key["azimuth"], "degrees": 0, "elevation": key["elevation"],
                         "distance": key["distance"], "fov": key.get("fov", 30)}
                ref = self.clip(dict(base, camera={"orbit": still},
                                     output=dict(base["output"], frames=1)), "still.webm")[0]
                diff = np.abs(frames[index] - ref).mean()
                self.assertLess(diff, 1.5, "%s frame %d differs by %.2f"
                                % (interpolation, index, diff))
            self.assertGreater(np.abs(frames[5] - frames[0]).mean(), 5)
            self.assertGreater(np.abs(frames[5] - frames[10]).mean(), 5)

    def test_surface_peak_lands_where_projected(self):
        size = 201
        yy, xx = np.mgrid[0:size, 0:size]
        centre = (size - 1) / 2
        bump = np.exp(-((xx - centre) ** 2 + (yy - centre) ** 2) / (2 * 30.0 ** 2))
        write_geotiff(os.path.join(self.daemon.root, "bump.tif"), bump.astype(np.float32))
        width, height = 1280, 720
        azimuth, elevation, distance, fov, exaggeration = 30.0, 30.0, 2.5, 30.0, 1.5
        job = {"raster": {"url": "bump.tif"},
               "style": {"mode": "surface", "lighting": False, "exaggeration": exaggeration,
                         "colormap": {"stops": [[0, "#0000ff"], [0.985, "#0000ff"],
                                                [0.99, "#ff0000"], [1, "#ff0000"]]}},
               "camera": {"orbit": {"start": azimuth, "degrees": 0, "elevation": elevation,
                                    "distance": distance, "fov": fov}},
               "output": {"width": width, "height": height, "fps": 10, "frames": 1, "crf": 4}}
        frame = self.clip(job)[0]
        red = (frame[..., 0] > 180) & (frame[..., 1] < 90) & (frame[..., 2] < 90)
        self.assertGreater(red.sum(), 20)
        rows, cols = np.nonzero(red)
        # The full value range rises 0.2 world units times the exaggeration.
        want = look_at_pixel((0, 0, 0.2 * exaggeration), width, height, azimuth, elevation,
                             distance, fov)
        got = (cols.mean(), rows.mean())
        self.assertLess(math.hypot(got[0] - want[0], got[1] - want[1]), 5.0,
                        "peak at %s, projection says %s" % (got, want))
        # A flat surface (exaggeration 0) puts the same point on the plane instead.
        flat = look_at_pixel((0, 0, 0), width, height, azimuth, elevation, distance, fov)
        self.assertGreater(math.hypot(got[0] - flat[0], got[1] - flat[1]), 20)

    def test_heights_from_a_second_raster(self):
        size = 201
        yy, xx = np.mgrid[0:size, 0:size]
        centre = (size - 1) / 2
        bump = np.exp(-((xx - centre) ** 2 + (yy - centre) ** 2) / (2 * 30.0 ** 2))
        write_geotiff(os.path.join(self.daemon.root, "heights.tif"), bump.astype(np.float32))
        marker = np.zeros((size, size), np.float32)
        marker[95:106, 95:106] = 1.0  # colour only: red in the middle, blue elsewhere
        write_geotiff(os.path.join(self.daemon.root, "marker.tif"), marker)
        width, height = 1280, 720
        azimuth, elevation, distance, fov = -40.0, 25.0, 2.4, 30.0
        job = {"raster": {"url": "marker.tif", "height": {"url": "heights.tif", "band": 1}},
               "style": {"mode": "surface", "lighting": False,
                         "colormap": {"stops": [[0, "#0000ff"], [0.5, "#0000ff"],
                                                [0.51, "#ff0000"], [1, "#ff0000"]]}},
               "camera": {"orbit": {"start": azimuth, "degrees": 0, "elevation": elevation,
                                    "distance": distance, "fov": fov}},
               "output": {"width": width, "height": height, "fps": 10, "frames": 1, "crf": 4}}
        frame = self.clip(job)[0]
        red = (frame[..., 0] > 180) & (frame[..., 1] < 90) & (frame[..., 2] < 90)
        rows, cols = np.nonzero(red)
        self.assertGreater(len(rows), 20)
        want = look_at_pixel((0, 0, 0.2), width, height, azimuth, elevation, distance, fov)
        self.assertLess(math.hypot(cols.mean() - want[0], rows.mean() - want[1]), 6.0)
        # Heights for image mode, or from a raster of another extent, are refused.
        status, _, body = self.daemon.render(dict(job, style={"mode": "image"}))
        self.assertEqual(status, 422, body)
        ds = gdal.Open(os.path.join(self.daemon.root, "heights.tif"), gdal.GA_Update)
        ds.SetGeoTransform((0, 1, 0, 0, 0, -1))
        ds = None
        ds = gdal.Open(os.path.join(self.daemon.root, "marker.tif"), gdal.GA_Update)
        ds.SetGeoTransform((500, 1, 0, 0, 0, -1))
        ds = None
        status, _, body = self.daemon.render(job)
        self.assertEqual(status, 422, body)
        self.assertIn(b"raster.height.url", body)

    def test_data_types_scale_and_offset(self):
        """Every pixel type reads the same values; scale and offset are applied."""
        width, height, distance, fov = 320, 180, 1.2, 40.0
        values = np.array([[0, 1], [2, 3]])
        frames = {}
        for name, gdal_type in [("Byte", gdal.GDT_Byte), ("Int16", gdal.GDT_Int16),
                                ("UInt16", gdal.GDT_UInt16), ("Int32", gdal.GDT_Int32),
                                ("Float32", gdal.GDT_Float32), ("Float64", gdal.GDT_Float64),
                                ("Scaled", gdal.GDT_Int16)]:
            path = os.path.join(self.daemon.root, "type_%s.tif" % name)
            ds = gdal.GetDriverByName("GTiff").Create(path, 2, 2, 1, gdal_type)
            band = ds.GetRasterBand(1)
            band.WriteArray(values)
            rescale = [0, 3]
            if name == "Scaled":
                band.SetScale(2.0)
                band.SetOffset(10.0)
                rescale = [10, 16]  # stored 0..3 mean 10..16
            ds = None
            job = {"raster": {"url": "type_%s.tif" % name, "rescale": rescale},
                   "style": {"colormap": "gray"},
                   "camera": {"orbit": {"degrees": 0, "elevation": 90, "distance": distance,
                                        "fov": fov}},
                   "output": {"width": width, "height": height, "fps": 10, "frames": 1,
                              "crf": 4}}
            frames[name] = self.clip(job, "type.webm")[0]
        for r in range(2):
            for c in range(2):
                x, y = raster_cell_centre(c, r, 2, 2)
                px, py = top_down_pixel(x, y, width, height, distance, fov)
                want = values[r, c] / 3 * 255
                for name, frame in frames.items():
                    got = frame[int(py), int(px)].mean()
                    self.assertLess(abs(got - want), 8, "%s cell %d,%d" % (name, r, c))

    def test_resampling_when_downsampling(self):
        """A one-pixel checkerboard read at a twentieth of its size: average gives
        mid-grey everywhere, nearest gives black or white."""
        board = (np.indices((640, 640)).sum(axis=0) % 2).astype(np.float32)
        write_geotiff(os.path.join(self.daemon.root, "board.tif"), board)
        stats = {}
        for method in ("nearest", "average"):
            job = {"raster": {"url": "board.tif", "rescale": [0, 1], "resampling": method},
                   "style": {"colormap": "gray"},
                   "camera": {"orbit": {"degrees": 0, "elevation": 90, "distance": 1.2,
                                        "fov": 40}},
                   "output": {"width": 32, "height": 18, "fps": 10, "frames": 1, "crf": 4}}
            frame = self.clip(job, "board.webm")[0]
            centre = frame[6:12, 13:19].mean(axis=2)
            stats[method] = (centre.mean(), np.abs(centre - 127.5).mean())
        self.assertLess(stats["average"][1], 20)   # all close to grey
        self.assertGreater(stats["nearest"][1], 60)  # black and white

    def test_surface_holes_show_the_background(self):
        values = np.full((60, 60), 5.0, np.float32)
        values[20:40, 20:40] = -9999
        write_geotiff(os.path.join(self.daemon.root, "holed.tif"), values, nodata=-9999)
        job = {"raster": {"url": "holed.tif"},
               "style": {"mode": "surface", "background": "#000000", "colormap": "gray_r"},
               "camera": {"orbit": {"degrees": 0, "elevation": 90, "distance": 1.5}},
               "output": {"width": 640, "height": 360, "fps": 10, "frames": 1, "crf": 4}}
        frame = self.clip(job)[0]
        centre = frame[170:190, 310:330].mean(axis=(0, 1))
        ring = frame[180, 320 + 120]
        self.assertLess(centre.max(), 20)  # the hole: background, no spike to zero
        self.assertGreater(ring.min(), 200)  # the surface around it

    def test_colorbar_ramp_and_title_stay_off_the_raster(self):
        width, height = 640, 360
        base = {"raster": {"url": "jacksboro_dem.tif"},
                "style": {"colormap": "viridis", "colorbar": {"label": "m"},
                          "title": "Jacksboro"},
                "output": {"width": width, "height": height, "fps": 12, "frames": 12,
                           "crf": 8}}
        frames = self.clip(base)
        hsv = matplotlib.colors.rgb_to_hsv(frames / 255.0)
        colourful = hsv[..., 1] > 0.35
        # The bar: columns colourful and unchanging over at least 35% of the height
        # through the whole orbit (the turning raster is neither).
        steady = colourful.all(axis=0) & (frames.std(axis=0).max(axis=-1) < 6)
        bar_cols = np.nonzero(steady.mean(axis=0) > 0.35)[0]
        self.assertGreater(len(bar_cols), 5)
        self.assertGreater(bar_cols.min(), width * 0.7)
        bar_rows = np.nonzero(steady[:, bar_cols].all(axis=1))[0]
        x = int(np.median(bar_cols))
        top, bottom = bar_rows.min(), bar_rows.max()
        # The ramp follows viridis from the bottom (min) to the top (max).
        cmap = matplotlib.colormaps["viridis"]
        n = bottom - top + 1
        errors = [np.abs(frames[0][y, x] - np.array(cmap((bottom - y + 0.5) / n)[:3]) * 255).max()
                  for y in range(top + 2, bottom - 1)]
        self.assertLess(np.median(errors), 10)
        # Title: dark text in the top band; the raster never reaches it or the bar.
        ink = (frames[0].max(axis=2) < 100)
        title_rows = np.nonzero(ink[:, : int(width * 0.6)].any(axis=1))[0]
        self.assertGreater(len(title_rows), 4)
        title_bottom = title_rows[title_rows < height // 4].max()
        for f in range(len(frames)):
            raster = colourful[f].copy()
            raster[:, bar_cols.min() - 2:] = False
            rows, cols = np.nonzero(raster)
            self.assertGreater(len(rows), 1000)
            self.assertGreater(rows.min(), title_bottom, "frame %d reaches the title" % f)
            self.assertLess(cols.max(), bar_cols.min() - 10, "frame %d reaches the bar" % f)


class OverlayEveryModeTest(DaemonTest):
    """The colorbar and title are drawn in both modes, whatever the elevation (surface
    mode culls faces turned away while the camera is above the relief)."""

    def test_colorbar_and_title_in_every_mode_and_elevation(self):
        width, height = 640, 360
        cmap = matplotlib.colormaps["viridis"]
        with tempfile.TemporaryDirectory() as tmp:
            for mode in ("image", "surface"):
                for elevation in (15, 45, 90):
                    with self.subTest(mode=mode, elevation=elevation):
                        job = {"raster": {"url": "jacksboro_dem.tif"},
                               "style": {"mode": mode, "colormap": "viridis",
                                         "colorbar": {"label": "m"}, "title": "Jacksboro"},
                               "camera": {"orbit": {"degrees": 0, "elevation": elevation}},
                               "output": {"width": width, "height": height, "fps": 10,
                                          "frames": 1, "crf": 4}}
                        path = os.path.join(tmp, "%s%d.webm" % (mode, elevation))
                        self.render_ok(job, path)
                        frame = decode_frames(path, width, height)[0].astype(float)
                        # The bar: the colourful columns in the right-hand panel.
                        right = frame[:, int(width * 0.75):]
                        hsv = matplotlib.colors.rgb_to_hsv(right / 255.0)
                        colourful = hsv[..., 1] > 0.35
                        cols = np.nonzero(colourful.mean(axis=0) > 0.35)[0]
                        self.assertGreater(len(cols), 5, "no colorbar")
                        x = int(np.median(cols))
                        rows = np.nonzero(colourful[:, x])[0]
                        top, bottom = rows.min(), rows.max()
                        n = bottom - top + 1
                        errors = [np.abs(right[y, x] - np.array(cmap((bottom - y + 0.5) / n)[:3])
                                         * 255).max() for y in range(top + 2, bottom - 1)]
                        self.assertLess(np.median(errors), 10)
                        # The title: dark ink in the top band, on a white background.
                        band = frame[: height // 10, width // 4: 3 * width // 4]
                        self.assertGreater((band.max(axis=2) < 100).sum(), 40, "no title")


class StillsTest(unittest.TestCase):
    """The README's stills are what scripts/make_stills.py makes now: rendered again
    by this build and compared with docs/ (PSNR; realtime encoding is not byte-exact)."""

    def test_readme_stills_are_current(self):
        import subprocess
        from harness import DAEMON, SOURCE
        with tempfile.TemporaryDirectory() as out:
            subprocess.run(["/usr/bin/python3", os.path.join(SOURCE, "scripts", "make_stills.py"),
                            "--daemon", DAEMON, "--out", out], check=True, capture_output=True)
            for name in ("still_image.png", "still_surface.png", "still_options_surface.png",
                         "still_options_bands.png"):
                fresh = decode_png(os.path.join(out, name))
                shipped = decode_png(os.path.join(SOURCE, "docs", name))
                self.assertEqual(fresh.shape, shipped.shape)
                value = psnr(fresh, shipped)
                print("\n%s: %.1f dB against docs/" % (name, value))
                self.assertGreater(value, 28, name + " is stale: run scripts/make_stills.py")


def erode(mask):
    """A boolean mask less its pixels with a neighbour (of eight) outside it."""
    padded = np.pad(mask, 1, constant_values=False)
    out = mask.copy()
    h, w = mask.shape
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            out &= padded[1 + dy:1 + dy + h, 1 + dx:1 + dx + w]
    return out


def decode_png(path):
    import subprocess
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=width,height",
                            "-of", "csv=p=0", path], check=True, capture_output=True,
                           text=True).stdout.strip().split(",")
    width, height = int(probe[0]), int(probe[1])
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-f", "rawvideo", "-pix_fmt",
                          "rgb24", "-"], check=True, capture_output=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(height, width, 3).astype(float)


class SurfaceDetailAndLightTest(PictureBase):
    """style.detail resolves fine relief; a single light shades as matplotlib's
    LightSource does."""

    def test_fine_ridges_are_resolved(self):
        """24 ridges running north-south, seen along them from far in the south: each
        ridge is a slab against the background beyond, 24 of them with detail "auto"
        as with the full-resolution mesh; a mesh of 40 cells cannot resolve them."""
        cols = np.arange(480)
        ridges = (np.sin(cols / 480 * 24 * 2 * np.pi - np.pi / 2) + 1).astype(np.float32)
        write_geotiff(os.path.join(self.daemon.root, "ridges.tif"), np.tile(ridges, (120, 1)))
        counts = {}
        for detail in ("auto", 480, 40):
            job = {"raster": {"url": "ridges.tif"},
                   "style": {"mode": "surface", "detail": detail, "lighting": False,
                             "colormap": {"stops": [[0, "#ffffff"], [1, "#ffffff"]]},
                             "background": "#000000", "exaggeration": 0.5},
                   "camera": {"orbit": {"degrees": 0, "elevation": 2, "distance": 9,
                                        "fov": 7}},
                   "output": {"width": 640, "height": 360, "fps": 10, "frames": 1, "crf": 4}}
            lit = self.clip(job, "ridges%s.webm" % detail)[0].max(axis=2) > 128
            # The most slabs any one row crosses.
            runs = [int(np.count_nonzero(np.diff(row.astype(int)) == 1)) for row in lit]
            counts[detail] = max(runs)
        self.assertRegex(self.daemon.log(), r"mesh=40x10 triangles=800 ")
        # auto: refined over the raster's own grid, ridges kept, flanks coarser.
        refined = re.findall(r"mesh=480x120 triangles=(\d+) ", self.daemon.log())
        self.assertTrue(refined and 0 < int(refined[0]) < 2 * 480 * 120 / 3, refined)
        self.assertEqual(int(refined[1]), 2 * 480 * 120)
        print("\nridges seen: auto %d, full resolution %d, 40 cells %d (24 in the raster)"
              % (counts["auto"], counts[480], counts[40]))
        # The ridge straight ahead may show as two edges of one V, and a crest seen
        # edge-on as a sliver: every ridge, and as many edges as the full mesh shows.
        self.assertGreaterEqual(counts["auto"], 24)
        self.assertLessEqual(abs(counts["auto"] - counts[480]), 1)
        self.assertLessEqual(counts[480], 27)
        self.assertLess(counts[40], 20)

    def test_single_light_matches_lightsource_hillshade(self):
        from matplotlib.colors import LightSource
        y, x = np.mgrid[0:200, 0:200]
        heights = (np.sin(x / 17.0) * np.cos(y / 23.0) * 40 + x * 0.3).astype(np.float32)
        write_geotiff(os.path.join(self.daemon.root, "hills.tif"), heights)
        width, height, distance, fov = 360, 360, 1.3, 40.0
        exaggeration = 1.0
        job = {"raster": {"url": "hills.tif"},
               "style": {"mode": "surface", "exaggeration": exaggeration,
                         "colormap": {"stops": [[0, "#ffffff"], [1, "#ffffff"]]},
                         "lighting": {"azimuth": 315, "elevation": 45, "ambient": 0,
                                      "diffuse": 1, "specular": 0}},
               "camera": {"orbit": {"degrees": 0, "elevation": 90, "distance": distance,
                                    "fov": fov}},
               "output": {"width": width, "height": height, "fps": 10, "frames": 1, "crf": 2}}
        frame = self.clip(job, "hills.webm")[0].mean(axis=2) / 255.0
        # matplotlib's oracle on the same grid: the raster spans 1 world unit, its value
        # range rises 0.2 x exaggeration units.
        span = float(heights.max() - heights.min())
        cell = 1.0 / 200
        shade = LightSource(azdeg=315, altdeg=45).hillshade(
            heights, vert_exag=0.2 * exaggeration / span, dx=cell, dy=cell)
        # Pixels over the middle of the raster (top-down: the heights' relief shifts
        # the picture a little near the edges).
        rows = cols = np.arange(60, 140)
        world = [top_down_pixel(*raster_cell_centre(c, r, 200, 200), width, height, distance,
                                fov) for r in rows for c in cols]
        got = np.array([frame[int(round(py)), int(round(px))] for px, py in world])
        want = np.array([shade[r, c] for r in rows for c in cols])
        corr = np.corrcoef(got, want)[0, 1]
        print("\nsingle light against LightSource.hillshade: correlation %.3f" % corr)
        self.assertGreater(corr, 0.97)

    def test_refined_mesh_keeps_the_silhouette(self):
        """style.detail "auto" refines the mesh where the heights bend, to a bound in
        output pixels: seen at 720p, the surface's outline (against the background)
        stays within a pixel of the full-resolution mesh's all round but for a few
        pixels, with far fewer triangles; on the demo DEM and on it with holes of no
        data, whose edges the refined mesh follows cell for cell."""
        dem = gdal.Open(os.path.join(self.daemon.root, "jacksboro_dem.tif")).ReadAsArray()
        holed = dem.astype(np.float32)
        holed[100:160, 120:200] = np.nan
        holed[250:256, 30:330] = np.nan
        write_geotiff(os.path.join(self.daemon.root, "holed.tif"), holed)
        for name in ("jacksboro_dem.tif", "holed.tif"):
            masks, triangles = {}, {}
            for detail in (403, "auto"):
                job = {"raster": {"url": name},
                       "style": {"mode": "surface", "detail": detail, "lighting": False,
                                 "background": "#ff00ff", "colorbar": False},
                       "output": {"width": 1280, "height": 720, "frames": 1, "format": "gif"}}
                frame = self.clip(job, "outline.gif")[0]
                masks[detail] = np.abs(frame - [255, 0, 255]).sum(axis=2) > 30
                triangles[detail] = int(re.findall(r"mesh=403x344 triangles=(\d+) ",
                                                   self.daemon.log())[-1])
            full, auto = masks[403], masks["auto"]
            inner, outer = erode(full), ~erode(~full)
            off = int(((inner & ~auto) | (auto & ~outer)).sum())
            edge = int((full & ~inner).sum())
            print("\n%s: %d of %d triangles, %d pixels off the outline's one-pixel band "
                  "(outline %d pixels)" % (name, triangles["auto"], triangles[403], off, edge))
            self.assertGreater(edge, 2000)
            self.assertLess(off, 40)
            self.assertLess(triangles["auto"], 0.5 * triangles[403])

    def test_refined_mesh_is_kept_with_the_raster(self):
        """A refined mesh's error tree is kept for the next job over the same heights
        normalised alike (mesh_kept=1 in its log line), which picks its own bound
        from it: the frames and triangles equal those of a tree built afresh (the
        same heights under another name, so another identity), closer cameras take
        more triangles, and another value range builds another tree."""
        dem = gdal.Open(os.path.join(self.daemon.root, "jacksboro_dem.tif")).ReadAsArray()
        holed = dem.astype(np.float32)
        holed[100:160, 120:200] = np.nan
        for name in ("kept.tif", "afresh.tif"):
            write_geotiff(os.path.join(self.daemon.root, name), holed)

        def run(name, distance, rescale=None):
            job = {"raster": {"url": name},
                   "style": {"mode": "surface", "detail": "auto", "lighting": False,
                             "background": "#ff00ff", "colorbar": False},
                   "camera": {"orbit": {"degrees": 30, "elevation": 35,
                                        "distance": distance}},
                   "output": {"width": 640, "height": 360, "frames": 2, "format": "gif"}}
            if rescale:
                job["raster"]["rescale"] = rescale
            frames = self.clip(job, "kept.gif")
            line = [x for x in self.daemon.log().splitlines() if " outcome=" in x][-1]
            fields = dict(re.findall(r"(triangles|mesh_kept)=(\d+)", line))
            return frames, int(fields["triangles"]), int(fields["mesh_kept"])

        _, far_tris, far_kept = run("kept.tif", 3.0)
        near, near_tris, near_kept = run("kept.tif", 2.0)
        fresh, fresh_tris, fresh_kept = run("afresh.tif", 2.0)
        _, _, other_range_kept = run("kept.tif", 2.0, [300, 900])
        print("\nkept tree: %d triangles far, %d near (built afresh: %d)"
              % (far_tris, near_tris, fresh_tris))
        self.assertEqual((far_kept, near_kept, fresh_kept, other_range_kept), (0, 1, 0, 0))
        self.assertGreater(near_tris, far_tris)
        self.assertEqual(near_tris, fresh_tris)
        self.assertTrue(np.array_equal(near, fresh))


class TitilerColormapsTest(PictureBase):
    """The 24 colormaps rio-tiler has beyond matplotlib, by name and reversed, colour
    the picture as their published tables (scripts/colormaps/*.npy) say."""

    def test_every_rio_tiler_name_is_accepted(self):
        """All 211 of rio-tiler's names (tests/integration/rio_tiler_colormaps.txt),
        in the GET form as TiTiler takes them, and an unknown one is a 400."""
        with open(os.path.join(SOURCE, "tests", "integration", "rio_tiler_colormaps.txt")) as f:
            names = [line.strip() for line in f if line.strip() and not line.startswith("#")]
        self.assertEqual(len(names), 211)
        refused = []
        for name in names:
            status, _, _ = self.daemon.request(
                "GET", "/v1/render?url=byte_20x20.tif&frames=1&width=32&height=18"
                "&colormap_name=" + name)
            if status != 200:
                refused.append((name, status))
        self.assertEqual(refused, [])
        status, _, body = self.daemon.request(
            "GET", "/v1/render?url=byte_20x20.tif&frames=1&width=32&height=18"
            "&colormap_name=no_such_map")
        self.assertEqual(status, 400)
        self.assertEqual(json.loads(body)["error"]["field"], "colormap_name")  # as sent

    def test_extra_tables_render_exactly(self):
        folder = os.path.join(SOURCE, "scripts", "colormaps")
        names = sorted(n[:-4] for n in os.listdir(folder) if n.endswith(".npy"))
        self.assertEqual(len(names), 24)
        ramp = np.tile(np.linspace(0, 255, 256, dtype=np.float32), (8, 1))
        write_geotiff(os.path.join(self.daemon.root, "ramp.tif"), ramp)
        status, _, listed = self.daemon.request("GET", "/v1/colormaps")
        listed = {m["name"] for m in json.loads(listed)["colormaps"]}
        for name in ("algae", "cfastie", "schwarzwald", "rplumbo", "balance_r", "THERMAL"):
            with self.subTest(name):
                base = name.lower()[:-2] if name.endswith("_r") else name.lower()
                self.assertIn(base, listed)
                table = np.load(os.path.join(folder, base + ".npy"))[:, :3].astype(float)
                if name.endswith("_r"):
                    table = table[::-1]
                job = {"raster": {"url": "ramp.tif"}, "style": {"colormap": name},
                       "camera": {"orbit": {"degrees": 0, "elevation": 90, "distance": 0.2,
                                            "fov": 30}},
                       "output": {"width": 640, "height": 64, "fps": 10, "frames": 1,
                                  "crf": 0, "speed": "good"}}
                frame = self.clip(job, name + ".webm")[0]
                row = frame[32, 40:600]
                # Each pixel is near some entry of the table (codec tolerance), and every
                # entry of the table shows somewhere along the ramp.
                d = np.abs(row[:, None, :] - table[None, :, :]).max(axis=2)
                self.assertLess(np.median(d.min(axis=1)), 6)
                self.assertLess(np.percentile(d.min(axis=0), 95), 12)


class CameraTest(PictureBase):
    """camera roll, a distance that fits the raster, and mayavi's isometric view."""

    def markers(self):
        """A dark raster with a bright patch near its north-east and a grey one near
        its south-west corner (cells of a 100 x 60 grid)."""
        values = np.zeros((60, 100), np.float32)
        values[5:11, 85:95] = 1.0   # north-east
        values[49:55, 5:15] = 0.5   # south-west
        write_geotiff(os.path.join(self.daemon.root, "markers.tif"), values)

    def centroid(self, frame, lo, hi):
        grey = frame.mean(axis=2)
        rows, cols = np.nonzero((grey > lo) & (grey < hi))
        self.assertGreater(len(rows), 10)
        return cols.mean(), rows.mean()

    def test_roll_turns_the_picture(self):
        self.markers()
        width, height, distance, fov = 480, 480, 1.6, 40
        for roll in (0, 90, 30):
            with self.subTest(roll=roll):
                job = {"raster": {"url": "markers.tif"},
                       "style": {"colormap": "gray", "background": "#0000ff"},
                       "camera": {"orbit": {"degrees": 0, "elevation": 90, "distance": distance,
                                            "fov": fov, "roll": roll}},
                       "output": {"width": width, "height": height, "fps": 10, "frames": 1,
                                  "crf": 4}}
                frame = self.clip(job, "roll%d.webm" % roll)[0]
                got = self.centroid(frame, 200, 256)  # the white patch
                x, y = raster_cell_centre(89.5, 7.5, 100, 60)
                want = look_at_pixel((x, y, 0), width, height, 0, 90, distance, fov, roll=roll)
                self.assertLess(np.hypot(got[0] - want[0], got[1] - want[1]), 4, (got, want))

    def test_fit_frames_the_raster_at_any_aspect(self):
        self.markers()
        for width, height in ((640, 180), (180, 640), (360, 360)):
            with self.subTest(size=(width, height)):
                job = {"raster": {"url": "markers.tif"},
                       "style": {"colormap": "gray", "background": "#0000ff"},
                       "camera": {"orbit": {"degrees": 90, "elevation": 35,
                                            "distance": "fit"}},
                       "output": {"width": width, "height": height, "fps": 4, "frames": 4,
                                  "crf": 8}}
                for frame in self.clip(job, "fit%dx%d.webm" % (width, height)):
                    raster = frame[..., 2] < 200  # not the blue background
                    rows, cols = np.nonzero(raster)
                    # Whole (no edge touched) and large (over half the narrower side).
                    self.assertGreater(rows.min(), 0)
                    self.assertLess(rows.max(), height - 1)
                    self.assertGreater(cols.min(), 0)
                    self.assertLess(cols.max(), width - 1)
                    span = max(rows.max() - rows.min(), cols.max() - cols.min())
                    self.assertGreater(span, 0.5 * min(width, height))

    def test_isometric_preset_looks_from_the_north_east(self):
        self.markers()
        job = {"raster": {"url": "markers.tif"},
               "style": {"colormap": "gray", "background": "#0000ff"},
               "camera": {"preset": "isometric", "orbit": {"degrees": 0}},
               "output": {"width": 480, "height": 360, "fps": 10, "frames": 1, "crf": 4}}
        frame = self.clip(job, "iso.webm")[0]
        ne = self.centroid(frame, 200, 256)
        sw = self.centroid(frame, 100, 160)
        self.assertGreater(ne[1], sw[1])  # the north-east corner is nearer: lower down
        raster = np.nonzero(frame[..., 2] < 200)
        self.assertGreater(raster[0].min(), 0)
        self.assertLess(raster[0].max(), 359)


class ColorbarOptionsTest(PictureBase):
    """style.colorbar's orientation, ticks and format, and style.title_size."""

    def bar_job(self, colorbar, **style):
        return {"raster": {"url": "jacksboro_dem.tif"},
                "style": dict({"colormap": "viridis", "colorbar": colorbar}, **style),
                "camera": {"orbit": {"degrees": 0, "elevation": 90}},
                "output": {"width": 640, "height": 360, "fps": 10, "frames": 1, "crf": 4}}

    def test_horizontal_bar_along_the_bottom(self):
        frame = self.clip(self.bar_job({"orientation": "horizontal", "label": "m"}), "h.webm")[0]
        hsv = matplotlib.colors.rgb_to_hsv(frame / 255.0)
        colourful = hsv[..., 1] > 0.35
        bottom = colourful[270:]  # the bottom quarter: the bar, and nothing of the scene
        rows = np.nonzero(bottom.mean(axis=1) > 0.5)[0]
        self.assertGreater(len(rows), 3, "no horizontal bar")
        y = 270 + int(np.median(rows))
        cols = np.nonzero(colourful[y])[0]
        left, right = cols.min(), cols.max()
        self.assertGreater(right - left, 640 * 0.6)
        cmap = matplotlib.colormaps["viridis"]
        n = right - left + 1
        errors = [np.abs(frame[y, x] - np.array(cmap((x - left + 0.5) / n)[:3]) * 255).max()
                  for x in range(left + 2, right - 1)]
        self.assertLess(np.median(errors), 10)  # min at the left, max at the right
        # No vertical bar at the right any more.
        right_panel = colourful[:250, int(640 * 0.85):]
        self.assertLess(right_panel.mean(axis=0).max(), 0.35)

    def test_ticks_and_format_change_the_labels(self):
        def ink(colorbar):
            frame = self.clip(self.bar_job(colorbar), "t.webm")[0]
            return frame[:, int(640 * 0.8):].max(axis=2) < 100  # the bar's panel, dark ink
        few = ink({"ticks": 2})
        many = ink({"ticks": 12})
        formatted = ink({"ticks": 2, "format": "%.2f km"})
        self.assertGreater(many.sum(), few.sum() * 1.1)  # more ticks, more labels
        self.assertGreater((formatted != few).sum(), 200)  # other labels
        status, _, body = self.daemon.render(self.bar_job({"format": "%s"}))
        self.assertEqual(status, 400)
        self.assertEqual(json.loads(body)["error"]["field"], "style.colorbar.format")

    def test_title_size(self):
        def title_rows(size):
            job = self.bar_job(False, title="Jacksboro", **({"title_size": size} if size else {}))
            frame = self.clip(job, "title.webm")[0]
            ink = frame[:100].max(axis=2) < 100
            return np.nonzero(ink.any(axis=1))[0]
        small, large = title_rows(10), title_rows(40)
        self.assertGreater(large.max() - large.min(), 2.5 * (small.max() - small.min()))


class OutlineTest(PictureBase):
    """style.outline draws the raster's bounding box: its corners land where a
    pinhole camera puts them (numpy), in image and surface mode."""

    def test_box_corners_where_projected(self):
        width, height, az, el, distance, fov = 640, 360, 30, 35, 2.4, 30
        for mode, top in (("image", 0.0), ("surface", 0.2)):
            with self.subTest(mode=mode):
                job = {"raster": {"url": "jacksboro_dem.tif"},
                       "style": {"mode": mode, "outline": "#ff0000", "background": "#000000",
                                 "colormap": "gray"},
                       "camera": {"orbit": {"degrees": 0, "start": az, "elevation": el,
                                            "distance": distance, "fov": fov}},
                       "output": {"width": width, "height": height, "fps": 10, "frames": 1,
                                  "crf": 4}}
                frame = self.clip(job, "outline_%s.webm" % mode)[0]
                red = (frame[..., 0] > 150) & (frame[..., 1] < 90) & (frame[..., 2] < 90)
                self.assertGreater(red.sum(), 200)
                sx, sy = 403 / 403, 344 / 403  # jacksboro: 403 x 344 cells
                # The far corner on the ground (north-east, seen from the south-south-west)
                # and, for a surface, the near top corner.
                corners = [(sx / 2, sy / 2, 0.0), (-sx / 2, -sy / 2, top)]
                for corner in corners:
                    px, py = look_at_pixel(corner, width, height, az, el, distance, fov)
                    window = red[int(py) - 4:int(py) + 5, int(px) - 4:int(px) + 5]
                    self.assertTrue(window.any(), "no outline near %s at (%.0f, %.0f)"
                                    % (corner, px, py))
                job["style"]["outline"] = False
                plain = self.clip(job, "plain_%s.webm" % mode)[0]
                red = (plain[..., 0] > 150) & (plain[..., 1] < 90) & (plain[..., 2] < 90)
                self.assertEqual(red.sum(), 0)


class BandLabelsTest(PictureBase):
    """style.band_labels: the file's names for the bands (here the NetCDF time of a
    monthly series, read with GDAL and Python's datetime as the oracle), or a list."""

    def file_labels(self, path):
        """The oracle: each band's description, else its NetCDF time as a date (a month
        when the dates are a month apart), else "band N" — read with GDAL and datetime."""
        import datetime
        from osgeo import gdal
        ds = gdal.Open(path)
        units = ds.GetMetadataItem("time#units") or ""
        descriptions = [ds.GetRasterBand(b + 1).GetDescription() for b in range(ds.RasterCount)]
        times = [ds.GetRasterBand(b + 1).GetMetadataItem("NETCDF_DIM_time")
                 for b in range(ds.RasterCount)]
        if all(descriptions):
            return descriptions
        if " since " in units and all(times):
            epoch = datetime.date.fromisoformat(units.split(" since ")[1][:10])
            dates = [epoch + datetime.timedelta(days=float(t)) for t in times]
            gaps = [(b - a).days for a, b in zip(dates, dates[1:])]
            if gaps and all(28 <= g <= 31 for g in gaps):
                return ["%04d-%02d" % (d.year, d.month) for d in dates]
            return [d.isoformat() for d in dates]
        return [self.date_label(ds, ds.GetRasterBand(b + 1)) or "band %d" % (b + 1)
                for b in range(ds.RasterCount)]

    @staticmethod
    def date_label(ds, band):
        """An acquisition date: the band's, IMAGERY's, the TIFF tag's (TIFF's colons in
        the date read as ISO's dashes, by datetime)."""
        import datetime
        for key in ("ACQUISITIONDATETIME", "ACQUISITION_DATE", "DATETIME", "TIFFTAG_DATETIME"):
            if band.GetMetadataItem(key):
                date = band.GetMetadataItem(key)
                break
        else:
            date = (ds.GetMetadataItem("ACQUISITIONDATETIME", "IMAGERY")
                    or ds.GetMetadataItem("TIFFTAG_DATETIME"))
        try:
            return datetime.datetime.strptime(date, "%Y:%m:%d %H:%M:%S").isoformat(" ")
        except (TypeError, ValueError):
            return date

    def test_labels_from_the_file_equal_the_same_labels_given(self):
        # The time series' bands have descriptions ("pr_1999-01", ...); a copy without
        # them falls back to the NetCDF time ("1999-01", ...).
        from osgeo import gdal
        src = os.path.join(self.daemon.root, "timeseries_precip_1999_12band.tif")
        timed = os.path.join(self.daemon.root, "timed.tif")
        ds = gdal.Translate(timed, src)
        for b in range(ds.RasterCount):
            ds.GetRasterBand(b + 1).SetDescription("")
        ds = None
        # Without descriptions or NetCDF times: acquisition dates, the band's own
        # (bands 1 and 2) or the file's TIFF tag (band 3).
        dated = os.path.join(self.daemon.root, "dated.tif")
        ds = gdal.Translate(dated, src, bandList=[1, 2, 3])
        ds.SetMetadata({"TIFFTAG_DATETIME": "2021:06:15 10:30:00"})
        for b in range(3):
            band = ds.GetRasterBand(b + 1)
            band.SetDescription("")
            band.SetMetadata({"ACQUISITIONDATETIME": "2021-0%d-01T09:00:00Z" % (b + 4)}
                             if b < 2 else {})
        ds = None
        labels = {"timeseries_precip_1999_12band.tif": self.file_labels(src),
                  "timed.tif": self.file_labels(timed), "dated.tif": self.file_labels(dated)}
        self.assertEqual(labels["dated.tif"], ["2021-04-01T09:00:00Z", "2021-05-01T09:00:00Z",
                                               "2021-06-15 10:30:00"])
        self.assertEqual(labels["timeseries_precip_1999_12band.tif"][0], "pr_1999-01")
        self.assertEqual(labels["timed.tif"][:2], ["1999-01", "1999-02"])
        for name, expected in labels.items():
            with self.subTest(name):
                self.check_labels(name, expected)

    def check_labels(self, name, expected):
        base = {"raster": {"url": name},
                "style": {"colormap": "YlGnBu", "band_labels": True},
                "camera": {"orbit": {"degrees": 0, "elevation": 90, "distance": 1.5}},
                "timeline": {"frames_per_band": 2},
                "output": {"width": 320, "height": 180, "fps": 10, "speed": "good"}}
        status, _, from_file = self.daemon.render(base)
        self.assertEqual(status, 200)
        given = json.loads(json.dumps(base))
        given["style"]["band_labels"] = expected
        status, _, from_list = self.daemon.render(given)
        self.assertEqual(status, 200)
        self.assertEqual(from_file, from_list)  # the same labels, byte for byte
        # The labels change with the band: the strip below the scene differs.
        with open(os.path.join(self.tmp.name, "labels.webm"), "wb") as f:
            f.write(from_file)
        frames = decode_frames(os.path.join(self.tmp.name, "labels.webm"), 320, 180)
        strip = frames[:, 160:, :120].astype(float)
        self.assertGreater(np.abs(strip[0] - strip[-1]).max(), 100)
        self.assertLess(np.abs(strip[0] - strip[1]).max(), 30)  # same band, same label
        # Blending, each frame shows the nearer band's label: at 0 and 1/4 of the way
        # the first band's, at 1/2 and 3/4 the second's (its own frame's).
        blend = json.loads(json.dumps(base))
        blend["timeline"] = {"frames_per_band": 4, "blend": True}
        blend["output"]["frames"] = 5
        self.render_ok(blend, os.path.join(self.tmp.name, "blend.webm"))
        frames = decode_frames(os.path.join(self.tmp.name, "blend.webm"), 320, 180)
        strip = frames[:, 160:, :120].astype(float)
        for i, nearer in enumerate((0, 0, 4, 4)):
            self.assertLess(np.abs(strip[i] - strip[nearer]).max(), 30, i)
        self.assertGreater(np.abs(strip[1] - strip[2]).max(), 100)
        # A list of the wrong length names the field.
        given["style"]["band_labels"] = expected[:-1]
        status, _, body = self.daemon.render(given)
        self.assertEqual(status, 422)
        self.assertEqual(json.loads(body)["error"]["field"], "style.band_labels")


class PerBandRescaleTest(PictureBase):
    """raster.rescale "per_band": each band over its own valid min..max (numpy's
    nanmin/nanmax, coloured by matplotlib), the colorbar's numbers following the
    frame; the GET form says the same."""

    NAME = "timeseries_precip_1999_12band.tif"
    W, H, DISTANCE, FOV = 640, 360, 1.2, 40.0

    def job(self, rescale, colorbar=False):
        raster = {"url": self.NAME, "bands": [1, 7]}
        if rescale:
            raster["rescale"] = rescale
        return {"raster": raster,
                "style": {"colormap": "viridis", "colorbar": colorbar},
                "camera": {"orbit": {"degrees": 0, "elevation": 90, "distance": self.DISTANCE,
                                     "fov": self.FOV}},
                "timeline": {"frames_per_band": 1},
                "output": {"width": self.W, "height": self.H, "fps": 10, "crf": 4,
                           "speed": "good"}}

    def bands(self):
        return read_bands(os.path.join(self.daemon.root, self.NAME), (1, 7))

    def test_each_band_spans_the_colormap(self):
        frames = self.clip(self.job("per_band"))
        self.assertEqual(len(frames), 2)
        bands = self.bands()
        lo_all, hi_all = np.nanmin(bands), np.nanmax(bands)
        for frame, values in zip(frames, bands):
            lo, hi = np.nanmin(values), np.nanmax(values)
            want, inside = expected_top_down(values, lo, hi, "viridis", self.W, self.H,
                                             self.DISTANCE, self.FOV, 255.0)
            score = psnr(frame[inside], want[inside])
            self.assertGreaterEqual(score, 30.0, "PSNR %.2f dB" % score)
            shared, _ = expected_top_down(values, lo_all, hi_all, "viridis", self.W, self.H,
                                          self.DISTANCE, self.FOV, 255.0)
            shared_score = psnr(frame[inside], shared[inside])
            if (lo, hi) != (lo_all, hi_all):
                self.assertLess(shared_score, score - 3)

    def test_colorbar_numbers_follow_the_frame(self):
        def panel_ink(frames):
            return [f[:, int(self.W * 0.8):].max(axis=2) < 100 for f in frames]
        per_band = panel_ink(self.clip(self.job("per_band", True), "p.webm"))
        shared = panel_ink(self.clip(self.job(None, True), "s.webm"))
        self.assertGreater(per_band[0].sum(), 100)  # the numbers are drawn
        self.assertGreater((per_band[0] != per_band[1]).sum(), 100)  # and change with the band
        self.assertLess((shared[0] != shared[1]).sum(), 20)  # one range: the same numbers
        # The GET form: the same clip, byte for byte.
        status, _, body = self.daemon.render(self.job("per_band", True))
        self.assertEqual(status, 200)
        query = ("/v1/render?url=%s&bidx=1&bidx=7&rescale=per_band&colormap_name=viridis"
                 "&colorbar=true&orbit=0&elevation=90&distance=1.2&fov=40&frames_per_band=1"
                 "&width=640&height=360&fps=10&crf=4&speed=good" % self.NAME)
        status, _, got = self.daemon.request("GET", query)
        self.assertEqual(status, 200, got[:300])
        self.assertEqual(got, body)

    def test_not_with_a_colormap_of_value_intervals(self):
        job = self.job("per_band")
        job["style"]["colormap"] = {"intervals": [[[0, 100], [255, 0, 0, 255]],
                                                  [[100, 1000], [0, 0, 255, 255]]]}
        status, _, body = self.daemon.render(job)
        self.assertEqual(status, 422)
        self.assertEqual(json.loads(body)["error"]["field"], "raster.rescale")


class AxesTest(PictureBase):
    """style.axes: tick marks at evenly spaced round values of the raster's own
    coordinates (its geotransform read with GDAL), where a straight-down camera
    projects them, with their labels beside them."""

    W, H, DISTANCE, FOV = 640, 360, 1.7, 40.0

    def job(self, axes):
        return {"raster": {"url": "jacksboro_dem.tif"},
                "style": {"colormap": "viridis", "axes": axes},
                "camera": {"orbit": {"degrees": 0, "elevation": 90, "distance": self.DISTANCE,
                                     "fov": self.FOV}},
                "output": {"width": self.W, "height": self.H, "fps": 10, "frames": 1, "crf": 4,
                           "speed": "good"}}

    def ticks(self, ink, along, at, outward, length):
        """Centres of the runs of ink in the `length` pixels beyond the edge at `at`."""
        lines = [ink[at + outward * d] if along == "x" else ink[:, at + outward * d]
                 for d in range(2, length)]
        marks = np.logical_and.reduce(lines)
        centres, run = [], []
        for i, m in enumerate(marks):
            if m:
                run.append(i)
            elif run:
                centres.append(np.mean(run))
                run = []
        return centres

    def check_round(self, values, unit):
        values = np.array(values)
        steps = np.diff(values)
        self.assertGreaterEqual(len(values), 3, values)
        step = np.median(steps)
        self.assertLess(np.abs(steps - step).max(), 2 * unit, values)  # evenly spaced
        exponent = np.floor(np.log10(abs(step)))
        mantissa = abs(step) / 10 ** exponent
        nice = min((1, 2, 2.5, 5, 10), key=lambda n: abs(n - mantissa))
        self.assertLess(abs(nice - mantissa) * 10 ** exponent, 2 * unit, step)
        exact = nice * 10 ** exponent
        off = np.abs(values / exact - np.round(values / exact)) * exact
        self.assertLess(off.max(), 2 * unit, values)  # multiples of the step

    def test_ticks_at_round_coordinates(self):
        plain = self.clip(self.job(False), "plain.webm")[0]
        framed = self.clip(self.job(True), "axes.webm")[0]
        ds = gdal.Open(os.path.join(self.daemon.root, "jacksboro_dem.tif"))
        g, cols, rows = ds.GetGeoTransform(), ds.RasterXSize, ds.RasterYSize
        longest = max(cols, rows)
        sx, sy = cols / longest, rows / longest
        left, bottom = top_down_pixel(-sx / 2, -sy / 2, self.W, self.H, self.DISTANCE, self.FOV)
        right, top = top_down_pixel(sx / 2, sy / 2, self.W, self.H, self.DISTANCE, self.FOV)
        px_per_world = (right - left) / sx
        tick = int(0.02 * px_per_world)
        ink = (framed.max(axis=2) < 120) & (plain.max(axis=2) > 200)  # drawn on the background
        # x: below the south edge; column -> easting by the geotransform.
        xs = self.ticks(ink[:, int(left):int(right) + 1], "x", int(round(bottom)), 1, tick)
        eastings = [g[0] + (int(left) + c + 0.5 - left) / (right - left) * cols * g[1]
                    for c in xs]
        self.check_round(eastings, abs(g[1]) * cols / (right - left))
        # y: left of the west edge; row -> northing.
        ys = self.ticks(ink[int(top):int(bottom) + 1], "y", int(round(left)), -1, tick)
        northings = [g[3] + (int(top) + r + 0.5 - top) / (bottom - top) * rows * g[5]
                     for r in ys]
        self.check_round(northings, abs(g[5]) * rows / (bottom - top))
        # The labels: ink further out than the ticks, below and to the left.
        reach = int(0.12 * px_per_world)  # labels centre 0.06 world units out
        self.assertGreater(ink[int(bottom) + tick + 1:int(bottom) + reach].sum(), 80)
        self.assertGreater(ink[:, int(left) - 3 * reach:int(left) - tick - 1].sum(), 80)
        # Nothing of it on the raster, and the GET form draws the same.
        self.assertLess(np.abs(framed - plain)[int(top) + 3:int(bottom) - 3,
                                               int(left) + 3:int(right) - 3].max(), 40)
        status, _, body = self.daemon.request(
            "GET", "/v1/render?url=jacksboro_dem.tif&colormap_name=viridis&axes=true&orbit=0"
            "&elevation=90&distance=1.7&fov=40&width=640&height=360&fps=10&frames=1&crf=4"
            "&speed=good")
        self.assertEqual(status, 200)
        with open(os.path.join(self.tmp.name, "axes.webm"), "rb") as f:
            self.assertEqual(body, f.read())
