#include "base/queue.h"

#include <pthread.h>
#include <stdlib.h>

struct rc_queue {
    pthread_mutex_t lock;
    pthread_cond_t not_empty;
    pthread_cond_t not_full;
    void **items; /* ring of `capacity`; all fields below under `lock` */
    size_t capacity;
    size_t head;
    size_t length;
    bool closed;
};

struct rc_queue *rc_queue_create(size_t capacity)
{
    if (capacity == 0) {
        capacity = 1;
    }
    struct rc_queue *q = calloc(1, sizeof(*q));
    if (!q) {
        return NULL;
    }
    q->items = calloc(capacity, sizeof(*q->items));
    if (!q->items) {
        free(q);
        return NULL;
    }
    q->capacity = capacity;
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->not_empty, NULL);
    pthread_cond_init(&q->not_full, NULL);
    return q;
}

void rc_queue_destroy(struct rc_queue *q)
{
    if (!q) {
        return;
    }
    pthread_mutex_destroy(&q->lock);
    pthread_cond_destroy(&q->not_empty);
    pthread_cond_destroy(&q->not_full);
    free(q->items);
    free(q);
}

static void put_locked(struct rc_queue *q, void *item)
{
    q->items[(q->head + q->length) % q->capacity] = item;
    q->length++;
    pthread_cond_signal(&q->not_empty);
}

bool rc_queue_push(struct rc_queue *q, void *item)
{
    pthread_mutex_lock(&q->lock);
    while (!q->closed && q->length == q->capacity) {
        pthread_cond_wait(&q->not_full, &q->lock);
    }
    bool ok = !q->closed;
    if (ok) {
        put_locked(q, item);
    }
    pthread_mutex_unlock(&q->lock);
    return ok;
}

bool rc_queue_try_push(struct rc_queue *q, void *item)
{
    pthread_mutex_lock(&q->lock);
    bool ok = !q->closed && q->length < q->capacity;
    if (ok) {
        put_locked(q, item);
    }
    pthread_mutex_unlock(&q->lock);
    return ok;
}

static void *take_locked(struct rc_queue *q)
{
    void *item = q->items[q->head];
    q->head = (q->head + 1) % q->capacity;
    q->length--;
    pthread_cond_signal(&q->not_full);
    return item;
}

void *rc_queue_pop(struct rc_queue *q)
{
    pthread_mutex_lock(&q->lock);
    while (!q->closed && q->length == 0) {
        pthread_cond_wait(&q->not_empty, &q->lock);
    }
    void *item = q->length ? take_locked(q) : NULL;
    pthread_mutex_unlock(&q->lock);
    return item;
}

void *rc_queue_try_pop(struct rc_queue *q)
{
    pthread_mutex_lock(&q->lock);
    void *item = q->length ? take_locked(q) : NULL;
    pthread_mutex_unlock(&q->lock);
    return item;
}

void rc_queue_close(struct rc_queue *q)
{
    pthread_mutex_lock(&q->lock);
    q->closed = true;
    pthread_cond_broadcast(&q->not_empty);
    pthread_cond_broadcast(&q->not_full);
    pthread_mutex_unlock(&q->lock);
}

size_t rc_queue_length(struct rc_queue *q)
{
    pthread_mutex_lock(&q->lock);
    size_t n = q->length;
    pthread_mutex_unlock(&q->lock);
    return n;
}
