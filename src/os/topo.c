/* src/os/topo.c — NUMA nodes, cgroup limits and the current CPU, read from
 * the kernel's files under one root directory (see topo.h).
 *
 * Invariants: no heap, no stdio, errno preserved; every buffer is on the
 * stack and bounded, and a file too long for its buffer is read as far as
 * it fits (a cgroup path longer than CG_PATH_MAX is taken as "/": the
 * limits of the mount's top level still count).
 * Locking: none (see topo.h).
 */
#include "os/topo.h"

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "os/os.h"

#define ROOT_MAX 256
#define PATH_MAX_ 512
#define CG_PATH_MAX 256

static char root[ROOT_MAX]; /* "" is the real root */

void os_topo_set_root(const char *r)
{
    size_t n = r ? strlen(r) : 0;
    if (n >= ROOT_MAX) n = 0;
    while (n > 0 && r[n - 1] == '/') n--; /* "/tmp/x/" joins as "/tmp/x" */
    if (n) memcpy(root, r, n);
    root[n] = '\0';
}

void os_topo_init(void)
{
    const char *r = os_getenv("SABLE_SYSROOT");
    if (r && r[0] && getauxval(AT_SECURE) == 0) os_topo_set_root(r);
}

ssize_t os_read_sysfile(const char *path, char *buf, size_t cap)
{
    char full[PATH_MAX_];
    if (os_format(full, sizeof full, "%s%s", root, path) >= sizeof full - 1) return -1;
    int saved = errno;
    ssize_t n = os_read_file(full, buf, cap);
    errno = saved;
    return n;
}

/* ---- lists and numbers ---- */

const char *os_parse_u64(const char *s, uint64_t *v)
{
    uint64_t x = 0;
    const char *start = s;
    while (*s >= '0' && *s <= '9' && x <= (UINT64_MAX - 9) / 10) x = x * 10 + (uint64_t)(*s++ - '0');
    *v = x;
    return s == start ? NULL : s;
}

unsigned os_cpu_list(const char *s, void (*fn)(unsigned cpu, void *arg), void *arg)
{
    unsigned n = 0;
    while (*s >= '0' && *s <= '9') {
        uint64_t lo, hi;
        s = os_parse_u64(s, &lo);
        hi = lo;
        if (*s == '-' && (s = os_parse_u64(s + 1, &hi)) == NULL) break;
        for (uint64_t c = lo; c <= hi && c < OS_TOPO_CPUS; c++) {
            if (fn) fn((unsigned)c, arg);
            n++;
        }
        if (*s == ',') s++;
    }
    return n;
}

/* ---- NUMA nodes ---- */

static void note_node(unsigned node, void *arg)
{
    unsigned *max = arg;
    if (node + 1 > *max) *max = node + 1;
}

struct node_cpus {
    os_topo_t *t;
    unsigned node;
};

static void note_cpu(unsigned cpu, void *arg)
{
    struct node_cpus *nc = arg;
    nc->t->cpu_node[cpu] = (uint8_t)nc->node;
}

static void read_nodes(os_topo_t *t)
{
    char buf[1024], path[96];
    unsigned max = 0;
    if (os_read_sysfile("/sys/devices/system/node/online", buf, sizeof buf) > 0)
        os_cpu_list(buf, note_node, &max);
    if (max > OS_TOPO_NODES) max = OS_TOPO_NODES;
    t->nnodes = max ? max : 1;
    for (unsigned k = 1; k < t->nnodes; k++) {
        os_format(path, sizeof path, "/sys/devices/system/node/node%d/cpulist", (int)k);
        struct node_cpus nc = {t, k};
        if (os_read_sysfile(path, buf, sizeof buf) > 0) os_cpu_list(buf, note_cpu, &nc);
    }
}

/* ---- cgroups ---- */

/* The process's cgroup path for controller `ctl` ("cpu", "memory"), or for
 * cgroup v2 (ctl NULL): copied into path, the v1 line's controller list
 * into mount (empty for v2). False if /proc/self/cgroup has no such line. */
