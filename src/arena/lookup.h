/* src/arena/lookup.h — what a pointer is, for the layers above the arena.
 *
 * The map-word layout (chunk.h), run descriptors and page-map entries are
 * decoded here and inside the arena layer only: everything above asks these
 * functions. For any pointer, arena_lookup answers {kind, class, usable size,
 * huge header}; the inline tests answer the fast paths' narrower questions
 * ("is p a block of a cached class, and which?", "which arena owns p?") with
 * the fewest instructions: one bit test in the chunk bitmap, one map-word
 * load, one multiply and compare for the block-start test.
 *
 * Invariants: a pointer is PTR_SMALL, PTR_LARGE or PTR_HUGE only if it
 * starts a block of a live slab or large run, or a live huge block;
 * whether that block is free already is told later (the cache's compares,
 * the slab bitmap under the bin lock, the run under the arena lock).
 * Locking: none. Map words and page-map entries are read without locks: a
 * live block's entries do not change while it is live, and a pointer that is
 * not live is rejected here or caught again under the owner's lock.
 *
 * Racing a release. A pointer that is not a live block does not keep its
 * chunk alive: between the chunk-bitmap test and the loads that follow, the
 * chunk may be given back to the page heap, and its memory purged (it reads
 * as zeroes), cut into a huge block (it holds the program's data), unmapped
 * under address-space pressure, or cut into a new chunk. None of this can
 * make a load fault: the header units of a slot that held a chunk stay
 * mapped while the slot is not one (pageheap.c keeps them when it unmaps
 * free extents; a released hugetlb chunk is replaced by page-heap memory).
 * What a load returns is told apart by the chunk's arena field (chunk.h),
 * NULL from the moment the chunk starts to be given back until it is cut
 * again, and by reading the word again after the arena:
 *   - the free fast path loads the word with acquire order, then the arena
 *     (the owner test in tcache_push). A block goes on the local stack, the
 *     one malloc hands out again, only if the arena is the thread's own, so
 *     the word was a live chunk's: the arena is stored NULL before the chunk
 *     leaves the page map and again non-NULL only after chunk_init has
 *     rewritten every word. Anything else (NULL, purged zeroes, a huge
 *     block's data) goes on a remote stack, and the flush checks every
 *     block again under its bin lock (bin.c) before believing it. The one
 *     case left: the chunk given back and cut again as a chunk between the
 *     two loads, the thread paused in between; a word read meanwhile from
 *     purged or reused memory can put a pointer on the local stack that is
 *     not a block, to be handed out by that thread before its next flush
 *     catches it, like the unchecked double frees of docs/security.md.
 *   - slow paths (arena_chunk_read) read the word, then the arena, which
 *     must be an arena (arena_is), then the word again, which must be
 *     unchanged: a chunk cut again in between rewrote it.
 *   - frees that take a lock read the arena again under it (large.c,
 *     bin.c), where no chunk of that arena can be given back.
 */
#ifndef SABLE_ARENA_LOOKUP_H
#define SABLE_ARENA_LOOKUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena/arena.h"
#include "arena/chunk.h"
#include "arena/pageheap.h"
#include "arena/pagemap.h"
#include "os/os.h"
#include "sizeclass/sizeclass.h"

typedef enum { PTR_INVALID, PTR_SMALL, PTR_LARGE, PTR_HUGE } ptr_kind_t;

/* What sable knows about a pointer it is asked to free, resize or measure.
 * kind PTR_INVALID: p is not the start of a live block sable handed out.
 * sc: the block's class (small and large); huge: its extent (huge). */
typedef struct {
    ptr_kind_t kind;
    unsigned sc;
    size_t usable;
    extent_t *huge;
} ptr_info_t;

/* p's chunk and the map word of p's unit, read without a lock but checked:
 * true only if the chunk was live and the word its word (see "Racing a
 * release" above); false if p lies in no chunk now. Slow paths only. */
