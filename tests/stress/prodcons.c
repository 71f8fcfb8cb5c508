/* Producer/consumer: one thread allocates, another frees, 10 million blocks
 * through a bounded single-producer single-consumer ring. Every free is a
 * remote free; memory must flow back to the producer, so RSS stays bounded. */
#include <pthread.h>
#include <sched.h>

#include "stress.h"

enum {
    BLOCKS = 10 * 1000 * 1000,
    RING = 4096, /* power of two */
    MAX_GROWTH_KIB = 64 * 1024,
};

struct item {
    void *p;
    size_t size;
};

static struct item ring[RING];
static _Atomic size_t head; /* next to write, producer only */
static _Atomic size_t tail; /* next to read, consumer only */
static _Atomic long peak_rss;

static void *producer(void *arg)
{
    (void)arg;
    uint64_t rng = 12345;
    for (size_t n = 0; n < BLOCKS; n++) {
        uint64_t r = rng_next(&rng);
        size_t size = (r % 64 == 0) ? 1024 + r % (15 * KiB) : 16 + (r >> 8) % 240;
        char *p = sable_malloc(size);
        CHECK(p != NULL, "sable_malloc(%zu)", size);
        /* header and trailer words: cheap enough for ten million blocks */
        uint64_t w = pattern_word(p, size, 0);
        memcpy(p, &w, 8);
        memcpy(p + size - 8, &w, 8);
        size_t h = atomic_load_explicit(&head, memory_order_relaxed);
        while (h - atomic_load_explicit(&tail, memory_order_acquire) == RING)
            sched_yield();
        ring[h % RING] = (struct item){p, size};
        atomic_store_explicit(&head, h + 1, memory_order_release);
    }
    return NULL;
}

static void *consumer(void *arg)
{
    (void)arg;
    for (size_t n = 0; n < BLOCKS; n++) {
        size_t t = atomic_load_explicit(&tail, memory_order_relaxed);
        while (atomic_load_explicit(&head, memory_order_acquire) == t)
            sched_yield();
        struct item it = ring[t % RING];
        atomic_store_explicit(&tail, t + 1, memory_order_release);
        uint64_t w = pattern_word(it.p, it.size, 0), a, b;
        memcpy(&a, it.p, 8);
        memcpy(&b, (char *)it.p + it.size - 8, 8);
        CHECK(a == w && b == w, "block %zu (%p, %zu B) damaged", n, it.p, it.size);
        sable_free(it.p);
        if (n % (1 << 20) == 0) {
            long rss = rss_kib();
            if (rss > atomic_load(&peak_rss))
                atomic_store(&peak_rss, rss);
        }
    }
    return NULL;
}

int main(void)
{
    sable_free(sable_malloc(1));
    long rss_start = rss_kib();
    pthread_t p, c;
    CHECK(pthread_create(&c, NULL, consumer, NULL) == 0, "pthread_create");
    CHECK(pthread_create(&p, NULL, producer, NULL) == 0, "pthread_create");
    pthread_join(p, NULL);
    pthread_join(c, NULL);
    long rss_end = rss_kib();
    long peak = atomic_load(&peak_rss) > rss_end ? atomic_load(&peak_rss) : rss_end;
    printf("prodcons: %d blocks, VmRSS %ld KiB at start, peak %ld KiB, end %ld KiB\n", BLOCKS,
        rss_start, peak, rss_end);
    CHECK(peak - rss_start < MAX_GROWTH_KIB, "VmRSS grew by %ld KiB", peak - rss_start);
    return 0;
}
