/*
 * text: anti-aliased text into an RGBA canvas with FreeType and the embedded font.
 *
 * A `struct rc_text` holds a FreeType library and face; it belongs to one thread
 * at a time (each render worker makes its own). A `struct rc_canvas` is caller
 * memory holding premultiplied RGBA8, top row first.
 */
#ifndef RC_TEXT_H
#define RC_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

struct rc_text;

struct rc_marks;

struct rc_canvas {
    uint8_t *rgba; /* premultiplied alpha */
    int width, height;
    struct rc_marks *marks; /* NULL, or where what is drawn is also written down */
};

/* What was drawn on a canvas, as shapes and words (a legend as SVG, overlay/svg.h). */
struct rc_mark {
    bool text;
    int x, y, w, h;  /* a fill's rectangle; a text's origin: x and its baseline y */
    uint8_t rgba[4]; /* a fill's colour (premultiplied), a text's ink */
    unsigned px;     /* a text's size */
    bool halo;       /* a text's halo, ... */
    uint8_t halo_rgb[3];
    int halo_px;
    char words[64];
};

struct rc_marks {
    struct rc_mark *items;
    size_t count, cap;
    bool failed; /* out of memory: the list is short */
};

/* Appends a mark (when the canvas keeps them). */
void rc_marks_add(struct rc_canvas *canvas, const struct rc_mark *mark);
void rc_marks_free(struct rc_marks *marks);

enum rc_err rc_text_create(struct rc_text **out, struct rc_error *err);
void rc_text_destroy(struct rc_text *text);

/* Width in pixels and the face's ascent and descent (both positive) at `px`. */
void rc_text_measure(struct rc_text *text, const char *utf8, unsigned px, int *width, int *ascent,
                     int *descent);

/* Draws `utf8` with its baseline at `baseline_y`, starting at `x`, in `rgb`
 * (straight colour), clipped to the canvas. Invalid UTF-8 shows as U+FFFD. */
void rc_text_draw(struct rc_text *text, struct rc_canvas *canvas, int x, int baseline_y,
                  const char *utf8, unsigned px, const uint8_t rgb[3]);

/* The colour text and lines are drawn in, and the halo that keeps text readable
 * over whatever lies under a transparent clip. */
struct rc_ink {
    uint8_t rgb[3];
    bool halo;
    uint8_t halo_rgb[3];
    int halo_px; /* the halo's width */
};

/* rc_text_draw() in `ink`, over its halo when it has one. */
void rc_text_draw_ink(struct rc_text *text, struct rc_canvas *canvas, int x, int baseline_y,
                      const char *utf8, unsigned px, const struct rc_ink *ink);

/* Decodes one UTF-8 code point at *s, advancing *s; U+FFFD for bad bytes. */
uint32_t rc_utf8_next(const char **s);

#endif
