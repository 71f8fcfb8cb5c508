/* src/process/threads.c — thread set-up and tear-down, the pool of caches,
 * orphaned caches, malloc_trim's and the soft memory limit's flush
 * requests, moving a thread to another arena (place.c decides when), and
 * the counters of threads summed for stats (see threads.h).
 *
 * Orphans. exit_key's destructor tears a thread's cache down. A thread whose
 * first allocation comes in the last round of pthread key destructors
 * (glibc runs PTHREAD_DESTRUCTOR_ITERATIONS rounds, and a value set in the
 * last one is dropped without its destructor), or after them (glibc's own
 * clean-up frees), sets the key too late and exits with its cache live:
 * an orphan, which no thread can reach any more. Each cache records the
 * process and kernel thread id it was set up for; a cache of this process
 * whose thread has exited (tgkill answers ESRCH) is reaped: flushed and
 * recycled as at thread exit. Reaping looks at every live cache (a system
 * call each) under pool_lock: at malloc_trim (at most once per trim
 * interval, as its flush requests), and at set-up when the live list has
 * grown to reap_mark, which each look sets to twice the live caches plus
 * THREADS_REAP_FIRST. So set-ups pay O(1) system calls amortised, and
 * orphans never outnumber the live threads plus THREADS_REAP_FIRST. The one
 * cache a forked child keeps live, its thread's own (the others are
 * abandoned, below), takes the child's process and thread ids.
 *
 * Invariants: see threads.h; a cache is reaped only once its owner has
 * exited, so no thread can be using it.
 * Locking: pool_lock, as threads.h says; a thread's own cache needs none.
 * A forked child prunes the live list with the pool lock still held.
 */
#include "process/threads.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "arena/meta.h"
#include "lib/list.h"
#include "options/options.h"
#include "os/lock.h"
#include "process/place.h"
#include "process/process.h"
#include "arena/limit.h"
#include "os/topo.h"
#include "uncached/uncached.h"

static pthread_key_t exit_key;
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static tcache_t *pool;          /* recycled caches, by next_free (pool_lock) */
static tcache_t *live;          /* every live cache (pool_lock) */
static size_t nlive;            /* caches on the live list (pool_lock; read relaxed without it) */
/* The thread's own cache while its pointer (tcache_tls) is parked
 * (reclaim.c); set with the pointer at set-up. */
static __thread tcache_t *thread_home __attribute__((tls_model(SABLE_TLS_MODEL)));
static size_t reap_mark = THREADS_REAP_FIRST; /* nlive at which set-up reaps (pool_lock) */
static tcache_counts_t *exited; /* per arena (ARENA_MAX): counts of finished threads */
static _Atomic unsigned next_seq;
static _Atomic unsigned arena_limit; /* new threads use arenas [0, limit); 0: all */
static _Atomic unsigned flush_epoch; /* flush requests made by malloc_trim */
static _Atomic unsigned cache_shift; /* thread caches' stacks are capacity >> this */
static _Atomic uint32_t trim_asked_ms; /* when the last one was made (os_now_ms) */

DLIST_DEFINE(live_list, tcache_t, next_live, prev_live)

static void thread_exit(void *arg);

/* Idempotent: a set-up that failed half-way is retried from where it
 * stopped. */
bool threads_boot(void)
{
    static bool key_made;
    if (!key_made && pthread_key_create(&exit_key, thread_exit) != 0) return false;
    key_made = true;
    if (exited == NULL) exited = meta_alloc(ARENA_MAX * sizeof *exited);
    return exited != NULL;
}

static void reap_locked(void);

/* A cache for arena a, recycled from the pool or made of new metadata
 * memory, laid out empty, with no owner and every flush request made so far
 * counted as answered; NULL when out of memory. `reap`: look for orphans
 * first when the pool is empty and the live list has grown to reap_mark
 * (thread set-up). */
