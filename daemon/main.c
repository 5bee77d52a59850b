/*
 * rasterclipd: the daemon's entry point. The main thread loads the config, opens
 * the EGL display, starts the workers and the HTTP server, then waits for signals:
 * SIGTERM/SIGINT drain (no new jobs, running ones finish) and exit 0.
 */
#include <errno.h>
#if defined(__GLIBC__) && !defined(RC_SANITIZED)
#include <malloc.h>
#endif
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "base/cache.h"
#include "base/config.h"
#include "base/log.h"
#include "base/notify.h"
#include "http/http.h"
#include "pipeline/clipcache.h"
#include "pipeline/pool.h"
#include "raster/raster.h"
#include "raster/reader.h"
#include "raster/sandbox.h"
#include "render/render.h"

enum { DRAIN_POLL_MS = 50 };

static void pause_ms(long ms)
{
    struct timespec pause = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&pause, NULL);
}

/* SIGTERM: no new jobs; running and queued ones get until the grace period ends,
 * then are cancelled; clients may take their last bytes within the same period. */
static void drain(struct rc_http *http, struct rc_workers *workers, long grace_ms)
{
    rc_http_drain(http);
    long waited = 0;
    struct rc_workers_stats st;
    for (rc_workers_stats(workers, &st); (st.busy > 0 || st.queued > 0) && waited < grace_ms;
         rc_workers_stats(workers, &st)) {
        pause_ms(DRAIN_POLL_MS);
        waited += DRAIN_POLL_MS;
    }
    if (st.busy > 0 || st.queued > 0) {
        rc_log(RC_LOG_WARN, "msg=\"drain grace period over, cancelling jobs\" busy=%zu queued=%zu",
               st.busy, st.queued);
        rc_workers_cancel_all(workers);
    }
    rc_workers_drain(workers);
    for (; waited < grace_ms && rc_http_active_streams(http) > 0; waited += DRAIN_POLL_MS) {
        pause_ms(DRAIN_POLL_MS);
    }
}

static enum rc_log_level parse_level(const char *name)
{
    if (strcmp(name, "error") == 0) {
        return RC_LOG_ERROR;
    }
    if (strcmp(name, "warn") == 0) {
        return RC_LOG_WARN;
    }
    if (strcmp(name, "debug") == 0) {
        return RC_LOG_DEBUG;
    }
    return RC_LOG_INFO;
}

/* SIGHUP: the config file, environment and flags again; a bad file keeps the old. */
static void reload(struct rc_config_source *cfgs, struct rc_http *http, int argc, char **argv)
{
    struct rc_error err = {0};
    if (rc_config_source_reload(cfgs, argc, argv, &err) != RC_OK) {
        rc_log(RC_LOG_ERROR, "msg=\"reload failed, old config kept\" field=%s error=\"%s\"",
               err.field[0] ? err.field : "-", err.message);
        return;
    }
    rc_log_set_level(parse_level(rc_config_current(cfgs)->log_level));
    rc_log_set_json(strcmp(rc_config_current(cfgs)->log_format, "json") == 0);
    if (rc_http_reload(http, &err) != RC_OK) {
        rc_log(RC_LOG_ERROR, "msg=\"reload of tokens failed, old tokens kept\" error=\"%s\"",
               err.message);
        return;
    }
    rc_notify("RELOADING=0\nREADY=1");
    rc_log(RC_LOG_INFO, "msg=\"config reloaded\"");
}

/* One malloc arena for every thread. glibc gives each new thread an arena of its
 * own; a job's buffers are freed by other threads (encoder, HTTP) than the ones
 * that made them, and the free pages left in those arenas after the job's
 * malloc_trim made an idle daemon's RSS wander by 30-40 MiB between identical
 * runs, with the live heap the same. With one arena idle RSS comes back to within
 * 2 MiB, and a job's speed and peak are unchanged (measured at 720p, image and
 * surface: bench/NOTES.md); allocation is rare per frame (frames come from pools),
 * so the one lock is not contended. Not under a sanitizer, which owns the heap. */
static void one_heap(void)
{
#if defined(__GLIBC__) && !defined(RC_SANITIZED)
    mallopt(M_ARENA_MAX, 1);
#endif
}

/* Connections are descriptors: the soft limit goes up to the hard one, and the
 * HTTP server sizes its connection table from it. */
static void raise_descriptor_limit(void)
{
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
        lim.rlim_cur = lim.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &lim) != 0) {
            rc_log(RC_LOG_WARN, "msg=\"cannot raise the descriptor limit\" errno=%d", errno);
        }
    }
}

/* --check-sandbox: a reader confined as for a job under the data root tries what
 * its sandbox forbids. Exit 0 when every attempt was refused (and, with
 * reader_sandbox strict, every protection is in force). */
