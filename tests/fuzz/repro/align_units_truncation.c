/* tests/fuzz/repro/align_units_truncation.c — found by tests/fuzz/fuzz_calls.
 *
 * An alignment of 2^44 or more, for a request that goes to a large run
 * (size 0 .. 2 MiB with alignment above 4 KiB), succeeds with a block that is
 * neither aligned nor, sometimes, as big as asked:
 *
 *   src/arena/arena.c, arena_large_alloc():
 *       unsigned align_units = align > UNIT_SIZE ? (unsigned)(align >> UNIT_SHIFT) : 1;
 *   (align >> 12) = 2^32 or more truncates to 0 in 32 bits, so the
 *   "alignment too big for a chunk" test (units + align_units - 1 >
 *   CHUNK_USABLE_UNITS) passes, and run_alloc() is asked for
 *   need = units + 0 - 1 units with no alignment: it may hand out a free run
 *   one unit shorter than the request (and the chunk's nfree_units is
 *   decremented by `units` for it).
 *
 * The contract (include/sable.h, README): alignments up to at least 64 MiB
 * work; a request that cannot be met returns ENOMEM / NULL+ENOMEM. glibc
 * returns ENOMEM for these. Reached through posix_memalign, aligned_alloc and
 * memalign (memalign accepts alignments up to 2^63).
 *
 * Exit status 0 when sable behaves, 1 with a description otherwise.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "sable.h"

int main(void)
{
    int bad = 0;

    /* 1. The smallest case the fuzzer found: posix_memalign(2^44, 0). */
    void *p = NULL;
    int r = sable_posix_memalign(&p, (size_t)1 << 44, 0);
    if (r == 0 && ((uintptr_t)p & (((size_t)1 << 44) - 1)) != 0) {
        printf("posix_memalign(2^44, 0) = 0, *memptr = %p: not 2^44-aligned\n", p);
        bad = 1;
    }
    if (r == 0) sable_free(p);

    /* 2. Every alignment 2^44 .. 2^63 through memalign, size 100. */
    for (unsigned lg = 44; lg < 64; lg++) {
        size_t align = (size_t)1 << lg;
        errno = 0;
        void *q = sable_memalign(align, 100);
        if (q != NULL && ((uintptr_t)q & (align - 1)) != 0) {
            printf("memalign(2^%u, 100) = %p: not aligned\n", lg, q);
            bad = 1;
        }
        if (q) sable_free(q);
    }

    /* 3. A block shorter than asked: leave 5-unit (20 KiB) holes between
     * live blocks, then ask for 24 KiB (6 units) with alignment 2^44; the
     * truncated need (6 + 0 - 1 = 5 units) fits a hole, and filling the
     * 24 KiB the caller was promised overwrites the next live block. */
    enum { N = 8, HOLE = 20 * 1024, WANT = 24 * 1024 };
    unsigned char *hole[N], *live[N];
    for (int i = 0; i < N; i++) {
        hole[i] = sable_malloc(HOLE);
        live[i] = sable_malloc(HOLE);
        memset(live[i], 0xbb, HOLE);
    }
    for (int i = 0; i < N; i++) sable_free(hole[i]);
    void *c = NULL;
    r = sable_posix_memalign(&c, (size_t)1 << 44, WANT);
    if (r == 0) {
        size_t u = sable_malloc_usable_size(c);
        if (u < WANT) {
            printf("posix_memalign(2^44, %d) = %p: usable size %zu < %d\n", WANT, c, u, WANT);
            bad = 1;
        }
        memset(c, 0xcc, WANT); /* the caller owns WANT bytes */
        for (int i = 0; i < N; i++)
            if (live[i][0] != 0xbb) {
                printf("writing the %d-byte block at %p overwrote the live block at %p\n", WANT,
                    c, (void *)live[i]);
                bad = 1;
            }
        sable_free(c);
    }
    for (int i = 0; i < N; i++) sable_free(live[i]);

    if (!bad) printf("ok: alignments >= 2^44 are refused or honoured\n");
    return bad;
}
