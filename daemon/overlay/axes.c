/*
 * axes: the labels of style.axes. Their texts: tick values of the raster's
 * coordinates in one notation per axis (kilometres or the CRS's own unit for a
 * projected grid, degrees with their hemisphere for a geographic one) and a
 * title naming each axis with its unit. And, each frame, where they go: beyond
 * their ticks, clear of the raster's box, the tick marks and each other.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "overlay/overlay.h"
#include "overlay/paint.h"

/* Where a label starts beyond its tick (world units; the raster's longer side
 * is 1), and the pixels kept clear around it. */
#define LABEL_GAP 0.03f
enum {
    PAD_PX = 3,
    PUSH_STEPS = 4, /* a label that meets something moves out by half its height, so often */
};

/* A projected grid is labelled in kilometres from this many metres across. */
#define KM_FROM_M 10000.0

/* One axis: its coordinate range, from `from` to `to` in the world, labels `out`. */
struct axis {
    double range[2];
    float from[3], to[3], out[3];
};

/* How one axis writes its numbers: all alike. */
struct notation {
    double scale; /* shown per coordinate unit (1e-3: metres shown as km) */
    int decimals;
    bool scientific;
    const char *positive, *negative; /* hemisphere letters; NULL: signed numbers */
};

void rc_axes_mirror(int axis, const double eye[3], float out[2])
{
    /* x ticks along the south or north edge, y ticks along the west or east edge,
     * and z up the far end of the x axis, where its labels cross neither. */
    float east = eye[0] > 0 ? -1.0f : 1.0f, north = eye[1] > 0 ? -1.0f : 1.0f;
    out[0] = axis == 0 ? 1.0f : axis == 1 ? east : -east;
    out[1] = axis == 1 ? 1.0f : north;
}

/* The decimals that show every multiple of `step` exactly (2.5 needs one). */
static int decimals_for(double step)
{
    if (!(step > 0)) {
        return 0;
    }
    int d = (int)ceil(-log10(step) - 1e-9);
    d = d < 0 ? 0 : d;
    double scaled = step * pow(10.0, d);
    if (fabs(scaled - round(scaled)) > 1e-6 * scaled) {
        d++;
    }
    return d > 6 ? 6 : d;
}

static void tick_text(const struct notation *n, double value, char *buf, size_t size)
{
    if (n->scientific) {
        snprintf(buf, size, "%.*e", n->decimals, value);
    } else if (n->positive && (fabs(value) < 0.5 * pow(10.0, -n->decimals) ||
                               fabs(fabs(value) - 180.0) < 0.5 * pow(10.0, -n->decimals))) {
        snprintf(buf, size, "%.0f\u00b0", fabs(value)); /* the equator, the meridians 0 and 180 */
    } else if (n->positive) {
        snprintf(buf, size, "%.*f\u00b0%s", n->decimals, fabs(value),
                 value > 0 ? n->positive : n->negative);
    } else {
        snprintf(buf, size, "%.*f", n->decimals, value == 0 ? 0.0 : value);
    }
}

/* Axis k's notation and title. */
static void axis_words(const struct rc_overlay_settings *st, int k, struct notation *n, char *title,
                       size_t size)
{
    *n = (struct notation){.scale = 1.0};
    if (k == 2) {
        snprintf(title, size, "%s",
                 st->axis_z_title && st->axis_z_title[0] ? st->axis_z_title : "z");
        return;
    }
    static const char *const words[][2] = {
        [RC_AXES_CELLS] = {"Column", "Row"},
        [RC_AXES_PLAIN] = {"x", "y"},
        [RC_AXES_PROJECTED] = {"Easting", "Northing"},
        [RC_AXES_DEGREES] = {"Longitude", "Latitude"},
    };
    const char *word = words[st->axis_kind][k];
    if (st->axis_kind == RC_AXES_DEGREES) {
        n->positive = k == 0 ? "E" : "N";
        n->negative = k == 0 ? "W" : "S";
        snprintf(title, size, "%s", word);
    } else if (st->axis_kind == RC_AXES_PROJECTED) {
        double span =
            fmax(fabs(st->axis_x[1] - st->axis_x[0]), fabs(st->axis_y[1] - st->axis_y[0]));
        const char *unit = st->axis_unit && st->axis_unit[0] ? st->axis_unit : "";
        if (st->axis_unit_m > 0 && span * st->axis_unit_m >= KM_FROM_M) {
            n->scale = st->axis_unit_m / 1000.0;
            unit = "km";
        }
        snprintf(title, size, unit[0] ? "%s (%s)" : "%s", word, unit);
    } else {
        snprintf(title, size, "%s", word);
    }
}

