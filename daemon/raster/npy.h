/*
 * npy: the header of a NumPy .npy file (format versions 1.0, 2.0 and 3.0), read
 * without trusting it: magic, version, header length, and a header dictionary with
 * exactly 'descr', 'fortran_order' and 'shape', checked against the bytes that
 * follow. Pure functions; any thread.
 */
#ifndef RC_NPY_H
#define RC_NPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

enum rc_npy_type {
    RC_NPY_U1,
    RC_NPY_I1,
    RC_NPY_U2,
    RC_NPY_I2,
    RC_NPY_U4,
    RC_NPY_I4,
    RC_NPY_F4,
    RC_NPY_F8,
};

struct rc_npy {
    enum rc_npy_type type;
    size_t item_bytes;
    bool big_endian;          /* of the data as stored */
    bool fortran;             /* column-major */
    size_t bands, rows, cols; /* shape (rows, cols) is one band */
    const uint8_t *data;      /* into the buffer parsed; bands * rows * cols items */
};

/* True when `data` starts with the .npy magic. */
bool rc_npy_is(const uint8_t *data, size_t len);

/* Parses the header; errors name `field`. */
enum rc_err rc_npy_parse(const uint8_t *data, size_t len, const char *field, struct rc_npy *out,
                         struct rc_error *err);

#endif
