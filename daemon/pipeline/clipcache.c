#define _GNU_SOURCE /* O_CLOEXEC, renameat */

#include "pipeline/clipcache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cache.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/metrics.h"
#include "pipeline/clipbounds.h"
#include "pipeline/plan.h"
#include "raster/raster.h"

#define TEMP_PREFIX ".tmp-"

struct rc_clipcache {
    int dir; /* descriptor of the directory */
    struct rc_cache *index;
    atomic_bool closing; /* entries dropped now stay on disk */
    atomic_uint_fast64_t stores, temp_counter, corrupt;
};

/* One file in the index, shared by the index and those serving it. */
struct entry {
    atomic_int refs;
    struct rc_clipcache *owner;
    uint64_t frames;
    uint64_t size;
    char digest[65]; /* SHA-256 of the file's bytes: its ETag */
    char name[192];  /* <key>.<frames>.<size>.<digest>, in the directory */
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
    if (!atomic_load(&e->owner->closing) && unlinkat(e->owner->dir, e->name, 0) != 0 &&
        errno != ENOENT) {
        rc_log(RC_LOG_WARN, "msg=\"clip cache entry not removed\" name=%s errno=%d", e->name,
               errno);
    }
    if (!atomic_load(&e->owner->closing)) {
        rc_clipbounds_remove(e->owner->dir, e->name);
    }
    free(e);
}

static struct entry *entry_new(struct rc_clipcache *c, const char *key, uint64_t frames,
                               uint64_t size, const char *digest)
{
    struct entry *e = calloc(1, sizeof(*e));
    if (e) {
        atomic_init(&e->refs, 1);
        e->owner = c;
        e->frames = frames;
        e->size = size;
        snprintf(e->digest, sizeof(e->digest), "%s", digest);
        snprintf(e->name, sizeof(e->name), "%s.%llu.%llu.%s", key, (unsigned long long)frames,
                 (unsigned long long)size, digest);
    }
    return e;
}

static bool is_hex64(const char *s)
{
    for (size_t i = 0; i < 64; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return false;
        }
    }
    return true;
}

/* A decimal number up to '.' (or the end); the text after it in *rest. */
static bool parse_number(const char *s, uint64_t *out, const char **rest)
{
    if (*s < '0' || *s > '9') {
        return false;
    }
    char *end = NULL;
    errno = 0;
    unsigned long long n = strtoull(s, &end, 10);
    if (errno || (*end != '.' && *end != '\0')) {
        return false;
    }
    *out = n;
    *rest = end;
    return true;
}

struct found {
    char key[65];
    char digest[65];
    uint64_t size, frames;
    struct timespec mtime;
};

/* "<key>.<frames>.<size>.<digest>": the key, the clip's length in frames, its
 * bytes and their SHA-256, all recorded when it was stored. */
static bool parse_name(const char *name, struct found *f)
{
    const char *p = name + 65;
    if (strlen(name) < 65 || !is_hex64(name) || name[64] != '.' ||
        !parse_number(p, &f->frames, &p) || *p != '.' || !parse_number(p + 1, &f->size, &p) ||
        *p != '.' || strlen(p + 1) != 64 || !is_hex64(p + 1)) {
        return false;
    }
    memcpy(f->key, name, 64);
    f->key[64] = '\0';
    memcpy(f->digest, p + 1, 65);
    return true;
}

static void hex(const unsigned char *md, char out[65])
{
    for (unsigned i = 0; i < 32; i++) {
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    }
    out[64] = '\0';
}

/* The SHA-256 of `len` bytes read from `fd` at its start; false when the file
 * holds another number of bytes. */
static bool file_digest(int fd, uint64_t len, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    static const size_t chunk_size = 1 << 16;
    uint8_t *chunk = malloc(chunk_size);
    uint64_t done = 0;
    ok = ok && chunk;
    while (ok) {
        ssize_t n = pread(fd, chunk, chunk_size, (off_t)done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            ok = n == 0;
            break;
        }
        done += (uint64_t)n;
        ok = done <= len && EVP_DigestUpdate(ctx, chunk, (size_t)n);
    }
    ok = ok && done == len && EVP_DigestFinal_ex(ctx, md, &md_len) && md_len == 32;
    free(chunk);
    EVP_MD_CTX_free(ctx);
    if (ok) {
        hex(md, out);
    }
    return ok;
}

