/* sable — a drop-in malloc replacement.
 *
 * This is the whole public surface of the library. The prefixed functions are
 * always exported; the unprefixed malloc family (malloc, free, ...) and the C++
 * operators come from the preload layer and replace the C library's.
 *
 * Semantics follow glibc on Linux where the standards leave a choice:
 *   - every block is at least 16-byte aligned;
 *   - sable_malloc(0) returns a unique pointer that sable_free accepts;
 *   - sable_realloc(p, 0) frees p and returns NULL, errno untouched;
 *   - sizes above PTRDIFF_MAX and calloc/reallocarray overflow give NULL, ENOMEM;
 *   - sable_free never changes errno;
 *   - freeing a pointer sable did not hand out aborts with one line on stderr.
 */
#ifndef SABLE_H
#define SABLE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SABLE_VERSION_MAJOR 0
#define SABLE_VERSION_MINOR 1
#define SABLE_VERSION_PATCH 0
#define SABLE_VERSION_STRING "0.1.0"

#if defined(__GNUC__)
#define SABLE_EXPORT __attribute__((visibility("default")))
#define SABLE_MALLOC_ATTR __attribute__((malloc, warn_unused_result))
#define SABLE_ALLOC_SIZE(...) __attribute__((alloc_size(__VA_ARGS__)))
#else
#define SABLE_EXPORT
#define SABLE_MALLOC_ATTR
#define SABLE_ALLOC_SIZE(...)
#endif

/* The malloc family, prefixed. Each behaves like its unprefixed twin. */
SABLE_EXPORT void *sable_malloc(size_t size) SABLE_MALLOC_ATTR SABLE_ALLOC_SIZE(1);
SABLE_EXPORT void *sable_calloc(size_t count, size_t size) SABLE_MALLOC_ATTR SABLE_ALLOC_SIZE(1, 2);
SABLE_EXPORT void *sable_realloc(void *ptr, size_t size) SABLE_ALLOC_SIZE(2);
SABLE_EXPORT void *sable_reallocarray(void *ptr, size_t count, size_t size) SABLE_ALLOC_SIZE(2, 3);
SABLE_EXPORT void sable_free(void *ptr);
SABLE_EXPORT void sable_free_sized(void *ptr, size_t size);
SABLE_EXPORT void sable_free_aligned_sized(void *ptr, size_t alignment, size_t size);
SABLE_EXPORT int sable_posix_memalign(void **memptr, size_t alignment, size_t size);
SABLE_EXPORT void *sable_aligned_alloc(size_t alignment, size_t size) SABLE_MALLOC_ATTR SABLE_ALLOC_SIZE(2);
SABLE_EXPORT void *sable_memalign(size_t alignment, size_t size) SABLE_MALLOC_ATTR SABLE_ALLOC_SIZE(2);
SABLE_EXPORT void *sable_valloc(size_t size) SABLE_MALLOC_ATTR SABLE_ALLOC_SIZE(1);
SABLE_EXPORT void *sable_pvalloc(size_t size) SABLE_MALLOC_ATTR;
SABLE_EXPORT size_t sable_malloc_usable_size(const void *ptr);

/* The extended API, with jemalloc's semantics and flags (docs/mallctl.md,
 * "The extended API"). flags is 0 or an OR of the SABLE_MALLOCX_* below:
 *   SABLE_MALLOCX_LG_ALIGN(la), SABLE_MALLOCX_ALIGN(a): align to 1 << la,
 *     or to a (a power of two);
 *   SABLE_MALLOCX_ZERO: new memory reads as zeroes (when growing, from the
 *     old usable size on);
 *   SABLE_MALLOCX_ARENA(a): from arena a (< arenas.narenas), past the
 *     thread's cache;
 *   SABLE_MALLOCX_TCACHE_NONE: past the thread's cache.
 * Explicit caches (SABLE_MALLOCX_TCACHE(tc)) are not available yet: such a
 * call fails as with an unknown arena (NULL and EINVAL; xallocx does not
 * resize; dallocx and sdallocx abort with one line).
 *   sable_mallocx: at least size bytes (NULL and errno on failure);
 *   sable_rallocx: resizes, moving if it must (NULL on failure, ptr kept);
 *   sable_xallocx: resizes in place to at least size bytes, size + extra
 *     if it can; returns the usable size after (unchanged on failure);
 *   sable_sallocx: the usable size of ptr;
 *   sable_dallocx, sable_sdallocx: free (sdallocx checks the size as
 *     sable_free_sized does, with the alignment of flags);
 *   sable_nallocx: the usable size mallocx would give (0 if too large). */
