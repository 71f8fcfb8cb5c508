/* jemalloc's run-time switches while threads allocate: the main thread
 * turns background_thread on and off and changes arenas.dirty_decay_ms
 * between 0 and its default, and reads thread.peak and the extended API's
 * sizes, while four threads allocate, fill, check and free blocks of every
 * kind, part of them through sable_mallocx with MALLOCX_ARENA and
 * MALLOCX_TCACHE_NONE. Every block must keep its contents; every switch
 * must return (stopping the purger waits for it), and once off, the purger
 * must stay off. Under ThreadSanitizer this is where a race between the
 * switches and decay, or the purger and the threads, shows. */
#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include "stress.h"

enum { NTHREADS = 4, ROUNDS = 2000000, LIVE = 64 }; /* ROUNDS: a bound; they run until stopped */
static atomic_int stop;

static void *worker(void *arg)
{
    uint64_t rng = (uintptr_t)arg * 0x9e3779b97f4a7c15ull + 1;
    unsigned narenas = 0;
    size_t len = sizeof narenas;
    CHECK(sable_mallctl("arenas.narenas", &narenas, &len, NULL, 0) == 0, "narenas");
    void *live[LIVE] = {0};
    size_t size[LIVE] = {0};
    int flags[LIVE] = {0};
    for (unsigned r = 0; r < ROUNDS && !atomic_load(&stop); r++) {
        unsigned k = (unsigned)(rng_next(&rng) % LIVE);
        if (live[k]) {
            pattern_check(live[k], live[k], size[k], size[k]);
            sable_dallocx(live[k], flags[k]);
        }
        uint64_t x = rng_next(&rng);
        size[k] = x % 4 == 0 ? 16 + x % (64 * KiB) : x % 4 == 1 ? 16 + x % 1024 : 1 + x % 300000;
        flags[k] = x % 3 == 0 ? SABLE_MALLOCX_ARENA((unsigned)(x >> 8) % narenas)
                   : x % 3 == 1 ? SABLE_MALLOCX_TCACHE_NONE
                                : 0;
        live[k] = sable_mallocx(size[k], flags[k]);
        CHECK(live[k] != NULL, "mallocx(%zu, %#x)", size[k], flags[k]);
        CHECK(sable_sallocx(live[k], 0) == sable_nallocx(size[k], flags[k]), "sizes");
        pattern_fill(live[k], size[k]);
    }
    for (unsigned k = 0; k < LIVE; k++) {
        if (live[k] == NULL) continue;
        pattern_check(live[k], live[k], size[k], size[k]);
        sable_sdallocx(live[k], size[k], flags[k]);
    }
    return NULL;
}

static void set_bool(const char *name, bool v)
{
    CHECK(sable_mallctl(name, NULL, NULL, &v, sizeof v) == 0, "%s", name);
}

static size_t bg_threads(void)
{
    size_t n = 99, len = sizeof n;
    CHECK(sable_mallctl("stats.background_thread.num_threads", &n, &len, NULL, 0) == 0, "n");
    return n;
}

int main(void)
{
    pthread_t t[NTHREADS];
    for (uintptr_t i = 0; i < NTHREADS; i++)
        CHECK(pthread_create(&t[i], NULL, worker, (void *)(i + 1)) == 0, "pthread_create");
    ssize_t def = 0, zero = 0;
    size_t len = sizeof def;
    CHECK(sable_mallctl("arenas.dirty_decay_ms", &def, &len, NULL, 0) == 0, "decay");
    for (int i = 0; i < 40; i++) {
        set_bool("background_thread", i % 2 == 0);
        CHECK(bg_threads() == (i % 2 == 0 ? 1u : 0u), "purger %s", i % 2 ? "stopped" : "runs");
        ssize_t ms = i % 4 < 2 ? zero : def;
        CHECK(sable_mallctl("arenas.dirty_decay_ms", NULL, NULL, &ms, sizeof ms) == 0, "set");
        uint64_t peak;
        len = sizeof peak;
        CHECK(sable_mallctl("thread.peak.read", &peak, &len, NULL, 0) == 0, "peak");
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < NTHREADS; i++) pthread_join(t[i], NULL);
    set_bool("background_thread", false);
    CHECK(bg_threads() == 0, "the purger stays off");
    CHECK(sable_mallctl("arenas.dirty_decay_ms", NULL, NULL, &def, sizeof def) == 0, "restore");
    puts("switches: ok");
    return 0;
}
