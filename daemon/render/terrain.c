#include "render/terrain.h"

#include <math.h>
#include <stdbool.h>

void rc_terrain_normalize(const float *values, size_t count, double vmin, double vmax, float *out)
{
    double span = vmax - vmin;
    double inv = span > 0 ? 1.0 / span : 0.0;
    for (size_t i = 0; i < count; i++) {
        float v = values[i];
        if (isnan(v)) {
            out[i] = -1.0f;
        } else {
            double t = ((double)v - vmin) * inv;
            out[i] = (float)(t < 0 ? 0 : t > 1 ? 1 : t);
        }
    }
}

static float level_or(const float *t, float fallback)
{
    return *t < 0.0f ? fallback : *t;
}

static uint8_t encode_unit(double v)
{
    return (uint8_t)lround((v * 0.5 + 0.5) * 255.0);
}

void rc_terrain_normals(const float *t, unsigned width, unsigned height, double extent_x,
                        double extent_y, double height_scale, uint8_t *rgba)
{
    double dx = extent_x / width, dy = extent_y / height;
    for (unsigned y = 0; y < height; y++) {
        for (unsigned x = 0; x < width; x++) {
            const float *c = t + (size_t)y * width + x;
            float centre = *c < 0.0f ? 0.0f : *c;
            float west = x > 0 ? level_or(c - 1, centre) : centre;
            float east = x + 1 < width ? level_or(c + 1, centre) : centre;
            float north = y > 0 ? level_or(c - width, centre) : centre;
            float south = y + 1 < height ? level_or(c + width, centre) : centre;
            unsigned span_x = (x > 0) + (x + 1 < width), span_y = (y > 0) + (y + 1 < height);
            double dzdx = span_x ? (east - west) * height_scale / (span_x * dx) : 0.0;
            double dzdy = span_y ? (north - south) * height_scale / (span_y * dy) : 0.0;
            double len = sqrt(dzdx * dzdx + dzdy * dzdy + 1.0);
            uint8_t *o = rgba + 4 * ((size_t)y * width + x);
            o[0] = encode_unit(-dzdx / len);
            o[1] = encode_unit(-dzdy / len);
            o[2] = encode_unit(1.0 / len);
            o[3] = 255;
        }
    }
}

unsigned rc_terrain_texel_of(unsigned i, unsigned n, unsigned size)
{
    unsigned k = (unsigned)((double)i / (double)n * (double)size);
    return k < size ? k : size - 1;
}

void rc_terrain_mark_missing(const float *t, unsigned width, unsigned height, unsigned cols,
                             unsigned rows, uint8_t *missing)
{
    for (unsigned y = 0; y <= rows; y++) {
        const float *row = t + (size_t)rc_terrain_texel_of(y, rows, height) * width;
        for (unsigned x = 0; x <= cols; x++) {
            if (row[rc_terrain_texel_of(x, cols, width)] < 0.0f) {
                missing[(size_t)y * (cols + 1) + x] = 1;
            }
        }
    }
}

static uint32_t *put_cell(uint32_t *q, unsigned cols, unsigned x, unsigned y,
                          const uint8_t *missing)
{
    uint32_t a = y * (cols + 1) + x, b = a + 1, c = a + cols + 1, d = c + 1;
    if (missing && (missing[a] || missing[b] || missing[c] || missing[d])) {
        return q; /* a hole, not a spike down to zero */
    }
    q[0] = a;
    q[1] = c;
    q[2] = b;
    q[3] = b;
    q[4] = c;
    q[5] = d;
    return q + 6;
}

size_t rc_terrain_grid_indices(unsigned cols, unsigned rows, const uint8_t *missing,
                               enum rc_grid_order order, uint32_t *out)
{
    uint32_t *q = out;
    bool by_rows = order == RC_GRID_FROM_SOUTH || order == RC_GRID_FROM_NORTH;
    unsigned outer = by_rows ? rows : cols, inner = by_rows ? cols : rows;
    for (unsigned i = 0; i < outer; i++) {
        /* Rows count from the north, columns from the west. */
        unsigned line =
            (order == RC_GRID_FROM_SOUTH || order == RC_GRID_FROM_EAST) ? outer - 1 - i : i;
        for (unsigned j = 0; j < inner; j++) {
            q = by_rows ? put_cell(q, cols, j, line, missing) : put_cell(q, cols, line, j, missing);
        }
    }
    return (size_t)(q - out);
}

enum rc_grid_order rc_terrain_order_for(double azimuth_deg)
{
    /* The eye sits at (sin az, -cos az) from the target. */
    double rad = azimuth_deg * 3.14159265358979323846 / 180.0;
    double east = sin(rad), south = cos(rad);
    if (fabs(south) >= fabs(east)) {
        return south > 0 ? RC_GRID_FROM_SOUTH : RC_GRID_FROM_NORTH;
    }
    return east > 0 ? RC_GRID_FROM_EAST : RC_GRID_FROM_WEST;
}
