#include "encode.h"

#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <vpx/vp8cx.h>
#include <vpx/vpx_encoder.h>

#include "clock.h"
#include "log.h"

struct rc_encoder {
    vpx_codec_ctx_t codec;
    bool codec_open;
    unsigned width, height;
    unsigned long deadline;
    double encode_ms;
    long fail_at; /* fault injection (test builds): frame whose encode libvpx rejects */
};

static enum rc_err codec_failed(struct rc_encoder *enc, const char *what, struct rc_error *err)
{
    const char *detail = vpx_codec_error_detail(&enc->codec);
    rc_log(RC_LOG_ERROR, "msg=\"vpx %s failed\" error=\"%s\" detail=\"%s\"", what,
           vpx_codec_error(&enc->codec), detail ? detail : "");
    return rc_error_set(err, RC_ERR_INTERNAL, "", "video encoder %s failed", what);
}

static unsigned log2_tile_columns(unsigned width)
{
    /* VP9 tiles are at least 256 pixels wide; more columns, more threads. */
    unsigned n = 0;
    while (n < 6 && (width >> (n + 1)) >= 256) {
        n++;
    }
    return n;
}

enum rc_err rc_encode_create(const struct rc_job_spec *spec, struct rc_encoder **out,
                             struct rc_error *err)
{
    *out = NULL;
    struct rc_encoder *enc = calloc(1, sizeof(*enc));
    if (!enc) {
        return rc_error_set(err, RC_ERR_NOMEM, "", "out of memory");
    }
    enum rc_err rc = RC_OK;
    vpx_codec_iface_t *iface = vpx_codec_vp9_cx();
    vpx_codec_enc_cfg_t cfg;
    if (vpx_codec_enc_config_default(iface, &cfg, 0) != VPX_CODEC_OK) {
        rc = rc_error_set(err, RC_ERR_INTERNAL, "", "VP9 encoder unavailable");
        goto out;
    }
    bool realtime = spec->speed == RC_SPEED_REALTIME;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    cfg.g_w = spec->width;
    cfg.g_h = spec->height;
    cfg.g_timebase.num = 1;
    cfg.g_timebase.den = (int)spec->fps;
    cfg.g_threads = (unsigned)(cores > 0 ? (cores > 16 ? 16 : cores) : 1);
    cfg.g_lag_in_frames = realtime ? 0 : 16;
    cfg.g_pass = VPX_RC_ONE_PASS;
    cfg.kf_mode = VPX_KF_AUTO;
    cfg.kf_min_dist = spec->keyframe_interval;
    cfg.kf_max_dist = spec->keyframe_interval;
    if (spec->crf >= 0) {
        cfg.rc_end_usage = VPX_Q;
        cfg.rc_min_quantizer = 0;
        cfg.rc_max_quantizer = 63;
    } else {
        cfg.rc_end_usage = realtime ? VPX_CBR : VPX_VBR;
        cfg.rc_target_bitrate = spec->bitrate_kbps;
    }
    if (realtime) {
        cfg.rc_undershoot_pct = 50;
        cfg.rc_overshoot_pct = 50;
        cfg.rc_buf_initial_sz = 500;
        cfg.rc_buf_optimal_sz = 600;
        cfg.rc_buf_sz = 1000;
    }
    if (vpx_codec_enc_init(&enc->codec, iface, &cfg, 0) != VPX_CODEC_OK) {
        rc = codec_failed(enc, "init", err);
        goto out;
    }
    enc->codec_open = true;
    struct {
        int id;
        int value;
        const char *name;
    } controls[] = {
        {VP8E_SET_CPUUSED, realtime ? 8 : 4, "cpu-used"},
        {VP9E_SET_ROW_MT, 1, "row-mt"},
        {VP9E_SET_TILE_COLUMNS, (int)log2_tile_columns(spec->width), "tile-columns"},
        {VP9E_SET_AQ_MODE, realtime ? 3 : 0, "aq-mode"},
        {VP9E_SET_COLOR_SPACE, VPX_CS_BT_601, "color-space"},
        {VP9E_SET_COLOR_RANGE, VPX_CR_STUDIO_RANGE, "color-range"},
        {VP8E_SET_CQ_LEVEL, spec->crf >= 0 ? spec->crf : 32, "cq-level"},
    };
    for (size_t i = 0; i < sizeof(controls) / sizeof(controls[0]); i++) {
        if (vpx_codec_control_(&enc->codec, controls[i].id, controls[i].value) != VPX_CODEC_OK) {
            rc = codec_failed(enc, controls[i].name, err);
            goto out;
        }
    }
    enc->width = spec->width;
    enc->height = spec->height;
    enc->deadline = realtime ? VPX_DL_REALTIME : VPX_DL_GOOD_QUALITY;
    enc->fail_at = -1;
#ifdef RC_FAULT_INJECTION
    /* Test builds only: RASTERCLIP_FAULT_ENCODE_FRAME=N hands libvpx a frame of the
     * wrong size at frame N, so the failure path after streaming began is real. */
    const char *fault = getenv("RASTERCLIP_FAULT_ENCODE_FRAME");
    if (fault && *fault) {
        enc->fail_at = strtol(fault, NULL, 10);
    }
#endif
out:
    if (rc != RC_OK) {
        rc_encode_destroy(enc);
        enc = NULL;
    }
    *out = enc;
    return rc;
}

