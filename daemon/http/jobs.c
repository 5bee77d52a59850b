/* Jobs by id: GET /v1/jobs/{id} (progress) and DELETE /v1/jobs/{id} (cancel). */
#include "http/internal.h"

#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/log.h"

/* A job the registry answers for: the job itself while its request lives (to
 * cancel it), and its progress, kept a while after (the most recent closed ones)
 * for late readers. */
struct tracked {
    struct rc_job *job;                         /* one reference while open; NULL once closed */
    struct rc_job_progress *progress;           /* one reference */
    char owner[RC_ACCESS_MAX_TOKEN_BYTES + 16]; /* the Authorization it came with */
    bool open;                                  /* its request is still running */
    struct tracked *next;
};

struct rc_jobs {
    pthread_mutex_t lock;
    struct tracked *head; /* newest first */
    size_t closed;        /* entries whose request has ended */
};

/* Ended jobs whose progress GET /v1/jobs/{id} still reports. */
enum { KEEP_CLOSED = 256 };

struct rc_jobs *rc_jobs_create(void)
{
    struct rc_jobs *jobs = calloc(1, sizeof(*jobs));
    if (jobs) {
        pthread_mutex_init(&jobs->lock, NULL);
    }
    return jobs;
}

void rc_jobs_destroy(struct rc_jobs *jobs)
{
    if (!jobs) {
        return;
    }
    for (struct tracked *t = jobs->head, *next; t; t = next) {
        next = t->next;
        rc_job_unref(t->job);
        rc_job_progress_unref(t->progress);
        free(t);
    }
    pthread_mutex_destroy(&jobs->lock);
    free(jobs);
}

void rc_jobs_add(struct rc_jobs *jobs, struct rc_job *job, const char *authorization)
{
    struct tracked *t = calloc(1, sizeof(*t));
    if (!t) {
        return; /* the job runs all the same; it cannot be watched */
    }
    rc_job_ref(job);
    rc_job_progress_ref(job->progress);
    t->job = job;
    t->progress = job->progress;
    t->open = true;
    snprintf(t->owner, sizeof(t->owner), "%s", authorization ? authorization : "");
    pthread_mutex_lock(&jobs->lock);
    t->next = jobs->head;
    jobs->head = t;
    pthread_mutex_unlock(&jobs->lock);
}

void rc_jobs_close(struct rc_jobs *jobs, struct rc_job *job)
{
    struct tracked *drop = NULL;
    struct rc_job *closed = NULL;
    pthread_mutex_lock(&jobs->lock);
    for (struct tracked *t = jobs->head; t; t = t->next) {
        if (t->job == job && t->open) {
            t->open = false;
            closed = t->job;
            t->job = NULL;
            jobs->closed++;
            break;
        }
    }
    if (jobs->closed > KEEP_CLOSED) {
        /* The oldest closed entry goes. */
        struct tracked **link = NULL;
        for (struct tracked **p = &jobs->head; *p; p = &(*p)->next) {
            if (!(*p)->open) {
                link = p;
            }
        }
        if (link) {
            drop = *link;
            *link = drop->next;
            jobs->closed--;
        }
    }
    pthread_mutex_unlock(&jobs->lock);
    rc_job_unref(closed);
    if (drop) {
        rc_job_progress_unref(drop->progress);
        free(drop);
    }
}

/* Same length and bytes, in time that does not depend on where they differ. */
static bool same_owner(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char diff = la != lb;
    for (size_t i = 0; i < la && i < lb; i++) {
        diff |= (unsigned char)(a[i] ^ b[i]);
    }
    return diff == 0;
}

/* New references to the progress of `id` and, while its request runs, the job,
 * when the caller may see it: with tokens configured, only the token that
 * started it. False: no such job (for this caller). */
static bool find(struct rc_http *http, const char *id, const char *authorization,
                 struct rc_job_progress **progress, struct rc_job **job)
{
    bool tokens = rc_http_config(http)->token_file[0] != '\0';
    *progress = NULL;
    *job = NULL;
    pthread_mutex_lock(&http->jobs->lock);
    for (struct tracked *t = http->jobs->head; t; t = t->next) {
        if (strcmp(t->progress->id, id) == 0) {
            if (!tokens || same_owner(t->owner, authorization ? authorization : "")) {
                *progress = t->progress;
                rc_job_progress_ref(t->progress);
                *job = t->job;
                if (t->job) {
                    rc_job_ref(t->job);
                }
            }
            break;
        }
    }
    pthread_mutex_unlock(&http->jobs->lock);
    return *progress != NULL;
}

