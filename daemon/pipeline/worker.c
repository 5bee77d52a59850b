#define _GNU_SOURCE /* memfd_create */

#include "pipeline/worker.h"

#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/metrics.h"
#include "base/queue.h"
#include "encode/convert.h"
#include "overlay/overlay.h"
#include "overlay/text.h"
#include "pipeline/clipcache.h"
#include "pipeline/plan.h"
#include "pipeline/session.h"
#include "raster/raster.h"

enum { STAGE_COUNT = RC_STAGE_COUNT };
/* A finished file (seekable, or kept for the clip cache) is held in memory until it
 * is complete; past this a seekable job fails and the clip cache gives up. */
#define MAX_FILE_BYTES ((size_t)1 << 30)
/* Per-job stage time bounds, seconds. */
static const double stage_bounds[] = {0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

struct worker {
    struct rc_workers *pool;
    pthread_t thread;
    bool started;
    struct rc_render *render;
    struct rc_text *text;   /* labels for colorbars and titles */
    struct rc_job *current; /* under pool->lock: the job running, for cancel_all */
};

struct rc_workers {
    struct rc_config_source *cfgs; /* a job reads the config in force when it starts */
    struct rc_gpu *gpu;
    struct rc_cache *cache;     /* not owned */
    struct rc_clipcache *clips; /* not owned; NULL: no clip cache */
    struct rc_queue *jobs;
    struct worker *workers;
    size_t count;
    char gl_renderer[256];
    char gl_version[256];
    /* start-up handshake, under `lock` */
    pthread_mutex_t lock;
    pthread_cond_t changed;
    size_t ready;
    size_t failed;
    /* counters */
    struct rc_histogram stages[STAGE_COUNT]; /* seconds per job in each stage */
    atomic_size_t busy;
    atomic_uint_fast64_t jobs_ok, jobs_failed, jobs_cancelled, frames, bytes;
    atomic_uint_fast64_t converted_gpu, converted_cpu; /* frames, by where RGBA became I420 */
};

/* One job on one worker: what run_job() owns, released in one place. */
struct run {
    struct worker *w;
    struct rc_job *job;
    const struct rc_config *cfg;
    struct rc_plan plan;
    struct rc_raster *values, *heights;
    struct rc_overlay *overlay;
    struct rc_session *session;
    bool began;     /* the renderer holds the job's GL objects */
    bool streaming; /* the client has its 200 and the header */
    bool keyed;     /* `key` identifies the clip (its rasters can be revalidated) */
    bool claimed;   /* the clip cache waits for this job to store `key` */
    bool hit;       /* the clip cache had it: job->clip_fd */
    char key[65];
    double load_ms, draw_ms, readback_ms, convert_ms;
    size_t converted_gpu, converted_cpu;
    unsigned mesh_cols, mesh_rows;
};

/* Takes a mapped frame into a session frame as I420: converted here from RGBA, on
 * the draw thread, where it balances the encode thread's work; copied as it is
 * when the GPU already converted it. */
struct take_ctx {
    uint8_t *dst;
    const struct rc_i420_layout *layout;
    enum rc_frame_kind kind;
    bool gpu_i420;
    double convert_ms;
};

static void take_frame(void *ctx, const uint8_t *pixels)
{
    struct take_ctx *t = ctx;
    if (t->gpu_i420) {
        memcpy(t->dst, pixels, t->layout->frame_bytes);
        return;
    }
    if (t->kind == RC_FRAME_RGBA) {
        memcpy(t->dst, pixels, t->layout->y_bytes * 4);
        return;
    }
    double t0 = rc_clock_ms();
    rc_convert_rgba_to_i420(pixels, t->layout, t->dst);
    if (t->kind == RC_FRAME_I420A) {
        uint8_t *alpha = t->dst + t->layout->frame_bytes;
        for (size_t i = 0; i < t->layout->y_bytes; i++) {
            alpha[i] = pixels[4 * i + 3];
        }
    }
    t->convert_ms += rc_clock_ms() - t0;
}

static void set_stage(struct rc_job *job, enum rc_job_stage stage, double ms)
{
    atomic_store(&job->progress->stage_us[stage], (uint_fast64_t)(ms * 1e3));
}

/* Where the job stands, for GET /v1/jobs/{id}: once a frame. */
static void report_progress(struct run *run)
{
    struct rc_job *job = run->job;
    size_t encoded = 0;
    double encode_ms = 0, mux_ms = 0;
    if (run->session) {
        rc_session_progress(run->session, &encoded, &encode_ms, &mux_ms);
    }
    atomic_store(&job->progress->frames_done, encoded);
    set_stage(job, RC_STAGE_LOAD, run->load_ms);
    set_stage(job, RC_STAGE_RENDER, run->draw_ms);
    set_stage(job, RC_STAGE_READBACK, run->readback_ms);
    set_stage(job, RC_STAGE_CONVERT, run->convert_ms);
    set_stage(job, RC_STAGE_ENCODE, encode_ms);
    set_stage(job, RC_STAGE_MUX, mux_ms);
}

/* Draws every frame and hands it to the encode thread; returns RC_OK, the first
 * error, or RC_ERR_CANCELLED (the client's cancel, or the encoder's failure, whose
 * own error rc_session_finish() reports). */
static enum rc_err draw_frames(struct run *run, double deadline_ms, struct rc_error *err)
{
    struct rc_render *render = run->w->render;
    size_t frames = run->plan.timeline.frames;
    struct rc_i420_layout layout;
    rc_i420_layout(run->plan.render.width, run->plan.render.height, &layout);
    enum rc_err rc = RC_OK;
    size_t next = 0;
    while (rc == RC_OK && (next < frames || rc_render_in_flight(render) > 0)) {
        if (atomic_load(&run->job->cancel) || rc_session_failed(run->session)) {
            rc = RC_ERR_CANCELLED;
            break;
        }
        if (rc_clock_ms() > deadline_ms) {
            rc = rc_error_set(err, RC_ERR_IMPOSSIBLE, "output.frames",
                              "the job ran past max_job_seconds");
            break;
        }
        /* Keep the ring full: read the oldest only when no more can be drawn. */
        if (next < frames && rc_render_in_flight(render) < RC_RENDER_RING) {
            struct rc_render_frame frame;
            rc_plan_frame(&run->plan, next++, &frame);
            double t0 = rc_clock_ms();
            rc = rc_render_draw(render, &frame, err);
            run->draw_ms += rc_clock_ms() - t0;
            continue;
        }
        struct rc_session_frame *f = rc_session_frame(run->session);
        struct take_ctx take = {.dst = f->pixels,
                                .layout = &layout,
                                .kind = run->plan.output.frame,
                                .gpu_i420 = rc_render_frames_are_i420(render)};
        double t0 = rc_clock_ms();
        rc = rc_render_read(render, take_frame, &take, &f->index, err);
        run->readback_ms += rc_clock_ms() - t0 - take.convert_ms;
        run->convert_ms += take.convert_ms;
        if (rc == RC_OK && take.kind != RC_FRAME_RGBA) {
            *(take.gpu_i420 ? &run->converted_gpu : &run->converted_cpu) += 1;
        }
        rc_session_submit(run->session, f);
        report_progress(run);
    }
    return rc;
}

/* The clip's key, when its rasters have identities; with a clip cache, a hit
 * (run->hit, the entry in job->clip_fd) or the claim to render it. */
static enum rc_err look_up_clip(struct run *run, struct rc_error *err)
{
    struct rc_job *job = run->job;
    const char *ids[2] = {run->values->identity, run->heights ? run->heights->identity : ""};
    if (!ids[0][0] || (run->heights && !ids[1][0])) {
        return RC_OK; /* a source that cannot be revalidated: no key, nothing cached */
    }
    struct rc_buf text;
    rc_buf_init(&text);
    enum rc_err rc = rc_job_spec_canonical(&job->spec, &text);
    if (rc != RC_OK) {
        rc_buf_finish(&text);
        return rc_error_set(err, rc, "", "out of memory");
    }
    rc_clipcache_key(&text, ids, run->heights ? 2 : 1, run->key);
    rc_buf_finish(&text);
    run->keyed = true;
    snprintf(job->etag, sizeof(job->etag), "\"%s\"", run->key);
    struct rc_clipcache *clips = run->w->pool->clips;
    if (!clips) {
        return RC_OK;
    }
    uint64_t size = 0;
    int fd = rc_clipcache_open_entry(clips, run->key, &size, &run->claimed);
    if (fd >= 0) {
        run->hit = true;
        job->clip_fd = fd;
        job->clip_size = size;
        atomic_store(&job->progress->cached, true);
    }
    return RC_OK;
}

/* The finished file for the client (seekable) and the clip cache (claimed). */
static enum rc_err deliver_file(struct run *run, struct rc_error *err)
{
    struct rc_job *job = run->job;
    struct rc_buf file;
    if (!rc_session_take_file(run->session, &file)) {
        if (run->plan.output.seekable) {
            return rc_error_set(err, RC_ERR_INTERNAL, "", "the finished file was not made");
        }
        return RC_OK; /* too large to keep: the client had its stream */
    }
    if (run->claimed) {
        run->claimed = false;
        rc_clipcache_store(run->w->pool->clips, run->key, file.data, file.len);
    }
    enum rc_err rc = RC_OK;
    if (run->plan.output.seekable) {
        /* Sent from a memory file, like a cached one from its file. */
        int fd = memfd_create("rasterclip-clip", MFD_CLOEXEC);
        size_t done = 0;
        while (fd >= 0 && done < file.len) {
            ssize_t n = write(fd, file.data + done, file.len - done);
            if (n <= 0) {
                break;
            }
            done += (size_t)n;
        }
        if (fd < 0 || done != file.len) {
            rc = rc_error_set(err, RC_ERR_NOMEM, "", "no memory for the finished file");
            if (fd >= 0) {
                close(fd);
            }
        } else {
            job->clip_fd = fd;
            job->clip_size = file.len;
        }
    }
    rc_buf_finish(&file);
    return rc;
}

/* Load, plan, overlay and GL setup: everything before the first byte. */
static enum rc_err prepare(struct run *run, struct rc_error *err)
{
    struct rc_workers *pool = run->w->pool;
    const struct rc_job_spec *spec = &run->job->spec;
    double start = rc_clock_ms();
    uint64_t fetched = 0; /* remote bytes: one max_fetch_mb budget for the whole job */
    struct rc_raster_request req;
    rc_plan_raster_request(run->job, rc_render_max_texture_size(run->w->render), &req);
    enum rc_err rc = rc_raster_load(run->cfg, pool->cache, &req, &fetched, &run->values, err);
    rc = rc ? rc
            : rc_plan_make(spec, run->cfg, run->values, rc_workers_gpu_convert(pool, run->cfg),
                           rc_gpu_info(pool->gpu)->hardware, &run->plan, err);
    if (rc == RC_OK && rc_plan_height_request(run->job, &req)) {
        rc = rc_raster_load_height(run->cfg, pool->cache, &req, run->values, &fetched,
                                   &run->heights, err);
    }
    rc_job_drop_uploads(run->job); /* decoded (or refused): the bytes are not needed again */
    if (rc == RC_OK) {
        rc_plan_set_heights(&run->plan, run->heights);
        atomic_store(&run->job->progress->frames_total, run->plan.timeline.frames);
        rc = look_up_clip(run, err);
    }
    run->load_ms = rc_clock_ms() - start;
    if (run->hit) {
        rc_raster_unref(run->heights);
        rc_raster_unref(run->values);
        run->values = run->heights = NULL;
        return RC_OK;
    }
    run->plan.output.keep_file = run->claimed;
    run->plan.output.max_file_bytes = MAX_FILE_BYTES;
    if (rc == RC_OK && run->plan.has_overlay) {
        rc = rc_overlay_create(&run->plan.overlay, run->w->text, &run->overlay, err);
    }
    if (rc == RC_OK && spec->format == RC_FORMAT_GIF) {
        rc_plan_palette(&run->plan, spec, run->overlay);
    }
    if (rc == RC_OK) {
        run->plan.render.overlay = run->overlay;
        run->began = true;
        rc = rc_render_begin(run->w->render, &run->plan.render, err);
        rc_render_mesh(run->w->render, &run->mesh_cols, &run->mesh_rows);
    }
    /* The rasters and the overlay now live in GL objects. */
    rc_raster_unref(run->heights);
    run->heights = NULL;
    rc_overlay_destroy(run->overlay);
    run->overlay = NULL;
    rc_raster_unref(run->values);
    run->values = NULL;
    run->plan.render.values = run->plan.render.heights = NULL;
    run->plan.render.overlay = NULL;
    if (rc == RC_OK) {
        rc = rc_session_create(&run->plan.output, run->job->out, &run->job->cancel, &run->session,
                               err);
    }
    return rc;
}

static const char *convert_name(const struct run *run)
{
    if (run->converted_gpu && run->converted_cpu) {
        return "mixed";
    }
    return run->converted_gpu ? "gpu" : run->converted_cpu ? "cpu" : "none";
}

/* The one end of every job, whatever happened: counted, logged, its GL objects
 * and encode side released, its stream closed (without the terminating chunk
 * unless it succeeded) or, before the first byte, its error handed to HTTP. */
static void end_job(struct run *run, enum rc_err rc, const struct rc_error *err)
{
    struct rc_workers *pool = run->w->pool;
    struct rc_job *job = run->job;
    if (run->began) {
        rc_render_end(run->w->render);
    }
    if (run->claimed) {
        rc_clipcache_abandon(pool->clips, run->key); /* those waiting render it themselves */
    }
    uint64_t bytes = rc_bytequeue_total(job->out);
    size_t encoded = run->session ? rc_session_encoded(run->session) : 0;
    double encode_ms = run->session ? rc_session_encode_ms(run->session) : 0;
    double mux_ms = run->session ? rc_session_mux_ms(run->session) : 0;
    const char *outcome = rc == RC_OK ? "ok" : rc == RC_ERR_CANCELLED ? "cancelled" : "failed";
    if (rc == RC_OK) {
        atomic_fetch_add(&pool->jobs_ok, 1);
    } else if (rc == RC_ERR_CANCELLED) {
        atomic_fetch_add(&pool->jobs_cancelled, 1);
    } else {
        atomic_fetch_add(&pool->jobs_failed, 1);
        rc_log(RC_LOG_WARN, "job=%s msg=\"job failed\" code=%s field=%s message=\"%s\"", job->id,
               rc_err_name(err->code), err->field, err->message);
    }
    atomic_fetch_add(&pool->frames, encoded);
    atomic_fetch_add(&pool->bytes, bytes);
    atomic_fetch_add(&pool->converted_gpu, run->converted_gpu);
    atomic_fetch_add(&pool->converted_cpu, run->converted_cpu);
    double ms[STAGE_COUNT] = {run->load_ms,    run->draw_ms, run->readback_ms,
                              run->convert_ms, encode_ms,    mux_ms};
    for (int i = 0; i < STAGE_COUNT; i++) {
        rc_histogram_observe(&pool->stages[i], ms[i] / 1e3);
        set_stage(job, (enum rc_job_stage)i, ms[i]);
    }
    atomic_store(&job->progress->frames_done, encoded);
    atomic_store(&job->progress->ended_us, (uint_fast64_t)(rc_clock_ms() * 1e3));
    atomic_store(&job->progress->phase, rc == RC_OK              ? RC_PHASE_DONE
                                        : rc == RC_ERR_CANCELLED ? RC_PHASE_CANCELLED
                                                                 : RC_PHASE_FAILED);
    rc_log(RC_LOG_INFO,
           "job=%s outcome=%s w=%u h=%u frames=%zu encoded=%zu ms_load=%.1f ms_render=%.1f "
           "ms_readback=%.1f ms_convert=%.1f ms_encode=%.1f ms_mux=%.1f bytes=%llu convert=%s "
           "format=%s mesh=%ux%u cached=%d seekable=%d",
           job->id, outcome, job->spec.width, job->spec.height, run->plan.timeline.frames, encoded,
           run->load_ms, run->draw_ms, run->readback_ms, run->convert_ms, encode_ms, mux_ms,
           (unsigned long long)bytes, convert_name(run), rc_format_name(job->spec.format),
           run->mesh_cols, run->mesh_rows, run->hit, run->plan.output.seekable);
    rc_session_destroy(run->session);
    run->session = NULL;
#ifdef __GLIBC__
    /* A job frees tens of megabytes (frames, encoder, decoded bands), much of it in
     * the encode thread's arena; hand it back so an idle daemon's RSS is what it
     * holds, not the high-water mark of the largest job it ever ran. */
    malloc_trim(0);
#endif
    /* Last: once the client has its final byte, this worker is already free. */
    atomic_fetch_sub(&pool->busy, 1);
    if (run->streaming) {
        rc_bytequeue_finish(job->out, rc == RC_OK);
    } else if (rc != RC_OK) {
        job->error = *err;
        if (rc == RC_ERR_CANCELLED) {
            rc_error_set(&job->error, RC_ERR_CANCELLED, "", "the job was cancelled");
        }
        job->state = RC_JOB_FAILED;
        job->on_ready(job, job->on_ready_ctx);
    } else {
        job->state = RC_JOB_FINISHED; /* the whole clip, in job->clip_fd */
        job->on_ready(job, job->on_ready_ctx);
    }
}

static void run_job(struct worker *w, struct rc_job *job)
{
    struct run run = {.w = w, .job = job, .cfg = rc_config_current(w->pool->cfgs)};
    struct rc_error err = {0};
    double deadline = rc_clock_ms() + (double)run.cfg->max_job_seconds * 1e3;
    atomic_store(&job->progress->started_us, (uint_fast64_t)(rc_clock_ms() * 1e3));
    atomic_store(&job->progress->phase, RC_PHASE_RUNNING);
    rc_log(RC_LOG_INFO, "job=%s msg=\"job started\" format=%s seekable=%d", job->id,
           rc_format_name(job->spec.format), job->spec.seekable);
    enum rc_err rc = prepare(&run, &err);
    job->frames = run.plan.timeline.frames;
    if (rc != RC_OK || run.hit) {
        end_job(&run, rc, &err);
        return;
    }
    if (!run.plan.output.seekable) {
        job->state = RC_JOB_STREAMING;
        run.streaming = true;
        job->on_ready(job, job->on_ready_ctx);
    }
    if (!rc_session_write_header(run.session)) {
        end_job(&run, RC_ERR_CANCELLED, &err); /* the client left before the header */
        return;
    }
    rc = rc_session_start(run.session, &err);
    if (rc == RC_OK) {
        rc = draw_frames(&run, deadline, &err);
        struct rc_error encode_err = {0};
        enum rc_err encoded = rc_session_finish(run.session, &encode_err);
        if (encoded != RC_OK && encoded != RC_ERR_CANCELLED) {
            rc = encoded; /* the encoder's failure is why drawing stopped */
            err = encode_err;
        } else if (rc == RC_OK) {
            rc = encoded;
        }
    }
    if (rc == RC_OK) {
        rc = deliver_file(&run, &err);
    }
    end_job(&run, rc, &err);
}

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
        run_job(w, job); /* drops `busy` itself */
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
    pool->jobs = rc_queue_create(cfg->queue > 0 ? (size_t)cfg->queue : 1);
    pool->workers = calloc(pool->count, sizeof(*pool->workers));
    if (!pool->jobs || !pool->workers) {
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
    rc_queue_destroy(workers->jobs);
    free(workers->workers);
    pthread_mutex_destroy(&workers->lock);
    pthread_cond_destroy(&workers->changed);
    free(workers);
}

enum rc_err rc_workers_submit(struct rc_workers *workers, struct rc_job *job, struct rc_error *err)
{
    rc_job_ref(job);
    if (!rc_queue_try_push(workers->jobs, job)) {
        rc_job_unref(job);
        return rc_error_set(err, RC_ERR_BUSY, "", "all workers are busy and the queue is full");
    }
    return RC_OK;
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
    rc_metrics_printf(out, "# TYPE rasterclip_stage_seconds histogram\n");
    for (int i = 0; i < STAGE_COUNT; i++) {
        char labels[32];
        snprintf(labels, sizeof(labels), "stage=\"%s\"", rc_job_stage_names[i]);
        rc_histogram_write(&workers->stages[i], "rasterclip_stage_seconds", labels, out);
    }
}

const char *rc_workers_gl_renderer(const struct rc_workers *workers)
{
    return workers->gl_renderer;
}

const char *rc_workers_gl_version(const struct rc_workers *workers)
{
    return workers->gl_version;
}
