#include "base/colormap.h"

#include <ctype.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/colormap_tables.h"

static const struct rc_colormap_table *find_table(const char *name, size_t len)
{
    for (size_t i = 0; i < rc_colormap_table_count; i++) {
        const char *candidate = rc_colormap_tables[i].name;
        if (strlen(candidate) == len && strncasecmp(candidate, name, len) == 0) {
            return &rc_colormap_tables[i];
        }
    }
    return NULL;
}

/* Edit distance between `a` (`n` bytes) and `b`, letters compared without case;
 * past `limit` the exact value does not matter. */
static size_t distance(const char *a, size_t n, const char *b, size_t limit)
{
    size_t m = strlen(b);
    if (n > 63 || m > 63) {
        return limit + 1;
    }
    size_t row[64];
    for (size_t j = 0; j <= m; j++) {
        row[j] = j;
    }
    for (size_t i = 1; i <= n; i++) {
        size_t diagonal = row[0];
        row[0] = i;
        for (size_t j = 1; j <= m; j++) {
            size_t above = row[j];
            bool same = tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 1]);
            size_t best = diagonal + (same ? 0 : 1);
            best = above + 1 < best ? above + 1 : best;
            best = row[j - 1] + 1 < best ? row[j - 1] + 1 : best;
            diagonal = above;
            row[j] = best;
        }
    }
    return row[m];
}

/* The refusal of an unknown name, with the nearest known names (up to three,
 * within a third of its length, at least two edits). */
static enum rc_err unknown_name(const char *name, size_t len, const char *field,
                                struct rc_error *err)
{
    size_t limit = len / 3 > 2 ? len / 3 : 2;
    char near[128] = "";
    size_t used = 0, found = 0;
    for (size_t d = 0; d <= limit && found < 3; d++) {
        for (size_t i = 0; i < rc_colormap_table_count && found < 3; i++) {
            if (distance(name, len, rc_colormap_tables[i].name, limit) == d) {
                int n = snprintf(near + used, sizeof(near) - used, "%s%s", found ? ", " : "",
                                 rc_colormap_tables[i].name);
                used += n > 0 && (size_t)n < sizeof(near) - used ? (size_t)n : 0;
                found++;
            }
        }
    }
    if (found) {
        return rc_error_set(err, RC_ERR_INVALID, field,
                            "unknown colormap; did you mean %s? (GET /v1/colormaps lists them)",
                            near);
    }
    return rc_error_set(err, RC_ERR_INVALID, field,
                        "unknown colormap (GET /v1/colormaps lists them)");
}

enum rc_err rc_colormap_from_name(struct rc_colormap *map, const char *name, const char *field,
                                  struct rc_error *err)
{
    /* cmocean's own spellings: cmo.thermal (its matplotlib registry), cmocean.thermal. */
    static const char *const prefixes[] = {"cmocean.", "cmo.", NULL};
    for (size_t p = 0; prefixes[p]; p++) {
        size_t n = strlen(prefixes[p]);
        if (strncasecmp(name, prefixes[p], n) == 0 && name[n]) {
            name += n;
            break;
        }
    }
    size_t len = strlen(name);
    const struct rc_colormap_table *table = find_table(name, len);
    bool reversed = false;
    if (!table && len > 2 && strcasecmp(name + len - 2, "_r") == 0) {
        table = find_table(name, len - 2);
        reversed = true;
    }
    if (!table) {
        return unknown_name(name, reversed ? len - 2 : len, field, err);
    }
    if (table->entries > RC_COLORMAP_MAX_ENTRIES) {
        return rc_error_set(err, RC_ERR_INTERNAL, field, "colormap table too long");
    }
    map->entries = table->entries;
    memcpy(map->rgba, table->rgba, (size_t)table->entries * 4);
    if (reversed) {
        rc_colormap_reverse(map);
    }
    return RC_OK;
}

enum rc_err rc_colormap_from_stops(struct rc_colormap *map, const struct rc_color_stop *stops,
                                   size_t count, const char *field, struct rc_error *err)
{
    if (count < 2 || count > RC_COLORMAP_MAX_STOPS) {
        return rc_error_set(err, RC_ERR_INVALID, field, "needs 2..%d stops", RC_COLORMAP_MAX_STOPS);
    }
    if (stops[0].position != 0.0 || stops[count - 1].position != 1.0) {
        return rc_error_set(err, RC_ERR_INVALID, field, "stops must start at 0 and end at 1");
    }
    for (size_t i = 1; i < count; i++) {
        if (!(stops[i].position >= stops[i - 1].position)) {
            return rc_error_set(err, RC_ERR_INVALID, field, "stop positions must not decrease");
        }
    }
    map->entries = RC_COLORMAP_STOP_ENTRIES;
    for (unsigned i = 0; i < map->entries; i++) {
        double x = (double)i / (double)(map->entries - 1);
        size_t k = 1;
        while (k < count - 1 && stops[k].position < x) {
            k++;
        }
        const struct rc_color_stop *a = &stops[k - 1], *b = &stops[k];
        double span = b->position - a->position;
        double f = span > 0 ? (x - a->position) / span : 1.0;
        for (int c = 0; c < 4; c++) {
            /* matplotlib interpolates in 0..1 floats and truncates to bytes. */
            double v = ((double)a->rgba[c] + f * ((double)b->rgba[c] - (double)a->rgba[c])) / 255.0;
            map->rgba[i][c] = (uint8_t)(fmin(fmax(v, 0.0), 1.0) * 255.0);
        }
    }
    return RC_OK;
}

