#include "pipeline/session.h"

#include <pthread.h>
#include <stdlib.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/queue.h"
#include "encode/convert.h"

/* I420 frames between the draw and encode threads: enough for both to keep busy. */
enum { FRAME_POOL = 3 };

struct rc_session {
    struct rc_encoder *enc;
    struct rc_mux *mux;
    struct rc_bytequeue *out; /* not owned */
    const atomic_bool *cancel;
    struct rc_session_frame frames[FRAME_POOL + 1]; /* the last, pixel-less, ends the stream */
    struct rc_queue *filled;                        /* frames drawn, waiting to be encoded */
    struct rc_queue *free;                          /* frames encoded, ready to be drawn into */
    struct rc_buf bytes;                            /* muxed bytes of one frame */
    pthread_t thread;
    bool started;
    /* Written by the encode thread, read after the join. */
    enum rc_err status;
    struct rc_error error;
    size_t encoded;
    double mux_ms;
    atomic_bool failed; /* any thread */
};

enum rc_err rc_session_create(const struct rc_encode_settings *encode,
                              const struct rc_mux_settings *mux, struct rc_bytequeue *out,
                              const atomic_bool *cancel, struct rc_session **session,
                              struct rc_error *err)
{
    *session = NULL;
    struct rc_session *s = calloc(1, sizeof(*s));
    if (!s) {
        return rc_error_set(err, RC_ERR_NOMEM, "", "out of memory");
    }
    s->out = out;
    s->cancel = cancel;
    atomic_init(&s->failed, false);
    rc_buf_init(&s->bytes);
    enum rc_err rc = rc_encode_create(encode, &s->enc, err);
    if (rc != RC_OK) {
        goto out;
    }
    struct rc_i420_layout layout;
    rc_i420_layout(encode->width, encode->height, &layout);
    s->mux = rc_mux_create(mux);
    s->filled = rc_queue_create(FRAME_POOL + 1);
    s->free = rc_queue_create(FRAME_POOL + 1);
    if (!s->mux || !s->filled || !s->free) {
        rc = rc_error_set(err, RC_ERR_NOMEM, "", "out of memory");
        goto out;
    }
    for (size_t i = 0; i < FRAME_POOL; i++) {
        s->frames[i].i420 = malloc(layout.frame_bytes);
        if (!s->frames[i].i420) {
            rc = rc_error_set(err, RC_ERR_NOMEM, "", "out of memory");
            goto out;
        }
        rc_queue_push(s->free, &s->frames[i]);
    }
out:
    if (rc != RC_OK) {
        rc_session_destroy(s);
        s = NULL;
    }
    *session = s;
    return rc;
}

void rc_session_destroy(struct rc_session *session)
{
    if (!session) {
        return;
    }
    for (size_t i = 0; i < FRAME_POOL; i++) {
        free(session->frames[i].i420);
    }
    rc_queue_destroy(session->filled);
    rc_queue_destroy(session->free);
    rc_mux_destroy(session->mux);
    rc_encode_destroy(session->enc);
    rc_buf_finish(&session->bytes);
    free(session);
}

bool rc_session_write_header(struct rc_session *session)
{
    rc_buf_reset(&session->bytes);
    if (rc_mux_write_header(session->mux, &session->bytes) != RC_OK) {
        return false;
    }
    return rc_bytequeue_write(session->out, session->bytes.data, session->bytes.len);
}

/* The encoder's sink: one packet muxed and queued for the client. */
static enum rc_err mux_packet(void *ctx, const void *data, size_t len, uint64_t pts, bool key)
{
    struct rc_session *s = ctx;
    double t0 = rc_clock_ms();
    rc_buf_reset(&s->bytes);
    enum rc_err rc = rc_mux_write_frame(s->mux, &s->bytes, pts, key, data, len);
    s->mux_ms += rc_clock_ms() - t0;
    if (rc != RC_OK) {
        return rc;
    }
    if (!rc_bytequeue_write(s->out, s->bytes.data, s->bytes.len)) {
        return RC_ERR_CANCELLED; /* the client has gone */
    }
    return RC_OK;
}

static void *encode_main(void *arg)
{
    struct rc_session *s = arg;
    struct rc_session_frame *f;
    while ((f = rc_queue_pop(s->filled)) != NULL && f->i420 != NULL) {
        if (s->status == RC_OK && !atomic_load(s->cancel)) {
            s->status = rc_encode_i420(s->enc, f->i420, f->index, mux_packet, s, &s->error);
            if (s->status == RC_OK) {
                s->encoded++;
            } else {
                atomic_store(&s->failed, true); /* the draw side still hands over every frame */
            }
        }
        rc_queue_push(s->free, f);
    }
    if (s->status == RC_OK && !atomic_load(s->cancel)) {
        s->status = rc_encode_flush(s->enc, mux_packet, s, &s->error);
    }
    return NULL;
}

enum rc_err rc_session_start(struct rc_session *session, struct rc_error *err)
{
    if (pthread_create(&session->thread, NULL, encode_main, session) != 0) {
        return rc_error_set(err, RC_ERR_INTERNAL, "", "cannot start the encode thread");
    }
    session->started = true;
    return RC_OK;
}

struct rc_session_frame *rc_session_frame(struct rc_session *session)
{
    return rc_queue_pop(session->free);
}

void rc_session_submit(struct rc_session *session, struct rc_session_frame *frame)
{
    rc_queue_push(session->filled, frame);
}

bool rc_session_failed(const struct rc_session *session)
{
    return atomic_load(&session->failed);
}

enum rc_err rc_session_finish(struct rc_session *session, struct rc_error *err)
{
    if (!session->started) {
        return RC_OK;
    }
    rc_queue_push(session->filled, &session->frames[FRAME_POOL]); /* the end marker */
    pthread_join(session->thread, NULL);
    session->started = false;
    if (session->status != RC_OK) {
        *err = session->error;
        return session->status;
    }
    return atomic_load(session->cancel) ? RC_ERR_CANCELLED : RC_OK;
}

size_t rc_session_encoded(const struct rc_session *session)
{
    return session->encoded;
}

double rc_session_encode_ms(const struct rc_session *session)
{
    return session->enc ? rc_encode_ms(session->enc) : 0;
}

double rc_session_mux_ms(const struct rc_session *session)
{
    return session->mux_ms;
}
