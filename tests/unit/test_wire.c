/* raster/wire.c: framing between the daemon and its reader, a descriptor riding on
 * a message, and the receive's limits (oversize payloads, cancel, deadline). */
#define _GNU_SOURCE /* memfd_create */
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/clock.h"
#include "check.h"
#include "raster/wire.h"

static void two_parts_and_a_descriptor(int a, int b)
{
    int fd = memfd_create("test", MFD_CLOEXEC);
    CHECK(fd >= 0 && write(fd, "xyz", 3) == 3);
    CHECK(rc_wire_send(a, RC_WIRE_DONE, "head", 4, "tail!", 5, fd));
    close(fd);
    char buf[64];
    uint32_t type = 0;
    size_t len = 0;
    int got = -1;
    CHECK(rc_wire_recv(b, &type, buf, sizeof(buf), &len, &got, NULL, 0) == RC_WIRE_OK);
    CHECK(type == RC_WIRE_DONE && len == 9 && memcmp(buf, "headtail!", 9) == 0);
    char back[4] = "";
    CHECK(got >= 0 && pread(got, back, 3, 0) == 3 && memcmp(back, "xyz", 3) == 0);
    if (got >= 0) {
        close(got);
    }
}

static void a_large_message_in_pieces(int a, int b)
{
    /* Larger than the socket's buffer: sent while the other side reads. */
    static uint8_t big[RC_WIRE_MAX_READ + 64], in[RC_WIRE_MAX_READ + 64];
    for (size_t i = 0; i < sizeof(big); i++) {
        big[i] = (uint8_t)(i * 7);
    }
    pid_t child = fork();
    if (child == 0) {
        _exit(rc_wire_send(a, RC_WIRE_DATA, big, sizeof(big), NULL, 0, -1) ? 0 : 1);
    }
    uint32_t type = 0;
    size_t len = 0;
    int fd = -1;
    CHECK(rc_wire_recv(b, &type, in, sizeof(in), &len, &fd, NULL, 0) == RC_WIRE_OK);
    CHECK(len == sizeof(big) && memcmp(in, big, sizeof(big)) == 0 && fd == -1);
    int status = 1;
    CHECK(child > 0 && waitpid(child, &status, 0) == child && status == 0);
}

static void limits(int a, int b)
{
    char buf[8];
    uint32_t type;
    size_t len;
    int fd;
    /* A payload longer than the receiver's room breaks the framing: CLOSED. */
    CHECK(rc_wire_send(a, RC_WIRE_FAILED, "0123456789", 10, NULL, 0, -1));
    CHECK(rc_wire_recv(b, &type, buf, sizeof(buf), &len, &fd, NULL, 0) == RC_WIRE_CLOSED);
    /* Nothing comes: the deadline, then the cancel flag, end the wait. */
    int pair[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0);
    double t0 = rc_clock_ms();
    CHECK(rc_wire_recv(pair[1], &type, buf, sizeof(buf), &len, &fd, NULL, t0 + 30) ==
          RC_WIRE_DEADLINE);
    CHECK(rc_clock_ms() - t0 >= 29);
    atomic_bool cancel;
    atomic_init(&cancel, true);
    CHECK(rc_wire_recv(pair[1], &type, buf, sizeof(buf), &len, &fd, &cancel, 0) ==
          RC_WIRE_CANCELLED);
    /* The peer gone: CLOSED, and sending to it fails without a signal. */
    close(pair[0]);
    CHECK(rc_wire_recv(pair[1], &type, buf, sizeof(buf), &len, &fd, NULL, 0) == RC_WIRE_CLOSED);
    CHECK(!rc_wire_send(pair[1], RC_WIRE_READ, "x", 1, NULL, 0, -1));
    close(pair[1]);
    (void)a;
}

int main(void)
{
    int pair[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0);
    two_parts_and_a_descriptor(pair[0], pair[1]);
    a_large_message_in_pieces(pair[0], pair[1]);
    limits(pair[0], pair[1]);
    close(pair[0]);
    close(pair[1]);
    return CHECK_DONE();
}