/* Appends one label to the axes, measured at `px`, its atlas rows after the last. */
static void add_label(struct rc_axes *a, struct rc_text *text, unsigned px, int k, bool title,
                      const float at[3], const float out[3], const char *words, int *atlas_w,
                      int *atlas_h)
{
    struct rc_axis_label *l = &a->labels[a->count++];
    memcpy(l->at, at, sizeof(l->at));
    memcpy(l->out, out, sizeof(l->out));
    l->axis = k;
    l->title = title;
    snprintf(l->text, sizeof(l->text), "%s", words);
    int w, ascent, descent;
    rc_text_measure(text, l->text, px, &w, &ascent, &descent);
    l->src = (struct rc_rect){0, *atlas_h, w + 2, ascent + descent + 2};
    *atlas_w = w + 2 > *atlas_w ? w + 2 : *atlas_w;
    *atlas_h += l->src.h;
}

/* The labels' texts into an atlas of `w` x `h` (their rows, one after another). */
static enum rc_err draw_atlas(struct rc_axes *a, struct rc_text *text, unsigned tick_px,
                              unsigned title_px, int w, int h, const struct rc_ink *ink,
                              const char *field, struct rc_error *err)
{
    if (!a->count) {
        return RC_OK;
    }
    a->atlas = (struct rc_canvas){.width = w, .height = h};
    a->atlas.rgba = calloc((size_t)w * (size_t)h, 4);
    if (!a->atlas.rgba) {
        a->count = 0;
        return rc_error_set(err, RC_ERR_NOMEM, field, "out of memory");
    }
    for (size_t i = 0; i < a->count; i++) {
        const struct rc_axis_label *l = &a->labels[i];
        unsigned px = l->title ? title_px : tick_px;
        int width, ascent, descent;
        rc_text_measure(text, l->text, px, &width, &ascent, &descent);
        rc_text_draw_ink(text, &a->atlas, 1, l->src.y + 1 + ascent, l->text, px, ink);
    }
    return RC_OK;
}

/* One axis's tick labels, then its title at its middle. */
static void axis_labels(struct rc_axes *a, const struct rc_overlay_settings *st,
                        const struct axis *ax, int k, struct rc_text *text, unsigned tick_px,
                        unsigned title_px, int *atlas_w, int *atlas_h)
{
    struct notation n;
    char title[136];
    axis_words(st, k, &n, title, sizeof(title));
    double lo = fmin(ax->range[0], ax->range[1]) * n.scale;
    double hi = fmax(ax->range[0], ax->range[1]) * n.scale;
    double ticks[RC_AXES_MAX_TICKS];
    size_t count = rc_overlay_ticks(lo, hi, 4, RC_AXES_MAX_TICKS, ticks);
    double step = count >= 2 ? ticks[1] - ticks[0] : hi - lo;
    double largest = 0;
    for (size_t i = 0; i < count; i++) {
        largest = fmax(largest, fabs(ticks[i]));
    }
    /* Coordinates are fixed-point, in km when large; data values may need powers of ten. */
    if (k == 2 && largest > 0 && (largest >= 1e6 || largest < 1e-2)) {
        n.scientific = true;
        n.decimals = decimals_for(step / pow(10.0, floor(log10(largest))));
    } else {
        n.decimals = decimals_for(step);
    }
    double span = (ax->range[1] - ax->range[0]) * n.scale;
    for (size_t i = 0; i < count; i++) {
        float f = (float)((ticks[i] - ax->range[0] * n.scale) / span), at[3];
        for (int c = 0; c < 3; c++) {
            at[c] = ax->from[c] + f * (ax->to[c] - ax->from[c]);
        }
        double value = ticks[i];
        if (n.positive && k == 0 && value > 180.0) {
            value -= 360.0; /* a 0-360 grid's eastern half is the western hemisphere */
        }
        char words[32];
        tick_text(&n, value, words, sizeof(words));
        add_label(a, text, tick_px, k, false, at, ax->out, words, atlas_w, atlas_h);
    }
    float mid[3];
    for (int c = 0; c < 3; c++) {
        mid[c] = (ax->from[c] + ax->to[c]) / 2;
    }
    add_label(a, text, title_px, k, true, mid, ax->out, title, atlas_w, atlas_h);
}

