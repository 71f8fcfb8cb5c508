/* src/arena/pageheap.c — the page heap: reserving regions, size bins,
 * splitting and coalescing extents, purging, and unmapping under pressure.
 *
 * Invariants: see pageheap.h.
 * Locking: every function runs under the owning arena's lock; slot-table
 * entries are written with release stores for the lock-free lookups.
 */
#include "arena/pageheap.h"

#include "arena/arena.h"
#include "arena/limit.h"
#include "arena/meta.h"
#include "lib/list.h"
#include "options/options.h"
#include "os/os.h"
#include "os/topo.h"

#define UNIT SC_UNIT
#define SLOT ((size_t)1 << PM_SLOT_SHIFT)

DLIST_DEFINE(bin_list, extent_t, next, prev)

static size_t align_up(size_t x, size_t a) { return (x + a - 1) & ~(a - 1); }

/* Bin of an extent of n units: exact below 4, then four a doubling. */
static unsigned bin_of(size_t n)
{
    if (n < 4) return (unsigned)n - 1;
    unsigned lg = 63u - (unsigned)__builtin_clzll(n);
    return 4 + (lg - 2) * 4 + (unsigned)((n >> (lg - 2)) & 3);
}
_Static_assert(PH_BINS > 4 + (48 - SC_UNIT_SHIFT - 2) * 4 + 3, "bins reach 2^48 bytes");

static uint32_t older(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0 ? a : b; }

/* ---- descriptors ---- */

static extent_t *desc_get(arena_t *a)
{
    pageheap_t *h = &a->heap;
    extent_t *x = h->spare;
    if (x) {
        h->spare = x->next;
    } else if ((x = meta_alloc(sizeof *x)) == NULL) {
        return NULL;
    }
    x->next = x->prev = NULL;
    /* Other arenas' coalescing reads it (free_at, free_ending_at: a
     * neighbouring region may be theirs): relaxed atomics. */
    __atomic_store_n(&x->arena, a, __ATOMIC_RELAXED);
    x->guarded = false;
    extent_set_usable(x, 0);
    return x;
}

static void desc_put(arena_t *a, extent_t *x)
{
    atomic_store_explicit(&x->state, EXTENT_UNUSED, memory_order_release);
    extent_set_addr(x, 0);
    x->size = 0;
    x->next = a->heap.spare;
    a->heap.spare = x;
}

/* ---- slot-table entries ---- */

static void set_entry(uintptr_t unit_addr, extent_t *x)
{
    uintptr_t e = pm_lookup(unit_addr);
    if (!(e & PM_TABLE_TAG)) return; /* a chunk's slot, or not ours: nothing to name */
    ph_table_t *t = (ph_table_t *)(e & ~PM_TABLE_TAG);
    atomic_store_explicit(&t->unit[(unit_addr >> SC_UNIT_SHIFT) & (PH_UNITS_PER_SLOT - 1)], x,
                          memory_order_release);
}

static void map_edges(extent_t *x)
{
    set_entry(x->addr, x);
    set_entry(x->addr + x->size - UNIT, x);
}

/* ---- bins ---- */

static void bin_insert(pageheap_t *h, extent_t *x)
{
    unsigned s = ph_state_index(atomic_load_explicit(&x->state, memory_order_relaxed));
    unsigned b = bin_of(x->size / UNIT);
    bin_list_push(&h->bins[s][b], x);
    h->nonempty[s][b / 64] |= (uint64_t)1 << (b % 64);
    h->free_bytes[s] += x->size;
    if (s) limit_commit(x->arena, -(ptrdiff_t)x->size);
}

static void bin_remove(pageheap_t *h, extent_t *x)
{
    unsigned s = ph_state_index(atomic_load_explicit(&x->state, memory_order_relaxed));
    unsigned b = bin_of(x->size / UNIT);
    bin_list_remove(&h->bins[s][b], x);
    if (h->bins[s][b] == NULL) h->nonempty[s][b / 64] &= ~((uint64_t)1 << (b % 64));
    h->free_bytes[s] -= x->size;
    if (s) limit_commit(x->arena, (ptrdiff_t)x->size);
}

