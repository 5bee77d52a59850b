#include "raster/cube.h"

#include <cpl_error.h>
#include <cpl_string.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/datetime.h"
#include "base/log.h"

/* The drivers with a multidimensional mode; each reads only the file it is given
 * (the reader's sandbox stops HDF5's external links and virtual datasets). */
static const char *const cube_drivers[] = {"netCDF", "HDF5", "Zarr", NULL};

enum { MAX_DIMS = 8 };

struct axes {
    int x, y, time; /* dimension positions; -1: none */
};

static bool name_is(const char *name, const char *const *names)
{
    for (size_t i = 0; names[i]; i++) {
        if (strcasecmp(name, names[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* x and y by the dimension types GDAL reports, else by CF's usual names, else the
 * last two dimensions (CF's T, Z, Y, X order); time by type or name. */
static struct axes find_axes(GDALDimensionH *dims, size_t n)
{
    static const char *const xs[] = {"x", "lon", "longitude", "easting", NULL};
    static const char *const ys[] = {"y", "lat", "latitude", "northing", NULL};
    static const char *const ts[] = {"time", "t", NULL};
    struct axes a = {-1, -1, -1};
    for (size_t i = 0; i < n; i++) {
        const char *type = GDALDimensionGetType(dims[i]);
        const char *name = GDALDimensionGetName(dims[i]);
        type = type ? type : "";
        if (a.x < 0 && (strcmp(type, "HORIZONTAL_X") == 0 || name_is(name, xs))) {
            a.x = (int)i;
        } else if (a.y < 0 && (strcmp(type, "HORIZONTAL_Y") == 0 || name_is(name, ys))) {
            a.y = (int)i;
        } else if (a.time < 0 && (strcmp(type, "TEMPORAL") == 0 || name_is(name, ts))) {
            a.time = (int)i;
        }
    }
    if (a.x < 0 || a.y < 0 || a.x == a.y) {
        a.x = (int)n - 1;
        a.y = (int)n - 2;
        a.time = a.time == a.x || a.time == a.y ? -1 : a.time;
    }
    return a;
}

/* A 1-D array's values as doubles (the caller frees them). */
static double *read_vector(GDALMDArrayH array, size_t count)
{
    double *v = calloc(count ? count : 1, sizeof(*v));
    GDALExtendedDataTypeH type = GDALExtendedDataTypeCreate(GDT_Float64);
    GUInt64 start = 0;
    size_t n = count;
    if (v && (!type || !GDALMDArrayRead(array, &start, &n, NULL, NULL, type, v, NULL, 0))) {
        free(v);
        v = NULL;
    }
    if (type) {
        GDALExtendedDataTypeRelease(type);
    }
    return v;
}

static const char *attribute_text(GDALMDArrayH array, const char *name, char *out, size_t size)
{
    GDALAttributeH a = GDALMDArrayGetAttribute(array, name);
    const char *s = a ? GDALAttributeReadAsString(a) : NULL;
    snprintf(out, size, "%s", s ? s : "");
    if (a) {
        GDALAttributeRelease(a);
    }
    return out;
}

/* Up to two numbers of an attribute; how many were read. */
static size_t attribute_numbers(GDALMDArrayH array, const char *name, double out[2])
{
    GDALAttributeH a = GDALMDArrayGetAttribute(array, name);
    if (!a) {
        return 0;
    }
    size_t n = 0;
    double *v = GDALAttributeReadAsDoubleArray(a, &n);
    n = v && n > 2 ? 2 : v ? n : 0;
    for (size_t i = 0; i < n; i++) {
        out[i] = v[i];
    }
    CPLFree(v);
    GDALAttributeRelease(a);
    return n;
}

/* The variable the slice names, else the file's only data variable (two or more
 * dimensions). A file with none that opens names the location, `field`. */
static enum rc_err open_variable(GDALGroupH root, const char *name, const char *field,
                                 GDALMDArrayH *out, struct rc_error *err)
{
    if (name[0]) {
        *out = GDALGroupOpenMDArray(root, name, NULL);
        if (!*out && name[0] == '/') {
            *out = GDALGroupOpenMDArrayFromFullname(root, name, NULL);
        }
    }
    char **names = GDALGroupGetMDArrayNames(root, NULL);
    char list[256] = "";
    size_t found = 0;
    for (size_t i = 0; names && names[i]; i++) {
        GDALMDArrayH a = GDALGroupOpenMDArray(root, names[i], NULL);
        if (a && GDALMDArrayGetDimensionCount(a) >= 2) {
            size_t len = strlen(list);
            snprintf(list + len, sizeof(list) - len, "%s%s", found ? ", " : "", names[i]);
            if (!name[0] && found++ == 0) {
                *out = a;
                a = NULL;
            } else if (name[0]) {
                found++;
            }
        }
        if (a) {
            GDALMDArrayRelease(a);
        }
    }
    CSLDestroy(names);
    if (name[0] && !*out) {
        return rc_error_set(err, RC_ERR_IMPOSSIBLE, "raster.variable",
                            "the file has no variable \"%.64s\"; it has: %s", name,
                            found ? list : "none with two or more dimensions");
    }
    if (!name[0] && found == 0) {
        return rc_error_set(err, RC_ERR_IMPOSSIBLE, field,
                            "the datacube holds no variable with two or more dimensions that "
                            "can be read");
    }
    if (!name[0] && found > 1) {
        GDALMDArrayRelease(*out);
        *out = NULL;
        return rc_error_set(err, RC_ERR_IMPOSSIBLE, "raster.variable",
                            "the file holds several variables (%s): name one", list);
    }
    return RC_OK;
}

/* The index a select holds its dimension at: given, or where the dimension's
 * coordinate equals the value (within a hundredth of its spacing). */
static enum rc_err select_index(GDALDimensionH dim, const struct rc_slice_select *s, size_t *out,
                                struct rc_error *err)
{
    char field[96];
    snprintf(field, sizeof(field), "raster.select.%s", s->dim);
    size_t size = (size_t)GDALDimensionGetSize(dim);
    if (s->by_index) {
        if (!(s->value >= 0 && s->value < (double)size)) {
            return rc_error_set(err, RC_ERR_IMPOSSIBLE, field, "index %.0f is outside 0..%zu",
                                s->value, size ? size - 1 : 0);
        }
        *out = (size_t)s->value;
        return RC_OK;
    }
    GDALMDArrayH coord = GDALDimensionGetIndexingVariable(dim);
    double *v = coord ? read_vector(coord, size) : NULL;
    if (coord) {
        GDALMDArrayRelease(coord);
    }
    if (!v) {
        return rc_error_set(err, RC_ERR_IMPOSSIBLE, field,
                            "the dimension has no coordinate values: give {\"index\": N}");
    }
    double spacing = size > 1 ? fabs(v[1] - v[0]) : fabs(v[0]) + 1;
    size_t best = 0;
    for (size_t i = 1; i < size; i++) {
        best = fabs(v[i] - s->value) < fabs(v[best] - s->value) ? i : best;
    }
    bool hit = size && fabs(v[best] - s->value) <= spacing * 0.01 + 1e-9;
    double lo = size ? v[0] : 0, hi = size ? v[size - 1] : 0;
    free(v);
    if (!hit) {
        return rc_error_set(err, RC_ERR_IMPOSSIBLE, field,
                            "no coordinate equals %g (%zu values from %g to %g)", s->value, size,
                            lo, hi);
    }
    *out = best;
    return RC_OK;
}

/* The time axis's instants: its coordinate in CF units on a Gregorian calendar. */
static double *time_values(GDALDimensionH dim, size_t n)
{
    GDALMDArrayH coord = GDALDimensionGetIndexingVariable(dim);
    if (!coord) {
        return NULL;
    }
    char units[128], calendar[64];
    const char *u = GDALMDArrayGetUnit(coord);
    if (!u || !u[0]) {
        u = attribute_text(coord, "units", units, sizeof(units));
    }
    attribute_text(coord, "calendar", calendar, sizeof(calendar));
    double unit = 0, epoch = 0;
    double *v = NULL;
    if (rc_datetime_parse_cf_units(u, &unit, &epoch) && rc_datetime_calendar_supported(calendar)) {
        v = read_vector(coord, n);
    }
    for (size_t i = 0; v && i < n; i++) {
        v[i] = epoch + v[i] * unit;
    }
    GDALMDArrayRelease(coord);
    return v;
}

static bool in_ranges(const struct rc_slice *s, double t)
{
    for (unsigned i = 0; i < s->range_count; i++) {
        if (t >= s->ranges[i][0] && t < s->ranges[i][1]) {
            return true;
        }
    }
    return s->range_count == 0;
}

/* The steps raster.datetime and raster.step choose, as bands (1-based). */
static enum rc_err choose_times(const struct rc_slice *s, const double *t, size_t n,
                                struct rc_cube *cube, struct rc_error *err)
{
    cube->bands = calloc(n ? n : 1, sizeof(*cube->bands));
    cube->times = t ? calloc(n ? n : 1, sizeof(*cube->times)) : NULL;
    if (!cube->bands || (t && !cube->times)) {
        return rc_error_set(err, RC_ERR_NOMEM, "raster", "out of memory");
    }
    bool stepped = s->step_months || s->step_seconds > 0;
    if ((s->range_count || stepped) && !t) {
        return rc_error_set(err, RC_ERR_IMPOSSIBLE,
                            s->range_count ? "raster.datetime" : "raster.step",
                            "the variable has no time axis with CF units on a Gregorian calendar");
    }
    if (t) {
        snprintf(cube->time_format, sizeof(cube->time_format), "%s",
                 rc_datetime_default_format(t, n));
    }
    long last_bucket = -1;
    for (size_t i = 0; i < n; i++) {
        if (t && (!in_ranges(s, t[i]) || (i && t[i] <= t[i - 1] && stepped))) {
            continue;
        }
        if (stepped && cube->band_count) {
            double first = cube->times[0];
            long bucket = s->step_months
                              ? (rc_datetime_month_index(t[i]) - rc_datetime_month_index(first)) /
                                    s->step_months
                              : (long)floor((t[i] - first + 1.0) / s->step_seconds);
            if (bucket == last_bucket) {
                continue;
            }
            last_bucket = bucket;
        } else {
            last_bucket = 0;
        }
        if (t) {
            cube->times[cube->band_count] = t[i];
        }
        cube->bands[cube->band_count++] = (unsigned)i + 1;
    }
    if (cube->band_count == 0) {
        char a[48] = "?", b[48] = "?";
        if (t && n) {
            rc_datetime_format(t[0], "%Y-%m-%d %H:%M", a, sizeof(a));
            rc_datetime_format(t[n - 1], "%Y-%m-%d %H:%M", b, sizeof(b));
        }
        return rc_error_set(err, RC_ERR_IMPOSSIBLE, "raster.datetime",
                            "no time step falls in it; the variable's %zu steps run from %s to %s",
                            n, a, b);
    }
    return RC_OK;
}

/* The view of `array` that holds every dimension but x, y and one more at the
 * position the slice (or a size of one) gives; `*out` the view's x, y and that one
 * more (`time`, -1: none), and *band_dim that one more among `dims` (-1: none). */
static enum rc_err make_view(GDALMDArrayH array, GDALDimensionH *dims, size_t n, struct axes a,
                             const struct rc_slice *s, GDALMDArrayH *view, struct axes *out,
                             int *band_dim, struct rc_error *err)
{
    char expr[256] = "[";
    int kept = 0;
    *out = (struct axes){-1, -1, -1};
    *band_dim = -1;
    for (unsigned k = 0; k < s->select_count; k++) {
        bool known = false;
        for (size_t i = 0; i < n; i++) {
            known = known || strcmp(GDALDimensionGetName(dims[i]), s->select[k].dim) == 0;
        }
        if (!known) {
            return rc_error_set(err, RC_ERR_IMPOSSIBLE, "raster.select",
                                "the variable has no dimension \"%.64s\"", s->select[k].dim);
        }
    }
    for (size_t i = 0; i < n; i++) {
        const char *name = GDALDimensionGetName(dims[i]);
        const struct rc_slice_select *sel = NULL;
        for (unsigned k = 0; k < s->select_count; k++) {
            sel = strcmp(s->select[k].dim, name) == 0 ? &s->select[k] : sel;
        }
        size_t len = strlen(expr);
        if (sel || ((int)i != a.x && (int)i != a.y && (int)i != a.time &&
                    GDALDimensionGetSize(dims[i]) == 1)) {
            size_t at = 0;
            enum rc_err rc = sel ? select_index(dims[i], sel, &at, err) : RC_OK;
            if (rc != RC_OK) {
                return rc;
            }
            snprintf(expr + len, sizeof(expr) - len, "%s%zu", i ? "," : "", at);
            continue;
        }
        if ((int)i != a.x && (int)i != a.y) {
            if (out->time >= 0 || ((int)i != a.time && a.time >= 0)) {
                return rc_error_set(err, RC_ERR_IMPOSSIBLE, "raster.select",
                                    "the variable also runs along \"%.64s\" (%llu values): hold "
                                    "it at one, {\"%.64s\": {\"index\": 0}} or a coordinate value",
                                    name, (unsigned long long)GDALDimensionGetSize(dims[i]), name);
            }
            out->time = kept;
            *band_dim = (int)i;
        }
        out->x = (int)i == a.x ? kept : out->x;
        out->y = (int)i == a.y ? kept : out->y;
        kept++;
        snprintf(expr + len, sizeof(expr) - len, "%s:", i ? "," : "");
    }
    strncat(expr, "]", sizeof(expr) - strlen(expr) - 1);
    *view = GDALMDArrayGetView(array, expr);
    if (!*view) {
        return rc_error_set(err, RC_ERR_IMPOSSIBLE, "raster.select", "cannot take that slice");
    }
    return RC_OK;
}

/* The variable's CF attributes that GDAL's bands do not apply themselves. */
static void read_attributes(GDALMDArrayH array, struct rc_cube *cube)
{
    const char *units = GDALMDArrayGetUnit(array);
    snprintf(cube->units, sizeof(cube->units), "%s", units ? units : "");
    attribute_text(array, "long_name", cube->long_name, sizeof(cube->long_name));
    cube->mask = (struct rc_read_mask){.valid = {-INFINITY, INFINITY}};
    double v[2];
    int has_nodata = 0, has_scale = 0, has_offset = 0;
    GDALMDArrayGetNoDataValueAsDouble(array, &has_nodata);
    GDALMDArrayGetScale(array, &has_scale);
    GDALMDArrayGetOffset(array, &has_offset);
    if (!has_nodata && attribute_numbers(array, "_FillValue", v) >= 1) {
        cube->mask.has_fill = true;
        cube->mask.fill = v[0];
    }
    if (attribute_numbers(array, "missing_value", v) >= 1) {
        cube->mask.has_missing = true;
        cube->mask.missing = v[0];
    }
    /* Some drivers (HDF5's, for a NetCDF-4 file) report CF's packing only as
     * attributes. */
    if (!has_scale && !has_offset) {
        cube->mask.scale = attribute_numbers(array, "scale_factor", v) >= 1 ? v[0] : 1.0;
        cube->mask.offset = attribute_numbers(array, "add_offset", v) >= 1 ? v[0] : 0.0;
        cube->mask.has_scale = cube->mask.scale != 1.0 || cube->mask.offset != 0.0;
    }
    if (attribute_numbers(array, "valid_range", v) == 2) {
        cube->mask.valid[0] = v[0];
        cube->mask.valid[1] = v[1];
    }
    if (attribute_numbers(array, "valid_min", v) >= 1) {
        cube->mask.valid[0] = v[0];
    }
    if (attribute_numbers(array, "valid_max", v) >= 1) {
        cube->mask.valid[1] = v[0];
    }
}

static enum rc_err open_classic(GDALMDArrayH array, const struct rc_slice *slice,
                                struct rc_cube *cube, struct rc_error *err)
{
    size_t n = 0;
    GDALDimensionH *dims = GDALMDArrayGetDimensions(array, &n);
    GDALMDArrayH view = NULL;
    double *t = NULL;
    enum rc_err rc = RC_OK;
    if (n < 2 || n > MAX_DIMS) {
        rc = rc_error_set(err, RC_ERR_IMPOSSIBLE, "raster.variable",
                          "the variable has %zu dimensions; 2 to %d can be drawn", n, MAX_DIMS);
        goto out;
    }
    struct axes a = find_axes(dims, n), kept;
    int band_dim = -1;
    rc = make_view(array, dims, n, a, slice, &view, &kept, &band_dim, err);
    if (rc != RC_OK) {
        goto out;
    }
    size_t steps = band_dim >= 0 ? (size_t)GDALDimensionGetSize(dims[band_dim]) : 1;
    if (band_dim >= 0 && band_dim == a.time) {
        t = time_values(dims[band_dim], steps);
    }
    cube->classic = GDALMDArrayAsClassicDataset(view, (size_t)kept.x, (size_t)kept.y);
    if (!cube->classic) {
        rc_log(RC_LOG_INFO, "msg=\"cube view failed\" detail=\"%.300s\"", CPLGetLastErrorMsg());
        rc = rc_error_set(err, RC_ERR_IMPOSSIBLE, "raster.variable",
                          "the variable cannot be read as a grid");
        goto out;
    }
    rc = choose_times(slice, t, steps, cube, err);
    read_attributes(array, cube);
out:
    free(t);
    if (view) {
        GDALMDArrayRelease(view);
    }
    if (dims) {
        GDALReleaseDimensions(dims, n);
    }
    return rc;
}

enum rc_err rc_cube_open(const char *path, const struct rc_slice *slice, const char *field,
                         struct rc_cube *cube, struct rc_error *err)
{
    memset(cube, 0, sizeof(*cube));
    cube->mdim =
        GDALOpenEx(path, GDAL_OF_MULTIDIM_RASTER | GDAL_OF_READONLY, cube_drivers, NULL, NULL);
    if (!cube->mdim) {
        if (rc_slice_given(slice)) {
            return rc_error_set(err, RC_ERR_IMPOSSIBLE, field,
                                "raster.variable, raster.select, raster.datetime and raster.step "
                                "need a datacube (NetCDF, HDF5 or Zarr)");
        }
        return RC_OK;
    }
    GDALGroupH root = GDALDatasetGetRootGroup(cube->mdim);
    GDALMDArrayH array = NULL;
    enum rc_err rc = root ? open_variable(root, slice->variable, field, &array, err)
                          : rc_error_set(err, RC_ERR_IMPOSSIBLE, field, "the datacube is empty");
    if (rc == RC_OK) {
        rc = open_classic(array, slice, cube, err);
    }
    if (array) {
        GDALMDArrayRelease(array);
    }
    if (root) {
        GDALGroupRelease(root);
    }
    if (rc != RC_OK) {
        rc_cube_close(cube);
    }
    return rc;
}

void rc_cube_close(struct rc_cube *cube)
{
    if (cube->classic) {
        GDALClose(cube->classic);
    }
    if (cube->mdim) {
        GDALClose(cube->mdim);
    }
    free(cube->bands);
    free(cube->times);
    memset(cube, 0, sizeof(*cube));
}
