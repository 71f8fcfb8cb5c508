/* src/process/reclaim.c — the background thread takes the blocks of idle
 * threads' caches (see reclaim.h).
 *
 * The owner's fast paths read its cache pointer (tcache_tls) and then the
 * cache's stacks with plain loads and stores: no lock, no atomic. So the
 * reclaimer makes sure the owner can no longer start an operation on the
 * cache before it touches the cache, and copes with the one operation that
 * may have started before:
 *
 *  1. Under the pool lock, for each cache whose owner did no allocation or
 *     free in the last RECLAIM_IDLE_MS (its counters did not move) and is
 *     in none of its slow paths (busy is 0), it moves the owner's pointer
 *     to tcache_parked, a static cache every operation of which misses.
 *  2. One membarrier fences every thread of the process: from then on
 *     each owner's loads see its parked pointer. An operation that loaded
 *     the old pointer before may still be running (or preempted in the
 *     middle): at most one per owner, since one thread does one at a time.
 *  3. It reads busy again. An owner whose slow path began before the fence
 *     shows busy now (thread_cache_begin stores busy, then reads the
 *     pointer: the fence orders the two sides, Dekker's way); that cache
 *     is left alone and its pointer put back. Otherwise the owner is
 *     outside its slow paths and will stay outside until it has seen the
 *     parked pointer, and then it waits for the pool lock (thread_unpark).
 *  4. tcache_steal takes every block the operation in flight cannot reach
 *     (all but at most the top block of each local stack).
 *  5. If the owner is blocked in a system call outside any signal handler
 *     (owner_quiet), no operation is in flight at all, and the top blocks
 *     go too (tcache_steal_tops), and then the pages of the stacks' own
 *     storage (tcache_purge_slots: with a thousand threads, the slots
 *     their pushes touched are as much as the blocks).
 *
 * When the owner comes back, its first operation misses on the parked
 * cache, and its slow path settles its own cache (tcache_settle: keeps the
 * top blocks left and what the operation in flight pushed) under the pool
 * lock and puts its pointer back. The reclaimer never writes the stacks:
 * it only reads their slots, so an operation in flight finds the cache as
 * it was.
 *
 * What step 5 cannot see: a handler installed with SA_NODEFER and an empty
 * sa_mask that interrupted a pop between its compare and its load, and
 * then blocks in a system call for longer than the idle time. A pop in
 * flight is otherwise invisible without a restartable fast path (rseq).
 * An owner that is not blocked in a system call (running, preempted,
 * stopped), or whose /proc files cannot be read, keeps the top blocks
 * until its next slow path: at most one block per class.
 *
 * Without membarrier (old kernels, some emulators and sandboxes) nothing
 * is taken. Under ThreadSanitizer neither: it cannot see the fence, and
 * would report the owner's plain loads as races.
 *
 * Invariants: see reclaim.h. Locking: the pool lock for the whole pass.
 */
#include "process/reclaim.h"

#include <stdatomic.h>

#include "os/os.h"
#include "process/threads.h"

static _Atomic uint64_t n_caches, n_bytes;
static uint32_t last_pass_ms; /* the background thread's own */

/* ThreadSanitizer, as GCC and clang announce it. */
#if defined(__SANITIZE_THREAD__)
#define RECLAIM_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RECLAIM_TSAN 1
#endif
#endif

bool reclaim_available(void)
{
#ifdef RECLAIM_TSAN
    return false;
#else
    return true;
#endif
}

/* Every allocation and free of the cache's owner moves one of these. */
static uint64_t ops_of(const tcache_t *tc)
{
    uint64_t n = tc->counts.big_alloc_bytes + tc->counts.big_free_bytes;
    for (unsigned c = 0; c < SC_NCACHED; c++)
        n += __atomic_load_n(&tc->counts.nalloc[c], __ATOMIC_RELAXED) +
             __atomic_load_n(&tc->counts.nfree[c], __ATOMIC_RELAXED);
    return n;
}

