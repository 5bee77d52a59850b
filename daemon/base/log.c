#include "base/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Set at start-up and on reload; read by every thread. */
static _Atomic int threshold = RC_LOG_INFO;
static atomic_bool as_json;

/* Set once before threads start (rc_log_set_tag, rc_log_detect_journal). */
static char tag[48];
static bool journal;

void rc_log_set_level(enum rc_log_level level)
{
    atomic_store(&threshold, (int)level);
}

void rc_log_set_json(bool json)
{
    atomic_store(&as_json, json);
}

void rc_log_set_tag(const char *text)
{
    snprintf(tag, sizeof(tag), "%s ", text);
}

bool rc_log_detect_journal(void)
{
    /* systemd sets JOURNAL_STREAM to the device and inode of the stream it
     * connected; stderr is the journal only while it is still that stream. */
    const char *stream = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;
    journal = stream && sscanf(stream, "%llu:%llu", &dev, &ino) == 2 &&
              fstat(STDERR_FILENO, &st) == 0 && (unsigned long long)st.st_dev == dev &&
              (unsigned long long)st.st_ino == ino;
    return journal;
}

int rc_log_enabled(enum rc_log_level level)
{
    return (int)level <= atomic_load(&threshold);
}

/* Appends `s` (`len` bytes) as the body of a JSON string. */
static size_t json_escape(char *out, size_t at, size_t size, const char *s, size_t len)
{
    for (size_t i = 0; i < len && at + 7 < size; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            out[at++] = '\\';
            out[at++] = (char)c;
        } else if (c < 0x20) {
            at += (size_t)snprintf(out + at, size - at, "\\u%04x", c);
        } else {
            out[at++] = (char)c;
        }
    }
    return at;
}

static bool is_number(const char *s, size_t len)
{
    if (len == 0 || len > 30) {
        return false;
    }
    char text[32], *end;
    memcpy(text, s, len);
    text[len] = '\0';
    strtod(text, &end);
    /* Plain decimals only: "inf", "nan" and hex stay strings. */
    return *end == '\0' && strspn(text, "0123456789.-+eE") == len;
}

/* One logfmt record (`key=value key="quoted \"value\""`) as one JSON object. */
static size_t to_json(const char *in, char *out, size_t size)
{
    size_t at = 0;
    out[at++] = '{';
    const char *p = in;
    bool first = true;
    while (*p && at + 16 < size) {
        while (*p == ' ') {
            p++;
        }
        const char *key = p;
        while (*p && *p != '=' && *p != ' ') {
            p++;
        }
        size_t key_len = (size_t)(p - key);
        if (key_len == 0 || *p != '=') {
            if (*p) {
                p++;
            }
            continue;
        }
        p++;
        char value[1024];
        size_t value_len = 0;
        bool quoted = *p == '"';
        if (quoted) {
            for (p++; *p && *p != '"'; p++) {
                if (*p == '\\' && p[1]) {
                    p++;
                }
                if (value_len < sizeof(value)) {
                    value[value_len++] = *p;
                }
            }
            p += *p == '"';
        } else {
            while (*p && *p != ' ' && value_len < sizeof(value)) {
                value[value_len++] = *p++;
            }
        }
        at += (size_t)snprintf(out + at, size - at, "%s\"", first ? "" : ",");
        at = json_escape(out, at, size, key, key_len);
        at += (size_t)snprintf(out + at, size - at, "\":");
        if (!quoted && is_number(value, value_len)) {
            at += (size_t)snprintf(out + at, size - at, "%.*s", (int)value_len, value);
        } else {
            out[at++] = '"';
            at = json_escape(out, at, size, value, value_len);
            out[at++] = '"';
        }
        first = false;
    }
    if (at + 2 > size) {
        at = size - 2;
    }
    out[at++] = '}';
    return at;
}

void rc_log(enum rc_log_level level, const char *fmt, ...)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    /* syslog(3) priorities, for the journal's `<N>` prefix. */
    static const char priorities[] = {'3', '4', '6', '7'};
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
    line[len] = '\0';
    char record[4096 + 8];
    size_t at = 0;
    if (journal) {
        record[at++] = '<';
        record[at++] = priorities[level];
        record[at++] = '>';
    }
    if (atomic_load(&as_json)) {
        at += to_json(line, record + at, sizeof(record) - at - 1);
    } else {
        memcpy(record + at, line, len);
        at += len;
    }
    record[at++] = '\n';
    /* A lost log line is not worth failing a job over. */
    ssize_t written = write(STDERR_FILENO, record, at);
    (void)written;
}