SABLE_INLINE bool arena_chunk_read(const void *p, chunk_t **cp, uint32_t *wp)
{
    uintptr_t e = pm_lookup((uintptr_t)p);
    if (e == 0 || (e & PM_TABLE_TAG)) return false;
    chunk_t *c = (chunk_t *)e;
    unsigned u = chunk_unit_of(p);
    uint32_t w = chunk_word_acquire(c, u);
    if (!arena_is(chunk_arena_acquire(c)) || chunk_word(c, u) != w) return false;
    *cp = c;
    *wp = w;
    return true;
}

SABLE_INLINE ptr_info_t arena_lookup(const void *p)
{
    ptr_info_t in = {.kind = PTR_INVALID};
    uintptr_t e = pm_lookup((uintptr_t)p);
    if (e == 0) return in;
    if (e & PM_TABLE_TAG) {
        /* A page-heap slot: the unit's entry, believed only if it names a
         * live block starting here (entries of interior units are stale). */
        if ((uintptr_t)p & (SC_UNIT - 1)) return in;
        ph_table_t *t = (ph_table_t *)(e & ~PM_TABLE_TAG);
        extent_t *x = atomic_load_explicit(
            &t->unit[((uintptr_t)p >> SC_UNIT_SHIFT) & (PH_UNITS_PER_SLOT - 1)],
            memory_order_acquire);
        if (x && __atomic_load_n(&x->addr, __ATOMIC_RELAXED) == (uintptr_t)p &&
            atomic_load_explicit(&x->state, memory_order_acquire) == EXTENT_LIVE) {
            in.kind = PTR_HUGE;
            in.usable = __atomic_load_n(&x->usable, __ATOMIC_RELAXED);
            in.huge = x;
        }
        return in;
    }
    chunk_t *c;
    uint32_t w;
    if (!arena_chunk_read(p, &c, &w)) return in;
    in.sc = MAP_CLASS(w);
    if (map_slab_block(w, p)) {
        in.kind = PTR_SMALL;
        in.usable = sc_size(in.sc);
    } else if (MAP_KIND(w) == MAP_LARGE && map_run_offset(w, p) == 0) {
        /* The run's size is read after the check: believed only if the
         * word is still there after it (else the chunk went meanwhile). */
        size_t units = __atomic_load_n(&chunk_run_of_word(c, w)->nunits, __ATOMIC_ACQUIRE);
        if (!arena_is(chunk_arena_acquire(c)) || chunk_word(c, chunk_unit_of(p)) != w) return in;
        in.kind = PTR_LARGE;
        in.usable = units << UNIT_SHIFT;
    }
    return in;
}

/* For a pointer that arena_lookup found invalid: does it look like a block
 * that was freed already (a double free) rather than one that never was
 * sable's? Read without locks: it only chooses the words of a message. */
bool arena_looks_freed(const void *p);

/* True if p starts a block that thread caches hold (a slab block, or the
 * start of a large run of a cached class), with its class in *sc. The test
 * is split so that the large-run case is reached only for non-slab words. */
SABLE_INLINE bool arena_cached_block(const void *p, unsigned *sc)
{
    if (!likely(pm_is_chunk((uintptr_t)p))) return false;
    uint32_t w = chunk_word_acquire(chunk_of(p), chunk_unit_of(p));
    *sc = MAP_CLASS(w);
    if (likely((w & MAP_KIND_MASK) == 0)) return likely(sc_is_block_start(*sc, map_run_offset(w, p)));
    return (w & (MAP_KIND_MASK | MAP_BACK_MASK)) == ((uint32_t)MAP_LARGE << 8) &&
           ((uintptr_t)p & (UNIT_SIZE - 1)) == 0 && *sc < SC_NCACHED;
}

/* True if p starts a slab block, with its class in *sc. */
SABLE_INLINE bool arena_small_block(const void *p, unsigned *sc)
{
    if (!likely(pm_is_chunk((uintptr_t)p))) return false;
    uint32_t w = chunk_word_acquire(chunk_of(p), chunk_unit_of(p));
    *sc = MAP_CLASS(w);
    return likely(map_slab_block(w, p));
}

/* The arena owning p, a block in a chunk (arena_cached_block was true); read
 * after the map word, it is NULL or not an arena if p's chunk was given back
 * meanwhile (see "Racing a release"). */
SABLE_INLINE arena_t *arena_owner(const void *p) { return chunk_arena(chunk_of(p)); }

#endif
