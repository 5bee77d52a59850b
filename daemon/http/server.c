#include "http/internal.h"

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
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/colormap.h"
#include "base/log.h"
#include "base/metrics.h"
#include "base/notify.h"
#include "base/parse.h"
#include "http/access.h"
#include "http/query.h"
#include "job/job.h"

/* Time-to-first-byte histogram bounds in seconds (Prometheus `le` labels). */
static const double ttfb_bounds[] = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
enum { TTFB_BUCKETS = sizeof(ttfb_bounds) / sizeof(ttfb_bounds[0]) };
static const double send_bounds[] = {0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300};

/* Bodies up to this many times max_body_bytes are drained before the 413. */
enum { BODY_DISCARD_FACTOR = 16 };

enum rc_err rc_http_reload(struct rc_http *http, struct rc_error *err)
{
    enum rc_err rc = rc_access_reload(http->access, rc_http_config(http)->token_file, err);
    return rc ? rc
              : rc_access_set_signing_key(http->access, rc_http_config(http)->url_signing_key_file,
                                          err);
}

/* ---- request bodies ------------------------------------------------------ */

static uint64_t upload_limit(const struct rc_http *http)
{
    return (uint64_t)rc_http_config(http)->max_upload_mb << 20;
}

/* Takes `bytes` of the memory all uploads in flight share; false when they do not fit. */
static bool take_upload_bytes(struct rc_http *http, uint64_t bytes)
{
    uint64_t budget = (uint64_t)rc_http_config(http)->max_uploads_mb << 20;
    uint64_t held = atomic_load(&http->uploads_bytes);
    do {
        if (held > budget || bytes > budget - held) {
            return false;
        }
    } while (!atomic_compare_exchange_weak(&http->uploads_bytes, &held, held + bytes));
    return true;
}

/* A render's admission, on its headers, before a byte of its body is read (so a
 * client that sent `Expect: 100-continue` never sends it): a place among the
 * workers and the queue (429; with a clip cache a JSON job is read first, as it may
 * be a cached clip that needs no place), then, for a body with an upload, its bytes
 * (all it declared, or the most it may send) of max_uploads_mb (503). Both are held
 * until the request completes; the place passes to the job when it is queued. */
static enum MHD_Result admit(struct request *req, uint64_t body_bytes)
{
    struct rc_http *http = req->http;
    if (atomic_load(&http->draining)) {
        return rc_http_send_error_code(http, req->conn, RC_ERR_DRAINING, "",
                                       "the server is shutting down");
    }
    if (!rc_workers_reserve(http->workers)) {
        if (req->in.kind == BODY_JSON && http->clips) {
            /* The job may be a cached clip, answered without a worker: its body
             * (at most max_body_bytes) is read first, and it is queued, or 429,
             * only when it is not. */
            return MHD_YES;
        }
        atomic_fetch_add(&http->rejected_busy, 1);
        return rc_http_send_error_code(http, req->conn, RC_ERR_BUSY, "",
                                       "all workers are busy and the queue is full");
    }
    req->reserved = true;
    if (req->in.kind == BODY_JSON) {
        return MHD_YES;
    }
    if (!take_upload_bytes(http, body_bytes)) {
        atomic_fetch_add(&http->rejected_uploads, 1);
        return rc_http_send_error_code(http, req->conn, RC_ERR_NOMEM, "",
                                       "uploads in flight fill max_uploads_mb; try again soon");
    }
    req->upload_bytes = body_bytes;
    /* A raster body of a declared length is read into one buffer of that size:
     * no growth, no copies, no freed halves left behind. */
    if (req->in.kind == BODY_RASTER && req->declared &&
        rc_buf_reserve(&req->in.data, (size_t)body_bytes) != RC_OK) {
        return rc_http_send_error_code(http, req->conn, RC_ERR_NOMEM, "",
                                       "no memory for the upload; try again soon");
    }
    return MHD_YES;
}

