/* src/tcache — everything thread-local.
 *
 * Each thread reaches its cache with one initial-exec TLS load. A cache keeps,
 * per small class, a stack of free blocks taken from (and returned to) the
 * arena in batches; malloc pops, free pushes, neither takes a lock nor an
 * atomic. The stacks are arrays of pointers in metadata memory, not lists
 * threaded through freed blocks: a write through a dangling pointer cannot
 * corrupt the cache, and the blocks' memory is never touched by free.
 *
 *   bin:   full ─► [ . . . . p p p p ] ◄─ empty
 *                            ▲ cur
 *   pop:  cur == empty → slow path (fill);  else return *cur++
 *   push: cur == full  → slow path (flush); else *--cur = p
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

typedef struct tbin {
    void **cur;   /* top of the stack: the next block to hand out */
    void **empty; /* one past the bottom: cur == empty means no blocks */
    void **full;  /* lowest slot: cur == full means no room */
} tbin_t;

typedef enum { TCACHE_BOOT, TCACHE_LIVE, TCACHE_DEAD } tcache_state_t;

typedef struct tcache {
    tbin_t bins[SC_NSMALL];
    arena_t *arena;
    struct tcache *next_free; /* recycled caches */
    uint64_t allocated;       /* bytes this thread allocated / freed (class sizes) */
    uint64_t deallocated;
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

SABLE_INLINE void *tcache_alloc(unsigned sc)
{
    tcache_t *tc = tcache_tls;
    tbin_t *b = &tc->bins[sc];
    void **cur = b->cur;
    if (unlikely(cur == b->empty)) return tcache_alloc_slow(tc, sc);
    b->cur = cur + 1;
    return *cur;
}

SABLE_INLINE void tcache_free(void *p, unsigned sc)
{
    tcache_t *tc = tcache_tls;
    tbin_t *b = &tc->bins[sc];
    void **cur = b->cur;
    if (unlikely(cur == b->full)) {
        tcache_free_slow(tc, p, sc);
        return;
    }
    *--cur = p;
    b->cur = cur;
}

#endif
