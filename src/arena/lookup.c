/* src/arena/lookup.c — the out-of-line pointer lookup of lookup.h.
 * Invariants: the answer only chooses the words of a message: it never
 * changes state.
 * Locking: none (see lookup.h). */
#include "arena/lookup.h"

#include "arena/huge.h"

bool arena_looks_freed(const void *p)
{
    chunk_t *c;
    uint32_t w;
    if (!arena_chunk_read(p, &c, &w)) return huge_recently_freed(p);
    if (MAP_KIND(w) == MAP_FREE) return ((uintptr_t)p & (UNIT_SIZE - 1)) == 0;
    if (MAP_KIND(w) != MAP_SLAB) return false;
    unsigned sc = MAP_CLASS(w);
    uint32_t off = map_run_offset(w, p);
    if (!sc_is_block_start(sc, off)) return false;
    uint32_t idx = sc_block_index(sc, off);
    run_t *r = chunk_run_of_word(c, w);
    return (__atomic_load_n(&r->free_bits[idx >> 6], __ATOMIC_RELAXED) >> (idx & 63)) & 1;
}
