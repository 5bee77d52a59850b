/*
 * cube: a NetCDF, HDF5 or Zarr datacube through GDAL's multidimensional API —
 * one variable (raster.variable), every dimension other than x, y and time held at
 * one position (raster.select, by index or coordinate value), and the time steps
 * raster.datetime and raster.step choose — seen as a classic dataset whose bands
 * are the chosen steps. CF attributes come along: scale_factor and add_offset,
 * _FillValue, missing_value and valid_range (no data), units and long_name, and
 * the time coordinate's instants.
 * Internal to raster/; the reader's thread that holds the dataset.
 */
#ifndef RC_RASTER_CUBE_H
#define RC_RASTER_CUBE_H

#include <gdal.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"
#include "base/slice.h"
#include "raster/read.h"

struct rc_cube {
    GDALDatasetH mdim;    /* the multidimensional dataset */
    GDALDatasetH classic; /* x as columns, y as rows, the remaining axis as bands */
    unsigned *bands;      /* the chosen bands of `classic`, 1-based */
    size_t band_count;
    double *times;            /* band_count instants (seconds since 1970); NULL: no time axis */
    struct rc_read_mask mask; /* missing_value and valid_range, in stored units */
    char units[32], long_name[96];
    char time_format[24]; /* labels' strftime form, from the whole axis's spacing */
};

/* Opens `path` as a datacube. RC_OK with cube->classic NULL when it is not one and
 * the slice asks nothing of a datacube. `field` names the location in errors. */
enum rc_err rc_cube_open(const char *path, const struct rc_slice *slice, const char *field,
                         struct rc_cube *cube, struct rc_error *err);
void rc_cube_close(struct rc_cube *cube);

#endif
