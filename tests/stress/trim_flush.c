/* malloc_trim in one thread asks every other thread to flush its cache at
 * its next slow path:
 *   1. thread A fills its cache: blocks of four small classes, freed again;
 *   2. the main thread sees them in thread caches (stats.tcache_bytes) and
 *      out of their slabs (the 64-byte class's curregs), and calls
 *      sable_trim: they stay (no thread touches another's cache);
 *   3. A makes one allocation of a class it never used, which misses its
 *      cache: that slow path flushes everything A holds;
 *   4. no bytes are left in thread caches, the 64-byte blocks are back in
 *      their slabs, and a trim after the trim interval purges the slabs they
 *      emptied (returns 1).
 * Before flush requests, A's blocks stayed cached until A exited. */
#include <pthread.h>
#include <time.h>

#include "stress.h"

enum { NSIZES = 4, PER_SIZE = 100 };
static const size_t sizes[NSIZES] = {64, 256, 1024, 4096};

static pthread_barrier_t step;

static void *thread_a(void *arg)
{
    (void)arg;
    void *p[PER_SIZE];
    for (unsigned s = 0; s < NSIZES; s++) {
        for (unsigned i = 0; i < PER_SIZE; i++) p[i] = alloc_filled(sizes[s]);
        for (unsigned i = 0; i < PER_SIZE; i++) free_checked(p[i], sizes[s]);
    }
    pthread_barrier_wait(&step); /* 1: cache filled */
    pthread_barrier_wait(&step); /* 2: the main thread trimmed */
    void *miss = alloc_filled(10000);
    pthread_barrier_wait(&step); /* 3: one slow path taken */
    pthread_barrier_wait(&step); /* 4: checked */
    free_checked(miss, 10000);
    return NULL;
}

/* Blocks of the 64-byte class out of their slabs, in all arenas. */
static size_t curregs_64(void)
{
    unsigned nbins = 0;
    size_t len = sizeof nbins;
    CHECK(sable_mallctl("arenas.nbins", &nbins, &len, NULL, 0) == 0, "arenas.nbins");
    char name[96];
    for (unsigned j = 0; j < nbins; j++) {
        size_t size = 0;
        snprintf(name, sizeof name, "arenas.bin.%u.size", j);
        len = sizeof size;
        CHECK(sable_mallctl(name, &size, &len, NULL, 0) == 0, "%s", name);
        if (size != 64) continue;
        size_t n = 0;
        snprintf(name, sizeof name, "stats.arenas.%u.bins.%u.curregs", all_arenas(), j);
        read_stat(name, &n, sizeof n);
        return n;
    }
    CHECK(0, "no 64-byte class");
    return 0;
}

int main(void)
{
    all_arenas(); /* sets sable up; the main thread never allocates, and its
                   * trims below are the first (malloc_trim asks threads to
                   * flush at most once per trim interval) */
    CHECK(pthread_barrier_init(&step, NULL, 2) == 0, "barrier");
    pthread_t a;
    CHECK(pthread_create(&a, NULL, thread_a, NULL) == 0, "pthread_create");

    pthread_barrier_wait(&step); /* 1 */
    size_t held = cached_bytes(), out64 = curregs_64();
    printf("trim_flush: %zu bytes cached by thread A, %zu 64-byte blocks out of slabs\n", held,
           out64);
    CHECK(held >= PER_SIZE * 64, "thread A's cache holds %zu bytes", held);
    CHECK(out64 >= PER_SIZE, "%zu 64-byte blocks out of slabs", out64);
    sable_trim(0);
    CHECK(cached_bytes() == held, "another thread's cache changed under trim: %zu -> %zu", held,
          cached_bytes());
    pthread_barrier_wait(&step); /* 2 */

    pthread_barrier_wait(&step); /* 3 */
    size_t left = cached_bytes(), back64 = curregs_64();
    printf("trim_flush: after A's slow path: %zu bytes cached, %zu 64-byte blocks out\n", left,
           back64);
    CHECK(left == 0, "%zu bytes still in thread caches", left);
    CHECK(back64 + PER_SIZE <= out64, "64-byte blocks out of slabs: %zu -> %zu", out64, back64);
    nanosleep(&(struct timespec){1, 100 * 1000 * 1000}, NULL); /* the trim interval: 1 s */
    CHECK(sable_trim(0) == 1, "the trim after the flush released nothing");
    pthread_barrier_wait(&step); /* 4 */
    pthread_join(a, NULL);
    return 0;
}
