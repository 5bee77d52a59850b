#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/metrics.h"
#include "encode/convert.h"
#include "overlay/overlay.h"
#include "overlay/text.h"
#include "pipeline/clipcache.h"
#include "pipeline/legend.h"
#include "pipeline/plan.h"
#include "pipeline/session.h"
#include "pipeline/vectors.h"
#include "pipeline/workers_internal.h"
#include "raster/raster.h"

/* A finished file (seekable, or kept for the clip cache) is held in memory until it
 * is complete; past this a seekable job fails and the clip cache gives up. */
#define MAX_FILE_BYTES ((size_t)1 << 30)

/* One job on one worker: what rc_worker_run_job() owns, released in one place. */
struct run {
    struct worker *w;
    struct rc_job *job;
    const struct rc_config *cfg;
    struct rc_plan plan;
    struct rc_raster *values, *heights;
    struct rc_overlay *overlay;
    struct rc_job_layers layers; /* style.vectors and style.graticule on the values' grid */
    struct rc_session *session;
    bool began;     /* the renderer holds the job's GL objects */
    bool streaming; /* the client has its 200 and the header */
    bool claimed;   /* the clip cache waits for this job to store `key` */
    bool hit;       /* the clip cache had it: job->clip_fd */
    bool beside;    /* its legend or vectors are made instead of a clip: job->clip_fd */
    char key[65];
    double deadline_ms; /* max_job_seconds from the start: the load counts too */
    double load_ms, draw_ms, readback_ms, convert_ms;
    size_t converted_gpu, converted_cpu;
    struct rc_render_mesh_info mesh;
    size_t baked; /* frames drawn from colours worked out once (render/baked.c) */
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
    atomic_store(&job->progress->frames_done, rc_session_encoded(run->session));
    set_stage(job, RC_STAGE_LOAD, run->load_ms);
    set_stage(job, RC_STAGE_RENDER, run->draw_ms);
    set_stage(job, RC_STAGE_READBACK, run->readback_ms);
    set_stage(job, RC_STAGE_CONVERT, run->convert_ms);
    set_stage(job, RC_STAGE_ENCODE, rc_session_encode_ms(run->session));
    set_stage(job, RC_STAGE_MUX, rc_session_mux_ms(run->session));
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
        if (next < frames && rc_render_in_flight(render) < rc_render_ring_size(render)) {
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
    const char *ids[2 + RC_JOB_MAX_VECTORS] = {run->values->identity,
                                               run->heights ? run->heights->identity : ""};
    char layer_ids[RC_JOB_MAX_VECTORS][65];
    if (!ids[0][0] || (run->heights && !ids[1][0]) ||
        !rc_job_layers_identities(run->cfg, job, layer_ids)) {
        return RC_OK; /* a source that cannot be revalidated: no key, nothing cached */
    }
    size_t count = run->heights ? 2 : 1;
    for (size_t i = 0; i < job->spec.vector_count; i++) {
        ids[count++] = layer_ids[i];
    }
    if (!rc_clipcache_job_key(job, ids, count, run->key)) {
        return rc_error_set(err, RC_ERR_NOMEM, "", "out of memory");
    }
    struct rc_clipcache *clips = run->w->pool->clips;
    if (!clips) {
        return RC_OK;
    }
    struct rc_clip_file file;
    int fd = rc_clipcache_open_entry(clips, run->key, &file, &run->claimed);
    if (fd >= 0) {
        run->hit = true;
        job->clip_fd = fd;
        job->clip_size = file.size;
        snprintf(job->etag, sizeof(job->etag), "\"%s\"", file.digest);
        atomic_store(&job->progress->cached, true);
    }
    return RC_OK;
}

bool rc_workers_cached_clip(struct rc_workers *workers, struct rc_job *job)
{
    if (!workers->clips || job->spec.answer != RC_ANSWER_CLIP ||
        !rc_clipcache_answer_early(workers->clips, rc_config_current(workers->cfgs), job,
                                   workers->max_texture)) {
        return false;
    }
    atomic_fetch_add(&workers->jobs_ok, 1);
    rc_log(RC_LOG_INFO,
           "job=%s outcome=ok w=%u h=%u frames=%zu bytes=%llu format=%s cached=1 seekable=%d "
           "early=1",
           job->id, job->spec.width, job->spec.height, job->frames,
           (unsigned long long)job->clip_size, rc_format_name(job->spec.format),
           job->spec.seekable);
    return true;
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
        rc_clipcache_store(run->w->pool->clips, run->key, run->plan.timeline.frames, &job->bounds,
                           file.data, file.len);
    }
    enum rc_err rc = RC_OK;
    if (run->plan.output.seekable) {
        /* Sent from a memory file, like a cached one from its file, under the same
         * strong ETag: the digest of its bytes. */
        char digest[65];
        rc_clipcache_digest(file.data, file.len, digest);
        snprintf(job->etag, sizeof(job->etag), "\"%s\"", digest);
        job->clip_fd = rc_clipcache_memfd(file.data, file.len);
        job->clip_size = file.len;
        if (job->clip_fd < 0) {
            rc = rc_error_set(err, RC_ERR_NOMEM, "", "no memory for the finished file");
        }
    }
    rc_buf_finish(&file);
    return rc;
}

