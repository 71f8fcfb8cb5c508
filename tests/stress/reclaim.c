/* Idle-cache reclaim under fire: workers allocate, write, check and free
 * (some blocks crosswise, through a shared mailbox) in bursts, and between
 * bursts sleep long enough for the background thread to take their caches
 * (src/process/reclaim.c), or briefly, or not at all. Signals interrupt
 * them at random, some while they allocate, and some handlers block in a
 * system call for a while. Every block carries a pattern derived from its
 * address: a block handed out twice, or taken back while in use, shows as
 * a damaged pattern. At the end the background thread must have taken
 * caches (where this build and kernel can: membarrier, not under TSan). */
#include <pthread.h>
#include <signal.h>
#include <time.h>

#include "stress.h"
#ifndef SABLE_TLS_MODEL
#define SABLE_TLS_MODEL "initial-exec"
#endif
#include "os/os.h"
#include "process/reclaim.h"

#define WORKERS 12
#define HELD 256
#define MAILBOX 512
#define SECONDS 8.0

static pthread_mutex_t box_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    void *p;
    size_t size;
} box[MAILBOX];
static int nbox;
static atomic_uint_fast64_t signals_seen, ops;
static pthread_t tids[WORKERS];

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static void on_signal(int sig)
{
    (void)sig;
    atomic_fetch_add_explicit(&signals_seen, 1, memory_order_relaxed);
    /* Now and then a handler that blocks a while in a system call. */
    if (atomic_load_explicit(&signals_seen, memory_order_relaxed) % 8 == 0) {
        struct timespec t = {0, 3 * 1000 * 1000};
        nanosleep(&t, NULL);
    }
}

static void sleep_ms(long ms)
{
    struct timespec t = {ms / 1000, ms % 1000 * 1000 * 1000L}, rem;
    while (nanosleep(&t, &rem) != 0) t = rem; /* signals cut it short */
}

static size_t size_of(uint64_t *rng)
{
    uint64_t r = rng_next(rng);
    if (r % 100 < 90) return 8 + (r >> 8) % 1024;
    if (r % 100 < 98) return 1024 + (r >> 8) % (32 * KiB);
    return 32 * KiB + (r >> 8) % (224 * KiB);
}

static void release(void *p, size_t size)
{
    pattern_check(p, p, size, size);
    sable_free(p);
}

static void *worker(void *arg)
{
    uint64_t rng = 0x9e3779b97f4a7c15ull * (uint64_t)(uintptr_t)arg + 1;
    void *held[HELD] = {0};
    size_t hsize[HELD] = {0};
    double end = now_s() + SECONDS;
    while (now_s() < end) {
        unsigned n = 200 + (unsigned)(rng_next(&rng) % 3000);
        for (unsigned i = 0; i < n; i++) {
            unsigned k = (unsigned)(rng_next(&rng) % HELD);
            if (held[k]) {
                if (rng_next(&rng) % 4 == 0) {
                    pattern_check(held[k], held[k], hsize[k], hsize[k]);
                    pthread_mutex_lock(&box_lock);
                    if (nbox < MAILBOX) {
                        box[nbox].p = held[k];
                        box[nbox++].size = hsize[k];
                        held[k] = NULL;
                    }
                    pthread_mutex_unlock(&box_lock);
                }
                if (held[k]) release(held[k], hsize[k]);
                held[k] = NULL;
            } else {
                size_t size = size_of(&rng);
                void *p = sable_malloc(size);
                CHECK(p != NULL, "malloc(%zu)", size);
                pattern_fill(p, size);
                held[k] = p;
                hsize[k] = size;
            }
            if (i % 64 == 0) {
                void *q = NULL;
                size_t qs = 0;
                pthread_mutex_lock(&box_lock);
                if (nbox) {
                    q = box[--nbox].p;
                    qs = box[nbox].size;
                }
                pthread_mutex_unlock(&box_lock);
                if (q) release(q, qs);
            }
        }
        atomic_fetch_add_explicit(&ops, n, memory_order_relaxed);
        /* Free about half of what is held, so that the caches fill. */
        for (unsigned k = 0; k < HELD; k++)
            if (held[k] && rng_next(&rng) % 2) {
                release(held[k], hsize[k]);
                held[k] = NULL;
            }
        unsigned pause = (unsigned)(rng_next(&rng) % 10);
        if (pause < 4) sleep_ms(560 + (long)(rng_next(&rng) % 400)); /* idle: reclaimed */
        else if (pause < 7) sleep_ms((long)(rng_next(&rng) % 40));
        for (unsigned k = 0; k < HELD; k++)
            if (held[k]) pattern_check(held[k], held[k], hsize[k], hsize[k]);
    }
    for (unsigned k = 0; k < HELD; k++)
        if (held[k]) release(held[k], hsize[k]);
    return NULL;
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction");
    for (uintptr_t i = 0; i < WORKERS; i++)
        CHECK(pthread_create(&tids[i], NULL, worker, (void *)(i + 1)) == 0, "pthread_create");
    uint64_t rng = 42;
    double end = now_s() + SECONDS - 0.5;
    while (now_s() < end) {
        pthread_kill(tids[rng_next(&rng) % WORKERS], SIGUSR1);
        sleep_ms(7);
    }
    for (int i = 0; i < WORKERS; i++) CHECK(pthread_join(tids[i], NULL) == 0, "join");
    while (nbox) {
        nbox--;
        release(box[nbox].p, box[nbox].size);
    }
    uint64_t reclaims = 0, bytes = 0;
    size_t len = sizeof reclaims;
    CHECK(sable_mallctl("stats.background_thread.reclaims", &reclaims, &len, NULL, 0) == 0, "reclaims");
    CHECK(sable_mallctl("stats.background_thread.reclaimed_bytes", &bytes, &len, NULL, 0) == 0, "bytes");
    size_t bg = 0;
    len = sizeof bg;
    CHECK(sable_mallctl("stats.background_thread.num_threads", &bg, &len, NULL, 0) == 0, "num_threads");
    printf("%llu operations, %llu signals; %llu caches reclaimed, %llu bytes\n",
           (unsigned long long)atomic_load(&ops), (unsigned long long)atomic_load(&signals_seen),
           (unsigned long long)reclaims, (unsigned long long)bytes);
    CHECK(bg == 1, "the background thread does not run");
    if (reclaim_available() && os_process_fence())
        CHECK(reclaims > 0, "no idle cache was taken");
    else
        printf("no membarrier here (or a ThreadSanitizer build): nothing is taken\n");
    return 0;
}
