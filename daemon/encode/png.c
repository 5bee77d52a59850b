#include "encode/png.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* A chunk: its length, type and data, and the CRC of type and data (PNG 1.2, 5.3). */
static void chunk(struct rc_buf *out, const char type[4], const uint8_t *data, size_t len)
{
    uint8_t head[8] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
                       (uint8_t)len,         (uint8_t)type[0],     (uint8_t)type[1],
                       (uint8_t)type[2],     (uint8_t)type[3]};
    uLong crc = crc32(0L, head + 4, 4);
    crc = crc32(crc, data, (uInt)len);
    uint8_t tail[4] = {(uint8_t)(crc >> 24), (uint8_t)(crc >> 16), (uint8_t)(crc >> 8),
                       (uint8_t)crc};
    rc_buf_append(out, head, sizeof(head));
    if (len) {
        rc_buf_append(out, data, len);
    }
    rc_buf_append(out, tail, sizeof(tail));
}

enum rc_err rc_png_encode(const uint8_t *rgba, unsigned width, unsigned height, struct rc_buf *out,
                          struct rc_error *err)
{
    /* Each row behind filter byte 0 (none): a legend's flat colours deflate well as they are. */
    size_t row = (size_t)width * 4 + 1, raw_len = row * height;
    uint8_t *raw = malloc(raw_len ? raw_len : 1);
    uLongf packed_len = compressBound((uLong)raw_len);
    uint8_t *packed = malloc(packed_len);
    if (!raw || !packed) {
        free(raw);
        free(packed);
        return rc_error_set(err, RC_ERR_NOMEM, "", "out of memory");
    }
    for (unsigned y = 0; y < height; y++) {
        raw[y * row] = 0;
        memcpy(raw + y * row + 1, rgba + (size_t)y * width * 4, (size_t)width * 4);
    }
    int z = compress2(packed, &packed_len, raw, (uLong)raw_len, Z_BEST_COMPRESSION);
    free(raw);
    if (z != Z_OK) {
        free(packed);
        return rc_error_set(err, RC_ERR_INTERNAL, "", "the image could not be compressed");
    }
    static const uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    /* Width, height, 8 bits, colour type 6 (RGBA), deflate, adaptive filters, no interlace. */
    const uint8_t ihdr[13] = {(uint8_t)(width >> 24),
                              (uint8_t)(width >> 16),
                              (uint8_t)(width >> 8),
                              (uint8_t)width,
                              (uint8_t)(height >> 24),
                              (uint8_t)(height >> 16),
                              (uint8_t)(height >> 8),
                              (uint8_t)height,
                              8,
                              6,
                              0,
                              0,
                              0};
    rc_buf_append(out, signature, sizeof(signature));
    chunk(out, "IHDR", ihdr, sizeof(ihdr));
    chunk(out, "IDAT", packed, packed_len);
    chunk(out, "IEND", NULL, 0);
    free(packed);
    return rc_buf_error(out) == RC_OK ? RC_OK
                                      : rc_error_set(err, RC_ERR_NOMEM, "", "out of memory");
}