static tcache_t *cache_make(arena_t *a, bool reap)
{
    lock_take(&pool_lock, LOCK_POOL, 0);
    if (reap && pool == NULL && nlive >= reap_mark) reap_locked();
    tcache_t *tc = pool;
    if (tc) pool = tc->next_free;
    lock_drop(&pool_lock);
    if (tc == NULL && (tc = meta_alloc(tcache_bytes())) == NULL) return NULL;
    tcache_init(tc, a);
    tc->next_free = NULL;
    tc->explicit_ = false;
    tc->owner_pid = tc->owner_tid = 0;
    tc->flush_seen = atomic_load_explicit(&flush_epoch, memory_order_relaxed);
    tc->peak_on = false;
    tc->peak_base = tc->peak_max = 0;
    /* Busy until its thread has it (thread_setup), so that no reclaim takes
     * it half set up; no thread owns an explicit cache, none takes it. */
    tc->busy = 1;
    tc->tls_slot = NULL;
    tc->idle_ops = 0;
    tc->idle_ms = os_now_ms();
    return tc;
}

unsigned threads_cache_shift(size_t n)
{
    size_t total = opt_tcache_total_bytes, full = tcache_full_bytes();
    unsigned k = 0;
    if (total == 0 || n == 0) return 0;
    while (k < THREADS_SHIFT_MAX && (full >> k) > total / n) k++;
    return k;
}

/* The live list grew or shrank to n (pool_lock held). */
static void live_count(size_t n)
{
    __atomic_store_n(&nlive, n, __ATOMIC_RELAXED);
    atomic_store_explicit(&cache_shift, threads_cache_shift(n), memory_order_relaxed);
}

/* tc joins the live list (stats see it from now on). */
static void cache_publish(tcache_t *tc)
{
    lock_take(&pool_lock, LOCK_POOL, 0);
    live_list_push(&live, tc);
    live_count(nlive + 1);
    lock_drop(&pool_lock);
}

tcache_t *thread_setup(void)
{
    if (!process_init()) return NULL;
    unsigned seq = atomic_fetch_add_explicit(&next_seq, 1, memory_order_relaxed);
    unsigned cpu = opt_percpu_arena != PERCPU_OFF || place_numa_active() ? os_current_cpu() : 0;
    unsigned index = place_choose(cpu, seq, threads_auto_count());
    if (!opt_tcache || arena_free_fill() >= 0 || arena_new_fill() >= 0) {
        uncached_thread_init(index, seq);
        tcache_tls = &tcache_dead;
        return &tcache_dead;
    }
    tcache_t *tc = cache_make(arena_get(index), true);
    if (tc == NULL) return NULL;
    atomic_fetch_add_explicit(&tc->arena->nthreads, 1, memory_order_relaxed);
    tc->owner_pid = os_process_id();
    tc->owner_tid = os_thread_id();
    tc->tls_slot = &tcache_tls;
    tc->sigmask = os_signal_mask();
    tcache_set_shift(tc, atomic_load_explicit(&cache_shift, memory_order_relaxed));
    thread_home = tc;
    cache_publish(tc);
    /* Publish before pthread_setspecific: it may call calloc (keys >= 32),
     * which must find this cache instead of setting up another. */
    tcache_tls = tc;
    pthread_setspecific(exit_key, tc);
    __atomic_store_n(&tc->busy, tc->busy - 1, __ATOMIC_RELEASE);
    return tc;
}

/* The pointer is parked: the cache's blocks were taken (or a reclaim that
 * gave up has not put the pointer back yet). Under the pool lock, which
 * every reclaim holds throughout, the cache is settled and the pointer put
 * back. No operation of this thread is in flight on the cache: the thread
 * is here, between two. */
static void unpark(tcache_t *tc)
{
    lock_take(&pool_lock, LOCK_POOL, 0);
    tcache_settle(tc);
    tc->idle_ms = os_now_ms();
    __atomic_store_n(&tcache_tls, tc, __ATOMIC_RELAXED);
    lock_drop(&pool_lock);
}

tcache_t *thread_unpark(void)
{
    tcache_t *tc = thread_home;
    if (unlikely(tc == NULL || tc->state != TCACHE_LIVE || tc->tls_slot != &tcache_tls)) {
        /* Not this thread's cache: never parked by a reclaim (which checks
         * that the owner lives), but a thread must not crash on it. */
        tcache_tls = &tcache_boot;
        return thread_setup();
    }
    unpark(tc);
    return tc;
}

