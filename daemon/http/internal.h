/*
 * internal: what the files of http/ share — the server's state, one request's
 * state, and the reply helpers. Response headers are written in one place,
 * rc_http_queue(). Not for use outside http/.
 */
#ifndef RC_HTTP_INTERNAL_H
#define RC_HTTP_INTERNAL_H

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "base/buf.h"
#include "base/metrics.h"
#include "http/access.h"
#include "http/body.h"
#include "http/guard.h"
#include "http/http.h"
#include "http/listen.h"
#include "job/job.h"

/* What requests are counted by (http/requests.c). */
enum rc_route {
    RC_ROUTE_OTHER,
    RC_ROUTE_RENDER,
    RC_ROUTE_JOB,
    RC_ROUTE_CACHE,
    RC_ROUTE_CACHE_KEY,
    RC_ROUTE_INFO,
    RC_ROUTE_COLORMAPS,
    RC_ROUTE_HEALTHZ,
    RC_ROUTE_READYZ,
    RC_ROUTE_METRICS,
    RC_ROUTE_PAGE,
    RC_ROUTE_DOCS,
    RC_ROUTE_OPENAPI,
    RC_ROUTE_MAP,
    RC_ROUTE_LEAFLET,
    RC_ROUTE_LEGEND,
    RC_ROUTE_VECTORS,
    RC_ROUTE_COUNT
};
enum rc_method {
    RC_METHOD_GET,
    RC_METHOD_HEAD,
    RC_METHOD_POST,
    RC_METHOD_DELETE,
    RC_METHOD_OPTIONS,
    RC_METHOD_OTHER,
    RC_METHOD_COUNT
};
enum { RC_CODE_SLOTS = 24 };

struct rc_http {
    struct rc_config_source *cfgs; /* the config in force: read per request */
    struct rc_workers *workers;
    struct rc_cache *cache;
    struct rc_clipcache *clips; /* NULL: no clip cache */
    struct rc_jobs *jobs;
    struct MHD_Daemon *daemon;
    char url[300];
    struct rc_listen listen; /* the socket, systemd's or --listen's */
    atomic_bool draining;
    /* metrics */
    atomic_uint_fast64_t rejected_busy, errors_4xx, errors_5xx;
    atomic_uint_fast64_t counts[RC_METHOD_COUNT][RC_ROUTE_COUNT][RC_CODE_SLOTS]; /* ended */
    atomic_uint_fast64_t next_request_id;
    atomic_uint_fast64_t rejected_uploads; /* 503: max_uploads_mb was full */
    atomic_uint_fast64_t uploads_bytes;    /* reserved by request bodies being read or held */
    struct rc_histogram ttfb;              /* request to first body byte */
    struct rc_histogram send;              /* first to last body byte */
    atomic_size_t streams;                 /* streaming responses not yet destroyed */
    struct rc_access *access;              /* bearer tokens */
    struct rc_guard *guard;                /* header and body deadlines */
};

enum route {
    ROUTE_NONE,
    ROUTE_RENDER,       /* POST, JSON body */
    ROUTE_RENDER_QUERY, /* GET or HEAD, query parameters */
};

/* Per-request state, from the first access-handler call to request completion. */
struct request {
    struct rc_http *http;
    struct MHD_Connection *conn;
    enum route route;
    bool head;
    struct rc_body in; /* POST: the body as it arrives */
    char ignored[256]; /* query parameters nobody knows, ignored */
    double start_ms;
    struct rc_job *job; /* one reference, dropped at completion */
    enum rc_method method;
    enum rc_route route_name;
    char path[160]; /* for the access log */
    pthread_mutex_t lock;
    bool suspended;        /* under lock: waiting for the worker */
    bool ready;            /* under lock: the worker has called job_ready */
    bool reserved;         /* a worker-pool place taken at the headers, not yet used */
    uint64_t upload_bytes; /* of http->uploads_bytes, given back at completion */
    bool declared;         /* the body's length came in Content-Length */
    enum rc_answer answer; /* /v1/legend, /v1/vectors: what beside the clip to answer */
};

/* The streaming response's state; lives until the response is destroyed. */
struct stream {
    struct rc_http *http;
    struct MHD_Connection *conn;
    struct rc_job *job; /* one reference */
    double start_ms;
    double first_byte_ms;
    bool first_byte_seen;
};

/* One ended request, for its access-log line and counters. */
struct rc_http_done {
    enum rc_method method;
    enum rc_route route;
    const char *path;
    struct rc_guard_answer answer;
    uint64_t bytes;
    double duration_ms;
    bool completed; /* the answer went out whole */
};
enum rc_route rc_http_route_of(const char *url);
enum rc_method rc_http_method_of(const char *method);
/* Counts the request and writes its access-log line (http/requests.c). */
void rc_http_request_done(struct rc_http *http, struct MHD_Connection *conn,
                          const struct rc_http_done *done);
/* rasterclip_http_requests_total. */
void rc_http_write_request_metrics(struct rc_http *http, struct rc_buf *out);

static inline const struct rc_config *rc_http_config(const struct rc_http *http)
{
    return rc_config_current(http->cfgs);
}

/* Queues `resp` (NULL: MHD_NO) with the headers every answer carries: for a body,
 * its Content-Type, no-store and nosniff; CORS; X-Request-Id when given;
 * WWW-Authenticate on 401, Retry-After on 429 and 503, the preflight's on 204.
 * `bytes` (the body's; UINT64_MAX: a job's stream) and `reason` (an error's
 * message, or NULL) are for the access log. */
