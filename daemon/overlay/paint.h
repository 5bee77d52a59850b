/*
 * paint: the overlay's drawing on its canvas, shared by its parts (the bar in
 * overlay.c, the legend in legend.c). Internal to overlay/; the caller's thread.
 */
#ifndef RC_OVERLAY_PAINT_H
#define RC_OVERLAY_PAINT_H

#include <stdint.h>

#include "overlay/overlay.h"

/* The smallest text drawn, and the sizes of tick labels and of the labels
 * naming things (at 360 output rows), in pixels. */
enum { RC_OVERLAY_MIN_PX = 8, RC_OVERLAY_TICK_PX = 11, RC_OVERLAY_LABEL_PX = 12 };

/* A size given at 360 output rows, at scale `s` (at least 1 pixel); and a font
 * size so scaled, at least RC_OVERLAY_MIN_PX. */
int rc_overlay_scaled(int v, double s);
unsigned rc_overlay_font_px(int v, double s);

/* Fills `r` (clipped to the canvas) with one premultiplied colour. */
void rc_overlay_fill(struct rc_canvas *c, struct rc_rect r, const uint8_t rgba[4]);
/* A one-pixel frame just outside `r`. */
void rc_overlay_outline(struct rc_canvas *c, struct rc_rect r, const uint8_t rgba[4]);

/* The legend in a panel at the right of the frame, below `top`: a swatch and a
 * name per class, as many as fit at sizes no smaller than 8 pixels, the last row
 * then saying how many more there are. `s` scales sizes from 360 output rows. */
void rc_overlay_legend(struct rc_overlay *o, const struct rc_overlay_settings *st,
                       struct rc_text *text, double s, int top, const struct rc_ink *ink);

/* The axes' labels (overlay/axes.c): their texts, drawn into o->axes.atlas. */
enum rc_err rc_overlay_axes(struct rc_overlay *o, const struct rc_overlay_settings *st,
                            struct rc_text *text, double s, const struct rc_ink *ink,
                            struct rc_error *err);
/* style.graticule's labels (overlay/axes.c): each line's degrees, with its
 * hemisphere, in an atlas of their own (o->graticule). */
enum rc_err rc_overlay_graticule(struct rc_overlay *o, const struct rc_overlay_settings *st,
                                 struct rc_text *text, double s, const struct rc_ink *ink,
                                 struct rc_error *err);

#endif
