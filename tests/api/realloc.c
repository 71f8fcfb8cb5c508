/* realloc keeps min(old, new) bytes whatever classes the old and new sizes
 * fall in (small, large, huge), and a failed realloc leaves the block alone. */
#include "api.h"

/* A hang (e.g. an allocator loop) fails the one test, not the whole binary. */
TestSuite(realloc, .timeout = 60);

/* Sizes from 1 B to 64 MiB, on both sides of the likely class boundaries. */
static const size_t ladder[] = {
    1, 7, 16, 17, 100, 255, 1000, 1024, 4095, 4096, 4097, 10000, 32 * KiB,
    65535, 65536, 65537, 100 * KiB, 256 * KiB, 1 * MiB - 1, 1 * MiB, 2 * MiB + 1,
    4 * MiB, 8 * MiB, 8 * MiB + 1, 16 * MiB, 33 * MiB, 64 * MiB,
};
#define N_LADDER (sizeof ladder / sizeof ladder[0])

static size_t min_size(size_t a, size_t b)
{
    return a < b ? a : b;
}

static void realloc_and_check(size_t from, size_t to, unsigned seed)
{
    unsigned char *p = M_MALLOC(from);
    cr_assert_not_null(p, "malloc(%zu) failed", from);
    fill_pattern(p, from, seed);
    unsigned char *q = M_REALLOC(p, to);
    cr_assert_not_null(q, "realloc(%zu -> %zu) failed", from, to);
    size_t keep = min_size(from, to);
    size_t bad = check_pattern(q, keep, seed);
    cr_assert_eq(bad, keep, "realloc(%zu -> %zu) lost byte %zu", from, to, bad);
    cr_assert_geq(M_USABLE_SIZE(q), to);
    memset(q, 0x5a, to); /* the whole new size is writable */
    M_FREE(q);
}

Test(realloc, grow_keeps_contents_from_1_byte_to_64MiB, .timeout = 60)
{
    size_t size = ladder[0];
    unsigned char *p = M_MALLOC(size);
    cr_assert_not_null(p);
    fill_pattern(p, size, 1);
    for (size_t i = 1; i < N_LADDER; i++) {
        size_t next = ladder[i];
        p = M_REALLOC(p, next);
        cr_assert_not_null(p, "realloc(%zu -> %zu) failed", size, next);
        size_t bad = check_pattern(p, size, 1);
        cr_assert_eq(bad, size, "realloc(%zu -> %zu) lost byte %zu", size, next, bad);
        fill_pattern(p, next, 1);
        size = next;
    }
    M_FREE(p);
}

Test(realloc, shrink_keeps_prefix_from_64MiB_to_1_byte, .timeout = 60)
{
    size_t size = ladder[N_LADDER - 1];
    unsigned char *p = M_MALLOC(size);
    cr_assert_not_null(p);
    fill_pattern(p, size, 2);
    for (size_t i = N_LADDER - 1; i-- > 0;) {
        size_t next = ladder[i];
        p = M_REALLOC(p, next);
        cr_assert_not_null(p, "realloc(%zu -> %zu) failed", size, next);
        size_t bad = check_pattern(p, next, 2);
        cr_assert_eq(bad, next, "realloc(%zu -> %zu) lost byte %zu", size, next, bad);
        size = next;
    }
    M_FREE(p);
}

Test(realloc, every_pair_of_sizes_keeps_min_of_old_and_new, .timeout = 120)
{
    unsigned seed = 3;
    for (size_t i = 0; i < N_LADDER; i++)
        for (size_t j = 0; j < N_LADDER; j++)
            realloc_and_check(ladder[i], ladder[j], seed++);
}

/* Blocks around the one being resized stay intact: a realloc that grows in
 * place must not take memory that belongs to a neighbour. */
Test(realloc, grow_in_place_does_not_clobber_neighbours)
{
    enum { N = 64 };
    const size_t sizes[] = {24, 200, 3000, 40000, 300 * KiB, 3 * MiB};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        unsigned char *b[N];
        for (int i = 0; i < N; i++) {
            b[i] = M_MALLOC(sizes[s]);
            cr_assert_not_null(b[i]);
            fill_pattern(b[i], sizes[s], (unsigned)i);
        }
        for (int i = 0; i < N; i += 2) {
            size_t bigger = sizes[s] + sizes[s] / 2 + 1;
            b[i] = M_REALLOC(b[i], bigger);
            cr_assert_not_null(b[i]);
            cr_assert_eq(check_pattern(b[i], sizes[s], (unsigned)i), sizes[s]);
            memset(b[i], 0xee, bigger);
        }
        for (int i = 1; i < N; i += 2)
            cr_assert_eq(check_pattern(b[i], sizes[s], (unsigned)i), sizes[s],
                "block %d of size %zu was clobbered", i, sizes[s]);
        for (int i = 0; i < N; i++)
            M_FREE(b[i]);
    }
}

