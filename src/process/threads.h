/* src/process/threads.h — the life of a thread in the allocator.
 *
 * A thread starts on the static boot cache. Its first miss sets it up:
 * either a cache of its own (recycled from the pool of finished threads'
 * caches, or new metadata memory), attached to an arena chosen round-robin,
 * or, when caches are off (tcache:false or a fill mode), the dead cache and
 * the uncached path. A pthread key's destructor tears the cache down at
 * thread exit: its blocks go back to the arenas, its counters are added to
 * its arena's totals of finished threads, and the memory goes to the pool.
 * Frees from later TLS destructors see the dead cache and never build a new
 * one. A thread set up too late for the key's destructor to run leaves an
 * orphaned cache, which is reaped once the thread has exited (threads.c).
 * malloc_trim asks every thread to flush its cache; each does at its next
 * slow path (thread_poll), never on a fast path.
 *
 * Invariants: a LIVE cache is on the live list and belongs to one thread
 * that exists (in a forked child too); a cache on the pool belongs to none;
 * finished threads' counters are added to their arena's totals exactly
 * once.
 * Locking: pool_lock guards the pool, the list of live caches and the
 * totals of finished threads (which uncached operations also update
 * atomically, without it).
 */
#ifndef SABLE_PROCESS_THREADS_H
#define SABLE_PROCESS_THREADS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcache/tcache.h"

/* Thread set-up looks for orphaned caches when the live ones reach twice
 * their number after the last look plus this (threads.c). */
#define THREADS_REAP_FIRST 64
/* A thread's slow paths read the clock for its cache's collection
 * (TCACHE_GC_MS apart) on one in this many. */
#define THREADS_GC_TICKS 16u
/* The most halvings of every stack opt.tcache_total_bytes asks of thread
 * caches (threads_cache_shift): 256 times smaller. */
#define THREADS_SHIFT_MAX 8u
/* opt.tcache_total_bytes shared by n live caches: the halvings of every
 * stack that make a full cache fit its share (at most THREADS_SHIFT_MAX);
 * thread caches apply it at their slow paths. */
unsigned threads_cache_shift(size_t n);
/* The most intervals one collection stands for (a quarter of a quarter ...
 * of the unused blocks stays: none after this many, below 256). */
#define THREADS_GC_PASSES_MAX 4u

/* Once, from process_init (nothing allocated from the heap). */
bool threads_boot(void);

/* The calling thread's cache, set up first (thread_setup) if the thread has none yet
 * (BOOT), or given back (thread_unpark) if its blocks were taken while the
 * thread was idle (PARKED, src/process/reclaim.c): a LIVE cache, or the
 * DEAD one for threads without a cache. NULL if set-up failed (out of
 * memory). */
tcache_t *thread_setup(void) SABLE_NOINLINE;
tcache_t *thread_unpark(void) SABLE_NOINLINE;
static inline tcache_t *thread_cache(void)
{
    tcache_t *tc = tcache_tls;
    if (unlikely(tc->state == TCACHE_BOOT)) return thread_setup();
    if (unlikely(tc->state == TCACHE_PARKED)) return thread_unpark();
    return tc;
}

/* A slow path that works on the calling thread's stacks brackets that work
 * with these: while it runs, no other thread takes the cache's blocks
 * (the owner's half of reclaim.c's handshake). thread_cache_begin returns
 * what thread_cache does; thread_cache_end takes that value. They nest. */
void thread_busy_recheck(tcache_t *tc) SABLE_NOINLINE;
static inline tcache_t *thread_cache_begin(void)
{
    tcache_t *tc = thread_cache();
    if (tc && tc->state == TCACHE_LIVE) {
        __atomic_store_n(&tc->busy, tc->busy + 1, __ATOMIC_RELAXED);
        /* The reclaimer stores the pointer, then fences every thread of
         * the process (membarrier), then reads busy: either it sees busy,
         * or this load sees its store. */
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        if (unlikely(__atomic_load_n(&tcache_tls, __ATOMIC_RELAXED) != tc)) thread_busy_recheck(tc);
    }
    return tc;
}
static inline void thread_cache_end(tcache_t *tc)
{
    if (tc && tc->state == TCACHE_LIVE)
        __atomic_store_n(&tc->busy, tc->busy - 1, __ATOMIC_RELEASE);
}

/* Returns every block cached by the calling thread to the arenas. */
void thread_flush(void);

/* Called by the slow paths (refill, flush) of a LIVE cache, never by a fast
 * path: above the soft memory limit, asks every cache to flush (at most once
 * per trim interval); moves the thread to its CPU's or node's arena if it
 * migrated (place.h); if a malloc_trim or the soft limit asked for it since
 * tc last looked, flushes tc. A few relaxed loads otherwise. */
void thread_poll(tcache_t *tc);