/* Where the clip lies, once known: {"crs": [w, s, e, n], "lonlat": [...]}; null before. */
static json_t *bounds_json(const struct rc_job_progress *p)
{
    if (!atomic_load(&p->has_bounds)) {
        return json_null();
    }
    const struct rc_bounds *b = &p->bounds;
    json_t *out = json_pack("{s:[f,f,f,f]}", "crs", b->xy[0], b->xy[1], b->xy[2], b->xy[3]);
    if (out && b->has_lonlat) {
        json_object_set_new(
            out, "lonlat",
            json_pack("[f,f,f,f]", b->lonlat[0], b->lonlat[1], b->lonlat[2], b->lonlat[3]));
    }
    return out ? out : json_null();
}

static json_t *progress_json(const struct rc_job_progress *p)
{
    enum rc_job_phase phase = (enum rc_job_phase)atomic_load(&p->phase);
    size_t total = atomic_load(&p->frames_total), done = atomic_load(&p->frames_done);
    double started = (double)atomic_load(&p->started_us) / 1e3;
    double ended = (double)atomic_load(&p->ended_us) / 1e3;
    double now = rc_clock_ms();
    json_t *stages = json_object();
    for (int i = 0; i < RC_STAGE_COUNT; i++) {
        json_object_set_new(stages, rc_job_stage_names[i],
                            json_real((double)atomic_load(&p->stage_us[i]) / 1e3));
    }
    json_t *left = json_null();
    if (phase == RC_PHASE_RUNNING && done > 0 && total >= done) {
        /* The frames to come at the pace of those done. */
        left = json_real((now - started) / 1e3 / (double)done * (double)(total - done));
    } else if (phase == RC_PHASE_DONE) {
        left = json_real(0);
    }
    double elapsed = started > 0 ? ((ended > 0 ? ended : now) - started) / 1e3 : 0;
    return json_pack("{s:s, s:s, s:I, s:I, s:I, s:o, s:f, s:o, s:b, s:s, s:o}", "id", p->id,
                     "state", rc_job_phase_name(phase), "frames_done", (json_int_t)done,
                     "frames_total", (json_int_t)total, "bytes_sent",
                     (json_int_t)atomic_load(&p->bytes_sent), "stage_ms", stages, "elapsed_s",
                     elapsed, "seconds_left", left, "cached", atomic_load(&p->cached), "format",
                     rc_format_name(p->format), "bounds", bounds_json(p));
}

enum MHD_Result rc_http_handle_job(struct rc_http *http, struct MHD_Connection *conn,
                                   const char *url, const char *method)
{
    const char *id = url + strlen("/v1/jobs/");
    const char *auth =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    /* GET or HEAD reads, DELETE cancels (no other reaches here: http/routes.c). */
    bool get = strcmp(method, MHD_HTTP_METHOD_DELETE) != 0;
    struct rc_job_progress *progress;
    struct rc_job *job;
    if (!find(http, id, auth, &progress, &job)) {
        return rc_http_send_error_code(http, conn, RC_ERR_NOT_FOUND, "id", "no such job");
    }
    if (!get && job) {
        atomic_store(&job->cancel, true);
        rc_bytequeue_cancel(job->out); /* a stream ends now, without its last chunk */
        rc_log(RC_LOG_INFO, "job=%s msg=\"cancel asked\"", job->id);
    }
    /* 202: the cancel is on its way (the worker stops at its next frame); 200: the
     * job had already ended, and stays as it ended. */
    unsigned status = get || !job ? MHD_HTTP_OK : MHD_HTTP_ACCEPTED;
    enum MHD_Result ret = rc_http_send_json(http, conn, status, progress_json(progress), NULL);
    rc_job_unref(job);
    rc_job_progress_unref(progress);
    return ret;
}
