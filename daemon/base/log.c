#include "base/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

/* Set at start-up and on reload; read by every thread. */
static _Atomic int threshold = RC_LOG_INFO;

void rc_log_set_level(enum rc_log_level level)
{
    atomic_store(&threshold, (int)level);
}

/* Set once before threads start (rc_log_set_tag). */
static char tag[48];

void rc_log_set_tag(const char *text)
{
    snprintf(tag, sizeof(tag), "%s ", text);
}

int rc_log_enabled(enum rc_log_level level)
{
    return (int)level <= atomic_load(&threshold);
}

void rc_log(enum rc_log_level level, const char *fmt, ...)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    if (!rc_log_enabled(level)) {
        return;
    }
    char line[2048];
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct tm tm;
    gmtime_r(&now.tv_sec, &tm);
    int n = snprintf(line, sizeof(line), "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s %s",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     now.tv_nsec / 1000000L, names[level], tag);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof(line) - 2) {
        len = sizeof(line) - 2;
    }
    line[len++] = '\n';
    /* A lost log line is not worth failing a job over. */
    ssize_t written = write(STDERR_FILENO, line, len);
    (void)written;
}
