/*
 * raster: the chosen bands of a raster, decoded by a confined reader process
 * (raster/reader.h) and kept in a cache.
 *
 * Locations: a path under the data root (raster/root.h) or an http(s) URL read
 * through raster/fetch.h under the URL policy (raster/urlpolicy.h). Values become float32 with the
 * nodata value (the job's, else the file's) and NaN both stored as NaN; scale and offset are
 * applied. Rasters larger than the configured pixel budget or `max_dim` are read
 * downsampled (GDAL picks overviews when the file has them).
 *
 * Called from a render worker thread. Rasters are reference-counted and shared
 * through the cache (cache.h). rc_raster_global_init() runs once on the main thread
 * before any worker starts.
 */
#ifndef RC_RASTER_H
#define RC_RASTER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/bands.h"
#include "base/config.h"
#include "base/error.h"

struct rc_cache;
struct rc_place;
struct rc_slice;
struct rc_readers;

/* The coordinate reference system of the raster's geotransform, from the file. */
enum rc_crs_kind {
    RC_CRS_UNKNOWN,    /* none, or neither kind below */
    RC_CRS_PROJECTED,  /* eastings and northings in a linear unit */
    RC_CRS_GEOGRAPHIC, /* longitude and latitude in degrees */
};

/* The longest CRS a raster carries, as WKT with its terminating NUL. */
#define RC_RASTER_CRS_MAX 8192

/* Immutable once loaded and shared by reference count (the cache holds one). */
/* The longest band label kept, with its terminating NUL. */
#define RC_RASTER_LABEL_MAX 48

/* A class of a categorical raster: a value present in the data, with the colour
 * the file's colour table gives it and the name its category names or raster
 * attribute table give it. */
#define RC_RASTER_MAX_CLASSES 256
#define RC_RASTER_CLASS_NAME 40
struct rc_raster_class {
    double value;
    uint8_t rgba[4];
    uint32_t has_rgba;               /* the file's colour table covers it */
    char name[RC_RASTER_CLASS_NAME]; /* "" when the file names none */
};

struct rc_raster {
    atomic_int refs;
    unsigned width, height; /* of the stored grid */
    unsigned source_width, source_height;
    size_t band_count;
    float *values; /* band_count planes of width*height, row 0 north; NaN = no data; a
                      read-only mapping of the reader's sealed memory file */
    size_t values_bytes;
    double valid_min, valid_max; /* over all stored bands; NaN when nothing is valid */
    size_t valid_count;
    bool has_geotransform;
    double geotransform[6];              /* GDAL's, of the source grid */
    char (*labels)[RC_RASTER_LABEL_MAX]; /* band_count names (raster/labels.h) */
    double (*band_range)[2];             /* band_count valid [min, max]; NaN when none */
    double *times;        /* band_count instants, seconds since 1970 UTC; NULL: no time axis */
    char time_format[24]; /* strftime form fitting the times' spacing ("%Y-%m" monthly) */
    struct rc_raster_class *classes; /* values present, ascending; NULL: not categorical */
    size_t class_count;
    bool classes_coloured; /* the file's colour table colours them */
    bool classes_named;    /* the file names them */
    char units[32];        /* the values' units (CF units, a band's unit type); "" unknown */
    char long_name[96];    /* a datacube variable's long name; "" unknown */
    enum rc_crs_kind crs;  /* what the geotransform's coordinates are */
    double crs_unit_m;     /* RC_CRS_PROJECTED: metres in one of its units */
    char crs_unit[16];     /* ... and the unit's symbol ("m", "ft", "US ft") */
    char crs_wkt[RC_RASTER_CRS_MAX]; /* the grid's CRS as WKT; "": none (or too long) */
    bool has_lonlat;  /* the CRS is known and the grid's bounds carry into EPSG:4326 */
    double lonlat[4]; /* ... as west, south, east, north in degrees */
    /* SHA-256 (hex) of what the values depend on: the source's version (a file's
     * path, size and mtime; an upload's digest; a URL and its validator), the bands,
     * nodata, grid and limits. Empty when the source cannot be revalidated. */
    char identity[65];
};

/* The stored grid's bounds from its (north-up) geotransform: west, south, east,
 * north in its CRS. */
static inline void rc_raster_extent(const struct rc_raster *r, double out[4])
{
    const double *g = r->geotransform;
    double x0 = g[0], x1 = g[0] + r->source_width * g[1];
    double y0 = g[3] + r->source_height * g[5], y1 = g[3];
    out[0] = x0 < x1 ? x0 : x1;
    out[1] = y0 < y1 ? y0 : y1;
    out[2] = x0 < x1 ? x1 : x0;
    out[3] = y0 < y1 ? y1 : y0;
}