enum rc_err rc_overlay_axes(struct rc_overlay *o, const struct rc_overlay_settings *st,
                            struct rc_text *text, double s, const struct rc_ink *ink,
                            struct rc_error *err)
{
    float x = st->extent[0] / 2, y = st->extent[1] / 2;
    const struct axis axes[3] = {
        {{st->axis_x[0], st->axis_x[1]}, {-x, -y, 0}, {x, -y, 0}, {0, -1, 0}},
        {{st->axis_y[0], st->axis_y[1]}, {-x, -y, 0}, {-x, y, 0}, {-1, 0, 0}},
        {{st->axis_z[0], st->axis_z[1]}, {-x, -y, 0}, {-x, -y, st->top}, {-0.7071f, -0.7071f, 0}},
    };
    unsigned tick_px = rc_overlay_font_px(RC_OVERLAY_TICK_PX, s);
    unsigned title_px = rc_overlay_font_px(RC_OVERLAY_LABEL_PX, s);
    int atlas_w = 1, atlas_h = 0;
    struct rc_axes *a = &o->axes;
    a->extent[0] = st->extent[0];
    a->extent[1] = st->extent[1];
    a->top = st->top;
    bool z = st->top > 0 && isfinite(st->axis_z[0]) && isfinite(st->axis_z[1]) &&
             st->axis_z[1] > st->axis_z[0];
    for (int k = 0; k < (z ? 3 : 2); k++) {
        if (axes[k].range[1] != axes[k].range[0]) {
            axis_labels(a, st, &axes[k], k, text, tick_px, title_px, &atlas_w, &atlas_h);
        }
    }
    return draw_atlas(a, text, tick_px, title_px, atlas_w, atlas_h, ink, "style.axes", err);
}

enum rc_err rc_overlay_graticule(struct rc_overlay *o, const struct rc_overlay_settings *st,
                                 struct rc_text *text, double s, const struct rc_ink *ink,
                                 struct rc_error *err)
{
    unsigned px = rc_overlay_font_px(RC_OVERLAY_TICK_PX, s);
    int atlas_w = 1, atlas_h = 0;
    struct rc_axes *a = &o->graticule;
    for (size_t i = 0; i < st->graticule_count && a->count < RC_AXES_MAX_LABELS; i++) {
        const struct rc_graticule_anchor *g = &st->graticule[i];
        struct notation n = {.decimals = decimals_for(st->graticule_step),
                             .positive = g->axis ? "N" : "E",
                             .negative = g->axis ? "S" : "W"};
        char words[32];
        tick_text(&n, g->axis == 0 && g->value > 180.0 ? g->value - 360.0 : g->value, words,
                  sizeof(words));
        add_label(a, text, px, g->axis, false, g->at, g->out, words, &atlas_w, &atlas_h);
    }
    return draw_atlas(a, text, px, px, atlas_w, atlas_h, ink, "style.graticule", err);
}

/* ---- Placement, each frame. Pixels of the scene, as the renderer draws. ---- */

struct box2 {
    float x0, y0, x1, y1;
};

static bool project(const float m[16], struct rc_rect scene, const float p[3], float out[2])
{
    float c[4];
    for (int row = 0; row < 4; row++) {
        c[row] = m[row] * p[0] + m[4 + row] * p[1] + m[8 + row] * p[2] + m[12 + row];
    }
    if (c[3] <= 1e-6f) {
        return false; /* behind the camera */
    }
    out[0] = (float)scene.x + (c[0] / c[3] + 1) / 2 * (float)scene.w;
    out[1] = (float)scene.y + (c[1] / c[3] + 1) / 2 * (float)scene.h;
    return true;
}

/* The point `at` + d * `out`, mirrored for axis `axis`, projected. */
static bool project_out(const float m[16], struct rc_rect scene, const float mirror[2],
                        const float at[3], const float out[3], float d, float px[2])
{
    float p[3];
    for (int k = 0; k < 3; k++) {
        p[k] = (at[k] + d * out[k]) * (k < 2 ? mirror[k] : 1.0f);
    }
    return project(m, scene, p, px);
}

static float cross(const float o[2], const float a[2], const float b[2])
{
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
}

static int by_x(const void *pa, const void *pb)
{
    const float *a = pa, *b = pb;
    return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1];
}

