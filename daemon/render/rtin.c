#include "render/rtin.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* A triangle of the network: hypotenuse a-b, right angle at c, in grid units. */
struct tri {
    int ax, ay, bx, by, cx, cy;
};

/* Its two halves, split at the hypotenuse's middle m: (c, a, m) and (b, c, m). */
static void halves(const struct tri *t, struct tri *left, struct tri *right)
{
    int mx = (t->ax + t->bx) / 2, my = (t->ay + t->by) / 2;
    *left = (struct tri){t->cx, t->cy, t->ax, t->ay, mx, my};
    *right = (struct tri){t->bx, t->by, t->cx, t->cy, mx, my};
}

/* The smallest triangles, half a cell: their hypotenuse is a cell's diagonal. */
static bool is_leaf(const struct tri *t)
{
    return abs(t->ax - t->bx) <= 1 && abs(t->ay - t->by) <= 1;
}

bool rc_rtin_create(struct rc_rtin *m, unsigned cols, unsigned rows)
{
    unsigned cells = rc_rtin_cells_for(cols > rows ? cols : rows);
    size_t n = (size_t)(cells + 1) * (cells + 1);
    *m = (struct rc_rtin){.cells = cells, .cols = cols, .rows = rows};
    m->error = calloc(n, sizeof(float));
    m->z = calloc(n, sizeof(float));
    m->out = calloc(n, 1);
    if (!m->error || !m->z || !m->out) {
        rc_rtin_destroy(m);
        return false;
    }
    return true;
}

void rc_rtin_destroy(struct rc_rtin *m)
{
    free(m->error);
    free(m->z);
    free(m->out);
    m->error = m->z = NULL;
    m->out = NULL;
}

unsigned rc_rtin_cells_for(unsigned n)
{
    unsigned c = 2;
    while (c < n && c < (1u << 15)) {
        c <<= 1;
    }
    return c;
}

/* What one pass measures at a split point. */
struct pass {
    struct rc_rtin *m;
    const uint8_t *near_missing; /* NULL: heights (m->z) */
};

static size_t at(const struct rc_rtin *m, int x, int y)
{
    return (size_t)y * (m->cells + 1) + (size_t)x;
}

/* At triangle `t` of the level being measured: the error of not splitting it,
 * kept at the split point. Its halves' planes differ from its own by at most the
 * height at the split point is off its side's ends, so a point's height is off
 * this triangle's plane by at most that plus what it is off its half's: the sum
 * bounds the error at every grid point inside (measured the level below). */
static void measure(const struct pass *p, const struct tri *t)
{
    struct rc_rtin *m = p->m;
    int mx = (t->ax + t->bx) / 2, my = (t->ay + t->by) / 2;
    size_t a = at(m, t->ax, t->ay), b = at(m, t->bx, t->by), c = at(m, t->cx, t->cy);
    size_t mid = at(m, mx, my);
    float e;
    if (p->near_missing) {
        bool hole =
            p->near_missing[a] || p->near_missing[b] || p->near_missing[c] || p->near_missing[mid];
        e = hole ? INFINITY : 0.0f;
    } else {
        e = fabsf((m->z[a] + m->z[b]) / 2 - m->z[mid]);
    }
    struct tri halves_of[2];
    halves(t, &halves_of[0], &halves_of[1]);
    float below = 0.0f;
    for (int h = 0; h < 2; h++) {
        const struct tri *s = &halves_of[h];
        if (!is_leaf(s)) {
            below = fmaxf(below, m->error[at(m, (s->ax + s->bx) / 2, (s->ay + s->by) / 2)]);
        }
    }
    e += below;
    m->error[mid] = fmaxf(m->error[mid], e);
}

/* Measures every triangle `depth` levels below `t`. */
static void level(const struct pass *p, const struct tri *t, int depth)
{
    if (depth == 0) {
        measure(p, t);
        return;
    }
    struct tri l, r;
    halves(t, &l, &r);
    if (!is_leaf(&l)) {
        level(p, &l, depth - 1);
        level(p, &r, depth - 1);
    }
}

/* The two triangles covering the grid, across its north-west to south-east diagonal. */
static void roots(unsigned cells, struct tri out[2])
{
    int n = (int)cells;
    out[0] = (struct tri){0, 0, n, n, n, 0};
    out[1] = (struct tri){n, n, 0, 0, 0, n};
}

/* Every level, the smallest first, so each split point sees its halves' errors. */
static void measure_all(const struct pass *p)
{
    int levels = 0;
    for (unsigned c = p->m->cells; c > 1; c >>= 1) {
        levels += 2;
    }
    struct tri r[2];
    roots(p->m->cells, r);
    for (int depth = levels - 1; depth >= 0; depth--) {
        level(p, &r[0], depth);
        level(p, &r[1], depth);
    }
}

void rc_rtin_add_band(struct rc_rtin *m, const float *t, unsigned width, unsigned height)
{
    for (unsigned y = 0; y <= m->rows; y++) {
        const float *row = t + (size_t)rc_terrain_texel_of(y, m->rows, height) * width;
        for (unsigned x = 0; x <= m->cols; x++) {
            float v = row[rc_terrain_texel_of(x, m->cols, width)];
            m->z[at(m, (int)x, (int)y)] = v < 0.0f ? 0.0f : v;
        }
    }
    measure_all(&(struct pass){m, NULL});
}

