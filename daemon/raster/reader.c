#define _GNU_SOURCE /* memfd_create, F_GET_SEALS */
#include "raster/reader.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "raster/fetch.h"
#include "raster/raster.h"
#include "raster/wire.h"

extern char **environ;

/* A reader in flight: its process and the daemon's end of its socket. */
struct reader {
    pid_t pid;
    int sock;
};

/* The variables a reader keeps: the sanitizers' settings, where GDAL's and PROJ's
 * data live, the library path, and (test builds) fault injection. Nothing else of
 * the daemon's environment (tokens, credentials) reaches a raster's parser. */
static bool kept_variable(const char *entry)
{
    static const char *const prefixes[] = {"ASAN_OPTIONS=",
                                           "UBSAN_OPTIONS=",
                                           "TSAN_OPTIONS=",
                                           "LSAN_OPTIONS=",
                                           "GDAL_DATA=",
                                           "PROJ_DATA=",
                                           "PROJ_LIB=",
                                           "LD_LIBRARY_PATH=",
                                           "RASTERCLIP_FAULT_",
                                           "JOURNAL_STREAM=",
                                           NULL};
    for (size_t i = 0; prefixes[i]; i++) {
        if (strncmp(entry, prefixes[i], strlen(prefixes[i])) == 0) {
#ifndef RC_FAULT_INJECTION
            if (strncmp(prefixes[i], "RASTERCLIP_FAULT_", 17) == 0) {
                return false;
            }
#endif
            return true;
        }
    }
    return false;
}

static enum rc_err start(struct reader *r, struct rc_error *err)
{
    r->pid = -1;
    r->sock = -1;
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
        return rc_error_set(err, RC_ERR_INTERNAL, "", "cannot start a raster reader");
    }
    size_t count = 0;
    for (char **e = environ; *e; e++) {
        count++;
    }
    char **envp = calloc(count + 1, sizeof(*envp));
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
    int rc = envp ? 0 : ENOMEM;
    if (envp) {
        size_t n = 0;
        for (char **e = environ; *e; e++) {
            if (kept_variable(*e)) {
                envp[n++] = *e;
            }
        }
        /* Only the socket, stderr (the log) and /dev/null cross. */
        rc = posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
        rc = rc ? rc : posix_spawn_file_actions_adddup2(&actions, 2, 1);
        rc = rc ? rc : posix_spawn_file_actions_adddup2(&actions, pair[1], RC_WIRE_READER_FD);
        sigset_t none, defaults;
        sigemptyset(&none);
        sigemptyset(&defaults);
        sigaddset(&defaults, SIGPIPE);
        rc = rc ? rc : posix_spawnattr_setsigmask(&attr, &none);
        rc = rc ? rc : posix_spawnattr_setsigdefault(&attr, &defaults);
        rc = rc ? rc
                : posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    }
    char *const argv[] = {"rasterclipd", "--reader", NULL};
    if (rc == 0) {
        /* /proc/self/exe is resolved by the child: this very binary. */
        rc = posix_spawn(&r->pid, "/proc/self/exe", &actions, &attr, argv, envp);
    }
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    free(envp);
    close(pair[1]);
    if (rc != 0) {
        close(pair[0]);
        r->pid = -1;
        rc_log(RC_LOG_ERROR, "msg=\"cannot start a raster reader\" errno=%d", rc);
        return rc_error_set(err, RC_ERR_INTERNAL, "", "cannot start a raster reader");
    }
    r->sock = pair[0];
    return RC_OK;
}

/* The reader's peak resident memory in KiB (its VmHWM: since its exec, unlike
 * wait4's ru_maxrss, which also counts the daemon it was spawned from). */
static long peak_rss_kb(pid_t pid)
{
    char path[64], text[4096];
    snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, text, sizeof(text) - 1) : -1;
    if (fd >= 0) {
        close(fd);
    }
    long kb = 0;
    if (n > 0) {
        text[n] = '\0';
        const char *at = strstr(text, "VmHWM:");
        char *end = NULL;
        long value = at ? strtol(at + 6, &end, 10) : 0;
        kb = at && end != at + 6 && value > 0 ? value : 0;
    }
    return kb;
}

