/* src/arena/bin.c — slabs and the bins that hold them: filling a thread
 * cache from the slabs of one class, flushing blocks back into them, and the
 * secure mode's random block choice.
 *
 * A bin's current slab is the one blocks are taken from; other slabs with
 * free blocks are on its nonfull list; a full slab is on no list. Free
 * blocks are bits in the slab's descriptor, never links in the blocks.
 *
 * Invariants: a slab's nfree is the number of set bits in its bitmap; a slab
 * with free blocks is the bin's current slab or on its nonfull list, a full
 * one on no list, and an empty one other than the current slab goes back
 * to the free runs at once. Every fill sets the units of the blocks it hands
 * out in the slab's dirty mask (the program may write them), every free
 * makes the slab pending; a slab that fills up stops being pending; the
 * bin's npending counts its pending slabs (purge.c visits only those).
 * Locking: the bin lock guards its slabs, their bitmaps and the bin's
 * counters; a new or emptied slab takes the arena lock inside it (order: bin,
 * then arena).
 */
#include <stddef.h>
#include <string.h>

#include "arena/purge.h"
#include "arena/run.h"
#include "lib/list.h"

DLIST_DEFINE(slab_list, run_t, next, prev)

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
    arena_lock(a);
    bool zeroed;
    run_t *r = run_alloc(a, sc_slab_units(sc), 1, MAP_SLAB, sc, &zeroed);
    arena_unlock(a);
    if (r == NULL) return NULL;
    slab_init_bits(r, sc_nregs(sc));
    /* With a kept fill (secure, junk, zero_on_free) every free block holds
     * it, so that reuse can check it: a new slab's memory, which may be an
     * old run's, starts filled. */
    int fill = arena_kept_fill();
    size_t bytes = (size_t)r->nunits << UNIT_SHIFT;
    if (fill >= 0) memset(run_addr(chunk_of(r), r), fill, bytes);
    /* The slab's unit mask starts full if its memory may hold data (a dirty
     * run, or the fill just written), else empty: a fresh or purged run. */
    r->dirty = r->dirty || fill >= 0 ? run_units_mask(0, bytes) : 0;
    r->pending = r->dirty != 0;
    b->npending += r->pending;
    r->aux = arena_coarse_now_ms();
    b->nslabs++;
    return r;
}

static void slab_release(arena_t *a, bin_t *b, chunk_t *c, run_t *r)
{
    b->nslabs--;
    b->npending -= r->pending;
    arena_lock(a);
    run_free(a, c, r);
    arena_unlock(a);
}

/* A slab that became full has no free page left to purge: it stops being
 * pending (a later free makes it pending again). Its unit mask stays. */
static inline void slab_full_check(bin_t *b, run_t *r)
{
    if (r->nfree == 0 && r->pending) {
        r->pending = 0;
        b->npending--;
    }
}

/* The bin's current slab, made to have a free block: the next nonfull slab
 * or a new one. NULL when out of memory. Bin lock held. */
static run_t *bin_slab(arena_t *a, bin_t *b, unsigned sc)
{
    lock_assert_held(&b->lock);
    run_t *r = b->cur;
    if (r != NULL && r->nfree != 0) return r;
    /* A full current slab goes on no list: the flush that frees its first
     * block puts it back on the nonfull list. */
    r = b->nonfull;
    if (r)
        slab_list_remove(&b->nonfull, r);
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
    bin_lock(a, sc);
    while (got < n) {
        run_t *r = bin_slab(a, b, sc);
        if (r == NULL) break;
        char *base = run_addr(chunk_of(r), r);
        unsigned first = got;
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
        /* The blocks go out in address order: their units are one span
         * (blocks between them are live already, so marking them is no
         * loss). Once per slab, not per block. */
        if (got > first) {
            size_t lo = (size_t)((char *)out[first] - base);
            r->dirty |= run_units_mask(lo, (size_t)((char *)out[got - 1] - base) + size - lo);
        }
        slab_full_check(b, r);
    }
    b->curregs += got;
    b->nmalloc += got;
    b->nfills++;
    lock_drop(&b->lock);
    arena_decay_tick();
    return got;
}

void *arena_bin_alloc_random(arena_t *a, unsigned sc, uint64_t rnd)
{
    bin_t *b = &a->bins[sc];
    bin_lock(a, sc);
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
        r->dirty |= run_units_mask((size_t)i * sc_size(sc), sc_size(sc));
        slab_full_check(b, r);
        p = run_addr(chunk_of(r), r) + (size_t)i * sc_size(sc);
        b->curregs++;
        b->nmalloc++;
        b->nfills++;
    }
    lock_drop(&b->lock);
    arena_decay_tick();
    return p;
}

