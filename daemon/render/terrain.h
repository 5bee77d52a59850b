/*
 * terrain: CPU preparation of raster bands for drawing: values normalised for the
 * colormap, and the height field's normals for lighting.
 *
 * Pure functions on caller-owned buffers; any thread.
 */
#ifndef RC_TERRAIN_H
#define RC_TERRAIN_H

#include <stddef.h>
#include <stdint.h>

/* Maps values onto 0..1 over [vmin, vmax] as matplotlib's Normalize does, clipping
 * outside values to the ends; NaN becomes -1 ("no data"). A zero span maps to 0. */
void rc_terrain_normalize(const float *values, size_t count, double vmin, double vmax, float *out);

/* Normals of the height field z = t * height_scale over a grid of width x height
 * texels covering extent_x x extent_y world units (row 0 north, +y north), by
 * central differences; neighbours without data count as level with the texel.
 * Written as RGBA8 with xyz mapped from -1..1 to 0..255 (alpha 255). */
void rc_terrain_normals(const float *t, unsigned width, unsigned height, double extent_x,
                        double extent_y, double height_scale, uint8_t *rgba);

/* Draw orders of a grid's cells: starting from the side nearest the camera lets
 * the depth test reject hidden fragments before they are shaded. */
enum rc_grid_order {
    RC_GRID_FROM_SOUTH,
    RC_GRID_FROM_NORTH,
    RC_GRID_FROM_EAST,
    RC_GRID_FROM_WEST,
    RC_GRID_ORDERS,
};

/* The texel of `size` a nearest-filtered lookup reads at vertex i of n cells. */
unsigned rc_terrain_texel_of(unsigned i, unsigned n, unsigned size);

/* Grid vertex (x, y) of a cols x rows grid sits at uv (x / cols, y / rows) and
 * takes the texel a nearest-filtered lookup there reads. Sets missing[i] (one byte
 * per vertex, row-major) where that texel has no data (t < 0); never clears. */
void rc_terrain_mark_missing(const float *t, unsigned width, unsigned height, unsigned cols,
                             unsigned rows, uint8_t *missing);

/* Triangle indices (two per cell) of every cell whose four corners have data, in
 * `order`. `out` holds 6 * cols * rows entries; returns how many were written. */
size_t rc_terrain_grid_indices(unsigned cols, unsigned rows, const uint8_t *missing,
                               enum rc_grid_order order, uint32_t *out);

/* The order for a camera at `azimuth_deg` (0: looking north from the south). */
enum rc_grid_order rc_terrain_order_for(double azimuth_deg);

#endif
