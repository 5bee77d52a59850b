"""Clips in every format: H.264 in fragmented MP4, animated GIF, and VP9 WebM with
an alpha channel. Each is checked by real decoders (ffprobe, ffmpeg's libvpx-vp9
for alpha) against the WebM of the same job or against matplotlib's colours, and
each streams: its first bytes leave while the job is still rendering."""
import json
import os
import struct
import subprocess
import tempfile
import time
import unittest

import matplotlib
import numpy as np

from harness import DaemonTest, decode_frames, ffprobe, psnr, write_geotiff
from test_stream import post_raw

BASE = {"raster": {"url": "jacksboro_dem.tif"},
        "output": {"width": 320, "height": 180, "fps": 30, "frames": 24}}


def job(fmt=None, **sections):
    j = json.loads(json.dumps(BASE))
    for key, value in sections.items():
        j.setdefault(key, {}).update(value)
    if fmt:
        j["output"]["format"] = fmt
    return j


def boxes(data, start=0, end=None):
    """Top-level ISO-BMFF boxes as (type, payload) pairs."""
    end = len(data) if end is None else end
    out = []
    at = start
    while at < end:
        size, kind = struct.unpack(">I4s", data[at:at + 8])
        if size < 8 or at + size > end:
            raise AssertionError("bad box at %d: size %d" % (at, size))
        out.append((kind.decode(), data[at + 8:at + size]))
        at += size
    return out


