#include "raster/raster.h"

#include <cpl_conv.h>
#include <errno.h>
#include <gdal.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cache.h"
#include "base/log.h"
#include "base/place.h"
#include "base/slice.h"
#include "raster/fetch.h"
#include "raster/memory.h"
#include "raster/objstore.h"
#include "raster/reader.h"
#include "raster/root.h"

bool rc_raster_is_remote(const char *url)
{
    return strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0 ||
           rc_objstore_is_url(url);
}

void rc_raster_fetch_config(const struct rc_config *cfg, struct rc_fetch_config *out)
{
    out->policy.allow_private = cfg->allow_private != 0;
    out->policy.allow_hosts = cfg->allow_host;
    out->connect_timeout_ms = cfg->fetch_connect_timeout_ms;
    out->timeout_ms = cfg->fetch_timeout_ms;
    out->max_bytes = (uint64_t)cfg->max_fetch_mb << 20;
    out->resolve = cfg->resolve;
    out->allow_bucket = cfg->allow_bucket;
}

void rc_raster_global_init(const struct rc_config *cfg)
{
    /* No raster is opened here (raster/reader.h); the block cache setting is
     * what every reader is given, and what /v1/info reports. */
    GDALSetCacheMax64((GIntBig)cfg->gdal_cache_mb << 20);
    rc_fetch_global_init();
}

const char *rc_raster_library_version(void)
{
    return GDALVersionInfo("RELEASE_NAME");
}

uint64_t rc_raster_block_cache_bytes(void)
{
    return (uint64_t)GDALGetCacheMax64();
}

static void cache_retain(void *value)
{
    rc_raster_ref(value);
}

static void cache_release(void *value)
{
    rc_raster_unref(value);
}

struct rc_cache *rc_raster_cache_create(size_t budget_bytes)
{
    static const struct rc_cache_ops ops = {.retain = cache_retain, .release = cache_release};
    return rc_cache_create(budget_bytes, &ops);
}

size_t rc_raster_bytes(const struct rc_raster *raster)
{
    return raster->band_count * (size_t)raster->width * raster->height * sizeof(float);
}

/* What to read: a location, which bands (NULL: all), an optional nodata override,
 * and either a size cap (`max_dim`) or an exact grid (`width` x `height`). */
struct request {
    const char *url;
    const char *field;       /* for errors about the location */
    const char *bands_field; /* for errors about the bands */
    const unsigned *bands;
    size_t band_count;
    const double *nodata;
    const char *resampling;
    struct rc_raster_budget *budget; /* the job's; this read adds its own (may be NULL) */
    const uint8_t *data;             /* an upload instead of `url` */
    size_t data_len;
    unsigned max_dim;
    unsigned width, height;
    struct rc_cache *cache;
    const struct rc_slice *slice;
    const struct rc_place *place;
};

/* The cache key: what was read, from which version of the source. Empty when the
 * source cannot be revalidated (a remote file with neither ETag nor Last-Modified). */
/* Everything the loaded raster depends on: the source version, what was asked for
 * (bands, nodata, resampling, size cap or grid) and the limits that shape it. Known
 * before the file is opened, so a hit opens nothing. */
/* The datacube slice's part of the cache key. */
static int slice_key(const struct rc_slice *s, char *out, size_t size)
{
    int n =
        snprintf(out, size, "|var=%s|step=%d,%.17g", s->variable, s->step_months, s->step_seconds);
    for (unsigned i = 0; i < s->select_count && n < (int)size; i++) {
        n += snprintf(out + n, size - (size_t)n, "|sel=%s,%d,%.17g", s->select[i].dim,
                      s->select[i].by_index, s->select[i].value);
    }
    for (unsigned i = 0; i < s->range_count && n < (int)size; i++) {
        n +=
            snprintf(out + n, size - (size_t)n, "|t=%.17g,%.17g", s->ranges[i][0], s->ranges[i][1]);
    }
    return n;
}

