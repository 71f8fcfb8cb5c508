/* calloc returns zeroed memory, also when the block is recycled from memory
 * that was dirtied and freed (small, large and huge classes). */
#include "api.h"

/* A hang (e.g. an allocator loop) fails the one test, not the whole binary. */
TestSuite(calloc, .timeout = 60);

static size_t first_nonzero(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0)
            return i;
    return n;
}

/* Allocates and dirties `count` blocks of each size, frees them, then callocs
 * the same sizes and checks every byte; repeated `rounds` times. */
static void dirty_then_calloc(const size_t *sizes, size_t nsizes, size_t count, int rounds)
{
    size_t total = nsizes * count;
    unsigned char **blocks = M_MALLOC(total * sizeof *blocks);
    cr_assert_not_null(blocks);
    for (int round = 0; round < rounds; round++) {
        for (size_t i = 0; i < total; i++) {
            size_t size = sizes[i % nsizes];
            blocks[i] = M_MALLOC(size);
            cr_assert_not_null(blocks[i]);
            memset(blocks[i], 0xff, M_USABLE_SIZE(blocks[i]));
        }
        for (size_t i = 0; i < total; i++)
            M_FREE(blocks[i]);
        for (size_t i = 0; i < total; i++) {
            size_t size = sizes[i % nsizes];
            blocks[i] = M_CALLOC(1, size);
            cr_assert_not_null(blocks[i]);
            size_t bad = first_nonzero(blocks[i], size);
            cr_assert_eq(bad, size, "round %d: calloc(1, %zu) byte %zu is not zero", round, size,
                bad);
        }
        for (size_t i = 0; i < total; i++) {
            memset(blocks[i], 0xff, sizes[i % nsizes]);
            M_FREE(blocks[i]);
        }
    }
    M_FREE(blocks);
}

Test(calloc, returns_zeroed_memory_for_fresh_blocks)
{
    for (size_t size = 1; size <= 16 * MiB; size += 1 + size / 3) {
        unsigned char *p = M_CALLOC(size, 1);
        cr_assert_not_null(p);
        size_t bad = first_nonzero(p, size);
        cr_assert_eq(bad, size, "calloc(%zu, 1) byte %zu is not zero", size, bad);
        M_FREE(p);
    }
}

Test(calloc, zeroes_recycled_small_blocks)
{
    static size_t sizes[1024];
    for (size_t i = 0; i < 1024; i++)
        sizes[i] = i + 1;
    dirty_then_calloc(sizes, 1024, 4, 25);
}

Test(calloc, zeroes_recycled_large_blocks)
{
    const size_t sizes[] = {100 * KiB, 64 * KiB + 1, 200 * KiB, 1 * MiB - 100};
    dirty_then_calloc(sizes, sizeof sizes / sizeof sizes[0], 8, 25);
}

Test(calloc, zeroes_recycled_huge_blocks, .timeout = 60)
{
    const size_t sizes[] = {8 * MiB, 4 * MiB + 1, 16 * MiB};
    dirty_then_calloc(sizes, sizeof sizes / sizeof sizes[0], 2, 15);
}

Test(calloc, zeroes_memory_dirtied_past_a_realloc_shrink)
{
    const size_t sizes[] = {4000, 100 * KiB, 8 * MiB};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        for (int round = 0; round < 10; round++) {
            unsigned char *p = M_MALLOC(sizes[s]);
            cr_assert_not_null(p);
            memset(p, 0xff, sizes[s]);
            p = M_REALLOC(p, sizes[s] / 3);
            cr_assert_not_null(p);
            memset(p, 0xff, M_USABLE_SIZE(p));
            M_FREE(p);
            unsigned char *q = M_CALLOC(sizes[s], 1);
            cr_assert_not_null(q);
            size_t bad = first_nonzero(q, sizes[s]);
            cr_assert_eq(bad, sizes[s], "calloc(%zu, 1) byte %zu is not zero", sizes[s], bad);
            M_FREE(q);
        }
}

Test(calloc, splits_of_the_same_total_are_all_zeroed)
{
    const size_t total = 128 * KiB;
    for (size_t n = 1; n <= total; n *= 2) {
        unsigned char *p = M_MALLOC(total);
        cr_assert_not_null(p);
        memset(p, 0xff, total);
        M_FREE(p);
        p = M_CALLOC(n, total / n);
        cr_assert_not_null(p);
        cr_assert_eq(first_nonzero(p, total), total, "calloc(%zu, %zu)", n, total / n);
        M_FREE(p);
    }
}
