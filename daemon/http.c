#include "http.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <vpx/vpx_codec.h>

#include "access.h"
#include "clock.h"
#include "colormap.h"
#include "ebml.h"
#include "job.h"
#include "log.h"
#include "metrics.h"
#include "parse.h"
#include "query.h"
#include "shaders.h"

/* Time-to-first-byte histogram bounds in seconds (Prometheus `le` labels). */
static const double ttfb_bounds[] = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
enum { TTFB_BUCKETS = sizeof(ttfb_bounds) / sizeof(ttfb_bounds[0]) };
static const double send_bounds[] = {0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300};

/* Bodies up to this many times max_body_bytes are drained before the 413. */
enum { BODY_DISCARD_FACTOR = 16 };

struct rc_http {
    struct rc_config_source *cfgs; /* the config in force: read per request */
    struct rc_workers *workers;
    const struct rc_gpu *gpu;
    struct rc_cache *cache;
    struct MHD_Daemon *daemon;
    char url[300];
    atomic_bool draining;
    /* metrics */
    atomic_uint_fast64_t requests, rejected_busy, errors_4xx, errors_5xx;
    struct rc_histogram ttfb; /* request to first body byte */
    struct rc_histogram send; /* first to last body byte */
    atomic_size_t streams;    /* streaming responses not yet destroyed */
    struct rc_access *access; /* bearer tokens */
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
    struct rc_buf body;
    bool too_large;
    double start_ms;
    struct rc_job *job; /* one reference, dropped at completion */
    pthread_mutex_t lock;
    bool suspended; /* under lock: waiting for the worker */
    bool ready;     /* under lock: the worker has called job_ready */
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

static const struct rc_config *config(const struct rc_http *http)
{
    return rc_config_current(http->cfgs);
}

unsigned rc_http_status(enum rc_err code)
{
    switch (code) {
    case RC_OK:
        return MHD_HTTP_OK;
    case RC_ERR_INVALID:
        return MHD_HTTP_BAD_REQUEST;
    case RC_ERR_TOO_LARGE:
        return MHD_HTTP_CONTENT_TOO_LARGE;
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
    const char *allow = rc_access_cors_origin(config(http)->cors_origin, origin);
    if (!allow) {
        return;
    }
    MHD_add_response_header(resp, "Access-Control-Allow-Origin", allow);
    MHD_add_response_header(resp, "Access-Control-Expose-Headers", "X-Request-Id");
    if (strcmp(allow, "*") != 0) {
        MHD_add_response_header(resp, "Vary", "Origin");
    }
}

static enum MHD_Result send_text(struct rc_http *http, struct MHD_Connection *conn, unsigned status,
                                 char *text, const char *content_type, const char *request_id)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    add_cors(http, conn, resp);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (request_id) {
        MHD_add_response_header(resp, "X-Request-Id", request_id);
    }
    if (status == MHD_HTTP_UNAUTHORIZED) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    }
    if (status == MHD_HTTP_TOO_MANY_REQUESTS || status == MHD_HTTP_SERVICE_UNAVAILABLE) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "2");
    }
    enum MHD_Result ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result send_json(struct rc_http *http, struct MHD_Connection *conn, unsigned status,
                                 json_t *body, const char *request_id)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!text) {
        return MHD_NO;
    }
    /* json_dumps allocates with malloc, which MHD_RESPMEM_MUST_FREE frees. */
    return send_text(http, conn, status, text, "application/json", request_id);
}

static enum MHD_Result send_error(struct rc_http *http, struct MHD_Connection *conn,
                                  const struct rc_error *err, const char *request_id)
{
    unsigned status = rc_http_status(err->code);
    if (status >= 500) {
        atomic_fetch_add(&http->errors_5xx, 1);
    } else {
        atomic_fetch_add(&http->errors_4xx, 1);
    }
    json_t *e = json_pack("{s:s, s:s}", "code", rc_err_name(err->code), "message", err->message);
    if (e && err->field[0]) {
        json_object_set_new(e, "field", json_string(err->field));
    }
    return send_json(http, conn, status, json_pack("{s:o*}", "error", e), request_id);
}

static enum MHD_Result send_error_code(struct rc_http *http, struct MHD_Connection *conn,
                                       enum rc_err code, const char *field, const char *message)
{
    struct rc_error err;
    rc_error_set(&err, code, field, "%s", message);
    return send_error(http, conn, &err, NULL);
}

