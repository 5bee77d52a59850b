/* Range and If-None-Match as RFC 9110 reads them. */
#include "http/ranges.h"

#include <string.h>
#include <strings.h>

static bool parse_uint(const char **p, uint64_t *out)
{
    const char *s = *p;
    uint64_t v = 0;
    if (*s < '0' || *s > '9') {
        return false;
    }
    while (*s >= '0' && *s <= '9') {
        unsigned d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10) {
            return false;
        }
        v = v * 10 + d;
        s++;
    }
    *p = s;
    *out = v;
    return true;
}

static void skip_space(const char **p)
{
    while (**p == ' ' || **p == '\t') {
        (*p)++;
    }
}

/* "bytes=0-499, 1000-, -200" over a file of `size` bytes. */
/* The list as written; rc_http_parse_ranges() clears `count` when it is ignored. */
static enum rc_range_answer parse_list(const char *header, uint64_t size, struct rc_range *out,
                                       size_t *count)
{
    *count = 0;
    if (strncasecmp(header, "bytes=", 6) != 0) {
        return RC_RANGES_IGNORE; /* another unit, or not a range at all */
    }
    const char *p = header + 6;
    uint64_t total = 0;
    size_t seen = 0;
    for (;;) {
        skip_space(&p);
        struct rc_range r;
        uint64_t a, b;
        bool satisfiable;
        if (*p == '-') { /* the last b bytes */
            p++;
            if (!parse_uint(&p, &b)) {
                return RC_RANGES_IGNORE;
            }
            satisfiable = b > 0 && size > 0;
            r.first = b >= size ? 0 : size - b;
            r.last = size ? size - 1 : 0;
        } else {
            if (!parse_uint(&p, &a) || *p++ != '-') {
                return RC_RANGES_IGNORE;
            }
            bool open = !(*p >= '0' && *p <= '9');
            if (!open && !parse_uint(&p, &b)) {
                return RC_RANGES_IGNORE;
            }
            if (!open && b < a) {
                return RC_RANGES_IGNORE; /* invalid: the whole field is ignored */
            }
            satisfiable = a < size;
            r.first = a;
            r.last = open || b >= size ? (size ? size - 1 : 0) : b;
        }
        if (++seen > RC_HTTP_MAX_RANGES) {
            return RC_RANGES_IGNORE;
        }
        if (satisfiable) {
            out[(*count)++] = r;
            total += r.last - r.first + 1;
        }
        skip_space(&p);
        if (*p == '\0') {
            break;
        }
        if (*p++ != ',') {
            return RC_RANGES_IGNORE;
        }
    }
    if (*count == 0) {
        return RC_RANGES_UNSATISFIABLE;
    }
    return total > size ? RC_RANGES_IGNORE : RC_RANGES_OK;
}

/* If-None-Match: "*" or a list of entity tags, compared weakly (W/ ignored). */
bool rc_http_etag_listed(const char *header, const char *etag)
{
    const char *p = header;
    size_t len = strlen(etag);
    for (;;) {
        skip_space(&p);
        if (*p == '*') {
            return true;
        }
        if (strncmp(p, "W/", 2) == 0) {
            p += 2;
        }
        if (strncmp(p, etag, len) == 0 && (p[len] == '\0' || p[len] == ',' || p[len] == ' ')) {
            return true;
        }
        p = strchr(p, ',');
        if (!p) {
            return false;
        }
        p++;
    }
}

enum rc_range_answer rc_http_parse_ranges(const char *header, uint64_t size, struct rc_range *out,
                                          size_t *count)
{
    enum rc_range_answer answer = parse_list(header, size, out, count);
    if (answer != RC_RANGES_OK) {
        *count = 0;
    }
    return answer;
}
