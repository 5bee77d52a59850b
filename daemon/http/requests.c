#include "http/internal.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "base/log.h"

/* Statuses the daemon answers with; any other is counted as "other". */
static const unsigned codes[] = {200, 204, 206, 304, 400, 401, 403, 404, 408, 413,
                                 414, 415, 416, 422, 429, 500, 502, 503, 504};
enum { CODE_COUNT = sizeof(codes) / sizeof(codes[0]) };
_Static_assert(CODE_COUNT + 1 <= RC_CODE_SLOTS, "RC_CODE_SLOTS too small");

static size_t code_slot(unsigned status)
{
    for (size_t i = 0; i < CODE_COUNT; i++) {
        if (codes[i] == status) {
            return i;
        }
    }
    return CODE_COUNT;
}

static void peer_text(struct MHD_Connection *conn, char *out, size_t size)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = info ? info->client_addr : NULL;
    snprintf(out, size, "-");
    if (sa && sa->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                  (socklen_t)size);
    } else if (sa && sa->sa_family == AF_INET6) {
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
                  (socklen_t)size);
    } else if (sa && sa->sa_family == AF_UNIX) {
        snprintf(out, size, "unix");
    }
}

/* Quotes become apostrophes and control characters spaces: a value stays one
 * logfmt token whatever the client sent. */
static void log_safe(char *s)
{
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') {
            *s = '\'';
        } else if ((unsigned char)*s < 0x20 || *s == 0x7f) {
            *s = ' ';
        }
    }
}

void rc_http_request_done(struct rc_http *http, struct MHD_Connection *conn,
                          const struct rc_http_done *d)
{
    const struct rc_guard_answer *a = &d->answer;
    unsigned status = a->status;
    size_t method = d->method < RC_METHOD_COUNT ? d->method : RC_METHOD_OTHER;
    size_t route = d->route < RC_ROUTE_COUNT ? d->route : RC_ROUTE_OTHER;
    atomic_fetch_add(&http->counts[method][route][code_slot(status)], 1);
    char peer[INET6_ADDRSTRLEN + 1];
    peer_text(conn, peer, sizeof(peer));
    char path[160], reason[sizeof(a->reason)];
    snprintf(path, sizeof(path), "%s", d->path);
    snprintf(reason, sizeof(reason), "%s", a->reason);
    log_safe(path);
    log_safe(reason);
    /* Every 4xx with its reason at info; a 5xx is the daemon's trouble: warn. */
    enum rc_log_level level = status >= 500 || status == 0 ? RC_LOG_WARN : RC_LOG_INFO;
    char reason_field[sizeof(reason) + 16] = "";
    if (reason[0]) {
        snprintf(reason_field, sizeof(reason_field), " reason=\"%s\"", reason);
    }
    rc_log(level,
           "msg=access method=%s route=%s path=\"%s\" status=%u bytes=%" PRIu64
           " duration_ms=%.1f request_id=%s peer=%s completed=%d%s",
           rc_http_method_name((enum rc_method)method), rc_http_route_name((enum rc_route)route),
           path, status, d->bytes, d->duration_ms, a->request_id[0] ? a->request_id : "-", peer,
           d->completed, reason_field);
}

void rc_http_write_request_metrics(struct rc_http *http, struct rc_buf *out)
{
    rc_metrics_printf(out, "# HELP rasterclip_http_requests_total HTTP requests answered, by "
                           "method, route and status code (other: any other, or none).\n"
                           "# TYPE rasterclip_http_requests_total counter\n");
    bool any = false;
    for (size_t m = 0; m < RC_METHOD_COUNT; m++) {
        for (size_t r = 0; r < RC_ROUTE_COUNT; r++) {
            for (size_t c = 0; c <= CODE_COUNT; c++) {
                uint64_t n = atomic_load(&http->counts[m][r][c]);
                if (n == 0) {
                    continue;
                }
                char code[16] = "other";
                if (c < CODE_COUNT) {
                    snprintf(code, sizeof(code), "%u", codes[c]);
                }
                rc_metrics_printf(out,
                                  "rasterclip_http_requests_total{method=\"%s\",route=\"%s\","
                                  "code=\"%s\"} %" PRIu64 "\n",
                                  rc_http_method_name((enum rc_method)m),
                                  rc_http_route_name((enum rc_route)r), code, n);
                any = true;
            }
        }
    }
    if (!any) {
        /* The family is there before the first request ends (this one is still
         * being answered). */
        rc_metrics_printf(out, "rasterclip_http_requests_total{method=\"GET\",route=\"/metrics\","
                               "code=\"200\"} 0\n");
    }
}