/* The first non-empty bin of state index s at or after b, or PH_BINS. */
static unsigned next_bin(const pageheap_t *h, unsigned s, unsigned b)
{
    for (unsigned w = b / 64; w < PH_BIN_WORDS; w++) {
        uint64_t bits = h->nonempty[s][w];
        if (w == b / 64) bits &= ~(uint64_t)0 << (b % 64);
        if (bits) return w * 64 + (unsigned)__builtin_ctzll(bits);
    }
    return PH_BINS;
}

static bool fits(const extent_t *x, size_t size, size_t align)
{
    size_t head = align_up(x->addr, align) - x->addr;
    return head <= x->size && x->size - head >= size;
}

/* A free extent of state index s that can hold size bytes aligned to
 * align, or NULL. */
static extent_t *find(pageheap_t *h, unsigned s, size_t size, size_t align)
{
    unsigned b = bin_of(size / UNIT);
    extent_t *best = NULL;
    unsigned scanned = 0;
    for (extent_t *x = h->bins[s][b]; x && scanned < PH_FIT_SCAN; x = x->next, scanned++) {
        if (!fits(x, size, align)) continue;
        if (!best || x->size < best->size || (x->size == best->size && x->addr < best->addr))
            best = x;
    }
    if (best) return best;
    for (b = next_bin(h, s, b + 1); b < PH_BINS; b = next_bin(h, s, b + 1)) {
        scanned = 0;
        for (extent_t *x = h->bins[s][b]; x && scanned < PH_FIT_SCAN; x = x->next, scanned++)
            if (fits(x, size, align)) return x;
    }
    return NULL;
}

/* The free extent of arena a that starts at `at`, or NULL. */
static extent_t *free_at(arena_t *a, uintptr_t at)
{
    extent_t *r = ph_entry(at);
    if (r == NULL || __atomic_load_n(&r->arena, __ATOMIC_RELAXED) != a || r->addr != at)
        return NULL;
    unsigned st = atomic_load_explicit(&r->state, memory_order_relaxed);
    return st == EXTENT_DIRTY || st == EXTENT_CLEAN ? r : NULL;
}

/* The free extent (either state) of arena a that ends at `end`, or NULL. */
static extent_t *free_ending_at(arena_t *a, uintptr_t end)
{
    extent_t *l = end >= UNIT ? ph_entry(end - UNIT) : NULL;
    if (l == NULL || __atomic_load_n(&l->arena, __ATOMIC_RELAXED) != a ||
        l->addr + l->size != end)
        return NULL;
    unsigned st = atomic_load_explicit(&l->state, memory_order_relaxed);
    return st == EXTENT_DIRTY || st == EXTENT_CLEAN ? l : NULL;
}

/* Puts free extent x (state set, edges not yet written) into the bins,
 * merged first with the free extents of its state on either side. */
static void insert_free(arena_t *a, extent_t *x)
{
    pageheap_t *h = &a->heap;
    unsigned st = atomic_load_explicit(&x->state, memory_order_relaxed);
    extent_t *l = free_ending_at(a, x->addr);
    if (l && atomic_load_explicit(&l->state, memory_order_relaxed) == st) {
        bin_remove(h, l);
        l->size += x->size;
        if (st == EXTENT_DIRTY) l->freed_ms = older(l->freed_ms, x->freed_ms);
        desc_put(a, x);
        x = l;
    }
    extent_t *r = free_at(a, x->addr + x->size);
    if (r && atomic_load_explicit(&r->state, memory_order_relaxed) == st) {
        bin_remove(h, r);
        x->size += r->size;
        if (st == EXTENT_DIRTY) x->freed_ms = older(x->freed_ms, r->freed_ms);
        desc_put(a, r);
    }
    map_edges(x);
    bin_insert(h, x);
}

/* ---- address space ---- */

/* The slot table of the slot holding a (NULL if it has none). */
static ph_table_t *table_of(uintptr_t a)
{
    uintptr_t e = pm_lookup(a);
    return e & PM_TABLE_TAG ? (ph_table_t *)(e & ~PM_TABLE_TAG) : NULL;
}

