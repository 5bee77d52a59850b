/* A finished clip sent like a static file (RFC 9110): a strong ETag, 304 for a
 * matching If-None-Match, byte ranges (206, multipart/byteranges for several,
 * 416 when none can be satisfied) and If-Range. */
#define _GNU_SOURCE /* pread with 64-bit offsets */

#include "http/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct range {
    uint64_t first, last; /* inclusive */
};

/* More ranges than this, or ranges that add up to more than the file, are not
 * worth the work: the whole file is sent instead (RFC 9110 lets a server ignore
 * Range). */
enum { MAX_RANGES = 16 };

enum range_answer {
    RANGES_IGNORE,        /* send the whole file */
    RANGES_OK,            /* `count` satisfiable ranges */
    RANGES_UNSATISFIABLE, /* 416 */
};

static bool parse_uint(const char **p, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    if (*s < '0' || *s > '9') {
        return false;
    }
    while (*s >= '0' && *s <= '9') {
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10) {
            return false;
        }
        v = v * 10 + d;
        s++;
    }
    *p = s;
    *out = v;
    return true;
}

static void skip_space(const char **p)
{
    while (**p == ' ' || **p == '\t') {
        (*p)++;
    }
}

/* "bytes=0-499, 1000-, -200" over a file of `size` bytes. */
static enum range_answer parse_ranges(const char *header, uint64_t size, struct range *out,
                                      size_t *count)
{
    *count = 0;
    if (strncasecmp(header, "bytes=", 6) != 0) {
        return RANGES_IGNORE; /* another unit, or not a range at all */
    }
    const char *p = header + 6;
    uint64_t total = 0;
    size_t seen = 0;
    for (;;) {
        skip_space(&p);
        struct range r;
        uint64_t a, b;
        bool satisfiable;
        if (*p == '-') { /* the last b bytes */
            p++;
            if (!parse_uint(&p, &b)) {
                return RANGES_IGNORE;
            }
            satisfiable = b > 0 && size > 0;
            r.first = b >= size ? 0 : size - b;
            r.last = size ? size - 1 : 0;
        } else {
            if (!parse_uint(&p, &a) || *p++ != '-') {
                return RANGES_IGNORE;
            }
            bool open = !(*p >= '0' && *p <= '9');
            if (!open && !parse_uint(&p, &b)) {
                return RANGES_IGNORE;
            }
            if (!open && b < a) {
                return RANGES_IGNORE; /* invalid: the whole field is ignored */
            }
            satisfiable = a < size;
            r.first = a;
            r.last = open || b >= size ? (size ? size - 1 : 0) : b;
        }
        if (++seen > MAX_RANGES) {
            return RANGES_IGNORE;
        }
        if (satisfiable) {
            out[(*count)++] = r;
            total += r.last - r.first + 1;
        }
        skip_space(&p);
        if (*p == '\0') {
            break;
        }
        if (*p++ != ',') {
            return RANGES_IGNORE;
        }
    }
    if (*count == 0) {
        return RANGES_UNSATISFIABLE;
    }
    return total > size ? RANGES_IGNORE : RANGES_OK;
}

/* If-None-Match: "*" or a list of entity tags, compared weakly (W/ ignored). */
static bool none_match(const char *header, const char *etag)
{
    const char *p = header;
    size_t len = strlen(etag);
    for (;;) {
        skip_space(&p);
        if (*p == '*') {
            return true;
        }
        if (strncmp(p, "W/", 2) == 0) {
            p += 2;
        }
        if (strncmp(p, etag, len) == 0 && (p[len] == '\0' || p[len] == ',' || p[len] == ' ')) {
            return true;
        }
        p = strchr(p, ',');
        if (!p) {
            return false;
        }
        p++;
    }
}

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
static struct MHD_Response *multipart(int fd, uint64_t size, const struct range *ranges,
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
    const char *type = rc_format_content_type(job->spec.format);
    const char *inm = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "If-None-Match");
    if (inm && job->etag[0] && none_match(inm, job->etag)) {
        close(fd);
        struct MHD_Response *resp =
            MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
        if (resp) {
            add_file_headers(resp, job);
        }
        return rc_http_queue(http, conn, MHD_HTTP_NOT_MODIFIED, resp, NULL, job->id);
    }
    const char *range = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Range");
    const char *if_range = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "If-Range");
    if (range && if_range && !(job->etag[0] && strcmp(if_range, job->etag) == 0)) {
        range = NULL; /* the client holds another version: the whole file */
    }
    struct range ranges[MAX_RANGES];
    size_t count = 0;
    enum range_answer answer = range ? parse_ranges(range, size, ranges, &count) : RANGES_IGNORE;
    struct MHD_Response *resp = NULL;
    unsigned status = MHD_HTTP_OK;
    char content_type[128];
    snprintf(content_type, sizeof(content_type), "%s", type);
    char content_range[96];
    if (answer == RANGES_UNSATISFIABLE) {
        close(fd);
        snprintf(content_range, sizeof(content_range), "bytes */%llu", (unsigned long long)size);
        struct rc_error err;
        rc_error_set(&err, RC_ERR_INVALID, "Range", "no range within the clip's %llu bytes",
                     (unsigned long long)size);
        resp = rc_http_error_response(http, &err, MHD_HTTP_RANGE_NOT_SATISFIABLE);
        if (resp) {
            MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, content_range);
            add_file_headers(resp, job);
        }
        return rc_http_queue(http, conn, MHD_HTTP_RANGE_NOT_SATISFIABLE, resp, "application/json",
                             job->id);
    }
    if (answer == RANGES_OK && count == 1) {
        status = MHD_HTTP_PARTIAL_CONTENT;
        snprintf(content_range, sizeof(content_range), "bytes %llu-%llu/%llu",
                 (unsigned long long)ranges[0].first, (unsigned long long)ranges[0].last,
                 (unsigned long long)size);
        resp = MHD_create_response_from_fd_at_offset64(ranges[0].last - ranges[0].first + 1, fd,
                                                       ranges[0].first);
        if (resp) {
            MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, content_range);
        }
    } else if (answer == RANGES_OK) {
        status = MHD_HTTP_PARTIAL_CONTENT;
        resp = multipart(fd, size, ranges, count, type, content_type, sizeof(content_type));
        close(fd);
    } else {
        resp = MHD_create_response_from_fd_at_offset64(size, fd, 0);
    }
    if (!resp) {
        if (answer != RANGES_OK || count == 1) {
            close(fd);
        }
        return rc_http_send_error_code(http, conn, RC_ERR_NOMEM, "", "out of memory");
    }
    add_file_headers(resp, job);
    atomic_store(&job->progress->bytes_sent, size);
    if (status == MHD_HTTP_OK) {
        return rc_http_queue_clip(http, conn, resp, content_type, job->id, job->frames,
                                  req->ignored);
    }
    return rc_http_queue(http, conn, status, resp, content_type, job->id);
}
