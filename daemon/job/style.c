#include "job/job.h"

#include <jansson.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/parse.h"
#include "job/fields.h"

/* A colour as "#rrggbb[aa]" or [r, g, b(, a)] with 0..255 components. */
static bool parse_colour_value(const json_t *v, uint8_t rgba[4])
{
    if (json_is_string(v)) {
        return rc_color_parse(json_string_value(v), rgba);
    }
    size_t n = json_array_size(v);
    if (!json_is_array(v) || n < 3 || n > 4) {
        return false;
    }
    rgba[3] = 255;
    for (size_t i = 0; i < n; i++) {
        const json_t *c = json_array_get(v, i);
        if (!json_is_integer(c) || json_integer_value(c) < 0 || json_integer_value(c) > 255) {
            return false;
        }
        rgba[i] = (uint8_t)json_integer_value(c);
    }
    return true;
}

enum { MAX_VALUE_COLOURS = 256 };

/* {"values": {"1": colour, ...}} or {"intervals": [[[min, max], colour], ...]}: colours
 * for data values, as TiTiler's colormap parameter gives them. */
static enum rc_err parse_value_colours(struct rc_job_spec *spec, const json_t *obj,
                                       struct rc_error *err)
{
    const json_t *values = json_object_get(obj, "values");
    const json_t *intervals = json_object_get(obj, "intervals");
    const char *field = values ? "style.colormap.values" : "style.colormap.intervals";
    struct rc_value_colour list[MAX_VALUE_COLOURS];
    size_t n = 0;
    if (values) {
        const char *key;
        const json_t *colour;
        if (!json_is_object(values) || json_object_size(values) > MAX_VALUE_COLOURS) {
            return rc_error_set(err, RC_ERR_INVALID, field, "must map up to %d values to colours",
                                MAX_VALUE_COLOURS);
        }
        json_object_foreach((json_t *)values, key, colour)
        {
            char *end = NULL;
            double v = strtod(key, &end);
            if (!end || *end || end == key || !parse_colour_value(colour, list[n].rgba)) {
                return rc_error_set(err, RC_ERR_INVALID, field,
                                    "each entry is \"value\": colour (\"#rrggbb\" or [r,g,b,a])");
            }
            list[n].lo = v;
            list[n].hi = v + 1.0; /* integer data: the value itself */
            n++;
        }
    } else {
        size_t count = json_array_size(intervals);
        if (!json_is_array(intervals) || count > MAX_VALUE_COLOURS) {
            return rc_error_set(err, RC_ERR_INVALID, field, "must be up to %d intervals",
                                MAX_VALUE_COLOURS);
        }
        for (size_t i = 0; i < count; i++) {
            const json_t *item = json_array_get(intervals, i);
            const json_t *range = json_array_get(item, 0);
            if (json_array_size(item) != 2 || json_array_size(range) != 2 ||
                !json_is_number(json_array_get(range, 0)) ||
                !json_is_number(json_array_get(range, 1)) ||
                !parse_colour_value(json_array_get(item, 1), list[n].rgba)) {
                return rc_error_set(err, RC_ERR_INVALID, field,
                                    "each interval is [[min, max], colour]");
            }
            list[n].lo = json_number_value(json_array_get(range, 0));
            list[n].hi = json_number_value(json_array_get(range, 1));
            n++;
        }
    }
    enum rc_err rc = rc_colormap_from_values(&spec->colormap, list, n, &spec->cmap_vmin,
                                             &spec->cmap_vmax, field, err);
    spec->colormap_sets_range = rc == RC_OK;
    return rc;
}

static enum rc_err parse_stops(struct rc_job_spec *spec, const json_t *obj, struct rc_error *err)
{
    static const char *const keys[] = {"stops", "values", "intervals", NULL};
    static const char field[] = "style.colormap.stops";
    enum rc_err rc = rc_field_check_keys(obj, "style.colormap", keys, err);
    if (rc != RC_OK) {
        return rc;
    }
    if (json_object_size(obj) != 1) {
        return rc_error_set(err, RC_ERR_INVALID, "style.colormap",
                            "give one of stops, values or intervals");
    }
    if (!json_object_get(obj, "stops")) {
        return parse_value_colours(spec, obj, err);
    }
    const json_t *stops = json_object_get(obj, "stops");
    if (!json_is_array(stops)) {
        return rc_error_set(err, RC_ERR_INVALID, field, "must be a list of [position, colour]");
    }
    size_t n = json_array_size(stops);
    if (n < 2 || n > RC_COLORMAP_MAX_STOPS) {
        return rc_error_set(err, RC_ERR_INVALID, field, "needs 2..%d stops", RC_COLORMAP_MAX_STOPS);
    }
    struct rc_color_stop parsed[RC_COLORMAP_MAX_STOPS];
    for (size_t i = 0; i < n; i++) {
        const json_t *s = json_array_get(stops, i);
        const json_t *pos = json_array_get(s, 0), *color = json_array_get(s, 1);
        if (!json_is_array(s) || json_array_size(s) != 2 || !json_is_number(pos) ||
            !json_is_string(color) || !rc_color_parse(json_string_value(color), parsed[i].rgba)) {
            return rc_error_set(err, RC_ERR_INVALID, field, "each stop is [position, \"#rrggbb\"]");
        }
        parsed[i].position = json_number_value(pos);
    }
    return rc_colormap_from_stops(&spec->colormap, parsed, n, field, err);
}