void rc_encode_destroy(struct rc_encoder *enc)
{
    if (!enc) {
        return;
    }
    if (enc->codec_open) {
        vpx_codec_destroy(&enc->codec);
    }
    free(enc);
}

/* BT.601 limited range in 8.8 fixed point (ITU-R BT.601 coefficients), written so
 * every intermediate fits 16 unsigned bits (the +16 and +128 offsets folded in as
 * 4096 + 128 and 32768 + 128) and the compiler can use 16-bit vector lanes. */
static inline uint8_t luma(unsigned r, unsigned g, unsigned b)
{
    return (uint8_t)((uint16_t)(66 * r + 129 * g + 25 * b + 4224) >> 8);
}

static inline uint8_t chroma_u(unsigned r, unsigned g, unsigned b)
{
    return (uint8_t)((uint16_t)(112 * b + 32896 - 38 * r - 74 * g) >> 8);
}

static inline uint8_t chroma_v(unsigned r, unsigned g, unsigned b)
{
    return (uint8_t)((uint16_t)(112 * r + 32896 - 94 * g - 18 * b) >> 8);
}

void rc_encode_rgba_to_i420(const uint8_t *rgba, unsigned width, unsigned height, uint8_t *y,
                            int y_stride, uint8_t *u, int u_stride, uint8_t *v, int v_stride)
{
    for (unsigned row = 0; row < height; row++) {
        const uint8_t *restrict src = rgba + (size_t)row * width * 4;
        uint8_t *restrict dst = y + (size_t)row * (size_t)y_stride;
        /* size_t indices: unsigned 32-bit ones could wrap, which keeps the compiler
         * from vectorising the loop. */
        for (size_t col = 0; col < (size_t)width; col++) {
            dst[col] = luma(src[4 * col], src[4 * col + 1], src[4 * col + 2]);
        }
    }
    for (unsigned row = 0; row < height; row += 2) {
        const uint8_t *restrict top = rgba + (size_t)row * width * 4;
        const uint8_t *restrict bottom = row + 1 < height ? top + (size_t)width * 4 : top;
        uint8_t *restrict du = u + (size_t)(row / 2) * (size_t)u_stride;
        uint8_t *restrict dv = v + (size_t)(row / 2) * (size_t)v_stride;
        size_t pairs = width / 2;
        for (size_t i = 0; i < pairs; i++) {
            const uint8_t *t = top + 8 * i, *b = bottom + 8 * i;
            unsigned r = (t[0] + t[4] + b[0] + b[4] + 2) >> 2;
            unsigned g = (t[1] + t[5] + b[1] + b[5] + 2) >> 2;
            unsigned bl = (t[2] + t[6] + b[2] + b[6] + 2) >> 2;
            du[i] = chroma_u(r, g, bl);
            dv[i] = chroma_v(r, g, bl);
        }
        if (width % 2) { /* an odd last column averages with itself */
            const uint8_t *t = top + 8 * pairs, *b = bottom + 8 * pairs;
            unsigned r = (2 * t[0] + 2 * b[0] + 2) >> 2;
            unsigned g = (2 * t[1] + 2 * b[1] + 2) >> 2;
            unsigned bl = (2 * t[2] + 2 * b[2] + 2) >> 2;
            du[pairs] = chroma_u(r, g, bl);
            dv[pairs] = chroma_v(r, g, bl);
        }
    }
}

