/* Height-field preparation: normalisation, normals, meshes with holes, draw order. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "render/terrain.h"

static void test_normalize(void)
{
    float in[5] = {0.0f, 5.0f, 10.0f, NAN, 20.0f}, out[5];
    rc_terrain_normalize(in, 5, 0.0, 10.0, out);
    CHECK(out[0] == 0.0f && out[1] == 0.5f && out[2] == 1.0f);
    CHECK(out[3] == -1.0f); /* no data */
    CHECK(out[4] == 1.0f);  /* clipped like matplotlib */
    rc_terrain_normalize(in, 5, 3.0, 3.0, out);
    CHECK(out[0] == 0.0f && out[4] == 0.0f);
}

static void decode(const uint8_t *px, double n[3])
{
    for (int i = 0; i < 3; i++) {
        n[i] = px[i] / 255.0 * 2.0 - 1.0;
    }
}

static void test_normals(void)
{
    /* A slope rising towards the east: t = x / 3 over 4x3 texels spanning 1 x 0.75
     * world units, scale 0.75: dz/dx = (1/3 * 0.75) / 0.25 = 1, so the normal is
     * (-1, 0, 1) / sqrt(2). */
    float t[12];
    for (int y = 0; y < 3; y++) {
        for (int x = 0; x < 4; x++) {
            t[y * 4 + x] = x / 3.0f;
        }
    }
    uint8_t rgba[48];
    rc_terrain_normals(t, 4, 3, 1.0, 0.75, 0.75, rgba);
    double n[3];
    decode(rgba + 4 * (1 * 4 + 1), n);
    CHECK_NEAR(n[0], -sqrt(0.5), 0.01);
    CHECK_NEAR(n[1], 0.0, 0.01);
    CHECK_NEAR(n[2], sqrt(0.5), 0.01);
    decode(rgba + 4 * (0 * 4 + 0), n); /* edges use one-sided differences */
    CHECK_NEAR(n[0], -sqrt(0.5), 0.01);

    /* A flat field with a hole stays flat next to the hole. */
    float flat[9] = {0.5f, 0.5f, 0.5f, 0.5f, -1.0f, 0.5f, 0.5f, 0.5f, 0.5f};
    uint8_t out[36];
    rc_terrain_normals(flat, 3, 3, 1.0, 1.0, 1.0, out);
    decode(out + 4 * 1, n);
    CHECK_NEAR(n[2], 1.0, 0.01);
}

static void test_grid(void)
{
    /* 4x4 texels, a 2x2-cell grid: vertices at uv 0, 0.5, 1 read texels 0, 2, 3. */
    float t[16];
    for (int i = 0; i < 16; i++) {
        t[i] = 0.5f;
    }
    uint8_t missing[9] = {0};
    uint32_t idx[24];
    CHECK(rc_terrain_grid_indices(2, 2, missing, RC_GRID_FROM_NORTH, idx) == 24);
    t[2 * 4 + 2] = -1.0f; /* the texel under the centre vertex */
    rc_terrain_mark_missing(t, 4, 4, 2, 2, missing);
    CHECK(missing[4] == 1);
    CHECK(missing[0] == 0 && missing[8] == 0);
    /* Every cell touches the centre vertex: all four become holes. */
    CHECK(rc_terrain_grid_indices(2, 2, missing, RC_GRID_FROM_NORTH, idx) == 0);

    memset(missing, 0, sizeof(missing));
    missing[0] = 1; /* north-west corner: only the north-west cell goes */
    CHECK(rc_terrain_grid_indices(2, 2, missing, RC_GRID_FROM_NORTH, idx) == 18);

    /* Orders: the first cell drawn is on the camera's side. */
    memset(missing, 0, sizeof(missing));
    rc_terrain_grid_indices(2, 2, missing, RC_GRID_FROM_SOUTH, idx);
    CHECK(idx[0] == 1 * 3 + 0); /* cell (0, row 1): its top-left vertex is row 1 */
    rc_terrain_grid_indices(2, 2, missing, RC_GRID_FROM_EAST, idx);
    CHECK(idx[0] == 0 * 3 + 1); /* cell (column 1, row 0) */
    CHECK(rc_terrain_order_for(0) == RC_GRID_FROM_SOUTH);
    CHECK(rc_terrain_order_for(90) == RC_GRID_FROM_EAST);
    CHECK(rc_terrain_order_for(180) == RC_GRID_FROM_NORTH);
    CHECK(rc_terrain_order_for(-90) == RC_GRID_FROM_WEST);
    CHECK(rc_terrain_order_for(350) == RC_GRID_FROM_SOUTH);
}

int main(void)
{
    test_normalize();
    test_normals();
    test_grid();
    return CHECK_DONE();
}
