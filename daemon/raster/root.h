/*
 * root: the data-root rules for local rasters. A location is a path relative to
 * the root, or an absolute path or file:// URL inside it; nothing may leave the
 * root, lexically or through symlinks, and leaving it is refused (403) the same
 * way whether or not the target exists. Any thread.
 */
#ifndef RC_ROOT_H
#define RC_ROOT_H

#include <stddef.h>

#include "base/error.h"

/* Resolves a raster location to a real path under `data_root`; errors name `field`. */
enum rc_err rc_raster_resolve_path(const char *data_root, const char *url, const char *field,
                                   char *out, size_t out_size, struct rc_error *err);

#endif
