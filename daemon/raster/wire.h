/*
 * wire: the messages between the daemon and its reader process (raster/reader.h),
 * framed on a Unix stream socket: a head (type, payload length), the payload, and
 * at most one file descriptor riding on the head. Both sides are the same binary,
 * so structs travel as bytes; every length is still checked, since a reader that
 * parsed a hostile file is not trusted by the daemon.
 *
 * Either side's thread that owns the socket.
 */
#ifndef RC_WIRE_H
#define RC_WIRE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/config.h"
#include "base/error.h"
#include "base/place.h"
#include "base/slice.h"
#include "raster/vectors.h"

enum rc_wire_type {
    RC_WIRE_REQUEST = 1, /* daemon -> reader: struct rc_wire_request, then bands; fd: upload */
    RC_WIRE_READ,        /* reader -> daemon: struct rc_wire_read (a remote file's bytes) */
    RC_WIRE_DATA,        /* daemon -> reader: struct rc_wire_data, then the bytes */
    RC_WIRE_DONE,        /* reader -> daemon: struct rc_wire_done, labels, ranges; fd: values */
    RC_WIRE_FAILED,      /* reader -> daemon: struct rc_error */
    RC_WIRE_STATUS,      /* reader -> daemon, once confined: struct rc_sandbox_report */
    RC_WIRE_PROBE,       /* reader -> daemon, when asked: struct rc_sandbox_probe */
    RC_WIRE_VECTORS,     /* reader -> daemon: a vector layer on the grid (raster/vectors.h) */
};

/* The descriptor the reader finds its socket on. */
enum { RC_WIRE_READER_FD = 3 };

/* The largest payload either side accepts: a request's bands, a reply's labels
 * and ranges, or one remote read. */
#define RC_WIRE_MAX_PAYLOAD (8u << 20)
#define RC_WIRE_MAX_READ (1u << 20)

enum rc_wire_source {
    RC_WIRE_FILE,   /* `path`, under the data root */
    RC_WIRE_UPLOAD, /* the memory file that rides on the request */
    RC_WIRE_REMOTE, /* bytes asked of the daemon, which reads them under the URL policy */
    RC_WIRE_CHECK,  /* nothing to read: confine as for a file, report, and stop */
};

struct rc_wire_request {
    struct rc_config cfg;
    uint32_t source; /* enum rc_wire_source */
    char path[4096];
    uint64_t size; /* of the upload or the remote file */
    char field[64], bands_field[64];
    uint32_t has_bands, band_count;
    uint32_t has_nodata;
    double nodata;
    char resampling[32];
    uint32_t max_dim, width, height;
    uint64_t read_pixels_left;
    int32_t log_level; /* enum rc_log_level */
    uint32_t probe;    /* try what the sandbox forbids, and report it (RC_WIRE_CHECK) */
    uint32_t has_slice;
    struct rc_slice slice;
    uint32_t has_place;
    struct rc_place place;
    uint32_t vectors; /* read `path` (or the graticule) as vectors onto `grid`, not a raster */
    struct rc_vector_grid grid;
};

struct rc_wire_read {
    uint64_t offset;
    uint32_t len;
};

struct rc_wire_data {
    uint32_t len; /* bytes that follow; fewer than asked only at the end of the file */
    uint32_t failed;
};

struct rc_wire_done {
    uint32_t width, height, source_width, source_height;
    uint64_t band_count;
    double valid_min, valid_max;
    uint64_t valid_count;
    uint32_t has_geotransform;
    double geotransform[6];
    uint64_t read_pixels;
    uint32_t has_times, class_count, classes_coloured, classes_named;
    char time_format[24], units[32], long_name[96];
    uint32_t crs;
    double crs_unit_m;
    char crs_unit[16];
    uint32_t has_lonlat;
    double lonlat[4];
    char crs_wkt[RC_RASTER_CRS_MAX];
    /* then band_count labels of RC_RASTER_LABEL_MAX bytes, band_count [min, max],
     * band_count times when has_times, and class_count struct rc_raster_class */
};

/* Sends one message; `fd` (-1: none) rides on its head. False when the peer is gone. */
bool rc_wire_send(int sock, uint32_t type, const void *a, size_t a_len, const void *b, size_t b_len,
                  int fd);

/* Why a receive stopped. */
enum rc_wire_status {
    RC_WIRE_OK,
    RC_WIRE_CLOSED,    /* the peer closed or broke the framing */
    RC_WIRE_CANCELLED, /* *cancel became true */
    RC_WIRE_DEADLINE,  /* deadline_ms passed */
};

/* Receives one message into `buf` (cap bytes; a longer payload is CLOSED), waiting
 * until `deadline_ms` (rc_clock_ms(); 0: forever) while watching `cancel` (may be
 * NULL) every few milliseconds. `*fd` gets the descriptor that rode on it, or -1. */
enum rc_wire_status rc_wire_recv(int sock, uint32_t *type, void *buf, size_t cap, size_t *len,
                                 int *fd, const atomic_bool *cancel, double deadline_ms);

#endif
