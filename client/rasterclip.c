/*
 * rasterclip: command-line client for rasterclipd.
 *
 *   rasterclip render JOB.json -o clip.webm [--server http://127.0.0.1:8080]
 *
 * Posts the job and writes the streamed clip as it arrives (to FILE.part, renamed
 * to FILE once the whole clip is in; "-o -" writes to stdout). On an error answer it
 * prints the server's message and field and exits 1; an interrupted stream exits 1
 * too and leaves no output file.
 */
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_SERVER "http://127.0.0.1:8080"
#define MAX_JOB_BYTES (16u << 20)
#define MAX_ERROR_BYTES (64u << 10)

struct sink {
    FILE *out;        /* clip output, opened on the first byte of a 200 answer */
    const char *path; /* where `out` goes */
    CURL *curl;
    long status;
    char error[MAX_ERROR_BYTES]; /* body of a non-200 answer */
    size_t error_len;
    bool write_failed;
};

static void usage(FILE *to)
{
    fprintf(to, "usage: rasterclip render JOB.json -o OUT.webm [--server URL]\n"
                "  JOB.json   render job (wire contract v1); - reads standard input\n"
                "  -o OUT     where the clip goes; - writes to standard output\n"
                "  --server   daemon address (default $RASTERCLIP_SERVER or " DEFAULT_SERVER ")\n");
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n == cap) {
            char *grown = cap < MAX_JOB_BYTES ? realloc(buf, cap * 2) : NULL;
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
    *len = n;
    return buf;
}

static size_t on_data(char *data, size_t size, size_t count, void *ctx)
{
    struct sink *s = ctx;
    size_t len = size * count;
    if (s->status == 0) {
        curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &s->status);
    }
    if (s->status != 200) {
        size_t room = sizeof(s->error) - 1 - s->error_len;
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
    return len;
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

static int render(const char *job_path, const char *out_path, const char *server)
{
    size_t job_len = 0;
    char *job = read_all(job_path, &job_len);
    if (!job) {
        fprintf(stderr, "rasterclip: cannot read %s\n", job_path);
        return 2;
    }
    char url[2048], part[4096];
    snprintf(url, sizeof(url), "%s/v1/render", server);
    bool to_stdout = strcmp(out_path, "-") == 0;
    snprintf(part, sizeof(part), "%s.part", out_path);

    static struct sink s; /* large error buffer: keep it off the stack */
    memset(&s, 0, sizeof(s));
    s.path = to_stdout ? "-" : part;
    CURL *curl = curl_easy_init();
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    s.curl = curl;
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, job);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)job_len);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
    CURLcode res = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &s.status);
    double ttfb = 0, total = 0;
    curl_off_t bytes = 0;
    curl_easy_getinfo(curl, CURLINFO_STARTTRANSFER_TIME, &ttfb);
    curl_easy_getinfo(curl, CURLINFO_TOTAL_TIME, &total);
    curl_easy_getinfo(curl, CURLINFO_SIZE_DOWNLOAD_T, &bytes);
    int status = 0;
    if (s.status != 200 && s.status != 0) {
        print_server_error(&s);
        status = 1;
    } else if (res != CURLE_OK || s.write_failed) {
        fprintf(stderr, "rasterclip: %s\n",
                s.write_failed ? "cannot write the output" : curl_easy_strerror(res));
        status = 1;
    }
    if (s.out && s.out != stdout) {
        if (fclose(s.out) != 0) {
            status = 1;
        }
    } else if (s.out) {
        fflush(stdout);
    }
    if (!to_stdout && s.out) {
        if (status == 0 && rename(part, out_path) != 0) {
            fprintf(stderr, "rasterclip: cannot rename to %s\n", out_path);
            status = 1;
        }
        if (status != 0) {
            remove(part);
        }
    }
    if (status == 0) {
        fprintf(stderr, "rasterclip: %s: %lld bytes, first byte after %.3f s, %.3f s in all\n",
                out_path, (long long)bytes, ttfb, total);
    }
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    free(job);
    return status;
}

int main(int argc, char **argv)
{
    const char *server = getenv("RASTERCLIP_SERVER");
    const char *job = NULL, *out = NULL;
    if (argc < 2 || strcmp(argv[1], "render") != 0) {
        usage(argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) ? stdout
                                                                                          : stderr);
        return argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) ? 0 : 2;
    }
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
            out = argv[++i];
        } else if (strcmp(argv[i], "--server") == 0 && i + 1 < argc) {
            server = argv[++i];
        } else if (!job && (argv[i][0] != '-' || strcmp(argv[i], "-") == 0)) {
            job = argv[i];
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (!job || !out) {
        usage(stderr);
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int status = render(job, out, server && *server ? server : DEFAULT_SERVER);
    curl_global_cleanup();
    return status;
}
