/* free: NULL is a no-op, errno is never changed, and the sized variants
 * accept the size the block was allocated with. */
#include "api.h"

/* A hang (e.g. an allocator loop) fails the one test, not the whole binary. */
TestSuite(free, .timeout = 60);

Test(free, free_null_is_a_no_op)
{
    errno = 4321;
    for (int i = 0; i < 1000; i++)
        M_FREE(NULL);
    cr_assert_eq(errno, 4321);
    void *p = M_MALLOC(10);
    cr_assert_not_null(p);
    M_FREE(p);
}

static void free_keeps_errno(void *p, const char *what)
{
    cr_assert_not_null(p, "%s failed", what);
    errno = 1234;
    M_FREE(p);
    int e = errno;
    cr_assert_eq(e, 1234, "free of %s changed errno to %d", what, e);
}

Test(free, free_never_changes_errno_for_small_blocks)
{
    for (size_t size = 0; size <= 4096; size += 8)
        free_keeps_errno(M_MALLOC(size), "small malloc");
    free_keeps_errno(M_CALLOC(3, 7), "small calloc");
}

Test(free, free_never_changes_errno_for_large_blocks)
{
    free_keeps_errno(M_MALLOC(100 * KiB), "100 KiB");
    free_keeps_errno(M_MALLOC(1 * MiB), "1 MiB");
    free_keeps_errno(M_CALLOC(1, 300 * KiB), "300 KiB calloc");
}

Test(free, free_never_changes_errno_for_huge_blocks)
{
    for (int i = 0; i < 10; i++)
        free_keeps_errno(M_MALLOC(8 * MiB + (size_t)i * 4096), "8 MiB");
    free_keeps_errno(M_MALLOC(64 * MiB), "64 MiB");
}

Test(free, free_never_changes_errno_for_aligned_blocks)
{
    free_keeps_errno(M_ALIGNED_ALLOC(4096, 100), "aligned_alloc(4096, 100)");
    free_keeps_errno(M_MEMALIGN(2 * MiB, 5 * MiB), "memalign(2 MiB, 5 MiB)");
    free_keeps_errno(M_VALLOC(10), "valloc(10)");
}

/* Many frees in a row: a free that returns memory to the OS (munmap,
 * madvise) is where errno would most likely be clobbered. */
Test(free, free_never_changes_errno_while_memory_is_returned)
{
    enum { N = 2000 };
    static void *b[N];
    for (int round = 0; round < 5; round++) {
        for (int i = 0; i < N; i++) {
            b[i] = M_MALLOC(i % 50 == 0 ? 2 * MiB : (size_t)(i % 500) * 64 + 1);
            cr_assert_not_null(b[i]);
            memset(b[i], 1, 1);
        }
        for (int i = 0; i < N; i++) {
            errno = 1234;
            M_FREE(b[i]);
            cr_assert_eq(errno, 1234, "round %d, free #%d changed errno", round, i);
        }
    }
}

Test(free, free_sized_with_the_right_size_frees)
{
    for (int round = 0; round < 3; round++)
        for (size_t size = 0; size <= 20 * MiB; size += 1 + size / 2) {
            void *p = M_MALLOC(size);
            cr_assert_not_null(p);
            memset(p, 3, size);
            errno = 1234;
            M_FREE_SIZED(p, size);
            cr_assert_eq(errno, 1234);
        }
    for (size_t n = 1; n <= 1000; n += 37) {
        void *p = M_CALLOC(n, 8);
        cr_assert_not_null(p);
        M_FREE_SIZED(p, n * 8);
    }
}

Test(free, free_sized_of_null_is_a_no_op)
{
    M_FREE_SIZED(NULL, 0);
    M_FREE_SIZED(NULL, 100);
}

Test(free, free_aligned_sized_with_the_right_size_frees)
{
    for (int round = 0; round < 3; round++)
        for (size_t align = 16; align <= 4 * MiB; align *= 2) {
            size_t sizes[] = {align, 3 * align, 7 * align};
            for (size_t i = 0; i < 3; i++) {
                void *p = M_ALIGNED_ALLOC(align, sizes[i]);
                cr_assert_not_null(p);
                memset(p, 4, sizes[i]);
                errno = 1234;
                M_FREE_ALIGNED_SIZED(p, align, sizes[i]);
                cr_assert_eq(errno, 1234);
            }
        }
}

/* A freed block is reused: 100k allocate/free pairs of one size do not grow
 * the number of distinct addresses seen beyond a small set. */
Test(free, freed_small_blocks_are_reused)
{
    enum { SEEN = 4096 };
    void *seen[SEEN];
    int nseen = 0;
    for (int i = 0; i < 100000; i++) {
        void *p = M_MALLOC(48);
        cr_assert_not_null(p);
        int known = 0;
        for (int k = 0; k < nseen; k++)
            known |= seen[k] == p;
        if (!known) {
            cr_assert_lt(nseen, SEEN, "more than %d distinct addresses: blocks not reused", SEEN);
            seen[nseen++] = p;
        }
        M_FREE(p);
    }
}
