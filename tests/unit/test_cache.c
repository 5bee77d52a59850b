/* The generic cache: LRU order, eviction by bytes, a zero budget, and two loaders
 * of one key meeting: claim, wait, put or abandon. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/cache.h"
#include "check.h"

struct value {
    atomic_int refs;
    int id;
};

static atomic_int freed;

static void retain(void *v)
{
    atomic_fetch_add(&((struct value *)v)->refs, 1);
}

static void release(void *v)
{
    struct value *value = v;
    if (atomic_fetch_sub(&value->refs, 1) == 1) {
        atomic_fetch_add(&freed, 1);
        free(value);
    }
}

static const struct rc_cache_ops ops = {.retain = retain, .release = release};

static struct value *make(int id)
{
    struct value *v = calloc(1, sizeof(*v));
    atomic_init(&v->refs, 1);
    v->id = id;
    return v;
}

/* Loads `key` as value `id` through the cache; returns the caller's reference. */
static struct value *load(struct rc_cache *c, const char *key, int id, size_t bytes, bool *hit)
{
    bool claimed = false;
    struct value *v = rc_cache_get(c, key, &claimed);
    *hit = v != NULL;
    if (v) {
        CHECK(!claimed);
        return v;
    }
    CHECK(claimed);
    v = make(id);
    rc_cache_put(c, key, v, bytes);
    return v;
}

static void test_lru_and_budget(void)
{
    atomic_store(&freed, 0);
    struct rc_cache *c = rc_cache_create(300, &ops);
    bool hit;
    release(load(c, "a", 1, 100, &hit));
    CHECK(!hit);
    release(load(c, "b", 2, 100, &hit));
    release(load(c, "c", 3, 100, &hit));
    struct value *a = load(c, "a", 0, 100, &hit); /* a is now the most recent */
    CHECK(hit && a->id == 1);
    release(a);
    release(load(c, "d", 4, 100, &hit)); /* over budget: b, the least recent, goes */
    struct rc_cache_stats st;
    rc_cache_stats(c, &st);
    CHECK(st.entries == 3 && st.bytes == 300 && st.evictions == 1);
    CHECK(st.hits == 1 && st.misses == 4);
    CHECK(atomic_load(&freed) == 1);
    struct value *b = load(c, "b", 5, 100, &hit);
    CHECK(!hit && b->id == 5); /* loaded again */
    release(b);
    /* A value the caller still holds outlives its eviction. */
    struct value *held = load(c, "held", 6, 250, &hit);
    rc_cache_stats(c, &st);
    CHECK(st.bytes <= 300);
    CHECK(held->id == 6 && atomic_load(&held->refs) >= 1);
    release(held);
    rc_cache_destroy(c);
    CHECK(atomic_load(&freed) == 6); /* every value released once */
}

static void test_zero_budget(void)
{
    atomic_store(&freed, 0);
    struct rc_cache *c = rc_cache_create(0, &ops);
    bool hit;
    struct value *v = load(c, "x", 1, 10, &hit);
    CHECK(!hit);
    release(v);
    CHECK(atomic_load(&freed) == 1); /* kept nothing */
    release(load(c, "x", 2, 10, &hit));
    CHECK(!hit);
    rc_cache_destroy(c);
}

struct waiter {
    struct rc_cache *cache;
    const char *key;
    struct value *got;
    bool claimed;
    atomic_bool started;
};

static void *wait_for_key(void *arg)
{
    struct waiter *w = arg;
    atomic_store(&w->started, true);
    w->got = rc_cache_get(w->cache, w->key, &w->claimed);
    return NULL;
}

/* Starts a second loader of `key` while the first holds its claim. Whether it
 * reaches rc_cache_get() before or after the claim ends, the outcome checked below
 * is the same; the pause only makes the waiting path the likely one. */
static void start_waiter(struct waiter *w, pthread_t *t)
{
    pthread_create(t, NULL, wait_for_key, w);
    while (!atomic_load(&w->started)) {
    }
    struct timespec pause = {0, 20 * 1000 * 1000};
    nanosleep(&pause, NULL);
}

static void test_claim_wait_put_abandon(void)
{
    atomic_store(&freed, 0);
    struct rc_cache *c = rc_cache_create(1000, &ops);
    bool claimed = false;
    CHECK(rc_cache_get(c, "k", &claimed) == NULL && claimed);
    struct waiter w = {.cache = c, .key = "k"};
    pthread_t t;
    start_waiter(&w, &t);
    struct value *v = make(7);
    rc_cache_put(c, "k", v, 10);
    pthread_join(t, NULL);
    CHECK(w.got == v && !w.claimed); /* loaded once, shared */
    release(w.got);
    release(v);

    CHECK(rc_cache_get(c, "k2", &claimed) == NULL && claimed);
    rc_cache_abandon(c, "k2");
    CHECK(rc_cache_get(c, "k2", &claimed) == NULL && claimed); /* free to load again */
    rc_cache_abandon(c, "k2");

    /* A loader waiting on a claim that is abandoned claims the key itself. */
    CHECK(rc_cache_get(c, "k3", &claimed) == NULL && claimed);
    struct waiter w3 = {.cache = c, .key = "k3"};
    start_waiter(&w3, &t);
    rc_cache_abandon(c, "k3");
    pthread_join(t, NULL);
    CHECK(w3.got == NULL && w3.claimed);
    rc_cache_abandon(c, "k3");
    rc_cache_destroy(c);
    CHECK(atomic_load(&freed) == 1);
}

int main(void)
{
    test_lru_and_budget();
    test_zero_budget();
    test_claim_wait_put_abandon();
    return CHECK_DONE();
}
