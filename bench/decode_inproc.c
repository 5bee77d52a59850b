/*
 * decode_inproc: the reader's baseline. Decodes a raster in this process, as the
 * daemon did before it had a reader process (rc_raster_decode(), the code the
 * reader runs), ROUNDS times, and prints one JSON object: the median and best
 * milliseconds a decode took, its CPU milliseconds, and this process's peak RSS
 * over what it held before the first decode.
 *
 *   decode_inproc FILE ROUNDS [MAX_DIM]
 *
 * A FILE ending in .npy is read into memory first and decoded as an upload.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "base/config.h"
#include "raster/decode.h"
#include "raster/raster.h"

static double now_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static long peak_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = 0;
    while (f && fgets(line, sizeof(line), f)) {
        if (strncmp(line, "VmHWM:", 6) == 0) {
            kb = strtol(line + 6, NULL, 10);
        }
    }
    if (f) {
        fclose(f);
    }
    return kb;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: decode_inproc FILE ROUNDS [MAX_DIM]\n");
        return 2;
    }
    static struct rc_config cfg;
    struct rc_error err = {0};
    bool help = false;
    char *no_args[] = {"decode_inproc", NULL};
    if (rc_config_load(&cfg, 1, no_args, &help, &err) != RC_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    long rounds = strtol(argv[2], NULL, 10);
    rounds = rounds > 0 && rounds < 100000 ? rounds : 1;
    rc_raster_decode_init(cfg.gdal_cache_mb);
    uint8_t *upload = NULL;
    size_t upload_len = 0;
    size_t name_len = strlen(argv[1]);
    if (name_len > 4 && strcmp(argv[1] + name_len - 4, ".npy") == 0) {
        FILE *f = fopen(argv[1], "rb");
        if (!f || fseek(f, 0, SEEK_END) != 0) {
            fprintf(stderr, "cannot read %s\n", argv[1]);
            return 1;
        }
        upload_len = (size_t)ftell(f);
        rewind(f);
        upload = malloc(upload_len ? upload_len : 1);
        if (!upload || fread(upload, 1, upload_len, f) != upload_len) {
            fprintf(stderr, "cannot read %s\n", argv[1]);
            return 1;
        }
        fclose(f);
    }
    long before = peak_kb();
    double *wall = calloc((size_t)rounds, sizeof(double));
    double cpu0 = now_ms(CLOCK_PROCESS_CPUTIME_ID);
    for (long i = 0; wall && i < rounds; i++) {
        struct rc_decode_request q = {.path = upload ? NULL : argv[1],
                                      .data = upload,
                                      .data_len = upload_len,
                                      .field = "raster.url",
                                      .bands_field = "raster.bands",
                                      .max_dim =
                                          argc > 3 ? (unsigned)strtol(argv[3], NULL, 10) : 16384,
                                      .read_pixels_left = (uint64_t)cfg.max_read_pixels};
        struct rc_raster *r = NULL;
        int fd = -1;
        uint64_t pixels = 0;
        double t0 = now_ms(CLOCK_MONOTONIC);
        if (rc_raster_decode(&cfg, &q, &r, &fd, &pixels, &err) != RC_OK) {
            fprintf(stderr, "%s\n", err.message);
            return 1;
        }
        wall[i] = now_ms(CLOCK_MONOTONIC) - t0;
        rc_raster_unref(r);
        close(fd);
    }
    double cpu = (now_ms(CLOCK_PROCESS_CPUTIME_ID) - cpu0) / rounds;
    qsort(wall, (size_t)rounds, sizeof(double), by_value);
    printf("{\"rounds\": %ld, \"median_ms\": %.2f, \"best_ms\": %.2f, \"cpu_ms\": %.2f, "
           "\"peak_rss_over_start_kb\": %ld}\n",
           rounds, wall[rounds / 2], wall[0], cpu, peak_kb() - before);
    free(wall);
    free(upload);
    return 0;
}
