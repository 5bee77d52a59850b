#include "raster/raster.h"

#include <cpl_conv.h>
#include <cpl_error.h>
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
#include "raster/fetch.h"
#include "raster/labels.h"
#include "raster/memory.h"
#include "raster/read.h"
#include "raster/root.h"

static void gdal_log(CPLErr level, CPLErrorNum num, const char *msg)
{
    /* Detail goes to the log at debug; clients get a safe summary from the caller. */
    rc_log(RC_LOG_DEBUG, "msg=\"gdal\" class=%d num=%d detail=\"%.400s\"", (int)level, (int)num,
           msg);
}

static bool is_remote(const char *url)
{
    return strncasecmp(url, "http://", 7) == 0 || strncasecmp(url, "https://", 8) == 0;
}

void rc_raster_fetch_config(const struct rc_config *cfg, struct rc_fetch_config *out)
{
    out->policy.allow_private = cfg->allow_private != 0;
    out->policy.allow_hosts = cfg->allow_host;
    out->connect_timeout_ms = cfg->fetch_connect_timeout_ms;
    out->timeout_ms = cfg->fetch_timeout_ms;
    out->max_bytes = (uint64_t)cfg->max_fetch_mb << 20;
    out->resolve = cfg->resolve;
}

void rc_raster_global_init(const struct rc_config *cfg)
{
    /* GDAL's block cache would otherwise take 5 % of physical memory, outside every
     * budget the configuration sets. */
    GDALSetCacheMax64((GIntBig)cfg->gdal_cache_mb << 20);
    rc_fetch_global_init();
    GDALAllRegister();
    CPLSetErrorHandler(gdal_log);
    /* Do not list sibling files on open: a data directory may be large. */
    CPLSetConfigOption("GDAL_DISABLE_READDIR_ON_OPEN", "EMPTY_DIR");
    /* Statistics embedded in files are not trusted, and nothing is written back. */
    CPLSetConfigOption("GDAL_PAM_ENABLED", "NO");
}

const char *rc_raster_library_version(void)
{
    return GDALVersionInfo("RELEASE_NAME");
}

uint64_t rc_raster_block_cache_bytes(void)
{
    return (uint64_t)GDALGetCacheMax64();
}

/* Drivers that read a raster from its own bytes; formats that may point at other
 * files (VRT and the like) are not opened, so a file cannot reach outside the root. */
static const char *const allowed_drivers[] = {
    "GTiff", "PNG",    "JPEG", "GIF",         "BMP",  "AAIGrid", "EHdr", "ENVI",
    "HFA",   "netCDF", "HDF5", "JP2OpenJPEG", "WEBP", "XYZ",     "NITF", NULL};

void rc_raster_ref(struct rc_raster *raster)
{
    atomic_fetch_add(&raster->refs, 1);
}

