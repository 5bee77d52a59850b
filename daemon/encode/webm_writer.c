#include "encode/webm_writer.h"

#include <stdlib.h>

/* Element IDs from the Matroska specification (RFC 9559) and EBML (RFC 8794). */
enum {
    ID_EBML = 0x1A45DFA3,
    ID_EBML_VERSION = 0x4286,
    ID_EBML_READ_VERSION = 0x42F7,
    ID_EBML_MAX_ID_LENGTH = 0x42F2,
    ID_EBML_MAX_SIZE_LENGTH = 0x42F3,
    ID_DOC_TYPE = 0x4282,
    ID_DOC_TYPE_VERSION = 0x4287,
    ID_DOC_TYPE_READ_VERSION = 0x4285,
    ID_SEGMENT = 0x18538067,
    ID_INFO = 0x1549A966,
    ID_TIMECODE_SCALE = 0x2AD7B1,
    ID_DURATION = 0x4489,
    ID_MUXING_APP = 0x4D80,
    ID_WRITING_APP = 0x5741,
    ID_TRACKS = 0x1654AE6B,
    ID_TRACK_ENTRY = 0xAE,
    ID_TRACK_NUMBER = 0xD7,
    ID_TRACK_UID = 0x73C5,
    ID_TRACK_TYPE = 0x83,
    ID_FLAG_LACING = 0x9C,
    ID_CODEC_ID = 0x86,
    ID_DEFAULT_DURATION = 0x23E383,
    ID_VIDEO = 0xE0,
    ID_PIXEL_WIDTH = 0xB0,
    ID_PIXEL_HEIGHT = 0xBA,
    ID_CLUSTER = 0x1F43B675,
    ID_TIMECODE = 0xE7,
    ID_SIMPLE_BLOCK = 0xA3,
    ID_ALPHA_MODE = 0x53C0,
    ID_BLOCK_GROUP = 0xA0,
    ID_BLOCK = 0xA1,
    ID_REFERENCE_BLOCK = 0xFB,
    ID_BLOCK_ADDITIONS = 0x75A1,
    ID_BLOCK_MORE = 0xA6,
    ID_BLOCK_ADD_ID = 0xEE,
    ID_BLOCK_ADDITIONAL = 0xA5,
    ID_SEEK_HEAD = 0x114D9B74,
    ID_SEEK = 0x4DBB,
    ID_SEEK_ID = 0x53AB,
    ID_SEEK_POSITION = 0x53AC,
    ID_CUES = 0x1C53BB6B,
    ID_CUE_POINT = 0xBB,
    ID_CUE_TIME = 0xB3,
    ID_CUE_TRACK_POSITIONS = 0xB7,
    ID_CUE_TRACK = 0xF7,
    ID_CUE_CLUSTER_POSITION = 0xF1,
};

enum {
    TRACK_NUMBER = 1,
    TRACK_TYPE_VIDEO = 1,
    TIMECODE_SCALE_NS = 1000000, /* timecodes in milliseconds */
    BLOCK_KEYFRAME = 0x80,       /* SimpleBlock flags: keyframe bit */
};

/* A keyframe cluster, for Cues: its timecode and position in the Segment. */
struct cue {
    uint64_t timecode_ms, position;
};

struct rc_mux {
    struct rc_mux_settings settings;
    bool cluster_open;
    uint64_t cluster_timecode_ms;
    uint64_t previous_timecode_ms; /* of the last block, for ReferenceBlock */
    /* seekable: offsets in the one buffer that holds the file */
    size_t segment_size_at, segment_data_at, cues_position_at, cluster_size_at;
    struct cue *cues;
    size_t cue_count, cue_capacity;
};

struct rc_mux *rc_mux_create(const struct rc_mux_settings *settings)
{
    if (!settings->fps || !settings->width || !settings->height) {
        return NULL;
    }
    struct rc_mux *mux = calloc(1, sizeof(*mux));
    if (mux) {
        mux->settings = *settings;
    }
    return mux;
}

void rc_mux_destroy(struct rc_mux *mux)
{
    if (mux) {
        free(mux->cues);
        free(mux);
    }
}

/* ---- seekable files: sizes written as 8-byte vints, filled in once known ---- */

static void put_be(uint8_t *p, uint64_t value, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        p[i] = (uint8_t)(value >> (8 * (n - 1 - i)));
    }
}

/* An 8-byte size placeholder (a legal, non-minimal vint); returns its offset. */
static size_t size_placeholder(struct rc_buf *out)
{
    static const uint8_t zero_size[8] = {0x01};
    size_t at = out->len;
    rc_buf_append(out, zero_size, sizeof(zero_size));
    return at;
}

