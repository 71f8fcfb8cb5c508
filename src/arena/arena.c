/* src/arena/arena.c — bins of slabs, free runs, large runs, chunks.
 *
 * Free runs sit on per-arena lists bucketed by floor(log2(units)); allocation
 * is first fit within a bucket (bounded scan), else any run of a larger
 * bucket, else a new chunk. A freed run merges with free neighbours, found
 * through the map words of the units on either side. An arena keeps at most
 * one empty chunk mapped (its "spare") and unmaps the others.
 *
 * Locking: see arena.h. Every map word and run list changes under the arena
 * lock; slab bitmaps and bin lists under the bin lock.
 */
#include "arena/arena.h"

#include <string.h>

#include "arena/huge.h"
#include "arena/meta.h"
#include "ctl/options.h"

static arena_t *arenas;
static unsigned narenas;
static _Atomic size_t hugetlb_mapped;
static _Atomic uint64_t hugetlb_fallbacks;
static _Atomic uint32_t decay_due_ms;  /* when the next decay pass is due */
static _Atomic uint32_t coarse_now_ms; /* time of the last pass: stamps slab frees */

bool arena_boot(unsigned n)
{
    if (n == 0) n = 1;
    if (n > ARENA_MAX) n = ARENA_MAX;
    arena_t *all = meta_alloc(n * sizeof(arena_t));
    if (all == NULL) return false;
    for (unsigned i = 0; i < n; i++) {
        arena_t *a = &all[i];
        os_lock_init(&a->lock);
        a->index = i;
        for (unsigned c = 0; c < SC_NSMALL; c++) os_lock_init(&a->bins[c].lock);
    }
    arenas = all;
    narenas = n;
    return true;
}

unsigned arena_count(void) { return narenas; }
arena_t *arena_get(unsigned i) { return &arenas[i]; }

int arena_free_fill(void)
{
    if (opt_junk) return 0x5a;
    return opt_secure || opt_zero_on_free ? 0 : -1;
}

/* ---- intrusive doubly linked lists of runs ---- */

static void list_push(run_t **head, run_t *r)
{
    r->prev = NULL;
    r->next = *head;
    if (*head) (*head)->prev = r;
    *head = r;
}

static void list_remove(run_t **head, run_t *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        *head = r->next;
    if (r->next) r->next->prev = r->prev;
    r->next = r->prev = NULL;
}

static unsigned bucket_of(unsigned units) { return 31u - (unsigned)__builtin_clz(units); }

static void runs_insert(arena_t *a, run_t *r) { list_push(&a->runs[bucket_of(r->nunits)], r); }
static void runs_remove(arena_t *a, run_t *r) { list_remove(&a->runs[bucket_of(r->nunits)], r); }

/* ---- chunks ---- */

/* Maps a chunk with the backing opt_hugepages asks for. hugetlb falls back
 * to normal pages (warned once, counted) when the kernel's pool is empty:
 * never MAP_NORESERVE, whose failure mode is SIGBUS on first touch. */
static chunk_t *chunk_map(bool *hugetlb)
{
    *hugetlb = false;
    if (opt_hugepages == HUGEPAGES_HUGETLB) {
        chunk_t *c = os_map_aligned_hugetlb(CHUNK_SIZE, CHUNK_SIZE);
        if (c) {
            *hugetlb = true;
            atomic_fetch_add_explicit(&hugetlb_mapped, CHUNK_SIZE, memory_order_relaxed);
            return c;
        }
        if (atomic_fetch_add_explicit(&hugetlb_fallbacks, 1, memory_order_relaxed) == 0)
            os_warn("hugepages:hugetlb: no huge pages available, using normal pages");
    }
    chunk_t *c = os_map_aligned(CHUNK_SIZE, CHUNK_SIZE);
    if (c && opt_hugepages == HUGEPAGES_THP) os_advise_hugepage(c, CHUNK_SIZE);
    return c;
}

