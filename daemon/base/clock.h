/*
 * clock: monotonic milliseconds for timing stages and deadlines. Any thread.
 */
#ifndef RC_CLOCK_H
#define RC_CLOCK_H

double rc_clock_ms(void);

#endif
