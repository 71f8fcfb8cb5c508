/* src/os/os.c — memory mapping, time, CPU count and the fatal-error path.
 *
 * Every function here is a thin wrapper around one system call with its
 * fallback written next to it. No locks: the kernel serialises what needs it.
 */
#include "os/os.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

static size_t page_size = 4096;

void os_init(void)
{
    long ps = sysconf(_SC_PAGESIZE);
    if (ps > 0) page_size = (size_t)ps;
}

size_t os_page_size(void) { return page_size; }

unsigned os_ncpus(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0) return (unsigned)n;
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}

/* mmap preserving errno: the allocator's callers decide what errno to set. */
static void *map_raw(void *hint, size_t size, int extra_flags)
{
    int saved = errno;
    void *p = mmap(hint, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | extra_flags,
                   -1, 0);
    errno = saved;
    return p == MAP_FAILED ? NULL : p;
}

static void unmap_raw(void *addr, size_t size)
{
    int saved = errno;
    munmap(addr, size);
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

/* Where the next aligned mapping is asked for. The kernel places mappings
 * top-down from the stack and rarely at an aligned address, so aligned
 * mappings are requested upward from a hint in a region the kernel does not
 * use by itself (from 2 TiB); a taken or refused hint falls back to
 * over-allocating and trimming. */
#define HINT_BASE ((uintptr_t)2 << 40)
#define HINT_END ((uintptr_t)1 << 46)
static _Atomic uintptr_t aligned_hint = HINT_BASE;

static void *map_at_hint(size_t size, size_t align, int flags)
{
    uintptr_t h = atomic_load_explicit(&aligned_hint, memory_order_relaxed);
    h = (h + align - 1) & ~(uintptr_t)(align - 1);
    if (h + size < h || h + size > HINT_END) return NULL;
    void *p = map_raw((void *)h, size, flags);
    if (p == NULL) return NULL;
    if ((uintptr_t)p == h) {
        atomic_compare_exchange_strong(&aligned_hint, &(uintptr_t){
            atomic_load_explicit(&aligned_hint, memory_order_relaxed)}, h + size);
        return p;
    }
    if (((uintptr_t)p & (align - 1)) == 0) return p;
    unmap_raw(p, size);
    /* The hint is taken: move past it so the next caller tries elsewhere. */
    atomic_store_explicit(&aligned_hint, h + size, memory_order_relaxed);
    return NULL;
}

static void *map_aligned(size_t size, size_t align, int flags, size_t granule)
{
    if (align < granule) align = granule;
    if (align == granule) return map_raw(NULL, size, flags);
    void *p = map_at_hint(size, align, flags);
    if (p != NULL) return p;

    if (size + align < size) return NULL;
    size_t span = size + align - granule;
    p = map_raw(NULL, span, flags);
    if (p == NULL) return NULL;
    uintptr_t start = (uintptr_t)p;
    uintptr_t aligned = (start + align - 1) & ~(uintptr_t)(align - 1);
    size_t head = aligned - start;
    size_t tail = span - head - size;
    if (head) unmap_raw(p, head);
    if (tail) unmap_raw((void *)(aligned + size), tail);
    return (void *)aligned;
}

void *os_map_aligned(size_t size, size_t align) { return map_aligned(size, align, 0, page_size); }

void *os_map_aligned_hugetlb(size_t size, size_t align)
{
#if defined(MAP_HUGETLB) && defined(MAP_HUGE_SHIFT)
    if (size % OS_HUGE_PAGE) return NULL;
    return map_aligned(size, align, MAP_HUGETLB | (21 << MAP_HUGE_SHIFT), OS_HUGE_PAGE);
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
    errno = saved;
    return rc == 0;
}

bool os_advise_hugepage(void *addr, size_t size)
{
#ifdef MADV_HUGEPAGE
    int saved = errno;
    int rc = madvise(addr, size, MADV_HUGEPAGE);
    errno = saved;
    return rc == 0;
#else
    (void)addr;
    (void)size;
    return false;
#endif
}

void os_unmap(void *addr, size_t size) { unmap_raw(addr, size); }

bool os_purge(void *addr, size_t size)
{
    int saved = errno;
    int rc = madvise(addr, size, MADV_DONTNEED);
    errno = saved;
    return rc == 0;
}

bool os_extend_inplace(void *addr, size_t old_size, size_t new_size)
{
    char *want = (char *)addr + old_size;
    size_t extra = new_size - old_size;
    void *p = map_raw(want, extra, MAP_FIXED_NOREPLACE);
    if (p == want) return true;
    /* Kernels before 4.17 ignore MAP_FIXED_NOREPLACE and treat it as a hint. */
    if (p != NULL) unmap_raw(p, extra);
    return false;
}

size_t os_resident(void *addr, size_t size)
{
    unsigned char vec[256];
    size_t resident = 0, step = sizeof vec * page_size;
    int saved = errno;
    for (size_t off = 0; off < size; off += step) {
        size_t len = size - off < step ? size - off : step;
        if (mincore((char *)addr + off, len, vec) != 0) continue;
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
    char line[512];
    memcpy(line, "sable: ", 7);
    size_t n = 7 + vformat(line + 7, sizeof line - 8, fmt, ap);
    line[n++] = '\n';
    os_write_stderr(line, n);
}

void os_warn(const char *fmt, ...)
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