/* The convex hull of `n` points (at most 8), counter-clockwise; its size. */
static int hull(float (*p)[2], int n, float (*h)[2])
{
    qsort(p, (size_t)n, sizeof(p[0]), by_x);
    int k = 0;
    for (int i = 0; i < n; i++) {
        while (k >= 2 && cross(h[k - 2], h[k - 1], p[i]) <= 0) {
            k--;
        }
        memcpy(h[k++], p[i], sizeof(h[0]));
    }
    for (int i = n - 2, lower = k + 1; i >= 0; i--) {
        while (k >= lower && cross(h[k - 2], h[k - 1], p[i]) <= 0) {
            k--;
        }
        memcpy(h[k++], p[i], sizeof(h[0]));
    }
    return k > 1 ? k - 1 : k;
}

/* Does the box meet the convex polygon `h` (counter-clockwise)? Separating axes. */
static bool meets_hull(struct box2 b, const float (*h)[2], int n)
{
    if (n < 3) {
        return false;
    }
    float minx = h[0][0], maxx = h[0][0], miny = h[0][1], maxy = h[0][1];
    for (int i = 1; i < n; i++) {
        minx = fminf(minx, h[i][0]);
        maxx = fmaxf(maxx, h[i][0]);
        miny = fminf(miny, h[i][1]);
        maxy = fmaxf(maxy, h[i][1]);
    }
    if (maxx < b.x0 || minx > b.x1 || maxy < b.y0 || miny > b.y1) {
        return false;
    }
    const float corners[4][2] = {{b.x0, b.y0}, {b.x1, b.y0}, {b.x1, b.y1}, {b.x0, b.y1}};
    for (int i = 0; i < n; i++) {
        const float *a = h[i], *c = h[(i + 1) % n];
        bool outside = true;
        for (int j = 0; j < 4 && outside; j++) {
            outside = cross(a, c, corners[j]) < 0; /* right of a counter-clockwise edge */
        }
        if (outside) {
            return false;
        }
    }
    return true;
}

/* Does the segment a-b meet the box? Liang-Barsky clipping. */
static bool meets_segment(struct box2 b, const float a[2], const float c[2])
{
    float d[2] = {c[0] - a[0], c[1] - a[1]}, t0 = 0, t1 = 1;
    const float p[4] = {-d[0], d[0], -d[1], d[1]};
    const float q[4] = {a[0] - b.x0, b.x1 - a[0], a[1] - b.y0, b.y1 - a[1]};
    for (int i = 0; i < 4; i++) {
        if (p[i] == 0) {
            if (q[i] < 0) {
                return false;
            }
            continue;
        }
        float t = q[i] / p[i];
        if (p[i] < 0) {
            t0 = fmaxf(t0, t);
        } else {
            t1 = fminf(t1, t);
        }
        if (t0 > t1) {
            return false;
        }
    }
    return true;
}

static bool boxes_meet(struct box2 a, struct box2 b)
{
    return a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;
}

/* What one frame's labels must keep clear of. */
struct frame_room {
    float hull[17][2]; /* the monotone chain's scratch: twice the corners, and one */
    int hull_n;
    float ticks[RC_AXES_MAX_LABELS][2][2];
    int tick_n;
    struct box2 placed[RC_AXES_MAX_LABELS];
    int placed_n;
    struct rc_rect scene;
};

static bool clear(const struct frame_room *f, struct rc_rect r)
{
    struct box2 b = {(float)r.x, (float)r.y, (float)(r.x + r.w), (float)(r.y + r.h)};
    if (r.x < f->scene.x || r.y < f->scene.y || r.x + r.w > f->scene.x + f->scene.w ||
        r.y + r.h > f->scene.y + f->scene.h) {
        return false;
    }
    struct box2 padded = {b.x0 - PAD_PX, b.y0 - PAD_PX, b.x1 + PAD_PX, b.y1 + PAD_PX};
    if (meets_hull(padded, (const float(*)[2])f->hull, f->hull_n)) {
        return false;
    }
    for (int i = 0; i < f->tick_n; i++) {
        if (meets_segment(padded, f->ticks[i][0], f->ticks[i][1])) {
            return false;
        }
    }
    for (int i = 0; i < f->placed_n; i++) {
        if (boxes_meet(padded, f->placed[i])) {
            return false;
        }
    }
    return true;
}