/* ---- streaming ---------------------------------------------------------- */

static void stream_park(void *ctx)
{
    struct stream *s = ctx;
    MHD_suspend_connection(s->conn);
}

static void stream_wake(void *ctx)
{
    struct stream *s = ctx;
    MHD_resume_connection(s->conn);
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct stream *s = cls;
    size_t copied = 0;
    switch (rc_bytequeue_read(s->job->out, buf, max, &copied)) {
    case RC_BQ_DATA:
        if (!s->first_byte_seen) {
            s->first_byte_seen = true;
            s->first_byte_ms = rc_clock_ms();
            rc_histogram_observe(&s->http->ttfb, (s->first_byte_ms - s->start_ms) / 1e3);
        }
        return (ssize_t)copied;
    case RC_BQ_PARKED:
        return 0; /* suspended; the next write resumes the connection */
    case RC_BQ_END:
        rc_histogram_observe(&s->http->send, (rc_clock_ms() - s->first_byte_ms) / 1e3);
        return MHD_CONTENT_READER_END_OF_STREAM;
    case RC_BQ_FAILED:
        break;
    }
    /* No terminating chunk: the client sees an incomplete transfer. */
    return MHD_CONTENT_READER_END_WITH_ERROR;
}

static void stream_free(void *cls)
{
    struct stream *s = cls;
    atomic_fetch_sub(&s->http->streams, 1);
    /* Finished or not, the client is gone: stop the job at its next frame. */
    atomic_store(&s->job->cancel, true);
    rc_bytequeue_abort(s->job->out);
    rc_job_unref(s->job);
    free(s);
}

static enum MHD_Result start_stream(struct request *req)
{
    struct stream *s = calloc(1, sizeof(*s));
    if (!s) {
        return MHD_NO;
    }
    s->http = req->http;
    s->conn = req->conn;
    s->job = req->job;
    s->start_ms = req->start_ms;
    rc_job_ref(s->job);
    atomic_fetch_add(&s->http->streams, 1);
    struct rc_bytequeue_waker waker = {.park = stream_park, .wake = stream_wake, .ctx = s};
    rc_bytequeue_set_waker(s->job->out, &waker);
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, stream_read, s, stream_free);
    if (!resp) {
        stream_free(s);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "video/webm");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "X-Request-Id", s->job->id);
    add_cors(req->http, req->conn, resp);
    enum MHD_Result ret = MHD_queue_response(req->conn, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* Called by the worker once the job streams or has failed. */
static void job_ready(struct rc_job *job, void *ctx)
{
    (void)job;
    struct request *req = ctx;
    pthread_mutex_lock(&req->lock);
    req->ready = true;
    if (req->suspended) {
        req->suspended = false;
        MHD_resume_connection(req->conn);
    }
    pthread_mutex_unlock(&req->lock);
}

enum { MAX_QUERY_PARAMS = 64 };

struct query_args {
    struct rc_query_param params[MAX_QUERY_PARAMS];
    size_t count;
    bool overflow;
};

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    (void)kind;
    struct query_args *q = cls;
    if (q->count == MAX_QUERY_PARAMS) {
        q->overflow = true;
        return MHD_NO;
    }
    q->params[q->count].key = key;
    q->params[q->count].value = value;
    q->count++;
    return MHD_YES;
}

/* The GET form: query parameters into the JSON job; errors name the parameter. */
static enum rc_err query_job(struct request *req, char **json, struct rc_error *err)
{
    struct query_args q = {.count = 0};
    MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, collect_arg, &q);
    if (q.overflow) {
        return rc_error_set(err, RC_ERR_TOO_LARGE, "", "more than %d query parameters",
                            MAX_QUERY_PARAMS);
    }
    return rc_query_to_job(q.params, q.count, json, err);
}

