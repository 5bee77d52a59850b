#include "http/internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/clipcache.h"
#include "pipeline/pool.h"

/* Every family opens with its HELP and TYPE lines (promtool checks them). */
static void family(struct rc_buf *out, const char *name, const char *type, const char *help)
{
    rc_metrics_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A family of one unlabelled sample. */
static void single(struct rc_buf *out, const char *name, const char *type, const char *help,
                   uint64_t value)
{
    family(out, name, type, help);
    rc_metrics_printf(out, "%s %" PRIu64 "\n", name, value);
}

/* A label value in the exposition format: backslash, quote and newline escaped. */
static void label_value(const char *in, char *out, size_t size)
{
    size_t at = 0;
    for (; *in && at + 3 < size; in++) {
        if (*in == '\\' || *in == '"') {
            out[at++] = '\\';
            out[at++] = *in;
        } else if (*in == '\n') {
            out[at++] = '\\';
            out[at++] = 'n';
        } else {
            out[at++] = *in;
        }
    }
    out[at] = '\0';
}

static void write_build_info(struct rc_http *http, struct rc_buf *out)
{
    struct rc_workers_info wi;
    rc_workers_info(http->workers, rc_http_config(http), &wi);
    char gdal[64], vpx[64], h264[64], renderer[256];
    label_value(wi.gdal, gdal, sizeof(gdal));
    label_value(wi.libvpx, vpx, sizeof(vpx));
    label_value(wi.openh264, h264, sizeof(h264));
    label_value(wi.gl_renderer, renderer, sizeof(renderer));
    family(out, "rasterclip_build_info", "gauge",
           "Always 1: the daemon's version, its libraries' and the GL renderer its workers use.");
    rc_metrics_printf(out,
                      "rasterclip_build_info{version=\"%s\",gdal=\"%s\",libvpx=\"%s\","
                      "openh264=\"%s\",renderer=\"%s\"} 1\n",
                      RC_VERSION, gdal, vpx, h264, renderer);
}

static void write_jobs(struct rc_http *http, const struct rc_workers_stats *st, struct rc_buf *out)
{
    family(out, "rasterclip_jobs_total", "counter",
           "Render jobs by outcome: ok, failed, cancelled, or refused before they ran "
           "(rejected_busy: no worker or queue place; rejected_uploads: max_uploads_mb full).");
    const struct {
        const char *outcome;
        uint64_t n;
    } outcomes[] = {
        {"ok", st->jobs_ok},
        {"failed", st->jobs_failed},
        {"cancelled", st->jobs_cancelled},
        {"rejected_busy", atomic_load(&http->rejected_busy)},
        {"rejected_uploads", atomic_load(&http->rejected_uploads)},
    };
    for (size_t i = 0; i < sizeof(outcomes) / sizeof(outcomes[0]); i++) {
        rc_metrics_printf(out, "rasterclip_jobs_total{outcome=\"%s\"} %" PRIu64 "\n",
                          outcomes[i].outcome, outcomes[i].n);
    }
    single(out, "rasterclip_upload_bytes_reserved", "gauge",
           "Bytes of max_uploads_mb held by request bodies being read or waiting.",
           atomic_load(&http->uploads_bytes));
    single(out, "rasterclip_queue_depth", "gauge", "Jobs waiting for a worker.", st->queued);
    single(out, "rasterclip_workers", "gauge", "Render workers (each with a GL context).",
           st->workers);
    single(out, "rasterclip_workers_busy", "gauge", "Workers rendering a job now.", st->busy);
    single(out, "rasterclip_frames_total", "counter", "Frames rendered and encoded.", st->frames);
    single(out, "rasterclip_bytes_total", "counter", "Clip bytes produced by the encoders.",
           st->bytes);
    family(out, "rasterclip_frames_converted_total", "counter",
           "Frames converted from RGBA to the encoder's format, on the GPU or the CPU.");
    rc_metrics_printf(out, "rasterclip_frames_converted_total{where=\"gpu\"} %" PRIu64 "\n",
                      (uint64_t)st->converted_gpu);
    rc_metrics_printf(out, "rasterclip_frames_converted_total{where=\"cpu\"} %" PRIu64 "\n",
                      (uint64_t)st->converted_cpu);
}

static void write_connections(struct rc_http *http, struct rc_buf *out)
{
    struct rc_guard_counts gc;
    rc_guard_counts(http->guard, &gc);
    family(out, "rasterclip_http_errors_total", "counter",
           "Error answers by class, the connection guard's raw 408 and 414 included.");
    rc_metrics_printf(out, "rasterclip_http_errors_total{class=\"4xx\"} %" PRIu64 "\n",
                      (uint64_t)atomic_load(&http->errors_4xx) + gc.header_timeouts +
                          gc.body_timeouts + gc.uri_refused);
    rc_metrics_printf(out, "rasterclip_http_errors_total{class=\"5xx\"} %" PRIu64 "\n",
                      (uint64_t)atomic_load(&http->errors_5xx));
    rc_http_write_request_metrics(http, out);
    family(out, "rasterclip_connections_cut_total", "counter",
           "Connections the guard closed, by reason.");
    const struct {
        const char *reason;
        uint64_t n;
    } cuts[] = {
        {"header_timeout", gc.header_timeouts},
        {"body_timeout", gc.body_timeouts},
        {"uri_too_long", gc.uri_refused},
        {"idle", gc.idle_closed},
        {"evicted", gc.evicted},
    };
    for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
        rc_metrics_printf(out, "rasterclip_connections_cut_total{reason=\"%s\"} %" PRIu64 "\n",
                          cuts[i].reason, cuts[i].n);
    }
    single(out, "rasterclip_connections_open", "gauge", "Client connections open now.", gc.open);
    single(out, "rasterclip_connection_table_size", "gauge",
           "Connections the server may hold at once (from the descriptor limit).", gc.capacity);
}