void thread_busy_recheck(tcache_t *tc)
{
    if (__atomic_load_n(&tcache_tls, __ATOMIC_RELAXED)->state == TCACHE_PARKED) unpark(tc);
}

/* The calling thread's own cache, parked or not (counters only). */
static tcache_t *own_cache(void)
{
    tcache_t *tc = tcache_tls;
    return tc->state == TCACHE_PARKED ? thread_home : tc;
}

/* dst may be the shared "exited" totals, which uncached operations update
 * atomically without the pool lock: add atomically (a stats path, rare). */
static void add_counter(uint64_t *dst, const uint64_t *src)
{
    __atomic_fetch_add(dst, __atomic_load_n(src, __ATOMIC_RELAXED), __ATOMIC_RELAXED);
}

static void counts_add(tcache_counts_t *dst, const tcache_counts_t *src)
{
    for (unsigned c = 0; c < SC_NCACHED; c++) {
        add_counter(&dst->nalloc[c], &src->nalloc[c]);
        add_counter(&dst->nfree[c], &src->nfree[c]);
    }
    add_counter(&dst->big_alloc_bytes, &src->big_alloc_bytes);
    add_counter(&dst->big_free_bytes, &src->big_free_bytes);
}

/* Moves a LIVE cache, its blocks flushed, from the live list to the pool,
 * its counts to its arena's totals of finished threads. pool_lock held. */
static void retire_locked(tcache_t *tc)
{
    atomic_fetch_sub_explicit(&tc->arena->nthreads, 1, memory_order_relaxed);
    tc->state = TCACHE_DEAD;
    live_list_remove(&live, tc);
    live_count(nlive - 1);
    counts_add(&exited[tc->arena->index], &tc->counts);
    tc->next_free = pool;
    pool = tc;
}

static void thread_exit(void *arg)
{
    tcache_t *tc = arg;
    if (tc == NULL || tc->state != TCACHE_LIVE) return;
    /* Its own again if it was parked, and busy from here on: no reclaim
     * takes what the flush gives back (the cache is retired busy; cache_make
     * sets it afresh). */
    tc = thread_cache_begin();
    tcache_flush_all(tc);
    /* From here on this thread's frees (from later TLS destructors) go
     * straight to the arenas and never build a new cache. */
    tcache_tls = &tcache_dead;
    lock_take(&pool_lock, LOCK_POOL, 0);
    retire_locked(tc);
    lock_drop(&pool_lock);
}

/* Reaps the orphans (above). pool_lock held; flushing takes bin and arena
 * locks, which come after it in the lock order. */
static void reap_locked(void)
{
    int pid = os_process_id();
    for (tcache_t *tc = live, *next; tc; tc = next) {
        next = tc->next_live;
        if (tc == tcache_tls || tc->owner_pid != pid || !os_thread_gone(pid, tc->owner_tid))
            continue;
        tcache_flush_all(tc);
        retire_locked(tc);
    }
    reap_mark = 2 * nlive + THREADS_REAP_FIRST;
}

void thread_flush(void)
{
    if (tcache_tls->state != TCACHE_LIVE && tcache_tls->state != TCACHE_PARKED) return;
    tcache_t *tc = thread_cache_begin();
    tcache_flush_all(tc);
    thread_cache_end(tc);
}

static bool ask_flush(bool always);

void thread_poll(tcache_t *tc)
{
    /* Above the soft memory limit every cache is asked to flush, at most
     * once per ARENA_TRIM_INTERVAL_MS (as malloc_trim asks). */
    if (unlikely(limit_soft_armed()) && limit_over_soft() && ask_flush(false))
        limit_count_soft_event();
    place_poll(tc);
    unsigned k = atomic_load_explicit(&cache_shift, memory_order_relaxed);
    if (unlikely(tc->shift != k)) tcache_set_shift(tc, k);
    unsigned e = atomic_load_explicit(&flush_epoch, memory_order_relaxed);
    if (unlikely(tc->flush_seen != e)) {
        tc->flush_seen = e;
        tcache_flush_all(tc);
    }
    /* The cache's collection: the clock is read on one slow path in
     * THREADS_GC_TICKS (a slow path costs tens of instructions; the clock
     * about as much again). */
    if (likely(++tc->gc_tick % THREADS_GC_TICKS != 0)) return;
    uint32_t now = os_now_ms(), passes = (now - tc->gc_ms) / TCACHE_GC_MS;
    process_tick_slow(now);
    if (passes == 0) return;
    tc->gc_ms = now;
    tcache_gc(tc, passes < THREADS_GC_PASSES_MAX ? passes : THREADS_GC_PASSES_MAX);
}

