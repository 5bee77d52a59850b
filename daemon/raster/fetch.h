/*
 * fetch: remote rasters over HTTP range requests, under the URL policy; the
 * daemon reads them here and hands the bytes to the raster's reader process
 * (raster/reader.h), which asks for them as GDAL reads.
 *
 * rc_fetch_open() checks the URL (urlpolicy.c), then probes it with a ranged GET,
 * following up to RC_FETCH_MAX_REDIRECTS redirects by hand so that each Location
 * is checked again; every connection's resolved address is checked just before
 * connecting (libcurl's open-socket hook), so neither DNS answers nor redirects
 * can lead to a refused address. Proxies from the environment are not used. The
 * probe learns the size and the validator (ETag, else Last-Modified) for caching.
 * Reads count against a per-file byte budget and run under connect and total
 * timeouts; the first failure is kept and reported with its HTTP meaning
 * (403 policy, 404 upstream missing, 502 upstream failed, 504 timed out).
 *
 * s3://, gs:// and az:// URLs are read from object storage instead
 * (raster/objstore.h), under the same byte budget, deadline and accounting.
 *
 * A `struct rc_fetch` belongs to the worker thread that opened it.
 * rc_fetch_global_init() runs once on the main thread.
 */
#ifndef RC_FETCH_H
#define RC_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "raster/urlpolicy.h"

#define RC_FETCH_MAX_REDIRECTS 5

struct rc_fetch_config {
    struct rc_url_policy policy;
    long connect_timeout_ms;
    long timeout_ms;          /* whole-file budget: every request shares it */
    uint64_t max_bytes;       /* body bytes per file */
    const char *resolve;      /* comma-separated HOST:PORT:ADDRESS pins (curl's --resolve) */
    const char *allow_bucket; /* object storage (raster/objstore.h): buckets allowed */
};

struct rc_fetch;

void rc_fetch_global_init(void);

enum rc_err rc_fetch_open(const struct rc_fetch_config *cfg, const char *url, const char *field,
                          struct rc_fetch **out, struct rc_error *err);
void rc_fetch_close(struct rc_fetch *fetch);

uint64_t rc_fetch_size(const struct rc_fetch *fetch);
/* ETag or Last-Modified of the probe, "" when the server sends neither. */
const char *rc_fetch_validator(const struct rc_fetch *fetch);
/* Body bytes transferred so far, and requests made. */
uint64_t rc_fetch_bytes(const struct rc_fetch *fetch);
unsigned rc_fetch_requests(const struct rc_fetch *fetch);
/* The first failure, or NULL. */
const struct rc_error *rc_fetch_failure(const struct rc_fetch *fetch);

/* Reads up to `len` bytes at `offset` (fewer only at the end of the file). */
enum rc_err rc_fetch_read(struct rc_fetch *fetch, uint64_t offset, void *buf, size_t len,
                          size_t *got, struct rc_error *err);

#endif
