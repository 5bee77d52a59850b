#include "raster/fetch.h"

#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/log.h"
#include "base/parse.h"
#include "raster/objstore.h"

/* The first request reads this much: the TIFF header and, for cloud-optimised
 * files, the directories of the file and its overviews. */
enum { PROBE_BYTES = 16384 };

struct rc_fetch {
    struct rc_fetch_config cfg;
    char field[64];
    char url[4096]; /* after redirects */
    CURL *curl;
    struct curl_slist *resolve;
    uint64_t size;
    char validator[256];
    uint64_t bytes;
    unsigned requests;
    double deadline_ms;
    bool failed;
    struct rc_error failure;
    uint8_t *head; /* the probe's bytes: [0, head_len) */
    size_t head_len;
    bool whole;                /* the server ignored ranges: `head` is the whole file */
    struct rc_objstore *store; /* object storage instead of curl */
};

struct response {
    struct rc_fetch *f;
    long status;
    char location[4096];
    char etag[256];
    char last_modified[256];
    char content_range[128];
    uint8_t *buf;
    size_t len, cap;
    bool growable; /* a 200 answer to a ranged request: the whole file comes */
    bool over_budget;
    struct rc_error refusal; /* set by the open-socket hook */
    bool refused;
};

static void copy_header_value(char *dst, size_t size, const char *value, size_t len)
{
    while (len > 0 && (*value == ' ' || *value == '\t')) {
        value++;
        len--;
    }
    while (len > 0 && (value[len - 1] == '\r' || value[len - 1] == '\n' || value[len - 1] == ' ')) {
        len--;
    }
    if (len >= size) {
        len = size - 1;
    }
    memcpy(dst, value, len);
    dst[len] = '\0';
}

static size_t on_header(char *line, size_t size, size_t count, void *ctx)
{
    struct response *r = ctx;
    size_t len = size * count;
    if (len > 5 && strncmp(line, "HTTP/", 5) == 0) {
        const char *sp = memchr(line, ' ', len);
        char *end = NULL;
        long status = sp ? strtol(sp + 1, &end, 10) : 0;
        r->status = sp && end != sp + 1 && status >= 100 && status <= 599 ? status : 0;
        r->location[0] = r->etag[0] = r->last_modified[0] = r->content_range[0] = '\0';
        return len;
    }
    static const struct {
        const char *name;
        size_t offset, size;
    } wanted[] = {
        {"location:", offsetof(struct response, location),
         sizeof(((struct response *)0)->location)},
        {"etag:", offsetof(struct response, etag), sizeof(((struct response *)0)->etag)},
        {"last-modified:", offsetof(struct response, last_modified),
         sizeof(((struct response *)0)->last_modified)},
        {"content-range:", offsetof(struct response, content_range),
         sizeof(((struct response *)0)->content_range)},
    };
    for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++) {
        size_t n = strlen(wanted[i].name);
        if (len > n && strncasecmp(line, wanted[i].name, n) == 0) {
            copy_header_value((char *)r + wanted[i].offset, wanted[i].size, line + n, len - n);
        }
    }
    return len;
}

static size_t on_body(char *data, size_t size, size_t count, void *ctx)
{
    struct response *r = ctx;
    size_t len = size * count;
    struct rc_fetch *f = r->f;
    if (f->bytes + len > f->cfg.max_bytes) {
        r->over_budget = true;
        return 0; /* aborts the transfer */
    }
    f->bytes += len;
    if (r->status != 200 && r->status != 206) {
        return len; /* an error page: counted, not kept */
    }
    if (r->len + len > r->cap) {
        if (!(r->growable && r->status == 200)) {
            return 0; /* more than was asked for */
        }
        size_t cap = r->cap ? r->cap : 65536;
        while (cap < r->len + len) {
            cap *= 2;
        }
        uint8_t *grown = realloc(r->buf, cap);
        if (!grown) {
            return 0;
        }
        r->buf = grown;
        r->cap = cap;
    }
    memcpy(r->buf + r->len, data, len);
    r->len += len;
    return len;
}

