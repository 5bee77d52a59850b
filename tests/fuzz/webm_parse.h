/* libwebm's parser (Debian's libwebm-dev, C++) reading a WebM from memory, for
 * the container writers' fuzz target: a second reader, not ours. */
#ifndef RC_FUZZ_WEBM_PARSE_H
#define RC_FUZZ_WEBM_PARSE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct webm_summary {
    uint64_t frames;      /* frames in SimpleBlocks and Blocks */
    uint64_t frame_bytes; /* their sizes, summed */
    uint64_t cue_points;
    uint64_t tracks;
};

/* 0 when libwebm read the whole file without an error. */
int webm_parse(const uint8_t *data, size_t size, struct webm_summary *out);

#ifdef __cplusplus
}
#endif

#endif
