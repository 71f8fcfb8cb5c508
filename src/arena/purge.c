/* src/arena/purge.c — returning memory: purging free runs, the free pages
 * inside partly used slabs and the page heap's dirty extents, on a decay
 * schedule or all at once.
 *
 * A decay pass runs every quarter of dirty_decay_ms (at least 10 ms apart),
 * started by whichever slow path finds it due first (one clock read per 32
 * ticks) or by the background thread. It purges memory that has been dirty
 * for at least dirty_decay_ms, skipping any lock that is busy; trim and
 * arena.<i>.purge wait for the locks and purge everything.
 *
 * Invariants: a purged range holds no live block and reads as zeroes
 * afterwards; dirty counts only units touched since their last purge.
 * Locking: bin locks for the in-slab purges, then the arena lock for free
 * runs (never both at once). decay_due_ms and arena_coarse_ms are atomics.
 */
#include "arena/purge.h"

#include "arena/pageheap.h"
#include "arena/run.h"
#include "options/options.h"

_Atomic uint32_t arena_coarse_ms;   /* time of the last pass: stamps slab frees */
static _Atomic uint32_t decay_due_ms; /* when the next decay pass is due */


/* Purging a free run gives its pages back to the kernel (MADV_DONTNEED:
 * they read as zero and stop counting as resident). With huge pages only
 * whole huge pages inside the run are purged, so that khugepaged does not
 * re-inflate a half-purged huge page and a hugetlb page is never split.
 * Huge pages larger than a chunk (16 KiB and 64 KiB kernels) never back
 * one: whole pages are purged then. */
bool run_purge(arena_t *a, chunk_t *c, run_t *r)
{
    if (r->dirty == 0) return false;
    size_t hp = os_huge_page_size();
    size_t g = opt_hugepages != HUGEPAGES_OFF && hp <= CHUNK_SIZE ? hp : os_page_size();
    uintptr_t start = (uintptr_t)run_addr(c, r);
    uintptr_t lo = (start + g - 1) & ~(g - 1);
    uintptr_t hi = (start + ((size_t)r->nunits << UNIT_SHIFT)) & ~(g - 1);
    if (hi <= lo) return false;
    if (!os_purge((void *)lo, hi - lo)) return false;
    unsigned covered = (unsigned)((hi - lo) >> UNIT_SHIFT);
    a->nmadvise++;
    a->purged += (size_t)(r->dirty < covered ? r->dirty : covered) << UNIT_SHIFT;
    /* The count is not positional: what the purge did not cover may all be
     * dirty still (0 must mean "reads as zeroes", for calloc). */
    unsigned rest = r->nunits - covered;
    r->dirty = r->dirty < rest ? r->dirty : rest;
    return true;
}


/* True if blocks first..last of slab r are all free. */
static bool blocks_free(const run_t *r, unsigned first, unsigned last)
{
    for (unsigned i = first; i <= last; i++) {
        if (((i & 63) == 0) && last - i >= 63) {
            if (r->free_bits[i >> 6] != ~(uint64_t)0) return false;
            i += 63;
        } else if (!(r->free_bits[i >> 6] >> (i & 63) & 1)) {
            return false;
        }
    }
    return true;
}

/* Purges the pages of a partly used slab that hold only free blocks (or
 * the slab's unused tail). Possible because free blocks are tracked in the
 * descriptor's bitmap: nothing lives inside a free block, so its page can be
 * dropped and comes back zeroed when a block on it is handed out again.
 * Bin lock held. Not with huge pages (they are purged only whole). */
