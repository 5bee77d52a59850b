/*
 * error: the error values every fallible function returns.
 *
 * A function that can fail returns `enum rc_err` and takes `struct rc_error *err`
 * last; on failure it fills `err` with the client-visible class, the job field at
 * fault (empty when none) and a message safe to show a client (no paths, hosts or
 * library internals). Only http.c maps the class to an HTTP status.
 * Any thread may call these; a `struct rc_error` belongs to its caller.
 */
#ifndef RC_ERROR_H
#define RC_ERROR_H

enum rc_err {
    RC_OK = 0,
    RC_ERR_INVALID,          /* malformed request or field */
    RC_ERR_TOO_LARGE,        /* request body over the limit */
    RC_ERR_TIMEOUT,          /* the request's headers or body came too slowly */
    RC_ERR_UNSUPPORTED,      /* a request body of a type the route does not take */
    RC_ERR_UNAUTHORIZED,     /* missing or wrong bearer token */
    RC_ERR_IMPOSSIBLE,       /* well-formed job that cannot be rendered */
    RC_ERR_FORBIDDEN,        /* raster location refused by policy */
    RC_ERR_NOT_FOUND,        /* raster or route missing */
    RC_ERR_UPSTREAM,         /* raster source failed */
    RC_ERR_UPSTREAM_TIMEOUT, /* raster source timed out */
    RC_ERR_BUSY,             /* queue full */
    RC_ERR_DRAINING,         /* shutting down */
    RC_ERR_CANCELLED,        /* client went away */
    RC_ERR_NOMEM,
    RC_ERR_INTERNAL,
};

struct rc_error {
    enum rc_err code;
    char field[64];
    char message[256];
};

/* Fills `err` (may be NULL) and returns `code`, so `return rc_error_set(...)` works. */
enum rc_err rc_error_set(struct rc_error *err, enum rc_err code, const char *field, const char *fmt,
                         ...) __attribute__((format(printf, 4, 5)));

/* Short stable name of a code for JSON and logs ("invalid", "busy", ...). */
const char *rc_err_name(enum rc_err code);

#endif
