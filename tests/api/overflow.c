/* Requests above PTRDIFF_MAX and multiplications that overflow fail with
 * NULL and ENOMEM; no padding arithmetic may wrap into a small block. */
#include "api.h"

/* A hang (e.g. an allocator loop) fails the one test, not the whole binary. */
TestSuite(overflow, .timeout = 60);

Test(overflow, malloc_of_impossible_size_returns_null_enomem)
{
    for (size_t i = 0; i < N_IMPOSSIBLE; i++) {
        errno = 0;
        void *p = M_MALLOC(opaque(impossible_sizes[i]));
        int e = errno;
        cr_assert_null(p, "malloc(%zu) = %p", impossible_sizes[i], p);
        cr_assert_eq(e, ENOMEM, "malloc(%zu): errno %d", impossible_sizes[i], e);
    }
}

Test(overflow, calloc_of_impossible_size_returns_null_enomem)
{
    for (size_t i = 0; i < N_IMPOSSIBLE; i++) {
        errno = 0;
        void *p = M_CALLOC(1, opaque(impossible_sizes[i]));
        int e = errno;
        cr_assert_null(p, "calloc(1, %zu) = %p", impossible_sizes[i], p);
        cr_assert_eq(e, ENOMEM, "calloc(1, %zu): errno %d", impossible_sizes[i], e);
        errno = 0;
        p = M_CALLOC(opaque(impossible_sizes[i]), 1);
        e = errno;
        cr_assert_null(p, "calloc(%zu, 1) = %p", impossible_sizes[i], p);
        cr_assert_eq(e, ENOMEM, "calloc(%zu, 1): errno %d", impossible_sizes[i], e);
    }
}

struct pair {
    size_t n, size;
};

/* Products that overflow size_t (some wrap to tiny values) or land above
 * PTRDIFF_MAX. */
static const struct pair bad_products[] = {
    {SIZE_MAX / 2 + 1, 2},
    {2, SIZE_MAX / 2 + 1},
    {(size_t)1 << 32, (size_t)1 << 32},
    {SIZE_MAX, SIZE_MAX},
    {SIZE_MAX, 2},
    {65537, 281470681808897},     /* 2^64 + 1: wraps to 1 */
    {281470681808897, 65537},
    {(size_t)1 << 33, ((size_t)1 << 31) + 1}, /* 2^64 + 2^33: wraps to 8 GiB */
    {(size_t)PTRDIFF_MAX / 2 + 1, 2}, /* PTRDIFF_MAX + 1, no wrap */
    {(size_t)1 << 40, (size_t)1 << 23},   /* 2^63 */
};
#define N_BAD_PRODUCTS (sizeof bad_products / sizeof bad_products[0])

Test(overflow, calloc_overflowing_product_returns_null_enomem)
{
    for (size_t i = 0; i < N_BAD_PRODUCTS; i++) {
        errno = 0;
        void *p = M_CALLOC(opaque(bad_products[i].n), opaque(bad_products[i].size));
        int e = errno;
        cr_assert_null(p, "calloc(%zu, %zu) = %p", bad_products[i].n, bad_products[i].size, p);
        cr_assert_eq(e, ENOMEM, "calloc(%zu, %zu): errno %d", bad_products[i].n,
            bad_products[i].size, e);
    }
}

Test(overflow, calloc_of_zero_times_huge_returns_unique_pointer)
{
    void *a = M_CALLOC(0, opaque(SIZE_MAX));
    void *b = M_CALLOC(opaque(SIZE_MAX), 0);
    cr_assert_not_null(a);
    cr_assert_not_null(b);
    cr_assert_neq(a, b);
    M_FREE(a);
    M_FREE(b);
}

Test(overflow, reallocarray_overflow_returns_null_enomem_and_keeps_block)
{
    const size_t sizes[] = {100, 100 * KiB, 8 * MiB};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        unsigned char *p = M_MALLOC(sizes[s]);
        cr_assert_not_null(p);
        fill_pattern(p, sizes[s], 11);
        for (size_t i = 0; i < N_BAD_PRODUCTS; i++) {
            errno = 0;
            void *q = M_REALLOCARRAY(launder(p), opaque(bad_products[i].n), opaque(bad_products[i].size));
            int e = errno;
            cr_assert_null(q, "reallocarray(p, %zu, %zu) = %p", bad_products[i].n,
                bad_products[i].size, q);
            cr_assert_eq(e, ENOMEM, "reallocarray(p, %zu, %zu): errno %d", bad_products[i].n,
                bad_products[i].size, e);
            cr_assert_eq(check_pattern(p, sizes[s], 11), sizes[s], "block damaged");
        }
        M_FREE(p);
    }
}

