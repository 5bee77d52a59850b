/*
 * encode_ceiling: the encoder-only ceiling for the benchmark. Reads raw RGBA
 * frames (as the daemon's draw thread has them after readback) and turns them into
 * a clip of FORMAT with exactly the daemon's encoder settings for a default job of
 * that size, nothing else running:
 *
 *   webm  RGBA to I420, VP9 (libvpx), WebM muxing
 *   mp4   RGBA to I420, H.264 (OpenH264), fragmented MP4 writing
 *   gif   palette mapping and LZW (giflib), without dithering (the daemon's choice
 *         for unlit clips); the palette, by median cut over the frames' colours, is
 *         made before the clock starts, as the daemon makes it before the first frame
 *
 * Prints one JSON object: frames, seconds, fps, per-stage milliseconds, the CPU
 * seconds all its threads spent meanwhile (libvpx's included), bytes, and the
 * encoder settings (VP9: realtime, cpu-used 8, CBR at 2000 kbit/s, lag 0, row-mt off,
 * tiles and threads by frame size and cores, aq-mode 3 — rc_encode_create()).
 *
 *   encode_ceiling FRAMES.rgba WIDTH HEIGHT FPS [webm|mp4|gif [software|hardware]]
 *
 * The last word says which renderer the daemon it stands beside draws with
 * (default software): with a software renderer the daemon gives small frames one
 * VP9 thread (rc_encode_threads()), and so does this.
 */
#define _GNU_SOURCE /* madvise, MAP_ANONYMOUS */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "encode/convert.h"
#include "encode/gif.h"
#include "encode/h264.h"
#include "encode/mp4_writer.h"
#include "encode/palette.h"
#include "encode/vp9.h"
#include "encode/webm_writer.h"

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now_s(void)
{
    return clock_s(CLOCK_MONOTONIC);
}

static long parse_long(const char *s)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    return errno || !end || *end ? -1 : v;
}

/* Container output, counted and dropped frame by frame. */
struct sink {
    struct rc_mux *webm;
    struct rc_mp4 *mp4;
    struct rc_buf buf;
    size_t bytes;
};

static enum rc_err to_container(void *ctx, const void *data, size_t len, uint64_t pts, bool key)
{
    struct sink *s = ctx;
    rc_buf_reset(&s->buf);
    enum rc_err rc = s->webm ? rc_mux_write_frame(s->webm, &s->buf, pts, key, data, len)
                             : rc_mp4_write_frame(s->mp4, &s->buf, pts, key, data, len);
    s->bytes += s->buf.len;
    return rc;
}

struct run {
    const uint8_t *frames;
    size_t count, frame_bytes;
    unsigned width, height, fps;
    bool hardware; /* the daemon beside it draws on a GPU */
    double convert_s, encode_ms;
    double start; /* when the clock started: after any set-up the daemon does up front */
    double cpu_start;
    size_t bytes;
};

static const struct rc_encode_settings *default_settings(const struct run *r)
{
    /* A default job's settings (output.speed realtime, 2000 kbit/s, a keyframe
     * every 60 frames), as the plan makes them. */
    static struct rc_encode_settings s;
    s = (struct rc_encode_settings){.width = r->width,
                                    .height = r->height,
                                    .fps = r->fps,
                                    .realtime = true,
                                    .bitrate_kbps = 2000,
                                    .crf = -1,
                                    .keyframe_interval = 60,
                                    .shared_cores = !r->hardware};
    return &s;
}

static int run_video(struct run *r, bool mp4)
{
    struct rc_error err = {0};
    struct rc_encoder *vp9 = NULL;
    struct rc_h264 *h264 = NULL;
    struct sink sink = {0};
    rc_buf_init(&sink.buf);
    struct rc_mux_settings ms = {
        .width = r->width, .height = r->height, .fps = r->fps, .frames = r->count};
    enum rc_err rc;
    if (mp4) {
        rc = rc_h264_create(default_settings(r), &h264, &err);
        if (rc == RC_OK) {
            struct rc_mp4_settings mp = {
                .width = r->width, .height = r->height, .fps = r->fps, .frames = r->count};
            rc_h264_parameter_sets(h264, &mp.sps, &mp.sps_len, &mp.pps, &mp.pps_len);
            sink.mp4 = rc_mp4_create(&mp);
            rc = sink.mp4 ? rc_mp4_write_header(sink.mp4, &sink.buf) : RC_ERR_INTERNAL;
        }
    } else {
        rc = rc_encode_create(default_settings(r), &vp9, &err);
        sink.webm = rc == RC_OK ? rc_mux_create(&ms) : NULL;
        rc = rc == RC_OK && sink.webm ? rc_mux_write_header(sink.webm, &sink.buf) : rc;
    }
    sink.bytes = sink.buf.len;
    struct rc_i420_layout layout;
    rc_i420_layout(r->width, r->height, &layout);
    uint8_t *i420 = malloc(layout.frame_bytes);
    for (size_t i = 0; rc == RC_OK && i420 && i < r->count; i++) {
        double t0 = now_s();
        rc_convert_rgba_to_i420(r->frames + i * r->frame_bytes, &layout, i420);
        r->convert_s += now_s() - t0;
        rc = mp4 ? rc_h264_encode(h264, i420, i, to_container, &sink, &err)
                 : rc_encode_i420(vp9, i420, i, to_container, &sink, &err);
    }
    if (rc == RC_OK && vp9) {
        rc = rc_encode_flush(vp9, to_container, &sink, &err);
    }
    r->encode_ms = mp4 ? (h264 ? rc_h264_ms(h264) : 0) : (vp9 ? rc_encode_ms(vp9) : 0);
    r->bytes = sink.bytes;
    free(i420);
    rc_encode_destroy(vp9);
    rc_h264_destroy(h264);
    rc_mux_destroy(sink.webm);
    rc_mp4_destroy(sink.mp4);
    rc_buf_finish(&sink.buf);
    if (rc != RC_OK) {
        fprintf(stderr, "encode_ceiling: %s\n", err.message[0] ? err.message : "encoder failed");
        return 1;
    }
    return 0;
}

