/*
 * memory: rasters uploaded with the job, read without touching the disk. A .npy
 * array becomes a GDAL MEM dataset over its bytes (a native-order copy when it is
 * big-endian or int8, which MEM cannot describe); any other file is handed to GDAL
 * through /vsimem/. Uploads are identified by their SHA-256, so the decoded-raster
 * cache recognises the same bytes sent twice. Internal to raster/; any thread.
 */
#ifndef RC_MEMORY_H
#define RC_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

struct rc_memory_source {
    char path[256];             /* what GDALOpenEx opens */
    const char *const *drivers; /* the drivers it may use */
    bool vsimem;                /* a /vsimem/ file to unlink */
    void *copy;                 /* owned: the native-order array, when one was needed */
};

/* Lower-case hex SHA-256 of the upload. */
void rc_memory_digest(const uint8_t *data, size_t len, char out[65]);

/* Makes `data` openable by GDAL; errors (a malformed .npy) name `field`. The
 * bytes must outlive rc_memory_close(). `file_drivers`: those a file may use. */
enum rc_err rc_memory_open(const uint8_t *data, size_t len, const char *field,
                           const char *const *file_drivers, struct rc_memory_source *src,
                           struct rc_error *err);
void rc_memory_close(struct rc_memory_source *src);

#endif
