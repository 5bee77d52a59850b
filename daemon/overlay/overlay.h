/*
 * overlay: the colorbar and the title, composed once per job on the CPU into a
 * premultiplied RGBA canvas the size of the output, plus the layout that keeps
 * them off the scene: the 3D view is drawn only inside `scene`, so neither the bar
 * nor the title can cover the raster, whatever the camera does.
 *
 * Any thread; the caller owns the overlay (rc_overlay_create/_destroy) and lends
 * it a `struct rc_text` for the duration of the call.
 */
#ifndef RC_OVERLAY_H
#define RC_OVERLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/colormap.h"
#include "base/error.h"
#include "overlay/text.h"

struct rc_rect {
    int x, y, w, h; /* pixels, origin top-left */
};

#define RC_OVERLAY_MAX_PANELS 3
#define RC_OVERLAY_MAX_TICKS 24
#define RC_OVERLAY_MAX_PAGE_BYTES (32 * 1024 * 1024) /* per kind of band page */

/* Parts of the canvas that change with the frame's band: one page per band, the
 * rect's size (premultiplied RGBA, owned), which the renderer puts into `rect` as
 * frames change band. */
struct rc_band_pages {
    struct rc_rect rect;
    uint8_t *pages;
    size_t count; /* 0: none */
};

#define RC_AXES_MAX_TICKS 12 /* per axis */
#define RC_AXES_TICK 0.02f   /* a tick mark's length, world units (the raster's longer side is 1) */
#define RC_AXES_MAX_LABELS (3 * (RC_AXES_MAX_TICKS + 1)) /* the ticks' and a title each */

/* A label of the axes, a tick's or an axis's title: drawn beside a point of the
 * scene, projected each frame. World units are the renderer's: the raster
 * centred on the origin, x east, y north, z up. */
struct rc_axis_label {
    float at[3];        /* the tick on its axis; a title: the axis's middle */
    float out[3];       /* unit direction away from the raster, where the label sits */
    struct rc_rect src; /* the label in the atlas */
    int axis;           /* 0: x, 1: y, 2: z */
    bool title;         /* the axis's name and unit, beyond its ticks' labels */
    char text[136];     /* UTF-8 */
};

/* mlab.axes: x along the south edge, y along the west edge, z up the south-west
 * corner (surfaces), ticks at nice values of the raster's coordinates in one
 * notation per axis, and a title naming each axis with its unit. The renderer
 * mirrors each axis to the box's edges nearer the camera (rc_axes_mirror). */
struct rc_axes {
    struct rc_canvas atlas; /* owned; the labels, premultiplied RGBA */
    struct rc_axis_label labels[RC_AXES_MAX_LABELS];
    size_t count;
    float extent[2], top; /* world: the raster's box */
};

/* What the raster's x and y coordinates are. */
enum rc_axes_kind {
    RC_AXES_CELLS,     /* no geotransform: columns and rows */
    RC_AXES_PLAIN,     /* a geotransform in an unknown CRS */
    RC_AXES_PROJECTED, /* eastings and northings in a linear unit */
    RC_AXES_DEGREES,   /* longitudes and latitudes */
};

/* The mirror (-1 or 1 for world x and y) that moves axis `axis`, built at the
 * south-west corner, to the box's edges nearer `eye`. */
void rc_axes_mirror(int axis, const double eye[3], float out[2]);

/* Where each label of `axes` goes in a frame of view-projection `m` (column
 * major, as GL's) seen from `eye` and drawn into `scene`: the label's rectangle
 * in the scene's pixel space, or one of width 0 when it is left out. A label
 * sits beyond its tick (a title beyond its axis's labels) in the direction its
 * `out` projects to, and is shown only clear of the raster's box, the tick marks
 * and the labels placed before it, and inside `scene`. Returns how many show. */
size_t rc_axes_place(const struct rc_axes *axes, const float m[16], const double eye[3],
                     struct rc_rect scene, struct rc_rect *out);

/* One class of a legend: its colour (straight alpha, shown over the background)
 * and its name, UTF-8. */
/* A graticule line's label: where the line meets the raster's edge (world),
 * the direction into the raster, and its degrees. */
struct rc_graticule_anchor {
    float at[3], out[3];
    int axis; /* 0: a meridian (longitude), 1: a parallel (latitude) */
    double value;
};

struct rc_legend_entry {
    uint8_t rgba[4];
    char name[48];
};

