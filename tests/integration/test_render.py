"""End to end: jobs in, clips out, checked by ffprobe, libwebm, mkvtoolnix and
pixel comparison against matplotlib's colour tables."""
import glob
import json
import math
import os
import subprocess
import tempfile
import unittest

import jsonschema
import matplotlib
import numpy as np
from osgeo import gdal

from harness import (CODECS, SOURCE, DaemonTest, decode_frames, ffprobe, patch_mean, raster_cell_centre,
                     top_down_pixel)

EXAMPLES = sorted(glob.glob(os.path.join(SOURCE, "proto", "examples", "*.json")))


def expected_frames(job, bands):
    out = job.get("output", {})
    fps = out.get("fps", 30)
    if "frames" in out:
        return out["frames"]
    if "duration" in out:
        return round(out["duration"] * fps)
    per = job.get("timeline", {}).get("frames_per_band")
    if bands == 1 and per is None:
        return 4 * fps
    return bands * (per or 10)


class RenderTest(DaemonTest):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.tmp.name, name)

    def test_examples_validate_against_schema_and_render(self):
        with open(os.path.join(SOURCE, "proto", "job.schema.json")) as f:
            schema = json.load(f)
        jsonschema.Draft202012Validator.check_schema(schema)
        self.assertGreaterEqual(len(EXAMPLES), 3)
        for example in EXAMPLES:
            with self.subTest(example=os.path.basename(example)):
                with open(example) as f:
                    job = json.load(f)
                jsonschema.validate(job, schema, cls=jsonschema.Draft202012Validator)
                kind = job["output"].get("format", "webm")
                clip = self.path("example." + kind)
                self.render_ok(job, clip)
                raster = gdal.Open(os.path.join(self.daemon.root, job["raster"]["url"]))
                bands = job["raster"].get("bands")
                count = (bands["last"] - bands["first"] + 1) if isinstance(bands, dict) else (
                    len(bands) if bands else raster.RasterCount)
                stream, fmt = ffprobe(clip)
                self.assertEqual(stream["codec_name"], CODECS[kind])
                self.assertEqual(stream["width"], job["output"]["width"])
                self.assertEqual(stream["height"], job["output"]["height"])
                self.assertEqual(int(stream["nb_read_frames"]), expected_frames(job, count))

    def test_clip_structure(self):
        job = {"raster": {"url": "jacksboro_dem.tif"},
               "output": {"width": 640, "height": 360, "fps": 30, "frames": 45,
                          "keyframe_interval": 20}}
        clip = self.path("clip.webm")
        headers, body = self.render_ok(job, clip)
        self.assertTrue(headers.get("x-request-id"))
        self.assertEqual(body[:4], b"\x1a\x45\xdf\xa3")  # EBML magic
        stream, fmt = ffprobe(clip)
        self.assertEqual(fmt["format_name"], "matroska,webm")
        self.assertEqual(stream["codec_name"], "vp9")
        self.assertEqual((stream["width"], stream["height"]), (640, 360))
        self.assertEqual(stream["avg_frame_rate"], "30/1")
        self.assertEqual(int(stream["nb_read_frames"]), 45)
        self.assertAlmostEqual(float(fmt["duration"]), 1.5, places=3)

        # libwebm's parser: Duration, codec, pixel size, and one keyframe cluster per 20 frames.
        info = subprocess.run(["webm_info", "-i", clip, "-all"], capture_output=True, text=True)
        self.assertEqual(info.returncode, 0, info.stderr)
        self.assertIn("CodecID     : V_VP9", info.stdout)
        self.assertIn("PixelWidth  : 640", info.stdout)
        self.assertRegex(info.stdout, r"Duration\(secs\): 1\.5")
        self.assertEqual(info.stdout.count("Cluster:"), 3)
        self.assertEqual(len([l for l in info.stdout.splitlines()
                              if "SimpleBlock" in l or "Block:" in l]) >= 45, True)

        mkv = subprocess.run(["mkvinfo", clip], capture_output=True, text=True)
        self.assertEqual(mkv.returncode, 0, mkv.stdout + mkv.stderr)
        self.assertIn("Codec ID: V_VP9", mkv.stdout)
        self.assertIn("Pixel width: 640", mkv.stdout)
        self.assertIn("Duration: 00:00:01.500000000", mkv.stdout)
        self.assertIn("Segment: size unknown", mkv.stdout)

    def test_frame_zero_colours_match_matplotlib(self):
        """Top-down view of a 3x2 Float32 raster with one NaN cell: each cell's
        centre shows viridis(value normalised over the valid range); the NaN cell
        shows the background."""
        width, height, distance, fov = 640, 360, 1.6, 30.0
        background = (32, 64, 96)
        job = {"raster": {"url": "float32_nan_tiny.tif"},
               "style": {"colormap": "viridis", "background": "#204060"},
               "camera": {"orbit": {"start": 0, "degrees": 0, "elevation": 90,
                                    "distance": distance, "fov": fov}},
               "output": {"width": width, "height": height, "fps": 10, "frames": 3}}
        clip = self.path("tiny.webm")
        self.render_ok(job, clip)
        frame = decode_frames(clip, width, height)[0].astype(float)

        ds = gdal.Open(os.path.join(self.daemon.root, "float32_nan_tiny.tif"))
        values = ds.ReadAsArray()
        # The file's pixel height is positive: its rows run south to north, and the
        # picture shows its last row on top.
        self.assertGreater(ds.GetGeoTransform()[5], 0)
        values = values[::-1]
        rows, cols = values.shape
        norm = matplotlib.colors.Normalize(vmin=np.nanmin(values), vmax=np.nanmax(values))
        viridis = matplotlib.colormaps["viridis"]
        checked_nan = 0
        for r in range(rows):
            for c in range(cols):
                x, y = raster_cell_centre(c, r, cols, rows)
                px, py = top_down_pixel(x, y, width, height, distance, fov)
                got = patch_mean(frame, px, py, radius=3)
                if math.isnan(values[r, c]):
                    want = np.array(background, float)
                    checked_nan += 1
                else:
                    want = np.array(viridis(norm(values[r, c]))[:3]) * 255
                err = np.abs(got - want).max()
                self.assertLess(err, 10, "cell (%d,%d) value %s: got %s want %s"
                                % (r, c, values[r, c], got.round(1), want.round(1)))
        self.assertEqual(checked_nan, 1)
        # Outside the raster: background.
        corner = patch_mean(frame, 10, 10)
        self.assertLess(np.abs(corner - np.array(background)).max(), 8)

    def test_rescale_nodata_and_reverse(self):
        """byte_20x20 with rescale [100,200], nodata=132 and gray_r, top down."""
        width, height, distance, fov = 640, 360, 1.2, 40.0
        job = {"raster": {"url": "byte_20x20.tif", "rescale": [100, 200], "nodata": 132},
               "style": {"colormap": "GRAY_R", "nan_color": "#ff0000ff"},
               "camera": {"orbit": {"degrees": 0, "elevation": 90, "distance": distance,
                                    "fov": fov}},
               "output": {"width": width, "height": height, "fps": 5, "frames": 2, "crf": 10}}
        clip = self.path("byte.webm")
        self.render_ok(job, clip)
        frame = decode_frames(clip, width, height)[0].astype(float)
        values = gdal.Open(os.path.join(self.daemon.root, "byte_20x20.tif")).ReadAsArray()
        cmap = matplotlib.colormaps["gray_r"]
        norm = matplotlib.colors.Normalize(vmin=100, vmax=200, clip=True)
        rows, cols = values.shape
        nodata_seen = 0
        for r in range(2, rows - 2, 3):
            for c in range(2, cols - 2, 3):
                x, y = raster_cell_centre(c, r, cols, rows)
                px, py = top_down_pixel(x, y, width, height, distance, fov)
                if values[r, c] == 132:
                    want = np.array([255.0, 0, 0])
                    nodata_seen += 1
                else:
                    want = np.array(cmap(norm(float(values[r, c])))[:3]) * 255
                got = patch_mean(frame, px, py, radius=1)
                # Neighbouring cells differ sharply; 4:2:0 chroma needs a wider margin on red.
                tolerance = 40 if values[r, c] == 132 else 12
                self.assertLess(np.abs(got - want).max(), tolerance,
                                "cell (%d,%d)=%d got %s want %s" % (r, c, values[r, c], got, want))
        self.assertGreater(nodata_seen, 0)

    def test_band_stack_plays_every_band(self):
        job = {"raster": {"url": "timeseries_precip_1999_12band.tif"},
               "camera": {"orbit": {"degrees": 0, "elevation": 90, "distance": 1.0}},
               "timeline": {"frames_per_band": 3},
               "output": {"width": 320, "height": 180, "fps": 12}}
        clip = self.path("stack.webm")
        self.render_ok(job, clip)
        stream, fmt = ffprobe(clip)
        self.assertEqual(int(stream["nb_read_frames"]), 36)
        self.assertAlmostEqual(float(fmt["duration"]), 3.0, places=3)
        frames = decode_frames(clip, 320, 180).astype(float)
        # Frames of one band match each other; neighbouring bands differ.
        same = np.abs(frames[0] - frames[2]).mean()
        different = np.abs(frames[0] - frames[3]).mean()
        self.assertLess(same, 2.0)
        self.assertGreater(different, 4 * same + 1.0)


if __name__ == "__main__":
    unittest.main()
