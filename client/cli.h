/*
 * cli: what the command-line client's files share — its options, exit codes, and
 * the job and transfer functions. Single-threaded.
 */
#ifndef RC_CLIENT_CLI_H
#define RC_CLIENT_CLI_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define DEFAULT_SERVER "http://127.0.0.1:8080"
#define MAX_JOB_BYTES (16u << 20)

enum {
    EXIT_OK = 0,
    EXIT_USAGE = 2,    /* bad arguments, unreadable job or raster file */
    EXIT_REJECTED = 3, /* the job was refused as it is: 400, 413, 415, 422 */
    EXIT_REFUSED = 4,  /* not allowed: 401, 403 */
    EXIT_NOT_FOUND = 5,
    EXIT_BUSY = 6,    /* 429 or 503, after --retry attempts */
    EXIT_FAILED = 7,  /* a server or upstream failure (5xx), or a stream cut short */
    EXIT_NETWORK = 8, /* no answer (connection, DNS, timeout), or the output failed */
};

struct options {
    const char *command, *job_path, *out, *server, *token;
    const char *key_file, *expires_in; /* sign */
    const char *url, *raster, *heights, *colormap, *mode, *title, *orbit, *size, *fps, *duration,
        *frames, *format;
    long retry;
    bool quiet;
    bool names; /* colormaps: names only */
};

/* A whole file ("-": standard input), NUL-terminated; NULL when unreadable or over
 * `max` bytes. */
char *read_file(const char *path, size_t *len, size_t max);
/* The job: the file's, then the options on top. NULL (with a message) on error. */
json_t *build_job(const struct options *o);

/* The render command (client/transfer.c). */
int render(const struct options *o);
/* The sign command (client/sign.c): job_path holds the URL. */
int sign_url(const struct options *o);
/* GETs `path` and prints the JSON answer. */
int get_json(const struct options *o, const char *path);

#endif
