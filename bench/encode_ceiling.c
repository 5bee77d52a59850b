/*
 * encode_ceiling: the encoder-only ceiling for the benchmark. Reads raw RGBA
 * frames (as the daemon would hand them to its encode thread) and encodes them
 * with exactly the daemon's encoder settings for the given job size, nothing else
 * running. Prints one JSON object: frames, seconds, fps, per-stage milliseconds.
 *
 *   encode_ceiling FRAMES.rgba WIDTH HEIGHT FPS
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "encode/convert.h"
#include "encode/encode.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static enum rc_err count_bytes(void *ctx, const void *data, size_t len, uint64_t pts, bool key)
{
    (void)data;
    (void)pts;
    (void)key;
    *(size_t *)ctx += len;
    return RC_OK;
}

static long parse_long(const char *s)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    return errno || !end || *end ? -1 : v;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: encode_ceiling FRAMES.rgba WIDTH HEIGHT FPS\n");
        return 2;
    }
    long w = parse_long(argv[2]), h = parse_long(argv[3]), fps = parse_long(argv[4]);
    if (w < 16 || h < 16 || fps < 1) {
        fprintf(stderr, "encode_ceiling: bad size or fps\n");
        return 2;
    }
    size_t frame_bytes = (size_t)w * (size_t)h * 4;
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        fprintf(stderr, "encode_ceiling: cannot open %s\n", argv[1]);
        return 1;
    }
    fseek(f, 0, SEEK_END);
    size_t total = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    size_t frames = total / frame_bytes;
    uint8_t *all = malloc(frames * frame_bytes);
    if (!all || fread(all, frame_bytes, frames, f) != frames) {
        fprintf(stderr, "encode_ceiling: cannot read frames\n");
        fclose(f);
        free(all);
        return 1;
    }
    fclose(f);

    /* A default job's settings (output.speed realtime, 2000 kbit/s, a keyframe
     * every 60 frames), as the plan makes them. */
    struct rc_encode_settings settings = {.width = (unsigned)w,
                                          .height = (unsigned)h,
                                          .fps = (unsigned)fps,
                                          .realtime = true,
                                          .bitrate_kbps = 2000,
                                          .crf = -1,
                                          .keyframe_interval = 60};
    struct rc_encoder *enc = NULL;
    struct rc_error err = {0};
    if (rc_encode_create(&settings, &enc, &err) != RC_OK) {
        fprintf(stderr, "encode_ceiling: %s\n", err.message);
        free(all);
        return 1;
    }
    /* The daemon's work per frame: the same conversion, then the same encoder. */
    struct rc_i420_layout layout;
    rc_i420_layout((unsigned)w, (unsigned)h, &layout);
    uint8_t *i420 = malloc(layout.frame_bytes);
    if (!i420) {
        rc_encode_destroy(enc);
        free(all);
        return 1;
    }
    size_t bytes = 0;
    double convert_s = 0;
    double start = now_s();
    for (size_t i = 0; i < frames; i++) {
        double t0 = now_s();
        rc_convert_rgba_to_i420(all + i * frame_bytes, &layout, i420);
        convert_s += now_s() - t0;
        if (rc_encode_i420(enc, i420, i, count_bytes, &bytes, &err) != RC_OK) {
            fprintf(stderr, "encode_ceiling: %s\n", err.message);
            break;
        }
    }
    rc_encode_flush(enc, count_bytes, &bytes, &err);
    double seconds = now_s() - start;
    double convert_ms = convert_s * 1e3, encode_ms = rc_encode_ms(enc);
    free(i420);
    printf("{\"frames\": %zu, \"seconds\": %.4f, \"fps\": %.2f, \"ms_convert\": %.1f, "
           "\"ms_encode\": %.1f, \"bytes\": %zu}\n",
           frames, seconds, (double)frames / seconds, convert_ms, encode_ms, bytes);
    rc_encode_destroy(enc);
    free(all);
    return 0;
}