/* The size of the element whose 8-byte size is at `at`: up to the end of `out`.
 * Nothing once `out` has failed (the placeholder may not be there). */
static void patch_size(struct rc_buf *out, size_t at)
{
    if (!out->error) {
        put_be(out->data + at + 1, out->len - at - 8, 7);
    }
}

/* SeekHead: where Info, Tracks and Cues are; Cues' position is filled in last. */
static enum rc_err write_seek_head(struct rc_mux *mux, struct rc_buf *out, uint64_t info_pos,
                                   uint64_t tracks_pos)
{
    static const uint32_t ids[3] = {ID_INFO, ID_TRACKS, ID_CUES};
    uint64_t positions[3] = {info_pos, tracks_pos, 0};
    rc_ebml_id(out, ID_SEEK_HEAD);
    size_t head_at = size_placeholder(out);
    for (size_t i = 0; i < 3; i++) {
        uint8_t id[4], position[8];
        put_be(id, ids[i], 4);
        put_be(position, positions[i], 8);
        rc_ebml_id(out, ID_SEEK);
        size_t seek_at = size_placeholder(out);
        rc_ebml_binary(out, ID_SEEK_ID, id, sizeof(id));
        /* An unsigned integer in 8 bytes, so Cues' can be written in place. */
        rc_ebml_binary(out, ID_SEEK_POSITION, position, sizeof(position));
        patch_size(out, seek_at);
        mux->cues_position_at = out->len - 8;
    }
    patch_size(out, head_at);
    return rc_buf_error(out);
}

/* The size is known: SeekHead and Info/Tracks sized up front, so their positions are. */
static enum rc_err seek_head_len(struct rc_mux *mux, size_t *len)
{
    struct rc_buf probe;
    rc_buf_init(&probe);
    size_t saved = mux->cues_position_at;
    enum rc_err rc = write_seek_head(mux, &probe, 0, 0);
    *len = probe.len;
    mux->cues_position_at = saved;
    rc_buf_finish(&probe);
    return rc;
}

uint64_t rc_mux_timecode_ms(const struct rc_mux *mux, uint64_t frame_index)
{
    /* Rounded to the nearest millisecond; exact for any fps that divides 1000. */
    uint64_t fps = mux->settings.fps;
    return (frame_index * 1000 + fps / 2) / fps;
}

static enum rc_err write_ebml_header(struct rc_buf *out)
{
    struct rc_buf body;
    rc_buf_init(&body);
    rc_ebml_uint(&body, ID_EBML_VERSION, 1);
    rc_ebml_uint(&body, ID_EBML_READ_VERSION, 1);
    rc_ebml_uint(&body, ID_EBML_MAX_ID_LENGTH, 4);
    rc_ebml_uint(&body, ID_EBML_MAX_SIZE_LENGTH, 8);
    rc_ebml_string(&body, ID_DOC_TYPE, "webm");
    rc_ebml_uint(&body, ID_DOC_TYPE_VERSION, 4);
    rc_ebml_uint(&body, ID_DOC_TYPE_READ_VERSION, 2);
    enum rc_err rc = rc_ebml_master(out, ID_EBML, &body);
    rc_buf_finish(&body);
    return rc;
}

static enum rc_err write_info(const struct rc_mux *mux, struct rc_buf *out)
{
    const struct rc_mux_settings *s = &mux->settings;
    struct rc_buf body;
    rc_buf_init(&body);
    double duration_ms = (double)s->frames * 1000.0 / (double)s->fps;
    const char *app = s->writing_app ? s->writing_app : "rasterclip";
    rc_ebml_uint(&body, ID_TIMECODE_SCALE, TIMECODE_SCALE_NS);
    rc_ebml_float(&body, ID_DURATION, duration_ms);
    rc_ebml_string(&body, ID_MUXING_APP, "rasterclip mux");
    rc_ebml_string(&body, ID_WRITING_APP, app);
    enum rc_err rc = rc_ebml_master(out, ID_INFO, &body);
    rc_buf_finish(&body);
    return rc;
}

