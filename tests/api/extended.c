/* The extended API (sable_mallocx & co.) with jemalloc's flags: the
 * behaviours jemalloc's integration tests rallocx, xallocx, sdallocx,
 * overflow and mallocx check, written for sable (prefixed only: the
 * unprefixed names are not exported). */
#include <signal.h>

#include "api.h"

#define ZERO SABLE_MALLOCX_ZERO
#define LG(la) SABLE_MALLOCX_LG_ALIGN(la)
#define ALIGN(a) SABLE_MALLOCX_ALIGN(a)

/* Sizes across every kind of block: small classes, large runs, huge. */
static const size_t sizes[] = {1,      15,     16,      17,      100,     1000,
                               4096,   16384,  16385,   20000,   100000,  (256 << 10) + 1,
                               1 << 20, 2 << 20, (2 << 20) + 1, 5 << 20};
#define NSIZES (sizeof sizes / sizeof sizes[0])

static void fill(unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++) p[i] = (unsigned char)(i * 31 + seed);
}

static bool filled(const unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != (unsigned char)(i * 31 + seed)) return false;
    return true;
}

static bool all_zero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i]) return false;
    return true;
}

Test(extended, nallocx_is_what_mallocx_gives_and_sallocx_reads)
{
    for (size_t i = 0; i < NSIZES; i++) {
        for (unsigned la = 0; la <= 16; la += 4) {
            size_t n = sable_nallocx(sizes[i], LG(la));
            void *p = sable_mallocx(sizes[i], LG(la));
            cr_assert_not_null(p, "mallocx(%zu, lg %u)", sizes[i], la);
            cr_assert_geq(n, sizes[i]);
            cr_assert_eq(sable_sallocx(p, 0), n, "size %zu lg %u", sizes[i], la);
            cr_assert_eq(sable_malloc_usable_size(p), n);
            cr_assert_eq((uintptr_t)p & (((size_t)1 << la) - 1), 0, "aligned to 1 << %u", la);
            sable_dallocx(p, LG(la));
        }
    }
}

Test(extended, align_macro_is_the_log_of_the_alignment)
{
    for (unsigned la = 0; la < 30; la++) cr_assert_eq(ALIGN((size_t)1 << la), LG(la));
    void *p = sable_mallocx(100, ALIGN(4096));
    cr_assert_eq((uintptr_t)p % 4096, 0);
    sable_sdallocx(p, 100, ALIGN(4096));
}

Test(extended, zero_gives_a_zeroed_block_even_where_freed_memory_was_dirty)
{
    for (size_t i = 0; i < NSIZES; i++) {
        unsigned char *dirty = sable_mallocx(sizes[i], 0);
        size_t u = sable_sallocx(dirty, 0);
        memset(dirty, 0xee, u);
        sable_dallocx(dirty, 0);
        unsigned char *p = sable_mallocx(sizes[i], ZERO);
        cr_assert_not_null(p);
        cr_assert(all_zero(p, sable_sallocx(p, 0)), "mallocx(%zu, ZERO): the whole block", sizes[i]);
        sable_dallocx(p, 0);
    }
}

/* jemalloc's overflow test: the largest size class plus one, sizes above
 * PTRDIFF_MAX, and SIZE_MAX all fail, for mallocx and rallocx alike, and
 * a failed rallocx keeps the block. */
Test(extended, sizes_beyond_the_largest_class_fail)
{
    unsigned n = 0;
    size_t len = sizeof n, max = 0;
    cr_assert_eq(sable_mallctl("arenas.nlextents", &n, &len, NULL, 0), 0);
    char name[64];
    snprintf(name, sizeof name, "arenas.lextent.%u.size", n - 1);
    len = sizeof max;
    cr_assert_eq(sable_mallctl(name, &max, &len, NULL, 0), 0);
    cr_assert_geq(max, (size_t)PTRDIFF_MAX / 2, "the last entry is the largest block");
    const size_t bad[] = {max + 1, (size_t)PTRDIFF_MAX + 1, SIZE_MAX};
    unsigned char *p = sable_mallocx(100, 0);
    fill(p, 100, 7);
    for (size_t i = 0; i < 3; i++) {
        errno = 0;
        cr_assert_null(sable_mallocx(bad[i], 0), "mallocx(%zu)", bad[i]);
        cr_assert_eq(errno, ENOMEM);
        cr_assert_eq(sable_nallocx(bad[i], 0), 0);
        cr_assert_null(sable_rallocx(p, bad[i], 0), "rallocx(p, %zu)", bad[i]);
        cr_assert_eq(sable_xallocx(p, bad[i], 0, 0), sable_sallocx(p, 0));
    }
    cr_assert(filled(p, 100, 7), "the block survives every failed resize");
    sable_dallocx(p, 0);
}

