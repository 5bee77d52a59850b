#include "base/config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"

enum option_type {
    OPT_STRING,
    OPT_LONG,
    OPT_BOOL, /* a long 0/1; as a flag it takes no value */
};

struct option_def {
    const char *name; /* config-file key; flag is --name with '_' as '-' */
    enum option_type type;
    size_t offset;
    size_t size; /* strings: buffer size */
    long min, max;
    const char *default_value;
    bool limit; /* listed under "limits" in /v1/info */
    const char *help;
};

#define STR(field, def, help)                                                                      \
    {                                                                                              \
#field, OPT_STRING, offsetof(struct rc_config, field),                                     \
            sizeof(((struct rc_config *)0)->field), 0, 0, def, false, help                         \
    }
#define NUM(field, lo, hi, def, is_limit, help)                                                    \
    {                                                                                              \
#field, OPT_LONG, offsetof(struct rc_config, field), sizeof(long), lo, hi, def, is_limit,  \
            help                                                                                   \
    }

#define BOOL(field, def, help)                                                                     \
    {                                                                                              \
#field, OPT_BOOL, offsetof(struct rc_config, field), sizeof(long), 0, 1, def, false, help  \
    }

static const struct option_def options[] = {
    STR(listen, "127.0.0.1:8080",
        "ADDR:PORT to listen on (port 0: any free port), or unix:PATH (a socket only this user may "
        "use)"),
    STR(data_root, ".", "directory that relative raster paths and file:// URLs resolve under"),
    STR(config_file, "", "file of `key = value` lines read before the environment and flags"),
    STR(log_level, "info", "error, warn, info or debug"),
    STR(log_format, "logfmt",
        "logfmt (key=value) or json (an object a line); syslog priorities are prefixed when "
        "stderr is the systemd journal"),
    NUM(workers, 1, 64, "1", false, "render workers, each with its own GL context"),
    NUM(device, -1, 15, "-1", false,
        "hardware EGL device to pin workers to (-1: spread workers over every GPU)"),
    NUM(queue, 0, 4096, "4", false, "jobs that may wait for a worker before 429"),
    NUM(max_width, 16, 7680, "3840", true, "largest output width in pixels"),
    NUM(max_height, 16, 4320, "2160", true, "largest output height in pixels"),
    NUM(max_pixels, 256, 7680L * 4320, "8294400", true, "largest output width x height"),
    NUM(max_source_pixels, 1, 1L << 40, "17179869184", true,
        "largest raster (width x height of the file) a job may name"),
    NUM(max_read_pixels, 1, 1L << 40, "1073741824", true,
        "most source pixels a job's reads may decode, over every band (the file, or the "
        "overview used)"),
    NUM(max_frames, 1, 1000000, "7200", true, "most frames in one clip"),
    NUM(max_fps, 1, 240, "60", true, "highest frame rate"),
    NUM(max_body_bytes, 1024, 64L << 20, "1048576", true, "largest request body"),
    NUM(max_upload_mb, 1, 1L << 16, "256", true,
        "largest raster (and heights) uploaded with a job, in MiB; more is a 413"),
    NUM(max_uploads_mb, 1, 1L << 20, "1024", true,
        "memory all uploads being received or waiting share, in MiB, reserved on the "
        "headers (the declared length, or max_upload_mb); when full, a 503 before the body"),
    NUM(max_raster_pixels, 1, 1L << 40, "67108864", true,
        "most pixels per band kept in memory; larger rasters are downsampled"),
    NUM(max_raster_mb, 1, 1L << 20, "1024", true, "most decoded raster megabytes per job"),
    NUM(max_bands, 1, 100000, "1024", true, "most bands (time steps) in one job"),
    NUM(max_job_seconds, 1, 86400, "600", true, "wall-time limit of one job"),
    NUM(drain_grace_seconds, 0, 86400, "30", false,
        "on SIGTERM, how long running jobs may take before they are cancelled"),
    NUM(byte_queue_kb, 64, 1L << 20, "2048", false, "bytes buffered per job before it waits"),
    NUM(max_connections_per_address, 1, 65536, "64", false,
        "connections one client address may hold, so one peer cannot take the table (sized "
        "from the descriptor limit)"),
    NUM(min_read_kb_per_s, 0, 1L << 20, "16", false,
        "KiB a second a client must read while its job waits on it (0: no floor)"),
    NUM(header_timeout_seconds, 1, 3600, "10", false,
        "seconds a request's line and headers may take to arrive, in all (then 408)"),
    NUM(min_upload_kb_per_s, 0, 1L << 20, "16", false,
        "KiB a second a request body must bring, judged over five seconds (0: no floor)"),
    BOOL(allow_private, "0",
         "let remote URLs reach loopback, private and link-local addresses (never metadata)"),
    STR(allow_host, "", "comma-separated host names remote URLs may use (empty: any host)"),
    STR(allow_bucket, "",
        "comma-separated buckets s3://, gs:// and az:// URLs may name (a bare name, or "
        "scheme://name; * for any); empty: object storage refused"),
    STR(resolve, "", "comma-separated HOST:PORT:ADDRESS pins for remote URLs, as curl's --resolve"),
    NUM(fetch_connect_timeout_ms, 100, 600000, "5000", true, "connect timeout for remote rasters"),
    NUM(fetch_timeout_ms, 100, 3600000, "60000", true, "total time to read one remote raster"),
    NUM(max_fetch_mb, 1, 1L << 20, "512", true, "most bytes read from one remote raster"),
    NUM(cache_mb, 0, 1L << 20, "512", false,
        "memory for decoded rasters kept between jobs (an eighth more for surface meshes refined "
        "from them)"),
    STR(clip_cache, "",
        "directory of finished clips served again by ETag and byte range (empty: off)"),
    NUM(clip_cache_mb, 1, 1L << 24, "1024", false, "bytes of clips the clip cache keeps on disk"),
    NUM(gdal_cache_mb, 1, 1L << 20, "64", false, "memory for GDAL's block cache (file blocks)"),
    STR(reader_sandbox, "available",
        "the raster reader's confinement: available (what the kernel offers, logged at "
        "start) or strict (refuse to start without Landlock, seccomp, no_new_privs, a "
        "network namespace and rlimits)"),
    BOOL(check_sandbox, "0",
         "start one raster reader, try from inside it what its sandbox forbids (files outside "
         "the data root, writing, execve, sockets, ptrace, new processes), print each outcome "
         "and exit: 0 when all were refused"),
    STR(convert, "auto",
        "colour conversion: gpu (a shader before readback), cpu, or auto (gpu on hardware)"),
    STR(cors_origin, "", "origins (comma-separated, or *) whose pages may fetch clips"),
    STR(token_file, "", "file of bearer tokens, one a line; requests must bring one"),
    STR(url_signing_key_file, "",
        "file whose bytes are the HMAC-SHA256 key of signed /v1/render URLs (expires= and sig=), "
        "which need no token"),
    BOOL(auth_health, "0", "require a token on /healthz, /readyz and /metrics too"),
};

