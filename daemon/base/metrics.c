#include "base/metrics.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

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
    va_list ap;
    va_start(ap, fmt);
    rc_buf_vprintf(out, fmt, ap);
    va_end(ap);
}

void rc_metrics_write_fields(struct rc_buf *out, const struct rc_metric_field *fields, size_t count,
                             const void *stats, const char **open)
{
    for (size_t i = 0; i < count; i++) {
        const struct rc_metric_field *f = &fields[i];
        if (!*open || strcmp(*open, f->name) != 0) {
            rc_metrics_printf(out, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name,
                              f->type);
            *open = f->name;
        }
        uint64_t value;
        memcpy(&value, (const uint8_t *)stats + f->offset, sizeof(value));
        rc_metrics_printf(out, "%s%s%s%s %llu\n", f->name, f->labels[0] ? "{" : "", f->labels,
                          f->labels[0] ? "}" : "", (unsigned long long)value);
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

/* The start time in seconds since the epoch: boot time (/proc/stat's btime)
 * plus the process's start in clock ticks after boot (/proc/self/stat, field 22). */
static double start_time_seconds(void)
{
    double btime = 0;
    char line[256];
    FILE *f = fopen("/proc/stat", "r");
    while (f && fgets(line, sizeof(line), f)) {
        if (strncmp(line, "btime ", 6) == 0) {
            btime = strtod(line + 6, NULL);
            break;
        }
    }
    if (f) {
        fclose(f);
    }
    char stat[1024] = "";
    f = fopen("/proc/self/stat", "r");
    size_t n = f ? fread(stat, 1, sizeof(stat) - 1, f) : 0;
    if (f) {
        fclose(f);
    }
    stat[n] = '\0';
    /* Fields after the command name, which may hold spaces and parentheses. */
    const char *p = strrchr(stat, ')');
    unsigned long long start = 0;
    for (int field = 2; p && *p && field < 22; p++) {
        field += *p == ' ';
        char *end = NULL;
        if (field == 22) {
            start = strtoull(p + 1, &end, 10);
            start = end != p + 1 ? start : 0;
        }
    }
    long ticks = sysconf(_SC_CLK_TCK);
    return btime + (ticks > 0 ? (double)start / (double)ticks : 0);
}

static unsigned long open_fds(void)
{
    unsigned long count = 0;
    DIR *d = opendir("/proc/self/fd");
    for (struct dirent *e; d && (e = readdir(d));) {
        count += e->d_name[0] != '.';
    }
    if (d) {
        closedir(d);
        count--; /* the directory's own descriptor */
    }
    return count;
}

void rc_metrics_write_process(struct rc_buf *out)
{
    struct rusage ru;
    double cpu = 0;
    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
              (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    }
    unsigned long long pages_vm = 0, pages_rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f || fscanf(f, "%llu %llu", &pages_vm, &pages_rss) != 2) {
        pages_vm = pages_rss = 0;
    }
    if (f) {
        fclose(f);
    }
    unsigned long long page = (unsigned long long)sysconf(_SC_PAGESIZE);
    struct rlimit lim = {0};
    getrlimit(RLIMIT_NOFILE, &lim);
    const struct {
        const char *name, *type, *help;
        double value;
    } families[] = {
        {"process_cpu_seconds_total", "counter", "User and system CPU time spent in seconds.", cpu},
        {"process_resident_memory_bytes", "gauge", "Resident memory size in bytes.",
         (double)(pages_rss * page)},
        {"process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.",
         (double)(pages_vm * page)},
        {"process_open_fds", "gauge", "Open file descriptors.", (double)open_fds()},
        {"process_max_fds", "gauge", "The open file descriptor limit.", (double)lim.rlim_cur},
        {"process_start_time_seconds", "gauge",
         "Start time of the process since the epoch in seconds.", start_time_seconds()},
    };
    for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++) {
        rc_metrics_printf(out, "# HELP %s %s\n# TYPE %s %s\n%s %.15g\n", families[i].name,
                          families[i].help, families[i].name, families[i].type, families[i].name,
                          families[i].value);
    }
}
