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
        if (x && x->addr == (uintptr_t)p &&
            atomic_load_explicit(&x->state, memory_order_acquire) == EXTENT_LIVE) {
            in.kind = PTR_HUGE;
            in.usable = x->usable;
            in.huge = x;
        }
        return in;
    }
    chunk_t *c = (chunk_t *)e;
    uint32_t w = c->map[chunk_unit_of(p)];
    in.sc = MAP_CLASS(w);
    if (map_slab_block(w, p)) {
        in.kind = PTR_SMALL;
        in.usable = sc_size(in.sc);
    } else if (MAP_KIND(w) == MAP_LARGE && map_run_offset(w, p) == 0) {
        in.kind = PTR_LARGE;
        in.usable = (size_t)chunk_run_of_word(c, w)->nunits << UNIT_SHIFT;
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
    uint32_t w = chunk_of(p)->map[chunk_unit_of(p)];
    *sc = MAP_CLASS(w);
    if (likely((w & MAP_KIND_MASK) == 0)) return likely(sc_is_block_start(*sc, map_run_offset(w, p)));
    return (w & (MAP_KIND_MASK | MAP_BACK_MASK)) == ((uint32_t)MAP_LARGE << 8) &&
           ((uintptr_t)p & (UNIT_SIZE - 1)) == 0 && *sc < SC_NCACHED;
}

/* True if p starts a slab block, with its class in *sc. */
SABLE_INLINE bool arena_small_block(const void *p, unsigned *sc)
{
    if (!likely(pm_is_chunk((uintptr_t)p))) return false;
    uint32_t w = chunk_of(p)->map[chunk_unit_of(p)];
    *sc = MAP_CLASS(w);
    return likely(map_slab_block(w, p));
}

/* The arena owning p, a block in a chunk (arena_cached_block was true). */
SABLE_INLINE arena_t *arena_owner(const void *p) { return chunk_of(p)->arena; }

#endif