enum { OPTION_COUNT = sizeof(options) / sizeof(options[0]) };

static enum rc_err set_option(struct rc_config *cfg, const struct option_def *opt,
                              const char *value, const char *source, struct rc_error *err)
{
    char *dst = (char *)cfg + opt->offset;
    if (opt->type == OPT_STRING) {
        size_t len = strlen(value);
        if (len >= opt->size) {
            return rc_error_set(err, RC_ERR_INVALID, opt->name, "%s: %s is too long", source,
                                opt->name);
        }
        memcpy(dst, value, len + 1);
        return RC_OK;
    }
    if (opt->type == OPT_BOOL) {
        long b = -1;
        if (strcmp(value, "1") == 0 || strcasecmp(value, "true") == 0 ||
            strcasecmp(value, "yes") == 0) {
            b = 1;
        } else if (strcmp(value, "0") == 0 || strcasecmp(value, "false") == 0 ||
                   strcasecmp(value, "no") == 0) {
            b = 0;
        }
        if (b < 0) {
            return rc_error_set(err, RC_ERR_INVALID, opt->name, "%s: %s must be true or false",
                                source, opt->name);
        }
        memcpy(dst, &b, sizeof(b));
        return RC_OK;
    }
    char *end = NULL;
    errno = 0;
    long v = strtol(value, &end, 10);
    if (errno || end == value || *end != '\0' || v < opt->min || v > opt->max) {
        return rc_error_set(err, RC_ERR_INVALID, opt->name, "%s: %s must be an integer %ld..%ld",
                            source, opt->name, opt->min, opt->max);
    }
    memcpy(dst, &v, sizeof(v));
    return RC_OK;
}

