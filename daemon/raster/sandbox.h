/*
 * sandbox: what confines the reader process before it reads a byte of a raster.
 *
 *   network    its own network namespace (rc_sandbox_unshare_network(), first
 *              thing in the reader, while it has one thread): no interface but a
 *              loopback that is down. The reader never needs a network: remote
 *              bytes are fetched by the daemon under the URL policy and handed over.
 *   rlimits    address space (what is mapped now plus the decode's budget), CPU
 *              seconds (the job's limit, from now), no core files, few descriptors.
 *   no_new_privs  PR_SET_NO_NEW_PRIVS.
 *   landlock   read-only: the data root (only when the job reads a file there),
 *              GDAL's and PROJ's data and the libraries it may still load under
 *              /usr/lib; nothing else is visible, nothing at all is writable, and
 *              (Landlock ABI 4 and later) no TCP connect or bind.
 *   seccomp    no execve, ptrace, new processes or namespaces, sockets, mounts,
 *              module or BPF loading: each fails with EPERM.
 *
 * Only the reader calls these, on its one thread. struct rc_sandbox_report is
 * plain data, sent to the daemon so /v1/info and the start-up log can say what
 * is in force.
 */
#ifndef RC_SANDBOX_H
#define RC_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rc_sandbox_report {
    int32_t landlock_abi; /* the kernel's; 0: none */
    uint32_t landlock;    /* the ruleset is in force */
    uint32_t landlock_net;
    uint32_t seccomp;
    uint32_t no_new_privs;
    uint32_t netns;
    uint32_t rlimits;
    uint64_t address_space_mb; /* the limit set, 0: none */
    uint64_t netns_inode;      /* of the reader's network namespace (/proc/self/ns/net) */
};

struct rc_sandbox_limits {
    const char *data_root; /* NULL: the job reads no file (an upload, a remote file) */
    uint64_t budget_bytes; /* address space the decode may add to what is mapped now */
    uint64_t cpu_seconds;
};

/* First thing in the reader, while it has one thread; `inode` gets the network
 * namespace it is in afterwards (0 when unknown). */
bool rc_sandbox_unshare_network(uint64_t *inode);

/* Applies everything else, in this order: rlimits, no_new_privs, Landlock,
 * seccomp. What could not be applied is left false in `report` (which also gets
 * `netns`, given). */
void rc_sandbox_confine(const struct rc_sandbox_limits *limits, bool netns,
                        struct rc_sandbox_report *report);

/* All five protections are in force. */
bool rc_sandbox_complete(const struct rc_sandbox_report *report);

/* "landlock=1 landlock_abi=7 ..." for logs. */
void rc_sandbox_describe(const struct rc_sandbox_report *report, char *out, size_t size);

/* What one forbidden attempt came to. */
struct rc_sandbox_attempt {
    char action[24];
    uint32_t allowed; /* the sandbox let it through: a hole */
    int32_t errnum;
};

enum { RC_SANDBOX_ATTEMPTS = 9 };

struct rc_sandbox_probe {
    struct rc_sandbox_attempt attempts[RC_SANDBOX_ATTEMPTS];
    uint32_t count;
};

/* Tries, from inside the sandbox, what it must forbid (reading a file outside the
 * allowed set and the process's own environment, writing under the data root,
 * execve, a socket, ptrace, a new process, mapping more than its address-space
 * limit) and logs one line for each with its
 * outcome (`rasterclipd --check-sandbox`). */
void rc_sandbox_probe(const char *data_root, struct rc_sandbox_probe *out);

#endif
