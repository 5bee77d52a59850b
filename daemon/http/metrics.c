#include "http/internal.h"

#include <inttypes.h>
#include <stddef.h>
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

/* The server's own counts, read into one struct for its table. */
struct http_stats {
    uint64_t rejected_busy, rejected_uploads, uploads_bytes;
    uint64_t errors_4xx, errors_5xx;
    uint64_t header_timeouts, body_timeouts, uri_refused, idle_closed, evicted;
    uint64_t open, capacity;
    uint64_t heap_bytes;
};

#define HTTP(field) offsetof(struct http_stats, field)
static const char cut_help[] = "Connections the guard closed, by reason.";
/* jobs_total goes on from the pool's table, which ends with it. */
static const struct rc_metric_field http_metrics[] = {
    {"rasterclip_jobs_total", "counter", "", "outcome=\"rejected_busy\"", HTTP(rejected_busy)},
    {"rasterclip_jobs_total", "counter", "", "outcome=\"rejected_uploads\"",
     HTTP(rejected_uploads)},
    {"rasterclip_upload_bytes_reserved", "gauge",
     "Bytes of max_uploads_mb held by request bodies being read or waiting.", "",
     HTTP(uploads_bytes)},
    {"rasterclip_http_errors_total", "counter",
     "Error answers by class, the connection guard's raw 408 and 414 included.", "class=\"4xx\"",
     HTTP(errors_4xx)},
    {"rasterclip_http_errors_total", "counter", "", "class=\"5xx\"", HTTP(errors_5xx)},
    {"rasterclip_connections_cut_total", "counter", cut_help, "reason=\"header_timeout\"",
     HTTP(header_timeouts)},
    {"rasterclip_connections_cut_total", "counter", "", "reason=\"body_timeout\"",
     HTTP(body_timeouts)},
    {"rasterclip_connections_cut_total", "counter", "", "reason=\"uri_too_long\"",
     HTTP(uri_refused)},
    {"rasterclip_connections_cut_total", "counter", "", "reason=\"idle\"", HTTP(idle_closed)},
    {"rasterclip_connections_cut_total", "counter", "", "reason=\"evicted\"", HTTP(evicted)},
    {"rasterclip_connections_open", "gauge", "Client connections open now.", "", HTTP(open)},
    {"rasterclip_connection_table_size", "gauge",
     "Connections the server may hold at once (from the descriptor limit).", "", HTTP(capacity)},
    {"rasterclip_heap_bytes", "gauge",
     "Bytes allocated and not freed (a leak shows here; allocator caching does not).", "",
     HTTP(heap_bytes)},
};

static void read_http_stats(struct rc_http *http, struct http_stats *out)
{
    struct rc_guard_counts gc;
    rc_guard_counts(http->guard, &gc);
    *out = (struct http_stats){
        .rejected_busy = atomic_load(&http->rejected_busy),
        .rejected_uploads = atomic_load(&http->rejected_uploads),
        .uploads_bytes = atomic_load(&http->uploads_bytes),
        .errors_4xx =
            atomic_load(&http->errors_4xx) + gc.header_timeouts + gc.body_timeouts + gc.uri_refused,
        .errors_5xx = atomic_load(&http->errors_5xx),
        .header_timeouts = gc.header_timeouts,
        .body_timeouts = gc.body_timeouts,
        .uri_refused = gc.uri_refused,
        .idle_closed = gc.idle_closed,
        .evicted = gc.evicted,
        .open = gc.open,
        .capacity = gc.capacity,
        .heap_bytes = rc_heap_bytes(),
    };
}

enum MHD_Result rc_http_handle_metrics(struct rc_http *http, struct MHD_Connection *conn)
{
    struct rc_workers_stats st;
    rc_workers_stats(http->workers, &st);
    struct http_stats hs;
    read_http_stats(http, &hs);
    struct rc_buf out;
    rc_buf_init(&out);
    write_build_info(http, &out);
    const char *open = NULL;
    rc_metrics_write_fields(&out, rc_workers_metrics, rc_workers_metric_count, &st, &open);
    rc_metrics_write_fields(&out, http_metrics, sizeof(http_metrics) / sizeof(http_metrics[0]), &hs,
                            &open);
    rc_http_write_request_metrics(http, &out);
    if (http->clips) {
        struct rc_clipcache_stats cs;
        rc_clipcache_stats(http->clips, &cs);
        rc_metrics_write_fields(&out, rc_clipcache_metrics, rc_clipcache_metric_count, &cs, &open);
    }
    if (http->cache) {
        struct rc_cache_stats cs;
        rc_cache_stats(http->cache, &cs);
        rc_metrics_write_fields(&out, rc_cache_metrics, rc_cache_metric_count, &cs, &open);
    }
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
