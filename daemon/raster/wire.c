#include "raster/wire.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "base/clock.h"

/* How often a wait looks at the cancel flag: well inside the 100 ms a cancel has
 * to stop a reader. */
enum { WATCH_MS = 10 };

struct head {
    uint32_t type;
    uint32_t len;
};

bool rc_wire_send(int sock, uint32_t type, const void *a, size_t a_len, const void *b, size_t b_len,
                  int fd)
{
    if (a_len + b_len > RC_WIRE_MAX_PAYLOAD) {
        return false;
    }
    struct head h = {type, (uint32_t)(a_len + b_len)};
    struct iovec iov[3] = {{&h, sizeof(h)}, {(void *)a, a_len}, {(void *)b, b_len}};
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control;
    struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 3};
    if (fd >= 0) {
        memset(&control, 0, sizeof(control));
        msg.msg_control = control.buf;
        msg.msg_controllen = sizeof(control.buf);
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));
    }
    size_t left = sizeof(h) + a_len + b_len;
    while (left > 0) {
        ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        left -= (size_t)n;
        msg.msg_control = NULL; /* the descriptor went with the first bytes */
        msg.msg_controllen = 0;
        while (n > 0 && msg.msg_iovlen > 0) {
            size_t step = (size_t)n < msg.msg_iov->iov_len ? (size_t)n : msg.msg_iov->iov_len;
            msg.msg_iov->iov_base = (char *)msg.msg_iov->iov_base + step;
            msg.msg_iov->iov_len -= step;
            n -= (ssize_t)step;
            if (msg.msg_iov->iov_len == 0) {
                msg.msg_iov++;
                msg.msg_iovlen--;
            }
        }
    }
    return true;
}

/* Waits until `sock` is readable, the deadline passes or `cancel` is set. */
static enum rc_wire_status wait_readable(int sock, const atomic_bool *cancel, double deadline_ms)
{
    for (;;) {
        if (cancel && atomic_load(cancel)) {
            return RC_WIRE_CANCELLED;
        }
        int timeout = -1;
        if (cancel) {
            timeout = WATCH_MS;
        }
        if (deadline_ms > 0) {
            double left = deadline_ms - rc_clock_ms();
            if (left <= 0) {
                return RC_WIRE_DEADLINE;
            }
            if (timeout < 0 || left < timeout) {
                timeout = (int)left + 1;
            }
        }
        struct pollfd p = {.fd = sock, .events = POLLIN};
        int n = poll(&p, 1, timeout);
        if (n > 0) {
            return RC_WIRE_OK;
        }
        if (n < 0 && errno != EINTR) {
            return RC_WIRE_CLOSED;
        }
    }
}

/* Reads exactly `len` bytes; the first read also takes a descriptor into *fd. */
static enum rc_wire_status read_exact(int sock, void *buf, size_t len, int *fd,
                                      const atomic_bool *cancel, double deadline_ms)
{
    size_t got = 0;
    while (got < len) {
        enum rc_wire_status st = wait_readable(sock, cancel, deadline_ms);
        if (st != RC_WIRE_OK) {
            return st;
        }
        struct iovec iov = {(char *)buf + got, len - got};
        union {
            char buf[CMSG_SPACE(sizeof(int))];
            struct cmsghdr align;
        } control;
        struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
        if (fd) {
            msg.msg_control = control.buf;
            msg.msg_controllen = sizeof(control.buf);
        }
        ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
            continue;
        }
        if (n <= 0) {
            return RC_WIRE_CLOSED;
        }
        for (struct cmsghdr *c = fd ? CMSG_FIRSTHDR(&msg) : NULL; c; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (size_t i = 0; i < count; i++) {
                    int passed;
                    memcpy(&passed, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                    if (*fd < 0) {
                        *fd = passed;
                    } else {
                        close(passed); /* one descriptor a message */
                    }
                }
            }
        }
        if (msg.msg_flags & MSG_CTRUNC) {
            return RC_WIRE_CLOSED;
        }
        fd = NULL;
        got += (size_t)n;
    }
    return RC_WIRE_OK;
}

enum rc_wire_status rc_wire_recv(int sock, uint32_t *type, void *buf, size_t cap, size_t *len,
                                 int *fd, const atomic_bool *cancel, double deadline_ms)
{
    *fd = -1;
    struct head h;
    enum rc_wire_status st = read_exact(sock, &h, sizeof(h), fd, cancel, deadline_ms);
    if (st == RC_WIRE_OK && (h.len > cap || h.len > RC_WIRE_MAX_PAYLOAD)) {
        st = RC_WIRE_CLOSED;
    }
    if (st == RC_WIRE_OK) {
        st = read_exact(sock, buf, h.len, NULL, cancel, deadline_ms);
    }
    if (st != RC_WIRE_OK) {
        if (*fd >= 0) {
            close(*fd);
        }
        *fd = -1;
        return st;
    }
    *type = h.type;
    *len = h.len;
    return RC_WIRE_OK;
}