static run_t *chunk_new(arena_t *a)
{
    bool hugetlb;
    chunk_t *c = chunk_map(&hugetlb);
    if (c == NULL) return NULL;
    run_t *r = chunk_init(c, a);
    c->hugetlb = hugetlb;
    if (!pm_set((uintptr_t)c, CHUNK_SIZE, (uintptr_t)c)) {
        if (hugetlb) atomic_fetch_sub_explicit(&hugetlb_mapped, CHUNK_SIZE, memory_order_relaxed);
        os_unmap(c, CHUNK_SIZE);
        return NULL;
    }
    c->prev = NULL;
    c->next = a->chunks;
    if (a->chunks) a->chunks->prev = c;
    a->chunks = c;
    a->nchunks++;
    runs_insert(a, r);
    return r;
}

static void chunk_release(arena_t *a, chunk_t *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        a->chunks = c->next;
    if (c->next) c->next->prev = c->prev;
    a->nchunks--;
    pm_set((uintptr_t)c, CHUNK_SIZE, 0);
    if (c->hugetlb) atomic_fetch_sub_explicit(&hugetlb_mapped, CHUNK_SIZE, memory_order_relaxed);
    os_unmap(c, CHUNK_SIZE);
}

/* ---- runs (arena lock held) ---- */

/* Splits free run r after its first n units; the tail becomes a free run
 * (edges mapped, not on a list). r's edges are the caller's to map: it is
 * either handed out (fully mapped) or stays free (see run_alloc). */
static run_t *run_split(chunk_t *c, run_t *r, unsigned n)
{
    run_t *t = chunk_desc_alloc(c);
    t->first = (uint16_t)(r->first + n);
    t->nunits = (uint16_t)(r->nunits - n);
    t->kind = MAP_FREE;
    t->dirty = r->dirty < t->nunits ? r->dirty : t->nunits;
    r->nunits = (uint16_t)n;
    if (r->dirty > n) r->dirty = n;
    chunk_map_free_edges(c, t);
    return t;
}

/* Takes a run of `units` units whose address is a multiple of align_units
 * units, marks it `kind`/`sc` and maps it. NULL when no memory is left. */
static run_t *run_alloc(arena_t *a, unsigned units, unsigned align_units, unsigned kind,
                        unsigned sc)
{
    unsigned need = units + align_units - 1;
    run_t *r = NULL;
    for (unsigned b = bucket_of(need); b < ARENA_RUN_BUCKETS && !r; b++) {
        unsigned scanned = 0;
        for (run_t *x = a->runs[b]; x && scanned < 16; x = x->next, scanned++) {
            if (x->nunits >= need) {
                r = x;
                break;
            }
        }
    }
    if (r == NULL && (r = chunk_new(a)) == NULL) return NULL;

    chunk_t *c = chunk_of(r);
    if (c == a->spare) a->spare = NULL;
    runs_remove(a, r);
    c->nfree_units -= units;
    if (align_units > 1) {
        uintptr_t addr = (uintptr_t)run_addr(c, r);
        uintptr_t mask = ((uintptr_t)align_units << UNIT_SHIFT) - 1;
        unsigned head = (unsigned)((((addr + mask) & ~mask) - addr) >> UNIT_SHIFT);
        if (head) {
            run_t *rest = run_split(c, r, head);
            chunk_map_free_edges(c, r);
            runs_insert(a, r);
            r = rest;
        }
    }
    if (r->nunits > units) runs_insert(a, run_split(c, r, units));
    r->kind = (uint8_t)kind;
    r->sc = (uint8_t)sc;
    chunk_map_run(c, r);
    return r;
}

/* Purging a free run gives its pages back to the kernel (MADV_DONTNEED:
 * they read as zero and stop counting as resident). With huge pages only
 * whole huge pages inside the run are purged, so that khugepaged does not
 * re-inflate a half-purged huge page and a hugetlb page is never split.
 * Huge pages larger than a chunk (16 KiB and 64 KiB kernels) never back
 * one: whole pages are purged then. */
static bool run_purge(arena_t *a, chunk_t *c, run_t *r)
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
    r->dirty = r->dirty > covered ? r->dirty - covered : 0;
    return true;
}

