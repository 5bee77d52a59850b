"""The GET form of a job: TiTiler's parameter names, errors naming the parameter,
HEAD, and Range requests on the live stream."""
import json
import tempfile
import urllib.parse

from harness import DaemonTest, decode_frames, ffprobe


class QueryTest(DaemonTest):
    def get(self, params, method="GET", headers=None):
        query = urllib.parse.urlencode(params, doseq=True)
        return self.daemon.request(method, "/v1/render?" + query, headers=headers)

    def test_video_src_style_request(self):
        params = [("url", "timeseries_precip_1999_12band.tif"), ("bidx", "1"), ("bidx", "2"),
                  ("bidx", "3"), ("rescale", "[0,200]"), ("rescale", "10,300"),
                  ("colormap_name", "YlGnBu_r"), ("nodata", "nan"), ("mode", "surface"),
                  ("orbit", "90"), ("azimuth", "10"), ("elevation", "40"), ("distance", "2"),
                  ("fov", "35"), ("exaggeration", "2"), ("lighting", "false"),
                  ("background", "000000"), ("nan_color", "#808080ff"), ("reverse", "false"),
                  ("colorbar", "mm"), ("title", "Rain"), ("frames_per_band", "4"),
                  ("blend", "true"), ("width", "320"), ("height", "180"), ("fps", "12"),
                  ("speed", "realtime"), ("crf", "30"), ("keyframe_interval", "12"),
                  ("return_mask", "true"), ("max_size", "1024"), ("format", "png"),
                  ("tilesize", "512"), ("buffer", "2"), ("padding", "1"),
                  ("resampling", "bilinear")]
        status, headers, body = self.get(params)
        self.assertEqual(status, 200, body[:300])
        self.assertEqual(headers["content-type"], "video/webm")
        with tempfile.NamedTemporaryFile(suffix=".webm") as f:
            f.write(body)
            f.flush()
            stream, fmt = ffprobe(f.name)
            self.assertEqual((stream["width"], stream["height"]), (320, 180))
            self.assertEqual(int(stream["nb_read_frames"]), 12)  # 3 bands x 4 frames

    def test_every_parameter_in_info_is_named_in_errors(self):
        cases = [("width", "abc", 400), ("width", "99999", 422), ("fps", "0", 422),
                 ("orbit", "x", 400), ("elevation", "100", 422), ("fov", "180", 422),
                 ("rescale", "5", 400), ("rescale", "[9,1]", 422), ("bidx", "0", 400),
                 ("colormap_name", "nope", 400), ("mode", "volume", 400),
                 ("background", "blue", 400), ("nodata", "none", 400), ("blend", "maybe", 400),
                 ("duration", "-1", 422), ("colormap", "{}", 400), ("colormap", "[[[0,1]]]", 400),
                 ("colormap", "nope", 400), ("resampling", "sharp", 400),
                 ("format", "avi", 400), ("detail", "lots", 400)]
        for key, value, want in cases:
            with self.subTest(key=key, value=value):
                status, headers, body = self.get([("url", "byte_20x20.tif"), (key, value)])
                self.assertEqual(status, want, body)
                self.assertEqual(json.loads(body)["error"]["field"], key)
        status, _, body = self.get([("width", "64")])
        self.assertEqual((status, json.loads(body)["error"]["field"]), (400, "url"))
        status, _, body = self.get([("url", "a.tif"), ("url", "b.tif")])
        self.assertEqual((status, json.loads(body)["error"]["field"]), (400, "url"))
        status, _, body = self.daemon.request("GET", "/v1/info")
        self.assertIn("return_mask", json.loads(body)["ignored_query_parameters"])

    def test_colorbar_options_in_either_order_equal_the_json_job(self):
        job = {"raster": {"url": "byte_20x20.tif"},
               "style": {"colorbar": {"label": "m", "orientation": "horizontal", "ticks": 6,
                                      "format": "%.1f"},
                         "title": "T", "title_size": 20},
               "output": {"width": 320, "height": 180, "frames": 2, "speed": "good"}}
        status, _, want = self.daemon.render(job)
        self.assertEqual(status, 200)
        options = [("colorbar_orientation", "horizontal"), ("colorbar_ticks", "6"),
                   ("colorbar_format", "%.1f"), ("title", "T"), ("title_size", "20")]
        base = [("url", "byte_20x20.tif"), ("width", "320"), ("height", "180"),
                ("frames", "2"), ("speed", "good")]
        for params in (base + [("colorbar", "m")] + options,
                       base + options + [("colorbar", "m")]):
            status, _, body = self.get(params)
            self.assertEqual(status, 200, body[:300])
            self.assertEqual(body, want)
        # colorbar=true with options is the bar with those options and no label.
        job["style"]["colorbar"].pop("label")
        _, _, want = self.daemon.render(job)
        _, _, body = self.get(base + [("colorbar", "true")] + options)
        self.assertEqual(body, want)
        cases = [([("colorbar_ticks", "x")], 400, "colorbar_ticks"),
                 ([("colorbar_format", "%s")], 400, "colorbar_format"),
                 ([("colorbar", "false"), ("colorbar_ticks", "3")], 400, "colorbar_ticks"),
                 ([("colorbar_ticks", "3"), ("colorbar", "false")], 400, "colorbar"),
                 ([("colorbar_orientation", "diagonal")], 400, "colorbar_orientation"),
                 ([("title_size", "1")], 422, "title_size")]
        for bad, want_status, field in cases:
            with self.subTest(bad=bad):
                status, _, body = self.get(base + bad)
                self.assertEqual(status, want_status, body)
                self.assertEqual(json.loads(body)["error"]["field"], field)

    def test_one_light_in_the_get_form_equals_the_json_job(self):
        light = {"azimuth": 300, "elevation": 30, "ambient": 0.1, "diffuse": 0.8,
                 "specular": 0.2, "shininess": 40}
        job = {"raster": {"url": "byte_20x20.tif"},
               "style": {"mode": "surface", "lighting": light},
               "output": {"width": 320, "height": 180, "frames": 2, "speed": "good"}}
        status, _, want = self.daemon.render(job)
        self.assertEqual(status, 200)
        base = [("url", "byte_20x20.tif"), ("mode", "surface"), ("width", "320"),
                ("height", "180"), ("frames", "2"), ("speed", "good")]
        params = base + [("light_" + k, str(v)) for k, v in light.items()]
        for extra in ([], [("lighting", "true")]):
            status, _, body = self.get(params + extra)
            self.assertEqual(status, 200, body[:300])
            self.assertEqual(body, want)
        status, _, body = self.get(params + [("lighting", "false")])
        self.assertEqual((status, json.loads(body)["error"]["field"]), (400, "lighting"))
        status, _, body = self.get(base + [("light_elevation", "95")])
        self.assertEqual((status, json.loads(body)["error"]["field"]), (422, "light_elevation"))

    def test_unknown_parameters_are_ignored_as_titiler_ignores_them(self):
        """A parameter nobody knows is ignored (a TiTiler URL may carry others'), listed
        in X-Rasterclip-Ignored and the log; the clip is what it would be without it."""
        base = [("url", "byte_20x20.tif"), ("width", "64"), ("height", "36"), ("frames", "2"),
                ("speed", "good")]
        status, headers, plain = self.get(base)
        self.assertEqual(status, 200)
        self.assertNotIn("x-rasterclip-ignored", headers)
        status, headers, body = self.get(base + [("bogus", "1"), ("layer", "x")])
        self.assertEqual(status, 200, body[:200])
        self.assertEqual(headers.get("x-rasterclip-ignored"), "bogus,layer")
        self.assertEqual(body, plain)
        self.assertIn('query parameters ignored" names="bogus,layer"', self.daemon.log())
        status, headers, _ = self.daemon.request(
            "HEAD", "/v1/render?url=byte_20x20.tif&frames=2&unheard_of=1")
        self.assertEqual((status, headers.get("x-rasterclip-ignored")), (200, "unheard_of"))

    def test_titiler_colormaps(self):
        """TiTiler's two colormap forms: value -> colour, and [[min, max], colour]."""
        def frame(cmap, url="byte_20x20.tif"):
            params = [("url", url), ("colormap", json.dumps(cmap)), ("width", "64"),
                      ("height", "36"), ("frames", "1"), ("crf", "4"), ("elevation", "90"),
                      ("orbit", "0"), ("distance", "0.6"), ("background", "000000")]
            status, _, body = self.get(params)
            self.assertEqual(status, 200, body[:300])
            with tempfile.NamedTemporaryFile(suffix=".webm") as f:
                f.write(body)
                f.flush()
                return decode_frames(f.name, 64, 36)[0].astype(float)
        # byte_20x20 holds 74..255: everything below 128 red, the rest blue.
        f = frame([[[0, 128], [255, 0, 0, 255]], [[128, 256], "#0000ff"]])
        red = (f[..., 0] > 150) & (f[..., 2] < 100)
        blue = (f[..., 2] > 150) & (f[..., 0] < 100)
        self.assertGreater(red.sum(), 100)
        self.assertGreater(blue.sum(), 100)
        self.assertGreater((red | blue).mean(), 0.8)  # the raster fills the view
        # Discrete values: only 107 coloured; everything else transparent (background).
        f = frame({"107": [0, 255, 0, 255]})
        green = (f[..., 1] > 150) & (f[..., 0] < 100)
        black = f.max(axis=2) < 40
        self.assertGreater(green.sum(), 5)
        self.assertGreater(black.mean(), 0.6)

    def test_head_validates_without_rendering(self):
        status, headers, body = self.get([("url", "byte_20x20.tif")], method="HEAD")
        self.assertEqual((status, headers["content-type"], body), (200, "video/webm", b""))
        status, headers, _ = self.get([("url", "byte_20x20.tif"), ("width", "x")], method="HEAD")
        self.assertEqual(status, 400)
        self.assertNotIn('outcome=ok w=1280', self.daemon.log())  # nothing was rendered

    def test_range_request_gets_the_whole_live_stream(self):
        params = [("url", "byte_20x20.tif"), ("width", "64"), ("height", "36"), ("frames", "3")]
        status, headers, body = self.get(params, headers={"Range": "bytes=100-"})
        self.assertEqual(status, 200)
        self.assertNotIn("accept-ranges", headers)
        self.assertEqual(body[:4], b"\x1a\x45\xdf\xa3")
