/* The client's HTTP side: the render request (JSON, or multipart with uploads),
 * the streamed clip into its file, the progress bar, and answers to exit codes. */
#include <curl/curl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "frames.h"

#define MAX_ERROR_BYTES (64u << 10)

struct sink {
    FILE *out;        /* clip output, opened on the first byte of a 200 answer */
    const char *path; /* where `out` goes */
    CURL *curl;
    long status;
    char *error; /* body of a non-200 answer (MAX_ERROR_BYTES) */
    size_t error_len;
    bool write_failed;
    /* progress */
    bool show;
    struct rc_frame_counter frames;
    unsigned long long total_frames; /* X-Frame-Count; 0: not known */
    unsigned long long bytes;
    double start, last_draw;
    char retry_after[16];
    char content_type[64];
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t on_header(char *data, size_t size, size_t count, void *ctx)
{
    struct sink *s = ctx;
    size_t len = size * count;
    char line[256];
    snprintf(line, sizeof(line), "%.*s", (int)(len < sizeof(line) - 1 ? len : sizeof(line) - 1),
             data);
    line[strcspn(line, "\r\n")] = '\0';
    if (strncasecmp(line, "x-frame-count:", 14) == 0) {
        s->total_frames = strtoull(line + 14, NULL, 10);
    } else if (strncasecmp(line, "retry-after:", 12) == 0) {
        snprintf(s->retry_after, sizeof(s->retry_after), "%s", line + 12 + strspn(line + 12, " "));
    } else if (strncasecmp(line, "content-type:", 13) == 0) {
        snprintf(s->content_type, sizeof(s->content_type), "%s",
                 line + 13 + strspn(line + 13, " "));
    }
    return len;
}

static void draw_progress(struct sink *s, bool final)
{
    double t = now_s();
    if (!s->show || (!final && t - s->last_draw < 0.1)) {
        return;
    }
    s->last_draw = t;
    double elapsed = t - s->start > 1e-3 ? t - s->start : 1e-3;
    double rate = (double)s->bytes / elapsed;
    unsigned long long done = s->frames.frames, total = s->total_frames;
    char bar[31] = "";
    if (total) {
        size_t filled = (size_t)(30 * (done > total ? total : done) / total);
        for (size_t i = 0; i < 30; i++) {
            bar[i] = i < filled ? '#' : '.';
        }
        bar[30] = '\0';
    }
    double left = total && done
                      ? elapsed * (double)(total - (done < total ? done : total)) / (double)done
                      : 0;
    fprintf(stderr, "\r[%s] %llu/%llu frames  %.1f MB  %.1f MB/s  %.0f s left \033[K", bar, done,
            total, (double)s->bytes / 1e6, rate / 1e6, left);
    if (final) {
        fputc('\n', stderr);
    }
    fflush(stderr);
}

static size_t on_data(char *data, size_t size, size_t count, void *ctx)
{
    struct sink *s = ctx;
    size_t len = size * count;
    if (s->status == 0) {
        curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &s->status);
        rc_frames_init(&s->frames, rc_clip_kind_of(s->content_type));
    }
    if (s->status != 200) {
        size_t room = MAX_ERROR_BYTES - 1 - s->error_len;
        size_t n = len < room ? len : room;
        memcpy(s->error + s->error_len, data, n);
        s->error_len += n;
        return len;
    }
    if (!s->out) {
        s->out = strcmp(s->path, "-") == 0 ? stdout : fopen(s->path, "wb");
        if (!s->out) {
            s->write_failed = true;
            return 0;
        }
    }
    if (fwrite(data, 1, len, s->out) != len) {
        s->write_failed = true;
        return 0;
    }
    s->bytes += len;
    rc_frames_feed(&s->frames, (const unsigned char *)data, len);
    draw_progress(s, false);
    return len;
}

/* The exit code an HTTP status means. */
static int exit_for_status(long status)
{
    switch (status) {
    case 400:
    case 413:
    case 415:
    case 422:
        return EXIT_REJECTED;
    case 401:
    case 403:
        return EXIT_REFUSED;
    case 404:
        return EXIT_NOT_FOUND;
    case 429:
    case 503:
        return EXIT_BUSY;
    default:
        return status >= 500 ? EXIT_FAILED : EXIT_REJECTED;
    }
}