static void write_caches(struct rc_http *http, struct rc_buf *out)
{
    if (http->clips) {
        struct rc_clipcache_stats cs;
        rc_clipcache_stats(http->clips, &cs);
        single(out, "rasterclip_clip_cache_corrupt_total", "counter",
               "Entries found damaged (size, content, not a regular file) when about to be "
               "served, and removed.",
               cs.corrupt);
        single(out, "rasterclip_clip_cache_hits_total", "counter",
               "Jobs answered from the clip cache.", cs.hits);
        single(out, "rasterclip_clip_cache_misses_total", "counter",
               "Jobs the clip cache did not hold.", cs.misses);
        single(out, "rasterclip_clip_cache_stores_total", "counter",
               "Finished clips stored in the clip cache.", cs.stores);
        single(out, "rasterclip_clip_cache_evictions_total", "counter",
               "Clips removed to keep the clip cache within its budget.", cs.evictions);
        single(out, "rasterclip_clip_cache_bytes", "gauge", "Bytes of clips on disk.", cs.bytes);
        single(out, "rasterclip_clip_cache_entries", "gauge", "Clips on disk.", cs.entries);
        single(out, "rasterclip_clip_cache_budget_bytes", "gauge",
               "The clip cache's budget (clip_cache_mb).", cs.budget_bytes);
    }
    if (http->cache) {
        struct rc_cache_stats cs;
        rc_cache_stats(http->cache, &cs);
        single(out, "rasterclip_cache_hits_total", "counter",
               "Raster reads answered from decoded rasters kept in memory.", cs.hits);
        single(out, "rasterclip_cache_misses_total", "counter",
               "Raster reads that decoded the file.", cs.misses);
        single(out, "rasterclip_cache_evictions_total", "counter",
               "Decoded rasters dropped to keep within cache_mb.", cs.evictions);
        single(out, "rasterclip_cache_bytes", "gauge", "Bytes of decoded rasters kept.", cs.bytes);
        single(out, "rasterclip_cache_entries", "gauge", "Decoded rasters kept.", cs.entries);
    }
}

enum MHD_Result rc_http_handle_metrics(struct rc_http *http, struct MHD_Connection *conn)
{
    struct rc_workers_stats st;
    rc_workers_stats(http->workers, &st);
    struct rc_buf out;
    rc_buf_init(&out);
    write_build_info(http, &out);
    write_jobs(http, &st, &out);
    write_connections(http, &out);
    single(&out, "rasterclip_heap_bytes", "gauge",
           "Bytes allocated and not freed (a leak shows here; allocator caching does not).",
           rc_heap_bytes());
    write_caches(http, &out);
    family(&out, "rasterclip_ttfb_seconds", "histogram",
           "Time from a render request to its first body byte.");
    rc_histogram_write(&http->ttfb, "rasterclip_ttfb_seconds", "", &out);
    family(&out, "rasterclip_send_seconds", "histogram",
           "Time from a streamed clip's first body byte to its last.");
    rc_histogram_write(&http->send, "rasterclip_send_seconds", "", &out);
    rc_workers_write_metrics(http->workers, &out);
    rc_metrics_write_process(&out);
    char *text = out.error ? NULL : malloc(out.len + 1);
    if (!text) {
        rc_buf_finish(&out);
        return rc_http_send_error_code(http, conn, RC_ERR_INTERNAL, "",
                                       "the metrics could not be written");
    }
    memcpy(text, out.data, out.len);
    text[out.len] = '\0';
    rc_buf_finish(&out);
    return rc_http_send_text(http, conn, MHD_HTTP_OK, text, "text/plain; version=0.0.4", NULL);
}
