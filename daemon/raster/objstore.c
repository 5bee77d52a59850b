/* VSIStatBufL is struct stat64. */
#define _LARGEFILE64_SOURCE
#include "raster/objstore.h"

#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>
#include <cpl_vsi.h>
#include <cpl_vsi_error.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/log.h"

struct rc_objstore {
    char path[4200]; /* /vsis3/BUCKET/KEY */
    char field[64];
    VSILFILE *file;
    uint64_t size;
    char validator[256];
};

static const struct {
    const char *scheme; /* with "://" */
    const char *prefix; /* GDAL's */
} schemes[] = {
    {"s3://", "/vsis3/"},
    {"gs://", "/vsigs/"},
    {"az://", "/vsiaz/"},
};

bool rc_objstore_is_url(const char *url)
{
    for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
        if (strncasecmp(url, schemes[i].scheme, strlen(schemes[i].scheme)) == 0) {
            return true;
        }
    }
    return false;
}

/* "name", "s3://name" or "*" entries, comma-separated. */
static bool bucket_allowed(const char *allowed, const char *scheme, const char *bucket)
{
    for (const char *p = allowed; *p;) {
        p += strspn(p, ", ");
        size_t n = strcspn(p, ", ");
        char entry[300];
        if (n > 0 && n < sizeof(entry)) {
            memcpy(entry, p, n);
            entry[n] = '\0';
            const char *name = entry;
            if (strstr(entry, "://")) {
                size_t s = strlen(scheme);
                if (strncasecmp(entry, scheme, s) != 0) {
                    p += n;
                    continue;
                }
                name = entry + s;
            }
            if (strcmp(name, "*") == 0 || strcmp(name, bucket) == 0) {
                return true;
            }
        }
        p += n;
    }
    return false;
}

/* A key GDAL will not read as another path: no empty, `.` or `..` segment, no
 * control characters, no `?` or `#`. */
static bool key_ok(const char *key)
{
    if (!key[0]) {
        return false;
    }
    for (const char *s = key; *s; s++) {
        if ((unsigned char)*s < 0x20 || *s == 0x7f || *s == '?' || *s == '#' || *s == '\\') {
            return false;
        }
    }
    for (const char *seg = key; seg;) {
        const char *end = strchr(seg, '/');
        size_t n = end ? (size_t)(end - seg) : strlen(seg);
        if (n == 0 || (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.')) {
            return false;
        }
        seg = end ? end + 1 : NULL;
    }
    return true;
}

/* The host requests go to, as GDAL will choose it. */
static void endpoint_host(const char *scheme, const char *bucket, char *out, size_t size)
{
    const char *url = NULL;
    char account_host[300];
    if (strcmp(scheme, "s3://") == 0) {
        url = CPLGetConfigOption("AWS_S3_ENDPOINT", NULL);
        if (!url) {
            snprintf(account_host, sizeof(account_host), "%s.s3.amazonaws.com", bucket);
            url = account_host;
        }
    } else if (strcmp(scheme, "gs://") == 0) {
        url = CPLGetConfigOption("CPL_GS_ENDPOINT", "https://storage.googleapis.com/");
    } else {
        const char *conn = CPLGetConfigOption("AZURE_STORAGE_CONNECTION_STRING", NULL);
        const char *blob = conn ? strstr(conn, "BlobEndpoint=") : NULL;
        if (blob) {
            url = blob + strlen("BlobEndpoint=");
        } else {
            const char *account = CPLGetConfigOption("AZURE_STORAGE_ACCOUNT", "");
            snprintf(account_host, sizeof(account_host), "%s.blob.core.windows.net", account);
            url = account_host;
        }
    }
    const char *host = strstr(url, "://");
    host = host ? host + 3 : url;
    size_t n = host[0] == '[' ? strcspn(host, "]") + 1 : strcspn(host, ":/;");
    snprintf(out, size, "%.*s", (int)(n < size ? n : size - 1), host);
    if (out[0] == '[') {
        memmove(out, out + 1, strlen(out));
        out[strcspn(out, "]")] = '\0';
    }
}

static enum rc_err check_endpoint(const struct rc_url_policy *policy, const char *host,
                                  const char *field, struct rc_error *err)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *found = NULL;
    if (getaddrinfo(host, NULL, &hints, &found) != 0 || !found) {
        return rc_error_set(err, RC_ERR_UPSTREAM, field,
                            "the object store's endpoint %.100s does not resolve", host);
    }
    enum rc_err rc = RC_OK;
    for (struct addrinfo *a = found; a && rc == RC_OK; a = a->ai_next) {
        rc = rc_url_policy_check_addr(policy, a->ai_addr, field, err);
    }
    freeaddrinfo(found);
    return rc;
}

