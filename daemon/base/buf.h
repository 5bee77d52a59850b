/*
 * buf: a growable byte buffer.
 *
 * Single-threaded; a `struct rc_buf` is owned by whoever init'ed it and freed
 * with rc_buf_finish(). Appends return RC_OK or RC_ERR_NOMEM.
 */
#ifndef RC_BUF_H
#define RC_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

struct rc_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
};

void rc_buf_init(struct rc_buf *buf);
void rc_buf_finish(struct rc_buf *buf);
void rc_buf_reset(struct rc_buf *buf);
enum rc_err rc_buf_append(struct rc_buf *buf, const void *data, size_t len);
/* Room for `cap` bytes in all, exactly (a body of a known length grows into it
 * without copies). */
enum rc_err rc_buf_reserve(struct rc_buf *buf, size_t cap);

#endif
