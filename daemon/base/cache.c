#include "base/cache.h"

#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "base/metrics.h"

struct entry {
    char *key;
    void *value; /* NULL while loading */
    size_t bytes;
    struct entry *prev, *next; /* most recently used first */
};

struct rc_cache {
    pthread_mutex_t lock;
    pthread_cond_t loaded;
    /* All below under `lock`. */
    struct rc_cache_ops ops;
    struct entry *head, *tail;
    size_t bytes, entries, budget;
    uint64_t hits, misses, evictions;
};

struct rc_cache *rc_cache_create(size_t budget_bytes, const struct rc_cache_ops *ops)
{
    struct rc_cache *c = calloc(1, sizeof(*c));
    if (!c) {
        return NULL;
    }
    c->budget = budget_bytes;
    c->ops = *ops;
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->loaded, NULL);
    return c;
}

static void unlink_entry(struct rc_cache *c, struct entry *e)
{
    if (e->prev) {
        e->prev->next = e->next;
    } else {
        c->head = e->next;
    }
    if (e->next) {
        e->next->prev = e->prev;
    } else {
        c->tail = e->prev;
    }
    e->prev = e->next = NULL;
}

static void push_front(struct rc_cache *c, struct entry *e)
{
    e->next = c->head;
    e->prev = NULL;
    if (c->head) {
        c->head->prev = e;
    }
    c->head = e;
    if (!c->tail) {
        c->tail = e;
    }
}

static void free_entry(struct rc_cache *c, struct entry *e)
{
    unlink_entry(c, e);
    c->bytes -= e->bytes;
    c->entries--;
    if (e->value) {
        c->ops.release(e->value);
    }
    free(e->key);
    free(e);
}

void rc_cache_destroy(struct rc_cache *cache)
{
    if (!cache) {
        return;
    }
    while (cache->head) {
        free_entry(cache, cache->head);
    }
    pthread_mutex_destroy(&cache->lock);
    pthread_cond_destroy(&cache->loaded);
    free(cache);
}

static struct entry *find(struct rc_cache *c, const char *key)
{
    for (struct entry *e = c->head; e; e = e->next) {
        if (strcmp(e->key, key) == 0) {
            return e;
        }
    }
    return NULL;
}

void *rc_cache_get(struct rc_cache *cache, const char *key, bool *claimed)
{
    struct rc_cache *c = cache;
    *claimed = false;
    pthread_mutex_lock(&c->lock);
    struct entry *e;
    while ((e = find(c, key)) != NULL && !e->value) {
        pthread_cond_wait(&c->loaded, &c->lock); /* another job is loading it */
    }
    void *r = NULL;
    if (e) {
        unlink_entry(c, e);
        push_front(c, e);
        r = e->value;
        c->ops.retain(r);
        c->hits++;
    } else {
        c->misses++;
        e = calloc(1, sizeof(*e));
        char *k = strdup(key);
        if (e && k) {
            e->key = k;
            push_front(c, e);
            c->entries++;
        } else {
            free(e);
            free(k);
        }
        *claimed = true;
    }
    pthread_mutex_unlock(&c->lock);
    return r;
}

/* Drops least recently used entries until the budget holds; never one loading. */
static void evict(struct rc_cache *c)
{
    struct entry *e = c->tail;
    while (c->bytes > c->budget && e) {
        struct entry *prev = e->prev;
        if (e->value) {
            free_entry(c, e);
            c->evictions++;
        }
        e = prev;
    }
}

void rc_cache_put(struct rc_cache *cache, const char *key, void *value, size_t bytes)
{
    struct rc_cache *c = cache;
    pthread_mutex_lock(&c->lock);
    struct entry *e = find(c, key);
    if (e && !e->value) {
        c->ops.retain(value);
        e->value = value;
        e->bytes = bytes;
        c->bytes += e->bytes;
        evict(c);
    }
    pthread_cond_broadcast(&c->loaded);
    pthread_mutex_unlock(&c->lock);
}

void rc_cache_abandon(struct rc_cache *cache, const char *key)
{
    struct rc_cache *c = cache;
    pthread_mutex_lock(&c->lock);
    struct entry *e = find(c, key);
    if (e && !e->value) {
        free_entry(c, e); /* waiters find nothing and load for themselves */
    }
    pthread_cond_broadcast(&c->loaded);
    pthread_mutex_unlock(&c->lock);
}

void rc_cache_stats(struct rc_cache *cache, struct rc_cache_stats *out)
{
    pthread_mutex_lock(&cache->lock);
    out->hits = cache->hits;
    out->misses = cache->misses;
    out->evictions = cache->evictions;
    out->bytes = cache->bytes;
    out->entries = cache->entries;
    out->budget_bytes = cache->budget;
    pthread_mutex_unlock(&cache->lock);
}

void rc_cache_insert(struct rc_cache *cache, const char *key, void *value, size_t bytes)
{
    struct rc_cache *c = cache;
    struct entry *e = calloc(1, sizeof(*e));
    char *k = strdup(key);
    if (!e || !k) {
        free(e);
        free(k);
        return;
    }
    pthread_mutex_lock(&c->lock);
    if (find(c, key)) {
        pthread_mutex_unlock(&c->lock);
        free(e);
        free(k);
        return;
    }
    c->ops.retain(value);
    e->key = k;
    e->value = value;
    e->bytes = bytes;
    push_front(c, e);
    c->entries++;
    c->bytes += bytes;
    evict(c);
    pthread_mutex_unlock(&c->lock);
}

bool rc_cache_remove(struct rc_cache *cache, const char *key)
{
    pthread_mutex_lock(&cache->lock);
    struct entry *e = find(cache, key);
    bool found = e && e->value;
    if (found) {
        free_entry(cache, e);
    }
    pthread_mutex_unlock(&cache->lock);
    return found;
}

size_t rc_cache_clear(struct rc_cache *cache)
{
    size_t removed = 0;
    pthread_mutex_lock(&cache->lock);
    for (struct entry *e = cache->head, *next; e; e = next) {
        next = e->next;
        if (e->value) {
            free_entry(cache, e);
            removed++;
        }
    }
    pthread_mutex_unlock(&cache->lock);
    return removed;
}

void *rc_cache_peek(struct rc_cache *cache, const char *key)
{
    pthread_mutex_lock(&cache->lock);
    struct entry *e = find(cache, key);
    void *r = e ? e->value : NULL;
    if (r) {
        unlink_entry(cache, e);
        push_front(cache, e);
        cache->ops.retain(r);
        cache->hits++;
    }
    pthread_mutex_unlock(&cache->lock);
    return r;
}

const struct rc_metric_field rc_cache_metrics[] = {
    {"rasterclip_cache_hits_total", "counter",
     "Raster reads answered from decoded rasters kept in memory.", "",
     offsetof(struct rc_cache_stats, hits)},
    {"rasterclip_cache_misses_total", "counter", "Raster reads that decoded the file.", "",
     offsetof(struct rc_cache_stats, misses)},
    {"rasterclip_cache_evictions_total", "counter",
     "Decoded rasters dropped to keep within cache_mb.", "",
     offsetof(struct rc_cache_stats, evictions)},
    {"rasterclip_cache_bytes", "gauge", "Bytes of decoded rasters kept.", "",
     offsetof(struct rc_cache_stats, bytes)},
    {"rasterclip_cache_entries", "gauge", "Decoded rasters kept.", "",
     offsetof(struct rc_cache_stats, entries)},
};
const size_t rc_cache_metric_count = sizeof(rc_cache_metrics) / sizeof(rc_cache_metrics[0]);
