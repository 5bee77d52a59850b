#include "overlay/overlay.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/colormap.h"
#include "base/parse.h"
#include "overlay/paint.h"

/* Sizes at 360 output rows; everything scales with the output height. */
enum {
    TITLE_BAND = 30,
    TITLE_PX = 15,
    TICK_PX = RC_OVERLAY_TICK_PX,
    LABEL_PX = RC_OVERLAY_LABEL_PX,
    BAR_WIDTH = 14,
    MARGIN = 10,
    TICK_LENGTH = 4,
    TICK_GAP = 3,
};

int rc_overlay_scaled(int v, double s)
{
    int r = (int)lround(v * s);
    return r > 1 ? r : 1;
}

unsigned rc_overlay_font_px(int v, double s)
{
    int r = rc_overlay_scaled(v, s);
    return (unsigned)(r < RC_OVERLAY_MIN_PX ? RC_OVERLAY_MIN_PX : r);
}

bool rc_overlay_wanted(const struct rc_overlay_settings *st)
{
    return st->colorbar || st->title[0] != '\0' || st->band_labels || st->axes ||
           st->graticule_count;
}

size_t rc_overlay_ticks(double vmin, double vmax, unsigned intervals, size_t max, double *out)
{
    double span = vmax - vmin;
    if (!(span > 0) || !isfinite(span) || max == 0) {
        return 0;
    }
    static const double nice[] = {1, 2, 2.5, 5, 10};
    double raw = span / (intervals ? intervals : 4);
    double magnitude = pow(10.0, floor(log10(raw)));
    double step = magnitude * 10;
    for (size_t i = 0; i < sizeof(nice) / sizeof(nice[0]); i++) {
        if (nice[i] * magnitude >= raw) {
            step = nice[i] * magnitude;
            break;
        }
    }
    size_t n = 0;
    for (double v = ceil(vmin / step) * step; v < vmax && n < max; v += step) {
        if (v > vmin + span * 1e-9) {
            out[n++] = fabs(v) < step * 1e-9 ? 0.0 : v;
        }
    }
    return n;
}

void rc_overlay_format(double value, double step, char *buf, size_t size)
{
    double a = fabs(value);
    if (a != 0 && (a >= 1e6 || a < 1e-3)) {
        snprintf(buf, size, "%.3g", value);
        return;
    }
    int decimals = step > 0 ? (int)ceil(-log10(step) - 1e-9) : 0;
    if (step > 0 && fabs(step * pow(10.0, decimals) - round(step * pow(10.0, decimals))) > 1e-6) {
        decimals++; /* 2.5, 0.25 ... */
    }
    decimals = decimals < 0 ? 0 : decimals > 6 ? 6 : decimals;
    snprintf(buf, size, "%.*f", decimals, value);
}

void rc_overlay_fill(struct rc_canvas *c, struct rc_rect r, const uint8_t rgba[4])
{
    if (c->marks) {
        struct rc_mark m = {.x = r.x, .y = r.y, .w = r.w, .h = r.h};
        memcpy(m.rgba, rgba, 4);
        rc_marks_add(c, &m);
    }
    for (int y = r.y; y < r.y + r.h; y++) {
        for (int x = r.x; x < r.x + r.w; x++) {
            if (x >= 0 && y >= 0 && x < c->width && y < c->height) {
                memcpy(c->rgba + 4 * ((size_t)y * (size_t)c->width + (size_t)x), rgba, 4);
            }
        }
    }
}

void rc_overlay_outline(struct rc_canvas *c, struct rc_rect r, const uint8_t rgba[4])
{
    rc_overlay_fill(c, (struct rc_rect){r.x - 1, r.y - 1, r.w + 2, 1}, rgba);
    rc_overlay_fill(c, (struct rc_rect){r.x - 1, r.y + r.h, r.w + 2, 1}, rgba);
    rc_overlay_fill(c, (struct rc_rect){r.x - 1, r.y, 1, r.h}, rgba);
    rc_overlay_fill(c, (struct rc_rect){r.x + r.w, r.y, 1, r.h}, rgba);
}

/* The ramp: row by row from the bottom, each the colour matplotlib gives the
 * normalised value at the row's centre, over the background for translucent maps. */
