/* The reader process's side of raster/reader.h: `rasterclipd --reader`. */
#define _GNU_SOURCE /* memfd seals */
#include <cpl_conv.h>
#include <cpl_vsi.h>
#include <errno.h>
#include <gdal.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/log.h"
#include "raster/decode.h"
#include "raster/raster.h"
#include "raster/reader.h"
#include "raster/sandbox.h"
#include "raster/vectors.h"
#include "raster/wire.h"

enum { RC_DEFAULT_GDAL_CACHE_MB = 64 };

/* Room the decode may take beyond what is mapped when the reader confines
 * itself: GDAL's working buffers, a .npy's native-order copy and the like. */
#define WORKING_BYTES (256ULL << 20)

#define REMOTE_PREFIX "/vsirasterclip/"
#define REMOTE_PATH REMOTE_PREFIX "raster"

/* The remote file: its size, and the socket its bytes come through. One reader
 * reads one raster on one thread. */
static uint64_t remote_size;

struct remote_handle {
    uint64_t pos;
    bool eof;
};

static bool is_remote_file(const char *name)
{
    return strcmp(name, REMOTE_PATH) == 0 || strcmp(name, "raster") == 0;
}

static int remote_stat(void *user, const char *name, VSIStatBufL *st, int flags)
{
    (void)user;
    (void)flags;
    if (!is_remote_file(name)) {
        return -1; /* sidecar files (.ovr, .aux.xml, ...) do not exist */
    }
    memset(st, 0, sizeof(*st));
    st->st_size = (off_t)remote_size;
    st->st_mode = S_IFREG | 0444;
    return 0;
}

static void *remote_open(void *user, const char *name, const char *access)
{
    (void)user;
    if (!is_remote_file(name) || strpbrk(access, "wa+")) {
        return NULL;
    }
    return calloc(1, sizeof(struct remote_handle));
}

static vsi_l_offset remote_tell(void *handle)
{
    return ((struct remote_handle *)handle)->pos;
}

static int remote_seek(void *handle, vsi_l_offset offset, int whence)
{
    struct remote_handle *h = handle;
    uint64_t base = whence == SEEK_CUR ? h->pos : whence == SEEK_END ? remote_size : 0;
    h->pos = base + offset;
    h->eof = false;
    return 0;
}

/* Asks the daemon for bytes, a megabyte at most a message. */
static size_t remote_fetch(uint64_t offset, uint8_t *dst, size_t want)
{
    static uint8_t reply[sizeof(struct rc_wire_data) + RC_WIRE_MAX_READ];
    size_t got = 0;
    while (got < want && offset + got < remote_size) {
        struct rc_wire_read rd = {
            offset + got,
            (uint32_t)(want - got > RC_WIRE_MAX_READ ? RC_WIRE_MAX_READ : want - got)};
        uint32_t type = 0;
        size_t len = 0;
        int fd = -1;
        struct rc_wire_data d;
        if (!rc_wire_send(RC_WIRE_READER_FD, RC_WIRE_READ, &rd, sizeof(rd), NULL, 0, -1) ||
            rc_wire_recv(RC_WIRE_READER_FD, &type, reply, sizeof(reply), &len, &fd, NULL, 0) !=
                RC_WIRE_OK ||
            type != RC_WIRE_DATA || len < sizeof(d)) {
            if (fd >= 0) {
                close(fd);
            }
            break;
        }
        memcpy(&d, reply, sizeof(d));
        if (d.failed || d.len == 0 || d.len > rd.len || len != sizeof(d) + d.len) {
            break;
        }
        memcpy(dst + got, reply + sizeof(d), d.len);
        got += d.len;
    }
    return got;
}

static size_t remote_read(void *handle, void *buf, size_t size, size_t count)
{
    struct remote_handle *h = handle;
    if (size == 0 || count == 0) {
        return 0;
    }
    size_t want = size * count;
    size_t got = remote_fetch(h->pos, buf, want);
    h->pos += got;
    if (got < want) {
        h->eof = true;
    }
    return got / size;
}

static int remote_eof(void *handle)
{
    return ((struct remote_handle *)handle)->eof;
}

static int remote_close(void *handle)
{
    free(handle);
    return 0;
}