Test(overflow, reallocarray_without_overflow_behaves_like_realloc)
{
    unsigned char *p = M_REALLOCARRAY(NULL, 10, 10);
    cr_assert_not_null(p);
    fill_pattern(p, 100, 12);
    p = M_REALLOCARRAY(p, 1000, 100);
    cr_assert_not_null(p);
    cr_assert_eq(check_pattern(p, 100, 12), 100);
    cr_assert_geq(M_USABLE_SIZE(p), 100000);
    memset(p, 1, 100000);
    p = M_REALLOCARRAY(p, 3, 5);
    cr_assert_not_null(p);
    M_FREE(p);
}

Test(overflow, posix_memalign_of_impossible_size_returns_enomem_and_keeps_memptr)
{
    const size_t aligns[] = {16, 64, 4096, 1 * MiB};
    for (size_t a = 0; a < sizeof aligns / sizeof aligns[0]; a++)
        for (size_t i = 0; i < N_IMPOSSIBLE; i++) {
            void *sentinel = (void *)0x1234;
            void *p = sentinel;
            int r = M_POSIX_MEMALIGN(&p, aligns[a], opaque(impossible_sizes[i]));
            cr_assert_eq(r, ENOMEM, "posix_memalign(%zu, %zu) = %d", aligns[a],
                impossible_sizes[i], r);
            cr_assert_eq(p, sentinel, "posix_memalign changed *memptr on error");
        }
}

Test(overflow, aligned_alloc_of_impossible_size_returns_null_enomem)
{
    const size_t aligns[] = {16, 64, 4096, 1 * MiB};
    for (size_t a = 0; a < sizeof aligns / sizeof aligns[0]; a++)
        for (size_t i = 0; i < N_IMPOSSIBLE; i++) {
            errno = 0;
            void *p = M_ALIGNED_ALLOC(aligns[a], opaque(impossible_sizes[i]));
            int e = errno;
            cr_assert_null(p, "aligned_alloc(%zu, %zu) = %p", aligns[a], impossible_sizes[i], p);
            cr_assert_eq(e, ENOMEM, "aligned_alloc(%zu, %zu): errno %d", aligns[a],
                impossible_sizes[i], e);
        }
}

Test(overflow, memalign_of_impossible_size_returns_null_enomem)
{
    const size_t aligns[] = {16, 64, 4096, 1 * MiB};
    for (size_t a = 0; a < sizeof aligns / sizeof aligns[0]; a++)
        for (size_t i = 0; i < N_IMPOSSIBLE; i++) {
            errno = 0;
            void *p = M_MEMALIGN(aligns[a], opaque(impossible_sizes[i]));
            int e = errno;
            cr_assert_null(p, "memalign(%zu, %zu) = %p", aligns[a], impossible_sizes[i], p);
            cr_assert_eq(e, ENOMEM, "memalign(%zu, %zu): errno %d", aligns[a],
                impossible_sizes[i], e);
        }
}

/* valloc/pvalloc round the size up to a page: SIZE_MAX - 4095 would wrap. */
Test(overflow, valloc_and_pvalloc_of_impossible_size_return_null_enomem)
{
    for (size_t i = 0; i < N_IMPOSSIBLE; i++) {
        errno = 0;
        void *p = M_VALLOC(opaque(impossible_sizes[i]));
        int e = errno;
        cr_assert_null(p, "valloc(%zu) = %p", impossible_sizes[i], p);
        cr_assert_eq(e, ENOMEM, "valloc(%zu): errno %d", impossible_sizes[i], e);
        errno = 0;
        p = M_PVALLOC(opaque(impossible_sizes[i]));
        e = errno;
        cr_assert_null(p, "pvalloc(%zu) = %p", impossible_sizes[i], p);
        cr_assert_eq(e, ENOMEM, "pvalloc(%zu): errno %d", impossible_sizes[i], e);
    }
}

/* size + alignment padding must not wrap either. */
Test(overflow, large_alignment_plus_size_near_size_max_returns_null_enomem)
{
    const size_t aligns[] = {4096, 1 * MiB, 64 * MiB};
    for (size_t a = 0; a < sizeof aligns / sizeof aligns[0]; a++) {
        size_t size = SIZE_MAX - aligns[a] / 2;
        errno = 0;
        void *p = M_MEMALIGN(aligns[a], opaque(size));
        cr_assert_null(p, "memalign(%zu, %zu) = %p", aligns[a], size, p);
        cr_assert_eq(errno, ENOMEM);
        void *q = (void *)0x1234;
        cr_assert_eq(M_POSIX_MEMALIGN(&q, aligns[a], opaque(size)), ENOMEM);
        cr_assert_eq(q, (void *)0x1234);
    }
}

/* After all those failures, the allocator still works. */
Test(overflow, allocator_works_after_failed_requests)
{
    for (size_t i = 0; i < N_IMPOSSIBLE; i++)
        cr_assert_null(M_MALLOC(opaque(impossible_sizes[i])));
    void *p = M_MALLOC(1000);
    void *q = M_MALLOC(10 * MiB);
    cr_assert_not_null(p);
    cr_assert_not_null(q);
    memset(p, 1, 1000);
    memset(q, 1, 10 * MiB);
    M_FREE(p);
    M_FREE(q);
}