/* malloc_trim's part, at most once per ARENA_TRIM_INTERVAL_MS: asks every
 * other thread to flush its cache at its next slow path, and reaps orphaned
 * caches. The caller's own cache is left to malloc_trim. */
void threads_trim(void);
/* Asks every thread to flush its cache at its next slow path, at once (no
 * rate limit: an operator's request, src/inspect). */
void threads_request_flush(void);

/* Threads set up from now on are attached to arenas [0, n) only (0, or n at
 * least arena_count(): all of them). Threads set up before keep theirs. */
void threads_arena_limit(unsigned n);
/* The arenas automatic placement chooses among: those created at set-up,
 * within the limit above. */
unsigned threads_auto_count(void);

/* Moves tc, the calling thread's LIVE cache, to arena `to`: flushes it
 * first (its local stacks then hold only blocks of `to`), and moves the
 * thread's count (nthreads) along. Its counters stay with the cache: the
 * per-arena statistics of live threads follow the thread. */
void thread_move(tcache_t *tc, arena_t *to);

/* The arena the calling thread allocates large objects from. */
arena_t *thread_arena(void);
/* thread.arena: moves the calling thread to arena `to` (thread_move for a
 * cache; a thread without one allocates from `to` from now on). */
void thread_set_arena(arena_t *to);

/* thread.tcache.enabled: 1 if the calling thread's cache is on, 0 if it is
 * off or the thread has none (tcache:false, a fill mode), -1 if it could
 * not be set up (out of memory). thread_cache_enable switches it
 * (tcache_set_enabled); false if asked to switch on a thread that has no
 * cache, which the options decided. */
int thread_cache_enabled(void);
bool thread_cache_enable(bool on);

/* Explicit caches (tcache.create, src/process/explicit.c): a LIVE cache of
 * arena a that no thread owns, on the live list for stats, never reaped;
 * NULL when out of memory. threads_cache_drop flushes one and recycles
 * it. */
tcache_t *threads_cache_new(arena_t *a);
void threads_cache_drop(tcache_t *tc);

/* arena.<i>.reset and destroy (ctl): threads_flush_explicit empties every
 * explicit cache first (none may be in use then, as jemalloc documents);
 * threads_arena_discarded, after, forgets finished threads' counts of
 * arena i, and when it was destroyed moves explicit caches of it to arena
 * 0. */
void threads_flush_explicit(void);
void threads_arena_discarded(unsigned i, bool destroyed);

/* Counts an operation served outside the calling thread's cache: big
 * (large with alignment, above SC_CACHED_MAX, huge) or uncached. */
void thread_count_big(size_t alloc_bytes, size_t free_bytes);
void thread_count_uncached(unsigned sc, uint64_t nalloc, uint64_t nfree);

/* Stats. thread_stats_self: the calling thread's bytes allocated and freed.
 * threads_stats_sum: counts summed over every thread that ever ran (live
 * caches plus those merged at thread exit) and the bytes sitting in live
 * caches; arena_index selects the caches of one arena (or -1: all). */
void thread_stats_self(uint64_t *allocated, uint64_t *deallocated);
/* thread.peak: the most bytes the calling thread has held (allocated minus
 * freed) above what it held at its last reset (or its start), as sampled on
 * cache refills and big allocations (so within one refill's blocks of the
 * truth) and on each read. Sampling sums every class's counts, which cost
 * 3-4 % of the refill-heavy patterns' instructions when done always
 * (docs/mallctl.md), so it starts with the thread's first thread.peak call
 * (peak_on): before that, the peak is what the thread holds at that call.
 * reset: starts again from what it holds now (returns 0). 0 for threads
 * without a cache. */
void thread_peak_update(tcache_t *tc);
static inline void thread_peak_sample(tcache_t *tc)
{
    if (unlikely(tc->peak_on)) thread_peak_update(tc);
}
uint64_t thread_peak(bool reset);
/* stats.zero_reallocs: realloc(p, 0) calls with p not NULL. */
void thread_count_zero_realloc(void);
uint64_t threads_zero_reallocs(void);
void threads_stats_sum(int arena_index, tcache_counts_t *sum, size_t *cached_bytes);

/* For reclaim.c: the pool lock, the live list under it (by next_live), and
 * how many caches are live (a relaxed read, without the lock). */
void threads_lock(void);
void threads_unlock(void);
tcache_t *threads_live_locked(void);
size_t threads_live_count(void);

/* fork: pool_lock. */
void threads_prefork(void);
void threads_postfork(void);

/* In a child forked from a multi-threaded process, before any lock is
 * released: the live list keeps the calling thread's cache only. The other
 * caches' counters join their arenas' totals of finished threads, their
 * cached blocks count as allocated (left in place: a dead thread's cache
 * may be mid-push), their memory goes to the pool; each arena's nthreads
 * counts the calling thread alone. */
void threads_forked_child(void);

#endif
