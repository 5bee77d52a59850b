/* A finished clip sent like a static file (RFC 9110): a strong ETag, 304 for a
 * matching If-None-Match, byte ranges (206, multipart/byteranges for several,
 * 416 when none can be satisfied) and If-Range. */
#define _GNU_SOURCE /* pread with 64-bit offsets */

#include "http/internal.h"
#include "http/ranges.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void add_file_headers(struct MHD_Response *resp, const struct rc_job *job)
{
    if (job->etag[0]) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, job->etag);
        /* Kept, and asked again with If-None-Match: the same job gives the same bytes. */
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
    MHD_add_response_header(resp, "X-Rasterclip-Cache",
                            atomic_load(&job->progress->cached) ? "hit" : "miss");
}

/* Several ranges: one multipart/byteranges body read from the file. */
static struct MHD_Response *multipart(int fd, uint64_t size, const struct rc_range *ranges,
                                      size_t count, const char *type, char *content_type,
                                      size_t content_type_size)
{
    static const char boundary[] = "rasterclip-byteranges-7d1e";
    struct rc_buf body;
    rc_buf_init(&body);
    bool ok = true;
    for (size_t i = 0; ok && i < count; i++) {
        char head[256];
        int n =
            snprintf(head, sizeof(head),
                     "\r\n--%s\r\nContent-Type: %s\r\nContent-Range: bytes %llu-%llu/%llu\r\n\r\n",
                     boundary, type, (unsigned long long)ranges[i].first,
                     (unsigned long long)ranges[i].last, (unsigned long long)size);
        size_t len = (size_t)(ranges[i].last - ranges[i].first + 1);
        uint8_t *part = malloc(len ? len : 1);
        ok = part && rc_buf_append(&body, head, (size_t)n) == RC_OK &&
             pread(fd, part, len, (off_t)ranges[i].first) == (ssize_t)len &&
             rc_buf_append(&body, part, len) == RC_OK;
        free(part);
    }
    char tail[64];
    int n = snprintf(tail, sizeof(tail), "\r\n--%s--\r\n", boundary);
    ok = ok && rc_buf_append(&body, tail, (size_t)n) == RC_OK;
    struct MHD_Response *resp =
        ok ? MHD_create_response_from_buffer_with_free_callback(body.len, body.data, free) : NULL;
    if (!resp) {
        rc_buf_finish(&body);
        return NULL;
    }
    snprintf(content_type, content_type_size, "multipart/byteranges; boundary=%s", boundary);
    return resp;
}

enum MHD_Result rc_http_send_clip_file(struct request *req)
{
    struct rc_http *http = req->http;
    struct MHD_Connection *conn = req->conn;
    struct rc_job *job = req->job;
    int fd = job->clip_fd;
    job->clip_fd = -1; /* ours now: the response closes it, or we do */
    uint64_t size = job->clip_size;
    const char *type = rc_job_content_type(&job->spec);
    const char *inm = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "If-None-Match");
    if (inm && job->etag[0] && rc_http_etag_listed(inm, job->etag)) {
        close(fd);
        struct MHD_Response *resp =
            MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
        if (resp) {
            add_file_headers(resp, job);
        }
        return rc_http_queue(http, conn, MHD_HTTP_NOT_MODIFIED, resp, NULL, job->id, 0, NULL);
    }
    const char *range = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Range");
    const char *if_range = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "If-Range");
    if (range && if_range && !(job->etag[0] && strcmp(if_range, job->etag) == 0)) {
        range = NULL; /* the client holds another version: the whole file */
    }
    struct rc_range ranges[RC_HTTP_MAX_RANGES];
    size_t count = 0;
    enum rc_range_answer answer =
        range ? rc_http_parse_ranges(range, size, ranges, &count) : RC_RANGES_IGNORE;
    struct MHD_Response *resp = NULL;
    unsigned status = MHD_HTTP_OK;
    char content_type[128];
    snprintf(content_type, sizeof(content_type), "%s", type);
    char content_range[96];
    if (answer == RC_RANGES_UNSATISFIABLE) {
        close(fd);
        snprintf(content_range, sizeof(content_range), "bytes */%llu", (unsigned long long)size);
        struct rc_error err;
        rc_error_set(&err, RC_ERR_INVALID, "Range", "no range within the clip's %llu bytes",
                     (unsigned long long)size);
        size_t len = 0;
        resp = rc_http_error_response(http, &err, MHD_HTTP_RANGE_NOT_SATISFIABLE, &len);
        if (resp) {
            MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, content_range);
            add_file_headers(resp, job);
        }
        char reason[RC_REASON_BYTES];
        rc_http_error_reason(&err, reason, sizeof(reason));
        return rc_http_queue(http, conn, MHD_HTTP_RANGE_NOT_SATISFIABLE, resp, "application/json",
                             job->id, len, reason);
    }
    if (answer == RC_RANGES_OK && count == 1) {
        status = MHD_HTTP_PARTIAL_CONTENT;
        snprintf(content_range, sizeof(content_range), "bytes %llu-%llu/%llu",
                 (unsigned long long)ranges[0].first, (unsigned long long)ranges[0].last,
                 (unsigned long long)size);
        resp = MHD_create_response_from_fd_at_offset64(ranges[0].last - ranges[0].first + 1, fd,
                                                       ranges[0].first);
        if (resp) {
            MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, content_range);
        }
    } else if (answer == RC_RANGES_OK) {
        status = MHD_HTTP_PARTIAL_CONTENT;
        resp = multipart(fd, size, ranges, count, type, content_type, sizeof(content_type));
        close(fd);
    } else {
        resp = MHD_create_response_from_fd_at_offset64(size, fd, 0);
    }
    if (!resp) {
        if (answer != RC_RANGES_OK || count == 1) {
            close(fd);
        }
        return rc_http_send_error_code(http, conn, RC_ERR_NOMEM, "", "out of memory");
    }
    add_file_headers(resp, job);
    /* The clip's bytes this answer carries (a HEAD's none). */
    uint64_t body = size;
    if (answer == RC_RANGES_OK) {
        body = 0;
        for (size_t i = 0; i < count; i++) {
            body += ranges[i].last - ranges[i].first + 1;
        }
    }
    body = req->head ? 0 : body;
    atomic_store(&job->progress->bytes_sent, body);
    rc_http_add_bounds(resp, &job->bounds);
    if (status == MHD_HTTP_OK) {
        return rc_http_queue_clip(http, conn, resp, content_type, job->id, job->frames,
                                  req->ignored, body);
    }
    return rc_http_queue(http, conn, status, resp, content_type, job->id, body, NULL);
}
