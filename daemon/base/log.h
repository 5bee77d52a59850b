/*
 * log: one-line records on stderr: logfmt (`key=value key="quoted"`), or the
 * same fields as one JSON object a line; with a syslog priority prefix (`<6>`)
 * when stderr is the systemd journal.
 *
 * Thread-safe: each record is formatted into a local buffer and written with one
 * write(2), so lines from different threads never interleave. The level threshold
 * is set at start-up and may change on a config reload.
 */
#ifndef RC_LOG_H
#define RC_LOG_H

#include <stdbool.h>

enum rc_log_level {
    RC_LOG_ERROR = 0,
    RC_LOG_WARN,
    RC_LOG_INFO,
    RC_LOG_DEBUG,
};

void rc_log_set_level(enum rc_log_level level);
/* JSON lines instead of logfmt (--log-format json); at start-up and on reload. */
void rc_log_set_json(bool json);
/* Prefixes records with syslog priorities when stderr is the journal
 * (JOURNAL_STREAM names it); once, before other threads start. */
bool rc_log_detect_journal(void);
/* A `key=value` put on every later record of this process (the reader's
 * `reader=PID`); once, before any other thread starts. */
void rc_log_set_tag(const char *tag);
int rc_log_enabled(enum rc_log_level level);
void rc_log(enum rc_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