enum MHD_Result rc_http_queue(struct rc_http *http, struct MHD_Connection *conn, unsigned status,
                              struct MHD_Response *resp, const char *content_type,
                              const char *request_id, uint64_t bytes, const char *reason);
/* X-Rasterclip-Bounds (west,south,east,north in the clip's CRS) and
 * X-Rasterclip-Bounds-Lonlat (the same in EPSG:4326 degrees), when known. */
void rc_http_add_bounds(struct MHD_Response *resp, const struct rc_bounds *bounds);
/* A clip's 200: rc_http_queue() plus X-Frame-Count, the clip's length in frames
 * (0: not known, no header), and X-Rasterclip-Ignored, the query parameters it
 * ignored (NULL or "": none). */
enum MHD_Result rc_http_queue_clip(struct rc_http *http, struct MHD_Connection *conn,
                                   struct MHD_Response *resp, const char *content_type,
                                   const char *request_id, size_t frames, const char *ignored,
                                   uint64_t bytes);
/* Takes `text` (malloc'ed). */
enum MHD_Result rc_http_send_text(struct rc_http *http, struct MHD_Connection *conn,
                                  unsigned status, char *text, const char *content_type,
                                  const char *request_id);
/* Takes `body`. */
enum MHD_Result rc_http_send_json(struct rc_http *http, struct MHD_Connection *conn,
                                  unsigned status, json_t *body, const char *request_id);
/* The JSON error body, `{"error": {"code", "message", "field"}}` (malloc'ed;
 * NULL when memory is short). */
char *rc_http_error_text(const struct rc_error *err);
/* The JSON error body as a response (counted as a 4xx or 5xx by `status`), for
 * an answer that needs headers of its own; NULL when memory is short. `len`
 * (may be NULL): the body's bytes. */
struct MHD_Response *rc_http_error_response(struct rc_http *http, const struct rc_error *err,
                                            unsigned status, size_t *len);
/* "field: message", the access log's reason. */
void rc_http_error_reason(const struct rc_error *err, char *out, size_t size);
enum MHD_Result rc_http_send_error(struct rc_http *http, struct MHD_Connection *conn,
                                   const struct rc_error *err, const char *request_id);
enum MHD_Result rc_http_send_error_code(struct rc_http *http, struct MHD_Connection *conn,
                                        enum rc_err code, const char *field, const char *message);
enum MHD_Result rc_http_send_preflight(struct rc_http *http, struct MHD_Connection *conn);

/* Jobs by id (http/jobs.c): the registry, and GET (progress) or DELETE (cancel)
 * of /v1/jobs/{id}. A job is added when it is created, with the Authorization it
 * came with, and closed when its request ends; closed jobs' progress is kept a
 * while. */
struct rc_jobs;
struct rc_jobs *rc_jobs_create(void);
void rc_jobs_destroy(struct rc_jobs *jobs);
void rc_jobs_add(struct rc_jobs *jobs, struct rc_job *job, const char *authorization);
void rc_jobs_close(struct rc_jobs *jobs, struct rc_job *job);
enum MHD_Result rc_http_handle_job(struct rc_http *http, struct MHD_Connection *conn,
                                   const char *url, const char *method);
/* DELETE /v1/cache (every entry) and /v1/cache/{key} (one) (http/endpoints.c). */
enum MHD_Result rc_http_handle_cache(struct rc_http *http, struct MHD_Connection *conn,
                                     const char *url);

/* A finished clip (req->job in RC_JOB_FINISHED) like a static file: ETag,
 * If-None-Match (304), Range and If-Range (206, 416) (http/clip_file.c). */
enum MHD_Result rc_http_send_clip_file(struct request *req);

/* POST, GET and HEAD /v1/render (http/render_route.c), called again on resume. */
enum MHD_Result rc_http_handle_render(struct request *req);
/* GET /metrics, the Prometheus text format (http/metrics.c). */
enum MHD_Result rc_http_handle_metrics(struct rc_http *http, struct MHD_Connection *conn);
/* The small GETs (http/endpoints.c): the pages ("/", "/docs", "/openapi.json"),
 * health ("/healthz", "/readyz"), "/v1/info" and "/v1/colormaps". */
enum MHD_Result rc_http_get_page(struct rc_http *http, struct MHD_Connection *conn,
                                 const char *url);
/* GET /leaflet/{file}: leaflet.js or leaflet.css from Debian's libjs-leaflet. */
enum MHD_Result rc_http_get_library(struct rc_http *http, struct MHD_Connection *conn,
                                    const char *url);
enum MHD_Result rc_http_get_health(struct rc_http *http, struct MHD_Connection *conn,
                                   const char *url);
enum MHD_Result rc_http_get_info(struct rc_http *http, struct MHD_Connection *conn,
                                 const char *url);

/* The start of a POST /v1/render: what the body is, and whether it may come
 * (http/server.c). */
enum MHD_Result rc_http_start_body(struct request *req);
/* A GET or HEAD of /v1/render: its signed-URL verdict (http/server.c). */
enum rc_signed rc_http_check_signed(struct rc_http *http, struct MHD_Connection *conn,
                                    const char *url, struct rc_error *err);

/* The routes (http/routes.c): one table of path, methods, who may call it and
 * handler; rc_http_route() dispatches a request's first call through it. */
const char *rc_http_route_name(enum rc_route route);
const char *rc_http_method_name(enum rc_method method);
enum MHD_Result rc_http_route(struct request *req, const char *url, const char *method);

#endif
