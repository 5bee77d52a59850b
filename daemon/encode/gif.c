#include "encode/gif.h"

#include <gif_lib.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"
#include "encode/format.h"

struct rc_gif {
    struct rc_gif_settings s;
    GifFileType *file;
    struct rc_buf *target; /* where giflib's output goes during a call */
    struct rc_mapper *mapper;
    uint8_t *indices, *previous; /* this frame's and the last one's palette indices */
    bool have_previous;
    int transparent; /* index, or NO_TRANSPARENT_COLOR */
    double ms;
};

static int write_out(GifFileType *file, const GifByteType *data, int len)
{
    struct rc_gif *g = file->UserData;
    if (!g->target || rc_buf_append(g->target, data, (size_t)len) != RC_OK) {
        return 0;
    }
    return len;
}

unsigned rc_gif_delay_cs(uint64_t index, unsigned fps)
{
    /* Frame i ends at round((i + 1) * 100 / fps) cs: the error never accumulates. */
    uint64_t end = ((index + 1) * 200 / fps + 1) / 2;
    uint64_t start = (index * 200 / fps + 1) / 2;
    return (unsigned)(end - start);
}

enum rc_err rc_gif_create(const struct rc_gif_settings *settings, struct rc_gif **out,
                          struct rc_error *err)
{
    *out = NULL;
    struct rc_gif *g = calloc(1, sizeof(*g));
    if (!g) {
        return rc_error_set(err, RC_ERR_NOMEM, "", "out of memory");
    }
    g->s = *settings;
    size_t colours = g->s.palette.count;
    if (colours > (settings->transparent ? 255u : 256u)) {
        colours = settings->transparent ? 255 : 256;
    }
    g->s.palette.count = colours;
    g->transparent = settings->transparent ? (int)colours : NO_TRANSPARENT_COLOR;
    size_t pixels = (size_t)settings->width * settings->height;
    g->indices = malloc(pixels);
    g->previous = malloc(pixels);
    enum rc_err rc = RC_OK;
    if (!g->indices || !g->previous) {
        rc = rc_error_set(err, RC_ERR_NOMEM, "", "out of memory");
        goto out;
    }
    rc = rc_mapper_create(&g->s.palette, settings->dither, g->transparent, &g->mapper, err);
    if (rc != RC_OK) {
        goto out;
    }
    int gif_err = 0;
    g->file = EGifOpen(g, write_out, &gif_err);
    if (!g->file) {
        rc = rc_error_set(err, RC_ERR_INTERNAL, "", "GIF writer unavailable (%d)", gif_err);
    }
out:
    if (rc != RC_OK) {
        rc_gif_destroy(g);
        g = NULL;
    }
    *out = g;
    return rc;
}

void rc_gif_destroy(struct rc_gif *gif)
{
    if (!gif) {
        return;
    }
    if (gif->file) {
        struct rc_buf discard;
        rc_buf_init(&discard);
        gif->target = &discard;
        int gif_err = 0;
        EGifCloseFile(gif->file, &gif_err);
        rc_buf_finish(&discard);
    }
    rc_mapper_destroy(gif->mapper);
    free(gif->indices);
    free(gif->previous);
    free(gif);
}

static enum rc_err failed(struct rc_gif *g, const char *what)
{
    rc_log(RC_LOG_ERROR, "msg=\"giflib %s failed\" error=%d", what, g->file->Error);
    return g->file->Error == E_GIF_ERR_WRITE_FAILED ? RC_ERR_NOMEM : RC_ERR_INTERNAL;
}

enum rc_err rc_gif_write_header(struct rc_gif *gif, struct rc_buf *out)
{
    struct rc_gif *g = gif;
    GifColorType colours[256];
    memset(colours, 0, sizeof(colours));
    for (size_t i = 0; i < g->s.palette.count; i++) {
        colours[i] =
            (GifColorType){g->s.palette.rgb[i][0], g->s.palette.rgb[i][1], g->s.palette.rgb[i][2]};
    }
    ColorMapObject *map = GifMakeMapObject(256, colours);
    if (!map) {
        return RC_ERR_NOMEM;
    }
    g->target = out;
    EGifSetGifVersion(g->file, true);
    int ok = EGifPutScreenDesc(g->file, (int)g->s.width, (int)g->s.height, 8, 0, map);
    GifFreeMapObject(map);
    static const GifByteType loop[3] = {1, 0, 0}; /* sub-block 1: loop count 0, forever */
    ok = ok == GIF_OK ? EGifPutExtensionLeader(g->file, APPLICATION_EXT_FUNC_CODE) : ok;
    ok = ok == GIF_OK ? EGifPutExtensionBlock(g->file, 11, "NETSCAPE2.0") : ok;
    ok = ok == GIF_OK ? EGifPutExtensionBlock(g->file, 3, loop) : ok;
    ok = ok == GIF_OK ? EGifPutExtensionTrailer(g->file) : ok;
    g->target = NULL;
    return ok == GIF_OK ? RC_OK : failed(g, "header");
}

/* The smallest rectangle holding every pixel for which `keep` holds; false when
 * there is none. */
struct rect {
    unsigned x, y, w, h;
};