void rc_raster_unref(struct rc_raster *raster)
{
    if (!raster || atomic_fetch_sub(&raster->refs, 1) != 1) {
        return;
    }
    free(raster->values);
    free(raster->labels);
    free(raster->band_range);
    free(raster);
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

/* Chooses the stored grid: the source size, shrunk to fit both the pixel budget
 * and the largest texture side, aspect kept. */
static void stored_size(unsigned w, unsigned h, long max_pixels, unsigned max_dim, unsigned *ow,
                        unsigned *oh)
{
    double scale = 1.0;
    double pixels = (double)w * (double)h;
    if (pixels > (double)max_pixels) {
        scale = sqrt((double)max_pixels / pixels);
    }
    double longest = (double)(w > h ? w : h) * scale;
    if (max_dim && longest > (double)max_dim) {
        scale *= (double)max_dim / longest;
    }
    *ow = (unsigned)fmax(1.0, floor((double)w * scale));
    *oh = (unsigned)fmax(1.0, floor((double)h * scale));
}

static void update_range(struct rc_raster *r, const float *plane, size_t count, double range[2])
{
    range[0] = range[1] = NAN;
    for (size_t i = 0; i < count; i++) {
        float v = plane[i];
        if (isnan(v) || isinf(v)) {
            continue;
        }
        if (!(v >= range[0])) {
            range[0] = v;
        }
        if (!(v <= range[1])) {
            range[1] = v;
        }
        if (r->valid_count == 0 || v < r->valid_min) {
            r->valid_min = v;
        }
        if (r->valid_count == 0 || v > r->valid_max) {
            r->valid_max = v;
        }
        r->valid_count++;
    }
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
    uint64_t *fetched;   /* the job's remote bytes so far; this read adds its own */
    const uint8_t *data; /* an upload instead of `url` */
    size_t data_len;
    unsigned max_dim;
    unsigned width, height;
    struct rc_cache *cache;
};

/* The cache key: what was read, from which version of the source. Empty when the
 * source cannot be revalidated (a remote file with neither ETag nor Last-Modified). */
/* Everything the loaded raster depends on: the source version, what was asked for
 * (bands, nodata, resampling, size cap or grid) and the limits that shape it. Known
 * before the file is opened, so a hit opens nothing. */
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
        if (stat(path, &st) != 0) {
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
    if (n >= (int)size) {
        key[0] = '\0'; /* too long to key reliably: not cached */
    }
}

static enum rc_err check_bands(const struct rc_config *cfg, const struct request *q,
                               const unsigned *bands, size_t count, int file_bands,
                               struct rc_error *err)
{
    if (count > (size_t)cfg->max_bands) {
        return rc_error_set(err, RC_ERR_IMPOSSIBLE, q->bands_field,
                            "the raster has %zu bands; at most %ld (max_bands)", count,
                            cfg->max_bands);
    }
    for (size_t i = 0; i < count; i++) {
        if (bands[i] > (unsigned)file_bands) {
            return rc_error_set(err, RC_ERR_IMPOSSIBLE, q->bands_field,
                                "band %u does not exist (the raster has %d)", bands[i], file_bands);
        }
    }
    return RC_OK;
}

static enum rc_err load(const struct rc_config *cfg, const struct request *q,
                        struct rc_raster **out, struct rc_error *err)
{
    char path[PATH_MAX];
    *out = NULL;
    struct rc_fetch *fetch = NULL;
    struct rc_memory_source memory = {0};
    const char *const *drivers = allowed_drivers;
    enum rc_err rc = RC_OK;
    if (q->data) {
        rc_memory_digest(q->data, q->data_len, path); /* the cache key's identity */
    } else if (is_remote(q->url)) {
        struct rc_fetch_config fc;
        rc_raster_fetch_config(cfg, &fc);
        /* One budget per job: what earlier reads of the job took is spent. */
        uint64_t spent = q->fetched ? *q->fetched : 0;
        fc.max_bytes = spent < fc.max_bytes ? fc.max_bytes - spent : 0;
        rc = rc_fetch_open(&fc, q->url, q->field, &fetch, err);
        if (rc == RC_OK) {
            snprintf(path, sizeof(path), "%s", rc_fetch_gdal_path(fetch));
        }
    } else {
        rc = rc_raster_resolve_path(cfg->data_root, q->url, q->field, path, sizeof(path), err);
    }
    if (rc != RC_OK) {
        return rc;
    }
    struct rc_raster *r = NULL;
    unsigned *all_bands = NULL;
    char key[6144] = "";
    bool claimed = false;
    GDALDatasetH ds = NULL;
    cache_key(cfg, q, path, fetch, key, sizeof(key));
    if (key[0] && q->cache) {
        r = rc_cache_get(q->cache, key, &claimed);
        if (r) {
            goto out; /* a hit: nothing to open or read */
        }
    }
    if (q->data) {
        rc = rc_memory_open(q->data, q->data_len, q->field, allowed_drivers, &memory, err);
        if (rc != RC_OK) {
            goto out;
        }
        snprintf(path, sizeof(path), "%s", memory.path);
        drivers = memory.drivers;
    }
    ds = GDALOpenEx(path, GDAL_OF_RASTER | GDAL_OF_READONLY, drivers, NULL, NULL);
    if (!ds) {
        rc_log(RC_LOG_INFO, "msg=\"raster open failed\" detail=\"%.300s\"", CPLGetLastErrorMsg());
        rc = rc_error_set(err, RC_ERR_IMPOSSIBLE, q->field, "not a raster this server can read");
        goto out;
    }
    int file_bands = GDALGetRasterCount(ds);
    unsigned sw = (unsigned)GDALGetRasterXSize(ds), sh = (unsigned)GDALGetRasterYSize(ds);
    if (file_bands < 1 || sw == 0 || sh == 0) {
        rc = rc_error_set(err, RC_ERR_IMPOSSIBLE, q->field, "the raster has no bands");
        goto out;
    }
    if ((double)sw * (double)sh > (double)cfg->max_source_pixels) {
        rc = rc_error_set(err, RC_ERR_IMPOSSIBLE, q->field,
                          "the raster is %ux%u; at most %ld pixels (max_source_pixels)", sw, sh,
                          cfg->max_source_pixels);
        goto out;
    }
    const unsigned *bands = q->bands;
    size_t band_count = q->band_count;
    if (!bands) {
        all_bands = calloc((size_t)file_bands, sizeof(*all_bands));
        if (!all_bands) {
            rc = rc_error_set(err, RC_ERR_NOMEM, q->field, "out of memory");
            goto out;
        }
        for (int i = 0; i < file_bands; i++) {
            all_bands[i] = (unsigned)i + 1;
        }
        bands = all_bands;
        band_count = (size_t)file_bands;
    }
    rc = check_bands(cfg, q, bands, band_count, file_bands, err);
    if (rc != RC_OK) {
        goto out;
    }
    unsigned w = q->width, h = q->height;
    if (!w || !h) {
        stored_size(sw, sh, cfg->max_raster_pixels, q->max_dim, &w, &h);
    }
    size_t plane = (size_t)w * h;
    size_t budget = (size_t)cfg->max_raster_mb << 20;
    if (band_count > budget / sizeof(float) / plane) {
        rc = rc_error_set(err, RC_ERR_IMPOSSIBLE, q->bands_field,
                          "%zu bands of %ux%u exceed max_raster_mb=%ld", band_count, w, h,
                          cfg->max_raster_mb);
        goto out;
    }
    r = calloc(1, sizeof(*r));
    if (r) {
        atomic_init(&r->refs, 1);
        r->values = malloc(band_count * plane * sizeof(float));
    }
    if (!r || !r->values) {
        rc = rc_error_set(err, RC_ERR_NOMEM, q->field, "out of memory");
        goto out;
    }
    if (key[0]) {
        rc_memory_digest((const uint8_t *)key, strlen(key), r->identity);
    }
    r->width = w;
    r->height = h;
    r->source_width = sw;
    r->source_height = sh;
    r->band_count = band_count;
    r->has_geotransform = GDALGetGeoTransform(ds, r->geotransform) == CE_None;
    r->labels = calloc(band_count, sizeof(*r->labels));
    r->band_range = calloc(band_count, sizeof(*r->band_range));
    if (!r->labels || !r->band_range) {
        rc = rc_error_set(err, RC_ERR_NOMEM, q->field, "out of memory");
        goto out;
    }
    rc_raster_read_labels(ds, bands, band_count, r->labels);
    for (size_t i = 0; i < band_count; i++) {
        float *dst = r->values + i * plane;
        rc = rc_raster_read_band(GDALGetRasterBand(ds, (int)bands[i]), q->nodata, q->resampling,
                                 cfg, dst, w, h, q->field, err);
        if (rc != RC_OK) {
            goto out;
        }
        update_range(r, dst, plane, r->band_range[i]);
    }
    if (r->valid_count == 0) {
        /* A blank clip says nothing: the file, or the bands chosen, hold no data. */
        rc = rc_error_set(err, RC_ERR_IMPOSSIBLE, q->bands_field,
                          "the chosen bands hold no valid value (every cell is no data or NaN)");
    }
out:
    free(all_bands);
    if (ds) {
        GDALClose(ds);
    }
    rc_memory_close(&memory);
    if (claimed) {
        if (rc == RC_OK) {
            rc_cache_put(q->cache, key, r, rc_raster_bytes(r));
        } else {
            rc_cache_abandon(q->cache, key);
        }
    }
    if (fetch) {
        /* A failed transfer explains a failed read better than GDAL can. */
        const struct rc_error *failure = rc_fetch_failure(fetch);
        if (rc != RC_OK && failure) {
            *err = *failure;
            rc = failure->code;
        }
        rc_log(RC_LOG_INFO, "msg=\"remote raster read\" bytes=%llu requests=%u size=%llu",
               (unsigned long long)rc_fetch_bytes(fetch), rc_fetch_requests(fetch),
               (unsigned long long)rc_fetch_size(fetch));
        if (q->fetched) {
            *q->fetched += rc_fetch_bytes(fetch);
        }
        rc_fetch_close(fetch);
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
                                     uint64_t *fetched)
{
    return (struct request){.cache = cache,
                            .fetched = fetched,
                            .url = req->url,
                            .field = req->field,
                            .bands_field = req->bands_field,
                            .bands = req->bands,
                            .band_count = req->band_count,
                            .nodata = req->nodata,
                            .resampling = req->resampling,
                            .max_dim = req->max_dim,
                            .data = req->data,
                            .data_len = req->data_len};
}

bool rc_raster_identity(const struct rc_config *cfg, const struct rc_raster_request *req,
                        char out[65])
{
    if (!req->data && is_remote(req->url)) {
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
                           const struct rc_raster_request *req, uint64_t *fetched,
                           struct rc_raster **out, struct rc_error *err)
{
    struct request q = values_request(req, cache, fetched);
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
                                  const struct rc_raster *values, uint64_t *fetched,
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
                        .fetched = fetched,
                        .width = values->width,
                        .height = values->height,
                        .data = req->data,
                        .data_len = req->data_len};
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