/* GET /v1/legend, /v1/vectors: the planned job's legend or vector layers as a
 * file, sent as a finished clip is. */
static enum rc_err beside_file(struct run *run, struct rc_raster_budget *budget,
                               struct rc_error *err)
{
    struct rc_job *job = run->job;
    struct rc_buf file;
    rc_buf_init(&file);
    enum rc_err rc = job->spec.answer == RC_ANSWER_VECTORS
                         ? rc_job_layers_geojson(run->cfg, job, run->values, budget, &file, err)
                         : rc_legend_make(&job->spec, &run->plan, run->w->text, &file, err);
    if (rc == RC_OK) {
        char digest[65];
        rc_clipcache_digest(file.data, file.len, digest);
        snprintf(job->etag, sizeof(job->etag), "\"%s\"", digest);
        job->clip_fd = rc_clipcache_memfd(file.data, file.len);
        job->clip_size = file.len;
        rc = job->clip_fd >= 0 ? RC_OK : rc_error_set(err, RC_ERR_NOMEM, "", "out of memory");
    }
    rc_buf_finish(&file);
    run->beside = rc == RC_OK;
    return rc;
}

/* Load, plan, overlay and GL setup: everything before the first byte. */
/* Where the clip lies: the stored grid's bounds, for the answer's headers and
 * the job's status (set before the job is ready). */
static void note_bounds(struct rc_job *job, const struct rc_raster *r)
{
    if (!r->has_geotransform) {
        return;
    }
    struct rc_bounds b = {.known = true, .has_lonlat = r->has_lonlat};
    rc_raster_extent(r, b.xy);
    memcpy(b.lonlat, r->lonlat, sizeof(b.lonlat));
    rc_job_set_bounds(job, &b);
}

