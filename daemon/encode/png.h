/*
 * png: an RGBA image as a PNG file (8 bits a channel, straight alpha), deflated
 * with zlib. GET /v1/legend's answer. Any thread.
 */
#ifndef RC_PNG_H
#define RC_PNG_H

#include <stdint.h>

#include "base/buf.h"
#include "base/error.h"

/* Appends the PNG of `rgba` (width x height, top row first, straight alpha). */
enum rc_err rc_png_encode(const uint8_t *rgba, unsigned width, unsigned height, struct rc_buf *out,
                          struct rc_error *err);

#endif