static void cache_key(const struct rc_config *cfg, const struct request *q, const char *path,
                      const struct rc_fetch *fetch, char *key, size_t size)
{
    int n;
    if (q->data) {
        n = snprintf(key, size, "upload=%s", path); /* `path` holds the upload's digest */
    } else if (fetch) {
        const char *validator = rc_fetch_validator(fetch);
        if (!validator[0]) {
            key[0] = '\0';
            return;
        }
        n = snprintf(key, size, "url=%s|v=%s", q->url, validator);
    } else {
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
            /* A directory (a Zarr store) changes inside without its own time
             * changing: its version is unknown, so it is not cached. */
            key[0] = '\0';
            return;
        }
        n = snprintf(key, size, "file=%s|m=%lld.%09ld|s=%lld", path, (long long)st.st_mtim.tv_sec,
                     st.st_mtim.tv_nsec, (long long)st.st_size);
    }
    n += snprintf(key + n, n < (int)size ? size - (size_t)n : 0,
                  "|cap=%u|grid=%ux%u|lim=%ld,%ld,%ld,%ld,%ld|%s|nodata=", q->max_dim, q->width,
                  q->height, cfg->max_raster_pixels, cfg->max_source_pixels, cfg->max_bands,
                  cfg->max_raster_mb, cfg->max_read_pixels,
                  q->resampling ? q->resampling : "nearest");
    if (q->nodata && n < (int)size) {
        n += snprintf(key + n, size - (size_t)n, "%.17g", *q->nodata);
    }
    if (!q->bands && n < (int)size) {
        n += snprintf(key + n, size - (size_t)n, "|b=all");
    }
    for (size_t i = 0; q->bands && i < q->band_count && n < (int)size; i++) {
        n += snprintf(key + n, size - (size_t)n, "%s%u", i ? "," : "|b=", q->bands[i]);
    }
    if (q->slice && n < (int)size) {
        n += slice_key(q->slice, key + n, size - (size_t)n);
    }
    if (rc_place_warps(q->place) && n < (int)size) {
        n += snprintf(key + n, size - (size_t)n, "|crs=%s|bbox=%d,%.17g,%.17g,%.17g,%.17g,%s",
                      q->place->crs, q->place->has_bbox, q->place->bbox[0], q->place->bbox[1],
                      q->place->bbox[2], q->place->bbox[3], q->place->bbox_crs);
    }
    if (n >= (int)size) {
        key[0] = '\0'; /* too long to key reliably: not cached */
    }
}

/* Where the values come from: an upload (its digest stands for its path), a
 * remote file (opened under the URL policy), or a path under the data root. */
static enum rc_err open_source(const struct rc_config *cfg, const struct request *q, char *path,
                               struct rc_fetch **fetch, struct rc_error *err)
{
    *fetch = NULL;
    if (q->data) {
        rc_memory_digest(q->data, q->data_len, path); /* the cache key's identity */
        return RC_OK;
    }
    if (rc_raster_is_remote(q->url)) {
        struct rc_fetch_config fc;
        rc_raster_fetch_config(cfg, &fc);
        /* One budget per job: what earlier reads of the job took is spent. */
        uint64_t spent = q->budget ? q->budget->fetched : 0;
        fc.max_bytes = spent < fc.max_bytes ? fc.max_bytes - spent : 0;
        return rc_fetch_open(&fc, q->url, q->field, fetch, err);
    }
    return rc_raster_resolve_path(cfg->data_root, q->url, q->field, path, PATH_MAX, err);
}

/* Decodes in a confined reader process, what the job's budget has left. */
static enum rc_err decode(const struct rc_config *cfg, const struct request *q, const char *path,
                          struct rc_fetch *fetch, struct rc_raster **out, struct rc_error *err)
{
    uint64_t read_spent = q->budget ? q->budget->read_pixels : 0;
    uint64_t read_limit = (uint64_t)cfg->max_read_pixels;
    struct rc_reader_call call = {
        .decode = {.path = q->data || fetch ? NULL : path,
                   .data = q->data,
                   .data_len = q->data_len,
                   .field = q->field,
                   .bands_field = q->bands_field,
                   .bands = q->bands,
                   .band_count = q->band_count,
                   .nodata = q->nodata,
                   .resampling = q->resampling,
                   .max_dim = q->max_dim,
                   .width = q->width,
                   .height = q->height,
                   .slice = q->slice,
                   .place = q->place,
                   .read_pixels_left = read_spent < read_limit ? read_limit - read_spent : 0},
        .remote = fetch,
        .readers = q->budget ? q->budget->readers : NULL,
        .cancel = q->budget ? q->budget->cancel : NULL,
        .deadline_ms = q->budget ? q->budget->deadline_ms : 0,
    };
    uint64_t read_pixels = 0;
    enum rc_err rc = rc_reader_decode(cfg, &call, out, &read_pixels, err);
    if (q->budget) {
        q->budget->read_pixels += read_pixels;
    }
    return rc;
}

/* A remote file's end: its transfer's failure explains a failed read better than
 * GDAL can; its bytes count against the job's budget. */
static enum rc_err close_fetch(const struct request *q, struct rc_fetch *fetch, enum rc_err rc,
                               struct rc_error *err)
{
    const struct rc_error *failure = rc_fetch_failure(fetch);
    if (rc != RC_OK && rc != RC_ERR_CANCELLED && failure) {
        *err = *failure;
        rc = failure->code;
    }
    rc_log(RC_LOG_INFO, "msg=\"remote raster read\" bytes=%llu requests=%u size=%llu",
           (unsigned long long)rc_fetch_bytes(fetch), rc_fetch_requests(fetch),
           (unsigned long long)rc_fetch_size(fetch));
    if (q->budget) {
        q->budget->fetched += rc_fetch_bytes(fetch);
    }
    rc_fetch_close(fetch);
    return rc;
}

