/*
 * h264: I420 frames (encode/convert.h) to H.264 access units with OpenH264: High
 * profile with CABAC, no B-frames (decode order is presentation order), one IDR
 * every keyframe_interval frames. Samples leave in the ISO-BMFF form an MP4 needs
 * (NAL units with 4-byte big-endian lengths, parameter sets left out of the
 * samples); the sequence and picture parameter sets, known as soon as the encoder
 * exists, go into the MP4's avcC (encode/mp4_writer.h).
 *
 * Rate control as for VP9 (encode/vp9.h): a bitrate, or crf 0..63 mapped onto
 * H.264's QP 0..51 for constant quality; realtime picks OpenH264's lowest
 * complexity, good its highest. One thread at a time per encoder; the caller owns
 * it.
 */
#ifndef RC_H264_H
#define RC_H264_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "encode/vp9.h"

struct rc_h264;

enum rc_err rc_h264_create(const struct rc_encode_settings *settings, struct rc_h264 **out,
                           struct rc_error *err);
void rc_h264_destroy(struct rc_h264 *enc);

/* The sequence and picture parameter sets (NAL payloads without start codes). */
void rc_h264_parameter_sets(const struct rc_h264 *enc, const uint8_t **sps, size_t *sps_len,
                            const uint8_t **pps, size_t *pps_len);

/* Encodes frame `pts` (I420, rc_i420_layout() of the settings' size); its sample,
 * if any, goes to `sink` before this returns. */
enum rc_err rc_h264_encode(struct rc_h264 *enc, const uint8_t *i420, uint64_t pts,
                           rc_encode_sink sink, void *ctx, struct rc_error *err);

double rc_h264_ms(const struct rc_h264 *enc);
const char *rc_h264_library_version(void);

#endif
