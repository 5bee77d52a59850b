#include "encode/palette.h"

#include <stdlib.h>
#include <string.h>

/* ---- median cut ------------------------------------------------------------ */

struct entry {
    uint8_t rgb[3];
    uint64_t weight;
};

struct box {
    size_t first, count; /* a run of `entries` */
};

static int by_red(const void *a, const void *b)
{
    return (int)((const struct entry *)a)->rgb[0] - (int)((const struct entry *)b)->rgb[0];
}

static int by_green(const void *a, const void *b)
{
    return (int)((const struct entry *)a)->rgb[1] - (int)((const struct entry *)b)->rgb[1];
}

static int by_blue(const void *a, const void *b)
{
    return (int)((const struct entry *)a)->rgb[2] - (int)((const struct entry *)b)->rgb[2];
}

static int by_colour(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    return memcmp(x->rgb, y->rgb, 3);
}

/* The channel with the widest range in a box, and that range. */
static int widest(const struct entry *e, const struct box *b, int *range)
{
    int lo[3] = {255, 255, 255}, hi[3] = {0, 0, 0};
    for (size_t i = b->first; i < b->first + b->count; i++) {
        for (int c = 0; c < 3; c++) {
            lo[c] = e[i].rgb[c] < lo[c] ? e[i].rgb[c] : lo[c];
            hi[c] = e[i].rgb[c] > hi[c] ? e[i].rgb[c] : hi[c];
        }
    }
    int best = 0;
    for (int c = 1; c < 3; c++) {
        best = hi[c] - lo[c] > hi[best] - lo[best] ? c : best;
    }
    *range = hi[best] - lo[best];
    return best;
}

void rc_palette_build(const uint8_t (*rgb)[3], const uint32_t *weights, size_t n, size_t max,
                      struct rc_palette *out)
{
    memset(out, 0, sizeof(*out));
    max = max > 256 ? 256 : max;
    struct entry *e = calloc(n ? n : 1, sizeof(*e));
    if (!e || n == 0 || max == 0) {
        free(e);
        out->exact = n == 0;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        memcpy(e[i].rgb, rgb[i], 3);
        e[i].weight = weights && weights[i] ? weights[i] : 1;
    }
    /* Distinct colours, weights summed. */
    qsort(e, n, sizeof(*e), by_colour);
    size_t distinct = 0;
    for (size_t i = 0; i < n; i++) {
        if (distinct > 0 && memcmp(e[distinct - 1].rgb, e[i].rgb, 3) == 0) {
            e[distinct - 1].weight += e[i].weight;
        } else {
            e[distinct++] = e[i];
        }
    }
    if (distinct <= max) {
        for (size_t i = 0; i < distinct; i++) {
            memcpy(out->rgb[i], e[i].rgb, 3);
        }
        out->count = distinct;
        out->exact = true;
        free(e);
        return;
    }
    /* Split the box with the widest channel range (weighted by its population)
     * at its weighted median until there are `max` boxes. */
    struct box boxes[256] = {{0, distinct}};
    size_t count = 1;
    while (count < max) {
        size_t pick = count;
        double best = 0;
        for (size_t i = 0; i < count; i++) {
            int range;
            widest(e, &boxes[i], &range);
            if (boxes[i].count < 2 || range == 0) {
                continue;
            }
            uint64_t w = 0;
            for (size_t k = boxes[i].first; k < boxes[i].first + boxes[i].count; k++) {
                w += e[k].weight;
            }
            double score = (double)range * (double)range * (double)w;
            if (score > best) {
                best = score;
                pick = i;
            }
        }
        if (pick == count) {
            break; /* nothing left to split */
        }
        struct box *b = &boxes[pick];
        int range;
        static int (*const by[3])(const void *, const void *) = {by_red, by_green, by_blue};
        qsort(e + b->first, b->count, sizeof(*e), by[widest(e, b, &range)]);
        uint64_t total = 0, half = 0;
        for (size_t k = b->first; k < b->first + b->count; k++) {
            total += e[k].weight;
        }
        size_t cut = b->first + 1;
        for (size_t k = b->first; k < b->first + b->count - 1; k++) {
            half += e[k].weight;
            cut = k + 1;
            if (half * 2 >= total) {
                break;
            }
        }
        boxes[count] = (struct box){cut, b->first + b->count - cut};
        b->count = cut - b->first;
        count++;
    }
    for (size_t i = 0; i < count; i++) {
        double sum[3] = {0, 0, 0}, w = 0;
        for (size_t k = boxes[i].first; k < boxes[i].first + boxes[i].count; k++) {
            for (int c = 0; c < 3; c++) {
                sum[c] += (double)e[k].rgb[c] * (double)e[k].weight;
            }
            w += (double)e[k].weight;
        }
        for (int c = 0; c < 3; c++) {
            out->rgb[i][c] = (uint8_t)(sum[c] / w + 0.5);
        }
    }
    out->count = count;
    out->exact = false;
    free(e);
}