void thread_move(tcache_t *tc, arena_t *to)
{
    tcache_flush_all(tc);
    arena_t *from = tc->arena;
    lock_take(&pool_lock, LOCK_POOL, 0);
    tc->arena = to;
    lock_drop(&pool_lock);
    atomic_fetch_sub_explicit(&from->nthreads, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&to->nthreads, 1, memory_order_relaxed);
}

void thread_set_arena(arena_t *to)
{
    tcache_t *tc = thread_cache_begin();
    if (tc == NULL) return;
    if (tc->state == TCACHE_LIVE) {
        if (tc->arena != to) thread_move(tc, to);
        thread_cache_end(tc);
    } else {
        uncached_set_arena(to->index);
    }
}

int thread_cache_enabled(void)
{
    tcache_t *tc = thread_cache();
    if (tc == NULL) return -1;
    return tc->state == TCACHE_LIVE && !tc->off;
}

bool thread_cache_enable(bool on)
{
    tcache_t *tc = thread_cache_begin();
    if (tc == NULL || tc->state != TCACHE_LIVE) return !on;
    tcache_set_enabled(tc, on);
    thread_cache_end(tc);
    return true;
}

tcache_t *threads_cache_new(arena_t *a)
{
    tcache_t *tc = cache_make(a, false);
    if (tc == NULL) return NULL;
    tc->explicit_ = true; /* no owner (pid 0): never reaped */
    cache_publish(tc);
    return tc;
}

void threads_cache_drop(tcache_t *tc)
{
    tcache_flush_all(tc);
    lock_take(&pool_lock, LOCK_POOL, 0);
    /* retire_locked counts a thread out of its arena: explicit caches
     * never counted in. */
    atomic_fetch_add_explicit(&tc->arena->nthreads, 1, memory_order_relaxed);
    retire_locked(tc);
    tc->explicit_ = false;
    lock_drop(&pool_lock);
}

void threads_flush_explicit(void)
{
    lock_take(&pool_lock, LOCK_POOL, 0);
    for (tcache_t *tc = live; tc; tc = tc->next_live)
        if (tc->explicit_) tcache_flush_all(tc);
    lock_drop(&pool_lock);
}

void threads_arena_discarded(unsigned i, bool destroyed)
{
    lock_take(&pool_lock, LOCK_POOL, 0);
    memset(&exited[i], 0, sizeof exited[i]);
    for (tcache_t *tc = live; destroyed && tc; tc = tc->next_live)
        if (tc->explicit_ && tc->arena->index == i) tc->arena = arena_get(0);
    lock_drop(&pool_lock);
}

unsigned threads_auto_count(void)
{
    unsigned n = place_boot(), limit = atomic_load_explicit(&arena_limit, memory_order_relaxed);
    if (n > arena_count()) n = arena_count();
    return limit && limit < n ? limit : n;
}

/* Bumps the flush request counter unless one was made less than
 * ARENA_TRIM_INTERVAL_MS ago (always: the first request ever too). True if
 * it asked. */
static bool ask_flush(bool always)
{
    uint32_t now = os_now_ms(), last = atomic_load_explicit(&trim_asked_ms, memory_order_relaxed);
    unsigned e = atomic_load_explicit(&flush_epoch, memory_order_relaxed);
    if ((e != 0 || !always) && now - last < ARENA_TRIM_INTERVAL_MS) return false;
    if (!atomic_compare_exchange_strong(&trim_asked_ms, &last, now)) return false;
    atomic_fetch_add_explicit(&flush_epoch, 1, memory_order_relaxed);
    return true;
}