enum rc_err rc_colormap_from_values(struct rc_colormap *map, const struct rc_value_colour *list,
                                    size_t count, double *vmin, double *vmax, const char *field,
                                    struct rc_error *err)
{
    if (count == 0) {
        return rc_error_set(err, RC_ERR_INVALID, field, "needs at least one colour");
    }
    double lo = list[0].lo, hi = list[0].hi;
    bool unit_wide = true;
    for (size_t i = 0; i < count; i++) {
        if (!(list[i].hi > list[i].lo) || !isfinite(list[i].lo) || !isfinite(list[i].hi)) {
            return rc_error_set(err, RC_ERR_INVALID, field, "each interval needs min < max");
        }
        lo = fmin(lo, list[i].lo);
        hi = fmax(hi, list[i].hi);
        unit_wide = unit_wide && list[i].hi - list[i].lo == 1.0 && list[i].lo == floor(list[i].lo);
    }
    /* Two entries stay transparent at the ends, for values outside the table. */
    unsigned inner = RC_COLORMAP_MAX_ENTRIES - 2;
    if (unit_wide && hi - lo <= inner) {
        inner = (unsigned)(hi - lo); /* one entry per integer value */
    }
    double bin = (hi - lo) / inner;
    /* Class values (unit-wide) too far apart for one entry each: the table moves
     * half an entry down so that each value falls in the middle of an entry, not on
     * the edge between two, and each class colours the entry its value is in. */
    bool sparse_classes = unit_wide && bin > 1.0;
    double shift = sparse_classes ? 0.5 : 0.0;
    map->entries = inner + 2;
    memset(map->rgba, 0, sizeof(map->rgba));
    for (unsigned i = 0; i < inner; i++) {
        double v = lo + (i + 0.5 - shift) * bin;
        for (size_t k = 0; k < count; k++) {
            if (v >= list[k].lo && v < list[k].hi) {
                memcpy(map->rgba[i + 1], list[k].rgba, 4);
                break;
            }
        }
    }
    for (size_t k = 0; sparse_classes && k < count; k++) {
        double at = floor((list[k].lo - lo) / bin + shift);
        unsigned i = at < 0 ? 0 : at >= inner ? inner - 1 : (unsigned)at;
        memcpy(map->rgba[i + 1], list[k].rgba, 4);
    }
    *vmin = lo - (1.0 + shift) * bin;
    *vmax = hi + (1.0 - shift) * bin;
    return RC_OK;
}

void rc_colormap_reverse(struct rc_colormap *map)
{
    for (unsigned i = 0, j = map->entries - 1; i < j; i++, j--) {
        uint8_t tmp[4];
        memcpy(tmp, map->rgba[i], 4);
        memcpy(map->rgba[i], map->rgba[j], 4);
        memcpy(map->rgba[j], tmp, 4);
    }
}

unsigned rc_colormap_index(const struct rc_colormap *map, double t)
{
    if (!(t > 0.0)) {
        return 0;
    }
    double scaled = t * (double)map->entries;
    if (scaled >= (double)map->entries) {
        return map->entries - 1;
    }
    return (unsigned)scaled;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

bool rc_color_parse(const char *text, uint8_t rgba[4])
{
    if (text && strcmp(text, "transparent") == 0) {
        rgba[0] = rgba[1] = rgba[2] = rgba[3] = 0;
        return true;
    }
    if (!text || text[0] != '#') {
        return false;
    }
    size_t len = strlen(text + 1);
    int digits[8];
    for (size_t i = 0; i < len && i < 8; i++) {
        digits[i] = hex_digit(text[1 + i]);
        if (digits[i] < 0) {
            return false;
        }
    }
    rgba[3] = 255;
    if (len == 3) {
        for (int c = 0; c < 3; c++) {
            rgba[c] = (uint8_t)(digits[c] * 17);
        }
        return true;
    }
    if (len != 6 && len != 8) {
        return false;
    }
    for (size_t c = 0; c < len / 2; c++) {
        rgba[c] = (uint8_t)(digits[2 * c] * 16 + digits[2 * c + 1]);
    }
    return true;
}

size_t rc_colormap_count(void)
{
    return rc_colormap_table_count;
}

const char *rc_colormap_name(size_t index)
{
    return index < rc_colormap_table_count ? rc_colormap_tables[index].name : NULL;
}
