/*
 * colormap_tables: matplotlib's colormaps as generated constant tables
 * (colormap_tables.c, written by scripts/gen_colormaps.py). Read-only data.
 */
#ifndef RC_COLORMAP_TABLES_H
#define RC_COLORMAP_TABLES_H

#include <stddef.h>
#include <stdint.h>

struct rc_colormap_table {
    const char *name;         /* matplotlib's spelling, e.g. "RdBu" */
    unsigned entries;         /* lookup entries (256 for continuous maps) */
    const uint8_t (*rgba)[4]; /* entries x RGBA, 0..255 */
};

extern const struct rc_colormap_table rc_colormap_tables[];
extern const size_t rc_colormap_table_count;

#endif
