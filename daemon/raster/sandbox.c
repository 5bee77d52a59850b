#define _GNU_SOURCE /* unshare, CLONE_* */
#include "raster/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/log.h"

bool rc_sandbox_unshare_network(uint64_t *inode)
{
    /* Root may make a network namespace directly; anyone else inside a user
     * namespace of their own, where the kernel allows unprivileged ones. */
    bool ok = (geteuid() == 0 && unshare(CLONE_NEWNET) == 0) ||
              unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0;
    struct stat st;
    *inode = stat("/proc/self/ns/net", &st) == 0 ? (uint64_t)st.st_ino : 0;
    return ok;
}

/* ---- rlimits ------------------------------------------------------------- */

static uint64_t mapped_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long pages = 0;
    if (f) {
        if (fscanf(f, "%lu", &pages) != 1) {
            pages = 0;
        }
        fclose(f);
    }
    return (uint64_t)pages * (uint64_t)sysconf(_SC_PAGESIZE);
}

static bool set_limit(int resource, rlim_t soft, rlim_t hard)
{
    struct rlimit lim = {soft, hard};
    return setrlimit(resource, &lim) == 0;
}

static bool apply_rlimits(const struct rc_sandbox_limits *limits, struct rc_sandbox_report *out)
{
    /* What is mapped now (the binary, its libraries, a sanitizer's reserved
     * shadow) plus the decode's budget: the values, GDAL's cache, an upload. */
    uint64_t now = mapped_bytes();
    uint64_t as = now ? now + limits->budget_bytes : 0;
    bool ok = as > 0 && set_limit(RLIMIT_AS, as, as);
    out->address_space_mb = ok ? as >> 20 : 0;
    /* SIGXCPU a second past the job's limit, SIGKILL a second later, counted from
     * now (a reader started ahead has already spent CPU on its start): the job's
     * wall-clock deadline, watched by the daemon, normally comes first. */
    struct rusage used;
    rlim_t spent = getrusage(RUSAGE_SELF, &used) == 0
                       ? (rlim_t)(used.ru_utime.tv_sec + used.ru_stime.tv_sec + 1)
                       : 0;
    rlim_t cpu = spent + (rlim_t)limits->cpu_seconds + 1;
    ok = set_limit(RLIMIT_CPU, cpu, cpu + 1) && ok;
    ok = set_limit(RLIMIT_CORE, 0, 0) && ok;
    ok = set_limit(RLIMIT_NOFILE, 64, 64) && ok;
    return ok;
}

/* ---- Landlock ------------------------------------------------------------ */

/* The access rights by the ABI that brought them (Documentation/userspace-api/
 * landlock.rst); numbers, so that older headers still build. */
#define LL_FS_ABI1 ((1ULL << 13) - 1) /* EXECUTE .. MAKE_SYM */
#define LL_FS_REFER (1ULL << 13)      /* ABI 2 */
#define LL_FS_TRUNCATE (1ULL << 14)   /* ABI 3 */
#define LL_FS_IOCTL_DEV (1ULL << 15)  /* ABI 5 */
#define LL_NET_BIND_TCP (1ULL << 0)   /* ABI 4 */
#define LL_NET_CONNECT_TCP (1ULL << 1)
#define LL_SCOPE_ABSTRACT_UNIX (1ULL << 0) /* ABI 6 */
#define LL_SCOPE_SIGNAL (1ULL << 1)
#define LL_READ_FILE (1ULL << 2)
#define LL_READ_DIR (1ULL << 3)

/* struct landlock_ruleset_attr as of ABI 6; its size tells the kernel which
 * members it carries. */
struct ll_ruleset_attr {
    uint64_t handled_access_fs;
    uint64_t handled_access_net;
    uint64_t scoped;
};

static int landlock_abi(void)
{
    long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    return abi < 0 ? 0 : (int)abi;
}

/* Read-only access beneath `path`; a missing path is skipped. */
static bool allow_read(int ruleset, const char *path, uint64_t handled)
{
    int fd = open(path, O_PATH | O_CLOEXEC);
    if (fd < 0) {
        return errno == ENOENT;
    }
    struct stat st;
    struct landlock_path_beneath_attr rule = {.parent_fd = fd};
    rule.allowed_access = LL_READ_FILE;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        rule.allowed_access |= LL_READ_DIR;
    }
    rule.allowed_access &= handled;
    bool ok = syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) == 0;
    close(fd);
    return ok;
}

