/*
 * convert: frames as I420 — the one description of its layout (Y, then U, then V,
 * back to back, chroma planes of ceil(w/2) x ceil(h/2)) — and RGBA to I420 on the
 * CPU: BT.601 limited range, each 2x2 block's chroma from its mean, the same
 * numbers the conversion shader (shaders/yuv.frag) computes.
 *
 * Pure functions; any thread. The draw thread converts straight from the mapped
 * readback (render/render.h), so frames travel to the encode thread as I420.
 */
#ifndef RC_CONVERT_H
#define RC_CONVERT_H

#include <stddef.h>
#include <stdint.h>

struct rc_i420_layout {
    unsigned width, height;               /* luma */
    unsigned chroma_width, chroma_height; /* each chroma plane */
    size_t y_bytes, chroma_bytes;         /* one plane each */
    size_t u_offset, v_offset;            /* from the frame's first byte */
    size_t frame_bytes;                   /* the whole frame */
};

void rc_i420_layout(unsigned width, unsigned height, struct rc_i420_layout *out);

/* RGBA (top row first, 4 bytes a pixel, no row padding) to one I420 frame laid out
 * as `layout` says. */
void rc_convert_rgba_to_i420(const uint8_t *rgba, const struct rc_i420_layout *layout,
                             uint8_t *i420);

#endif