static enum rc_err parse_labels(struct rc_job_spec *spec, const json_t *style, struct rc_error *err)
{
    static const char *const colorbar_keys[] = {"label", "orientation", "ticks", "format", NULL};
    const json_t *colorbar = json_object_get(style, "colorbar");
    enum rc_err rc = RC_OK;
    if (json_is_boolean(colorbar)) {
        spec->colorbar = json_is_true(colorbar);
    } else if (json_is_object(colorbar)) {
        spec->colorbar = true;
        rc = rc_field_check_keys(colorbar, "style.colorbar", colorbar_keys, err);
        const json_t *label = json_object_get(colorbar, "label");
        spec->colorbar_label_given = label != NULL;
        if (rc == RC_OK && label) {
            rc = rc_field_copy_text(label, "style.colorbar.label", spec->colorbar_label,
                                    sizeof(spec->colorbar_label), err);
        }
        const json_t *orientation = json_object_get(colorbar, "orientation");
        if (rc == RC_OK && orientation) {
            const char *o = json_is_string(orientation) ? json_string_value(orientation) : "";
            spec->colorbar_horizontal = strcmp(o, "horizontal") == 0;
            if (!spec->colorbar_horizontal && strcmp(o, "vertical") != 0) {
                rc = rc_error_set(err, RC_ERR_INVALID, "style.colorbar.orientation",
                                  "must be \"vertical\" or \"horizontal\"");
            }
        }
        rc = rc ? rc
                : rc_field_get_uint(colorbar, "ticks", "style.colorbar", 1, 20,
                                    &spec->colorbar_ticks, err);
        const json_t *format = json_object_get(colorbar, "format");
        if (rc == RC_OK && format &&
            !(json_is_string(format) && strcmp(json_string_value(format), "auto") == 0)) {
            rc = rc_field_copy_text(format, "style.colorbar.format", spec->colorbar_format,
                                    sizeof(spec->colorbar_format), err);
            if (rc == RC_OK && !rc_parse_format_one_double(spec->colorbar_format)) {
                rc = rc_error_set(err, RC_ERR_INVALID, "style.colorbar.format",
                                  "must be \"auto\" or text with one %%f, %%e or %%g conversion "
                                  "(flags, width and precision allowed; %%%% for a percent sign)");
            }
        }
    } else if (colorbar) {
        rc = rc_error_set(err, RC_ERR_INVALID, "style.colorbar",
                          "must be true, false or {\"label\", \"orientation\", \"ticks\", "
                          "\"format\"}");
    }
    const json_t *title = json_object_get(style, "title");
    spec->title_given = title != NULL;
    if (rc == RC_OK && title) {
        rc = rc_field_copy_text(title, "style.title", spec->title, sizeof(spec->title), err);
    }
    rc = rc ? rc : rc_field_get_uint(style, "title_size", "style", 6, 200, &spec->title_size, err);
    return rc;
}

/* style.band_label_format: strftime's conversions for dates and times only, so a
 * label is never empty and never reads memory it should not. */
static enum rc_err parse_label_format(struct rc_job_spec *spec, const json_t *format,
                                      struct rc_error *err)
{
    static const char field[] = "style.band_label_format";
    if (!format) {
        return RC_OK;
    }
    enum rc_err rc = rc_field_copy_text(format, field, spec->band_label_format,
                                        sizeof(spec->band_label_format), err);
    if (rc != RC_OK) {
        return rc;
    }
    bool any = false;
    for (const char *p = spec->band_label_format; *p; p++) {
        if (*p != '%') {
            continue;
        }
        p++;
        if (!*p || !strchr("YymdbBeHMSjaAp%", *p)) {
            return rc_error_set(err, RC_ERR_INVALID, field,
                                "must be strftime text using %%Y %%y %%m %%d %%e %%b %%B %%a %%A "
                                "%%j %%H %%M %%S %%p or %%%%");
        }
        any = any || *p != '%';
    }
    if (!any) {
        return rc_error_set(err, RC_ERR_INVALID, field, "needs at least one date conversion");
    }
    return RC_OK;
}