static enum MHD_Result handle_render(struct request *req)
{
    struct rc_http *http = req->http;
    if (req->job) {
        /* Resumed: the worker has decided (it wrote the state before job_ready). */
        pthread_mutex_lock(&req->lock);
        enum rc_job_state state = req->job->state;
        pthread_mutex_unlock(&req->lock);
        if (state == RC_JOB_FAILED) {
            return send_error(http, req->conn, &req->job->error, req->job->id);
        }
        return start_stream(req);
    }
    if (req->too_large) {
        return send_error_code(http, req->conn, RC_ERR_TOO_LARGE, "",
                               "the request body exceeds max_body_bytes");
    }
    if (atomic_load(&http->draining)) {
        return send_error_code(http, req->conn, RC_ERR_DRAINING, "", "the server is shutting down");
    }
    struct rc_job_spec spec;
    struct rc_error err = {0};
    char *query_json = NULL;
    if (req->route == ROUTE_RENDER_QUERY) {
        if (query_job(req, &query_json, &err) != RC_OK) {
            return send_error(http, req->conn, &err, NULL);
        }
    }
    const char *text = query_json ? query_json : (const char *)req->body.data;
    size_t len = query_json ? strlen(query_json) : req->body.len;
    enum rc_err parsed = rc_job_spec_parse(&spec, config(http), text, len, &err);
    free(query_json);
    if (parsed != RC_OK) {
        if (req->route == ROUTE_RENDER_QUERY && err.field[0]) {
            char param[sizeof(err.field)];
            snprintf(param, sizeof(param), "%s", rc_query_param_for_field(err.field));
            snprintf(err.field, sizeof(err.field), "%s", param);
        }
        return send_error(http, req->conn, &err, NULL);
    }
    if (req->head) {
        /* HEAD: the job is valid; say what a GET would send, render nothing. */
        rc_job_spec_finish(&spec);
        struct MHD_Response *resp =
            MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
        if (!resp) {
            return MHD_NO;
        }
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "video/webm");
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
        add_cors(http, req->conn, resp);
        enum MHD_Result ret = MHD_queue_response(req->conn, MHD_HTTP_OK, resp);
        MHD_destroy_response(resp);
        return ret;
    }
    req->job = rc_job_create(&spec, (size_t)config(http)->byte_queue_kb * 1024);
    if (!req->job) {
        rc_job_spec_finish(&spec);
        return send_error_code(http, req->conn, RC_ERR_NOMEM, "", "out of memory");
    }
    req->job->on_ready = job_ready;
    req->job->on_ready_ctx = req;
    /* Suspend before the worker can possibly call job_ready. */
    pthread_mutex_lock(&req->lock);
    req->suspended = true;
    MHD_suspend_connection(req->conn);
    pthread_mutex_unlock(&req->lock);
    if (rc_workers_submit(http->workers, req->job, &err) != RC_OK) {
        pthread_mutex_lock(&req->lock);
        req->suspended = false;
        MHD_resume_connection(req->conn);
        pthread_mutex_unlock(&req->lock);
        atomic_fetch_add(&http->rejected_busy, 1);
        /* The job never ran: answer on the next call, when the connection runs again. */
        req->job->state = RC_JOB_FAILED;
        req->job->error = err;
    }
    return MHD_YES;
}

/* ---- small endpoints ---------------------------------------------------- */

static enum MHD_Result handle_info(struct rc_http *http, struct MHD_Connection *conn)
{
    const struct rc_gpu_info *gi = rc_gpu_info(http->gpu);
    json_t *limits = json_object();
    for (size_t i = 0; i < rc_config_limits_count(); i++) {
        json_object_set_new(limits, rc_config_limit_name(i),
                            json_integer(rc_config_limit_value(config(http), i)));
    }
    json_t *body = json_pack(
        "{s:s, s:{s:s, s:s, s:b, s:s, s:s}, s:{s:s, s:s, s:s, s:s}, s:o, s:{s:I, s:I}}", "version",
        RC_VERSION, "renderer", "egl_platform", gi->platform, "egl_device", gi->device, "hardware",
        gi->hardware, "gl_renderer", rc_workers_gl_renderer(http->workers), "gl_version",
        rc_workers_gl_version(http->workers), "libraries", "libvpx", vpx_codec_version_str(),
        "gdal", rc_raster_library_version(), "libmicrohttpd", MHD_get_version(), "jansson",
        JANSSON_VERSION, "limits", limits, "workers", "count", (json_int_t)config(http)->workers,
        "queue", (json_int_t)config(http)->queue);
    json_t *ignored = json_array();
    for (const char *const *p = rc_query_ignored(); *p; p++) {
        json_array_append_new(ignored, json_string(*p));
    }
    json_object_set_new(body, "ignored_query_parameters", ignored);
    json_object_set_new(body, "gdal_cache_bytes",
                        json_integer((json_int_t)rc_raster_block_cache_bytes()));
    json_t *renderer = json_object_get(body, "renderer");
    json_object_set_new(renderer, "egl_displays", json_integer((json_int_t)rc_gpu_count(http->gpu)));
    json_object_set_new(renderer, "convert",
                        json_string(rc_workers_gpu_convert(http->workers, config(http)) ? "gpu"
                                                                                        : "cpu"));
    return send_json(http, conn, MHD_HTTP_OK, body, NULL);
}

