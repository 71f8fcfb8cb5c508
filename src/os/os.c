/* src/os/os.c — memory mapping, machine facts, time, and the fatal-error path.
 *
 * Every function here is a thin wrapper around one system call with its
 * fallback written next to it, and every failed call is counted by kind
 * (see os.h). Invariants: no heap, no stdio, errno preserved. Locking: none;
 * the machine facts are written once by os_init before other threads run,
 * the hint cursor and the counters are atomics, and the kernel serialises
 * the rest.
 */
#include "os/os.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "os/topo.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef GRND_NONBLOCK
#define GRND_NONBLOCK 1
#endif

/* The architecture's default user address width: what mmap(NULL) can
 * return. Elsewhere the kernel's own mappings tell (see detect_addr_bits). */
#if defined(__x86_64__)
#define ARCH_ADDR_BITS 47
#elif defined(__aarch64__)
#define ARCH_ADDR_BITS 48
#else
#define ARCH_ADDR_BITS 0
#endif

static size_t page_size = 4096;
static size_t huge_page_size = (size_t)2 << 20;
static unsigned addr_bits = ARCH_ADDR_BITS;
static unsigned ncpus;
/* Set when the address width is beyond the page map: every mapping fails. */
static bool maps_refused;
/* The hint region's end (0: no hints) and the cursor into it. */
static uintptr_t hint_end;
static _Atomic uintptr_t hint_cursor;
static atomic_bool inited;

/* ---- failure accounting ---- */

static _Atomic uint64_t err_count[OS_ERR_NKINDS];
static _Atomic int err_last[OS_ERR_NKINDS];
static atomic_bool err_warned[OS_ERR_NKINDS];

static const char *const err_names[OS_ERR_NKINDS] = {
    [OS_ERR_MAP] = "map",         [OS_ERR_UNMAP] = "unmap",
    [OS_ERR_PURGE] = "purge",     [OS_ERR_ADVISE] = "advise",
    [OS_ERR_GUARD] = "guard",     [OS_ERR_RESIDENT] = "resident",
    [OS_ERR_MOVE] = "move",       [OS_ERR_HUGETLB] = "hugetlb",
    [OS_ERR_HINT_MISS] = "hint_miss", [OS_ERR_BIND] = "bind",
};

uint64_t os_error_count(enum os_error_kind kind)
{
    if ((unsigned)kind >= OS_ERR_NKINDS) return 0;
    return atomic_load_explicit(&err_count[kind], memory_order_relaxed);
}

int os_last_error(enum os_error_kind kind)
{
    if ((unsigned)kind >= OS_ERR_NKINDS) return 0;
    return atomic_load_explicit(&err_last[kind], memory_order_relaxed);
}

const char *os_error_name(enum os_error_kind kind)
{
    return (unsigned)kind < OS_ERR_NKINDS ? err_names[kind] : NULL;
}

/* The symbolic name of the errno values these calls return (strerror may
 * translate, and so allocate). */
static const char *errno_name(int e)
{
    switch (e) {
    case ENOMEM: return "ENOMEM";
    case EINVAL: return "EINVAL";
    case EEXIST: return "EEXIST";
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case EAGAIN: return "EAGAIN";
    case EFAULT: return "EFAULT";
    case EBADF: return "EBADF";
    case ENODEV: return "ENODEV";
    case ENOSYS: return "ENOSYS";
    case EOVERFLOW: return "EOVERFLOW";
    default: return "error";
    }
}

/* Counts a failure of `kind` whose errno is e. True if it is the first one
 * to report: not `quiet` (an expected answer, see os.h) and the kind has
 * not warned yet. */
static bool count_failure(enum os_error_kind kind, int e, bool quiet)
{
    atomic_fetch_add_explicit(&err_count[kind], 1, memory_order_relaxed);
    atomic_store_explicit(&err_last[kind], e, memory_order_relaxed);
    return !quiet && !atomic_exchange_explicit(&err_warned[kind], true, memory_order_relaxed);
}

/* The warning names the call as it was made: call(addr, size, flag). */
static void record_failure(enum os_error_kind kind, int e, bool quiet, const char *call,
                           const char *flag, const void *addr, size_t size)
{
    if (count_failure(kind, e, quiet))
        os_warn("%s(%p, %zu%s%s) failed: %s (errno %d); further %s failures are only counted",
                call, addr, size, flag[0] ? ", " : "", flag, errno_name(e), e, err_names[kind]);
}