/* Step 1 for one cache; true if its pointer was parked. */
static bool park(tcache_t *tc, uint32_t now)
{
    if (tc->explicit_ || tc->state != TCACHE_LIVE || tc->tls_slot == NULL || tc->stolen)
        return false;
    uint64_t ops = ops_of(tc);
    if (ops != tc->idle_ops) {
        tc->idle_ops = ops;
        tc->idle_ms = now;
        return false;
    }
    if (now - tc->idle_ms < RECLAIM_IDLE_MS) return false;
    if (__atomic_load_n(&tc->busy, __ATOMIC_RELAXED) || tcache_cached_bytes(tc) == 0) return false;
    /* The pointer lives in the owner's thread-local storage: an orphan
     * (threads.c), whose thread has exited, is not touched (its thread is
     * checked alive here). An orphan is set up in its thread's exit path,
     * so it is gone long before it has been idle RECLAIM_IDLE_MS; one that
     * stayed that long in its exit path and finished between this check
     * and the exchange below would have its freed TLS written: the one
     * window left, which only a notice of the thread's exit (which
     * orphans lack by definition) would close. */
    if (tc->owner_pid != os_process_id() || os_thread_gone(tc->owner_pid, tc->owner_tid))
        return false;
    /* Only over the cache itself: an owner in its tear-down may have moved
     * its pointer to the dead cache already, and must keep it there. */
    tcache_t *expect = tc;
    return __atomic_compare_exchange_n(tc->tls_slot, &expect, &tcache_parked, false,
                                       __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

/* Step 5: the owner is blocked in a system call, and runs no signal
 * handler (it blocks no signal it did not block at set-up: a handler
 * blocks its own signal while it runs, unless installed with SA_NODEFER,
 * and the signals of its sa_mask). The fast paths make no system call, so
 * no operation of the owner is in flight: its last one finished before the
 * call, and the next sees the parked pointer. */
static bool owner_quiet(const tcache_t *tc)
{
    uint64_t blocked;
    return os_thread_in_syscall(tc->owner_tid, &blocked) && (blocked & ~tc->sigmask) == 0;
}

void reclaim_idle_caches(void)
{
    uint32_t now = os_now_ms();
    if (now - last_pass_ms < TCACHE_GC_MS || !reclaim_available()) return;
    last_pass_ms = now;
    threads_lock();
    tcache_t *parked = NULL;
    for (tcache_t *tc = threads_live_locked(); tc; tc = tc->next_live) {
        if (!park(tc, now)) continue;
        tc->next_park = parked;
        parked = tc;
    }
    uint64_t caches = 0, bytes = 0;
    if (parked) {
        bool fenced = os_process_fence();
        for (tcache_t *tc = parked; tc; tc = tc->next_park) {
            if (!fenced || __atomic_load_n(&tc->busy, __ATOMIC_ACQUIRE)) {
                /* Put back, unless the owner has moved it since (to the
                 * dead cache, tearing down); an owner that saw the parked
                 * pointer meanwhile waits for the pool lock and finds its
                 * cache untouched. */
                tcache_t *expect = &tcache_parked;
                __atomic_compare_exchange_n(tc->tls_slot, &expect, tc, false, __ATOMIC_RELAXED,
                                            __ATOMIC_RELAXED);
                continue;
            }
            bytes += tcache_steal(tc);
            if (owner_quiet(tc)) {
                bytes += tcache_steal_tops(tc);
                tcache_purge_slots(tc);
            }
            caches++;
        }
    }
    threads_unlock();
    if (caches) {
        atomic_fetch_add_explicit(&n_caches, caches, memory_order_relaxed);
        atomic_fetch_add_explicit(&n_bytes, bytes, memory_order_relaxed);
    }
}

void reclaim_stats(uint64_t *caches, uint64_t *bytes)
{
    *caches = atomic_load_explicit(&n_caches, memory_order_relaxed);
    *bytes = atomic_load_explicit(&n_bytes, memory_order_relaxed);
}
