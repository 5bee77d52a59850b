/* raster.variable, raster.select, raster.datetime and raster.step: which part of
 * a datacube the job draws (base/slice.h). */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/datetime.h"
#include "job/fields.h"
#include "job/job.h"

static enum rc_err parse_select(struct rc_slice *s, const json_t *select, struct rc_error *err)
{
    if (!json_is_object(select) || json_object_size(select) > RC_SLICE_MAX_SELECT) {
        return rc_error_set(err, RC_ERR_INVALID, "raster.select",
                            "must be an object of at most %d dimensions, each a coordinate value "
                            "or {\"index\": N}",
                            RC_SLICE_MAX_SELECT);
    }
    const char *dim;
    const json_t *v;
    json_object_foreach((json_t *)select, dim, v)
    {
        char field[96];
        snprintf(field, sizeof(field), "raster.select.%.64s", dim);
        struct rc_slice_select *sel = &s->select[s->select_count];
        if (!dim[0] || strlen(dim) >= sizeof(sel->dim)) {
            return rc_error_set(err, RC_ERR_INVALID, "raster.select",
                                "dimension names are 1 to %d bytes", RC_SLICE_NAME - 1);
        }
        snprintf(sel->dim, sizeof(sel->dim), "%s", dim);
        const json_t *index = json_is_object(v) ? json_object_get(v, "index") : NULL;
        if (json_is_number(v)) {
            sel->value = json_number_value(v);
        } else if (json_is_integer(index) && json_object_size(v) == 1 &&
                   json_integer_value(index) >= 0) {
            sel->by_index = true;
            sel->value = (double)json_integer_value(index);
        } else {
            return rc_error_set(err, RC_ERR_INVALID, field,
                                "must be a coordinate value or {\"index\": N}, N >= 0");
        }
        s->select_count++;
    }
    return RC_OK;
}

/* One string, a list of strings, or one string of comma-separated items: each an
 * ISO 8601 instant, date or interval. */
static enum rc_err parse_datetime(struct rc_slice *s, const json_t *dt, struct rc_error *err)
{
    static const char field[] = "raster.datetime";
    size_t n = json_is_array(dt) ? json_array_size(dt) : 1;
    for (size_t i = 0; i < n; i++) {
        const json_t *item = json_is_array(dt) ? json_array_get(dt, i) : dt;
        if (!json_is_string(item)) {
            return rc_error_set(err, RC_ERR_INVALID, field,
                                "must be an ISO 8601 date, instant or interval, or a list of them");
        }
        char text[1024];
        snprintf(text, sizeof(text), "%s", json_string_value(item));
        char *save = NULL;
        for (char *part = strtok_r(text, ",", &save); part; part = strtok_r(NULL, ",", &save)) {
            if (s->range_count == RC_SLICE_MAX_RANGES) {
                return rc_error_set(err, RC_ERR_INVALID, field, "at most %d items",
                                    RC_SLICE_MAX_RANGES);
            }
            if (!rc_datetime_parse_interval(part, s->ranges[s->range_count])) {
                return rc_error_set(err, RC_ERR_INVALID, field,
                                    "\"%.40s\" is not an ISO 8601 date (2001-03), instant "
                                    "(2001-03-15T06:00Z) or interval (2001-01/2002-12, ../2003)",
                                    part);
            }
            s->range_count++;
        }
    }
    if (s->range_count == 0) {
        return rc_error_set(err, RC_ERR_INVALID, field, "must not be empty");
    }
    return RC_OK;
}

enum rc_err rc_spec_parse_slice(struct rc_job_spec *spec, const json_t *raster,
                                struct rc_error *err)
{
    struct rc_slice *s = &spec->slice;
    const json_t *variable = json_object_get(raster, "variable");
    if (variable) {
        const char *v = json_is_string(variable) ? json_string_value(variable) : "";
        if (!v[0] || strlen(v) >= sizeof(s->variable)) {
            return rc_error_set(err, RC_ERR_INVALID, "raster.variable",
                                "must be a variable's name, 1 to %zu bytes",
                                sizeof(s->variable) - 1);
        }
        snprintf(s->variable, sizeof(s->variable), "%s", v);
    }
    const json_t *select = json_object_get(raster, "select");
    enum rc_err rc = select ? parse_select(s, select, err) : RC_OK;
    const json_t *dt = json_object_get(raster, "datetime");
    rc = rc == RC_OK && dt ? parse_datetime(s, dt, err) : rc;
    const json_t *step = json_object_get(raster, "step");
    if (rc == RC_OK && step &&
        !(json_is_string(step) &&
          rc_datetime_parse_duration(json_string_value(step), &s->step_months, &s->step_seconds))) {
        rc = rc_error_set(err, RC_ERR_INVALID, "raster.step",
                          "must be an ISO 8601 duration such as \"P1M\", \"P1Y\", \"P7D\" or "
                          "\"PT6H\"");
    }
    return rc;
}
