/*
 * labels: what the file says about the bands it gives — a name for each (the
 * band's description, else its time, else an acquisition date GDAL reports, else
 * "band N"), each band's instant when the file has a time axis (NetCDF's time
 * dimension with its "units since" epoch, or a datacube's, raster/cube.h).
 * Internal to raster/; the thread that holds the dataset.
 */
#ifndef RC_LABELS_H
#define RC_LABELS_H

#include <gdal.h>
#include <stdbool.h>
#include <stddef.h>

#include "raster/raster.h"

/* Fills r->labels for file bands bands[i], i < count,
 * and r->times with r->time_format when every band has a time (`times` and
 * `time_format`: the datacube's, NULL to read NetCDF's band metadata and choose a
 * format from the bands' spacing). False when memory runs out. */
bool rc_raster_read_labels(GDALDatasetH ds, const unsigned *bands, size_t count,
                           const double *times, const char *time_format, struct rc_raster *r);

#endif