static enum MHD_Result handle_colormaps(struct rc_http *http, struct MHD_Connection *conn)
{
    /* Each map with 8 evenly spaced colours, enough for a swatch. */
    json_t *list = json_array();
    for (size_t i = 0; i < rc_colormap_count(); i++) {
        struct rc_colormap map;
        if (rc_colormap_from_name(&map, rc_colormap_name(i), "", NULL) != RC_OK) {
            continue;
        }
        json_t *preview = json_array();
        for (unsigned k = 0; k < 8; k++) {
            const uint8_t *c = map.rgba[rc_colormap_index(&map, (k + 0.5) / 8.0)];
            char hex[8];
            snprintf(hex, sizeof(hex), "#%02x%02x%02x", c[0], c[1], c[2]);
            json_array_append_new(preview, json_string(hex));
        }
        json_array_append_new(list, json_pack("{s:s, s:i, s:o}", "name", rc_colormap_name(i),
                                              "entries", (int)map.entries, "preview", preview));
    }
    return send_json(
        http, conn, MHD_HTTP_OK,
        json_pack("{s:o, s:s}", "colormaps", list, "reversed", "append _r to any name"), NULL);
}

static enum MHD_Result handle_metrics(struct rc_http *http, struct MHD_Connection *conn)
{
    struct rc_workers_stats st;
    rc_workers_stats(http->workers, &st);
    struct rc_buf out;
    rc_buf_init(&out);
    rc_metrics_printf(&out, "# TYPE rasterclip_jobs_total counter\n");
    rc_metrics_printf(&out, "rasterclip_jobs_total{outcome=\"ok\"} %llu\n",
                      (unsigned long long)st.jobs_ok);
    rc_metrics_printf(&out, "rasterclip_jobs_total{outcome=\"failed\"} %llu\n",
                      (unsigned long long)st.jobs_failed);
    rc_metrics_printf(&out, "rasterclip_jobs_total{outcome=\"cancelled\"} %llu\n",
                      (unsigned long long)st.jobs_cancelled);
    rc_metrics_printf(&out, "rasterclip_jobs_total{outcome=\"rejected_busy\"} %llu\n",
                      (unsigned long long)atomic_load(&http->rejected_busy));
    rc_metrics_printf(&out, "# TYPE rasterclip_queue_depth gauge\nrasterclip_queue_depth %zu\n",
                      st.queued);
    rc_metrics_printf(&out, "# TYPE rasterclip_workers gauge\nrasterclip_workers %zu\n",
                      st.workers);
    rc_metrics_printf(&out, "# TYPE rasterclip_workers_busy gauge\nrasterclip_workers_busy %zu\n",
                      st.busy);
    rc_metrics_printf(&out,
                      "# TYPE rasterclip_frames_total counter\nrasterclip_frames_total %llu\n",
                      (unsigned long long)st.frames);
    rc_metrics_printf(&out, "# TYPE rasterclip_bytes_total counter\nrasterclip_bytes_total %llu\n",
                      (unsigned long long)st.bytes);
    rc_metrics_printf(&out, "# TYPE rasterclip_frames_converted_total counter\n");
    rc_metrics_printf(&out, "rasterclip_frames_converted_total{where=\"gpu\"} %llu\n",
                      (unsigned long long)st.converted_gpu);
    rc_metrics_printf(&out, "rasterclip_frames_converted_total{where=\"cpu\"} %llu\n",
                      (unsigned long long)st.converted_cpu);
    rc_metrics_printf(
        &out,
        "# TYPE rasterclip_http_requests_total counter\nrasterclip_http_requests_total %llu\n",
        (unsigned long long)atomic_load(&http->requests));
    rc_metrics_printf(&out, "# TYPE rasterclip_http_errors_total counter\n");
    rc_metrics_printf(&out, "rasterclip_http_errors_total{class=\"4xx\"} %llu\n",
                      (unsigned long long)atomic_load(&http->errors_4xx));
    rc_metrics_printf(&out, "rasterclip_http_errors_total{class=\"5xx\"} %llu\n",
                      (unsigned long long)atomic_load(&http->errors_5xx));
    if (http->cache) {
        struct rc_cache_stats cs;
        rc_cache_stats(http->cache, &cs);
        rc_metrics_printf(
            &out, "# TYPE rasterclip_cache_hits_total counter\nrasterclip_cache_hits_total %llu\n",
            (unsigned long long)cs.hits);
        rc_metrics_printf(
            &out,
            "# TYPE rasterclip_cache_misses_total counter\nrasterclip_cache_misses_total %llu\n",
            (unsigned long long)cs.misses);
        rc_metrics_printf(&out,
                          "# TYPE rasterclip_cache_evictions_total counter\n"
                          "rasterclip_cache_evictions_total %llu\n",
                          (unsigned long long)cs.evictions);
        rc_metrics_printf(&out, "# TYPE rasterclip_cache_bytes gauge\nrasterclip_cache_bytes %zu\n",
                          cs.bytes);
        rc_metrics_printf(&out,
                          "# TYPE rasterclip_cache_entries gauge\nrasterclip_cache_entries %zu\n",
                          cs.entries);
    }
    rc_metrics_printf(&out, "# TYPE rasterclip_ttfb_seconds histogram\n");
    rc_histogram_write(&http->ttfb, "rasterclip_ttfb_seconds", "", &out);
    rc_metrics_printf(&out, "# TYPE rasterclip_send_seconds histogram\n");
    rc_histogram_write(&http->send, "rasterclip_send_seconds", "", &out);
    rc_workers_write_metrics(http->workers, &out);
    char *text = malloc(out.len + 1);
    if (!text) {
        rc_buf_finish(&out);
        return MHD_NO;
    }
    memcpy(text, out.data, out.len);
    text[out.len] = '\0';
    rc_buf_finish(&out);
    return send_text(http, conn, MHD_HTTP_OK, text, "text/plain; version=0.0.4", NULL);
}

