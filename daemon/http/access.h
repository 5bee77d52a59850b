/*
 * access: who may use the service — bearer tokens, signed URLs and CORS origins.
 *
 * A `struct rc_access` holds the tokens of a token file. Reloading publishes a new
 * set whole; earlier sets live until rc_access_destroy(), since a request may still
 * be reading one. Any thread may check; the main thread creates, reloads, destroys.
 */
#ifndef RC_ACCESS_H
#define RC_ACCESS_H

#include <stdbool.h>

#include "base/error.h"
#include "base/urlsign.h"

#define RC_ACCESS_MAX_TOKENS 64
#define RC_ACCESS_MAX_TOKEN_BYTES 256

struct rc_access;

/* `token_file` empty: every request is allowed. */
enum rc_err rc_access_create(const char *token_file, struct rc_access **out, struct rc_error *err);
/* Reads `token_file` again (empty: no authentication from now on). On failure the
 * tokens in force stay. */
enum rc_err rc_access_reload(struct rc_access *access, const char *token_file,
                             struct rc_error *err);
void rc_access_destroy(struct rc_access *access);

/* Whether an Authorization header value ("Bearer TOKEN"; may be NULL) is accepted.
 * Every configured token is compared in full, in time that does not depend on
 * where or whether the values differ. */
bool rc_access_allows(struct rc_access *access, const char *authorization);

/* Sets the key of signed URLs from `key_file`'s bytes (empty: none); on failure
 * the key in force stays. At creation and reload, on the main thread. */
enum rc_err rc_access_set_signing_key(struct rc_access *access, const char *key_file,
                                      struct rc_error *err);

enum rc_signed {
    RC_SIGNED_NO,      /* no `sig` parameter: the token decides */
    RC_SIGNED_OK,      /* signed with the key and not expired: allowed without a token */
    RC_SIGNED_REFUSED, /* `err` says why (403 naming sig or expires) */
};
/* A request's signed-URL verdict (base/urlsign.h), from its decoded query. */
enum rc_signed rc_access_check_signed(struct rc_access *access, const char *path,
                                      const struct rc_urlsign_param *params, size_t count,
                                      struct rc_error *err);

/* The Access-Control-Allow-Origin to send for a request's Origin, given the allowed
 * list ("https://a.example,https://b.example", "*" or ""), or NULL for none. */
const char *rc_access_cors_origin(const char *allowed, const char *origin);

#endif