/* Kills (whatever state it is in) and reaps. Returns its wait status; `usage`
 * (may be NULL) gets its resource use, with ru_maxrss its own peak (KiB). */
static int stop(struct reader *r, struct rusage *usage)
{
    int status = 0;
    struct rusage ignored;
    if (r->sock >= 0) {
        close(r->sock);
        r->sock = -1;
    }
    long peak = r->pid > 0 && usage ? peak_rss_kb(r->pid) : 0;
    if (r->pid > 0) {
        kill(r->pid, SIGKILL);
        while (wait4(r->pid, &status, 0, usage ? usage : &ignored) < 0 && errno == EINTR) {
        }
        r->pid = -1;
        if (usage) {
            usage->ru_maxrss = peak;
        }
    }
    return status;
}

/* What a reader is asked for beside the call: a check of the sandbox instead of
 * a decode, with or without a probe; and what it cost. */
struct check {
    struct rc_sandbox_report *report;
    struct rc_sandbox_probe *probe;
    struct rusage usage;
    struct rc_vectors **vectors; /* a vector read's result (rc_reader_vectors) */
};

struct rc_readers {
    pthread_mutex_t lock;
    struct reader *spares; /* under lock */
    size_t count, capacity;
};

struct rc_readers *rc_readers_create(size_t spares)
{
    struct rc_readers *rs = calloc(1, sizeof(*rs));
    if (!rs) {
        return NULL;
    }
    rs->spares = calloc(spares ? spares : 1, sizeof(*rs->spares));
    if (!rs->spares) {
        free(rs);
        return NULL;
    }
    pthread_mutex_init(&rs->lock, NULL);
    rs->capacity = spares;
    struct rc_error err;
    for (size_t i = 0; i < spares; i++) {
        if (start(&rs->spares[rs->count], &err) == RC_OK) {
            rs->count++;
        }
    }
    return rs;
}

void rc_readers_destroy(struct rc_readers *rs)
{
    if (!rs) {
        return;
    }
    for (size_t i = 0; i < rs->count; i++) {
        stop(&rs->spares[i], NULL);
    }
    pthread_mutex_destroy(&rs->lock);
    free(rs->spares);
    free(rs);
}

/* A reader for one decode: a spare when there is one (and a replacement started
 * in its place), else a new one. */
static enum rc_err take(struct rc_readers *rs, struct reader *out, struct rc_error *err)
{
    if (!rs) {
        return start(out, err);
    }
    pthread_mutex_lock(&rs->lock);
    bool spare = rs->count > 0;
    if (spare) {
        *out = rs->spares[--rs->count];
    }
    struct rc_error ignored;
    if (rs->count < rs->capacity && start(&rs->spares[rs->count], &ignored) == RC_OK) {
        rs->count++;
    }
    pthread_mutex_unlock(&rs->lock);
    return spare ? RC_OK : start(out, err);
}

