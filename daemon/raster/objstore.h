/*
 * objstore: rasters in object storage — s3://BUCKET/KEY, gs://BUCKET/KEY and
 * az://CONTAINER/BLOB — read by the daemon through GDAL's /vsis3/, /vsigs/ and
 * /vsiaz/, which sign each request with the credentials GDAL finds in the
 * daemon's environment (AWS_*, GS_* or GOOGLE_APPLICATION_CREDENTIALS,
 * AZURE_STORAGE_*; IRSA's web identity token and workload identity included),
 * and handed to the reader process like any remote file (raster/fetch.h).
 *
 * Before anything is requested: the bucket must be on allow_bucket (empty: no
 * object storage; `*`: any), the key may hold no `.` or `..` segment nor control
 * characters, and the endpoint's host (AWS_S3_ENDPOINT, CPL_GS_ENDPOINT, the
 * connection string's BlobEndpoint, or the provider's default) must resolve only
 * to addresses the URL policy allows. Reads are ranged; each is counted.
 *
 * A `struct rc_objstore` belongs to the thread that opened it.
 */
#ifndef RC_OBJSTORE_H
#define RC_OBJSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "raster/urlpolicy.h"

struct rc_objstore;

/* Whether `url` names object storage (s3://, gs://, az://). */
bool rc_objstore_is_url(const char *url);

enum rc_err rc_objstore_open(const struct rc_url_policy *policy, const char *allow_bucket,
                             long connect_timeout_ms, long timeout_ms, const char *url,
                             const char *field, struct rc_objstore **out, struct rc_error *err);
void rc_objstore_close(struct rc_objstore *store);

uint64_t rc_objstore_size(const struct rc_objstore *store);
/* The object's ETag (else its modification time and size). */
const char *rc_objstore_validator(const struct rc_objstore *store);

/* Reads up to `len` bytes at `offset` (fewer only at the end). */
enum rc_err rc_objstore_read(struct rc_objstore *store, uint64_t offset, void *buf, size_t len,
                             size_t *got, struct rc_error *err);

#endif
