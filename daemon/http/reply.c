#include "http/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

unsigned rc_http_status(enum rc_err code)
{
    switch (code) {
    case RC_OK:
        return MHD_HTTP_OK;
    case RC_ERR_INVALID:
        return MHD_HTTP_BAD_REQUEST;
    case RC_ERR_TOO_LARGE:
        return MHD_HTTP_CONTENT_TOO_LARGE;
    case RC_ERR_TIMEOUT:
        return MHD_HTTP_REQUEST_TIMEOUT;
    case RC_ERR_UNSUPPORTED:
        return MHD_HTTP_UNSUPPORTED_MEDIA_TYPE;
    case RC_ERR_UNAUTHORIZED:
        return MHD_HTTP_UNAUTHORIZED;
    case RC_ERR_IMPOSSIBLE:
        return MHD_HTTP_UNPROCESSABLE_CONTENT;
    case RC_ERR_FORBIDDEN:
        return MHD_HTTP_FORBIDDEN;
    case RC_ERR_NOT_FOUND:
        return MHD_HTTP_NOT_FOUND;
    case RC_ERR_UPSTREAM:
        return MHD_HTTP_BAD_GATEWAY;
    case RC_ERR_UPSTREAM_TIMEOUT:
        return MHD_HTTP_GATEWAY_TIMEOUT;
    case RC_ERR_BUSY:
        return MHD_HTTP_TOO_MANY_REQUESTS;
    case RC_ERR_DRAINING:
    case RC_ERR_NOMEM:
        return MHD_HTTP_SERVICE_UNAVAILABLE;
    case RC_ERR_CANCELLED:
    case RC_ERR_INTERNAL:
        return MHD_HTTP_INTERNAL_SERVER_ERROR;
    }
    return MHD_HTTP_INTERNAL_SERVER_ERROR;
}

/* CORS: an allowed Origin gets itself back (or "*" when any origin is allowed). */
static void add_cors(const struct rc_http *http, struct MHD_Connection *conn,
                     struct MHD_Response *resp)
{
    const char *origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
    const char *allow = rc_access_cors_origin(rc_http_config(http)->cors_origin, origin);
    if (!allow) {
        return;
    }
    MHD_add_response_header(resp, "Access-Control-Allow-Origin", allow);
    MHD_add_response_header(resp, "Access-Control-Expose-Headers",
                            "X-Request-Id, X-Frame-Count, X-Rasterclip-Ignored, "
                            "X-Rasterclip-Cache, X-Rasterclip-Bounds, X-Rasterclip-Bounds-Lonlat, "
                            "ETag, Content-Range");
    if (strcmp(allow, "*") != 0) {
        MHD_add_response_header(resp, "Vary", "Origin");
    }
}

void rc_http_add_bounds(struct MHD_Response *resp, const struct rc_bounds *b)
{
    char text[128];
    if (!resp || !b->known) {
        return;
    }
    snprintf(text, sizeof(text), "%.12g,%.12g,%.12g,%.12g", b->xy[0], b->xy[1], b->xy[2], b->xy[3]);
    MHD_add_response_header(resp, "X-Rasterclip-Bounds", text);
    if (b->has_lonlat) {
        snprintf(text, sizeof(text), "%.12g,%.12g,%.12g,%.12g", b->lonlat[0], b->lonlat[1],
                 b->lonlat[2], b->lonlat[3]);
        MHD_add_response_header(resp, "X-Rasterclip-Bounds-Lonlat", text);
    }
}

enum MHD_Result rc_http_queue_clip(struct rc_http *http, struct MHD_Connection *conn,
                                   struct MHD_Response *resp, const char *content_type,
                                   const char *request_id, size_t frames, const char *ignored,
                                   uint64_t bytes)
{
    if (resp && ignored && ignored[0]) {
        MHD_add_response_header(resp, "X-Rasterclip-Ignored", ignored);
    }
    if (resp && frames) {
        char count[24];
        snprintf(count, sizeof(count), "%zu", frames);
        MHD_add_response_header(resp, "X-Frame-Count", count);
    }
    return rc_http_queue(http, conn, MHD_HTTP_OK, resp, content_type, request_id, bytes, NULL);
}

