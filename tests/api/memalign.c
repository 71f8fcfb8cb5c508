/* The aligned family: posix_memalign, aligned_alloc, memalign, valloc,
 * pvalloc. Error cases follow glibc on Linux, and C17 for aligned_alloc. */
#include "api.h"

/* A hang (e.g. an allocator loop) fails the one test, not the whole binary. */
TestSuite(memalign, .timeout = 60);

#define MAX_ALIGN (64 * MiB)

typedef void *(*aligned_fn)(size_t alignment, size_t size);

static void *via_posix_memalign(size_t alignment, size_t size)
{
    void *p = NULL;
    int r = M_POSIX_MEMALIGN(&p, alignment, size);
    cr_assert_eq(r, 0, "posix_memalign(%zu, %zu) = %d", alignment, size, r);
    return p;
}

static void *via_aligned_alloc(size_t alignment, size_t size)
{
    return M_ALIGNED_ALLOC(alignment, size);
}

static void *via_memalign(size_t alignment, size_t size)
{
    return M_MEMALIGN(alignment, size);
}

/* Every power of two from 16 to 64 MiB, with sizes below, at and above the
 * alignment; each block is written over its full size. A few blocks are kept
 * live per alignment so that the second and later ones are checked too. */
static void check_every_alignment(aligned_fn fn, const char *name)
{
    for (size_t align = 16; align <= MAX_ALIGN; align *= 2) {
        const size_t sizes[] = {1, align / 2, align - 1, align, align + 1, align + align / 2};
        void *live[sizeof sizes / sizeof sizes[0]];
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            unsigned char *p = fn(align, sizes[i]);
            cr_assert_not_null(p, "%s(%zu, %zu) failed", name, align, sizes[i]);
            cr_assert(is_aligned(p, align), "%s(%zu, %zu) = %p", name, align, sizes[i], (void *)p);
            cr_assert_geq(M_USABLE_SIZE(p), sizes[i], "%s(%zu, %zu)", name, align, sizes[i]);
            memset(p, 0xc3, sizes[i]);
            live[i] = p;
        }
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
            M_FREE(live[i]);
    }
}

Test(memalign, posix_memalign_honours_every_power_of_two_up_to_64MiB, .timeout = 60)
{
    check_every_alignment(via_posix_memalign, "posix_memalign");
}

Test(memalign, aligned_alloc_honours_every_power_of_two_up_to_64MiB, .timeout = 60)
{
    check_every_alignment(via_aligned_alloc, "aligned_alloc");
}

Test(memalign, memalign_honours_every_power_of_two_up_to_64MiB, .timeout = 60)
{
    check_every_alignment(via_memalign, "memalign");
}

Test(memalign, many_live_aligned_blocks_are_aligned_and_disjoint)
{
    enum { N = 200 };
    const size_t aligns[] = {32, 64, 256, 4096, 65536};
    for (size_t a = 0; a < sizeof aligns / sizeof aligns[0]; a++) {
        unsigned char *b[N];
        for (int i = 0; i < N; i++) {
            size_t size = 1 + (size_t)i * 37 % 3000;
            b[i] = M_MEMALIGN(aligns[a], size);
            cr_assert_not_null(b[i]);
            cr_assert(is_aligned(b[i], aligns[a]));
            fill_pattern(b[i], size, (unsigned)i);
        }
        for (int i = 0; i < N; i++) {
            size_t size = 1 + (size_t)i * 37 % 3000;
            cr_assert_eq(check_pattern(b[i], size, (unsigned)i), size,
                "aligned block %d (align %zu) was overwritten", i, aligns[a]);
            M_FREE(b[i]);
        }
    }
}

static void posix_memalign_rejects(size_t alignment)
{
    void *sentinel = (void *)0x5678;
    void *p = sentinel;
    errno = 0;
    int r = M_POSIX_MEMALIGN(&p, alignment, 100);
    cr_assert_eq(r, EINVAL, "posix_memalign(%zu, 100) = %d, not EINVAL", alignment, r);
    cr_assert_eq(p, sentinel, "posix_memalign(%zu) changed *memptr on error", alignment);
}

Test(memalign, posix_memalign_rejects_zero_alignment_with_einval)
{
    posix_memalign_rejects(0);
}

Test(memalign, posix_memalign_rejects_non_power_of_two_with_einval)
{
    const size_t bad[] = {3, 24, 48, 100, 4095, 4097, 3 * MiB, SIZE_MAX};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        posix_memalign_rejects(bad[i]);
}

Test(memalign, posix_memalign_rejects_alignment_not_multiple_of_pointer_size_with_einval)
{
    for (size_t a = 1; a < sizeof(void *); a *= 2)
        posix_memalign_rejects(a);
}

Test(memalign, posix_memalign_accepts_pointer_size_alignment)
{
    void *p = NULL;
    cr_assert_eq(M_POSIX_MEMALIGN(&p, sizeof(void *), 100), 0);
    cr_assert_not_null(p);
    cr_assert(is_aligned(p, 16));
    M_FREE(p);
}

Test(memalign, posix_memalign_accepts_size_zero)
{
    const size_t aligns[] = {8, 16, 64, 4096, 1 * MiB};
    for (size_t i = 0; i < sizeof aligns / sizeof aligns[0]; i++) {
        void *p = (void *)0x1234;
        int r = M_POSIX_MEMALIGN(&p, aligns[i], 0);
        cr_assert_eq(r, 0, "posix_memalign(%zu, 0) = %d", aligns[i], r);
        cr_assert_neq(p, (void *)0x1234);
        cr_assert_not_null(p, "posix_memalign(%zu, 0) gave NULL", aligns[i]);
        cr_assert(is_aligned(p, aligns[i]));
        M_FREE(p);
    }
}