/* Files [lo, hi) (part of a slot that held a chunk) as a free extent of
 * descriptor k, purged if the kernel agrees, merged with a stub next to it. */
static void keep_stub(arena_t *a, extent_t *k, uintptr_t lo, uintptr_t hi)
{
    extent_set_addr(k, lo);
    k->size = hi - lo;
    k->freed_ms = os_now_ms();
    unsigned st = os_purge((void *)lo, hi - lo) ? EXTENT_CLEAN : EXTENT_DIRTY;
    atomic_store_explicit(&k->state, st, memory_order_relaxed);
    insert_free(a, k);
}

/* Unmaps free extent x (off the bins, its state no longer free) except the
 * first PH_STUB bytes of every slot in it that held a chunk, which stay as
 * free extents (see pageheap.h), and gives x's descriptor back. Returns the
 * bytes unmapped. Without a descriptor for a stub, the rest of x stays
 * mapped, as a dirty free extent. */
static size_t unmap_extent(arena_t *a, extent_t *x)
{
    uintptr_t end = x->addr + x->size, from = x->addr;
    size_t stub = PH_STUB(os_page_size()), gone = 0;
    for (uintptr_t s = x->addr & ~(uintptr_t)(SLOT - 1); s < end; s += SLOT) {
        ph_table_t *t = table_of(s);
        uintptr_t lo = s > from ? s : from, hi = s + stub < end ? s + stub : end;
        if (t == NULL || !t->chunked || lo >= hi) continue;
        extent_t *k = desc_get(a);
        if (k == NULL) {
            extent_set_addr(x, from);
            x->size = end - from;
            x->freed_ms = os_now_ms();
            atomic_store_explicit(&x->state, EXTENT_DIRTY, memory_order_relaxed);
            insert_free(a, x);
            return gone;
        }
        if (lo > from) os_unmap((void *)from, lo - from);
        gone += lo - from;
        keep_stub(a, k, lo, hi);
        from = hi;
    }
    if (from < end) os_unmap((void *)from, end - from);
    gone += end - from;
    desc_put(a, x);
    return gone;
}

/* Unmaps every free extent of arena a (a reservation was refused: the
 * address space may be needed elsewhere), all but the stubs. True if any
 * memory was unmapped. The free extents are taken off the bins first, so
 * that the stubs filed meanwhile (which merge with free neighbours) are not
 * visited again. */
static bool unmap_free(arena_t *a)
{
    pageheap_t *h = &a->heap;
    extent_t *all = NULL;
    for (unsigned s = 0; s < 2; s++) {
        for (unsigned b = next_bin(h, s, 0); b < PH_BINS; b = next_bin(h, s, b + 1)) {
            extent_t *x;
            while ((x = h->bins[s][b]) != NULL) {
                bin_remove(h, x);
                atomic_store_explicit(&x->state, EXTENT_UNUSED, memory_order_relaxed);
                set_entry(x->addr, NULL);
                set_entry(x->addr + x->size - UNIT, NULL);
                x->next = all;
                all = x;
            }
        }
    }
    size_t gone = 0;
    while (all) {
        extent_t *x = all;
        all = x->next;
        size_t n = unmap_extent(a, x);
        h->nunmap += n != 0;
        gone += n;
    }
    h->reserved -= gone;
    limit_commit(a, -(ptrdiff_t)gone);
    return gone != 0;
}

bool ph_unmap_free(arena_t *a)
{
    lock_assert_held(&a->lock);
    return unmap_free(a);
}

/* Gives every slot of [p, p+len) a slot table (a slot that had one before,
 * from an earlier mapping at the same place, keeps it). */
static bool tables_for(uintptr_t p, size_t len)
{
    for (uintptr_t s = p; s < p + len; s += SLOT) {
        uintptr_t e = pm_lookup(s);
        if (e & PM_TABLE_TAG) continue;
        ph_table_t *t = meta_alloc(sizeof *t);
        if (t == NULL || !pm_set(s, SLOT, (uintptr_t)t | PM_TABLE_TAG)) return false;
    }
    return true;
}

