/*
 * format: one clip format as a table — the encoder and the container that
 * carry it, driven the same way for every format by the session
 * (pipeline/session.h). A format writes to at most two outputs: the stream,
 * which the session sends to the client after every call, and the finished
 * file (seekable, or kept for the clip cache). Adding a format is one file and
 * one table, with no switch to extend elsewhere.
 *
 * A format's state belongs to the thread that drives it. destroy() always runs,
 * after create() succeeded or failed part way (it takes a NULL state too).
 */
#ifndef RC_FORMAT_H
#define RC_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/error.h"
#include "encode/gif.h"
#include "encode/vp9.h"
#include "encode/webm_writer.h"

/* Every format's settings; each reads its own. */
struct rc_format_settings {
    struct rc_encode_settings encode; /* VP9 or H.264 */
    struct rc_mux_settings webm;      /* the size, rate, length and alpha of every format */
    struct rc_gif_settings gif;
};

/* Where a call writes, and what it reports. */
struct rc_format_out {
    struct rc_buf *stream; /* NULL: no stream (the client waits for the file) */
    struct rc_buf *file;   /* NULL: no finished file */
    double mux_ms;         /* time in the container writers, added to */
    size_t held;           /* bytes the file's writer keeps until finish() (MP4 samples) */
};

struct rc_format_ops {
    const char *name;
    /* `stream` and `file`: which outputs the calls will be given. */
    enum rc_err (*create)(const struct rc_format_settings *settings, bool stream, bool file,
                          void **state, struct rc_error *err);
    enum rc_err (*header)(void *state, struct rc_format_out *out, struct rc_error *err);
    /* One frame of the session's frame kind (I420, I420 + alpha plane, RGBA). */
    enum rc_err (*frame)(void *state, const uint8_t *pixels, uint64_t index,
                         struct rc_format_out *out, struct rc_error *err);
    /* Drains the encoder's look-ahead and closes the outputs. */
    enum rc_err (*finish)(void *state, struct rc_format_out *out, struct rc_error *err);
    /* The finished file is given up (too large): its writer goes. */
    void (*drop_file)(void *state);
    void (*destroy)(void *state);
};

extern const struct rc_format_ops rc_format_webm; /* VP9 in WebM, alpha as a second VP9 */
extern const struct rc_format_ops rc_format_mp4;  /* H.264 in MP4 */
extern const struct rc_format_ops rc_format_gif;  /* GIF89a */

#endif