/* The older of two dirty times (wrap-safe). */
static uint32_t older(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0 ? a : b; }

/* Returns run r to the free lists, merging with free neighbours. Only r's
 * own units and the merged run's edges are rewritten. A free run's `aux`
 * holds the time (ms) its oldest dirty part was freed. */
static void run_free(arena_t *a, chunk_t *c, run_t *r)
{
    c->nfree_units += r->nunits;
    r->kind = MAP_FREE;
    r->sc = 0;
    r->dirty = r->nunits;
    r->aux = os_now_ms();
    unsigned desc = (unsigned)(r - c->runs);
    for (unsigned u = r->first; u < r->first + r->nunits; u++)
        c->map[u] = MAP_WORD(MAP_FREE, 0, 0, desc);
    if (r->first > CHUNK_HEADER_UNITS) {
        uint32_t w = c->map[r->first - 1];
        if (MAP_KIND(w) == MAP_FREE) {
            run_t *l = chunk_run_of_word(c, w);
            runs_remove(a, l);
            l->nunits = (uint16_t)(l->nunits + r->nunits);
            l->aux = l->dirty ? older(l->aux, r->aux) : r->aux;
            l->dirty += r->dirty;
            chunk_desc_free(c, r);
            r = l;
        }
    }
    unsigned end = r->first + r->nunits;
    if (end < CHUNK_UNITS) {
        uint32_t w = c->map[end];
        if (MAP_KIND(w) == MAP_FREE) {
            run_t *n = chunk_run_of_word(c, w);
            runs_remove(a, n);
            r->nunits = (uint16_t)(r->nunits + n->nunits);
            if (n->dirty) r->aux = older(r->aux, n->aux);
            r->dirty += n->dirty;
            chunk_desc_free(c, n);
        }
    }
    chunk_map_free_edges(c, r);
    if (opt_dirty_decay_ms == 0) run_purge(a, c, r);

    if (r->nunits == CHUNK_USABLE_UNITS) {
        if (a->spare == NULL) {
            a->spare = c;
        } else {
            /* The run's descriptor lives in the chunk: nothing to free. */
            chunk_release(a, c);
            return;
        }
    }
    runs_insert(a, r);
}

/* ---- slabs and bins ---- */

static void slab_init_bits(run_t *r, unsigned nregs)
{
    for (unsigned w = 0; w < SC_SLAB_MAXREGS / 64; w++) {
        unsigned lo = w * 64;
        if (nregs >= lo + 64)
            r->free_bits[w] = ~(uint64_t)0;
        else if (nregs > lo)
            r->free_bits[w] = ((uint64_t)1 << (nregs - lo)) - 1;
        else
            r->free_bits[w] = 0;
    }
    r->nfree = (uint16_t)nregs;
}

/* Called with the bin lock held. */
static run_t *slab_new(arena_t *a, bin_t *b, unsigned sc)
{
    pthread_mutex_lock(&a->lock);
    run_t *r = run_alloc(a, sc_slab_units(sc), 1, MAP_SLAB, sc);
    pthread_mutex_unlock(&a->lock);
    if (r == NULL) return NULL;
    slab_init_bits(r, sc_nregs(sc));
    /* With fills on (secure, junk, zero_on_free) every free block holds the
     * fill, so that reuse can check it: a new slab's memory, which may be an
     * old run's, starts filled. */
    int fill = arena_free_fill();
    if (fill >= 0) memset(run_addr(chunk_of(r), r), fill, (size_t)r->nunits << UNIT_SHIFT);
    /* For a slab, `dirty` means "blocks were freed since the last in-slab
     * purge" and `aux` when: its free pages may hold stale data. */
    r->dirty = 1;
    r->aux = atomic_load_explicit(&coarse_now_ms, memory_order_relaxed);
    b->nslabs++;
    return r;
}

static void slab_release(arena_t *a, bin_t *b, chunk_t *c, run_t *r)
{
    b->nslabs--;
    pthread_mutex_lock(&a->lock);
    run_free(a, c, r);
    pthread_mutex_unlock(&a->lock);
}

