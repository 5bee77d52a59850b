/*
 * read: one band of an open dataset onto a w x h float grid — from the coarsest
 * overview that still has the pixels asked for, refused before any pixel is read
 * when that means blocks larger than GDAL's block cache, resampled as rio-tiler names it; the
 * nodata value (the job's, else the file's) and NaN become NaN, scale and offset are applied.
 * Internal to raster/; the thread that holds the dataset.
 */
#ifndef RC_RASTER_READ_H
#define RC_RASTER_READ_H

#include <gdal.h>
#include <stdbool.h>

#include "base/config.h"
#include "base/error.h"

/* The source pixels reading `band` onto a w x h grid decodes: those of the
 * overview rc_raster_read_band() reads from. A decimated read still decodes every
 * source pixel, so this is what the job's max_read_pixels budget counts. */
double rc_raster_read_cost(GDALRasterBandH band, unsigned w, unsigned h);

/* What a CF variable says that a driver may not: stored values that are no data
 * besides the band's nodata value (_FillValue, missing_value, those outside
 * valid_range), and scale_factor and add_offset where the band reports none. */
struct rc_read_mask {
    bool has_missing, has_fill;
    double missing, fill;
    double valid[2]; /* [min, max]; -inf, inf when none */
    bool has_scale;
    double scale, offset;
};

enum rc_err rc_raster_read_band(GDALRasterBandH band, const double *nodata_override,
                                const struct rc_read_mask *mask, const char *resampling,
                                const struct rc_config *cfg, float *dst, unsigned w, unsigned h,
                                const char *field, struct rc_error *err);

#endif
