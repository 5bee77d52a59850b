#include "http/access.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/urlsign.h"

struct token_set {
    char tokens[RC_ACCESS_MAX_TOKENS][RC_ACCESS_MAX_TOKEN_BYTES];
    size_t count;
    struct token_set *older;
};

struct signing_key {
    uint8_t bytes[RC_URLSIGN_MAX_KEY];
    size_t len;
    struct signing_key *older;
};

struct rc_access {
    _Atomic(struct token_set *) current; /* NULL: no authentication */
    struct token_set *retired;           /* main thread only */
    _Atomic(struct signing_key *) key;   /* NULL: no signed URLs */
    struct signing_key *retired_keys;    /* main thread only */
};

static enum rc_err load_tokens(const char *path, struct token_set **out, struct rc_error *err)
{
    *out = NULL;
    struct token_set *set = calloc(1, sizeof(*set));
    if (!set) {
        return rc_error_set(err, RC_ERR_NOMEM, "token_file", "out of memory");
    }
    FILE *f = fopen(path, "r");
    if (!f) {
        free(set);
        return rc_error_set(err, RC_ERR_INVALID, "token_file", "cannot open the token file");
    }
    char line[1024];
    enum rc_err rc = RC_OK;
    while (fgets(line, sizeof(line), f) && set->count < RC_ACCESS_MAX_TOKENS) {
        size_t n = strcspn(line, "\r\n");
        line[n] = '\0';
        if (n == 0 || line[0] == '#') {
            continue;
        }
        if (n >= RC_ACCESS_MAX_TOKEN_BYTES) {
            rc = rc_error_set(err, RC_ERR_INVALID, "token_file", "a token is over %d bytes",
                              RC_ACCESS_MAX_TOKEN_BYTES - 1);
            break;
        }
        memcpy(set->tokens[set->count++], line, n + 1);
    }
    fclose(f);
    if (rc == RC_OK && set->count == 0) {
        rc = rc_error_set(err, RC_ERR_INVALID, "token_file", "the token file has no tokens");
    }
    if (rc != RC_OK) {
        free(set);
        return rc;
    }
    *out = set;
    return RC_OK;
}

enum rc_err rc_access_create(const char *token_file, struct rc_access **out, struct rc_error *err)
{
    *out = NULL;
    struct rc_access *a = calloc(1, sizeof(*a));
    if (!a) {
        return rc_error_set(err, RC_ERR_NOMEM, "", "out of memory");
    }
    atomic_init(&a->current, NULL);
    enum rc_err rc = rc_access_reload(a, token_file, err);
    if (rc != RC_OK) {
        free(a);
        return rc;
    }
    *out = a;
    return RC_OK;
}

enum rc_err rc_access_reload(struct rc_access *access, const char *token_file, struct rc_error *err)
{
    struct token_set *set = NULL;
    if (token_file && token_file[0]) {
        enum rc_err rc = load_tokens(token_file, &set, err);
        if (rc != RC_OK) {
            return rc;
        }
    }
    struct token_set *old = atomic_exchange(&access->current, set);
    if (old) {
        old->older = access->retired;
        access->retired = old;
    }
    return RC_OK;
}

enum rc_err rc_access_set_signing_key(struct rc_access *access, const char *key_file,
                                      struct rc_error *err)
{
    struct signing_key *key = NULL;
    if (key_file && key_file[0]) {
        key = calloc(1, sizeof(*key));
        if (!key) {
            return rc_error_set(err, RC_ERR_NOMEM, "url_signing_key_file", "out of memory");
        }
        const char *why = "";
        long len = rc_urlsign_read_key(key_file, key->bytes, &why);
        if (len < 0) {
            free(key);
            return rc_error_set(err, RC_ERR_INVALID, "url_signing_key_file", "%s", why);
        }
        key->len = (size_t)len;
    }
    struct signing_key *old = atomic_exchange(&access->key, key);
    if (old) {
        old->older = access->retired_keys;
        access->retired_keys = old;
    }
    return RC_OK;
}

