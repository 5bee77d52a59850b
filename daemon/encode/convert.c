#include "encode/convert.h"

/* BT.601 limited range in 8.8 fixed point (ITU-R BT.601 coefficients), written so
 * every intermediate fits 16 unsigned bits (the +16 and +128 offsets folded in as
 * 4096 + 128 and 32768 + 128) and the compiler can use 16-bit vector lanes. */
static inline uint8_t luma(unsigned r, unsigned g, unsigned b)
{
    return (uint8_t)((uint16_t)(66 * r + 129 * g + 25 * b + 4224) >> 8);
}

static inline uint8_t chroma_u(unsigned r, unsigned g, unsigned b)
{
    return (uint8_t)((uint16_t)(112 * b + 32896 - 38 * r - 74 * g) >> 8);
}

static inline uint8_t chroma_v(unsigned r, unsigned g, unsigned b)
{
    return (uint8_t)((uint16_t)(112 * r + 32896 - 94 * g - 18 * b) >> 8);
}

void rc_i420_layout(unsigned width, unsigned height, struct rc_i420_layout *out)
{
    out->width = width;
    out->height = height;
    out->chroma_width = (width + 1) / 2;
    out->chroma_height = (height + 1) / 2;
    out->y_bytes = (size_t)width * height;
    out->chroma_bytes = (size_t)out->chroma_width * out->chroma_height;
    out->u_offset = out->y_bytes;
    out->v_offset = out->y_bytes + out->chroma_bytes;
    out->frame_bytes = out->y_bytes + 2 * out->chroma_bytes;
}

void rc_convert_rgba_to_i420(const uint8_t *rgba, const struct rc_i420_layout *layout,
                             uint8_t *i420)
{
    unsigned width = layout->width, height = layout->height;
    uint8_t *y = i420, *u = i420 + layout->u_offset, *v = i420 + layout->v_offset;
    size_t y_stride = width, u_stride = layout->chroma_width, v_stride = layout->chroma_width;
    for (unsigned row = 0; row < height; row++) {
        const uint8_t *restrict src = rgba + (size_t)row * width * 4;
        uint8_t *restrict dst = y + (size_t)row * y_stride;
        /* size_t indices: unsigned 32-bit ones could wrap, which keeps the compiler
         * from vectorising the loop. */
        for (size_t col = 0; col < (size_t)width; col++) {
            dst[col] = luma(src[4 * col], src[4 * col + 1], src[4 * col + 2]);
        }
    }
    for (unsigned row = 0; row < height; row += 2) {
        const uint8_t *restrict top = rgba + (size_t)row * width * 4;
        const uint8_t *restrict bottom = row + 1 < height ? top + (size_t)width * 4 : top;
        uint8_t *restrict du = u + (size_t)(row / 2) * u_stride;
        uint8_t *restrict dv = v + (size_t)(row / 2) * v_stride;
        size_t pairs = width / 2;
        for (size_t i = 0; i < pairs; i++) {
            const uint8_t *t = top + 8 * i, *b = bottom + 8 * i;
            unsigned r = (t[0] + t[4] + b[0] + b[4] + 2) >> 2;
            unsigned g = (t[1] + t[5] + b[1] + b[5] + 2) >> 2;
            unsigned bl = (t[2] + t[6] + b[2] + b[6] + 2) >> 2;
            du[i] = chroma_u(r, g, bl);
            dv[i] = chroma_v(r, g, bl);
        }
        if (width % 2) { /* an odd last column averages with itself */
            const uint8_t *t = top + 8 * pairs, *b = bottom + 8 * pairs;
            unsigned r = (2 * t[0] + 2 * b[0] + 2) >> 2;
            unsigned g = (2 * t[1] + 2 * b[1] + 2) >> 2;
            unsigned bl = (2 * t[2] + 2 * b[2] + 2) >> 2;
            du[pairs] = chroma_u(r, g, bl);
            dv[pairs] = chroma_v(r, g, bl);
        }
    }
}
