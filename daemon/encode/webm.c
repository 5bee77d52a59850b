/* The WebM format (encode/format.h): VP9 frames in a WebM stream and, when
 * wanted, a seekable WebM file; with alpha, a second VP9 encoder codes the alpha
 * plane and each colour packet waits for its frame's alpha packet. */
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "encode/convert.h"
#include "encode/format.h"

/* Colour packets waiting for their alpha packet: the encoders' look-ahead. */
enum { PENDING_MAX = 32 };

struct pending {
    struct rc_buf data;
    uint64_t pts;
    bool key;
};

struct webm {
    struct rc_i420_layout layout;
    struct rc_encoder *vp9, *vp9_alpha;
    struct rc_mux *stream, *file;
    uint8_t *alpha_i420; /* the alpha plane as a grey I420 frame */
    struct pending pending[PENDING_MAX];
    size_t pending_first, pending_count;
    struct rc_format_out *out; /* the call in progress */
};

static void destroy(void *state)
{
    struct webm *w = state;
    if (!w) {
        return;
    }
    for (size_t i = 0; i < PENDING_MAX; i++) {
        rc_buf_finish(&w->pending[i].data);
    }
    rc_encode_destroy(w->vp9);
    rc_encode_destroy(w->vp9_alpha);
    rc_mux_destroy(w->stream);
    rc_mux_destroy(w->file);
    free(w->alpha_i420);
    free(w);
}

static enum rc_err create(const struct rc_format_settings *settings, bool stream, bool file,
                          void **state, struct rc_error *err)
{
    struct webm *w = calloc(1, sizeof(*w));
    *state = w;
    if (!w) {
        return rc_error_set(err, RC_ERR_NOMEM, "", "out of memory");
    }
    for (size_t i = 0; i < PENDING_MAX; i++) {
        rc_buf_init(&w->pending[i].data);
    }
    rc_i420_layout(settings->webm.width, settings->webm.height, &w->layout);
    enum rc_err rc = rc_encode_create(&settings->encode, &w->vp9, err);
    if (rc == RC_OK && settings->webm.alpha) {
        rc = rc_encode_create(&settings->encode, &w->vp9_alpha, err);
        w->alpha_i420 = rc == RC_OK ? malloc(w->layout.frame_bytes) : NULL;
        if (rc == RC_OK && !w->alpha_i420) {
            rc = rc_error_set(err, RC_ERR_NOMEM, "", "out of memory");
        }
        if (rc == RC_OK) {
            /* Grey chroma: only the luma plane carries the alpha. */
            memset(w->alpha_i420 + w->layout.u_offset, 128, 2 * w->layout.chroma_bytes);
        }
    }
    struct rc_mux_settings seekable = settings->webm;
    seekable.seekable = true;
    if (rc == RC_OK && stream && !(w->stream = rc_mux_create(&settings->webm))) {
        rc = rc_error_set(err, RC_ERR_NOMEM, "", "out of memory");
    }
    if (rc == RC_OK && file && !(w->file = rc_mux_create(&seekable))) {
        rc = rc_error_set(err, RC_ERR_NOMEM, "", "out of memory");
    }
    return rc;
}

static enum rc_err header(void *state, struct rc_format_out *out, struct rc_error *err)
{
    (void)err;
    struct webm *w = state;
    enum rc_err rc = w->stream ? rc_mux_write_header(w->stream, out->stream) : RC_OK;
    return rc || !w->file ? rc : rc_mux_write_header(w->file, out->file);
}

/* ---- the encoders' sinks ------------------------------------------------- */

static enum rc_err packet(void *ctx, const void *data, size_t len, uint64_t pts, bool key)
{
    struct webm *w = ctx;
    double t0 = rc_clock_ms();
    enum rc_err rc =
        w->stream ? rc_mux_write_frame(w->stream, w->out->stream, pts, key, data, len) : RC_OK;
    if (rc == RC_OK && w->file) {
        rc = rc_mux_write_frame(w->file, w->out->file, pts, key, data, len);
    }
    w->out->mux_ms += rc_clock_ms() - t0;
    return rc;
}

/* With alpha, a colour packet waits for the alpha packet of the same frame. */
static enum rc_err colour_packet(void *ctx, const void *data, size_t len, uint64_t pts, bool key)
{
    struct webm *w = ctx;
    if (w->pending_count == PENDING_MAX) {
        return RC_ERR_INTERNAL;
    }
    struct pending *p = &w->pending[(w->pending_first + w->pending_count) % PENDING_MAX];
    rc_buf_reset(&p->data);
    enum rc_err rc = rc_buf_append(&p->data, data, len);
    if (rc == RC_OK) {
        p->pts = pts;
        p->key = key;
        w->pending_count++;
    }
    return rc;
}

static enum rc_err alpha_packet(void *ctx, const void *data, size_t len, uint64_t pts, bool key)
{
    (void)key;
    struct webm *w = ctx;
    if (w->pending_count == 0 || w->pending[w->pending_first].pts != pts) {
        return RC_ERR_INTERNAL; /* the two encoders got out of step */
    }
    struct pending *p = &w->pending[w->pending_first];
    double t0 = rc_clock_ms();
    enum rc_err rc = w->stream ? rc_mux_write_frame_alpha(w->stream, w->out->stream, pts, p->key,
                                                          p->data.data, p->data.len, data, len)
                               : RC_OK;
    if (rc == RC_OK && w->file) {
        rc = rc_mux_write_frame_alpha(w->file, w->out->file, pts, p->key, p->data.data, p->data.len,
                                      data, len);
    }
    w->out->mux_ms += rc_clock_ms() - t0;
    w->pending_first = (w->pending_first + 1) % PENDING_MAX;
    w->pending_count--;
    return rc;
}

static enum rc_err frame(void *state, const uint8_t *pixels, uint64_t index,
                         struct rc_format_out *out, struct rc_error *err)
{
    struct webm *w = state;
    w->out = out;
    if (!w->vp9_alpha) {
        return rc_encode_i420(w->vp9, pixels, index, packet, w, err);
    }
    enum rc_err rc = rc_encode_i420(w->vp9, pixels, index, colour_packet, w, err);
    memcpy(w->alpha_i420, pixels + w->layout.frame_bytes, w->layout.y_bytes);
    return rc ? rc : rc_encode_i420(w->vp9_alpha, w->alpha_i420, index, alpha_packet, w, err);
}

static enum rc_err finish(void *state, struct rc_format_out *out, struct rc_error *err)
{
    struct webm *w = state;
    w->out = out;
    enum rc_err rc;
    if (!w->vp9_alpha) {
        rc = rc_encode_flush(w->vp9, packet, w, err);
    } else {
        rc = rc_encode_flush(w->vp9, colour_packet, w, err);
        rc = rc ? rc : rc_encode_flush(w->vp9_alpha, alpha_packet, w, err);
    }
    return rc || !w->file ? rc : rc_mux_finish(w->file, out->file);
}

static void drop_file(void *state)
{
    struct webm *w = state;
    rc_mux_destroy(w->file);
    w->file = NULL;
}

const struct rc_format_ops rc_format_webm = {
    .name = "webm",
    .create = create,
    .header = header,
    .frame = frame,
    .finish = finish,
    .drop_file = drop_file,
    .destroy = destroy,
};