/* The bin's current slab, made to have a free block: the next nonfull slab
 * or a new one. NULL when out of memory. Bin lock held. */
static run_t *bin_slab(arena_t *a, bin_t *b, unsigned sc)
{
    run_t *r = b->cur;
    if (r != NULL && r->nfree != 0) return r;
    /* A full current slab goes on no list: the flush that frees its first
     * block puts it back on the nonfull list. */
    r = b->nonfull;
    if (r)
        list_remove(&b->nonfull, r);
    else if ((r = slab_new(a, b, sc)) == NULL)
        return NULL;
    b->cur = r;
    return r;
}

unsigned arena_bin_fill(arena_t *a, unsigned sc, void **out, unsigned n)
{
    bin_t *b = &a->bins[sc];
    size_t size = sc_size(sc);
    unsigned got = 0;
    pthread_mutex_lock(&b->lock);
    while (got < n) {
        run_t *r = bin_slab(a, b, sc);
        if (r == NULL) break;
        char *base = run_addr(chunk_of(r), r);
        for (unsigned w = 0; w < SC_SLAB_MAXREGS / 64 && got < n; w++) {
            uint64_t bits = r->free_bits[w];
            while (bits && got < n) {
                unsigned i = w * 64 + (unsigned)__builtin_ctzll(bits);
                bits &= bits - 1;
                out[got++] = base + (size_t)i * size;
                r->nfree--;
            }
            r->free_bits[w] = bits;
        }
    }
    b->curregs += got;
    b->nmalloc += got;
    b->nfills++;
    pthread_mutex_unlock(&b->lock);
    arena_decay_tick();
    return got;
}

void *arena_bin_alloc_random(arena_t *a, unsigned sc, uint64_t rnd)
{
    bin_t *b = &a->bins[sc];
    pthread_mutex_lock(&b->lock);
    run_t *r = bin_slab(a, b, sc);
    void *p = NULL;
    if (r) {
        /* The first free block at or after a random index, wrapping: a word
         * at a time (bits past nregs are never set). */
        unsigned nregs = sc_nregs(sc), start = (unsigned)(rnd % nregs), i = nregs;
        unsigned w0 = start >> 6, nw = (nregs + 63) / 64;
        uint64_t first = r->free_bits[w0] & (~(uint64_t)0 << (start & 63));
        if (first) {
            i = w0 * 64 + (unsigned)__builtin_ctzll(first);
        } else {
            for (unsigned k = 1; k <= nw && i == nregs; k++) {
                unsigned w = (w0 + k) % nw;
                if (r->free_bits[w]) i = w * 64 + (unsigned)__builtin_ctzll(r->free_bits[w]);
            }
        }
        r->free_bits[i >> 6] &= ~((uint64_t)1 << (i & 63));
        r->nfree--;
        p = run_addr(chunk_of(r), r) + (size_t)i * sc_size(sc);
        b->curregs++;
        b->nmalloc++;
        b->nfills++;
    }
    pthread_mutex_unlock(&b->lock);
    arena_decay_tick();
    return p;
}

/* Per-block work is what a cross-thread free costs in the end, so it is
 * kept short: the block's offset comes from its unit's map word (no
 * descriptor arithmetic), and the bin's counters are updated once per run of
 * blocks that share a bin. */
