/*
 * gif: a streaming animated GIF (GIF89a) writer with giflib: one global palette
 * (encode/palette.h), loops forever (the NETSCAPE2.0 extension), frame delays in
 * hundredths of a second that keep the frame rate on average (30 fps: 3, 3, 4,
 * 3, 3, 4, ...), and only the rectangle that changed since the previous frame
 * written for each frame. With a transparent background the palette's last index
 * is transparent; each frame then covers its opaque pixels and is disposed to the
 * background before the next.
 *
 * Takes RGBA frames (the draw thread's readback, not I420). One thread at a time
 * per writer; the caller owns it.
 */
#ifndef RC_GIF_H
#define RC_GIF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/error.h"
#include "encode/palette.h"

struct rc_gif_settings {
    unsigned width, height, fps;
    struct rc_palette palette; /* at most 255 entries with `transparent` */
    enum rc_dither dither;
    bool transparent;
};

struct rc_gif;

enum rc_err rc_gif_create(const struct rc_gif_settings *settings, struct rc_gif **out,
                          struct rc_error *err);
void rc_gif_destroy(struct rc_gif *gif);

/* Appends the header, screen descriptor, global colour table and loop extension. */
enum rc_err rc_gif_write_header(struct rc_gif *gif, struct rc_buf *out);
/* Appends frame `index` (RGBA, top row first). Frames come in order. */
enum rc_err rc_gif_write_frame(struct rc_gif *gif, struct rc_buf *out, uint64_t index,
                               const uint8_t *rgba);
/* Appends the trailer; nothing may follow. */
enum rc_err rc_gif_write_trailer(struct rc_gif *gif, struct rc_buf *out);

/* Milliseconds spent mapping colours and compressing. */
double rc_gif_ms(const struct rc_gif *gif);
const char *rc_gif_library_version(void);

/* The delay of frame `index` at `fps`, in hundredths of a second. */
unsigned rc_gif_delay_cs(uint64_t index, unsigned fps);

#endif
