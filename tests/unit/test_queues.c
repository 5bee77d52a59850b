/* Bounded queues: FIFO order, capacity, close, and the byte queue's park/wake. */
#include <pthread.h>
#include <string.h>

#include "base/bytequeue.h"
#include "base/queue.h"
#include "check.h"

static void test_queue(void)
{
    struct rc_queue *q = rc_queue_create(2);
    int a = 1, b = 2, c = 3;
    CHECK(rc_queue_try_push(q, &a));
    CHECK(rc_queue_try_push(q, &b));
    CHECK(!rc_queue_try_push(q, &c)); /* full */
    CHECK(rc_queue_length(q) == 2);
    CHECK(rc_queue_pop(q) == &a);
    CHECK(rc_queue_push(q, &c));
    CHECK(rc_queue_pop(q) == &b);
    rc_queue_close(q);
    CHECK(!rc_queue_push(q, &a));
    CHECK(rc_queue_pop(q) == &c); /* what was left still comes out */
    CHECK(rc_queue_pop(q) == NULL);
    rc_queue_destroy(q);
}

struct hooks {
    int parks, wakes;
};

static void park(void *ctx)
{
    ((struct hooks *)ctx)->parks++;
}

static void wake(void *ctx)
{
    ((struct hooks *)ctx)->wakes++;
}

static void *writer(void *arg)
{
    struct rc_bytequeue *q = arg;
    unsigned char chunk[100];
    for (int i = 0; i < 50; i++) {
        memset(chunk, i, sizeof(chunk));
        if (!rc_bytequeue_write(q, chunk, sizeof(chunk))) {
            return NULL;
        }
    }
    rc_bytequeue_finish(q, true);
    return NULL;
}

static void test_bytequeue(void)
{
    struct hooks h = {0};
    struct rc_bytequeue *q = rc_bytequeue_create(64); /* smaller than one write */
    struct rc_bytequeue_waker w = {.park = park, .wake = wake, .ctx = &h};
    rc_bytequeue_set_waker(q, &w);
    unsigned char buf[37];
    size_t n;
    CHECK(rc_bytequeue_read(q, buf, sizeof(buf), &n) == RC_BQ_PARKED);
    CHECK(h.parks == 1);
    pthread_t t;
    pthread_create(&t, NULL, writer, q);
    size_t total = 0;
    int order_ok = 1;
    for (;;) {
        enum rc_bq_status s = rc_bytequeue_read(q, buf, sizeof(buf), &n);
        if (s == RC_BQ_END) {
            break;
        }
        for (size_t i = 0; i < n; i++) {
            order_ok &= buf[i] == (unsigned char)((total + i) / 100);
        }
        total += n;
        if (s == RC_BQ_PARKED) {
            sched_yield();
        }
    }
    pthread_join(t, NULL);
    CHECK(total == 5000);
    CHECK(order_ok);
    CHECK(h.wakes >= 1 && h.wakes <= h.parks); /* every wake answers a park */
    CHECK(rc_bytequeue_total(q) == 5000);
    rc_bytequeue_destroy(q);

    /* An aborted reader releases a writer blocked on a full queue. */
    q = rc_bytequeue_create(16);
    pthread_create(&t, NULL, writer, q);
    while (rc_bytequeue_total(q) < 16) {
        sched_yield();
    }
    rc_bytequeue_abort(q);
    pthread_join(t, NULL);
    CHECK(rc_bytequeue_total(q) == 16);
    rc_bytequeue_destroy(q);

    /* A failed writer surfaces as FAILED once the bytes are read. */
    q = rc_bytequeue_create(16);
    rc_bytequeue_write(q, "abc", 3);
    rc_bytequeue_finish(q, false);
    CHECK(rc_bytequeue_read(q, buf, sizeof(buf), &n) == RC_BQ_DATA && n == 3);
    CHECK(rc_bytequeue_read(q, buf, sizeof(buf), &n) == RC_BQ_FAILED);
    rc_bytequeue_destroy(q);
}

int main(void)
{
    test_queue();
    test_bytequeue();
    return CHECK_DONE();
}