static void *map_region(size_t len, size_t align)
{
    void *p = os_map_aligned(len, align);
    if (p == NULL) return NULL;
    if (!tables_for((uintptr_t)p, len)) {
        os_unmap(p, len);
        return NULL;
    }
    return p;
}

/* Reserves a region that can hold size bytes aligned to align, as one clean
 * free extent. */
static bool reserve(arena_t *a, size_t size, size_t align)
{
    pageheap_t *h = &a->heap;
    size_t ralign = align > SLOT ? align : SLOT;
    size_t need = align_up(size, SLOT);
    if (need < size) return false;
    /* Half of what is held, in whole slots: what the arena holds need not
     * be (unmap_free gives back any free extent, and keeps header pages),
     * and a region must be, or its tail unmap and extents are not
     * page-aligned (found by the fuzzer after an unmap under pressure). */
    size_t step = align_up(h->reserved / 2, SLOT);
    if (step < PH_STEP_MIN) step = PH_STEP_MIN;
    if (step > PH_STEP_MAX) step = PH_STEP_MAX;
    size_t len = need > step ? need : step;
    void *p = map_region(len, ralign);
    if (p == NULL && len > need) p = map_region(len = need, ralign);
    if (p == NULL && unmap_free(a)) p = map_region(len = need, ralign);
    if (p == NULL) return false;
    if (opt_hugepages == HUGEPAGES_THP) os_advise_hugepage(p, len);
    if (a->bound) os_bind_node(p, len, a->node);
    extent_t *x = desc_get(a);
    if (x == NULL) {
        os_unmap(p, len);
        return false;
    }
    extent_set_addr(x, (uintptr_t)p);
    x->size = len;
    atomic_store_explicit(&x->state, EXTENT_CLEAN, memory_order_relaxed);
    h->reserved += len;
    limit_commit(a, (ptrdiff_t)len);
    h->nreserve++;
    insert_free(a, x);
    return true;
}

/* ---- allocation ---- */

/* Files [from, to) as a free extent in state st dirty since freed_ms,
 * using spare descriptor d, or gives d back when the range is empty. The
 * range's neighbours are not free in st (it was part of one free extent). */
static void file_part(arena_t *a, extent_t *d, uintptr_t from, uintptr_t to, unsigned st,
                      uint32_t freed_ms)
{
    if (from == to) {
        desc_put(a, d);
        return;
    }
    extent_set_addr(d, from);
    d->size = to - from;
    d->freed_ms = freed_ms;
    atomic_store_explicit(&d->state, st, memory_order_relaxed);
    map_edges(d);
    bin_insert(&a->heap, d);
}

/* Cuts [at, at+size) out of free extent x (removed from its bin), giving
 * back the parts before and after it as free extents of x's state. head and
 * tail are spare descriptors; those not used go back. Returns x, live. */
static extent_t *carve(arena_t *a, extent_t *x, uintptr_t at, size_t size, extent_t *head,
                       extent_t *tail)
{
    unsigned st = atomic_load_explicit(&x->state, memory_order_relaxed);
    file_part(a, head, x->addr, at, st, x->freed_ms);
    file_part(a, tail, at + size, x->addr + x->size, st, x->freed_ms);
    extent_set_addr(x, at);
    x->size = size;
    return x;
}

/* Purges free dirty extent x: it turns clean and merges with clean
 * neighbours. False (x left as it was) if the kernel refused. */
static bool purge_one(arena_t *a, extent_t *x)
{
    pageheap_t *h = &a->heap;
    if (!os_purge((void *)x->addr, x->size)) return false;
    bin_remove(h, x);
    h->npurge++;
    h->purged += x->size;
    atomic_store_explicit(&x->state, EXTENT_CLEAN, memory_order_relaxed);
    insert_free(a, x);
    return true;
}

/* The largest dirty extent (the first PH_FIT_SCAN of each bin compared). */
static extent_t *largest_dirty(pageheap_t *h)
{
    extent_t *old = NULL;
    for (unsigned b = next_bin(h, 0, 0); b < PH_BINS; b = next_bin(h, 0, b + 1)) {
        unsigned scanned = 0;
        for (extent_t *x = h->bins[0][b]; x && scanned < PH_FIT_SCAN; x = x->next, scanned++)
            if (!old || x->size > old->size) old = x;
    }
    return old;
}