static void draw_ramp(struct rc_canvas *c, struct rc_rect bar, const struct rc_overlay_settings *st)
{
    int length = st->horizontal ? bar.w : bar.h;
    for (int i = 0; i < length; i++) {
        double t = (i + 0.5) / length;
        const uint8_t *m = st->colormap->rgba[rc_colormap_index(st->colormap, t)];
        uint8_t px[4] = {0, 0, 0, 255};
        for (int k = 0; k < 3; k++) {
            px[k] = (uint8_t)((m[k] * m[3] + st->background[k] * (255 - m[3]) + 127) / 255);
        }
        struct rc_rect row = st->horizontal
                                 ? (struct rc_rect){bar.x + i, bar.y, 1, bar.h}
                                 : (struct rc_rect){bar.x, bar.y + bar.h - 1 - i, bar.w, 1};
        rc_overlay_fill(c, row, px);
    }
}

static double luma(const uint8_t rgb[3])
{
    return 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2];
}

/* The text's colour: the job's, or dark on a light background and light on a
 * dark one; over a transparent background (the page under it is unknown) dark,
 * with a halo that contrasts with the text, so it reads on light and dark pages. */
static void text_ink(const struct rc_overlay_settings *st, double s, struct rc_ink *ink)
{
    bool transparent = st->background[3] == 0;
    uint8_t v = !transparent && luma(st->background) <= 128 ? 235 : 32;
    for (int c = 0; c < 3; c++) {
        ink->rgb[c] = st->text_colored ? st->text_rgb[c] : v;
    }
    ink->halo = transparent;
    uint8_t h = luma(ink->rgb) > 128 ? 32 : 235;
    ink->halo_rgb[0] = ink->halo_rgb[1] = ink->halo_rgb[2] = h;
    ink->halo_px = s > 1.5 ? (int)lround(s) : 1;
}

/* The size at which `utf8` fits in `max_w` pixels: `px`, or smaller (never
 * under 8 px, mayavi's way with a long title), so text is never cut at an edge. */
static unsigned fit_px(struct rc_text *text, const char *utf8, unsigned px, int max_w)
{
    int w, ascent, descent;
    rc_text_measure(text, utf8, px, &w, &ascent, &descent);
    while (w > max_w && px > 8) {
        px = px * 9 / 10 > 8 ? px * 9 / 10 : 8;
        rc_text_measure(text, utf8, px, &w, &ascent, &descent);
    }
    return px;
}

struct tick_label {
    double value;
    char text[32];
};

/* The min and max labels: at the ticks' precision when that shows them exactly,
 * otherwise with three significant digits (0.59 is not "1"). */
static void format_end(double value, double step, char *buf, size_t size)
{
    rc_overlay_format(value, step, buf, size);
    char *end = NULL;
    double shown = strtod(buf, &end);
    if (fabs(shown - value) > fabs(step) * 1e-6) {
        snprintf(buf, size, "%.3g", value);
    }
}

