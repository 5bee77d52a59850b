"""Axes a reviewer would print: on a UTM DEM (made here by gdalwarp) orbiting at
low elevation, every label — tick values and axis titles — sits on clear paper:
no pixel of the surface, the outline or a tick under it, and no two labels run
into each other. Measured on the decoded frames: the labels are the blue ink
(style.text_color) found by connected components, their sizes bounded by what
DejaVu Sans itself measures (Pillow) for the longest title."""
import os
from collections import deque

import numpy as np
from osgeo import gdal
from PIL import ImageFont

from test_pictures import PictureBase

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def components(mask):
    """Connected components (8-neighbours) of a boolean mask, as bounding boxes
    (top, left, bottom, right), inclusive."""
    seen = np.zeros_like(mask)
    boxes = []
    height, width = mask.shape
    for y, x in zip(*np.nonzero(mask)):
        if seen[y, x]:
            continue
        seen[y, x] = True
        queue = deque([(y, x)])
        box = [y, x, y, x]
        while queue:
            cy, cx = queue.popleft()
            box = [min(box[0], cy), min(box[1], cx), max(box[2], cy), max(box[3], cx)]
            for ny in range(max(cy - 1, 0), min(cy + 2, height)):
                for nx in range(max(cx - 1, 0), min(cx + 2, width)):
                    if mask[ny, nx] and not seen[ny, nx]:
                        seen[ny, nx] = True
                        queue.append((ny, nx))
        boxes.append(box)
    return boxes


def blue_ink(frame):
    """Text in pure blue over white, anti-aliased: blue well above red and green,
    red and green alike."""
    r, g, b = frame[..., 0], frame[..., 1], frame[..., 2]
    return (b - np.maximum(r, g) > 40) & (np.abs(r - g) < 40)


def paper(frame):
    """What may lie under a label: the white background or the label's own ink."""
    white = frame.min(axis=2) > 225
    r, g, b = frame[..., 0], frame[..., 1], frame[..., 2]
    return white | ((b - np.maximum(r, g) > 15) & (np.abs(r - g) < 40))


class AxesLayoutTest(PictureBase):
    W, H = 640, 360

    def job(self, axes, elevation, width=640, height=360):
        return {"raster": {"url": "dem_utm.tif"},
                "style": {"mode": "surface", "colormap": "gray", "axes": axes,
                          "outline": "#ff0000", "text_color": "#0000ff"},
                "camera": {"orbit": {"degrees": 360, "elevation": elevation}},
                "output": {"format": "gif", "dither": "none", "width": width,
                           "height": height, "fps": 8, "frames": 8}}

    def setUp(self):
        super().setUp()
        gdal.Warp(os.path.join(self.daemon.root, "dem_utm.tif"),
                  os.path.join(self.daemon.root, "jacksboro_dem.tif"), dstSRS="EPSG:32617",
                  dstNodata=-32768, resampleAlg="bilinear")

    def check_frames(self, frames, title_px=12):
        # The largest a single label can be: the longest title (ticks are smaller),
        # one line high.
        font = ImageFont.truetype(FONT, title_px)
        widest = font.getlength("Northing (km)") + 4
        ascent, descent = font.getmetrics()
        tallest = ascent + descent + 2
        counts = []
        for i, frame in enumerate(frames):
            frame = frame.astype(int)
            ink = blue_ink(frame)
            # Glyphs of one word touch or nearly: join them across one pixel.
            joined = ink.copy()
            joined[:, 1:] |= ink[:, :-1]
            boxes = components(joined)
            boxes = [b for b in boxes if (b[2] - b[0] + 1) * (b[3] - b[1] + 1) >= 12]
            clean = paper(frame)
            for top, left, bottom, right in boxes:
                where = "frame %d, label at rows %d-%d, columns %d-%d" % (i, top, bottom, left,
                                                                          right)
                self.assertLessEqual(bottom - top + 1, tallest, "labels run together: " + where)
                self.assertLessEqual(right - left + 1, widest, "labels run together: " + where)
                under = clean[max(top - 1, 0):bottom + 2, max(left - 1, 0):right + 2]
                self.assertTrue(under.all(), "a label meets the scene: %s (%d pixels)"
                                % (where, (~under).sum()))
            counts.append(len(boxes))
        return counts

    def test_labels_clear_of_the_box_and_each_other(self):
        plain = self.clip(self.job(False, 20), "plain.gif")
        self.assertEqual(len(plain), 8)
        self.assertEqual(blue_ink(plain.astype(int)).sum(), 0)  # the ink is the axes'
        for elevation in (20, 45):
            frames = self.clip(self.job(True, elevation), "axes_%d.gif" % elevation)
            self.assertEqual(len(frames), 8)
            counts = self.check_frames(frames)
            print("\nelevation %d: label pieces per frame %s" % (elevation, counts))
            # Three axes of ticks and titles: most of them shown in every frame.
            self.assertGreaterEqual(min(counts), 10, counts)

    def test_small_frames_leave_labels_out_rather_than_overlap(self):
        # At 320x180 the text is at its 8 px floor: labels crowd, and some give way.
        frames = self.clip(self.job(True, 30, 320, 180), "small.gif")
        self.assertEqual(len(frames), 8)
        counts = self.check_frames(frames, title_px=8)
        print("\n320x180: label pieces per frame %s" % counts)
        self.assertGreaterEqual(min(counts), 4, counts)