/* Matches "max-frames" or "max_frames" against an option name. */
static const struct option_def *find_option(const char *name, size_t len)
{
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        const char *candidate = options[i].name;
        if (strlen(candidate) != len) {
            continue;
        }
        size_t k = 0;
        while (k < len && (name[k] == candidate[k] || (name[k] == '-' && candidate[k] == '_'))) {
            k++;
        }
        if (k == len) {
            return &options[i];
        }
    }
    return NULL;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s)) {
        s++;
    }
    char *end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1])) {
        *--end = '\0';
    }
    return s;
}

/* A file being rewritten, or damaged, must not pass for an empty configuration:
 * one that is empty, holds a NUL byte or does not end its last line is refused. */
static enum rc_err check_file(FILE *f, struct rc_error *err)
{
    char chunk[4096];
    size_t n, total = 0;
    int last = '\n';
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (memchr(chunk, '\0', n)) {
            return rc_error_set(err, RC_ERR_INVALID, "config_file",
                                "the config file holds a NUL byte");
        }
        total += n;
        last = (unsigned char)chunk[n - 1];
    }
    if (ferror(f)) {
        return rc_error_set(err, RC_ERR_INVALID, "config_file", "cannot read the config file");
    }
    if (total == 0) {
        return rc_error_set(err, RC_ERR_INVALID, "config_file",
                            "the config file is empty (comment out what you do not set)");
    }
    if (last != '\n') {
        return rc_error_set(err, RC_ERR_INVALID, "config_file",
                            "the config file's last line has no newline: truncated?");
    }
    rewind(f);
    return RC_OK;
}

static enum rc_err load_file(struct rc_config *cfg, const char *path, struct rc_error *err)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        return rc_error_set(err, RC_ERR_INVALID, "config_file", "cannot open the config file");
    }
    char line[8192];
    enum rc_err rc = check_file(f, err);
    while (rc == RC_OK && fgets(line, sizeof(line), f)) {
        char *s = trim(line);
        if (*s == '\0' || *s == '#') {
            continue;
        }
        char *eq = strchr(s, '=');
        if (!eq) {
            rc = rc_error_set(err, RC_ERR_INVALID, "config_file", "config line without '='");
            break;
        }
        *eq = '\0';
        char *key = trim(s), *value = trim(eq + 1);
        const struct option_def *opt = find_option(key, strlen(key));
        if (!opt || opt->offset == offsetof(struct rc_config, config_file)) {
            rc = rc_error_set(err, RC_ERR_INVALID, "config_file", "unknown config key %.64s", key);
            break;
        }
        rc = set_option(cfg, opt, value, "config file", err);
    }
    fclose(f);
    return rc;
}

static void env_name(const struct option_def *opt, char *out, size_t size)
{
    int n = snprintf(out, size, "RASTERCLIP_");
    for (size_t i = 0; opt->name[i] && (size_t)n + i + 1 < size; i++) {
        out[n + i] = (char)toupper((unsigned char)opt->name[i]);
        out[n + i + 1] = '\0';
    }
}

static enum rc_err apply_env(struct rc_config *cfg, bool config_file_only, struct rc_error *err)
{
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        bool is_file = options[i].offset == offsetof(struct rc_config, config_file);
        if (is_file != config_file_only) {
            continue;
        }
        char name[96];
        env_name(&options[i], name, sizeof(name));
        const char *value = getenv(name);
        if (value) {
            enum rc_err rc = set_option(cfg, &options[i], value, "environment", err);
            if (rc != RC_OK) {
                return rc;
            }
        }
    }
    return RC_OK;
}

/* Walks argv; with `config_file_only` it only picks up --config-file/--config. */
static enum rc_err apply_flags(struct rc_config *cfg, int argc, char **argv, bool config_file_only,
                               bool *help_shown, struct rc_error *err)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        bool help = strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
        if (help || strcmp(arg, "--version") == 0) {
            if (config_file_only) {
                continue; /* answered by the second pass */
            }
            if (help) {
                rc_config_usage(stdout);
            } else {
                printf("rasterclipd %s\n", RC_VERSION);
            }
            *help_shown = true;
            return RC_OK;
        }
        if (strncmp(arg, "--", 2) != 0) {
            return rc_error_set(err, RC_ERR_INVALID, "argv", "unexpected argument %.64s", arg);
        }
        const char *name = arg + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const struct option_def *opt = find_option(name, len);
        if (!opt && len == 6 && strncmp(name, "config", 6) == 0) {
            opt = find_option("config_file", 11);
        }
        if (!opt) {
            return rc_error_set(err, RC_ERR_INVALID, "argv", "unknown option %.64s", arg);
        }
        const char *value = eq ? eq + 1 : NULL;
        if (!value && opt->type == OPT_BOOL) {
            value = "1"; /* a bare flag switches it on */
        }
        if (!value) {
            if (i + 1 >= argc) {
                return rc_error_set(err, RC_ERR_INVALID, opt->name, "%.64s needs a value", arg);
            }
            value = argv[++i];
        }
        bool is_file = opt->offset == offsetof(struct rc_config, config_file);
        if (is_file == config_file_only) {
            enum rc_err rc = set_option(cfg, opt, value, "flag", err);
            if (rc != RC_OK) {
                return rc;
            }
        }
    }
    return RC_OK;
}

