/* VP9 encoder threads: one per core, or one for frames smaller than 1280x720 when a
 * software renderer shares the cores; and the thread count changes the speed, not
 * the bytes (tile columns are fixed by the width, row multi-threading is off). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "check.h"
#include "encode/convert.h"
#include "encode/vp9.h"

static enum rc_err keep(void *ctx, const void *data, size_t len, uint64_t pts, bool keyframe)
{
    (void)pts;
    (void)keyframe;
    return rc_buf_append(ctx, data, len);
}

/* Eight frames of a moving gradient at 640x360; the packets' bytes in `out`. */
static void encode_clip(const struct rc_encode_settings *s, struct rc_buf *out)
{
    struct rc_error err = {0};
    struct rc_encoder *enc = NULL;
    CHECK(rc_encode_create(s, &enc, &err) == RC_OK);
    struct rc_i420_layout layout;
    rc_i420_layout(s->width, s->height, &layout);
    uint8_t *frame = malloc(layout.frame_bytes);
    CHECK(frame != NULL);
    for (uint64_t i = 0; enc && frame && i < 8; i++) {
        for (size_t p = 0; p < layout.frame_bytes; p++) {
            frame[p] = (uint8_t)((p % s->width) + p / s->width * 3 + i * 7);
        }
        CHECK(rc_encode_i420(enc, frame, i, keep, out, &err) == RC_OK);
    }
    CHECK(enc && rc_encode_flush(enc, keep, out, &err) == RC_OK);
    free(frame);
    rc_encode_destroy(enc);
}

int main(void)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned per_core = (unsigned)(cores > 16 ? 16 : cores < 1 ? 1 : cores);
    struct rc_encode_settings s = {.width = 640,
                                   .height = 360,
                                   .fps = 30,
                                   .realtime = true,
                                   .bitrate_kbps = 2000,
                                   .crf = -1,
                                   .keyframe_interval = 60,
                                   .shared_cores = true};
    CHECK(rc_encode_threads(&s) == 1);
    s.width = 1280;
    s.height = 720;
    CHECK(rc_encode_threads(&s) == per_core);
    s.shared_cores = false;
    s.width = 640;
    s.height = 360;
    CHECK(rc_encode_threads(&s) == per_core);

    struct rc_buf one, many;
    rc_buf_init(&one);
    rc_buf_init(&many);
    s.shared_cores = true; /* one thread */
    encode_clip(&s, &one);
    s.shared_cores = false; /* one per core */
    encode_clip(&s, &many);
    printf("640x360 encoded with %u and with %u threads\n", 1u, rc_encode_threads(&s));
    CHECK(one.len > 1000);
    CHECK(one.len == many.len && memcmp(one.data, many.data, one.len) == 0);
    rc_buf_finish(&one);
    rc_buf_finish(&many);
    return CHECK_DONE();
}
