#include "http/listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/notify.h"

enum { UNIX_BACKLOG = 128 };

static enum rc_err parse_tcp(const char *listen, struct sockaddr_storage *addr, socklen_t *len,
                             struct rc_error *err)
{
    char host[256];
    const char *colon = strrchr(listen, ':');
    if (!colon || colon == listen) {
        return rc_error_set(err, RC_ERR_INVALID, "listen", "must be ADDR:PORT or unix:PATH");
    }
    size_t host_len = (size_t)(colon - listen);
    if (host_len >= sizeof(host)) {
        return rc_error_set(err, RC_ERR_INVALID, "listen", "address too long");
    }
    memcpy(host, listen, host_len);
    host[host_len] = '\0';
    char *end = NULL;
    long port = strtol(colon + 1, &end, 10);
    if (!end || *end != '\0' || end == colon + 1 || port < 0 || port > 65535) {
        return rc_error_set(err, RC_ERR_INVALID, "listen", "bad port");
    }
    memset(addr, 0, sizeof(*addr));
    if (host[0] == '[' && host_len > 2 && host[host_len - 1] == ']') {
        host[host_len - 1] = '\0';
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)addr;
        if (inet_pton(AF_INET6, host + 1, &a6->sin6_addr) != 1) {
            return rc_error_set(err, RC_ERR_INVALID, "listen", "bad IPv6 address");
        }
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        *len = sizeof(*a6);
        return RC_OK;
    }
    struct sockaddr_in *a4 = (struct sockaddr_in *)addr;
    if (strcmp(host, "localhost") == 0) {
        snprintf(host, sizeof(host), "127.0.0.1");
    }
    if (inet_pton(AF_INET, host, &a4->sin_addr) != 1) {
        return rc_error_set(err, RC_ERR_INVALID, "listen", "bad IPv4 address");
    }
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    *len = sizeof(*a4);
    return RC_OK;
}

/* A socket file another daemon still answers on is refused; one nobody answers
 * on (its daemon died) is replaced. */
static bool stale(const struct sockaddr_un *sun)
{
    struct stat st;
    if (lstat(sun->sun_path, &st) != 0 || !S_ISSOCK(st.st_mode)) {
        return false;
    }
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool answered = probe >= 0 && connect(probe, (const struct sockaddr *)sun, sizeof(*sun)) == 0;
    if (probe >= 0) {
        close(probe);
    }
    return !answered;
}

static enum rc_err open_unix(const char *path, struct rc_listen *l, struct rc_error *err)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    if (!path[0] || strlen(path) >= sizeof(sun.sun_path)) {
        return rc_error_set(err, RC_ERR_INVALID, "listen",
                            "unix:PATH needs a path of 1 to %zu "
                            "bytes",
                            sizeof(sun.sun_path) - 1);
    }
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
    if (stale(&sun)) {
        unlink(sun.sun_path);
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return rc_error_set(err, RC_ERR_INTERNAL, "listen", "cannot make a Unix socket");
    }
    /* Only this user may connect: the file is made 0600 before anyone can. */
    mode_t old = umask(0177);
    int bound = bind(fd, (const struct sockaddr *)&sun, sizeof(sun));
    int saved = errno;
    umask(old);
    if (bound != 0 || listen(fd, UNIX_BACKLOG) != 0) {
        close(fd);
        return rc_error_set(err, RC_ERR_INTERNAL, "listen", "cannot listen on unix:%s (%s)", path,
                            saved == EADDRINUSE ? "in use" : "cannot bind");
    }
    l->fd = fd;
    snprintf(l->unix_path, sizeof(l->unix_path), "%s", path);
    memcpy(&l->addr, &sun, sizeof(sun));
    l->addr_len = sizeof(sun);
    return RC_OK;
}

enum rc_err rc_listen_open(const char *listen, struct rc_listen *out, struct rc_error *err)
{
    memset(out, 0, sizeof(*out));
    out->fd = -1;
    out->addr_len = sizeof(out->addr);
    /* Socket activation: systemd's socket, else --listen. */
    int fd = rc_notify_listen_fd(err);
    if (fd == -2) {
        return err->code;
    }
    if (fd >= 0) {
        if (getsockname(fd, (struct sockaddr *)&out->addr, &out->addr_len) != 0 ||
            (out->addr.ss_family != AF_INET && out->addr.ss_family != AF_INET6)) {
            close(fd);
            return rc_error_set(err, RC_ERR_INVALID, "listen",
                                "the activated socket is not a TCP socket");
        }
        out->fd = fd;
        out->activated = true;
        return RC_OK;
    }
    if (strncmp(listen, "unix:", 5) == 0) {
        return open_unix(listen + 5, out, err);
    }
    return parse_tcp(listen, &out->addr, &out->addr_len, err);
}

void rc_listen_url(const struct rc_listen *l, unsigned bound_port, char *out, size_t size)
{
    if (l->unix_path[0]) {
        snprintf(out, size, "unix:%s", l->unix_path);
        return;
    }
    unsigned port = bound_port;
    char host[INET6_ADDRSTRLEN] = "";
    if (l->addr.ss_family == AF_INET6) {
        const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)&l->addr;
        port = l->activated ? ntohs(a6->sin6_port) : port;
        inet_ntop(AF_INET6, &a6->sin6_addr, host, sizeof(host));
        snprintf(out, size, "http://[%s]:%u", host, port);
    } else {
        const struct sockaddr_in *a4 = (const struct sockaddr_in *)&l->addr;
        port = l->activated ? ntohs(a4->sin_port) : port;
        inet_ntop(AF_INET, &a4->sin_addr, host, sizeof(host));
        snprintf(out, size, "http://%s:%u", host, port);
    }
}

void rc_listen_close(struct rc_listen *l, bool served)
{
    if (l->fd >= 0 && !served) {
        close(l->fd); /* once served, MHD closes it */
    }
    l->fd = -1;
    if (l->unix_path[0]) {
        unlink(l->unix_path);
        l->unix_path[0] = '\0';
    }
}