static enum rc_err write_tracks(const struct rc_mux *mux, struct rc_buf *out)
{
    const struct rc_mux_settings *s = &mux->settings;
    struct rc_buf video, entry, tracks;
    rc_buf_init(&video);
    rc_buf_init(&entry);
    rc_buf_init(&tracks);
    rc_ebml_uint(&video, ID_PIXEL_WIDTH, s->width);
    rc_ebml_uint(&video, ID_PIXEL_HEIGHT, s->height);
    if (s->alpha) {
        /* The alpha channel travels in BlockAdditional 1 of each block (WebM's
         * "VP9 with alpha", as Chromium and libwebm read it). */
        rc_ebml_uint(&video, ID_ALPHA_MODE, 1);
    }
    rc_ebml_uint(&entry, ID_TRACK_NUMBER, TRACK_NUMBER);
    rc_ebml_uint(&entry, ID_TRACK_UID, 1);
    rc_ebml_uint(&entry, ID_TRACK_TYPE, TRACK_TYPE_VIDEO);
    rc_ebml_uint(&entry, ID_FLAG_LACING, 0);
    rc_ebml_string(&entry, ID_CODEC_ID, "V_VP9");
    rc_ebml_uint(&entry, ID_DEFAULT_DURATION, 1000000000ull / s->fps);
    rc_ebml_master(&entry, ID_VIDEO, &video);
    rc_ebml_master(&tracks, ID_TRACK_ENTRY, &entry);
    enum rc_err rc = rc_ebml_master(out, ID_TRACKS, &tracks);
    rc_buf_finish(&video);
    rc_buf_finish(&entry);
    rc_buf_finish(&tracks);
    return rc;
}

enum rc_err rc_mux_write_header(struct rc_mux *mux, struct rc_buf *out)
{
    write_ebml_header(out);
    rc_ebml_id(out, ID_SEGMENT);
    if (!mux->settings.seekable) {
        rc_ebml_size(out, RC_EBML_UNKNOWN_SIZE);
        write_info(mux, out);
        return write_tracks(mux, out);
    }
    mux->segment_size_at = size_placeholder(out);
    mux->segment_data_at = out->len;
    struct rc_buf info;
    rc_buf_init(&info);
    size_t head_len = 0;
    enum rc_err rc = seek_head_len(mux, &head_len);
    rc = rc ? rc : write_info(mux, &info);
    if (rc != RC_OK) {
        rc_buf_fail(out, rc);
    }
    write_seek_head(mux, out, head_len, head_len + info.len);
    rc_buf_append(out, info.data, info.len);
    rc = write_tracks(mux, out);
    rc_buf_finish(&info);
    return rc;
}

static enum rc_err add_cue(struct rc_mux *mux, uint64_t timecode, uint64_t position)
{
    if (mux->cue_count == mux->cue_capacity) {
        size_t capacity = mux->cue_capacity ? 2 * mux->cue_capacity : 64;
        struct cue *cues = realloc(mux->cues, capacity * sizeof(*cues));
        if (!cues) {
            return RC_ERR_NOMEM;
        }
        mux->cues = cues;
        mux->cue_capacity = capacity;
    }
    mux->cues[mux->cue_count++] = (struct cue){timecode, position};
    return RC_OK;
}

enum rc_err rc_mux_finish(struct rc_mux *mux, struct rc_buf *out)
{
    if (!mux->settings.seekable) {
        return RC_OK; /* a live stream just stops */
    }
    if (out->error) {
        return out->error; /* what it would patch may not be there */
    }
    if (mux->cluster_open) {
        patch_size(out, mux->cluster_size_at);
        mux->cluster_open = false;
    }
    put_be(out->data + mux->cues_position_at, out->len - mux->segment_data_at, 8);
    rc_ebml_id(out, ID_CUES);
    size_t cues_at = size_placeholder(out);
    for (size_t i = 0; i < mux->cue_count; i++) {
        struct rc_buf point, positions;
        rc_buf_init(&point);
        rc_buf_init(&positions);
        rc_ebml_uint(&positions, ID_CUE_TRACK, TRACK_NUMBER);
        rc_ebml_uint(&positions, ID_CUE_CLUSTER_POSITION, mux->cues[i].position);
        rc_ebml_uint(&point, ID_CUE_TIME, mux->cues[i].timecode_ms);
        rc_ebml_master(&point, ID_CUE_TRACK_POSITIONS, &positions);
        rc_ebml_master(out, ID_CUE_POINT, &point);
        rc_buf_finish(&point);
        rc_buf_finish(&positions);
    }
    patch_size(out, cues_at);
    patch_size(out, mux->segment_size_at);
    return rc_buf_error(out);
}

/* Opens a Cluster at keyframes, or when the block's 16-bit relative timecode
 * would not fit. */
