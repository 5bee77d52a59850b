#include "base/notify.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/log.h"
#include "base/parse.h"

/* sd_listen_fds(3): passed sockets start here. */
enum { LISTEN_FDS_START = 3 };

void rc_notify(const char *state)
{
    const char *path = getenv("NOTIFY_SOCKET");
    if (!path || !*path) {
        return;
    }
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    size_t len = strlen(path);
    if (len >= sizeof(addr.sun_path) || (path[0] != '/' && path[0] != '@')) {
        rc_log(RC_LOG_WARN, "msg=\"NOTIFY_SOCKET unusable\"");
        return;
    }
    memcpy(addr.sun_path, path, len);
    if (path[0] == '@') {
        addr.sun_path[0] = '\0'; /* abstract namespace */
    }
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return;
    }
    socklen_t addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
    if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&addr, addr_len) < 0) {
        rc_log(RC_LOG_WARN, "msg=\"sd_notify failed\" errno=%d", errno);
    }
    close(fd);
}

long rc_notify_watchdog_ping_ms(void)
{
    const char *usec = getenv("WATCHDOG_USEC");
    const char *pid = getenv("WATCHDOG_PID");
    if (!usec) {
        return 0;
    }
    uint64_t for_pid = 0, us = 0;
    if (pid && (!rc_parse_u64(pid, &for_pid) || for_pid != (uint64_t)getpid())) {
        return 0;
    }
    if (!rc_parse_u64(usec, &us) || us == 0) {
        return 0;
    }
    long ms = (long)(us / 2000);
    return ms > 0 ? ms : 1;
}

int rc_notify_listen_fd(struct rc_error *err)
{
    const char *pid = getenv("LISTEN_PID");
    const char *fds = getenv("LISTEN_FDS");
    if (!pid || !fds) {
        return -1;
    }
    char *end = NULL;
    long for_pid = strtol(pid, &end, 10);
    bool ours = end && *end == '\0' && for_pid == (long)getpid();
    long count = strtol(fds, &end, 10);
    bool counted = end && *end == '\0';
    /* Handed to this process only: children must not take them for theirs. */
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_FDNAMES");
    if (!ours) {
        return -1;
    }
    if (!counted || count != 1) {
        rc_error_set(err, RC_ERR_INVALID, "listen",
                     "socket activation passed %s sockets; rasterclipd takes exactly one", fds);
        return -2;
    }
    int fd = LISTEN_FDS_START;
    int accepting = 0;
    socklen_t len = sizeof(accepting);
    int type = 0;
    socklen_t type_len = sizeof(type);
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) != 0 || !accepting ||
        getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &type_len) != 0 || type != SOCK_STREAM) {
        rc_error_set(err, RC_ERR_INVALID, "listen",
                     "the socket passed by socket activation is not a listening stream socket");
        return -2;
    }
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    return fd;
}
