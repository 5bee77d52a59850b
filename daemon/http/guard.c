#include "http/guard.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "base/clock.h"
#include "base/config.h"
#include "base/error.h"
#include "base/log.h"
#include "http/internal.h"

enum phase { WAITING, BODY, HANDLED };

enum {
    TICK_MS = 250,
    BODY_WINDOW_MS = 5000, /* the body's rate is judged over this long */
};

/* Eviction starts past this share of the table and stops below EVICT_TO. */
#define EVICT_AT 0.90
#define EVICT_TO 0.80

/* One open connection; owned by the guard's list from STARTED to CLOSED. */
struct watched {
    struct watched *prev, *next;
    int fd;
    enum phase phase;
    double since_ms;               /* WAITING: since the connection or the last request */
    bool served;                   /* a request on it has ended: it may idle, kept alive */
    bool line_seen;                /* the request line of the current request is in */
    bool busy;                     /* the access handler runs for it */
    bool answered;                 /* a response is queued for the current request */
    bool cut;                      /* the guard answered and shut it down */
    struct rc_guard_answer answer; /* of the current request */
    double window_ms;              /* BODY: start of the current window */
    uint64_t window_bytes;
};

struct rc_guard {
    struct rc_config_source *cfgs;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stop;
    bool running;
    pthread_t thread;
    struct watched *head; /* under lock: newest first */
    struct watched *tail; /* under lock: oldest */
    size_t open;          /* under lock: entries in the list */
    size_t cut_open;      /* under lock: of those, cut and waiting for the library to close */
    size_t capacity;
    struct rc_guard_counts counts; /* under lock */
};

/* The connection's entry, with the guard's lock held; NULL, and nothing locked,
 * when the connection is not watched (its entry could not be allocated). */
static struct watched *lock_watched(struct rc_guard *g, struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    struct watched *w = info ? info->socket_context : NULL;
    if (w) {
        pthread_mutex_lock(&g->lock);
    }
    return w;
}

/* The access-log side of the guard's answer: a request in its body has its own
 * line when it completes, which says it; one the access handler never saw gets
 * its line here. */
static void note_cut(struct watched *w, unsigned status, const char *message)
{
    if (w->phase == BODY) {
        w->answer.status = status;
        snprintf(w->answer.reason, sizeof(w->answer.reason), "%s", message);
        return;
    }
    char peer[INET6_ADDRSTRLEN + 1] = "-";
    struct sockaddr_storage ss = {0};
    socklen_t sl = sizeof(ss);
    if (getpeername(w->fd, (struct sockaddr *)&ss, &sl) != 0) {
        ss.ss_family = AF_UNSPEC;
    }
    if (ss.ss_family == AF_INET) {
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, peer, sizeof(peer));
    } else if (ss.ss_family == AF_INET6) {
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, peer, sizeof(peer));
    }
    rc_log(RC_LOG_INFO,
           "msg=access method=- route=- path=\"-\" status=%u bytes=0 duration_ms=0 "
           "request_id=- peer=%s completed=0 reason=\"%s\"",
           status, peer, message);
}

/* Writes an error answer on the socket and shuts it down; under lock, while
 * libmicrohttpd has nothing queued for the connection. */
static void cut(struct rc_guard *g, struct watched *w, unsigned status, const char *reason,
                enum rc_err code, const char *field, const char *message)
{
    w->cut = true;
    g->cut_open++;
    rc_log(RC_LOG_DEBUG, "msg=\"connection cut\" status=%u detail=\"%s\"", status, message);
    if (status) {
        note_cut(w, status, message);
        struct rc_error err;
        rc_error_set(&err, code, field, "%s", message);
        char *json = rc_http_error_text(&err);
        char date[64];
        time_t t = time(NULL);
        struct tm tm;
        strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", gmtime_r(&t, &tm));
        char head[320];
        int n = snprintf(head, sizeof(head),
                         "HTTP/1.1 %u %s\r\nDate: %s\r\nConnection: close\r\n"
                         "Content-Type: application/json\r\nCache-Control: no-store\r\n"
                         "X-Content-Type-Options: nosniff\r\nContent-Length: %zu\r\n\r\n",
                         status, reason, date, json ? strlen(json) : 0);
        /* A few hundred bytes into an empty send buffer: one call, never a wait. */
        if (n > 0 && send(w->fd, head, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) == n && json) {
            (void)send(w->fd, json, strlen(json), MSG_NOSIGNAL | MSG_DONTWAIT);
        }
        free(json);
    }
    shutdown(w->fd, SHUT_RDWR);
}

/* The header deadline for a table `open` of `capacity` full: the configured one
 * up to half full, then shorter in proportion, to a tenth (at least 1 s) when full. */
