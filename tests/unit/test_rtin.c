/* The refined surface mesh (render/rtin.h) against what a mesh must be: it covers
 * the square once, has no cracks (no vertex in the middle of another triangle's
 * side), keeps every grid height within the bound, leaves out cells over missing
 * data, and is drawn in the order asked. */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "render/rtin.h"

enum { CELLS = 32, SIDE = CELLS + 1 };

/* A rough field on SIDE x SIDE texels (a vertex a texel): a ridge, bumps and a
 * flat plain in the north-west quarter. */
static void field(float *t)
{
    for (int y = 0; y < SIDE; y++) {
        for (int x = 0; x < SIDE; x++) {
            double v = 0.3;
            if (x > CELLS / 2 || y > CELLS / 2) {
                v = 0.5 + 0.3 * sin(x * 0.9) * cos(y * 0.7) + 0.2 * exp(-abs(x - y) / 2.0);
            }
            t[y * SIDE + x] = (float)(v < 0 ? 0 : v > 1 ? 1 : v);
        }
    }
}

static int twice_area(const uint32_t *q, unsigned w)
{
    int ax = (int)(q[0] % w), ay = (int)(q[0] / w), bx = (int)(q[1] % w), by = (int)(q[1] / w),
        cx = (int)(q[2] % w), cy = (int)(q[2] / w);
    return (bx - ax) * (cy - ay) - (by - ay) * (cx - ax);
}

/* Checks cracks and the error bound of `count` triangles over the heights `t` of
 * a grid `w` vertices wide and `h` high (a vertex a texel); returns the covered
 * area in cells. */
static double check_grid(const uint32_t *tris, size_t count, const float *t, unsigned w, unsigned h,
                         float bound)
{
    enum { MAX = SIDE * SIDE };
    bool used[MAX] = {0};
    CHECK(w * h <= MAX);
    for (size_t i = 0; i < 3 * count; i++) {
        used[tris[i]] = true;
    }
    double area = 0;
    int cracks = 0, off = 0, flipped = 0;
    for (size_t i = 0; i < count; i++) {
        const uint32_t *q = tris + 3 * i;
        CHECK(q[0] < w * h && q[1] < w * h && q[2] < w * h);
        int a2 = twice_area(q, w);
        flipped += a2 > 0; /* counter-clockwise seen from above: y runs south */
        flipped += a2 == 0;
        area += abs(a2) / 2.0;
        /* No used vertex strictly inside a side (sides run along rows, columns or
         * diagonals, so the grid points on them are unit steps apart). */
        for (int e = 0; e < 3; e++) {
            int px = (int)(q[e] % w), py = (int)(q[e] / w);
            int qx = (int)(q[(e + 1) % 3] % w), qy = (int)(q[(e + 1) % 3] / w);
            int n = abs(qx - px) > abs(qy - py) ? abs(qx - px) : abs(qy - py);
            for (int k = 1; k < n; k++) {
                int x = px + (qx - px) * k / n, y = py + (qy - py) * k / n;
                cracks += used[y * (int)w + x];
            }
        }
        /* Every grid point in the triangle: its height within the bound. */
        double ax = q[0] % w, ay = q[0] / w, bx = q[1] % w, by = q[1] / w, cx = q[2] % w,
               cy = q[2] / w;
        double det = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax);
        for (int y = 0; y < (int)h && det != 0; y++) {
            for (int x = 0; x < (int)w; x++) {
                double l1 = ((x - ax) * (cy - ay) - (y - ay) * (cx - ax)) / det;
                double l2 = ((bx - ax) * (y - ay) - (by - ay) * (x - ax)) / det;
                double l0 = 1 - l1 - l2;
                if (l0 < -1e-9 || l1 < -1e-9 || l2 < -1e-9) {
                    continue;
                }
                double z = l0 * t[q[0]] + l1 * t[q[1]] + l2 * t[q[2]];
                off += fabs(z - t[y * (int)w + x]) > bound + 1e-5;
            }
        }
    }
    CHECK(cracks == 0);
    CHECK(off == 0);
    CHECK(flipped == 0);
    return area;
}

static double check_mesh(const uint32_t *tris, size_t count, const float *t, float bound)
{
    return check_grid(tris, count, t, SIDE, SIDE, bound);
}

/* Triangles of `m` for `bound`; NULL (and a failed check) when out of memory. */
static uint32_t *triangles(const struct rc_rtin *m, float bound, size_t *count)
{
    uint32_t *tris = NULL;
    CHECK(rc_rtin_triangles(m, bound, &tris, count));
    return tris;
}

/* The network of heights `t` (SIDE x SIDE) with `missing` (NULL: none). */
static void network(struct rc_rtin *m, const float *t, const uint8_t *missing)
{
    CHECK(rc_rtin_create(m, CELLS, CELLS));
    rc_rtin_add_band(m, t, SIDE, SIDE);
    CHECK(rc_rtin_add_holes(m, missing));
}

/* The rough field `t` and its network. */
static void rough(struct rc_rtin *m, float *t)
{
    field(t);
    network(m, t, NULL);
}

static void test_bounds(void)
{
    float t[SIDE * SIDE];
    struct rc_rtin m;
    rough(&m, t);
    size_t last = 0;
    const float bounds[] = {0.2f, 0.05f, 0.01f, 0.0f};
    for (size_t b = 0; b < sizeof(bounds) / sizeof(bounds[0]); b++) {
        size_t count = 0;
        uint32_t *tris = triangles(&m, bounds[b], &count);
        CHECK(tris != NULL && count > last);
        CHECK(count < 2 * CELLS * CELLS); /* the flat quarter stays coarse */
        double area = check_mesh(tris, count, t, bounds[b]);
        CHECK_NEAR(area, CELLS * CELLS, 1e-9);
        last = count;
        free(tris);
    }
    rc_rtin_destroy(&m);
}