def decode_rgba(path, width, height, codec=None):
    """Every frame as RGBA, by ffmpeg (libvpx-vp9 for WebM alpha)."""
    cmd = ["ffmpeg", "-v", "error"] + (["-c:v", codec] if codec else []) + [
        "-i", path, "-f", "rawvideo", "-pix_fmt", "rgba", "-"]
    raw = subprocess.run(cmd, check=True, capture_output=True).stdout
    frame = width * height * 4
    return np.frombuffer(raw, np.uint8).reshape(len(raw) // frame, height, width, 4)


class FormatTest(DaemonTest):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()

    def tearDown(self):
        self.tmp.cleanup()

    def save(self, j, name, content_type):
        status, headers, body = self.daemon.render(j)
        self.assertEqual(status, 200, body[:300])
        self.assertEqual(headers.get("content-type"), content_type)
        path = os.path.join(self.tmp.name, name)
        with open(path, "wb") as f:
            f.write(body)
        return path, body

    def test_mp4_is_fragmented_h264_matching_the_webm(self):
        quality = {"crf": 8, "speed": "good"}
        mp4, body = self.save(job("mp4", output=quality), "clip.mp4", "video/mp4")
        webm, _ = self.save(job("webm", output=quality), "clip.webm", "video/webm")
        stream, fmt = ffprobe(mp4)
        self.assertEqual(stream["codec_name"], "h264")
        self.assertEqual(stream["profile"], "High")
        self.assertEqual(stream["pix_fmt"], "yuv420p")
        self.assertEqual((stream["width"], stream["height"]), (320, 180))
        self.assertEqual(int(stream["nb_read_frames"]), 24)
        self.assertAlmostEqual(float(fmt["duration"]), 0.8, places=3)
        # ftyp, moov (duration known up front, mvex), then a moof+mdat per frame.
        top = boxes(body)
        kinds = [k for k, _ in top]
        self.assertEqual(kinds[:2], ["ftyp", "moov"])
        self.assertEqual(kinds[2:], ["moof", "mdat"] * 24)
        moov = dict(boxes(top[1][1]))
        self.assertIn("mvex", moov)
        mvhd = moov["mvhd"]  # version 1: timescale at 20, duration at 24
        timescale, duration = struct.unpack(">IQ", mvhd[20:32])
        self.assertEqual(duration / timescale, 0.8)
        # Frame by frame, the same pictures as the WebM within codec tolerance.
        a = decode_frames(mp4, 320, 180).astype(float)
        b = decode_frames(webm, 320, 180).astype(float)
        self.assertEqual(len(a), len(b))
        worst = min(psnr(x, y) for x, y in zip(a, b))
        print("\nmp4 against webm, worst frame: %.1f dB" % worst)
        self.assertGreater(worst, 35)

    def test_mp4_keyframes_follow_keyframe_interval(self):
        mp4, _ = self.save(job("mp4", output={"keyframe_interval": 10}), "k.mp4", "video/mp4")
        out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v", "-show_entries",
                              "frame=key_frame", "-of", "csv=p=0", mp4],
                             check=True, capture_output=True, text=True).stdout.split()
        self.assertEqual([i for i, k in enumerate(out) if k == "1"], [0, 10, 20])

    def test_gif_frames_delays_and_loop(self):
        gif, body = self.save(job("gif"), "clip.gif", "image/gif")
        stream, fmt = ffprobe(gif)
        self.assertEqual(stream["codec_name"], "gif")
        self.assertEqual((stream["width"], stream["height"]), (320, 180))
        self.assertEqual(int(stream["nb_read_frames"]), 24)
        self.assertTrue(body.startswith(b"GIF89a"))
        self.assertIn(b"NETSCAPE2.0\x03\x01\x00\x00", body)  # loops forever
        self.assertTrue(body.endswith(b";"))
        # Delays in hundredths: 3, 3, 4, ... keeps 30 fps on average.
        delays = []
        at = 0
        while True:
            at = body.find(b"\x21\xf9\x04", at)
            if at < 0:
                break
            delays.append(struct.unpack("<H", body[at + 4:at + 6])[0])
            at += 8
        self.assertEqual(len(delays), 24)
        self.assertEqual(sum(delays), 80)  # 24 frames at 30 fps: 0.8 s
        self.assertEqual(set(delays), {3, 4})

    def test_gif_image_mode_colours_are_the_colormap(self):
        """A classed colormap: exact colours. viridis (256 entries and the background):
        every pixel within a few levels of a matplotlib entry or the background."""
        flat = {"camera": {"orbit": {"degrees": 0, "elevation": 90, "distance": 1.4}}}
        # Class values one apart, and far apart (more than the table's 510 entries).
        for classes_values in ((1, 2, 3, 4), (250, 500, 750, 1000)):
            with self.subTest(classes=classes_values):
                colours = ("#ff0000", "#00ff00", "#0000ff", "#ffff00")
                values = {str(v): c for v, c in zip(classes_values, colours)}
                j = job("gif", style={"colormap": {"values": values}, "background": "#202020"},
                        **flat)
                j["raster"]["url"] = "classes.tif"
                grid = np.array(classes_values, np.float32).reshape(2, 2)
                classes = np.repeat(np.repeat(grid, 20, axis=0), 20, axis=1)
                write_geotiff(os.path.join(self.daemon.root, "classes.tif"), classes)
                gif, _ = self.save(j, "classes.gif", "image/gif")
                frame = decode_rgba(gif, 320, 180)[0][..., :3].reshape(-1, 3)
                seen = {tuple(int(x) for x in c) for c in np.unique(frame, axis=0)}
                expected = {(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (32, 32, 32)}
                self.assertEqual(seen, expected)

        j = job("gif", style={"colormap": "viridis"}, **flat)
        gif, _ = self.save(j, "viridis.gif", "image/gif")
        frame = decode_rgba(gif, 320, 180)[0][..., :3].reshape(-1, 3).astype(int)
        table = np.array(matplotlib.colormaps["viridis"](np.arange(256) / 255.0))[:, :3] * 255
        table = np.vstack([np.round(table), [[255, 255, 255]]])
        distance = np.abs(frame[:, None, :] - table[None, :, :]).max(axis=2).min(axis=1)
        print("\ngif viridis: worst %d levels from a colormap entry" % distance.max())
        self.assertLessEqual(distance.max(), 3)

    def test_gif_writes_only_what_changed(self):
        still = job("gif", camera={"orbit": {"degrees": 0}}, output={"frames": 30})
        turning = job("gif", camera={"orbit": {"degrees": 90}}, output={"frames": 30})
        _, still_body = self.save(still, "still.gif", "image/gif")
        _, turning_body = self.save(turning, "turning.gif", "image/gif")
        one = job("gif", camera={"orbit": {"degrees": 0}}, output={"frames": 1})
        _, one_body = self.save(one, "one.gif", "image/gif")
        print("\ngif bytes: one frame %d, 30 unchanged %d, 30 turning %d"
              % (len(one_body), len(still_body), len(turning_body)))
        # 29 unchanged frames cost a few dozen bytes each, not a frame each.
        self.assertLess(len(still_body) - len(one_body), 29 * 64)
        self.assertGreater(len(turning_body), 5 * len(one_body))

    def test_gif_surface_dithering_choices(self):
        sizes = {}
        for dither in ("ordered", "diffusion", "none"):
            j = job("gif", style={"mode": "surface"}, output={"dither": dither, "frames": 4})
            gif, body = self.save(j, dither + ".gif", "image/gif")
            self.assertEqual(int(ffprobe(gif)[0]["nb_read_frames"]), 4)
            sizes[dither] = body
        self.assertEqual(len({b for b in sizes.values()}), 3)  # each option changes the pixels

    def test_transparent_background_in_webm_and_gif(self):
        """Alpha 0 outside the raster and where it has no data, 255 on it."""
        values = np.full((60, 60), 5.0, np.float32)
        values[20:40, 20:40] = -9999
        write_geotiff(os.path.join(self.daemon.root, "holed.tif"), values, nodata=-9999)
        base = {"raster": {"url": "holed.tif"},
                "style": {"background": "transparent", "colormap": "gray_r"},
                "camera": {"orbit": {"degrees": 0, "elevation": 90, "distance": 1.5}},
                "output": {"width": 320, "height": 180, "fps": 10, "frames": 3}}
        centre, on_raster, outside = (90, 160), (90, 160 + 50), (90, 10)
        for fmt, codec in (("webm", "libvpx-vp9"), ("gif", None)):
            with self.subTest(fmt):
                j = json.loads(json.dumps(base))
                j["output"]["format"] = fmt
                path, body = self.save(j, "alpha." + fmt, "video/webm" if fmt == "webm"
                                       else "image/gif")
                frames = decode_rgba(path, 320, 180, codec)
                self.assertEqual(len(frames), 3)
                for f in frames:
                    self.assertLess(f[centre][3], 16)       # no data: transparent
                    self.assertLess(f[outside][3], 16)      # off the raster
                    self.assertGreater(f[on_raster][3], 240)
        # The WebM carries the alpha as WebM does: AlphaMode 1 and BlockAdditional 1.
        info = subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-of", "json",
                               os.path.join(self.tmp.name, "alpha.webm")],
                              check=True, capture_output=True, text=True).stdout
        self.assertEqual(json.loads(info)["streams"][0]["tags"].get("alpha_mode"), "1")
        # libwebm's parser reads BlockGroups: a keyframe first, then frames that
        # reference the one before (ReferenceBlock).
        parsed = subprocess.run(["webm_info", "-i", os.path.join(self.tmp.name, "alpha.webm"),
                                 "-all"], check=True, capture_output=True, text=True).stdout
        blocks = [line for line in parsed.splitlines() if "Block: type:V" in line]
        self.assertEqual(parsed.count("BlockGroup:"), 3)
        self.assertEqual(["key:1" in b for b in blocks], [True, False, False])

    def test_every_format_streams_before_the_clip_is_done(self):
        magic = {"webm": b"\x1a\x45\xdf\xa3", "mp4": b"ftyp", "gif": b"GIF89a"}
        for fmt, head in magic.items():
            with self.subTest(fmt):
                before = self.daemon.log().count("outcome=")
                long_job = job(fmt, output={"width": 640, "height": 360, "frames": 300})
                start = time.monotonic()
                sock = post_raw(self.daemon.host, self.daemon.port, long_job)
                raw = b""
                while b"\r\n\r\n" not in raw or len(raw.partition(b"\r\n\r\n")[2]) < 16:
                    raw += sock.recv(4096)
                first = time.monotonic() - start
                done_already = self.daemon.log().count("outcome=") > before
                body = raw.partition(b"\r\n\r\n")[2]
                self.assertIn(head, body[:16])
                self.assertFalse(done_already, "the first bytes came after the job ended")
                while sock.recv(65536):
                    pass
                sock.close()
                print("\n%s: first body bytes after %.0f ms of %.0f ms"
                      % (fmt, first * 1e3, (time.monotonic() - start) * 1e3))
                self.daemon.wait_for_log(r"outcome=ok .*format=%s" % fmt)

    def test_formats_in_the_get_form_and_head(self):
        query = "/v1/render?url=jacksboro_dem.tif&width=160&height=90&frames=3"
        for fmt, ctype in (("mp4", "video/mp4"), ("gif", "image/gif"), ("webm", "video/webm"),
                           ("png", "video/webm")):  # TiTiler's still formats: ignored
            with self.subTest(fmt):
                status, headers, body = self.daemon.request("GET", query + "&format=" + fmt)
                self.assertEqual(status, 200, body[:200])
                self.assertEqual(headers["content-type"], ctype)
                status, headers, _ = self.daemon.request("HEAD", query + "&format=" + fmt)
                self.assertEqual(headers["content-type"], ctype)

    def test_bad_combinations_name_their_fields(self):
        cases = [
            (job("mp4", style={"background": "transparent"}), 422, "style.background"),
            (job("webm", output={"dither": "ordered"}), 422, "output.dither"),
            (job("gif", output={"fps": 60}), 422, "output.fps"),
            (job("avi"), 400, "output.format"),
            (job("gif", output={"dither": "sideways"}), 400, "output.dither"),
            (job(style={"background": "#ffffff80"}), 422, "style.background"),
        ]
        for body, status, field in cases:
            with self.subTest(field=field, status=status):
                got, _, data = self.daemon.render(body)
                self.assertEqual(got, status, data)
                self.assertEqual(json.loads(data)["error"]["field"], field)
        status, _, data = self.daemon.request(
            "GET", "/v1/render?url=jacksboro_dem.tif&format=mp4&background=transparent")
        self.assertEqual(status, 422)
        self.assertEqual(json.loads(data)["error"]["field"], "background")


if __name__ == "__main__":
    unittest.main()
