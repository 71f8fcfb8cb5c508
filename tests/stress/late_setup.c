/* Threads whose first allocation comes late in their exit, after the
 * thread function returned:
 *   - in a TLS destructor registered with __cxa_thread_atexit_impl (what a
 *     C++ thread_local with a destructor uses; glibc runs these before the
 *     pthread key destructors);
 *   - in a pthread key destructor, in the first round;
 *   - in the last round (PTHREAD_DESTRUCTOR_ITERATIONS) of key destructors,
 *     where a key the allocator sets for the thread is never destroyed: the
 *     thread exits with its cache set up.
 * Each allocates and frees blocks of several classes there, so that its
 * cache holds blocks when it exits. NTHREADS threads run, AT_ONCE at a
 * time. The threads attached to arenas (stats.arenas.<all>.nthreads) stay
 * bounded meanwhile (thread set-up reclaims the caches of threads that are
 * gone), and after sable_trim they and the bytes in thread caches are back
 * to what they were before the first thread. Without that, every
 * last-round thread keeps a cache attached, with its blocks, for ever. */
#include <limits.h>
#include <pthread.h>
#include <time.h>

#include "stress.h"

enum {
    NTHREADS = 900,
    AT_ONCE = 6,
    /* Set-up reaps caches of exited threads once the live ones reach twice
     * the last count plus THREADS_REAP_FIRST (64, src/process/threads.h):
     * with AT_ONCE threads alive, never near 128; without reaping,
     * NTHREADS / 3 stay. */
    MAX_ATTACHED = 128,
};

extern int __cxa_thread_atexit_impl(void (*fn)(void *), void *obj, void *dso);
extern void *__dso_handle;

static pthread_key_t key_first, key_last;
static atomic_int last_round_calls;

/* The thread's first allocations: blocks of three classes, freed again,
 * so that they stay in its cache. */
static void allocate_and_free(unsigned salt)
{
    static const size_t sizes[] = {24, 200, 3000};
    void *p[40];
    for (unsigned s = 0; s < 3; s++) {
        size_t size = sizes[s] + salt % 8;
        for (unsigned i = 0; i < 40; i++) p[i] = alloc_filled(size);
        for (unsigned i = 0; i < 40; i++) free_checked(p[i], size);
    }
}

static void tls_destructor(void *arg) { allocate_and_free((unsigned)(uintptr_t)arg); }

static void first_round(void *arg) { allocate_and_free((unsigned)(uintptr_t)arg); }

/* Re-arms its key until the last round, and allocates only then. */
static void rearm_until_last(void *arg)
{
    uintptr_t round = (uintptr_t)arg;
    if (round < PTHREAD_DESTRUCTOR_ITERATIONS) {
        pthread_setspecific(key_last, (void *)(round + 1));
        return;
    }
    atomic_fetch_add(&last_round_calls, 1);
    allocate_and_free((unsigned)round);
}

static void *thread_main(void *arg)
{
    uintptr_t kind = (uintptr_t)arg % 3;
    if (kind == 0)
        CHECK(__cxa_thread_atexit_impl(tls_destructor, arg, &__dso_handle) == 0, "thread_atexit");
    else if (kind == 1)
        pthread_setspecific(key_first, arg);
    else
        pthread_setspecific(key_last, (void *)(uintptr_t)1);
    return NULL;
}

static unsigned attached(void)
{
    unsigned n = 0;
    char name[64];
    snprintf(name, sizeof name, "stats.arenas.%u.nthreads", all_arenas());
    read_stat(name, &n, sizeof n);
    return n;
}

int main(void)
{
    CHECK(pthread_key_create(&key_first, first_round) == 0, "key");
    CHECK(pthread_key_create(&key_last, rearm_until_last) == 0, "key");
    /* The main thread never allocates; its first trim comes after the
     * threads (malloc_trim reaps at most once per trim interval). */
    unsigned base_attached = attached();
    size_t base_cached = cached_bytes();
    unsigned most = 0;
    for (unsigned started = 0; started < NTHREADS; started += AT_ONCE) {
        pthread_t t[AT_ONCE];
        for (unsigned i = 0; i < AT_ONCE; i++)
            CHECK(pthread_create(&t[i], NULL, thread_main, (void *)(uintptr_t)(started + i)) == 0,
                  "pthread_create");
        for (unsigned i = 0; i < AT_ONCE; i++) pthread_join(t[i], NULL);
        unsigned now = attached();
        if (now > most) most = now;
    }
    CHECK(atomic_load(&last_round_calls) == NTHREADS / 3, "%d destructor calls in the last round",
          atomic_load(&last_round_calls));
    printf("late_setup: %d threads, at most %u attached (%u before)\n", NTHREADS, most,
           base_attached);
    CHECK(most <= base_attached + MAX_ATTACHED, "%u threads attached", most);
    /* A joined thread may still be leaving the kernel for a moment: its
     * cache is reclaimed by the first trim after it is gone. */
    unsigned after = 0;
    size_t bytes = 0;
    for (int tries = 0; tries < 200; tries++) {
        sable_trim(0);
        after = attached();
        bytes = cached_bytes();
        if (after == base_attached && bytes == base_cached) break;
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    }
    printf("late_setup: after trim %u attached, %zu bytes cached (%zu before)\n", after, bytes,
           base_cached);
    CHECK(after == base_attached, "%u threads still attached, %u before", after, base_attached);
    CHECK(bytes == base_cached, "%zu bytes in thread caches, %zu before", bytes, base_cached);
    return 0;
}
