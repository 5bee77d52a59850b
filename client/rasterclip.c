/*
 * rasterclip: the command-line client for rasterclipd. `rasterclip --help` is the
 * manual (usage() below).
 *
 * render posts a job — a JSON file, flags for the common fields, or both (flags
 * win), with the raster from the daemon's data root or a URL (--url) or uploaded
 * from a file (--raster) — and writes the streamed clip as it arrives (to
 * FILE.part, renamed to FILE once the whole clip is in; "-o -" writes to standard
 * output). On a terminal, stderr shows a progress bar. info, colormaps and health
 * print the daemon's JSON answers. Exit codes tell the failures apart (EXIT_*).
 */
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define DEFAULT_SERVER "http://127.0.0.1:8080"
#define MAX_JOB_BYTES (16u << 20)
#define MAX_ERROR_BYTES (64u << 10)

static void usage(FILE *to)
{
    fprintf(
        to,
        "usage: rasterclip render [JOB.json] [options] -o OUT\n"
        "       rasterclip info | colormaps [--names] | health [--server URL]\n"
        "       rasterclip sign --key-file FILE --expires-in SECONDS URL\n"
        "       rasterclip --version\n"
        "\n"
        "render: posts a render job and saves the clip as it streams.\n"
        "  JOB.json          a job (wire contract v1; - reads standard input); the options\n"
        "                    below set or override its fields\n"
        "  -o OUT            where the clip goes (written to OUT.part, renamed when complete);\n"
        "                    - writes to standard output\n"
        "  --url URL         raster.url: a path under the daemon's data root, or http(s)://\n"
        "  --raster FILE     upload FILE as the raster (any file GDAL reads, or a .npy)\n"
        "  --heights FILE    upload FILE as the surface's heights\n"
        "  --colormap NAME   style.colormap (matplotlib's names, _r reversed)\n"
        "  --mode MODE       style.mode: image or surface\n"
        "  --title TEXT      style.title\n"
        "  --orbit DEGREES   camera.orbit.degrees (how far the camera turns)\n"
        "  --size WxH        output.width and output.height\n"
        "  --fps N           output.fps\n"
        "  --duration S      output.duration in seconds\n"
        "  --frames N        output.frames\n"
        "  --format F        output.format: webm, mp4 or gif\n"
        "  --retry N         retry a busy daemon (429, 503) N times after its Retry-After\n"
        "                    (default 2)\n"
        "  --quiet           no progress bar and no summary line\n"
        "\n"
        "sign: prints URL (a GET of /v1/render) signed with the key in FILE (the daemon's\n"
        "  --url-signing-key-file), valid for SECONDS: a page's <video src> needs no\n"
        "  token then.\n"
        "\n"
        "common options:\n"
        "  --server URL      the daemon: http(s)://HOST:PORT or unix:PATH (default\n"
        "                    $RASTERCLIP_SERVER, else " DEFAULT_SERVER ")\n"
        "  --token TOKEN     bearer token (default $RASTERCLIP_TOKEN)\n"
        "  -h, --help        this text\n"
        "\n"
        "On a terminal, render shows frames received of the clip's length (the daemon's\n"
        "X-Frame-Count header), bytes, rate and time left on stderr; it prints nothing\n"
        "there when stderr is not a terminal, but errors.\n"
        "\n"
        "exit status:\n"
        "  0  the clip (or the answer) is complete\n"
        "  2  usage error: bad options, an unreadable job or raster file\n"
        "  3  the job was rejected as it is (400, 413, 415, 422): fix the job\n"
        "  4  refused (401, 403): a token, or a raster the daemon may not read\n"
        "  5  not found (404): no such raster\n"
        "  6  busy (429, 503) after --retry attempts: try later\n"
        "  7  the daemon or the raster's server failed (5xx), or the stream was cut short\n"
        "  8  network failure (no answer) or the output could not be written\n");
}

char *read_file(const char *path, size_t *len, size_t max)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        if (n == cap) {
            char *grown = cap < max ? realloc(buf, cap * 2 + 1) : NULL;
            if (!grown) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = grown;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            break;
        }
    }
    if (f != stdin) {
        fclose(f);
    }
    if (buf) {
        buf[n] = '\0';
    }
    *len = n;
    return buf;
}

/* Sets section.key in the job to `value` (taking it). */
static void set(json_t *job, const char *section, const char *key, json_t *value)
{
    json_t *s = json_object_get(job, section);
    if (!json_is_object(s)) {
        s = json_object();
        json_object_set_new(job, section, s);
    }
    json_object_set_new(s, key, value);
}

static bool number(const char *text, double *out)
{
    char *end = NULL;
    errno = 0;
    *out = strtod(text, &end);
    return errno == 0 && end != text && *end == '\0';
}

