#include "encode/mp4_writer.h"

#include <stdlib.h>
#include <string.h>

enum { SAMPLE_TICKS = 1000, TRACK_ID = 1 };

/* Progressive: the samples, kept until rc_mp4_finish() writes the file. */
struct samples {
    struct rc_buf data; /* every sample, in order: the mdat's payload */
    uint32_t *sizes;    /* count entries */
    uint32_t *sync;     /* 1-based numbers of the keyframes */
    size_t count, sync_count, capacity;
};

struct rc_mp4 {
    struct rc_mp4_settings s;
    uint8_t *sps, *pps; /* owned copies */
    uint32_t sequence;  /* fragments written */
    bool started;
    struct samples samples;
};

struct rc_mp4 *rc_mp4_create(const struct rc_mp4_settings *settings)
{
    if (settings->sps_len < 4 || settings->sps_len > 0xffff || settings->pps_len < 1 ||
        settings->pps_len > 0xffff || settings->fps == 0) {
        return NULL;
    }
    struct rc_mp4 *m = calloc(1, sizeof(*m));
    if (!m) {
        return NULL;
    }
    m->s = *settings;
    m->sps = malloc(settings->sps_len);
    m->pps = malloc(settings->pps_len);
    if (!m->sps || !m->pps) {
        rc_mp4_destroy(m);
        return NULL;
    }
    memcpy(m->sps, settings->sps, settings->sps_len);
    memcpy(m->pps, settings->pps, settings->pps_len);
    m->s.sps = m->sps;
    m->s.pps = m->pps;
    rc_buf_init(&m->samples.data);
    return m;
}

void rc_mp4_destroy(struct rc_mp4 *mp4)
{
    if (!mp4) {
        return;
    }
    free(mp4->sps);
    free(mp4->pps);
    rc_buf_finish(&mp4->samples.data);
    free(mp4->samples.sizes);
    free(mp4->samples.sync);
    free(mp4);
}

/* ---- big-endian writers; the buffer keeps the first failure (base/buf.h) -- */

struct writer {
    struct rc_buf *buf;
};

static void bytes(struct writer *w, const void *data, size_t len)
{
    rc_buf_append(w->buf, data, len);
}

static void u8(struct writer *w, uint8_t v)
{
    bytes(w, &v, 1);
}

static void u16(struct writer *w, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    bytes(w, b, 2);
}

static void u32(struct writer *w, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    bytes(w, b, 4);
}

static void u64(struct writer *w, uint64_t v)
{
    u32(w, (uint32_t)(v >> 32));
    u32(w, (uint32_t)v);
}

static void zeros(struct writer *w, size_t n)
{
    static const uint8_t z[32];
    while (n > 0) {
        size_t k = n < sizeof(z) ? n : sizeof(z);
        bytes(w, z, k);
        n -= k;
    }
}

/* Opens a box: its size is patched in by box_end(). */
static size_t box(struct writer *w, const char type[4])
{
    size_t at = w->buf->len;
    u32(w, 0);
    bytes(w, type, 4);
    return at;
}

/* A full box: version and flags after the type. */
static size_t full_box(struct writer *w, const char type[4], uint8_t version, uint32_t flags)
{
    size_t at = box(w, type);
    u32(w, (uint32_t)version << 24 | (flags & 0xffffff));
    return at;
}

static void box_end(struct writer *w, size_t at)
{
    if (w->buf->error) {
        return; /* the box's start may not be there */
    }
    uint32_t size = (uint32_t)(w->buf->len - at);
    uint8_t *p = w->buf->data + at;
    p[0] = (uint8_t)(size >> 24);
    p[1] = (uint8_t)(size >> 16);
    p[2] = (uint8_t)(size >> 8);
    p[3] = (uint8_t)size;
}

/* The unity transformation matrix of mvhd and tkhd (16.16 and 2.30 fixed point). */
static void matrix(struct writer *w)
{
    static const uint32_t unity[9] = {0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000};
    for (int i = 0; i < 9; i++) {
        u32(w, unity[i]);
    }
}

