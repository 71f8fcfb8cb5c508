/* Idle threads' caches: with the background thread on, a thread that fills
 * its caches and then sleeps holds less than 64 KiB of cached blocks after
 * a few decay periods (the background thread takes them, src/process/
 * reclaim.c). When it wakes its cache works as before (settled, no block
 * handed out twice), and a second idle time is reclaimed again. A thread
 * that stops allocating but keeps running (not blocked in a system call,
 * so it might be inside a pop) loses all but at most one block per class.
 *
 * The worker fills every cached class, small and large: it allocates more
 * blocks of each than its stacks hold, writes them, and frees them all, so
 * that every local stack ends full. It then sleeps on a condition variable
 * (blocked in futex) while the main thread watches stats.tcache_bytes. */
#include <errno.h>
#include <stdatomic.h>

#include "common.h"
#include "sizeclass/sizeclass.h"
#ifndef SABLE_TLS_MODEL
#define SABLE_TLS_MODEL "initial-exec"
#endif
#include "os/os.h"
#include "process/reclaim.h"
#include "tcache/tcache.h"

#define PER_CLASS 300
#define LIMIT (64u << 10)

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int phase; /* worker: 1, 3, 5 after a fill (then idles), main: 2, 4, 6 to go on */
static atomic_int spin_done;

static void *blocks[SC_NCACHED][PER_CLASS];

static unsigned count_of(unsigned c) { return c < SC_NSMALL ? PER_CLASS : 8; }

/* Allocates and writes PER_CLASS blocks of every class, checks that none
 * is handed out twice (each carries its own address), frees them all. */
static void fill(void)
{
    for (unsigned c = 0; c < SC_NCACHED; c++) {
        size_t size = sc_size(c);
        for (unsigned i = 0; i < count_of(c); i++) {
            void **p = sable_malloc(size);
            CHECK(p != NULL, "malloc(%zu)", size);
            p[0] = p;
            p[size / sizeof(void *) - 1] = p;
            blocks[c][i] = p;
        }
        for (unsigned i = 0; i < count_of(c); i++) {
            void **p = blocks[c][i];
            CHECK(p[0] == p && p[size / sizeof(void *) - 1] == p,
                  "block %p of %zu bytes overwritten: handed out twice", (void *)p, size);
        }
        for (unsigned i = 0; i < count_of(c); i++) sable_free(blocks[c][i]);
    }
}

static void wait_phase(int want)
{
    pthread_mutex_lock(&mu);
    while (phase != want) pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
}

static void set_phase(int p)
{
    pthread_mutex_lock(&mu);
    phase = p;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

static void *worker(void *arg)
{
    (void)arg;
    fill();
    set_phase(1);
    wait_phase(2);
    fill();
    set_phase(3);
    wait_phase(4);
    fill();
    set_phase(5);
    while (!atomic_load(&spin_done)) {
    }
    return NULL;
}

static uint64_t u64(const char *name)
{
    uint64_t v = 0;
    size_t len = sizeof v;
    CHECK(sable_mallctl(name, &v, &len, NULL, 0) == 0, "%s", name);
    return v;
}

static size_t cached(void)
{
    uint64_t e = 1;
    CHECK(sable_mallctl("epoch", NULL, NULL, &e, sizeof e) == 0, "epoch");
    size_t v = 0, len = sizeof v;
    CHECK(sable_mallctl("stats.tcache_bytes", &v, &len, NULL, 0) == 0, "stats.tcache_bytes");
    return v;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* Waits (the worker asleep) until the caches hold less than LIMIT, for at
 * most a few decay periods past the idle time; returns how long it took. */
static double watch(size_t before, int round, size_t limit)
{
    double start = now_s(), deadline = start + (RECLAIM_IDLE_MS + 8.0 * TCACHE_GC_MS) / 1000;
    size_t now = before;
    while (now_s() < deadline && (now = cached()) >= limit) {
        struct timespec pause = {0, 20 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    printf("round %d: %zu bytes cached when the worker went idle, %zu after %.2f s\n", round,
           before, now, now_s() - start);
    CHECK(now < limit, "the idle thread still holds %zu bytes of cached blocks", now);
    return now_s() - start;
}

int main(void)
{
    if (!reclaim_available() || !os_process_fence()) {
        printf("SKIP: no membarrier here (or a ThreadSanitizer build): caches are not taken\n");
        return 77;
    }
    pthread_t t;
    CHECK(pthread_create(&t, NULL, worker, NULL) == 0, "pthread_create");
    wait_phase(1);
    size_t before = cached();
    CHECK(before >= (1u << 20), "the worker's caches hold only %zu bytes", before);
    watch(before, 1, LIMIT);
    uint64_t n = u64("stats.background_thread.reclaims");
    uint64_t bytes = u64("stats.background_thread.reclaimed_bytes");
    printf("reclaims %llu, reclaimed bytes %llu\n", (unsigned long long)n, (unsigned long long)bytes);
    CHECK(n >= 1, "no reclaim counted");
    CHECK(bytes + LIMIT >= before, "reclaimed %llu of %zu bytes", (unsigned long long)bytes, before);

    /* Awake again: its cache is settled and serves; then idle again. */
    set_phase(2);
    wait_phase(3);
    before = cached();
    CHECK(before >= (1u << 20), "after waking, the worker's caches hold only %zu bytes", before);
    watch(before, 2, LIMIT);
    n = u64("stats.background_thread.reclaims");
    CHECK(n >= 2, "the second idle time was not reclaimed");

    /* Running but not allocating: the top block of each local stack may
     * be in a pop's hands, and stays. */
    set_phase(4);
    wait_phase(5);
    size_t tops = 1;
    for (unsigned c = 0; c < SC_NCACHED; c++) tops += sc_size(c);
    before = cached();
    watch(before, 3, tops);
    CHECK(u64("stats.background_thread.reclaims") > n, "the spinning thread's cache was not taken");
    atomic_store(&spin_done, 1);
    CHECK(pthread_join(t, NULL) == 0, "pthread_join");
    return 0;
}