/* Half the label's extent along the unit direction u. */
static float half_along(const float u[2], const struct rc_rect *src)
{
    return fabsf(u[0]) * (float)src->w / 2 + fabsf(u[1]) * (float)src->h / 2;
}

/* Puts label `l` beyond `base` along `u`, `dist` pixels out at least, moving
 * further out while it meets something. False when it never fits. */
static bool put(struct frame_room *f, const struct rc_axis_label *l, const float base[2],
                const float u[2], float dist, struct rc_rect *out)
{
    for (int step = 0; step <= PUSH_STEPS; step++) {
        float d = dist + half_along(u, &l->src) + PAD_PX + (float)step * (float)l->src.h / 2;
        float cx = base[0] + u[0] * d, cy = base[1] + u[1] * d;
        struct rc_rect r = {(int)lroundf(cx - (float)l->src.w / 2),
                            (int)lroundf(cy - (float)l->src.h / 2), l->src.w, l->src.h};
        if (clear(f, r)) {
            f->placed[f->placed_n++] =
                (struct box2){(float)r.x, (float)r.y, (float)(r.x + r.w), (float)(r.y + r.h)};
            *out = r;
            return true;
        }
    }
    return false;
}

/* The unit screen direction in which `out` leaves the tick at `a`; away from
 * the box's centre `c` where it projects to almost nothing. */
static void direction(const float a[2], const float b[2], const float c[2], float u[2])
{
    float d[2] = {b[0] - a[0], b[1] - a[1]};
    float len = hypotf(d[0], d[1]);
    if (len < 0.5f) {
        d[0] = a[0] - c[0];
        d[1] = a[1] - c[1];
        len = hypotf(d[0], d[1]);
    }
    u[0] = len > 0 ? d[0] / len : 0.0f;
    u[1] = len > 0 ? d[1] / len : -1.0f;
}

size_t rc_axes_place(const struct rc_axes *axes, const float m[16], const double eye[3],
                     struct rc_rect scene, struct rc_rect *out)
{
    struct frame_room f = {.scene = scene};
    float x = axes->extent[0] / 2, y = axes->extent[1] / 2, centre[2] = {0, 0};
    float corners[8][2];
    int n = 0;
    bool seen = true;
    for (int i = 0; i < (axes->top > 0 ? 8 : 4); i++) {
        float p[3] = {i & 1 ? x : -x, i & 2 ? y : -y, i & 4 ? axes->top : 0.0f};
        seen = seen && project(m, scene, p, corners[n++]);
    }
    if (seen) {
        for (int i = 0; i < n; i++) {
            centre[0] += corners[i][0] / (float)n;
            centre[1] += corners[i][1] / (float)n;
        }
        f.hull_n = hull(corners, n, f.hull);
    }
    for (size_t i = 0; i < axes->count; i++) {
        const struct rc_axis_label *l = &axes->labels[i];
        float mirror[2];
        rc_axes_mirror(l->axis, eye, mirror);
        if (!l->title && project_out(m, scene, mirror, l->at, l->out, 0, f.ticks[f.tick_n][0]) &&
            project_out(m, scene, mirror, l->at, l->out, RC_AXES_TICK, f.ticks[f.tick_n][1])) {
            f.tick_n++;
        }
    }
    /* Ticks' labels first, every axis; then the titles beyond them. */
    float reach[3] = {0, 0, 0}; /* how far out each axis's labels went */
    size_t shown = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < axes->count; i++) {
            const struct rc_axis_label *l = &axes->labels[i];
            if (l->title != (pass == 1)) {
                continue;
            }
            out[i] = (struct rc_rect){0, 0, 0, 0};
            float mirror[2], a[2], b[2], u[2];
            rc_axes_mirror(l->axis, eye, mirror);
            if (!project_out(m, scene, mirror, l->at, l->out, 0, a) ||
                !project_out(m, scene, mirror, l->at, l->out, LABEL_GAP, b)) {
                continue;
            }
            direction(a, b, centre, u);
            float dist = l->title ? reach[l->axis] : 0.0f;
            if (!put(&f, l, b, u, dist, &out[i])) {
                continue;
            }
            shown++;
            if (!l->title) {
                float cx = (float)out[i].x + (float)out[i].w / 2 - b[0];
                float cy = (float)out[i].y + (float)out[i].h / 2 - b[1];
                float far = cx * u[0] + cy * u[1] + half_along(u, &out[i]);
                reach[l->axis] = fmaxf(reach[l->axis], far);
            }
        }
    }
    return shown;
}
