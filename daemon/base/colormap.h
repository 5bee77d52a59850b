/*
 * colormap: values in 0..1 to colours, as matplotlib maps them.
 *
 * A `struct rc_colormap` is a resolved lookup table of up to 512 RGBA entries,
 * owned by its caller (plain value, no heap). Names match matplotlib's registry
 * case-insensitively, with an optional "_r" suffix for the reversed map. Custom
 * maps from colour stops are sampled like matplotlib's
 * LinearSegmentedColormap.from_list (256 entries). Any thread may call these.
 */
#ifndef RC_COLORMAP_H
#define RC_COLORMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

/* matplotlib's longest tables (twilight) have 510 entries; custom maps use 256. */
#define RC_COLORMAP_MAX_ENTRIES 512
#define RC_COLORMAP_STOP_ENTRIES 256
#define RC_COLORMAP_MAX_STOPS 64

struct rc_colormap {
    unsigned entries;
    uint8_t rgba[RC_COLORMAP_MAX_ENTRIES][4];
};

struct rc_color_stop {
    double position; /* 0..1, increasing */
    uint8_t rgba[4];
};

/* Fills `map` from a registered name ("viridis", "RdBu_r", "rdbu"). `field` names
 * the job field for the error. */
enum rc_err rc_colormap_from_name(struct rc_colormap *map, const char *name, const char *field,
                                  struct rc_error *err);

/* Fills `map` from 2..RC_COLORMAP_MAX_STOPS stops, first at 0 and last at 1. */
enum rc_err rc_colormap_from_stops(struct rc_colormap *map, const struct rc_color_stop *stops,
                                   size_t count, const char *field, struct rc_error *err);

/* A colour for data values in [lo, hi). */
struct rc_value_colour {
    double lo, hi;
    uint8_t rgba[4];
};

/* A table for colours given in data values (TiTiler's value->colour and interval
 * colormaps): values outside every interval are transparent. *vmin and *vmax get
 * the value range the table spans, which the job must normalise over instead of
 * its own. Integer-wide intervals (the discrete form) each get their own entry. */
enum rc_err rc_colormap_from_values(struct rc_colormap *map, const struct rc_value_colour *list,
                                    size_t count, double *vmin, double *vmax, const char *field,
                                    struct rc_error *err);

void rc_colormap_reverse(struct rc_colormap *map);

/* matplotlib's index rule for a normalised value: floor(t * entries), clipped. */
unsigned rc_colormap_index(const struct rc_colormap *map, double t);

/* Parses "#rgb", "#rrggbb" or "#rrggbbaa" (alpha 255 when absent). */
/* "#rgb", "#rrggbb", "#rrggbbaa" or "transparent" (all zero). */
bool rc_color_parse(const char *text, uint8_t rgba[4]);

/* The registered base names (without "_r"), for listings. */
size_t rc_colormap_count(void);
const char *rc_colormap_name(size_t index);

#endif