static void write_avc1(struct writer *w, const struct rc_mp4_settings *s)
{
    size_t avc1 = box(w, "avc1");
    zeros(w, 6);  /* reserved */
    u16(w, 1);    /* data_reference_index */
    zeros(w, 16); /* pre_defined, reserved */
    u16(w, (uint16_t)s->width);
    u16(w, (uint16_t)s->height);
    u32(w, 0x00480000); /* 72 dpi */
    u32(w, 0x00480000);
    u32(w, 0);                    /* reserved */
    u16(w, 1);                    /* frame_count */
    zeros(w, 32);                 /* compressorname */
    u16(w, 0x0018);               /* depth */
    u16(w, 0xffff);               /* pre_defined = -1 */
    size_t avcc = box(w, "avcC"); /* ISO/IEC 14496-15, 5.3.3.1 */
    u8(w, 1);                     /* configurationVersion */
    u8(w, s->sps[1]);             /* AVCProfileIndication */
    u8(w, s->sps[2]);             /* profile_compatibility */
    u8(w, s->sps[3]);             /* AVCLevelIndication */
    u8(w, 0xff);                  /* lengthSizeMinusOne = 3 */
    u8(w, 0xe1);                  /* one SPS */
    u16(w, (uint16_t)s->sps_len);
    bytes(w, s->sps, s->sps_len);
    u8(w, 1); /* one PPS */
    u16(w, (uint16_t)s->pps_len);
    bytes(w, s->pps, s->pps_len);
    uint8_t profile = s->sps[1];
    if (profile == 100 || profile == 110 || profile == 122 || profile == 144) {
        u8(w, 0xfc | 1); /* chroma_format_idc: 4:2:0 */
        u8(w, 0xf8 | 0); /* bit_depth_luma_minus8 */
        u8(w, 0xf8 | 0); /* bit_depth_chroma_minus8 */
        u8(w, 0);        /* no SPS extensions */
    }
    box_end(w, avcc);
    box_end(w, avc1);
}

/* Progressive: every sample in one chunk at `chunk_offset`, each lasting one frame. */
static void write_sample_tables(struct writer *w, const struct samples *t, uint32_t chunk_offset)
{
    size_t stts = full_box(w, "stts", 0, 0);
    u32(w, 1);
    u32(w, (uint32_t)t->count);
    u32(w, SAMPLE_TICKS);
    box_end(w, stts);
    size_t stss = full_box(w, "stss", 0, 0);
    u32(w, (uint32_t)t->sync_count);
    for (size_t i = 0; i < t->sync_count; i++) {
        u32(w, t->sync[i]);
    }
    box_end(w, stss);
    size_t stsc = full_box(w, "stsc", 0, 0);
    u32(w, 1);
    u32(w, 1);                  /* first_chunk */
    u32(w, (uint32_t)t->count); /* samples_per_chunk */
    u32(w, 1);                  /* sample_description_index */
    box_end(w, stsc);
    size_t stsz = full_box(w, "stsz", 0, 0);
    u32(w, 0);
    u32(w, (uint32_t)t->count);
    for (size_t i = 0; i < t->count; i++) {
        u32(w, t->sizes[i]);
    }
    box_end(w, stsz);
    size_t stco = full_box(w, "stco", 0, 0);
    u32(w, 1);
    u32(w, chunk_offset);
    box_end(w, stco);
}

/* `t` NULL: a fragmented file's empty tables (the samples are in the fragments). */
static void write_stbl(struct writer *w, const struct rc_mp4_settings *s, const struct samples *t,
                       uint32_t chunk_offset)
{
    size_t stbl = box(w, "stbl");
    size_t stsd = full_box(w, "stsd", 0, 0);
    u32(w, 1);
    write_avc1(w, s);
    box_end(w, stsd);
    if (t) {
        write_sample_tables(w, t, chunk_offset);
        box_end(w, stbl);
        return;
    }
    static const char *const empty[] = {"stts", "stsc", "stco"};
    for (size_t i = 0; i < 3; i++) {
        size_t b = full_box(w, empty[i], 0, 0);
        u32(w, 0); /* entry_count: the samples are in the fragments */
        box_end(w, b);
    }
    size_t stsz = full_box(w, "stsz", 0, 0);
    u32(w, 0); /* sample_size */
    u32(w, 0); /* sample_count */
    box_end(w, stsz);
    box_end(w, stbl);
}

static void write_ftyp(struct writer *w)
{
    size_t ftyp = box(w, "ftyp");
    bytes(w, "isom", 4);
    u32(w, 0x200);
    bytes(w, "isomiso6iso2avc1mp41", 20);
    box_end(w, ftyp);
}

/* The movie box: fragmented (t NULL: empty tables and mvex) or progressive (the
 * sample tables of `t`, its chunk at `chunk_offset`). */
