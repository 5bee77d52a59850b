#include "http/body.h"

#include <stdio.h>
#include <string.h>

void rc_body_init(struct rc_body *body, size_t job_limit, uint64_t upload_limit)
{
    memset(body, 0, sizeof(*body));
    rc_buf_init(&body->data);
    for (int i = 0; i < PART_COUNT; i++) {
        rc_buf_init(&body->parts[i]);
    }
    body->job_limit = job_limit;
    body->upload_limit = upload_limit;
}

void rc_body_finish(struct rc_body *body)
{
    rc_buf_finish(&body->data);
    for (int i = 0; i < PART_COUNT; i++) {
        rc_buf_finish(&body->parts[i]);
    }
}

void rc_body_too_large(struct rc_body *body, const char *what)
{
    body->too_large = true;
    body->too_large_what = what;
    rc_body_finish(body);
}

enum MHD_Result rc_body_take(struct rc_body *body, const char *data, size_t size)
{
    if (body->too_large) {
        return MHD_YES;
    }
    uint64_t limit = body->kind == BODY_RASTER ? body->upload_limit : body->job_limit;
    if (body->data.len + size > limit) {
        rc_body_too_large(body, body->kind == BODY_RASTER
                                    ? "the upload exceeds max_upload_mb"
                                    : "the request body exceeds max_body_bytes");
    } else if (rc_buf_append(&body->data, data, size) != RC_OK) {
        return MHD_NO;
    }
    return MHD_YES;
}

enum MHD_Result rc_body_take_part(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *filename, const char *content_type,
                                  const char *transfer_encoding, const char *data, uint64_t off,
                                  size_t size)
{
    (void)kind;
    (void)filename;
    (void)content_type;
    (void)transfer_encoding;
    (void)off;
    struct rc_body *body = cls;
    static const char *const names[PART_COUNT] = {"job", "raster", "heights"};
    int part = -1;
    for (int i = 0; key && i < PART_COUNT; i++) {
        part = strcmp(key, names[i]) == 0 ? i : part;
    }
    if (part < 0) {
        if (!body->unknown_part[0]) {
            snprintf(body->unknown_part, sizeof(body->unknown_part), "%s", key ? key : "");
        }
        return MHD_YES; /* read and dropped; the answer is a 400 naming it */
    }
    if (body->too_large || size == 0) {
        return MHD_YES;
    }
    size_t uploads = body->parts[PART_RASTER].len + body->parts[PART_HEIGHTS].len;
    if (part == PART_JOB && body->parts[PART_JOB].len + size > body->job_limit) {
        rc_body_too_large(body, "the job part exceeds max_body_bytes");
    } else if (part != PART_JOB && uploads + size > body->upload_limit) {
        rc_body_too_large(body, "the upload exceeds max_upload_mb");
    } else if (rc_buf_append(&body->parts[part], data, size) != RC_OK) {
        return MHD_NO;
    }
    return MHD_YES;
}

void rc_body_take_multipart(struct rc_body *body, struct MHD_PostProcessor *post, const char *data,
                            size_t size)
{
    if (!body->malformed && MHD_post_process(post, data, size) != MHD_YES) {
        body->malformed = true;
        rc_body_finish(body);
    }
}

void rc_body_end_multipart(struct rc_body *body, struct MHD_PostProcessor **post)
{
    if (*post && MHD_destroy_post_processor(*post) != MHD_YES && !body->too_large) {
        body->malformed = true;
        rc_body_finish(body);
    }
    *post = NULL;
}