Test(extended, rallocx_grows_and_shrinks_keeping_the_contents)
{
    unsigned char *p = sable_mallocx(1, 0);
    size_t have = 1;
    fill(p, have, 3);
    for (size_t i = 0; i < NSIZES; i++) {
        p = sable_rallocx(p, sizes[i], 0);
        cr_assert_not_null(p, "grow to %zu", sizes[i]);
        cr_assert(filled(p, have, 3), "grown to %zu", sizes[i]);
        cr_assert_geq(sable_sallocx(p, 0), sizes[i]);
        fill(p, sizes[i], 3);
        have = sizes[i];
    }
    for (size_t i = NSIZES; i-- > 0;) {
        p = sable_rallocx(p, sizes[i], 0);
        cr_assert_not_null(p);
        cr_assert(filled(p, sizes[i], 3), "shrunk to %zu", sizes[i]);
        cr_assert_eq(sable_sallocx(p, 0), sable_nallocx(sizes[i], 0));
    }
    sable_dallocx(p, 0);
}

/* MALLOCX_ZERO on growth: the bytes from the old usable size on are zero,
 * the ones before are kept. */
Test(extended, rallocx_zero_zeroes_from_the_old_usable_size)
{
    for (size_t i = 0; i + 1 < NSIZES; i++) {
        unsigned char *p = sable_mallocx(sizes[i], 0);
        size_t old = sable_sallocx(p, 0);
        fill(p, old, 9);
        /* Dirty memory nearby, so that a grown block would not be zero by luck. */
        unsigned char *d = sable_mallocx(sizes[i + 1], 0);
        memset(d, 0xdd, sable_sallocx(d, 0));
        sable_dallocx(d, 0);
        unsigned char *q = sable_rallocx(p, sizes[i + 1], ZERO);
        cr_assert_not_null(q);
        size_t now = sable_sallocx(q, 0);
        cr_assert(filled(q, old < sizes[i + 1] ? old : sizes[i + 1], 9));
        if (now > old) cr_assert(all_zero(q + old, now - old), "%zu -> %zu", sizes[i], sizes[i + 1]);
        sable_dallocx(q, 0);
    }
}

Test(extended, rallocx_honours_a_larger_alignment_by_moving)
{
    for (unsigned la = 5; la <= 22; la++) {
        unsigned char *p = sable_mallocx(200, 0);
        size_t old = sable_sallocx(p, 0);
        fill(p, 200, 1);
        unsigned char *q = sable_rallocx(p, 300, LG(la) | ZERO);
        cr_assert_not_null(q, "lg %u", la);
        cr_assert_eq((uintptr_t)q & (((size_t)1 << la) - 1), 0, "aligned to 1 << %u", la);
        cr_assert(filled(q, 200, 1));
        size_t now = sable_sallocx(q, 0);
        cr_assert(all_zero(q + old, now - old), "beyond the old usable size (%zu)", old);
        sable_sdallocx(q, 300, LG(la));
    }
}

/* xallocx never moves: a small block keeps its class, a large or huge one
 * grows into free space after it and shrinks in place. */