static enum MHD_Result handle_get(struct rc_http *http, struct MHD_Connection *conn,
                                  const char *url)
{
    if (strcmp(url, "/") == 0) {
        char *page = strdup(rc_shader_demo_html);
        return page ? send_text(http, conn, MHD_HTTP_OK, page, "text/html; charset=utf-8", NULL)
                    : MHD_NO;
    }
    if (strcmp(url, "/healthz") == 0) {
        return send_json(http, conn, MHD_HTTP_OK, json_pack("{s:s}", "status", "ok"), NULL);
    }
    if (strcmp(url, "/readyz") == 0) {
        struct rc_workers_stats st;
        rc_workers_stats(http->workers, &st);
        bool full = st.queued >= (size_t)(config(http)->queue > 0 ? config(http)->queue : 1);
        bool draining = atomic_load(&http->draining);
        unsigned status = draining || full ? MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_OK;
        return send_json(http, conn, status,
                         json_pack("{s:s, s:b, s:b}", "status",
                                   status == MHD_HTTP_OK ? "ready" : "not ready", "draining",
                                   draining, "queue_full", full),
                         NULL);
    }
    if (strcmp(url, "/v1/info") == 0) {
        return handle_info(http, conn);
    }
    if (strcmp(url, "/v1/colormaps") == 0) {
        return handle_colormaps(http, conn);
    }
    if (strcmp(url, "/metrics") == 0) {
        return handle_metrics(http, conn);
    }
    return send_error_code(http, conn, RC_ERR_NOT_FOUND, "", "no such endpoint");
}

enum rc_err rc_http_reload(struct rc_http *http, struct rc_error *err)
{
    return rc_access_reload(http->access, config(http)->token_file, err);
}

