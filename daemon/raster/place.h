/*
 * place: output.crs and output.bbox applied — a warped view of the raster in
 * the output's CRS over the bounding box, through GDAL's warper (a virtual
 * dataset: only the source blocks under the box are read, at the overview
 * nearest the size asked for). Internal to raster/; the reader's thread.
 */
#ifndef RC_RASTER_PLACE_H
#define RC_RASTER_PLACE_H

#include <gdal.h>

#include "base/error.h"
#include "base/place.h"

/* How to warp: where, how to resample, the nodata override, and the output's
 * size (0 x 0: GDAL's choice, about the source's resolution). */
struct rc_place_warp {
    const struct rc_place *place;
    const char *resampling; /* GDAL's name; NULL: nearest */
    const double *nodata;   /* the source's no data instead of its own; NULL: its own */
    unsigned width, height;
};

/* A view of `ds` warped as `w` says (closed by the caller, before `ds`), and
 * the source pixels under it in *source_pixels. 422s name output.crs when the
 * raster has no CRS or the CRS is unknown, output.bbox_crs likewise, and
 * output.bbox when the box misses the raster. */
enum rc_err rc_place_open(GDALDatasetH ds, const struct rc_place_warp *w, GDALDatasetH *out,
                          double *source_pixels, struct rc_error *err);

#endif
