/*
 * webm_writer: a live WebM (Matroska subset) writer for one VP9 video track.
 *
 * Layout: EBML header, then a Segment of unknown size holding Info (with the
 * Duration known up front), Tracks, and Clusters of unknown size, one per keyframe
 * (or sooner when a block's timecode would not fit the 16-bit relative field),
 * each made of SimpleBlocks (BlockGroups with the alpha channel in BlockAdditions when
 * the clip has one). Bytes are appended to a caller's buffer as soon as
 * each frame arrives, so the stream can be sent while later frames are encoded.
 * No Cues or SeekHead: the file is meant to be read front to back.
 *
 * Seekable (settings.seekable): a finished file instead — the Segment, SeekHead and
 * every Cluster with its size, and Cues pointing at each keyframe cluster, written
 * by rc_mux_finish(). Sizes are 8-byte vints filled in once known, so every call
 * must append to the same buffer, which holds the file from its first byte.
 *
 * One thread at a time per `struct rc_mux`; the caller owns it
 * (rc_mux_create/rc_mux_destroy) and the output buffers.
 */
#ifndef RC_WEBM_WRITER_H
#define RC_WEBM_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "encode/ebml.h"

struct rc_mux_settings {
    unsigned width;
    unsigned height;
    unsigned fps;
    uint64_t frames; /* clip length, for Info/Duration */
    const char *writing_app;
    bool alpha;    /* frames carry an alpha channel (rc_mux_write_frame_alpha) */
    bool seekable; /* a finished file with Cues; one buffer holds it all */
};

struct rc_mux;

struct rc_mux *rc_mux_create(const struct rc_mux_settings *settings);
void rc_mux_destroy(struct rc_mux *mux);

/* Appends the EBML header, the Segment start, Info and Tracks to `out`. */
enum rc_err rc_mux_write_header(struct rc_mux *mux, struct rc_buf *out);

/* Appends one encoded frame (`frame_index` in 1/fps units) to `out`, opening a
 * Cluster first when needed. The first frame must be a keyframe. */
enum rc_err rc_mux_write_frame(struct rc_mux *mux, struct rc_buf *out, uint64_t frame_index,
                               bool keyframe, const void *data, size_t len);

/* Appends one frame with its alpha channel (a second VP9 frame, BlockAddID 1)
 * as a BlockGroup; non-keyframes reference the previous block. */
enum rc_err rc_mux_write_frame_alpha(struct rc_mux *mux, struct rc_buf *out, uint64_t frame_index,
                                     bool keyframe, const void *data, size_t len, const void *alpha,
                                     size_t alpha_len);

/* Seekable: closes the last Cluster, appends Cues and fills in the sizes and
 * SeekHead. A live stream: nothing to do. */
enum rc_err rc_mux_finish(struct rc_mux *mux, struct rc_buf *out);

/* Millisecond timecode of a frame index (TimecodeScale is 1 ms). */
uint64_t rc_mux_timecode_ms(const struct rc_mux *mux, uint64_t frame_index);

#endif
