/* src/arena/stats.c — a consistent snapshot of one arena's counters.
 *
 * Invariants: the snapshot only reads; it never changes the arena.
 * Locking: each bin's lock in turn, then the arena lock; the snapshot of a
 * bin is consistent, the arena's is consistent with itself.
 */
#include <string.h>

#include "arena/arena.h"

void arena_stats_read(unsigned i, arena_stats_t *out)
{
    arena_t *a = arena_get(i);
    memset(out, 0, sizeof *out);
    out->nthreads = atomic_load_explicit(&a->nthreads, memory_order_relaxed);
    for (unsigned c = 0; c < SC_NSMALL; c++) {
        bin_t *b = &a->bins[c];
        bin_stats_t *o = &out->bins[c];
        bin_lock(a, c);
        o->nmalloc = b->nmalloc;
        o->ndalloc = b->ndalloc;
        o->nfills = b->nfills;
        o->nflushes = b->nflushes;
        o->curregs = b->curregs;
        o->curslabs = b->nslabs;
        for (run_t *r = b->nonfull; r; r = r->next) o->nonfull_slabs++;
        out->purged += b->purged;
        out->nmadvise += b->npurged_slabs;
        lock_drop(&b->lock);
        out->small_allocated += o->curregs * sc_size(c);
    }
    arena_lock(a);
    out->mapped = a->nchunks * CHUNK_SIZE;
    for (chunk_t *c = a->chunks; c; c = c->next) {
        out->active += (size_t)(CHUNK_USABLE_UNITS - c->nfree_units) << UNIT_SHIFT;
        out->resident += os_resident(c, CHUNK_SIZE);
        out->metadata += CHUNK_HEADER_BYTES_FOR(c->desc_used);
    }
    for (unsigned b = 0; b < ARENA_RUN_BUCKETS; b++)
        for (run_t *r = a->runs[b]; r; r = r->next) out->dirty += (size_t)r->dirty << UNIT_SHIFT;
    out->large_allocated = a->large_allocated;
    out->nlarge_malloc = a->nlarge_malloc;
    out->nlarge_dalloc = a->nlarge_dalloc;
    out->npurge = a->npurge;
    out->nmadvise += a->nmadvise;
    out->purged += a->purged;
    const pageheap_t *h = &a->heap;
    out->huge_allocated = h->huge_bytes;
    out->nhuge = h->nhuge;
    out->nhuge_malloc = h->nhuge_malloc;
    out->nhuge_dalloc = h->nhuge_dalloc;
    out->heap_dirty = h->free_bytes[0];
    out->heap_retained = h->free_bytes[1];
    out->heap_resident = ph_resident(a);
    out->heap_npurge = h->npurge;
    out->heap_purged = h->purged;
    out->heap_nreserve = h->nreserve;
    out->heap_nunmap = h->nunmap;
    out->nmadvise += h->npurge;
    out->purged += h->purged;
    arena_unlock(a);
}

