/*
 * workers_internal: what the pool (pipeline/pool.c) and the job runner
 * (pipeline/worker.c) share. Not for use outside pipeline/.
 */
#ifndef RC_WORKERS_INTERNAL_H
#define RC_WORKERS_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "base/metrics.h"
#include "base/queue.h"
#include "job/job.h"
#include "pipeline/pool.h"
#include "raster/sandbox.h"

enum { STAGE_COUNT = RC_STAGE_COUNT };

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
    struct rc_cache *meshes;    /* owned: refined meshes' error trees (render/meshes.h) */
    struct rc_queue *jobs;
    size_t queue; /* jobs that may wait for a worker (the --queue option) */
    struct worker *workers;
    size_t count;
    unsigned max_texture; /* the workers' GL limit, for raster requests */
    char gl_renderer[256];
    char gl_version[256];
    struct rc_sandbox_report sandbox; /* what confines the raster readers */
    struct rc_readers *readers;       /* owned: one started ahead for each worker */
    /* start-up handshake, under `lock` */
    pthread_mutex_t lock;
    pthread_cond_t changed;
    size_t ready;
    size_t failed;
    /* counters */
    struct rc_histogram stages[STAGE_COUNT]; /* seconds per job in each stage */
    atomic_size_t busy;
    /* Jobs taken and not yet ended (waiting or running): at most the ready workers
     * plus the configured queue, so jobs arriving together while workers are idle
     * are all taken, not refused while the first waits to be picked up. */
    atomic_size_t admitted;
    atomic_uint_fast64_t jobs_ok, jobs_failed, jobs_cancelled, frames, bytes;
    atomic_uint_fast64_t converted_gpu, converted_cpu; /* frames, by where RGBA became I420 */
};

/* Runs one job on worker `w` from its raster load to its end, and drops the
 * pool's busy count once the client has its last byte. */
void rc_worker_run_job(struct worker *w, struct rc_job *job);

#endif