Test(realloc, growing_in_small_steps_keeps_contents)
{
    size_t size = 1;
    unsigned char *p = M_MALLOC(size);
    cr_assert_not_null(p);
    p[0] = pattern_byte(9, 0);
    while (size < 300 * KiB) {
        size_t next = size + 1 + size / 16;
        p = M_REALLOC(p, next);
        cr_assert_not_null(p);
        size_t bad = check_pattern(p, size, 9);
        cr_assert_eq(bad, size, "realloc(%zu -> %zu) lost byte %zu", size, next, bad);
        for (size_t k = size; k < next; k++)
            p[k] = pattern_byte(9, k);
        size = next;
    }
    M_FREE(p);
}

Test(realloc, to_same_size_keeps_contents)
{
    const size_t sizes[] = {1, 100, 5000, 100 * KiB, 8 * MiB};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        realloc_and_check(sizes[i], sizes[i], 77);
}

/* Within a small class realloc keeps the block (the inline path); to any
 * other class it moves, smaller ones included, so the usable size is always
 * that of a fresh block of the last requested size and a sized free of that
 * size is accepted. Every size up to 16 KiB + 1 as the old and the new size
 * in turn, against its neighbours one byte and one usable size away. */
Test(realloc, keeps_block_within_its_class_and_usable_size_follows_the_request)
{
    for (size_t n = 1; n <= 16 * KiB + 1; n++) {
        unsigned char *p = M_MALLOC(n);
        cr_assert_not_null(p);
        size_t u = M_USABLE_SIZE(p);
        fill_pattern(p, n, 11);
        unsigned char *q = M_REALLOC(p, u);
        cr_assert_eq(q, p, "realloc(p of %zu, its usable size %zu) moved", n, u);
        q = M_REALLOC(q, n);
        cr_assert_eq(q, p, "realloc(p of usable %zu, %zu) moved", u, n);
        cr_assert_eq(check_pattern(q, n, 11), n);
        const size_t to[] = {n - 1, n + 1, u + 1, n / 2, 2 * n};
        for (size_t k = 0; k < sizeof to / sizeof to[0]; k++) {
            if (to[k] == 0)
                continue;
            unsigned char *f = M_MALLOC(to[k]);
            cr_assert_not_null(f);
            size_t fresh = M_USABLE_SIZE(f);
            M_FREE(f);
            unsigned char *r = M_REALLOC(q, to[k]);
            cr_assert_not_null(r);
            cr_assert_eq(M_USABLE_SIZE(r), fresh, "realloc(p of %zu, %zu): usable %zu, fresh %zu",
                n, to[k], M_USABLE_SIZE(r), fresh);
            size_t keep = n < to[k] ? n : to[k];
            cr_assert_eq(check_pattern(r, keep, 11), keep, "realloc(p of %zu, %zu) lost data", n,
                to[k]);
            if (fresh == u)
                cr_assert_eq(r, q, "realloc(p of %zu, %zu) moved within the class", n, to[k]);
            q = M_REALLOC(r, n); /* back, for the next size */
            cr_assert_not_null(q);
            cr_assert_eq(check_pattern(q, keep, 11), keep);
            fill_pattern(q, n, 11);
        }
        M_FREE_SIZED(q, n);
    }
}

static void failed_realloc_keeps_block(size_t size)
{
    unsigned char *p = M_MALLOC(size);
    cr_assert_not_null(p);
    fill_pattern(p, size, 5);
    for (size_t i = 0; i < N_IMPOSSIBLE; i++) {
        errno = 0;
        void *q = M_REALLOC(launder(p), opaque(impossible_sizes[i]));
        int e = errno;
        cr_assert_null(q, "realloc(p of %zu, %zu) succeeded", size, impossible_sizes[i]);
        cr_assert_eq(e, ENOMEM, "realloc(p of %zu, %zu): errno %d, not ENOMEM", size,
            impossible_sizes[i], e);
        cr_assert_eq(check_pattern(p, size, 5), size, "failed realloc damaged the block");
        cr_assert_geq(M_USABLE_SIZE(p), size);
    }
    /* still a live, resizable block */
    p = M_REALLOC(p, size * 2);
    cr_assert_not_null(p);
    cr_assert_eq(check_pattern(p, size, 5), size);
    M_FREE(p);
}

Test(realloc, failure_above_ptrdiff_max_returns_null_enomem_and_keeps_small_block)
{
    failed_realloc_keeps_block(100);
}

Test(realloc, failure_above_ptrdiff_max_returns_null_enomem_and_keeps_large_block)
{
    failed_realloc_keeps_block(100 * KiB);
}

Test(realloc, failure_above_ptrdiff_max_returns_null_enomem_and_keeps_huge_block)
{
    failed_realloc_keeps_block(8 * MiB);
}

Test(realloc, of_calloc_block_keeps_zeroes)
{
    unsigned char *p = M_CALLOC(1000, 1);
    cr_assert_not_null(p);
    p = M_REALLOC(p, 200 * KiB);
    cr_assert_not_null(p);
    for (size_t i = 0; i < 1000; i++)
        cr_assert_eq(p[i], 0, "byte %zu is %d", i, p[i]);
    M_FREE(p);
}
