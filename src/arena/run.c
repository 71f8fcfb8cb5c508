/* src/arena/run.c — chunks and the runs inside them: taking chunks from the
 * page heap (or the hugetlb pool) and giving them back, splitting,
 * allocating and freeing runs with merging.
 *
 * Invariants: see run.h.
 * Locking: see run.h (the arena lock). The hugetlb counters are atomics.
 */
#include "arena/run.h"

#include <string.h>

#include "arena/limit.h"
#include "arena/pagemap.h"
#include "lib/list.h"
#include "options/options.h"

static _Atomic size_t hugetlb_mapped;
static _Atomic uint64_t hugetlb_fallbacks;
static bool hugetlb_off; /* a forked child: no new hugetlb chunks */

DLIST_DEFINE(run_list, run_t, next, prev)
DLIST_DEFINE(chunk_list, chunk_t, next, prev)

static unsigned bucket_of(unsigned units) { return 31u - (unsigned)__builtin_clz(units); }

void runs_insert(arena_t *a, run_t *r) { run_list_push(&a->runs[bucket_of(r->nunits)], r); }
void runs_remove(arena_t *a, run_t *r) { run_list_remove(&a->runs[bucket_of(r->nunits)], r); }

/* ---- chunks ---- */

/* Gives a chunk's memory back to the page heap (which points its slot at
 * the slot's table again). A chunk that is a mapping of its own (hugetlb, or
 * one a forked child copied out of the pool) is not unmapped, since a
 * racing lock-free lookup may still read its header (lookup.h): fresh
 * memory is mapped over it, which gives its huge pages back, and joins the
 * page heap. Only without memory for that is it unmapped. */
static void chunk_release_memory(arena_t *a, chunk_t *c)
{
    if (c->extent) {
        ph_chunk_free(a, c->extent);
        return;
    }
    if (c->hugetlb) atomic_fetch_sub_explicit(&hugetlb_mapped, CHUNK_SIZE, memory_order_relaxed);
    if (os_map_fresh(c, CHUNK_SIZE) && ph_adopt(a, (uintptr_t)c, CHUNK_SIZE)) return;
    pm_set((uintptr_t)c, CHUNK_SIZE, 0);
    os_unmap(c, CHUNK_SIZE);
}

/* A chunk with the backing opt_hugepages asks for: hugetlb chunks are
 * mappings of their own from the kernel's pool; when the pool is empty
 * (warned once, counted) and in the other modes a chunk is cut from the
 * page heap (which advises huge pages on its regions with thp). Never
 * MAP_NORESERVE, whose failure mode is SIGBUS on first touch. */
static run_t *chunk_new(arena_t *a)
{
    chunk_t *c = NULL;
    extent_t *x = NULL;
    bool zeroed = true;
    if (opt_hugepages == HUGEPAGES_HUGETLB && !hugetlb_off) {
        c = os_map_aligned_hugetlb(CHUNK_SIZE, CHUNK_SIZE);
        if (c) {
            atomic_fetch_add_explicit(&hugetlb_mapped, CHUNK_SIZE, memory_order_relaxed);
        } else if (atomic_fetch_add_explicit(&hugetlb_fallbacks, 1, memory_order_relaxed) == 0) {
            os_warn("hugepages:hugetlb: no huge pages available, using normal pages");
        }
    }
    if (c == NULL) {
        if ((x = ph_chunk_alloc(a, CHUNK_SIZE, &zeroed)) == NULL) return NULL;
        c = (chunk_t *)x->addr;
    }
    run_t *r = chunk_init(c, a, zeroed);
    c->hugetlb = x == NULL;
    c->extent = x;
    if (!pm_set((uintptr_t)c, CHUNK_SIZE, (uintptr_t)c)) {
        chunk_release_memory(a, c);
        return NULL;
    }
    chunk_list_push(&a->chunks, c);
    a->nchunks++;
    arena_note_mapped(a);
    runs_insert(a, r);
    return r;
}

/* The arena field goes to NULL first, before the chunk leaves the page map
 * (pm_set's release stores): a lock-free reader still looking at the chunk
 * then sees that it is no longer one (lookup.h, "Racing a release"). */
static void chunk_release(arena_t *a, chunk_t *c)
{
    chunk_list_remove(&a->chunks, c);
    a->nchunks--;
    atomic_store_explicit(&c->arena, NULL, memory_order_relaxed);
    chunk_release_memory(a, c);
}

void chunks_discard_all(arena_t *a)
{
    lock_assert_held(&a->lock);
    while (a->chunks) chunk_release(a, a->chunks);
    a->spare = NULL;
    memset(a->runs, 0, sizeof a->runs);
    a->nlarge_dalloc += a->nlarge;
    a->nlarge = 0;
    a->large_allocated = 0;
    a->runs_dirty = false;
}

/* ---- runs (arena lock held) ---- */

