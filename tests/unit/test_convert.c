/* RGBA to I420 against the BT.601 limited-range definition in floating point
 * (ITU-R BT.601: Y = 16 + 219 E'Y, Cb/Cr = 128 + 224 E'Pb/Pr), chroma from each
 * 2x2 block's mean; the layout for even and odd sizes. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "encode/convert.h"

static double ref_y(double r, double g, double b)
{
    return 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255.0;
}

static double ref_u(double r, double g, double b)
{
    return 128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255.0;
}

static double ref_v(double r, double g, double b)
{
    return 128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255.0;
}

static void test_layout(void)
{
    struct rc_i420_layout l;
    rc_i420_layout(1280, 720, &l);
    CHECK(l.y_bytes == 921600 && l.chroma_width == 640 && l.chroma_height == 360);
    CHECK(l.u_offset == 921600 && l.v_offset == 921600 + 230400);
    CHECK(l.frame_bytes == 1382400); /* 1.5 bytes a pixel */
    rc_i420_layout(5, 3, &l);
    CHECK(l.chroma_width == 3 && l.chroma_height == 2 && l.frame_bytes == 15 + 2 * 6);
}

static void check_size(unsigned w, unsigned h)
{
    struct rc_i420_layout l;
    rc_i420_layout(w, h, &l);
    uint8_t *rgba = malloc((size_t)w * h * 4);
    uint8_t *out = malloc(l.frame_bytes);
    unsigned seed = w * 31 + h;
    for (size_t i = 0; i < (size_t)w * h * 4; i++) {
        seed = seed * 1664525u + 1013904223u;
        rgba[i] = (uint8_t)(seed >> 24);
    }
    /* The extremes too: black and white pixels. */
    for (int c = 0; c < 3; c++) {
        rgba[c] = 0;
        rgba[4 + c] = 255;
    }
    rc_convert_rgba_to_i420(rgba, &l, out);
    int worst = 0;
    for (unsigned y = 0; y < h; y++) {
        for (unsigned x = 0; x < w; x++) {
            const uint8_t *p = rgba + 4 * ((size_t)y * w + x);
            int d = abs((int)out[(size_t)y * w + x] - (int)lround(ref_y(p[0], p[1], p[2])));
            worst = d > worst ? d : worst;
        }
    }
    for (unsigned cy = 0; cy < l.chroma_height; cy++) {
        for (unsigned cx = 0; cx < l.chroma_width; cx++) {
            double m[3] = {0, 0, 0};
            for (unsigned k = 0; k < 4; k++) {
                unsigned x = 2 * cx + k % 2, y = 2 * cy + k / 2;
                x = x < w ? x : w - 1; /* an odd edge repeats its last pixel */
                y = y < h ? y : h - 1;
                for (int c = 0; c < 3; c++) {
                    m[c] += rgba[4 * ((size_t)y * w + x) + (size_t)c] / 4.0;
                }
            }
            size_t i = (size_t)cy * l.chroma_width + cx;
            int du = abs((int)out[l.u_offset + i] - (int)lround(ref_u(m[0], m[1], m[2])));
            int dv = abs((int)out[l.v_offset + i] - (int)lround(ref_v(m[0], m[1], m[2])));
            worst = du > worst ? du : worst;
            worst = dv > worst ? dv : worst;
        }
    }
    if (worst > 1) {
        fprintf(stderr, "  %ux%u: off by %d\n", w, h, worst);
    }
    CHECK(worst <= 1);                    /* 8.8 fixed point against exact arithmetic */
    CHECK(out[0] == 16 && out[1] == 235); /* black and white: the limited range's ends */
    free(rgba);
    free(out);
}

int main(void)
{
    test_layout();
    check_size(64, 36);
    check_size(1280, 720);
    check_size(7, 5);
    return CHECK_DONE();
}
