/*
 * config: the daemon's settings, declared once in a table (config.c) from which
 * flags, RASTERCLIP_* environment variables, config-file keys and --help derive.
 *
 * Precedence: defaults, then the config file, then the environment, then flags.
 * The main thread builds one `struct rc_config` before any other thread starts;
 * after that it is read-only and shared by every thread.
 */
#ifndef RC_CONFIG_H
#define RC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "base/error.h"

struct rc_config {
    char listen[256]; /* ADDR:PORT; port 0 picks a free one */
    char data_root[4096];
    char config_file[4096];
    char log_level[16];
    char log_format[8]; /* "logfmt" or "json" */
    long workers;
    long device; /* hardware EGL device to pin every worker to; -1: spread over all */
    long queue;
    long max_width;
    long max_height;
    long max_pixels;        /* output width x height */
    long max_source_pixels; /* the raster file's width x height */
    long max_read_pixels;   /* source pixels a job's reads may decode, every band */
    long max_frames;
    long max_fps;
    long max_body_bytes;
    long max_upload_mb;     /* uploaded raster and heights together */
    long max_uploads_mb;    /* every request body with an upload in flight, together */
    long max_raster_pixels; /* per band, after any downsampling */
    long max_raster_mb;     /* decoded bytes of all chosen bands */
    long max_bands;
    long max_job_seconds;
    long drain_grace_seconds; /* SIGTERM: how long running jobs may take to finish */
    char convert[8];          /* RGBA->I420 on the "gpu", the "cpu", or "auto" (gpu on hardware) */
    long byte_queue_kb;
    long min_read_kb_per_s; /* a client reading slower while its job waits is cut off */
    long max_connections_per_address;
    long header_timeout_seconds; /* request line and headers must be in by then */
    long min_upload_kb_per_s;    /* a request body slower than this is a 408 */
    /* remote rasters */
    long allow_private; /* 0 or 1 */
    char allow_host[4096];
    char resolve[4096];
    char allow_bucket[4096]; /* object-storage buckets jobs may name; empty: none */
    long fetch_connect_timeout_ms;
    long fetch_timeout_ms;
    long max_fetch_mb;
    long cache_mb;
    long gdal_cache_mb;      /* GDAL's block cache */
    char reader_sandbox[16]; /* "strict": refuse to start unless readers are fully confined */
    long check_sandbox;      /* 0 or 1: probe a reader's sandbox, print, exit */
    char clip_cache[4096];   /* directory of finished clips; empty: no clip cache */
    long clip_cache_mb;
    char cors_origin[4096];          /* comma-separated origins, "*" for any, empty for none */
    char token_file[4096];           /* bearer tokens, one a line; empty: no authentication */
    char url_signing_key_file[4096]; /* key of signed render URLs; empty: none */
    long auth_health;                /* 0 or 1: tokens on /healthz, /readyz, /metrics too */
};

/* Fills `cfg` from defaults, file, environment and `argv`. Returns RC_OK, or an
 * error naming the option; sets *help_shown when --help or --version was printed. */
enum rc_err rc_config_load(struct rc_config *cfg, int argc, char **argv, bool *help_shown,
                           struct rc_error *err);

/* The configuration in force. SIGHUP builds a new generation (file, environment and
 * flags read again) and publishes it whole; generations are never changed in place
 * and all live until rc_config_source_destroy(), so a pointer taken by a request or
 * job stays valid. Options that need a restart (listen, workers, device, queue,
 * cache_mb, clip_cache, clip_cache_mb, max_connections_per_address, reader_sandbox,
 * config_file) keep
 * their old values. Any thread may read; the
 * main thread reloads. */
struct rc_config_source;

struct rc_config_source *rc_config_source_create(const struct rc_config *first);
void rc_config_source_destroy(struct rc_config_source *source);
const struct rc_config *rc_config_current(struct rc_config_source *source);
enum rc_err rc_config_source_reload(struct rc_config_source *source, int argc, char **argv,
                                    struct rc_error *err);

/* Writes the option list (for --help). */
void rc_config_usage(FILE *out);

/* Writes the limits a client may want to know as a JSON object's members. */
size_t rc_config_limits_count(void);
const char *rc_config_limit_name(size_t index);
long rc_config_limit_value(const struct rc_config *cfg, size_t index);

#endif