void threads_trim(void)
{
    /* At most once per trim interval: a program may trim every few hundred
     * operations, and each request costs every thread a flush and refills,
     * and each reap a system call per live cache. */
    if (!ask_flush(true)) return;
    unsigned e = atomic_load_explicit(&flush_epoch, memory_order_relaxed);
    /* The caller flushes as malloc_trim decides, not at its next miss. */
    tcache_t *tc = tcache_tls;
    if (tc->state == TCACHE_LIVE) tc->flush_seen = e;
    lock_take(&pool_lock, LOCK_POOL, 0);
    reap_locked();
    lock_drop(&pool_lock);
}

void threads_request_flush(void)
{
    atomic_fetch_add_explicit(&flush_epoch, 1, memory_order_relaxed);
}

void threads_arena_limit(unsigned n)
{
    atomic_store_explicit(&arena_limit, n, memory_order_relaxed);
}

arena_t *thread_arena(void)
{
    tcache_t *tc = thread_cache();
    if (tc == NULL) return NULL;
    return tc->state == TCACHE_LIVE ? tc->arena : uncached_arena();
}

/* Operations of threads without a cache (torn down, tcache:false, the fill
 * modes) are counted in arena 0's "exited" totals, atomically: no lock of
 * its own on every operation. A thread with a cache that bypasses it (the
 * extended API) counts in its cache, as its other operations. */
void thread_count_uncached(unsigned sc, uint64_t nalloc, uint64_t nfree)
{
    if (sc >= SC_NCACHED) return;
    tcache_t *tc = own_cache();
    if (tc->state == TCACHE_LIVE) {
        tc->counts.nalloc[sc] += nalloc;
        tc->counts.nfree[sc] += nfree;
        return;
    }
    __atomic_fetch_add(&exited[0].nalloc[sc], nalloc, __ATOMIC_RELAXED);
    __atomic_fetch_add(&exited[0].nfree[sc], nfree, __ATOMIC_RELAXED);
}

void thread_count_big(size_t alloc_bytes, size_t free_bytes)
{
    tcache_t *tc = thread_cache();
    if (tc && tc->state == TCACHE_LIVE) {
        tc->counts.big_alloc_bytes += alloc_bytes;
        tc->counts.big_free_bytes += free_bytes;
        if (alloc_bytes > free_bytes) thread_peak_sample(tc);
    } else if (tc) {
        __atomic_fetch_add(&exited[0].big_alloc_bytes, alloc_bytes, __ATOMIC_RELAXED);
        __atomic_fetch_add(&exited[0].big_free_bytes, free_bytes, __ATOMIC_RELAXED);
    }
}

static uint64_t counted_bytes(const uint64_t *per_class, uint64_t big)
{
    uint64_t b = big;
    for (unsigned c = 0; c < SC_NCACHED; c++) b += per_class[c] * sc_size(c);
    return b;
}

/* Bytes the thread holds: what it allocated minus what it freed, at class
 * size (negative when it freed blocks of other threads). */
static int64_t held_bytes(const tcache_t *tc)
{
    int64_t b = (int64_t)(tc->counts.big_alloc_bytes - tc->counts.big_free_bytes);
    for (unsigned c = 0; c < SC_NCACHED; c++)
        b += (int64_t)((tc->counts.nalloc[c] - tc->counts.nfree[c]) * sc_size(c));
    return b;
}

void thread_peak_update(tcache_t *tc)
{
    int64_t above = held_bytes(tc) - tc->peak_base;
    if (above > tc->peak_max) tc->peak_max = above;
}

uint64_t thread_peak(bool reset)
{
    tcache_t *tc = thread_cache();
    if (tc == NULL || tc->state != TCACHE_LIVE) return 0;
    tc->peak_on = true;
    if (reset) {
        tc->peak_base = held_bytes(tc);
        tc->peak_max = 0;
        return 0;
    }
    thread_peak_update(tc);
    return (uint64_t)tc->peak_max;
}

static _Atomic uint64_t zero_reallocs;
void thread_count_zero_realloc(void)
{
    atomic_fetch_add_explicit(&zero_reallocs, 1, memory_order_relaxed);
}
uint64_t threads_zero_reallocs(void)
{
    return atomic_load_explicit(&zero_reallocs, memory_order_relaxed);
}

