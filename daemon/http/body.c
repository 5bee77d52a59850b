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

/* What was read; the post processor stays (it may be calling us). */
static void drop_data(struct rc_body *body)
{
    rc_buf_finish(&body->data);
    for (int i = 0; i < PART_COUNT; i++) {
        rc_buf_finish(&body->parts[i]);
    }
}

void rc_body_finish(struct rc_body *body)
{
    drop_data(body);
    if (body->post) {
        MHD_destroy_post_processor(body->post);
        body->post = NULL;
    }
}

void rc_body_too_large(struct rc_body *body, const char *what)
{
    body->too_large = true;
    body->too_large_what = what;
    drop_data(body);
}

enum MHD_Result rc_body_take(struct rc_body *body, const char *data, size_t size)
{
    if (body->kind == BODY_MULTIPART) {
        if (body->post && !body->malformed && MHD_post_process(body->post, data, size) != MHD_YES) {
            body->malformed = true;
            drop_data(body);
        }
        return MHD_YES;
    }
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

/* libmicrohttpd's MHD_PostDataIterator for multipart bodies; cls: the body. */
static enum MHD_Result take_part(void *cls, enum MHD_ValueKind kind, const char *key,
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
    static const char *const names[PART_COUNT] = {"job",     "raster",  "heights", "vector0",
                                                  "vector1", "vector2", "vector3", "vector4",
                                                  "vector5", "vector6", "vector7"};
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
    size_t uploads = 0;
    for (int i = PART_RASTER; i < PART_COUNT; i++) {
        uploads += body->parts[i].len;
    }
    if (part == PART_JOB && body->parts[PART_JOB].len + size > body->job_limit) {
        rc_body_too_large(body, "the job part exceeds max_body_bytes");
    } else if (part != PART_JOB && uploads + size > body->upload_limit) {
        rc_body_too_large(body, "the upload exceeds max_upload_mb");
    } else if (rc_buf_append(&body->parts[part], data, size) != RC_OK) {
        return MHD_NO;
    }
    return MHD_YES;
}

bool rc_body_start_multipart(struct rc_body *body, struct MHD_Connection *conn, size_t buffer)
{
    body->kind = BODY_MULTIPART;
    body->post = MHD_create_post_processor(conn, buffer, take_part, body);
    return body->post != NULL;
}

void rc_body_end(struct rc_body *body)
{
    if (body->post && MHD_destroy_post_processor(body->post) != MHD_YES && !body->too_large) {
        body->malformed = true;
        drop_data(body);
    }
    body->post = NULL;
}
