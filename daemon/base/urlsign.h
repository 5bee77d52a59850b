/*
 * urlsign: signed render URLs, for clients that cannot send a token (a page's
 * <video src>). The signature is HMAC-SHA256, in lower-case hex, over
 *
 *     PATH "\n" CANONICAL-QUERY
 *
 * where CANONICAL-QUERY is every query parameter but `sig` (so `expires`, the
 * expiry in seconds since the epoch, is signed), each key and value decoded and
 * then percent-encoded again (all but A-Z a-z 0-9 - _ . ~, as %XX upper case),
 * as `key=value`, sorted byte-wise, joined by `&`. The daemon checks it
 * (http/server.c), `rasterclip sign` and the Python client's sign_url() make it.
 *
 * Pure functions on caller memory; any thread.
 */
#ifndef RC_URLSIGN_H
#define RC_URLSIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { RC_URLSIGN_HEX = 65, RC_URLSIGN_MIN_KEY = 16, RC_URLSIGN_MAX_KEY = 4096 };

struct rc_urlsign_param {
    const char *key;   /* decoded */
    const char *value; /* decoded; NULL reads as "" */
};

/* The signature of `path` with `params` (any `sig` among them is left out);
 * false when memory is short. */
bool rc_urlsign_digest(const uint8_t *key, size_t key_len, const char *path,
                       const struct rc_urlsign_param *params, size_t count,
                       char hex[RC_URLSIGN_HEX]);

/* Whether `given` (hex) is `want`, compared in constant time. */
bool rc_urlsign_equal(const char *given, const char *want);

/* Reads a key file: its bytes, RC_URLSIGN_MIN_KEY..RC_URLSIGN_MAX_KEY of them.
 * Returns the length, or -1 with `why` set. */
long rc_urlsign_read_key(const char *path, uint8_t key[RC_URLSIGN_MAX_KEY], const char **why);

#endif
