#include "base/bytequeue.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"

/* A writer waiting on a full pipe looks at the clock this often. */
enum { WAIT_SLICE_MS = 250 };
/* The reader's pace is judged over this long a wait. */
enum { RATE_WINDOW_MS = 5000 };

struct rc_bytequeue {
    pthread_mutex_t lock;
    pthread_cond_t space; /* signalled when the reader frees room or aborts */
    /* All below under `lock`. */
    uint8_t *ring;
    size_t capacity;
    size_t head;
    size_t length;
    uint64_t total;
    uint64_t read_total; /* bytes the reader has taken */
    double deadline_ms;  /* writes fail past it (rc_clock_ms); 0: none */
    double min_rate;     /* bytes a second the reader must keep up; 0: none */
    enum rc_bq_cut cut;  /* why writes were cut off */
    bool finished;
    bool ok;
    bool aborted;
    bool parked;
    struct rc_bytequeue_waker waker;
};

struct rc_bytequeue *rc_bytequeue_create(size_t capacity)
{
    struct rc_bytequeue *q = calloc(1, sizeof(*q));
    if (!q) {
        return NULL;
    }
    q->ring = malloc(capacity ? capacity : 1);
    if (!q->ring) {
        free(q);
        return NULL;
    }
    q->capacity = capacity ? capacity : 1;
    pthread_mutex_init(&q->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&q->space, &attr);
    pthread_condattr_destroy(&attr);
    return q;
}

void rc_bytequeue_destroy(struct rc_bytequeue *q)
{
    if (!q) {
        return;
    }
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->space);
    free(q->ring);
    free(q);
}

void rc_bytequeue_set_waker(struct rc_bytequeue *q, const struct rc_bytequeue_waker *waker)
{
    pthread_mutex_lock(&q->lock);
    q->waker = *waker;
    pthread_mutex_unlock(&q->lock);
}

static void wake_locked(struct rc_bytequeue *q)
{
    if (q->parked) {
        q->parked = false;
        if (q->waker.wake) {
            q->waker.wake(q->waker.ctx);
        }
    }
}

void rc_bytequeue_set_limits(struct rc_bytequeue *q, double deadline_ms, double min_rate)
{
    pthread_mutex_lock(&q->lock);
    q->deadline_ms = deadline_ms;
    q->min_rate = min_rate;
    pthread_mutex_unlock(&q->lock);
}

/* Waits, lock held, while the pipe is full: until the reader makes room, the
 * pipe is aborted, the deadline passes or the reader falls below the rate floor
 * (both cut the writer off). */
static void wait_for_room(struct rc_bytequeue *q)
{
    double since = rc_clock_ms();
    uint64_t read_before = q->read_total;
    while (q->length == q->capacity && !q->aborted) {
        double now = rc_clock_ms();
        if (q->deadline_ms > 0 && now >= q->deadline_ms) {
            q->cut = RC_BQ_CUT_DEADLINE;
        } else if (q->min_rate > 0 && now - since >= RATE_WINDOW_MS &&
                   (double)(q->read_total - read_before) < q->min_rate * (now - since) / 1e3) {
            q->cut = RC_BQ_CUT_SLOW_READER;
        }
        if (q->cut != RC_BQ_CUT_NONE) {
            q->aborted = true;
            break;
        }
        struct timespec at;
        clock_gettime(CLOCK_MONOTONIC, &at);
        at.tv_nsec += (long)WAIT_SLICE_MS * 1000000L;
        at.tv_sec += at.tv_nsec / 1000000000L;
        at.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&q->space, &q->lock, &at);
    }
}

bool rc_bytequeue_write(struct rc_bytequeue *q, const void *data, size_t len)
{
    const uint8_t *src = data;
    pthread_mutex_lock(&q->lock);
    while (len > 0 && !q->aborted) {
        wait_for_room(q);
        if (q->aborted) {
            break;
        }
        size_t tail = (q->head + q->length) % q->capacity;
        size_t room = q->capacity - q->length;
        size_t run = q->capacity - tail; /* contiguous bytes up to the ring's end */
        size_t n = len < room ? len : room;
        n = n < run ? n : run;
        memcpy(q->ring + tail, src, n);
        q->length += n;
        q->total += n;
        src += n;
        len -= n;
        wake_locked(q);
    }
    bool ok = !q->aborted;
    pthread_mutex_unlock(&q->lock);
    return ok;
}

void rc_bytequeue_finish(struct rc_bytequeue *q, bool ok)
{
    pthread_mutex_lock(&q->lock);
    q->finished = true;
    q->ok = ok;
    wake_locked(q);
    pthread_mutex_unlock(&q->lock);
}

enum rc_bq_status rc_bytequeue_read(struct rc_bytequeue *q, void *buf, size_t max, size_t *copied)
{
    uint8_t *dst = buf;
    *copied = 0;
    pthread_mutex_lock(&q->lock);
    enum rc_bq_status status;
    if (q->aborted) {
        status = RC_BQ_FAILED; /* cancelled: what is left is not sent */
    } else if (q->length > 0) {
        while (q->length > 0 && *copied < max) {
            size_t run = q->capacity - q->head;
            size_t n = q->length < run ? q->length : run;
            n = n < max - *copied ? n : max - *copied;
            memcpy(dst + *copied, q->ring + q->head, n);
            *copied += n;
            q->head = (q->head + n) % q->capacity;
            q->length -= n;
        }
        q->read_total += *copied;
        pthread_cond_signal(&q->space);
        status = RC_BQ_DATA;
    } else if (q->finished || q->aborted) {
        status = q->ok && !q->aborted ? RC_BQ_END : RC_BQ_FAILED;
    } else {
        q->parked = true;
        if (q->waker.park) {
            q->waker.park(q->waker.ctx);
        }
        status = RC_BQ_PARKED;
    }
    pthread_mutex_unlock(&q->lock);
    return status;
}

void rc_bytequeue_abort(struct rc_bytequeue *q)
{
    pthread_mutex_lock(&q->lock);
    q->aborted = true;
    q->parked = false;
    pthread_cond_broadcast(&q->space);
    pthread_mutex_unlock(&q->lock);
}

void rc_bytequeue_cancel(struct rc_bytequeue *q)
{
    pthread_mutex_lock(&q->lock);
    q->aborted = true;
    pthread_cond_broadcast(&q->space);
    wake_locked(q); /* a parked reader reads the failure */
    pthread_mutex_unlock(&q->lock);
}

enum rc_bq_cut rc_bytequeue_cut(struct rc_bytequeue *q)
{
    pthread_mutex_lock(&q->lock);
    enum rc_bq_cut cut = q->cut;
    pthread_mutex_unlock(&q->lock);
    return cut;
}

uint64_t rc_bytequeue_total(struct rc_bytequeue *q)
{
    pthread_mutex_lock(&q->lock);
    uint64_t n = q->total;
    pthread_mutex_unlock(&q->lock);
    return n;
}
