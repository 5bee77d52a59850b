/* The .npy header parser: what numpy.save writes (versions 1, 2 and 3, every dtype
 * the daemon takes, both byte orders, C and Fortran order), and what it must refuse. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "raster/npy.h"

/* A .npy file: magic, version 1.0, the header padded to 64 bytes with its newline,
 * then `data_len` zero bytes. */
static size_t make(uint8_t *out, const char *header, size_t data_len)
{
    size_t hlen = strlen(header);
    size_t total = 10 + hlen + 1;
    size_t pad = (64 - total % 64) % 64;
    memcpy(out, "\x93NUMPY\x01\x00", 8);
    size_t n = hlen + pad + 1;
    out[8] = (uint8_t)(n & 0xff);
    out[9] = (uint8_t)(n >> 8);
    memcpy(out + 10, header, hlen);
    memset(out + 10 + hlen, ' ', pad);
    out[10 + hlen + pad] = '\n';
    memset(out + 10 + n, 0, data_len);
    return 10 + n + data_len;
}

static uint8_t buf[4096];

static void test_accepts(void)
{
    struct rc_npy a;
    struct rc_error err;
    size_t n = make(buf, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }", 48);
    CHECK(rc_npy_parse(buf, n, "raster", &a, &err) == RC_OK);
    CHECK(a.type == RC_NPY_F4 && a.item_bytes == 4 && !a.big_endian && !a.fortran);
    CHECK(a.bands == 1 && a.rows == 3 && a.cols == 4);
    CHECK(a.data == buf + n - 48);

    n = make(buf, "{'descr': '>u2', 'fortran_order': True, 'shape': (2, 3, 5), }", 60);
    CHECK(rc_npy_parse(buf, n, "raster", &a, &err) == RC_OK);
    CHECK(a.type == RC_NPY_U2 && a.big_endian && a.fortran);
    CHECK(a.bands == 2 && a.rows == 3 && a.cols == 5);

    n = make(buf, "{\"descr\": \"|i1\", \"shape\": (4, 4), \"fortran_order\": False}", 16);
    CHECK(rc_npy_parse(buf, n, "raster", &a, &err) == RC_OK);
    CHECK(a.type == RC_NPY_I1 && !a.big_endian);

    static const char *const types[] = {"<u1", "<i1", "<u2", "<i2", "<u4", "<i4", "<f4", "<f8"};
    for (size_t i = 0; i < 8; i++) {
        char header[128];
        snprintf(header, sizeof(header), "{'descr': '%s', 'fortran_order': False, 'shape': (2, 2)}",
                 types[i]);
        size_t item = (size_t)(types[i][2] - '0');
        n = make(buf, header, 4 * item);
        CHECK(rc_npy_parse(buf, n, "raster", &a, &err) == RC_OK);
        CHECK(a.item_bytes == item);
    }
}

static void expect_refused(const char *header, size_t data_len)
{
    struct rc_npy a;
    struct rc_error err;
    size_t n = make(buf, header, data_len);
    memset(&err, 0, sizeof(err));
    CHECK(rc_npy_parse(buf, n, "raster", &a, &err) == RC_ERR_IMPOSSIBLE);
    CHECK(strcmp(err.field, "raster") == 0 && err.message[0]);
}

static void test_refuses(void)
{
    expect_refused("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }", 47);
    expect_refused("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }", 49);
    expect_refused("{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", 16);
    expect_refused("{'descr': '<f4', 'fortran_order': False, 'shape': (8,), }", 32);
    expect_refused("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1), }", 4);
    expect_refused("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 4), }", 0);
    expect_refused("{'descr': '<f4', 'shape': (2, 2), }", 16);
    expect_refused("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2, 2), }", 16);
    expect_refused("{'descr': '|f4', 'fortran_order': False, 'shape': (2, 2), }", 16);
    expect_refused("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, "
                   "99999999999, 99999999999), }",
                   0);
    expect_refused("{'descr': '<O', 'fortran_order': False, 'shape': (2, 2), }", 16);
    struct rc_npy a;
    struct rc_error err;
    CHECK(rc_npy_parse((const uint8_t *)"\x93NUMPY", 6, "raster", &a, &err) != RC_OK);
    CHECK(rc_npy_parse((const uint8_t *)"GIF89a....", 10, "raster", &a, &err) != RC_OK);
    /* A header length past the end of the file. */
    size_t n = make(buf, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1), }", 4);
    buf[9] = 0x7f;
    CHECK(rc_npy_parse(buf, n, "raster", &a, &err) != RC_OK);
}

int main(void)
{
    test_accepts();
    test_refuses();
    return CHECK_DONE();
}