static void print_server_error(const struct sink *s)
{
    json_error_t jerr;
    json_t *root = json_loadb(s->error, s->error_len, 0, &jerr);
    json_t *e = json_object_get(root, "error");
    const char *message = json_string_value(json_object_get(e, "message"));
    const char *field = json_string_value(json_object_get(e, "field"));
    const char *code = json_string_value(json_object_get(e, "code"));
    if (message) {
        fprintf(stderr, "rasterclip: server answered %ld %s: %s%s%s%s\n", s->status,
                code ? code : "", message, field ? " (field " : "", field ? field : "",
                field ? ")" : "");
    } else {
        fprintf(stderr, "rasterclip: server answered %ld: %.*s\n", s->status, (int)s->error_len,
                s->error);
    }
    json_decref(root);
}

static struct curl_slist *auth_header(const struct options *o, struct curl_slist *list)
{
    if (o->token && *o->token) {
        char line[1024];
        snprintf(line, sizeof(line), "Authorization: Bearer %s", o->token);
        list = curl_slist_append(list, line);
    }
    return list;
}

/* What every request of the client sets: its URL and headers, where the body goes,
 * http(s) only, and a connect timeout. */
/* The URL of `path` on the server; a "unix:PATH" server is reached through its
 * socket, as http://localhost. */
static void server_url(const struct options *o, const char *path, char *url, size_t size)
{
    bool unix_socket = strncmp(o->server, "unix:", 5) == 0;
    snprintf(url, size, "%s%s", unix_socket ? "http://localhost" : o->server, path);
}

static void common_options(CURL *curl, const struct options *o, const char *url,
                           struct curl_slist *headers, curl_write_callback write, void *ctx)
{
    curl_easy_setopt(curl, CURLOPT_URL, url);
    if (strncmp(o->server, "unix:", 5) == 0) {
        curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, o->server + 5);
    }
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, ctx);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
}

/* One POST of the job; fills `s`. */
static CURLcode post_once(const struct options *o, const char *job, struct sink *s)
{
    char url[2048];
    server_url(o, "/v1/render", url, sizeof(url));
    CURL *curl = curl_easy_init();
    s->curl = curl;
    curl_mime *mime = NULL;
    struct curl_slist *headers = auth_header(o, NULL);
    if (o->raster || o->heights) {
        mime = curl_mime_init(curl);
        curl_mimepart *part = curl_mime_addpart(mime);
        curl_mime_name(part, "job");
        curl_mime_data(part, job, CURL_ZERO_TERMINATED);
        curl_mime_type(part, "application/json");
        const char *files[2][2] = {{"raster", o->raster}, {"heights", o->heights}};
        for (int i = 0; i < 2; i++) {
            if (files[i][1]) {
                part = curl_mime_addpart(mime);
                curl_mime_name(part, files[i][0]);
                curl_mime_filedata(part, files[i][1]);
                curl_mime_type(part, "application/octet-stream");
            }
        }
        curl_easy_setopt(curl, CURLOPT_MIMEPOST, mime);
    } else {
        headers = curl_slist_append(headers, "Content-Type: application/json");
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, job);
    }
    common_options(curl, o, url, headers, (curl_write_callback)on_data, s);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, s);
    CURLcode res = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &s->status);
    curl_mime_free(mime);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    s->curl = NULL;
    return res;
}