static char **remote_siblings(void *user, const char *dirname)
{
    (void)user;
    (void)dirname;
    return CPLCalloc(1, sizeof(char *));
}

static bool install_remote(uint64_t size)
{
    remote_size = size;
    VSIFilesystemPluginCallbacksStruct *cb = VSIAllocFilesystemPluginCallbacksStruct();
    cb->stat = remote_stat;
    cb->open = remote_open;
    cb->tell = remote_tell;
    cb->seek = remote_seek;
    cb->read = remote_read;
    cb->eof = remote_eof;
    cb->close = remote_close;
    cb->sibling_files = remote_siblings;
    /* Small reads are gathered into 64 KiB aligned blocks, at most 32 MiB. */
    cb->nBufferSize = 64 * 1024;
    cb->nCacheSize = 32 * 1024 * 1024;
    bool ok = VSIInstallPluginHandler(REMOTE_PREFIX, cb) == 0;
    VSIFreeFilesystemPluginCallbacksStruct(cb);
    return ok;
}

/* NetCDF and HDF5 libraries read only local files or memory: a remote one (its
 * size already within max_fetch_mb) is read whole into memory and decoded as an
 * upload. Formats GDAL reads through its own I/O keep their range reads. NULL for
 * those, or when memory runs out (the open then fails with a clear error). */
