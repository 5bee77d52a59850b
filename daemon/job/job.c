#include "job/job.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

const char *const rc_job_stage_names[RC_STAGE_COUNT] = {"load",    "render", "readback",
                                                        "convert", "encode", "mux"};

const char *rc_job_phase_name(enum rc_job_phase phase)
{
    static const char *const names[] = {"queued", "running", "done", "failed", "cancelled"};
    return (unsigned)phase < sizeof(names) / sizeof(names[0]) ? names[phase] : "unknown";
}

struct rc_job *rc_job_create(struct rc_job_spec *spec, size_t byte_queue_bytes)
{
    struct rc_job *job = calloc(1, sizeof(*job));
    if (!job) {
        return NULL;
    }
    /* Unguessable: the id alone lets a caller watch or cancel the job. */
    uint8_t random[8];
    if (getrandom(random, sizeof(random), 0) != (ssize_t)sizeof(random)) {
        free(job);
        return NULL;
    }
    job->out = rc_bytequeue_create(byte_queue_bytes);
    if (!job->out) {
        free(job);
        return NULL;
    }
    atomic_init(&job->refs, 1);
    atomic_init(&job->cancel, false);
    for (size_t i = 0; i < sizeof(random); i++) {
        snprintf(job->id + 2 * i, 3, "%02x", random[i]);
    }
    job->spec = *spec;
    memset(spec, 0, sizeof(*spec));
    job->state = RC_JOB_QUEUED;
    job->clip_fd = -1;
    job->progress = calloc(1, sizeof(*job->progress));
    if (!job->progress) {
        rc_job_unref(job);
        return NULL;
    }
    atomic_init(&job->progress->refs, 1);
    atomic_init(&job->progress->phase, RC_PHASE_QUEUED);
    memcpy(job->progress->id, job->id, sizeof(job->id));
    job->progress->format = job->spec.format;
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
    if (job->clip_fd >= 0) {
        close(job->clip_fd);
    }
    rc_job_progress_unref(job->progress);
    free(job);
}

void rc_job_progress_ref(struct rc_job_progress *progress)
{
    atomic_fetch_add(&progress->refs, 1);
}

void rc_job_progress_unref(struct rc_job_progress *progress)
{
    if (progress && atomic_fetch_sub(&progress->refs, 1) == 1) {
        free(progress);
    }
}

void rc_job_drop_uploads(struct rc_job *job)
{
    free(job->raster.data);
    free(job->heights.data);
    job->raster = job->heights = (struct rc_upload){0};
    for (size_t i = 0; i < RC_JOB_MAX_VECTORS; i++) {
        free(job->vectors[i].data);
        job->vectors[i] = (struct rc_upload){0};
    }
}

const char *rc_job_content_type(const struct rc_job_spec *spec)
{
    return spec->answer == RC_ANSWER_LEGEND_PNG   ? "image/png"
           : spec->answer == RC_ANSWER_LEGEND_SVG ? "image/svg+xml"
           : spec->answer == RC_ANSWER_VECTORS    ? "application/geo+json"
                                                  : rc_format_content_type(spec->format);
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

void rc_job_set_bounds(struct rc_job *job, const struct rc_bounds *bounds)
{
    job->bounds = *bounds;
    if (bounds->known) {
        job->progress->bounds = *bounds;
        atomic_store(&job->progress->has_bounds, true); /* after the bounds: readers check it */
    }
}