/* CORS preflight: what a dashboard on another origin may send. */
static enum MHD_Result send_preflight(struct rc_http *http, struct MHD_Connection *conn)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        return MHD_NO;
    }
    add_cors(http, conn, resp);
    MHD_add_response_header(resp, "Access-Control-Allow-Methods", "GET, HEAD, POST, OPTIONS");
    MHD_add_response_header(resp, "Access-Control-Allow-Headers", "Content-Type, Authorization");
    MHD_add_response_header(resp, "Access-Control-Max-Age", "600");
    enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_NO_CONTENT, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* ---- libmicrohttpd callbacks -------------------------------------------- */

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    struct rc_http *http = cls;
    struct request *req = *con_cls;
    if (!req) {
        req = calloc(1, sizeof(*req));
        if (!req) {
            return MHD_NO;
        }
        req->http = http;
        req->conn = conn;
        req->start_ms = rc_clock_ms();
        rc_buf_init(&req->body);
        pthread_mutex_init(&req->lock, NULL);
        *con_cls = req;
        atomic_fetch_add(&http->requests, 1);
        if (strcmp(method, MHD_HTTP_METHOD_OPTIONS) == 0) {
            return send_preflight(http, conn);
        }
        bool open_endpoint = !config(http)->auth_health &&
                             (strcmp(url, "/healthz") == 0 || strcmp(url, "/readyz") == 0 ||
                              strcmp(url, "/metrics") == 0);
        const char *auth =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
        if (!open_endpoint && !rc_access_allows(http->access, auth)) {
            return send_error_code(http, conn, RC_ERR_UNAUTHORIZED, "",
                                   "a valid bearer token is required");
        }
        if (strcmp(url, "/v1/render") == 0) {
            req->route = ROUTE_RENDER;
            req->head = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
            if (req->head || strcmp(method, MHD_HTTP_METHOD_GET) == 0) {
                req->route = ROUTE_RENDER_QUERY;
                return handle_render(req);
            }
            if (strcmp(method, MHD_HTTP_METHOD_POST) != 0) {
                return send_error_code(http, conn, RC_ERR_INVALID, "",
                                       "use POST with a JSON job, or GET with query parameters");
            }
            const char *length =
                MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
            uint64_t declared = 0;
            if (length && !rc_parse_u64(length, &declared)) {
                return send_error_code(http, conn, RC_ERR_INVALID, "Content-Length",
                                       "Content-Length must be a decimal byte count");
            }
            uint64_t limit = (uint64_t)config(http)->max_body_bytes;
            if (declared > limit) {
                req->too_large = true;
                /* A moderately large body is read and dropped so the client, still
                 * sending, gets the 413; a huge one is answered at once. */
                if (declared / BODY_DISCARD_FACTOR > limit) {
                    return send_error_code(http, conn, RC_ERR_TOO_LARGE, "",
                                           "the request body exceeds max_body_bytes");
                }
            }
            return MHD_YES; /* the body follows */
        }
        if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
            return send_error_code(http, conn, RC_ERR_INVALID, "", "method not allowed");
        }
        return handle_get(http, conn, url);
    }
    if (*upload_data_size > 0) {
        if (!req->too_large) {
            if (req->body.len + *upload_data_size > (size_t)config(http)->max_body_bytes) {
                req->too_large = true;
                rc_buf_finish(&req->body);
            } else if (rc_buf_append(&req->body, upload_data, *upload_data_size) != RC_OK) {
                return MHD_NO;
            }
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (req->route == ROUTE_RENDER || req->route == ROUTE_RENDER_QUERY) {
        return handle_render(req);
    }
    return MHD_NO;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    struct request *req = *con_cls;
    if (!req) {
        return;
    }
    if (req->job) {
        if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK) {
            atomic_store(&req->job->cancel, true);
            rc_bytequeue_abort(req->job->out);
        }
        rc_job_unref(req->job);
    }
    rc_buf_finish(&req->body);
    pthread_mutex_destroy(&req->lock);
    free(req);
    *con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t len = strlen(msg);
    while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == '\r')) {
        msg[--len] = '\0';
    }
    rc_log(RC_LOG_DEBUG, "msg=\"libmicrohttpd\" detail=\"%s\"", msg);
}

