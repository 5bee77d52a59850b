/*
 * labels: a name for each band, read from the file — the band's description, else
 * its time (NetCDF's time dimension with its "units since" epoch; a monthly series
 * reads "2001-01", others "2001-01-15"), else an acquisition date GDAL reports (the
 * band's metadata, IMAGERY's ACQUISITIONDATETIME, TIFFTAG_DATETIME), else "band N".
 * Internal to raster/; the thread that holds the dataset.
 */
#ifndef RC_LABELS_H
#define RC_LABELS_H

#include <gdal.h>
#include <stddef.h>

#include "raster/raster.h"

/* Fills out[i] for file band bands[i], i < count. */
void rc_raster_read_labels(GDALDatasetH ds, const unsigned *bands, size_t count,
                           char (*out)[RC_RASTER_LABEL_MAX]);

#endif
