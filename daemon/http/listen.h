/*
 * listen: the socket the server accepts on — systemd's (socket activation), a TCP
 * address from --listen ("ADDR:PORT", "[ADDR6]:PORT", port 0 for any free one), or
 * a Unix socket ("unix:PATH": made with mode 0600, a stale one left by a dead
 * daemon replaced, removed again at shutdown) — and the URL it is reached at.
 * The main thread, before the server starts and after it stops.
 */
#ifndef RC_HTTP_LISTEN_H
#define RC_HTTP_LISTEN_H

#include <stdbool.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "base/error.h"

struct rc_listen {
    int fd; /* listening (activated or Unix); -1: MHD binds `addr` itself */
    struct sockaddr_storage addr;
    socklen_t addr_len;
    bool activated;
    char unix_path[sizeof(((struct sockaddr_un *)0)->sun_path)]; /* "": not a Unix socket */
};

/* Opens what `listen` names, or takes systemd's socket. */
enum rc_err rc_listen_open(const char *listen, struct rc_listen *out, struct rc_error *err);

/* The URL clients use: "http://HOST:PORT" (`bound_port`: what MHD bound when the
 * port was 0) or "unix:PATH". */
void rc_listen_url(const struct rc_listen *l, unsigned bound_port, char *out, size_t size);

/* Closes a socket the server did not take, and removes a Unix socket's file. */
void rc_listen_close(struct rc_listen *l, bool served);

#endif
