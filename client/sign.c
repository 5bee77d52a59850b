/*
 * sign: `rasterclip sign --key-file FILE --expires-in SECONDS URL` prints URL
 * with `expires` and `sig` added (base/urlsign.h), for a page's <video src> when
 * the daemon wants tokens. An `expires` or `sig` already in URL is replaced.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/urlsign.h"
#include "cli.h"

enum { MAX_PARAMS = 512 };

static int hex_value(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* %XX and '+' decoded in place, as the daemon's server decodes a query. */
static void decode(char *s)
{
    char *out = s;
    for (; *s; s++) {
        if (*s == '%' && hex_value(s[1]) >= 0 && hex_value(s[2]) >= 0) {
            *out++ = (char)(hex_value(s[1]) * 16 + hex_value(s[2]));
            s += 2;
        } else {
            *out++ = *s == '+' ? ' ' : *s;
        }
    }
    *out = '\0';
}

int sign_url(const struct options *o)
{
    if (!o->key_file || !o->expires_in || !o->job_path) {
        fprintf(stderr, "rasterclip: sign needs --key-file FILE, --expires-in SECONDS and a URL\n");
        return EXIT_USAGE;
    }
    char *end = NULL;
    long seconds = strtol(o->expires_in, &end, 10);
    if (!end || *end || seconds < 1 || seconds > 10L * 365 * 86400) {
        fprintf(stderr, "rasterclip: --expires-in needs seconds, 1 to ten years\n");
        return EXIT_USAGE;
    }
    uint8_t key[RC_URLSIGN_MAX_KEY];
    const char *why = "";
    long key_len = rc_urlsign_read_key(o->key_file, key, &why);
    if (key_len < 0) {
        fprintf(stderr, "rasterclip: %s\n", why);
        return EXIT_USAGE;
    }
    const char *url = o->job_path;
    const char *scheme = strstr(url, "://");
    const char *path = scheme ? strchr(scheme + 3, '/') : NULL;
    if (!path) {
        fprintf(stderr, "rasterclip: sign needs an absolute http(s) URL with a path\n");
        return EXIT_USAGE;
    }
    const char *query = strchr(path, '?');
    size_t base_len = query ? (size_t)(query - url) : strlen(url);
    char *path_text = strndup(path, query ? (size_t)(query - path) : strlen(path));
    char *decoded = strdup(query ? query + 1 : "");
    char *kept = calloc(1, strlen(url) + 128);
    struct rc_urlsign_param *params = calloc(MAX_PARAMS + 1, sizeof(*params));
    char **raw = calloc(MAX_PARAMS, sizeof(*raw));
    int status = EXIT_OK;
    if (!path_text || !decoded || !kept || !params || !raw) {
        fprintf(stderr, "rasterclip: out of memory\n");
        status = EXIT_USAGE;
        goto out;
    }
    decode(path_text);
    size_t count = 0, kept_len = 0;
    for (char *save = NULL, *pair = strtok_r(decoded, "&", &save); pair;
         pair = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(pair, '=');
        size_t key_part = eq ? (size_t)(eq - pair) : strlen(pair);
        if ((key_part == 3 && strncmp(pair, "sig", 3) == 0) ||
            (key_part == 7 && strncmp(pair, "expires", 7) == 0)) {
            continue; /* replaced below */
        }
        if (count == MAX_PARAMS) {
            fprintf(stderr, "rasterclip: the URL has over %d parameters\n", MAX_PARAMS);
            status = EXIT_USAGE;
            goto out;
        }
        size_t kept_cap = strlen(url) + 128;
        kept_len += (size_t)snprintf(kept + kept_len, kept_cap - kept_len, "%s%s",
                                     kept_len ? "&" : "", pair);
        raw[count] = strdup(pair);
        if (!raw[count]) {
            status = EXIT_USAGE;
            goto out;
        }
        char *value = strchr(raw[count], '=');
        if (value) {
            *value++ = '\0';
            decode(value);
        }
        decode(raw[count]);
        params[count] = (struct rc_urlsign_param){raw[count], value ? value : ""};
        count++;
    }
    char expires[32];
    snprintf(expires, sizeof(expires), "%lld", (long long)time(NULL) + seconds);
    params[count++] = (struct rc_urlsign_param){"expires", expires};
    char sig[RC_URLSIGN_HEX];
    if (!rc_urlsign_digest(key, (size_t)key_len, path_text, params, count, sig)) {
        fprintf(stderr, "rasterclip: out of memory\n");
        status = EXIT_USAGE;
        goto out;
    }
    printf("%.*s?%s%sexpires=%s&sig=%s\n", (int)base_len, url, kept, kept_len ? "&" : "", expires,
           sig);
out:
    for (size_t i = 0; raw && i < MAX_PARAMS; i++) {
        free(raw[i]);
    }
    free(raw);
    free(params);
    free(kept);
    free(decoded);
    free(path_text);
    return status;
}
