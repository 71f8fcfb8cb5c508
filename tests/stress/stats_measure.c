/* A statistics refresh does not stall allocation while it measures resident
 * bytes (mincore): a refresh is held inside its measuring step (the debug
 * build's hook, arena.h), and meanwhile another thread allocates and frees
 * small, large and huge blocks from the same arena (one arena: narenas:1,
 * set by the test's environment). Were the arena lock held while measuring,
 * those allocations would wait until the hook gives up, and the test fails.
 * Built with SABLE_DEBUG, as the library is in debug_checks builds. */
#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "arena/arena.h"
#include "stress.h"

enum { NSMALL = 4000, NLARGE = 16, NHUGE = 4, HOOK_WAIT_S = 10 };

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static bool measuring, allocated, timed_out;
static atomic_int hook_calls;

/* Inside the refresh's measuring step: tell the main thread, then wait (at
 * most HOOK_WAIT_S) until it has allocated and freed everything. */
static void hold_measuring(unsigned arena)
{
    (void)arena;
    if (atomic_fetch_add(&hook_calls, 1) != 0) return; /* hold the first one only */
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += HOOK_WAIT_S;
    pthread_mutex_lock(&mu);
    measuring = true;
    pthread_cond_broadcast(&cv);
    while (!allocated && !timed_out)
        if (pthread_cond_timedwait(&cv, &mu, &until) == ETIMEDOUT) timed_out = true;
    pthread_mutex_unlock(&mu);
}

static void *refresh(void *arg)
{
    (void)arg;
    uint64_t e = 1;
    size_t len = sizeof e;
    CHECK(sable_mallctl("epoch", &e, &len, &e, len) == 0, "epoch");
    return NULL;
}

static void *small[NSMALL], *large[NLARGE], *huge[NHUGE];

/* Enough of each kind to need the arena lock: new slabs and chunks for the
 * small blocks, large runs above the cached classes, page-heap extents.
 * (Nothing here may call sable_mallctl: the held refresh has the control
 * lock.) */
static void allocate_and_free(void)
{
    for (int i = 0; i < NSMALL; i++) CHECK((small[i] = sable_malloc(1024)) != NULL, "small");
    for (int i = 0; i < NLARGE; i++) CHECK((large[i] = sable_malloc(512 * KiB)) != NULL, "large");
    for (int i = 0; i < NHUGE; i++) CHECK((huge[i] = sable_malloc(8 * MiB)) != NULL, "huge");
    for (int i = 0; i < NHUGE; i++) memset(huge[i], 1, 4096);
    for (int i = 0; i < NSMALL; i++) sable_free(small[i]);
    for (int i = 0; i < NLARGE; i++) sable_free(large[i]);
    for (int i = 0; i < NHUGE; i++) sable_free(huge[i]);
}

int main(void)
{
    unsigned n = 0;
    size_t len = sizeof n;
    CHECK(sable_mallctl("arenas.narenas", &n, &len, NULL, 0) == 0 && n == 1,
          "one arena (SABLE_CONF=narenas:1), %u", n);
    void *warm = sable_malloc(100); /* the thread is set up before the hook */
    arena_stats_measure_hook = hold_measuring;
    pthread_t t;
    CHECK(pthread_create(&t, NULL, refresh, NULL) == 0, "pthread_create");
    pthread_mutex_lock(&mu);
    while (!measuring) pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);

    allocate_and_free();

    pthread_mutex_lock(&mu);
    bool late = timed_out;
    allocated = true;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    CHECK(pthread_join(t, NULL) == 0, "join");
    arena_stats_measure_hook = NULL;
    sable_free(warm);
    CHECK(!late, "allocations waited for the measuring step (%d s): it holds an arena lock",
          HOOK_WAIT_S);
    printf("small, large and huge blocks allocated and freed during a measurement\n");
    return 0;
}
