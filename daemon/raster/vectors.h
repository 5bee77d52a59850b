/*
 * vectors: line and polygon layers (style.vectors, style.graticule) read from any
 * OGR dataset — GeoJSON, GeoPackage, Shapefile, FlatGeobuf, TopoJSON — in a
 * confined reader process, reprojected onto a raster's stored grid and clipped
 * to it, so that the renderer draws them in the raster's own cells.
 *
 * rc_vectors_read() runs in the reader (raster/reader.h); rc_vectors_parse()
 * checks its reply in the daemon; rc_vectors_load() is the daemon's call, from a
 * render worker.
 */
#ifndef RC_VECTORS_H
#define RC_VECTORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/config.h"
#include "base/error.h"
#include "base/vectors.h"
#include "raster/raster.h"

/* Points a layer may keep inside the view, whatever its source holds. */
#define RC_VECTORS_MAX_POINTS 500000u

/* The grid vectors are carried onto: a raster's stored grid. */
struct rc_vector_grid {
    char crs[RC_RASTER_CRS_MAX]; /* WKT */
    double geotransform[6];      /* of the source grid (source_width x source_height) */
    uint32_t source_width, source_height;
    uint32_t width, height; /* the stored grid */
    double graticule_step;  /* > 0: meridians and parallels this many degrees apart, no file */
};

/* The reader's side: the OGR dataset at `path` (the graticule when the grid
 * asks for one) as a reply payload (struct rc_vector_part[], then points). The
 * caller frees *payload. Errors name `field`. */
enum rc_err rc_vectors_read(const char *path, const struct rc_vector_grid *grid, const char *field,
                            uint8_t **payload, size_t *len, struct rc_error *err);

/* The daemon's side: a reply payload, checked, as vectors on `grid`. */
enum rc_err rc_vectors_parse(const uint8_t *payload, size_t len, const struct rc_vector_grid *grid,
                             struct rc_vectors **out);

/* The grid of `r`; false (a 422 in `err` naming `field`) when it has no CRS or
 * geotransform to carry vectors onto. */
bool rc_vectors_grid(const struct rc_raster *r, const char *field, struct rc_vector_grid *grid,
                     struct rc_error *err);

/* Where a layer comes from: a path under the data root or a URL under the URL
 * policy, or bytes uploaded with the job; neither (with grid->graticule_step):
 * the graticule. */
struct rc_vector_source {
    const char *url;     /* NULL or "": none */
    const uint8_t *data; /* NULL: none */
    size_t len;
};

/* Reads `source` onto `grid` in a reader process, within the job's `budget`
 * (may be NULL). */
enum rc_err rc_vectors_load(const struct rc_config *cfg, const struct rc_vector_source *source,
                            const char *field, const struct rc_vector_grid *grid,
                            struct rc_raster_budget *budget, struct rc_vectors **out,
                            struct rc_error *err);

#endif
