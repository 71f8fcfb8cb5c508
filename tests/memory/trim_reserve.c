/* malloc_trim soon after a full trim keeps a reserve, and a trim after a
 * free-all still returns everything:
 * - 64 MiB of 1 KiB blocks live, then a full trim;
 * - 2 MiB of them freed (a contiguous stretch of slabs): a trim at once
 *   leaves them resident (no madvise call, returns 0), since they are far
 *   below the reserve (half the live bytes);
 * - past the trim interval, the next trim purges them (madvise, returns 1);
 * - 2 MiB more freed, past the interval again: a trim whose pad is larger
 *   than the free memory leaves it alone, one with pad 0 purges it;
 * - 2 MiB more freed and trimmed at once: left alone again; then
 *   everything freed: a trim at once (inside the interval, and moments
 *   after an estimate that found the free memory within the reserve)
 *   returns it all, RSS within 32 MiB of the baseline.
 * The environment slows decay down (only the trims purge) and may set
 * hugepages:thp: trims purge base pages there too. */
#include "common.h"

enum { N = 64 * 1024, SIZE = 1024, STRETCH = 2048 };
static char *blocks[N];

static void free_stretch(int from)
{
    for (int i = from; i < from + STRETCH; i++) {
        sable_free(blocks[i]);
        blocks[i] = NULL;
    }
}

int main(void)
{
    sable_free(sable_malloc(1));
    long base = rss_kib();
    for (int i = 0; i < N; i++) {
        blocks[i] = sable_malloc(SIZE);
        CHECK(blocks[i] != NULL, "allocation %d", i);
        memset(blocks[i], 0x5a, SIZE);
    }
    sable_trim(0);
    long full = rss_kib();

    free_stretch(N / 4);
    uint64_t m0 = nmadvise();
    int soon = sable_trim(0);
    uint64_t m1 = nmadvise();
    long kept = rss_kib();
    printf("rss: base %ld KiB, 64 MiB live %ld KiB, 2 MiB freed and trimmed at once %ld KiB "
           "(returned %d, %llu madvise calls)\n",
           base, full, kept, soon, (unsigned long long)(m1 - m0));
    CHECK(soon == 0 && m1 == m0, "a trim right after a full one purged 2 MiB of 64");
    CHECK(kept > full - 1024, "RSS fell from %ld to %ld KiB", full, kept);

    wait_trim_interval();
    int later = sable_trim(0);
    uint64_t m2 = nmadvise();
    long purged = rss_kib();
    printf("past the interval: %ld KiB (returned %d, %llu madvise calls)\n", purged, later,
           (unsigned long long)(m2 - m1));
    CHECK(later == 1 && m2 > m1, "a trim past the interval purged nothing");
    CHECK(purged < kept - 1536, "RSS fell only from %ld to %ld KiB", kept, purged);

    free_stretch(N / 2);
    wait_trim_interval();
    int padded = sable_trim(8u << 20);
    uint64_t m3 = nmadvise();
    CHECK(padded == 0 && m3 == m2, "a trim with 8 MiB of pad purged 2 MiB");
    int unpadded = sable_trim(0);
    uint64_t m4 = nmadvise();
    printf("pad 8 MiB: returned %d; pad 0: returned %d, %llu madvise calls\n", padded, unpadded,
           (unsigned long long)(m4 - m3));
    CHECK(unpadded == 1 && m4 > m3, "a trim with pad 0 past the interval purged nothing");

    /* A trim within the reserve again, and at once a free-all: the trim
     * after it sees the live bytes fall and returns everything. */
    free_stretch(3 * N / 4);
    uint64_t m5 = nmadvise();
    CHECK(sable_trim(0) == 0 && nmadvise() == m5, "a trim right after a full one purged 2 MiB");
    for (int i = 0; i < N; i++) sable_free(blocks[i]);
    CHECK(sable_trim(0) == 1, "the trim after freeing everything released nothing");
    long end = rss_kib();
    printf("everything freed, trimmed at once: %ld KiB\n", end);
    CHECK(end - base < 32 * 1024, "RSS stayed %ld KiB above the baseline", end - base);
    return 0;
}
