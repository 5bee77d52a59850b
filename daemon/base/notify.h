/*
 * notify: the systemd readiness protocol without libsystemd. When $NOTIFY_SOCKET
 * names a datagram socket (a path, or "@name" in the abstract namespace), messages
 * such as "READY=1" and "WATCHDOG=1" are sent there; otherwise nothing happens.
 * Socket activation (rc_notify_listen_fd) is read the same way. Main thread only.
 */
#ifndef RC_NOTIFY_H
#define RC_NOTIFY_H

#include "base/error.h"

/* Sends one state line; silently does nothing outside systemd. */
void rc_notify(const char *state);

/* Half the watchdog interval systemd asked for ($WATCHDOG_USEC, for this process
 * per $WATCHDOG_PID), in milliseconds; 0 when there is no watchdog. */
long rc_notify_watchdog_ping_ms(void);

/* The listening socket systemd passed (sd_listen_fds' protocol: $LISTEN_PID is
 * this process, $LISTEN_FDS sockets from descriptor 3): its descriptor; -1 when
 * none was passed (listen on --listen); -2 with `err` set when the passed sockets
 * are not exactly one listening stream socket. The variables are unset. */
int rc_notify_listen_fd(struct rc_error *err);

#endif
