#include "raster/classes.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cpl_string.h>

#include "base/log.h"
#include "raster/raster.h"

/* Class values are 0..65535, as colour tables index them. */
enum { CLASS_VALUES = 65536 };

/* The raster attribute table's name for `value`: its name column, on the row
 * whose value column (or, without one, whose index) is `value`. */
static const char *rat_name(GDALRasterAttributeTableH rat, int value)
{
    int name_col = -1, value_col = -1;
    for (int c = 0; c < GDALRATGetColumnCount(rat); c++) {
        GDALRATFieldUsage use = GDALRATGetUsageOfCol(rat, c);
        if (use == GFU_Name && name_col < 0) {
            name_col = c;
        } else if ((use == GFU_MinMax || use == GFU_Min) && value_col < 0) {
            value_col = c;
        }
    }
    if (name_col < 0) {
        return NULL;
    }
    int rows = GDALRATGetRowCount(rat);
    if (value_col < 0) {
        return value < rows ? GDALRATGetValueAsString(rat, value, name_col) : NULL;
    }
    for (int row = 0; row < rows; row++) {
        if (GDALRATGetValueAsInt(rat, row, value_col) == value) {
            return GDALRATGetValueAsString(rat, row, name_col);
        }
    }
    return NULL;
}

static bool rat_has_names(GDALRasterAttributeTableH rat)
{
    for (int c = 0; rat && c < GDALRATGetColumnCount(rat); c++) {
        if (GDALRATGetUsageOfCol(rat, c) == GFU_Name) {
            return true;
        }
    }
    return false;
}

bool rc_raster_read_classes(GDALRasterBandH band, const float *values, size_t count,
                            struct rc_raster *r)
{
    GDALColorTableH table = GDALGetRasterColorTable(band);
    char **names = GDALGetRasterCategoryNames(band);
    GDALRasterAttributeTableH rat = GDALGetDefaultRAT(band);
    bool named = (names && names[0]) || rat_has_names(rat);
    if (!table && !named) {
        return true;
    }
    uint8_t *present = calloc(CLASS_VALUES / 8, 1);
    if (!present) {
        return false;
    }
    size_t classes = 0;
    for (size_t i = 0; i < count; i++) {
        float v = values[i];
        if (isnan(v)) {
            continue;
        }
        if (!(v >= 0 && v < CLASS_VALUES) || v != floorf(v)) {
            /* A value no class can hold: the data is not categorical. */
            rc_log(RC_LOG_INFO, "msg=\"classes ignored\" value=%g", (double)v);
            free(present);
            return true;
        }
        unsigned k = (unsigned)v;
        if (!(present[k / 8] & (1u << (k % 8)))) {
            present[k / 8] |= (uint8_t)(1u << (k % 8));
            classes++;
        }
    }
    if (classes == 0 || classes > RC_RASTER_MAX_CLASSES) {
        rc_log(RC_LOG_INFO, "msg=\"classes ignored\" present=%zu", classes);
        free(present);
        return true;
    }
    r->classes = calloc(classes, sizeof(*r->classes));
    if (!r->classes) {
        free(present);
        return false;
    }
    int table_entries = table ? GDALGetColorEntryCount(table) : 0;
    int name_count = names ? CSLCount(names) : 0;
    size_t n = 0;
    for (unsigned k = 0; k < CLASS_VALUES && n < classes; k++) {
        if (!(present[k / 8] & (1u << (k % 8)))) {
            continue;
        }
        struct rc_raster_class *c = &r->classes[n++];
        c->value = k;
        if ((int)k < table_entries) {
            const GDALColorEntry *e = GDALGetColorEntry(table, (int)k);
            c->rgba[0] = (uint8_t)e->c1;
            c->rgba[1] = (uint8_t)e->c2;
            c->rgba[2] = (uint8_t)e->c3;
            c->rgba[3] = (uint8_t)e->c4;
            c->has_rgba = 1;
        }
        const char *name = (int)k < name_count && names[k][0] ? names[k] : NULL;
        name = name ? name : rat ? rat_name(rat, (int)k) : NULL;
        snprintf(c->name, sizeof(c->name), "%s", name ? name : "");
    }
    r->class_count = n;
    r->classes_coloured = table != NULL;
    r->classes_named = named;
    free(present);
    return true;
}