enum rc_signed rc_access_check_signed(struct rc_access *access, const char *path,
                                      const struct rc_urlsign_param *params, size_t count,
                                      struct rc_error *err)
{
    const char *sig = NULL, *expires = NULL;
    for (size_t i = 0; i < count; i++) {
        if (strcmp(params[i].key, "sig") == 0) {
            sig = params[i].value ? params[i].value : "";
        } else if (strcmp(params[i].key, "expires") == 0) {
            expires = params[i].value ? params[i].value : "";
        }
    }
    if (!sig) {
        return RC_SIGNED_NO;
    }
    const struct signing_key *key = atomic_load(&access->key);
    if (!key) {
        rc_error_set(err, RC_ERR_FORBIDDEN, "sig",
                     "signed URLs are not enabled here (url_signing_key_file)");
        return RC_SIGNED_REFUSED;
    }
    char *end = NULL;
    long long until = expires ? strtoll(expires, &end, 10) : 0;
    if (!expires || !expires[0] || *end != '\0') {
        rc_error_set(err, RC_ERR_FORBIDDEN, "expires",
                     "a signed URL needs expires, in seconds since the epoch");
        return RC_SIGNED_REFUSED;
    }
    char want[RC_URLSIGN_HEX];
    if (!rc_urlsign_digest(key->bytes, key->len, path, params, count, want)) {
        rc_error_set(err, RC_ERR_NOMEM, "", "out of memory");
        return RC_SIGNED_REFUSED;
    }
    /* The signature first: an expiry is only news about a URL that is ours. */
    if (!rc_urlsign_equal(sig, want)) {
        rc_error_set(err, RC_ERR_FORBIDDEN, "sig", "the signature does not match the URL");
        return RC_SIGNED_REFUSED;
    }
    if (until <= (long long)time(NULL)) {
        rc_error_set(err, RC_ERR_FORBIDDEN, "expires", "the signed URL has expired");
        return RC_SIGNED_REFUSED;
    }
    return RC_SIGNED_OK;
}

void rc_access_destroy(struct rc_access *access)
{
    if (!access) {
        return;
    }
    free(atomic_load(&access->key));
    for (struct signing_key *k = access->retired_keys; k;) {
        struct signing_key *older = k->older;
        free(k);
        k = older;
    }
    free(atomic_load(&access->current));
    for (struct token_set *t = access->retired; t;) {
        struct token_set *older = t->older;
        free(t);
        t = older;
    }
    free(access);
}

bool rc_access_allows(struct rc_access *access, const char *authorization)
{
    const struct token_set *set = atomic_load(&access->current);
    if (!set) {
        return true;
    }
    if (!authorization || strncasecmp(authorization, "Bearer ", 7) != 0) {
        return false;
    }
    const char *given = authorization + 7;
    size_t given_len = strnlen(given, RC_ACCESS_MAX_TOKEN_BYTES);
    unsigned matched = 0;
    for (size_t t = 0; t < set->count; t++) {
        const char *want = set->tokens[t];
        size_t want_len = strlen(want);
        unsigned diff = (unsigned)(given_len ^ want_len);
        for (size_t i = 0; i < RC_ACCESS_MAX_TOKEN_BYTES; i++) {
            unsigned char a = i < given_len ? (unsigned char)given[i] : 0;
            unsigned char b = i < want_len ? (unsigned char)want[i] : 0;
            diff |= (unsigned)(a ^ b);
        }
        matched |= diff == 0;
    }
    return matched != 0;
}

const char *rc_access_cors_origin(const char *allowed, const char *origin)
{
    if (!allowed || !allowed[0] || !origin) {
        return NULL;
    }
    if (strcmp(allowed, "*") == 0) {
        return "*";
    }
    size_t len = strlen(origin);
    for (const char *p = allowed; *p;) {
        p += strspn(p, ", ");
        size_t n = strcspn(p, ", ");
        if (n == len && n > 0 && strncmp(p, origin, n) == 0) {
            return origin;
        }
        p += n;
    }
    return NULL;
}
