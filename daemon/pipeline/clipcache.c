#define _GNU_SOURCE /* O_CLOEXEC, renameat */

#include "pipeline/clipcache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cache.h"
#include "base/log.h"

#define TEMP_PREFIX ".tmp-"

struct rc_clipcache {
    int dir; /* descriptor of the directory */
    struct rc_cache *index;
    atomic_bool closing; /* entries dropped now stay on disk */
    atomic_uint_fast64_t stores, temp_counter;
};

/* One file in the index, shared by the index and those serving it. */
struct entry {
    atomic_int refs;
    struct rc_clipcache *owner;
    char key[65];
};

static void entry_retain(void *value)
{
    struct entry *e = value;
    atomic_fetch_add(&e->refs, 1);
}

/* The last reference: an entry the index dropped (evicted or removed) goes from
 * the disk too, unless the daemon is closing. */
static void entry_release(void *value)
{
    struct entry *e = value;
    if (atomic_fetch_sub(&e->refs, 1) != 1) {
        return;
    }
    if (!atomic_load(&e->owner->closing) && unlinkat(e->owner->dir, e->key, 0) != 0 &&
        errno != ENOENT) {
        rc_log(RC_LOG_WARN, "msg=\"clip cache entry not removed\" key=%s errno=%d", e->key, errno);
    }
    free(e);
}

static struct entry *entry_new(struct rc_clipcache *c, const char *key)
{
    struct entry *e = calloc(1, sizeof(*e));
    if (e) {
        atomic_init(&e->refs, 1);
        e->owner = c;
        snprintf(e->key, sizeof(e->key), "%s", key);
    }
    return e;
}

static bool is_key(const char *name)
{
    if (strlen(name) != 64) {
        return false;
    }
    for (size_t i = 0; i < 64; i++) {
        if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f'))) {
            return false;
        }
    }
    return true;
}

struct found {
    char key[65];
    uint64_t size;
    struct timespec mtime;
};

static int older_first(const void *a, const void *b)
{
    const struct found *x = a, *y = b;
    if (x->mtime.tv_sec != y->mtime.tv_sec) {
        return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
    }
    return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : x->mtime.tv_nsec > y->mtime.tv_nsec;
}

/* Reads the directory back: entries into the index, most recently used last;
 * temporary files of an earlier run removed. */
static enum rc_err read_back(struct rc_clipcache *c, struct rc_error *err)
{
    int fd = dup(c->dir);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0) {
            close(fd);
        }
        return rc_error_set(err, RC_ERR_INVALID, "clip_cache", "cannot read the directory");
    }
    struct found *found = NULL;
    size_t count = 0, capacity = 0;
    enum rc_err rc = RC_OK;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        struct stat st;
        if (strncmp(de->d_name, TEMP_PREFIX, strlen(TEMP_PREFIX)) == 0) {
            unlinkat(c->dir, de->d_name, 0);
            continue;
        }
        if (!is_key(de->d_name) || fstatat(c->dir, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISREG(st.st_mode)) {
            continue;
        }
        if (count == capacity) {
            capacity = capacity ? 2 * capacity : 64;
            struct found *more = realloc(found, capacity * sizeof(*found));
            if (!more) {
                rc = rc_error_set(err, RC_ERR_NOMEM, "clip_cache", "out of memory");
                break;
            }
            found = more;
        }
        snprintf(found[count].key, sizeof(found[count].key), "%s", de->d_name);
        found[count].size = (uint64_t)st.st_size;
        found[count].mtime = st.st_mtim;
        count++;
    }
    closedir(d);
    if (rc == RC_OK && count) {
        qsort(found, count, sizeof(*found), older_first);
    }
    for (size_t i = 0; rc == RC_OK && i < count; i++) {
        struct entry *e = entry_new(c, found[i].key);
        if (e) {
            rc_cache_insert(c->index, e->key, e, (size_t)found[i].size);
            entry_release(e); /* the index holds it now (or evicted it) */
        }
    }
    free(found);
    return rc;
}

enum rc_err rc_clipcache_create(const char *dir, uint64_t budget_bytes, struct rc_clipcache **out,
                                struct rc_error *err)
{
    *out = NULL;
    if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
        return rc_error_set(err, RC_ERR_INVALID, "clip_cache", "cannot create %s: %s", dir,
                            strerror(errno));
    }
    struct rc_clipcache *c = calloc(1, sizeof(*c));
    if (!c) {
        return rc_error_set(err, RC_ERR_NOMEM, "clip_cache", "out of memory");
    }
    static const struct rc_cache_ops ops = {entry_retain, entry_release};
    c->dir = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    c->index = rc_cache_create((size_t)budget_bytes, &ops);
    atomic_init(&c->closing, false);
    enum rc_err rc = RC_OK;
    if (c->dir < 0) {
        rc = rc_error_set(err, RC_ERR_INVALID, "clip_cache", "cannot open %s: %s", dir,
                          strerror(errno));
    } else if (!c->index) {
        rc = rc_error_set(err, RC_ERR_NOMEM, "clip_cache", "out of memory");
    } else {
        rc = read_back(c, err);
    }
    if (rc != RC_OK) {
        rc_clipcache_destroy(c);
        return rc;
    }
    *out = c;
    return RC_OK;
}