/* Every connection, redirects included, passes here with its resolved address. */
static curl_socket_t on_open_socket(void *ctx, curlsocktype purpose, struct curl_sockaddr *addr)
{
    struct response *r = ctx;
    (void)purpose;
    if (rc_url_policy_check_addr(&r->f->cfg.policy, &addr->addr, r->f->field, &r->refusal) !=
        RC_OK) {
        r->refused = true;
        return CURL_SOCKET_BAD;
    }
    return socket(addr->family, addr->socktype, addr->protocol);
}

/* Keeps `err` (already filled) as the file's first failure. */
static enum rc_err remember(struct rc_fetch *f, const struct rc_error *err)
{
    if (!f->failed) {
        f->failed = true;
        f->failure = *err;
    }
    return err->code;
}

static enum rc_err fail(struct rc_fetch *f, struct rc_error *err, enum rc_err code,
                        const char *message)
{
    rc_error_set(err, code, f->field, "%s", message);
    return remember(f, err);
}

/* One GET of [from, from + len) of `url` into r->buf (caller-sized). */
static enum rc_err request(struct rc_fetch *f, const char *url, uint64_t from, size_t len,
                           struct response *r, struct rc_error *err)
{
    double left = f->deadline_ms - rc_clock_ms();
    if (left <= 0) {
        return fail(f, err, RC_ERR_UPSTREAM_TIMEOUT, "the raster source timed out");
    }
    char range[64];
    snprintf(range, sizeof(range), "%" PRIu64 "-%" PRIu64, from, from + len - 1);
    CURL *c = f->curl;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_RANGE, range);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, r);
    long connect_ms = f->cfg.connect_timeout_ms < left ? f->cfg.connect_timeout_ms : (long)left;
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, connect_ms > 0 ? connect_ms : 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)left > 0 ? (long)left : 1L);
    f->requests++;
    CURLcode res = curl_easy_perform(c);
    if (r->refused) {
        *err = r->refusal;
        return remember(f, err);
    }
    if (r->over_budget) {
        return fail(f, err, RC_ERR_FORBIDDEN,
                    "refused by rule \"max_fetch_bytes\": the raster needs more bytes than "
                    "allowed");
    }
    if (res == CURLE_OPERATION_TIMEDOUT) {
        return fail(f, err, RC_ERR_UPSTREAM_TIMEOUT, "the raster source timed out");
    }
    if (res != CURLE_OK) {
        rc_log(RC_LOG_INFO, "msg=\"fetch failed\" curl=\"%s\"", curl_easy_strerror(res));
        return fail(f, err, RC_ERR_UPSTREAM,
                    res == CURLE_COULDNT_RESOLVE_HOST
                        ? "the raster source could not be reached (unknown host)"
                        : "the raster source could not be reached (connection failed)");
    }
    return RC_OK;
}

static enum rc_err status_error(struct rc_fetch *f, long status, struct rc_error *err)
{
    char message[64];
    snprintf(message, sizeof(message), "the raster source answered HTTP %ld", status);
    return fail(f, err, status == 404 || status == 410 ? RC_ERR_NOT_FOUND : RC_ERR_UPSTREAM,
                message);
}

/* Resolves a Location against the current URL; only http(s) targets survive. */
static enum rc_err follow(struct rc_fetch *f, const char *location, struct rc_error *err)
{
    char next[sizeof(f->url)];
    if (strncasecmp(location, "http://", 7) == 0 || strncasecmp(location, "https://", 8) == 0) {
        snprintf(next, sizeof(next), "%s", location);
    } else if (location[0] == '/' && location[1] != '/') {
        const char *after_scheme = strstr(f->url, "://");
        const char *path = after_scheme ? strchr(after_scheme + 3, '/') : NULL;
        size_t origin = path ? (size_t)(path - f->url) : strlen(f->url);
        if (origin + strlen(location) >= sizeof(next)) {
            return fail(f, err, RC_ERR_UPSTREAM, "redirect target too long");
        }
        memcpy(next, f->url, origin);
        memcpy(next + origin, location, strlen(location) + 1);
    } else {
        struct rc_url ignored;
        enum rc_err rc = rc_url_parse(location, f->field, &ignored, err);
        return rc != RC_OK ? remember(f, err)
                           : fail(f, err, RC_ERR_UPSTREAM, "unsupported redirect");
    }
    struct rc_url u;
    enum rc_err rc = rc_url_parse(next, f->field, &u, err);
    rc = rc ? rc : rc_url_policy_check_host(&f->cfg.policy, u.host, f->field, err);
    if (rc != RC_OK) {
        return remember(f, err);
    }
    snprintf(f->url, sizeof(f->url), "%s", next);
    return RC_OK;
}

