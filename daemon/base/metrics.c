#include "base/metrics.h"

#include <stdarg.h>
#include <stdio.h>

void rc_histogram_init(struct rc_histogram *h, const double *bounds, size_t bucket_count)
{
    h->bounds = bounds;
    h->bucket_count =
        bucket_count < RC_HISTOGRAM_MAX_BUCKETS ? bucket_count : RC_HISTOGRAM_MAX_BUCKETS;
    for (size_t i = 0; i < RC_HISTOGRAM_MAX_BUCKETS; i++) {
        atomic_init(&h->buckets[i], 0);
    }
    atomic_init(&h->count, 0);
    atomic_init(&h->sum_us, 0);
}

void rc_histogram_observe(struct rc_histogram *h, double seconds)
{
    if (!(seconds >= 0)) {
        seconds = 0;
    }
    atomic_fetch_add(&h->count, 1);
    atomic_fetch_add(&h->sum_us, (uint_fast64_t)(seconds * 1e6));
    for (size_t i = 0; i < h->bucket_count; i++) {
        if (seconds <= h->bounds[i]) {
            atomic_fetch_add(&h->buckets[i], 1);
        }
    }
}

void rc_metrics_printf(struct rc_buf *out, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n > 0) {
        rc_buf_append(out, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
    }
}

void rc_histogram_write(struct rc_histogram *h, const char *name, const char *labels,
                        struct rc_buf *out)
{
    const char *sep = labels[0] ? "," : "";
    for (size_t i = 0; i < h->bucket_count; i++) {
        rc_metrics_printf(out, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, labels, sep, h->bounds[i],
                          (unsigned long long)atomic_load(&h->buckets[i]));
    }
    unsigned long long count = atomic_load(&h->count);
    rc_metrics_printf(out, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, labels, sep, count);
    rc_metrics_printf(out, "%s_sum%s%s%s %.6f\n", name, labels[0] ? "{" : "", labels,
                      labels[0] ? "}" : "", (double)atomic_load(&h->sum_us) / 1e6);
    rc_metrics_printf(out, "%s_count%s%s%s %llu\n", name, labels[0] ? "{" : "", labels,
                      labels[0] ? "}" : "", count);
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
/* From the sanitizer runtime (sanitizer/allocator_interface.h, which GCC does not
 * install). */
size_t __sanitizer_get_current_allocated_bytes(void);
#elif defined(__GLIBC__)
#include <malloc.h>
#endif

size_t rc_heap_bytes(void)
{
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    return __sanitizer_get_current_allocated_bytes();
#elif defined(__GLIBC__)
    struct mallinfo2 info = mallinfo2();
    return info.uordblks + info.hblkhd;
#else
    return 0;
#endif
}
