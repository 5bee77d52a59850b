/*
 * notify: the systemd readiness protocol without libsystemd. When $NOTIFY_SOCKET
 * names a datagram socket (a path, or "@name" in the abstract namespace), messages
 * such as "READY=1" and "WATCHDOG=1" are sent there; otherwise nothing happens.
 * Main thread only.
 */
#ifndef RC_NOTIFY_H
#define RC_NOTIFY_H

/* Sends one state line; silently does nothing outside systemd. */
void rc_notify(const char *state);

/* Half the watchdog interval systemd asked for ($WATCHDOG_USEC, for this process
 * per $WATCHDOG_PID), in milliseconds; 0 when there is no watchdog. */
long rc_notify_watchdog_ping_ms(void);

#endif
