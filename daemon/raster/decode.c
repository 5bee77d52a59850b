#define _GNU_SOURCE /* memfd_create, F_ADD_SEALS */
#include "raster/decode.h"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_vsi.h>
#include <errno.h>
#include <fcntl.h>
#include <gdal.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "raster/classes.h"
#include "raster/cube.h"
#include "raster/labels.h"
#include "raster/memory.h"
#include "raster/orient.h"
#include "raster/place.h"
#include "raster/raster.h"
#include "raster/read.h"

static void gdal_log(CPLErr level, CPLErrorNum num, const char *msg)
{
    /* Detail goes to the log at debug; clients get a safe summary from the caller. */
    rc_log(RC_LOG_DEBUG, "msg=\"gdal\" class=%d num=%d detail=\"%.400s\"", (int)level, (int)num,
           msg);
}

void rc_raster_decode_init(long gdal_cache_mb)
{
    /* GDAL's block cache would otherwise take 5 % of physical memory, outside every
     * budget the configuration sets. */
    GDALSetCacheMax64((GIntBig)gdal_cache_mb << 20);
    GDALAllRegister();
    CPLSetErrorHandler(gdal_log);
    /* Do not list sibling files on open (a data directory may be large): a sidecar
     * is looked for by its name alone. */
    CPLSetConfigOption("GDAL_DISABLE_READDIR_ON_OPEN", "TRUE");
    /* A GeoTIFF's category names and attribute table live in its .aux.xml sidecar,
     * read beside it under the data root; nothing is written back (the sandbox
     * allows no writes), and statistics found there are not used. */
    CPLSetConfigOption("GDAL_PAM_ENABLED", "YES");
}

/* Drivers that read a raster from its own bytes; formats that may point at other
 * files (VRT and the like) are not opened. HDF5 and netCDF can still name files
 * (external storage, external links, virtual datasets): the reader's sandbox
 * stops those opens, and the read then fails. */
static const char *const allowed_drivers[] = {
    "GTiff", "PNG",    "JPEG", "GIF",         "BMP",  "AAIGrid", "EHdr", "ENVI",
    "HFA",   "netCDF", "HDF5", "JP2OpenJPEG", "WEBP", "XYZ",     "NITF", NULL};

/* A ZIP archive (a zipped Zarr store) is read through GDAL's /vsizip/. */
static const char *archive_path(const char *path, char *buf, size_t size)
{
    unsigned char magic[4] = {0};
    VSILFILE *f = VSIFOpenL(path, "rb");
    size_t got = f ? VSIFReadL(magic, 1, sizeof(magic), f) : 0;
    if (f) {
        VSIFCloseL(f);
    }
    if (got == 4 && memcmp(magic, "PK\x03\x04", 4) == 0 &&
        snprintf(buf, size, "/vsizip/{%s}", path) < (int)size) {
        return buf;
    }
    return path;
}

/* The dataset to read: a datacube's chosen variable and steps (cube->classic), or
 * the file as GDAL's classic drivers open it (*owned). */
static enum rc_err open_source(const struct rc_decode_request *q, const char *path,
                               const char *const *drivers, GDALDatasetH *owned,
                               struct rc_cube *cube, struct rc_error *err)
{
    static const struct rc_slice none;
    char zipped[4200];
    path = archive_path(path, zipped, sizeof(zipped));
    enum rc_err rc = rc_cube_open(path, q->slice ? q->slice : &none, q->field, cube, err);
    if (rc != RC_OK || cube->classic) {
        return rc;
    }
    *owned = GDALOpenEx(path, GDAL_OF_RASTER | GDAL_OF_READONLY, drivers, NULL, NULL);
    if (!*owned) {
        rc_log(RC_LOG_INFO, "msg=\"raster open failed\" detail=\"%.300s\"", CPLGetLastErrorMsg());
        return rc_error_set(err, RC_ERR_IMPOSSIBLE, q->field, "not a raster this server can read");
    }
    return RC_OK;
}

/* A datacube's bands are its chosen steps: the job's band numbers count among
 * them. Rewrites `bands` as the classic dataset's, and gives their instants. */
