/* The one status map: every error class to its HTTP status, as the README and
 * proto/openapi.yaml document them. */
#include "base/error.h"
#include "check.h"
#include "http/http.h"

int main(void)
{
    CHECK(rc_http_status(RC_OK) == 200);
    CHECK(rc_http_status(RC_ERR_INVALID) == 400);
    CHECK(rc_http_status(RC_ERR_UNAUTHORIZED) == 401);
    CHECK(rc_http_status(RC_ERR_FORBIDDEN) == 403);
    CHECK(rc_http_status(RC_ERR_NOT_FOUND) == 404);
    CHECK(rc_http_status(RC_ERR_TOO_LARGE) == 413);
    CHECK(rc_http_status(RC_ERR_UNSUPPORTED) == 415);
    CHECK(rc_http_status(RC_ERR_IMPOSSIBLE) == 422);
    CHECK(rc_http_status(RC_ERR_BUSY) == 429);
    CHECK(rc_http_status(RC_ERR_UPSTREAM) == 502);
    CHECK(rc_http_status(RC_ERR_DRAINING) == 503);
    CHECK(rc_http_status(RC_ERR_NOMEM) == 503);
    CHECK(rc_http_status(RC_ERR_UPSTREAM_TIMEOUT) == 504);
    CHECK(rc_http_status(RC_ERR_INTERNAL) == 500);
    CHECK(rc_http_status(RC_ERR_CANCELLED) == 500);
    /* Every class has a name for the JSON error's "code". */
    for (int code = RC_ERR_INVALID; code <= RC_ERR_INTERNAL; code++) {
        CHECK(rc_err_name((enum rc_err)code)[0] != '\0');
    }
    return CHECK_DONE();
}