/* GDAL's last error as ours: a missing object 404, refused credentials 502. */
static enum rc_err vsi_error(const char *field, const char *what, struct rc_error *err)
{
    int no = VSIGetLastErrorNo();
    const char *msg = VSIGetLastErrorMsg();
    char detail[160];
    snprintf(detail, sizeof(detail), "%s", msg && msg[0] ? msg : CPLGetLastErrorMsg());
    for (char *p = detail; *p; p++) {
        *p = *p == '"' ? '\'' : *p;
    }
    rc_log(RC_LOG_INFO, "msg=\"object storage\" what=%s vsi_error=%d detail=\"%s\"", what, no,
           detail);
    /* A 404 without an S3 error body leaves no error at all: the object is not there
     * (a failed connection leaves one). */
    bool silent = no == VSIE_None && CPLGetLastErrorNo() == CPLE_None;
    if (silent || no == VSIE_AWSObjectNotFound || no == VSIE_AWSBucketNotFound ||
        no == VSIE_FileError) {
        return rc_error_set(err, RC_ERR_NOT_FOUND, field, "no such object in the bucket");
    }
    if (no == VSIE_AWSAccessDenied || no == VSIE_AWSInvalidCredentials ||
        no == VSIE_AWSSignatureDoesNotMatch) {
        return rc_error_set(err, RC_ERR_UPSTREAM, field,
                            "the object store refused the daemon's credentials");
    }
    return rc_error_set(err, RC_ERR_UPSTREAM, field, "the object store failed to %s", what);
}

