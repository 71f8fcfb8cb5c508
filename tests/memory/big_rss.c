/* RSS comes back after ~512 MiB of small, large (16 KiB .. 2 MiB) and huge
 * (2 .. 64 MiB) blocks were allocated, touched in full and freed in a
 * shuffled order: within 32 MiB of the baseline.
 *
 *   memory-big-rss trim      sable_trim(0) (malloc_trim) right after the frees
 *   memory-big-rss decay     no trim: the program keeps running (a few big
 *                            allocations every 20 ms drive the slow-path
 *                            decay ticks) for at most 5 s
 *   memory-big-rss idle      no trim, no further calls: only sleeping, for
 *                            at most 5 s (needs background_thread:true)
 *
 * The test's environment sets SABLE_CONF: the hugepages mode for trim
 * (off, thp, hugetlb: hugetlb falls back to normal pages when the kernel's
 * pool is empty), a short dirty_decay_ms for decay and idle. Each run prints
 * its baseline, peak, after-free and final RSS. */
#include <time.h>

#include "common.h"

#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)
#define SLACK_KIB (32 * 1024L)

static unsigned long long rng = 0x9e3779b97f4a7c15ull;
static unsigned long long next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* log-uniform in [lo, hi] */
static size_t log_uniform(size_t lo, size_t hi)
{
    size_t base = lo;
    unsigned steps = 0;
    while ((base << 1) <= hi) base <<= 1, steps++;
    size_t b = lo << (next_rand() % (steps + 1));
    size_t top = b * 2 > hi ? hi : b * 2;
    return b + next_rand() % (top - b + 1);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static double elapsed_s(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "trim";
    CHECK(strcmp(mode, "trim") == 0 || strcmp(mode, "decay") == 0 || strcmp(mode, "idle") == 0,
          "unknown mode '%s' (trim, decay, idle)", mode);

    /* Budgets per kind; blocks are drawn from whichever kinds have budget
     * left, so the three kinds interleave in the address space. */
    size_t budget[3] = {96 * MiB, 192 * MiB, 224 * MiB};
    enum { MAXBLOCKS = 1 << 16 };
    void **blocks = malloc(MAXBLOCKS * sizeof *blocks); /* bookkeeping: libc */
    CHECK(blocks != NULL, "bookkeeping");

    sable_free(sable_malloc(1)); /* initialise before the baseline */
    long base = rss_kib();
    size_t n = 0, total = 0, nkind[3] = {0, 0, 0};
    while ((budget[0] || budget[1] || budget[2]) && n < MAXBLOCKS) {
        unsigned k = (unsigned)(next_rand() % 3);
        if (budget[k] == 0) continue;
        size_t sz = k == 0 ? 16 + next_rand() % (16 * KiB - 15)
                  : k == 1 ? log_uniform(16 * KiB + 1, 2 * MiB)
                           : log_uniform(2 * MiB + 1, 64 * MiB);
        if (sz > budget[k]) sz = budget[k]; /* the tail of a kind's budget */
        unsigned char *p = sable_malloc(sz);
        CHECK(p != NULL, "malloc(%zu) failed after %zu MiB", sz, total >> 20);
        memset(p, (int)(n & 0xff) | 1, sz); /* every page touched */
        blocks[n++] = p;
        total += sz;
        budget[k] -= sz;
        nkind[k]++;
    }
    long peak = rss_kib();

    /* Free in a shuffled order. */
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)(next_rand() % (i + 1));
        void *t = blocks[i];
        blocks[i] = blocks[j];
        blocks[j] = t;
    }
    for (size_t i = 0; i < n; i++) sable_free(blocks[i]);
    free(blocks);
    long after_free = rss_kib();

    long now = after_free;
    double waited = 0;
    if (strcmp(mode, "trim") == 0) {
        sable_trim(0);
        now = rss_kib();
    } else {
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        while (now - base >= SLACK_KIB && (waited = elapsed_s(&t0)) < 5.0) {
            sleep_ms(20);
            if (strcmp(mode, "decay") == 0) {
                /* A running program: large and small allocations (slow
                 * paths, each a decay tick), touched and freed at once. */
                for (int i = 0; i < 64; i++) {
                    unsigned char *p = sable_malloc(300 * KiB + (size_t)i * 4096);
                    CHECK(p != NULL, "churn allocation failed");
                    p[0] = 1;
                    sable_free(p);
                    sable_free(sable_malloc(16 + (size_t)i * 48));
                }
            }
            now = rss_kib();
        }
    }
    printf("%s: %zu blocks (%zu small, %zu large, %zu huge), %zu MiB touched\n", mode, n,
           nkind[0], nkind[1], nkind[2], total >> 20);
    printf("rss: base %ld KiB, peak %ld KiB, after free %ld KiB, final %ld KiB (%.2f s waited)\n",
           base, peak, after_free, now, waited);
    CHECK(total >= 500 * MiB, "only %zu MiB allocated", total >> 20);
    CHECK(nkind[0] > 0 && nkind[1] > 0 && nkind[2] > 0, "a kind of block is missing");
    /* Pages from the kernel's huge-page pool are not counted in VmRSS: the
     * peak says nothing then. Otherwise the touched memory must have shown. */
    if (meminfo("HugePages_Total") <= 0)
        CHECK(peak - base >= 400 * 1024L, "the peak RSS (%ld KiB over the baseline) does not "
              "show the touched memory", peak - base);
    CHECK(now - base < SLACK_KIB, "RSS stayed %ld KiB above the baseline (%s)", now - base, mode);
    return 0;
}