/* A block p of class sc about to be returned to arena a's bin (its lock
 * held) is believed only if it still starts a block of a live slab of that
 * class. It got into a cache through a lock-free check, so by now its chunk
 * may be gone: a double free whose first free emptied the chunk, or an
 * invalid pointer that raced the chunk's release (lookup.h). The word w of
 * p's unit was read first (acquire); then the arena, then the word again:
 * under the bin lock no slab of class sc comes or goes, so a slab word that
 * is still there with the arena after it belongs to a live slab, which keeps
 * its chunk alive (a chunk given back and cut again meanwhile has no such
 * word). */
SABLE_INLINE bool slab_word_live(const chunk_t *c, const arena_t *a, unsigned sc, unsigned u,
                                 uint32_t w)
{
    return (w & (MAP_KIND_MASK | 0xffu)) == sc && chunk_arena_acquire(c) == a &&
           chunk_word(c, u) == w;
}

static _Noreturn SABLE_NOINLINE SABLE_COLD void flush_fatal(bin_t *b, const void *p)
{
    if (b) lock_drop(&b->lock);
    sable_fatal("free(): double free of %p", p);
}

/* Per-block work is what a cross-thread free costs in the end, so it is
 * kept short: the block's offset comes from its unit's map word (no
 * descriptor arithmetic), the bin's counters are updated once per run of
 * blocks that share a bin, and a word checked once (slab_word_live) is not
 * checked again for the next blocks of its unit while the bin lock is held
 * and its slab not given back (a word names its unit: run and distance).
 * fill >= 0 (the fill modes' uncached free): each block is filled with it
 * once it is known to be a block, before it is marked free. Always inlined
 * into its two callers, with fill constant. */
SABLE_INLINE void flush_blocks(unsigned sc, void *const *ptrs, unsigned n, int fill)
{
    unsigned nregs = sc_nregs(sc);
    /* The class's constants for the block tests, loaded once. */
    uint64_t divtest = sc_divtest_table[sc], magic = sc_div_magic_table[sc];
    uint32_t now = arena_coarse_now_ms();
    bin_t *b = NULL;
    /* Where a's bin of class sc is, as a number: a may not be an arena yet
     * (checked when the bin changes), so no member of it is addressed. */
    uintptr_t bin_offset = offsetof(arena_t, bins) + sc * sizeof(bin_t);
    const chunk_t *checked_chunk = NULL;
    uint32_t checked_word = 0;
    unsigned freed = 0;
    for (unsigned i = 0; i < n; i++) {
        void *p = ptrs[i];
        chunk_t *c = chunk_of(p);
        arena_t *a = chunk_arena_acquire(c);
        if ((uintptr_t)a + bin_offset != (uintptr_t)b) {
            if (b) {
                b->curregs -= freed;
                b->ndalloc += freed;
                lock_drop(&b->lock);
                b = NULL;
            }
            if (!arena_is(a)) flush_fatal(NULL, p);
            b = &a->bins[sc];
            freed = 0;
            checked_chunk = NULL;
            bin_lock(a, sc);
            b->nflushes++;
        }
        unsigned u = chunk_unit_of(p);
        uint32_t w = chunk_word_acquire(c, u);
        if (c != checked_chunk || w != checked_word) {
            if (!slab_word_live(c, a, sc, u, w)) flush_fatal(b, p);
            checked_chunk = c;
            checked_word = w;
        }
        uint32_t off = map_run_offset(w, p);
        if (!sc_is_block_start_by(divtest, off)) flush_fatal(b, p);
        run_t *r = chunk_run_of_word(c, w);
        uint32_t idx = sc_block_index_by(magic, off);
        uint64_t bit = (uint64_t)1 << (idx & 63);
        if (r->free_bits[idx >> 6] & bit) flush_fatal(b, p);
        if (fill >= 0) memset(p, fill, sc_size(sc));
        r->free_bits[idx >> 6] |= bit;
        r->nfree++;
        /* The slab has a free block to purge (its units were marked when
         * it was handed out). */
        if (!r->pending) {
            r->pending = 1;
            b->npending++;
        }
        r->aux = now;
        freed++;
        if (r == b->cur) continue;
        if (r->nfree == nregs) {
            slab_list_remove(&b->nonfull, r);
            slab_release(a, b, c, r);
            checked_chunk = NULL;
        } else if (r->nfree == 1) {
            slab_list_push(&b->nonfull, r);
        }
    }
    if (b) {
        b->curregs -= freed;
        b->ndalloc += freed;
        lock_drop(&b->lock);
        arena_decay_tick();
    }
}

void arena_bin_flush(unsigned sc, void *const *ptrs, unsigned n) { flush_blocks(sc, ptrs, n, -1); }

void arena_bin_free_filled(unsigned sc, void *p, int fill) { flush_blocks(sc, &p, 1, fill); }

