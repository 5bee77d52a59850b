/*
 * ebml: the EBML element writers the WebM muxer uses (RFC 8794: variable-size
 * integers, element IDs, unsigned/float/string/binary elements, masters of known
 * or unknown size), appending to a `struct rc_buf`.
 *
 * Single-threaded. Writers return the buffer's error (base/buf.h: sticky), so a
 * run of them may be checked once at its end; a master whose children's buffer
 * failed fails too.
 */
#ifndef RC_EBML_H
#define RC_EBML_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/error.h"

/* Size value that marks a master element of unknown size (all ones, 8 bytes). */
#define RC_EBML_UNKNOWN_SIZE UINT64_MAX

/* Bytes a size needs as an EBML variable-size integer (1..8). */
size_t rc_ebml_vint_len(uint64_t value);

enum rc_err rc_ebml_id(struct rc_buf *buf, uint32_t id);
/* Writes `size` as a minimal vint, or 8 bytes of all ones for RC_EBML_UNKNOWN_SIZE. */
enum rc_err rc_ebml_size(struct rc_buf *buf, uint64_t size);
enum rc_err rc_ebml_uint(struct rc_buf *buf, uint32_t id, uint64_t value);
enum rc_err rc_ebml_float(struct rc_buf *buf, uint32_t id, double value);
enum rc_err rc_ebml_string(struct rc_buf *buf, uint32_t id, const char *value);
enum rc_err rc_ebml_binary(struct rc_buf *buf, uint32_t id, const void *data, size_t len);
/* Writes a master element whose body is the whole of `children`. */
enum rc_err rc_ebml_master(struct rc_buf *buf, uint32_t id, const struct rc_buf *children);

#endif
