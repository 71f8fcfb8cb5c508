/* malloc_usable_size: at least the request, stable, NULL -> 0, and every
 * usable byte really belongs to the block. */
#include "api.h"

/* A hang (e.g. an allocator loop) fails the one test, not the whole binary. */
TestSuite(usable, .timeout = 60);

Test(usable, malloc_usable_size_of_null_is_zero)
{
    cr_assert_eq(M_USABLE_SIZE(NULL), 0);
}

Test(usable, malloc_usable_size_is_at_least_requested)
{
    for (size_t size = 0; size <= 70000; size += (size < 4096 ? 1 : 13)) {
        void *p = M_MALLOC(size);
        cr_assert_not_null(p);
        cr_assert_geq(M_USABLE_SIZE(p), size, "malloc(%zu): usable %zu", size, M_USABLE_SIZE(p));
        M_FREE(p);
    }
    for (size_t size = 70000; size <= 64 * MiB; size += size / 2 + 1) {
        void *p = M_MALLOC(size);
        cr_assert_not_null(p);
        cr_assert_geq(M_USABLE_SIZE(p), size, "malloc(%zu): usable %zu", size, M_USABLE_SIZE(p));
        M_FREE(p);
    }
}

Test(usable, malloc_usable_size_is_at_least_requested_for_calloc_and_realloc)
{
    void *p = NULL;
    for (size_t size = 1; size <= 20 * MiB; size += size / 4 + 1) {
        void *c = M_CALLOC(size, 1);
        cr_assert_not_null(c);
        cr_assert_geq(M_USABLE_SIZE(c), size);
        M_FREE(c);
        p = M_REALLOC(p, size);
        cr_assert_not_null(p);
        cr_assert_geq(M_USABLE_SIZE(p), size);
    }
    M_FREE(p);
}

Test(usable, malloc_usable_size_is_stable_across_calls)
{
    enum { N = 300 };
    void *b[N];
    size_t first[N];
    for (int i = 0; i < N; i++) {
        size_t size = (size_t)i * (size_t)i * 97 + 1; /* up to ~8.7 MB */
        b[i] = M_MALLOC(size);
        cr_assert_not_null(b[i]);
        first[i] = M_USABLE_SIZE(b[i]);
        cr_assert_eq(M_USABLE_SIZE(b[i]), first[i]);
    }
    /* other allocations and frees do not change it either */
    for (int i = 0; i < N; i += 3) {
        M_FREE(b[i]);
        b[i] = NULL;
    }
    void *more[N];
    for (int i = 0; i < N; i++)
        more[i] = M_MALLOC((size_t)i * 33 + 1);
    for (int i = 0; i < N; i++) {
        if (b[i])
            cr_assert_eq(M_USABLE_SIZE(b[i]), first[i], "block %d changed usable size", i);
        M_FREE(b[i]);
        M_FREE(more[i]);
    }
}

/* Writing the whole usable size of many live blocks must not reach into a
 * neighbour. */
Test(usable, every_usable_byte_belongs_to_the_block)
{
    enum { N = 3000 };
    static unsigned char *b[N];
    static size_t usable[N];
    for (int i = 0; i < N; i++) {
        size_t size = 1 + ((size_t)i * 7919) % (i % 10 == 0 ? 300000 : 2000);
        b[i] = M_MALLOC(size);
        cr_assert_not_null(b[i]);
        usable[i] = M_USABLE_SIZE(b[i]);
        cr_assert_geq(usable[i], size);
        fill_pattern(b[i], usable[i], (unsigned)i);
    }
    for (int i = 0; i < N; i++) {
        size_t bad = check_pattern(b[i], usable[i], (unsigned)i);
        cr_assert_eq(bad, usable[i], "block %d: usable byte %zu of %zu overwritten", i, bad,
            usable[i]);
        M_FREE(b[i]);
    }
}

Test(usable, malloc_usable_size_of_aligned_blocks_is_at_least_requested)
{
    for (size_t align = 16; align <= 4 * MiB; align *= 4)
        for (size_t size = 1; size <= 3 * align; size += align / 2 + 7) {
            void *p = M_ALIGNED_ALLOC(align, size);
            cr_assert_not_null(p);
            cr_assert_geq(M_USABLE_SIZE(p), size, "aligned_alloc(%zu, %zu)", align, size);
            M_FREE(p);
        }
}
