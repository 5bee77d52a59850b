/*
 * vectors: a job's vector layers (style.vectors, then style.graticule) read onto
 * its values' grid, in the form the renderer draws. Internal to pipeline/; the
 * worker's thread.
 */
#ifndef RC_PIPELINE_VECTORS_H
#define RC_PIPELINE_VECTORS_H

#include <stdbool.h>

#include "job/job.h"
#include "overlay/overlay.h"
#include "raster/raster.h"
#include "render/render.h"

struct rc_job_layers {
    struct rc_vectors *geometry[RC_JOB_MAX_VECTORS + 1]; /* owned */
    struct rc_render_vectors drawn[RC_JOB_MAX_VECTORS + 1];
    size_t count;
    struct rc_graticule_anchor anchors[RC_AXES_MAX_LABELS]; /* the graticule's labels */
    size_t anchor_count;
};

/* The versions of the job's vector files and uploads, for the clip cache's key:
 * false when one cannot be known without reading it (a URL). `ids` holds
 * RC_JOB_MAX_VECTORS. */
bool rc_job_layers_identities(const struct rc_config *cfg, const struct rc_job *job,
                              char (*ids)[65]);

/* Reads every layer onto the grid of `values`, each in a reader process within
 * the job's `budget`. */
enum rc_err rc_job_layers_load(const struct rc_config *cfg, const struct rc_job *job,
                               const struct rc_raster *values, struct rc_raster_budget *budget,
                               struct rc_job_layers *out, struct rc_error *err);
void rc_job_layers_release(struct rc_job_layers *layers);

/* GET /v1/vectors: the job's layers (style.vectors) read as the clip reads them,
 * cut to the clip's bounds and carried into EPSG:4326, as a GeoJSON feature
 * collection (RFC 7946): one MultiLineString a layer, every line and ring a line. */
enum rc_err rc_job_layers_geojson(const struct rc_config *cfg, const struct rc_job *job,
                                  const struct rc_raster *values, struct rc_raster_budget *budget,
                                  struct rc_buf *out, struct rc_error *err);

/* The graticule's labels for the overlay, in the world of a flat raster drawn
 * `extent` wide and tall (image and map modes), at most RC_AXES_MAX_LABELS / 2
 * of each kind (every second, third... line's when there are more). */
void rc_job_layers_label(struct rc_job_layers *layers, const struct rc_job_spec *spec,
                         const struct rc_raster *values, const float extent[2],
                         struct rc_overlay_settings *overlay);

#endif
