/*
 * metrics: Prometheus-style histograms, lock-free (atomic counters), written in the
 * text exposition format. Any thread may observe; the owner inits and writes.
 */
#ifndef RC_METRICS_H
#define RC_METRICS_H

#include <stdatomic.h>
#include <stddef.h>

#include "base/buf.h"

#define RC_HISTOGRAM_MAX_BUCKETS 16

struct rc_histogram {
    const double *bounds; /* upper bounds in seconds, ascending */
    size_t bucket_count;
    atomic_uint_fast64_t buckets[RC_HISTOGRAM_MAX_BUCKETS]; /* cumulative counts */
    atomic_uint_fast64_t count;
    atomic_uint_fast64_t sum_us;
};

void rc_histogram_init(struct rc_histogram *h, const double *bounds, size_t bucket_count);
void rc_histogram_observe(struct rc_histogram *h, double seconds);
/* Appends `name_bucket{labels,le=...}`, `_sum` and `_count` lines; `labels` is
 * either "" or `key="value"` pairs without braces. */
void rc_histogram_write(struct rc_histogram *h, const char *name, const char *labels,
                        struct rc_buf *out);
/* A stage's counters and gauges as a table: each row a sample read from a
 * uint64_t of the stage's stats struct; rows of one family are consecutive, the
 * first carrying its help. One writer prints them all (rc_metrics_write_fields). */
struct rc_metric_field {
    const char *name;   /* the family */
    const char *type;   /* "counter" or "gauge" */
    const char *help;   /* read from the family's first row */
    const char *labels; /* `key="value"` pairs, or "" */
    size_t offset;      /* of the uint64_t in the stats struct */
};

/* Appends the `count` rows of `fields` read from `stats`, with each family's
 * HELP and TYPE before its first row; `*open` is the family whose header was
 * last written (NULL at first), so a family may continue from a table before. */
void rc_metrics_write_fields(struct rc_buf *out, const struct rc_metric_field *fields, size_t count,
                             const void *stats, const char **open);

/* printf into a buffer (metrics text; base/buf.h's rc_buf_printf). */
void rc_metrics_printf(struct rc_buf *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The process_* families Prometheus client libraries write: CPU seconds,
 * resident and virtual memory, open and most descriptors, start time. */
void rc_metrics_write_process(struct rc_buf *out);

/* Bytes the process has allocated and not freed (the sanitizer's count under
 * ASan/TSan, glibc's mallinfo2 otherwise): a leak shows here, allocator caching
 * does not. */
size_t rc_heap_bytes(void);

#endif
