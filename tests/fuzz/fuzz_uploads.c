/* Fuzz target: a multipart upload as the daemon takes it. The input's first line
 * is the boundary, the rest the body of a POST with Content-Type
 * multipart/form-data; it is sent over a socket pair to a real libmicrohttpd
 * daemon (started once), whose post processor hands the parts to the daemon's own
 * reader (http/body.c) under small limits; then, as the render route and the
 * reader process would, the job part is parsed with its uploads and the raster part
 * decoded from memory (an .npy, or any file GDAL reads; rc_raster_decode(), here
 * in process). Invariants: no part outgrows its
 * limit, a body past a limit keeps nothing, and every exchange ends with an
 * answer. */
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz_config.h"
#include "http/body.h"
#include "job/job.h"
#include "raster/decode.h"
#include "raster/raster.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { JOB_LIMIT = 2048, UPLOAD_LIMIT = 32768, POST_BUFFER = 1024 };

static struct MHD_Daemon *daemon_;
static struct MHD_Response *empty;

static void check_limits(const struct rc_body *b)
{
    size_t uploads = 0;
    for (int i = PART_RASTER; i < PART_COUNT; i++) {
        uploads += b->parts[i].len; /* the raster, heights and vector layers together */
    }
    if (b->parts[PART_JOB].len > JOB_LIMIT || uploads > UPLOAD_LIMIT) {
        __builtin_trap();
    }
    if (b->too_large && (b->parts[PART_JOB].len || uploads)) {
        __builtin_trap(); /* past a limit nothing is kept */
    }
}

/* What the render route and a worker do with complete parts. */
static void use_parts(const struct rc_body *b)
{
    const struct rc_config *cfg = fuzz_config();
    const struct rc_buf *job = &b->parts[PART_JOB];
    const struct rc_buf *raster = &b->parts[PART_RASTER];
    if (b->too_large || b->malformed || b->unknown_part[0] || !job->len) {
        return;
    }
    struct rc_job_spec spec;
    struct rc_error err;
    if (rc_job_spec_parse_uploads(&spec, cfg, (const char *)job->data, job->len, raster->len > 0,
                                  b->parts[PART_HEIGHTS].len > 0, &err) != RC_OK) {
        return;
    }
    rc_job_spec_finish(&spec);
    if (!raster->len) {
        return;
    }
    /* Decoded here, as the daemon's reader process decodes it (raster/reader.h). */
    struct rc_decode_request req = {
        .data = raster->data,
        .data_len = raster->len,
        .max_dim = 64,
        .field = "raster",
        .bands_field = "raster.bands",
        .read_pixels_left = (uint64_t)cfg->max_read_pixels,
    };
    struct rc_raster *r = NULL;
    int values = -1;
    uint64_t read_pixels = 0;
    if (rc_raster_decode(cfg, &req, &r, &values, &read_pixels, &err) == RC_OK) {
        if (r->band_count == 0 || r->width == 0 || r->height == 0 || r->width > 64 ||
            r->height > 64 || values < 0) {
            __builtin_trap();
        }
        rc_raster_unref(r);
        close(values);
    }
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **con_cls)
{
    (void)cls;
    (void)url;
    (void)method;
    (void)version;
    struct rc_body *b = *con_cls;
    if (!b) {
        b = malloc(sizeof(*b));
        if (!b) {
            return MHD_NO;
        }
        rc_body_init(b, JOB_LIMIT, UPLOAD_LIMIT);
        *con_cls = b;
        return rc_body_start_multipart(b, conn, POST_BUFFER)
                   ? MHD_YES
                   : MHD_queue_response(conn, MHD_HTTP_BAD_REQUEST, empty);
    }
    if (*upload_data_size) {
        enum MHD_Result ret = rc_body_take(b, upload_data, *upload_data_size);
        *upload_data_size = 0;
        check_limits(b);
        return ret;
    }
    rc_body_end(b);
    check_limits(b);
    if (b->malformed && (b->parts[PART_JOB].len || b->parts[PART_RASTER].len)) {
        __builtin_trap(); /* a malformed body keeps nothing */
    }
    use_parts(b);
    return MHD_queue_response(conn, MHD_HTTP_OK, empty);
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    (void)toe;
    struct rc_body *b = *con_cls;
    if (b) {
        rc_body_finish(b);
        free(b);
        *con_cls = NULL;
    }
}

static void stop(void)
{
    MHD_stop_daemon(daemon_);
    MHD_destroy_response(empty);
}

static void start(void)
{
    const struct rc_config *cfg = fuzz_config();
    if (!cfg) {
        __builtin_trap();
    }
    rc_raster_decode_init(cfg->gdal_cache_mb);
    empty = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    daemon_ = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_NO_LISTEN_SOCKET |
                                   MHD_USE_ITC | MHD_USE_AUTO,
                               0, NULL, NULL, handle, NULL, MHD_OPTION_NOTIFY_COMPLETED, completed,
                               NULL, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_END);
    if (!empty || !daemon_) {
        __builtin_trap();
    }
    atexit(stop);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, start);
    const uint8_t *nl = memchr(data, '\n', size < 80 ? size : 80);
    if (!nl) {
        return 0;
    }
    size_t boundary = (size_t)(nl - data);
    const uint8_t *body = nl + 1;
    size_t body_len = size - boundary - 1;
    char head[512];
    int n = snprintf(head, sizeof(head),
                     "POST /v1/render HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                     "Content-Type: multipart/form-data; boundary=%.*s\r\n"
                     "Content-Length: %zu\r\n\r\n",
                     (int)boundary, (const char *)data, body_len);
    if (n <= 0 || (size_t)n >= sizeof(head) || memchr(data, '\r', boundary) ||
        memchr(data, '\0', boundary)) {
        return 0;
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        __builtin_trap();
    }
    struct sockaddr_in peer = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (MHD_add_connection(daemon_, sv[0], (const struct sockaddr *)&peer, sizeof(peer)) !=
        MHD_YES) {
        __builtin_trap();
    }
    /* The daemon reads as this writes; an early answer ends the writing. */
    bool ok = send(sv[1], head, (size_t)n, MSG_NOSIGNAL) == n;
    for (size_t off = 0; ok && off < body_len;) {
        ssize_t w = send(sv[1], body + off, body_len - off, MSG_NOSIGNAL);
        ok = w > 0;
        off += ok ? (size_t)w : 0;
    }
    char answer[4096];
    size_t got = 0;
    for (;;) {
        ssize_t r = recv(sv[1], answer + (got < 64 ? got : 64), sizeof(answer) - 64, 0);
        if (r <= 0) {
            break;
        }
        got += (size_t)r;
    }
    close(sv[1]);
    if (got < 12 || memcmp(answer, "HTTP/1.1 ", 9) != 0) {
        __builtin_trap(); /* every exchange ends with an answer */
    }
    return 0;
}
