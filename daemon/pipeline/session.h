/*
 * session: one job's encode side — its format (encode/format.h: the encoder and
 * container writers, one table per format) and the thread that drives it — fed
 * by the draw thread through a bounded pool of frames, writing the clip's bytes
 * into the job's byte queue. It knows no format: every one is driven alike.
 *
 * Beside the stream, or instead of it (output.seekable), the format builds the
 * finished file — WebM with SeekHead and Cues, MP4 with moov before mdat, the GIF —
 * from the same packets, for the client or the clip cache (rc_session_take_file).
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
#include "encode/format.h"
#include "job/job.h"

/* What the draw thread hands over for each frame. */
enum rc_frame_kind {
    RC_FRAME_I420,  /* rc_i420_layout() */
    RC_FRAME_I420A, /* the same, then a full-size alpha plane */
    RC_FRAME_RGBA,  /* 4 bytes a pixel, top row first */
};

/* The clip's format and each part's settings, made by the plan. */
struct rc_output {
    enum rc_format format;
    const struct rc_format_ops *ops; /* the format's table */
    enum rc_frame_kind frame;
    struct rc_format_settings codec;
    bool seekable;         /* the client gets the finished file, nothing before it */
    bool keep_file;        /* build the finished file beside the stream (clip cache) */
    size_t max_file_bytes; /* past it a seekable clip fails and keep_file gives up */
};

/* Bytes of one frame of `kind` at width x height. */
size_t rc_frame_bytes(enum rc_frame_kind kind, unsigned width, unsigned height);

struct rc_session;

struct rc_session_frame {
    uint8_t *pixels; /* owned by the session; rc_frame_bytes() of the clip */
    size_t index;
};

/* `out` and `cancel` (the client's flag: stop quietly) must outlive the session. */
enum rc_err rc_session_create(const struct rc_output *output, struct rc_bytequeue *out,
                              const atomic_bool *cancel, struct rc_session **session,
                              struct rc_error *err);
void rc_session_destroy(struct rc_session *session);

/* Writes the container's header into the byte queue: false when the client has
 * already gone or memory ran short. */
bool rc_session_write_header(struct rc_session *session);
enum rc_err rc_session_start(struct rc_session *session, struct rc_error *err);

/* A free frame to draw into (waits while every frame is being encoded). */
struct rc_session_frame *rc_session_frame(struct rc_session *session);
void rc_session_submit(struct rc_session *session, struct rc_session_frame *frame);
/* True once encoding failed or the client stopped taking bytes: the draw side
 * should stop drawing. */
bool rc_session_failed(const struct rc_session *session);

/* Ends the frame stream, waits for the encoder to drain and the container to
 * close, and returns the outcome: RC_OK, RC_ERR_CANCELLED (the client left or
 * cancelled) or the encoder's error. */
enum rc_err rc_session_finish(struct rc_session *session, struct rc_error *err);

/* After a successful rc_session_finish(): moves the finished file (seekable WebM
 * with Cues, progressive MP4, or the GIF) into `out` (the caller frees it); false
 * when none was built or it outgrew max_file_bytes. */
bool rc_session_take_file(struct rc_session *session, struct rc_buf *out);

/* Frames encoded, and the encode thread's milliseconds in encoding and in muxing,
 * so far: any thread, while the clip is encoded or after. */
size_t rc_session_encoded(const struct rc_session *session);
double rc_session_encode_ms(const struct rc_session *session);
double rc_session_mux_ms(const struct rc_session *session);

#endif
