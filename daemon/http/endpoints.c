#include "http/internal.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "assets.h"
#include "base/colormap.h"
#include "base/log.h"
#include "http/query.h"
#include "pipeline/clipcache.h"
#include "pipeline/pool.h"

static enum MHD_Result handle_info(struct rc_http *http, struct MHD_Connection *conn)
{
    const struct rc_config *cfg = rc_http_config(http);
    struct rc_workers_info wi;
    rc_workers_info(http->workers, cfg, &wi);
    json_t *limits = json_object();
    for (size_t i = 0; i < rc_config_limits_count(); i++) {
        json_object_set_new(limits, rc_config_limit_name(i),
                            json_integer(rc_config_limit_value(cfg, i)));
    }
    json_t *renderer =
        json_pack("{s:s, s:s, s:b, s:s, s:s, s:I, s:s}", "egl_platform", wi.egl_platform,
                  "egl_device", wi.egl_device, "hardware", wi.hardware, "gl_renderer",
                  wi.gl_renderer, "gl_version", wi.gl_version, "egl_displays",
                  (json_int_t)wi.egl_displays, "convert", wi.gpu_convert ? "gpu" : "cpu");
    json_t *libraries = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "libvpx", wi.libvpx, "gdal",
                                  wi.gdal, "libmicrohttpd", MHD_get_version(), "jansson",
                                  JANSSON_VERSION, "openh264", wi.openh264, "giflib", wi.giflib);
    json_t *sandbox =
        json_pack("{s:s, s:b, s:b, s:i, s:b, s:b, s:b, s:b, s:b, s:I}", "mode", cfg->reader_sandbox,
                  "complete", wi.sandbox_complete, "landlock", wi.landlock, "landlock_abi",
                  wi.landlock_abi, "landlock_net", wi.landlock_net, "seccomp", wi.seccomp,
                  "no_new_privs", wi.no_new_privs, "network_namespace", wi.network_namespace,
                  "rlimits", wi.rlimits, "address_space_mb", (json_int_t)wi.address_space_mb);
    json_t *ignored = json_array();
    for (const char *const *p = rc_query_ignored(); *p; p++) {
        json_array_append_new(ignored, json_string(*p));
    }
    json_t *formats = json_array();
    for (int f = RC_FORMAT_WEBM; f <= RC_FORMAT_GIF; f++) {
        json_array_append_new(formats,
                              json_pack("{s:s, s:s}", "name", rc_format_name((enum rc_format)f),
                                        "content_type", rc_format_content_type((enum rc_format)f)));
    }
    json_t *body =
        json_pack("{s:s, s:o, s:o, s:o, s:{s:I, s:I}, s:o, s:o, s:I, s:o}", "version", RC_VERSION,
                  "renderer", renderer, "libraries", libraries, "limits", limits, "workers",
                  "count", (json_int_t)cfg->workers, "queue", (json_int_t)cfg->queue,
                  "ignored_query_parameters", ignored, "formats", formats, "gdal_cache_bytes",
                  (json_int_t)wi.gdal_cache_bytes, "reader_sandbox", sandbox);
    return rc_http_send_json(http, conn, MHD_HTTP_OK, body, NULL);
}

static enum MHD_Result handle_colormaps(struct rc_http *http, struct MHD_Connection *conn)
{
    /* Each map with 8 evenly spaced colours, enough for a swatch. */
    json_t *list = json_array();
    for (size_t i = 0; i < rc_colormap_count(); i++) {
        struct rc_colormap map;
        if (rc_colormap_from_name(&map, rc_colormap_name(i), "", NULL) != RC_OK) {
            continue;
        }
        json_t *preview = json_array();
        for (unsigned k = 0; k < 8; k++) {
            const uint8_t *c = map.rgba[rc_colormap_index(&map, (k + 0.5) / 8.0)];
            char hex[8];
            snprintf(hex, sizeof(hex), "#%02x%02x%02x", c[0], c[1], c[2]);
            json_array_append_new(preview, json_string(hex));
        }
        json_array_append_new(list, json_pack("{s:s, s:i, s:o}", "name", rc_colormap_name(i),
                                              "entries", (int)map.entries, "preview", preview));
    }
    return rc_http_send_json(
        http, conn, MHD_HTTP_OK,
        json_pack("{s:o, s:s}", "colormaps", list, "reversed", "append _r to any name"), NULL);
}