enum rc_err rc_config_load(struct rc_config *cfg, int argc, char **argv, bool *help_shown,
                           struct rc_error *err)
{
    memset(cfg, 0, sizeof(*cfg));
    *help_shown = false;
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        enum rc_err rc = set_option(cfg, &options[i], options[i].default_value, "default", err);
        if (rc != RC_OK) {
            return rc;
        }
    }
    /* Where the file is comes first, with the same precedence as everything else. */
    enum rc_err rc = apply_env(cfg, true, err);
    rc = rc ? rc : apply_flags(cfg, argc, argv, true, help_shown, err);
    if (rc != RC_OK || *help_shown) {
        return rc;
    }
    if (cfg->config_file[0]) {
        rc = load_file(cfg, cfg->config_file, err);
    }
    rc = rc ? rc : apply_env(cfg, false, err);
    rc = rc ? rc : apply_flags(cfg, argc, argv, false, help_shown, err);
    if (rc == RC_OK && strcmp(cfg->convert, "auto") != 0 && strcmp(cfg->convert, "gpu") != 0 &&
        strcmp(cfg->convert, "cpu") != 0) {
        rc = rc_error_set(err, RC_ERR_INVALID, "convert", "convert must be auto, gpu or cpu");
    }
    if (rc == RC_OK && strcmp(cfg->reader_sandbox, "available") != 0 &&
        strcmp(cfg->reader_sandbox, "strict") != 0) {
        rc = rc_error_set(err, RC_ERR_INVALID, "reader_sandbox",
                          "reader_sandbox must be available or strict");
    }
    if (rc == RC_OK && strcmp(cfg->log_format, "logfmt") != 0 &&
        strcmp(cfg->log_format, "json") != 0) {
        rc = rc_error_set(err, RC_ERR_INVALID, "log_format", "log_format must be logfmt or json");
    }
    static const char *const levels[] = {"error", "warn", "info", "debug"};
    bool level_ok = false;
    for (size_t i = 0; i < 4; i++) {
        level_ok = level_ok || strcmp(cfg->log_level, levels[i]) == 0;
    }
    if (rc == RC_OK && !level_ok) {
        rc = rc_error_set(err, RC_ERR_INVALID, "log_level",
                          "log_level must be error, warn, info or debug");
    }
    return rc;
}

void rc_config_usage(FILE *out)
{
    fprintf(out, "usage: rasterclipd [--option value]...\n\n");
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        char flag[64], env[96];
        snprintf(flag, sizeof(flag), "--%s", options[i].name);
        for (char *p = flag + 2; *p; p++) {
            if (*p == '_') {
                *p = '-';
            }
        }
        env_name(&options[i], env, sizeof(env));
        fprintf(out, "  %-22s %s (default: %s; env %s; file key %s)\n", flag, options[i].help,
                options[i].default_value[0] ? options[i].default_value : "none", env,
                options[i].name);
    }
}

size_t rc_config_limits_count(void)
{
    size_t n = 0;
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        n += options[i].limit;
    }
    return n;
}

static const struct option_def *limit_def(size_t index)
{
    for (size_t i = 0; i < OPTION_COUNT; i++) {
        if (options[i].limit && index-- == 0) {
            return &options[i];
        }
    }
    return NULL;
}

const char *rc_config_limit_name(size_t index)
{
    const struct option_def *opt = limit_def(index);
    return opt ? opt->name : NULL;
}

long rc_config_limit_value(const struct rc_config *cfg, size_t index)
{
    const struct option_def *opt = limit_def(index);
    long v = 0;
    if (opt) {
        memcpy(&v, (const char *)cfg + opt->offset, sizeof(v));
    }
    return v;
}

struct generation {
    struct rc_config cfg;
    struct generation *older;
};

struct rc_config_source {
    _Atomic(struct generation *) current;
};

