/* Large (16 KiB .. 2 MiB) and huge (> 2 MiB) blocks: calloc returns zeroes
 * over memory that held another block of the same size, and realloc keeps
 * the contents through every size up and down, across the 2 MiB boundary in
 * both directions, with and without neighbours in the way. */
#include "api.h"

TestSuite(big, .timeout = 120);

static const size_t sizes[] = {20 * KiB, 300 * KiB, 1536 * KiB, 5 * MiB, 40 * MiB};
#define NSIZES (sizeof sizes / sizeof sizes[0])

static size_t first_nonzero(const unsigned char *p, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        if (w) break;
    }
    for (; i < n; i++)
        if (p[i]) return i;
    return n;
}

/* The content pattern of a block: a byte that depends on the offset and
 * the seed, so that shifted or swapped pages show. */
static unsigned char pat(size_t i, unsigned seed)
{
    return (unsigned char)((i >> 12) * 131 + (i & 0xfff) * 7 + seed * 29 + 1);
}

static void fill(unsigned char *p, size_t from, size_t to, unsigned seed)
{
    for (size_t i = from; i < to; i++) p[i] = pat(i, seed);
}

static size_t first_mismatch(const unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != pat(i, seed)) return i;
    return n;
}

Test(big, calloc_zeroes_memory_freed_dirty)
{
    for (int round = 0; round < 3; round++) {
        for (size_t s = 0; s < NSIZES; s++) {
            size_t n = sizes[s];
            unsigned char *p = M_MALLOC(n);
            cr_assert_not_null(p, "malloc(%zu)", n);
            memset(p, 0xff, M_USABLE_SIZE(p));
            M_FREE(p);
            unsigned char *q = M_CALLOC(1, n);
            cr_assert_not_null(q, "calloc(1, %zu)", n);
            size_t bad = first_nonzero(q, n);
            cr_assert_eq(bad, n, "round %d: calloc(1, %zu) = %p (malloc gave %p): byte %zu is 0x%02x",
                round, n, (void *)q, (void *)p, bad, q[bad]);
            memset(q, 0xff, M_USABLE_SIZE(q));
            M_FREE(q);
            /* the same bytes as count x size */
            q = M_CALLOC(n / 4096, 4096);
            cr_assert_not_null(q, "calloc(%zu, 4096)", n / 4096);
            bad = first_nonzero(q, n);
            cr_assert_eq(bad, n, "round %d: calloc(%zu, 4096): byte %zu is 0x%02x", round,
                n / 4096, bad, q[bad]);
            memset(q, 0xff, M_USABLE_SIZE(q));
            M_FREE(q);
        }
    }
}

/* Many blocks of every size dirtied and freed together (neighbours merge,
 * huge mappings may be kept for reuse), then calloc'd in the reverse order. */
Test(big, calloc_zeroes_after_mixed_frees)
{
    enum { PER = 3 };
    unsigned char *p[NSIZES * PER];
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < NSIZES * PER; i++) {
            size_t n = sizes[i % NSIZES];
            if (n > 5 * MiB && i / NSIZES > 0) n = 5 * MiB; /* one 40 MiB at a time */
            p[i] = M_MALLOC(n);
            cr_assert_not_null(p[i]);
            memset(p[i], 0xff, M_USABLE_SIZE(p[i]));
        }
        for (size_t i = 0; i < NSIZES * PER; i += 2) M_FREE(p[i]);
        for (size_t i = 1; i < NSIZES * PER; i += 2) M_FREE(p[i]);
        for (size_t k = NSIZES * PER; k-- > 0;) {
            size_t n = sizes[k % NSIZES];
            if (n > 5 * MiB && k / NSIZES > 0) n = 5 * MiB;
            p[k] = M_CALLOC(n, 1);
            cr_assert_not_null(p[k]);
            size_t bad = first_nonzero(p[k], n);
            cr_assert_eq(bad, n, "round %d: calloc(%zu, 1) = %p: byte %zu is 0x%02x", round, n,
                (void *)p[k], bad, p[k][bad]);
        }
        for (size_t i = 0; i < NSIZES * PER; i++) {
            memset(p[i], 0xff, M_USABLE_SIZE(p[i]));
            M_FREE(p[i]);
        }
    }
}

/* realloc from `from` to `to` keeps min(from, to) bytes; the new tail is
 * then filled. Returns the new block. */
