/* Configuration precedence: defaults, then the file, then RASTERCLIP_* variables,
 * then flags; bad values name the option and where they came from. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/config.h"
#include "check.h"

static enum rc_err load(struct rc_config *cfg, int argc, char **argv, struct rc_error *err)
{
    bool help = false;
    memset(err, 0, sizeof(*err));
    return rc_config_load(cfg, argc, argv, &help, err);
}

int main(void)
{
    const char *tmp = getenv("TMPDIR");
    char path[512];
    snprintf(path, sizeof(path), "%s/rasterclip-config-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("# a comment\nmax_frames = 100\nqueue = 9\nworkers = 3\nmax_fps = 50\n", f);
    fclose(f);

    struct rc_config cfg;
    struct rc_error err;
    char prog[] = "rasterclipd";
    char *no_args[] = {prog, NULL};
    CHECK(load(&cfg, 1, no_args, &err) == RC_OK);
    CHECK(cfg.max_frames == 7200 && cfg.queue == 4 && cfg.workers == 1); /* defaults */

    setenv("RASTERCLIP_MAX_FRAMES", "200", 1);
    setenv("RASTERCLIP_WORKERS", "2", 1);
    char flag_config[] = "--config", flag_workers[] = "--workers", one[] = "1";
    char *args[] = {prog, flag_config, path, flag_workers, one, NULL};
    CHECK(load(&cfg, 5, args, &err) == RC_OK);
    CHECK(cfg.workers == 1);      /* flag over environment over file */
    CHECK(cfg.max_frames == 200); /* environment over file */
    CHECK(cfg.queue == 9);        /* file over default */
    CHECK(cfg.max_fps == 50);
    CHECK(cfg.max_width == 3840); /* untouched: the default */

    /* The file named by the environment works as well as --config. */
    setenv("RASTERCLIP_CONFIG_FILE", path, 1);
    CHECK(load(&cfg, 1, no_args, &err) == RC_OK);
    CHECK(cfg.queue == 9 && cfg.workers == 2);
    unsetenv("RASTERCLIP_CONFIG_FILE");

    /* Errors name the option. */
    setenv("RASTERCLIP_MAX_FPS", "fast", 1);
    CHECK(load(&cfg, 1, no_args, &err) == RC_ERR_INVALID);
    CHECK(strcmp(err.field, "max_fps") == 0 && strstr(err.message, "environment"));
    unsetenv("RASTERCLIP_MAX_FPS");
    char bad_flag[] = "--max-width", huge[] = "100000";
    char *bad[] = {prog, bad_flag, huge, NULL};
    CHECK(load(&cfg, 3, bad, &err) == RC_ERR_INVALID);
    CHECK(strcmp(err.field, "max_width") == 0);
    char unknown[] = "--no-such-option";
    char *unknown_args[] = {prog, unknown, NULL};
    CHECK(load(&cfg, 2, unknown_args, &err) == RC_ERR_INVALID);

    unsetenv("RASTERCLIP_MAX_FRAMES");
    unsetenv("RASTERCLIP_WORKERS");
    unlink(path);
    return CHECK_DONE();
}
