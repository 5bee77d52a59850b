#include "base/error.h"

#include <stdarg.h>
#include <stdio.h>

enum rc_err rc_error_set(struct rc_error *err, enum rc_err code, const char *field, const char *fmt,
                         ...)
{
    if (!err) {
        return code;
    }
    err->code = code;
    snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return code;
}

const char *rc_err_name(enum rc_err code)
{
    switch (code) {
    case RC_OK:
        return "ok";
    case RC_ERR_INVALID:
        return "invalid";
    case RC_ERR_TOO_LARGE:
        return "too_large";
    case RC_ERR_TIMEOUT:
        return "timeout";
    case RC_ERR_UNSUPPORTED:
        return "unsupported_media_type";
    case RC_ERR_UNAUTHORIZED:
        return "unauthorized";
    case RC_ERR_IMPOSSIBLE:
        return "impossible";
    case RC_ERR_FORBIDDEN:
        return "forbidden";
    case RC_ERR_NOT_FOUND:
        return "not_found";
    case RC_ERR_UPSTREAM:
        return "upstream";
    case RC_ERR_UPSTREAM_TIMEOUT:
        return "upstream_timeout";
    case RC_ERR_BUSY:
        return "busy";
    case RC_ERR_DRAINING:
        return "draining";
    case RC_ERR_CANCELLED:
        return "cancelled";
    case RC_ERR_NOMEM:
        return "nomem";
    case RC_ERR_INTERNAL:
        return "internal";
    }
    return "internal";
}
