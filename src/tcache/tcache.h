/* src/tcache — everything thread-local.
 *
 * Each thread reaches its cache with one initial-exec TLS load. A cache keeps,
 * per class up to SC_CACHED_MAX (all small classes and large ones up to
 * 256 KiB), a stack of free blocks taken from (and returned to) the arena in
 * batches; malloc pops, free pushes, neither takes a lock nor an atomic. The
 * stacks are arrays of pointers in metadata memory, not lists threaded
 * through freed blocks: a write through a dangling pointer cannot corrupt the
 * cache, and free never touches the block's memory.
 *
 *   bin c:  full[c] ─► [ . . . . p p p p ] ◄─ empty[c]
 *                               ▲ cur[c]
 *   pop:  cur == empty → slow path (fill);  else return *cur++
 *   push: cur == full  → slow path (flush); else *--cur = p
 *
 * The three pointers of each bin live in three arrays (cur[], empty[],
 * full[]) rather than in a struct per bin, so the fast path addresses them
 * as base + class * 8 with no multiply.
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
 * at once (three NULLs), so a thread's first malloc and first free fall into
 * the slow path, which sets the thread up: no "initialised?" test on the fast
 * path. After the thread's cache is torn down the pointer moves to a second
 * such cache marked dead, whose slow paths go straight to the arenas.
 */
#ifndef SABLE_TCACHE_H
#define SABLE_TCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena/arena.h"
#include "os/os.h"
#include "sizeclass/sizeclass.h"

typedef enum { TCACHE_BOOT, TCACHE_LIVE, TCACHE_DEAD } tcache_state_t;

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

typedef struct tcache {
    void **cur[SC_NCACHED];   /* top of each stack: the next block to hand out */
    void **empty[SC_NCACHED]; /* one past the bottom: cur == empty means no blocks */
    void **full[SC_NCACHED];  /* lowest slot: cur == full means no room */
    tcache_counts_t counts;
    void **rcur[SC_NCACHED];   /* remote stacks: blocks of other arenas */
    void **rempty[SC_NCACHED];
    void **rfull[SC_NCACHED];
    arena_t *arena; /* blocks of this arena are cached for reuse */
    struct tcache *next_free;            /* recycled caches */
    struct tcache *next_live, *prev_live; /* every live cache, for stats */
    tcache_state_t state;
    void *slots[]; /* the stacks' storage */
} tcache_t;

extern __thread tcache_t *tcache_tls __attribute__((tls_model(SABLE_TLS_MODEL)));

void *tcache_alloc_slow(tcache_t *tc, unsigned sc) SABLE_NOINLINE;
void tcache_free_slow(tcache_t *tc, void *p, unsigned sc) SABLE_NOINLINE;

/* Process-wide set-up (idempotent); false if it failed (out of memory). */
bool tcache_global_init(void);

/* The arena a thread allocates large objects from (sets the thread up). */
arena_t *tcache_arena(void);

/* Returns every cached block of the calling thread to the arenas. */
void tcache_flush(void);

/* fork: modules above (ctl) hand their locks' handlers to the allocator's
 * own pthread_atfork handlers, so that every lock is taken in one fixed
 * order: hooks (in registration order), the cache pool, each arena, huge
 * objects, the page map, metadata. A hook's prefork runs before the
 * allocator's locks are taken; its postfork functions after they are
 * released. At most 4 hooks. */
void tcache_fork_hook(void (*prefork)(void), void (*postfork_parent)(void),
                      void (*postfork_child)(void));

/* Counts an allocation / free served outside the caches (large with
 * alignment, above SC_CACHED_MAX, huge) for the calling thread. */
void tcache_count_big(size_t alloc_bytes, size_t free_bytes);

/* Stats. tcache_stats_thread: the calling thread's bytes allocated and
 * freed. tcache_stats_sum: counts summed over every thread that ever ran
 * (live caches plus those merged at thread exit), and the bytes sitting in
 * live caches; arena_index selects the caches of one arena (or -1: all). */
void tcache_stats_thread(uint64_t *allocated, uint64_t *deallocated);
void tcache_stats_sum(int arena_index, tcache_counts_t *sum, size_t *cached_bytes);

/* sc < SC_NCACHED. Sets errno to ENOMEM when it returns NULL. */
SABLE_INLINE void *tcache_alloc(unsigned sc)
{
    tcache_t *tc = tcache_tls;
    void **cur = tc->cur[sc];
    if (unlikely(cur == tc->empty[sc])) return tcache_alloc_slow(tc, sc);
    tc->cur[sc] = cur + 1;
    tc->counts.nalloc[sc]++;
    return *cur;
}

/* p: a valid block of class sc < SC_NCACHED (a block start, checked). */
SABLE_INLINE void tcache_free(void *p, unsigned sc)
{
    tcache_t *tc = tcache_tls;
    void **cur;
    if (likely(chunk_of(p)->arena == tc->arena)) {
        cur = tc->cur[sc];
        /* A block on top of its stack, or one below, is being freed twice:
         * the common double frees, caught for two compares. The slots read
         * are live entries of this stack or, past its bottom, the stack's
         * two guard slots, which are always NULL. */
        if (unlikely(cur == tc->full[sc]) || unlikely(cur[0] == p) || unlikely(cur[1] == p)) {
            tcache_free_slow(tc, p, sc);
            return;
        }
        tc->cur[sc] = cur - 1;
    } else {
        /* The boot and dead caches have no arena: they always land here,
         * with empty-and-full remote stacks, and take the slow path. */
        cur = tc->rcur[sc];
        if (unlikely(cur == tc->rfull[sc]) || unlikely(cur[0] == p) || unlikely(cur[1] == p)) {
            tcache_free_slow(tc, p, sc);
            return;
        }
        tc->rcur[sc] = cur - 1;
    }
    cur[-1] = p;
    tc->counts.nfree[sc]++;
}

#endif
