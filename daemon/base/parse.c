#include "base/parse.h"

#include <stddef.h>
#include <string.h>

bool rc_parse_u64(const char *text, uint64_t *out)
{
    if (!text || !*text) {
        return false;
    }
    uint64_t v = 0;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9') {
            return false;
        }
        unsigned digit = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - digit) / 10) {
            return false;
        }
        v = v * 10 + digit;
    }
    *out = v;
    return true;
}

/* A printf format for one double: literal text, %% escapes, and exactly one
 * conversion %[-+ #0]*[width][.precision](f|F|e|E|g|G). Nothing else reaches
 * snprintf. */
bool rc_parse_format_one_double(const char *f)
{
    int conversions = 0;
    for (const char *p = f; *p; p++) {
        if (*p != '%') {
            continue;
        }
        if (p[1] == '%') {
            p++;
            continue;
        }
        p++;
        while (*p && strchr("-+ #0", *p)) {
            p++;
        }
        for (int digits = 0; *p >= '0' && *p <= '9'; p++) {
            if (++digits > 2) {
                return false;
            }
        }
        if (*p == '.') {
            p++;
            for (int digits = 0; *p >= '0' && *p <= '9'; p++) {
                if (++digits > 2) {
                    return false;
                }
            }
        }
        if (!*p || !strchr("fFeEgG", *p)) {
            return false;
        }
        conversions++;
    }
    return conversions == 1;
}