void rc_clipcache_destroy(struct rc_clipcache *cache)
{
    if (!cache) {
        return;
    }
    atomic_store(&cache->closing, true);
    rc_cache_destroy(cache->index);
    if (cache->dir >= 0) {
        close(cache->dir);
    }
    free(cache);
}

/* The program: its version and the SHA-256 of its own executable, so a rebuilt
 * daemon never serves what an earlier build made. */
static char program[128];
static pthread_once_t program_once = PTHREAD_ONCE_INIT;

static void read_program(void)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    bool ok = ctx && fd >= 0 && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    uint8_t chunk[65536];
    ssize_t n;
    while (ok && (n = read(fd, chunk, sizeof(chunk))) > 0) {
        ok = EVP_DigestUpdate(ctx, chunk, (size_t)n);
    }
    ok = ok && EVP_DigestFinal_ex(ctx, md, &md_len) && md_len >= 16;
    EVP_MD_CTX_free(ctx);
    if (fd >= 0) {
        close(fd);
    }
    int at = snprintf(program, sizeof(program), "rasterclip %s ", RC_VERSION);
    for (unsigned i = 0; ok && i < 16; i++) {
        at += snprintf(program + at, sizeof(program) - (size_t)at, "%02x", md[i]);
    }
}

const char *rc_clipcache_program(void)
{
    pthread_once(&program_once, read_program);
    return program;
}

void rc_clipcache_key(const struct rc_buf *canonical, const char *const *identities,
                      size_t identity_count, char key[65])
{
    const char *version = rc_clipcache_program();
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
              EVP_DigestUpdate(ctx, version, strlen(version) + 1) &&
              EVP_DigestUpdate(ctx, canonical->data, canonical->len);
    for (size_t i = 0; ok && i < identity_count; i++) {
        ok = EVP_DigestUpdate(ctx, identities[i], strlen(identities[i]) + 1);
    }
    ok = ok && EVP_DigestFinal_ex(ctx, md, &md_len);
    EVP_MD_CTX_free(ctx);
    for (unsigned i = 0; i < 32; i++) {
        snprintf(key + 2 * i, 3, "%02x", ok && i < md_len ? md[i] : 0);
    }
    key[64] = '\0';
}

int rc_clipcache_open_entry(struct rc_clipcache *cache, const char *key, uint64_t *size,
                            bool *claimed)
{
    struct entry *e = rc_cache_get(cache->index, key, claimed);
    if (!e) {
        return -1;
    }
    int fd = openat(cache->dir, key, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0) {
        *size = (uint64_t)st.st_size;
        futimens(fd, NULL); /* recently used, for the next start's order */
    } else if (fd >= 0) {
        close(fd);
        fd = -1;
    }
    if (fd < 0) {
        /* Gone from under us (removed by hand): drop it and render afresh. */
        rc_cache_remove(cache->index, key);
    }
    entry_release(e);
    return fd;
}

static bool write_all(int fd, const uint8_t *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        data += n;
        len -= (size_t)n;
    }
    return true;
}

bool rc_clipcache_store(struct rc_clipcache *cache, const char *key, const void *data, size_t len)
{
    char temp[128];
    snprintf(temp, sizeof(temp), TEMP_PREFIX "%s-%ld-%llu", key, (long)getpid(),
             (unsigned long long)atomic_fetch_add(&cache->temp_counter, 1));
    int fd = openat(cache->dir, temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    bool ok = fd >= 0 && write_all(fd, data, len) && fsync(fd) == 0;
    if (fd >= 0) {
        ok = close(fd) == 0 && ok;
    }
    ok = ok && renameat(cache->dir, temp, cache->dir, key) == 0;
    if (!ok) {
        rc_log(RC_LOG_WARN, "msg=\"clip not cached\" key=%s errno=%d", key, errno);
        unlinkat(cache->dir, temp, 0);
        rc_cache_abandon(cache->index, key);
        return false;
    }
    fsync(cache->dir);
    struct entry *e = entry_new(cache, key);
    if (!e) {
        unlinkat(cache->dir, key, 0);
        rc_cache_abandon(cache->index, key);
        return false;
    }
    rc_cache_put(cache->index, key, e, len);
    entry_release(e);
    atomic_fetch_add(&cache->stores, 1);
    return true;
}

void rc_clipcache_abandon(struct rc_clipcache *cache, const char *key)
{
    rc_cache_abandon(cache->index, key);
}

bool rc_clipcache_remove(struct rc_clipcache *cache, const char *key)
{
    return rc_cache_remove(cache->index, key);
}

size_t rc_clipcache_clear(struct rc_clipcache *cache)
{
    return rc_cache_clear(cache->index);
}

void rc_clipcache_stats(struct rc_clipcache *cache, struct rc_clipcache_stats *out)
{
    struct rc_cache_stats s;
    rc_cache_stats(cache->index, &s);
    out->hits = s.hits;
    out->misses = s.misses;
    out->evictions = s.evictions;
    out->stores = atomic_load(&cache->stores);
    out->bytes = s.bytes;
    out->entries = s.entries;
    out->budget_bytes = s.budget_bytes;
}
