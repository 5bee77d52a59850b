/* Fuzz target: the container writers. The input chooses a clip (frame rate, alpha,
 * and for each frame a keyframe flag and a packet length) and the writers make it
 * as a finished WebM (seekable) and a progressive MP4; the bytes are then walked as
 * a reader would: every EBML element and ISO box lies within its parent, the
 * Segment runs to the end of the file, the SeekHead's Cues position and every
 * CueClusterPosition land on those elements, and the MP4's one chunk ends where its
 * mdat does. */
#define _GNU_SOURCE /* memmem */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "encode/mp4_writer.h"
#include "encode/webm_writer.h"
#include "webm_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            __builtin_trap();                                                                      \
        }                                                                                          \
    } while (0)

/* An EBML variable-size integer at p (the marker bit kept for IDs). */
static size_t vint(const uint8_t *p, size_t avail, bool keep_marker, uint64_t *value)
{
    if (avail == 0 || p[0] == 0) {
        return 0;
    }
    size_t len = 1;
    while (!(p[0] & (0x80 >> (len - 1)))) {
        len++;
    }
    if (len > avail) {
        return 0;
    }
    uint64_t v = keep_marker ? p[0] : (p[0] & (0xff >> len));
    for (size_t i = 1; i < len; i++) {
        v = v << 8 | p[i];
    }
    *value = v;
    return len;
}

/* One element at `at`: its ID, where its data starts and how long it is. */
static bool element(const uint8_t *f, size_t end, size_t at, uint64_t *id, size_t *data,
                    uint64_t *len)
{
    size_t a = vint(f + at, end - at, true, id);
    size_t b = a ? vint(f + at + a, end - at - a, false, len) : 0;
    if (!a || !b) {
        return false;
    }
    *data = at + a + b;
    return *data <= end && *len <= end - *data;
}

static uint64_t be(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        v = v << 8 | p[i];
    }
    return v;
}

static void check_webm(const struct rc_buf *f)
{
    uint64_t id, len;
    size_t data;
    CHECK(element(f->data, f->len, 0, &id, &data, &len) && id == 0x1A45DFA3);
    size_t seg_at = data + len;
    CHECK(element(f->data, f->len, seg_at, &id, &data, &len) && id == 0x18538067);
    CHECK(data + len == f->len); /* the Segment runs to the end */
    size_t seg = data;
    uint64_t cues_pos = UINT64_MAX;
    for (size_t at = seg; at < f->len; at = data + len) {
        CHECK(element(f->data, f->len, at, &id, &data, &len));
        if (id == 0x114D9B74) { /* SeekHead: its last Seek is the Cues' */
            for (size_t s = data; s < data + len;) {
                uint64_t sid, slen;
                size_t sdata;
                CHECK(element(f->data, data + len, s, &sid, &sdata, &slen) && sid == 0x4DBB);
                uint64_t cid, clen, pid, plen;
                size_t cdata, pdata;
                CHECK(element(f->data, sdata + slen, sdata, &cid, &cdata, &clen));
                CHECK(element(f->data, sdata + slen, cdata + clen, &pid, &pdata, &plen));
                if (be(f->data + cdata, clen) == 0x1C53BB6B) {
                    cues_pos = be(f->data + pdata, plen);
                }
                s = sdata + slen;
            }
        } else if (id == 0x1C53BB6B) { /* Cues */
            CHECK(at - seg == cues_pos);
            for (size_t c = data; c < data + len;) {
                uint64_t pid, plen;
                size_t pdata;
                CHECK(element(f->data, data + len, c, &pid, &pdata, &plen) && pid == 0xBB);
                /* CueTime, then CueTrackPositions holding CueTrack and the position */
                uint64_t tid, tlen, kid, klen;
                size_t tdata, kdata;
                CHECK(element(f->data, pdata + plen, pdata, &tid, &tdata, &tlen));
                CHECK(element(f->data, pdata + plen, tdata + tlen, &kid, &kdata, &klen));
                uint64_t xid, xlen, yid, ylen;
                size_t xdata, ydata;
                CHECK(element(f->data, kdata + klen, kdata, &xid, &xdata, &xlen));
                CHECK(element(f->data, kdata + klen, xdata + xlen, &yid, &ydata, &ylen));
                CHECK(yid == 0xF1);
                uint64_t cluster = seg + be(f->data + ydata, ylen), cid2, clen2;
                size_t cdata2;
                CHECK(cluster < f->len);
                CHECK(element(f->data, f->len, (size_t)cluster, &cid2, &cdata2, &clen2));
                CHECK(cid2 == 0x1F43B675);
                c = pdata + plen;
            }
        }
    }
    CHECK(cues_pos != UINT64_MAX);
}

