#include "encode/h264.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wels/codec_api.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/log.h"
#include "encode/convert.h"

enum { H264_NAL_SPS = 7, H264_NAL_PPS = 8, MAX_PARAMETER_SET = 256 };

struct rc_h264 {
    ISVCEncoder *codec;
    struct rc_i420_layout layout;
    unsigned fps;
    struct rc_buf sample; /* one access unit, length-prefixed */
    uint8_t sps[MAX_PARAMETER_SET], pps[MAX_PARAMETER_SET];
    size_t sps_len, pps_len;
    double encode_ms;
};

static void trace(void *ctx, int level, const char *message)
{
    (void)ctx;
    rc_log(level <= WELS_LOG_ERROR ? RC_LOG_WARN : RC_LOG_DEBUG,
           "msg=\"openh264\" level=%d detail=\"%.300s\"", level, message);
}

/* Calls `each` for every NAL unit of an encoded frame, start code stripped. */
static void for_each_nal(const SFrameBSInfo *info,
                         void (*each)(struct rc_h264 *, const uint8_t *, size_t),
                         struct rc_h264 *enc)
{
    for (int l = 0; l < info->iLayerNum; l++) {
        const SLayerBSInfo *layer = &info->sLayerInfo[l];
        const uint8_t *p = layer->pBsBuf;
        for (int n = 0; n < layer->iNalCount; n++) {
            size_t len = (size_t)layer->pNalLengthInByte[n];
            size_t skip = 0; /* Annex B start code: 00 00 01 or 00 00 00 01 */
            while (skip + 1 < len && p[skip] == 0) {
                skip++;
            }
            if (skip < len && p[skip] == 1) {
                skip++;
            } else {
                skip = 0;
            }
            each(enc, p + skip, len - skip);
            p += len;
        }
    }
}

static void keep_parameter_set(struct rc_h264 *enc, const uint8_t *nal, size_t len)
{
    int type = len ? nal[0] & 0x1f : 0;
    if ((type == H264_NAL_SPS || type == H264_NAL_PPS) && len <= MAX_PARAMETER_SET) {
        memcpy(type == H264_NAL_SPS ? enc->sps : enc->pps, nal, len);
        *(type == H264_NAL_SPS ? &enc->sps_len : &enc->pps_len) = len;
    }
}

static void append_sample_nal(struct rc_h264 *enc, const uint8_t *nal, size_t len)
{
    int type = len ? nal[0] & 0x1f : 0;
    if (type == H264_NAL_SPS || type == H264_NAL_PPS || len == 0) {
        return; /* in the avcC, once */
    }
    uint8_t size[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
                       (uint8_t)len};
    rc_buf_append(&enc->sample, size, 4);
    rc_buf_append(&enc->sample, nal, len);
}

/* crf 0..63 (VP9's scale) onto H.264's QP 0..51. */
static int crf_to_qp(int crf)
{
    return (crf * 51 + 31) / 63;
}

enum rc_err rc_h264_create(const struct rc_encode_settings *settings, struct rc_h264 **out,
                           struct rc_error *err)
{
    *out = NULL;
    struct rc_h264 *enc = calloc(1, sizeof(*enc));
    if (!enc) {
        return rc_error_set(err, RC_ERR_NOMEM, "", "out of memory");
    }
    rc_buf_init(&enc->sample);
    rc_i420_layout(settings->width, settings->height, &enc->layout);
    enc->fps = settings->fps;
    enum rc_err rc = RC_OK;
    if (WelsCreateSVCEncoder(&enc->codec) != 0 || !enc->codec) {
        enc->codec = NULL;
        rc = rc_error_set(err, RC_ERR_INTERNAL, "", "H.264 encoder unavailable");
        goto out;
    }
    ISVCEncoder *c = enc->codec;
    int quiet = WELS_LOG_WARNING;
    WelsTraceCallback callback = trace;
    (*c)->SetOption(c, ENCODER_OPTION_TRACE_CALLBACK, (void *)&callback);
    (*c)->SetOption(c, ENCODER_OPTION_TRACE_LEVEL, &quiet);
    SEncParamExt p;
    (*c)->GetDefaultParams(c, &p);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int threads = (int)(cores > 0 ? (cores > 8 ? 8 : cores) : 1);
    int bitrate = settings->crf >= 0 ? 20000000 : (int)settings->bitrate_kbps * 1000;
    p.iUsageType = CAMERA_VIDEO_REAL_TIME;
    p.iPicWidth = (int)settings->width;
    p.iPicHeight = (int)settings->height;
    p.fMaxFrameRate = (float)settings->fps;
    p.iTargetBitrate = bitrate;
    p.iMaxBitrate = UNSPECIFIED_BIT_RATE;
    p.iRCMode = settings->crf >= 0 ? RC_QUALITY_MODE : RC_BITRATE_MODE;
    if (settings->crf >= 0) {
        p.iMinQp = p.iMaxQp = crf_to_qp(settings->crf);
    }
    p.iComplexityMode = settings->realtime ? LOW_COMPLEXITY : HIGH_COMPLEXITY;
    p.uiIntraPeriod = settings->keyframe_interval;
    p.iNumRefFrame = 1;
    p.eSpsPpsIdStrategy = CONSTANT_ID;
    p.iEntropyCodingModeFlag = 1; /* CABAC: Main and High profiles */
    p.bEnableFrameSkip = false;   /* every frame becomes a sample */
    p.iMultipleThreadIdc = (unsigned short)threads;
    /* Slices stay where they are: load balancing moves them by measured time, and
     * the same job must give the same bytes. */
    p.bUseLoadBalancing = false;
    p.iSpatialLayerNum = 1;
    p.iTemporalLayerNum = 1;
    SSpatialLayerConfig *layer = &p.sSpatialLayers[0];
    layer->iVideoWidth = p.iPicWidth;
    layer->iVideoHeight = p.iPicHeight;
    layer->fFrameRate = p.fMaxFrameRate;
    layer->iSpatialBitrate = bitrate;
    layer->iMaxSpatialBitrate = UNSPECIFIED_BIT_RATE;
    layer->uiProfileIdc = PRO_HIGH;
    layer->sSliceArgument.uiSliceMode = threads > 1 ? SM_FIXEDSLCNUM_SLICE : SM_SINGLE_SLICE;
    layer->sSliceArgument.uiSliceNum = (unsigned)threads;
    if ((*c)->InitializeExt(c, &p) != cmResultSuccess) {
        rc = rc_error_set(err, RC_ERR_INTERNAL, "", "H.264 encoder init failed");
        goto out;
    }
    int format = videoFormatI420;
    (*c)->SetOption(c, ENCODER_OPTION_DATAFORMAT, &format);
    SFrameBSInfo info;
    memset(&info, 0, sizeof(info));
    if ((*c)->EncodeParameterSets(c, &info) != cmResultSuccess) {
        rc = rc_error_set(err, RC_ERR_INTERNAL, "", "H.264 parameter sets failed");
        goto out;
    }
    for_each_nal(&info, keep_parameter_set, enc);
    if (!enc->sps_len || !enc->pps_len) {
        rc = rc_error_set(err, RC_ERR_INTERNAL, "", "H.264 encoder gave no parameter sets");
    }
out:
    if (rc != RC_OK) {
        rc_h264_destroy(enc);
        enc = NULL;
    }
    *out = enc;
    return rc;
}

