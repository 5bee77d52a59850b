/*
 * vectors: line strings and polygon rings laid on a raster's grid (style.vectors,
 * style.graticule), as the reader carries them there (raster/vectors.h) and the
 * renderer draws them. Plain data owned by its caller; any thread.
 */
#ifndef RC_BASE_VECTORS_H
#define RC_BASE_VECTORS_H

#include <stddef.h>
#include <stdint.h>

enum rc_vector_kind {
    RC_VECTOR_LINE, /* a line string: stroked */
    RC_VECTOR_RING, /* a polygon's ring: filled (even-odd with the layer's other rings) and stroked
                     */
};

struct rc_vector_part {
    uint32_t first, count; /* points */
    uint32_t kind;         /* enum rc_vector_kind */
};

/* Where a graticule line meets the grid's edge: a meridian its south edge, a
 * parallel its west edge. */
struct rc_vector_label {
    float at[2];   /* in cells, as the points */
    uint32_t axis; /* 0: a meridian (value: longitude), 1: a parallel (latitude) */
    uint32_t unused;
    double value; /* degrees */
};

struct rc_vectors {
    size_t part_count, point_count, label_count;
    struct rc_vector_part *parts;
    struct rc_vector_label *labels;
    float (*xy)[2]; /* in cells of the stored grid: (0, 0) its north-west corner, x east */
};

void rc_vectors_free(struct rc_vectors *v);

#endif
