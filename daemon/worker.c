#include "worker.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "encode.h"
#include "log.h"
#include "metrics.h"
#include "mux.h"
#include "overlay.h"
#include "queue.h"
#include "raster.h"
#include "text.h"

/* RGBA frames between the draw and encode threads: enough for both to keep busy. */
enum { FRAME_POOL = 3 };

enum stage {
    STAGE_LOAD,
    STAGE_RENDER,
    STAGE_READBACK,
    STAGE_CONVERT,
    STAGE_ENCODE,
    STAGE_MUX,
    STAGE_COUNT
};
static const char *const stage_names[STAGE_COUNT] = {"load",    "render", "readback",
                                                     "convert", "encode", "mux"};
/* Per-job stage time bounds, seconds. */
static const double stage_bounds[] = {0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

struct frame {
    uint8_t *i420; /* Y, U, V planes back to back; NULL marks the end of the job's frames */
    size_t index;
};

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
    struct rc_cache *cache; /* not owned */
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

/* One job's encode side: owned by run_job(), used by the encode thread. */
struct session {
    struct rc_job *job;
    struct rc_encoder *enc;
    struct rc_mux *mux;
    struct rc_queue *filled; /* frames drawn, waiting to be encoded */
    struct rc_queue *free;   /* frames encoded, ready to be drawn into */
    struct rc_buf out;       /* muxed bytes of one frame */
    enum rc_err status;      /* set by the encode thread */
    struct rc_error error;
    atomic_bool failed;      /* the encode side failed: the draw side stops */
    size_t encoded;
    double mux_ms;
};

static enum rc_err mux_packet(void *ctx, const void *data, size_t len, uint64_t pts, bool key)
{
    struct session *s = ctx;
    double t0 = rc_clock_ms();
    rc_buf_reset(&s->out);
    enum rc_err rc = rc_mux_write_frame(s->mux, &s->out, pts, key, data, len);
    s->mux_ms += rc_clock_ms() - t0;
    if (rc != RC_OK) {
        return rc;
    }
    if (!rc_bytequeue_write(s->job->out, s->out.data, s->out.len)) {
        return RC_ERR_CANCELLED;
    }
    return RC_OK;
}

static void *encode_main(void *arg)
{
    struct session *s = arg;
    struct frame *f;
    while ((f = rc_queue_pop(s->filled)) != NULL && f->i420 != NULL) {
        if (s->status == RC_OK && !atomic_load(&s->job->cancel)) {
            s->status = rc_encode_i420(s->enc, f->i420, f->index, mux_packet, s, &s->error);
            if (s->status == RC_OK) {
                s->encoded++;
            } else {
                /* Tell the draw side to stop; it still hands over every frame. The
                 * job's cancel flag is the client's: a failure is not a cancel. */
                atomic_store(&s->failed, true);
            }
        }
        rc_queue_push(s->free, f);
    }
    if (f) {
        rc_queue_push(s->free, f); /* the end marker goes back too */
    }
    if (s->status == RC_OK && !atomic_load(&s->job->cancel)) {
        s->status = rc_encode_flush(s->enc, mux_packet, s, &s->error);
    }
    return NULL;
}

static void frames_free(struct frame *frames)
{
    if (!frames) {
        return;
    }
    for (size_t i = 0; i < FRAME_POOL; i++) {
        free(frames[i].i420);
    }
    free(frames);
}

static void fail_before_stream(struct rc_job *job, const struct rc_error *err)
{
    job->error = *err;
    job->state = RC_JOB_FAILED;
    job->on_ready(job, job->on_ready_ctx);
}

struct job_times {
    double load, draw, readback, convert;
    size_t converted_gpu, converted_cpu;
};

/* Takes a mapped frame into a pool frame as I420: converted here from RGBA, on the
 * draw thread, where it balances the encode thread's work; copied as it is when
 * the GPU already converted it. */
struct take_ctx {
    uint8_t *dst;
    unsigned width, height;
    bool gpu_i420;
    double convert_ms;
};

static void take_frame(void *ctx, const uint8_t *pixels)
{
    struct take_ctx *t = ctx;
    size_t luma = (size_t)t->width * t->height;
    if (t->gpu_i420) {
        memcpy(t->dst, pixels, luma * 3 / 2);
        return;
    }
    double t0 = rc_clock_ms();
    unsigned cw = (t->width + 1) / 2;
    rc_encode_rgba_to_i420(pixels, t->width, t->height, t->dst, (int)t->width, t->dst + luma,
                           (int)cw, t->dst + luma + (size_t)cw * ((t->height + 1) / 2), (int)cw);
    t->convert_ms += rc_clock_ms() - t0;
}

/* Draws every frame and hands it to the encode thread; returns RC_OK, the first
 * error, or RC_ERR_CANCELLED. */
static enum rc_err draw_frames(struct worker *w, struct session *s, double deadline_ms,
                               struct job_times *t, struct rc_error *err)
{
    const struct rc_job_spec *spec = &s->job->spec;
    enum rc_err rc = RC_OK;
    size_t next = 0;
    while (rc == RC_OK && (next < spec->frames || rc_render_in_flight(w->render) > 0)) {
        if (atomic_load(&s->job->cancel) || atomic_load(&s->failed)) {
            rc = RC_ERR_CANCELLED; /* a failure's own error replaces it after the join */
            break;
        }
        if (rc_clock_ms() > deadline_ms) {
            rc = rc_error_set(err, RC_ERR_IMPOSSIBLE, "output.frames",
                              "the job ran past max_job_seconds");
            break;
        }
        /* Keep the ring full: read the oldest only when no more can be drawn. */
        if (next < spec->frames && rc_render_in_flight(w->render) < RC_RENDER_RING) {
            double t0 = rc_clock_ms();
            rc = rc_render_draw(w->render, next++, err);
            t->draw += rc_clock_ms() - t0;
            continue;
        }
        struct frame *f = rc_queue_pop(s->free);
        struct take_ctx take = {.dst = f->i420,
                                .width = spec->width,
                                .height = spec->height,
                                .gpu_i420 = rc_render_frames_are_i420(w->render)};
        double t0 = rc_clock_ms();
        rc = rc_render_read(w->render, take_frame, &take, &f->index, err);
        t->readback += rc_clock_ms() - t0 - take.convert_ms;
        t->convert += take.convert_ms;
        if (rc == RC_OK) {
            *(take.gpu_i420 ? &t->converted_gpu : &t->converted_cpu) += 1;
        }
        rc_queue_push(s->filled, f);
    }
    return rc;
}

static void log_job(struct rc_workers *pool, const struct rc_job *job, const char *outcome,
                    const struct session *s, const struct job_times *t, uint64_t bytes)
{
    double convert_ms = t->convert, encode_ms = s->enc ? rc_encode_ms(s->enc) : 0;
    double ms[STAGE_COUNT] = {t->load, t->draw, t->readback, convert_ms, encode_ms, s->mux_ms};
    for (int i = 0; i < STAGE_COUNT; i++) {
        rc_histogram_observe(&pool->stages[i], ms[i] / 1e3);
    }
    rc_log(RC_LOG_INFO,
           "job=%s outcome=%s w=%u h=%u frames=%zu encoded=%zu ms_load=%.1f ms_render=%.1f "
           "ms_readback=%.1f ms_convert=%.1f ms_encode=%.1f ms_mux=%.1f bytes=%llu convert=%s",
           job->id, outcome, job->spec.width, job->spec.height, job->spec.frames, s->encoded,
           t->load, t->draw, t->readback, convert_ms, encode_ms, s->mux_ms,
           (unsigned long long)bytes,
           t->converted_gpu && t->converted_cpu ? "mixed"
           : t->converted_gpu                   ? "gpu"
           : t->converted_cpu                   ? "cpu"
                                                : "none");
    atomic_fetch_add(&pool->converted_gpu, t->converted_gpu);
    atomic_fetch_add(&pool->converted_cpu, t->converted_cpu);
}

/* At the default camera the raster spans about half the output's height, so a
 * grid as long as the output's longer side already oversamples the screen about
 * twice; more detail costs texture bandwidth every frame and shows nowhere. Larger
 * rasters are read downsampled (GDAL uses overviews when the file has them). */
static unsigned raster_max_dim(const struct worker *w, const struct rc_job_spec *spec)
{
    unsigned cap = spec->width > spec->height ? spec->width : spec->height;
    unsigned gl_max = rc_render_max_texture_size(w->render);
    return cap < gl_max ? cap : gl_max;
}

static void run_job(struct worker *w, struct rc_job *job)
{
    struct rc_workers *pool = w->pool;
    const struct rc_config *cfg = rc_config_current(pool->cfgs);
    struct rc_job_spec *spec = &job->spec;
    struct rc_error err = {0};
    struct job_times times = {0};
    struct session s = {.job = job};
    struct rc_raster *raster = NULL;
    struct frame *frames = NULL;
    bool streaming = false, began = false;
    pthread_t encoder;
    rc_buf_init(&s.out);
    double start = rc_clock_ms();
    double deadline = start + (double)cfg->max_job_seconds * 1e3;

    uint64_t fetched = 0; /* remote bytes: one max_fetch_mb budget for the whole job */
    enum rc_err rc =
        rc_raster_load(cfg, pool->cache, spec, raster_max_dim(w, spec), &fetched, &raster, &err);
    rc = rc ? rc : rc_job_spec_resolve_length(spec, cfg, raster->band_count, &err);
    times.load = rc_clock_ms() - start;
    double vmin = 0, vmax = 1;
    struct rc_overlay *overlay = NULL;
    struct rc_raster *heights = NULL;
    if (rc == RC_OK && spec->height_url[0]) {
        rc = rc_raster_load_height(cfg, pool->cache, spec, raster, &fetched, &heights, &err);
    }
    if (rc == RC_OK) {
        rc_raster_value_range(raster, spec, &vmin, &vmax);
        if (spec->colormap_sets_range) {
            vmin = spec->cmap_vmin;
            vmax = spec->cmap_vmax;
        }
        if (rc_overlay_wanted(spec)) {
            rc = rc_overlay_create(spec, vmin, vmax, w->text, &overlay, &err);
        }
    }
    if (rc == RC_OK) {
        struct rc_render_input in = {.spec = spec,
                                     .values = raster,
                                     .vmin = vmin,
                                     .vmax = vmax,
                                     .heights = heights,
                                     .overlay = overlay,
                                     .gpu_convert = rc_workers_gpu_convert(pool, cfg)};
        rc = rc_render_begin(w->render, &in, &err);
        began = true;
    }
    rc_raster_unref(heights);
    rc_overlay_destroy(overlay);
    /* The raster now lives in textures. */
    rc_raster_unref(raster);
    raster = NULL;
    rc = rc ? rc : rc_encode_create(spec, &s.enc, &err);
    if (rc == RC_OK) {
        struct rc_mux_settings ms = {.width = spec->width,
                                     .height = spec->height,
                                     .fps = spec->fps,
                                     .frames = spec->frames,
                                     .writing_app = "rasterclip " RC_VERSION};
        s.mux = rc_mux_create(&ms);
        s.filled = rc_queue_create(FRAME_POOL + 1);
        s.free = rc_queue_create(FRAME_POOL + 1);
        frames = calloc(FRAME_POOL + 1, sizeof(*frames));
        if (!s.mux || !s.filled || !s.free || !frames) {
            rc = rc_error_set(&err, RC_ERR_NOMEM, "", "out of memory");
        }
    }
    size_t frame_bytes = (size_t)spec->width * spec->height * 3 / 2;
    for (size_t i = 0; rc == RC_OK && i < FRAME_POOL; i++) {
        frames[i].i420 = malloc(frame_bytes);
        if (!frames[i].i420) {
            rc = rc_error_set(&err, RC_ERR_NOMEM, "", "out of memory");
            break;
        }
        rc_queue_push(s.free, &frames[i]);
    }
    rc = rc ? rc : rc_mux_write_header(s.mux, &s.out);
    if (rc != RC_OK) {
        fail_before_stream(job, &err);
        goto out;
    }
    job->state = RC_JOB_STREAMING;
    streaming = true;
    job->on_ready(job, job->on_ready_ctx);
    if (!rc_bytequeue_write(job->out, s.out.data, s.out.len)) {
        rc = RC_ERR_CANCELLED; /* the client left before the header went out */
        goto out;
    }

    if (pthread_create(&encoder, NULL, encode_main, &s) != 0) {
        rc = rc_error_set(&err, RC_ERR_INTERNAL, "", "cannot start the encode thread");
        goto out;
    }
    rc = draw_frames(w, &s, deadline, &times, &err);
    /* The end marker; frames[FRAME_POOL] has no pixels. */
    rc_queue_push(s.filled, &frames[FRAME_POOL]);
    pthread_join(encoder, NULL);
    if (s.status != RC_OK && s.status != RC_ERR_CANCELLED) {
        rc = s.status; /* the encoder's failure is why drawing stopped */
        err = s.error;
    } else if (rc == RC_OK && s.status != RC_OK) {
        rc = s.status;
        err = s.error;
    }
out:
    if (began) {
        rc_render_end(w->render);
    }
    uint64_t bytes = rc_bytequeue_total(job->out);
    const char *outcome = rc == RC_OK ? "ok" : rc == RC_ERR_CANCELLED ? "cancelled" : "failed";
    if (rc == RC_OK) {
        atomic_fetch_add(&pool->jobs_ok, 1);
    } else if (rc == RC_ERR_CANCELLED) {
        atomic_fetch_add(&pool->jobs_cancelled, 1);
    } else {
        atomic_fetch_add(&pool->jobs_failed, 1);
        rc_log(RC_LOG_WARN, "job=%s msg=\"job failed\" code=%s field=%s message=\"%s\"", job->id,
               rc_err_name(err.code), err.field, err.message);
    }
    atomic_fetch_add(&pool->frames, s.encoded);
    atomic_fetch_add(&pool->bytes, bytes);
    log_job(pool, job, outcome, &s, &times, bytes);
    frames_free(frames);
    rc_queue_destroy(s.filled);
    rc_queue_destroy(s.free);
    rc_mux_destroy(s.mux);
    rc_encode_destroy(s.enc);
    rc_buf_finish(&s.out);
    /* Last: once the client has its final byte, this worker is already free. */
    atomic_fetch_sub(&pool->busy, 1);
    if (streaming) {
        rc_bytequeue_finish(job->out, rc == RC_OK);
    }
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
                              struct rc_cache *cache, struct rc_workers **out, struct rc_error *err)
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
        snprintf(labels, sizeof(labels), "stage=\"%s\"", stage_names[i]);
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
