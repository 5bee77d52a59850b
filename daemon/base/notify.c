#include "base/notify.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/log.h"

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
    if (pid && strtol(pid, NULL, 10) != (long)getpid()) {
        return 0;
    }
    long long us = strtoll(usec, NULL, 10);
    if (us <= 0) {
        return 0;
    }
    long ms = (long)(us / 2000);
    return ms > 0 ? ms : 1;
}
