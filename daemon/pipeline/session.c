#include "pipeline/session.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/queue.h"
#include "encode/convert.h"

/* Frames between the draw and encode threads: enough for both to keep busy. */
enum { FRAME_POOL = 3 };
struct rc_session {
    struct rc_output output;
    void *format; /* output.ops's state */
    bool want_file;
    struct rc_buf file;       /* the finished file, as the format writes it */
    size_t held;              /* bytes of it the format keeps until finish (MP4 samples) */
    struct rc_bytequeue *out; /* not owned */
    const atomic_bool *cancel;
    struct rc_session_frame frames[FRAME_POOL + 1]; /* the last, pixel-less, ends the stream */
    struct rc_queue *filled;                        /* frames drawn, waiting to be encoded */
    struct rc_queue *free;                          /* frames encoded, ready to be drawn into */
    struct rc_buf bytes;                            /* the stream's bytes of one call */
    pthread_t thread;
    bool started;
    /* Written by the encode thread, read after the join. */
    enum rc_err status;
    struct rc_error error;
    atomic_size_t encoded;
    double mux_ms;                          /* the encode thread's own count */
    atomic_uint_fast64_t encode_us, mux_us; /* published: any thread reads them */
    atomic_bool failed;                     /* any thread */
};

size_t rc_frame_bytes(enum rc_frame_kind kind, unsigned width, unsigned height)
{
    struct rc_i420_layout l;
    rc_i420_layout(width, height, &l);
    switch (kind) {
    case RC_FRAME_I420A:
        return l.frame_bytes + l.y_bytes;
    case RC_FRAME_RGBA:
        return (size_t)width * height * 4;
    case RC_FRAME_I420:
        break;
    }
    return l.frame_bytes;
}

