/*
 * body: a POST /v1/render body as it arrives — the JSON job, a raw raster, or the
 * multipart parts `job`, `raster`, `heights` and `vector0`... (read by libmicrohttpd's post
 * processor, handed here chunk by chunk) — with the limits that apply: the job
 * within max_body_bytes, uploads within max_upload_mb. Past a limit everything
 * read is dropped and the rest of the body is read and ignored, so the client
 * still gets its 413. Internal to http/ (and its upload fuzz target).
 */
#ifndef RC_HTTP_BODY_H
#define RC_HTTP_BODY_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

/* What a POST /v1/render body is. */
enum body_kind {
    BODY_JSON,      /* the job */
    BODY_MULTIPART, /* parts "job", "raster", "heights" */
    BODY_RASTER,    /* a raster file or .npy; the job in the query string */
};

/* The parts: the job, the raster, its heights and up to eight vector layers
 * ("vector0" ... "vector7": style.vectors[i] without a source). */
enum { PART_JOB, PART_RASTER, PART_HEIGHTS, PART_VECTOR0, PART_COUNT = PART_VECTOR0 + 8 };

struct rc_body {
    enum body_kind kind;
    struct rc_buf data;              /* BODY_JSON, BODY_RASTER */
    struct MHD_PostProcessor *post;  /* BODY_MULTIPART: reads the parts */
    struct rc_buf parts[PART_COUNT]; /* BODY_MULTIPART */
    char unknown_part[64];           /* a part that is none of those; answered 400 */
    bool too_large;
    const char *too_large_what; /* the limit exceeded, for the 413's message */
    bool malformed;             /* a multipart body the post processor could not read */
    size_t job_limit;           /* max_body_bytes */
    uint64_t upload_limit;      /* max_upload_mb, in bytes */
};

void rc_body_init(struct rc_body *body, size_t job_limit, uint64_t upload_limit);
/* Frees what was read and the post processor. */
void rc_body_finish(struct rc_body *body);
/* A multipart body on `conn`: its post processor (`buffer` bytes of look-ahead).
 * False when the request's Content-Type has no usable boundary. */
bool rc_body_start_multipart(struct rc_body *body, struct MHD_Connection *conn, size_t buffer);
/* Drops what was read; the answer will be a 413 saying `what`. */
void rc_body_too_large(struct rc_body *body, const char *what);
/* A chunk of the body, of any kind. A multipart body the post processor cannot
 * parse is marked malformed and read on, so that it is answered (400) at its end,
 * not dropped. MHD_NO when memory is short. */
enum MHD_Result rc_body_take(struct rc_body *body, const char *data, size_t size);
/* The end of the body: a multipart body's post processor hands over what it still
 * held and is destroyed; one cut short, or without its closing boundary, is
 * malformed. */
void rc_body_end(struct rc_body *body);

#endif