/* style.band_labels: true (the file's names for the bands), false, or one string
 * per chosen band. */
static enum rc_err parse_band_labels(struct rc_job_spec *spec, const json_t *labels,
                                     struct rc_error *err)
{
    if (!labels || json_is_boolean(labels)) {
        spec->show_band_labels = labels && json_is_true(labels);
        return RC_OK;
    }
    size_t n = json_array_size(labels);
    if (!json_is_array(labels) || n == 0 || n > 100000) {
        return rc_error_set(err, RC_ERR_INVALID, "style.band_labels",
                            "must be true, false or a list of strings, one per band");
    }
    spec->band_labels = calloc(n, sizeof(*spec->band_labels));
    if (!spec->band_labels) {
        return rc_error_set(err, RC_ERR_NOMEM, "style.band_labels", "out of memory");
    }
    spec->band_label_count = n;
    spec->show_band_labels = true;
    for (size_t i = 0; i < n; i++) {
        char field[48];
        snprintf(field, sizeof(field), "style.band_labels[%zu]", i);
        enum rc_err rc = rc_field_copy_text(json_array_get(labels, i), field, spec->band_labels[i],
                                            sizeof(spec->band_labels[i]), err);
        if (rc != RC_OK) {
            return rc;
        }
    }
    return RC_OK;
}

/* style.lighting: true (the light kit), false, or one light fixed to the ground
 * with matplotlib LightSource's angles and the shading terms. */
static enum rc_err parse_lighting(struct rc_job_spec *spec, const json_t *lighting,
                                  struct rc_error *err)
{
    static const char *const keys[] = {"azimuth",  "elevation", "ambient", "diffuse",
                                       "specular", "shininess", NULL};
    static const struct rc_field fields[] = {
        {"azimuth", RC_FIELD_NUMBER, offsetof(struct rc_job_spec, light_azimuth), 0, 360, 0},
        {"elevation", RC_FIELD_NUMBER, offsetof(struct rc_job_spec, light_elevation), 0, 90, 0},
        {"ambient", RC_FIELD_NUMBER, offsetof(struct rc_job_spec, light_ambient), 0, 1, 0},
        {"diffuse", RC_FIELD_NUMBER, offsetof(struct rc_job_spec, light_diffuse), 0, 2, 0},
        {"specular", RC_FIELD_NUMBER, offsetof(struct rc_job_spec, light_specular), 0, 2, 0},
        {"shininess", RC_FIELD_NUMBER, offsetof(struct rc_job_spec, light_shininess), 1, 1000, 0},
    };
    spec->light_azimuth = 315;
    spec->light_elevation = 45;
    spec->light_ambient = 0.0;
    spec->light_diffuse = 1.0;
    spec->light_specular = 0.0;
    spec->light_shininess = 20;
    if (!lighting || json_is_boolean(lighting)) {
        spec->lighting = !lighting || json_is_true(lighting);
        return RC_OK;
    }
    if (!json_is_object(lighting)) {
        return rc_error_set(err, RC_ERR_INVALID, "style.lighting",
                            "must be true, false or {\"azimuth\", \"elevation\", \"ambient\", "
                            "\"diffuse\", \"specular\", \"shininess\"}");
    }
    spec->lighting = true;
    spec->light_custom = true;
    enum rc_err rc = rc_field_check_keys(lighting, "style.lighting", keys, err);
    return rc ? rc
              : rc_field_read(lighting, "style.lighting", fields,
                              sizeof(fields) / sizeof(fields[0]), NULL, spec, err);
}

