/* Thread churn: 100,000 short-lived threads, a few at a time, each allocating
 * and freeing, each freeing a block that an earlier (exited) thread left
 * behind. Per-thread state must be reclaimed: RSS growth stays bounded. */
#include <pthread.h>

#include "stress.h"

enum {
    TOTAL_THREADS = 100000,
    AT_ONCE = 4,
    WARMUP = 1000,
    MAX_GROWTH_KIB = 8 * 1024, /* "no growth": caches are recycled, not leaked */
};

struct handoff {
    void *p;
    size_t size;
};

static pthread_mutex_t handoff_lock = PTHREAD_MUTEX_INITIALIZER;
static struct handoff left_behind; /* a block from a previous thread */

static void *short_lived(void *arg)
{
    uint64_t rng = (uint64_t)(uintptr_t)arg * 2654435761u + 17;
    enum { N = 40 };
    void *b[N];
    size_t sz[N];
    for (int i = 0; i < N; i++) {
        sz[i] = (rng_next(&rng) % 16 == 0) ? 4 * KiB + rng_next(&rng) % (60 * KiB)
                                          : 8 + rng_next(&rng) % 500;
        b[i] = alloc_filled(sz[i]);
    }
    for (int i = 1; i < N; i++)
        free_checked(b[i], sz[i]);

    struct handoff mine = {b[0], sz[0]};
    pthread_mutex_lock(&handoff_lock);
    struct handoff theirs = left_behind;
    left_behind = mine;
    pthread_mutex_unlock(&handoff_lock);
    if (theirs.p)
        free_checked(theirs.p, theirs.size);
    return NULL;
}

int main(void)
{
    long rss_after_warmup = -1;
    pthread_t t[AT_ONCE];
    for (int started = 0; started < TOTAL_THREADS; started += AT_ONCE) {
        for (int i = 0; i < AT_ONCE; i++)
            CHECK(pthread_create(&t[i], NULL, short_lived, (void *)(uintptr_t)(started + i)) == 0,
                "pthread_create #%d", started + i);
        for (int i = 0; i < AT_ONCE; i++)
            pthread_join(t[i], NULL);
        if (started + AT_ONCE == WARMUP)
            rss_after_warmup = rss_kib();
    }
    long rss_end = rss_kib();
    if (left_behind.p)
        free_checked(left_behind.p, left_behind.size);
    CHECK(rss_after_warmup > 0 && rss_end > 0, "cannot read VmRSS");
    printf("churn: %d threads, VmRSS %ld KiB after %d, %ld KiB at the end\n", TOTAL_THREADS,
        rss_after_warmup, WARMUP, rss_end);
    CHECK(rss_end - rss_after_warmup < MAX_GROWTH_KIB, "VmRSS grew by %ld KiB over %d threads",
        rss_end - rss_after_warmup, TOTAL_THREADS - WARMUP);
    return 0;
}
