/* src/arena/reset.c — arenas as objects: discarding every block of a
 * created arena at once (arena.<i>.reset) and giving its memory back to the
 * OS (arena.<i>.destroy). Creation is arena.c's (arena_create).
 *
 * A reset takes every lock of the arena (its bin locks by class, then its
 * arena lock: the order of arena.h), gives every chunk and every huge block
 * back to the page heap as dirty free memory, and empties the bins and the
 * free-run lists, which only pointed into those chunks. Counters count the
 * discarded blocks as freed, so that nmalloc - ndalloc stays what is live.
 * A destroy then unmaps every free extent (all of the heap but the stubs of
 * slots that held chunks, which lock-free lookups may still read) and marks
 * the arena destroyed; arenas.create takes the slot again.
 *
 * A pointer into a discarded arena is then a pointer sable no longer
 * handed out: free, realloc and malloc_usable_size find no live block there
 * and abort naming it (lookup.h), as for any other invalid pointer, unless
 * the memory was handed out again since, as after any free.
 *
 * Invariants: only arenas at or above arena_auto_count() are reset or
 * destroyed; a destroyed arena holds no chunk, no huge block and no
 * mapped free extent but stubs.
 * Locking: every lock of the arena, in arena.h's order, for the whole reset.
 */
#include "arena/arena.h"
#include "arena/huge.h"
#include "arena/run.h"

void arena_reset(arena_t *a)
{
    for (unsigned sc = 0; sc < SC_NSMALL; sc++)
        bin_lock(a, sc);
    arena_lock(a);
    chunks_discard_all(a);
    huge_discard_all(a);
    for (unsigned sc = 0; sc < SC_NSMALL; sc++) {
        bin_t *b = &a->bins[sc];
        b->ndalloc += b->curregs;
        b->curregs = 0;
        b->cur = b->nonfull = NULL;
        b->nslabs = b->npending = 0;
    }
    arena_unlock(a);
    for (unsigned sc = SC_NSMALL; sc-- > 0;)
        bin_unlock(a, sc);
}

void arena_destroy(arena_t *a)
{
    arena_reset(a);
    arena_lock(a);
    ph_unmap_free(a);
    a->mapped_peak = 0;
    atomic_store_explicit(&a->destroyed, true, memory_order_release);
    arena_unlock(a);
}