/* How far a window may reach over neighbouring free extents. */
#define PH_SPAN_STEPS 8

/* Free extents L..R, adjacent, from d, covering [w, w+size): L and R set
 * and the bytes of dirty memory inside the window returned, or 0 if the
 * window is not all free (within PH_SPAN_STEPS extents each way). */
static size_t span_at(arena_t *a, extent_t *d, uintptr_t w, size_t size, extent_t **L,
                      extent_t **R)
{
    extent_t *l = d, *r = d;
    for (unsigned i = 0; l->addr > w; i++)
        if (i == PH_SPAN_STEPS || (l = free_ending_at(a, l->addr)) == NULL) return 0;
    for (unsigned i = 0; r->addr + r->size < w + size; i++)
        if (i == PH_SPAN_STEPS || (r = free_at(a, r->addr + r->size)) == NULL) return 0;
    size_t dirty = 0;
    for (extent_t *x = l;; x = free_at(a, x->addr + x->size)) {
        if (atomic_load_explicit(&x->state, memory_order_relaxed) == EXTENT_DIRTY) {
            uintptr_t lo = x->addr > w ? x->addr : w;
            uintptr_t hi = x->addr + x->size < w + size ? x->addr + x->size : w + size;
            dirty += hi - lo;
        }
        if (x == r) break;
    }
    *L = l;
    *R = r;
    return dirty;
}

/* No single dirty extent fits: the window of adjacent free extents, dirty
 * and clean, that reuses the most dirty memory (so that a block larger than
 * any freed one faults in only what it adds), cut out of them and returned
 * (not yet live); head and tail are the spare descriptors for the parts of
 * the first and last extent outside it. NULL if no window touches dirty
 * memory. */
static extent_t *take_span(arena_t *a, size_t size, size_t align, extent_t *head,
                           extent_t *tail)
{
    pageheap_t *h = &a->heap;
    size_t best = 0;
    uintptr_t bw = 0;
    extent_t *bl = NULL, *br = NULL;
    for (unsigned b = next_bin(h, 0, 0); b < PH_BINS; b = next_bin(h, 0, b + 1)) {
        unsigned scanned = 0;
        for (extent_t *d = h->bins[0][b]; d && scanned < PH_FIT_SCAN; d = d->next, scanned++) {
            uintptr_t end = d->addr + d->size;
            uintptr_t cand[2] = {align_up(d->addr, align),
                                 end >= size ? (end - size) & ~(uintptr_t)(align - 1) : 0};
            for (unsigned k = 0; k < 2; k++) {
                extent_t *l, *r;
                if (cand[k] == 0) continue;
                size_t got = span_at(a, d, cand[k], size, &l, &r);
                if (got > best) {
                    best = got;
                    bw = cand[k];
                    bl = l;
                    br = r;
                }
            }
        }
    }
    if (best == 0) return NULL;
    unsigned lst = atomic_load_explicit(&bl->state, memory_order_relaxed);
    unsigned rst = atomic_load_explicit(&br->state, memory_order_relaxed);
    uintptr_t lstart = bl->addr, rend = br->addr + br->size;
    uint32_t lms = bl->freed_ms, rms = br->freed_ms;
    extent_t *x = bl;
    for (extent_t *e = bl, *next;; e = next) {
        bool last = e == br;
        next = last ? NULL : free_at(a, e->addr + e->size);
        bin_remove(h, e);
        if (e != x) desc_put(a, e);
        if (last) break;
    }
    file_part(a, head, lstart, bw, lst, lms);
    file_part(a, tail, bw + size, rend, rst, rms);
    extent_set_addr(x, bw);
    x->size = size;
    return x;
}