/* C17 7.22.3.1 and glibc >= 2.38: an alignment that is not a power of two is
 * not valid, and aligned_alloc fails with EINVAL. (Debian 12's glibc 2.36
 * still treats aligned_alloc as memalign and rounds up; sable follows the
 * standard.) */
Test(memalign, aligned_alloc_rejects_zero_alignment_with_einval)
{
    errno = 0;
    void *p = M_ALIGNED_ALLOC(opaque(0), 64);
    int e = errno;
    cr_assert_null(p, "aligned_alloc(0, 64) = %p", p);
    cr_assert_eq(e, EINVAL, "aligned_alloc(0, 64): errno %d", e);
}

Test(memalign, aligned_alloc_rejects_non_power_of_two_with_einval)
{
    const size_t bad[] = {3, 24, 48, 100, 4095, 4097, 3 * MiB, SIZE_MAX};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        errno = 0;
        void *p = M_ALIGNED_ALLOC(opaque(bad[i]), 96);
        int e = errno;
        cr_assert_null(p, "aligned_alloc(%zu, 96) = %p", bad[i], p);
        cr_assert_eq(e, EINVAL, "aligned_alloc(%zu, 96): errno %d", bad[i], e);
    }
}

Test(memalign, aligned_alloc_with_small_power_of_two_gives_16_aligned_block)
{
    for (size_t a = 1; a <= 16; a *= 2) {
        void *p = M_ALIGNED_ALLOC(a, 40);
        cr_assert_not_null(p, "aligned_alloc(%zu, 40)", a);
        cr_assert(is_aligned(p, 16));
        M_FREE(p);
    }
}

static size_t next_power_of_two(size_t x)
{
    size_t p = 1;
    while (p < x)
        p *= 2;
    return p;
}

Test(memalign, memalign_rounds_non_power_of_two_alignment_up)
{
    const size_t odd[] = {3, 24, 48, 100, 1000, 4095, 4097, 5000, 100000, 3 * MiB};
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        size_t want = next_power_of_two(odd[i]);
        for (int k = 0; k < 8; k++) {
            void *p = M_MEMALIGN(odd[i], 200);
            cr_assert_not_null(p, "memalign(%zu, 200) failed", odd[i]);
            cr_assert(is_aligned(p, want), "memalign(%zu, 200) = %p, not %zu-aligned", odd[i], p,
                want);
            memset(p, 1, 200);
            M_FREE(p);
        }
    }
}

Test(memalign, memalign_below_16_still_gives_16_aligned_block)
{
    const size_t small[] = {0, 1, 2, 4, 8};
    for (size_t i = 0; i < sizeof small / sizeof small[0]; i++) {
        void *p = M_MEMALIGN(small[i], 24);
        cr_assert_not_null(p, "memalign(%zu, 24) failed", small[i]);
        cr_assert(is_aligned(p, 16));
        M_FREE(p);
    }
}

Test(memalign, valloc_returns_page_aligned_blocks)
{
    const size_t sizes[] = {0, 1, 100, 4095, 4096, 4097, 100 * KiB, 3 * MiB, 9 * MiB};
    size_t page = page_size();
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        for (int k = 0; k < 4; k++) {
            unsigned char *p = M_VALLOC(sizes[i]);
            cr_assert_not_null(p, "valloc(%zu)", sizes[i]);
            cr_assert(is_aligned(p, page), "valloc(%zu) = %p", sizes[i], (void *)p);
            cr_assert_geq(M_USABLE_SIZE(p), sizes[i]);
            memset(p, 7, sizes[i]);
            M_FREE(p);
        }
    }
}

Test(memalign, pvalloc_rounds_size_to_page_multiple)
{
    const size_t sizes[] = {1, 100, 4095, 4096, 4097, 10000, 100 * KiB + 1, 3 * MiB + 5};
    size_t page = page_size();
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t rounded = (sizes[i] + page - 1) / page * page;
        unsigned char *p = M_PVALLOC(sizes[i]);
        cr_assert_not_null(p, "pvalloc(%zu)", sizes[i]);
        cr_assert(is_aligned(p, page), "pvalloc(%zu) = %p", sizes[i], (void *)p);
        cr_assert_geq(M_USABLE_SIZE(p), rounded, "pvalloc(%zu): usable %zu < %zu", sizes[i],
            M_USABLE_SIZE(p), rounded);
        memset(p, 9, rounded);
        M_FREE(p);
    }
}

Test(memalign, pvalloc_zero_gives_one_page)
{
    size_t page = page_size();
    unsigned char *p = M_PVALLOC(0);
    cr_assert_not_null(p);
    cr_assert(is_aligned(p, page));
    cr_assert_geq(M_USABLE_SIZE(p), page, "pvalloc(0): usable %zu < page %zu", M_USABLE_SIZE(p),
        page);
    memset(p, 9, page);
    M_FREE(p);
}

Test(memalign, realloc_of_aligned_block_keeps_contents)
{
    const size_t aligns[] = {64, 4096, 2 * MiB};
    for (size_t a = 0; a < sizeof aligns / sizeof aligns[0]; a++) {
        unsigned char *p = M_ALIGNED_ALLOC(aligns[a], 3000);
        cr_assert_not_null(p);
        fill_pattern(p, 3000, 4);
        p = M_REALLOC(p, 300 * KiB);
        cr_assert_not_null(p);
        cr_assert_eq(check_pattern(p, 3000, 4), 3000);
        p = M_REALLOC(p, 100);
        cr_assert_not_null(p);
        cr_assert_eq(check_pattern(p, 100, 4), 100);
        M_FREE(p);
    }
}
