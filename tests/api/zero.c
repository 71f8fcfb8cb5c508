/* Zero-size requests: malloc(0) and realloc(NULL, 0) return unique pointers
 * that free accepts; realloc(p, 0) frees p and returns NULL (glibc). */
#include "api.h"

#include <stdio.h>

/* A hang (e.g. an allocator loop) fails the one test, not the whole binary. */
TestSuite(zero, .timeout = 60);

/* Resident set size of this process in KiB, from /proc/self/status. */
static long rss_kib(void)
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

Test(zero, malloc_zero_returns_non_null)
{
    void *p = M_MALLOC(0);
    cr_assert_not_null(p);
    M_FREE(p);
}

Test(zero, malloc_zero_returns_distinct_pointers)
{
    enum { N = 1000 };
    static void *p[N];
    for (int i = 0; i < N; i++) {
        p[i] = M_MALLOC(0);
        cr_assert_not_null(p[i]);
        for (int j = 0; j < i; j++)
            cr_assert_neq(p[i], p[j], "malloc(0) returned %p twice", p[i]);
    }
    for (int i = 0; i < N; i++)
        M_FREE(p[i]);
}

Test(zero, malloc_zero_pointer_can_be_freed_repeatedly)
{
    for (int i = 0; i < 100000; i++) {
        void *p = M_MALLOC(0);
        cr_assert_not_null(p);
        M_FREE(p);
    }
}

Test(zero, malloc_zero_pointer_can_be_reallocated)
{
    char *p = M_MALLOC(0);
    cr_assert_not_null(p);
    p = M_REALLOC(p, 100);
    cr_assert_not_null(p);
    memset(p, 'x', 100);
    M_FREE(p);
}

Test(zero, realloc_null_zero_returns_unique_pointer)
{
    void *a = M_REALLOC(NULL, 0);
    void *b = M_REALLOC(NULL, 0);
    cr_assert_not_null(a);
    cr_assert_not_null(b);
    cr_assert_neq(a, b);
    M_FREE(a);
    M_FREE(b);
}

Test(zero, realloc_null_behaves_like_malloc)
{
    const size_t sizes[] = {1, 16, 100, 1000, 4096, 70000, 100 * KiB, 1 * MiB, 8 * MiB};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        errno = 0;
        unsigned char *p = M_REALLOC(NULL, sizes[i]);
        cr_assert_not_null(p, "realloc(NULL, %zu) failed", sizes[i]);
        cr_assert(is_aligned(p, 16));
        cr_assert_geq(M_USABLE_SIZE(p), sizes[i]);
        memset(p, 0xa5, sizes[i]);
        M_FREE(p);
    }
}

Test(zero, realloc_to_zero_frees_and_returns_null)
{
    const size_t sizes[] = {1, 64, 1000, 100 * KiB, 8 * MiB};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        void *p = M_MALLOC(sizes[i]);
        cr_assert_not_null(p);
        cr_assert_null(M_REALLOC(p, 0), "realloc(p of %zu, 0) did not return NULL", sizes[i]);
    }
}

Test(zero, realloc_to_zero_leaves_errno_untouched)
{
    const size_t sizes[] = {1, 64, 1000, 100 * KiB, 8 * MiB};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        void *p = M_MALLOC(sizes[i]);
        cr_assert_not_null(p);
        errno = 1234;
        void *r = M_REALLOC(p, 0);
        int e = errno;
        cr_assert_null(r);
        cr_assert_eq(e, 1234, "realloc(p of %zu, 0) changed errno to %d", sizes[i], e);
    }
}

/* If realloc(p, 0) leaked p, 400 MiB of touched blocks would stay resident. */
Test(zero, realloc_to_zero_really_releases_the_block)
{
    long before = rss_kib();
    cr_assert_gt(before, 0);
    for (int i = 0; i < 400; i++) {
        void *p = M_MALLOC(1 * MiB);
        cr_assert_not_null(p);
        memset(p, i, 1 * MiB);
        cr_assert_null(M_REALLOC(p, 0));
    }
    for (int i = 0; i < 200000; i++) {
        void *p = M_MALLOC(1000);
        cr_assert_not_null(p);
        memset(p, i, 1000);
        cr_assert_null(M_REALLOC(p, 0));
    }
    long after = rss_kib();
    cr_assert_lt(after - before, 64 * 1024, "RSS grew by %ld KiB", after - before);
}