enum rc_err rc_objstore_open(const struct rc_url_policy *policy, const char *allow_bucket,
                             long connect_timeout_ms, long timeout_ms, const char *url,
                             const char *field, struct rc_objstore **out, struct rc_error *err)
{
    *out = NULL;
    size_t which = 0;
    while (strncasecmp(url, schemes[which].scheme, strlen(schemes[which].scheme)) != 0) {
        which++;
    }
    const char *scheme = schemes[which].scheme;
    const char *rest = url + strlen(scheme);
    size_t bucket_len = strcspn(rest, "/");
    char bucket[256];
    if (bucket_len == 0 || bucket_len >= sizeof(bucket) || rest[bucket_len] != '/') {
        return rc_error_set(err, RC_ERR_INVALID, field, "give %sBUCKET/KEY", scheme);
    }
    memcpy(bucket, rest, bucket_len);
    bucket[bucket_len] = '\0';
    if (strspn(bucket, "abcdefghijklmnopqrstuvwxyz0123456789.-_") != bucket_len) {
        return rc_error_set(err, RC_ERR_INVALID, field,
                            "a bucket name holds a-z, 0-9, '.', '-' and '_' only");
    }
    const char *key = rest + bucket_len + 1;
    if (!key_ok(key)) {
        return rc_error_set(err, RC_ERR_INVALID, field,
                            "the object key is empty, has an empty, '.' or '..' segment, or "
                            "holds control characters, '?', '#' or '\\'");
    }
    if (!allow_bucket || !allow_bucket[0] || !bucket_allowed(allow_bucket, scheme, bucket)) {
        return rc_error_set(err, RC_ERR_FORBIDDEN, field,
                            "the bucket %s is not on this server's allow_bucket list", bucket);
    }
    char host[300];
    endpoint_host(scheme, bucket, host, sizeof(host));
    enum rc_err rc = check_endpoint(policy, host, field, err);
    if (rc != RC_OK) {
        return rc;
    }
    struct rc_objstore *s = calloc(1, sizeof(*s));
    if (!s) {
        return rc_error_set(err, RC_ERR_NOMEM, field, "out of memory");
    }
    snprintf(s->path, sizeof(s->path), "%s%s/%s", schemes[which].prefix, bucket, key);
    snprintf(s->field, sizeof(s->field), "%s", field);
    /* This thread's requests: the job's timeouts, and no answer cached from an
     * earlier job (the object may have changed since). */
    char value[32];
    snprintf(value, sizeof(value), "%ld", (connect_timeout_ms + 999) / 1000);
    CPLSetThreadLocalConfigOption("GDAL_HTTP_CONNECTTIMEOUT", value);
    snprintf(value, sizeof(value), "%ld", (timeout_ms + 999) / 1000);
    CPLSetThreadLocalConfigOption("GDAL_HTTP_TIMEOUT", value);
    CPLSetThreadLocalConfigOption("GDAL_DISABLE_READDIR_ON_OPEN", "EMPTY_DIR");
    VSICurlPartialClearCache(s->path);
    CPLPushErrorHandler(CPLQuietErrorHandler); /* failures are reported as ours */
    VSIErrorReset();
    CPLErrorReset();
    VSIStatBufL st;
    int flags = VSI_STAT_EXISTS_FLAG | VSI_STAT_SIZE_FLAG | VSI_STAT_SET_ERROR_FLAG;
    if (VSIStatExL(s->path, &st, flags) != 0) {
        rc = vsi_error(field, "find the object", err);
    } else if (!(s->file = VSIFOpenExL(s->path, "rb", TRUE))) {
        rc = vsi_error(field, "open the object", err);
    }
    CPLPopErrorHandler();
    if (rc != RC_OK) {
        free(s);
        return rc;
    }
    s->size = (uint64_t)st.st_size;
    char **headers = VSIGetFileMetadata(s->path, "HEADERS", NULL);
    const char *etag = headers ? CSLFetchNameValue(headers, "ETag") : NULL;
    if (etag && etag[0]) {
        snprintf(s->validator, sizeof(s->validator), "%s", etag);
    } else {
        snprintf(s->validator, sizeof(s->validator), "m=%lld|s=%llu", (long long)st.st_mtime,
                 (unsigned long long)s->size);
    }
    CSLDestroy(headers);
    *out = s;
    return RC_OK;
}

void rc_objstore_close(struct rc_objstore *store)
{
    if (!store) {
        return;
    }
    if (store->file) {
        VSIFCloseL(store->file);
    }
    free(store);
}

uint64_t rc_objstore_size(const struct rc_objstore *store)
{
    return store->size;
}

const char *rc_objstore_validator(const struct rc_objstore *store)
{
    return store->validator;
}

enum rc_err rc_objstore_read(struct rc_objstore *store, uint64_t offset, void *buf, size_t len,
                             size_t *got, struct rc_error *err)
{
    *got = 0;
    if (offset >= store->size || len == 0) {
        return RC_OK;
    }
    if (len > store->size - offset) {
        len = (size_t)(store->size - offset);
    }
    CPLPushErrorHandler(CPLQuietErrorHandler);
    VSIErrorReset();
    CPLErrorReset();
    enum rc_err rc = RC_OK;
    if (VSIFSeekL(store->file, (vsi_l_offset)offset, SEEK_SET) != 0) {
        rc = vsi_error(store->field, "seek", err);
    } else if ((*got = VSIFReadL(buf, 1, len, store->file)) < len) {
        rc = vsi_error(store->field, "read the object", err);
    }
    CPLPopErrorHandler();
    return rc;
}
