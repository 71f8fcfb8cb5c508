/* Shared helpers of the stress tests. They call the prefixed API only, so
 * that they can be built under ThreadSanitizer or AddressSanitizer against
 * the core library. */
#ifndef SABLE_TEST_STRESS_H
#define SABLE_TEST_STRESS_H

#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sable.h"

#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);             \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            fflush(stderr);                                                                        \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* xorshift64*, one state per thread. */
static inline uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545f4914f6cdd1dull;
}

/* The word at index i of a block, derived from the block's address and size
 * so that a block that moved, or that another block overlaps, is noticed. */
static inline uint64_t pattern_word(const void *block, size_t size, size_t i)
{
    return ((uintptr_t)block * 0x9e3779b97f4a7c15ull) ^ (size << 20) ^ (i * 0x100000001b3ull);
}

/* Word indices that carry the pattern: all of them for blocks up to 64 KiB,
 * else the first and last 4 KiB and one word per 4 KiB between, so that
 * multi-MiB blocks stay cheap while every page is still checked. */
static inline int pattern_covers(size_t nwords, size_t i)
{
    if (nwords <= 8192)
        return 1;
    return i < 512 || i >= nwords - 512 || i % 512 == 0;
}

static inline void pattern_fill(void *block, size_t size)
{
    uint64_t *w = block;
    size_t n = size / 8;
    for (size_t i = 0; i < n; i++)
        if (pattern_covers(n, i))
            w[i] = pattern_word(block, size, i);
    unsigned char *tail = (unsigned char *)block + n * 8;
    for (size_t i = 0; i < size % 8; i++)
        tail[i] = (unsigned char)pattern_word(block, size, n + i);
}

/* Checks the first `prefix` bytes of a block that was filled as
 * (`filled_as`, `size`), possibly moved since to `block`. */
static inline void pattern_check(const void *block, const void *filled_as, size_t size,
    size_t prefix)
{
    const uint64_t *w = block;
    size_t n = size / 8;
    size_t upto = prefix / 8;
    for (size_t i = 0; i < upto && i < n; i++)
        if (pattern_covers(n, i))
            CHECK(w[i] == pattern_word(filled_as, size, i),
                "block %p (filled at %p, %zu B): word %zu is %#llx, expected %#llx", block,
                filled_as, size, i, (unsigned long long)w[i],
                (unsigned long long)pattern_word(filled_as, size, i));
    if (prefix == size) {
        const unsigned char *tail = (const unsigned char *)block + n * 8;
        for (size_t i = 0; i < size % 8; i++)
            CHECK(tail[i] == (unsigned char)pattern_word(filled_as, size, n + i),
                "block %p (%zu B): tail byte %zu damaged", block, size, i);
    }
}

/* Resident set size in KiB, from /proc/self/status. */
static inline long rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

/* Reads statistic `name` of `size` bytes (an unsigned or a size_t) after a
 * refresh (epoch). */
static inline void read_stat(const char *name, void *out, size_t size)
{
    uint64_t e = 1;
    size_t len = sizeof e;
    CHECK(sable_mallctl("epoch", &e, &len, &e, len) == 0, "epoch");
    len = size;
    CHECK(sable_mallctl(name, out, &len, NULL, 0) == 0 && len == size, "%s", name);
}

/* The index that names all arenas merged in stats.arenas.<i>. */
static inline unsigned all_arenas(void)
{
    unsigned n = 0;
    size_t len = sizeof n;
    CHECK(sable_mallctl("arenas.narenas", &n, &len, NULL, 0) == 0, "arenas.narenas");
    return n;
}

/* Bytes of free blocks in all thread caches now (stats.tcache_bytes). */
static inline size_t cached_bytes(void)
{
    size_t bytes = 0;
    read_stat("stats.tcache_bytes", &bytes, sizeof bytes);
    return bytes;
}

/* Mostly 8..1024 B, some 4 KiB..1 MiB, a few 4..16 MiB. */
static inline size_t mixed_size(uint64_t *rng)
{
    uint64_t r = rng_next(rng);
    unsigned kind = (unsigned)(r % 1000);
    r >>= 10;
    if (kind < 960)
        return 8 + r % 1017;
    if (kind < 999)
        return 4 * KiB + r % (1 * MiB - 4 * KiB);
    return 4 * MiB + r % (12 * MiB);
}

/* Allocates a block of `size` bytes and fills it with its pattern. */
static inline void *alloc_filled(size_t size)
{
    void *p = sable_malloc(size);
    CHECK(p != NULL, "sable_malloc(%zu) failed", size);
    pattern_fill(p, size);
    return p;
}

static inline void free_checked(void *p, size_t size)
{
    pattern_check(p, p, size, size);
    sable_free(p);
}

#endif
