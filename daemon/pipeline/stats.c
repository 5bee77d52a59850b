/* What the pipeline reports to /metrics (base/metrics.h): the rows of the pool's
 * and the clip cache's tables, each read from the stats struct its owner fills
 * (rc_workers_stats, rc_clipcache_stats). */
#include <stddef.h>

#include "base/metrics.h"
#include "pipeline/clipcache.h"
#include "pipeline/pool.h"

#define POOL(field) offsetof(struct rc_workers_stats, field)
const struct rc_metric_field rc_workers_metrics[] = {
    {"rasterclip_queue_depth", "gauge", "Jobs waiting for a worker.", "", POOL(queued)},
    {"rasterclip_workers", "gauge", "Render workers (each with a GL context).", "", POOL(workers)},
    {"rasterclip_workers_busy", "gauge", "Workers rendering a job now.", "", POOL(busy)},
    {"rasterclip_frames_total", "counter", "Frames rendered and encoded.", "", POOL(frames)},
    {"rasterclip_bytes_total", "counter", "Clip bytes produced by the encoders.", "", POOL(bytes)},
    {"rasterclip_frames_converted_total", "counter",
     "Frames converted from RGBA to the encoder's format, on the GPU or the CPU.", "where=\"gpu\"",
     POOL(converted_gpu)},
    {"rasterclip_frames_converted_total", "counter", "", "where=\"cpu\"", POOL(converted_cpu)},
    {"rasterclip_jobs_total", "counter",
     "Render jobs by outcome: ok, failed, cancelled, or refused before they ran "
     "(rejected_busy: no worker or queue place; rejected_uploads: max_uploads_mb full).",
     "outcome=\"ok\"", POOL(jobs_ok)},
    {"rasterclip_jobs_total", "counter", "", "outcome=\"failed\"", POOL(jobs_failed)},
    {"rasterclip_jobs_total", "counter", "", "outcome=\"cancelled\"", POOL(jobs_cancelled)},
};
const size_t rc_workers_metric_count = sizeof(rc_workers_metrics) / sizeof(rc_workers_metrics[0]);

#define CLIP(field) offsetof(struct rc_clipcache_stats, field)
const struct rc_metric_field rc_clipcache_metrics[] = {
    {"rasterclip_clip_cache_corrupt_total", "counter",
     "Entries found damaged (size, content, not a regular file) when about to be served, and "
     "removed.",
     "", CLIP(corrupt)},
    {"rasterclip_clip_cache_hits_total", "counter", "Jobs answered from the clip cache.", "",
     CLIP(hits)},
    {"rasterclip_clip_cache_misses_total", "counter", "Jobs the clip cache did not hold.", "",
     CLIP(misses)},
    {"rasterclip_clip_cache_stores_total", "counter", "Finished clips stored in the clip cache.",
     "", CLIP(stores)},
    {"rasterclip_clip_cache_evictions_total", "counter",
     "Clips removed to keep the clip cache within its budget.", "", CLIP(evictions)},
    {"rasterclip_clip_cache_bytes", "gauge", "Bytes of clips on disk.", "", CLIP(bytes)},
    {"rasterclip_clip_cache_entries", "gauge", "Clips on disk.", "", CLIP(entries)},
    {"rasterclip_clip_cache_budget_bytes", "gauge", "The clip cache's budget (clip_cache_mb).", "",
     CLIP(budget_bytes)},
};
const size_t rc_clipcache_metric_count =
    sizeof(rc_clipcache_metrics) / sizeof(rc_clipcache_metrics[0]);
