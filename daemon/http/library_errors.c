/*
 * libmicrohttpd answers some requests itself, before the access handler sees
 * them: a malformed request line or header, a missing Host, a bad chunk or
 * Content-Length, an unsupported HTTP version, a request line or headers larger
 * than a connection's memory. Its bodies for those are small HTML pages, built in
 * one place with MHD_create_response_from_buffer(). The daemon promises a JSON
 * error for every answer, and 0.9.75 has no hook for these, so this file defines
 * that function: the library's calls to it come here (symbol interposition, as a
 * malloc replacement works), an error page becomes the daemon's JSON error, and
 * every other call goes on to the library's own function unchanged. The
 * integration test http_edge_cases sends each of these requests and reads JSON;
 * a libmicrohttpd that stopped calling through here would fail it.
 */
#include "http/internal.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct MHD_Response *(*create_fn)(size_t, void *, enum MHD_ResponseMemoryMode);

static create_fn library_create;
static pthread_once_t resolved = PTHREAD_ONCE_INIT;

static void resolve(void)
{
    /* The next definition after this executable's: libmicrohttpd's. */
    library_create = (create_fn)(uintptr_t)dlsym(RTLD_NEXT, "MHD_create_response_from_buffer");
}

/* What each of the library's pages means, told by a phrase of its text; the
 * first match wins. */
static const struct {
    const char *phrase;
    enum rc_err code;
    const char *field;
    const char *message;
} pages[] = {
    {"too big for the memory", RC_ERR_TOO_LARGE, "",
     "the request line or headers exceed what a connection may hold (128 KiB)"},
    {"Host:", RC_ERR_INVALID, "Host", "an HTTP/1.1 request needs a Host header"},
    {"chunk size", RC_ERR_TOO_LARGE, "Transfer-Encoding", "a chunk of the body is too large"},
    {"chunked encoding", RC_ERR_INVALID, "Transfer-Encoding", "the chunked body is malformed"},
    {"too large value for <b>Content-Length", RC_ERR_TOO_LARGE, "Content-Length",
     "Content-Length is too large"},
    {"Content-Length", RC_ERR_INVALID, "Content-Length",
     "Content-Length must be a decimal byte count"},
    {"HTTP version", RC_ERR_INVALID, "", "the HTTP version is not supported (use 1.0 or 1.1)"},
    {"syntactically incorrect", RC_ERR_INVALID, "", "the request is not well-formed HTTP"},
};

static const char page_start[] = "<html><head><title>";

/* The JSON body for one of the library's pages (malloc'ed), NULL for any other. */
static char *translate(const char *html, size_t len)
{
    if (len < sizeof(page_start) - 1 || memcmp(html, page_start, sizeof(page_start) - 1) != 0) {
        return NULL;
    }
    char text[512];
    size_t n = len < sizeof(text) - 1 ? len : sizeof(text) - 1;
    memcpy(text, html, n);
    text[n] = '\0';
    struct rc_error err;
    rc_error_set(&err, RC_ERR_INTERNAL, "", "the request could not be served");
    for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
        if (strstr(text, pages[i].phrase)) {
            rc_error_set(&err, pages[i].code, pages[i].field, "%s", pages[i].message);
            break;
        }
    }
    return rc_http_error_text(&err);
}

struct MHD_Response *MHD_create_response_from_buffer(size_t size, void *buffer,
                                                     enum MHD_ResponseMemoryMode mode)
{
    pthread_once(&resolved, resolve);
    if (!library_create) {
        return NULL;
    }
    char *json = buffer && mode == MHD_RESPMEM_PERSISTENT ? translate(buffer, size) : NULL;
    if (!json) {
        return library_create(size, buffer, mode);
    }
    struct MHD_Response *resp = library_create(strlen(json), json, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(json);
        return NULL;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    return resp;
}
