#include "http/internal.h"

#include <string.h>

/* A route's handler, on a request's first call, once it may be served. */
typedef enum MHD_Result (*route_handler)(struct request *req, const char *url, const char *method);

#define M(m) (1u << RC_METHOD_##m)

static enum MHD_Result render(struct request *req, const char *url, const char *method)
{
    (void)url;
    req->route = ROUTE_RENDER;
    req->head = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
    if (req->head || strcmp(method, MHD_HTTP_METHOD_GET) == 0) {
        req->route = ROUTE_RENDER_QUERY;
        return rc_http_handle_render(req);
    }
    return rc_http_start_body(req);
}

/* What stands beside the clip the same query would make: its colorbar as an
 * image, its vector layers as GeoJSON. */
static enum MHD_Result beside(struct request *req, const char *url, const char *method)
{
    req->route = ROUTE_RENDER_QUERY;
    req->answer = strcmp(url, "/v1/vectors") == 0 ? RC_ANSWER_VECTORS : RC_ANSWER_LEGEND_PNG;
    req->head = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
    return rc_http_handle_render(req);
}

static enum MHD_Result job(struct request *req, const char *url, const char *method)
{
    return rc_http_handle_job(req->http, req->conn, url, method);
}

static enum MHD_Result cache(struct request *req, const char *url, const char *method)
{
    (void)method;
    return rc_http_handle_cache(req->http, req->conn, url);
}

static enum MHD_Result page(struct request *req, const char *url, const char *method)
{
    (void)method;
    return rc_http_get_page(req->http, req->conn, url);
}

static enum MHD_Result library(struct request *req, const char *url, const char *method)
{
    (void)method;
    return rc_http_get_library(req->http, req->conn, url);
}

static enum MHD_Result health(struct request *req, const char *url, const char *method)
{
    (void)method;
    return rc_http_get_health(req->http, req->conn, url);
}

static enum MHD_Result info(struct request *req, const char *url, const char *method)
{
    (void)method;
    return rc_http_get_info(req->http, req->conn, url);
}

static enum MHD_Result metrics(struct request *req, const char *url, const char *method)
{
    (void)url;
    (void)method;
    return rc_http_handle_metrics(req->http, req->conn);
}

static enum MHD_Result not_found(struct request *req, const char *url, const char *method)
{
    (void)url;
    (void)method;
    return rc_http_send_error_code(req->http, req->conn, RC_ERR_NOT_FOUND, "", "no such endpoint");
}

/* Every route: its name in logs and metrics (fixed, so a client cannot grow the
 * series), its path (a prefix ends in '/'), its methods, whether it is a health
 * endpoint (open unless --auth-health), what a wrong method is told, its handler.
 * proto/openapi.yaml documents the same (tests/integration/test_openapi.py). */
