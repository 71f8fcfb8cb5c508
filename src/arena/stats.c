/* src/arena/stats.c — a consistent snapshot of one arena's counters, and
 * its resident bytes measured without holding its lock.
 *
 * Invariants: the snapshot only reads; it never changes the arena. The
 * counters are read under the locks that guard them; resident bytes are a
 * measurement (mincore) of the ranges the arena held when its lock was
 * taken, made after the lock is dropped.
 * Locking: each bin's lock in turn, then the arena lock, during which the
 * ranges to measure (chunks, huge blocks, dirty extents) are copied into
 * the caller's scratch; no lock while they are measured. A scratch too
 * small is grown with the arena lock dropped, and the copy taken again.
 */
#include <string.h>

#include "arena/arena.h"

#ifdef SABLE_DEBUG
void (*arena_stats_measure_hook)(unsigned i);
#endif

/* Times the ranges are copied before the ones that fit are measured: the
 * arena may gain ranges while the scratch grows. */
#define COPY_TRIES 3

static void bins_read(arena_t *a, arena_stats_t *out)
{
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
}

/* Arena lock held: the counters of the arena and its page heap. */
static void arena_read(arena_t *a, arena_stats_t *out)
{
    out->mapped = a->nchunks * CHUNK_SIZE;
    out->mapped_peak = a->mapped_peak;
    for (chunk_t *c = a->chunks; c; c = c->next) {
        out->active += (size_t)(CHUNK_USABLE_UNITS - c->nfree_units) << UNIT_SHIFT;
        out->metadata += CHUNK_HEADER_BYTES_FOR(c->desc_used);
        if (c->extent == NULL) out->reserved += CHUNK_SIZE; /* mapped apart from the heap */
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
    out->reserved += h->reserved;
    out->heap_npurge = h->npurge;
    out->heap_purged = h->purged;
    out->heap_nreserve = h->nreserve;
    out->heap_nunmap = h->nunmap;
    out->nmadvise += h->npurge;
    out->purged += h->purged;
}

/* Arena lock held: copies the chunks' ranges, then the page heap's, into
 * out[0 .. cap); returns how many there are and, in *nchunks, how many of
 * them are chunks (the first ones). */
static size_t ranges_copy(arena_t *a, ph_range_t *out, size_t cap, size_t *nchunks)
{
    size_t n = 0;
    for (chunk_t *c = a->chunks; c; c = c->next, n++)
        if (n < cap) out[n] = (ph_range_t){(uintptr_t)c, CHUNK_SIZE};
    *nchunks = n;
    return n + ph_ranges(a, n < cap ? out + n : NULL, n < cap ? cap - n : 0);
}

/* Makes room for at least n ranges (the old ones are not kept). */
static bool scratch_grow(arena_stats_scratch_t *s, size_t n)
{
    size_t bytes = os_page_round((n + n / 2 + 64) * sizeof *s->ranges);
    void *p = bytes ? os_map_aligned(bytes, os_page_size()) : NULL;
    if (p == NULL) return false;
    if (s->ranges) os_unmap(s->ranges, s->bytes);
    s->ranges = p;
    s->bytes = bytes;
    s->cap = bytes / sizeof *s->ranges;
    return true;
}

static size_t measure(const ph_range_t *r, size_t n)
{
    size_t bytes = 0;
    for (size_t k = 0; k < n; k++) bytes += os_resident((void *)r[k].addr, r[k].size);
    return bytes;
}

void arena_stats_read(unsigned i, arena_stats_t *out, arena_stats_scratch_t *scratch)
{
    arena_t *a = arena_get(i);
    memset(out, 0, sizeof *out);
    out->nthreads = atomic_load_explicit(&a->nthreads, memory_order_relaxed);
    bins_read(a, out);
    size_t n, nchunks;
    for (unsigned tries = 1;; tries++) {
        arena_lock(a);
        n = ranges_copy(a, scratch->ranges, scratch->cap, &nchunks);
        if (n <= scratch->cap || tries == COPY_TRIES) break;
        arena_unlock(a);
        if (!scratch_grow(scratch, n)) tries = COPY_TRIES - 1;
    }
    arena_read(a, out);
    arena_unlock(a);
#ifdef SABLE_DEBUG
    if (arena_stats_measure_hook) arena_stats_measure_hook(i);
#endif
    if (n > scratch->cap) n = scratch->cap;
    if (nchunks > n) nchunks = n;
    out->resident = measure(scratch->ranges, nchunks);
    out->heap_resident = measure(scratch->ranges + nchunks, n - nchunks);
}
