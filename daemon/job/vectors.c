/* style.vectors and style.graticule: line and polygon layers over the raster. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "job/fields.h"
#include "job/job.h"

/* Widths in output pixels. */
#define MIN_WIDTH 0.25
#define MAX_WIDTH 32.0

/* The drawing fields a layer and the graticule share. */
static enum rc_err parse_look(const json_t *obj, const char *parent, struct rc_job_vector *v,
                              struct rc_error *err)
{
    static const struct rc_field fields[] = {
        FIELD(struct rc_job_vector, "color", RC_FIELD_COLOR, color, 0, 0),
        FIELD(struct rc_job_vector, "width", RC_FIELD_NUMBER, width, MIN_WIDTH, MAX_WIDTH),
        FIELD(struct rc_job_vector, "opacity", RC_FIELD_NUMBER, opacity, 0.0, 1.0),
    };
    return rc_field_read(obj, parent, fields, COUNT(fields), NULL, v, err);
}

static enum rc_err parse_layer(const json_t *item, size_t i, struct rc_job_vector *v,
                               struct rc_error *err)
{
    static const char *const keys[] = {"source", "color", "width", "fill", "opacity", NULL};
    char parent[48], field[64];
    snprintf(parent, sizeof(parent), "style.vectors[%zu]", i);
    if (!json_is_object(item)) {
        return rc_error_set(err, RC_ERR_INVALID, parent,
                            "must be {\"source\": ..., \"color\", \"width\", \"fill\", "
                            "\"opacity\"}");
    }
    enum rc_err rc = rc_field_check_keys(item, parent, keys, err);
    if (rc != RC_OK) {
        return rc;
    }
    snprintf(field, sizeof(field), "%s.source", parent);
    const json_t *source = json_object_get(item, "source");
    /* Absent: the layer came with the job (multipart part vector<i>), which the
     * request's reader checks. */
    if (source) {
        char location[2048];
        rc = rc_field_copy_location(source, field, location, sizeof(location), err);
        v->source = rc == RC_OK ? strdup(location) : NULL;
        rc = rc == RC_OK && !v->source ? rc_error_set(err, RC_ERR_NOMEM, field, "out of memory")
                                       : rc;
    }
    rc = rc ? rc : parse_look(item, parent, v, err);
    const json_t *fill = json_object_get(item, "fill");
    if (rc == RC_OK && fill && !json_is_null(fill) && !json_is_false(fill)) {
        v->filled = true;
        rc = rc_field_get_color(item, "fill", parent, v->fill, err);
    }
    return rc;
}

enum rc_err rc_spec_parse_vectors(struct rc_job_spec *spec, const json_t *style,
                                  struct rc_error *err)
{
    const struct rc_job_vector look = {.color = {0, 0, 0, 255}, .width = 1.5, .opacity = 1.0};
    const json_t *list = json_object_get(style, "vectors");
    if (list && (!json_is_array(list) || json_array_size(list) > RC_JOB_MAX_VECTORS)) {
        return rc_error_set(err, RC_ERR_INVALID, "style.vectors",
                            "must be a list of at most %d layers", RC_JOB_MAX_VECTORS);
    }
    for (size_t i = 0; i < json_array_size(list); i++) {
        spec->vectors[i] = look;
        enum rc_err rc = parse_layer(json_array_get(list, i), i, &spec->vectors[i], err);
        spec->vector_count = i + 1; /* its source, if any, is freed with the spec */
        if (rc != RC_OK) {
            return rc;
        }
    }
    const json_t *graticule = json_object_get(style, "graticule");
    if (!graticule) {
        return RC_OK;
    }
    static const char *const keys[] = {"step", "color", "width", "opacity", NULL};
    if (!json_is_object(graticule) || !json_object_get(graticule, "step")) {
        return rc_error_set(err, RC_ERR_INVALID, "style.graticule",
                            "must be {\"step\": degrees, \"color\", \"width\", \"opacity\"}");
    }
    spec->graticule = look;
    spec->graticule.color[0] = spec->graticule.color[1] = spec->graticule.color[2] = 128;
    spec->graticule.width = 1.0;
    enum rc_err rc = rc_field_check_keys(graticule, "style.graticule", keys, err);
    rc = rc ? rc
            : rc_field_get_number(graticule, "step", "style.graticule", 0.001, 90.0,
                                  &spec->graticule_step, err);
    return rc ? rc : parse_look(graticule, "style.graticule", &spec->graticule, err);
}