void rc_palette_pin(struct rc_palette *p, const uint8_t rgb[3], size_t max)
{
    size_t nearest_i = 0;
    long best = -1;
    for (size_t i = 0; i < p->count; i++) {
        long d = 0;
        for (int k = 0; k < 3; k++) {
            long diff = (long)p->rgb[i][k] - rgb[k];
            d += diff * diff;
        }
        if (d == 0) {
            return; /* already an entry */
        }
        if (best < 0 || d < best) {
            best = d;
            nearest_i = i;
        }
    }
    size_t at = p->count < max && p->count < 256 ? p->count++ : nearest_i;
    memcpy(p->rgb[at], rgb, 3);
}

/* ---- mapping ------------------------------------------------------------- */

enum { CACHE_BITS = 6, CACHE_SIZE = 1 << (3 * CACHE_BITS), EXACT_SLOTS = 1024 };

/* Diffused error a pixel may take, in levels a channel: enough to render a
 * gradient between two entries, never a bright speckle. */
enum { DIFFUSION_LIMIT = 24 };

struct rc_mapper {
    struct rc_palette palette;
    uint32_t exact_keys[EXACT_SLOTS]; /* every entry: rgb + 1 (0: empty) */
    uint8_t exact_index[EXACT_SLOTS];
    enum rc_dither dither;
    int transparent;
    int16_t *cache; /* nearest entry per 6-6-6 cell; -1 unknown (approximate palettes) */
    int *errors;    /* diffusion: two rows of RGB error, 1/16 units */
    size_t errors_width;
};

static size_t exact_slot(uint32_t key)
{
    return (size_t)((key * 2654435761u) >> 22) % EXACT_SLOTS; /* Knuth's multiplicative hash */
}

enum rc_err rc_mapper_create(const struct rc_palette *palette, enum rc_dither dither,
                             int transparent_index, struct rc_mapper **out, struct rc_error *err)
{
    *out = NULL;
    struct rc_mapper *m = calloc(1, sizeof(*m));
    if (!m) {
        return rc_error_set(err, RC_ERR_NOMEM, "", "out of memory");
    }
    m->palette = *palette;
    m->dither = palette->exact ? RC_DITHER_NONE : dither;
    m->transparent = transparent_index;
    m->cache = malloc(CACHE_SIZE * sizeof(*m->cache));
    if (!m->cache) {
        free(m);
        return rc_error_set(err, RC_ERR_NOMEM, "", "out of memory");
    }
    memset(m->cache, 0xff, CACHE_SIZE * sizeof(*m->cache));
    /* Every entry by its value: a pixel of exactly an entry's colour (the
     * background, the nan colour, the overlay's ink) is that entry, never dithered. */
    for (size_t i = 0; i < palette->count; i++) {
        const uint8_t *c = palette->rgb[i];
        uint32_t key = ((uint32_t)c[0] << 16 | (uint32_t)c[1] << 8 | c[2]) + 1;
        size_t slot = exact_slot(key);
        while (m->exact_keys[slot] && m->exact_keys[slot] != key) {
            slot = (slot + 1) % EXACT_SLOTS;
        }
        m->exact_keys[slot] = key;
        m->exact_index[slot] = (uint8_t)i;
    }
    *out = m;
    return RC_OK;
}

void rc_mapper_destroy(struct rc_mapper *mapper)
{
    if (!mapper) {
        return;
    }
    free(mapper->cache);
    free(mapper->errors);
    free(mapper);
}

static uint8_t nearest(const struct rc_palette *p, int r, int g, int b)
{
    int best = 0;
    long best_d = -1;
    for (size_t i = 0; i < p->count; i++) {
        long dr = r - p->rgb[i][0], dg = g - p->rgb[i][1], db = b - p->rgb[i][2];
        /* Weighted as the eye weighs the channels (roughly 3:4:2). */
        long d = 3 * dr * dr + 4 * dg * dg + 2 * db * db;
        if (best_d < 0 || d < best_d) {
            best_d = d;
            best = (int)i;
        }
    }
    return (uint8_t)best;
}

static size_t cell_of(int r, int g, int b)
{
    return (size_t)(r >> (8 - CACHE_BITS)) << (2 * CACHE_BITS) |
           (size_t)(g >> (8 - CACHE_BITS)) << CACHE_BITS | (size_t)(b >> (8 - CACHE_BITS));
}

/* The entry whose colour is exactly (r, g, b), or -1. */
static int exact_entry(const struct rc_mapper *m, int r, int g, int b)
{
    uint32_t key = ((uint32_t)r << 16 | (uint32_t)g << 8 | (uint32_t)b) + 1;
    for (size_t slot = exact_slot(key); m->exact_keys[slot]; slot = (slot + 1) % EXACT_SLOTS) {
        if (m->exact_keys[slot] == key) {
            return m->exact_index[slot];
        }
    }
    return -1;
}