/* Splits free run r after its first n units; the tail becomes a free run
 * (edges mapped, not on a list). r's edges are the caller's to map: it is
 * either handed out (fully mapped) or stays free (see run_alloc). */
run_t *run_split(chunk_t *c, run_t *r, unsigned n)
{
    run_t *t = chunk_desc_alloc(c);
    t->first = (uint16_t)(r->first + n);
    t->nunits = (uint16_t)(r->nunits - n);
    t->kind = MAP_FREE;
    t->clean_shift = r->clean_shift; /* its whole pages are some of r's */
    t->dirty = r->dirty < t->nunits ? r->dirty : t->nunits;
    t->aux = r->aux; /* dirty since r's oldest free, not since time 0 */
    r->nunits = (uint16_t)n;
    if (r->dirty > n) r->dirty = n;
    chunk_map_free_edges(c, t);
    return t;
}

/* Takes a run of `units` units whose address is a multiple of align_units
 * units, marks it `kind`/`sc` and maps it. NULL when no memory is left. */
run_t *run_alloc(arena_t *a, unsigned units, unsigned align_units, unsigned kind,
                 unsigned sc, bool *zeroed)
{
    lock_assert_held(&a->lock);
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
    *zeroed = r->dirty == 0;
    r->kind = (uint8_t)(kind & 3u);
    r->clean_shift = 0;
    r->sc = (uint8_t)sc;
    chunk_map_run(c, r);
    return r;
}

/* The older of two dirty times (wrap-safe). */
static uint32_t older(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0 ? a : b; }

/* Returns run r to the free lists, merging with free neighbours. Only r's
 * own units and the merged run's edges are rewritten. A free run's `aux`
 * holds the time (ms) its oldest dirty part was freed. A slab brings its
 * unit mask: only the units touched since their last purge count as dirty
 * (a slab whose free pages were all purged frees clean). */
void run_free(arena_t *a, chunk_t *c, run_t *r)
{
    lock_assert_held(&a->lock);
    c->nfree_units += r->nunits;
    r->dirty = r->kind == MAP_SLAB ? (uint32_t)__builtin_popcount(r->dirty) : r->nunits;
    r->kind = MAP_FREE;
    r->pending = 0;
    r->clean_shift = 0;
    r->sc = 0;
    r->aux = os_now_ms();
    unsigned desc = (unsigned)(r - c->runs);
    chunk_set_words(c, r->first, r->nunits, MAP_WORD(MAP_FREE, 0, 0, desc), 0);
    if (r->first > CHUNK_HEADER_UNITS) {
        uint32_t w = chunk_word(c, r->first - 1);
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
        uint32_t w = chunk_word(c, end);
        if (MAP_KIND(w) == MAP_FREE) {
            run_t *n = chunk_run_of_word(c, w);
            runs_remove(a, n);
            r->nunits = (uint16_t)(r->nunits + n->nunits);
            if (n->dirty) r->aux = older(r->aux, n->aux);
            r->dirty += n->dirty;
            chunk_desc_free(c, n);
        }
    }
    r->clean_shift = 0; /* a merge may make new whole pages */
    chunk_map_free_edges(c, r);
    if (r->dirty) a->runs_dirty = true;
    if (arena_decay_ms(a) == 0) run_purge(a, c, r, false);

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


size_t arena_hugetlb_mapped(void)
{
    return atomic_load_explicit(&hugetlb_mapped, memory_order_relaxed);
}

uint64_t arena_hugetlb_fallbacks(void)
{
    return atomic_load_explicit(&hugetlb_fallbacks, memory_order_relaxed);
}


void arena_hugetlb_forked(void)
{
    if (opt_hugepages != HUGEPAGES_HUGETLB) return;
    hugetlb_off = true;
    for (unsigned i = 0; i < arena_count(); i++) {
        for (chunk_t *c = arena_get(i)->chunks; c; c = c->next) {
            if (!c->hugetlb) continue;
            /* Reading a page the parent has needs no new page; one it never
             * touched would (hugetlb has no shared zero page), so only
             * resident huge pages are copied. The copy is the child's own,
             * and moved over the hugetlb mapping. */
            char *copy = os_map_aligned(CHUNK_SIZE, os_page_size());
            if (copy == NULL) {
                os_warn("fork: no memory to copy a hugetlb chunk; the child may get SIGBUS");
                return;
            }
            size_t hp = os_huge_page_size();
            for (size_t off = 0; off < CHUNK_SIZE; off += hp)
                if (os_resident((char *)c + off, hp)) memcpy(copy + off, (char *)c + off, hp);
            if (!os_replace(c, copy, CHUNK_SIZE))
                sable_fatal("fork: a hugetlb chunk at %p could not be replaced by its copy", c);
            c->hugetlb = false;
            atomic_fetch_sub_explicit(&hugetlb_mapped, CHUNK_SIZE, memory_order_relaxed);
        }
    }
}
