"""Pictures a reviewer would print. Text: a title or colorbar label too long for
the frame shrinks to fit instead of being cut at the edge, and the colorbar's
label sits centred on the bar a small fixed gap above it. GIFs: a lit surface's
white background stays exactly white (no dither dots), and error diffusion leaves
no bright speckles. Measured on the decoded frames (numpy), not from the daemon's
own layout."""
import os

import matplotlib
import numpy as np

from test_pictures import PictureBase

LONG = ("Sea surface temperature anomaly over the North Atlantic subpolar gyre, "
        "monthly means from the reanalysis, relative to the 1991-2020 climatology")


def ink(frame):
    """Dark, grey pixels: the text on the default white background."""
    return (frame.max(axis=2) < 110) & (frame.max(axis=2) - frame.min(axis=2) < 30)


class LongTextTest(PictureBase):
    def job(self, **style):
        return {"raster": {"url": "jacksboro_dem.tif"},
                "style": dict({"colormap": "viridis"}, **style),
                "camera": {"orbit": {"degrees": 0, "elevation": 90}},
                "output": {"width": 480, "height": 270, "fps": 10, "frames": 1, "crf": 4}}

    def test_a_long_title_fits_the_frame(self):
        frame = self.clip(self.job(title=LONG), "title.webm")[0]
        band = ink(frame[0:28])
        cols = np.nonzero(band.any(axis=0))[0]
        self.assertGreater(len(cols), 100, "no title drawn")
        # Inside the frame, clear of both edges: nothing cut.
        self.assertGreaterEqual(cols.min(), 3)
        self.assertLessEqual(cols.max(), 480 - 4)

    def test_a_long_colorbar_label_fits_its_panel(self):
        frame = self.clip(self.job(colorbar={"label": LONG[:60]}), "label.webm")[0]
        colourful = matplotlib.colors.rgb_to_hsv(frame / 255.0)[..., 1] > 0.35
        bar_cols = np.nonzero(colourful[:, 330:].mean(axis=0) > 0.3)[0] + 330
        panel_left = bar_cols.min() - 12  # the panel's margin, at 270 px high
        above = ink(frame[:, :])[:, panel_left - 40:]
        rows = np.nonzero(above.any(axis=1))[0]
        self.assertGreater(len(rows), 0)
        label = ink(frame[rows.min():rows.min() + 14])
        cols = np.nonzero(label.any(axis=0))[0]
        self.assertLessEqual(cols.max(), 480 - 3, "the label runs off the frame")
        self.assertGreaterEqual(cols.min(), panel_left - 1, "the label spills into the scene")


class ColorbarLabelTest(PictureBase):
    def test_the_label_sits_on_the_bar(self):
        job = {"raster": {"url": "jacksboro_dem.tif"},
               "style": {"colormap": "viridis", "colorbar": {"label": "m"}},
               "camera": {"orbit": {"degrees": 0, "elevation": 90}},
               "output": {"width": 640, "height": 360, "fps": 10, "frames": 1, "crf": 4}}
        frame = self.clip(job, "bar.webm")[0]
        colourful = matplotlib.colors.rgb_to_hsv(frame / 255.0)[..., 1] > 0.35
        right = colourful[:, 460:]
        cols = np.nonzero(right.mean(axis=0) > 0.5)[0] + 460
        self.assertGreater(len(cols), 5, "no vertical bar")
        bar_left, bar_right = cols.min(), cols.max()
        rows = np.nonzero(colourful[:, bar_left:bar_right + 1].mean(axis=1) > 0.8)[0]
        bar_top = rows.min()
        # The label: the ink above the bar (and above its top tick label), over it.
        region = ink(frame[:bar_top, bar_left - 20:bar_right + 21])
        ys, xs = np.nonzero(region)
        self.assertGreater(len(ys), 3, "no label above the bar")
        label_rows = ys[ys < bar_top - 4]
        label_bottom = label_rows.max()
        centre = (xs[ys < bar_top - 4].min() + xs[ys < bar_top - 4].max()) / 2 + bar_left - 20
        print("\ncolorbar label: %d px above the bar, centre %.1f vs the bar's %.1f"
              % (bar_top - label_bottom, centre, (bar_left + bar_right) / 2))
        self.assertLessEqual(bar_top - label_bottom, 20)  # a small fixed gap, not ~50 px
        self.assertLessEqual(abs(centre - (bar_left + bar_right) / 2), 3)


