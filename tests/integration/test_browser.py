"""A real browser (Debian's headless Chromium) plays the streamed clip from the demo
page: it knows the clip's length from the start (Duration in Info, not a live
stream), its size, and plays to the end."""
import json
import math
import os
import re
import shutil
import subprocess
import tempfile
import urllib.parse

from harness import DaemonTest

CHROMIUM = shutil.which("chromium")


def screenshot(html, size=(320, 180), budget_ms=5000):
    """What headless Chromium shows of a page (written to a file) after `budget_ms`
    of virtual time, as an (rows, cols, 3) array."""
    import numpy as np
    with tempfile.TemporaryDirectory() as tmp:
        page = os.path.join(tmp, "page.html")
        with open(page, "w") as f:
            f.write(html)
        shot = os.path.join(tmp, "shot.png")
        subprocess.run(
            [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--no-first-run", "--user-data-dir=" + tmp + "/profile",
             "--autoplay-policy=no-user-gesture-required",
             "--virtual-time-budget=%d" % budget_ms, "--hide-scrollbars",
             "--window-size=%d,%d" % size, "--screenshot=" + shot, "file://" + page],
            capture_output=True, timeout=120)
        if not os.path.exists(shot):
            raise AssertionError("no screenshot")
        raw = subprocess.run(["ffmpeg", "-v", "error", "-i", shot, "-f", "rawvideo",
                              "-pix_fmt", "rgb24", "-"], check=True, capture_output=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(size[1], size[0], 3).astype(int)


class BrowserTest(DaemonTest):
    def page(self, query, size=None, shot=None):
        """The demo page's DOM once the browser has played what the query asks (at a
        window `size`; `shot`: a path for a screenshot of it too)."""
        with tempfile.TemporaryDirectory() as profile:
            args = [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run", "--user-data-dir=" + profile,
                    "--autoplay-policy=no-user-gesture-required", "--virtual-time-budget=60000",
                    "--hide-scrollbars"]
            if size:
                args.append("--window-size=%d,%d" % size)
            if shot:
                subprocess.run(args + ["--screenshot=" + shot, self.daemon.url + "/?" + query],
                               capture_output=True, timeout=120)
            out = subprocess.run(args + ["--dump-dom", self.daemon.url + "/?" + query],
                                 capture_output=True, text=True, timeout=120)
        return out.stdout + out.stderr

    def play(self, query, dom=None):
        dom = dom or self.page(query)
        state = self.status(dom)
        if "width" not in state and state.get("state") in ("loading", "uploading"):
            # Headless Chromium's virtual time now and then ends a slow (sanitizer)
            # run with the request still pending: the page is loaded once more.
            print("\nbrowser: the page was still %s; loading it again" % state["state"])
            dom = self.page(query)
            state = self.status(dom)
        self.assertIn("width", state, "the page reported no clip: %s\n%s" % (state, dom[-3000:]))
        return state

    def status(self, dom):
        found = re.search(r'<p id="status"([^>]*)>', dom)
        self.assertIsNotNone(found, dom[-4000:])
        return dict(re.findall(r'data-(\w+)="([^"]*)"', found.group(1)))

    def test_demo_page_plays_the_stream(self):
        if not CHROMIUM:
            raise AssertionError("chromium is missing: scripts/setup.sh installs it")
        for mode in ("image", "surface"):
            with self.subTest(mode=mode):
                state = self.play("width=320&height=180&duration=2&mode=%s" % mode)
                self.assertEqual(state["duration"], "2")  # a real timeline, known up front
                self.assertEqual((state["width"], state["height"]), ("320", "180"))
                self.assertGreaterEqual(float(state["time"]), 1.9, state)
                self.assertFalse(state["state"].startswith("error"), state)

    def test_demo_page_shows_the_servers_error(self):
        for fmt in ("webm", "gif"):
            with self.subTest(format=fmt):
                state = self.status(self.page(
                    "url=jacksboro_dem.tif&colormap_name=no_such_map&duration=1&format=" + fmt))
                self.assertEqual(state.get("state"), "error 400", state)
                # The server's own words, naming the parameter, not the player's code.
                self.assertIn("unknown colormap", state.get("message", ""))
                self.assertIn("(colormap_name)", state.get("message", ""))

    def test_demo_page_on_a_phone_and_a_desktop(self):
        _, _, body = self.daemon.request("GET", "/v1/colormaps")
        names = len(json.loads(body)["colormaps"])
        query = "url=jacksboro_dem.tif&mode=image&duration=1&width=320&height=180"
        for size in ((390, 844), (1280, 800)):
            with self.subTest(size=size), tempfile.TemporaryDirectory() as tmp:
                shot = os.path.join(tmp, "page.png")
                dom = self.page(query, size=size, shot=shot)
                body_tag = re.search(r"<body([^>]*)>", dom).group(1)
                self.assertIn('data-overflow="false"', body_tag)  # nothing wider than the window
                self.assertEqual(len(re.findall(r'<button type="button">[^<]+<span', dom)), names)
                self.assertIn("rasterclip.render(job, server=", dom)
                self.assertIn("curl -o clip.webm", dom)
                # The screenshot shows the page: text and controls, not a blank window.
                raw = subprocess.run(["ffmpeg", "-v", "error", "-i", shot, "-f", "rawvideo",
                                      "-pix_fmt", "gray", "-"], check=True,
                                     capture_output=True).stdout
                self.assertEqual(len(raw), size[0] * size[1])
                dark = sum(1 for b in raw[: size[0] * 200] if b < 100)
                self.assertGreater(dark, 200)

    def test_demo_page_plays_mp4_and_shows_gif(self):
        if not CHROMIUM:
            raise AssertionError("chromium is missing: scripts/setup.sh installs it")
        state = self.play("width=320&height=180&duration=2&mode=image&format=mp4")
        self.assertEqual(state["duration"], "2")
        self.assertEqual((state["width"], state["height"]), ("320", "180"))
        self.assertGreaterEqual(float(state["time"]), 1.9, state)
        self.assertFalse(state["state"].startswith("error"), state)
        self.assertRegex(self.daemon.log(), r"outcome=ok w=320 h=180 frames=60 .*format=mp4")
        state = self.play("width=320&height=180&duration=1&mode=image&format=gif")
        self.assertEqual(state["state"], "loaded", state)
        self.assertEqual((state["width"], state["height"]), ("320", "180"))
        self.assertRegex(self.daemon.log(), r"outcome=ok w=320 h=180 frames=30 .*format=gif")

    def test_demo_page_controls_reach_the_daemon(self):
        """The page's controls for colour range, band labels, outline, view, roll,
        detail and lighting go into the request it plays, and the daemon knows them
        all (none is logged as ignored)."""
        if not CHROMIUM:
            raise AssertionError("chromium is missing: scripts/setup.sh installs it")
        query = ("url=timeseries_precip_1999_12band.tif&width=320&height=180&duration=2"
                 "&mode=surface&rescale=per_band&band_labels=true&outline=true&view=isometric"
                 "&roll=10&detail=60&lighting=false&axes=true&colorbar_orientation=horizontal"
                 "&colorbar_ticks=6&colorbar_format=%25.0f+mm&title=Rain&title_size=18")
        dom = self.page(query)
        link = re.search(r'<p id="link"><code>([^<]*)</code>', dom)
        self.assertIsNotNone(link, dom[-2000:])
        sent = link.group(1).replace("&amp;", "&")
        for part in ("rescale=per_band", "band_labels=true", "outline=true", "view=isometric",
                     "roll=10", "detail=60", "lighting=false", "axes=true",
                     "colorbar_orientation=horizontal", "colorbar_ticks=6",
                     "colorbar_format=%25.0f+mm", "title=Rain", "title_size=18"):
            self.assertIn(part, sent)
        state = self.play(query, dom)
        self.assertFalse(state["state"].startswith("error"), state)
        self.assertEqual((state["width"], state["height"]), ("320", "180"))
        self.assertRegex(self.daemon.log(), r"outcome=ok w=320 h=180 frames=60 .*mesh=")
        self.assertNotIn("query parameters ignored", self.daemon.log())

    def test_demo_page_uploads_an_array(self):
        """The page's upload path (the sample .npy it makes, sent as the file picker
        sends a file: the raster as the body, the job in the query) plays its clip."""
        if not CHROMIUM:
            raise AssertionError("chromium is missing: scripts/setup.sh installs it")
        state = self.play("sample=1&width=320&height=180&mode=image&format=gif&duration=1")
        self.assertEqual(state["state"], "loaded", state)
        self.assertEqual((state["width"], state["height"]), ("320", "180"))
        self.assertRegex(self.daemon.log(), r"outcome=ok w=320 h=180 frames=30 .*format=gif")
        state = self.play("sample=1&width=320&height=180&mode=surface&format=webm&duration=2")
        self.assertFalse(state["state"].startswith("error"), state)
        self.assertEqual((state["width"], state["height"]), ("320", "180"))
        self.assertRegex(self.daemon.log(), r"outcome=ok w=320 h=180 frames=60 .*format=webm")

    def test_transparent_webm_shows_the_page_through(self):
        """Chromium plays a transparent WebM over a magenta page: the page shows where
        the raster has no data and around it; the raster's colours elsewhere."""
        if not CHROMIUM:
            raise AssertionError("chromium is missing: scripts/setup.sh installs it")
        import numpy as np
        from harness import write_geotiff
        values = np.full((60, 60), 5.0, np.float32)
        values[20:40, 20:40] = -9999
        write_geotiff(os.path.join(self.daemon.root, "holed.tif"), values, nodata=-9999)
        src = (self.daemon.url + "/v1/render?url=holed.tif&background=transparent&colormap_name="
               "gray_r&orbit=0&elevation=90&distance=1.5&width=320&height=180&duration=2")
        frame = screenshot('<!doctype html><html><body style="margin:0;background:#ff00ff">'
                           '<video src="%s" autoplay muted style="display:block;width:320px;'
                           'height:180px"></video></body></html>' % src)
        magenta = np.array([255, 0, 255])
        self.assertLess(np.abs(frame[90, 160] - magenta).max(), 40)  # the hole
        self.assertLess(np.abs(frame[90, 10] - magenta).max(), 40)   # off the raster
        on_raster = frame[90, 210]
        self.assertGreater(np.abs(on_raster - magenta).max(), 100, on_raster)

    def test_text_reads_over_white_black_and_grey_pages(self):
        """A transparent clip's title, laid over white, black and mid-grey pages in
        Chromium, stands out from each page by at least 90 levels somewhere in its
        band (dark text, light halo); and a text_color is the colour drawn."""
        if not CHROMIUM:
            raise AssertionError("chromium is missing: scripts/setup.sh installs it")
        import numpy as np
        src = (self.daemon.url + "/v1/render?url=jacksboro_dem.tif&background=transparent"
               "&title=Reviewer%20proof&width=320&height=180&duration=1")
        for page in ((255, 255, 255), (0, 0, 0), (128, 128, 128)):
            with self.subTest(page=page):
                frame = screenshot('<!doctype html><html><body style="margin:0;background:'
                                   'rgb(%d,%d,%d)"><video src="%s" autoplay muted style="display:'
                                   'block;width:320px;height:180px"></video></body></html>'
                                   % (page + (src,)), budget_ms=10000)
                band = frame[0:24, 40:280]  # the title's band, centred
                contrast = np.abs(band - np.array(page)).max(axis=2)
                self.assertGreaterEqual(contrast.max(), 90, "title hardly differs from the page")
                self.assertGreater((contrast > 60).mean(), 0.01)  # text, not a stray pixel
        # An opaque dark background: light text by default; text_color overrides it.
        for query, want in (("background=000000", 235), ("background=000000&text_color=ff0000",
                                                          (255, 0, 0))):
            status, _, gif = self.daemon.request(
                "GET", "/v1/render?url=jacksboro_dem.tif&title=Reviewer&width=320&height=180"
                       "&frames=1&format=gif&" + query)
            self.assertEqual(status, 200)
            with tempfile.NamedTemporaryFile(suffix=".gif") as f:
                f.write(gif)
                f.flush()
                raw = subprocess.run(["ffmpeg", "-v", "error", "-i", f.name, "-frames:v", "1",
                                      "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                                     check=True, capture_output=True).stdout
            title = np.frombuffer(raw, np.uint8).reshape(180, 320, 3)[0:24].reshape(-1, 3)
            target = np.array(want if isinstance(want, tuple) else (want,) * 3)
            self.assertTrue((np.abs(title.astype(int) - target).max(axis=1) < 24).any(), query)


class SeekTest(DaemonTest):
    """A <video> seeks in a seekable clip: the frame Chromium shows after currentTime
    is set is the one asked for."""

    def test_setting_current_time_shows_that_frame(self):
        if not CHROMIUM:
            raise AssertionError("chromium is missing: scripts/setup.sh installs it")
        import numpy as np
        from harness import decode_frames
        query = ("url=jacksboro_dem.tif&orbit=360&elevation=50&width=320&height=180"
                 "&frames=60&fps=20&keyframe_interval=20&seekable=true&format=%s")
        for fmt, wanted in (("webm", 44), ("mp4", 31)):
            with self.subTest(format=fmt):
                status, headers, clip = self.daemon.request("GET", "/v1/render?" + query % fmt)
                self.assertEqual((status, headers["accept-ranges"]), (200, "bytes"))
                with tempfile.NamedTemporaryFile(suffix="." + fmt) as f:
                    f.write(clip)
                    f.flush()
                    frames = decode_frames(f.name, 320, 180).astype(float)
                self.assertEqual(len(frames), 60)
                seconds = (wanted + 0.5) / 20  # the middle of the frame's display time
                shot = screenshot(
                    '<!doctype html><html><body style="margin:0;background:#000">'
                    '<video id="v" src="%s/v1/render?%s" muted preload="auto" style="display:'
                    'block;width:320px;height:180px"></video><script>const v = '
                    'document.getElementById("v"); v.addEventListener("loadedmetadata", () => '
                    '{ v.currentTime = %s; });</script></body></html>'
                    % (self.daemon.url, query % fmt, seconds), budget_ms=10000)
                errors = [np.mean((shot - frame) ** 2) for frame in frames]
                shown = int(np.argmin(errors))
                self.assertLessEqual(abs(shown - wanted), 1,
                                     "asked for frame %d, the page showed %d (errors %s)"
                                     % (wanted, shown, [round(e) for e in errors]))
                self.assertGreater(errors[0], 4 * errors[shown])  # not the first frame


class MapPageTest(DaemonTest):
    """The map page (/map, Leaflet from the server) lays a mode=map clip on its
    bounds: headless Chromium shows the clip's north-east corner where Leaflet puts
    the bounds' north-east corner, within a pixel, and the page's colour where the
    box runs off the raster (no data, transparent)."""

    SIZE = (640, 400)
    # The box runs west of the raster (-84.41): its western part has no data.
    QUERY = ("url=jacksboro_dem.tif&mode=map&dst_crs=EPSG:3857&bbox=-84.6,36.5,-84.2,36.7"
             "&width=320&height=200&frames=4&fps=10&colormap_name=viridis&page=ff00ff")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        line = {"type": "LineString", "coordinates": [[-84.3, 36.4], [-84.3, 36.8]]}
        with open(os.path.join(cls.daemon.root, "meridian.geojson"), "w") as f:
            json.dump({"type": "FeatureCollection", "features": [
                {"type": "Feature", "properties": {}, "geometry": line}]}, f)

    def browse(self, extra, query=None):
        with tempfile.TemporaryDirectory() as profile:
            args = [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run", "--user-data-dir=" + profile,
                    "--autoplay-policy=no-user-gesture-required", "--virtual-time-budget=20000",
                    "--hide-scrollbars", "--window-size=%d,%d" % self.SIZE]
            return subprocess.run(args + extra + [self.daemon.url + "/map?" + (query or self.QUERY)],
                                  capture_output=True, text=True, timeout=120).stdout

    def screenshot(self, query=None):
        import numpy as np
        with tempfile.TemporaryDirectory() as tmp:
            shot = os.path.join(tmp, "map.png")
            self.browse(["--screenshot=" + shot], query)
            raw = subprocess.run(["ffmpeg", "-v", "error", "-i", shot, "-f", "rawvideo",
                                  "-pix_fmt", "rgb24", "-"], check=True,
                                 capture_output=True).stdout
        return np.frombuffer(raw, np.uint8).reshape(self.SIZE[1], self.SIZE[0], 3).astype(int)

    def test_the_clip_lies_on_its_bounds(self):
        if not CHROMIUM:
            raise AssertionError("chromium is missing: scripts/setup.sh installs it")
        import numpy as np
        for name in ("leaflet.js", "leaflet.css"):
            status, _, _ = self.daemon.request("GET", "/leaflet/" + name)
            self.assertEqual(status, 200, name)
        self.assertEqual(self.daemon.request("GET", "/leaflet/../../etc/passwd")[0], 404)
        dom = self.browse(["--dump-dom"])
        found = re.search(r'<span id="status"([^>]*)>', dom)
        self.assertIsNotNone(found, dom[-3000:])
        state = dict(re.findall(r'data-(\w+)="([^"]*)"', found.group(1)))
        self.assertEqual(state.get("state"), "playing", state)
        # Where the bounds must land, by Web Mercator's own formulas: fitted 24 px
        # inside the window (the page's padding), centred.
        west, south, east, north = -84.6, 36.5, -84.2, 36.7
        merc = lambda lat: math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))
        aspect = math.radians(east - west) / (merc(north) - merc(south))
        room_w, room_h = self.SIZE[0] - 48, self.SIZE[1] - 48
        w, h = (room_w, room_w / aspect) if aspect > room_w / room_h else (room_h * aspect, room_h)
        ne = (self.SIZE[0] / 2 + w / 2, self.SIZE[1] / 2 - h / 2)
        sw = (self.SIZE[0] / 2 - w / 2, self.SIZE[1] / 2 + h / 2)
        magenta = np.array([255, 0, 255])
        frame = self.screenshot()
        for _ in range(2):
            if (np.abs(frame - magenta).max(axis=2) > 60)[self.SIZE[1] // 2].any():
                break
            # Headless Chromium's virtual time now and then ends a slow (sanitizer)
            # run before the clip is painted: the page is loaded once more.
            print("\nbrowser: no clip painted yet; loading the map page again")
            frame = self.screenshot()
        clip = np.abs(frame - magenta).max(axis=2) > 60  # the clip's colours, not the page's
        # The north-east corner: the clip's last column and first row near it.
        mid_y, mid_x = int((ne[1] + sw[1]) / 2), int((ne[0] + sw[0]) / 2)
        right = np.nonzero(clip[mid_y, mid_x:])[0].max() + mid_x
        top = np.nonzero(clip[:mid_y, int(ne[0]) - 10])[0].min()
        print("\nmap page: clip's corner at (%d, %d), the bounds' (%.1f, %.1f)"
              % (right + 1, top, ne[0], ne[1]))
        self.assertLessEqual(abs(right + 1 - ne[0]), 1.0)
        self.assertLessEqual(abs(top - ne[1]), 1.0)
        # West of the raster's edge (46.6 % across the box): the page shows through.
        x = int(sw[0] + 0.2 * (ne[0] - sw[0]))
        self.assertLess(np.abs(frame[mid_y, x] - magenta).max(), 40, frame[mid_y, x])
        x = int(sw[0] + 0.8 * (ne[0] - sw[0]))
        self.assertGreater(np.abs(frame[mid_y, x] - magenta).max(), 100, frame[mid_y, x])

    def test_the_check_layer_lies_on_the_clips_own_line(self):
        """A meridian drawn into the clip (red) and the same GeoJSON drawn by Leaflet
        from /v1/vectors (cyan) land on the same column, where Web Mercator puts the
        meridian; the legend of the clip's query is on the page."""
        if not CHROMIUM:
            raise AssertionError("chromium is missing: scripts/setup.sh installs it")
        import numpy as np
        layers = json.dumps([{"source": "meridian.geojson", "color": "#ff0000", "width": 3}])
        query = (self.QUERY.replace("viridis", "gray") + "&check=00ffff&colorbar=Elevation&"
                 + urllib.parse.urlencode({"vectors": layers}))
        dom = self.browse(["--dump-dom"], query)
        self.assertIn('id="legend"', dom)
        found = re.search(r'<span id="status"([^>]*)>', dom)
        self.assertEqual(dict(re.findall(r'data-(\w+)="([^"]*)"', found.group(1))).get("state"),
                         "playing", dom[-2000:])
        west, east = -84.6, -84.2
        merc = lambda lat: math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))
        aspect = math.radians(east - west) / (merc(36.7) - merc(36.5))
        room_w, room_h = self.SIZE[0] - 48, self.SIZE[1] - 48
        w = room_w if aspect > room_w / room_h else room_h * aspect
        want = self.SIZE[0] / 2 - w / 2 + (-84.3 - west) / (east - west) * w
        for _ in range(3):
            frame = self.screenshot(query)
            rows = range(self.SIZE[1] // 2 - 60, self.SIZE[1] // 2 + 60)
            band = frame[rows.start:rows.stop, int(want) - 15:int(want) + 16]
            red = (band[..., 0] > 150) & (band[..., 1] < 100) & (band[..., 2] < 100)
            cyan = (band[..., 0] < 100) & (band[..., 1] > 150) & (band[..., 2] > 150)
            if red.sum() > 100 and cyan.sum() > 50:
                break
            print("\nbrowser: the clip or its check layer is not painted yet; again")
        self.assertGreater(red.sum(), 100)
        self.assertGreater(cyan.sum(), 50)
        red_x = np.nonzero(red)[1].mean() + int(want) - 15 + 0.5
        cyan_x = np.nonzero(cyan)[1].mean() + int(want) - 15 + 0.5
        print("\nmap page: clip's meridian at x=%.2f, Leaflet's at %.2f, Mercator's %.2f"
              % (red_x, cyan_x, want))
        self.assertLessEqual(abs(red_x - cyan_x), 1.0)
        self.assertLessEqual(abs(cyan_x - want), 1.0)