void rc_clipcache_digest(const void *data, size_t len, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    if (!EVP_Digest(data, len, md, &md_len, EVP_sha256(), NULL) || md_len != 32) {
        memset(md, 0, sizeof(md));
    }
    hex(md, out);
}

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
        struct found f;
        if (de->d_name[0] == '.' || fstatat(c->dir, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            rc_clipbounds_keep(c->dir, de->d_name)) {
            continue;
        }
        if (!parse_name(de->d_name, &f) || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != f.size) {
            /* Not an entry this version wrote, or no longer what it wrote. */
            rc_log(RC_LOG_WARN, "msg=\"clip cache file removed\" name=\"%.100s\" why=%s",
                   de->d_name, parse_name(de->d_name, &f) ? "size" : "name");
            unlinkat(c->dir, de->d_name, 0);
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
        found[count] = f;
        found[count].mtime = st.st_mtim;
        count++;
    }
    closedir(d);
    if (rc == RC_OK && count) {
        qsort(found, count, sizeof(*found), older_first);
    }
    for (size_t i = 0; rc == RC_OK && i < count; i++) {
        struct entry *e =
            entry_new(c, found[i].key, found[i].frames, found[i].size, found[i].digest);
        if (e) {
            rc_cache_insert(c->index, found[i].key, e, (size_t)found[i].size);
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
    char why[128] = "";
    if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
        strerror_r(errno, why, sizeof(why));
        return rc_error_set(err, RC_ERR_INVALID, "clip_cache", "cannot create %s: %s", dir, why);
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
        strerror_r(errno, why, sizeof(why));
        rc = rc_error_set(err, RC_ERR_INVALID, "clip_cache", "cannot open %s: %s", dir, why);
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

/* An open descriptor of the entry `e` (a reference the caller drops), or -1 when
 * its file is gone or is no longer what was stored: not a regular file (a
 * symbolic link is not followed), another size, or other bytes. Such an entry is
 * dropped, counted and logged; the caller renders the clip afresh. */
static int open_file(struct rc_clipcache *cache, const char *key, struct entry *e,
                     struct rc_clip_file *out)
{
    int fd = openat(cache->dir, e->name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    const char *why = fd < 0 ? (errno == ELOOP ? "symlink" : "missing") : NULL;
    struct stat st;
    char digest[65];
    if (!why && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) {
        why = "not_a_file";
    } else if (!why && (uint64_t)st.st_size != e->size) {
        why = "size";
    } else if (!why && (!file_digest(fd, e->size, digest) || strcmp(digest, e->digest) != 0)) {
        why = "content";
    }
    if (!why) {
        out->size = e->size;
        out->frames = e->frames;
        snprintf(out->digest, sizeof(out->digest), "%s", e->digest);
        rc_clipbounds_read(cache->dir, e->name, &out->bounds);
        futimens(fd, NULL); /* recently used, for the next start's order */
    } else {
        if (fd >= 0) {
            close(fd);
            fd = -1;
        }
        if (strcmp(why, "missing") != 0) {
            atomic_fetch_add(&cache->corrupt, 1);
            rc_log(RC_LOG_WARN, "msg=\"clip cache entry damaged, dropped\" key=%s why=%s", key,
                   why);
        }
        /* Dropped from the index: its file goes too (entry_release). */
        rc_cache_remove(cache->index, key);
    }
    entry_release(e);
    return fd;
}

int rc_clipcache_open_entry(struct rc_clipcache *cache, const char *key, struct rc_clip_file *out,
                            bool *claimed)
{
    struct entry *e = rc_cache_get(cache->index, key, claimed);
    if (!e) {
        return -1;
    }
    int fd = open_file(cache, key, e, out);
    if (fd < 0) {
        /* The entry was damaged and is gone: this caller renders the clip. */
        e = rc_cache_get(cache->index, key, claimed);
        fd = e ? open_file(cache, key, e, out) : -1;
    }
    return fd;
}

int rc_clipcache_peek(struct rc_clipcache *cache, const char *key, struct rc_clip_file *out)
{
    struct entry *e = rc_cache_peek(cache->index, key);
    return e ? open_file(cache, key, e, out) : -1;
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

bool rc_clipcache_store(struct rc_clipcache *cache, const char *key, uint64_t frames,
                        const struct rc_bounds *bounds, const void *data, size_t len)
{
    char temp[128];
    snprintf(temp, sizeof(temp), TEMP_PREFIX "%s-%ld-%llu", key, (long)getpid(),
             (unsigned long long)atomic_fetch_add(&cache->temp_counter, 1));
    int fd = openat(cache->dir, temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    bool ok = fd >= 0 && write_all(fd, data, len) && fsync(fd) == 0;
    if (fd >= 0) {
        ok = close(fd) == 0 && ok;
    }
    char digest[65];
    rc_clipcache_digest(data, len, digest);
    struct entry *e = ok ? entry_new(cache, key, frames, len, digest) : NULL;
    if (e && bounds && bounds->known) {
        char side_temp[160];
        snprintf(side_temp, sizeof(side_temp), "%s.b", temp);
        rc_clipbounds_write(cache->dir, side_temp, e->name, bounds); /* else it has none */
    }
    ok = e && renameat(cache->dir, temp, cache->dir, e->name) == 0;
    if (!ok) {
        free(e);
        rc_log(RC_LOG_WARN, "msg=\"clip not cached\" key=%s errno=%d", key, errno);
        unlinkat(cache->dir, temp, 0);
        rc_cache_abandon(cache->index, key);
        return false;
    }
    fsync(cache->dir);
    rc_cache_put(cache->index, key, e, len);
    entry_release(e);
    atomic_fetch_add(&cache->stores, 1);
    return true;
}

void rc_clipcache_abandon(struct rc_clipcache *cache, const char *key)
{
    rc_cache_abandon(cache->index, key);
}

bool rc_clipcache_remove(struct rc_clipcache *cache, const char *etag)
{
    /* The entry whose file name ends in the digest. */
    int fd = dup(cache->dir);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0) {
            close(fd);
        }
        return false;
    }
    char key[65] = "";
    struct dirent *de;
    struct found f;
    rewinddir(d); /* the duplicate shares the directory's offset */
    while ((de = readdir(d)) != NULL) {
        if (parse_name(de->d_name, &f) && strcmp(f.digest, etag) == 0) {
            memcpy(key, f.key, sizeof(key));
            break;
        }
    }
    closedir(d);
    return key[0] && rc_cache_remove(cache->index, key);
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
    out->corrupt = atomic_load(&cache->corrupt);
    out->bytes = s.bytes;
    out->entries = s.entries;
    out->budget_bytes = s.budget_bytes;
}

bool rc_clipcache_job_key(const struct rc_job *job, const char *const *ids, size_t count,
                          char key[65])
{
    struct rc_buf text;
    rc_buf_init(&text);
    bool ok = rc_job_spec_canonical(&job->spec, &text) == RC_OK;
    if (ok) {
        rc_clipcache_key(&text, ids, count, key);
    }
    rc_buf_finish(&text);
    return ok;
}

/* Uploads up to this size are hashed on the HTTP thread to find a cached clip
 * before queueing; larger ones wait for a worker. */
#define EARLY_DIGEST_BYTES ((size_t)16 << 20)

bool rc_clipcache_answer_early(struct rc_clipcache *cache, const struct rc_config *cfg,
                               struct rc_job *job, unsigned max_texture)
{
    struct rc_raster_request req;
    if (rc_plan_height_request(job, &req) || job->spec.vector_count) {
        return false; /* separate heights or vector files: keyed once the values are read */
    }
    rc_plan_raster_request(job, max_texture, &req);
    char id[65], key[65];
    const char *ids[1] = {id};
    if ((req.data && req.data_len > EARLY_DIGEST_BYTES) || !rc_raster_identity(cfg, &req, id) ||
        !rc_clipcache_job_key(job, ids, 1, key)) {
        return false;
    }
    struct rc_clip_file file;
    int fd = rc_clipcache_peek(cache, key, &file);
    if (fd < 0) {
        return false;
    }
    job->clip_fd = fd;
    job->clip_size = file.size;
    job->frames = (size_t)file.frames;
    rc_job_set_bounds(job, &file.bounds);
    job->state = RC_JOB_FINISHED;
    snprintf(job->etag, sizeof(job->etag), "\"%s\"", file.digest);
    struct rc_job_progress *p = job->progress;
    uint_fast64_t now_us = (uint_fast64_t)(rc_clock_ms() * 1e3);
    atomic_store(&p->cached, true);
    atomic_store(&p->frames_total, (size_t)file.frames);
    atomic_store(&p->frames_done, (size_t)file.frames);
    atomic_store(&p->started_us, now_us);
    atomic_store(&p->ended_us, now_us);
    atomic_store(&p->phase, RC_PHASE_DONE);
    return true;
}

int rc_clipcache_memfd(const void *data, size_t len)
{
    int fd = memfd_create("rasterclip-clip", MFD_CLOEXEC);
    const uint8_t *p = data;
    size_t done = 0;
    while (fd >= 0 && done < len) {
        ssize_t n = write(fd, p + done, len - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        done += (size_t)n;
    }
    if (fd >= 0 && done != len) {
        close(fd);
        fd = -1;
    }
    return fd;
}