static uint8_t lookup(struct rc_mapper *m, int r, int g, int b)
{
    size_t cell = cell_of(r, g, b);
    int16_t cached = m->cache[cell];
    if (m->palette.exact) {
        /* Exact palettes: the colour is an entry, found by its value; the cell
         * remembers the last one found there, which neighbouring pixels share. */
        const uint8_t *c = cached >= 0 ? m->palette.rgb[cached] : NULL;
        if (c && c[0] == r && c[1] == g && c[2] == b) {
            return (uint8_t)cached;
        }
        int i = exact_entry(m, r, g, b);
        if (i >= 0) {
            m->cache[cell] = (int16_t)i;
            return (uint8_t)i;
        }
        return nearest(&m->palette, r, g, b); /* a colour the clip was not expected to show */
    }
    if (cached < 0) {
        int half = 1 << (7 - CACHE_BITS); /* the cell's centre */
        cached = nearest(&m->palette, (r & ~(2 * half - 1)) + half, (g & ~(2 * half - 1)) + half,
                         (b & ~(2 * half - 1)) + half);
        m->cache[cell] = cached;
    }
    return (uint8_t)cached;
}

static int clamp8(int v)
{
    return v < 0 ? 0 : v > 255 ? 255 : v;
}

/* Bayer's 8x8 threshold matrix, 0..63. */
static const uint8_t bayer[8][8] = {
    {0, 32, 8, 40, 2, 34, 10, 42},  {48, 16, 56, 24, 50, 18, 58, 26},
    {12, 44, 4, 36, 14, 46, 6, 38}, {60, 28, 52, 20, 62, 30, 54, 22},
    {3, 35, 11, 43, 1, 33, 9, 41},  {51, 19, 59, 27, 49, 17, 57, 25},
    {15, 47, 7, 39, 13, 45, 5, 37}, {63, 31, 55, 23, 61, 29, 53, 21},
};

void rc_mapper_map(struct rc_mapper *m, const uint8_t *rgba, unsigned width, unsigned height,
                   uint8_t *indices)
{
    bool diffuse = m->dither == RC_DITHER_DIFFUSION;
    if (diffuse && m->errors_width != width) {
        free(m->errors);
        m->errors = calloc((size_t)(width + 2) * 2 * 3, sizeof(int));
        m->errors_width = m->errors ? width : 0;
        diffuse = m->errors != NULL;
    }
    if (diffuse) {
        memset(m->errors, 0, (size_t)(width + 2) * 2 * 3 * sizeof(int));
    }
    for (unsigned y = 0; y < height; y++) {
        int *cur = diffuse ? m->errors + (size_t)(y % 2) * (width + 2) * 3 : NULL;
        int *next = diffuse ? m->errors + (size_t)((y + 1) % 2) * (width + 2) * 3 : NULL;
        if (diffuse) {
            memset(next, 0, (size_t)(width + 2) * 3 * sizeof(int));
        }
        for (unsigned x = 0; x < width; x++) {
            const uint8_t *p = rgba + 4 * ((size_t)y * width + x);
            uint8_t *out = indices + (size_t)y * width + x;
            if (m->transparent >= 0 && p[3] < 128) {
                *out = (uint8_t)m->transparent;
                continue;
            }
            int entry = m->dither != RC_DITHER_NONE ? exact_entry(m, p[0], p[1], p[2]) : -1;
            if (entry >= 0) {
                /* A palette colour as it is; the error that came its way stops here. */
                *out = (uint8_t)entry;
                continue;
            }
            int c[3] = {p[0], p[1], p[2]};
            if (m->dither == RC_DITHER_ORDERED) {
                /* Spread of about one palette step (8 levels) around the colour. */
                int t = (bayer[y % 8][x % 8] - 32) / 4;
                for (int k = 0; k < 3; k++) {
                    c[k] = clamp8(c[k] + t);
                }
            } else if (diffuse) {
                for (int k = 0; k < 3; k++) {
                    int e = cur[3 * (x + 1) + (unsigned)k] / 16;
                    e = e > DIFFUSION_LIMIT    ? DIFFUSION_LIMIT
                        : e < -DIFFUSION_LIMIT ? -DIFFUSION_LIMIT
                                               : e;
                    c[k] = clamp8(c[k] + e);
                }
            }
            uint8_t i = lookup(m, c[0], c[1], c[2]);
            *out = i;
            if (diffuse) {
                for (int k = 0; k < 3; k++) {
                    int e = c[k] - m->palette.rgb[i][k];
                    cur[3 * (x + 2) + (unsigned)k] += e * 7;
                    next[3 * x + (unsigned)k] += e * 3;
                    next[3 * (x + 1) + (unsigned)k] += e * 5;
                    next[3 * (x + 2) + (unsigned)k] += e * 1;
                }
            }
        }
    }
}