static bool cgroup_of(const char *ctl, char *path, char *mount, size_t cap)
{
    char buf[4096];
    if (os_read_sysfile("/proc/self/cgroup", buf, sizeof buf) <= 0) return false;
    for (char *line = buf; *line;) {
        char *end = strchr(line, '\n');
        if (end) *end = '\0';
        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (c2) {
            *c2 = '\0';
            const char *ctls = c1 + 1, *p = c2 + 1;
            bool match = false;
            if (ctl == NULL) {
                match = line[0] == '0' && c1 == line + 1 && ctls[0] == '\0';
            } else {
                size_t n = strlen(ctl);
                for (const char *q = ctls; q && *q; q = strchr(q, ','), q = q ? q + 1 : NULL)
                    if (strncmp(q, ctl, n) == 0 && (q[n] == ',' || q[n] == '\0')) match = true;
            }
            if (match) {
                size_t n = strlen(p);
                if (n >= cap || p[0] != '/') p = "/", n = 1;
                memcpy(path, p, n + 1);
                n = strlen(ctls);
                if (n >= cap) n = 0;
                memcpy(mount, ctls, n);
                mount[n] = '\0';
                return true;
            }
        }
        line = end ? end + 1 : line + strlen(line);
    }
    return false;
}

/* Reads file `name` of the cgroup directory `dir` into buf. */
static bool cg_file(const char *dir, const char *name, char *buf, size_t cap)
{
    char path[PATH_MAX_];
    os_format(path, sizeof path, "%s/%s", dir, name);
    return os_read_sysfile(path, buf, cap) > 0;
}

/* Calls level(dir, arg) for the cgroup at mount + path and for every
 * ancestor up to the mount's top ("<mount>/a/b", "<mount>/a", "<mount>"). */
static void each_level(const char *mount, const char *path, void (*level)(const char *, void *),
                       void *arg)
{
    char dir[PATH_MAX_];
    size_t m = os_format(dir, sizeof dir, "%s", mount);
    size_t n = m + os_format(dir + m, sizeof dir - m, "%s", path);
    for (;;) {
        while (n > m && dir[n - 1] == '/') n--;
        dir[n] = '\0';
        level(dir, arg);
        if (n == m) break;
        while (n > m && dir[n - 1] != '/') n--;
    }
}

/* A limit: a number, or "max" / a negative number / an absurd value for
 * none (0). */
static uint64_t limit_value(const char *s)
{
    uint64_t v;
    if (s[0] == '-' || os_parse_u64(s, &v) == NULL || v >= ((uint64_t)1 << 62)) return 0;
    return v;
}

static void keep_min(uint64_t *have, uint64_t v)
{
    if (v && (*have == 0 || v < *have)) *have = v;
}

static void cpu_level_v2(const char *dir, void *arg)
{
    char buf[64];
    uint64_t quota, period;
    if (!cg_file(dir, "cpu.max", buf, sizeof buf)) return;
    quota = limit_value(buf);
    const char *sp = strchr(buf, ' ');
    if (quota && sp && os_parse_u64(sp + 1, &period) && period)
        keep_min(arg, (quota + period - 1) / period);
}

static void cpu_level_v1(const char *dir, void *arg)
{
    char q[64], p[64];
    uint64_t period;
    if (!cg_file(dir, "cpu.cfs_quota_us", q, sizeof q) ||
        !cg_file(dir, "cpu.cfs_period_us", p, sizeof p))
        return;
    uint64_t quota = limit_value(q);
    if (quota && os_parse_u64(p, &period) && period) keep_min(arg, (quota + period - 1) / period);
}

static void mem_level_v2(const char *dir, void *arg)
{
    char buf[64];
    if (cg_file(dir, "memory.max", buf, sizeof buf)) keep_min(arg, limit_value(buf));
    if (cg_file(dir, "memory.high", buf, sizeof buf)) keep_min(arg, limit_value(buf));
}

