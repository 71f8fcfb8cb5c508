/* Live blocks never overlap: many blocks of random sizes, each filled with
 * its own pattern, are all intact before they are freed, and their address
 * ranges are disjoint. */
#include "api.h"

/* A hang (e.g. an allocator loop) fails the one test, not the whole binary. */
TestSuite(overlap, .timeout = 60);

struct block {
    unsigned char *p;
    size_t size;
};

/* xorshift64: deterministic, so a failure can be replayed. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Mostly small, some medium, a few large: ~170 MiB in all for 100k blocks. */
static size_t random_size(void)
{
    uint64_t r = rng();
    unsigned kind = (unsigned)(r % 1000);
    r >>= 10;
    if (kind < 900)
        return 1 + r % 1024;
    if (kind < 990)
        return 1025 + r % (15 * KiB);
    if (kind < 999)
        return 16 * KiB + r % (240 * KiB);
    return 256 * KiB + r % (2 * MiB);
}

static int by_address(const void *a, const void *b)
{
    const struct block *x = a, *y = b;
    return (x->p > y->p) - (x->p < y->p);
}

static void check_disjoint(struct block *b, size_t n)
{
    qsort(b, n, sizeof *b, by_address);
    for (size_t i = 1; i < n; i++)
        cr_assert_leq((uintptr_t)b[i - 1].p + b[i - 1].size, (uintptr_t)b[i].p,
            "[%p, +%zu) overlaps [%p, +%zu)", (void *)b[i - 1].p, b[i - 1].size, (void *)b[i].p,
            b[i].size);
}

Test(overlap, many_live_blocks_never_overlap, .timeout = 60)
{
    enum { N = 100000 };
    struct block *b = calloc(N, sizeof *b); /* the test's own bookkeeping */
    cr_assert_not_null(b);
    for (size_t i = 0; i < N; i++) {
        b[i].size = random_size();
        b[i].p = M_MALLOC(b[i].size);
        cr_assert_not_null(b[i].p, "malloc(%zu) failed", b[i].size);
        fill_pattern(b[i].p, b[i].size, (unsigned)i);
    }
    for (size_t i = 0; i < N; i++) {
        size_t bad = check_pattern(b[i].p, b[i].size, (unsigned)i);
        cr_assert_eq(bad, b[i].size, "block %zu (%p, %zu B) overwritten at %zu", i,
            (void *)b[i].p, b[i].size, bad);
    }
    check_disjoint(b, N);
    for (size_t i = 0; i < N; i++)
        M_FREE(b[i].p);
    free(b);
}

/* The same with churn and every allocation function in the mix: blocks are
 * freed and replaced at random while others stay live. */
Test(overlap, blocks_from_every_function_never_overlap_under_churn, .timeout = 60)
{
    enum { N = 20000, OPS = 200000 };
    struct block *b = calloc(N, sizeof *b);
    unsigned *seed = calloc(N, sizeof *seed);
    cr_assert_not_null(b);
    cr_assert_not_null(seed);
    for (unsigned op = 0; op < OPS; op++) {
        size_t i = rng() % N;
        if (b[i].p) {
            size_t bad = check_pattern(b[i].p, b[i].size, seed[i]);
            cr_assert_eq(bad, b[i].size, "op %u: block %zu (%zu B) overwritten at %zu", op, i,
                b[i].size, bad);
        }
        size_t size = random_size();
        switch (rng() % 6) {
        case 0:
            M_FREE(b[i].p);
            b[i].p = M_MALLOC(size);
            break;
        case 1:
            M_FREE(b[i].p);
            b[i].p = M_CALLOC(1, size);
            break;
        case 2: {
            unsigned char *q = M_REALLOC(b[i].p, size);
            cr_assert_not_null(q);
            if (b[i].p) {
                size_t keep = size < b[i].size ? size : b[i].size;
                cr_assert_eq(check_pattern(q, keep, seed[i]), keep, "realloc lost data");
            }
            b[i].p = q;
            break;
        }
        case 3:
            M_FREE(b[i].p);
            b[i].p = M_ALIGNED_ALLOC((size_t)64 << (rng() % 8), size);
            break;
        case 4:
            M_FREE(b[i].p);
            b[i].p = NULL;
            break;
        default:
            M_FREE(b[i].p);
            b[i].p = M_MALLOC(size % 256);
            size %= 256;
            break;
        }
        if (b[i].p) {
            b[i].size = size;
            seed[i] = op;
            fill_pattern(b[i].p, size, op);
        } else {
            b[i].size = 0;
        }
    }
    size_t live = 0;
    for (size_t i = 0; i < N; i++)
        if (b[i].p) {
            cr_assert_eq(check_pattern(b[i].p, b[i].size, seed[i]), b[i].size);
            b[live++] = b[i];
        }
    check_disjoint(b, live);
    for (size_t i = 0; i < live; i++)
        M_FREE(b[i].p);
    free(b);
    free(seed);
}
