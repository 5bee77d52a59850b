/*
 * classes: a categorical raster's classes — the integer values present in the
 * decoded bands, each with the colour the first chosen band's colour table gives
 * it and the name its category names or raster attribute table give it.
 * Internal to raster/; the reader's thread that holds the dataset.
 */
#ifndef RC_RASTER_CLASSES_H
#define RC_RASTER_CLASSES_H

#include <gdal.h>
#include <stddef.h>

struct rc_raster;

/* Fills r->classes (and its flags) when `band` has a colour table, category names
 * or a raster attribute table with names, and every valid value of the `count`
 * decoded values is an integer class (at most RC_RASTER_MAX_CLASSES present).
 * False only when memory runs out. */
bool rc_raster_read_classes(GDALRasterBandH band, const float *values, size_t count,
                            struct rc_raster *r);

#endif
