/* The daemon's default configuration, built once, for fuzz targets. */
#ifndef RC_FUZZ_CONFIG_H
#define RC_FUZZ_CONFIG_H

#include "base/config.h"

/* NULL if the defaults do not load (a bug: the replay then fails loudly). */
const struct rc_config *fuzz_config(void);

#endif