/* The dirty budget: 1/PH_DIRTY_SHARE of the heap's live bytes, or
 * 1/PH_PEAK_SHARE of the most it held in the current window or the one
 * before (windows of at least PH_PEAK_MS, started by the calls here; the
 * peak follows every growth, ph_note_live), whichever is more; at least
 * PH_DIRTY_FLOOR. The peak keeps a program whose live bytes swing (a few
 * big buffers, freed and allocated again) from purging what it faults in
 * again a moment later. */
static size_t dirty_budget(pageheap_t *h)
{
    size_t live = h->huge_bytes + h->chunk_bytes;
    uint32_t now = os_now_ms();
    if (now - h->live_peak_ms > PH_PEAK_MS) {
        h->live_peak_prev = h->live_peak;
        h->live_peak = live;
        h->live_peak_ms = now;
    }
    size_t peak = h->live_peak > h->live_peak_prev ? h->live_peak : h->live_peak_prev;
    size_t budget = live / PH_DIRTY_SHARE;
    if (budget < peak / PH_PEAK_SHARE) budget = peak / PH_PEAK_SHARE;
    return budget < PH_DIRTY_FLOOR ? PH_DIRTY_FLOOR : budget;
}

/* Purges bytes (a multiple of UNIT, less than its size) of free dirty
 * extent x: the end next to a clean free neighbour, so that the purged part
 * merges with it, else the top end. With transparent huge pages the cut is
 * moved down to a huge-page boundary where x has one, so that the part kept
 * dirty keeps its huge pages whole. The rest of x stays dirty, with its
 * dirty time. Purges all of x when no descriptor is spare; false (x left
 * as it was) if the kernel refused. */
static bool purge_part(arena_t *a, extent_t *x, size_t bytes)
{
    pageheap_t *h = &a->heap;
    extent_t *l = free_ending_at(a, x->addr);
    extent_t *r = free_at(a, x->addr + x->size);
    bool low = !(r && atomic_load_explicit(&r->state, memory_order_relaxed) == EXTENT_CLEAN) &&
               l && atomic_load_explicit(&l->state, memory_order_relaxed) == EXTENT_CLEAN;
    uintptr_t cut = low ? x->addr + bytes : x->addr + x->size - bytes;
    if (opt_hugepages == HUGEPAGES_THP) {
        size_t hp = os_huge_page_size();
        uintptr_t c = low ? align_up(cut, hp) : cut & ~(uintptr_t)(hp - 1);
        if (c > x->addr && c < x->addr + x->size) cut = c;
    }
    extent_t *p = desc_get(a);
    if (p == NULL) return purge_one(a, x);
    uintptr_t from = low ? x->addr : cut, to = low ? cut : x->addr + x->size;
    if (!os_purge((void *)from, to - from)) {
        desc_put(a, p);
        return false;
    }
    bin_remove(h, x);
    if (low) extent_set_addr(x, cut);
    x->size -= to - from;
    map_edges(x);
    bin_insert(h, x);
    extent_set_addr(p, from);
    p->size = to - from;
    p->freed_ms = x->freed_ms;
    atomic_store_explicit(&p->state, EXTENT_CLEAN, memory_order_relaxed);
    h->npurge++;
    h->purged += to - from;
    insert_free(a, p);
    return true;
}

/* Before fresh pages are faulted in: dirty memory beyond the budget goes
 * back first, so the heap's resident size follows what is live. Each pass
 * purges the excess out of the smallest dirty extent that covers it (the
 * largest when none does): one system call, and no more than the excess
 * goes. Purging whole extents overshot by tens of MiB on the large
 * workload (a 51 MiB extent purged for a 13 MiB excess, then faulted in
 * again); over its seeds 1-12, taking only the excess cut the faults by
 * 10 % (838K to 757K) for 3 % more peak RSS. */
static void purge_to_budget(arena_t *a)
{
    pageheap_t *h = &a->heap;
    size_t budget = dirty_budget(h);
    extent_t *x;
    while (h->free_bytes[0] > budget) {
        size_t excess = align_up(h->free_bytes[0] - budget, UNIT);
        if ((x = find(h, 0, excess, UNIT)) == NULL && (x = largest_dirty(h)) == NULL) break;
        if (!(excess < x->size ? purge_part(a, x, excess) : purge_one(a, x))) break;
    }
}

