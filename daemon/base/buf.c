#include "base/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rc_buf_init(struct rc_buf *buf)
{
    buf->data = NULL;
    buf->len = 0;
    buf->cap = 0;
    buf->error = RC_OK;
}

enum rc_err rc_buf_fail(struct rc_buf *buf, enum rc_err error)
{
    if (buf->error == RC_OK) {
        buf->error = error;
    }
    return buf->error;
}

void rc_buf_finish(struct rc_buf *buf)
{
    if (!buf) {
        return;
    }
    free(buf->data);
    rc_buf_init(buf);
}

void rc_buf_reset(struct rc_buf *buf)
{
    buf->len = 0;
}

enum rc_err rc_buf_reserve(struct rc_buf *buf, size_t cap)
{
    if (buf->error || cap <= buf->cap) {
        return buf->error;
    }
    uint8_t *grown = realloc(buf->data, cap);
    if (!grown) {
        return rc_buf_fail(buf, RC_ERR_NOMEM);
    }
    buf->data = grown;
    buf->cap = cap;
    return RC_OK;
}

enum rc_err rc_buf_append(struct rc_buf *buf, const void *data, size_t len)
{
    if (buf->error) {
        return buf->error;
    }
    if (len > SIZE_MAX - buf->len) {
        return rc_buf_fail(buf, RC_ERR_NOMEM);
    }
    if (buf->len + len > buf->cap) {
        size_t cap = buf->cap ? buf->cap : 256;
        while (cap < buf->len + len) {
            if (cap > SIZE_MAX / 2) {
                return rc_buf_fail(buf, RC_ERR_NOMEM);
            }
            cap *= 2;
        }
        uint8_t *grown = realloc(buf->data, cap);
        if (!grown) {
            return rc_buf_fail(buf, RC_ERR_NOMEM);
        }
        buf->data = grown;
        buf->cap = cap;
    }
    if (len) {
        memcpy(buf->data + buf->len, data, len);
    }
    buf->len += len;
    return RC_OK;
}

enum rc_err rc_buf_vprintf(struct rc_buf *buf, const char *fmt, va_list ap)
{
    va_list again;
    va_copy(again, ap);
    int n = buf->error ? 0 : vsnprintf(NULL, 0, fmt, ap);
    size_t need = buf->len + (n > 0 ? (size_t)n : 0) + 1;
    /* Grown by doubling, as appends grow, when the text does not fit. */
    size_t cap = need <= buf->cap ? buf->cap : need > 2 * buf->cap ? need : 2 * buf->cap;
    enum rc_err rc = n < 0 ? rc_buf_fail(buf, RC_ERR_INTERNAL) : rc_buf_reserve(buf, cap);
    if (rc == RC_OK) {
        vsnprintf((char *)buf->data + buf->len, (size_t)n + 1, fmt, again);
        buf->len += (size_t)n;
    }
    va_end(again);
    return rc;
}

enum rc_err rc_buf_printf(struct rc_buf *buf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    enum rc_err rc = rc_buf_vprintf(buf, fmt, ap);
    va_end(ap);
    return rc;
}
