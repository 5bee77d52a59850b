/* EBML writer and WebM muxer: IDs, vint sizes, element encodings, live layout. */
#include <string.h>

#include "base/metrics.h"
#include "check.h"
#include "encode/ebml.h"
#include "encode/webm_writer.h"

static int bytes_equal(const struct rc_buf *b, const unsigned char *want, size_t n)
{
    return b->len == n && memcmp(b->data, want, n) == 0;
}

static void test_vint(void)
{
    /* RFC 8794 4.4: widths by value; all-ones of a width is reserved. */
    CHECK(rc_ebml_vint_len(0) == 1);
    CHECK(rc_ebml_vint_len(126) == 1);
    CHECK(rc_ebml_vint_len(127) == 2);
    CHECK(rc_ebml_vint_len(16382) == 2);
    CHECK(rc_ebml_vint_len(16383) == 3);
    CHECK(rc_ebml_vint_len((1ull << 56) - 2) == 8);

    struct rc_buf b;
    rc_buf_init(&b);
    rc_ebml_size(&b, 5);
    CHECK(bytes_equal(&b, (const unsigned char[]){0x85}, 1));
    rc_buf_reset(&b);
    rc_ebml_size(&b, 127);
    CHECK(bytes_equal(&b, (const unsigned char[]){0x40, 0x7F}, 2));
    rc_buf_reset(&b);
    rc_ebml_size(&b, 0x123456);
    CHECK(bytes_equal(&b, (const unsigned char[]){0x32, 0x34, 0x56}, 3)); /* 0x200000 | value */
    rc_buf_reset(&b);
    rc_ebml_size(&b, RC_EBML_UNKNOWN_SIZE);
    CHECK(bytes_equal(&b, (const unsigned char[]){0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF},
                      8));
    rc_buf_finish(&b);
}

static void test_elements(void)
{
    struct rc_buf b;
    rc_buf_init(&b);
    rc_ebml_id(&b, 0x1A45DFA3);
    CHECK(bytes_equal(&b, (const unsigned char[]){0x1A, 0x45, 0xDF, 0xA3}, 4));
    rc_buf_reset(&b);
    rc_ebml_id(&b, 0xA3);
    CHECK(bytes_equal(&b, (const unsigned char[]){0xA3}, 1));
    rc_buf_reset(&b);
    rc_ebml_uint(&b, 0x2AD7B1, 1000000); /* TimecodeScale: 0x0F4240 in 3 bytes */
    CHECK(bytes_equal(&b, (const unsigned char[]){0x2A, 0xD7, 0xB1, 0x83, 0x0F, 0x42, 0x40}, 7));
    rc_buf_reset(&b);
    rc_ebml_uint(&b, 0xD7, 0); /* zero still takes one byte */
    CHECK(bytes_equal(&b, (const unsigned char[]){0xD7, 0x81, 0x00}, 3));
    rc_buf_reset(&b);
    rc_ebml_float(&b, 0x4489, 4000.0); /* IEEE 754 double, big-endian */
    CHECK(bytes_equal(
        &b, (const unsigned char[]){0x44, 0x89, 0x88, 0x40, 0xAF, 0x40, 0, 0, 0, 0, 0}, 11));
    rc_buf_reset(&b);
    rc_ebml_string(&b, 0x86, "V_VP9");
    CHECK(bytes_equal(&b, (const unsigned char[]){0x86, 0x85, 'V', '_', 'V', 'P', '9'}, 7));
    rc_buf_finish(&b);
}

/* Finds an element ID's bytes in a buffer; returns offset or -1. */
static long find(const struct rc_buf *b, const unsigned char *id, size_t n, size_t from)
{
    for (size_t i = from; i + n <= b->len; i++) {
        if (memcmp(b->data + i, id, n) == 0) {
            return (long)i;
        }
    }
    return -1;
}