static void write_moov(struct writer *wp, const struct rc_mp4_settings *s, const struct samples *t,
                       uint32_t chunk_offset)
{
    struct writer w = *wp;
    uint32_t timescale = s->fps * SAMPLE_TICKS;
    uint64_t duration = (t ? t->count : s->frames) * SAMPLE_TICKS;
    size_t moov = box(&w, "moov");
    size_t mvhd = full_box(&w, "mvhd", 1, 0);
    u64(&w, 0); /* creation_time: none, so the bytes are reproducible */
    u64(&w, 0); /* modification_time */
    u32(&w, timescale);
    u64(&w, duration);
    u32(&w, 0x00010000); /* rate 1.0 */
    u16(&w, 0x0100);     /* volume 1.0 */
    zeros(&w, 10);       /* reserved */
    matrix(&w);
    zeros(&w, 24); /* pre_defined */
    u32(&w, TRACK_ID + 1);
    box_end(&w, mvhd);

    size_t trak = box(&w, "trak");
    size_t tkhd = full_box(&w, "tkhd", 1, 0x3); /* enabled, in movie */
    u64(&w, 0);
    u64(&w, 0);
    u32(&w, TRACK_ID);
    u32(&w, 0); /* reserved */
    u64(&w, duration);
    zeros(&w, 8); /* reserved */
    u16(&w, 0);   /* layer */
    u16(&w, 0);   /* alternate_group */
    u16(&w, 0);   /* volume: video */
    u16(&w, 0);   /* reserved */
    matrix(&w);
    u32(&w, s->width << 16);
    u32(&w, s->height << 16);
    box_end(&w, tkhd);
    size_t mdia = box(&w, "mdia");
    size_t mdhd = full_box(&w, "mdhd", 1, 0);
    u64(&w, 0);
    u64(&w, 0);
    u32(&w, timescale);
    u64(&w, duration);
    u16(&w, 0x55c4); /* language "und", ISO-639-2/T packed */
    u16(&w, 0);
    box_end(&w, mdhd);
    size_t hdlr = full_box(&w, "hdlr", 0, 0);
    u32(&w, 0);
    bytes(&w, "vide", 4);
    zeros(&w, 12);
    bytes(&w, "rasterclip\0", 11);
    box_end(&w, hdlr);
    size_t minf = box(&w, "minf");
    size_t vmhd = full_box(&w, "vmhd", 0, 1);
    zeros(&w, 8); /* graphicsmode, opcolor */
    box_end(&w, vmhd);
    size_t dinf = box(&w, "dinf");
    size_t dref = full_box(&w, "dref", 0, 0);
    u32(&w, 1);
    size_t url = full_box(&w, "url ", 0, 1); /* media in this file */
    box_end(&w, url);
    box_end(&w, dref);
    box_end(&w, dinf);
    write_stbl(&w, s, t, chunk_offset);
    box_end(&w, minf);
    box_end(&w, mdia);
    box_end(&w, trak);
    if (t) {
        box_end(&w, moov);
        return;
    }

    size_t mvex = box(&w, "mvex");
    size_t mehd = full_box(&w, "mehd", 1, 0);
    u64(&w, duration); /* fragment_duration: the whole clip, known up front */
    box_end(&w, mehd);
    size_t trex = full_box(&w, "trex", 0, 0);
    u32(&w, TRACK_ID);
    u32(&w, 1); /* default_sample_description_index */
    u32(&w, SAMPLE_TICKS);
    u32(&w, 0);
    u32(&w, 0);
    box_end(&w, trex);
    box_end(&w, mvex);
    box_end(&w, moov);
}

enum rc_err rc_mp4_write_header(struct rc_mp4 *mp4, struct rc_buf *out)
{
    if (mp4->s.progressive) {
        return RC_OK; /* the header comes with the samples' tables, at the end */
    }
    struct writer w = {.buf = out};
    write_ftyp(&w);
    write_moov(&w, &mp4->s, NULL, 0);
    return rc_buf_error(out);
}

