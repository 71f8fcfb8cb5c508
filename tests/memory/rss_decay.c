/* Without a background thread, a busy program's slow paths run the decay:
 * with dirty_decay_ms:100 (set by the test's environment), memory freed
 * comes back while the program keeps allocating other sizes. */
#include <time.h>

#include "common.h"

int main(void)
{
    sable_free(sable_malloc(1));
    long base = rss_kib();
    alloc_and_free_crosswise((size_t)256 << 20);
    long after_free = rss_kib();
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long now = after_free;
    do {
        /* churn through many classes so that fills and flushes happen */
        for (size_t sz = 16; sz <= 8192; sz += 16) {
            void *p[64];
            for (int i = 0; i < 64; i++) p[i] = sable_malloc(sz);
            for (int i = 0; i < 64; i++) sable_free(p[i]);
        }
        now = rss_kib();
        clock_gettime(CLOCK_MONOTONIC, &t);
    } while (now - base >= 32 * 1024 && t.tv_sec - t0.tv_sec < 4);
    printf("rss: base %ld KiB, after free %ld KiB, after churn %ld KiB\n", base, after_free, now);
    CHECK(now - base < 32 * 1024, "RSS stayed %ld KiB above the baseline", now - base);
    free_kept();
    return 0;
}
