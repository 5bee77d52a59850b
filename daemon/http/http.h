/*
 * http: the HTTP front end on libmicrohttpd, and the only place where errors
 * become status codes.
 *
 * Routes: POST /v1/render (JSON job; the response streams the WebM clip),
 * GET /v1/info, /v1/colormaps, /healthz, /readyz, /metrics.
 *
 * libmicrohttpd's own threads run every callback; none blocks. A render request
 * is parsed and validated, queued, and its connection suspended until the worker
 * reports the job streaming or failed; while streaming, an empty byte queue
 * suspends the connection again and the next bytes resume it.
 *
 * The main thread creates, drains and destroys the server; the workers it is given
 * must outlive it.
 */
#ifndef RC_HTTP_H
#define RC_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "base/cache.h"
#include "base/config.h"
#include "base/error.h"
#include "pipeline/pool.h"

struct rc_http;

/* `cfgs`, `workers`, `cache` and `clips` (both may be NULL) must outlive the
 * server. */
struct rc_clipcache;
/* `clips` (may be NULL) is the clip cache: DELETE /v1/cache empties it. */
enum rc_err rc_http_create(struct rc_config_source *cfgs, struct rc_workers *workers,
                           struct rc_cache *cache, struct rc_clipcache *clips, struct rc_http **out,
                           struct rc_error *err);
/* After a config reload: takes up what the new config says (bearer tokens; the
 * rest is read per request). Main thread. */
enum rc_err rc_http_reload(struct rc_http *http, struct rc_error *err);
/* The bound address as "http://HOST:PORT". */
/* Whether the listening socket was passed by systemd (socket activation). */
bool rc_http_socket_activated(const struct rc_http *http);
const char *rc_http_url(const struct rc_http *http);
/* From now on new render jobs get 503; running ones continue. */
void rc_http_drain(struct rc_http *http);
/* Streaming responses still being sent. */
size_t rc_http_active_streams(struct rc_http *http);
void rc_http_destroy(struct rc_http *http);

/* HTTP status for an error code. */
unsigned rc_http_status(enum rc_err code);

#endif