enum rc_err rc_session_create(const struct rc_output *output, struct rc_bytequeue *out,
                              const atomic_bool *cancel, struct rc_session **session,
                              struct rc_error *err)
{
    *session = NULL;
    struct rc_session *s = calloc(1, sizeof(*s));
    if (!s) {
        return rc_error_set(err, RC_ERR_NOMEM, "", "out of memory");
    }
    s->output = *output;
    s->out = out;
    s->cancel = cancel;
    atomic_init(&s->failed, false);
    atomic_init(&s->encoded, 0);
    atomic_init(&s->encode_us, 0);
    atomic_init(&s->mux_us, 0);
    rc_buf_init(&s->bytes);
    rc_buf_init(&s->file);
    s->want_file = output->seekable || output->keep_file;
    enum rc_err rc =
        output->ops->create(&output->codec, !output->seekable, s->want_file, &s->format, err);
    if (rc != RC_OK) {
        goto out;
    }
    s->filled = rc_queue_create(FRAME_POOL + 1);
    s->free = rc_queue_create(FRAME_POOL + 1);
    if (!s->filled || !s->free) {
        rc = rc_error_set(err, RC_ERR_NOMEM, "", "out of memory");
        goto out;
    }
    size_t frame_bytes =
        rc_frame_bytes(output->frame, output->codec.webm.width, output->codec.webm.height);
    for (size_t i = 0; i < FRAME_POOL; i++) {
        s->frames[i].pixels = malloc(frame_bytes);
        if (!s->frames[i].pixels) {
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
        free(session->frames[i].pixels);
    }
    rc_queue_destroy(session->filled);
    rc_queue_destroy(session->free);
    session->output.ops->destroy(session->format);
    rc_buf_finish(&session->file);
    rc_buf_finish(&session->bytes);
    free(session);
}

/* The finished file grew past its cap: a seekable clip fails; one kept only for
 * the clip cache is let go (the stream goes on). */
static enum rc_err check_file(struct rc_session *s)
{
    if (!s->want_file || s->file.len + s->held <= s->output.max_file_bytes) {
        return RC_OK;
    }
    if (s->output.seekable) {
        return rc_error_set(&s->error, RC_ERR_TOO_LARGE, "output.seekable",
                            "the finished file would exceed %zu bytes; stream it instead",
                            s->output.max_file_bytes);
    }
    s->want_file = false;
    s->output.ops->drop_file(s->format);
    rc_buf_finish(&s->file);
    return RC_OK;
}

/* One call of the format: its stream bytes go to the client (cancelled when the
 * client has gone; a seekable clip sends nothing yet), its file grows. */
typedef enum rc_err (*format_call)(struct rc_session *s, struct rc_format_out *out,
                                   const struct rc_session_frame *f);

static enum rc_err run(struct rc_session *s, format_call call, const struct rc_session_frame *f)
{
    rc_buf_reset(&s->bytes);
    struct rc_format_out out = {.stream = s->output.seekable ? NULL : &s->bytes,
                                .file = s->want_file ? &s->file : NULL};
    enum rc_err rc = call(s, &out, f);
    s->mux_ms += out.mux_ms;
    s->held += out.held;
    if (rc != RC_OK) {
        return rc;
    }
    rc = check_file(s);
    if (rc != RC_OK || !s->bytes.len) {
        return rc;
    }
    return rc_bytequeue_write(s->out, s->bytes.data, s->bytes.len) ? RC_OK : RC_ERR_CANCELLED;
}

static enum rc_err call_header(struct rc_session *s, struct rc_format_out *out,
                               const struct rc_session_frame *f)
{
    (void)f;
    return s->output.ops->header(s->format, out, &s->error);
}

static enum rc_err call_frame(struct rc_session *s, struct rc_format_out *out,
                              const struct rc_session_frame *f)
{
    return s->output.ops->frame(s->format, f->pixels, f->index, out, &s->error);
}

/* Drains look-ahead and closes the container. */
static enum rc_err call_finish(struct rc_session *s, struct rc_format_out *out,
                               const struct rc_session_frame *f)
{
    (void)f;
    return s->output.ops->finish(s->format, out, &s->error);
}

bool rc_session_write_header(struct rc_session *session)
{
    return run(session, call_header, NULL) == RC_OK;
}

/* Encode-thread time since `t0`, split into muxing (what mux_ms gained since
 * `mux0`) and encoding (the rest), published for any thread to read. */
static void account(struct rc_session *s, double t0, double mux0)
{
    double mux = s->mux_ms - mux0, all = rc_clock_ms() - t0;
    atomic_fetch_add(&s->mux_us, (uint_fast64_t)(mux * 1e3));
    atomic_fetch_add(&s->encode_us, (uint_fast64_t)((all - mux) * 1e3));
}

static void *encode_main(void *arg)
{
    struct rc_session *s = arg;
    struct rc_session_frame *f;
    while ((f = rc_queue_pop(s->filled)) != NULL && f->pixels != NULL) {
        if (s->status == RC_OK && !atomic_load(s->cancel)) {
            double t0 = rc_clock_ms(), mux0 = s->mux_ms;
            s->status = run(s, call_frame, f);
            account(s, t0, mux0);
            if (s->status == RC_OK) {
                atomic_fetch_add(&s->encoded, 1);
            } else {
                /* Failed, or the client gone or cut off: the draw side stops (it still
                 * hands over the frames it has). */
                atomic_store(&s->failed, true);
            }
        }
        rc_queue_push(s->free, f);
    }
    if (s->status == RC_OK && !atomic_load(s->cancel)) {
        double t0 = rc_clock_ms(), mux0 = s->mux_ms;
        s->status = run(s, call_finish, NULL);
        account(s, t0, mux0);
    }
    if (s->status != RC_OK && s->status != RC_ERR_CANCELLED && !s->error.message[0]) {
        rc_error_set(&s->error, s->status, "", "the clip could not be written");
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
    if (session->status != RC_OK && session->status != RC_ERR_CANCELLED) {
        *err = session->error;
        return session->status;
    }
    return session->status == RC_ERR_CANCELLED || atomic_load(session->cancel) ? RC_ERR_CANCELLED
                                                                               : RC_OK;
}

bool rc_session_take_file(struct rc_session *session, struct rc_buf *out)
{
    if (!session->want_file || session->status != RC_OK) {
        return false;
    }
    *out = session->file;
    rc_buf_init(&session->file);
    session->want_file = false;
    return true;
}

size_t rc_session_encoded(const struct rc_session *session)
{
    return atomic_load(&session->encoded);
}

double rc_session_encode_ms(const struct rc_session *session)
{
    return (double)atomic_load(&session->encode_us) / 1e3;
}

double rc_session_mux_ms(const struct rc_session *session)
{
    return (double)atomic_load(&session->mux_us) / 1e3;
}
