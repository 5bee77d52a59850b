/*
 * ranges: the request headers of a finished clip sent like a static file, read as
 * RFC 9110 says — Range (bytes=first-last, first-, -suffix; a list) and
 * If-None-Match (entity tags compared weakly, or "*"). Pure functions; any thread.
 */
#ifndef RC_RANGES_H
#define RC_RANGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* More ranges than this, or ranges that add up to more than the file, are not
 * worth the work: the whole file is sent instead (RFC 9110 lets a server ignore
 * Range). */
#define RC_HTTP_MAX_RANGES 16

struct rc_range {
    uint64_t first, last; /* inclusive, within the file */
};

enum rc_range_answer {
    RC_RANGES_IGNORE,        /* send the whole file (no valid bytes= list, or too much) */
    RC_RANGES_OK,            /* `count` satisfiable ranges in `out` */
    RC_RANGES_UNSATISFIABLE, /* none within the file: 416 */
};

/* `out` holds RC_HTTP_MAX_RANGES. Unsatisfiable ranges in a list are dropped. */
enum rc_range_answer rc_http_parse_ranges(const char *header, uint64_t size, struct rc_range *out,
                                          size_t *count);
/* Whether an If-None-Match value lists `etag` (a quoted strong tag), or is "*". */
bool rc_http_etag_listed(const char *header, const char *etag);

#endif