static void test_mux(void)
{
    struct rc_mux_settings s = {.width = 320, .height = 180, .fps = 30, .frames = 90};
    struct rc_mux *mux = rc_mux_create(&s);
    CHECK(mux != NULL);
    struct rc_buf b;
    rc_buf_init(&b);
    CHECK(rc_mux_write_header(mux, &b) == RC_OK);
    static const unsigned char segment[] = {0x18, 0x53, 0x80, 0x67, 0x01, 0xFF,
                                            0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    CHECK(find(&b, segment, sizeof(segment), 0) > 0);
    static const unsigned char codec[] = {0x86, 0x85, 'V', '_', 'V', 'P', '9'};
    CHECK(find(&b, codec, sizeof(codec), 0) > 0);
    /* Duration 3000 ms as a double. */
    static const unsigned char duration[] = {0x44, 0x89, 0x88, 0x40, 0xA7, 0x70, 0, 0, 0, 0, 0};
    CHECK(find(&b, duration, sizeof(duration), 0) > 0);
    /* DefaultDuration 33333333 ns. */
    static const unsigned char dd[] = {0x23, 0xE3, 0x83, 0x84, 0x01, 0xFC, 0xA0, 0x55};
    CHECK(find(&b, dd, sizeof(dd), 0) > 0);

    /* A delta frame cannot start the stream. */
    size_t before = b.len;
    CHECK(rc_mux_write_frame(mux, &b, 0, false, "x", 1) != RC_OK);
    CHECK(b.len == before);

    static const unsigned char cluster[] = {0x1F, 0x43, 0xB6, 0x75};
    unsigned char payload[3] = {1, 2, 3};
    CHECK(rc_mux_write_frame(mux, &b, 0, true, payload, 3) == RC_OK);
    long c0 = find(&b, cluster, 4, before);
    CHECK(c0 == (long)before);
    /* SimpleBlock: size 7, track 1, timecode +0, keyframe flag, payload. */
    static const unsigned char block0[] = {0xA3, 0x87, 0x81, 0x00, 0x00, 0x80, 1, 2, 3};
    CHECK(find(&b, block0, sizeof(block0), before) > 0);
    size_t after_first = b.len;
    CHECK(rc_mux_write_frame(mux, &b, 1, false, payload, 3) == RC_OK);
    CHECK(find(&b, cluster, 4, after_first) == -1); /* same cluster */
    static const unsigned char block1[] = {0xA3, 0x87, 0x81, 0x00, 0x21, 0x00, 1, 2, 3}; /* 33 ms */
    CHECK(find(&b, block1, sizeof(block1), after_first) == (long)after_first);
    size_t after_second = b.len;
    CHECK(rc_mux_write_frame(mux, &b, 60, true, payload, 3) == RC_OK);
    CHECK(find(&b, cluster, 4, after_second) == (long)after_second); /* keyframe: new cluster */
    /* Cluster Timecode 2000 ms. */
    static const unsigned char tc[] = {0xE7, 0x82, 0x07, 0xD0};
    CHECK(find(&b, tc, sizeof(tc), after_second) > 0);

    /* A delta frame 40 s after its cluster's start opens a new cluster. */
    size_t mark = b.len;
    CHECK(rc_mux_write_frame(mux, &b, 60 + 30 * 40, false, payload, 3) == RC_OK);
    CHECK(find(&b, cluster, 4, mark) == (long)mark);
    CHECK(rc_mux_timecode_ms(mux, 1) == 33);
    CHECK(rc_mux_timecode_ms(mux, 2) == 67);
    rc_buf_finish(&b);
    rc_mux_destroy(mux);
}

/* A buffer's first failure sticks: writers that meet a failed buffer write and
 * patch nothing and report that failure; a master of failed children fails. */
static void test_sticky_errors(void)
{
    struct rc_buf failed;
    rc_buf_init(&failed);
    CHECK(rc_buf_fail(&failed, RC_ERR_NOMEM) == RC_ERR_NOMEM);
    CHECK(rc_buf_fail(&failed, RC_ERR_INTERNAL) == RC_ERR_NOMEM); /* the first stays */
    CHECK(rc_buf_append(&failed, "x", 1) == RC_ERR_NOMEM && failed.len == 0);
    struct rc_mux_settings s = {
        .width = 64, .height = 36, .fps = 30, .frames = 3, .seekable = true};
    struct rc_mux *mux = rc_mux_create(&s);
    CHECK(rc_mux_write_header(mux, &failed) == RC_ERR_NOMEM && failed.len == 0);
    CHECK(rc_mux_finish(mux, &failed) == RC_ERR_NOMEM && failed.len == 0);
    rc_mux_destroy(mux);
    struct rc_buf whole;
    rc_buf_init(&whole);
    CHECK(rc_ebml_master(&whole, 0x1A45DFA3, &failed) == RC_ERR_NOMEM);
    CHECK(rc_buf_error(&whole) == RC_ERR_NOMEM && whole.len == 0);
    rc_buf_finish(&whole);
    rc_buf_finish(&failed);
    CHECK(rc_buf_error(&failed) == RC_OK); /* finished: a fresh buffer */
    /* Formatted text of any length goes in whole; a failed buffer takes none. */
    struct rc_buf text;
    rc_buf_init(&text);
    char name[600];
    memset(name, 'a', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    rc_metrics_printf(&text, "ok 1\n");
    CHECK(rc_buf_error(&text) == RC_OK && text.len == 5);
    size_t cap = text.cap;
    for (int i = 0; i < 100; i++) {
        rc_buf_printf(&text, "%s", "");
    }
    CHECK(text.cap == cap); /* what fits grows nothing */
    rc_metrics_printf(&text, "%s 1\n", name);
    CHECK(rc_buf_error(&text) == RC_OK && text.len == 5 + 599 + 3);
    CHECK(memcmp(text.data + 5, name, 599) == 0);
    rc_buf_fail(&text, RC_ERR_NOMEM);
    CHECK(rc_buf_printf(&text, "more\n") == RC_ERR_NOMEM && text.len == 5 + 599 + 3);
    rc_buf_finish(&text);
}

int main(void)
{
    test_vint();
    test_elements();
    test_mux();
    test_sticky_errors();
    return CHECK_DONE();
}
