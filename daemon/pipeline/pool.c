#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/metrics.h"
#include "pipeline/clipcache.h"
#include "pipeline/workers_internal.h"
#include "raster/reader.h"
#include "render/meshes.h"
#include "render/render.h"

/* Per-job stage time bounds, seconds. */
static const double stage_bounds[] = {0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct rc_workers *pool = w->pool;
    struct rc_error err = {0};
    size_t slot = (size_t)(w - pool->workers);
    enum rc_err rc = rc_render_create(pool->gpu, slot, &w->render, &err);
    if (rc == RC_OK) {
        rc = rc_text_create(&w->text, &err);
    }
    pthread_mutex_lock(&pool->lock);
    if (rc == RC_OK) {
        if (!pool->gl_renderer[0]) {
            snprintf(pool->gl_renderer, sizeof(pool->gl_renderer), "%s",
                     rc_render_renderer(w->render));
            snprintf(pool->gl_version, sizeof(pool->gl_version), "%s",
                     rc_render_version(w->render));
            pool->max_texture = rc_render_max_texture_size(w->render);
        }
        pool->ready++;
    } else {
        rc_log(RC_LOG_ERROR, "msg=\"worker has no GL context\" error=\"%s\"", err.message);
        pool->failed++;
    }
    pthread_cond_broadcast(&pool->changed);
    pthread_mutex_unlock(&pool->lock);
    if (rc != RC_OK) {
        rc_text_destroy(w->text);
        rc_render_destroy(w->render);
        return NULL;
    }
    struct rc_job *job;
    while ((job = rc_queue_pop(pool->jobs)) != NULL) {
        atomic_fetch_add(&pool->busy, 1);
        pthread_mutex_lock(&pool->lock);
        w->current = job;
        pthread_mutex_unlock(&pool->lock);
        rc_worker_run_job(w, job); /* drops `busy` itself */
        pthread_mutex_lock(&pool->lock);
        w->current = NULL;
        pthread_mutex_unlock(&pool->lock);
        rc_job_unref(job);
    }
    rc_render_destroy(w->render);
    w->render = NULL;
    rc_text_destroy(w->text);
    w->text = NULL;
    return NULL;
}

enum rc_err rc_workers_create(struct rc_config_source *cfgs, struct rc_gpu *gpu,
                              struct rc_cache *cache, struct rc_clipcache *clips,
                              struct rc_workers **out, struct rc_error *err)
{
    const struct rc_config *cfg = rc_config_current(cfgs);
    *out = NULL;
    struct rc_workers *pool = calloc(1, sizeof(*pool));
    if (!pool) {
        return rc_error_set(err, RC_ERR_NOMEM, "", "out of memory");
    }
    pool->cfgs = cfgs;
    pool->gpu = gpu;
    pool->cache = cache;
    pool->clips = clips;
    pool->count = (size_t)cfg->workers;
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->changed, NULL);
    for (int i = 0; i < STAGE_COUNT; i++) {
        rc_histogram_init(&pool->stages[i], stage_bounds,
                          sizeof(stage_bounds) / sizeof(stage_bounds[0]));
    }
    /* Room for a job per worker on top of the queue: jobs wait here until a worker
     * picks them up (the queue's length needs a restart to change). */
    pool->queue = (size_t)cfg->queue;
    /* A reader started once, confined as every reader will be, says what the
     * kernel enforces here. */
    if (rc_reader_check(cfg, &pool->sandbox, NULL, err) != RC_OK) {
        rc_workers_destroy(pool);
        return err->code;
    }
    char sandbox[256];
    rc_sandbox_describe(&pool->sandbox, sandbox, sizeof(sandbox));
    bool complete = rc_sandbox_complete(&pool->sandbox);
    rc_log(complete ? RC_LOG_INFO : RC_LOG_WARN, "msg=\"reader sandbox\" mode=%s complete=%d %s",
           cfg->reader_sandbox, complete, sandbox);
    if (!complete && strcmp(cfg->reader_sandbox, "strict") == 0) {
        rc_workers_destroy(pool);
        return rc_error_set(err, RC_ERR_INTERNAL, "reader_sandbox",
                            "reader_sandbox is strict and the raster reader is not fully "
                            "confined (%s)",
                            sandbox);
    }
    pool->jobs = rc_queue_create(pool->count + pool->queue);
    pool->workers = calloc(pool->count, sizeof(*pool->workers));
    pool->readers = rc_readers_create(pool->count);
    /* Beside the decoded rasters, an eighth of their budget for the trees refined
     * from them (a 1024-cell tree takes 5 MiB). */
    pool->meshes = rc_meshes_create(((size_t)cfg->cache_mb << 20) / RC_MESHES_SHARE);
    if (!pool->jobs || !pool->workers || !pool->readers || !pool->meshes) {
        rc_workers_destroy(pool);
        return rc_error_set(err, RC_ERR_NOMEM, "", "out of memory");
    }
    size_t started = 0;
    for (size_t i = 0; i < pool->count; i++) {
        pool->workers[i].pool = pool;
        if (pthread_create(&pool->workers[i].thread, NULL, worker_main, &pool->workers[i]) != 0) {
            break;
        }
        pool->workers[i].started = true;
        started++;
    }
    pthread_mutex_lock(&pool->lock);
    while (pool->ready + pool->failed < started) {
        pthread_cond_wait(&pool->changed, &pool->lock);
    }
    bool ok = started == pool->count && pool->failed == 0;
    pthread_mutex_unlock(&pool->lock);
    if (!ok) {
        rc_workers_destroy(pool);
        return rc_error_set(err, RC_ERR_INTERNAL, "", "could not start every render worker");
    }
    rc_log(RC_LOG_INFO, "msg=\"workers ready\" workers=%zu gl_renderer=\"%s\" gl_version=\"%s\"",
           pool->count, pool->gl_renderer, pool->gl_version);
    *out = pool;
    return RC_OK;
}

