#include "pipeline/session.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/queue.h"
#include "encode/convert.h"
#include "encode/h264.h"
#include "encode/mp4.h"

/* Frames between the draw and encode threads: enough for both to keep busy. */
enum { FRAME_POOL = 3 };
/* Colour packets waiting for their alpha packet: the encoders' look-ahead. */
enum { PENDING_MAX = 32 };

struct pending {
    struct rc_buf data;
    uint64_t pts;
    bool key;
};

struct rc_session {
    struct rc_output output;
    struct rc_i420_layout layout;
    /* one encoder and writer, by format */
    struct rc_encoder *vp9, *vp9_alpha;
    struct rc_mux *webm;
    struct rc_h264 *h264;
    struct rc_mp4 *mp4;
    struct rc_gif *gif;
    /* the finished file, when one is wanted: its writers append to `file` */
    struct rc_mux *webm_file;
    struct rc_mp4 *mp4_file;
    bool want_file;
    struct rc_buf file;
    size_t samples_held; /* MP4: sample bytes the progressive writer holds */
    uint8_t *alpha_i420; /* the alpha plane as a grey I420 frame */
    struct pending pending[PENDING_MAX];
    size_t pending_first, pending_count;
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

static enum rc_err create_codecs(struct rc_session *s, struct rc_error *err)
{
    const struct rc_output *o = &s->output;
    enum rc_err rc = RC_OK;
    switch (o->format) {
    case RC_FORMAT_WEBM:
        rc = rc_encode_create(&o->encode, &s->vp9, err);
        if (rc == RC_OK && o->webm.alpha) {
            rc = rc_encode_create(&o->encode, &s->vp9_alpha, err);
            s->alpha_i420 = rc == RC_OK ? malloc(s->layout.frame_bytes) : NULL;
            if (rc == RC_OK && !s->alpha_i420) {
                rc = rc_error_set(err, RC_ERR_NOMEM, "", "out of memory");
            }
            if (rc == RC_OK) {
                /* Grey chroma: only the luma plane carries the alpha. */
                memset(s->alpha_i420 + s->layout.u_offset, 128, 2 * s->layout.chroma_bytes);
            }
        }
        struct rc_mux_settings file = o->webm;
        file.seekable = true;
        if (rc == RC_OK && !o->seekable && !(s->webm = rc_mux_create(&o->webm))) {
            rc = rc_error_set(err, RC_ERR_NOMEM, "", "out of memory");
        }
        if (rc == RC_OK && s->want_file && !(s->webm_file = rc_mux_create(&file))) {
            rc = rc_error_set(err, RC_ERR_NOMEM, "", "out of memory");
        }
        return rc;
    case RC_FORMAT_MP4: {
        rc = rc_h264_create(&o->encode, &s->h264, err);
        if (rc != RC_OK) {
            return rc;
        }
        struct rc_mp4_settings ms = {.width = o->webm.width,
                                     .height = o->webm.height,
                                     .fps = o->webm.fps,
                                     .frames = o->webm.frames};
        rc_h264_parameter_sets(s->h264, &ms.sps, &ms.sps_len, &ms.pps, &ms.pps_len);
        if (!o->seekable && !(s->mp4 = rc_mp4_create(&ms))) {
            rc = rc_error_set(err, RC_ERR_INTERNAL, "", "the MP4 writer refused the stream");
        }
        ms.progressive = true;
        if (rc == RC_OK && s->want_file && !(s->mp4_file = rc_mp4_create(&ms))) {
            rc = rc_error_set(err, RC_ERR_INTERNAL, "", "the MP4 writer refused the stream");
        }
        return rc;
    }
    case RC_FORMAT_GIF:
        return rc_gif_create(&o->gif, &s->gif, err);
    }
    return rc_error_set(err, RC_ERR_INTERNAL, "", "unknown format");
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
    for (size_t i = 0; i < PENDING_MAX; i++) {
        rc_buf_init(&s->pending[i].data);
    }
    rc_i420_layout(output->webm.width, output->webm.height, &s->layout);
    enum rc_err rc = create_codecs(s, err);
    if (rc != RC_OK) {
        goto out;
    }
    s->filled = rc_queue_create(FRAME_POOL + 1);
    s->free = rc_queue_create(FRAME_POOL + 1);
    if (!s->filled || !s->free) {
        rc = rc_error_set(err, RC_ERR_NOMEM, "", "out of memory");
        goto out;
    }
    size_t frame_bytes = rc_frame_bytes(output->frame, output->webm.width, output->webm.height);
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
    for (size_t i = 0; i < PENDING_MAX; i++) {
        rc_buf_finish(&session->pending[i].data);
    }
    rc_queue_destroy(session->filled);
    rc_queue_destroy(session->free);
    rc_mux_destroy(session->webm);
    rc_mux_destroy(session->webm_file);
    rc_mp4_destroy(session->mp4_file);
    rc_buf_finish(&session->file);
    rc_encode_destroy(session->vp9);
    rc_encode_destroy(session->vp9_alpha);
    free(session->alpha_i420);
    rc_mp4_destroy(session->mp4);
    rc_h264_destroy(session->h264);
    rc_gif_destroy(session->gif);
    rc_buf_finish(&session->bytes);
    free(session);
}

/* The finished file grew past its cap: a seekable clip fails; one kept only for
 * the clip cache is let go (the stream goes on). */
static enum rc_err check_file(struct rc_session *s)
{
    if (!s->want_file || s->file.len + s->samples_held <= s->output.max_file_bytes) {
        return RC_OK;
    }
    if (s->output.seekable) {
        return rc_error_set(&s->error, RC_ERR_TOO_LARGE, "output.seekable",
                            "the finished file would exceed %zu bytes; stream it instead",
                            s->output.max_file_bytes);
    }
    s->want_file = false;
    rc_mux_destroy(s->webm_file);
    rc_mp4_destroy(s->mp4_file);
    s->webm_file = NULL;
    s->mp4_file = NULL;
    rc_buf_finish(&s->file);
    return RC_OK;
}

/* Sends what `bytes` holds to the client (a GIF's bytes are also its finished
 * file); cancelled when the client has gone. A seekable clip sends nothing yet. */
static enum rc_err send_bytes(struct rc_session *s)
{
    if (s->gif && s->want_file && rc_buf_append(&s->file, s->bytes.data, s->bytes.len) != RC_OK) {
        return rc_error_set(&s->error, RC_ERR_NOMEM, "", "out of memory");
    }
    enum rc_err rc = check_file(s);
    if (rc != RC_OK || s->output.seekable || !s->bytes.len) {
        return rc;
    }
    if (!rc_bytequeue_write(s->out, s->bytes.data, s->bytes.len)) {
        return RC_ERR_CANCELLED;
    }
    return RC_OK;
}

bool rc_session_write_header(struct rc_session *session)
{
    struct rc_session *s = session;
    rc_buf_reset(&s->bytes);
    enum rc_err rc = RC_ERR_INTERNAL;
    switch (s->output.format) {
    case RC_FORMAT_WEBM:
        rc = s->webm ? rc_mux_write_header(s->webm, &s->bytes) : RC_OK;
        rc = rc || !s->webm_file ? rc : rc_mux_write_header(s->webm_file, &s->file);
        break;
    case RC_FORMAT_MP4:
        rc = s->mp4 ? rc_mp4_write_header(s->mp4, &s->bytes) : RC_OK;
        break;
    case RC_FORMAT_GIF:
        rc = rc_gif_write_header(s->gif, &s->bytes);
        break;
    }
    return rc == RC_OK && send_bytes(s) == RC_OK;
}

/* ---- the encoders' sinks: one packet muxed and queued for the client -------- */

static enum rc_err webm_packet(void *ctx, const void *data, size_t len, uint64_t pts, bool key)
{
    struct rc_session *s = ctx;
    double t0 = rc_clock_ms();
    rc_buf_reset(&s->bytes);
    enum rc_err rc = s->webm ? rc_mux_write_frame(s->webm, &s->bytes, pts, key, data, len) : RC_OK;
    if (rc == RC_OK && s->webm_file) {
        rc = rc_mux_write_frame(s->webm_file, &s->file, pts, key, data, len);
    }
    s->mux_ms += rc_clock_ms() - t0;
    return rc ? rc : send_bytes(s);
}

/* With alpha, a colour packet waits for the alpha packet of the same frame. */
static enum rc_err colour_packet(void *ctx, const void *data, size_t len, uint64_t pts, bool key)
{
    struct rc_session *s = ctx;
    if (s->pending_count == PENDING_MAX) {
        return RC_ERR_INTERNAL;
    }
    struct pending *p = &s->pending[(s->pending_first + s->pending_count) % PENDING_MAX];
    rc_buf_reset(&p->data);
    enum rc_err rc = rc_buf_append(&p->data, data, len);
    if (rc == RC_OK) {
        p->pts = pts;
        p->key = key;
        s->pending_count++;
    }
    return rc;
}

static enum rc_err alpha_packet(void *ctx, const void *data, size_t len, uint64_t pts, bool key)
{
    (void)key;
    struct rc_session *s = ctx;
    if (s->pending_count == 0 || s->pending[s->pending_first].pts != pts) {
        return RC_ERR_INTERNAL; /* the two encoders got out of step */
    }
    struct pending *p = &s->pending[s->pending_first];
    double t0 = rc_clock_ms();
    rc_buf_reset(&s->bytes);
    enum rc_err rc = s->webm ? rc_mux_write_frame_alpha(s->webm, &s->bytes, pts, p->key,
                                                        p->data.data, p->data.len, data, len)
                             : RC_OK;
    if (rc == RC_OK && s->webm_file) {
        rc = rc_mux_write_frame_alpha(s->webm_file, &s->file, pts, p->key, p->data.data,
                                      p->data.len, data, len);
    }
    s->mux_ms += rc_clock_ms() - t0;
    s->pending_first = (s->pending_first + 1) % PENDING_MAX;
    s->pending_count--;
    return rc ? rc : send_bytes(s);
}

static enum rc_err mp4_packet(void *ctx, const void *data, size_t len, uint64_t pts, bool key)
{
    struct rc_session *s = ctx;
    double t0 = rc_clock_ms();
    rc_buf_reset(&s->bytes);
    enum rc_err rc = s->mp4 ? rc_mp4_write_frame(s->mp4, &s->bytes, pts, key, data, len) : RC_OK;
    if (rc == RC_OK && s->mp4_file) {
        rc = rc_mp4_write_frame(s->mp4_file, &s->file, pts, key, data, len);
        s->samples_held += len; /* they wait inside the writer until the end */
        rc = rc ? rc : check_file(s);
    }
    s->mux_ms += rc_clock_ms() - t0;
    return rc ? rc : send_bytes(s);
}

static enum rc_err encode_frame(struct rc_session *s, const struct rc_session_frame *f)
{
    struct rc_error *err = &s->error;
    switch (s->output.format) {
    case RC_FORMAT_WEBM:
        if (!s->vp9_alpha) {
            return rc_encode_i420(s->vp9, f->pixels, f->index, webm_packet, s, err);
        } else {
            enum rc_err rc = rc_encode_i420(s->vp9, f->pixels, f->index, colour_packet, s, err);
            memcpy(s->alpha_i420, f->pixels + s->layout.frame_bytes, s->layout.y_bytes);
            return rc ? rc
                      : rc_encode_i420(s->vp9_alpha, s->alpha_i420, f->index, alpha_packet, s, err);
        }
    case RC_FORMAT_MP4:
        return rc_h264_encode(s->h264, f->pixels, f->index, mp4_packet, s, err);
    case RC_FORMAT_GIF: {
        rc_buf_reset(&s->bytes);
        enum rc_err rc = rc_gif_write_frame(s->gif, &s->bytes, f->index, f->pixels);
        if (rc != RC_OK) {
            return rc_error_set(err, rc, "", "the GIF writer failed");
        }
        return send_bytes(s);
    }
    }
    return RC_ERR_INTERNAL;
}

/* Drains look-ahead and closes the container. */
static enum rc_err finish_stream(struct rc_session *s)
{
    struct rc_error *err = &s->error;
    switch (s->output.format) {
    case RC_FORMAT_WEBM: {
        if (!s->vp9_alpha) {
            enum rc_err rc = rc_encode_flush(s->vp9, webm_packet, s, err);
            return rc || !s->webm_file ? rc : rc_mux_finish(s->webm_file, &s->file);
        }
        enum rc_err rc = rc_encode_flush(s->vp9, colour_packet, s, err);
        rc = rc ? rc : rc_encode_flush(s->vp9_alpha, alpha_packet, s, err);
        return rc || !s->webm_file ? rc : rc_mux_finish(s->webm_file, &s->file);
    }
    case RC_FORMAT_MP4:
        /* No look-ahead: every frame has left; a finished file is written now. */
        return s->mp4_file ? rc_mp4_finish(s->mp4_file, &s->file) : RC_OK;
    case RC_FORMAT_GIF: {
        rc_buf_reset(&s->bytes);
        enum rc_err rc = rc_gif_write_trailer(s->gif, &s->bytes);
        return rc ? rc_error_set(err, rc, "", "the GIF writer failed") : send_bytes(s);
    }
    }
    return RC_ERR_INTERNAL;
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
            s->status = encode_frame(s, f);
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
        s->status = finish_stream(s);
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