/* The GIF's palette: median cut over every 97th pixel of every frame. */
static void sample_palette(const struct run *r, struct rc_palette *palette)
{
    size_t pixels = r->count * (size_t)r->width * r->height, n = pixels / 97 + 1;
    uint8_t(*rgb)[3] = malloc(n * sizeof(*rgb));
    size_t k = 0;
    for (size_t p = 0; rgb && p < pixels && k < n; p += 97) {
        memcpy(rgb[k++], r->frames + 4 * p, 3);
    }
    rc_palette_build((const uint8_t(*)[3])rgb, NULL, rgb ? k : 0, 256, palette);
    free(rgb);
}

static int run_gif(struct run *r)
{
    struct rc_gif_settings gs = {.width = r->width, .height = r->height, .fps = r->fps};
    sample_palette(r, &gs.palette);
    gs.dither = RC_DITHER_NONE; /* the daemon's choice for unlit clips (dither auto) */
    r->start = now_s();
    r->cpu_start = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    struct rc_gif *gif = NULL;
    struct rc_error err = {0};
    struct rc_buf buf;
    rc_buf_init(&buf);
    enum rc_err rc = rc_gif_create(&gs, &gif, &err);
    rc = rc ? rc : rc_gif_write_header(gif, &buf);
    for (size_t i = 0; rc == RC_OK && i < r->count; i++) {
        rc = rc_gif_write_frame(gif, &buf, i, r->frames + i * r->frame_bytes);
    }
    rc = rc ? rc : rc_gif_write_trailer(gif, &buf);
    r->encode_ms = gif ? rc_gif_ms(gif) : 0;
    r->bytes = buf.len;
    rc_gif_destroy(gif);
    rc_buf_finish(&buf);
    if (rc != RC_OK) {
        fprintf(stderr, "encode_ceiling: the GIF writer failed\n");
        return 1;
    }
    return 0;
}

/* The frames, in huge pages where the kernel gives them: the daemon converts each
 * frame from a buffer the readback has just written, so a clip's worth of frames
 * (442 MB at 720p) read once each from small pages would charge the ceiling with
 * TLB misses the daemon never has (on a virtual machine with shadow page tables,
 * 7 ms a frame of conversion instead of 1). */
static uint8_t *frames_alloc(size_t bytes)
{
    void *p =
        mmap(NULL, bytes ? bytes : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        return NULL;
    }
    (void)madvise(p, bytes, MADV_HUGEPAGE); /* advice: small pages still work */
    return p;
}

static void frames_free(uint8_t *p, size_t bytes)
{
    if (p) {
        munmap(p, bytes ? bytes : 1);
    }
}

int main(int argc, char **argv)
{
    if (argc < 5 || argc > 7 ||
        (argc == 7 && strcmp(argv[6], "software") != 0 && strcmp(argv[6], "hardware") != 0)) {
        fprintf(stderr, "usage: encode_ceiling FRAMES.rgba WIDTH HEIGHT FPS "
                        "[webm|mp4|gif [software|hardware]]\n");
        return 2;
    }
    long w = parse_long(argv[2]), h = parse_long(argv[3]), fps = parse_long(argv[4]);
    const char *format = argc >= 6 ? argv[5] : "webm";
    bool hardware = argc == 7 && strcmp(argv[6], "hardware") == 0;
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
    uint8_t *all = frames_alloc(frames * frame_bytes);
    if (!all || fread(all, frame_bytes, frames, f) != frames) {
        fprintf(stderr, "encode_ceiling: cannot read frames\n");
        fclose(f);
        frames_free(all, frames * frame_bytes);
        return 1;
    }
    fclose(f);
    struct run r = {.frames = all,
                    .count = frames,
                    .frame_bytes = frame_bytes,
                    .width = (unsigned)w,
                    .height = (unsigned)h,
                    .fps = (unsigned)fps,
                    .hardware = hardware};
    r.start = now_s();
    r.cpu_start = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    int status;
    if (strcmp(format, "gif") == 0) {
        status = run_gif(&r);
    } else if (strcmp(format, "mp4") == 0 || strcmp(format, "webm") == 0) {
        status = run_video(&r, strcmp(format, "mp4") == 0);
    } else {
        fprintf(stderr, "encode_ceiling: format must be webm, mp4 or gif\n");
        status = 2;
    }
    double seconds = now_s() - r.start;
    double cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - r.cpu_start;
    if (status == 0) {
        printf("{\"format\": \"%s\", \"frames\": %zu, \"seconds\": %.4f, \"fps\": %.2f, "
               "\"cpu_seconds\": %.4f, \"ms_convert\": %.1f, \"ms_encode\": %.1f, "
               "\"bytes\": %zu, \"cores\": %ld, \"vp9_threads\": %u}\n",
               format, frames, seconds, (double)frames / seconds, cpu, r.convert_s * 1e3,
               r.encode_ms, r.bytes, sysconf(_SC_NPROCESSORS_ONLN),
               rc_encode_threads(default_settings(&r)));
    }
    frames_free(all, frames * frame_bytes);
    return status;
}
