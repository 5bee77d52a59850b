/*
 * slice: which part of a datacube a job draws (raster.variable, raster.select,
 * raster.datetime, raster.step). Plain data: the job parses it (job/spec.h), the
 * reader applies it (raster/cube.h); it travels to the reader as bytes.
 */
#ifndef RC_SLICE_H
#define RC_SLICE_H

#include <stdbool.h>

#define RC_SLICE_MAX_SELECT 8
#define RC_SLICE_MAX_RANGES 32
#define RC_SLICE_NAME 64

/* One dimension held at one position: its index, or the coordinate value there. */
struct rc_slice_select {
    char dim[RC_SLICE_NAME];
    bool by_index;
    double value; /* the index when by_index */
};

struct rc_slice {
    char variable[128]; /* "": the file's only data variable */
    struct rc_slice_select select[RC_SLICE_MAX_SELECT];
    unsigned select_count;
    double ranges[RC_SLICE_MAX_RANGES][2]; /* raster.datetime: [lo, hi) seconds since 1970 */
    unsigned range_count;                  /* 0: every time */
    int step_months;                       /* raster.step: one time each so many months ... */
    double step_seconds;                   /* ... or seconds; both 0: every time */
};

/* Whether the job asks anything of a datacube. */
static inline bool rc_slice_given(const struct rc_slice *s)
{
    return s->variable[0] || s->select_count || s->range_count || s->step_months ||
           s->step_seconds > 0;
}

#endif
