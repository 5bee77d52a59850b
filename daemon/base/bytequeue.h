/*
 * bytequeue: the bounded byte pipe from a job's muxer to its HTTP response.
 *
 * One writer (the encode thread) and one reader (the HTTP thread serving the
 * response). The writer blocks while the pipe is full, which is how a slow client
 * slows its job down. The reader never blocks: when the pipe is empty it "parks"
 * through the waker's park() hook (the HTTP layer suspends its connection there),
 * and the next write, finish or cancel calls wake() (resume). Both hooks run with
 * the queue's lock held, so a wake can never overtake its park; they must not call
 * back into the queue.
 *
 * The creator owns the queue; rc_bytequeue_destroy() frees it once both sides
 * are done with it.
 */
#ifndef RC_BYTEQUEUE_H
#define RC_BYTEQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rc_bytequeue;

struct rc_bytequeue_waker {
    void (*park)(void *ctx);
    void (*wake)(void *ctx);
    void *ctx;
};

enum rc_bq_status {
    RC_BQ_DATA,   /* bytes were copied */
    RC_BQ_PARKED, /* empty; park() was called, wake() will follow */
    RC_BQ_END,    /* writer finished and everything was read */
    RC_BQ_FAILED, /* writer failed; the stream must end as an error */
};

struct rc_bytequeue *rc_bytequeue_create(size_t capacity);
void rc_bytequeue_destroy(struct rc_bytequeue *q);

/* Sets the reader's hooks; call before the writer can start. */
void rc_bytequeue_set_waker(struct rc_bytequeue *q, const struct rc_bytequeue_waker *waker);

/* Writer: blocks until all of `data` is in. False when the reader aborted. */
bool rc_bytequeue_write(struct rc_bytequeue *q, const void *data, size_t len);
/* Writer: no more bytes; `ok` false turns the end into an error for the reader. */
void rc_bytequeue_finish(struct rc_bytequeue *q, bool ok);

/* Reader: copies up to `max` bytes into `buf`, setting *copied. */
enum rc_bq_status rc_bytequeue_read(struct rc_bytequeue *q, void *buf, size_t max, size_t *copied);
/* Reader: gives up (client gone); the writer's pending and later writes fail. */
void rc_bytequeue_abort(struct rc_bytequeue *q);
/* Any thread (a cancel by id): the writer's writes fail as after an abort, and
 * the reader, woken if parked, reads RC_BQ_FAILED, unsent bytes dropped. */
void rc_bytequeue_cancel(struct rc_bytequeue *q);

/* Why the writer was cut off, if it was. */
enum rc_bq_cut {
    RC_BQ_CUT_NONE,
    RC_BQ_CUT_DEADLINE,    /* a write waited past the deadline */
    RC_BQ_CUT_SLOW_READER, /* the reader took less than the floor rate */
};

/* A write waiting on a full pipe fails (as after an abort) once `deadline_ms`
 * (rc_clock_ms(); 0: none) has passed, or when over a wait of five seconds or more
 * the reader has taken less than `min_rate` bytes a second (0: no floor). */
void rc_bytequeue_set_limits(struct rc_bytequeue *q, double deadline_ms, double min_rate);
enum rc_bq_cut rc_bytequeue_cut(struct rc_bytequeue *q);

/* Bytes written so far. */
uint64_t rc_bytequeue_total(struct rc_bytequeue *q);

#endif