class GifDitherTest(PictureBase):
    def job(self, fmt, **output):
        return {"raster": {"url": "jacksboro_dem.tif"},
                "style": {"colormap": "terrain", "mode": "surface", "colorbar": True,
                          "title": "Jacksboro"},
                "output": dict({"width": 640, "height": 360, "fps": 10, "frames": 2,
                                "format": fmt}, **output)}

    def test_the_background_stays_white(self):
        frame = self.clip(self.job("gif"), "lit.gif")[0]
        near_white = (frame >= 235).all(axis=2)
        white = (frame == 255).all(axis=2)
        self.assertGreater(near_white.mean(), 0.2, "no background to measure")
        dots = (near_white & ~white).sum() / near_white.sum()
        print("\nlit surface GIF: %.2f %% of the near-white background is not white" % (100 * dots))
        self.assertLess(dots, 0.005)

    def test_diffusion_leaves_no_bright_speckles(self):
        # The reference: the same palette, each pixel its nearest entry (no dither).
        gif = self.clip(self.job("gif", dither="diffusion"), "diffused.gif")[0]
        ref = self.clip(self.job("gif", dither="none"), "nearest.gif")[0]
        excess = (gif - ref).max(axis=2)
        too_bright = (excess > 40).mean()
        print("\ndiffusion: %.3f %% of pixels over 40 levels brighter than their nearest entry"
              " (at most %+d)" % (100 * too_bright, excess.max()))
        # The error a pixel takes is bounded (24 levels), so no pixel overshoots by
        # much more than that past the gap between two entries.
        self.assertLessEqual(excess.max(), 60)
        self.assertLess(too_bright, 0.0002)


class FitTest(PictureBase):
    def test_fit_fills_the_frame_at_low_elevation(self):
        """distance "fit" on an orbit at 15 degrees: in every frame the raster stays
        inside the frame, and at its widest it spans most of it (the bounding
        sphere's fit used 37-50 % of a 16:9 frame)."""
        job = {"raster": {"url": "jacksboro_dem.tif"},
               "style": {"colormap": "viridis", "background": "#ffffff"},
               "camera": {"orbit": {"degrees": 360, "elevation": 15, "distance": "fit"}},
               "output": {"width": 640, "height": 360, "fps": 10, "frames": 12, "crf": 8}}
        frames = self.clip(job, "fit.webm")
        widest = 0.0
        for frame in frames:
            drawn = (255 - frame).max(axis=2) > 40
            ys, xs = np.nonzero(drawn)
            self.assertGreater(len(xs), 100)
            self.assertGreaterEqual(xs.min(), 2)
            self.assertLessEqual(xs.max(), 637)
            self.assertGreaterEqual(ys.min(), 2)
            self.assertLessEqual(ys.max(), 357)
            widest = max(widest, (xs.max() - xs.min()) / 640, (ys.max() - ys.min()) / 360)
        print("\nfit at 15 degrees: the raster spans up to %.0f %% of the frame" % (100 * widest))
        self.assertGreater(widest, 0.8)


class InterpolationTest(PictureBase):
    def test_linear_blends_between_cell_centres(self):
        """Two cells, black and white (gray, rescale 0..1), seen straight down: with
        "linear" the row between the cells' centres is numpy's linear ramp between
        their colours; with "nearest" it is the two colours alone."""
        from harness import write_geotiff
        write_geotiff(os.path.join(self.daemon.root, "two.tif"),
                      np.array([[0.0, 1.0]], np.float32))
        rows = {}
        # Image mode draws a band's colours once and filters them; a flat, unlit
        # surface colours each pixel in the scene shader: both blend alike.
        for mode, drawn in (("nearest", "image"), ("linear", "image"), ("surface", "surface")):
            job = {"raster": {"url": "two.tif", "rescale": [0, 1]},
                   "style": {"colormap": "gray", "background": "#ff0000", "mode": drawn,
                             "interpolation": "nearest" if mode == "nearest" else "linear",
                             "aspect": "square", "lighting": False, "exaggeration": 0},
                   "camera": {"orbit": {"degrees": 0, "elevation": 90, "distance": 1.2}},
                   "output": {"width": 320, "height": 180, "fps": 10, "frames": 1,
                              "format": "gif"}}
            frame = self.clip(job, mode + ".gif")[0]
            row = frame[90]
            raster = np.nonzero(np.abs(row - np.array([255, 0, 0])).max(axis=1) > 60)[0]
            x0, x1 = raster.min(), raster.max()
            rows[mode] = (row[:, 1], x0, x1)
        for mode in ("linear", "surface"):
            grey, x0, x1 = rows[mode]
            width = x1 - x0 + 1
            left, right = x0 + width / 4, x0 + 3 * width / 4  # the cells' centres
            xs = np.arange(int(np.ceil(left)) + 1, int(np.floor(right)))
            expected = np.interp(xs, [left, right], [0, 255])
            error = np.abs(grey[xs] - expected).max()
            print("\n%s: the ramp between the cells' centres is within %.0f levels of numpy's"
                  % (mode, error))
            self.assertLess(error, 12, mode)
        grey, x0, x1 = rows["nearest"]
        levels = set(np.unique(grey[x0 + 2:x1 - 1]).astype(int))
        self.assertLessEqual(len(levels), 3, levels)  # black, white (and one at the seam)


if __name__ == "__main__":
    import unittest
    unittest.main()
