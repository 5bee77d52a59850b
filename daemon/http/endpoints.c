#include "http/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/colormap.h"
#include "base/log.h"
#include "encode/encode.h"
#include "encode/gif.h"
#include "encode/h264.h"
#include "http/query.h"
#include "pipeline/clipcache.h"
#include "pipeline/worker.h"
#include "raster/raster.h"
#include "raster/sandbox.h"
#include "render/render.h"
#include "shaders.h"

static enum MHD_Result handle_info(struct rc_http *http, struct MHD_Connection *conn)
{
    const struct rc_gpu_info *gi = rc_gpu_info(http->gpu);
    json_t *limits = json_object();
    for (size_t i = 0; i < rc_config_limits_count(); i++) {
        json_object_set_new(limits, rc_config_limit_name(i),
                            json_integer(rc_config_limit_value(rc_http_config(http), i)));
    }
    json_t *body = json_pack(
        "{s:s, s:{s:s, s:s, s:b, s:s, s:s}, s:{s:s, s:s, s:s, s:s}, s:o, s:{s:I, s:I}}", "version",
        RC_VERSION, "renderer", "egl_platform", gi->platform, "egl_device", gi->device, "hardware",
        gi->hardware, "gl_renderer", rc_workers_gl_renderer(http->workers), "gl_version",
        rc_workers_gl_version(http->workers), "libraries", "libvpx", rc_encode_library_version(),
        "gdal", rc_raster_library_version(), "libmicrohttpd", MHD_get_version(), "jansson",
        JANSSON_VERSION, "limits", limits, "workers", "count",
        (json_int_t)rc_http_config(http)->workers, "queue",
        (json_int_t)rc_http_config(http)->queue);
    json_t *ignored = json_array();
    for (const char *const *p = rc_query_ignored(); *p; p++) {
        json_array_append_new(ignored, json_string(*p));
    }
    json_object_set_new(body, "ignored_query_parameters", ignored);
    json_t *libraries = json_object_get(body, "libraries");
    json_object_set_new(libraries, "openh264", json_string(rc_h264_library_version()));
    json_object_set_new(libraries, "giflib", json_string(rc_gif_library_version()));
    json_t *formats = json_array();
    for (int f = RC_FORMAT_WEBM; f <= RC_FORMAT_GIF; f++) {
        json_array_append_new(formats,
                              json_pack("{s:s, s:s}", "name", rc_format_name((enum rc_format)f),
                                        "content_type", rc_format_content_type((enum rc_format)f)));
    }
    json_object_set_new(body, "formats", formats);
    json_object_set_new(body, "gdal_cache_bytes",
                        json_integer((json_int_t)rc_raster_block_cache_bytes()));
    const struct rc_sandbox_report *sb = rc_workers_sandbox(http->workers);
    json_object_set_new(body, "reader_sandbox",
                        json_pack("{s:s, s:b, s:b, s:i, s:b, s:b, s:b, s:b, s:b, s:I}", "mode",
                                  rc_http_config(http)->reader_sandbox, "complete",
                                  rc_sandbox_complete(sb), "landlock", sb->landlock != 0,
                                  "landlock_abi", (int)sb->landlock_abi, "landlock_net",
                                  sb->landlock_net != 0, "seccomp", sb->seccomp != 0,
                                  "no_new_privs", sb->no_new_privs != 0, "network_namespace",
                                  sb->netns != 0, "rlimits", sb->rlimits != 0, "address_space_mb",
                                  (json_int_t)sb->address_space_mb));
    json_t *renderer = json_object_get(body, "renderer");
    json_object_set_new(renderer, "egl_displays",
                        json_integer((json_int_t)rc_gpu_count(http->gpu)));
    json_object_set_new(
        renderer, "convert",
        json_string(rc_workers_gpu_convert(http->workers, rc_http_config(http)) ? "gpu" : "cpu"));
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
                                     const char *url, const char *method)
{
    if (strcmp(method, MHD_HTTP_METHOD_DELETE) != 0) {
        return rc_http_send_error_code(http, conn, RC_ERR_INVALID, "",
                                       "use DELETE to empty the clip cache or drop one entry");
    }
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

enum MHD_Result rc_http_handle_get(struct rc_http *http, struct MHD_Connection *conn,
                                   const char *url)
{
    if (strcmp(url, "/") == 0) {
        char *page = strdup(rc_shader_demo_html);
        return page ? rc_http_send_text(http, conn, MHD_HTTP_OK, page, "text/html; charset=utf-8",
                                        NULL)
                    : MHD_NO;
    }
    if (strcmp(url, "/docs") == 0 || strcmp(url, "/openapi.json") == 0) {
        bool page = url[1] == 'd';
        char *text = strdup(page ? rc_shader_docs_html : rc_shader_openapi_json);
        return text
                   ? rc_http_send_text(http, conn, MHD_HTTP_OK, text,
                                       page ? "text/html; charset=utf-8" : "application/json", NULL)
                   : MHD_NO;
    }
    if (strcmp(url, "/healthz") == 0) {
        return rc_http_send_json(http, conn, MHD_HTTP_OK, json_pack("{s:s}", "status", "ok"), NULL);
    }
    if (strcmp(url, "/readyz") == 0) {
        struct rc_workers_stats st;
        rc_workers_stats(http->workers, &st);
        bool full = st.queued >=
                    (size_t)(rc_http_config(http)->queue > 0 ? rc_http_config(http)->queue : 1);
        bool draining = atomic_load(&http->draining);
        unsigned status = draining || full ? MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_OK;
        return rc_http_send_json(http, conn, status,
                                 json_pack("{s:s, s:b, s:b}", "status",
                                           status == MHD_HTTP_OK ? "ready" : "not ready",
                                           "draining", draining, "queue_full", full),
                                 NULL);
    }
    if (strcmp(url, "/v1/info") == 0) {
        return handle_info(http, conn);
    }
    if (strcmp(url, "/v1/colormaps") == 0) {
        return handle_colormaps(http, conn);
    }
    if (strcmp(url, "/metrics") == 0) {
        return rc_http_handle_metrics(http, conn);
    }
    return rc_http_send_error_code(http, conn, RC_ERR_NOT_FOUND, "", "no such endpoint");
}