static int check_sandbox(const struct rc_config *cfg)
{
    struct rc_sandbox_report report;
    struct rc_sandbox_probe probe;
    struct rc_error err = {0};
    if (rc_reader_check(cfg, &report, &probe, &err) != RC_OK) {
        fprintf(stderr, "rasterclipd: %s\n", err.message);
        return 1;
    }
    char text[256];
    rc_sandbox_describe(&report, text, sizeof(text));
    printf("sandbox %s complete=%d\n", text, rc_sandbox_complete(&report));
    int holes = 0;
    for (uint32_t i = 0; i < probe.count; i++) {
        const struct rc_sandbox_attempt *a = &probe.attempts[i];
        char why[128] = "";
        if (!a->allowed) {
            strerror_r(a->errnum, why, sizeof(why));
        }
        printf("attempt %s %s%s%s\n", a->action, a->allowed ? "ALLOWED" : "denied",
               a->allowed ? "" : ": ", why);
        holes += a->allowed != 0;
    }
    bool strict = strcmp(cfg->reader_sandbox, "strict") == 0;
    return holes == 0 && probe.count > 0 && (!strict || rc_sandbox_complete(&report)) ? 0 : 1;
}

int main(int argc, char **argv)
{
    static struct rc_config cfg; /* the only global: read-only once threads start */
    struct rc_error err = {0};
    bool help_shown = false;
    if (argc == 2 && strcmp(argv[1], "--reader") == 0) {
        /* A raster reader (raster/reader.h). No exit handlers: the sandbox forbids
         * what some of them (a leak checker) would do. */
        _exit(rc_reader_main());
    }
    one_heap();
    if (rc_config_load(&cfg, argc, argv, &help_shown, &err) != RC_OK) {
        fprintf(stderr, "rasterclipd: %s\n", err.message);
        return 2;
    }
    if (help_shown) {
        return 0;
    }
    if (cfg.check_sandbox) {
        return check_sandbox(&cfg);
    }
    rc_log_set_level(parse_level(cfg.log_level));
    rc_log_set_json(strcmp(cfg.log_format, "json") == 0);
    rc_log_detect_journal();
    raise_descriptor_limit();

    /* Signals are taken synchronously by this thread only. */
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    int status = 1;
    struct rc_gpu *gpu = NULL;
    struct rc_workers *workers = NULL;
    struct rc_http *http = NULL;
    struct rc_clipcache *clips = NULL;
    struct rc_cache *cache = rc_raster_cache_create((size_t)cfg.cache_mb << 20);
    struct rc_config_source *cfgs = rc_config_source_create(&cfg);
    rc_raster_global_init(&cfg);
    if (!cache || !cfgs) {
        rc_log(RC_LOG_ERROR, "msg=\"startup failed\" error=\"out of memory\"");
        goto out;
    }
    if ((cfg.clip_cache[0] && rc_clipcache_create(cfg.clip_cache, (uint64_t)cfg.clip_cache_mb << 20,
                                                  &clips, &err) != RC_OK) ||
        rc_gpu_create(cfg.device, &gpu, &err) != RC_OK ||
        rc_workers_create(cfgs, gpu, cache, clips, &workers, &err) != RC_OK ||
        rc_http_create(cfgs, workers, cache, clips, &http, &err) != RC_OK) {
        rc_log(RC_LOG_ERROR, "msg=\"startup failed\" error=\"%s\"", err.message);
        goto out;
    }
#ifdef RC_FAULT_INJECTION
    rc_log(RC_LOG_WARN, "msg=\"fault injection built in\" note=\"a test build\"");
#endif
    rc_log(RC_LOG_INFO, "msg=\"listening\" url=%s version=%s data_root=\"%s\" activated=%d",
           rc_http_url(http), RC_VERSION, cfg.data_root, rc_http_socket_activated(http));
    rc_notify("READY=1\nSTATUS=serving");
    long ping_ms = rc_notify_watchdog_ping_ms();
    for (;;) {
        int sig = 0;
        if (ping_ms > 0) {
            /* Wake at half the watchdog interval to say we are alive. */
            struct timespec wait = {ping_ms / 1000, (ping_ms % 1000) * 1000000L};
            sig = sigtimedwait(&signals, NULL, &wait);
            if (sig < 0) {
                rc_notify("WATCHDOG=1");
                continue;
            }
        } else if (sigwait(&signals, &sig) != 0) {
            continue;
        }
        if (sig == SIGHUP) {
            reload(cfgs, http, argc, argv);
            continue;
        }
        rc_log(RC_LOG_INFO, "msg=\"draining\" signal=%d", sig);
        break;
    }
    rc_notify("STOPPING=1");
    drain(http, workers, rc_config_current(cfgs)->drain_grace_seconds * 1000);
    status = 0;
out:
    /* The server goes first: its threads read the pool until they stop. */
    rc_http_destroy(http);
    rc_workers_destroy(workers);
    rc_gpu_destroy(gpu);
    rc_cache_destroy(cache);
    rc_clipcache_destroy(clips);
    rc_config_source_destroy(cfgs);
    rc_log(RC_LOG_INFO, "msg=\"stopped\" status=%d", status);
    return status;
}