void arena_bin_flush(unsigned sc, void *const *ptrs, unsigned n)
{
    unsigned nregs = sc_nregs(sc);
    uint32_t now = atomic_load_explicit(&coarse_now_ms, memory_order_relaxed);
    bin_t *b = NULL;
    unsigned freed = 0;
    for (unsigned i = 0; i < n; i++) {
        void *p = ptrs[i];
        chunk_t *c = chunk_of(p);
        arena_t *a = c->arena;
        if (&a->bins[sc] != b) {
            if (b) {
                b->curregs -= freed;
                b->ndalloc += freed;
                pthread_mutex_unlock(&b->lock);
            }
            b = &a->bins[sc];
            freed = 0;
            pthread_mutex_lock(&b->lock);
            b->nflushes++;
        }
        uint32_t w = c->map[chunk_unit_of(p)];
        run_t *r = chunk_run_of_word(c, w);
        uint32_t idx = sc_block_index(sc, map_run_offset(w, p));
        uint64_t bit = (uint64_t)1 << (idx & 63);
        if (r->free_bits[idx >> 6] & bit) sable_fatal("free(): double free of %p", p);
        r->free_bits[idx >> 6] |= bit;
        r->nfree++;
        r->dirty = 1;
        r->aux = now;
        freed++;
        if (r == b->cur) continue;
        if (r->nfree == nregs) {
            list_remove(&b->nonfull, r);
            slab_release(a, b, c, r);
        } else if (r->nfree == 1) {
            list_push(&b->nonfull, r);
        }
    }
    if (b) {
        b->curregs -= freed;
        b->ndalloc += freed;
        pthread_mutex_unlock(&b->lock);
        arena_decay_tick();
    }
}

/* ---- large runs ---- */

void *arena_large_alloc(arena_t *a, size_t size, size_t align)
{
    /* In size_t: an alignment of 2^44 or more would truncate in 32 bits and
     * pass as "no alignment" (found by the call-sequence fuzzer). One that
     * cannot fit in a chunk returns NULL; the caller tries a huge mapping. */
    size_t units = size >> UNIT_SHIFT;
    size_t align_units = align > UNIT_SIZE ? align >> UNIT_SHIFT : 1;
    if (align_units > CHUNK_USABLE_UNITS || units + align_units - 1 > CHUNK_USABLE_UNITS)
        return NULL;
    pthread_mutex_lock(&a->lock);
    run_t *r = run_alloc(a, (unsigned)units, (unsigned)align_units, MAP_LARGE, sc_of(size));
    if (r) {
        a->large_allocated += size;
        a->nlarge++;
        a->nlarge_malloc++;
    }
    pthread_mutex_unlock(&a->lock);
    arena_decay_tick();
    return r ? run_addr(chunk_of(r), r) : NULL;
}

void arena_large_free(void *p)
{
    chunk_t *c = chunk_of(p);
    arena_t *a = c->arena;
    pthread_mutex_lock(&a->lock);
    uint32_t w = c->map[chunk_unit_of(p)];
    if (MAP_KIND(w) != MAP_LARGE || map_run_offset(w, p) != 0)
        sable_fatal("free(): double free of %p", p);
    run_t *r = chunk_run_of_word(c, w);
    a->large_allocated -= (size_t)r->nunits << UNIT_SHIFT;
    a->nlarge--;
    a->nlarge_dalloc++;
    run_free(a, c, r);
    pthread_mutex_unlock(&a->lock);
    arena_decay_tick();
}

bool arena_large_resize(chunk_t *c, run_t *r, size_t size)
{
    arena_t *a = c->arena;
    unsigned units = (unsigned)(size >> UNIT_SHIFT);
    bool ok = true;
    pthread_mutex_lock(&a->lock);
    unsigned old = r->nunits;
    if (units < old) {
        run_t *tail = run_split(c, r, units);
        c->nfree_units -= tail->nunits; /* run_free adds them back */
        run_free(a, c, tail);
    } else if (units > old) {
        unsigned end = r->first + old;
        uint32_t w = end < CHUNK_UNITS ? c->map[end] : 0;
        run_t *n = MAP_KIND(w) == MAP_FREE ? chunk_run_of_word(c, w) : NULL;
        if (n && old + n->nunits >= units) {
            unsigned take = units - old;
            runs_remove(a, n);
            if (n->nunits > take) {
                n->first = (uint16_t)(n->first + take);
                n->nunits = (uint16_t)(n->nunits - take);
                if (n->dirty > n->nunits) n->dirty = n->nunits;
                chunk_map_free_edges(c, n);
                runs_insert(a, n);
            } else {
                chunk_desc_free(c, n);
            }
            c->nfree_units -= take;
            r->nunits = (uint16_t)units;
        } else {
            ok = false;
        }
    }
    if (ok) {
        a->large_allocated += ((size_t)r->nunits << UNIT_SHIFT);
        a->large_allocated -= ((size_t)old << UNIT_SHIFT);
        r->sc = (uint8_t)sc_of(size);
        chunk_map_run(c, r);
    }
    pthread_mutex_unlock(&a->lock);
    return ok;
}