static double header_deadline_ms(const struct rc_config *cfg, size_t open, size_t capacity)
{
    double full = (double)cfg->header_timeout_seconds * 1000.0;
    double fill = capacity ? (double)open / (double)capacity : 0.0;
    if (fill <= 0.5) {
        return full;
    }
    double scale = 1.0 - (fill - 0.5) / 0.5 * 0.9;
    double ms = full * (scale < 0.1 ? 0.1 : scale);
    return ms < 1000.0 ? (full < 1000.0 ? full : 1000.0) : ms;
}

/* May this connection be closed to make room: still in its request line and
 * headers (or idle between requests), and not in the access handler. */
static bool evictable(const struct watched *w)
{
    return !w->busy && !w->cut && w->phase == WAITING;
}

/* A request head (line and headers, to the blank line) waits whole in the
 * socket, not yet read by the library: the client is not slow, however long
 * the library takes to get to it. */
static bool head_waiting(int fd)
{
    char peek[4096];
    ssize_t n = recv(fd, peek, sizeof(peek), MSG_PEEK | MSG_DONTWAIT);
    for (ssize_t i = 0; i + 3 < n; i++) {
        if (memcmp(peek + i, "\r\n\r\n", 4) == 0) {
            return true;
        }
    }
    return false;
}

/* Past EVICT_AT of the table, the connections longest in their headers go first
 * (the list's tail is the oldest), down to EVICT_TO; connections already cut
 * but not yet closed no longer count. Under lock. */
static void evict(struct rc_guard *g)
{
    size_t high = (size_t)((double)g->capacity * EVICT_AT);
    size_t low = (size_t)((double)g->capacity * EVICT_TO);
    size_t live = g->open - g->cut_open;
    if (live <= high) {
        return;
    }
    for (struct watched *w = g->tail; w && live > low; w = w->prev) {
        if (!evictable(w) || (!w->line_seen && head_waiting(w->fd))) {
            continue;
        }
        g->counts.evicted++;
        cut(g, w, w->line_seen || !w->served ? 408 : 0, "Request Timeout", RC_ERR_TIMEOUT, "",
            "the server is full of connections still sending their headers");
        live--;
    }
}

static void check(struct rc_guard *g, struct watched *w, const struct rc_config *cfg, double now)
{
    if (w->busy || w->cut || w->phase == HANDLED) {
        return;
    }
    if (w->phase == WAITING) {
        if (w->served && !w->line_seen) {
            if (now - w->since_ms > IDLE_SECONDS * 1000.0) {
                g->counts.idle_closed++;
                cut(g, w, 0, NULL, RC_OK, "", "");
            }
        } else if (now - w->since_ms > header_deadline_ms(cfg, g->open, g->capacity)) {
            g->counts.header_timeouts++;
            cut(g, w, 408, "Request Timeout", RC_ERR_TIMEOUT, "",
                "the request line and headers must arrive within header_timeout_seconds");
        }
        return;
    }
    if (now - w->window_ms < BODY_WINDOW_MS) {
        return;
    }
    if (cfg->min_upload_kb_per_s > 0 &&
        (double)w->window_bytes <
            (double)cfg->min_upload_kb_per_s * 1024.0 * (now - w->window_ms) / 1000.0) {
        g->counts.body_timeouts++;
        cut(g, w, 408, "Request Timeout", RC_ERR_TIMEOUT, "",
            "the request body came slower than min_upload_kb_per_s");
        return;
    }
    w->window_ms = now;
    w->window_bytes = 0;
}

static void *watch(void *arg)
{
    struct rc_guard *g = arg;
    pthread_mutex_lock(&g->lock);
    while (!g->stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += TICK_MS * 1000000L;
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&g->wake, &g->lock, &until);
        const struct rc_config *cfg = rc_config_current(g->cfgs);
        double now = rc_clock_ms();
        for (struct watched *w = g->head; w && !g->stop; w = w->next) {
            check(g, w, cfg, now);
        }
        evict(g);
    }
    pthread_mutex_unlock(&g->lock);
    return NULL;
}

struct rc_guard *rc_guard_create(struct rc_config_source *cfgs, size_t capacity)
{
    struct rc_guard *g = calloc(1, sizeof(*g));
    if (!g) {
        return NULL;
    }
    g->cfgs = cfgs;
    g->capacity = capacity;
    pthread_mutex_init(&g->lock, NULL);
    pthread_cond_init(&g->wake, NULL);
    if (pthread_create(&g->thread, NULL, watch, g) != 0) {
        pthread_cond_destroy(&g->wake);
        pthread_mutex_destroy(&g->lock);
        free(g);
        return NULL;
    }
    g->running = true;
    return g;
}

void rc_guard_stop(struct rc_guard *g)
{
    if (!g || !g->running) {
        return;
    }
    pthread_mutex_lock(&g->lock);
    g->stop = true;
    pthread_cond_signal(&g->wake);
    pthread_mutex_unlock(&g->lock);
    pthread_join(g->thread, NULL);
    g->running = false;
}

void rc_guard_destroy(struct rc_guard *g)
{
    if (!g) {
        return;
    }
    rc_guard_stop(g);
    while (g->head) { /* none once libmicrohttpd has stopped */
        struct watched *w = g->head;
        g->head = w->next;
        free(w);
    }
    pthread_cond_destroy(&g->wake);
    pthread_mutex_destroy(&g->lock);
    free(g);
}