static enum rc_err drain(struct rc_encoder *enc, rc_encode_sink sink, void *ctx,
                         struct rc_error *err, bool *got)
{
    vpx_codec_iter_t iter = NULL;
    const vpx_codec_cx_pkt_t *pkt;
    *got = false;
    while ((pkt = vpx_codec_get_cx_data(&enc->codec, &iter)) != NULL) {
        if (pkt->kind != VPX_CODEC_CX_FRAME_PKT) {
            continue;
        }
        *got = true;
        bool key = (pkt->data.frame.flags & VPX_FRAME_IS_KEY) != 0;
        enum rc_err rc =
            sink(ctx, pkt->data.frame.buf, pkt->data.frame.sz, (uint64_t)pkt->data.frame.pts, key);
        if (rc != RC_OK) {
            return rc_error_set(err, rc, "", "the stream could not take a frame");
        }
    }
    return RC_OK;
}

static enum rc_err encode_image(struct rc_encoder *enc, vpx_image_t *img, uint64_t pts,
                                rc_encode_sink sink, void *ctx, struct rc_error *err)
{
    double t0 = rc_clock_ms();
    vpx_codec_err_t e =
        vpx_codec_encode(&enc->codec, img, (vpx_codec_pts_t)pts, 1, 0, enc->deadline);
    enc->encode_ms += rc_clock_ms() - t0;
    if (e != VPX_CODEC_OK) {
        return codec_failed(enc, "encode", err);
    }
    bool got;
    return drain(enc, sink, ctx, err, &got);
}

enum rc_err rc_encode_i420(struct rc_encoder *enc, const uint8_t *i420, uint64_t pts,
                           rc_encode_sink sink, void *ctx, struct rc_error *err)
{
    vpx_image_t img;
    unsigned width = enc->fail_at >= 0 && pts == (uint64_t)enc->fail_at ? enc->width - 2 : enc->width;
    if (!vpx_img_wrap(&img, VPX_IMG_FMT_I420, width, enc->height, 1, (unsigned char *)i420)) {
        return rc_error_set(err, RC_ERR_INTERNAL, "", "cannot wrap an I420 frame");
    }
    img.cs = VPX_CS_BT_601;
    img.range = VPX_CR_STUDIO_RANGE;
    return encode_image(enc, &img, pts, sink, ctx, err);
}

enum rc_err rc_encode_flush(struct rc_encoder *enc, rc_encode_sink sink, void *ctx,
                            struct rc_error *err)
{
    bool got = true;
    while (got) {
        double t0 = rc_clock_ms();
        vpx_codec_err_t e = vpx_codec_encode(&enc->codec, NULL, 0, 1, 0, enc->deadline);
        enc->encode_ms += rc_clock_ms() - t0;
        if (e != VPX_CODEC_OK) {
            return codec_failed(enc, "flush", err);
        }
        enum rc_err rc = drain(enc, sink, ctx, err, &got);
        if (rc != RC_OK) {
            return rc;
        }
    }
    return RC_OK;
}

double rc_encode_ms(const struct rc_encoder *enc)
{
    return enc->encode_ms;
}
