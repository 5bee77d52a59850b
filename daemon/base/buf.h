/*
 * buf: a growable byte buffer.
 *
 * Single-threaded; a `struct rc_buf` is owned by whoever init'ed it and freed
 * with rc_buf_finish(). The first failed append (out of memory) is kept in
 * `error`, sticky until the buffer is finished: later appends do nothing and
 * return it, so a writer may append a whole structure and look once, at the
 * end (rc_buf_error), before it patches what it wrote. Appends return RC_OK or
 * the buffer's error.
 */
#ifndef RC_BUF_H
#define RC_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

struct rc_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
    enum rc_err error; /* the first append that failed; RC_OK */
};

void rc_buf_init(struct rc_buf *buf);
void rc_buf_finish(struct rc_buf *buf);
/* Empties the buffer (its error stays). */
void rc_buf_reset(struct rc_buf *buf);
enum rc_err rc_buf_append(struct rc_buf *buf, const void *data, size_t len);
/* Room for `cap` bytes in all, exactly (a body of a known length grows into it
 * without copies). */
enum rc_err rc_buf_reserve(struct rc_buf *buf, size_t cap);
/* Appends printf-formatted text (any length). */
enum rc_err rc_buf_printf(struct rc_buf *buf, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
enum rc_err rc_buf_vprintf(struct rc_buf *buf, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* The buffer's error: RC_OK while every append has succeeded. */
static inline enum rc_err rc_buf_error(const struct rc_buf *buf)
{
    return buf->error;
}
/* Marks the buffer failed with `error` (a writer's own failure), unless it
 * already is; returns the buffer's error. */
enum rc_err rc_buf_fail(struct rc_buf *buf, enum rc_err error);

#endif
