/*
 * frames: counts the frames of a clip while its bytes stream past, without
 * keeping them — WebM blocks (SimpleBlock, BlockGroup), MP4 fragments (moof),
 * GIF images — for the command-line client's progress bar. Single-threaded; the
 * caller owns the counter (plain struct, no allocation).
 */
#ifndef RC_CLIENT_FRAMES_H
#define RC_CLIENT_FRAMES_H

#include <stddef.h>
#include <stdint.h>

enum rc_clip_kind {
    RC_CLIP_UNKNOWN,
    RC_CLIP_WEBM,
    RC_CLIP_MP4,
    RC_CLIP_GIF,
};

struct rc_frame_counter {
    enum rc_clip_kind kind;
    uint64_t frames;
    /* parser state */
    int state;
    uint8_t head[16];
    size_t head_len, head_want;
    uint64_t skip;    /* bytes to pass over */
    uint64_t element; /* WebM: the ID whose size is being read */
};

/* The kind of clip a Content-Type names. */
enum rc_clip_kind rc_clip_kind_of(const char *content_type);

void rc_frames_init(struct rc_frame_counter *c, enum rc_clip_kind kind);
void rc_frames_feed(struct rc_frame_counter *c, const uint8_t *data, size_t len);

#endif