static enum rc_err probe(struct rc_fetch *f, struct rc_error *err)
{
    for (int hop = 0; hop <= RC_FETCH_MAX_REDIRECTS; hop++) {
        struct response r = {.f = f, .cap = PROBE_BYTES, .growable = true};
        r.buf = malloc(r.cap);
        if (!r.buf) {
            return fail(f, err, RC_ERR_NOMEM, "out of memory");
        }
        enum rc_err rc = request(f, f->url, 0, PROBE_BYTES, &r, err);
        if (rc == RC_OK && r.status >= 300 && r.status < 400 && r.location[0]) {
            free(r.buf);
            rc = follow(f, r.location, err);
            if (rc != RC_OK) {
                return rc;
            }
            continue;
        }
        if (rc == RC_OK && r.status == 206) {
            /* "bytes first-last/size"; the size must be given (RFC 9110, 14.4). */
            const char *slash = strchr(r.content_range, '/');
            if (!slash || !rc_parse_u64(slash + 1, &f->size)) {
                free(r.buf);
                rc_log(RC_LOG_WARN, "msg=\"bad Content-Range\" value=\"%.80s\"", r.content_range);
                return fail(f, err, RC_ERR_UPSTREAM, "the raster's server sent no usable size");
            }
        } else if (rc == RC_OK && r.status == 200) {
            f->whole = true; /* no ranges: the body is the file */
            f->size = r.len;
        } else if (rc == RC_OK) {
            rc = status_error(f, r.status, err);
        }
        if (rc != RC_OK) {
            free(r.buf);
            return rc;
        }
        f->head = r.buf;
        f->head_len = r.len;
        snprintf(f->validator, sizeof(f->validator), "%s", r.etag[0] ? r.etag : r.last_modified);
        return RC_OK;
    }
    return fail(f, err, RC_ERR_UPSTREAM, "too many redirects");
}

/* A fetch of `url` whose time starts now; NULL when memory is short. */
static struct rc_fetch *new_fetch(const struct rc_fetch_config *cfg, const char *url,
                                  const char *field)
{
    struct rc_fetch *f = calloc(1, sizeof(*f));
    if (f) {
        f->cfg = *cfg;
        snprintf(f->field, sizeof(f->field), "%s", field);
        snprintf(f->url, sizeof(f->url), "%s", url);
        f->deadline_ms = rc_clock_ms() + (double)cfg->timeout_ms;
    }
    return f;
}

static enum rc_err open_store(const struct rc_fetch_config *cfg, const char *url, const char *field,
                              struct rc_fetch **out, struct rc_error *err)
{
    struct rc_fetch *f = new_fetch(cfg, url, field);
    if (!f) {
        return rc_error_set(err, RC_ERR_NOMEM, field, "out of memory");
    }
    enum rc_err rc = rc_objstore_open(&cfg->policy, cfg->allow_bucket, cfg->connect_timeout_ms,
                                      cfg->timeout_ms, url, field, &f->store, err);
    if (rc != RC_OK) {
        free(f);
        return rc;
    }
    f->size = rc_objstore_size(f->store);
    snprintf(f->validator, sizeof(f->validator), "%s", rc_objstore_validator(f->store));
    *out = f;
    return RC_OK;
}

