/* The MP4 format (encode/format.h): H.264 frames in a fragmented MP4 stream and,
 * when wanted, a progressive MP4 file (moov first) written at the end. */
#include <stdlib.h>

#include "base/clock.h"
#include "encode/format.h"
#include "encode/h264.h"
#include "encode/mp4_writer.h"

struct mp4 {
    struct rc_h264 *h264;
    struct rc_mp4 *stream, *file;
    struct rc_format_out *out; /* the call in progress */
};

static void destroy(void *state)
{
    struct mp4 *m = state;
    if (!m) {
        return;
    }
    rc_mp4_destroy(m->stream);
    rc_mp4_destroy(m->file);
    rc_h264_destroy(m->h264);
    free(m);
}

static enum rc_err create(const struct rc_format_settings *settings, bool stream, bool file,
                          void **state, struct rc_error *err)
{
    struct mp4 *m = calloc(1, sizeof(*m));
    *state = m;
    if (!m) {
        return rc_error_set(err, RC_ERR_NOMEM, "", "out of memory");
    }
    enum rc_err rc = rc_h264_create(&settings->encode, &m->h264, err);
    if (rc != RC_OK) {
        return rc;
    }
    struct rc_mp4_settings ms = {.width = settings->webm.width,
                                 .height = settings->webm.height,
                                 .fps = settings->webm.fps,
                                 .frames = settings->webm.frames};
    rc_h264_parameter_sets(m->h264, &ms.sps, &ms.sps_len, &ms.pps, &ms.pps_len);
    if (stream && !(m->stream = rc_mp4_create(&ms))) {
        return rc_error_set(err, RC_ERR_INTERNAL, "", "the MP4 writer refused the stream");
    }
    ms.progressive = true;
    if (file && !(m->file = rc_mp4_create(&ms))) {
        return rc_error_set(err, RC_ERR_INTERNAL, "", "the MP4 writer refused the stream");
    }
    return RC_OK;
}

static enum rc_err header(void *state, struct rc_format_out *out, struct rc_error *err)
{
    (void)err;
    struct mp4 *m = state;
    /* A progressive file's header comes at the end, before its one mdat. */
    return m->stream ? rc_mp4_write_header(m->stream, out->stream) : RC_OK;
}

static enum rc_err packet(void *ctx, const void *data, size_t len, uint64_t pts, bool key)
{
    struct mp4 *m = ctx;
    double t0 = rc_clock_ms();
    enum rc_err rc =
        m->stream ? rc_mp4_write_frame(m->stream, m->out->stream, pts, key, data, len) : RC_OK;
    if (rc == RC_OK && m->file) {
        rc = rc_mp4_write_frame(m->file, m->out->file, pts, key, data, len);
        m->out->held += len; /* the samples wait inside the writer until the end */
    }
    m->out->mux_ms += rc_clock_ms() - t0;
    return rc;
}

static enum rc_err frame(void *state, const uint8_t *pixels, uint64_t index,
                         struct rc_format_out *out, struct rc_error *err)
{
    struct mp4 *m = state;
    m->out = out;
    return rc_h264_encode(m->h264, pixels, index, packet, m, err);
}

static enum rc_err finish(void *state, struct rc_format_out *out, struct rc_error *err)
{
    (void)err;
    struct mp4 *m = state;
    /* No look-ahead: every frame has left; a finished file is written now. */
    return m->file ? rc_mp4_finish(m->file, out->file) : RC_OK;
}

static void drop_file(void *state)
{
    struct mp4 *m = state;
    rc_mp4_destroy(m->file);
    m->file = NULL;
}

const struct rc_format_ops rc_format_mp4 = {
    .name = "mp4",
    .create = create,
    .header = header,
    .frame = frame,
    .finish = finish,
    .drop_file = drop_file,
    .destroy = destroy,
};
