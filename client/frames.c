#include "frames.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

enum rc_clip_kind rc_clip_kind_of(const char *content_type)
{
    if (!content_type) {
        return RC_CLIP_UNKNOWN;
    }
    if (strncasecmp(content_type, "video/webm", 10) == 0) {
        return RC_CLIP_WEBM;
    }
    if (strncasecmp(content_type, "video/mp4", 9) == 0) {
        return RC_CLIP_MP4;
    }
    if (strncasecmp(content_type, "image/gif", 9) == 0) {
        return RC_CLIP_GIF;
    }
    return RC_CLIP_UNKNOWN;
}

/* GIF parser states. */
enum {
    GIF_HEADER,     /* 13 bytes: signature, screen descriptor */
    GIF_BLOCK,      /* 1 byte: introducer */
    GIF_EXT_LABEL,  /* 1 byte */
    GIF_SUBBLOCKS,  /* size byte, then that many; 0 ends */
    GIF_IMAGE_DESC, /* 9 bytes after the 0x2C */
    GIF_LZW_MIN,    /* 1 byte, then sub-blocks */
    GIF_DONE,
};

/* WebM: element ID, then size; MP4: 8-byte box header. */
enum { EBML_ID, EBML_SIZE };

void rc_frames_init(struct rc_frame_counter *c, enum rc_clip_kind kind)
{
    memset(c, 0, sizeof(*c));
    c->kind = kind;
    c->head_want = kind == RC_CLIP_GIF ? 13 : kind == RC_CLIP_MP4 ? 8 : 1;
    c->state = kind == RC_CLIP_GIF ? GIF_HEADER : EBML_ID;
}

/* Length of an EBML variable-size integer from its first byte (0: invalid). */
static size_t vint_len(uint8_t first)
{
    for (size_t n = 1; n <= 8; n++) {
        if (first & (0x80 >> (n - 1))) {
            return n;
        }
    }
    return 0;
}

/* A complete header in c->head: what follows. */
static void webm_head(struct rc_frame_counter *c)
{
    if (c->state == EBML_ID) {
        size_t n = vint_len(c->head[0]);
        if (n == 0 || n > 4) {
            c->kind = RC_CLIP_UNKNOWN; /* not WebM after all: stop counting */
            return;
        }
        if (c->head_len < n) {
            c->head_want = n;
            return;
        }
        uint32_t id = 0;
        for (size_t i = 0; i < n; i++) {
            id = id << 8 | c->head[i];
        }
        c->state = EBML_SIZE;
        c->head_len = 0;
        c->head_want = 1;
        /* Blocks are frames; Segment, Cluster and BlockGroup are entered, not skipped. */
        if (id == 0xA3 || id == 0xA0) {
            c->frames++;
        }
        c->element = id;
        return;
    }
    size_t n = vint_len(c->head[0]);
    if (n == 0) {
        c->kind = RC_CLIP_UNKNOWN;
        return;
    }
    if (c->head_len < n) {
        c->head_want = n;
        return;
    }
    uint64_t size = c->head[0] & (0xFF >> n);
    bool unknown = size == (0xFFu >> n);
    for (size_t i = 1; i < n; i++) {
        size = size << 8 | c->head[i];
        unknown = unknown && c->head[i] == 0xFF;
    }
    uint64_t id = c->element;
    bool master = id == 0x18538067 || id == 0x1F43B675 || id == 0xA0;
    c->skip = master || unknown ? 0 : size;
    c->state = EBML_ID;
    c->head_len = 0;
    c->head_want = 1;
}

static void mp4_head(struct rc_frame_counter *c)
{
    uint64_t size = (uint64_t)c->head[0] << 24 | (uint64_t)c->head[1] << 16 |
                    (uint64_t)c->head[2] << 8 | c->head[3];
    if (memcmp(c->head + 4, "moof", 4) == 0) {
        c->frames++;
    }
    c->skip = size >= 8 ? size - 8 : UINT64_MAX;
    c->head_len = 0;
}

static void gif_head(struct rc_frame_counter *c)
{
    uint8_t b = c->head[0];
    size_t next = 1;
    switch (c->state) {
    case GIF_HEADER:
        /* A global colour table follows when the screen descriptor says so. */
        c->skip = (c->head[10] & 0x80) ? 3u << ((c->head[10] & 7) + 1) : 0;
        c->state = GIF_BLOCK;
        break;
    case GIF_BLOCK:
        if (b == 0x21) {
            c->state = GIF_EXT_LABEL;
        } else if (b == 0x2C) {
            c->state = GIF_IMAGE_DESC;
            next = 9;
        } else {
            c->state = GIF_DONE; /* 0x3B, the trailer, or something else */
        }
        break;
    case GIF_EXT_LABEL:
        c->state = GIF_SUBBLOCKS;
        break;
    case GIF_IMAGE_DESC:
        c->frames++;
        c->skip = (c->head[8] & 0x80) ? 3u << ((c->head[8] & 7) + 1) : 0;
        c->state = GIF_LZW_MIN;
        break;
    case GIF_LZW_MIN:
        c->state = GIF_SUBBLOCKS;
        break;
    case GIF_SUBBLOCKS:
        if (b == 0) {
            c->state = GIF_BLOCK;
        } else {
            c->skip = b;
        }
        break;
    default:
        c->skip = UINT64_MAX;
        break;
    }
    c->head_len = 0;
    c->head_want = next;
}

void rc_frames_feed(struct rc_frame_counter *c, const uint8_t *data, size_t len)
{
    if (c->kind == RC_CLIP_UNKNOWN) {
        return;
    }
    while (len > 0) {
        if (c->skip > 0) {
            size_t n = c->skip < len ? (size_t)c->skip : len;
            c->skip -= n;
            data += n;
            len -= n;
            continue;
        }
        size_t n = c->head_want - c->head_len;
        n = n < len ? n : len;
        memcpy(c->head + c->head_len, data, n);
        c->head_len += n;
        data += n;
        len -= n;
        if (c->head_len < c->head_want) {
            continue;
        }
        if (c->kind == RC_CLIP_WEBM) {
            webm_head(c);
        } else if (c->kind == RC_CLIP_MP4) {
            mp4_head(c);
        } else {
            gif_head(c);
        }
    }
}