static bool slab_purge(bin_t *b, chunk_t *c, run_t *r, unsigned sc)
{
    r->dirty = 0;
    size_t ps = os_page_size(), size = sc_size(sc);
    unsigned nregs = sc_nregs(sc);
    /* A purged page reads as zeroes: not with a non-zero fill to check. */
    if (opt_hugepages != HUGEPAGES_OFF || r->nfree * size < ps || arena_free_fill() > 0)
        return false;
    char *base = run_addr(c, r);
    size_t bytes = (size_t)r->nunits << UNIT_SHIFT, purged = 0;
    /* Whole pages inside the slab only, [lo, end) in slab offsets: with
     * 16 KiB or 64 KiB pages a slab need not start or end on a page. */
    size_t lo = (size_t)(-(uintptr_t)base & (ps - 1));
    size_t end = lo >= bytes ? lo : lo + ((bytes - lo) & ~(ps - 1)), from = end;
    for (size_t off = lo; off <= end; off += ps) {
        bool free_page = false;
        if (off < end) {
            unsigned first = (unsigned)(off / size), last = (unsigned)((off + ps - 1) / size);
            if (last >= nregs) last = nregs - 1;
            free_page = first >= nregs || blocks_free(r, first, last);
        }
        if (free_page && from == end) from = off;
        if (!free_page && from != end) {
            if (os_purge(base + from, off - from)) {
                purged += off - from;
                b->npurged_slabs++;
            }
            from = end;
        }
    }
    b->purged += purged;
    return purged != 0;
}

/* One decay pass over arena a (or a full purge if `all`): free pages in
 * partly used slabs, then free runs. `wait`: take busy locks (purge, trim)
 * rather than skip them (ticks). */
static bool decay_arena(arena_t *a, uint32_t now, bool all, bool wait)
{
    bool any = false;
    int32_t decay = (int32_t)opt_dirty_decay_ms;
    for (unsigned sc = 0; sc < SC_NSMALL; sc++) {
        bin_t *b = &a->bins[sc];
        if (wait)
            bin_lock(a, sc);
        else if (!bin_trylock(a, sc))
            continue;
        for (run_t *r = b->nonfull; r; r = r->next)
            if (r->dirty && (all || (int32_t)(now - r->aux) >= decay))
                any |= slab_purge(b, chunk_of(r), r, sc);
        run_t *cur = b->cur;
        if (all && cur && cur->dirty) any |= slab_purge(b, chunk_of(cur), cur, sc);
        lock_drop(&b->lock);
    }
    if (wait)
        arena_lock(a);
    else if (!arena_trylock(a))
        return any;
    a->npurge++;
    for (unsigned b = 0; b < ARENA_RUN_BUCKETS; b++)
        for (run_t *r = a->runs[b]; r; r = r->next)
            if (r->dirty && (all || (int32_t)(now - r->aux) >= decay))
                any |= run_purge(a, chunk_of(r), r);
    any |= ph_purge(a, now, (uint32_t)decay, all);
    arena_unlock(a);
    return any;
}

bool arena_purge(unsigned i, bool all)
{
    uint32_t now = os_now_ms();
    atomic_store_explicit(&arena_coarse_ms, now, memory_order_relaxed);
    return decay_arena(arena_get(i), now, all, true);
}

bool arena_purge_all(void)
{
    bool any = false;
    for (unsigned i = 0; i < arena_count(); i++) any |= arena_purge(i, true);
    return any;
}

/* Ticks come from every slow path, and in the uncached modes from every
 * operation: a thread reads the clock on one tick in 32 only. */
static __thread unsigned tick_skip __attribute__((tls_model(SABLE_TLS_MODEL)));

void arena_decay_tick(void)
{
    if (++tick_skip & 31) return;
    arena_decay_due();
}

void arena_decay_due(void)
{
    uint32_t now = os_now_ms();
    uint32_t due = atomic_load_explicit(&decay_due_ms, memory_order_relaxed);
    if ((int32_t)(now - due) < 0) return;
    uint32_t step = opt_dirty_decay_ms / 4;
    uint32_t next = now + (step < 10 ? 10 : step);
    if (!atomic_compare_exchange_strong(&decay_due_ms, &due, next)) return;
    atomic_store_explicit(&arena_coarse_ms, now, memory_order_relaxed);
    for (unsigned i = 0; i < arena_count(); i++) decay_arena(arena_get(i), now, false, false);
}