static enum rc_err cube_bands(const struct rc_cube *cube, unsigned *bands, size_t count,
                              double **times, struct rc_error *err)
{
    *times = NULL;
    if (cube->times) {
        *times = calloc(count, sizeof(**times));
        if (!*times) {
            return rc_error_set(err, RC_ERR_NOMEM, "raster", "out of memory");
        }
    }
    for (size_t i = 0; i < count; i++) {
        if (cube->times) {
            (*times)[i] = cube->times[bands[i] - 1];
        }
        bands[i] = cube->bands[bands[i] - 1];
    }
    return RC_OK;
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

static enum rc_err check_bands(const struct rc_config *cfg, const struct rc_decode_request *q,
                               const unsigned *bands, size_t count, int file_bands,
                               struct rc_error *err)
{
    if (count > (size_t)cfg->max_bands) {
        return rc_error_set(err, RC_ERR_IMPOSSIBLE, q->bands_field,
                            "the raster has %zu bands; at most %ld (max_bands)", count,
                            cfg->max_bands);
    }
    for (size_t i = 0; i < count; i++) {
        if (bands[i] < 1 || bands[i] > (unsigned)file_bands) {
            return rc_error_set(err, RC_ERR_IMPOSSIBLE, q->bands_field,
                                "band %u does not exist (the raster has %d)", bands[i], file_bands);
        }
    }
    return RC_OK;
}

/* Every band's read counted before the first: a file of many huge bands is
 * refused at once, not after minutes of decoding. */
static enum rc_err check_read_cost(const struct rc_decode_request *q, GDALDatasetH ds,
                                   const unsigned *bands, size_t count, unsigned w, unsigned h,
                                   uint64_t *total, struct rc_error *err)
{
    double sum = 0;
    for (size_t i = 0; i < count; i++) {
        sum += rc_raster_read_cost(GDALGetRasterBand(ds, (int)bands[i]), w, h);
    }
    if (sum > (double)q->read_pixels_left) {
        return rc_error_set(err, RC_ERR_IMPOSSIBLE, q->field,
                            "reading %zu band%s at %ux%u means decoding %.0f source pixels (no "
                            "overview near that size); the job may decode %llu more "
                            "(max_read_pixels)",
                            count, count == 1 ? "" : "s", w, h, sum,
                            (unsigned long long)q->read_pixels_left);
    }
    *total = (uint64_t)sum;
    return RC_OK;
}

/* A memory file of `bytes`, mapped for writing. */
static float *values_file(size_t bytes, int *fd_out)
{
    int fd = memfd_create("rasterclip-values", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) {
        return NULL;
    }
    void *map = MAP_FAILED;
    if (ftruncate(fd, (off_t)bytes) == 0) {
        map = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    }
    if (map == MAP_FAILED) {
        close(fd);
        return NULL;
    }
    *fd_out = fd;
    return map;
}

/* The raster object lives here, where both ways of making one are: its values are
 * always a mapping of a memory file. */
void rc_raster_ref(struct rc_raster *raster)
{
    atomic_fetch_add(&raster->refs, 1);
}

void rc_raster_unref(struct rc_raster *raster)
{
    if (!raster || atomic_fetch_sub(&raster->refs, 1) != 1) {
        return;
    }
    if (raster->values) {
        munmap(raster->values, raster->values_bytes);
    }
    free(raster->labels);
    free(raster->band_range);
    free(raster->times);
    free(raster->classes);
    free(raster);
}

struct rc_raster *rc_raster_map(int values_fd, unsigned width, unsigned height, size_t band_count)
{
    size_t plane = (size_t)width * height;
    if (!plane || band_count > SIZE_MAX / sizeof(float) / plane) {
        return NULL;
    }
    size_t bytes = band_count * plane * sizeof(float);
    struct stat st;
    if (fstat(values_fd, &st) != 0 || (uint64_t)st.st_size < bytes) {
        return NULL;
    }
    struct rc_raster *r = calloc(1, sizeof(*r));
    if (!r) {
        return NULL;
    }
    void *map = mmap(NULL, bytes, PROT_READ, MAP_SHARED, values_fd, 0);
    r->labels = calloc(band_count, sizeof(*r->labels));
    r->band_range = calloc(band_count, sizeof(*r->band_range));
    if (map == MAP_FAILED || !r->labels || !r->band_range) {
        if (map != MAP_FAILED) {
            munmap(map, bytes);
        }
        free(r->labels);
        free(r->band_range);
        free(r);
        return NULL;
    }
    atomic_init(&r->refs, 1);
    r->values = map;
    r->values_bytes = bytes;
    r->width = width;
    r->height = height;
    r->band_count = band_count;
    return r;
}

/* The values are written: no writer may change them from now on. */
static bool seal(int fd, float *values, size_t bytes)
{
    munmap(values, bytes);
    return fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) == 0;
}