static uint8_t *remote_whole_if_needed(uint64_t size)
{
    static const uint8_t cdf[3] = {'C', 'D', 'F'},
                         hdf[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    uint8_t magic[8] = {0};
    if (remote_fetch(0, magic, sizeof(magic)) != sizeof(magic) ||
        (memcmp(magic, cdf, sizeof(cdf)) != 0 && memcmp(magic, hdf, sizeof(hdf)) != 0)) {
        return NULL;
    }
    uint8_t *whole = size <= SIZE_MAX ? malloc((size_t)size) : NULL;
    for (uint64_t at = 0; whole && at < size;) {
        size_t want = size - at > RC_WIRE_MAX_READ ? RC_WIRE_MAX_READ : (size_t)(size - at);
        size_t got = remote_fetch(at, whole + at, want);
        if (got == 0) {
            free(whole);
            return NULL;
        }
        at += got;
    }
    return whole;
}

/* The place's names end inside their arrays, whatever the daemon sent. */
static void terminate_place(struct rc_place *p)
{
    p->crs[sizeof(p->crs) - 1] = '\0';
    p->bbox_crs[sizeof(p->bbox_crs) - 1] = '\0';
}

/* The slice's names end inside their arrays, whatever the daemon sent. */
static void terminate_slice(struct rc_slice *s)
{
    s->variable[sizeof(s->variable) - 1] = '\0';
    s->select_count = s->select_count > RC_SLICE_MAX_SELECT ? 0 : s->select_count;
    s->range_count = s->range_count > RC_SLICE_MAX_RANGES ? 0 : s->range_count;
    for (unsigned i = 0; i < RC_SLICE_MAX_SELECT; i++) {
        s->select[i].dim[RC_SLICE_NAME - 1] = '\0';
    }
}

static void send_failure(const struct rc_error *err)
{
    rc_wire_send(RC_WIRE_READER_FD, RC_WIRE_FAILED, err, sizeof(*err), NULL, 0, -1);
}

static void send_result(const struct rc_raster *r, int fd, uint64_t read_pixels)
{
    struct rc_wire_done d = {
        .width = r->width,
        .height = r->height,
        .source_width = r->source_width,
        .source_height = r->source_height,
        .band_count = r->band_count,
        .valid_min = r->valid_min,
        .valid_max = r->valid_max,
        .valid_count = r->valid_count,
        .has_geotransform = r->has_geotransform,
        .read_pixels = read_pixels,
        .has_times = r->times != NULL,
        .class_count = (uint32_t)r->class_count,
        .classes_coloured = r->classes_coloured,
        .classes_named = r->classes_named,
    };
    memcpy(d.geotransform, r->geotransform, sizeof(d.geotransform));
    memcpy(d.time_format, r->time_format, sizeof(d.time_format));
    memcpy(d.units, r->units, sizeof(d.units));
    memcpy(d.long_name, r->long_name, sizeof(d.long_name));
    d.crs = (uint32_t)r->crs;
    d.crs_unit_m = r->crs_unit_m;
    memcpy(d.crs_unit, r->crs_unit, sizeof(d.crs_unit));
    d.has_lonlat = r->has_lonlat;
    memcpy(d.lonlat, r->lonlat, sizeof(d.lonlat));
    memcpy(d.crs_wkt, r->crs_wkt, sizeof(d.crs_wkt));
    size_t labels = r->band_count * RC_RASTER_LABEL_MAX;
    size_t ranges = r->band_count * 2 * sizeof(double);
    size_t times = r->times ? r->band_count * sizeof(double) : 0;
    size_t classes = r->class_count * sizeof(struct rc_raster_class);
    uint8_t *tail = malloc(labels + ranges + times + classes);
    if (!tail) {
        struct rc_error err;
        rc_error_set(&err, RC_ERR_NOMEM, "", "out of memory");
        send_failure(&err);
        return;
    }
    memcpy(tail, r->labels, labels);
    memcpy(tail + labels, r->band_range, ranges);
    if (times) {
        memcpy(tail + labels + ranges, r->times, times);
    }
    if (classes) {
        memcpy(tail + labels + ranges + times, r->classes, classes);
    }
    rc_wire_send(RC_WIRE_READER_FD, RC_WIRE_DONE, &d, sizeof(d), tail,
                 labels + ranges + times + classes, fd);
    free(tail);
}

/* A vector layer (or the graticule) onto the request's grid, read from the data
 * root, the remote file or an upload held in memory. */
static int send_vectors(const struct rc_wire_request *req, const uint8_t *upload)
{
    struct rc_error err = {0};
    char path[sizeof(req->path)];
    snprintf(path, sizeof(path), "%s", req->source == RC_WIRE_REMOTE ? REMOTE_PATH : req->path);
    if (upload) {
        snprintf(path, sizeof(path), "/vsimem/rasterclip-vectors");
        VSILFILE *f = VSIFileFromMemBuffer(path, (GByte *)upload, req->size, FALSE);
        if (f) {
            VSIFCloseL(f);
        }
    }
    uint8_t *payload = NULL;
    size_t len = 0;
    if (rc_vectors_read(path, &req->grid, req->field, &payload, &len, &err) != RC_OK) {
        send_failure(&err);
        return 1;
    }
    if (len > RC_WIRE_MAX_PAYLOAD) {
        free(payload);
        rc_error_set(&err, RC_ERR_IMPOSSIBLE, req->field, "the layer has too many points in view");
        send_failure(&err);
        return 1;
    }
    rc_wire_send(RC_WIRE_READER_FD, RC_WIRE_VECTORS, payload, len, NULL, 0, -1);
    free(payload);
    return 0;
}

/* The request: its struct, then the bands. */
static struct {
    struct rc_wire_request req;
    unsigned bands[RC_WIRE_MAX_PAYLOAD / sizeof(unsigned)];
} in;

/* Waits until the daemon closes the socket: it reads what this reader cost (its
 * /proc entry) before it ends it. */
static int linger(int status)
{
    char byte;
    while (read(RC_WIRE_READER_FD, &byte, 1) > 0) {
    }
    return status;
}

int rc_reader_main(void)
{
    char tag[32];
    snprintf(tag, sizeof(tag), "reader=%ld", (long)getpid());
    rc_log_set_tag(tag);
    rc_log_detect_journal();
    uint64_t netns_inode = 0;
    bool netns = rc_sandbox_unshare_network(&netns_inode);
    /* Ready before the request comes: a reader may be started ahead of its job. */
    rc_raster_decode_init(RC_DEFAULT_GDAL_CACHE_MB);
    uint32_t type = 0;
    size_t len = 0;
    int fd = -1;
    if (rc_wire_recv(RC_WIRE_READER_FD, &type, &in, sizeof(in), &len, &fd, NULL, 0) != RC_WIRE_OK ||
        type != RC_WIRE_REQUEST || len < sizeof(in.req) ||
        len != sizeof(in.req) + (size_t)in.req.band_count * sizeof(unsigned)) {
        return 2;
    }
    const struct rc_wire_request *req = &in.req;
    terminate_slice(&in.req.slice);
    terminate_place(&in.req.place);
    in.req.grid.crs[sizeof(in.req.grid.crs) - 1] = '\0';
    const struct rc_config *cfg = &req->cfg;
    rc_log_set_level((enum rc_log_level)req->log_level);
    rc_log_set_json(strcmp(cfg->log_format, "json") == 0);
    GDALSetCacheMax64((GIntBig)cfg->gdal_cache_mb << 20);
    struct rc_error err = {0};
    const uint8_t *upload = NULL;
    if (req->source == RC_WIRE_UPLOAD) {
        void *map = fd >= 0 && req->size > 0 ? mmap(NULL, req->size, PROT_READ, MAP_PRIVATE, fd, 0)
                                             : MAP_FAILED;
        if (map == MAP_FAILED) {
            rc_error_set(&err, RC_ERR_NOMEM, req->field, "cannot map the upload");
            send_failure(&err);
            return 1;
        }
        upload = map;
    }
    if (fd >= 0) {
        close(fd);
    }
    if (req->source == RC_WIRE_REMOTE && !install_remote(req->size)) {
        rc_error_set(&err, RC_ERR_INTERNAL, req->field, "cannot read the remote raster");
        send_failure(&err);
        return 1;
    }
    bool reads_root = req->source == RC_WIRE_FILE || req->source == RC_WIRE_CHECK;
    struct rc_sandbox_limits limits = {
        .data_root = reads_root ? cfg->data_root : NULL,
        .budget_bytes = ((uint64_t)cfg->max_raster_mb << 20) +
                        ((uint64_t)cfg->gdal_cache_mb << 20) + WORKING_BYTES,
        .cpu_seconds = (uint64_t)cfg->max_job_seconds,
    };
    struct rc_sandbox_report report;
    rc_sandbox_confine(&limits, netns, &report);
    report.netns_inode = netns_inode;
    rc_wire_send(RC_WIRE_READER_FD, RC_WIRE_STATUS, &report, sizeof(report), NULL, 0, -1);
    if (req->source == RC_WIRE_CHECK && req->probe) {
        struct rc_sandbox_probe probe;
        rc_sandbox_probe(limits.data_root, &probe);
        rc_wire_send(RC_WIRE_READER_FD, RC_WIRE_PROBE, &probe, sizeof(probe), NULL, 0, -1);
    }
    if (req->source == RC_WIRE_CHECK) {
        return linger(0);
    }
#ifdef RC_FAULT_INJECTION
    /* Test builds: a reader that hangs or dies, as one fed a hostile file might;
     * "MODE" or "MODE:TEXT" (only for paths that contain TEXT). */
    const char *fault = getenv("RASTERCLIP_FAULT_READER");
    const char *only = fault ? strchr(fault, ':') : NULL;
    if (fault && (!only || strstr(req->path, only + 1))) {
        if (strncmp(fault, "hang", 4) == 0) {
            for (;;) {
                pause();
            }
        }
        if (strncmp(fault, "crash", 5) == 0) {
            raise(SIGKILL);
        }
    }
#endif
    if (req->vectors) {
        return linger(send_vectors(req, upload));
    }
    uint8_t *whole = req->source == RC_WIRE_REMOTE ? remote_whole_if_needed(req->size) : NULL;
    double nodata = req->nodata;
    struct rc_decode_request q = {
        .path = req->source == RC_WIRE_REMOTE ? REMOTE_PATH : req->path,
        .data = whole ? whole : upload,
        .data_len = upload || whole ? req->size : 0,
        .field = req->field,
        .bands_field = req->bands_field,
        .bands = req->has_bands ? in.bands : NULL,
        .band_count = req->band_count,
        .nodata = req->has_nodata ? &nodata : NULL,
        .resampling = req->resampling[0] ? req->resampling : NULL,
        .max_dim = req->max_dim,
        .width = req->width,
        .height = req->height,
        .read_pixels_left = req->read_pixels_left,
        .slice = req->has_slice ? &in.req.slice : NULL,
        .place = req->has_place ? &in.req.place : NULL,
    };
    struct rc_raster *r = NULL;
    int values = -1;
    uint64_t read_pixels = 0;
    if (rc_raster_decode(cfg, &q, &r, &values, &read_pixels, &err) != RC_OK) {
        send_failure(&err);
    } else {
        send_result(r, values, read_pixels);
        rc_raster_unref(r);
    }
    free(whole);
    return linger(0);
}