static void mem_level_v1(const char *dir, void *arg)
{
    char buf[64];
    if (cg_file(dir, "memory.limit_in_bytes", buf, sizeof buf)) keep_min(arg, limit_value(buf));
}

/* The tightest value over the levels of the process's cgroup: v2 if the
 * process is in a v2 hierarchy, else v1's controller `ctl`. */
static uint64_t cgroup_limit(const char *ctl, void (*v2)(const char *, void *),
                             void (*v1)(const char *, void *))
{
    char path[CG_PATH_MAX], ctls[CG_PATH_MAX], mount[PATH_MAX_];
    uint64_t v = 0;
    if (cgroup_of(NULL, path, ctls, sizeof path)) {
        /* v2 alone is mounted at /sys/fs/cgroup; beside v1 (hybrid), at
         * /sys/fs/cgroup/unified. */
        each_level("/sys/fs/cgroup", path, v2, &v);
        if (v == 0) each_level("/sys/fs/cgroup/unified", path, v2, &v);
    }
    if (v == 0 && cgroup_of(ctl, path, ctls, sizeof path)) {
        /* v1 mounts each hierarchy at its controller list ("cpu,cpuacct"),
         * often with a link for each controller. */
        os_format(mount, sizeof mount, "/sys/fs/cgroup/%s", ctls);
        each_level(mount, path, v1, &v);
        if (v == 0) {
            os_format(mount, sizeof mount, "/sys/fs/cgroup/%s", ctl);
            each_level(mount, path, v1, &v);
        }
    }
    return v;
}

void os_topo_read(os_topo_t *t)
{
    memset(t, 0, sizeof *t);
    read_nodes(t);
    uint64_t cpus = cgroup_limit("cpu", cpu_level_v2, cpu_level_v1);
    t->cgroup_cpus = cpus > 65536 ? 65536 : (unsigned)cpus;
    t->cgroup_memory = (size_t)cgroup_limit("memory", mem_level_v2, mem_level_v1);
}

/* ---- the current CPU ---- */

/* glibc 2.35 and later register an rseq area for every thread and publish
 * where it lies relative to the thread pointer; the kernel keeps its
 * cpu_id (the second 32-bit word) current. Weak: older glibc has neither
 * symbol, and the fallback is sched_getcpu. */
extern const ptrdiff_t __rseq_offset __attribute__((weak));
extern const unsigned int __rseq_size __attribute__((weak));

struct os_rseq_head {
    uint32_t cpu_id_start;
    int32_t cpu_id; /* -1: not registered; -2: registration failed */
};

/* The thread pointer glibc's __rseq_offset is relative to. */
static inline char *thread_pointer(void)
{
#if defined(__has_builtin)
#if __has_builtin(__builtin_thread_pointer)
#define OS_HAVE_TP 1
    return (char *)__builtin_thread_pointer();
#endif
#endif
#ifndef OS_HAVE_TP
#if defined(__x86_64__)
    char *tp;
    __asm__("mov %%fs:0, %0" : "=r"(tp));
    return tp;
#else
    return NULL;
#endif
#endif
}

static const volatile struct os_rseq_head *rseq_area(void)
{
    if (&__rseq_size == NULL || &__rseq_offset == NULL || __rseq_size < 8) return NULL;
    char *tp = thread_pointer();
    return tp ? (const volatile struct os_rseq_head *)(tp + __rseq_offset) : NULL;
}

bool os_current_cpu_is_cheap(void)
{
    const volatile struct os_rseq_head *r = rseq_area();
    return r && r->cpu_id >= 0;
}

unsigned os_current_cpu(void)
{
    const volatile struct os_rseq_head *r = rseq_area();
    int32_t c = r ? r->cpu_id : -1;
    if (c >= 0) return (unsigned)c;
    int saved = errno;
    c = sched_getcpu();
    errno = saved;
    return c >= 0 ? (unsigned)c : 0;
}