void rc_h264_destroy(struct rc_h264 *enc)
{
    if (!enc) {
        return;
    }
    if (enc->codec) {
        (*enc->codec)->Uninitialize(enc->codec);
        WelsDestroySVCEncoder(enc->codec);
    }
    rc_buf_finish(&enc->sample);
    free(enc);
}

void rc_h264_parameter_sets(const struct rc_h264 *enc, const uint8_t **sps, size_t *sps_len,
                            const uint8_t **pps, size_t *pps_len)
{
    *sps = enc->sps;
    *sps_len = enc->sps_len;
    *pps = enc->pps;
    *pps_len = enc->pps_len;
}

enum rc_err rc_h264_encode(struct rc_h264 *enc, const uint8_t *i420, uint64_t pts,
                           rc_encode_sink sink, void *ctx, struct rc_error *err)
{
    const struct rc_i420_layout *l = &enc->layout;
    SSourcePicture pic;
    memset(&pic, 0, sizeof(pic));
    pic.iColorFormat = videoFormatI420;
    pic.iPicWidth = (int)l->width;
    pic.iPicHeight = (int)l->height;
    pic.iStride[0] = (int)l->width;
    pic.iStride[1] = pic.iStride[2] = (int)l->chroma_width;
    pic.pData[0] = (unsigned char *)i420;
    pic.pData[1] = (unsigned char *)i420 + l->u_offset;
    pic.pData[2] = (unsigned char *)i420 + l->v_offset;
    pic.uiTimeStamp = (long long)(pts * 1000 / enc->fps);
    SFrameBSInfo info;
    memset(&info, 0, sizeof(info));
    double t0 = rc_clock_ms();
    int rv = (*enc->codec)->EncodeFrame(enc->codec, &pic, &info);
    enc->encode_ms += rc_clock_ms() - t0;
    if (rv != cmResultSuccess) {
        rc_log(RC_LOG_ERROR, "msg=\"openh264 encode failed\" result=%d", rv);
        return rc_error_set(err, RC_ERR_INTERNAL, "", "video encoder encode failed");
    }
    if (info.eFrameType == videoFrameTypeSkip || info.eFrameType == videoFrameTypeInvalid) {
        return RC_OK;
    }
    rc_buf_reset(&enc->sample);
    for_each_nal(&info, append_sample_nal, enc);
    bool key = info.eFrameType == videoFrameTypeIDR;
    enum rc_err rc = sink(ctx, enc->sample.data, enc->sample.len, pts, key);
    if (rc != RC_OK) {
        return rc_error_set(err, rc, "", "the stream could not take a frame");
    }
    return RC_OK;
}

double rc_h264_ms(const struct rc_h264 *enc)
{
    return enc->encode_ms;
}

static char version[32];

static void read_version(void)
{
    OpenH264Version v = WelsGetCodecVersion();
    snprintf(version, sizeof(version), "%u.%u.%u", v.uMajor, v.uMinor, v.uRevision);
}

const char *rc_h264_library_version(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, read_version);
    return version;
}
