/*
 * queue: a bounded FIFO of pointers where threads meet (jobs to workers, frames
 * from the draw thread to the encode thread).
 *
 * Any thread may call any function. The queue does not own the items: whoever
 * pops one owns it; rc_queue_destroy() does not free items still inside (drain
 * them first). rc_queue_close() wakes every waiter; after it, pushes fail and pops
 * return what is left, then NULL.
 */
#ifndef RC_QUEUE_H
#define RC_QUEUE_H

#include <stdbool.h>
#include <stddef.h>

struct rc_queue;

struct rc_queue *rc_queue_create(size_t capacity);
void rc_queue_destroy(struct rc_queue *q);

/* Blocks while full. Returns false if the queue is closed (item not taken). */
bool rc_queue_push(struct rc_queue *q, void *item);
/* Never blocks. Returns false if full or closed. */
bool rc_queue_try_push(struct rc_queue *q, void *item);
/* Blocks while empty and open. Returns NULL once closed and empty. */
void *rc_queue_pop(struct rc_queue *q);
/* Never blocks; NULL when empty. */
void *rc_queue_try_pop(struct rc_queue *q);
void rc_queue_close(struct rc_queue *q);
size_t rc_queue_length(struct rc_queue *q);

#endif