/* The start of a POST /v1/render: what the body is, and whether it may come. */
enum MHD_Result rc_http_start_body(struct request *req)
{
    struct rc_http *http = req->http;
    struct MHD_Connection *conn = req->conn;
    const char *length =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    uint64_t declared = 0;
    if (length && !rc_parse_u64(length, &declared)) {
        return rc_http_send_error_code(http, conn, RC_ERR_INVALID, "Content-Length",
                                       "Content-Length must be a decimal byte count");
    }
    const char *type =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    char media[64] = "";
    if (type) {
        size_t n = strcspn(type, "; \t");
        snprintf(media, sizeof(media), "%.*s", (int)(n < sizeof(media) ? n : sizeof(media) - 1),
                 type);
    }
    static const char *const raster_types[] = {"image/tiff",           "image/geotiff",
                                               "application/x-npy",    "application/octet-stream",
                                               "application/x-netcdf", NULL};
    uint64_t limit = (uint64_t)rc_http_config(http)->max_body_bytes;
    const char *what = "the request body exceeds max_body_bytes";
    if (!type) {
        /* A cross-site form cannot send application/json: no type, no render. */
        return rc_http_send_error_code(http, conn, RC_ERR_UNSUPPORTED, "Content-Type",
                                       "say what the body is: application/json for a job");
    }
    if (strcasecmp(media, "application/json") == 0) {
        req->in.kind = BODY_JSON;
    } else if (strcasecmp(media, "multipart/form-data") == 0) {
        if (!rc_body_start_multipart(&req->in, conn, 64 * 1024)) {
            return rc_http_send_error_code(http, conn, RC_ERR_INVALID, "Content-Type",
                                           "multipart/form-data needs a boundary");
        }
        limit += upload_limit(http);
        what = "the upload exceeds max_upload_mb";
    } else {
        bool raster = false;
        for (size_t i = 0; raster_types[i]; i++) {
            raster = raster || strcasecmp(media, raster_types[i]) == 0;
        }
        if (!raster) {
            return rc_http_send_error_code(
                http, conn, RC_ERR_UNSUPPORTED, "Content-Type",
                "POST a JSON job (application/json), multipart/form-data with parts job, raster "
                "and heights, or a raster (image/tiff, application/x-npy) with the job in the "
                "query string");
        }
        req->in.kind = BODY_RASTER;
        limit = upload_limit(http);
        what = "the upload exceeds max_upload_mb";
    }
    if (declared > limit) {
        rc_body_too_large(&req->in, what);
        /* A moderately large job is read and dropped so the client, still sending,
         * gets the 413; a huge one, or any upload, is answered at once. */
        if (declared / BODY_DISCARD_FACTOR > limit || req->in.kind != BODY_JSON) {
            return rc_http_send_error_code(http, conn, RC_ERR_TOO_LARGE, "", what);
        }
        return MHD_YES; /* read and dropped */
    }
    req->declared = declared != 0;
    return admit(req, declared ? declared : limit);
}

/* Each connection's memory for its request line, headers and parsed query: room
 * for a query of hundreds of parameters, so that the answer to too many is this
 * daemon's 413 (libmicrohttpd's own 32 KiB ran out first and answered nothing). */
enum { CONNECTION_MEMORY = 128 * 1024 };

/* Descriptors kept for everything but connections: the listening socket, the
 * readers' sockets and memory files, the GL driver, clip cache files, logs. */
enum { RESERVED_FDS = 256, MAX_CONNECTIONS = 65536, MIN_CONNECTIONS = 64, LISTEN_BACKLOG = 4096 };

/* The connection table: as many as the descriptor limit allows (main raises its
 * soft limit to the hard one), less the reserve. */
static size_t connection_capacity(void)
{
    struct rlimit lim;
    size_t n = 1024;
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0) {
        n = lim.rlim_cur == RLIM_INFINITY ? MAX_CONNECTIONS + RESERVED_FDS : (size_t)lim.rlim_cur;
    }
    n = n > RESERVED_FDS + MIN_CONNECTIONS ? n - RESERVED_FDS : MIN_CONNECTIONS;
    return n > MAX_CONNECTIONS ? MAX_CONNECTIONS : n;
}

/* ---- libmicrohttpd callbacks -------------------------------------------- */

static enum MHD_Result count_length(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
    (void)kind;
    (void)value;
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
        (*(unsigned *)cls)++;
    }
    return MHD_YES;
}

/* %-decoding of the path and query: a decoded NUL would cut the value short where
 * C strings end, so it becomes DEL, a control character the query parser refuses
 * by name. */
static size_t unescape(void *cls, struct MHD_Connection *conn, char *s)
{
    (void)cls;
    (void)conn;
    size_t len = MHD_http_unescape(s);
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\0') {
            s[i] = 0x7f;
        }
    }
    return len;
}

struct signed_params {
    struct rc_urlsign_param params[MAX_URI_PARAMS];
    size_t count;
};

