/* src/tcache/tcache.h — per-thread stacks of cached blocks.
 *
 * Each thread reaches its cache with one initial-exec TLS load. A cache keeps,
 * per class up to SC_CACHED_MAX (all small classes and large ones up to
 * 256 KiB), a stack of free blocks taken from (and returned to) the arena in
 * batches; malloc pops, free pushes, neither takes a lock nor an atomic. The
 * stacks are arrays of pointers in metadata memory, not lists threaded
 * through freed blocks: a write through a dangling pointer cannot corrupt the
 * cache, and free never touches the block's memory.
 *
 *   bin c:  full[c] ─► [ . . . . p p p p ] ◄─ bottom[c]
 *                               ▲ cur[c]   ▲ empty[c] (the low-water mark)
 *   pop:  cur == empty → slow path (fill);  else return *cur++
 *   push: cur == full  → slow path (flush); else *--cur = p
 *
 * The fast path's pointers of each bin live in arrays (cur[], empty[],
 * full[]) rather than in a struct per bin, so the fast path addresses them
 * as base + class * 8 with no multiply.
 *
 * Garbage collection (tcache_gc, jemalloc's scheme). The pop's bound,
 * empty[c], is not the stack's bottom but a low-water mark: where cur was
 * at the last collection. A pop that reaches it misses once (tcache_refill
 * moves the mark to the bottom and notes that the mark was reached, then
 * pops as usual). At the next collection, a stack whose mark was never
 * reached has held the blocks below it unused for a whole interval: three
 * quarters of them (the oldest, at the bottom) go back to the arena. So a
 * cache shrinks to what its thread uses, with no instruction on the fast
 * path; remote stacks, never reused by this thread, are flushed whole.
 *
 * A cache reuses only blocks of its own arena. A block of another arena
 * (allocated by a thread of that arena, freed here) is pushed onto a second
 * stack of its class, the remote stack (rcur[], rfull[], rempty[]), which is
 * returned to the owning arenas in batches and never handed out again by
 * this thread: handing it out would put this thread's data next to the
 * other thread's in one cache line (false sharing), and would drain one
 * arena's memory into another's threads.
 *
 * The TLS pointer starts at a static cache whose bins are all empty and full
 * at once (three NULLs), so a thread's first malloc and first free miss, and
 * the caller's miss path (src/api) has the thread set up (src/process): no
 * "initialised?" test on the fast path. After the thread's cache is torn down
 * the pointer moves to a second such cache marked dead, whose misses go
 * straight to the arenas.
 *
 * This layer knows nothing of threads' lives, of the process or of options:
 * the process layer creates, recycles and tears down caches with the
 * functions below, and decides which threads have one.
 *
 * Invariants: full <= cur <= empty for every stack; blocks in a local stack
 * belong to the cache's arena.
 * Locking: none. A cache is private to its thread; other threads read its
 * counters and stack depths racily, for stats only (tcache_cached_bytes).
 */
#ifndef SABLE_TCACHE_H
#define SABLE_TCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena/arena.h"
#include "arena/lookup.h"
#include "os/os.h"
#include "sizeclass/sizeclass.h"

/* PARKED: the static cache a thread's pointer is moved to while its own
 * cache is taken by another thread (tcache_steal; src/process/reclaim.c). */
typedef enum { TCACHE_BOOT, TCACHE_LIVE, TCACHE_DEAD, TCACHE_PARKED } tcache_state_t;

/* Counters kept per thread, for stats: one plain increment on the fast
 * paths, read by other threads only when stats are refreshed (a racy read of
 * a word that only its owner writes: a snapshot, never torn on the machines
 * sable supports). Bytes are derived as count x class size when read. */
typedef struct tcache_counts {
    uint64_t nalloc[SC_NCACHED]; /* blocks handed to the program, per class */
    uint64_t nfree[SC_NCACHED];  /* blocks the program freed into this cache */
    uint64_t big_alloc_bytes;    /* above SC_CACHED_MAX or aligned large/huge */
    uint64_t big_free_bytes;
} tcache_counts_t;

/* Fields are private to the owning thread except where noted. The links,
 * `state`, the owner's ids, `flush_seen` and the peak belong to the process layer
 * (src/process/threads.c), which guards the lists with its pool lock. */