struct rc_config_source *rc_config_source_create(const struct rc_config *first)
{
    struct rc_config_source *src = calloc(1, sizeof(*src));
    struct generation *g = calloc(1, sizeof(*g));
    if (!src || !g) {
        free(src);
        free(g);
        return NULL;
    }
    g->cfg = *first;
    atomic_init(&src->current, g);
    return src;
}

void rc_config_source_destroy(struct rc_config_source *source)
{
    if (!source) {
        return;
    }
    struct generation *g = atomic_load(&source->current);
    while (g) {
        struct generation *older = g->older;
        free(g);
        g = older;
    }
    free(source);
}

const struct rc_config *rc_config_current(struct rc_config_source *source)
{
    return &atomic_load(&source->current)->cfg;
}

/* Whether the config file sets `key` on a line of its own ("key = ..."). */
static bool file_sets(const char *path, const char *key)
{
    FILE *f = path[0] ? fopen(path, "r") : NULL;
    if (!f) {
        return false;
    }
    char line[8192];
    bool found = false;
    while (!found && fgets(line, sizeof(line), f)) {
        char *s = trim(line);
        char *eq = strchr(s, '=');
        if (*s != '#' && eq) {
            *eq = '\0';
            const char *name = trim(s);
            const struct option_def *opt = find_option(name, strlen(name));
            found = opt && strcmp(opt->name, key) == 0;
        }
    }
    fclose(f);
    return found;
}

/* A reload that would turn a security setting off (tokens, tokens on the health
 * endpoints, private or listed hosts for remote rasters, CORS for every origin)
 * happens only when the file says so in as many words; environment and flags do
 * not change between reloads, so only the file can drop one. */
static enum rc_err check_loosened(const struct rc_config *old, const struct rc_config *cfg,
                                  struct rc_error *err)
{
    struct {
        const char *name;
        bool loosened;
    } settings[] = {
        {"token_file", old->token_file[0] && !cfg->token_file[0]},
        {"auth_health", old->auth_health && !cfg->auth_health},
        {"allow_private", !old->allow_private && cfg->allow_private},
        {"allow_host", old->allow_host[0] && !cfg->allow_host[0]},
        {"cors_origin", strcmp(old->cors_origin, "*") != 0 && strcmp(cfg->cors_origin, "*") == 0},
    };
    for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++) {
        if (settings[i].loosened && !file_sets(cfg->config_file, settings[i].name)) {
            return rc_error_set(err, RC_ERR_INVALID, settings[i].name,
                                "the reload would drop %s; say it in the config file to do so",
                                settings[i].name);
        }
    }
    return RC_OK;
}

enum rc_err rc_config_source_reload(struct rc_config_source *source, int argc, char **argv,
                                    struct rc_error *err)
{
    struct generation *old = atomic_load(&source->current);
    struct generation *g = calloc(1, sizeof(*g));
    if (!g) {
        return rc_error_set(err, RC_ERR_NOMEM, "", "out of memory");
    }
    bool help = false;
    enum rc_err rc = rc_config_load(&g->cfg, argc, argv, &help, err);
    if (rc != RC_OK) {
        free(g);
        return rc;
    }
    /* What the running process is built around stays as it started. */
    static const size_t fixed[] = {
        offsetof(struct rc_config, listen),
        offsetof(struct rc_config, workers),
        offsetof(struct rc_config, device),
        offsetof(struct rc_config, queue),
        offsetof(struct rc_config, cache_mb),
        offsetof(struct rc_config, gdal_cache_mb),
        offsetof(struct rc_config, config_file),
        offsetof(struct rc_config, byte_queue_kb),
        offsetof(struct rc_config, clip_cache),
        offsetof(struct rc_config, clip_cache_mb),
        offsetof(struct rc_config, max_connections_per_address),
        offsetof(struct rc_config, reader_sandbox),
    };
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
        for (size_t k = 0; k < OPTION_COUNT; k++) {
            if (options[k].offset != fixed[i]) {
                continue;
            }
            char *dst = (char *)&g->cfg + fixed[i];
            const char *src = (const char *)&old->cfg + fixed[i];
            size_t size = options[k].type == OPT_STRING ? options[k].size : sizeof(long);
            if (memcmp(dst, src, size) != 0) {
                rc_log(RC_LOG_WARN, "msg=\"option needs a restart, kept\" option=%s",
                       options[k].name);
                memcpy(dst, src, size);
            }
        }
    }
    rc = check_loosened(&old->cfg, &g->cfg, err);
    if (rc != RC_OK) {
        free(g);
        return rc;
    }
    g->older = old;
    atomic_store(&source->current, g);
    return RC_OK;
}