Test(extended, xallocx_resizes_in_place_or_not_at_all)
{
    void *p = sable_mallocx(42, 0);
    size_t u = sable_sallocx(p, 0);
    cr_assert_eq(sable_xallocx(p, u, 0, 0), u, "the same size");
    cr_assert_eq(sable_xallocx(p, 42, u - 42, 0), u, "within [size, size + extra]");
    cr_assert_eq(sable_xallocx(p, u + 1, 0, 0), u, "a small block cannot change class in place");
    cr_assert_eq(sable_xallocx(p, 1, 0, 0), u, "nor shrink to another class");
    sable_dallocx(p, 0);

    /* A large run with its neighbour free: carve one run, free the second
     * half of a larger one first. */
    unsigned char *big = sable_mallocx(64 << 10, SABLE_MALLOCX_TCACHE_NONE);
    cr_assert_not_null(big);
    fill(big, 32 << 10, 5);
    cr_assert_eq(sable_xallocx(big, 32 << 10, 0, 0), (size_t)32 << 10, "shrinks in place");
    cr_assert_eq(sable_xallocx(big, 48 << 10, 0, 0), (size_t)48 << 10, "grows back in place");
    size_t got = sable_xallocx(big, 40 << 10, 24 << 10, 0);
    cr_assert_eq(got, (size_t)48 << 10, "48 KiB is within [40, 64] KiB: kept");
    got = sable_xallocx(big, 80 << 10, 1 << 20, ZERO);
    cr_assert_geq(got, (size_t)48 << 10);
    cr_assert(filled(big, 32 << 10, 5), "contents kept in place");
    if (got > (48u << 10)) cr_assert(all_zero(big + (48 << 10), got - (48 << 10)));
    sable_dallocx(big, SABLE_MALLOCX_TCACHE_NONE);

    /* Huge: shrinking in place always works. */
    unsigned char *h = sable_mallocx(8 << 20, 0);
    fill(h, 4 << 20, 2);
    cr_assert_eq(sable_xallocx(h, 4 << 20, 0, 0), (size_t)4 << 20);
    cr_assert(filled(h, 4 << 20, 2));
    cr_assert_eq(sable_sallocx(h, 0), (size_t)4 << 20);
    sable_sdallocx(h, 4 << 20, 0);
}

/* sdallocx takes any size from the one requested to the usable size,
 * with the alignment of the allocation's flags. */
Test(extended, sdallocx_accepts_every_size_between_request_and_usable)
{
    for (unsigned la = 0; la <= 14; la += 2) {
        for (size_t i = 0; i < NSIZES; i++) {
            int flags = LG(la) | (i % 2 ? ZERO : 0);
            void *p = sable_mallocx(sizes[i], flags);
            cr_assert_not_null(p);
            size_t u = sable_sallocx(p, 0);
            size_t mid = sizes[i] + (u - sizes[i]) / 2;
            sable_sdallocx(p, i % 3 == 0 ? sizes[i] : i % 3 == 1 ? mid : u, flags);
        }
    }
}

Test(extended, tcache_none_and_explicit_caches)
{
    /* Past the cache: the block is not kept by the thread's cache. */
    for (size_t i = 0; i < NSIZES; i++) {
        void *p = sable_mallocx(sizes[i], SABLE_MALLOCX_TCACHE_NONE);
        cr_assert_not_null(p);
        sable_dallocx(p, SABLE_MALLOCX_TCACHE_NONE);
    }
    /* Explicit caches are not there yet: they fail, never act as another. */
    errno = 0;
    cr_assert_null(sable_mallocx(64, SABLE_MALLOCX_TCACHE(0)));
    cr_assert_eq(errno, EINVAL);
    void *p = sable_mallocx(64, 0);
    cr_assert_null(sable_rallocx(p, 128, SABLE_MALLOCX_TCACHE(3)));
    cr_assert_eq(sable_xallocx(p, 64, 0, SABLE_MALLOCX_TCACHE(3)), 64);
    cr_assert_eq(sable_nallocx(64, SABLE_MALLOCX_TCACHE(3)), 0);
    sable_dallocx(p, 0);
}

Test(extended, dallocx_with_an_explicit_cache_ends_with_one_line, .signal = SIGABRT)
{
    void *p = sable_mallocx(64, 0);
    sable_dallocx(p, SABLE_MALLOCX_TCACHE(3));
}

Test(extended, an_arena_that_does_not_exist_fails)
{
    unsigned n = 0;
    size_t len = sizeof n;
    cr_assert_eq(sable_mallctl("arenas.narenas", &n, &len, NULL, 0), 0);
    errno = 0;
    cr_assert_null(sable_mallocx(64, SABLE_MALLOCX_ARENA(n)));
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(sable_nallocx(64, SABLE_MALLOCX_ARENA(n)), 0);
}

Test(extended, invalid_pointers_are_named_by_the_function, .signal = SIGABRT)
{
    static char not_ours[64];
    sable_rallocx(not_ours + 16, 100, 0);
}
