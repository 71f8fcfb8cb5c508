/* Shared by every API test source.
 *
 * Each source is compiled twice: with SABLE_TEST_PREFIXED the M_* macros name
 * the prefixed API (sable_malloc, ...), linked from the core library; without
 * it they name the C library's functions (malloc, ...), and the test binary is
 * linked with libsable.so so that those ARE sable's.  A test written against
 * M_* therefore checks the same contract through both doors.
 */
#ifndef SABLE_TEST_API_H
#define SABLE_TEST_API_H

#include <errno.h>
#include <malloc.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "sable.h"

#ifdef SABLE_TEST_PREFIXED
#define M_VARIANT "prefixed"
#define M_MALLOC sable_malloc
#define M_CALLOC sable_calloc
#define M_REALLOC sable_realloc
#define M_REALLOCARRAY sable_reallocarray
#define M_FREE sable_free
#define M_FREE_SIZED sable_free_sized
#define M_FREE_ALIGNED_SIZED sable_free_aligned_sized
#define M_POSIX_MEMALIGN sable_posix_memalign
#define M_ALIGNED_ALLOC sable_aligned_alloc
#define M_MEMALIGN sable_memalign
#define M_VALLOC sable_valloc
#define M_PVALLOC sable_pvalloc
#define M_USABLE_SIZE sable_malloc_usable_size
#else
#define M_VARIANT "unprefixed"
/* C23 functions that glibc 2.36 does not declare yet; sable exports them. */
void free_sized(void *ptr, size_t size);
void free_aligned_sized(void *ptr, size_t alignment, size_t size);
#define M_MALLOC malloc
#define M_CALLOC calloc
#define M_REALLOC realloc
#define M_REALLOCARRAY reallocarray
#define M_FREE free
#define M_FREE_SIZED free_sized
#define M_FREE_ALIGNED_SIZED free_aligned_sized
#define M_POSIX_MEMALIGN posix_memalign
#define M_ALIGNED_ALLOC aligned_alloc
#define M_MEMALIGN memalign
#define M_VALLOC valloc
#define M_PVALLOC pvalloc
#define M_USABLE_SIZE malloc_usable_size
#endif

#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)

/* Hides a constant from the compiler, so that impossible sizes reach the
 * allocator at run time instead of drawing -Walloc-size-larger-than. */
static inline size_t opaque(size_t x)
{
    volatile size_t v = x;
    return v;
}

/* Hides a pointer's identity, so that using a block after a *failed* realloc
 * does not draw -Wuse-after-free. */
static inline void *launder(void *p)
{
    void *volatile v = p;
    return v;
}

static inline int is_aligned(const void *p, size_t alignment)
{
    return ((uintptr_t)p & (alignment - 1)) == 0;
}

/* A byte that depends on the block's seed and the offset, so that a block
 * moved by realloc, or overwritten by a neighbour, is told apart. */
static inline unsigned char pattern_byte(unsigned seed, size_t i)
{
    return (unsigned char)((seed * 131u) ^ (i * 7u) ^ (i >> 8));
}

static inline void fill_pattern(void *p, size_t n, unsigned seed)
{
    unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        b[i] = pattern_byte(seed, i);
}

/* Returns the first offset that does not hold the pattern, or n. */
static inline size_t check_pattern(const void *p, size_t n, unsigned seed)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != pattern_byte(seed, i))
            return i;
    return n;
}

static inline size_t page_size(void)
{
    return (size_t)sysconf(_SC_PAGESIZE);
}

/* Sizes above PTRDIFF_MAX, or too large for any 64-bit address space: every
 * allocation function must answer them with NULL and ENOMEM. */
static const size_t impossible_sizes[] = {
    (size_t)PTRDIFF_MAX,
    (size_t)PTRDIFF_MAX + 1,
    (size_t)PTRDIFF_MAX + 4096,
    SIZE_MAX,
    SIZE_MAX - 1,
    SIZE_MAX - 15,
    SIZE_MAX - 16,
    SIZE_MAX - 4095,
    SIZE_MAX - 4096,
    SIZE_MAX - (2 * MiB) + 1,
    SIZE_MAX / 2 + 2,
    (size_t)1 << 62,
    (size_t)1 << 56,
};
#define N_IMPOSSIBLE (sizeof impossible_sizes / sizeof impossible_sizes[0])

#endif
