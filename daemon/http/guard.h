/*
 * guard: time limits on what libmicrohttpd reads before the access handler can
 * act, enforced by a watch thread. libmicrohttpd 0.9.75 has only an idle
 * timeout, which every byte restarts, so a peer that trickles its headers, or a
 * body that stops short of its Content-Length, holds a connection for as long as
 * it likes. The guard follows each connection from accept to close:
 *
 *   waiting — the request line and headers (or, after a request, the next one)
 *             must be in within header_timeout_seconds of the connection or of
 *             the previous request's end; a request of a fresh connection, or
 *             one whose line has come, gets a JSON 408, an idle kept-alive
 *             connection is closed quietly at the library's idle timeout;
 *   body    — every five seconds the body must bring min_upload_kb_per_s, else
 *             a JSON 408;
 *   handled — the access handler has it (answered, waiting for a worker,
 *             streaming): the job's own limits apply.
 *
 * Under many slow peers (each address within its own cap) the table itself is
 * what they take, so the guard also watches how full it is: past half full the
 * header deadline shortens in proportion (to a tenth of header_timeout_seconds,
 * at least a second, when full), and past EVICT_AT of it the connections longest
 * in their request line and headers are closed first, so that accepting a new
 * connection never waits on a slot.
 *
 * A request line longer than MAX_URI_BYTES or with more than MAX_URI_PARAMS
 * query parameters gets a JSON 414 at once (libmicrohttpd would run out of the
 * connection's memory parsing it and answer nothing).
 *
 * The guard writes its answer on the socket itself and shuts the socket down,
 * which libmicrohttpd then closes; it does so only while libmicrohttpd has no
 * response queued (waiting, or body while the access handler is not running),
 * and the access handler refuses a connection the guard has cut. Internal to
 * http/.
 */
#ifndef RC_HTTP_GUARD_H
#define RC_HTTP_GUARD_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rc_config_source;
struct rc_guard;

/* IDLE_SECONDS: libmicrohttpd's idle timeout, and the most a kept-alive
 * connection may wait for its next request. */
enum { MAX_URI_BYTES = 32 * 1024, MAX_URI_PARAMS = 512, IDLE_SECONDS = 60 };

struct rc_guard_counts {
    uint64_t header_timeouts; /* 408: request line and headers too slow */
    uint64_t body_timeouts;   /* 408: the body under its floor rate */
    uint64_t idle_closed;     /* kept-alive connections closed quietly */
    uint64_t uri_refused;     /* 414: request line too long, too many parameters */
    uint64_t evicted;         /* closed, longest in their headers, as the table filled */
    uint64_t open;            /* connections open now */
    uint64_t capacity;        /* the connection table's size */
};

/* `capacity`: the connections libmicrohttpd may hold at once. */
struct rc_guard *rc_guard_create(struct rc_config_source *cfgs, size_t capacity);
/* Stops the watch thread; before MHD_stop_daemon. */
void rc_guard_stop(struct rc_guard *guard);
/* After MHD_stop_daemon. */
void rc_guard_destroy(struct rc_guard *guard);
void rc_guard_counts(struct rc_guard *guard, struct rc_guard_counts *out);

/* libmicrohttpd callbacks (cls: the guard). */
void rc_guard_on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                            enum MHD_ConnectionNotificationCode code);
void *rc_guard_on_uri(void *cls, const char *uri, struct MHD_Connection *conn);

/* Around each access-handler call: enter returns false when the guard has cut
 * the connection (answer MHD_NO); leave says whether a body is still to come
 * and how many body bytes this call took. */
bool rc_guard_enter(struct rc_guard *g, struct MHD_Connection *conn);
void rc_guard_leave(struct rc_guard *g, struct MHD_Connection *conn, bool body_pending,
                    size_t body_bytes);
enum { RC_REASON_BYTES = 384 }; /* an error's field and message */

/* What the current request was answered: kept with the connection from the
 * queueing of the response to the request's end, for its access-log line. */
struct rc_guard_answer {
    unsigned status; /* 0: none queued */
    uint64_t bytes;  /* of the body; UINT64_MAX: a streamed job's, counted there */
    char reason[RC_REASON_BYTES];
    char request_id[48];
};

/* A response is queued on the connection (rc_http_queue). */
void rc_guard_answered(struct rc_guard *g, struct MHD_Connection *conn,
                       const struct rc_guard_answer *answer);
/* The request is over; the connection may carry another. `out` (may be NULL):
 * what it was answered. */
void rc_guard_request_done(struct rc_guard *g, struct MHD_Connection *conn,
                           struct rc_guard_answer *out);

#endif
