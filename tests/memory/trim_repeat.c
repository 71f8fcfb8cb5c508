/* malloc_trim costs in proportion to what it returns: after a trim, a second
 * one with nothing freed in between makes no madvise call and returns 0;
 * freeing one small block whose page then holds only free blocks, in a
 * slab whose other free pages were purged already, makes the next trim one
 * call (the purged pages are not purged again; the clean free pages beside
 * it ride along); so does one large block freed next to a free run;
 * freeing the rest, one trim still gives all of it back. Counted with
 * stats.arenas.<merged>.nmadvise. The trims of one block wait out the trim
 * interval first (a trim soon after a full one keeps a reserve: that is
 * trim_reserve.c). The test's environment may set hugepages:thp: the same
 * holds there. */
#include "common.h"

enum { NSMALL = 200000, NLARGE = 512, LARGE = 64 << 10, NMID = 8192, MID = 512 };
static void *small[NSMALL], *large[NLARGE], *mid[NMID];

int main(void)
{
    sable_free(sable_malloc(1));
    long base = rss_kib();
    /* Small blocks of every size, then large ones, each written. */
    for (int i = 0; i < NSMALL; i++) {
        size_t sz = 16 + (size_t)(i * 7919 % 4096);
        small[i] = sable_malloc(sz);
        CHECK(small[i] != NULL, "small allocation %d", i);
        memset(small[i], 0x5a, sz);
    }
    /* 512 B blocks, handed out in address order from fresh slabs: keeping
     * every 16th leaves one live block every other 4 KiB page. */
    for (int i = 0; i < NMID; i++) {
        mid[i] = sable_malloc(MID);
        CHECK(mid[i] != NULL, "512 B allocation %d", i);
        memset(mid[i], 0x5a, MID);
    }
    for (int i = 0; i < NLARGE; i++) {
        large[i] = sable_malloc(LARGE);
        CHECK(large[i] != NULL, "large allocation %d", i);
        memset(large[i], 0x5a, LARGE);
    }
    /* Free most: slabs stay partly used, large runs become isolated free
     * runs between live ones. */
    for (int i = 0; i < NSMALL; i++)
        if (i % 64 != 0) {
            sable_free(small[i]);
            small[i] = NULL;
        }
    for (int i = 0; i < NMID; i++)
        if (i % 16 != 0) {
            sable_free(mid[i]);
            mid[i] = NULL;
        }
    for (int i = 1; i < NLARGE; i += 4) {
        sable_free(large[i]);
        large[i] = NULL;
    }
    long after_free = rss_kib();
    uint64_t m0 = nmadvise();
    CHECK(sable_trim(0) == 1, "the first trim released nothing");
    uint64_t m1 = nmadvise();
    long after_trim = rss_kib();
    CHECK(m1 > m0, "the first trim made no madvise call");

    /* Nothing freed since: nothing to do, no system call. */
    int again = sable_trim(0);
    uint64_t m2 = nmadvise();
    printf("rss: base %ld KiB, after free %ld KiB, after trim %ld KiB; madvise calls: first trim "
           "%llu, second %llu (returned %d)\n",
           base, after_free, after_trim, (unsigned long long)(m1 - m0),
           (unsigned long long)(m2 - m1), again);
    CHECK(m2 == m1, "a second trim with nothing freed made %llu madvise calls",
          (unsigned long long)(m2 - m1));
    CHECK(again == 0, "a second trim with nothing freed returned %d", again);

    /* One kept 512 B block in the middle of a slab freed: its page and the
     * purged free pages on either side make one stretch, one call. */
    sable_free(mid[NMID / 2 + 16 * 3]);
    mid[NMID / 2 + 16 * 3] = NULL;
    wait_trim_interval();
    CHECK(sable_trim(0) == 1, "trimming one freed small block released nothing");
    uint64_t m25 = nmadvise();
    printf("one small block freed: %llu madvise calls\n", (unsigned long long)(m25 - m2));
    CHECK(m25 - m2 == 1, "one freed small block took %llu madvise calls",
          (unsigned long long)(m25 - m2));
    m2 = m25;

    /* One large block freed between a free and a live neighbour: one call. */
    int k = 0;
    while (k + 1 < NLARGE && !(large[k] != NULL && large[k + 1] == NULL)) k++;
    CHECK(k + 1 < NLARGE, "no live large block next to a free one");
    sable_free(large[k]);
    large[k] = NULL;
    wait_trim_interval();
    CHECK(sable_trim(0) == 1, "trimming one freed large block released nothing");
    uint64_t m3 = nmadvise();
    printf("one large block freed: %llu madvise calls\n", (unsigned long long)(m3 - m2));
    CHECK(m3 - m2 == 1, "one freed large block took %llu madvise calls",
          (unsigned long long)(m3 - m2));

    /* Free everything: one trim returns it. */
    for (int i = 0; i < NSMALL; i++) sable_free(small[i]);
    for (int i = 0; i < NMID; i++) sable_free(mid[i]);
    for (int i = 0; i < NLARGE; i++) sable_free(large[i]);
    CHECK(sable_trim(0) == 1, "the trim after freeing everything released nothing");
    long end = rss_kib();
    printf("after freeing everything and a trim: %ld KiB\n", end);
    CHECK(end - base < 32 * 1024, "RSS stayed %ld KiB above the baseline", end - base);
    return 0;
}