static void check_mp4(const struct rc_buf *f, size_t payload)
{
    size_t at = 0, mdat_end = 0, mdat_data = 0;
    while (at < f->len) {
        CHECK(f->len - at >= 8);
        uint64_t len = be(f->data + at, 4);
        CHECK(len >= 8 && len <= f->len - at);
        if (memcmp(f->data + at + 4, "mdat", 4) == 0) {
            mdat_data = at + 8;
            mdat_end = at + (size_t)len;
        }
        at += (size_t)len;
    }
    CHECK(at == f->len && mdat_end == f->len && mdat_end - mdat_data == payload);
    /* stco's one offset is the mdat's payload */
    const uint8_t *stco = memmem(f->data, mdat_data, "stco", 4);
    CHECK(stco && be(stco + 8, 4) == 1 && be(stco + 12, 4) == mdat_data);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) {
        return 0;
    }
    unsigned fps = 1 + data[0] % 60;
    bool alpha = data[1] & 1;
    struct rc_mux_settings ws = {
        .width = 64, .height = 36, .fps = fps, .frames = size, .alpha = alpha, .seekable = true};
    static const uint8_t sps[] = {0x67, 0x64, 0x00, 0x1f, 0xac}, pps[] = {0x68, 0xee};
    struct rc_mp4_settings ms = {.width = 64,
                                 .height = 36,
                                 .fps = fps,
                                 .frames = size,
                                 .sps = sps,
                                 .sps_len = sizeof(sps),
                                 .pps = pps,
                                 .pps_len = sizeof(pps),
                                 .progressive = true};
    struct rc_mux *mux = rc_mux_create(&ws);
    struct rc_mp4 *mp4 = rc_mp4_create(&ms);
    uint8_t *packet = calloc(1, 128 * 7 + 1);
    struct rc_buf webm, mp4_file, unused;
    rc_buf_init(&webm);
    rc_buf_init(&mp4_file);
    rc_buf_init(&unused);
    CHECK(mux && mp4 && packet);
    CHECK(rc_mux_write_header(mux, &webm) == RC_OK);
    CHECK(rc_mp4_write_header(mp4, &unused) == RC_OK && unused.len == 0);
    size_t payload = 0;
    for (size_t i = 2; i < size; i++) {
        bool key = i == 2 || (data[i] & 1);
        size_t len =
            (size_t)(data[i] >> 1) * 7 + 1; /* up to 890 bytes: clusters still pass 16 KiB */
        memset(packet, (int)i, len);
        uint64_t index = (uint64_t)(i - 2) * (1 + (data[i] >> 7) * 40); /* gaps, long clips */
        if (alpha) {
            CHECK(rc_mux_write_frame_alpha(mux, &webm, index, key, packet, len, packet, 3) ==
                  RC_OK);
        } else {
            CHECK(rc_mux_write_frame(mux, &webm, index, key, packet, len) == RC_OK);
        }
        CHECK(rc_mp4_write_frame(mp4, &unused, i - 2, key, packet, len) == RC_OK);
        payload += len;
    }
    CHECK(rc_mux_finish(mux, &webm) == RC_OK);
    check_webm(&webm);
    /* libwebm reads every frame back, whole, and one Cue per keyframe cluster. */
    struct webm_summary parsed;
    CHECK(webm_parse(webm.data, webm.len, &parsed) == 0);
    CHECK(parsed.frames == size - 2 && parsed.frame_bytes == payload && parsed.tracks == 1);
    CHECK(size == 2 || parsed.cue_points >= 1);
    if (payload) {
        CHECK(rc_mp4_finish(mp4, &mp4_file) == RC_OK);
        check_mp4(&mp4_file, payload);
    }
    rc_mux_destroy(mux);
    rc_mp4_destroy(mp4);
    free(packet);
    rc_buf_finish(&webm);
    rc_buf_finish(&mp4_file);
    rc_buf_finish(&unused);
    return 0;
}