static const struct {
    const char *name;
    const char *path;
    bool prefix;
    unsigned methods;
    bool health;
    const char *use;
    route_handler handler;
} routes[RC_ROUTE_COUNT] = {
    [RC_ROUTE_OTHER] = {"other", "", false, ~0u, false, "", not_found},
    [RC_ROUTE_RENDER] = {"/v1/render", "/v1/render", false, M(GET) | M(HEAD) | M(POST), false,
                         "use POST with a JSON job, or GET with query parameters", render},
    [RC_ROUTE_JOB] = {"/v1/jobs/{id}", "/v1/jobs/", true, M(GET) | M(HEAD) | M(DELETE), false,
                      "use GET (progress) or DELETE (cancel)", job},
    [RC_ROUTE_CACHE] = {"/v1/cache", "/v1/cache", false, M(DELETE), false,
                        "use DELETE to empty the clip cache or drop one entry", cache},
    [RC_ROUTE_CACHE_KEY] = {"/v1/cache/{key}", "/v1/cache/", true, M(DELETE), false,
                            "use DELETE to empty the clip cache or drop one entry", cache},
    [RC_ROUTE_INFO] = {"/v1/info", "/v1/info", false, M(GET) | M(HEAD), false, "use GET", info},
    [RC_ROUTE_COLORMAPS] = {"/v1/colormaps", "/v1/colormaps", false, M(GET) | M(HEAD), false,
                            "use GET", info},
    [RC_ROUTE_HEALTHZ] = {"/healthz", "/healthz", false, M(GET) | M(HEAD), true, "use GET", health},
    [RC_ROUTE_READYZ] = {"/readyz", "/readyz", false, M(GET) | M(HEAD), true, "use GET", health},
    [RC_ROUTE_METRICS] = {"/metrics", "/metrics", false, M(GET) | M(HEAD), true, "use GET",
                          metrics},
    [RC_ROUTE_PAGE] = {"/", "/", false, M(GET) | M(HEAD), false, "use GET", page},
    [RC_ROUTE_DOCS] = {"/docs", "/docs", false, M(GET) | M(HEAD), false, "use GET", page},
    [RC_ROUTE_OPENAPI] = {"/openapi.json", "/openapi.json", false, M(GET) | M(HEAD), false,
                          "use GET", page},
    [RC_ROUTE_MAP] = {"/map", "/map", false, M(GET) | M(HEAD), false, "use GET", page},
    [RC_ROUTE_LEAFLET] = {"/leaflet/{file}", "/leaflet/", true, M(GET) | M(HEAD), false, "use GET",
                          library},
    [RC_ROUTE_LEGEND] = {"/v1/legend", "/v1/legend", false, M(GET) | M(HEAD), false,
                         "use GET with a clip's query parameters", beside},
    [RC_ROUTE_VECTORS] = {"/v1/vectors", "/v1/vectors", false, M(GET) | M(HEAD), false,
                          "use GET with a clip's query parameters", beside},
};

static const char *const methods[RC_METHOD_COUNT] = {"GET",    "HEAD",    "POST",
                                                     "DELETE", "OPTIONS", "other"};

enum rc_route rc_http_route_of(const char *url)
{
    for (size_t i = 1; i < RC_ROUTE_COUNT; i++) {
        size_t n = strlen(routes[i].path);
        if (routes[i].prefix ? strncmp(url, routes[i].path, n) == 0 && url[n] != '\0'
                             : strcmp(url, routes[i].path) == 0) {
            return (enum rc_route)i;
        }
    }
    return RC_ROUTE_OTHER;
}

enum rc_method rc_http_method_of(const char *method)
{
    for (size_t i = 0; i + 1 < RC_METHOD_COUNT; i++) {
        if (strcmp(method, methods[i]) == 0) {
            return (enum rc_method)i;
        }
    }
    return RC_METHOD_OTHER;
}

const char *rc_http_route_name(enum rc_route route)
{
    return routes[route < RC_ROUTE_COUNT ? route : RC_ROUTE_OTHER].name;
}

const char *rc_http_method_name(enum rc_method method)
{
    return methods[method < RC_METHOD_COUNT ? method : RC_METHOD_OTHER];
}

enum MHD_Result rc_http_route(struct request *req, const char *url, const char *method)
{
    struct rc_http *http = req->http;
    struct MHD_Connection *conn = req->conn;
    const struct rc_config *cfg = rc_http_config(http);
    unsigned r = req->route_name < RC_ROUTE_COUNT ? req->route_name : RC_ROUTE_OTHER;
    bool open = routes[r].health && !cfg->auth_health;
    enum rc_signed signed_url = RC_SIGNED_NO;
    if (r == RC_ROUTE_RENDER && (req->method == RC_METHOD_GET || req->method == RC_METHOD_HEAD)) {
        struct rc_error err = {0};
        signed_url = rc_http_check_signed(http, conn, url, &err);
        if (signed_url == RC_SIGNED_REFUSED) {
            return rc_http_send_error(http, conn, &err, NULL);
        }
    }
    const char *auth =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!open && signed_url != RC_SIGNED_OK && !rc_access_allows(http->access, auth)) {
        return rc_http_send_error_code(http, conn, RC_ERR_UNAUTHORIZED, "",
                                       "a valid bearer token is required");
    }
    if (!(routes[r].methods & (1u << req->method))) {
        return rc_http_send_error_code(http, conn, RC_ERR_INVALID, "", routes[r].use);
    }
    return routes[r].handler(req, url, method);
}
