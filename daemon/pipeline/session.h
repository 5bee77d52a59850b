/*
 * session: one job's encode side — the encoder, the muxer and the thread that runs
 * them — fed by the draw thread through a bounded pool of I420 frames
 * (encode/convert.h), writing muxed bytes into the job's byte queue.
 *
 * The worker (draw thread) creates the session, writes the header, starts the
 * thread, takes free frames with rc_session_frame(), hands them back filled with
 * rc_session_submit(), and ends with rc_session_finish(), which joins the thread;
 * rc_session_destroy() frees everything (NULL-safe). The session never touches the
 * job's cancel flag: an encoder failure is reported by rc_session_finish() and
 * stops the draw side through rc_session_failed().
 */
#ifndef RC_SESSION_H
#define RC_SESSION_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bytequeue.h"
#include "base/error.h"
#include "encode/encode.h"
#include "encode/mux.h"

struct rc_session;

struct rc_session_frame {
    uint8_t *i420; /* owned by the session; rc_i420_layout() of the clip's size */
    size_t index;
};

/* `out` and `cancel` (the client's flag: stop quietly) must outlive the session. */
enum rc_err rc_session_create(const struct rc_encode_settings *encode,
                              const struct rc_mux_settings *mux, struct rc_bytequeue *out,
                              const atomic_bool *cancel, struct rc_session **session,
                              struct rc_error *err);
void rc_session_destroy(struct rc_session *session);

/* Writes the container's header into the byte queue: false when the client has
 * already gone. */
bool rc_session_write_header(struct rc_session *session);
enum rc_err rc_session_start(struct rc_session *session, struct rc_error *err);

/* A free frame to draw into (waits while every frame is being encoded). */
struct rc_session_frame *rc_session_frame(struct rc_session *session);
void rc_session_submit(struct rc_session *session, struct rc_session_frame *frame);
/* True once encoding failed: the draw side should stop drawing. */
bool rc_session_failed(const struct rc_session *session);

/* Ends the frame stream, waits for the encoder to drain and returns its outcome:
 * RC_OK, RC_ERR_CANCELLED (the client left or cancelled) or the encoder's error. */
enum rc_err rc_session_finish(struct rc_session *session, struct rc_error *err);

/* Frames encoded, and milliseconds spent encoding and muxing. */
size_t rc_session_encoded(const struct rc_session *session);
double rc_session_encode_ms(const struct rc_session *session);
double rc_session_mux_ms(const struct rc_session *session);

#endif