static enum rc_err cluster_for(struct rc_mux *mux, struct rc_buf *out, uint64_t timecode,
                               bool keyframe)
{
    if (!mux->cluster_open && !keyframe) {
        return RC_ERR_INTERNAL;
    }
    bool fits = mux->cluster_open && timecode >= mux->cluster_timecode_ms &&
                timecode - mux->cluster_timecode_ms <= INT16_MAX;
    if (!keyframe && fits) {
        return RC_OK;
    }
    bool seekable = mux->settings.seekable;
    if (seekable && mux->cluster_open) {
        patch_size(out, mux->cluster_size_at);
    }
    uint64_t position = out->len - mux->segment_data_at;
    if (seekable && keyframe && add_cue(mux, timecode, position) != RC_OK) {
        return rc_buf_fail(out, RC_ERR_NOMEM);
    }
    rc_ebml_id(out, ID_CLUSTER);
    if (seekable) {
        mux->cluster_size_at = size_placeholder(out);
    } else {
        rc_ebml_size(out, RC_EBML_UNKNOWN_SIZE);
    }
    enum rc_err rc = rc_ebml_uint(out, ID_TIMECODE, timecode);
    if (rc == RC_OK) {
        mux->cluster_open = true;
        mux->cluster_timecode_ms = timecode;
    }
    return rc;
}

enum rc_err rc_mux_write_frame(struct rc_mux *mux, struct rc_buf *out, uint64_t frame_index,
                               bool keyframe, const void *data, size_t len)
{
    uint64_t timecode = rc_mux_timecode_ms(mux, frame_index);
    enum rc_err rc = cluster_for(mux, out, timecode, keyframe);
    if (rc != RC_OK) {
        return rc;
    }
    uint16_t relative = (uint16_t)(timecode - mux->cluster_timecode_ms);
    uint8_t block_head[4] = {
        0x80 | TRACK_NUMBER, /* track number as a 1-byte vint */
        (uint8_t)(relative >> 8),
        (uint8_t)relative,
        keyframe ? BLOCK_KEYFRAME : 0,
    };
    rc_ebml_id(out, ID_SIMPLE_BLOCK);
    rc_ebml_size(out, sizeof(block_head) + len);
    rc_buf_append(out, block_head, sizeof(block_head));
    mux->previous_timecode_ms = timecode;
    return rc_buf_append(out, data, len);
}

enum rc_err rc_mux_write_frame_alpha(struct rc_mux *mux, struct rc_buf *out, uint64_t frame_index,
                                     bool keyframe, const void *data, size_t len, const void *alpha,
                                     size_t alpha_len)
{
    uint64_t timecode = rc_mux_timecode_ms(mux, frame_index);
    enum rc_err rc = cluster_for(mux, out, timecode, keyframe);
    if (rc != RC_OK) {
        return rc;
    }
    uint16_t relative = (uint16_t)(timecode - mux->cluster_timecode_ms);
    /* A Block has no keyframe flag: a block without ReferenceBlock is one. */
    uint8_t block_head[4] = {0x80 | TRACK_NUMBER, (uint8_t)(relative >> 8), (uint8_t)relative, 0};
    struct rc_buf group, block, more, additions;
    rc_buf_init(&group);
    rc_buf_init(&block);
    rc_buf_init(&more);
    rc_buf_init(&additions);
    rc_buf_append(&block, block_head, sizeof(block_head));
    rc_buf_append(&block, data, len);
    rc_ebml_master(&group, ID_BLOCK, &block);
    rc_ebml_uint(&more, ID_BLOCK_ADD_ID, 1);
    rc_ebml_binary(&more, ID_BLOCK_ADDITIONAL, alpha, alpha_len);
    rc_ebml_master(&additions, ID_BLOCK_MORE, &more);
    rc_ebml_master(&group, ID_BLOCK_ADDITIONS, &additions);
    if (!keyframe) {
        /* The previous frame, as a (negative) offset: a signed integer element. */
        int64_t back = (int64_t)mux->previous_timecode_ms - (int64_t)timecode;
        uint8_t ref[8];
        size_t n = 1;
        while (n < 8 && (back < -(1LL << (8 * n - 1)) || back >= (1LL << (8 * n - 1)))) {
            n++;
        }
        for (size_t i = 0; i < n; i++) {
            ref[i] = (uint8_t)((uint64_t)back >> (8 * (n - 1 - i)));
        }
        rc_ebml_binary(&group, ID_REFERENCE_BLOCK, ref, n);
    }
    rc = rc_ebml_master(out, ID_BLOCK_GROUP, &group);
    rc_buf_finish(&group);
    rc_buf_finish(&block);
    rc_buf_finish(&more);
    rc_buf_finish(&additions);
    mux->previous_timecode_ms = timecode;
    return rc;
}