SABLE_EXPORT void *sable_mallocx(size_t size, int flags) SABLE_MALLOC_ATTR SABLE_ALLOC_SIZE(1);
SABLE_EXPORT void *sable_rallocx(void *ptr, size_t size, int flags) SABLE_ALLOC_SIZE(2);
SABLE_EXPORT size_t sable_xallocx(void *ptr, size_t size, size_t extra, int flags);
SABLE_EXPORT size_t sable_sallocx(const void *ptr, int flags);
SABLE_EXPORT void sable_dallocx(void *ptr, int flags);
SABLE_EXPORT void sable_sdallocx(void *ptr, size_t size, int flags);
SABLE_EXPORT size_t sable_nallocx(size_t size, int flags);

#define SABLE_MALLOCX_LG_ALIGN(la) ((int)(la))
#define SABLE_MALLOCX_ALIGN(a) sable_mallocx_lg_of((size_t)(a))
static inline int sable_mallocx_lg_of(size_t a)
{
    int la = 0;
    while (a > 1) a >>= 1, la++;
    return la;
}
#define SABLE_MALLOCX_ZERO ((int)0x40)
#define SABLE_MALLOCX_TCACHE(tc) ((int)(((unsigned)(tc) + 2) << 8))
#define SABLE_MALLOCX_TCACHE_NONE SABLE_MALLOCX_TCACHE(-1)
#define SABLE_MALLOCX_ARENA(a) ((int)(((unsigned)(a) + 1) << 20))

/* Returns the version string, e.g. "0.1.0". */
SABLE_EXPORT const char *sable_version(void);

/* Flushes the calling thread's cache and returns unused memory to the
 * operating system. Returns 1 if any memory was released, else 0 (the
 * semantics of glibc's malloc_trim). */
SABLE_EXPORT int sable_trim(size_t pad);

/* Control and inspection, with jemalloc's signatures and return codes: 0,
 * EINVAL (wrong length or value), ENOENT (unknown name or index), EPERM
 * (write to a read-only name, or read of a write-only one), EFAULT (the
 * operation failed), EAGAIN (out of memory). Names and types are listed in
 * docs/mallctl.md. Statistics are read from a snapshot that writing "epoch"
 * refreshes. Deliberately not exported unprefixed (programs probe mallctl to
 * detect jemalloc). */
SABLE_EXPORT int sable_mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp,
                               size_t newlen);
SABLE_EXPORT int sable_mallctlnametomib(const char *name, size_t *mibp, size_t *miblenp);
SABLE_EXPORT int sable_mallctlbymib(const size_t *mib, size_t miblen, void *oldp, size_t *oldlenp,
                                    void *newp, size_t newlen);
/* Writes human-readable statistics (JSON if opts contains 'J') through
 * write_cb, or to stderr when write_cb is NULL. Letters in opts leave out
 * sections: g general, m merged arenas, a per arena, b size classes, l large
 * (d, x, e are accepted and ignored). Allocates nothing. */
SABLE_EXPORT void sable_malloc_stats_print(void (*write_cb)(void *, const char *), void *cbopaque,
                                           const char *opts);

/* Index meaning "every arena" in arena.<i>.* and stats.arenas.<i>.* (as in
 * jemalloc; arenas.narenas works too). */
#define SABLE_MALLCTL_ARENAS_ALL 4096

#ifdef __cplusplus
}
#endif

#endif /* SABLE_H */
