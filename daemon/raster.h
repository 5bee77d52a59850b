/*
 * raster: reads the chosen bands of a raster into memory with GDAL.
 *
 * Locations: a path relative to the data root, an absolute path or file:// URL
 * inside it; nothing may leave the root (checked on the resolved real path, so
 * ".." and symlinks are covered). Values become float32 with the nodata value
 * (the job's, else the file's) and NaN both stored as NaN; scale and offset are
 * applied. Rasters larger than the configured pixel budget or `max_dim` are read
 * downsampled (GDAL picks overviews when the file has them).
 *
 * Called from a render worker thread. Rasters are reference-counted and shared
 * through the cache (cache.h). rc_raster_global_init() runs once on the main thread
 * before any worker starts.
 */
#ifndef RC_RASTER_H
#define RC_RASTER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "error.h"
#include "job.h"

struct rc_cache;

/* Immutable once loaded and shared by reference count (the cache holds one). */
struct rc_raster {
    atomic_int refs;
    unsigned width, height; /* of the stored grid */
    unsigned source_width, source_height;
    size_t band_count;
    float *values;               /* band_count planes of width*height, row 0 north; NaN = no data */
    double valid_min, valid_max; /* over all stored bands; NaN when nothing is valid */
    size_t valid_count;
    bool has_geotransform;
    double geotransform[6]; /* GDAL's, of the source grid */
};

/* Once, on the main thread: GDAL's drivers, error handler and block cache size. */
void rc_raster_global_init(const struct rc_config *cfg);

/* GDAL's release name, and the bytes its block cache may hold. */
const char *rc_raster_library_version(void);
uint64_t rc_raster_block_cache_bytes(void);

struct rc_fetch_config;
/* The remote-fetch settings the config asks for. */
void rc_raster_fetch_config(const struct rc_config *cfg, struct rc_fetch_config *out);

/* Loads the job's bands, through `cache` when given (may be NULL). The caller
 * gets one reference. `fetched` (may be NULL) counts the job's remote body bytes:
 * what it holds is spent from max_fetch_mb, and this read adds its own. */
enum rc_err rc_raster_load(const struct rc_config *cfg, struct rc_cache *cache,
                           const struct rc_job_spec *spec, unsigned max_dim, uint64_t *fetched,
                           struct rc_raster **out, struct rc_error *err);
void rc_raster_ref(struct rc_raster *raster);
void rc_raster_unref(struct rc_raster *raster);
/* Bytes of decoded values. */
size_t rc_raster_bytes(const struct rc_raster *raster);

/* Reads raster.height (one band, its own nodata) onto exactly the grid of
 * `values`. When both files are georeferenced they must cover the same extent.
 * `fetched` as for rc_raster_load(): the remote byte budget is one per job. */
enum rc_err rc_raster_load_height(const struct rc_config *cfg, struct rc_cache *cache,
                                  const struct rc_job_spec *spec, const struct rc_raster *values,
                                  uint64_t *fetched, struct rc_raster **out, struct rc_error *err);

/* The value range the colormap spans: the job's rescale, its 2..98 percentile
 * ("auto"), or the valid minimum..maximum. */
void rc_raster_value_range(const struct rc_raster *raster, const struct rc_job_spec *spec,
                           double *min, double *max);

/* Resolves a raster location to a real path under `data_root`; errors name `field`. */
enum rc_err rc_raster_resolve_path(const char *data_root, const char *url, const char *field,
                                   char *out, size_t out_size, struct rc_error *err);

#endif