enum MHD_Result rc_http_queue(struct rc_http *http, struct MHD_Connection *conn, unsigned status,
                              struct MHD_Response *resp, const char *content_type,
                              const char *request_id, uint64_t bytes, const char *reason)
{
    if (!resp) {
        return MHD_NO;
    }
    struct rc_guard_answer answer = {.status = status, .bytes = bytes};
    snprintf(answer.reason, sizeof(answer.reason), "%s", reason ? reason : "");
    snprintf(answer.request_id, sizeof(answer.request_id), "%s", request_id ? request_id : "");
    if (content_type) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
        if (!MHD_get_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL)) {
            MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
        }
        MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    }
    add_cors(http, conn, resp);
    if (request_id) {
        MHD_add_response_header(resp, "X-Request-Id", request_id);
    }
    if (status == MHD_HTTP_UNAUTHORIZED) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    }
    if (status == MHD_HTTP_TOO_MANY_REQUESTS || status == MHD_HTTP_SERVICE_UNAVAILABLE) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "2");
    }
    if (status == MHD_HTTP_NO_CONTENT) { /* a CORS preflight */
        MHD_add_response_header(resp, "Access-Control-Allow-Methods", "GET, HEAD, POST, OPTIONS");
        MHD_add_response_header(resp, "Access-Control-Allow-Headers",
                                "Content-Type, Authorization");
        MHD_add_response_header(resp, "Access-Control-Max-Age", "600");
    }
    rc_guard_answered(http->guard, conn, &answer);
    enum MHD_Result ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

enum MHD_Result rc_http_send_text(struct rc_http *http, struct MHD_Connection *conn,
                                  unsigned status, char *text, const char *content_type,
                                  const char *request_id)
{
    size_t len = strlen(text);
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(text);
        return MHD_NO;
    }
    return rc_http_queue(http, conn, status, resp, content_type, request_id, len, NULL);
}

enum MHD_Result rc_http_send_json(struct rc_http *http, struct MHD_Connection *conn,
                                  unsigned status, json_t *body, const char *request_id)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!text) {
        return MHD_NO;
    }
    /* json_dumps allocates with malloc, which MHD_RESPMEM_MUST_FREE frees. */
    return rc_http_send_text(http, conn, status, text, "application/json", request_id);
}

void rc_http_error_reason(const struct rc_error *err, char *out, size_t size)
{
    if (err->field[0]) {
        snprintf(out, size, "%s: %s", err->field, err->message);
    } else {
        snprintf(out, size, "%s", err->message);
    }
}

char *rc_http_error_text(const struct rc_error *err)
{
    json_t *e = json_pack("{s:s, s:s}", "code", rc_err_name(err->code), "message", err->message);
    if (e && err->field[0]) {
        json_object_set_new(e, "field", json_string(err->field));
    }
    json_t *body = json_pack("{s:o*}", "error", e);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    return text;
}

struct MHD_Response *rc_http_error_response(struct rc_http *http, const struct rc_error *err,
                                            unsigned status, size_t *len)
{
    if (status >= 500) {
        atomic_fetch_add(&http->errors_5xx, 1);
    } else {
        atomic_fetch_add(&http->errors_4xx, 1);
    }
    char *text = rc_http_error_text(err);
    size_t n = text ? strlen(text) : 0;
    struct MHD_Response *resp =
        text ? MHD_create_response_from_buffer(n, text, MHD_RESPMEM_MUST_FREE) : NULL;
    if (!resp) {
        free(text);
    }
    if (len) {
        *len = n;
    }
    return resp;
}

enum MHD_Result rc_http_send_error(struct rc_http *http, struct MHD_Connection *conn,
                                   const struct rc_error *err, const char *request_id)
{
    unsigned status = rc_http_status(err->code);
    size_t len = 0;
    struct MHD_Response *resp = rc_http_error_response(http, err, status, &len);
    char reason[RC_REASON_BYTES];
    rc_http_error_reason(err, reason, sizeof(reason));
    return rc_http_queue(http, conn, status, resp, "application/json", request_id, len, reason);
}

enum MHD_Result rc_http_send_error_code(struct rc_http *http, struct MHD_Connection *conn,
                                        enum rc_err code, const char *field, const char *message)
{
    struct rc_error err;
    rc_error_set(&err, code, field, "%s", message);
    return rc_http_send_error(http, conn, &err, NULL);
}

/* CORS preflight: what a dashboard on another origin may send. */
enum MHD_Result rc_http_send_preflight(struct rc_http *http, struct MHD_Connection *conn)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    return rc_http_queue(http, conn, MHD_HTTP_NO_CONTENT, resp, NULL, NULL, 0, NULL);
}
