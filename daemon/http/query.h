/*
 * query: the GET form of a render job. Query parameters become the JSON job of
 * POST /v1/render, so both forms share one parser and one set of rules. Where a
 * parameter means what it means in TiTiler it has TiTiler's name and syntax (url,
 * bidx repeated, rescale=min,max or [min,max], colormap_name with _r, nodata with
 * nan/inf); TiTiler parameters that mean nothing for a clip are accepted and
 * ignored, and so are parameters nobody knows (reported to the caller). A bad value
 * of a known parameter is an error naming the query parameter, not the JSON field.
 *
 * Pure: the caller owns the parameters and the returned text. Any thread.
 */
#ifndef RC_QUERY_H
#define RC_QUERY_H

#include <stddef.h>

#include <jansson.h>

#include "base/error.h"

struct rc_query_param {
    const char *key;
    const char *value; /* URL-decoded; may be NULL for a bare key */
};

/* Builds the job as a JSON object (the caller's reference: json_decref) for
 * rc_job_spec_from_json(), or fails naming the parameter in err->field. Parameters it does not know
 * are ignored, as TiTiler ignores them: their names, comma-separated, go to `unknown` (may be
 * NULL). */
enum rc_err rc_query_to_job(const struct rc_query_param *params, size_t count, json_t **job,
                            char *unknown, size_t unknown_size, struct rc_error *err);

/* The query parameter a job field came from ("output.width" -> "width"), or the
 * field itself when no parameter maps to it. */
const char *rc_query_param_for_field(const char *field);

/* Parameters accepted and ignored (TiTiler's that mean nothing for a clip), as a
 * NULL-terminated list for /v1/info. */
const char *const *rc_query_ignored(void);

#endif