int render(const struct options *o)
{
    if (!o->out) {
        fprintf(stderr, "rasterclip: render needs -o FILE (or -o - for standard output)\n");
        return EXIT_USAGE;
    }
    const char *uploads[] = {o->raster, o->heights};
    for (size_t i = 0; i < 2; i++) {
        if (uploads[i] && access(uploads[i], R_OK) != 0) {
            fprintf(stderr, "rasterclip: cannot read %s\n", uploads[i]);
            return EXIT_USAGE;
        }
    }
    bool to_stdout = strcmp(o->out, "-") == 0;
    if (to_stdout && isatty(STDOUT_FILENO)) {
        /* As curl does: a clip is binary, and a terminal is no place for it. */
        fprintf(stderr, "rasterclip: the clip is binary: not written to a terminal (give -o FILE, "
                        "or redirect standard output)\n");
        return EXIT_USAGE;
    }
    json_t *job_json = build_job(o);
    if (!job_json) {
        return EXIT_USAGE;
    }
    char *job = json_dumps(job_json, JSON_COMPACT);
    json_decref(job_json);
    char part[4096];
    snprintf(part, sizeof(part), "%s.part", o->out);
    struct sink s;
    CURLcode res = CURLE_OK;
    int status = EXIT_OK;
    char *error = malloc(MAX_ERROR_BYTES);
    for (long attempt = 0; error; attempt++) {
        memset(&s, 0, sizeof(s));
        s.error = error;
        s.path = to_stdout ? "-" : part;
        s.show = !o->quiet && isatty(STDERR_FILENO);
        s.start = now_s();
        res = post_once(o, job, &s);
        if ((s.status == 429 || s.status == 503) && attempt < o->retry) {
            long wait = s.retry_after[0] ? strtol(s.retry_after, NULL, 10) : 1;
            wait = wait < 0 ? 0 : wait > 60 ? 60 : wait;
            if (!o->quiet) {
                fprintf(stderr, "rasterclip: server busy (%ld), retrying in %ld s\n", s.status,
                        wait);
            }
            sleep((unsigned)wait);
            continue;
        }
        break;
    }
    if (!error) {
        status = EXIT_NETWORK;
    } else if (s.status != 200 && s.status != 0) {
        print_server_error(&s);
        status = exit_for_status(s.status);
    } else if (s.write_failed) {
        fprintf(stderr, "rasterclip: cannot write %s\n", o->out);
        status = EXIT_NETWORK;
    } else if (res != CURLE_OK) {
        /* An answer that began and stopped is the server's failure; none at all, ours. */
        bool began = s.status == 200;
        if (began) {
            fprintf(stderr, "rasterclip: the stream was cut short: %s\n", curl_easy_strerror(res));
        } else {
            fprintf(stderr, "rasterclip: cannot reach %s: %s\n", o->server,
                    curl_easy_strerror(res));
        }
        status = began ? EXIT_FAILED : EXIT_NETWORK;
    }
    if (s.show && s.status == 200) {
        draw_progress(&s, true);
    }
    if (s.out && s.out != stdout && fclose(s.out) != 0 && status == EXIT_OK) {
        status = EXIT_NETWORK;
    } else if (s.out == stdout) {
        fflush(stdout);
    }
    if (!to_stdout && s.out) {
        if (status == EXIT_OK && rename(part, o->out) != 0) {
            fprintf(stderr, "rasterclip: cannot rename to %s\n", o->out);
            status = EXIT_NETWORK;
        }
        if (status != EXIT_OK) {
            remove(part);
        }
    }
    if (status == EXIT_OK && s.show) {
        fprintf(stderr, "rasterclip: %s: %llu frames, %llu bytes in %.2f s\n", o->out,
                (unsigned long long)s.frames.frames, s.bytes, now_s() - s.start);
    }
    free(error);
    free(job);
    return status;
}

/* `colormaps --names`: one name a line, as scripts want them. */
static int print_names(const char *body, size_t len)
{
    json_t *root = json_loadb(body, len, 0, NULL);
    json_t *list = json_object_get(root, "colormaps");
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item)
    {
        const char *name = json_string_value(json_object_get(item, "name"));
        if (name) {
            printf("%s\n", name);
        }
    }
    json_decref(root);
    return list ? EXIT_OK : EXIT_FAILED;
}

static size_t collect(char *data, size_t size, size_t count, void *ctx)
{
    return fwrite(data, size, count, ctx) == count ? size * count : 0;
}

int get_json(const struct options *o, const char *path)
{
    char url[2048];
    server_url(o, path, url, sizeof(url));
    char *body = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&body, &len);
    CURL *curl = curl_easy_init();
    struct curl_slist *headers = auth_header(o, NULL);
    common_options(curl, o, url, headers, (curl_write_callback)collect, mem);
    CURLcode res = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    fclose(mem);
    int code = EXIT_OK;
    if (res != CURLE_OK) {
        fprintf(stderr, "rasterclip: cannot reach %s: %s\n", o->server, curl_easy_strerror(res));
        code = EXIT_NETWORK;
    } else if (status == 200 && o->names) {
        code = print_names(body, len);
    } else {
        json_error_t jerr;
        json_t *root = json_loadb(body, len, 0, &jerr);
        if (root) {
            json_dumpf(root, status == 200 ? stdout : stderr, JSON_INDENT(2));
            fputc('\n', status == 200 ? stdout : stderr);
        } else {
            fprintf(stderr, "rasterclip: %s answered %ld with no JSON\n", path, status);
        }
        json_decref(root);
        code = status == 200 ? EXIT_OK : exit_for_status(status);
    }
    free(body);
    return code;
}