enum rc_err rc_spec_parse_style(struct rc_job_spec *spec, const json_t *style, struct rc_error *err)
{
    static const char *const keys[] = {
        "mode",        "colormap",      "reverse", "nan_color", "background",        "exaggeration",
        "lighting",    "colorbar",      "title",   "detail",    "title_size",        "outline",
        "band_labels", "axes",          "aspect",  "vectors",   "band_label_format", "graticule",
        "text_color",  "interpolation", NULL};
    enum rc_err rc = rc_colormap_from_name(&spec->colormap, "viridis", "style.colormap", err);
    if (rc != RC_OK || !style) {
        return rc;
    }
    rc = rc_field_check_keys(style, "style", keys, err);
    if (rc != RC_OK) {
        return rc;
    }
    rc = parse_lighting(spec, json_object_get(style, "lighting"), err);
    if (rc != RC_OK) {
        return rc;
    }
    rc = parse_band_labels(spec, json_object_get(style, "band_labels"), err);
    rc = rc ? rc : rc_spec_parse_vectors(spec, style, err);
    if (rc != RC_OK) {
        return rc;
    }
    rc = parse_label_format(spec, json_object_get(style, "band_label_format"), err);
    rc = rc ? rc : rc_field_get_bool(style, "axes", "style", &spec->axes, err);
    if (rc != RC_OK) {
        return rc;
    }
    spec->text_colored = json_object_get(style, "text_color") != NULL;
    spec->background_given = json_object_get(style, "background") != NULL;
    const json_t *outline = json_object_get(style, "outline");
    if (json_is_boolean(outline)) {
        spec->outline = json_is_true(outline);
    } else if (outline) {
        spec->outline = spec->outline_colored = true;
        rc = rc_field_get_color(style, "outline", "style", spec->outline_rgb, err);
        if (rc != RC_OK) {
            return rc_error_set(err, RC_ERR_INVALID, "style.outline",
                                "must be true, false or a colour");
        }
    }
    const json_t *detail = json_object_get(style, "detail");
    if (detail && !(json_is_string(detail) && strcmp(json_string_value(detail), "auto") == 0)) {
        rc = rc_field_get_uint(style, "detail", "style", 1, RC_JOB_MAX_DETAIL, &spec->detail, err);
        if (rc != RC_OK) {
            return rc_error_set(err, RC_ERR_INVALID, "style.detail",
                                "must be \"auto\" or mesh cells along the longer side, 1..%d",
                                RC_JOB_MAX_DETAIL);
        }
    }
    const json_t *mode = json_object_get(style, "mode");
    if (mode) {
        const char *m = json_is_string(mode) ? json_string_value(mode) : "";
        if (strcmp(m, "image") == 0) {
            spec->mode = RC_MODE_IMAGE;
        } else if (strcmp(m, "surface") == 0) {
            spec->mode = RC_MODE_SURFACE;
        } else if (strcmp(m, "map") == 0) {
            spec->mode = RC_MODE_MAP;
        } else {
            return rc_error_set(err, RC_ERR_INVALID, "style.mode",
                                "must be \"image\", \"surface\" or \"map\"");
        }
    }
    const json_t *interpolation = json_object_get(style, "interpolation");
    if (interpolation) {
        const char *v = json_is_string(interpolation) ? json_string_value(interpolation) : "";
        if (strcmp(v, "linear") != 0 && strcmp(v, "nearest") != 0) {
            return rc_error_set(err, RC_ERR_INVALID, "style.interpolation",
                                "must be \"nearest\" (cells as blocks) or \"linear\" (colours "
                                "blended between cell centres, as mayavi's imshow)");
        }
        spec->linear = strcmp(v, "linear") == 0;
    }
    const json_t *aspect = json_object_get(style, "aspect");
    if (aspect) {
        const char *a = json_is_string(aspect) ? json_string_value(aspect) : "";
        if (strcmp(a, "data") == 0) {
            spec->aspect = RC_ASPECT_DATA;
        } else if (strcmp(a, "square") == 0) {
            spec->aspect = RC_ASPECT_SQUARE;
        } else {
            return rc_error_set(err, RC_ERR_INVALID, "style.aspect",
                                "must be \"data\" (the ground's shape) or \"square\" (one "
                                "unit a cell)");
        }
    }
    const json_t *cmap = json_object_get(style, "colormap");
    spec->colormap_given = cmap != NULL;
    if (cmap && json_is_string(cmap)) {
        rc = rc_colormap_from_name(&spec->colormap, json_string_value(cmap), "style.colormap", err);
    } else if (cmap && json_is_object(cmap)) {
        rc = parse_stops(spec, cmap, err);
    } else if (cmap) {
        rc = rc_error_set(err, RC_ERR_INVALID, "style.colormap",
                          "must be a colormap name or {\"stops\": [...]}");
    }
    bool reverse = false;
    rc = rc ? rc : rc_field_get_bool(style, "reverse", "style", &reverse, err);
    static const struct rc_field fields[] = {
        {"nan_color", RC_FIELD_COLOR, offsetof(struct rc_job_spec, nan_color), 0, 0, 0},
        {"background", RC_FIELD_COLOR, offsetof(struct rc_job_spec, background), 0, 0, 0},
        {"text_color", RC_FIELD_COLOR, offsetof(struct rc_job_spec, text_rgb), 0, 0, 0},
        {"exaggeration", RC_FIELD_NUMBER, offsetof(struct rc_job_spec, exaggeration), 0.0, 1000.0,
         0},
    };
    rc = rc ? rc
            : rc_field_read(style, "style", fields, sizeof(fields) / sizeof(fields[0]), NULL, spec,
                            err);
    if (rc != RC_OK) {
        return rc;
    }
    if (reverse) {
        rc_colormap_reverse(&spec->colormap);
    }
    return parse_labels(spec, style, err);
}

/* Pose fields shared by orbit and keyframes; `fields` limits which are allowed. */
