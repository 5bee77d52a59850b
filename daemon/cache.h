/*
 * cache: decoded rasters kept between jobs, least recently used first out, within
 * a byte budget.
 *
 * Keys name what was read: the source's identity (a local file's real path,
 * modification time and size; a remote URL and its current ETag or Last-Modified,
 * learnt afresh by every job) plus the bands, the nodata override and the grid
 * size. Cached rasters are immutable and shared by reference count.
 *
 * Two jobs asking for the same key at once load it once: the first claims the
 * key, the others wait until it is put or abandoned. Any thread; one lock.
 */
#ifndef RC_CACHE_H
#define RC_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rc_raster;
struct rc_cache;

struct rc_cache_stats {
    uint64_t hits, misses, evictions;
    size_t bytes, entries, budget_bytes;
};

/* A budget of 0 keeps nothing but still merges concurrent loads. */
struct rc_cache *rc_cache_create(size_t budget_bytes);
void rc_cache_destroy(struct rc_cache *cache);

/* Returns the cached raster for `key` (a new reference) or NULL with *claimed set:
 * the caller must then load it and call rc_cache_put() or rc_cache_abandon(). */
struct rc_raster *rc_cache_get(struct rc_cache *cache, const char *key, bool *claimed);
/* Stores `raster` under a claimed key (the cache takes its own reference). */
void rc_cache_put(struct rc_cache *cache, const char *key, struct rc_raster *raster);
void rc_cache_abandon(struct rc_cache *cache, const char *key);

void rc_cache_stats(struct rc_cache *cache, struct rc_cache_stats *out);

#endif
