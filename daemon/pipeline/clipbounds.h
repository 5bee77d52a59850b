/*
 * clipbounds: where a cached clip lies (base/place.h, struct rc_bounds), kept in
 * a small text file beside its entry in the clip cache's directory, <name>.b:
 * written (atomically) before the entry appears, read with it, removed with it.
 * Internal to pipeline/; the directory is the clip cache's descriptor.
 */
#ifndef RC_PIPELINE_CLIPBOUNDS_H
#define RC_PIPELINE_CLIPBOUNDS_H

#include <stdbool.h>

#include "base/place.h"

/* True for a bounds file: kept when its entry `name` less ".b" is there,
 * removed when it is not. False for any other name. */
bool rc_clipbounds_keep(int dir, const char *name);
/* The bounds kept beside entry `name`; none (known false) when there are none or
 * they do not parse. */
void rc_clipbounds_read(int dir, const char *name, struct rc_bounds *out);
/* Writes `b` beside entry `name` through the temporary file `temp`; false when
 * it could not. */
bool rc_clipbounds_write(int dir, const char *temp, const char *name, const struct rc_bounds *b);
/* Removes the bounds beside entry `name`, if any. */
void rc_clipbounds_remove(int dir, const char *name);

#endif