static bool changed_rect(const struct rc_gif *g, struct rect *r)
{
    unsigned w = g->s.width, h = g->s.height;
    unsigned x0 = w, y0 = h, x1 = 0, y1 = 0;
    for (unsigned y = 0; y < h; y++) {
        const uint8_t *a = g->indices + (size_t)y * w;
        const uint8_t *b = g->previous + (size_t)y * w;
        for (unsigned x = 0; x < w; x++) {
            bool keep = g->transparent >= 0 ? a[x] != (uint8_t)g->transparent
                                            : !g->have_previous || a[x] != b[x];
            if (keep) {
                x0 = x < x0 ? x : x0;
                x1 = x > x1 ? x : x1;
                y0 = y < y0 ? y : y0;
                y1 = y > y1 ? y : y1;
            }
        }
    }
    if (x0 > x1 || y0 > y1) {
        return false;
    }
    *r = (struct rect){x0, y0, x1 - x0 + 1, y1 - y0 + 1};
    return true;
}

enum rc_err rc_gif_write_frame(struct rc_gif *gif, struct rc_buf *out, uint64_t index,
                               const uint8_t *rgba)
{
    struct rc_gif *g = gif;
    double t0 = rc_clock_ms();
    rc_mapper_map(g->mapper, rgba, g->s.width, g->s.height, g->indices);
    struct rect r;
    if (!changed_rect(g, &r)) {
        /* Nothing to draw: one pixel as it already is, so the delay still counts. */
        r = (struct rect){0, 0, 1, 1};
    }
    GraphicsControlBlock gcb = {
        .DisposalMode = g->transparent >= 0 ? DISPOSE_BACKGROUND : DISPOSE_DO_NOT,
        .UserInputFlag = false,
        .DelayTime = (int)rc_gif_delay_cs(index, g->s.fps),
        .TransparentColor = g->transparent,
    };
    GifByteType ext[4];
    size_t ext_len = EGifGCBToExtension(&gcb, ext);
    g->target = out;
    int ok = EGifPutExtension(g->file, GRAPHICS_EXT_FUNC_CODE, (int)ext_len, ext);
    ok = ok == GIF_OK
             ? EGifPutImageDesc(g->file, (int)r.x, (int)r.y, (int)r.w, (int)r.h, false, NULL)
             : ok;
    for (unsigned y = r.y; ok == GIF_OK && y < r.y + r.h; y++) {
        ok = EGifPutLine(g->file, g->indices + (size_t)y * g->s.width + r.x, (int)r.w);
    }
    g->target = NULL;
    uint8_t *t = g->previous;
    g->previous = g->indices;
    g->indices = t;
    g->have_previous = true;
    g->ms += rc_clock_ms() - t0;
    return ok == GIF_OK ? RC_OK : failed(g, "frame");
}

enum rc_err rc_gif_write_trailer(struct rc_gif *gif, struct rc_buf *out)
{
    gif->target = out;
    int gif_err = 0;
    int ok = EGifCloseFile(gif->file, &gif_err);
    gif->file = NULL; /* freed, even on failure */
    gif->target = NULL;
    if (ok != GIF_OK) {
        rc_log(RC_LOG_ERROR, "msg=\"giflib close failed\" error=%d", gif_err);
        return RC_ERR_INTERNAL;
    }
    return RC_OK;
}

double rc_gif_ms(const struct rc_gif *gif)
{
    return gif->ms;
}

const char *rc_gif_library_version(void)
{
#define RC_STR2(x) #x
#define RC_STR(x) RC_STR2(x)
    return RC_STR(GIFLIB_MAJOR) "." RC_STR(GIFLIB_MINOR) "." RC_STR(GIFLIB_RELEASE);
}

/* ---- the GIF format (encode/format.h): the stream and the file are the same
 * bytes, so one is written and copied to the other. */

static void format_destroy(void *state)
{
    rc_gif_destroy(state);
}

static enum rc_err format_create(const struct rc_format_settings *settings, bool stream, bool file,
                                 void **state, struct rc_error *err)
{
    (void)stream;
    (void)file;
    struct rc_gif *gif = NULL;
    enum rc_err rc = rc_gif_create(&settings->gif, &gif, err);
    *state = gif;
    return rc;
}

/* Writes with `write` into the stream (else the file), then copies what it wrote
 * to the file when there are both. */
static enum rc_err both(struct rc_gif *gif, struct rc_format_out *out, uint64_t index,
                        const uint8_t *rgba, int step, struct rc_error *err)
{
    struct rc_buf *first = out->stream ? out->stream : out->file;
    size_t from = first ? first->len : 0;
    enum rc_err rc = RC_OK;
    if (first) {
        rc = step == 0   ? rc_gif_write_header(gif, first)
             : step == 1 ? rc_gif_write_frame(gif, first, index, rgba)
                         : rc_gif_write_trailer(gif, first);
    }
    if (rc != RC_OK) {
        return rc_error_set(err, rc, "", "the GIF writer failed");
    }
    if (out->stream && out->file &&
        rc_buf_append(out->file, out->stream->data + from, out->stream->len - from) != RC_OK) {
        return rc_error_set(err, RC_ERR_NOMEM, "", "out of memory");
    }
    return RC_OK;
}

static enum rc_err format_header(void *state, struct rc_format_out *out, struct rc_error *err)
{
    return both(state, out, 0, NULL, 0, err);
}

static enum rc_err format_frame(void *state, const uint8_t *pixels, uint64_t index,
                                struct rc_format_out *out, struct rc_error *err)
{
    return both(state, out, index, pixels, 1, err);
}

static enum rc_err format_finish(void *state, struct rc_format_out *out, struct rc_error *err)
{
    return both(state, out, 0, NULL, 2, err);
}

static void format_drop_file(void *state)
{
    (void)state; /* the file is a copy of the stream: nothing of its own to let go */
}

const struct rc_format_ops rc_format_gif = {
    .name = "gif",
    .create = format_create,
    .header = format_header,
    .frame = format_frame,
    .finish = format_finish,
    .drop_file = format_drop_file,
    .destroy = format_destroy,
};