static unsigned char *resize(unsigned char *p, size_t from, size_t to, unsigned seed)
{
    unsigned char *q = M_REALLOC(p, to);
    cr_assert_not_null(q, "realloc(%p, %zu -> %zu)", (void *)p, from, to);
    cr_assert(M_USABLE_SIZE(q) >= to);
    size_t keep = from < to ? from : to;
    size_t bad = first_mismatch(q, keep, seed);
    cr_assert_eq(bad, keep, "realloc(%p, %zu -> %zu) = %p: byte %zu is 0x%02x, not 0x%02x",
        (void *)p, from, to, (void *)q, bad, q[bad], pat(bad, seed));
    if (to > from) fill(q, from, to, seed);
    return q;
}

static void walk(unsigned char *p, size_t *cur, const size_t *seq, size_t nseq, unsigned seed,
    unsigned char **pp)
{
    for (size_t i = 0; i < nseq; i++) {
        p = resize(p, *cur, seq[i], seed);
        *cur = seq[i];
    }
    *pp = p;
}

Test(big, realloc_keeps_contents_through_every_size)
{
    /* up through every size, down again, and jumps both ways */
    const size_t seq[] = {300 * KiB, 1536 * KiB, 5 * MiB, 40 * MiB, 5 * MiB, 1536 * KiB,
        300 * KiB, 20 * KiB, 40 * MiB, 20 * KiB, 5 * MiB, 300 * KiB, 40 * MiB, 1536 * KiB,
        20 * KiB};
    for (unsigned seed = 0; seed < 2; seed++) {
        size_t cur = sizes[0];
        unsigned char *p = M_MALLOC(cur);
        cr_assert_not_null(p);
        fill(p, 0, cur, seed);
        /* seed 1: a neighbour after the block, so that growth in place is
         * not always possible */
        unsigned char *neighbour = seed ? M_MALLOC(64 * KiB) : NULL;
        walk(p, &cur, seq, sizeof seq / sizeof seq[0], seed, &p);
        M_FREE(p);
        M_FREE(neighbour);
    }
}

Test(big, realloc_keeps_contents_across_2mib_in_small_steps)
{
    size_t cur = 2 * MiB - 64 * KiB;
    unsigned char *p = M_MALLOC(cur);
    cr_assert_not_null(p);
    fill(p, 0, cur, 7);
    for (int round = 0; round < 4; round++) {
        /* up in 12 KiB + 1 steps to 2 MiB + 64 KiB, down in 20 KiB - 16 steps */
        while (cur < 2 * MiB + 64 * KiB) {
            p = resize(p, cur, cur + 12 * KiB + 1, 7);
            cur += 12 * KiB + 1;
        }
        while (cur > 2 * MiB - 64 * KiB) {
            p = resize(p, cur, cur - (20 * KiB - 16), 7);
            cur -= 20 * KiB - 16;
        }
        /* exactly at the boundary */
        p = resize(p, cur, 2 * MiB, 7);
        p = resize(p, 2 * MiB, 2 * MiB + 1, 7);
        p = resize(p, 2 * MiB + 1, 2 * MiB, 7);
        cur = 2 * MiB;
    }
    M_FREE(p);
}

/* Two blocks resized in turn, so that each one's growth meets the other. */
Test(big, realloc_keeps_contents_of_interleaved_blocks)
{
    size_t cur[2] = {20 * KiB, 20 * KiB};
    unsigned char *p[2];
    for (int k = 0; k < 2; k++) {
        p[k] = M_MALLOC(cur[k]);
        cr_assert_not_null(p[k]);
        fill(p[k], 0, cur[k], 10 + (unsigned)k);
    }
    const size_t seq[] = {300 * KiB, 1536 * KiB, 5 * MiB, 40 * MiB, 5 * MiB, 1536 * KiB,
        300 * KiB, 20 * KiB};
    for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++)
        for (int k = 0; k < 2; k++) {
            size_t to = seq[(i + (size_t)k * 3) % (sizeof seq / sizeof seq[0])];
            p[k] = resize(p[k], cur[k], to, 10 + (unsigned)k);
            cur[k] = to;
        }
    for (int k = 0; k < 2; k++) {
        size_t bad = first_mismatch(p[k], cur[k], 10 + (unsigned)k);
        cr_assert_eq(bad, cur[k], "block %d: byte %zu changed", k, bad);
        M_FREE(p[k]);
    }
}