static void fill_request(const struct rc_config *cfg, const struct rc_reader_call *call,
                         struct rc_wire_request *w)
{
    const struct rc_decode_request *q = &call->decode;
    memset(w, 0, sizeof(*w));
    w->cfg = *cfg;
    w->source = q->data ? RC_WIRE_UPLOAD : call->remote ? RC_WIRE_REMOTE : RC_WIRE_FILE;
    if (w->source == RC_WIRE_FILE && q->path) {
        snprintf(w->path, sizeof(w->path), "%s", q->path);
    }
    w->size = q->data ? q->data_len : call->remote ? rc_fetch_size(call->remote) : 0;
    snprintf(w->field, sizeof(w->field), "%s", q->field ? q->field : "");
    snprintf(w->bands_field, sizeof(w->bands_field), "%s", q->bands_field ? q->bands_field : "");
    w->has_bands = q->bands != NULL;
    w->band_count = q->bands ? (uint32_t)q->band_count : 0;
    w->has_nodata = q->nodata != NULL;
    w->nodata = q->nodata ? *q->nodata : 0;
    snprintf(w->resampling, sizeof(w->resampling), "%s", q->resampling ? q->resampling : "");
    w->max_dim = q->max_dim;
    w->width = q->width;
    w->height = q->height;
    w->read_pixels_left = q->read_pixels_left;
    w->has_slice = q->slice != NULL;
    if (q->slice) {
        w->slice = *q->slice;
    }
    w->vectors = call->vectors != NULL;
    if (call->vectors) {
        w->grid = *call->vectors;
    }
    w->has_place = rc_place_warps(q->place);
    if (w->has_place) {
        w->place = *q->place;
    }
    w->log_level = rc_log_enabled(RC_LOG_DEBUG)  ? RC_LOG_DEBUG
                   : rc_log_enabled(RC_LOG_INFO) ? RC_LOG_INFO
                   : rc_log_enabled(RC_LOG_WARN) ? RC_LOG_WARN
                                                 : RC_LOG_ERROR;
}

