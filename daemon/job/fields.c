#include "job/fields.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/colormap.h"
#include "base/config.h"

void rc_field_path_join(struct rc_field_path *out, const char *parent, const char *key)
{
    snprintf(out->text, sizeof(out->text), "%s%s%s", parent, parent[0] ? "." : "", key);
}

enum rc_err rc_field_check_keys(const json_t *obj, const char *parent, const char *const *allowed,
                                struct rc_error *err)
{
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)obj, key, value)
    {
        bool known = false;
        for (size_t i = 0; allowed[i]; i++) {
            known = known || strcmp(key, allowed[i]) == 0;
        }
        if (!known) {
            struct rc_field_path p;
            rc_field_path_join(&p, parent, key);
            return rc_error_set(err, RC_ERR_INVALID, p.text, "unknown field");
        }
    }
    return RC_OK;
}

enum rc_err rc_field_get_object(const json_t *parent, const char *key, const char *parent_path,
                                const json_t **out, struct rc_error *err)
{
    *out = json_object_get(parent, key);
    if (*out && !json_is_object(*out)) {
        struct rc_field_path p;
        rc_field_path_join(&p, parent_path, key);
        return rc_error_set(err, RC_ERR_INVALID, p.text, "must be an object");
    }
    return RC_OK;
}

/* Reads an optional number in [min, max]; absent leaves *out unchanged. */
enum rc_err rc_field_get_number(const json_t *obj, const char *key, const char *parent, double min,
                                double max, double *out, struct rc_error *err)
{
    const json_t *v = json_object_get(obj, key);
    if (!v) {
        return RC_OK;
    }
    struct rc_field_path p;
    rc_field_path_join(&p, parent, key);
    if (!json_is_number(v)) {
        return rc_error_set(err, RC_ERR_INVALID, p.text, "must be a number");
    }
    double d = json_number_value(v);
    if (!(d >= min && d <= max)) {
        return rc_error_set(err, RC_ERR_IMPOSSIBLE, p.text, "must be in %g..%g, got %g", min, max,
                            d);
    }
    *out = d;
    return RC_OK;
}

enum rc_err rc_field_get_uint(const json_t *obj, const char *key, const char *parent, long min,
                              long max, unsigned *out, struct rc_error *err)
{
    const json_t *v = json_object_get(obj, key);
    if (!v) {
        return RC_OK;
    }
    struct rc_field_path p;
    rc_field_path_join(&p, parent, key);
    if (!json_is_integer(v)) {
        return rc_error_set(err, RC_ERR_INVALID, p.text, "must be an integer");
    }
    json_int_t i = json_integer_value(v);
    if (i < min || i > max) {
        return rc_error_set(err, RC_ERR_IMPOSSIBLE, p.text, "must be in %ld..%ld, got %lld", min,
                            max, (long long)i);
    }
    *out = (unsigned)i;
    return RC_OK;
}

enum rc_err rc_field_get_bool(const json_t *obj, const char *key, const char *parent, bool *out,
                              struct rc_error *err)
{
    const json_t *v = json_object_get(obj, key);
    if (!v) {
        return RC_OK;
    }
    if (!json_is_boolean(v)) {
        struct rc_field_path p;
        rc_field_path_join(&p, parent, key);
        return rc_error_set(err, RC_ERR_INVALID, p.text, "must be true or false");
    }
    *out = json_is_true(v);
    return RC_OK;
}

enum rc_err rc_field_get_color(const json_t *obj, const char *key, const char *parent,
                               uint8_t rgba[4], struct rc_error *err)
{
    const json_t *v = json_object_get(obj, key);
    if (!v) {
        return RC_OK;
    }
    if (!json_is_string(v) || !rc_color_parse(json_string_value(v), rgba)) {
        struct rc_field_path p;
        rc_field_path_join(&p, parent, key);
        return rc_error_set(err, RC_ERR_INVALID, p.text,
                            "must be a colour \"#rrggbb\" or \"#rrggbbaa\"");
    }
    return RC_OK;
}

enum rc_err rc_field_copy_text(const json_t *v, const char *field, char *dst, size_t size,
                               struct rc_error *err)
{
    if (!json_is_string(v)) {
        return rc_error_set(err, RC_ERR_INVALID, field, "must be a string");
    }
    size_t len = json_string_length(v);
    if (len >= size || strlen(json_string_value(v)) != len) {
        return rc_error_set(err, RC_ERR_INVALID, field, "must be at most %zu bytes, no NUL",
                            size - 1);
    }
    memcpy(dst, json_string_value(v), len + 1);
    return RC_OK;
}

enum rc_err rc_field_copy_location(const json_t *url, const char *field, char *dst, size_t size,
                                   struct rc_error *err)
{
    if (json_is_string(url) && json_string_length(url) == 0) {
        return rc_error_set(err, RC_ERR_INVALID, field, "must be a non-empty string");
    }
    return rc_field_copy_text(url, field, dst, size, err);
}

/* raster.height: {"url": ..., "band": n}, heights for surface mode. */

enum rc_err rc_field_read(const json_t *obj, const char *parent, const struct rc_field *table,
                          size_t count, const struct rc_config *cfg, void *dst,
                          struct rc_error *err)
{
    for (size_t i = 0; i < count; i++) {
        const struct rc_field *f = &table[i];
        char *at = (char *)dst + f->offset;
        double max = f->max;
        if (f->limit && cfg) {
            long limit;
            memcpy(&limit, (const char *)cfg + (f->limit - 1), sizeof(limit));
            max = (double)limit;
        }
        enum rc_err rc = RC_OK;
        switch (f->kind) {
        case RC_FIELD_UINT:
            rc = rc_field_get_uint(obj, f->key, parent, (long)f->min, (long)max, (unsigned *)at,
                                   err);
            break;
        case RC_FIELD_NUMBER:
            rc = rc_field_get_number(obj, f->key, parent, f->min, max, (double *)at, err);
            break;
        case RC_FIELD_BOOL:
            rc = rc_field_get_bool(obj, f->key, parent, (bool *)at, err);
            break;
        case RC_FIELD_COLOR:
            rc = rc_field_get_color(obj, f->key, parent, (uint8_t *)at, err);
            break;
        }
        if (rc != RC_OK) {
            return rc;
        }
    }
    return RC_OK;
}