json_t *build_job(const struct options *o)
{
    json_t *job = NULL;
    if (o->job_path) {
        size_t len = 0;
        char *text = read_file(o->job_path, &len, MAX_JOB_BYTES);
        if (!text) {
            fprintf(stderr, "rasterclip: cannot read %s\n", o->job_path);
            return NULL;
        }
        json_error_t jerr;
        job = json_loadb(text, len, 0, &jerr);
        free(text);
        if (!json_is_object(job)) {
            fprintf(stderr, "rasterclip: %s is not a JSON object (line %d: %s)\n", o->job_path,
                    jerr.line, jerr.text);
            json_decref(job);
            return NULL;
        }
    } else {
        job = json_object();
    }
    const struct {
        const char *value, *section, *key;
        bool numeric;
    } fields[] = {
        {o->url, "raster", "url", false},      {o->colormap, "style", "colormap", false},
        {o->mode, "style", "mode", false},     {o->title, "style", "title", false},
        {o->fps, "output", "fps", true},       {o->duration, "output", "duration", true},
        {o->frames, "output", "frames", true}, {o->format, "output", "format", false},
    };
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        double v;
        if (!fields[i].value) {
            continue;
        }
        if (fields[i].numeric && !number(fields[i].value, &v)) {
            fprintf(stderr, "rasterclip: --%s needs a number\n", fields[i].key);
            json_decref(job);
            return NULL;
        }
        set(job, fields[i].section, fields[i].key,
            fields[i].numeric ? (v == (long long)v ? json_integer((json_int_t)v) : json_real(v))
                              : json_string(fields[i].value));
    }
    double degrees;
    if (o->orbit) {
        if (!number(o->orbit, &degrees)) {
            fprintf(stderr, "rasterclip: --orbit needs a number of degrees\n");
            json_decref(job);
            return NULL;
        }
        json_t *camera = json_object_get(job, "camera");
        json_t *orbit = json_object_get(camera, "orbit");
        if (!json_is_object(orbit)) {
            orbit = json_object();
            set(job, "camera", "orbit", orbit);
        }
        json_object_set_new(orbit, "degrees", json_real(degrees));
    }
    if (o->size) {
        unsigned w, h;
        char extra;
        if (sscanf(o->size, "%ux%u%c", &w, &h, &extra) != 2) {
            fprintf(stderr, "rasterclip: --size needs WIDTHxHEIGHT, e.g. 1280x720\n");
            json_decref(job);
            return NULL;
        }
        set(job, "output", "width", json_integer(w));
        set(job, "output", "height", json_integer(h));
    }
    if (!json_object_get(json_object_get(job, "raster"), "url") && !o->raster) {
        fprintf(stderr,
                "rasterclip: no raster: give JOB.json with raster.url, --url or --raster\n");
        json_decref(job);
        return NULL;
    }
    return job;
}

static int parse_args(int argc, char **argv, struct options *o)
{
    *o = (struct options){
        .server = getenv("RASTERCLIP_SERVER"), .token = getenv("RASTERCLIP_TOKEN"), .retry = 2};
    if (argc < 2) {
        return EXIT_USAGE;
    }
    o->command = argv[1];
    if (strcmp(o->command, "--version") == 0) {
        o->command = "version";
    }
    struct {
        const char *flag;
        const char **value;
    } valued[] = {
        {"-o", &o->out},
        {"--server", &o->server},
        {"--token", &o->token},
        {"--url", &o->url},
        {"--raster", &o->raster},
        {"--heights", &o->heights},
        {"--colormap", &o->colormap},
        {"--mode", &o->mode},
        {"--title", &o->title},
        {"--orbit", &o->orbit},
        {"--size", &o->size},
        {"--fps", &o->fps},
        {"--duration", &o->duration},
        {"--frames", &o->frames},
        {"--format", &o->format},
        {"--key-file", &o->key_file},
        {"--expires-in", &o->expires_in},
    };
    for (int i = 2; i < argc; i++) {
        bool matched = false;
        for (size_t k = 0; k < sizeof(valued) / sizeof(valued[0]) && !matched; k++) {
            if (strcmp(argv[i], valued[k].flag) == 0) {
                if (i + 1 >= argc) {
                    fprintf(stderr, "rasterclip: %s needs a value\n", argv[i]);
                    return EXIT_USAGE;
                }
                *valued[k].value = argv[++i];
                matched = true;
            }
        }
        if (matched) {
            continue;
        }
        if (strcmp(argv[i], "--retry") == 0 && i + 1 < argc) {
            char *end = NULL;
            o->retry = strtol(argv[++i], &end, 10);
            if (!end || *end || o->retry < 0 || o->retry > 100) {
                fprintf(stderr, "rasterclip: --retry needs a count 0..100\n");
                return EXIT_USAGE;
            }
        } else if (strcmp(argv[i], "--quiet") == 0) {
            o->quiet = true;
        } else if (strcmp(argv[i], "--names") == 0) {
            o->names = true;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            o->command = "help";
        } else if (!o->job_path && (argv[i][0] != '-' || strcmp(argv[i], "-") == 0)) {
            o->job_path = argv[i];
        } else {
            fprintf(stderr, "rasterclip: unknown option %s (rasterclip --help lists them)\n",
                    argv[i]);
            return EXIT_USAGE;
        }
    }
    if (!o->server || !*o->server) {
        o->server = DEFAULT_SERVER;
    }
    return EXIT_OK;
}

int main(int argc, char **argv)
{
    struct options o;
    int status = parse_args(argc, argv, &o);
    if (status == EXIT_OK && (strcmp(o.command, "help") == 0 || strcmp(o.command, "-h") == 0 ||
                              strcmp(o.command, "--help") == 0)) {
        usage(stdout);
        return EXIT_OK;
    }
    if (status == EXIT_OK && strcmp(o.command, "version") == 0) {
        printf("rasterclip %s\n", RC_VERSION);
        return EXIT_OK;
    }
    if (status != EXIT_OK) {
        usage(stderr);
        return status;
    }
    if (strcmp(o.command, "sign") == 0) {
        return sign_url(&o);
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (strcmp(o.command, "render") == 0) {
        status = render(&o);
    } else if (strcmp(o.command, "info") == 0) {
        status = get_json(&o, "/v1/info");
    } else if (strcmp(o.command, "colormaps") == 0) {
        status = get_json(&o, "/v1/colormaps");
    } else if (strcmp(o.command, "health") == 0) {
        status = get_json(&o, "/healthz");
    } else {
        fprintf(stderr, "rasterclip: unknown command %s\n", o.command);
        usage(stderr);
        status = EXIT_USAGE;
    }
    curl_global_cleanup();
    return status;
}