static void test_flat(void)
{
    float t[SIDE * SIDE];
    for (int i = 0; i < SIDE * SIDE; i++) {
        t[i] = 0.25f;
    }
    struct rc_rtin m;
    network(&m, t, NULL);
    size_t count = 0;
    uint32_t *tris = triangles(&m, 0.0f, &count);
    CHECK(count == 2);
    free(tris);
    rc_rtin_destroy(&m);
}

/* A band of several takes every band's bends: flat then bumpy refines as bumpy. */
static void test_bands_accumulate(void)
{
    float flat[SIDE * SIDE], rough[SIDE * SIDE];
    field(rough);
    for (int i = 0; i < SIDE * SIDE; i++) {
        flat[i] = 0.25f;
    }
    struct rc_rtin one, two;
    CHECK(rc_rtin_create(&one, CELLS, CELLS) && rc_rtin_create(&two, CELLS, CELLS));
    rc_rtin_add_band(&one, rough, SIDE, SIDE);
    rc_rtin_add_band(&two, flat, SIDE, SIDE);
    rc_rtin_add_band(&two, rough, SIDE, SIDE);
    CHECK(rc_rtin_add_holes(&one, NULL) && rc_rtin_add_holes(&two, NULL));
    size_t na = 0, nb = 0;
    uint32_t *a = triangles(&one, 0.05f, &na), *b = triangles(&two, 0.05f, &nb);
    CHECK(na == nb && na > 2);
    free(a);
    free(b);
    rc_rtin_destroy(&one);
    rc_rtin_destroy(&two);
}

/* One vertex over missing data: its four cells are left out, everything else
 * covered, and no triangle reaches the hole. */
static void test_hole(void)
{
    float t[SIDE * SIDE];
    field(t);
    int hx = 20, hy = 9;
    t[hy * SIDE + hx] = -1.0f;
    uint8_t missing[SIDE * SIDE] = {0};
    rc_terrain_mark_missing(t, SIDE, SIDE, CELLS, CELLS, missing);
    CHECK(missing[hy * SIDE + hx] == 1);
    struct rc_rtin m;
    network(&m, t, missing);
    size_t count = 0;
    uint32_t *tris = triangles(&m, 0.2f, &count);
    CHECK(tris != NULL);
    for (size_t i = 0; i < 3 * count; i++) {
        CHECK(!missing[tris[i]]);
    }
    /* The mesh's heights: the hole's vertex reads 0, as the renderer clamps it. */
    t[hy * SIDE + hx] = 0.0f;
    double area = check_mesh(tris, count, t, 0.2f);
    CHECK_NEAR(area, CELLS * CELLS - 4, 1e-9);
    free(tris);
    rc_rtin_destroy(&m);
}

static void test_orders(void)
{
    float t[SIDE * SIDE];
    struct rc_rtin m;
    rough(&m, t);
    size_t count = 0;
    uint32_t *tris = triangles(&m, 0.05f, &count);
    uint32_t *out = malloc(3 * count * sizeof(uint32_t));
    CHECK(out != NULL);
    for (int order = 0; out && order < RC_GRID_ORDERS; order++) {
        CHECK(rc_rtin_order(&m, tris, count, (enum rc_grid_order)order, out));
        bool rows = order == RC_GRID_FROM_SOUTH || order == RC_GRID_FROM_NORTH;
        bool down = order == RC_GRID_FROM_SOUTH || order == RC_GRID_FROM_EAST;
        int last = down ? 1 << 30 : -1, wrong = 0;
        long sum_in = 0, sum_out = 0;
        for (size_t i = 0; i < count; i++) {
            int key = 0;
            for (int k = 0; k < 3; k++) {
                uint32_t v = out[3 * i + k];
                key += (int)(rows ? v / SIDE : v % SIDE);
                sum_out += v;
                sum_in += tris[3 * i + k];
            }
            wrong += down ? key > last : key < last;
            last = key;
        }
        CHECK(wrong == 0);
        CHECK(sum_in == sum_out);
    }
    free(out);
    free(tris);
    rc_rtin_destroy(&m);
}

/* A grid of any size sits in the square's corner: its vertices numbered as the
 * uniform grid's, its edges exact (refined to whole cells along them). */
static void test_any_size(void)
{
    enum { COLS = 27, ROWS = 19 };
    float t[(COLS + 1) * (ROWS + 1)], square[SIDE * SIDE];
    field(square);
    for (int y = 0; y <= ROWS; y++) {
        for (int x = 0; x <= COLS; x++) {
            t[y * (COLS + 1) + x] = square[y * SIDE + x];
        }
    }
    struct rc_rtin m;
    CHECK(rc_rtin_create(&m, COLS, ROWS));
    CHECK(m.cells == 32);
    rc_rtin_add_band(&m, t, COLS + 1, ROWS + 1);
    CHECK(rc_rtin_add_holes(&m, NULL));
    size_t count = 0;
    uint32_t *tris = triangles(&m, 0.1f, &count);
    CHECK(count > 0 && count < 2 * COLS * ROWS);
    double area = check_grid(tris, count, t, COLS + 1, ROWS + 1, 0.1f);
    CHECK_NEAR(area, COLS * ROWS, 1e-9);
    free(tris);
    rc_rtin_destroy(&m);
}

int main(void)
{
    CHECK(rc_rtin_cells_for(403) == 512 && rc_rtin_cells_for(512) == 512);
    CHECK(rc_rtin_cells_for(1) == 2);
    test_flat();
    test_bounds();
    test_bands_accumulate();
    test_hole();
    test_orders();
    test_any_size();
    return CHECK_DONE();
}
