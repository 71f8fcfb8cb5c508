/* src/os/topo.h — the machine's shape as the kernel files describe it: NUMA
 * nodes and their CPUs, the cgroup's CPU quota and memory limit, the CPU a
 * thread runs on, and binding memory to a node.
 *
 * Every topology and cgroup file is read through os_read_sysfile, which
 * resolves absolute paths under one root directory: "/" in production. A
 * test points it at a fake tree (a directory holding proc/self/cgroup,
 * sys/fs/cgroup/..., sys/devices/system/node/...) with os_topo_set_root, or,
 * for a whole process, with the environment variable SABLE_SYSROOT, read
 * once at set-up and ignored in set-uid and set-gid programs (AT_SECURE).
 * It is a test facility: a wrong root only changes the figures below, which
 * size and place arenas, never the correctness of allocation.
 *
 * Invariants: nothing here allocates or uses stdio; errno is preserved; a
 * file that is missing or malformed reads as "no such limit" or "one node".
 * Locking: none. The root is set before threads use the allocator (at
 * set-up, or by a single-threaded test); the readers keep no state.
 */
#ifndef SABLE_OS_TOPO_H
#define SABLE_OS_TOPO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Nodes and CPUs the topology table describes: node ids above
 * OS_TOPO_NODES - 1 are read as node 0's, and CPUs from OS_TOPO_CPUS on
 * belong to node 0 (a host that large is placed as if it had one node past
 * that point; allocation is unaffected). */
#define OS_TOPO_NODES 64
#define OS_TOPO_CPUS 4096

/* Sets the root directory of os_read_sysfile (NULL or "": the real one).
 * The string is copied (at most 255 bytes). */
void os_topo_set_root(const char *root);
/* Reads SABLE_SYSROOT into the root, unless the program runs set-uid or
 * set-gid (then the root stays "/"). Called once by os_init. */
void os_topo_init(void);

/* Reads at most cap-1 bytes of the file at absolute path `path` under the
 * root and NUL-terminates them. Returns the length, or -1 (missing file,
 * a path too long). */
ssize_t os_read_sysfile(const char *path, char *buf, size_t cap);

/* The topology and limits as one value, read by os_topo_read. */
typedef struct os_topo {
    unsigned nnodes;                  /* highest online node id + 1, at least 1 */
    uint8_t cpu_node[OS_TOPO_CPUS];   /* node of each CPU (0 when unknown) */
    unsigned cgroup_cpus;             /* the CPU quota rounded up: 0 for none */
    size_t cgroup_memory;             /* the tightest memory limit in bytes: 0 for none */
} os_topo_t;

/* Reads the topology under the root:
 *   nodes: /sys/devices/system/node/online ("0-3") and each node's cpulist;
 *     no such directory (a kernel without NUMA) is one node;
 *   the CPU quota: the process's cgroup from /proc/self/cgroup, then at its
 *     level and every level above, cgroup v2's cpu.max ("max 100000" or
 *     "QUOTA PERIOD", under /sys/fs/cgroup, or /sys/fs/cgroup/unified on
 *     hybrid hosts) or v1's cpu.cfs_quota_us and cpu.cfs_period_us (-1:
 *     none) under the cpu controller's mount (/sys/fs/cgroup/<controllers
 *     as /proc/self/cgroup lists them>, else /sys/fs/cgroup/cpu); the
 *     tightest level counts, ceil(quota / period) CPUs;
 *   the memory limit: likewise v2's memory.max and memory.high ("max":
 *     none) and v1's memory.limit_in_bytes (values of 2^62 or more: none),
 *     the smallest of all levels.
 * Inside a container with its own cgroup namespace the process's cgroup is
 * "/", and the container's limits are the files at the mount's top, which
 * this reads as that level's. */
void os_topo_read(os_topo_t *t);

/* The CPUs in a list such as "0-3,8-11", each passed to fn(cpu, arg) (at
 * most OS_TOPO_CPUS of them). Returns how many the list names. */
unsigned os_cpu_list(const char *list, void (*fn)(unsigned cpu, void *arg), void *arg);
/* Parses the decimal number at s into *v; returns the first character after
 * it, or NULL if s does not start with a digit. */
const char *os_parse_u64(const char *s, uint64_t *v);

/* The CPU the calling thread runs on: the cpu_id of glibc's rseq area
 * (__rseq_offset, __rseq_size: glibc 2.35 and later, when the kernel
 * accepted the registration), else sched_getcpu; 0 if neither answers. A
 * hint only: the thread may move at any moment. */
unsigned os_current_cpu(void);
/* True if os_current_cpu reads the rseq area (one load, no system call). */
bool os_current_cpu_is_cheap(void);

/* Asks the kernel to place the pages of [addr, addr+len) on `node` when
 * they are first touched, and elsewhere when it has no memory
 * (mbind(MPOL_PREFERRED) through the system call: no libnuma). False, and
 * counted under OS_ERR_BIND, if it refused (ENOSYS, EPERM and EINVAL,
 * as under emulators, seccomp filters or a node that went away, are counted
 * without a warning). */
bool os_bind_node(void *addr, size_t len, unsigned node);

#endif /* SABLE_OS_TOPO_H */
