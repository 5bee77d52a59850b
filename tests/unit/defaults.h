/*
 * defaults: the daemon's configuration with every option at its default (and
 * whatever RASTERCLIP_* the environment sets), for tests that parse jobs.
 */
#ifndef RC_TEST_DEFAULTS_H
#define RC_TEST_DEFAULTS_H

#include <stdbool.h>

#include "base/config.h"

static inline bool rc_test_default_config(struct rc_config *cfg)
{
    bool help = false;
    char *argv[] = {"test", NULL};
    struct rc_error err;
    return rc_config_load(cfg, 1, argv, &help, &err) == RC_OK;
}

#endif
