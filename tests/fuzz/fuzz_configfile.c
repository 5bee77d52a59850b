/* Fuzz target: config files. The input is written to a memory file and read as
 * --config-file; whatever it holds, loading either fails with a named option or
 * gives values within every option's range (spot-checked here). */
#define _GNU_SOURCE /* memfd_create */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("config", MFD_CLOEXEC);
    if (fd < 0) {
        return 0;
    }
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    char path[64];
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    char *argv[] = {"fuzz", "--config-file", path, NULL};
    struct rc_config cfg;
    struct rc_error err = {0};
    bool help = false;
    if (rc_config_load(&cfg, 3, argv, &help, &err) == RC_OK) {
        if (cfg.workers < 1 || cfg.workers > 64 || cfg.max_width < 16 || cfg.max_fps < 1 ||
            cfg.listen[sizeof(cfg.listen) - 1] != '\0') {
            __builtin_trap();
        }
    } else if (!err.field[0] || !err.message[0]) {
        __builtin_trap(); /* every refusal names what it refuses */
    }
    close(fd);
    return 0;
}
