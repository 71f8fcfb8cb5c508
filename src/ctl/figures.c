/* src/ctl/figures.c — figures derived from a snapshot (what they mean and
 * how they add up: figures.h). Pure functions of the snapshot, no
 * allocation. Locking: none here; callers hold the control lock.
 * Invariants: the breakdowns add up exactly (figures.h); nothing here reads
 * the allocator directly.
 */
#include "ctl/figures.h"

#include <string.h>

#include "arena/arena.h"
#include "arena/chunk.h"
#include "sizeclass/sizeclass.h"

static bool arena_selected(const ctl_stats_t *s, unsigned sel, unsigned i)
{
    return sel >= s->narenas || sel == i;
}

void ctl_arena_read(const ctl_stats_t *s, unsigned sel, ctl_arena_t *o)
{
    memset(o, 0, sizeof *o);
    for (unsigned i = 0; i < s->narenas; i++) {
        if (!arena_selected(s, sel, i)) continue;
        const ctl_arena_stats_t *as = &s->arenas[i];
        const arena_stats_t *a = &as->a;
        o->nthreads += a->nthreads;
        o->mapped += a->mapped;
        o->system += a->mapped + a->heap_dirty;
        o->system_peak += a->mapped_peak;
        o->aspace += a->reserved;
        o->resident += a->resident;
        o->metadata += a->metadata;
        o->active += a->active;
        o->dirty += a->dirty;
        o->small_allocated += a->small_allocated;
        o->large_allocated += a->large_allocated;
        o->nlarge_malloc += a->nlarge_malloc;
        o->nlarge_dalloc += a->nlarge_dalloc;
        o->npurge += a->npurge;
        o->nmadvise += a->nmadvise;
        o->purged += a->purged;
        o->tcache_bytes += as->tcache_bytes;
        for (unsigned c = 0; c < SC_NCACHED; c++) o->nrequests += as->req.nalloc[c];
        o->retained += a->heap_retained;
        for (unsigned c = 0; c < SC_NSMALL; c++) {
            o->small_nmalloc += a->bins[c].nmalloc;
            o->small_ndalloc += a->bins[c].ndalloc;
            o->small_nfills += a->bins[c].nfills;
            o->small_nflushes += a->bins[c].nflushes;
        }
    }
    size_t page = os_page_size();
    o->pactive = o->active / page;
    o->pdirty = o->dirty / page;
}

/* Average bytes lost per block of class c if request sizes were spread
 * evenly between the class below and this one, times 2 (kept exact). */
static uint64_t rounding_x2(unsigned c)
{
    size_t below = c ? sc_size(c - 1) : 0;
    return sc_size(c) - below - 1;
}

void ctl_class_read(const ctl_stats_t *s, unsigned sel, unsigned c, ctl_class_t *o)
{
    memset(o, 0, sizeof *o);
    o->size = sc_size(c);
    o->nregs = sc_nregs(c);
    o->slab_size = (uint64_t)sc_slab_units(c) << SC_UNIT_SHIFT;
    uint64_t na = 0, nf = 0;
    for (unsigned i = 0; i < s->narenas; i++) {
        if (!arena_selected(s, sel, i)) continue;
        const bin_stats_t *b = &s->arenas[i].a.bins[c];
        o->nmalloc += b->nmalloc;
        o->ndalloc += b->ndalloc;
        o->nfills += b->nfills;
        o->nflushes += b->nflushes;
        o->curregs += b->curregs;
        o->curslabs += b->curslabs;
        o->nonfull_slabs += b->nonfull_slabs;
        o->nrequests += s->arenas[i].req.nalloc[c];
        na += s->arenas[i].req.nalloc[c];
        nf += s->arenas[i].req.nfree[c];
    }
    uint64_t held = na > nf ? na - nf : 0;
    o->used_bytes = o->curregs * o->size;
    o->allocated_bytes = held * o->size;
    if (o->allocated_bytes > o->used_bytes) o->allocated_bytes = o->used_bytes; /* racy counts */
    o->cached_bytes = o->used_bytes - o->allocated_bytes;
    o->slab_bytes = o->curslabs * o->slab_size;
    o->free_in_slabs = o->slab_bytes > o->used_bytes ? o->slab_bytes - o->used_bytes : 0;
    o->rounding_estimate = held * rounding_x2(c) / 2;
}

void ctl_frag_read(const ctl_stats_t *s, ctl_frag_t *o)
{
    memset(o, 0, sizeof *o);
    ctl_arena_t a;
    ctl_arena_read(s, CTL_ARENAS_ALL, &a);
    for (unsigned c = 0; c < SC_NSMALL; c++) {
        ctl_class_t k;
        ctl_class_read(s, CTL_ARENAS_ALL, c, &k);
        o->small_allocated += k.allocated_bytes;
        o->partial_slab += k.free_in_slabs;
        o->rounding_estimate += k.rounding_estimate;
    }
    /* Large classes that thread caches hold are counted per request too. */
    for (unsigned c = SC_NSMALL; c < SC_NCACHED; c++) {
        uint64_t held = ctl_class_allocated(s, c) / sc_size(c);
        o->rounding_estimate += held * rounding_x2(c) / 2;
    }
    o->allocated = s->allocated;
    o->huge_allocated = s->huge_allocated;
    uint64_t rest = s->allocated - (s->allocated < s->huge_allocated ? s->allocated : s->huge_allocated);
    o->large_allocated = rest > o->small_allocated ? rest - o->small_allocated : 0;
    o->cached = s->tcache_bytes;
    /* Freed huge mappings kept for reuse count as dirty free memory. */
    o->dirty = a.dirty + s->huge_cached;
    o->chunk_mapped = a.mapped;
    o->chunk_headers = a.mapped / CHUNK_SIZE * ((uint64_t)CHUNK_HEADER_UNITS << UNIT_SHIFT);
    uint64_t used = a.active + a.dirty + o->chunk_headers;
    o->clean = a.mapped > used ? a.mapped - used : 0;
    o->meta_mapped = s->metadata > a.metadata ? s->metadata - a.metadata : 0;
}

/* Transparent huge pages (hugepages:thp) are the kernel's choice and are not
 * counted here. */
uint64_t ctl_hugepages_mapped(void) { return arena_hugetlb_mapped(); }
uint64_t ctl_hugepages_fallbacks(void) { return arena_hugetlb_fallbacks(); }
