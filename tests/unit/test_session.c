/* The session drives every format alike: three frames of each format, streamed
 * into a byte queue in memory and kept as the finished file, come out as that
 * format (its signature first, its end last), and the stream and the file agree
 * where the format says they must (a GIF's are the same bytes). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "defaults.h"
#include "pipeline/plan.h"
#include "pipeline/session.h"

static struct rc_config cfg;

static bool has(const uint8_t *data, size_t len, size_t at, const void *what, size_t n)
{
    return len >= at + n && memcmp(data + at, what, n) == 0;
}

/* Where `what` first occurs in `buf`, or -1. */
static long find(const struct rc_buf *buf, const void *what, size_t n)
{
    for (size_t at = 0; at + n <= buf->len; at++) {
        if (memcmp(buf->data + at, what, n) == 0) {
            return (long)at;
        }
    }
    return -1;
}

/* Runs a 64 x 36, three-frame clip of `job`; returns the stream's bytes and the
 * finished file. */
static void run_clip(const char *job, struct rc_buf *stream, struct rc_buf *file)
{
    static float values[16];
    static double range[1][2] = {{0, 15}};
    static char labels[1][RC_RASTER_LABEL_MAX];
    for (int i = 0; i < 16; i++) {
        values[i] = (float)i;
    }
    struct rc_raster raster = {.width = 4,
                               .height = 4,
                               .source_width = 4,
                               .source_height = 4,
                               .band_count = 1,
                               .values = values,
                               .valid_min = 0,
                               .valid_max = 15,
                               .valid_count = 16,
                               .labels = labels,
                               .band_range = range};
    struct rc_job_spec spec;
    struct rc_error err = {0};
    rc_buf_init(stream);
    rc_buf_init(file);
    CHECK(rc_job_spec_parse(&spec, &cfg, job, strlen(job), &err) == RC_OK);
    struct rc_plan plan;
    CHECK(rc_plan_make(&spec, &cfg, &raster, false, false, &plan, &err) == RC_OK);
    rc_plan_palette(&plan, NULL);
    plan.output.keep_file = true;
    plan.output.max_file_bytes = 1 << 20;
    struct rc_bytequeue *q = rc_bytequeue_create(4 << 20);
    atomic_bool cancel = false;
    struct rc_session *session = NULL;
    CHECK(rc_session_create(&plan.output, q, &cancel, &session, &err) == RC_OK);
    CHECK(rc_session_write_header(session));
    CHECK(rc_session_start(session, &err) == RC_OK);
    size_t bytes = rc_frame_bytes(plan.output.frame, 64, 36);
    for (size_t i = 0; i < 3; i++) {
        struct rc_session_frame *f = rc_session_frame(session);
        for (size_t b = 0; b < bytes; b++) {
            f->pixels[b] = (uint8_t)(b * 7 + i * 40); /* a different picture each frame */
        }
        f->index = i;
        rc_session_submit(session, f);
    }
    CHECK(rc_session_finish(session, &err) == RC_OK);
    CHECK(rc_session_encoded(session) == 3);
    CHECK(rc_session_take_file(session, file));
    rc_bytequeue_finish(q, true);
    uint8_t chunk[65536];
    size_t got = 0;
    while (rc_bytequeue_read(q, chunk, sizeof(chunk), &got) == RC_BQ_DATA) {
        rc_buf_append(stream, chunk, got);
    }
    rc_session_destroy(session);
    rc_bytequeue_destroy(q);
    rc_plan_release(&plan);
    rc_job_spec_finish(&spec);
}

static void test_formats(void)
{
    static const uint8_t ebml[] = {0x1a, 0x45, 0xdf, 0xa3};
    static const uint8_t cues[] = {0x1c, 0x53, 0xbb, 0x6b}; /* the seekable file's Cues */
    struct rc_buf stream, file;

    run_clip("{\"raster\":{\"url\":\"x\"},\"output\":{\"width\":64,\"height\":36}}", &stream,
             &file);
    CHECK(has(stream.data, stream.len, 0, ebml, 4) && has(file.data, file.len, 0, ebml, 4));
    CHECK(find(&file, cues, 4) >= 0);
    CHECK(find(&stream, cues, 4) < 0); /* the stream has none */
    rc_buf_finish(&stream);
    rc_buf_finish(&file);

    run_clip("{\"raster\":{\"url\":\"x\"},\"output\":{\"width\":64,\"height\":36,\"format\":"
             "\"mp4\"}}",
             &stream, &file);
    CHECK(has(stream.data, stream.len, 4, "ftyp", 4) && has(file.data, file.len, 4, "ftyp", 4));
    CHECK(find(&stream, "moof", 4) >= 0); /* fragments */
    CHECK(find(&file, "moof", 4) < 0);    /* progressive */
    long moov = find(&file, "moov", 4), mdat = find(&file, "mdat", 4);
    CHECK(moov >= 0 && mdat >= 0 && moov < mdat);
    rc_buf_finish(&stream);
    rc_buf_finish(&file);

    run_clip("{\"raster\":{\"url\":\"x\"},\"output\":{\"width\":64,\"height\":36,\"format\":"
             "\"gif\"}}",
             &stream, &file);
    CHECK(has(stream.data, stream.len, 0, "GIF89a", 6));
    CHECK(stream.len > 0 && stream.data[stream.len - 1] == 0x3b); /* the trailer */
    CHECK(stream.len == file.len && memcmp(stream.data, file.data, file.len) == 0);
    rc_buf_finish(&stream);
    rc_buf_finish(&file);

    /* With alpha, WebM's blocks carry BlockAdditions (0x75A1). */
    run_clip("{\"raster\":{\"url\":\"x\"},\"style\":{\"background\":\"#00000000\"},\"output\":"
             "{\"width\":64,\"height\":36}}",
             &stream, &file);
    static const uint8_t additions[] = {0x75, 0xa1};
    CHECK(find(&stream, additions, 2) >= 0);
    CHECK(find(&file, additions, 2) >= 0);
    rc_buf_finish(&stream);
    rc_buf_finish(&file);
}

int main(void)
{
    if (!rc_test_default_config(&cfg)) {
        return 1;
    }
    test_formats();
    return CHECK_DONE();
}
