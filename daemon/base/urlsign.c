#include "base/urlsign.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct encoded {
    char *text; /* "key=value", encoded */
};

static bool unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

static size_t encode(const char *s, char *out)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (unreserved(*p)) {
            out[n++] = (char)*p;
        } else {
            out[n++] = '%';
            out[n++] = hex[*p >> 4];
            out[n++] = hex[*p & 15];
        }
    }
    return n;
}

static int by_text(const void *a, const void *b)
{
    return strcmp(((const struct encoded *)a)->text, ((const struct encoded *)b)->text);
}

bool rc_urlsign_digest(const uint8_t *key, size_t key_len, const char *path,
                       const struct rc_urlsign_param *params, size_t count,
                       char hex[RC_URLSIGN_HEX])
{
    struct encoded *pairs = calloc(count ? count : 1, sizeof(*pairs));
    size_t used = 0, total = strlen(path) + 2;
    bool ok = pairs != NULL;
    for (size_t i = 0; ok && i < count; i++) {
        if (strcmp(params[i].key, "sig") == 0) {
            continue;
        }
        const char *value = params[i].value ? params[i].value : "";
        char *text = malloc(3 * (strlen(params[i].key) + strlen(value)) + 2);
        ok = text != NULL;
        if (ok) {
            size_t n = encode(params[i].key, text);
            text[n++] = '=';
            n += encode(value, text + n);
            text[n] = '\0';
            pairs[used++].text = text;
            total += n + 1;
        }
    }
    char *message = ok ? malloc(total) : NULL;
    if (message) {
        qsort(pairs, used, sizeof(*pairs), by_text);
        size_t n = (size_t)snprintf(message, total, "%s\n", path);
        for (size_t i = 0; i < used; i++) {
            n += (size_t)snprintf(message + n, total - n, "%s%s", i ? "&" : "", pairs[i].text);
        }
        unsigned char mac[EVP_MAX_MD_SIZE];
        unsigned mac_len = 0;
        ok = HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)message, n, mac,
                  &mac_len) != NULL &&
             mac_len == 32;
        for (unsigned i = 0; ok && i < mac_len; i++) {
            snprintf(hex + 2 * i, 3, "%02x", mac[i]);
        }
    }
    ok = ok && message != NULL;
    free(message);
    for (size_t i = 0; pairs && i < used; i++) {
        free(pairs[i].text);
    }
    free(pairs);
    return ok;
}

bool rc_urlsign_equal(const char *given, const char *want)
{
    size_t len = strlen(want);
    return strlen(given) == len && CRYPTO_memcmp(given, want, len) == 0;
}

long rc_urlsign_read_key(const char *path, uint8_t key[RC_URLSIGN_MAX_KEY], const char **why)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        *why = "cannot open the URL signing key file";
        return -1;
    }
    size_t n = fread(key, 1, RC_URLSIGN_MAX_KEY, f);
    int more = fgetc(f);
    fclose(f);
    if (more != EOF) {
        *why = "the URL signing key file is over 4096 bytes";
        return -1;
    }
    if (n < RC_URLSIGN_MIN_KEY) {
        *why = "the URL signing key must be at least 16 bytes";
        return -1;
    }
    return (long)n;
}