typedef struct tcache tcache_t;
struct tcache {
    void **cur[SC_NCACHED];   /* top of each stack: the next block to hand out */
    void **empty[SC_NCACHED]; /* the low-water mark: cur == empty misses */
    void **full[SC_NCACHED];  /* lowest slot: cur == full means no room */
    tcache_counts_t counts;
    void **bottom[SC_NCACHED]; /* one past the bottom: cur == bottom means no blocks */
    uint64_t low_hit[(SC_NCACHED + 63) / 64]; /* marks reached since the last collection */
    uint32_t gc_ms;   /* when the last collection ran (os_now_ms) */
    unsigned gc_tick; /* slow paths since the clock was last read */
    void **rcur[SC_NCACHED];   /* remote stacks: blocks of other arenas */
    void **rempty[SC_NCACHED];
    void **rfull[SC_NCACHED];
    arena_t *arena; /* blocks of this arena are cached for reuse */
    struct tcache *next_free;            /* recycled caches */
    struct tcache *next_live, *prev_live; /* every live cache, for stats */
    tcache_state_t state;
    bool off;      /* thread.tcache.enabled false: every stack has no room (tcache_set_enabled) */
    unsigned shift; /* every stack's room is its capacity >> shift (tcache_set_shift) */
    bool explicit_; /* made by tcache.create: no thread owns it (src/process/explicit.c) */
    int owner_pid, owner_tid; /* the thread it was set up for (finding orphans) */
    unsigned flush_seen;      /* the flush requests this cache has answered */
    bool peak_on;                /* thread.peak asked for: refills sample the peak */
    int64_t peak_base, peak_max; /* thread.peak: held bytes at the reset, most above it */
    /* Idle reclaim (src/process/reclaim.c): the owner's slow paths in
     * progress (busy, its own writes; read by the reclaimer), where its
     * pointer to this cache lives (tls_slot), what the reclaimer saw last. */
    unsigned busy;
    tcache_t **tls_slot;
    uint64_t idle_ops;
    uint32_t idle_ms;
    uint64_t sigmask; /* the owner's blocked signals at set-up */
    struct tcache *next_park;
    /* Set by tcache_steal, cleared by tcache_settle: where the blocks taken
     * from each stack begin (they run to its bottom). */
    bool stolen;
    void **taken[SC_NCACHED], **rtaken[SC_NCACHED];
    size_t slots_purged; /* bytes of its stacks' storage purged since (tcache_purge_slots) */
    void *slots[]; /* the stacks' storage */
};

/* Stack capacities: about TCACHE_SMALL_BUDGET bytes of blocks per small
 * class, within [TCACHE_SMALL_MIN, TCACHE_SMALL_MAX] blocks, and about
 * TCACHE_LARGE_BUDGET per cached large class, at most TCACHE_LARGE_MAX
 * blocks (large blocks cost memory, the pop saves a lock). */
#define TCACHE_SMALL_BUDGET ((size_t)32 << 10)
#define TCACHE_SMALL_MIN 8
#define TCACHE_SMALL_MAX 256
#define TCACHE_LARGE_BUDGET ((size_t)128 << 10)
#define TCACHE_LARGE_MAX 4

extern __thread tcache_t *tcache_tls __attribute__((tls_model(SABLE_TLS_MODEL)));
/* The static caches every bin of which is empty and full at once. */
extern tcache_t tcache_boot, tcache_dead, tcache_parked;

/* Computes the stacks' capacities (once, before any cache is made): the
 * budgets above, every capacity scaled down by one factor if the blocks of
 * a full cache (local and remote stacks) would exceed max_bytes (0: no
 * bound). A capacity may come out 0: that class is never cached, each
 * pop and push of it misses and goes to the arena (as when the cache is
 * off). */
void tcache_boot_caps(size_t max_bytes);
/* Bytes of blocks a full cache holds, local and remote stacks together. */
size_t tcache_full_bytes(void);
/* Bytes a cache needs (tcache_t and its stacks' storage). */
size_t tcache_bytes(void);
/* Lays out the stacks of zeroed or recycled memory tc for arena a, empty,
 * with zero counters; tc becomes LIVE (not yet this thread's). */
void tcache_init(tcache_t *tc, arena_t *a);

/* The miss paths, called when tcache_pop or tcache_push returned false on
 * a LIVE cache. tcache_refill takes a batch of blocks of class sc from the
 * arena and pops one (NULL when out of memory); tcache_push_slow repeats the
 * double-free check, flushes a full stack (the local one keeps its warm
 * half, the remote one is emptied) and pushes p. */
void *tcache_refill(tcache_t *tc, unsigned sc) SABLE_NOINLINE;
void tcache_push_slow(tcache_t *tc, void *p, unsigned sc) SABLE_NOINLINE;

/* Returns every cached block of tc to the arenas. */
void tcache_flush_all(tcache_t *tc);

/* thread.tcache.enabled. Off: tc is flushed and every stack, local and
 * remote, gets no room, so that each pop and each push misses, and the
 * miss paths take the block from the arena or give it back directly (one
 * at a time, as the uncached path does). On: the stacks get their
 * capacities back, empty. The cache stays the thread's own (LIVE), with
 * its counters and arena, so that stats and thread.arena keep working. */
void tcache_set_enabled(tcache_t *tc, bool on);

