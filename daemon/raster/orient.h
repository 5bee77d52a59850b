/*
 * orient: every raster is stored north up, east right. A geotransform with
 * rotation or shear terms is warped to a north-up grid through GDAL (a virtual
 * warped dataset: nothing is read twice, cells outside the source are no data);
 * a south-up grid (positive pixel height) or one whose columns run west is
 * flipped once decoded, and its geotransform rewritten to match.
 * Internal to raster/; the thread that holds the dataset.
 */
#ifndef RC_RASTER_ORIENT_H
#define RC_RASTER_ORIENT_H

#include <gdal.h>
#include <stdbool.h>

#include "base/error.h"

/* A north-up view of `ds` when its geotransform rotates or shears (the caller
 * closes it, before `ds`), else NULL with RC_OK. */
enum rc_err rc_orient_unrotate(GDALDatasetH ds, const char *resampling, const char *field,
                               GDALDatasetH *out, struct rc_error *err);

/* Which axes of a north-up-or-flipped geotransform run backwards. */
struct rc_orient_flip {
    bool columns; /* pixel width negative: columns run east to west */
    bool rows;    /* pixel height positive: rows run south to north */
};

struct rc_orient_flip rc_orient_flips(const double gt[6]);

/* Flips one w x h plane in place as `flip` says. */
void rc_orient_apply(float *plane, unsigned w, unsigned h, struct rc_orient_flip flip);

/* Rewrites `gt`, of a grid of w x h source pixels, as the flipped grid's. */
void rc_orient_geotransform(double gt[6], unsigned w, unsigned h, struct rc_orient_flip flip);

struct rc_raster;
/* The kind of `ds`'s CRS and its linear unit into r->crs, crs_unit_m, crs_unit. */
void rc_orient_crs(GDALDatasetH ds, struct rc_raster *r);

#endif