static enum rc_err prepare(struct run *run, struct rc_error *err)
{
    struct rc_workers *pool = run->w->pool;
    const struct rc_job_spec *spec = &run->job->spec;
    double start = rc_clock_ms();
    /* One max_fetch_mb and max_read_pixels for the whole job; the readers stop at
     * its cancel and deadline. */
    struct rc_raster_budget budget = {
        .cancel = &run->job->cancel, .deadline_ms = run->deadline_ms, .readers = pool->readers};
    struct rc_raster_request req;
    rc_plan_raster_request(run->job, rc_render_max_texture_size(run->w->render), &req);
    enum rc_err rc = rc_raster_load(run->cfg, pool->cache, &req, &budget, &run->values, err);
    if (rc == RC_OK) {
        note_bounds(run->job, run->values);
    }
    rc = rc ? rc
            : rc_plan_make(spec, run->cfg, run->values, rc_workers_gpu_convert(pool, run->cfg),
                           rc_gpu_info(pool->gpu)->hardware, &run->plan, err);
    if (rc == RC_OK && spec->answer != RC_ANSWER_CLIP) {
        rc = beside_file(run, &budget, err);
    } else if (rc == RC_OK && rc_plan_height_request(run->job, &req)) {
        rc = rc_raster_load_height(run->cfg, pool->cache, &req, run->values, &budget, &run->heights,
                                   err);
    }
    if (rc == RC_OK && !run->beside) {
        rc_plan_set_heights(&run->plan, run->heights);
        atomic_store(&run->job->progress->frames_total, run->plan.timeline.frames);
        rc = look_up_clip(run, err);
    }
    if (rc == RC_OK && !run->hit && !run->beside) {
        rc = rc_job_layers_load(run->cfg, run->job, run->values, &budget, &run->layers, err);
        run->plan.render.vectors = run->layers.drawn;
        run->plan.render.vector_count = run->layers.count;
        if (rc == RC_OK && spec->mode != RC_MODE_SURFACE) {
            rc_job_layers_label(&run->layers, spec, run->values, run->plan.render.extent,
                                &run->plan.overlay);
            run->plan.has_overlay = rc_overlay_wanted(&run->plan.overlay);
        }
    }
    rc_job_drop_uploads(run->job); /* decoded (or refused): the bytes are not needed again */
    run->load_ms = rc_clock_ms() - start;
    if (run->hit || run->beside) {
        rc_plan_release(&run->plan);
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
        rc_plan_palette(&run->plan, run->overlay);
    }
    if (rc == RC_OK) {
        run->plan.render.overlay = run->overlay;
        run->plan.render.meshes = run->w->pool->meshes;
        run->began = true;
        rc = rc_render_begin(run->w->render, &run->plan.render, err);
        rc_render_mesh(run->w->render, &run->mesh);
    }
    /* The rasters, the overlay and the plan's colours now live in GL objects. */
    rc_plan_release(&run->plan);
    rc_raster_unref(run->heights);
    run->heights = NULL;
    rc_overlay_destroy(run->overlay);
    run->overlay = NULL;
    rc_job_layers_release(&run->layers);
    run->plan.render.vectors = NULL;
    run->plan.render.vector_count = 0;
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

static const char *const cut_names[] = {"none", "deadline", "slow_reader"};

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
        run->baked = rc_render_baked_frames(run->w->render);
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
           "format=%s mesh=%ux%u triangles=%zu ms_mesh=%.1f mesh_kept=%d baked=%zu cached=%d "
           "seekable=%d cut=%s",
           job->id, outcome, job->spec.width, job->spec.height, run->plan.timeline.frames, encoded,
           run->load_ms, run->draw_ms, run->readback_ms, run->convert_ms, encode_ms, mux_ms,
           (unsigned long long)bytes, convert_name(run), rc_format_name(job->spec.format),
           run->mesh.cols, run->mesh.rows, run->mesh.triangles, run->mesh.ms, run->mesh.kept,
           run->baked, run->hit, run->plan.output.seekable, cut_names[rc_bytequeue_cut(job->out)]);
    rc_session_destroy(run->session);
    run->session = NULL;
#if defined(__GLIBC__) && !defined(RC_SANITIZED)
    /* A job frees tens of megabytes (frames, encoder, decoded bands), much of it in
     * the encode thread's arena; hand it back so an idle daemon's RSS is what it
     * holds, not the high-water mark of the largest job it ever ran. Not under a
     * sanitizer: its allocator owns the heap, and glibc's trim there only walks
     * arenas the sanitizer does not use (once seen to trip glibc's arena count
     * at a thread's exit). */
    malloc_trim(0);
#endif
    /* Last: once the client has its final byte, this worker is already free. */
    atomic_fetch_sub(&pool->admitted, 1);
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

void rc_worker_run_job(struct worker *w, struct rc_job *job)
{
    struct run run = {.w = w, .job = job, .cfg = rc_config_current(w->pool->cfgs)};
    struct rc_error err = {0};
    double deadline = rc_clock_ms() + (double)run.cfg->max_job_seconds * 1e3;
    run.deadline_ms = deadline;
    atomic_store(&job->progress->started_us, (uint_fast64_t)(rc_clock_ms() * 1e3));
    atomic_store(&job->progress->phase, RC_PHASE_RUNNING);
    rc_log(RC_LOG_INFO, "job=%s msg=\"job started\" format=%s seekable=%d", job->id,
           rc_format_name(job->spec.format), job->spec.seekable);
    enum rc_err rc = prepare(&run, &err);
    job->frames = run.plan.timeline.frames;
    if (rc != RC_OK || run.hit || run.beside) {
        end_job(&run, rc, &err);
        return;
    }
    /* Waiting on the client counts against the job's time, and a client that reads
     * too slowly is cut off, so neither can hold a worker. */
    rc_bytequeue_set_limits(job->out, deadline, (double)run.cfg->min_read_kb_per_s * 1024);
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
    if (rc_bytequeue_cut(job->out) == RC_BQ_CUT_DEADLINE) {
        rc = rc_error_set(&err, RC_ERR_IMPOSSIBLE, "output.frames",
                          "the job ran past max_job_seconds waiting on its client");
    }
    end_job(&run, rc, &err);
}