struct rc_overlay {
    struct rc_canvas canvas;                      /* owned; output size */
    struct rc_rect scene;                         /* where the 3D view is drawn */
    struct rc_rect panels[RC_OVERLAY_MAX_PANELS]; /* canvas parts with content */
    size_t panel_count;
    struct rc_rect bar;             /* the colour ramp, min at the bottom */
    struct rc_band_pages labels;    /* the band's name */
    struct rc_band_pages colorbars; /* the bar's numbers with per-band ranges */
    struct rc_axes axes;            /* count 0: none */
    struct rc_axes graticule;       /* the graticule's labels; count 0: none */
    struct rc_marks marks;          /* with settings.record: what the canvas shows */
};

/* What one job's overlay shows; made by the plan (pipeline/plan.h). Borrowed
 * pointers, needed only during rc_overlay_create(). */
struct rc_overlay_settings {
    unsigned width, height;             /* the output's */
    bool colorbar;                      /* drawn when [vmin, vmax] is finite and not empty */
    const char *colorbar_label;         /* UTF-8; "" for none */
    const char *title;                  /* UTF-8; "" for none */
    const struct rc_colormap *colormap; /* the bar's colours */
    uint8_t background[4];              /* what translucent colours and the ink are set against */
    bool text_colored;                  /* text_rgb given (style.text_color) */
    uint8_t text_rgb[3];
    double vmin, vmax;             /* the bar's range: the scene's colour range */
    bool horizontal;               /* the bar along the bottom, min at the left */
    unsigned tick_intervals;       /* about how many; 0: four */
    const char *tick_format;       /* printf-like, checked safe; NULL or "": auto */
    unsigned title_px;             /* 0: from the output's height */
    const char (*band_labels)[48]; /* one per band; NULL: none shown */
    size_t band_label_count;
    const double (*band_range)[2]; /* one [vmin, vmax] per band for the bar; NULL: vmin, vmax */
    size_t band_range_count;
    bool axes;                   /* with the settings below */
    enum rc_axes_kind axis_kind; /* what axis_x and axis_y are */
    double axis_unit_m;          /* RC_AXES_PROJECTED: metres in one of the CRS's units */
    const char *axis_unit;       /* ... and its symbol ("m", "ft") */
    const char *axis_z_title;    /* the z axis's name and unit; NULL: "z" */
    double axis_x[2];            /* coordinates at the raster's west and east edges */
    double axis_y[2];            /* at its south and north edges */
    double axis_z[2];            /* values at the relief's foot and top; NaN: no z axis */
    float extent[2], top;        /* world: the raster's size, the relief's height */
    /* A categorical raster's classes: a swatch and a name each instead of the bar
     * (drawn when `colorbar` is); NULL: none. */
    const struct rc_legend_entry *legend;
    size_t legend_count;
    /* style.graticule's labels, drawn inside the raster's edges; NULL: none. */
    const struct rc_graticule_anchor *graticule;
    size_t graticule_count;
    double graticule_step; /* degrees between lines: how many decimals they need */
    bool record;           /* keep what is drawn as marks too (a legend as SVG) */
};

/* True when the settings ask for a colorbar or a title. */
bool rc_overlay_wanted(const struct rc_overlay_settings *settings);

/* Page `index` (< count), rect's size. */
const uint8_t *rc_band_page(const struct rc_band_pages *pages, size_t index);

enum rc_err rc_overlay_create(const struct rc_overlay_settings *settings, struct rc_text *text,
                              struct rc_overlay **out, struct rc_error *err);
void rc_overlay_destroy(struct rc_overlay *overlay);

struct rc_buf;
/* What an overlay made with settings.record drew inside `panel`, as an SVG
 * document of the panel's size over `background` (alpha 0: none). */
enum rc_err rc_overlay_svg(const struct rc_overlay *o, struct rc_rect panel,
                           const uint8_t background[4], struct rc_buf *out);

/* "Nice" tick values (1, 2, 2.5 or 5 times a power of ten) strictly inside
 * (vmin, vmax), spaced for about `intervals` intervals, at most `max` of them,
 * ascending. Returns how many. */
size_t rc_overlay_ticks(double vmin, double vmax, unsigned intervals, size_t max, double *out);

/* Formats a tick label with as many decimals as `step` needs. */
void rc_overlay_format(double value, double step, char *buf, size_t size);

#endif