/* A label with the job's format (checked safe by the job's parser), else auto. */
static void label_text(const struct rc_overlay_settings *st, double value, double step, bool end,
                       char *buf, size_t size)
{
    if (st->tick_format && st->tick_format[0] && rc_parse_format_one_double(st->tick_format)) {
        /* Checked just above: text and one floating-point conversion. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        snprintf(buf, size, st->tick_format, value);
#pragma GCC diagnostic pop
    } else if (end) {
        format_end(value, step, buf, size);
    } else {
        rc_overlay_format(value, step, buf, size);
    }
}

static size_t colorbar_labels(const struct rc_overlay_settings *st, double vmin, double vmax,
                              struct tick_label *out)
{
    double ticks[RC_OVERLAY_MAX_TICKS];
    size_t n = rc_overlay_ticks(vmin, vmax, st->tick_intervals, RC_OVERLAY_MAX_TICKS, ticks);
    double step = n >= 2 ? ticks[1] - ticks[0] : (vmax - vmin) / 4;
    size_t k = 0;
    out[k].value = vmin;
    label_text(st, vmin, step, true, out[k++].text, sizeof(out[0].text));
    for (size_t i = 0; i < n; i++) {
        out[k].value = ticks[i];
        label_text(st, ticks[i], step, false, out[k++].text, sizeof(out[0].text));
    }
    out[k].value = vmax;
    label_text(st, vmax, step, true, out[k++].text, sizeof(out[0].text));
    return k;
}

static bool drawable(double vmin, double vmax)
{
    return isfinite(vmin) && isfinite(vmax) && vmax > vmin;
}

/* The widest of the bar's numbers over [vmin, vmax], and the font's extent. */
static int widest_label(const struct rc_overlay_settings *st, double vmin, double vmax,
                        struct rc_text *text, unsigned px, int *ascent, int *descent)
{
    struct tick_label labels[RC_OVERLAY_MAX_TICKS + 2];
    size_t count = drawable(vmin, vmax) ? colorbar_labels(st, vmin, vmax, labels) : 0;
    int widest = 0, w;
    rc_text_measure(text, "0", px, &w, ascent, descent);
    for (size_t i = 0; i < count; i++) {
        rc_text_measure(text, labels[i].text, px, &w, ascent, descent);
        widest = w > widest ? w : widest;
    }
    return widest;
}

static void draw_colorbar(struct rc_overlay *o, const struct rc_overlay_settings *st, double vmin,
                          double vmax, struct rc_text *text, double s, int top,
                          const struct rc_ink *ink)
{
    struct tick_label labels[RC_OVERLAY_MAX_TICKS + 2];
    unsigned tick_px = rc_overlay_font_px(TICK_PX, s), label_px = rc_overlay_font_px(LABEL_PX, s);
    int ascent = 0, descent = 0;
    /* As wide as the widest numbers of any band, so the layout never moves. */
    int widest = widest_label(st, vmin, vmax, text, tick_px, &ascent, &descent);
    for (size_t b = 0; b < st->band_range_count; b++) {
        int a, d,
            w = widest_label(st, st->band_range[b][0], st->band_range[b][1], text, tick_px, &a, &d);
        widest = w > widest ? w : widest;
    }
    size_t count = colorbar_labels(st, vmin, vmax, labels);
    int label_w = 0, label_ascent = 0, label_descent = 0;
    if (st->colorbar_label[0]) {
        rc_text_measure(text, st->colorbar_label, label_px, &label_w, &label_ascent,
                        &label_descent);
    }
    int margin = rc_overlay_scaled(MARGIN, s), bar_w = rc_overlay_scaled(BAR_WIDTH, s);
    int tick_len = rc_overlay_scaled(TICK_LENGTH, s), gap = rc_overlay_scaled(TICK_GAP, s);
    int panel_w = margin + bar_w + tick_len + gap + widest + margin;
    if (label_w + 2 * margin > panel_w) {
        panel_w = label_w + 2 * margin;
    }
    /* Never more than a third of the frame; a label too long for that shrinks. */
    if (panel_w > o->canvas.width / 3) {
        panel_w = o->canvas.width / 3;
    }
    if (st->colorbar_label[0] && label_w > panel_w - 2 * margin) {
        label_px = fit_px(text, st->colorbar_label, label_px, panel_w - 2 * margin);
        rc_text_measure(text, st->colorbar_label, label_px, &label_w, &label_ascent,
                        &label_descent);
    }
    struct rc_rect panel = {o->canvas.width - panel_w, top, panel_w, o->canvas.height - top};
    int label_band = st->colorbar_label[0] ? label_ascent + label_descent + margin : 0;
    int avail = panel.h - 2 * margin - label_band - (ascent + descent);
    int bar_h = (int)(avail * 0.8);
    bar_h = bar_h > 2 ? bar_h : 2;
    o->bar = (struct rc_rect){
        panel.x + margin,
        panel.y + margin + label_band + (ascent + descent) / 2 + (avail - bar_h) / 2, bar_w, bar_h};
    draw_ramp(&o->canvas, o->bar, st);
    uint8_t ink_rgba[4] = {ink->rgb[0], ink->rgb[1], ink->rgb[2], 255};
    rc_overlay_outline(&o->canvas, o->bar, ink_rgba);
    int text_h = ascent + descent;
    int last_y = -text_h * 2;
    for (size_t i = 0; i < count; i++) {
        double f = (labels[i].value - vmin) / (vmax - vmin);
        int y = o->bar.y + bar_h - 1 - (int)lround(f * (bar_h - 1));
        bool end = i == 0 || i + 1 == count;
        /* Interior ticks give way to the min and max labels when they would touch. */
        int to_max = y - (o->bar.y);
        if (!end && (abs(last_y - y) < text_h || to_max < text_h)) {
            continue;
        }
        last_y = y;
        rc_overlay_fill(&o->canvas, (struct rc_rect){o->bar.x + bar_w, y, tick_len, 1}, ink_rgba);
        rc_text_draw_ink(text, &o->canvas, o->bar.x + bar_w + tick_len + gap,
                         y + (ascent - descent) / 2, labels[i].text, tick_px, ink);
    }
    if (st->colorbar_label[0]) {
        /* Centred on the bar, a fixed gap above its top label, within the panel. */
        int x = o->bar.x + bar_w / 2 - label_w / 2;
        int right = panel.x + panel.w - margin - label_w;
        x = x > right ? right : x;
        x = x < panel.x + margin ? panel.x + margin : x;
        int baseline = o->bar.y - (ascent + descent) / 2 - gap - label_descent;
        rc_text_draw_ink(text, &o->canvas, x, baseline, st->colorbar_label, label_px, ink);
    }
    o->panels[o->panel_count++] = panel;
    o->scene.w -= panel_w;
}

/* The bar along the bottom of the frame: the label above it, the ticks below. */
static void draw_colorbar_horizontal(struct rc_overlay *o, const struct rc_overlay_settings *st,
                                     double vmin, double vmax, struct rc_text *text, double s,
                                     const struct rc_ink *ink)
{
    struct tick_label labels[RC_OVERLAY_MAX_TICKS + 2];
    size_t count = colorbar_labels(st, vmin, vmax, labels);
    unsigned tick_px = rc_overlay_font_px(TICK_PX, s), label_px = rc_overlay_font_px(LABEL_PX, s);
    int ascent = 0, descent = 0, w;
    rc_text_measure(text, labels[0].text, tick_px, &w, &ascent, &descent);
    int label_w = 0, label_ascent = 0, label_descent = 0;
    if (st->colorbar_label[0]) {
        rc_text_measure(text, st->colorbar_label, label_px, &label_w, &label_ascent,
                        &label_descent);
    }
    int margin = rc_overlay_scaled(MARGIN, s), bar_h = rc_overlay_scaled(BAR_WIDTH, s);
    int tick_len = rc_overlay_scaled(TICK_LENGTH, s), gap = rc_overlay_scaled(TICK_GAP, s);
    if (st->colorbar_label[0] && label_w > o->canvas.width - 2 * margin) {
        label_px = fit_px(text, st->colorbar_label, label_px, o->canvas.width - 2 * margin);
        rc_text_measure(text, st->colorbar_label, label_px, &label_w, &label_ascent,
                        &label_descent);
    }
    int label_band = st->colorbar_label[0] ? label_ascent + label_descent + gap : 0;
    int panel_h = margin + label_band + bar_h + tick_len + gap + ascent + descent + margin;
    if (panel_h > o->canvas.height / 3) {
        panel_h = o->canvas.height / 3;
    }
    struct rc_rect panel = {0, o->canvas.height - panel_h, o->canvas.width, panel_h};
    int bar_w = (int)(o->canvas.width * 0.7);
    o->bar = (struct rc_rect){(o->canvas.width - bar_w) / 2, panel.y + margin + label_band, bar_w,
                              bar_h};
    draw_ramp(&o->canvas, o->bar, st);
    uint8_t ink_rgba[4] = {ink->rgb[0], ink->rgb[1], ink->rgb[2], 255};
    rc_overlay_outline(&o->canvas, o->bar, ink_rgba);
    int last_right = INT_MIN / 2;
    for (size_t i = 0; i < count; i++) {
        double f = (labels[i].value - vmin) / (vmax - vmin);
        int x = o->bar.x + (int)lround(f * (bar_w - 1));
        rc_text_measure(text, labels[i].text, tick_px, &w, &ascent, &descent);
        int left = x - w / 2;
        bool end = i == 0 || i + 1 == count;
        /* Interior labels give way where they would touch a neighbour or the max. */
        int max_left = o->bar.x + bar_w - 1 - w / 2;
        if (!end && (left < last_right + gap || left + w + gap > max_left)) {
            continue;
        }
        last_right = left + w;
        rc_overlay_fill(&o->canvas, (struct rc_rect){x, o->bar.y + bar_h, 1, tick_len}, ink_rgba);
        rc_text_draw_ink(text, &o->canvas, left, o->bar.y + bar_h + tick_len + gap + ascent,
                         labels[i].text, tick_px, ink);
    }
    if (st->colorbar_label[0]) {
        rc_text_draw_ink(text, &o->canvas, (o->canvas.width - label_w) / 2,
                         panel.y + margin + label_ascent, st->colorbar_label, label_px, ink);
    }
    o->panels[o->panel_count++] = panel;
    o->scene.h -= panel_h;
}

const uint8_t *rc_band_page(const struct rc_band_pages *pages, size_t index)
{
    return pages->pages + index * (size_t)pages->rect.w * (size_t)pages->rect.h * 4;
}

/* Room for `count` pages of `rect`, within RC_OVERLAY_MAX_PAGE_BYTES. */
static enum rc_err pages_alloc(struct rc_band_pages *p, struct rc_rect rect, size_t count,
                               const char *field, struct rc_error *err)
{
    size_t page = (size_t)rect.w * (size_t)rect.h * 4;
    if (page == 0 || count == 0) {
        return RC_OK;
    }
    if (count > RC_OVERLAY_MAX_PAGE_BYTES / page) {
        return rc_error_set(err, RC_ERR_IMPOSSIBLE, field,
                            "%zu bands need %.0f MiB of overlay pages at this size; at most %d",
                            count, (double)count * (double)page / (1024.0 * 1024.0),
                            RC_OVERLAY_MAX_PAGE_BYTES / (1024 * 1024));
    }
    p->pages = calloc(count, page);
    if (!p->pages) {
        return rc_error_set(err, RC_ERR_NOMEM, field, "out of memory");
    }
    p->rect = rect;
    p->count = count;
    return RC_OK;
}

/* Copies page `index` into the canvas (put) or the canvas into it (take). */
static void page_copy(struct rc_overlay *o, struct rc_band_pages *p, size_t index, bool put)
{
    const struct rc_rect r = p->rect;
    uint8_t *page = (uint8_t *)rc_band_page(p, index);
    for (int y = 0; y < r.h; y++) {
        uint8_t *row =
            o->canvas.rgba + 4 * ((size_t)(r.y + y) * (size_t)o->canvas.width + (size_t)r.x);
        uint8_t *at = page + (size_t)y * (size_t)r.w * 4;
        memcpy(put ? row : at, put ? at : row, (size_t)r.w * 4);
    }
}

static void draw_bar(struct rc_overlay *o, const struct rc_overlay_settings *st, double vmin,
                     double vmax, struct rc_text *text, double s, int top, const struct rc_ink *ink)
{
    if (st->horizontal) {
        draw_colorbar_horizontal(o, st, vmin, vmax, text, s, ink);
    } else {
        draw_colorbar(o, st, vmin, vmax, text, s, top, ink);
    }
}

/* The bar drawn once per band range into its panel, kept as pages; the layout is
 * the first drawing's. A band without a range (no valid value, or one value) gets
 * an empty panel. */
static enum rc_err draw_band_bars(struct rc_overlay *o, const struct rc_overlay_settings *st,
                                  struct rc_text *text, double s, int top, const struct rc_ink *ink,
                                  struct rc_error *err)
{
    struct rc_rect panel = o->panels[o->panel_count - 1];
    enum rc_err rc = pages_alloc(&o->colorbars, panel, st->band_range_count, "raster.rescale", err);
    if (rc != RC_OK || !o->colorbars.count) {
        return rc;
    }
    struct rc_rect scene = o->scene, bar = o->bar;
    size_t panel_count = o->panel_count;
    for (size_t b = 0; b < o->colorbars.count; b++) {
        rc_overlay_fill(&o->canvas, panel, (const uint8_t[4]){0, 0, 0, 0});
        if (drawable(st->band_range[b][0], st->band_range[b][1])) {
            draw_bar(o, st, st->band_range[b][0], st->band_range[b][1], text, s, top, ink);
        }
        o->scene = scene;
        o->bar = bar;
        o->panel_count = panel_count;
        page_copy(o, &o->colorbars, b, false);
    }
    page_copy(o, &o->colorbars, 0, true);
    return RC_OK;
}

/* A strip below the scene for the band labels, and one page per label. */
static enum rc_err draw_band_labels(struct rc_overlay *o, const struct rc_overlay_settings *st,
                                    struct rc_text *text, double s, const struct rc_ink *ink,
                                    struct rc_error *err)
{
    unsigned px = rc_overlay_font_px(LABEL_PX, s);
    int w, ascent = 0, descent = 0;
    rc_text_measure(text, "Mg2", px, &w, &ascent, &descent);
    int margin = rc_overlay_scaled(MARGIN, s);
    int strip_h = ascent + descent + 2 * margin;
    struct rc_rect r = {o->scene.x, o->scene.y + o->scene.h - strip_h, o->scene.w, strip_h};
    if (r.w <= 0 || r.h <= 0) {
        return RC_OK;
    }
    enum rc_err rc = pages_alloc(&o->labels, r, st->band_label_count, "style.band_labels", err);
    if (rc != RC_OK) {
        return rc;
    }
    for (size_t i = 0; i < o->labels.count; i++) {
        struct rc_canvas c = {
            .rgba = (uint8_t *)rc_band_page(&o->labels, i), .width = r.w, .height = r.h};
        rc_text_draw_ink(text, &c, margin, margin + ascent, st->band_labels[i], px, ink);
    }
    o->panels[o->panel_count++] = r;
    o->scene.h -= strip_h;
    page_copy(o, &o->labels, 0, true); /* the first page in place, for the first frame */
    return RC_OK;
}

enum rc_err rc_overlay_create(const struct rc_overlay_settings *st, struct rc_text *text,
                              struct rc_overlay **out, struct rc_error *err)
{
    double vmin = st->vmin, vmax = st->vmax;
    *out = NULL;
    struct rc_overlay *o = calloc(1, sizeof(*o));
    if (!o) {
        return rc_error_set(err, RC_ERR_NOMEM, "", "out of memory");
    }
    o->canvas.width = (int)st->width;
    o->canvas.height = (int)st->height;
    o->canvas.rgba = calloc((size_t)st->width * st->height, 4);
    if (!o->canvas.rgba) {
        free(o);
        return rc_error_set(err, RC_ERR_NOMEM, "", "out of memory");
    }
    if (st->record) {
        o->canvas.marks = &o->marks;
    }
    double s = st->height / 360.0;
    struct rc_ink ink_store;
    text_ink(st, s, &ink_store);
    const struct rc_ink *ink = &ink_store;
    o->scene = (struct rc_rect){0, 0, (int)st->width, (int)st->height};
    int top = 0;
    if (st->title[0]) {
        unsigned px = st->title_px ? st->title_px : rc_overlay_font_px(TITLE_PX, s);
        px = fit_px(text, st->title, px, (int)st->width - 2 * rc_overlay_scaled(MARGIN, s));
        int w, ascent, descent;
        rc_text_measure(text, st->title, px, &w, &ascent, &descent);
        int band = rc_overlay_scaled(TITLE_BAND, s);
        band = band > ascent + descent + 4 ? band : ascent + descent + 4;
        int x = ((int)st->width - w) / 2;
        rc_text_draw_ink(text, &o->canvas, x > 2 ? x : 2, (band + ascent - descent) / 2, st->title,
                         px, ink);
        o->panels[o->panel_count++] = (struct rc_rect){0, 0, (int)st->width, band};
        top = band;
        o->scene.y = band;
        o->scene.h -= band;
    }
    enum rc_err rc = RC_OK;
    if (st->colorbar && st->legend_count) {
        rc_overlay_legend(o, st, text, s, top, ink);
    } else if (st->colorbar && drawable(vmin, vmax)) {
        draw_bar(o, st, vmin, vmax, text, s, top, ink);
        if (st->band_range && st->band_range_count) {
            rc = draw_band_bars(o, st, text, s, top, ink, err);
        }
    }
    if (rc == RC_OK && st->band_labels && st->band_label_count) {
        rc = draw_band_labels(o, st, text, s, ink, err);
    }
    if (rc == RC_OK && st->axes) {
        rc = rc_overlay_axes(o, st, text, s, ink, err);
    }
    if (rc == RC_OK && st->graticule_count) {
        struct rc_ink halo = *ink;
        halo.halo = true; /* over the data, whatever its colours */
        rc = rc_overlay_graticule(o, st, text, s, &halo, err);
    }
    if (rc != RC_OK) {
        rc_overlay_destroy(o);
        return rc;
    }
    *out = o;
    return RC_OK;
}

void rc_overlay_destroy(struct rc_overlay *overlay)
{
    if (!overlay) {
        return;
    }
    free(overlay->canvas.rgba);
    free(overlay->labels.pages);
    free(overlay->colorbars.pages);
    free(overlay->axes.atlas.rgba);
    free(overlay->graticule.atlas.rgba);
    rc_marks_free(&overlay->marks);
    free(overlay);
}
