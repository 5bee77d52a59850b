#include "raster/memory.h"

#include <cpl_vsi.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "raster/npy.h"

void rc_memory_digest(const uint8_t *data, size_t len, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    if (!EVP_Digest(data, len, md, &md_len, EVP_sha256(), NULL)) {
        md_len = 0;
    }
    for (unsigned i = 0; i < 32; i++) {
        snprintf(out + 2 * i, 3, "%02x", i < md_len ? md[i] : 0);
    }
    out[64] = '\0';
}

static const char *const mem_drivers[] = {"MEM", NULL};

/* GDAL's MEM data type for an array item once in native order. */
static const char *gdal_type(enum rc_npy_type t)
{
    switch (t) {
    case RC_NPY_U1:
        return "Byte";
    case RC_NPY_I1: /* widened: MEM has no signed byte before GDAL 3.7 */
    case RC_NPY_I2:
        return "Int16";
    case RC_NPY_U2:
        return "UInt16";
    case RC_NPY_U4:
        return "UInt32";
    case RC_NPY_I4:
        return "Int32";
    case RC_NPY_F4:
        return "Float32";
    case RC_NPY_F8:
        return "Float64";
    }
    return "Byte";
}

/* A native-order copy: bytes swapped, or int8 widened to int16. */
static void *native_copy(const struct rc_npy *a, size_t items, size_t *item_bytes)
{
    if (a->type == RC_NPY_I1) {
        int16_t *out = malloc(items * sizeof(*out));
        for (size_t i = 0; out && i < items; i++) {
            out[i] = (int8_t)a->data[i];
        }
        *item_bytes = 2;
        return out;
    }
    uint8_t *out = malloc(items * a->item_bytes);
    for (size_t i = 0; out && i < items; i++) {
        for (size_t b = 0; b < a->item_bytes; b++) {
            out[i * a->item_bytes + b] = a->data[i * a->item_bytes + a->item_bytes - 1 - b];
        }
    }
    *item_bytes = a->item_bytes;
    return out;
}

static enum rc_err open_npy(const uint8_t *data, size_t len, const char *field,
                            struct rc_memory_source *src, struct rc_error *err)
{
    struct rc_npy a;
    enum rc_err rc = rc_npy_parse(data, len, field, &a, err);
    if (rc != RC_OK) {
        return rc;
    }
    size_t items = a.bands * a.rows * a.cols, item = a.item_bytes;
    const void *base = a.data;
    if (a.big_endian || a.type == RC_NPY_I1) {
        src->copy = native_copy(&a, items, &item);
        if (!src->copy) {
            return rc_error_set(err, RC_ERR_NOMEM, field, "out of memory");
        }
        base = src->copy;
    }
    /* Strides of (bands, rows, cols) in C order, or in Fortran order (the first
     * index varies fastest). */
    size_t pixel = item, line = item * a.cols, band = item * a.rows * a.cols;
    if (a.fortran) {
        band = item;
        line = item * a.bands;
        pixel = item * a.bands * a.rows;
    }
    int n =
        snprintf(src->path, sizeof(src->path),
                 "MEM:::DATAPOINTER=0x%" PRIxPTR ",PIXELS=%zu,LINES=%zu,BANDS=%zu,DATATYPE=%s,"
                 "PIXELOFFSET=%zu,LINEOFFSET=%zu,BANDOFFSET=%zu",
                 (uintptr_t)base, a.cols, a.rows, a.bands, gdal_type(a.type), pixel, line, band);
    if (n < 0 || (size_t)n >= sizeof(src->path)) {
        return rc_error_set(err, RC_ERR_INTERNAL, field, "cannot describe the array");
    }
    src->drivers = mem_drivers;
    return RC_OK;
}

enum rc_err rc_memory_open(const uint8_t *data, size_t len, const char *field,
                           const char *const *file_drivers, struct rc_memory_source *src,
                           struct rc_error *err)
{
    memset(src, 0, sizeof(*src));
    if (rc_npy_is(data, len)) {
        return open_npy(data, len, field, src, err);
    }
    static atomic_uint_fast64_t serial;
    snprintf(src->path, sizeof(src->path), "/vsimem/rasterclip/upload-%" PRIuFAST64,
             atomic_fetch_add(&serial, 1));
    VSILFILE *f = VSIFileFromMemBuffer(src->path, (GByte *)data, (vsi_l_offset)len, FALSE);
    if (!f) {
        return rc_error_set(err, RC_ERR_NOMEM, field, "out of memory");
    }
    VSIFCloseL(f);
    src->vsimem = true;
    src->drivers = file_drivers;
    return RC_OK;
}

void rc_memory_close(struct rc_memory_source *src)
{
    if (src->vsimem) {
        VSIUnlink(src->path);
        src->vsimem = false;
    }
    free(src->copy);
    src->copy = NULL;
}