static enum rc_err parse_listen(const char *listen, struct sockaddr_storage *addr, socklen_t *len,
                                struct rc_error *err)
{
    char host[256];
    const char *colon = strrchr(listen, ':');
    if (!colon || colon == listen) {
        return rc_error_set(err, RC_ERR_INVALID, "listen", "must be ADDR:PORT");
    }
    size_t host_len = (size_t)(colon - listen);
    if (host_len >= sizeof(host)) {
        return rc_error_set(err, RC_ERR_INVALID, "listen", "address too long");
    }
    memcpy(host, listen, host_len);
    host[host_len] = '\0';
    char *end = NULL;
    long port = strtol(colon + 1, &end, 10);
    if (!end || *end != '\0' || end == colon + 1 || port < 0 || port > 65535) {
        return rc_error_set(err, RC_ERR_INVALID, "listen", "bad port");
    }
    memset(addr, 0, sizeof(*addr));
    if (host[0] == '[' && host_len > 2 && host[host_len - 1] == ']') {
        host[host_len - 1] = '\0';
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)addr;
        if (inet_pton(AF_INET6, host + 1, &a6->sin6_addr) != 1) {
            return rc_error_set(err, RC_ERR_INVALID, "listen", "bad IPv6 address");
        }
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        *len = sizeof(*a6);
        return RC_OK;
    }
    struct sockaddr_in *a4 = (struct sockaddr_in *)addr;
    if (strcmp(host, "localhost") == 0) {
        snprintf(host, sizeof(host), "127.0.0.1");
    }
    if (inet_pton(AF_INET, host, &a4->sin_addr) != 1) {
        return rc_error_set(err, RC_ERR_INVALID, "listen", "bad IPv4 address");
    }
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    *len = sizeof(*a4);
    return RC_OK;
}

enum rc_err rc_http_create(struct rc_config_source *cfgs, struct rc_workers *workers,
                           const struct rc_gpu *gpu, struct rc_cache *cache, struct rc_http **out,
                           struct rc_error *err)
{
    *out = NULL;
    const struct rc_config *cfg = rc_config_current(cfgs);
    struct sockaddr_storage addr;
    socklen_t addr_len = 0;
    enum rc_err rc = parse_listen(cfg->listen, &addr, &addr_len, err);
    if (rc != RC_OK) {
        return rc;
    }
    struct rc_http *http = calloc(1, sizeof(*http));
    if (!http) {
        return rc_error_set(err, RC_ERR_NOMEM, "", "out of memory");
    }
    http->cfgs = cfgs;
    http->workers = workers;
    http->gpu = gpu;
    http->cache = cache;
    rc_histogram_init(&http->ttfb, ttfb_bounds, TTFB_BUCKETS);
    rc_histogram_init(&http->send, send_bounds, sizeof(send_bounds) / sizeof(send_bounds[0]));
    rc = rc_access_create(cfg->token_file, &http->access, err);
    if (rc != RC_OK) {
        free(http);
        return rc;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG;
    if (addr.ss_family == AF_INET6) {
        flags |= MHD_USE_IPv6;
    }
    http->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, http, MHD_OPTION_SOCK_ADDR,
                                    (struct sockaddr *)&addr, MHD_OPTION_NOTIFY_COMPLETED,
                                    on_completed, http, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log,
                                    http, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
                                    MHD_OPTION_CONNECTION_LIMIT, (unsigned)512, MHD_OPTION_END);
    if (!http->daemon) {
        rc_access_destroy(http->access);
        free(http);
        return rc_error_set(err, RC_ERR_INTERNAL, "listen", "cannot listen on %s", cfg->listen);
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(http->daemon, MHD_DAEMON_INFO_BIND_PORT);
    unsigned port = info ? info->port : 0;
    char host[INET6_ADDRSTRLEN] = "";
    if (addr.ss_family == AF_INET6) {
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&addr)->sin6_addr, host, sizeof(host));
        snprintf(http->url, sizeof(http->url), "http://[%s]:%u", host, port);
    } else {
        inet_ntop(AF_INET, &((struct sockaddr_in *)&addr)->sin_addr, host, sizeof(host));
        snprintf(http->url, sizeof(http->url), "http://%s:%u", host, port);
    }
    *out = http;
    return RC_OK;
}

const char *rc_http_url(const struct rc_http *http)
{
    return http->url;
}

void rc_http_drain(struct rc_http *http)
{
    atomic_store(&http->draining, true);
}

size_t rc_http_active_streams(struct rc_http *http)
{
    return atomic_load(&http->streams);
}

void rc_http_destroy(struct rc_http *http)
{
    if (!http) {
        return;
    }
    MHD_stop_daemon(http->daemon);
    rc_access_destroy(http->access);
    free(http);
}
