#include "encode/vp9.h"

#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <vpx/vp8cx.h>
#include <vpx/vpx_encoder.h>

#include "base/clock.h"
#include "base/log.h"

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

unsigned rc_encode_threads(const struct rc_encode_settings *settings)
{
    if (settings->shared_cores && (size_t)settings->width * settings->height < 1280 * 720) {
        return 1;
    }
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    return (unsigned)(cores > 0 ? (cores > 16 ? 16 : cores) : 1);
}

enum rc_err rc_encode_create(const struct rc_encode_settings *settings, struct rc_encoder **out,
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
    const struct rc_encode_settings *st = settings;
    bool realtime = st->realtime;
    cfg.g_w = st->width;
    cfg.g_h = st->height;
    cfg.g_timebase.num = 1;
    cfg.g_timebase.den = (int)st->fps;
    cfg.g_threads = rc_encode_threads(st);
    cfg.g_lag_in_frames = realtime ? 0 : 16;
    cfg.g_pass = VPX_RC_ONE_PASS;
    cfg.kf_mode = VPX_KF_AUTO;
    cfg.kf_min_dist = st->keyframe_interval;
    cfg.kf_max_dist = st->keyframe_interval;
    if (st->crf >= 0) {
        cfg.rc_end_usage = VPX_Q;
        cfg.rc_min_quantizer = 0;
        cfg.rc_max_quantizer = 63;
    } else {
        cfg.rc_end_usage = realtime ? VPX_CBR : VPX_VBR;
        cfg.rc_target_bitrate = st->bitrate_kbps;
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
        /* Off: row multi-threading shares rate-distortion state between threads,
         * so the bytes would depend on their timing; tiles still run in parallel,
         * bit-exact, and a 720p clip encodes as fast. */
        {VP9E_SET_ROW_MT, 0, "row-mt"},
        {VP9E_SET_TILE_COLUMNS, (int)log2_tile_columns(st->width), "tile-columns"},
        {VP9E_SET_AQ_MODE, realtime ? 3 : 0, "aq-mode"},
        {VP9E_SET_COLOR_SPACE, VPX_CS_BT_601, "color-space"},
        {VP9E_SET_COLOR_RANGE, VPX_CR_STUDIO_RANGE, "color-range"},
        {VP8E_SET_CQ_LEVEL, st->crf >= 0 ? st->crf : 32, "cq-level"},
    };
    for (size_t i = 0; i < sizeof(controls) / sizeof(controls[0]); i++) {
        if (vpx_codec_control_(&enc->codec, controls[i].id, controls[i].value) != VPX_CODEC_OK) {
            rc = codec_failed(enc, controls[i].name, err);
            goto out;
        }
    }
    enc->width = st->width;
    enc->height = st->height;
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
    /* vpx_img_wrap() lays the planes out as rc_i420_layout() does. */
    vpx_image_t img;
    unsigned width =
        enc->fail_at >= 0 && pts == (uint64_t)enc->fail_at ? enc->width - 2 : enc->width;
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

const char *rc_encode_library_version(void)
{
    return vpx_codec_version_str();
}

double rc_encode_ms(const struct rc_encoder *enc)
{
    return enc->encode_ms;
}