/* The upload as a sealed memory file. */
static int upload_file(const uint8_t *data, size_t len)
{
    int fd = memfd_create("rasterclip-upload", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) {
        return -1;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(fd, data + done, len - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            close(fd);
            return -1;
        }
        done += (size_t)n;
    }
    if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* A remote file's bytes, asked for by the reader. */
static bool serve_read(struct reader *r, struct rc_fetch *remote, const void *msg, size_t len,
                       uint8_t *buf)
{
    struct rc_wire_read rd;
    if (!remote || len != sizeof(rd)) {
        return false;
    }
    memcpy(&rd, msg, sizeof(rd));
    struct rc_wire_data reply = {0};
    size_t got = 0;
    struct rc_error err;
    if (rd.len > RC_WIRE_MAX_READ ||
        rc_fetch_read(remote, rd.offset, buf, rd.len, &got, &err) != RC_OK) {
        reply.failed = 1;
        got = 0;
    }
    reply.len = (uint32_t)got;
    return rc_wire_send(r->sock, RC_WIRE_DATA, &reply, sizeof(reply), buf, got, -1);
}

/* The tail's optional parts, copied out of `p` (checked to hold them). */
static bool take_extras(struct rc_raster *r, const struct rc_wire_done *d, const char *p)
{
    memcpy(r->time_format, d->time_format, sizeof(r->time_format));
    memcpy(r->units, d->units, sizeof(r->units));
    memcpy(r->long_name, d->long_name, sizeof(r->long_name));
    r->time_format[sizeof(r->time_format) - 1] = '\0';
    r->units[sizeof(r->units) - 1] = '\0';
    r->long_name[sizeof(r->long_name) - 1] = '\0';
    r->crs = d->crs == RC_CRS_PROJECTED || d->crs == RC_CRS_GEOGRAPHIC ? (enum rc_crs_kind)d->crs
                                                                       : RC_CRS_UNKNOWN;
    r->crs_unit_m = isfinite(d->crs_unit_m) && d->crs_unit_m > 0 ? d->crs_unit_m : 1.0;
    memcpy(r->crs_unit, d->crs_unit, sizeof(r->crs_unit));
    r->crs_unit[sizeof(r->crs_unit) - 1] = '\0';
    /* Degrees in range, west of east and south of north, or none. */
    const double *b = d->lonlat;
    r->has_lonlat = d->has_lonlat && b[0] >= -540 && b[2] <= 540 && b[0] < b[2] && b[1] >= -90 &&
                    b[3] <= 90 && b[1] < b[3];
    memcpy(r->lonlat, d->lonlat, sizeof(r->lonlat));
    memcpy(r->crs_wkt, d->crs_wkt, sizeof(r->crs_wkt));
    r->crs_wkt[sizeof(r->crs_wkt) - 1] = '\0';
    if (d->has_times) {
        r->times = malloc(r->band_count * sizeof(double));
        if (!r->times) {
            return false;
        }
        memcpy(r->times, p, r->band_count * sizeof(double));
        p += r->band_count * sizeof(double);
    }
    if (d->class_count) {
        r->classes = malloc(d->class_count * sizeof(*r->classes));
        if (!r->classes) {
            return false;
        }
        memcpy(r->classes, p, d->class_count * sizeof(*r->classes));
        for (size_t i = 0; i < d->class_count; i++) {
            r->classes[i].name[RC_RASTER_CLASS_NAME - 1] = '\0';
        }
        r->class_count = d->class_count;
        r->classes_coloured = d->classes_coloured != 0;
        r->classes_named = d->classes_named != 0;
    }
    return true;
}

/* The raster the reader described, around the memory file it sent. */
static enum rc_err take_result(const void *msg, size_t len, int fd, const char *field,
                               struct rc_raster **out, uint64_t *read_pixels, struct rc_error *err)
{
    struct rc_wire_done d;
    if (len < sizeof(d) || fd < 0) {
        return RC_ERR_INTERNAL;
    }
    memcpy(&d, msg, sizeof(d));
    size_t per_band = RC_RASTER_LABEL_MAX + (d.has_times ? 3 : 2) * sizeof(double);
    if (d.band_count == 0 || d.band_count > RC_WIRE_MAX_PAYLOAD / per_band ||
        d.class_count > RC_RASTER_MAX_CLASSES ||
        len !=
            sizeof(d) + d.band_count * per_band + d.class_count * sizeof(struct rc_raster_class)) {
        return RC_ERR_INTERNAL;
    }
    /* The values must be sealed: nobody, the reader included, may change them. */
    int seals = fcntl(fd, F_GET_SEALS);
    int need = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;
    if (seals < 0 || (seals & need) != need) {
        return RC_ERR_INTERNAL;
    }
    struct rc_raster *r = rc_raster_map(fd, d.width, d.height, (size_t)d.band_count);
    if (!r) {
        return rc_error_set(err, RC_ERR_NOMEM, field, "cannot map the decoded raster");
    }
    r->source_width = d.source_width;
    r->source_height = d.source_height;
    r->valid_min = d.valid_min;
    r->valid_max = d.valid_max;
    r->valid_count = (size_t)d.valid_count;
    r->has_geotransform = d.has_geotransform != 0;
    memcpy(r->geotransform, d.geotransform, sizeof(r->geotransform));
    const char *p = (const char *)msg + sizeof(d);
    memcpy(r->labels, p, d.band_count * RC_RASTER_LABEL_MAX);
    for (size_t i = 0; i < d.band_count; i++) {
        r->labels[i][RC_RASTER_LABEL_MAX - 1] = '\0';
    }
    p += d.band_count * RC_RASTER_LABEL_MAX;
    memcpy(r->band_range, p, d.band_count * 2 * sizeof(double));
    p += d.band_count * 2 * sizeof(double);
    if (!take_extras(r, &d, p)) {
        rc_raster_unref(r);
        return rc_error_set(err, RC_ERR_NOMEM, field, "out of memory");
    }
    *read_pixels = d.read_pixels;
    *out = r;
    return RC_OK;
}

static enum rc_err take_failure(const void *msg, size_t len, struct rc_error *err)
{
    struct rc_error e;
    if (len != sizeof(e)) {
        return RC_ERR_INTERNAL;
    }
    memcpy(&e, msg, sizeof(e));
    e.field[sizeof(e.field) - 1] = '\0';
    e.message[sizeof(e.message) - 1] = '\0';
    if (e.code <= RC_OK || e.code > RC_ERR_INTERNAL) {
        return RC_ERR_INTERNAL;
    }
    *err = e;
    return e.code;
}

/* What a reader's end means for its job. */
static enum rc_err ended(int status, enum rc_wire_status why, const char *field,
                         const struct rc_config *cfg, struct rc_error *err)
{
    if (why == RC_WIRE_CANCELLED) {
        return rc_error_set(err, RC_ERR_CANCELLED, "", "the job was cancelled");
    }
    if (why == RC_WIRE_DEADLINE) {
        return rc_error_set(err, RC_ERR_UPSTREAM_TIMEOUT, field,
                            "reading the raster ran past max_job_seconds (%ld)",
                            cfg->max_job_seconds);
    }
    int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    rc_log(RC_LOG_WARN, "msg=\"raster reader failed\" signal=%d exit=%d", sig,
           WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    if (sig == SIGXCPU) {
        return rc_error_set(err, RC_ERR_UPSTREAM_TIMEOUT, field,
                            "reading the raster used more CPU time than max_job_seconds");
    }
    return rc_error_set(err, RC_ERR_IMPOSSIBLE, field,
                        "the raster could not be decoded (its reader stopped)");
}

/* Runs one reader to its end: the request sent, remote reads served, the
 * result or failure taken. */
static enum rc_err converse(const struct rc_config *cfg, const struct rc_reader_call *call,
                            struct check *check, struct rc_raster **out, uint64_t *read_pixels,
                            struct rc_error *err)
{
    const char *field = call->decode.field ? call->decode.field : "";
    struct rc_wire_request *w = malloc(sizeof(*w));
    uint8_t *buf = malloc(RC_WIRE_MAX_PAYLOAD);
    struct reader r = {-1, -1};
    int upload = -1;
    enum rc_err rc = (!w || !buf) ? rc_error_set(err, RC_ERR_NOMEM, field, "out of memory")
                                  : take(call->readers, &r, err);
    if (rc == RC_OK) {
        fill_request(cfg, call, w);
        if (!out && !check->vectors) {
            w->source = RC_WIRE_CHECK;
            w->probe = check->probe != NULL;
        }
        if (call->decode.data) {
            upload = upload_file(call->decode.data, call->decode.data_len);
            if (upload < 0) {
                rc = rc_error_set(err, RC_ERR_NOMEM, field, "no memory for the upload");
            }
        }
    }
    size_t bands_len = call->decode.bands ? call->decode.band_count * sizeof(unsigned) : 0;
    bool sent = rc == RC_OK && rc_wire_send(r.sock, RC_WIRE_REQUEST, w, sizeof(*w),
                                            call->decode.bands, bands_len, upload);
    if (rc == RC_OK && !sent) {
        /* A spare that died while it waited: one fresh try. */
        stop(&r, NULL);
        rc = start(&r, err);
        sent = rc == RC_OK && rc_wire_send(r.sock, RC_WIRE_REQUEST, w, sizeof(*w),
                                           call->decode.bands, bands_len, upload);
        if (rc == RC_OK && !sent) {
            rc = rc_error_set(err, RC_ERR_INTERNAL, field, "the raster reader did not start");
        }
    }
    if (upload >= 0) {
        close(upload);
    }
    enum rc_wire_status why = RC_WIRE_OK;
    bool finished = rc != RC_OK;
    while (!finished) {
        uint32_t type = 0;
        size_t len = 0;
        int fd = -1;
        why = rc_wire_recv(r.sock, &type, buf, RC_WIRE_MAX_PAYLOAD, &len, &fd, call->cancel,
                           call->deadline_ms);
        if (why != RC_WIRE_OK) {
            double asked = rc_clock_ms();
            int status = stop(&r, &check->usage);
            if (why == RC_WIRE_CANCELLED || why == RC_WIRE_DEADLINE) {
                rc_log(RC_LOG_INFO, "msg=\"raster reader stopped\" why=%s stop_ms=%.1f",
                       why == RC_WIRE_CANCELLED ? "cancel" : "deadline", rc_clock_ms() - asked);
            }
            rc = ended(status, why, field, cfg, err);
            break;
        }
        rc = RC_OK;
        if (type == RC_WIRE_READ) {
            rc = serve_read(&r, call->remote, buf, len, buf + 64) ? RC_OK : RC_ERR_INTERNAL;
        } else if (type == RC_WIRE_STATUS && len == sizeof(*check->report)) {
            memcpy(check->report, buf, sizeof(*check->report));
            finished = !out && !check->probe && !check->vectors;
        } else if (type == RC_WIRE_PROBE && !out && check->probe && len == sizeof(*check->probe)) {
            memcpy(check->probe, buf, sizeof(*check->probe));
            finished = true;
        } else if (type == RC_WIRE_DONE && out) {
            rc = take_result(buf, len, fd, field, out, read_pixels, err);
            finished = true;
        } else if (type == RC_WIRE_VECTORS && check->vectors) {
            rc = rc_vectors_parse(buf, len, call->vectors, check->vectors);
            rc = rc == RC_ERR_NOMEM ? rc_error_set(err, rc, field, "out of memory") : rc;
            finished = true;
        } else if (type == RC_WIRE_FAILED) {
            rc = take_failure(buf, len, err);
            finished = true;
        } else {
            rc = RC_ERR_INTERNAL;
        }
        if (fd >= 0) {
            close(fd);
        }
        if (rc == RC_ERR_INTERNAL) {
            /* A reader that breaks the protocol has parsed something hostile. */
            stop(&r, &check->usage);
            rc = rc_error_set(err, RC_ERR_IMPOSSIBLE, field,
                              "the raster could not be decoded (its reader misbehaved)");
            break;
        }
    }
    if (r.pid > 0) {
        stop(&r, &check->usage);
    }
    free(buf);
    free(w);
    return rc;
}

enum rc_err rc_reader_decode(const struct rc_config *cfg, const struct rc_reader_call *call,
                             struct rc_raster **out, uint64_t *read_pixels, struct rc_error *err)
{
    *out = NULL;
    *read_pixels = 0;
    struct rc_sandbox_report report = {0};
    struct check check = {.report = &report};
    double began = rc_clock_ms();
    enum rc_err rc = converse(cfg, call, &check, out, read_pixels, err);
    char text[256];
    rc_sandbox_describe(&report, text, sizeof(text));
    const struct rusage *u = &check.usage;
    double cpu_ms = (double)(u->ru_utime.tv_sec + u->ru_stime.tv_sec) * 1e3 +
                    (double)(u->ru_utime.tv_usec + u->ru_stime.tv_usec) / 1e3;
    rc_log(RC_LOG_DEBUG, "msg=\"raster reader\" ms=%.1f cpu_ms=%.1f max_rss_kb=%ld outcome=%s %s",
           rc_clock_ms() - began, cpu_ms, u->ru_maxrss, rc_err_name(rc), text);
    return rc;
}

enum rc_err rc_reader_vectors(const struct rc_config *cfg, const struct rc_reader_call *call,
                              struct rc_vectors **out, struct rc_error *err)
{
    *out = NULL;
    struct rc_sandbox_report report = {0};
    struct check check = {.report = &report, .vectors = out};
    uint64_t unused = 0;
    return converse(cfg, call, &check, NULL, &unused, err);
}

enum rc_err rc_reader_check(const struct rc_config *cfg, struct rc_sandbox_report *report,
                            struct rc_sandbox_probe *probe, struct rc_error *err)
{
    struct rc_reader_call call = {.deadline_ms = rc_clock_ms() + 30000};
    memset(report, 0, sizeof(*report));
    struct check check = {.report = report, .probe = probe};
    uint64_t unused = 0;
    enum rc_err rc = converse(cfg, &call, &check, NULL, &unused, err);
    if (rc == RC_OK && probe && probe->count > RC_SANDBOX_ATTEMPTS) {
        rc = rc_error_set(err, RC_ERR_INTERNAL, "", "the reader's probe was malformed");
    }
    return rc;
}