void rc_workers_cancel_all(struct rc_workers *workers)
{
    struct rc_job *job;
    while ((job = rc_queue_try_pop(workers->jobs)) != NULL) {
        rc_error_set(&job->error, RC_ERR_DRAINING, "", "the server is shutting down");
        job->state = RC_JOB_FAILED;
        job->on_ready(job, job->on_ready_ctx);
        rc_job_unref(job);
    }
    pthread_mutex_lock(&workers->lock);
    for (size_t i = 0; i < workers->count; i++) {
        if (workers->workers[i].current) {
            atomic_store(&workers->workers[i].current->cancel, true);
        }
    }
    pthread_mutex_unlock(&workers->lock);
}

void rc_workers_drain(struct rc_workers *workers)
{
    if (workers->jobs) {
        rc_queue_close(workers->jobs);
    }
    for (size_t i = 0; workers->workers && i < workers->count; i++) {
        if (workers->workers[i].started) {
            pthread_join(workers->workers[i].thread, NULL);
            workers->workers[i].started = false;
        }
    }
}

void rc_workers_destroy(struct rc_workers *workers)
{
    if (!workers) {
        return;
    }
    rc_workers_drain(workers);
    rc_readers_destroy(workers->readers); /* after the last job's decode */
    rc_queue_destroy(workers->jobs);
    rc_cache_destroy(workers->meshes); /* after the workers, who hold trees while drawing */
    free(workers->workers);
    pthread_mutex_destroy(&workers->lock);
    pthread_cond_destroy(&workers->changed);
    free(workers);
}

bool rc_workers_reserve(struct rc_workers *workers)
{
    /* Taken only while fewer than the ready workers plus the queue are taken. */
    size_t limit = workers->ready + workers->queue;
    size_t taken = atomic_load(&workers->admitted);
    bool room;
    do {
        room = taken < limit;
    } while (room && !atomic_compare_exchange_weak(&workers->admitted, &taken, taken + 1));
    return room;
}

void rc_workers_release(struct rc_workers *workers)
{
    atomic_fetch_sub(&workers->admitted, 1);
}

enum rc_err rc_workers_submit(struct rc_workers *workers, struct rc_job *job, bool reserved,
                              struct rc_error *err)
{
    if (reserved || rc_workers_reserve(workers)) {
        rc_job_ref(job);
        if (rc_queue_try_push(workers->jobs, job)) {
            return RC_OK;
        }
        atomic_fetch_sub(&workers->admitted, 1); /* the queue closed: draining */
        rc_job_unref(job);
    }
    return rc_error_set(err, RC_ERR_BUSY, "", "all workers are busy and the queue is full");
}

void rc_workers_stats(struct rc_workers *workers, struct rc_workers_stats *out)
{
    out->workers = workers->count;
    out->busy = atomic_load(&workers->busy);
    out->queued = rc_queue_length(workers->jobs);
    out->jobs_ok = atomic_load(&workers->jobs_ok);
    out->jobs_failed = atomic_load(&workers->jobs_failed);
    out->jobs_cancelled = atomic_load(&workers->jobs_cancelled);
    out->frames = atomic_load(&workers->frames);
    out->bytes = atomic_load(&workers->bytes);
    out->converted_gpu = atomic_load(&workers->converted_gpu);
    out->converted_cpu = atomic_load(&workers->converted_cpu);
}

bool rc_workers_gpu_convert(const struct rc_workers *workers, const struct rc_config *cfg)
{
    if (strcmp(cfg->convert, "auto") == 0) {
        return rc_gpu_info(workers->gpu)->hardware;
    }
    return strcmp(cfg->convert, "gpu") == 0;
}

void rc_workers_write_metrics(struct rc_workers *workers, struct rc_buf *out)
{
    rc_metrics_printf(out, "# HELP rasterclip_stage_seconds Time a job spends in each stage "
                           "(reading, rendering, encoding...).\n"
                           "# TYPE rasterclip_stage_seconds histogram\n");
    for (int i = 0; i < STAGE_COUNT; i++) {
        char labels[32];
        snprintf(labels, sizeof(labels), "stage=\"%s\"", rc_job_stage_names[i]);
        rc_histogram_write(&workers->stages[i], "rasterclip_stage_seconds", labels, out);
    }
}
