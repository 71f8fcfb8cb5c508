/* Every block is at least 16-byte aligned (alignof(max_align_t)), whatever
 * function returned it and whatever its size. */
#include "api.h"

#include <stdalign.h>

/* A hang (e.g. an allocator loop) fails the one test, not the whole binary. */
TestSuite(alignment, .timeout = 60);

#define MIN_ALIGN ((size_t)16)

Test(alignment, max_align_t_needs_no_more_than_sable_guarantees)
{
    cr_assert_leq(alignof(max_align_t), MIN_ALIGN);
}

Test(alignment, malloc_is_16_aligned_for_every_size_1_to_70000)
{
    for (size_t size = 1; size <= 70000; size++) {
        unsigned char *p = M_MALLOC(size);
        cr_assert_not_null(p, "malloc(%zu) failed", size);
        cr_assert(is_aligned(p, MIN_ALIGN), "malloc(%zu) = %p", size, (void *)p);
        p[0] = 1;
        p[size - 1] = 2;
        M_FREE(p);
    }
}

/* The same with blocks kept alive, so that each size class hands out more
 * than one slot and slot offsets inside a slab are checked too. */
Test(alignment, live_blocks_of_every_small_size_are_16_aligned)
{
    enum { PER_SIZE = 6, MAX = 4096 };
    static void *blocks[MAX + 1][PER_SIZE];
    for (size_t size = 1; size <= MAX; size++)
        for (int k = 0; k < PER_SIZE; k++) {
            blocks[size][k] = M_MALLOC(size);
            cr_assert_not_null(blocks[size][k]);
            cr_assert(is_aligned(blocks[size][k], MIN_ALIGN), "malloc(%zu) #%d = %p", size,
                k, blocks[size][k]);
        }
    for (size_t size = 1; size <= MAX; size++)
        for (int k = 0; k < PER_SIZE; k++)
            M_FREE(blocks[size][k]);
}

Test(alignment, malloc_is_16_aligned_for_sampled_sizes_up_to_64MiB)
{
    for (size_t base = 70000; base <= 64 * MiB; base += base / 3) {
        const size_t sizes[] = {base - 1, base, base + 1, base + 4095, base + 4096};
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            unsigned char *p = M_MALLOC(sizes[i]);
            cr_assert_not_null(p, "malloc(%zu) failed", sizes[i]);
            cr_assert(is_aligned(p, MIN_ALIGN), "malloc(%zu) = %p", sizes[i], (void *)p);
            p[sizes[i] - 1] = 1;
            M_FREE(p);
        }
    }
}

Test(alignment, calloc_is_16_aligned)
{
    for (size_t size = 1; size <= 70000; size += (size < 2048 ? 1 : 61)) {
        void *p = M_CALLOC(1, size);
        cr_assert_not_null(p);
        cr_assert(is_aligned(p, MIN_ALIGN), "calloc(1, %zu) = %p", size, p);
        M_FREE(p);
    }
}

Test(alignment, realloc_is_16_aligned)
{
    void *p = NULL;
    for (size_t size = 1; size <= 16 * MiB; size += 1 + size / 5) {
        p = M_REALLOC(p, size);
        cr_assert_not_null(p);
        cr_assert(is_aligned(p, MIN_ALIGN), "realloc(.., %zu) = %p", size, p);
    }
    for (size_t size = 16 * MiB; size > 0; size /= 3) {
        p = M_REALLOC(p, size);
        cr_assert_not_null(p);
        cr_assert(is_aligned(p, MIN_ALIGN), "realloc(.., %zu) = %p", size, p);
    }
    M_FREE(p);
}