/* ---- purge and fork ---- */

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
            pthread_mutex_lock(&b->lock);
        else if (pthread_mutex_trylock(&b->lock) != 0)
            continue;
        for (run_t *r = b->nonfull; r; r = r->next)
            if (r->dirty && (all || (int32_t)(now - r->aux) >= decay))
                any |= slab_purge(b, chunk_of(r), r, sc);
        run_t *cur = b->cur;
        if (all && cur && cur->dirty) any |= slab_purge(b, chunk_of(cur), cur, sc);
        pthread_mutex_unlock(&b->lock);
    }
    if (wait)
        pthread_mutex_lock(&a->lock);
    else if (pthread_mutex_trylock(&a->lock) != 0)
        return any;
    a->npurge++;
    for (unsigned b = 0; b < ARENA_RUN_BUCKETS; b++)
        for (run_t *r = a->runs[b]; r; r = r->next)
            if (r->dirty && (all || (int32_t)(now - r->aux) >= decay))
                any |= run_purge(a, chunk_of(r), r);
    pthread_mutex_unlock(&a->lock);
    return any;
}

bool arena_purge(unsigned i, bool all)
{
    uint32_t now = os_now_ms();
    atomic_store_explicit(&coarse_now_ms, now, memory_order_relaxed);
    return decay_arena(&arenas[i], now, all, true);
}

bool arena_purge_all(void)
{
    bool any = huge_decay(os_now_ms(), true);
    for (unsigned i = 0; i < narenas; i++) any |= arena_purge(i, true);
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
    atomic_store_explicit(&coarse_now_ms, now, memory_order_relaxed);
    for (unsigned i = 0; i < narenas; i++) decay_arena(&arenas[i], now, false, false);
    huge_decay(now, false);
}

size_t arena_hugetlb_mapped(void)
{
    return atomic_load_explicit(&hugetlb_mapped, memory_order_relaxed);
}

uint64_t arena_hugetlb_fallbacks(void)
{
    return atomic_load_explicit(&hugetlb_fallbacks, memory_order_relaxed);
}

void arena_stats_read(unsigned i, arena_stats_t *out)
{
    arena_t *a = &arenas[i];
    memset(out, 0, sizeof *out);
    out->nthreads = atomic_load_explicit(&a->nthreads, memory_order_relaxed);
    for (unsigned c = 0; c < SC_NSMALL; c++) {
        bin_t *b = &a->bins[c];
        bin_stats_t *o = &out->bins[c];
        pthread_mutex_lock(&b->lock);
        o->nmalloc = b->nmalloc;
        o->ndalloc = b->ndalloc;
        o->nfills = b->nfills;
        o->nflushes = b->nflushes;
        o->curregs = b->curregs;
        o->curslabs = b->nslabs;
        for (run_t *r = b->nonfull; r; r = r->next) o->nonfull_slabs++;
        out->purged += b->purged;
        out->nmadvise += b->npurged_slabs;
        pthread_mutex_unlock(&b->lock);
        out->small_allocated += o->curregs * sc_size(c);
    }
    pthread_mutex_lock(&a->lock);
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
    pthread_mutex_unlock(&a->lock);
}

void arena_prefork(void)
{
    for (unsigned i = 0; i < narenas; i++) {
        for (unsigned c = 0; c < SC_NSMALL; c++) pthread_mutex_lock(&arenas[i].bins[c].lock);
        pthread_mutex_lock(&arenas[i].lock);
    }
}

void arena_postfork(void)
{
    for (unsigned i = narenas; i-- > 0;) {
        pthread_mutex_unlock(&arenas[i].lock);
        for (unsigned c = SC_NSMALL; c-- > 0;) pthread_mutex_unlock(&arenas[i].bins[c].lock);
    }
}
