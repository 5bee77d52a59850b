/*
 * plan: the one place where the wire contract (job/job.h) becomes each stage's own
 * settings. Stages downstream of it — raster, render, overlay, encode, mux — never
 * see the job spec.
 *
 * Before the raster is loaded, rc_plan_raster_request() says what to read (the grid
 * no larger than the output needs). Once it is loaded, rc_plan_make() decides the
 * rest: the clip's length (job/timeline.h), the value range the colours span
 * (rescale, "auto" percentiles, or the colormap's own intervals, decided here
 * only), and the render, overlay, encoder and muxer settings. rc_plan_frame()
 * gives what each frame draws.
 *
 * A plan must not move once made (its timeline points into it). It borrows from the job and the
 * rasters it was made from (strings, the colormap, band lists, uploads): they must outlive it. Pure
 * data; the worker thread that owns the job uses it.
 */
#ifndef RC_PLAN_H
#define RC_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "base/config.h"
#include "base/error.h"
#include "encode/vp9.h"
#include "encode/webm_writer.h"
#include "job/job.h"
#include "job/timeline.h"
#include "overlay/overlay.h"
#include "pipeline/session.h"
#include "raster/raster.h"
#include "render/render.h"

/* Surface relief: the full value range rises this many world units (the raster's
 * longer side is 1) before style.exaggeration. */
#define RC_PLAN_SURFACE_RELIEF 0.2
/* style.detail "auto": a mesh refined where the heights bend (render/rtin.h) until
 * no grid height is off its triangle by more than this many output pixels seen
 * from the camera path's nearest point, over the grid of one cell per raster
 * pixel (at most one per output pixel along the output's longer side, and
 * render/rtin.h's RC_RTIN_MAX_CELLS). A flat plain costs two triangles, a ridge
 * what it needs. A software renderer pays for every triangle, so there the bound
 * is wider: at 4 pixels the demo DEM's silhouette at 720p leaves a one-pixel band
 * around the full-resolution mesh's at 10 pixels, where the uniform grid of one
 * cell per four output pixels left it at 123, with 94,000 triangles against that
 * grid's 175,000 (bench/NOTES.md). Shading keeps every ridge whatever the mesh:
 * the normals come from the full-resolution heights. */
#define RC_PLAN_MESH_ERROR_PX 1.0
#define RC_PLAN_SOFTWARE_MESH_ERROR_PX 4.0

/* The light kit's ambient floor: faces turned from every light stay readable. */
#define RC_PLAN_KIT_AMBIENT 0.25

struct rc_plan {
    struct rc_timeline timeline;  /* its camera is `camera` below */
    struct rc_camera_path camera; /* the job's, with "fit" distances resolved */
    double vmin, vmax;            /* the value range the colormap spans */
    bool has_overlay;
    struct rc_overlay_settings overlay;
    struct rc_render_settings render; /* values, heights, overlay: set by the worker */
    struct rc_bands values, heights;  /* what render.values and render.heights view */
    struct rc_output output;          /* format, frames, encoder and container */
    /* What the data gives when the job does not say (owned until rc_plan_release()):
     * its colour table, its classes' legend, its band instants as labels. */
    struct rc_colormap palette;
    struct rc_legend_entry *legend;
    char (*time_labels)[48];
    char axis_z_title[136]; /* what the overlay's z axis shows: the values' name and unit */
};

/* What to read for the job's values (`max_texture`: the renderer's largest side),
 * and for its heights (false when the job has none). */
void rc_plan_raster_request(const struct rc_job *job, unsigned max_texture,
                            struct rc_raster_request *out);
bool rc_plan_height_request(const struct rc_job *job, struct rc_raster_request *out);

/* Every stage's settings for the loaded `values`. */
enum rc_err rc_plan_make(const struct rc_job_spec *spec, const struct rc_config *cfg,
                         const struct rc_raster *values, bool gpu_convert, bool hardware,
                         struct rc_plan *plan, struct rc_error *err);

/* Frees what rc_plan_make() allocated, once the overlay and the renderer have
 * taken what they need. */
void rc_plan_release(struct rc_plan *plan);

/* The GIF's palette, from the colours the clip can show: the colormap over the
 * background (in every shade of the lighting, in surface mode), the nan colour, the
 * background and the overlay's pixels. Exact when they are few enough. */
void rc_plan_palette(struct rc_plan *plan, const struct rc_overlay *overlay);

/* The heights from a second raster (raster.height), once loaded: the renderer's,
 * and the z axis's range. Borrowed; the caller keeps it until rc_render_begin(). */
void rc_plan_set_heights(struct rc_plan *plan, const struct rc_raster *heights);

/* What frame `index` (< plan->timeline.frames) draws. */
void rc_plan_frame(const struct rc_plan *plan, size_t index, struct rc_render_frame *out);

#endif
