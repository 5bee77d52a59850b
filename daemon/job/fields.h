/*
 * fields: typed readers of a JSON job's fields, each checking type and range and
 * naming the field ("output.width") in its error. Internal to job/.
 */
#ifndef RC_FIELDS_H
#define RC_FIELDS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

/* Field path of the value being parsed, for error messages ("output.width"). */
struct rc_field_path {
    char text[64];
};

void rc_field_path_join(struct rc_field_path *out, const char *parent, const char *key);
enum rc_err rc_field_check_keys(const json_t *obj, const char *parent, const char *const *allowed,
                                struct rc_error *err);
enum rc_err rc_field_get_object(const json_t *parent, const char *key, const char *parent_path,
                                const json_t **out, struct rc_error *err);
enum rc_err rc_field_get_number(const json_t *obj, const char *key, const char *parent, double min,
                                double max, double *out, struct rc_error *err);
enum rc_err rc_field_get_uint(const json_t *obj, const char *key, const char *parent, long min,
                              long max, unsigned *out, struct rc_error *err);
enum rc_err rc_field_get_bool(const json_t *obj, const char *key, const char *parent, bool *out,
                              struct rc_error *err);
enum rc_err rc_field_get_color(const json_t *obj, const char *key, const char *parent,
                               uint8_t rgba[4], struct rc_error *err);
enum rc_err rc_field_copy_text(const json_t *v, const char *field, char *dst, size_t size,
                               struct rc_error *err);
enum rc_err rc_field_copy_location(const json_t *url, const char *field, char *dst, size_t size,
                                   struct rc_error *err);

/* A field table: scalar fields of one JSON object read into one C struct, each
 * checked for type and range, in table order (the first error wins). */
enum rc_field_kind {
    RC_FIELD_UINT,   /* unsigned */
    RC_FIELD_NUMBER, /* double */
    RC_FIELD_BOOL,   /* bool */
    RC_FIELD_COLOR,  /* uint8_t[4] */
};

struct rc_field {
    const char *key;
    enum rc_field_kind kind;
    size_t offset; /* of the destination in the struct being filled */
    double min, max;
    /* When non-zero, the maximum is this configured limit instead of `max`:
     * RC_FIELD_LIMIT(max_fps). */
    size_t limit;
};

#define RC_FIELD_LIMIT(name) (offsetof(struct rc_config, name) + 1)

/* Table entries: a field read into `member` of `type`, within lo..hi or lo..a limit. */
#define FIELD(type, key, kind, member, lo, hi)                                                     \
    {                                                                                              \
        key, kind, offsetof(type, member), lo, hi, 0                                               \
    }
#define FIELD_LIMIT(type, key, member, lo, limit)                                                  \
    {                                                                                              \
        key, RC_FIELD_UINT, offsetof(type, member), lo, 0, RC_FIELD_LIMIT(limit)                   \
    }
#define COUNT(table) (sizeof(table) / sizeof((table)[0]))

struct rc_config;
/* Reads every field of `table` present in `obj` into `dst`; absent ones keep their
 * values (the defaults). `cfg` may be NULL when no field names a limit. */
enum rc_err rc_field_read(const json_t *obj, const char *parent, const struct rc_field *table,
                          size_t count, const struct rc_config *cfg, void *dst,
                          struct rc_error *err);

struct rc_job_spec;
/* The job's "output" object (job/output.c). */
enum rc_err rc_spec_parse_output(struct rc_job_spec *spec, const struct rc_config *cfg,
                                 const json_t *output, struct rc_error *err);
/* raster.variable, .select, .datetime and .step (job/slice.c). */
enum rc_err rc_spec_parse_slice(struct rc_job_spec *spec, const json_t *raster,
                                struct rc_error *err);
/* style.vectors and style.graticule (job/vectors.c). */
enum rc_err rc_spec_parse_vectors(struct rc_job_spec *spec, const json_t *style,
                                  struct rc_error *err);
/* The job's "style" object (job/style.c). */
enum rc_err rc_spec_parse_style(struct rc_job_spec *spec, const json_t *style,
                                struct rc_error *err);

#endif
