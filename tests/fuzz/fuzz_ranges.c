/* Fuzz target: the Range and If-None-Match headers of a finished clip. Whatever
 * the input, every range returned lies within the file, there are at most
 * RC_HTTP_MAX_RANGES of them, and together they are no larger than the file. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/ranges.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) {
        return 0;
    }
    /* The first two bytes choose the file's size; the rest is the header. */
    uint64_t file = (uint64_t)data[0] << 8 | data[1];
    char *header = malloc(size - 1);
    if (!header) {
        return 0;
    }
    memcpy(header, data + 2, size - 2);
    header[size - 2] = '\0';
    struct rc_range r[RC_HTTP_MAX_RANGES];
    size_t n = 0;
    enum rc_range_answer a = rc_http_parse_ranges(header, file, r, &n);
    uint64_t total = 0;
    if (a == RC_RANGES_OK) {
        if (n == 0 || n > RC_HTTP_MAX_RANGES) {
            __builtin_trap();
        }
        for (size_t i = 0; i < n; i++) {
            if (r[i].first > r[i].last || r[i].last >= file) {
                __builtin_trap();
            }
            total += r[i].last - r[i].first + 1;
        }
        if (total > file) {
            __builtin_trap();
        }
    } else if (n != 0) {
        __builtin_trap();
    }
    (void)rc_http_etag_listed(header, "\"0123456789abcdef\"");
    free(header);
    return 0;
}