/* output.crs and output.bbox: `pixels` warped there, at the size the limits
 * allow (or the exact grid asked for), into *placed; *source_pixels: what the
 * warp reads of the source. */
static enum rc_err place(const struct rc_config *cfg, const struct rc_decode_request *q,
                         GDALDatasetH pixels, GDALDatasetH *placed, double *source_pixels,
                         struct rc_error *err)
{
    struct rc_place_warp w = {.place = q->place,
                              .resampling = q->resampling,
                              .nodata = q->nodata,
                              .width = q->width,
                              .height = q->height};
    enum rc_err rc = rc_place_open(pixels, &w, placed, source_pixels, err);
    if (rc != RC_OK || q->width) {
        return rc;
    }
    /* GDAL's choice follows the source's resolution; warp no finer than is kept. */
    unsigned sw = (unsigned)GDALGetRasterXSize(*placed), sh = (unsigned)GDALGetRasterYSize(*placed);
    stored_size(sw, sh, cfg->max_raster_pixels, q->max_dim, &w.width, &w.height);
    if (w.width == sw && w.height == sh) {
        return RC_OK;
    }
    GDALClose(*placed);
    *placed = NULL;
    return rc_place_open(pixels, &w, placed, source_pixels, err);
}

enum rc_err rc_raster_decode(const struct rc_config *cfg, const struct rc_decode_request *q,
                             struct rc_raster **out, int *values_fd, uint64_t *read_pixels,
                             struct rc_error *err)
{
    *out = NULL;
    *values_fd = -1;
    *read_pixels = 0;
    struct rc_memory_source memory = {0};
    const char *path = q->path;
    const char *const *drivers = allowed_drivers;
    struct rc_raster *r = NULL;
    unsigned *all_bands = NULL;
    float *values = NULL;
    size_t values_bytes = 0;
    int fd = -1;
    GDALDatasetH ds = NULL, unrotated = NULL, placed = NULL;
    double warp_pixels = 0;
    struct rc_cube cube = {0};
    double *times = NULL;
    enum rc_err rc = RC_OK;
    if (q->data) {
        rc = rc_memory_open(q->data, q->data_len, q->field, allowed_drivers, &memory, err);
        if (rc != RC_OK) {
            goto out;
        }
        path = memory.path;
        drivers = memory.drivers;
    }
    rc = open_source(q, path, drivers, &ds, &cube, err);
    if (rc != RC_OK) {
        goto out;
    }
    GDALDatasetH file = cube.classic ? cube.classic : ds;
    rc = rc_orient_unrotate(file, q->resampling, q->field, &unrotated, err);
    if (rc != RC_OK) {
        goto out;
    }
    /* Pixels come from the north-up view; names and metadata from the file. */
    GDALDatasetH pixels = unrotated ? unrotated : file;
    if (rc_place_warps(q->place)) {
        rc = place(cfg, q, pixels, &placed, &warp_pixels, err);
        if (rc != RC_OK) {
            goto out;
        }
        pixels = placed;
    }
    int file_bands = cube.classic ? (int)cube.band_count : GDALGetRasterCount(file);
    unsigned sw = (unsigned)GDALGetRasterXSize(pixels), sh = (unsigned)GDALGetRasterYSize(pixels);
    if (file_bands < 1 || sw == 0 || sh == 0) {
        rc = rc_error_set(err, RC_ERR_IMPOSSIBLE, q->field, "the raster has no bands");
        goto out;
    }
    /* A warp reads the source under the box, whatever size it is warped to. */
    if ((placed ? warp_pixels : (double)sw * (double)sh) > (double)cfg->max_source_pixels) {
        rc = rc_error_set(err, RC_ERR_IMPOSSIBLE, q->field,
                          "the raster is %ux%u; at most %ld pixels (max_source_pixels)", sw, sh,
                          cfg->max_source_pixels);
        goto out;
    }
    size_t band_count = q->bands ? q->band_count : (size_t)file_bands;
    unsigned *bands = all_bands = calloc(band_count ? band_count : 1, sizeof(*bands));
    if (!bands) {
        rc = rc_error_set(err, RC_ERR_NOMEM, q->field, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < band_count; i++) {
        bands[i] = q->bands ? q->bands[i] : (unsigned)i + 1;
    }
    rc = check_bands(cfg, q, bands, band_count, file_bands, err);
    if (rc == RC_OK && cube.classic) {
        rc = cube_bands(&cube, bands, band_count, &times, err);
    }
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
    rc = check_read_cost(q, pixels, bands, band_count, w, h, read_pixels, err);
    if (rc == RC_OK && placed && warp_pixels * (double)band_count > (double)q->read_pixels_left) {
        rc = rc_error_set(err, RC_ERR_IMPOSSIBLE, "output.bbox",
                          "warping %zu band%s there means decoding %.0f source pixels; the job "
                          "may decode %llu more (max_read_pixels)",
                          band_count, band_count == 1 ? "" : "s", warp_pixels * (double)band_count,
                          (unsigned long long)q->read_pixels_left);
    }
    if (rc == RC_OK && placed) {
        *read_pixels = (uint64_t)(warp_pixels * (double)band_count);
    }
    if (rc != RC_OK) {
        goto out;
    }
    values_bytes = band_count * plane * sizeof(float);
    values = values_file(values_bytes, &fd);
    r = calloc(1, sizeof(*r));
    if (r) {
        atomic_init(&r->refs, 1);
        r->labels = calloc(band_count, sizeof(*r->labels));
        r->band_range = calloc(band_count, sizeof(*r->band_range));
    }
    if (!values || !r || !r->labels || !r->band_range) {
        rc = rc_error_set(err, RC_ERR_NOMEM, q->field, "out of memory");
        goto out;
    }
    r->width = w;
    r->height = h;
    r->source_width = sw;
    r->source_height = sh;
    r->band_count = band_count;
    r->has_geotransform = GDALGetGeoTransform(pixels, r->geotransform) == CE_None;
    struct rc_orient_flip flip = {0};
    if (r->has_geotransform) {
        flip = rc_orient_flips(r->geotransform);
        rc_orient_geotransform(r->geotransform, sw, sh, flip);
    }
    if (!rc_raster_read_labels(file, bands, band_count, times, cube.time_format, r)) {
        rc = rc_error_set(err, RC_ERR_NOMEM, q->field, "out of memory");
        goto out;
    }
    if (cube.classic) {
        snprintf(r->units, sizeof(r->units), "%s", cube.units);
        snprintf(r->long_name, sizeof(r->long_name), "%s", cube.long_name);
    } else {
        const char *unit = GDALGetRasterUnitType(GDALGetRasterBand(file, (int)bands[0]));
        snprintf(r->units, sizeof(r->units), "%s", unit ? unit : "");
    }
    if (r->has_geotransform) {
        rc_orient_crs(pixels, r);
    }
    for (size_t i = 0; i < band_count; i++) {
        float *dst = values + i * plane;
        rc = rc_raster_read_band(GDALGetRasterBand(pixels, (int)bands[i]), q->nodata,
                                 cube.classic ? &cube.mask : NULL, q->resampling, cfg, dst, w, h,
                                 q->field, err);
        if (rc != RC_OK) {
            goto out;
        }
        rc_orient_apply(dst, w, h, flip);
        update_range(r, dst, plane, r->band_range[i]);
    }
    if (!rc_raster_read_classes(GDALGetRasterBand(file, (int)bands[0]), values, band_count * plane,
                                r)) {
        rc = rc_error_set(err, RC_ERR_NOMEM, q->field, "out of memory");
        goto out;
    }
    if (r->valid_count == 0) {
        /* A blank clip says nothing: the file, or the bands chosen, hold no data. */
        rc = rc_error_set(err, RC_ERR_IMPOSSIBLE, q->bands_field,
                          "the chosen bands hold no valid value (every cell is no data or NaN)");
        goto out;
    }
    bool sealed = seal(fd, values, values_bytes);
    values = mmap(NULL, values_bytes, PROT_READ, MAP_SHARED, fd, 0);
    if (!sealed || values == MAP_FAILED) {
        values = NULL;
        rc = rc_error_set(err, RC_ERR_NOMEM, q->field, "cannot seal the decoded values");
        goto out;
    }
    r->values = values;
    r->values_bytes = values_bytes;
    values = NULL;
out:
    free(all_bands);
    free(times);
    if (placed) {
        GDALClose(placed);
    }
    if (unrotated) {
        GDALClose(unrotated);
    }
    rc_cube_close(&cube);
    if (ds) {
        GDALClose(ds);
    }
    rc_memory_close(&memory);
    if (values) {
        munmap(values, values_bytes);
    }
    if (rc != RC_OK) {
        rc_raster_unref(r);
        r = NULL;
        if (fd >= 0) {
            close(fd);
        }
        fd = -1;
    }
    *out = r;
    *values_fd = fd;
    return rc;
}
