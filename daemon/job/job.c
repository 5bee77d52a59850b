#include "job/job.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rc_job *rc_job_create(struct rc_job_spec *spec, size_t byte_queue_bytes)
{
    static atomic_uint_fast64_t next_id;
    struct rc_job *job = calloc(1, sizeof(*job));
    if (!job) {
        return NULL;
    }
    job->out = rc_bytequeue_create(byte_queue_bytes);
    if (!job->out) {
        free(job);
        return NULL;
    }
    atomic_init(&job->refs, 1);
    atomic_init(&job->cancel, false);
    uint64_t n = atomic_fetch_add(&next_id, 1) + 1;
    snprintf(job->id, sizeof(job->id), "%08llx", (unsigned long long)n);
    job->spec = *spec;
    memset(spec, 0, sizeof(*spec));
    job->state = RC_JOB_QUEUED;
    return job;
}

void rc_job_ref(struct rc_job *job)
{
    atomic_fetch_add(&job->refs, 1);
}

void rc_job_unref(struct rc_job *job)
{
    if (!job || atomic_fetch_sub(&job->refs, 1) != 1) {
        return;
    }
    rc_job_spec_finish(&job->spec);
    rc_bytequeue_destroy(job->out);
    rc_job_drop_uploads(job);
    free(job);
}

void rc_job_drop_uploads(struct rc_job *job)
{
    free(job->raster.data);
    free(job->heights.data);
    job->raster = job->heights = (struct rc_upload){0};
}

const char *rc_format_content_type(enum rc_format format)
{
    switch (format) {
    case RC_FORMAT_MP4:
        return "video/mp4";
    case RC_FORMAT_GIF:
        return "image/gif";
    case RC_FORMAT_WEBM:
        break;
    }
    return "video/webm";
}

const char *rc_format_name(enum rc_format format)
{
    switch (format) {
    case RC_FORMAT_MP4:
        return "mp4";
    case RC_FORMAT_GIF:
        return "gif";
    case RC_FORMAT_WEBM:
        break;
    }
    return "webm";
}