static enum MHD_Result collect_param(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    (void)kind;
    struct signed_params *p = cls;
    if (p->count == MAX_URI_PARAMS) {
        return MHD_NO;
    }
    p->params[p->count++] = (struct rc_urlsign_param){key, value};
    return MHD_YES;
}

enum rc_signed rc_http_check_signed(struct rc_http *http, struct MHD_Connection *conn,
                                    const char *url, struct rc_error *err)
{
    if (!MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "sig")) {
        return RC_SIGNED_NO; /* unsigned: nothing to collect */
    }
    struct signed_params *p = malloc(sizeof(*p));
    if (!p) {
        rc_error_set(err, RC_ERR_NOMEM, "", "out of memory");
        return RC_SIGNED_REFUSED;
    }
    p->count = 0;
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_param, p);
    enum rc_signed verdict = rc_access_check_signed(http->access, url, p->params, p->count, err);
    free(p);
    return verdict;
}

static enum MHD_Result handle_request(struct rc_http *http, struct MHD_Connection *conn,
                                      const char *url, const char *method, const char *upload_data,
                                      size_t *upload_data_size, void **con_cls)
{
    struct request *req = *con_cls;
    if (!req) {
        req = calloc(1, sizeof(*req));
        if (!req) {
            return MHD_NO;
        }
        req->http = http;
        req->conn = conn;
        req->start_ms = rc_clock_ms();
        req->method = rc_http_method_of(method);
        req->route_name = rc_http_route_of(url);
        snprintf(req->path, sizeof(req->path), "%s", url);
        const struct rc_config *cfg = rc_http_config(http);
        rc_body_init(&req->in, (size_t)cfg->max_body_bytes, upload_limit(http));
        pthread_mutex_init(&req->lock, NULL);
        *con_cls = req;
        if (strcmp(method, MHD_HTTP_METHOD_OPTIONS) == 0) {
            return rc_http_send_preflight(http, conn);
        }
        unsigned lengths = 0;
        MHD_get_connection_values(conn, MHD_HEADER_KIND, count_length, &lengths);
        if (lengths > 1) {
            /* Which one a proxy in front believed is unknowable: request smuggling. */
            return rc_http_send_error_code(http, conn, RC_ERR_INVALID, "Content-Length",
                                           "Content-Length given more than once");
        }
        return rc_http_route(req, url, method);
    }
    if (*upload_data_size > 0) {
        enum MHD_Result ret = rc_body_take(&req->in, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return ret;
    }
    if (req->route == ROUTE_RENDER || req->route == ROUTE_RENDER_QUERY) {
        rc_body_end(&req->in);
        return rc_http_handle_render(req);
    }
    return MHD_NO;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    struct rc_http *http = cls;
    if (!rc_guard_enter(http->guard, conn)) {
        return MHD_NO; /* answered 408 or 414 by the guard */
    }
    bool first = *con_cls == NULL;
    size_t chunk = *upload_data_size;
    enum MHD_Result ret =
        handle_request(http, conn, url, method, upload_data, upload_data_size, con_cls);
    const struct request *req = *con_cls;
    rc_guard_leave(http->guard, conn, req && req->route == ROUTE_RENDER && (first || chunk > 0),
                   chunk);
    return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct rc_http *http = cls;
    struct request *req = *con_cls;
    struct rc_http_done done = {.completed = toe == MHD_REQUEST_TERMINATED_COMPLETED_OK};
    rc_guard_request_done(http->guard, conn, &done.answer);
    if (!req) {
        return;
    }
    done.method = req->method;
    done.route = req->route_name;
    done.path = req->path;
    done.duration_ms = rc_clock_ms() - req->start_ms;
    done.bytes = done.answer.bytes;
    if (done.bytes == UINT64_MAX) {
        done.bytes = req->job ? atomic_load(&req->job->progress->bytes_sent) : 0;
    }
    rc_http_request_done(http, conn, &done);
    if (req->job) {
        if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK) {
            atomic_store(&req->job->cancel, true);
            rc_bytequeue_abort(req->job->out);
        }
        rc_jobs_close(req->http->jobs, req->job);
        rc_job_unref(req->job);
    }
    rc_body_finish(&req->in);
    if (req->reserved) {
        rc_workers_release(http->workers); /* admitted, never queued */
    }
    atomic_fetch_sub(&http->uploads_bytes, req->upload_bytes);
    pthread_mutex_destroy(&req->lock);
    free(req);
    *con_cls = NULL;
}

