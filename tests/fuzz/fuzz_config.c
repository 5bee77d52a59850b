#include "fuzz_config.h"

#include <stdbool.h>
#include <stddef.h>

const struct rc_config *fuzz_config(void)
{
    static struct rc_config cfg;
    static bool ready;
    if (!ready) {
        char *argv[] = {"fuzz", NULL};
        bool help;
        struct rc_error err;
        if (rc_config_load(&cfg, 1, argv, &help, &err) != RC_OK) {
            return NULL;
        }
        ready = true;
    }
    return &cfg;
}