bool rc_rtin_add_holes(struct rc_rtin *m, const uint8_t *missing)
{
    int n = (int)m->cells, cols = (int)m->cols, rows = (int)m->rows;
    for (int y = 0; y <= n; y++) {
        for (int x = 0; x <= n; x++) {
            bool beyond = x > cols || y > rows;
            m->out[at(m, x, y)] = beyond || (missing && missing[y * (cols + 1) + x]);
        }
    }
    /* Near: a vertex of a cell with a corner out. */
    uint8_t *near = calloc((size_t)(n + 1) * (n + 1), 1);
    if (!near) {
        return false;
    }
    bool any = false;
    for (int y = 0; y <= n; y++) {
        for (int x = 0; x <= n; x++) {
            bool hit = false;
            for (int dy = -1; dy <= 1 && !hit; dy++) {
                for (int dx = -1; dx <= 1 && !hit; dx++) {
                    int nx = x + dx, ny = y + dy;
                    hit = nx >= 0 && ny >= 0 && nx <= n && ny <= n && m->out[at(m, nx, ny)];
                }
            }
            near[at(m, x, y)] = hit;
            any = any || hit;
        }
    }
    if (any) {
        measure_all(&(struct pass){m, near});
    }
    free(near);
    free(m->z);
    m->z = NULL;
    return true;
}

size_t rc_rtin_bytes(const struct rc_rtin *m)
{
    size_t n = (size_t)(m->cells + 1) * (m->cells + 1);
    return n * (sizeof(float) + 1) + (m->z ? n * sizeof(float) : 0);
}

/* The triangles the bound keeps, appended to a growing list. */
struct emit {
    const struct rc_rtin *m;
    float max_error;
    uint32_t *tris;
    size_t count, cap;
    bool failed;
};

/* The grid's vertex number of square vertex (x, y). */
static uint32_t grid_vertex(const struct rc_rtin *m, int x, int y)
{
    return (uint32_t)y * (m->cols + 1) + (uint32_t)x;
}

static void emit(struct emit *e, const struct tri *t)
{
    const struct rc_rtin *m = e->m;
    int cols = (int)m->cols, rows = (int)m->rows;
    if ((t->ax > cols && t->bx > cols && t->cx > cols) ||
        (t->ay > rows && t->by > rows && t->cy > rows)) {
        return; /* wholly beyond the grid */
    }
    if (!is_leaf(t) && m->error[at(m, (t->ax + t->bx) / 2, (t->ay + t->by) / 2)] > e->max_error) {
        struct tri l, r;
        halves(t, &l, &r);
        emit(e, &l);
        emit(e, &r);
        return;
    }
    if (is_leaf(t)) {
        /* Half a cell: left out, as the grid leaves the cell, with any corner out. */
        int x0 = t->ax < t->bx ? t->ax : t->bx, y0 = t->ay < t->by ? t->ay : t->by;
        if (m->out[at(m, x0, y0)] || m->out[at(m, x0 + 1, y0)] || m->out[at(m, x0, y0 + 1)] ||
            m->out[at(m, x0 + 1, y0 + 1)]) {
            return;
        }
    }
    if (e->count == e->cap) {
        size_t cap = e->cap ? 2 * e->cap : 4096;
        uint32_t *grown = e->failed ? NULL : realloc(e->tris, cap * 3 * sizeof(uint32_t));
        if (!grown) {
            e->failed = true;
            return;
        }
        e->tris = grown;
        e->cap = cap;
    }
    uint32_t *q = e->tris + 3 * e->count++;
    q[0] = grid_vertex(m, t->ax, t->ay);
    q[1] = grid_vertex(m, t->bx, t->by);
    q[2] = grid_vertex(m, t->cx, t->cy);
}

bool rc_rtin_triangles(const struct rc_rtin *m, float max_error, uint32_t **out, size_t *count)
{
    struct emit e = {.m = m, .max_error = max_error};
    struct tri r[2];
    roots(m->cells, r);
    emit(&e, &r[0]);
    emit(&e, &r[1]);
    if (e.failed) {
        free(e.tris);
        e.tris = NULL;
        e.count = 0;
    }
    *out = e.tris;
    *count = e.count;
    return !e.failed;
}

/* The key a triangle is drawn by in `order`: the side nearest the camera first. */
static unsigned order_key(const struct rc_rtin *m, const uint32_t *q, enum rc_grid_order order)
{
    unsigned stride = m->cols + 1, sum = 0;
    bool rows = order == RC_GRID_FROM_SOUTH || order == RC_GRID_FROM_NORTH;
    for (int k = 0; k < 3; k++) {
        sum += rows ? q[k] / stride : q[k] % stride;
    }
    /* Rows count from the north, columns from the west. */
    bool reversed = order == RC_GRID_FROM_SOUTH || order == RC_GRID_FROM_EAST;
    return reversed ? 3 * (rows ? m->rows : m->cols) - sum : sum;
}

bool rc_rtin_order(const struct rc_rtin *m, const uint32_t *tris, size_t count,
                   enum rc_grid_order order, uint32_t *out)
{
    size_t keys = 3 * (size_t)(m->cols > m->rows ? m->cols : m->rows) + 2;
    size_t *starts = calloc(keys, sizeof(size_t));
    if (!starts) {
        return false;
    }
    /* A counting sort on the key: stable, linear. */
    for (size_t i = 0; i < count; i++) {
        starts[order_key(m, tris + 3 * i, order) + 1]++;
    }
    for (size_t k = 1; k < keys; k++) {
        starts[k] += starts[k - 1];
    }
    for (size_t i = 0; i < count; i++) {
        size_t slot = starts[order_key(m, tris + 3 * i, order)]++;
        memcpy(out + 3 * slot, tris + 3 * i, 3 * sizeof(uint32_t));
    }
    free(starts);
    return true;
}