static bool apply_landlock(const char *data_root, struct rc_sandbox_report *out)
{
    int abi = landlock_abi();
    out->landlock_abi = abi;
    if (abi < 1) {
        return false;
    }
    struct ll_ruleset_attr attr = {.handled_access_fs = LL_FS_ABI1};
    size_t size = sizeof(uint64_t);
    if (abi >= 2) {
        attr.handled_access_fs |= LL_FS_REFER;
    }
    if (abi >= 3) {
        attr.handled_access_fs |= LL_FS_TRUNCATE;
    }
    if (abi >= 4) {
        attr.handled_access_net = LL_NET_BIND_TCP | LL_NET_CONNECT_TCP;
        size = 2 * sizeof(uint64_t);
    }
    if (abi >= 5) {
        attr.handled_access_fs |= LL_FS_IOCTL_DEV;
    }
    if (abi >= 6) {
        attr.scoped = LL_SCOPE_ABSTRACT_UNIX | LL_SCOPE_SIGNAL;
        size = sizeof(attr);
    }
    int ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
    if (ruleset < 0) {
        return false;
    }
    /* GDAL's and PROJ's tables, and libraries loaded on demand (HDF5 filters,
     * character set converters). Nothing under /etc, /proc, /home or /tmp. */
    static const char *const system_paths[] = {"/usr/lib", "/usr/share/gdal", "/usr/share/proj",
                                               NULL};
    bool ok = true;
    for (size_t i = 0; system_paths[i]; i++) {
        ok = allow_read(ruleset, system_paths[i], attr.handled_access_fs) && ok;
    }
    const char *env_paths[] = {getenv("GDAL_DATA"), getenv("PROJ_DATA"), getenv("PROJ_LIB")};
    for (size_t i = 0; i < sizeof(env_paths) / sizeof(env_paths[0]); i++) {
        if (env_paths[i] && env_paths[i][0] == '/') {
            ok = allow_read(ruleset, env_paths[i], attr.handled_access_fs) && ok;
        }
    }
    if (data_root) {
        ok = allow_read(ruleset, data_root, attr.handled_access_fs) && ok;
    }
    ok = ok && syscall(SYS_landlock_restrict_self, ruleset, 0) == 0;
    close(ruleset);
    out->landlock_net = ok && abi >= 4;
    return ok;
}

/* ---- seccomp ------------------------------------------------------------- */

static bool apply_seccomp(void)
{
    /* Everything a decoder never needs. The list is of names: one the kernel or
     * architecture lacks is skipped. */
    static const char *const denied[] = {"execve",
                                         "execveat",
                                         "fork",
                                         "vfork",
                                         "ptrace",
                                         "process_vm_readv",
                                         "process_vm_writev",
                                         "socket",
                                         "socketpair",
                                         "connect",
                                         "bind",
                                         "listen",
                                         "accept",
                                         "accept4",
                                         "unshare",
                                         "setns",
                                         "mount",
                                         "umount2",
                                         "pivot_root",
                                         "chroot",
                                         "kexec_load",
                                         "kexec_file_load",
                                         "init_module",
                                         "finit_module",
                                         "delete_module",
                                         "bpf",
                                         "perf_event_open",
                                         "keyctl",
                                         "add_key",
                                         "request_key",
                                         "userfaultfd",
                                         "io_uring_setup",
                                         "open_by_handle_at",
                                         "name_to_handle_at",
                                         "kcmp",
                                         "pidfd_getfd",
                                         "mount_setattr",
                                         "fsopen",
                                         "fsmount",
                                         "move_mount",
                                         "open_tree",
                                         "swapon",
                                         "swapoff",
                                         "reboot",
                                         "setuid",
                                         "setgid",
                                         "setreuid",
                                         "setregid",
                                         "setresuid",
                                         "setresgid",
                                         "setgroups",
                                         "personality",
                                         NULL};
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx) {
        return false;
    }
    bool ok = true;
    for (size_t i = 0; denied[i]; i++) {
        int nr = seccomp_syscall_resolve_name(denied[i]);
        if (nr == __NR_SCMP_ERROR) {
            continue;
        }
        ok = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0) == 0 && ok;
    }
    /* Threads only: clone without CLONE_THREAD (a new process) or with a new
     * namespace fails. clone3 takes its flags in memory seccomp cannot read, so it
     * is refused as unknown and the C library falls back to clone. */
    ok = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                          SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0)) == 0 &&
         ok;
    static const unsigned long namespaces[] = {CLONE_NEWUSER, CLONE_NEWNS,  CLONE_NEWNET,
                                               CLONE_NEWPID,  CLONE_NEWIPC, CLONE_NEWUTS};
    for (size_t i = 0; i < sizeof(namespaces) / sizeof(namespaces[0]); i++) {
        ok = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                              SCMP_A0(SCMP_CMP_MASKED_EQ, namespaces[i], namespaces[i])) == 0 &&
             ok;
    }
    int clone3 = seccomp_syscall_resolve_name("clone3");
    if (clone3 != __NR_SCMP_ERROR) {
        ok = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), clone3, 0) == 0 && ok;
    }
    ok = ok && seccomp_load(ctx) == 0;
    seccomp_release(ctx);
    return ok;
}