/* Gives every stack of tc the room of its capacity >> k (k < 16), flushing
 * the blocks beyond it: the process layer shrinks caches when many threads
 * share one budget (opt.tcache_total_bytes). A stack whose room comes out
 * 0 is not cached (as when the cache is off). */
void tcache_set_shift(tcache_t *tc, unsigned k);

/* A collection of tc (above), standing for `passes` >= 1 intervals: for
 * each local stack whose low-water mark was not reached since the last
 * one, all but a quarter (a sixteenth for two intervals, ...) of the
 * blocks below the mark go back to the arena; every remote stack is
 * flushed; the marks are set where the stacks' tops are now. The owner's
 * slow paths run it (TCACHE_GC_MS apart, src/process), with as many passes
 * as intervals went by, so a thread that was idle a while comes back to a
 * nearly empty cache. Returns the bytes given back. */
size_t tcache_gc(tcache_t *tc, unsigned passes);
#define TCACHE_GC_MS 250u

/* Taking the blocks of a cache whose thread is idle, from another thread
 * (src/process/reclaim.c has the protocol). The caller guarantees that the
 * owner has moved its pointer to tcache_parked for every operation it
 * starts from now on and is in none of its slow paths; one fast-path
 * operation that began before may still be in flight, on any one stack.
 * tcache_steal returns to the arenas every block that operation cannot
 * reach: all of a remote stack (remote stacks are only pushed onto), all
 * of a local stack whose top is at its low-water mark (a pop there
 * misses), and all but the top block otherwise (a pop in flight may be
 * about to take it). It writes nothing the owner reads: only `taken`, and
 * the blocks go back by reading their slots. Returns the bytes taken.
 * tcache_settle, by the owner (or under the lock that excludes stealers,
 * for a cache whose owner is gone), once no operation is in flight on tc
 * any more: keeps what the stacks still hold (the top blocks left, and
 * what an operation in flight pushed) at their bottoms, and sets every
 * low-water mark at the top, so that a second steal takes everything. */
size_t tcache_steal(tcache_t *tc);
/* After tcache_steal, when the caller knows that no operation is in
 * flight on tc either: takes the top blocks it left. */
size_t tcache_steal_tops(tcache_t *tc);
/* Then, with nothing left in its stacks either: the whole pages of tc's
 * stacks' storage go back to the OS (they read as NULL slots again, as the
 * guard slots must). Returns their bytes. */
size_t tcache_purge_slots(tcache_t *tc);
/* Bytes so purged, of caches not settled since: not resident (stats). */
size_t tcache_purged_bytes(void);
void tcache_settle(tcache_t *tc);

/* Bytes of blocks sitting in tc's stacks (racy read: stats only). */
size_t tcache_cached_bytes(const tcache_t *tc);

/* Pops a block of class sc < SC_NCACHED from cache tc into *out; false
 * when the stack is empty. */
SABLE_INLINE bool tcache_pop_from(tcache_t *tc, unsigned sc, void **out)
{
    void **cur = tc->cur[sc];
    if (unlikely(cur == tc->empty[sc])) return false;
    tc->cur[sc] = cur + 1;
    tc->counts.nalloc[sc]++;
    *out = *cur;
    return true;
}

/* The same from the calling thread's cache: false also when the thread
 * has no cache yet, or no longer. */
SABLE_INLINE bool tcache_pop(unsigned sc, void **out) { return tcache_pop_from(tcache_tls, sc, out); }

/* Pushes p, a valid block of class sc < SC_NCACHED (a block start, checked),
 * onto its stack in cache tc; false when the stack is full or p looks
 * freed twice. */
SABLE_INLINE bool tcache_push_to(tcache_t *tc, void *p, unsigned sc)
{
    void **cur;
    if (likely(arena_owner(p) == tc->arena)) {
        cur = tc->cur[sc];
        /* A block on top of its stack, or one below, is being freed twice:
         * the common double frees, caught for two compares. The slots read
         * are live entries of this stack or, past its bottom, the stack's
         * two guard slots, which are always NULL. */
        if (unlikely(cur == tc->full[sc]) || unlikely(cur[0] == p) || unlikely(cur[1] == p))
            return false;
        tc->cur[sc] = cur - 1;
    } else {
        /* The boot and dead caches have no arena: they always land here,
         * with empty-and-full remote stacks, and miss. */
        cur = tc->rcur[sc];
        if (unlikely(cur == tc->rfull[sc]) || unlikely(cur[0] == p) || unlikely(cur[1] == p))
            return false;
        tc->rcur[sc] = cur - 1;
    }
    cur[-1] = p;
    tc->counts.nfree[sc]++;
    return true;
}

/* The same onto the calling thread's cache: false also when the thread has
 * no cache. */
SABLE_INLINE bool tcache_push(void *p, unsigned sc) { return tcache_push_to(tcache_tls, p, sc); }

#endif