enum rc_err rc_fetch_open(const struct rc_fetch_config *cfg, const char *url, const char *field,
                          struct rc_fetch **out, struct rc_error *err)
{
    *out = NULL;
    if (rc_objstore_is_url(url)) {
        return open_store(cfg, url, field, out, err);
    }
    struct rc_url u;
    enum rc_err rc = rc_url_parse(url, field, &u, err);
    rc = rc ? rc : rc_url_policy_check_host(&cfg->policy, u.host, field, err);
    if (rc != RC_OK) {
        return rc;
    }
    struct rc_fetch *f = new_fetch(cfg, url, field);
    if (!f) {
        return rc_error_set(err, RC_ERR_NOMEM, field, "out of memory");
    }
    f->curl = curl_easy_init();
    if (!f->curl) {
        free(f);
        return rc_error_set(err, RC_ERR_NOMEM, field, "out of memory");
    }
    for (const char *p = cfg->resolve ? cfg->resolve : ""; *p;) {
        size_t n = strcspn(p, ",");
        char entry[300];
        if (n > 0 && n < sizeof(entry)) {
            memcpy(entry, p, n);
            entry[n] = '\0';
            f->resolve = curl_slist_append(f->resolve, entry);
        }
        p += n + (p[n] == ',');
    }
    CURL *c = f->curl;
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROXY, ""); /* a proxy would connect where we cannot check */
    curl_easy_setopt(c, CURLOPT_USERAGENT, "rasterclip/" RC_VERSION);
    if (f->resolve) {
        curl_easy_setopt(c, CURLOPT_RESOLVE, f->resolve);
    }
    rc = probe(f, err);
    if (rc != RC_OK) {
        rc_fetch_close(f);
        return rc;
    }
    *out = f;
    return RC_OK;
}

void rc_fetch_close(struct rc_fetch *fetch)
{
    if (!fetch) {
        return;
    }
    rc_objstore_close(fetch->store);
    if (fetch->curl) {
        curl_easy_cleanup(fetch->curl);
    }
    curl_slist_free_all(fetch->resolve);
    free(fetch->head);
    free(fetch);
}

uint64_t rc_fetch_size(const struct rc_fetch *fetch)
{
    return fetch->size;
}

const char *rc_fetch_validator(const struct rc_fetch *fetch)
{
    return fetch->validator;
}

uint64_t rc_fetch_bytes(const struct rc_fetch *fetch)
{
    return fetch->bytes;
}

unsigned rc_fetch_requests(const struct rc_fetch *fetch)
{
    return fetch->requests;
}

const struct rc_error *rc_fetch_failure(const struct rc_fetch *fetch)
{
    return fetch->failed ? &fetch->failure : NULL;
}

enum rc_err rc_fetch_read(struct rc_fetch *f, uint64_t offset, void *buf, size_t len, size_t *got,
                          struct rc_error *err)
{
    *got = 0;
    if (offset >= f->size || len == 0) {
        return RC_OK;
    }
    if (len > f->size - offset) {
        len = (size_t)(f->size - offset);
    }
    if (f->store) {
        if (rc_clock_ms() > f->deadline_ms) {
            return fail(f, err, RC_ERR_UPSTREAM_TIMEOUT, "reading the object took too long");
        }
        if (f->bytes + len > f->cfg.max_bytes) {
            return fail(f, err, RC_ERR_FORBIDDEN,
                        "refused by rule \"max_fetch_bytes\": the raster needs more bytes than "
                        "allowed");
        }
        f->requests++;
        enum rc_err rc = rc_objstore_read(f->store, offset, buf, len, got, err);
        f->bytes += *got;
        return rc == RC_OK ? RC_OK : remember(f, err);
    }
    /* What the probe already brought is not asked for again. */
    size_t cached = offset < f->head_len ? f->head_len - (size_t)offset : 0;
    cached = cached < len ? cached : len;
    memcpy(buf, f->head + offset, cached);
    *got = cached;
    if (f->whole || cached == len) {
        return RC_OK;
    }
    struct response r = {.f = f, .buf = (uint8_t *)buf + cached, .cap = len - cached};
    enum rc_err rc = request(f, f->url, offset + cached, len - cached, &r, err);
    if (rc == RC_OK && r.status != 206) {
        rc = status_error(f, r.status, err);
    }
    *got = cached + r.len;
    return rc;
}

void rc_fetch_global_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}
