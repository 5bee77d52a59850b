#include "raster/npy.h"

#include <string.h>

static const uint8_t MAGIC[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

enum { MAX_HEADER = 1 << 16 };

bool rc_npy_is(const uint8_t *data, size_t len)
{
    return len >= sizeof(MAGIC) && memcmp(data, MAGIC, sizeof(MAGIC)) == 0;
}

/* A cursor over the header text (a Python dict literal). */
struct cursor {
    const char *p, *end;
};

static void skip_space(struct cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n')) {
        c->p++;
    }
}

static bool take(struct cursor *c, char ch)
{
    skip_space(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return true;
    }
    return false;
}

/* A quoted string ('...' or "..."), no escapes (npy headers have none). */
static bool string(struct cursor *c, char *out, size_t size)
{
    skip_space(c);
    if (c->p >= c->end || (*c->p != '\'' && *c->p != '"')) {
        return false;
    }
    char quote = *c->p++;
    size_t n = 0;
    while (c->p < c->end && *c->p != quote) {
        if (n + 1 >= size) {
            return false;
        }
        out[n++] = *c->p++;
    }
    out[n] = '\0';
    return take(c, quote);
}

static bool word(struct cursor *c, const char *w)
{
    skip_space(c);
    size_t n = strlen(w);
    if ((size_t)(c->end - c->p) >= n && memcmp(c->p, w, n) == 0) {
        c->p += n;
        return true;
    }
    return false;
}

static bool number(struct cursor *c, size_t *out)
{
    skip_space(c);
    size_t v = 0;
    const char *start = c->p;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
        size_t digit = (size_t)(*c->p - '0');
        if (v > (SIZE_MAX - digit) / 10) {
            return false;
        }
        v = v * 10 + digit;
        c->p++;
    }
    if (c->p == start) {
        return false;
    }
    take(c, 'L'); /* Python 2 longs */
    *out = v;
    return true;
}

/* (a,) or (a, b) or (a, b, c): 1 to 3 dimensions, a trailing comma allowed. */
static bool shape(struct cursor *c, size_t dims[3], size_t *count)
{
    if (!take(c, '(')) {
        return false;
    }
    *count = 0;
    while (!take(c, ')')) {
        if (*count == 3 || !number(c, &dims[*count])) {
            return false;
        }
        (*count)++;
        if (!take(c, ',') && !(skip_space(c), c->p < c->end && *c->p == ')')) {
            return false;
        }
    }
    return true;
}

static bool descr(const char *d, struct rc_npy *out)
{
    static const struct {
        char kind;
        size_t bytes;
        enum rc_npy_type type;
    } types[] = {
        {'u', 1, RC_NPY_U1}, {'i', 1, RC_NPY_I1}, {'u', 2, RC_NPY_U2}, {'i', 2, RC_NPY_I2},
        {'u', 4, RC_NPY_U4}, {'i', 4, RC_NPY_I4}, {'f', 4, RC_NPY_F4}, {'f', 8, RC_NPY_F8},
    };
    if (strlen(d) != 3 || (d[0] != '<' && d[0] != '>' && d[0] != '|' && d[0] != '=') ||
        d[2] < '1' || d[2] > '8') {
        return false;
    }
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        if (types[i].kind == d[1] && types[i].bytes == (size_t)(d[2] - '0')) {
            out->type = types[i].type;
            out->item_bytes = types[i].bytes;
            /* '=' is native; this daemon runs little-endian hosts only (x86-64, arm64). */
            out->big_endian = d[0] == '>' && types[i].bytes > 1;
            return d[0] != '|' || types[i].bytes == 1;
        }
    }
    return false;
}

enum rc_err rc_npy_parse(const uint8_t *data, size_t len, const char *field, struct rc_npy *out,
                         struct rc_error *err)
{
    memset(out, 0, sizeof(*out));
    if (!rc_npy_is(data, len) || len < 10) {
        return rc_error_set(err, RC_ERR_IMPOSSIBLE, field, "not a .npy file");
    }
    unsigned major = data[6];
    size_t header_len, header_at;
    if (major == 1) {
        header_len = (size_t)data[8] | (size_t)data[9] << 8;
        header_at = 10;
    } else if ((major == 2 || major == 3) && len >= 12) {
        header_len = (size_t)data[8] | (size_t)data[9] << 8 | (size_t)data[10] << 16 |
                     (size_t)data[11] << 24;
        header_at = 12;
    } else {
        return rc_error_set(err, RC_ERR_IMPOSSIBLE, field, ".npy format version %u is not known",
                            major);
    }
    if (header_len > MAX_HEADER || header_len > len - header_at) {
        return rc_error_set(err, RC_ERR_IMPOSSIBLE, field, "the .npy header is truncated");
    }
    struct cursor c = {(const char *)data + header_at, (const char *)data + header_at + header_len};
    bool have_descr = false, have_order = false, have_shape = false;
    size_t dims[3] = {0, 0, 0}, ndim = 0;
    bool ok = take(&c, '{');
    while (ok && !take(&c, '}')) {
        char key[32], value[16];
        ok = string(&c, key, sizeof(key)) && take(&c, ':');
        if (ok && strcmp(key, "descr") == 0 && !have_descr) {
            ok = string(&c, value, sizeof(value)) && descr(value, out);
            have_descr = true;
        } else if (ok && strcmp(key, "fortran_order") == 0 && !have_order) {
            out->fortran = word(&c, "True");
            ok = out->fortran || word(&c, "False");
            have_order = true;
        } else if (ok && strcmp(key, "shape") == 0 && !have_shape) {
            ok = shape(&c, dims, &ndim);
            have_shape = true;
        } else {
            ok = false;
        }
        if (ok && !take(&c, ',')) {
            ok = take(&c, '}');
            break;
        }
    }
    if (!ok || !have_descr || !have_order || !have_shape) {
        return rc_error_set(err, RC_ERR_IMPOSSIBLE, field,
                            "a .npy header needs descr (u1 i1 u2 i2 u4 i4 f4 f8), fortran_order "
                            "and shape");
    }
    if (ndim != 2 && ndim != 3) {
        return rc_error_set(err, RC_ERR_IMPOSSIBLE, field,
                            "a .npy array must be (rows, cols) or (bands, rows, cols), got %zu "
                            "dimensions",
                            ndim);
    }
    out->bands = ndim == 3 ? dims[0] : 1;
    out->rows = dims[ndim - 2];
    out->cols = dims[ndim - 1];
    if (!out->bands || !out->rows || !out->cols) {
        return rc_error_set(err, RC_ERR_IMPOSSIBLE, field, "the .npy array is empty");
    }
    size_t items = out->bands;
    if (out->rows > SIZE_MAX / items || (items *= out->rows, out->cols > SIZE_MAX / items) ||
        (items *= out->cols, items > SIZE_MAX / out->item_bytes)) {
        return rc_error_set(err, RC_ERR_IMPOSSIBLE, field, "the .npy shape is too large");
    }
    size_t body = header_at + header_len;
    if (len - body != items * out->item_bytes) {
        return rc_error_set(err, RC_ERR_IMPOSSIBLE, field,
                            "the .npy data is %zu bytes; its shape and type need %zu", len - body,
                            items * out->item_bytes);
    }
    out->data = data + body;
    return RC_OK;
}
