/*
 * bands: a read-only view of a stack of float bands — what the renderer reads of
 * a raster, so render/ needs nothing of raster/. Rows run north to south; NaN is
 * no data. The view borrows: its owner (a struct rc_raster) outlives it.
 */
#ifndef RC_BANDS_H
#define RC_BANDS_H

#include <stddef.h>

struct rc_bands {
    const float *values; /* `count` planes of width * height */
    unsigned width, height;
    size_t count;
    double valid_min, valid_max; /* over every band; NaN when nothing is valid */
    const double (*range)[2];    /* per band [min, max]; NULL when not kept */
    const char *identity;        /* what the values depend on (64 hex digits, as
                                    struct rc_raster's); NULL or "": unknown */
};

#endif