extent_t *ph_alloc(arena_t *a, size_t size, size_t align, bool *zeroed)
{
    lock_assert_held(&a->lock);
    pageheap_t *h = &a->heap;
    if (align < UNIT) align = UNIT;
    /* Nothing larger than the page map's address space can be mapped (and
     * the bins end there). */
    size_t space = (size_t)1 << PM_ADDR_BITS;
    if (size == 0 || size > space || align > space || size + align > space) return NULL;
    extent_t *head = desc_get(a), *tail = head ? desc_get(a) : NULL;
    if (tail == NULL) {
        if (head) desc_put(a, head);
        return NULL;
    }
    /* Dirty first: its pages are resident, and it is the memory decay
     * would otherwise give back. */
    extent_t *x = find(h, 0, size, align);
    bool spanned = false;
    if (x == NULL && limit_allows(size) && (x = take_span(a, size, align, head, tail)) != NULL) {
        *zeroed = false;
        spanned = true;
    } else {
        if (x == NULL && !limit_allows(size)) {
            /* Fresh memory beyond memory_limit: this arena's dirty memory
             * goes first, and if that is not enough the allocation fails. */
            ph_purge(a, 0, 0, true);
            if (!limit_allows(size)) {
                desc_put(a, head);
                desc_put(a, tail);
                return NULL;
            }
        }
        if (x == NULL) {
            purge_to_budget(a);
            x = find(h, 1, size, align);
        }
        if (x == NULL && reserve(a, size, align))
            x = find(h, 1, size, align);
        if (x == NULL) {
            desc_put(a, head);
            desc_put(a, tail);
            return NULL;
        }
        *zeroed = atomic_load_explicit(&x->state, memory_order_relaxed) == EXTENT_CLEAN;
        bin_remove(h, x);
        carve(a, x, align_up(x->addr, align), size, head, tail);
    }
    extent_set_usable(x, size);
    x->guarded = false;
    map_edges(x);
    atomic_store_explicit(&x->state, EXTENT_LIVE, memory_order_release);
    /* Part of a window is fresh memory: the dirty memory it could not use
     * goes down to the budget too. Only now that x is live: purging merges
     * free neighbours, and x must not look like one. */
    if (spanned) purge_to_budget(a);
    return x;
}

void ph_free(arena_t *a, extent_t *x, ph_free_t how)
{
    lock_assert_held(&a->lock);
    pageheap_t *h = &a->heap;
    unsigned st = how == PH_CLEAN ? EXTENT_CLEAN : EXTENT_DIRTY;
    if (st == EXTENT_DIRTY && (how == PH_PURGE || arena_decay_ms(a) == 0) &&
        os_purge((void *)x->addr, x->size)) {
        st = EXTENT_CLEAN;
        h->npurge++;
        h->purged += x->size;
    }
    x->freed_ms = os_now_ms();
    extent_set_usable(x, 0);
    atomic_store_explicit(&x->state, st, memory_order_release);
    insert_free(a, x);
    arena_note_mapped(a);
}

bool ph_grow(arena_t *a, extent_t *x, size_t size, bool *zeroed)
{
    lock_assert_held(&a->lock);
    pageheap_t *h = &a->heap;
    /* The free extents after x (a dirty one and a clean one can be
     * neighbours), as many as it takes. */
    size_t have = x->size;
    bool clean = true;
    /* Under memory_limit the whole growth counts as fresh (conservative:
     * part of it may be dirty memory already counted). */
    if (!limit_allows(size - x->size)) return false;
    for (extent_t *r = free_at(a, x->addr + have); have < size; r = free_at(a, x->addr + have)) {
        if (r == NULL) return false;
        have += r->size;
    }
    while (x->size < size) {
        extent_t *r = free_at(a, x->addr + x->size);
        size_t take = size - x->size;
        clean &= atomic_load_explicit(&r->state, memory_order_relaxed) == EXTENT_CLEAN;
        bin_remove(h, r);
        if (r->size > take) {
            extent_set_addr(r, r->addr + take);
            r->size -= take;
            map_edges(r);
            bin_insert(h, r);
        } else {
            take = r->size;
            desc_put(a, r);
        }
        x->size += take;
    }
    *zeroed = clean;
    map_edges(x);
    return true;
}

