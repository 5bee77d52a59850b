/*
 * mp4_writer: a streaming fragmented MP4 (ISO/IEC 14496-12) writer for one H.264 video
 * track.
 *
 * Layout: `ftyp`; `moov` with the clip's duration known up front (mvhd, tkhd,
 * mdhd, and mvex/mehd), an `avc1` sample entry carrying the encoder's parameter
 * sets in `avcC` (ISO/IEC 14496-15) and empty sample tables; then one `moof` +
 * `mdat` fragment per frame, appended as soon as the frame is encoded, so the
 * stream can be sent while later frames are drawn. The timescale is fps x 1000
 * and every sample lasts 1000 ticks. Nothing is written with wall-clock time, so
 * the same input gives the same bytes.
 *
 * Progressive (settings.progressive): a finished file instead — the samples are
 * kept until rc_mp4_finish() writes `ftyp`, a `moov` with every sample's table
 * (stts, stss, stsc, stsz, stco) and then one `mdat`, so a player can seek without
 * reading the media first.
 *
 * One thread at a time per `struct rc_mp4`; the caller owns it
 * (rc_mp4_create/rc_mp4_destroy) and the output buffers.
 */
#ifndef RC_MP4_WRITER_H
#define RC_MP4_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/error.h"

struct rc_mp4_settings {
    unsigned width, height, fps;
    uint64_t frames;          /* clip length, for the durations */
    const uint8_t *sps, *pps; /* H.264 parameter sets, without start codes */
    size_t sps_len, pps_len;
    bool progressive; /* moov before mdat, written by rc_mp4_finish() */
};

struct rc_mp4;

/* Copies what it needs from `settings`; NULL when memory is short or the
 * parameter sets are unusable. */
struct rc_mp4 *rc_mp4_create(const struct rc_mp4_settings *settings);
void rc_mp4_destroy(struct rc_mp4 *mp4);

/* Appends `ftyp` and `moov` (the initialization segment) to `out`. */
enum rc_err rc_mp4_write_header(struct rc_mp4 *mp4, struct rc_buf *out);

/* Appends one sample (length-prefixed NAL units) as a `moof` + `mdat` fragment.
 * Frames come in order; the first must be a keyframe. */
enum rc_err rc_mp4_write_frame(struct rc_mp4 *mp4, struct rc_buf *out, uint64_t frame_index,
                               bool keyframe, const void *data, size_t len);

/* Progressive: appends the whole file. Fragmented: nothing to do. */
enum rc_err rc_mp4_finish(struct rc_mp4 *mp4, struct rc_buf *out);

#endif