/* The raster's values as the renderer reads them (borrowed from `r`). */
static inline struct rc_bands rc_raster_bands(const struct rc_raster *r)
{
    return (struct rc_bands){.values = r->values,
                             .width = r->width,
                             .height = r->height,
                             .count = r->band_count,
                             .valid_min = r->valid_min,
                             .valid_max = r->valid_max,
                             .range = (const double(*)[2])r->band_range,
                             .identity = r->identity};
}

/* Labels for `count` instants (seconds since 1970) in `format` (strftime's);
 * false when one is empty or too long. */
bool rc_raster_time_labels(const double *times, size_t count, const char *format,
                           char (*out)[RC_RASTER_LABEL_MAX]);

/* Once, on the main thread: the remote fetcher and the block cache size readers get. */
void rc_raster_global_init(const struct rc_config *cfg);

/* GDAL's release name, and the bytes its block cache may hold. */
const char *rc_raster_library_version(void);
uint64_t rc_raster_block_cache_bytes(void);

/* Whether `url` is read over the network (http(s), an object store) rather than
 * from the data root. */
bool rc_raster_is_remote(const char *url);

struct rc_fetch_config;
/* The remote-fetch settings the config asks for. */
void rc_raster_fetch_config(const struct rc_config *cfg, struct rc_fetch_config *out);

/* What to read: the plan makes it from the job (pipeline/plan.h). Borrowed
 * pointers; they need only outlive the call. */
struct rc_raster_request {
    const char *url;       /* a location under the data root, file:// or http(s):// */
    const unsigned *bands; /* 1-based; NULL: every band */
    size_t band_count;
    const double *nodata;   /* overrides the file's; NULL: the file's */
    const char *resampling; /* GDAL's name for downsampling; NULL: nearest */
    unsigned max_dim;       /* the stored grid's longer side at most (0: no cap) */
    unsigned width, height; /* an exact grid instead; 0: chosen from max_dim and the limits */
    const uint8_t *data;    /* an upload (any file GDAL reads, or a .npy) instead of url */
    size_t data_len;
    const char *field;            /* the job field errors about the location name */
    const char *bands_field;      /* ... and errors about the bands */
    const struct rc_slice *slice; /* what to take of a datacube; NULL: all of its only variable */
    const struct rc_place *place; /* output.crs, output.bbox: warped there; NULL: as stored */
};

/* The identity (struct rc_raster.identity) the load of `req` would give, without
 * reading the raster: for uploads and local files only (false for a URL, or a
 * path that does not resolve). */
bool rc_raster_identity(const struct rc_config *cfg, const struct rc_raster_request *req,
                        char out[65]);
/* What one job's reads share: what they spent of max_fetch_mb and
 * max_read_pixels, and when they must stop. */
struct rc_raster_budget {
    uint64_t fetched;           /* remote body bytes */
    uint64_t read_pixels;       /* source pixels decoded */
    const atomic_bool *cancel;  /* the job's cancel flag (may be NULL) */
    double deadline_ms;         /* rc_clock_ms() the job must end by; 0: none */
    struct rc_readers *readers; /* readers started ahead (raster/reader.h; may be NULL) */
};

/* Loads the request's bands, through `cache` when given (may be NULL), decoding
 * them in a reader process (raster/reader.h) that the job's cancel and deadline
 * stop. The caller gets one reference. `budget` (may be NULL) is the job's:
 * what it holds is spent, and this read adds its own. */
enum rc_err rc_raster_load(const struct rc_config *cfg, struct rc_cache *cache,
                           const struct rc_raster_request *req, struct rc_raster_budget *budget,
                           struct rc_raster **out, struct rc_error *err);
/* A cache of decoded rasters (base/cache.h holding rc_raster references), keyed by
 * the source's identity — a local file's real path, modification time and size; a
 * remote URL and its current ETag or Last-Modified, learnt afresh by every job —
 * plus the bands, nodata override, grid size and limits. */
struct rc_cache *rc_raster_cache_create(size_t budget_bytes);
void rc_raster_ref(struct rc_raster *raster);
void rc_raster_unref(struct rc_raster *raster);
/* Bytes of decoded values. */
size_t rc_raster_bytes(const struct rc_raster *raster);

/* Reads one band (req->bands[0]) onto exactly the grid of `values` (max_dim is
 * not used). When both files are georeferenced they must cover the same extent.
 * `budget` as for rc_raster_load(). */
enum rc_err rc_raster_load_height(const struct rc_config *cfg, struct rc_cache *cache,
                                  const struct rc_raster_request *req,
                                  const struct rc_raster *values, struct rc_raster_budget *budget,
                                  struct rc_raster **out, struct rc_error *err);

#endif