void rc_sandbox_confine(const struct rc_sandbox_limits *limits, bool netns,
                        struct rc_sandbox_report *report)
{
    memset(report, 0, sizeof(*report));
    report->netns = netns;
    report->rlimits = apply_rlimits(limits, report);
    report->no_new_privs = prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0;
    report->landlock = apply_landlock(limits->data_root, report);
    report->seccomp = report->no_new_privs && apply_seccomp();
}

bool rc_sandbox_complete(const struct rc_sandbox_report *r)
{
    return r->landlock && r->seccomp && r->no_new_privs && r->netns && r->rlimits;
}

void rc_sandbox_describe(const struct rc_sandbox_report *r, char *out, size_t size)
{
    snprintf(out, size,
             "landlock=%u landlock_abi=%d landlock_net=%u seccomp=%u no_new_privs=%u netns=%u "
             "rlimits=%u address_space_mb=%llu netns_inode=%llu",
             r->landlock, r->landlock_abi, r->landlock_net, r->seccomp, r->no_new_privs, r->netns,
             r->rlimits, (unsigned long long)r->address_space_mb,
             (unsigned long long)r->netns_inode);
}

/* ---- probe (test builds) ------------------------------------------------- */

static void attempt(struct rc_sandbox_probe *out, const char *action, bool succeeded, int errnum)
{
    char buf[128] = "";
    const char *text = succeeded ? "" : strerror_r(errnum, buf, sizeof(buf)); /* GNU's */
    rc_log(succeeded ? RC_LOG_ERROR : RC_LOG_INFO,
           "msg=\"reader probe\" action=%s outcome=%s errno=%d error=\"%s\"", action,
           succeeded ? "allowed" : "denied", succeeded ? 0 : errnum, text);
    if (out->count < RC_SANDBOX_ATTEMPTS) {
        struct rc_sandbox_attempt *a = &out->attempts[out->count++];
        snprintf(a->action, sizeof(a->action), "%s", action);
        a->allowed = succeeded;
        a->errnum = succeeded ? 0 : errnum;
    }
}

static void try_open(struct rc_sandbox_probe *out, const char *action, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    attempt(out, action, fd >= 0, errno);
    if (fd >= 0) {
        close(fd);
    }
}

void rc_sandbox_probe(const char *data_root, struct rc_sandbox_probe *out)
{
    memset(out, 0, sizeof(*out));
    try_open(out, "read_etc_passwd", "/etc/passwd");
    try_open(out, "read_environ", "/proc/self/environ");
    if (data_root) {
        char path[4200];
        snprintf(path, sizeof(path), "%s/.rasterclip-probe", data_root);
        int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        attempt(out, "write_data_root", fd >= 0, errno);
        if (fd >= 0) {
            close(fd);
            unlink(path);
        }
    }
    char *const argv[] = {"true", NULL};
    char *const envp[] = {NULL};
    execve("/bin/true", argv, envp); /* returns only when refused */
    attempt(out, "execve", false, errno);
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    attempt(out, "socket", s >= 0, errno);
    if (s >= 0) {
        close(s);
    }
    long traced = ptrace(PTRACE_TRACEME, 0, NULL, NULL);
    attempt(out, "ptrace", traced == 0, errno);
    pid_t child = fork();
    if (child == 0) {
        _exit(0);
    }
    attempt(out, "fork", child > 0, errno);
    if (child > 0) {
        waitpid(child, NULL, 0);
    }
    /* As much address space again as the limit allows in all: never granted. */
    struct rlimit lim;
    size_t size = (size_t)64 << 30;
    if (getrlimit(RLIMIT_AS, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY) {
        size = (size_t)lim.rlim_cur;
    }
    void *map = mmap(NULL, size, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    attempt(out, "map_past_limit", map != MAP_FAILED, errno);
    if (map != MAP_FAILED) {
        munmap(map, size);
    }
}
