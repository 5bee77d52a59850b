/*
 * cache: reference-counted values kept between jobs under string keys, least
 * recently used first out, within a byte budget. It knows nothing of what it
 * holds: the creator gives the functions that take and drop a reference, and each
 * put says how many bytes the value accounts for. (The raster stage keeps decoded
 * rasters here, keyed by the source's identity and what was read.)
 *
 * Two jobs asking for the same key at once load it once: the first claims the
 * key, the others wait until it is put or abandoned. Any thread; one lock.
 */
#ifndef RC_CACHE_H
#define RC_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/metrics.h"

struct rc_cache;

/* How the cache takes and drops its references on values. */
struct rc_cache_ops {
    void (*retain)(void *value);
    void (*release)(void *value);
};

struct rc_cache_stats {
    uint64_t hits, misses, evictions;
    uint64_t bytes, entries, budget_bytes;
};

/* The decoded-raster cache's metrics (base/metrics.h), read from its stats. */
extern const struct rc_metric_field rc_cache_metrics[];
extern const size_t rc_cache_metric_count;

/* A budget of 0 keeps nothing but still merges concurrent loads. `ops` is copied. */
struct rc_cache *rc_cache_create(size_t budget_bytes, const struct rc_cache_ops *ops);
void rc_cache_destroy(struct rc_cache *cache);

/* Returns the cached value for `key` (a new reference) or NULL with *claimed set:
 * the caller must then load it and call rc_cache_put() or rc_cache_abandon().
 * Waits while another caller holds the key's claim. */
void *rc_cache_get(struct rc_cache *cache, const char *key, bool *claimed);
/* Stores `value` under a claimed key (the cache takes its own reference); `bytes`
 * counts against the budget. */
void rc_cache_put(struct rc_cache *cache, const char *key, void *value, size_t bytes);
void rc_cache_abandon(struct rc_cache *cache, const char *key);

/* A hit as rc_cache_get() gives it, or NULL at once: no claim, no wait, and a
 * miss is not counted (the caller goes on to rc_cache_get()). */
void *rc_cache_peek(struct rc_cache *cache, const char *key);
/* Stores `value` under an unclaimed key (an entry found on disk at start-up);
 * nothing when the key is present. */
void rc_cache_insert(struct rc_cache *cache, const char *key, void *value, size_t bytes);
/* Drops the entry of `key` (not one being loaded): false when there is none. */
bool rc_cache_remove(struct rc_cache *cache, const char *key);
/* Drops every entry not being loaded; returns how many. */
size_t rc_cache_clear(struct rc_cache *cache);

void rc_cache_stats(struct rc_cache *cache, struct rc_cache_stats *out);

#endif