/* libmicrohttpd's messages: its own format strings. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

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

enum rc_err rc_http_create(struct rc_config_source *cfgs, struct rc_workers *workers,
                           struct rc_cache *cache, struct rc_clipcache *clips, struct rc_http **out,
                           struct rc_error *err)
{
    *out = NULL;
    const struct rc_config *cfg = rc_config_current(cfgs);
    struct rc_listen where_to;
    enum rc_err rc = rc_listen_open(cfg->listen, &where_to, err);
    if (rc != RC_OK) {
        return rc;
    }
    struct rc_http *http = calloc(1, sizeof(*http));
    if (!http) {
        rc_listen_close(&where_to, false);
        return rc_error_set(err, RC_ERR_NOMEM, "", "out of memory");
    }
    http->listen = where_to;
    http->cfgs = cfgs;
    http->workers = workers;
    http->cache = cache;
    http->clips = clips;
    http->jobs = rc_jobs_create();
    if (!http->jobs) {
        rc_listen_close(&http->listen, false);
        free(http);
        return rc_error_set(err, RC_ERR_NOMEM, "", "out of memory");
    }
    rc_histogram_init(&http->ttfb, ttfb_bounds, TTFB_BUCKETS);
    rc_histogram_init(&http->send, send_bounds, sizeof(send_bounds) / sizeof(send_bounds[0]));
    rc = rc_access_create(cfg->token_file, &http->access, err);
    if (rc == RC_OK) {
        rc = rc_access_set_signing_key(http->access, cfg->url_signing_key_file, err);
        if (rc != RC_OK) {
            rc_access_destroy(http->access);
        }
    }
    if (rc != RC_OK) {
        rc_jobs_destroy(http->jobs);
        rc_listen_close(&http->listen, false);
        free(http);
        return rc;
    }
    size_t capacity = connection_capacity();
    http->guard = rc_guard_create(cfgs, capacity);
    if (!http->guard) {
        rc_access_destroy(http->access);
        rc_jobs_destroy(http->jobs);
        rc_listen_close(&http->listen, false);
        free(http);
        return rc_error_set(err, RC_ERR_NOMEM, "", "cannot start the connection guard");
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG;
    int listen_fd = http->listen.fd;
    if (http->listen.addr.ss_family == AF_INET6) {
        flags |= MHD_USE_IPv6;
    }
    struct MHD_OptionItem where[] = {
        listen_fd >= 0 ? (struct MHD_OptionItem){MHD_OPTION_LISTEN_SOCKET, listen_fd, NULL}
                       : (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, &http->listen.addr},
        {MHD_OPTION_END, 0, NULL},
    };
    http->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, http, MHD_OPTION_ARRAY, where, MHD_OPTION_EXTERNAL_LOGGER,
        on_mhd_log, http, MHD_OPTION_NOTIFY_COMPLETED, on_completed, http,
        MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL, MHD_OPTION_NOTIFY_CONNECTION,
        rc_guard_on_connection, http->guard, MHD_OPTION_URI_LOG_CALLBACK, rc_guard_on_uri,
        http->guard, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)IDLE_SECONDS,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)capacity, MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)LISTEN_BACKLOG,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)cfg->max_connections_per_address,
        MHD_OPTION_END);
    if (!http->daemon) {
        rc_guard_destroy(http->guard);
        rc_access_destroy(http->access);
        rc_jobs_destroy(http->jobs);
        bool activated = http->listen.activated;
        rc_listen_close(&http->listen, false);
        free(http);
        return activated ? rc_error_set(err, RC_ERR_INTERNAL, "listen",
                                        "cannot serve the activated socket")
                         : rc_error_set(err, RC_ERR_INTERNAL, "listen", "cannot listen on %s",
                                        cfg->listen);
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(http->daemon, MHD_DAEMON_INFO_BIND_PORT);
    rc_listen_url(&http->listen, info ? info->port : 0, http->url, sizeof(http->url));
    *out = http;
    return RC_OK;
}

const char *rc_http_url(const struct rc_http *http)
{
    return http->url;
}

bool rc_http_socket_activated(const struct rc_http *http)
{
    return http->listen.activated;
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
    rc_guard_stop(http->guard);
    MHD_stop_daemon(http->daemon);
    rc_listen_close(&http->listen, true);
    rc_guard_destroy(http->guard);
    rc_access_destroy(http->access);
    rc_jobs_destroy(http->jobs);
    free(http);
}