static enum rc_err load(const struct rc_config *cfg, const struct request *q,
                        struct rc_raster **out, struct rc_error *err)
{
    char path[PATH_MAX];
    *out = NULL;
    struct rc_fetch *fetch = NULL;
    enum rc_err rc = open_source(cfg, q, path, &fetch, err);
    if (rc != RC_OK) {
        return rc;
    }
    struct rc_raster *r = NULL;
    char key[6144] = "";
    bool claimed = false;
    cache_key(cfg, q, path, fetch, key, sizeof(key));
    if (key[0] && q->cache) {
        r = rc_cache_get(q->cache, key, &claimed); /* a hit opens and reads nothing */
    }
    if (!r) {
        rc = decode(cfg, q, path, fetch, &r, err);
        if (rc == RC_OK && key[0]) {
            rc_memory_digest((const uint8_t *)key, strlen(key), r->identity);
        }
    }
    if (claimed && rc == RC_OK) {
        rc_cache_put(q->cache, key, r, rc_raster_bytes(r));
    } else if (claimed) {
        rc_cache_abandon(q->cache, key);
    }
    if (fetch) {
        rc = close_fetch(q, fetch, rc, err);
    }
    if (rc != RC_OK) {
        rc_raster_unref(r);
        r = NULL;
    }
    *out = r;
    return rc;
}

/* The internal request for a raster's values (not heights). */
static struct request values_request(const struct rc_raster_request *req, struct rc_cache *cache,
                                     struct rc_raster_budget *budget)
{
    return (struct request){.cache = cache,
                            .budget = budget,
                            .url = req->url,
                            .field = req->field,
                            .bands_field = req->bands_field,
                            .bands = req->bands,
                            .band_count = req->band_count,
                            .nodata = req->nodata,
                            .resampling = req->resampling,
                            .max_dim = req->max_dim,
                            .width = req->width,
                            .height = req->height,
                            .data = req->data,
                            .data_len = req->data_len,
                            .slice = req->slice,
                            .place = req->place};
}

bool rc_raster_identity(const struct rc_config *cfg, const struct rc_raster_request *req,
                        char out[65])
{
    if (!req->data && rc_raster_is_remote(req->url)) {
        return false; /* a URL's version is learnt from the server */
    }
    struct request q = values_request(req, NULL, NULL);
    char path[PATH_MAX];
    struct rc_error err;
    if (q.data) {
        rc_memory_digest(q.data, q.data_len, path);
    } else if (rc_raster_resolve_path(cfg->data_root, q.url, q.field, path, sizeof(path), &err) !=
               RC_OK) {
        return false;
    }
    char key[6144];
    cache_key(cfg, &q, path, NULL, key, sizeof(key));
    if (!key[0]) {
        return false;
    }
    rc_memory_digest((const uint8_t *)key, strlen(key), out);
    return true;
}

enum rc_err rc_raster_load(const struct rc_config *cfg, struct rc_cache *cache,
                           const struct rc_raster_request *req, struct rc_raster_budget *budget,
                           struct rc_raster **out, struct rc_error *err)
{
    struct request q = values_request(req, cache, budget);
    return load(cfg, &q, out, err);
}

/* The corners of a georeferenced raster, west, north, east, south. */
static void bounds(const struct rc_raster *r, double b[4])
{
    const double *gt = r->geotransform;
    b[0] = gt[0];
    b[1] = gt[3];
    b[2] = gt[0] + gt[1] * r->source_width + gt[2] * r->source_height;
    b[3] = gt[3] + gt[4] * r->source_width + gt[5] * r->source_height;
}

enum rc_err rc_raster_load_height(const struct rc_config *cfg, struct rc_cache *cache,
                                  const struct rc_raster_request *req,
                                  const struct rc_raster *values, struct rc_raster_budget *budget,
                                  struct rc_raster **out, struct rc_error *err)
{
    struct request q = {.cache = cache,
                        .url = req->url,
                        .field = req->field,
                        .bands_field = req->bands_field,
                        .bands = req->bands,
                        .band_count = 1,
                        .nodata = req->nodata,
                        .resampling = req->resampling,
                        .budget = budget,
                        .width = values->width,
                        .height = values->height,
                        .data = req->data,
                        .data_len = req->data_len,
                        .place = req->place};
    enum rc_err rc = load(cfg, &q, out, err);
    if (rc != RC_OK || !values->has_geotransform || !(*out)->has_geotransform) {
        return rc;
    }
    /* Both georeferenced: they must cover the same ground, within half a cell of
     * the coarser grid. */
    double va[4], vb[4];
    bounds(values, va);
    bounds(*out, vb);
    double tol_x = 0.5 * fmax(fabs(values->geotransform[1]), fabs((*out)->geotransform[1]));
    double tol_y = 0.5 * fmax(fabs(values->geotransform[5]), fabs((*out)->geotransform[5]));
    for (int i = 0; i < 4; i++) {
        if (fabs(va[i] - vb[i]) > (i % 2 ? tol_y : tol_x)) {
            rc_raster_unref(*out);
            *out = NULL;
            return rc_error_set(err, RC_ERR_IMPOSSIBLE, req->field,
                                "the height raster does not cover the same extent");
        }
    }
    return RC_OK;
}
