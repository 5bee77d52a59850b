/*
 * decode: opens a raster with GDAL and reads the chosen bands into float32 values
 * held in a sealed memory file, so that the reader process (raster/reader.h) can
 * hand them to the daemon without a copy. This is the only place a raster's bytes
 * are parsed; the daemon runs it in the confined reader, the upload fuzz target in
 * its own process.
 *
 * Values become float32 with the nodata value (the request's, else the file's)
 * and NaN both stored as NaN; scale and offset are applied. A raster larger than
 * the pixel budget or `max_dim` is read downsampled (GDAL picks overviews when the
 * file has them). Every band's read counts against one job-wide budget of source
 * pixels (max_read_pixels), checked for all the bands before the first is read.
 *
 * Any thread; GDAL must have been set up (rc_raster_decode_init()).
 */
#ifndef RC_DECODE_H
#define RC_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "base/config.h"
#include "base/error.h"
#include "base/place.h"
#include "base/slice.h"

struct rc_raster;

/* What to decode. Borrowed pointers; they need only outlive the call. */
struct rc_decode_request {
    const char *path;    /* what GDAL opens: a file under the data root, or a remote file */
    const uint8_t *data; /* an upload (any file GDAL reads, or a .npy) instead of `path` */
    size_t data_len;
    const char *field;       /* the job field errors about the location name */
    const char *bands_field; /* ... and errors about the bands */
    const unsigned *bands;   /* 1-based; NULL: every band */
    size_t band_count;
    const double *nodata;         /* overrides the file's; NULL: the file's */
    const char *resampling;       /* GDAL's name for downsampling; NULL: nearest */
    unsigned max_dim;             /* the stored grid's longer side at most (0: no cap) */
    unsigned width, height;       /* an exact grid instead (heights); 0: chosen from the limits */
    uint64_t read_pixels_left;    /* of the job's max_read_pixels */
    const struct rc_slice *slice; /* what to take of a datacube; NULL: all of its only variable */
    const struct rc_place *place; /* where to warp it; NULL: as stored */
};

/* Once per process: GDAL's drivers, error handler and block cache size. */
void rc_raster_decode_init(long gdal_cache_mb);

/* Decodes `q`. On RC_OK the caller gets one reference to a raster whose values
 * are a read-only mapping of `*values_fd` (sealed against writes and resizing;
 * the caller owns the descriptor) and `*read_pixels` the source pixels the read
 * decoded. The raster's identity is left empty. */
enum rc_err rc_raster_decode(const struct rc_config *cfg, const struct rc_decode_request *q,
                             struct rc_raster **out, int *values_fd, uint64_t *read_pixels,
                             struct rc_error *err);

/* A raster around `band_count` planes of `width` x `height` values mapped from
 * `values_fd` (not taken), which must hold them; NULL when it cannot be mapped. */
struct rc_raster *rc_raster_map(int values_fd, unsigned width, unsigned height, size_t band_count);

#endif
