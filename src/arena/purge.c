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
 * A purge costs in proportion to what it returns: it looks only at slabs
 * freed into since it last looked at them (the bins count them) and at free
 * runs when some may be dirty (the arena's runs_dirty), and purges only
 * pages touched since their last purge, each stretch of adjacent ones in
 * one call. A second trim with nothing freed in between makes no madvise.
 *
 * Invariants: a purged range holds no live block and reads as zeroes
 * afterwards; dirty counts (free runs) and unit masks (slabs) cover every
 * unit touched since its last purge, and only units not purged since.
 * Locking: bin locks for the in-slab purges, then the arena lock for free
 * runs (never both at once). decay_due_ms and arena_coarse_ms are atomics.
 */
#include "arena/purge.h"

#include "arena/limit.h"
#include "arena/pageheap.h"
#include "arena/run.h"
#include "options/options.h"

_Atomic uint32_t arena_coarse_ms;   /* time of the last pass: stamps slab frees */
static _Atomic uint32_t decay_due_ms; /* when the next decay pass is due */


/* The grain a purge of chunk c works in. A real hugetlb chunk: its huge
 * page, always (a hugetlb page cannot be split, and MADV_DONTNEED on one
 * needs huge-page alignment). hugepages:thp: whole huge pages on a decay
 * pass, so that khugepaged does not re-inflate half-purged ones, but base
 * pages on a full purge (malloc_trim, arena.<i>.purge), which must give the
 * memory back. Everything else, a chunk that fell back from hugetlb to
 * normal pages included: the base page. Huge pages larger than a chunk
 * (16 KiB and 64 KiB kernels) never back one: base pages then too. */
static size_t purge_grain(const chunk_t *c, bool all)
{
    size_t hp = os_huge_page_size();
    if (c->hugetlb) return hp;
    if (opt_hugepages == HUGEPAGES_THP && !all && hp <= CHUNK_SIZE) return hp;
    return os_page_size();
}

static unsigned log2_of(size_t g) { return (unsigned)__builtin_ctzll((unsigned long long)g); }

/* True if a full purge of free run r would return nothing. */
static bool run_clean_for_trim(const chunk_t *c, const run_t *r)
{
    return r->dirty == 0 ||
           (r->clean_shift != 0 && r->clean_shift <= log2_of(purge_grain(c, true)));
}

/* Purging a free run gives its pages back to the kernel (MADV_DONTNEED:
 * they read as zero and stop counting as resident): the whole pages of the
 * grain (purge_grain) inside it, in one call. A run already purged at this
 * grain or a finer one, and not merged with dirty memory since, is skipped:
 * what it still counts as dirty lies outside those pages. */
bool run_purge(arena_t *a, chunk_t *c, run_t *r, bool all)
{
    if (r->dirty == 0) return false;
    size_t g = purge_grain(c, all);
    unsigned shift = log2_of(g);
    if (r->clean_shift != 0 && r->clean_shift <= shift) return false;
    uintptr_t start = (uintptr_t)run_addr(c, r);
    uintptr_t lo = (start + g - 1) & ~(g - 1);
    uintptr_t hi = (start + ((size_t)r->nunits << UNIT_SHIFT)) & ~(g - 1);
    if (hi <= lo) {
        r->clean_shift = shift & 31u; /* no whole page of this grain inside */
        return false;
    }
    if (!os_purge((void *)lo, hi - lo)) return false;
    unsigned covered = (unsigned)((hi - lo) >> UNIT_SHIFT), rest = r->nunits - covered;
    a->nmadvise++;
    a->purged += (size_t)(r->dirty < covered ? r->dirty : covered) << UNIT_SHIFT;
    /* What stays dirty can only be outside [lo, hi) (and 0 must mean
     * "reads as zeroes", for calloc). */
    if (r->dirty > rest) r->dirty = rest;
    r->clean_shift = shift & 31u;
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

/* Purges the pages of a pending slab that hold only free blocks (or the
 * slab's unused tail) and were touched since their last purge: each maximal
 * stretch of such free pages with at least one dirty page in it is one
 * madvise (clean free pages inside a stretch ride along: they read as
 * zeroes already). Possible because free blocks are tracked in the
 * descriptor's bitmap: nothing lives inside a free block, so its page can be
 * dropped and comes back zeroed when a block on it is handed out again. The
 * purged units' bits leave the slab's mask; the slab stops being pending.
 * Bin lock held; base pages only (the caller skips huge-page grains). */
static bool slab_purge(bin_t *b, chunk_t *c, run_t *r, unsigned sc)
{
    r->pending = 0;
    b->npending--;
    size_t ps = os_page_size(), size = sc_size(sc);
    if (r->dirty == 0 || r->nfree * size < ps) return false; /* no dirty free page */
    unsigned nregs = sc_nregs(sc);
    char *base = run_addr(c, r);
    size_t bytes = (size_t)r->nunits << UNIT_SHIFT, purged = 0;
    /* Whole pages inside the slab only, [lo, end) in slab offsets: with
     * 16 KiB or 64 KiB pages a slab need not start or end on a page. */
    size_t lo = (size_t)(-(uintptr_t)base & (ps - 1));
    size_t end = lo >= bytes ? lo : lo + ((bytes - lo) & ~(ps - 1)), from = end;
    uint32_t stretch = 0; /* unit mask of the stretch [from, off) */
    for (size_t off = lo; off <= end; off += ps) {
        bool free_page = false;
        if (off < end) {
            unsigned first = (unsigned)(off / size), last = (unsigned)((off + ps - 1) / size);
            if (last >= nregs) last = nregs - 1;
            free_page = first >= nregs || blocks_free(r, first, last);
        }
        if (free_page) {
            if (from == end) from = off;
            stretch |= run_units_mask(off, ps);
            continue;
        }
        if (from != end && (r->dirty & stretch) && os_purge(base + from, off - from)) {
            purged += (size_t)__builtin_popcount(r->dirty & stretch) << UNIT_SHIFT;
            r->dirty &= ~stretch;
            b->npurged_slabs++;
        }
        from = end;
        stretch = 0;
    }
    b->purged += purged;
    return purged != 0;
}

/* Looks at pending slab r: purges it unless its chunk is a real hugetlb
 * one (a slab is smaller than a huge page: never purged inside, and only
 * its pending flag is dropped). Bin lock held. */
static bool slab_visit(bin_t *b, run_t *r, unsigned sc)
{
    chunk_t *c = chunk_of(r);
    if (!c->hugetlb) return slab_purge(b, c, r, sc);
    r->pending = 0;
    b->npending--;
    return false;
}

/* The pending slabs of bin b, the current one first: call with r NULL for
 * the first, then with the last one returned; *left starts at b->npending
 * and counts down, so the walk ends at the last pending slab rather than
 * at the end of the list. Bin lock held. */
static run_t *pending_next(const bin_t *b, run_t *r, size_t *left)
{
    if (*left == 0) return NULL;
    r = r == NULL ? (b->cur ? b->cur : b->nonfull) : r == b->cur ? b->nonfull : r->next;
    for (; r; r = r == b->cur ? b->nonfull : r->next)
        if (r->pending) {
            (*left)--;
            return r;
        }
    return NULL;
}

/* In-slab purges of bin sc: its pending slabs only (the bin counts them, so
 * a bin without any costs its lock and one test), those last freed into at
 * least dirty_decay_ms ago unless `all`; the current slab, from which
 * blocks are being handed out, only if `all`. Bin lock held. */
static bool bin_purge(bin_t *b, unsigned sc, uint32_t now, int32_t decay, bool all)
{
    bool any = false;
    size_t left = b->npending;
    for (run_t *r = pending_next(b, NULL, &left); r; r = pending_next(b, r, &left))
        if (all || (r != b->cur && (int32_t)(now - r->aux) >= decay)) any |= slab_visit(b, r, sc);
    return any;
}

/* One decay pass over arena a (or a full purge if `all`): free pages in
 * partly used slabs, then free runs. `wait`: take busy locks (purge, trim)
 * rather than skip them (ticks). With hugepages:thp a decay pass leaves
 * slabs alone (they are smaller than a huge page); with a fill that must
 * survive (junk's: arena_kept_fill) slabs are never purged inside. */
static bool decay_arena(arena_t *a, uint32_t now, bool all, bool wait)
{
    bool any = false;
    int32_t decay = (int32_t)arena_decay_ms(a);
    bool slabs = arena_kept_fill() <= 0 &&
                 (all || opt_hugepages != HUGEPAGES_THP || os_huge_page_size() > CHUNK_SIZE);
    for (unsigned sc = 0; slabs && sc < SC_NSMALL; sc++) {
        if (wait)
            bin_lock(a, sc);
        else if (!bin_trylock(a, sc))
            continue;
        any |= bin_purge(&a->bins[sc], sc, now, decay, all);
        bin_unlock(a, sc);
    }
    if (wait)
        arena_lock(a);
    else if (!arena_trylock(a))
        return any;
    a->npurge++;
    if (a->runs_dirty) {
        bool left = false;
        for (unsigned b = 0; b < ARENA_RUN_BUCKETS; b++) {
            for (run_t *r = a->runs[b]; r; r = r->next) {
                if (r->dirty == 0) continue;
                chunk_t *c = chunk_of(r);
                if (all || (int32_t)(now - r->aux) >= decay) any |= run_purge(a, c, r, all);
                left |= !run_clean_for_trim(c, r);
            }
        }
        a->runs_dirty = left;
    }
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

/* What arena_trim weighs for arena a: its live bytes (blocks handed out
 * from slabs, thread caches included, large runs, huge blocks) and, if
 * `dirty` is not NULL, an estimate of its free resident memory (for each
 * slab freed into since a purge looked at it, the smaller of its free bytes
 * and its touched units; dirty units of free runs; dirty extents of the
 * page heap). The live bytes cost a lock per bin; the estimate walks the
 * pending slabs and the dirty free runs as well. Takes the locks one at a
 * time, as a purge does; the figures may be stale by the time they are
 * used, which costs at most one trim's worth of purging. */
static void trim_weigh(arena_t *a, size_t *live, size_t *dirty)
{
    size_t l = 0, d = 0;
    for (unsigned sc = 0; sc < SC_NSMALL; sc++) {
        bin_t *b = &a->bins[sc];
        size_t size = sc_size(sc);
        bin_lock(a, sc);
        l += b->curregs * size;
        size_t left = dirty ? b->npending : 0;
        for (run_t *r = pending_next(b, NULL, &left); r; r = pending_next(b, r, &left)) {
            size_t free_bytes = (size_t)r->nfree * size;
            size_t touched = (size_t)__builtin_popcount(r->dirty) << UNIT_SHIFT;
            d += free_bytes < touched ? free_bytes : touched;
        }
        bin_unlock(a, sc);
    }
    arena_lock(a);
    l += a->large_allocated + a->heap.huge_bytes;
    if (dirty && a->runs_dirty)
        for (unsigned k = 0; k < ARENA_RUN_BUCKETS; k++)
            for (run_t *r = a->runs[k]; r; r = r->next) d += (size_t)r->dirty << UNIT_SHIFT;
    d += a->heap.free_bytes[0];
    arena_unlock(a);
    *live = l;
    if (dirty) *dirty = d;
}

/* Whether a trim purges arena a completely now: not if at most pad bytes
 * are free, nor after a recent complete trim (ARENA_TRIM_INTERVAL_MS)
 * while the free memory is within the reserve; when trims come faster
 * than ARENA_TRIM_WEIGH_MS apart, the last such estimate stands unless the
 * live bytes fell by a quarter (a mass free), and nothing is walked but
 * the bins' counts. The arena's memo is read once and, for what the
 * decision learnt, written back once: a complete trim when `mark` and one
 * is due (or there was nothing to purge), a fresh estimate when one was
 * made within the reserve. Two trims racing may each write theirs; either
 * is true of a moment ago. */
static bool trim_recent(const struct arena_trim_memo *m, uint32_t now)
{
    return m->trimmed && now - m->trim_ms < ARENA_TRIM_INTERVAL_MS;
}

static struct arena_trim_memo trim_memo(arena_t *a)
{
    arena_lock(a);
    struct arena_trim_memo m = a->trim;
    arena_unlock(a);
    return m;
}

static bool trim_due(arena_t *a, size_t pad, uint32_t now, bool mark)
{
    struct arena_trim_memo m = trim_memo(a);
    bool recent = trim_recent(&m, now);
    size_t live, dirty;
    if (recent) {
        trim_weigh(a, &live, NULL);
        if (m.weighed && now - m.weigh_ms < ARENA_TRIM_WEIGH_MS &&
            live >= m.weigh_live - m.weigh_live / 4)
            return false;
    }
    trim_weigh(a, &live, &dirty);
    size_t reserve = live / PH_DIRTY_SHARE;
    if (reserve < PH_DIRTY_FLOOR) reserve = PH_DIRTY_FLOOR;
    bool due = false, complete = false, weighed = false;
    if (dirty <= pad)
        complete = !recent && mark && dirty == 0; /* nothing to purge: complete */
    else if (recent && dirty <= reserve)
        weighed = true; /* within the reserve: the estimate stands a while */
    else {
        due = true;
        complete = mark;
    }
    if (complete || weighed) {
        arena_lock(a);
        if (complete) {
            a->trim.trimmed = true;
            a->trim.trim_ms = now;
        } else {
            a->trim.weighed = true;
            a->trim.weigh_ms = now;
            a->trim.weigh_live = live;
        }
        arena_unlock(a);
    }
    return due;
}

bool arena_trim_wanted(size_t pad)
{
    uint32_t now = os_now_ms();
    for (unsigned i = 0; i < arena_count(); i++) {
        arena_t *a = arena_get(i);
        /* An arena due for a complete trim: the caller's cache may hold
         * the only free memory there is, so it must be flushed first. */
        struct arena_trim_memo m = trim_memo(a);
        if (!trim_recent(&m, now) || trim_due(a, pad, now, false)) return true;
    }
    return false;
}

bool arena_trim(size_t pad)
{
    uint32_t now = os_now_ms();
    atomic_store_explicit(&arena_coarse_ms, now, memory_order_relaxed);
    bool any = false;
    for (unsigned i = 0; i < arena_count(); i++) {
        arena_t *a = arena_get(i);
        if (trim_due(a, pad, now, true)) any |= decay_arena(a, now, true, true);
    }
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

unsigned arena_decay_min_ms(void)
{
    unsigned min = UINT_MAX, n = arena_count();
    for (unsigned i = 0; i < n; i++) {
        const arena_t *a = arena_get(i);
        unsigned ms = arena_destroyed(a) ? UINT_MAX : arena_decay_ms(a);
        if (ms < min) min = ms;
    }
    return min == UINT_MAX ? opt_decay_ms() : min;
}

void arena_decay_due(void)
{
    uint32_t now = os_now_ms();
    uint32_t due = atomic_load_explicit(&decay_due_ms, memory_order_relaxed);
    /* Above the soft memory limit a pass is due 10 ms after the last one,
     * whatever dirty_decay_ms made the next one's time. */
    if ((int32_t)(now - due) < 0 &&
        (!limit_pressed() ||
         now - atomic_load_explicit(&arena_coarse_ms, memory_order_relaxed) < 10))
        return;
    uint32_t step = arena_decay_min_ms() / 4;
    uint32_t next = now + (step < 10 ? 10 : step);
    if (!atomic_compare_exchange_strong(&decay_due_ms, &due, next)) return;
    atomic_store_explicit(&arena_coarse_ms, now, memory_order_relaxed);
    for (unsigned i = 0; i < arena_count(); i++) decay_arena(arena_get(i), now, false, false);
}

