/*
 * pool: the render workers and the queue of jobs waiting for them.
 *
 * Each worker thread creates its own GL context (render/render.h) at start-up and
 * keeps it for life. It takes jobs in arrival order and owns each from raster load
 * to last frame: load, plan (pipeline/plan.h), draw, asynchronous readback and the
 * conversion to I420 (in the shader or from the mapped readback). Per job a session
 * (pipeline/session.h) runs the encode thread — encode, mux into the job's byte
 * queue — fed through a bounded pool of I420 frames, so drawing frame n+1 overlaps
 * encoding frame n. Every job ends in one place, which counts it ok, failed or
 * cancelled, logs it and releases what it held.
 *
 * The main thread creates and destroys the pool; HTTP threads call
 * rc_workers_submit() and the read-only accessors. pool.c holds the threads and
 * the queue, worker.c one job's run from load to last frame (and the clip cache's
 * early answer), info.c what the pool runs on.
 */
#ifndef RC_POOL_H
#define RC_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/cache.h"
#include "base/config.h"
#include "base/error.h"
#include "base/metrics.h"
#include "job/job.h"

struct rc_gpu;

struct rc_workers;

struct rc_workers_stats {
    uint64_t workers;
    uint64_t busy;
    uint64_t queued;
    uint64_t jobs_ok;
    uint64_t jobs_failed;
    uint64_t jobs_cancelled;
    uint64_t frames;
    uint64_t bytes;
    uint64_t converted_gpu; /* frames turned into I420 by the conversion shader */
    uint64_t converted_cpu; /* ... by the CPU loop on the draw thread */
};

/* Starts `workers` threads (from the config in force) and waits until each has a
 * GL context. `cfgs` and `cache` (may be NULL) must outlive the pool. */
struct rc_clipcache;
/* `clips` (may be NULL): the clip cache, answered from before rendering and
 * filled by jobs that complete. */
enum rc_err rc_workers_create(struct rc_config_source *cfgs, struct rc_gpu *gpu,
                              struct rc_cache *cache, struct rc_clipcache *clips,
                              struct rc_workers **out, struct rc_error *err);
/* Lets queued and running jobs finish and joins every thread; new jobs are
 * refused as busy. The pool stays readable (stats) until destroyed. */
void rc_workers_drain(struct rc_workers *workers);
/* Ends what is left at a drain's deadline: queued jobs fail as draining (503),
 * running ones are cancelled at their next frame. */
void rc_workers_cancel_all(struct rc_workers *workers);
/* Drains if needed, then frees. Nothing may use the pool afterwards. */
void rc_workers_destroy(struct rc_workers *workers);

/* A place for one job among the ready workers plus the queue, taken before the
 * job's body is read (false: none, the answer is 429 at once). A reservation is
 * used by rc_workers_submit() or given back with rc_workers_release(). */
bool rc_workers_reserve(struct rc_workers *workers);
void rc_workers_release(struct rc_workers *workers);

/* Queues `job` (taking a new reference) in the place `reserved` holds, or in a new
 * one, or fails with RC_ERR_BUSY when there is none (a reservation is given back).
 * job->on_ready must be set: the worker calls it once the job either streams or
 * has failed. */
enum rc_err rc_workers_submit(struct rc_workers *workers, struct rc_job *job, bool reserved,
                              struct rc_error *err);

/* Any thread, before submitting: answers a job from the clip cache when its
 * rasters' identities are known without a worker (a local file, an upload of up to
 * 16 MiB; no separate heights raster) and its clip is there. True: the job is
 * RC_JOB_FINISHED with its file (counted and logged as an ok job); false: submit
 * it. */
bool rc_workers_cached_clip(struct rc_workers *workers, struct rc_job *job);

void rc_workers_stats(struct rc_workers *workers, struct rc_workers_stats *out);
/* The pool's metrics (base/metrics.h), read from its stats; the jobs_total
 * family is last, so the server may add the jobs it refused before they ran. */
extern const struct rc_metric_field rc_workers_metrics[];
extern const size_t rc_workers_metric_count;
/* Whether jobs convert to I420 in a shader under `cfg` (--convert; "auto" picks the
 * shader on hardware GPUs only). Sizes the shader cannot pack still use the CPU. */
bool rc_workers_gpu_convert(const struct rc_workers *workers, const struct rc_config *cfg);
/* Appends the per-stage time histograms (load, render, readback, convert, encode,
 * mux; seconds per job) in Prometheus text format. */
void rc_workers_write_metrics(struct rc_workers *workers, struct rc_buf *out);

/* What the pool runs on: the libraries, the renderer, and what confines the
 * raster readers (as found at start-up). Strings live as long as the pool. */
struct rc_workers_info {
    const char *gdal, *libvpx, *openh264, *giflib;
    const char *egl_platform, *egl_device;
    bool hardware;
    size_t egl_displays;
    const char *gl_renderer, *gl_version;
    bool gpu_convert; /* under the config given */
    uint64_t gdal_cache_bytes;
    bool sandbox_complete, landlock, landlock_net, seccomp, no_new_privs, network_namespace,
        rlimits;
    int landlock_abi;
    uint64_t address_space_mb;
};
void rc_workers_info(const struct rc_workers *workers, const struct rc_config *cfg,
                     struct rc_workers_info *out);

#endif
