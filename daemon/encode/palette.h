/*
 * palette: one clip-wide palette of at most 256 colours, and RGBA frames mapped
 * onto it. The palette is exact when the clip's colours are few enough; otherwise
 * median cut (Heckbert 1982) over a weighted set of the colours the clip can show,
 * and frames are mapped to the nearest entry, with ordered (Bayer 8x8) or
 * error-diffusion (Floyd-Steinberg) dithering when asked. A pixel whose colour is
 * exactly an entry is never dithered (nor passes diffused error on), and the
 * error a pixel takes is bounded, so flat areas stay flat and nothing speckles.
 *
 * Pure computation; one thread at a time per mapper, which the caller owns.
 */
#ifndef RC_PALETTE_H
#define RC_PALETTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

enum rc_dither {
    RC_DITHER_NONE,
    RC_DITHER_ORDERED,
    RC_DITHER_DIFFUSION,
};

struct rc_palette {
    uint8_t rgb[256][3];
    size_t count;
    bool exact; /* every colour of the input set is an entry */
};

/* Builds a palette of at most `max` (<= 256) entries for `n` colours with their
 * weights (how much each is expected to be seen; 0 counts as 1). Exact when the
 * distinct colours number `max` or fewer. */
void rc_palette_build(const uint8_t (*rgb)[3], const uint32_t *weights, size_t n, size_t max,
                      struct rc_palette *out);

/* Makes `rgb` an entry of `p` exactly: added while there is room below `max`,
 * else in place of the entry nearest to it. Colours a clip shows flat (the
 * background, the nan colour) are pinned so they are drawn as they are. */
void rc_palette_pin(struct rc_palette *p, const uint8_t rgb[3], size_t max);

struct rc_mapper;

/* A mapper for `palette` (copied). `transparent_index` >= 0: pixels whose alpha is
 * below 128 get that index. */
enum rc_err rc_mapper_create(const struct rc_palette *palette, enum rc_dither dither,
                             int transparent_index, struct rc_mapper **out, struct rc_error *err);
void rc_mapper_destroy(struct rc_mapper *mapper);

/* Maps one RGBA frame (top row first, no padding) onto palette indices. */
void rc_mapper_map(struct rc_mapper *mapper, const uint8_t *rgba, unsigned width, unsigned height,
                   uint8_t *indices);

#endif