static enum rc_err keep_sample(struct rc_mp4 *mp4, bool keyframe, const void *data, size_t len)
{
    struct samples *t = &mp4->samples;
    if (t->count == t->capacity) {
        size_t capacity = t->capacity ? 2 * t->capacity : 256;
        uint32_t *sizes = realloc(t->sizes, capacity * sizeof(*sizes));
        if (sizes) {
            t->sizes = sizes;
        }
        uint32_t *sync = realloc(t->sync, capacity * sizeof(*sync));
        if (sync) {
            t->sync = sync;
        }
        if (!sizes || !sync) {
            return RC_ERR_NOMEM;
        }
        t->capacity = capacity;
    }
    if (t->data.len + len > UINT32_MAX - (1u << 20)) {
        return RC_ERR_TOO_LARGE; /* stco's 32-bit offsets */
    }
    if (rc_buf_append(&t->data, data, len) != RC_OK) {
        return RC_ERR_NOMEM;
    }
    t->sizes[t->count++] = (uint32_t)len;
    if (keyframe) {
        t->sync[t->sync_count++] = (uint32_t)t->count;
    }
    return RC_OK;
}

enum rc_err rc_mp4_finish(struct rc_mp4 *mp4, struct rc_buf *out)
{
    if (!mp4->s.progressive) {
        return RC_OK; /* every fragment has left */
    }
    /* The moov's size does not depend on the chunk's offset: measure it first. */
    struct rc_buf probe;
    rc_buf_init(&probe);
    struct writer m = {.buf = &probe};
    write_ftyp(&m);
    write_moov(&m, &mp4->s, &mp4->samples, 0);
    size_t head = probe.len;
    if (probe.error) {
        rc_buf_fail(out, probe.error);
    }
    rc_buf_finish(&probe);
    struct writer w = {.buf = out};
    write_ftyp(&w);
    write_moov(&w, &mp4->s, &mp4->samples, (uint32_t)(head + 8));
    u32(&w, (uint32_t)(8 + mp4->samples.data.len));
    bytes(&w, "mdat", 4);
    bytes(&w, mp4->samples.data.data, mp4->samples.data.len);
    return rc_buf_error(out);
}

/* Sample flags (ISO/IEC 14496-12, 8.8.3.1): a sync sample depends on nothing; any
 * other depends on earlier ones and is not a sync sample. */
enum { FLAGS_SYNC = 0x02000000, FLAGS_NON_SYNC = 0x01010000 };

enum rc_err rc_mp4_write_frame(struct rc_mp4 *mp4, struct rc_buf *out, uint64_t frame_index,
                               bool keyframe, const void *data, size_t len)
{
    if (!mp4->started && !keyframe) {
        return RC_ERR_INTERNAL;
    }
    if (len > UINT32_MAX - 1024) {
        return RC_ERR_TOO_LARGE;
    }
    mp4->started = true;
    if (mp4->s.progressive) {
        return keep_sample(mp4, keyframe, data, len);
    }
    struct writer w = {.buf = out};
    size_t moof = box(&w, "moof");
    size_t mfhd = full_box(&w, "mfhd", 0, 0);
    u32(&w, ++mp4->sequence);
    box_end(&w, mfhd);
    size_t traf = box(&w, "traf");
    size_t tfhd = full_box(&w, "tfhd", 0, 0x020000); /* default-base-is-moof */
    u32(&w, TRACK_ID);
    box_end(&w, tfhd);
    size_t tfdt = full_box(&w, "tfdt", 1, 0);
    u64(&w, frame_index * SAMPLE_TICKS); /* baseMediaDecodeTime */
    box_end(&w, tfdt);
    /* data-offset, sample-duration, sample-size, sample-flags present */
    size_t trun = full_box(&w, "trun", 0, 0x000001 | 0x000100 | 0x000200 | 0x000400);
    u32(&w, 1); /* sample_count */
    size_t offset_at = w.buf->len;
    u32(&w, 0); /* data_offset, patched below */
    u32(&w, SAMPLE_TICKS);
    u32(&w, (uint32_t)len);
    u32(&w, keyframe ? FLAGS_SYNC : FLAGS_NON_SYNC);
    box_end(&w, trun);
    box_end(&w, traf);
    box_end(&w, moof);
    if (!out->error) {
        /* From the moof's first byte to the sample: past the moof and mdat's header. */
        uint32_t offset = (uint32_t)(w.buf->len - moof + 8);
        uint8_t *p = w.buf->data + offset_at;
        p[0] = (uint8_t)(offset >> 24);
        p[1] = (uint8_t)(offset >> 16);
        p[2] = (uint8_t)(offset >> 8);
        p[3] = (uint8_t)offset;
    }
    u32(&w, (uint32_t)(8 + len));
    bytes(&w, "mdat", 4);
    bytes(&w, data, len);
    return rc_buf_error(out);
}