enum MHD_Result rc_http_handle_cache(struct rc_http *http, struct MHD_Connection *conn,
                                     const char *url)
{
    if (!http->clips) {
        return rc_http_send_error_code(http, conn, RC_ERR_NOT_FOUND, "",
                                       "no clip cache is configured (--clip-cache)");
    }
    const char *key = url[strlen("/v1/cache")] == '/' ? url + strlen("/v1/cache/") : NULL;
    size_t removed;
    if (key) {
        /* An entry is named by its ETag, with or without the quotes. */
        char bare[65];
        size_t len = strlen(key);
        bool quoted = len == 66 && key[0] == '"' && key[65] == '"';
        snprintf(bare, sizeof(bare), "%.*s", 64, quoted ? key + 1 : key);
        if (!(len == 64 || quoted) || !rc_clipcache_remove(http->clips, bare)) {
            return rc_http_send_error_code(http, conn, RC_ERR_NOT_FOUND, "key", "no such entry");
        }
        removed = 1;
    } else {
        removed = rc_clipcache_clear(http->clips);
    }
    rc_log(RC_LOG_INFO, "msg=\"clip cache emptied\" removed=%zu", removed);
    return rc_http_send_json(http, conn, MHD_HTTP_OK,
                             json_pack("{s:I}", "removed", (json_int_t)removed), NULL);
}

/* A whole file of at most `max` bytes as a NUL-terminated string (malloc'ed), or NULL. */
static char *read_small_file(const char *path, size_t max)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        return NULL;
    }
    struct stat st;
    char *text = NULL;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (size_t)st.st_size <= max) {
        text = malloc((size_t)st.st_size + 1);
    }
    size_t got = 0;
    while (text && got < (size_t)st.st_size) {
        ssize_t n = read(fd, text + got, (size_t)st.st_size - got);
        if (n <= 0) {
            free(text);
            text = NULL;
            break;
        }
        got += (size_t)n;
    }
    close(fd);
    if (text) {
        text[got] = '\0';
    }
    return text;
}

enum MHD_Result rc_http_get_page(struct rc_http *http, struct MHD_Connection *conn, const char *url)
{
    /* "/", "/docs", "/map" or "/openapi.json" (the route table sends only those here). */
    const char *text = strcmp(url, "/") == 0       ? rc_asset_demo_html
                       : strcmp(url, "/docs") == 0 ? rc_asset_docs_html
                       : strcmp(url, "/map") == 0  ? rc_asset_map_html
                                                   : rc_asset_openapi_json;
    const char *type =
        text == rc_asset_openapi_json ? "application/json" : "text/html; charset=utf-8";
    char *copy = strdup(text);
    return copy ? rc_http_send_text(http, conn, MHD_HTTP_OK, copy, type, NULL) : MHD_NO;
}

/* Leaflet, from Debian's libjs-leaflet: the map page's two files, by name. */
#define LEAFLET_DIR "/usr/share/javascript/leaflet/"
#define LEAFLET_MAX_BYTES (1u << 20)

enum MHD_Result rc_http_get_library(struct rc_http *http, struct MHD_Connection *conn,
                                    const char *url)
{
    static const struct {
        const char *name, *type;
    } files[] = {{"leaflet.js", "text/javascript; charset=utf-8"},
                 {"leaflet.css", "text/css; charset=utf-8"}};
    const char *name = url + strlen("/leaflet/");
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        if (strcmp(name, files[i].name) != 0) {
            continue;
        }
        char path[128];
        snprintf(path, sizeof(path), LEAFLET_DIR "%s", files[i].name);
        char *text = read_small_file(path, LEAFLET_MAX_BYTES);
        if (!text) {
            return rc_http_send_error_code(http, conn, RC_ERR_NOT_FOUND, "file",
                                           "Leaflet is not installed on this server (Debian's "
                                           "libjs-leaflet)");
        }
        return rc_http_send_text(http, conn, MHD_HTTP_OK, text, files[i].type, NULL);
    }
    return rc_http_send_error_code(http, conn, RC_ERR_NOT_FOUND, "file",
                                   "only leaflet.js and leaflet.css are served here");
}

enum MHD_Result rc_http_get_health(struct rc_http *http, struct MHD_Connection *conn,
                                   const char *url)
{
    if (strcmp(url, "/healthz") == 0) {
        return rc_http_send_json(http, conn, MHD_HTTP_OK, json_pack("{s:s}", "status", "ok"), NULL);
    }
    struct rc_workers_stats st;
    rc_workers_stats(http->workers, &st);
    bool full =
        st.queued >= (size_t)(rc_http_config(http)->queue > 0 ? rc_http_config(http)->queue : 1);
    bool draining = atomic_load(&http->draining);
    unsigned status = draining || full ? MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_OK;
    return rc_http_send_json(http, conn, status,
                             json_pack("{s:s, s:b, s:b}", "status",
                                       status == MHD_HTTP_OK ? "ready" : "not ready", "draining",
                                       draining, "queue_full", full),
                             NULL);
}

enum MHD_Result rc_http_get_info(struct rc_http *http, struct MHD_Connection *conn, const char *url)
{
    return strcmp(url, "/v1/info") == 0 ? handle_info(http, conn) : handle_colormaps(http, conn);
}
