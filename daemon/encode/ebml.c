#include "encode/ebml.h"

#include <stdlib.h>
#include <string.h>

size_t rc_ebml_vint_len(uint64_t value)
{
    /* A vint of n bytes holds 7n value bits; the all-ones value is reserved. */
    size_t n = 1;
    while (n < 8 && value >= (((uint64_t)1 << (7 * n)) - 1)) {
        n++;
    }
    return n;
}

static enum rc_err put_be(struct rc_buf *buf, uint64_t value, size_t n)
{
    uint8_t bytes[8];
    for (size_t i = 0; i < n; i++) {
        bytes[i] = (uint8_t)(value >> (8 * (n - 1 - i)));
    }
    return rc_buf_append(buf, bytes, n);
}

enum rc_err rc_ebml_id(struct rc_buf *buf, uint32_t id)
{
    /* IDs carry their own length marker, so they are written as their bytes. */
    size_t n = id > 0xFFFFFF ? 4 : id > 0xFFFF ? 3 : id > 0xFF ? 2 : 1;
    return put_be(buf, id, n);
}

enum rc_err rc_ebml_size(struct rc_buf *buf, uint64_t size)
{
    if (size == RC_EBML_UNKNOWN_SIZE) {
        return put_be(buf, 0x01FFFFFFFFFFFFFFull, 8);
    }
    size_t n = rc_ebml_vint_len(size);
    return put_be(buf, size | ((uint64_t)1 << (7 * n)), n);
}

static enum rc_err element(struct rc_buf *buf, uint32_t id, const void *data, size_t len)
{
    rc_ebml_id(buf, id);
    rc_ebml_size(buf, len);
    return rc_buf_append(buf, data, len); /* the buffer's first error, if any */
}

enum rc_err rc_ebml_uint(struct rc_buf *buf, uint32_t id, uint64_t value)
{
    size_t n = 1;
    while (n < 8 && (value >> (8 * n)) != 0) {
        n++;
    }
    uint8_t bytes[8];
    for (size_t i = 0; i < n; i++) {
        bytes[i] = (uint8_t)(value >> (8 * (n - 1 - i)));
    }
    return element(buf, id, bytes, n);
}

enum rc_err rc_ebml_float(struct rc_buf *buf, uint32_t id, double value)
{
    uint64_t bits;
    memcpy(&bits, &value, sizeof(bits));
    uint8_t bytes[8];
    for (size_t i = 0; i < 8; i++) {
        bytes[i] = (uint8_t)(bits >> (8 * (7 - i)));
    }
    return element(buf, id, bytes, 8);
}

enum rc_err rc_ebml_string(struct rc_buf *buf, uint32_t id, const char *value)
{
    return element(buf, id, value, strlen(value));
}

enum rc_err rc_ebml_binary(struct rc_buf *buf, uint32_t id, const void *data, size_t len)
{
    return element(buf, id, data, len);
}

enum rc_err rc_ebml_master(struct rc_buf *buf, uint32_t id, const struct rc_buf *children)
{
    if (children->error) {
        return rc_buf_fail(buf, children->error); /* a part is missing: so is the whole */
    }
    return element(buf, id, children->data, children->len);
}