static void *map_raw(void *hint, size_t size, int extra_flags, enum os_error_kind kind);
static void unmap_raw(void *addr, size_t size);

/* ---- reading small kernel files without stdio ---- */

ssize_t os_read_file(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    size_t n = 0;
    while (n + 1 < cap) {
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    return (ssize_t)n;
}

static bool is_pow2(uint64_t x) { return x != 0 && (x & (x - 1)) == 0; }

static unsigned bit_length(uint64_t x) { return x ? 64u - (unsigned)__builtin_clzll(x) : 0; }

/* ---- machine facts ---- */

static size_t detect_huge_page_size(void)
{
    char buf[32];
    uint64_t v = 0;
    if (os_read_file("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size", buf, sizeof buf) > 0)
        for (const char *c = buf; *c >= '0' && *c <= '9' && v < ((uint64_t)1 << 40); c++)
            v = v * 10 + (uint64_t)(*c - '0');
    /* The file is missing without THP; a page-table page of 8-byte entries
     * maps page_size/8 pages, which is the PMD size either way. */
    if (!is_pow2(v) || v <= page_size || v > ((uint64_t)1 << 40))
        v = (uint64_t)page_size * (page_size / 8);
    return (size_t)v;
}

/* The last byte of the main thread's stack ("[stack]" in /proc/self/maps),
 * or 0 if the file cannot be read. The kernel puts that stack at the top of
 * its default mmap window, which is what mmap(NULL) can return; the highest
 * mapping would not do, since a program may have mapped above the window
 * with a hint of its own. Read in pieces, without stdio: the file may be
 * long. */
static uintptr_t main_stack_top(void)
{
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    static const char tag[] = "[stack]";
    enum { TAGLEN = sizeof tag - 1 };
    char buf[1024], tail[TAGLEN];
    uintptr_t top = 0, end = 0;
    unsigned ntail = 0;
    enum { START, END, REST } state = START;
    for (;;) {
        ssize_t r = read(fd, buf, sizeof buf);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        for (ssize_t i = 0; i < r; i++) {
            char c = buf[i];
            if (c == '\n') {
                if (ntail == TAGLEN && memcmp(tail, tag, TAGLEN) == 0 && end != 0) top = end - 1;
                state = START;
                end = 0;
                ntail = 0;
                continue;
            }
            /* The line's last TAGLEN characters. */
            if (ntail == TAGLEN) memmove(tail, tail + 1, TAGLEN - 1);
            tail[ntail == TAGLEN ? TAGLEN - 1 : ntail++] = c;
            if (state == START) {
                if (c == '-') state = END;
            } else if (state == END) {
                int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
                if (d < 0)
                    state = REST;
                else
                    end = end << 4 | (uintptr_t)d;
            }
        }
    }
    close(fd);
    return top;
}

/* The width the kernel can hand out: the architecture's window, widened if
 * the stack lies above it (then the kernel's window is wider than sable
 * knows). Without /proc, this thread's stack is the floor: thread stacks
 * are mmap'd inside the same window. *seen is the width the stack shows,
 * which may be narrower than the architecture's (39-bit AArch64 kernels). */
static unsigned detect_addr_bits(unsigned *seen)
{
    char probe;
    uintptr_t top = main_stack_top();
    if (top == 0) top = (uintptr_t)&probe;
    *seen = bit_length(top);
    return *seen > ARCH_ADDR_BITS ? *seen : ARCH_ADDR_BITS;
}

/* CPUs in a list like "0-3,8-11" (sysfs's online mask). */
static unsigned count_cpu_list(const char *s)
{
    unsigned n = 0;
    while (*s >= '0' && *s <= '9') {
        unsigned lo = 0, hi;
        while (*s >= '0' && *s <= '9') lo = lo * 10 + (unsigned)(*s++ - '0');
        hi = lo;
        if (*s == '-') {
            hi = 0;
            for (s++; *s >= '0' && *s <= '9';) hi = hi * 10 + (unsigned)(*s++ - '0');
        }
        if (hi >= lo) n += hi - lo + 1;
        if (*s == ',') s++;
    }
    return n;
}

/* The affinity mask is asked for in growing sizes, up to OS_CPU_MAX CPUs:
 * the kernel refuses (EINVAL) a mask smaller than its CPU count, and glibc's
 * fixed cpu_set_t holds 1024. Not CPU_ALLOC, which calls malloc (this runs
 * inside it): the first size on the stack, the larger ones in one mapping of
 * the largest size (8 KiB), asked for only on hosts with more than 1,024
 * CPUs and unmapped before returning. The fallback reads sysfs directly
 * (sysconf may use stdio, which allocates). */
#define CPU_FIRST 1024

static int real_affinity(size_t bytes, void *mask)
{
    return sched_getaffinity(0, bytes, (cpu_set_t *)mask);
}

/* 0: the mask was read and has c > 0 CPUs in *c; -1 on EINVAL (too small);
 * 1 on any other failure. */
static int affinity_count(os_affinity_fn affinity, size_t bytes, void *mask, unsigned *c)
{
    if (affinity(bytes, mask) != 0) return errno == EINVAL ? -1 : 1;
    int n = CPU_COUNT_S(bytes, (cpu_set_t *)mask);
    if (n <= 0) return 1;
    *c = (unsigned)n;
    return 0;
}

unsigned os_count_cpus(os_affinity_fn affinity, const char *online)
{
    int saved = errno;
    if (affinity == NULL) affinity = real_affinity;
    unsigned long first[CPU_FIRST / (8 * sizeof(unsigned long))];
    unsigned c = 0;
    int r = affinity_count(affinity, sizeof first, first, &c);
    if (r < 0) {
        size_t cap = CPU_ALLOC_SIZE(OS_CPU_MAX);
        void *mask = map_raw(NULL, cap, 0, OS_ERR_MAP);
        for (size_t n = 2 * CPU_FIRST; mask && r < 0 && n <= OS_CPU_MAX; n *= 2)
            r = affinity_count(affinity, CPU_ALLOC_SIZE(n), mask, &c);
        if (mask) unmap_raw(mask, cap);
    }
    char buf[4096];
    if (r != 0) {
        const char *path = "/sys/devices/system/cpu/online";
        if (online == NULL && os_read_file(path, buf, sizeof buf) > 0) online = buf;
        c = online ? count_cpu_list(online) : 0;
    }
    errno = saved;
    return c > 0 ? c : 1;
}

static unsigned detect_ncpus(void) { return os_count_cpus(NULL, NULL); }

/* A per-process random value without allocating: getrandom if the kernel
 * has it (non-blocking: early in boot the pool may not be ready), mixed with
 * the clock, a stack address (ASLR) and the pid. */
static uint64_t process_seed(void)
{
    uint64_t r = 0;
    char probe;
#ifdef SYS_getrandom
    if (syscall(SYS_getrandom, &r, sizeof r, GRND_NONBLOCK) != (long)sizeof r) r = 0;
#endif
    r ^= os_now_ns() ^ ((uint64_t)(uintptr_t)&probe << 16) ^ ((uint64_t)getpid() << 40);
    return r;
}

bool os_set_addr_bits(unsigned bits)
{
    addr_bits = bits;
    maps_refused = bits > OS_ADDR_BITS_MAX;
    if (maps_refused)
        os_warn("the kernel hands out %d-bit addresses, the page map holds %d: every allocation "
                "will fail",
                (int)bits, OS_ADDR_BITS_MAX);
    return !maps_refused;
}

bool os_init(void)
{
    if (atomic_load_explicit(&inited, memory_order_acquire)) return !maps_refused;
    int saved = errno;
    long ps = sysconf(_SC_PAGESIZE);
    if (ps > 0 && is_pow2((uint64_t)ps)) page_size = (size_t)ps;
    huge_page_size = detect_huge_page_size();
    ncpus = detect_ncpus();
    os_topo_init();
    unsigned seen;
    bool ok = os_set_addr_bits(detect_addr_bits(&seen));
    /* Hints must lie inside what the kernel showed of its window (a 39-bit
     * AArch64 kernel has none of the region). */
    hint_end = os_hint_end(seen);
    atomic_store_explicit(&hint_cursor, os_hint_start(process_seed()), memory_order_relaxed);
    errno = saved;
    atomic_store_explicit(&inited, true, memory_order_release);
    return ok;
}

size_t os_page_size(void) { return page_size; }
size_t os_huge_page_size(void) { return huge_page_size; }
unsigned os_addr_bits(void) { return addr_bits; }

unsigned os_ncpus(void)
{
    if (ncpus == 0) {
        int saved = errno;
        ncpus = detect_ncpus();
        errno = saved;
    }
    return ncpus;
}

/* ---- mapping ---- */

/* mmap preserving errno; a failure is recorded under `kind`. */
static void *map_raw(void *hint, size_t size, int extra_flags, enum os_error_kind kind)
{
    int saved = errno;
    void *p = mmap(hint, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | extra_flags,
                   -1, 0);
    if (p == MAP_FAILED) {
        record_failure(kind, errno, errno == ENOMEM, "mmap",
                       kind == OS_ERR_HUGETLB ? "MAP_HUGETLB" : "", hint, size);
        p = NULL;
    }
    errno = saved;
    return p;
}

static void unmap_raw(void *addr, size_t size)
{
    int saved = errno;
    if (munmap(addr, size) != 0) record_failure(OS_ERR_UNMAP, errno, false, "munmap", "", addr, size);
    errno = saved;
}

void os_lock_init(pthread_mutex_t *m)
{
#ifdef PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP
    *m = (pthread_mutex_t)PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP;
#else
    pthread_mutex_init(m, NULL);
#endif
}

/* ---- hints ---- */

/* The region ends at 64 TiB, below where programs and the kernel's top-down
 * mappings live on 47- and 48-bit systems, or at half a narrower address
 * space; under 46 bits the region would crowd the kernel's own mappings. */
uintptr_t os_hint_end(unsigned bits)
{
    if (bits < 46 || bits > 63) return 0;
    return (uintptr_t)1 << (bits - 1 < 46 ? bits - 1 : 46);
}

/* splitmix64's finaliser: spreads a seed's entropy (often in its low or
 * middle bits only) over all the bits taken below. */
static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

uintptr_t os_hint_start(uint64_t seed)
{
    uint64_t steps = mix64(seed) & (((uint64_t)1 << OS_HINT_RANDOM_BITS) - 1);
    return OS_HINT_BASE + (uintptr_t)steps * OS_HINT_STEP;
}

static uintptr_t align_up(uintptr_t x, size_t align) { return (x + align - 1) & ~(uintptr_t)(align - 1); }

uintptr_t os_hint_place(uintptr_t cursor, size_t size, size_t align, uintptr_t end,
                        uintptr_t *next)
{
    uintptr_t h = align_up(cursor, align);
    if (h < cursor || h < OS_HINT_BASE || h > end || end - h < size) {
        h = align_up(OS_HINT_BASE, align);
        if (h < OS_HINT_BASE || h > end || end - h < size) return 0;
    }
    *next = h + size;
    return h;
}

/* One mmap at the next hint. The cursor moves past the range before the
 * call, whether the kernel honours it or not, so that concurrent callers
 * ask for different ranges and a taken range is tried once. NULL when the
 * hint was not honoured (the caller over-maps instead); *failed when mmap
 * itself failed (then over-mapping would fail too). */
static void *map_at_hint(size_t size, size_t align, int flags, enum os_error_kind kind,
                         bool *failed)
{
    *failed = false;
    if (hint_end == 0 || size > OS_HINT_MAX_SIZE) return NULL;
    uintptr_t cur = atomic_load_explicit(&hint_cursor, memory_order_relaxed), h, next;
    do {
        h = os_hint_place(cur, size, align, hint_end, &next);
        if (h == 0) return NULL;
    } while (!atomic_compare_exchange_weak_explicit(&hint_cursor, &cur, next, memory_order_relaxed,
                                                    memory_order_relaxed));
    void *p = map_raw((void *)h, size, flags, kind);
    if (p == NULL) {
        *failed = true;
        return NULL;
    }
    if ((uintptr_t)p == h) return p;
    atomic_fetch_add_explicit(&err_count[OS_ERR_HINT_MISS], 1, memory_order_relaxed);
    if (((uintptr_t)p & (align - 1)) == 0) return p;
    unmap_raw(p, size);
    return NULL;
}

static void *map_aligned(size_t size, size_t align, int flags, size_t granule,
                         enum os_error_kind kind)
{
    if (unlikely(maps_refused)) return NULL;
    if (align < granule) align = granule;
    if (align == granule) return map_raw(NULL, size, flags, kind);
    bool failed;
    void *p = map_at_hint(size, align, flags, kind, &failed);
    if (p != NULL || failed) return p;

    if (size + align < size) return NULL;
    size_t span = size + align - granule;
    p = map_raw(NULL, span, flags, kind);
    if (p == NULL) return NULL;
    uintptr_t start = (uintptr_t)p;
    uintptr_t aligned = align_up(start, align);
    size_t head = aligned - start;
    size_t tail = span - head - size;
    if (head) unmap_raw(p, head);
    if (tail) unmap_raw((void *)(aligned + size), tail);
    return (void *)aligned;
}

void *os_map_aligned(size_t size, size_t align)
{
    return map_aligned(size, align, 0, page_size, OS_ERR_MAP);
}

void *os_map_aligned_hugetlb(size_t size, size_t align)
{
#if defined(MAP_HUGETLB) && defined(MAP_HUGE_SHIFT)
    if (size % huge_page_size) {
        if (count_failure(OS_ERR_HUGETLB, EINVAL, false))
            os_warn("mmap(MAP_HUGETLB): %zu bytes is not a multiple of the %zu-byte huge page",
                    size, huge_page_size);
        return NULL;
    }
    int log2 = __builtin_ctzll((unsigned long long)huge_page_size);
    return map_aligned(size, align, MAP_HUGETLB | (log2 << MAP_HUGE_SHIFT), huge_page_size,
                       OS_ERR_HUGETLB);
#else
    (void)size;
    (void)align;
    return NULL;
#endif
}

bool os_guard(void *addr, size_t size)
{
    int saved = errno;
    int rc = mprotect(addr, size, PROT_NONE);
    if (rc != 0) record_failure(OS_ERR_GUARD, errno, false, "mprotect", "PROT_NONE", addr, size);
    errno = saved;
    return rc == 0;
}

bool os_advise_hugepage(void *addr, size_t size)
{
#ifdef MADV_HUGEPAGE
    int saved = errno;
    int rc = madvise(addr, size, MADV_HUGEPAGE);
    if (rc != 0) record_failure(OS_ERR_ADVISE, errno, false, "madvise", "MADV_HUGEPAGE", addr, size);
    errno = saved;
    return rc == 0;
#else
    (void)addr;
    (void)size;
    return false;
#endif
}

/* mbind's policy and the one node of its mask (a raw system call: glibc
 * has no wrapper, and libnuma is not a dependency). */
#define OS_MPOL_PREFERRED 1

bool os_bind_node(void *addr, size_t size, unsigned node)
{
#ifdef SYS_mbind
    if (node >= 8 * sizeof(unsigned long)) return false;
    int saved = errno;
    unsigned long mask = 1ul << node;
    /* maxnode counts one more than the mask's bits (the kernel drops one). */
    long rc = syscall(SYS_mbind, addr, size, OS_MPOL_PREFERRED, &mask, 8 * sizeof mask + 1, 0);
    if (rc != 0)
        record_failure(OS_ERR_BIND, errno, errno == ENOSYS || errno == EPERM || errno == EINVAL,
                       "mbind", "MPOL_PREFERRED", addr, size);
    errno = saved;
    return rc == 0;
#else
    (void)addr, (void)size, (void)node;
    return false;
#endif
}

void os_unmap(void *addr, size_t size) { unmap_raw(addr, size); }

bool os_purge(void *addr, size_t size)
{
    int saved = errno;
    int rc = madvise(addr, size, MADV_DONTNEED);
    if (rc != 0) record_failure(OS_ERR_PURGE, errno, false, "madvise", "MADV_DONTNEED", addr, size);
    errno = saved;
    return rc == 0;
}

static atomic_bool moves_off;

bool os_move(void *to, void *from, size_t len)
{
#if defined(MREMAP_DONTUNMAP) && defined(MREMAP_FIXED)
    if (unlikely(maps_refused) || atomic_load_explicit(&moves_off, memory_order_relaxed))
        return false;
    int saved = errno;
    void *q = mremap(from, len, len, MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP, to);
    if (q == to) {
        /* The source stays mapped (nobody else can take it meanwhile), but
         * is mapped again as fresh memory: emulators that implement the
         * move but not DONTUNMAP's "stays mapped" (qemu's user mode) would
         * otherwise fault on its next use. */
        mmap(from, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        errno = saved;
        return true;
    }
    int e = errno;
    /* The kernel may have unmapped the target before it refused: map it
     * again, so that the caller's range is whole. */
    if (mmap(to, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) !=
        to)
        sable_fatal("mremap(%p) failed and its target could not be mapped again", to);
    if (e != EFAULT) {
        atomic_store_explicit(&moves_off, true, memory_order_relaxed);
        record_failure(OS_ERR_MOVE, e, e == ENOMEM || e == EINVAL, "mremap", "MREMAP_DONTUNMAP",
                       from, len);
    }
    errno = saved;
    return false;
#else
    (void)to;
    (void)from;
    (void)len;
    return false;
#endif
}

bool os_map_fresh(void *addr, size_t len)
{
    int saved = errno;
    void *q = mmap(addr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (q != addr) record_failure(OS_ERR_MAP, errno, errno == ENOMEM, "mmap", "MAP_FIXED", addr, len);
    errno = saved;
    return q == addr;
}

bool os_replace(void *to, void *from, size_t len)
{
    int saved = errno;
    void *q = mremap(from, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, to);
    bool ok = q == to;
    if (!ok) {
        record_failure(OS_ERR_MOVE, errno, false, "mremap", "MREMAP_FIXED", from, len);
        q = mmap(to, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        if (q == to) {
            memcpy(to, from, len);
            unmap_raw(from, len);
            ok = true;
        }
    }
    errno = saved;
    return ok;
}

bool os_unguard(void *addr, size_t size)
{
    int saved = errno;
    int rc = mprotect(addr, size, PROT_READ | PROT_WRITE);
    if (rc != 0)
        record_failure(OS_ERR_GUARD, errno, false, "mprotect", "PROT_READ|PROT_WRITE", addr, size);
    errno = saved;
    return rc == 0;
}

/* Resident pages of [p, p+len) that are still mapped, one page at a time
 * (mincore refuses a range with a hole in it as a whole). */
static size_t resident_mapped_pages(char *p, size_t len)
{
    size_t resident = 0;
    unsigned char v;
    for (size_t off = 0; off < len; off += page_size)
        if (mincore(p + off, page_size, &v) == 0 && (v & 1)) resident += page_size;
    return resident;
}

size_t os_resident(void *addr, size_t size)
{
    unsigned char vec[256];
    size_t resident = 0, step = sizeof vec * page_size;
    int saved = errno;
    for (size_t off = 0; off < size; off += step) {
        char *p = (char *)addr + off;
        size_t len = size - off < step ? size - off : step;
        if (mincore(p, len, vec) != 0) {
            /* ENOMEM: part of the range is not mapped (any more: stats
             * measure ranges copied under a lock they no longer hold). Not
             * a failure: the pages still mapped are counted, the rest are
             * not resident. */
            if (errno == ENOMEM)
                resident += resident_mapped_pages(p, len);
            else
                record_failure(OS_ERR_RESIDENT, errno, false, "mincore", "", p, len);
            continue;
        }
        for (size_t i = 0; i < (len + page_size - 1) / page_size; i++)
            if (vec[i] & 1) resident += page_size;
    }
    errno = saved;
    return resident;
}

uint64_t os_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint32_t os_now_ms(void) { return (uint32_t)(os_now_ns() / 1000000u); }

bool os_thread_start(void *(*fn)(void *), void *arg)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_attr_t attr;
    pthread_t t;
    bool ok = pthread_attr_init(&attr) == 0;
    if (ok) {
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        ok = pthread_create(&t, &attr, fn, arg) == 0;
        pthread_attr_destroy(&attr);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return ok;
}

int os_thread_id(void) { return (int)syscall(SYS_gettid); }
int os_process_id(void) { return (int)getpid(); }

bool os_thread_gone(int pid, int tid)
{
    int saved = errno;
    bool gone = syscall(SYS_tgkill, pid, tid, 0) != 0 && errno == ESRCH;
    errno = saved;
    return gone;
}

/* membarrier(2)'s commands (linux/membarrier.h, Linux 4.14). */
#define OS_MEMBARRIER_QUERY 0
#define OS_MEMBARRIER_PRIVATE_EXPEDITED (1 << 3)
#define OS_MEMBARRIER_REGISTER_PRIVATE_EXPEDITED (1 << 4)

uint64_t os_signal_mask(void)
{
    uint64_t m = 0;
    int saved = errno;
    if (syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &m, sizeof m) != 0) m = ~(uint64_t)0;
    errno = saved;
    return m;
}

/* The value after `key` (a line's start, "SigBlk:") in hex; false if absent. */
static bool status_hex(const char *buf, const char *key, uint64_t *v)
{
    size_t kl = strlen(key);
    for (const char *l = buf; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
        if (strncmp(l, key, kl) != 0) continue;
        const char *q = l + kl;
        while (*q == ' ' || *q == '\t') q++;
        uint64_t x = 0;
        int digits = 0;
        for (;; q++, digits++) {
            unsigned d = *q >= '0' && *q <= '9'   ? (unsigned)(*q - '0')
                         : *q >= 'a' && *q <= 'f' ? (unsigned)(*q - 'a' + 10)
                                                  : 16;
            if (d == 16) break;
            x = x << 4 | d;
        }
        *v = x;
        return digits > 0 && digits <= 16;
    }
    return false;
}

/* Whether /proc is this process's own: mounted for its pid namespace, so
 * that the thread ids gettid gives name its threads there (a container
 * that shares the host's /proc would not). Asked once. */
static bool proc_is_ours(void)
{
    static _Atomic int state; /* 0: not asked; 1: yes; -1: no */
    int st = atomic_load_explicit(&state, memory_order_relaxed);
    if (st == 0) {
        char buf[64];
        uint64_t pid = 0;
        st = os_read_file("/proc/self/stat", buf, sizeof buf) > 0 &&
                     os_parse_u64(buf, &pid) && pid == (uint64_t)getpid()
                 ? 1
                 : -1;
        atomic_store_explicit(&state, st, memory_order_relaxed);
    }
    return st > 0;
}

bool os_start_time(int pid, uint64_t *ticks)
{
    /* Field 22 of /proc/<pid>/stat, counted after the command's closing
     * parenthesis (the command may hold spaces and parentheses). */
    char buf[1024], path[40];
    int saved = errno;
    if (pid > 0)
        os_format(path, sizeof path, "/proc/%d/stat", pid);
    else
        memcpy(path, "/proc/self/stat", sizeof "/proc/self/stat");
    ssize_t n = os_read_file(path, buf, sizeof buf);
    errno = saved;
    if (n <= 0 || !proc_is_ours()) return false;
    const char *s = NULL;
    for (ssize_t i = 0; i < n; i++)
        if (buf[i] == ')') s = buf + i + 1;
    if (s == NULL) return false;
    for (unsigned field = 3; field < 22; field++) {
        while (*s == ' ') s++;
        while (*s && *s != ' ') s++;
    }
    while (*s == ' ') s++;
    return os_parse_u64(s, ticks) != NULL;
}

bool os_pid_namespace(uint64_t *id)
{
    struct stat st;
    int saved = errno;
    bool ok = stat("/proc/self/ns/pid", &st) == 0;
    errno = saved;
    if (ok) *id = st.st_ino;
    return ok;
}

bool os_thread_in_syscall(int tid, uint64_t *sigblk)
{
    char path[64], buf[4096];
    int saved = errno;
    bool ok = false;
    if (!proc_is_ours()) return false;
    /* The mask first: a signal handler that runs when the state is read
     * ran already (it interrupted an operation that started earlier), and
     * the mask shows the signals it blocks. */
    os_format(path, sizeof path, "/proc/self/task/%d/status", tid);
    if (os_read_file(path, buf, sizeof buf) > 0 && status_hex(buf, "SigBlk:", sigblk)) {
        os_format(path, sizeof path, "/proc/self/task/%d/syscall", tid);
        ok = os_read_file(path, buf, 64) > 0 && buf[0] >= '0' && buf[0] <= '9';
    }
    errno = saved;
    return ok;
}

bool os_process_fence(void)
{
#ifdef SYS_membarrier
    /* 0: not asked yet; 1: registered; -1: not available. A forked child
     * is a new process: a refusal there (EPERM, not registered) registers
     * again. */
    static _Atomic int state;
    int saved = errno;
    bool ok = false;
    for (int attempt = 0; attempt < 2 && !ok; attempt++) {
        int st = atomic_load_explicit(&state, memory_order_relaxed);
        if (st < 0) break;
        if (st == 0) {
            long cmds = syscall(SYS_membarrier, OS_MEMBARRIER_QUERY, 0, 0);
            if (cmds < 0 || !(cmds & OS_MEMBARRIER_PRIVATE_EXPEDITED) ||
                syscall(SYS_membarrier, OS_MEMBARRIER_REGISTER_PRIVATE_EXPEDITED, 0, 0) != 0) {
                atomic_store_explicit(&state, -1, memory_order_relaxed);
                break;
            }
            atomic_store_explicit(&state, 1, memory_order_relaxed);
        }
        ok = syscall(SYS_membarrier, OS_MEMBARRIER_PRIVATE_EXPEDITED, 0, 0) == 0;
        if (!ok) atomic_store_explicit(&state, errno == EPERM ? 0 : -1, memory_order_relaxed);
    }
    errno = saved;
    return ok;
#else
    return false;
#endif
}

void os_sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    int saved = errno;
    nanosleep(&ts, NULL);
    errno = saved;
}

void os_write_stderr(const char *buf, size_t len)
{
    int saved = errno;
    while (len > 0) {
        ssize_t n = write(2, buf, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        buf += n;
        len -= (size_t)n;
    }
    errno = saved;
}

/* A tiny formatter: stdio may allocate, and we may be inside malloc. */
static size_t vformat(char *buf, size_t cap, const char *fmt, va_list ap)
{
    size_t n = 0;
#define PUT(c)                                                                                     \
    do {                                                                                           \
        if (n + 1 < cap) buf[n++] = (c);                                                           \
    } while (0)
    for (const char *f = fmt; *f; f++) {
        if (*f != '%') {
            PUT(*f);
            continue;
        }
        f++;
        char tmp[24];
        int len = 0;
        if (*f == 's') {
            const char *s = va_arg(ap, const char *);
            for (s = s ? s : "(null)"; *s; s++) PUT(*s);
            continue;
        } else if (*f == 'p' || *f == 'x') {
            uintptr_t v = *f == 'p' ? (uintptr_t)va_arg(ap, void *) : va_arg(ap, size_t);
            do {
                tmp[len++] = "0123456789abcdef"[v & 15];
                v >>= 4;
            } while (v);
            PUT('0');
            PUT('x');
        } else if (*f == 'z' && f[1] == 'u') {
            f++;
            size_t v = va_arg(ap, size_t);
            do {
                tmp[len++] = (char)('0' + v % 10);
                v /= 10;
            } while (v);
        } else if (*f == 'd') {
            int v = va_arg(ap, int);
            unsigned long u = v < 0 ? 0ul - (unsigned long)v : (unsigned long)v;
            if (v < 0) PUT('-');
            do {
                tmp[len++] = (char)('0' + u % 10);
                u /= 10;
            } while (u);
        } else if (*f == '%') {
            PUT('%');
            continue;
        } else {
            if (*f == '\0') break;
            PUT('%');
            PUT(*f);
            continue;
        }
        while (len > 0) PUT(tmp[--len]);
    }
#undef PUT
    if (cap > 0) buf[n] = '\0';
    return n;
}

size_t os_format(char *buf, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t n = vformat(buf, cap, fmt, ap);
    va_end(ap);
    return n;
}

static void vwarn_line(const char *fmt, va_list ap)
{
    char line[1024]; /* the longest: confirm_conf's list of every option */
    memcpy(line, "sable: ", 7);
    size_t n = 7 + vformat(line + 7, sizeof line - 8, fmt, ap);
    line[n++] = '\n';
    os_write_stderr(line, n);
}

bool os_warn_aborts;

void os_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vwarn_line(fmt, ap);
    va_end(ap);
    if (os_warn_aborts) sable_fatal("a warning is fatal under abort:true");
}

void os_note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vwarn_line(fmt, ap);
    va_end(ap);
}

_Noreturn void sable_fatal(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vwarn_line(fmt, ap);
    va_end(ap);
    abort();
}