bool ph_shrink(arena_t *a, extent_t *x, size_t size)
{
    lock_assert_held(&a->lock);
    extent_t *t = desc_get(a);
    if (t == NULL) return false;
    extent_set_addr(t, x->addr + size);
    t->size = x->size - size;
    x->size = size;
    map_edges(x);
    t->freed_ms = os_now_ms();
    atomic_store_explicit(&t->state, EXTENT_DIRTY, memory_order_relaxed);
    if (arena_decay_ms(a) == 0 && os_purge((void *)t->addr, t->size))
        atomic_store_explicit(&t->state, EXTENT_CLEAN, memory_order_relaxed);
    insert_free(a, t);
    arena_note_mapped(a);
    return true;
}

/* ---- chunks ---- */

extent_t *ph_chunk_alloc(arena_t *a, size_t chunk_size, bool *zeroed)
{
    extent_t *x = ph_alloc(a, chunk_size, chunk_size, zeroed);
    if (x == NULL) return NULL;
    ph_table_t *t = table_of(x->addr);
    t->chunked = true;
    __atomic_store_n(&x->table, t, __ATOMIC_RELAXED);
    atomic_store_explicit(&x->state, EXTENT_CHUNK, memory_order_release);
    a->heap.chunk_bytes += chunk_size;
    ph_note_live(&a->heap);
    return x;
}

void ph_chunk_free(arena_t *a, extent_t *x)
{
    lock_assert_held(&a->lock);
    a->heap.chunk_bytes -= x->size;
    pm_set(x->addr, x->size, (uintptr_t)x->table | PM_TABLE_TAG);
    __atomic_store_n(&x->table, (ph_table_t *)NULL, __ATOMIC_RELAXED);
    ph_free(a, x, PH_DIRTY);
}

bool ph_adopt(arena_t *a, uintptr_t addr, size_t size)
{
    lock_assert_held(&a->lock);
    extent_t *x = desc_get(a);
    if (x == NULL) return false;
    if (!tables_for(addr, size)) {
        desc_put(a, x);
        return false;
    }
    for (uintptr_t s = addr; s < addr + size; s += SLOT) table_of(s)->chunked = true;
    extent_set_addr(x, addr);
    x->size = size;
    atomic_store_explicit(&x->state, EXTENT_CLEAN, memory_order_relaxed);
    a->heap.reserved += size;
    limit_commit(a, (ptrdiff_t)size);
    insert_free(a, x);
    return true;
}

/* ---- returning memory ---- */

bool ph_purge(arena_t *a, uint32_t now, uint32_t decay_ms, bool all)
{
    lock_assert_held(&a->lock);
    pageheap_t *h = &a->heap;
    bool any = false;
    for (unsigned b = next_bin(h, 0, 0); b < PH_BINS; b = next_bin(h, 0, b + 1)) {
        extent_t *next;
        for (extent_t *x = h->bins[0][b]; x; x = next) {
            next = x->next;
            if (!all && (int32_t)(now - x->freed_ms) < (int32_t)decay_ms) continue;
            /* Merging touches clean extents only: the dirty list walked
             * here loses x alone. */
            any |= purge_one(a, x);
        }
    }
    return any;
}

static size_t put_range(ph_range_t *out, size_t cap, size_t n, const extent_t *x)
{
    if (n < cap) out[n] = (ph_range_t){x->addr, x->size};
    return n + 1;
}

size_t ph_ranges(arena_t *a, ph_range_t *out, size_t cap)
{
    lock_assert_held(&a->lock);
    pageheap_t *h = &a->heap;
    size_t n = 0;
    for (extent_t *x = h->live; x; x = x->next) n = put_range(out, cap, n, x);
    for (unsigned b = next_bin(h, 0, 0); b < PH_BINS; b = next_bin(h, 0, b + 1))
        for (extent_t *x = h->bins[0][b]; x; x = x->next) n = put_range(out, cap, n, x);
    return n;
}
