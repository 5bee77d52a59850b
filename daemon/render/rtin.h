/*
 * rtin: a surface mesh refined where the height field bends — a right-
 * triangulated irregular network over a square grid of (2^k + 1)^2 vertices.
 * Every triangle is split at the middle of its longest
 * side until its plane is within a bound of every height under it; shared sides
 * split alike, so the mesh has no cracks. Its vertices are the uniform grid's
 * (terrain.h) of any size, inside a square of a power of two cells; near the
 * grid's edges and near missing data the mesh is refined to whole cells, and cells
 * with a corner beyond the grid or over missing data are left out, as the grid
 * leaves them.
 *
 * The caller owns `struct rc_rtin` (rc_rtin_create/_destroy); any one thread.
 */
#ifndef RC_RTIN_H
#define RC_RTIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "render/terrain.h"

/* The largest grid refined, in cells along its longer side: its working arrays
 * take 9 bytes a vertex of the square (9.5 MiB at 1024). */
#define RC_RTIN_MAX_CELLS 1024

struct rc_rtin {
    unsigned cells;      /* the square's side: a power of two */
    unsigned cols, rows; /* the grid inside it, vertex (x, y) at uv (x / cols, y / rows) */
    float *error;        /* (cells + 1)^2: the largest height error under each split point */
    float *z;            /* (cells + 1)^2: one band's heights at the vertices (scratch, until
                            rc_rtin_add_holes()) */
    uint8_t *out;        /* (cells + 1)^2: vertices beyond the grid or over missing data */
};

/* For a grid of cols x rows cells (as the uniform grid's, terrain.h) inside the
 * smallest square of a power of two cells that holds it; false when out of memory. */
bool rc_rtin_create(struct rc_rtin *m, unsigned cols, unsigned rows);
void rc_rtin_destroy(struct rc_rtin *m);

/* The smallest power of two at least `n` (at least 2). */
unsigned rc_rtin_cells_for(unsigned n);

/* Adds one band's heights: `t` (width x height texels, row 0 north, missing
 * below 0), read at each vertex as a nearest-filtered lookup reads it. */
void rc_rtin_add_band(struct rc_rtin *m, const float *t, unsigned width, unsigned height);

/* After the bands: the grid's vertices over missing data (`missing`, (cols + 1) x
 * (rows + 1) bytes as rc_terrain_mark_missing marks them; NULL: none). Near them
 * and along the grid's edges inside the square the mesh is refined to whole cells.
 * The network is then complete: the heights' scratch is freed, and from here on
 * rc_rtin_triangles() only reads it (threads may share it). */
bool rc_rtin_add_holes(struct rc_rtin *m, const uint8_t *missing);

/* The bytes the network holds. */
size_t rc_rtin_bytes(const struct rc_rtin *m);

/* The mesh: triangles split while their height error exceeds `max_error`
 * (heights' units; every grid vertex inside a triangle is within it of the
 * triangle's plane), as indices of the grid's (cols + 1) x (rows + 1) vertices
 * (row-major, three a triangle, counter-clockwise seen from above) into *out,
 * allocated (the caller frees it; NULL when there are none), and their number
 * in *count; cells with a corner over missing data left out. False when out of
 * memory. */
bool rc_rtin_triangles(const struct rc_rtin *m, float max_error, uint32_t **out, size_t *count);

/* The `count` triangles of `tris` in draw order `order` into `out` (3 * count
 * entries); false when out of memory. */
bool rc_rtin_order(const struct rc_rtin *m, const uint32_t *tris, size_t count,
                   enum rc_grid_order order, uint32_t *out);

#endif
