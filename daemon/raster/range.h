/*
 * range: statistics of a loaded raster's values for the colour range — the
 * percentiles behind `rescale: "auto"`, by numpy.percentile's default (linear)
 * rule. Pure functions; any thread.
 */
#ifndef RC_RANGE_H
#define RC_RANGE_H

#include <stdbool.h>
#include <stddef.h>

#include "raster/raster.h"

/* The q-th percentile (0..100) of v[0..n), n > 0, numpy's linear rule; reorders v. */
double rc_percentile(float *v, size_t n, double q);

/* The q_lo-th and q_hi-th percentiles of the valid values of every band (evenly
 * sampled past 4 Mi values). False when nothing is valid or memory is short. */
bool rc_raster_percentiles(const struct rc_raster *raster, double q_lo, double q_hi, double *lo,
                           double *hi);

#endif
