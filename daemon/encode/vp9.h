/*
 * vp9: I420 frames (encode/convert.h) to VP9 packets with libvpx, BT.601
 * limited range declared in the bitstream. Settings follow the job: realtime (lag 0, fast speed) or
 * good quality, bitrate or constant quality, keyframe interval; row-based multithreading with as
 * many threads as the host has cores.
 *
 * One thread per `struct rc_encoder` (the worker's encode thread). The caller owns
 * it. Each packet is passed to `sink` before rc_encode_i420() returns; the sink
 * may not keep the pointer.
 */
#ifndef RC_VP9_H
#define RC_VP9_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

struct rc_encoder;

typedef enum rc_err (*rc_encode_sink)(void *ctx, const void *data, size_t len, uint64_t pts,
                                      bool keyframe);

/* One clip's encoder settings, made by the plan (pipeline/plan.h). */
struct rc_encode_settings {
    unsigned width, height; /* even */
    unsigned fps;
    bool realtime;         /* lag 0 and libvpx's realtime speed; else good quality, look-ahead */
    unsigned bitrate_kbps; /* with crf < 0 */
    int crf;               /* >= 0: constant quality at this level */
    unsigned keyframe_interval;
    /* A software renderer draws on the same cores: frames smaller than 1280x720
     * then get one encoder thread (on two cores, 640x360 image clips ran 25 %
     * faster so; bench/NOTES.md). Else one thread per core. */
    bool shared_cores;
};

/* The encoder threads `settings` get (one per core, at most 16, or one). */
unsigned rc_encode_threads(const struct rc_encode_settings *settings);

enum rc_err rc_encode_create(const struct rc_encode_settings *settings, struct rc_encoder **out,
                             struct rc_error *err);
void rc_encode_destroy(struct rc_encoder *enc);

/* Encodes frame `pts`, given in I420 (Y, U, V planes back to back, strides width,
 * width/2, width/2); no copy is made. */
enum rc_err rc_encode_i420(struct rc_encoder *enc, const uint8_t *i420, uint64_t pts,
                           rc_encode_sink sink, void *ctx, struct rc_error *err);
/* Drains packets the encoder still holds (good quality uses look-ahead). */
enum rc_err rc_encode_flush(struct rc_encoder *enc, rc_encode_sink sink, void *ctx,
                            struct rc_error *err);

/* libvpx's version string. */
const char *rc_encode_library_version(void);

/* Milliseconds spent in libvpx so far. */
double rc_encode_ms(const struct rc_encoder *enc);

#endif