void rc_guard_counts(struct rc_guard *g, struct rc_guard_counts *out)
{
    pthread_mutex_lock(&g->lock);
    *out = g->counts;
    out->open = g->open;
    out->capacity = g->capacity;
    pthread_mutex_unlock(&g->lock);
}

void rc_guard_on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                            enum MHD_ConnectionNotificationCode code)
{
    struct rc_guard *g = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *info =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        struct watched *w = info ? calloc(1, sizeof(*w)) : NULL;
        *socket_context = w;
        if (!w) {
            return; /* unwatched: the library's idle timeout still holds */
        }
        w->fd = info->connect_fd;
        w->since_ms = rc_clock_ms();
        pthread_mutex_lock(&g->lock);
        w->next = g->head;
        if (g->head) {
            g->head->prev = w;
        } else {
            g->tail = w;
        }
        g->head = w;
        g->open++;
        bool crowded = (double)(g->open - g->cut_open) > (double)g->capacity * EVICT_AT;
        if (crowded) {
            pthread_cond_signal(&g->wake); /* make room now, not at the next tick */
        }
        pthread_mutex_unlock(&g->lock);
        return;
    }
    struct watched *w = *socket_context;
    if (!w) {
        return;
    }
    /* Before the library closes the socket: the watcher, which holds the lock
     * while it writes, never touches a descriptor number already reused. */
    pthread_mutex_lock(&g->lock);
    if (w->prev) {
        w->prev->next = w->next;
    } else {
        g->head = w->next;
    }
    if (w->next) {
        w->next->prev = w->prev;
    } else {
        g->tail = w->prev;
    }
    g->open--;
    g->cut_open -= w->cut;
    pthread_mutex_unlock(&g->lock);
    free(w);
    *socket_context = NULL;
}

void *rc_guard_on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct rc_guard *g = cls;
    size_t params = 0;
    const char *query = strchr(uri, '?');
    for (const char *p = query; p && *p; p++) {
        params += *p == '&' || p == query;
    }
    size_t len = strlen(uri);
    struct watched *w = lock_watched(g, conn);
    if (!w) {
        return NULL;
    }
    w->line_seen = true;
    if (len > MAX_URI_BYTES || params > MAX_URI_PARAMS) {
        g->counts.uri_refused++;
        /* The rest of the request, read so that closing does not reset the
         * connection before the client has read the answer. */
        char sink[4096];
        for (int i = 0; i < 256 && recv(w->fd, sink, sizeof(sink), MSG_DONTWAIT) > 0; i++) {
        }
        char message[128];
        snprintf(message, sizeof(message), "the request line may hold %d bytes and %d parameters",
                 MAX_URI_BYTES, MAX_URI_PARAMS);
        cut(g, w, 414, "URI Too Long", RC_ERR_TOO_LARGE, "query", message);
    }
    pthread_mutex_unlock(&g->lock);
    return NULL; /* the access handler's first call still sees no request state */
}

bool rc_guard_enter(struct rc_guard *g, struct MHD_Connection *conn)
{
    struct watched *w = lock_watched(g, conn);
    if (!w) {
        return true;
    }
    bool ok = !w->cut;
    w->busy = ok;
    pthread_mutex_unlock(&g->lock);
    return ok;
}

void rc_guard_leave(struct rc_guard *g, struct MHD_Connection *conn, bool body_pending,
                    size_t body_bytes)
{
    struct watched *w = lock_watched(g, conn);
    if (!w) {
        return;
    }
    w->busy = false;
    if (w->answered || !body_pending) {
        w->phase = HANDLED;
    } else {
        if (w->phase != BODY) {
            w->phase = BODY;
            w->window_ms = rc_clock_ms();
            w->window_bytes = 0;
        }
        w->window_bytes += body_bytes;
    }
    pthread_mutex_unlock(&g->lock);
}

void rc_guard_answered(struct rc_guard *g, struct MHD_Connection *conn,
                       const struct rc_guard_answer *answer)
{
    struct watched *w = lock_watched(g, conn);
    if (!w) {
        return;
    }
    w->answer = *answer;
    w->answered = true;
    w->phase = HANDLED;
    pthread_mutex_unlock(&g->lock);
}

void rc_guard_request_done(struct rc_guard *g, struct MHD_Connection *conn,
                           struct rc_guard_answer *out)
{
    struct watched *w = lock_watched(g, conn);
    if (out) {
        memset(out, 0, sizeof(*out));
    }
    if (!w) {
        return;
    }
    if (out) {
        *out = w->answer;
    }
    memset(&w->answer, 0, sizeof(w->answer));
    w->phase = WAITING;
    w->since_ms = rc_clock_ms();
    w->served = true;
    w->line_seen = false;
    w->answered = false;
    pthread_mutex_unlock(&g->lock);
}