void thread_stats_self(uint64_t *allocated, uint64_t *deallocated)
{
    tcache_t *tc = own_cache();
    if (tc->state != TCACHE_LIVE) {
        *allocated = *deallocated = 0;
        return;
    }
    *allocated = counted_bytes(tc->counts.nalloc, tc->counts.big_alloc_bytes);
    *deallocated = counted_bytes(tc->counts.nfree, tc->counts.big_free_bytes);
}

void threads_stats_sum(int arena_index, tcache_counts_t *sum, size_t *cached_bytes)
{
    memset(sum, 0, sizeof *sum);
    *cached_bytes = 0;
    if (!process_init()) return;
    lock_take(&pool_lock, LOCK_POOL, 0);
    for (unsigned i = 0; i < arena_count(); i++)
        if (arena_index < 0 || (unsigned)arena_index == i) counts_add(sum, &exited[i]);
    for (tcache_t *tc = live; tc; tc = tc->next_live) {
        if (arena_index >= 0 && tc->arena->index != (unsigned)arena_index) continue;
        counts_add(sum, &tc->counts);
        *cached_bytes += tcache_cached_bytes(tc);
    }
    lock_drop(&pool_lock);
}

void threads_lock(void) { lock_take(&pool_lock, LOCK_POOL, 0); }
void threads_unlock(void) { lock_drop(&pool_lock); }
tcache_t *threads_live_locked(void)
{
    lock_assert_held(&pool_lock);
    return live;
}
size_t threads_live_count(void) { return __atomic_load_n(&nlive, __ATOMIC_RELAXED); }

void threads_prefork(void) { lock_take(&pool_lock, LOCK_POOL, 0); }
void threads_postfork(void) { lock_drop(&pool_lock); }

/* A cache whose thread did not survive the fork. Its blocks stay where they
 * are: the fork may have stopped its thread between a push's two stores
 * (tcache_push moves the cursor before it writes the slot), and then the
 * top slot still holds a block handed out earlier, perhaps live; flushing
 * could give it out twice. They are counted as handed out, held by nobody:
 * allocated (a leak of at most one cache's capacity per dead thread). */
static void abandon(tcache_t *tc)
{
    for (unsigned c = 0; c < SC_NCACHED; c++)
        tc->counts.nalloc[c] +=
            (uint64_t)(tc->bottom[c] - tc->cur[c]) + (uint64_t)(tc->rempty[c] - tc->rcur[c]);
    counts_add(&exited[tc->arena->index], &tc->counts);
    live_list_remove(&live, tc);
    live_count(nlive - 1);
    tc->state = TCACHE_DEAD;
    tc->next_free = pool;
    pool = tc;
}

/* An explicit cache in the child: no thread owns it, so it stays, but its
 * blocks are dropped as abandon drops a dead thread's (a thread of the
 * parent may have been pushing onto it), and it starts empty. */
static void forget(tcache_t *tc)
{
    for (unsigned c = 0; c < SC_NCACHED; c++)
        tc->counts.nalloc[c] +=
            (uint64_t)(tc->bottom[c] - tc->cur[c]) + (uint64_t)(tc->rempty[c] - tc->rcur[c]);
    counts_add(&exited[tc->arena->index], &tc->counts);
    tcache_init(tc, tc->arena);
}

void threads_forked_child(void)
{
    lock_assert_held(&pool_lock);
    /* A parked thread's cache is its own again, settled (no reclaim runs
     * in the child: the background thread is not copied, and none was
     * half-way, holding this lock). */
    tcache_t *self = own_cache();
    tcache_tls = self;
    if (self->state == TCACHE_LIVE) {
        /* The thread lives on in the child, as its only thread. */
        self->owner_pid = os_process_id();
        self->owner_tid = os_thread_id();
    }
    for (tcache_t *tc = live, *next; tc; tc = next) {
        next = tc->next_live;
        tcache_settle(tc);
        if (tc->explicit_) forget(tc);
        else if (tc != self) abandon(tc);
    }
    /* Counted afresh: a thread stopped half-way through its exit may have
     * left its arena's count already lowered. */
    for (unsigned i = 0; i < arena_count(); i++)
        atomic_store_explicit(&arena_get(i)->nthreads, 0, memory_order_relaxed);
    if (live == self) atomic_store_explicit(&self->arena->nthreads, 1, memory_order_relaxed);
}
