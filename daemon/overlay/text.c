#include "overlay/text.h"

#include <ft2build.h>
#include FT_FREETYPE_H
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "overlay/font.h"

struct rc_text {
    FT_Library library;
    FT_Face face;
    unsigned px; /* size the face is set to */
};

enum rc_err rc_text_create(struct rc_text **out, struct rc_error *err)
{
    *out = NULL;
    struct rc_text *t = calloc(1, sizeof(*t));
    if (!t) {
        return rc_error_set(err, RC_ERR_NOMEM, "", "out of memory");
    }
    FT_Error e = FT_Init_FreeType(&t->library);
    if (!e) {
        e = FT_New_Memory_Face(t->library, rc_font_dejavu_sans, (FT_Long)rc_font_dejavu_sans_size(),
                               0, &t->face);
    }
    if (e) {
        rc_log(RC_LOG_ERROR, "msg=\"freetype init failed\" error=%d", (int)e);
        rc_text_destroy(t);
        return rc_error_set(err, RC_ERR_INTERNAL, "", "the label font could not be loaded");
    }
    *out = t;
    return RC_OK;
}

void rc_text_destroy(struct rc_text *text)
{
    if (!text) {
        return;
    }
    if (text->face) {
        FT_Done_Face(text->face);
    }
    if (text->library) {
        FT_Done_FreeType(text->library);
    }
    free(text);
}

uint32_t rc_utf8_next(const char **s)
{
    const unsigned char *p = (const unsigned char *)*s;
    uint32_t cp;
    int extra;
    if (p[0] < 0x80) {
        cp = p[0];
        extra = 0;
    } else if ((p[0] & 0xE0) == 0xC0) {
        cp = p[0] & 0x1F;
        extra = 1;
    } else if ((p[0] & 0xF0) == 0xE0) {
        cp = p[0] & 0x0F;
        extra = 2;
    } else if ((p[0] & 0xF8) == 0xF0) {
        cp = p[0] & 0x07;
        extra = 3;
    } else {
        *s += 1;
        return 0xFFFD;
    }
    for (int i = 1; i <= extra; i++) {
        if ((p[i] & 0xC0) != 0x80) {
            *s += i;
            return 0xFFFD;
        }
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    *s += 1 + extra;
    static const uint32_t min_cp[] = {0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        return 0xFFFD; /* overlong or not a character */
    }
    return cp;
}

static bool set_size(struct rc_text *t, unsigned px)
{
    if (t->px == px) {
        return true;
    }
    if (FT_Set_Pixel_Sizes(t->face, 0, px) != 0) {
        return false;
    }
    t->px = px;
    return true;
}

/* Walks the string, calling `glyph` for each rendered glyph at its pen position. */
typedef void (*glyph_fn)(void *ctx, FT_GlyphSlot slot, int pen_x);

static int layout(struct rc_text *t, const char *utf8, unsigned px, glyph_fn fn, void *ctx)
{
    if (!set_size(t, px)) {
        return 0;
    }
    int pen = 0;
    FT_UInt previous = 0;
    bool kerning = FT_HAS_KERNING(t->face);
    const char *s = utf8;
    while (*s) {
        uint32_t cp = rc_utf8_next(&s);
        FT_UInt index = FT_Get_Char_Index(t->face, cp);
        if (kerning && previous && index) {
            FT_Vector delta;
            if (FT_Get_Kerning(t->face, previous, index, FT_KERNING_DEFAULT, &delta) == 0) {
                pen += (int)(delta.x >> 6);
            }
        }
        if (FT_Load_Glyph(t->face, index, fn ? FT_LOAD_RENDER : FT_LOAD_DEFAULT) != 0) {
            continue;
        }
        if (fn) {
            fn(ctx, t->face->glyph, pen);
        }
        pen += (int)(t->face->glyph->advance.x >> 6);
        previous = index;
    }
    return pen;
}

void rc_text_measure(struct rc_text *text, const char *utf8, unsigned px, int *width, int *ascent,
                     int *descent)
{
    *width = layout(text, utf8, px, NULL, NULL);
    *ascent = (int)(text->face->size->metrics.ascender >> 6);
    *descent = (int)(-text->face->size->metrics.descender >> 6);
}

struct draw_ctx {
    struct rc_canvas *canvas;
    int x, baseline;
    const uint8_t *rgb;
};

static void blit(void *ctx, FT_GlyphSlot slot, int pen_x)
{
    struct draw_ctx *d = ctx;
    const FT_Bitmap *bm = &slot->bitmap;
    if (bm->pixel_mode != FT_PIXEL_MODE_GRAY) {
        return;
    }
    int left = d->x + pen_x + slot->bitmap_left;
    int top = d->baseline - slot->bitmap_top;
    for (unsigned row = 0; row < bm->rows; row++) {
        int y = top + (int)row;
        if (y < 0 || y >= d->canvas->height) {
            continue;
        }
        for (unsigned col = 0; col < bm->width; col++) {
            int x = left + (int)col;
            if (x < 0 || x >= d->canvas->width) {
                continue;
            }
            unsigned cover = bm->buffer[row * (unsigned)bm->pitch + col];
            uint8_t *px = d->canvas->rgba + 4 * ((size_t)y * (size_t)d->canvas->width + (size_t)x);
            /* Premultiplied "over". */
            for (int c = 0; c < 3; c++) {
                px[c] = (uint8_t)((d->rgb[c] * cover + px[c] * (255 - cover) + 127) / 255);
            }
            px[3] = (uint8_t)(cover + (px[3] * (255 - cover) + 127) / 255);
        }
    }
}

void rc_text_draw(struct rc_text *text, struct rc_canvas *canvas, int x, int baseline_y,
                  const char *utf8, unsigned px, const uint8_t rgb[3])
{
    struct draw_ctx d = {.canvas = canvas, .x = x, .baseline = baseline_y, .rgb = rgb};
    layout(text, utf8, px, blit, &d);
}

void rc_marks_add(struct rc_canvas *canvas, const struct rc_mark *mark)
{
    struct rc_marks *m = canvas->marks;
    if (!m || m->failed) {
        return;
    }
    if (m->count == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 64;
        void *p = realloc(m->items, cap * sizeof(*m->items));
        if (!p) {
            m->failed = true;
            return;
        }
        m->items = p;
        m->cap = cap;
    }
    m->items[m->count++] = *mark;
}

void rc_marks_free(struct rc_marks *marks)
{
    free(marks->items);
    *marks = (struct rc_marks){0};
}

void rc_text_draw_ink(struct rc_text *text, struct rc_canvas *canvas, int x, int baseline_y,
                      const char *utf8, unsigned px, const struct rc_ink *ink)
{
    if (canvas->marks) {
        struct rc_mark m = {.text = true,
                            .x = x,
                            .y = baseline_y,
                            .rgba = {ink->rgb[0], ink->rgb[1], ink->rgb[2], 255},
                            .px = px,
                            .halo = ink->halo,
                            .halo_px = ink->halo_px};
        memcpy(m.halo_rgb, ink->halo_rgb, 3);
        snprintf(m.words, sizeof(m.words), "%s", utf8);
        rc_marks_add(canvas, &m);
    }
    for (int dy = -ink->halo_px; ink->halo && dy <= ink->halo_px; dy++) {
        for (int dx = -ink->halo_px; dx <= ink->halo_px; dx++) {
            if (dx || dy) {
                rc_text_draw(text, canvas, x + dx, baseline_y + dy, utf8, px, ink->halo_rgb);
            }
        }
    }
    rc_text_draw(text, canvas, x, baseline_y, utf8, px, ink->rgb);
}
