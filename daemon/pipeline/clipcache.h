/*
 * clipcache: finished clips kept on disk and served again, like static files.
 *
 * An entry is one file, DIR/<key>.<frames>.<size>.<digest>, holding a finished
 * (seekable) clip of that many frames and bytes, and beside it <that name>.b, the
 * clip's bounds when it has them (written first, removed with it); <key> is the hex SHA-256 of the
 * program version, the job's canonical text (rc_job_spec_canonical) and the
 * identities of its rasters, which finds it; <digest> is the SHA-256 of its bytes,
 * the clip's strong ETag. An entry is checked before it is served: opened without
 * following a symbolic link, a regular file of the recorded size whose bytes hash
 * to the recorded digest; one that is not (flipped bytes, cut short, emptied,
 * replaced) is removed, counted (`corrupt`) and logged, and the job renders afresh.
 * Entries are written to a temporary file, flushed and
 * renamed into place, only for clips that completed; at start-up the directory is
 * read back (most recently used last, by modification time, which a hit renews)
 * and left-over temporary files are removed. Least recently used entries are
 * removed past the byte budget. Two identical jobs at once render once: the
 * second waits in rc_clipcache_open_entry() until the first has stored (or
 * abandoned) the key.
 *
 * Any thread. The index is a base/cache.h cache of entries; a file being served
 * stays readable after its entry is evicted (its descriptor is open).
 */
#ifndef RC_CLIPCACHE_H
#define RC_CLIPCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/error.h"
#include "base/metrics.h"
#include "base/place.h"

struct rc_clipcache;

struct rc_clipcache_stats {
    uint64_t hits, misses, evictions, stores;
    uint64_t corrupt; /* entries found damaged when about to be served, and dropped */
    uint64_t bytes, entries, budget_bytes;
};

/* Its metrics (base/metrics.h), read from its stats. */
extern const struct rc_metric_field rc_clipcache_metrics[];
extern const size_t rc_clipcache_metric_count;

/* Opens (creating it) the directory and reads its entries. */
enum rc_err rc_clipcache_create(const char *dir, uint64_t budget_bytes, struct rc_clipcache **out,
                                struct rc_error *err);
/* Frees the index; the files stay for the next start. NULL-safe. */
void rc_clipcache_destroy(struct rc_clipcache *cache);

/* The key of a job: SHA-256 over the program (rc_clipcache_program), the
 * canonical job text and the raster identities (hex, 64 characters and a NUL). */
void rc_clipcache_key(const struct rc_buf *canonical, const char *const *identities,
                      size_t identity_count, char key[65]);
/* "rasterclip VERSION HASH": the version and a digest of the executable. */
const char *rc_clipcache_program(void);

struct rc_clip_file {
    uint64_t size, frames;
    char digest[65];         /* SHA-256 of its bytes: the ETag */
    struct rc_bounds bounds; /* where it lies, as stored beside it (<name>.b) */
};

/* The SHA-256 (hex) of a clip's bytes, its ETag. */
void rc_clipcache_digest(const void *data, size_t len, char out[65]);

/* A hit: an open descriptor of the entry (the caller closes it), its size and
 * length. A miss: -1 with *claimed set when the caller must now render the clip
 * and end with rc_clipcache_store() or rc_clipcache_abandon(). Waits while another
 * caller renders the same key. */
int rc_clipcache_open_entry(struct rc_clipcache *cache, const char *key, struct rc_clip_file *out,
                            bool *claimed);
/* A hit as above, or -1 at once: no claim, no wait, a miss not counted. */
int rc_clipcache_peek(struct rc_clipcache *cache, const char *key, struct rc_clip_file *out);
/* Writes a claimed key's clip atomically and releases the claim; false when it
 * could not be written (the claim is released all the same). */
bool rc_clipcache_store(struct rc_clipcache *cache, const char *key, uint64_t frames,
                        const struct rc_bounds *bounds, const void *data, size_t len);
void rc_clipcache_abandon(struct rc_clipcache *cache, const char *key);

/* Removes the entry whose ETag (content digest) is `etag` (false: none), or every
 * entry (returns how many). */
bool rc_clipcache_remove(struct rc_clipcache *cache, const char *etag);
size_t rc_clipcache_clear(struct rc_clipcache *cache);

struct rc_job;
struct rc_config;
/* The key of `job` given its rasters' identities (rc_raster.identity); false when
 * memory ran short. */
bool rc_clipcache_job_key(const struct rc_job *job, const char *const *ids, size_t count,
                          char key[65]);
/* Before a job is queued (any thread): when its raster's identity is known without
 * reading it (a local file, an upload of up to 16 MiB; no separate heights) and its
 * clip is cached, gives the job its file (RC_JOB_FINISHED, clip_fd, ETag, frames,
 * progress done) and returns true. `max_texture`: the workers' GL limit. */
bool rc_clipcache_answer_early(struct rc_clipcache *cache, const struct rc_config *cfg,
                               struct rc_job *job, unsigned max_texture);
/* A memory file holding `data` (a finished clip sent like a cached one), or -1. */
int rc_clipcache_memfd(const void *data, size_t len);

void rc_clipcache_stats(struct rc_clipcache *cache, struct rc_clipcache_stats *out);

#endif
