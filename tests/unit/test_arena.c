/* Arenas: slabs, bins, runs and chunks, driven directly. */
#include <criterion/criterion.h>
#include <unistd.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>

#include "arena/limit.h"
#include "arena/arena.h"
#include "arena/huge.h"
#include "arena/lookup.h"
#include "arena/pagemap.h"
#include "options/options.h"

static arena_t *A;

static void setup(void)
{
    os_init();
    cr_assert(arena_boot(1));
    A = arena_get(0);
}

TestSuite(arena, .init = setup);

static uint32_t word_of(void *p) { return chunk_of(p)->map[chunk_unit_of(p)]; }

Test(arena, filled_blocks_are_distinct_block_starts_of_their_class)
{
    enum { N = 3000 };
    static void *ptrs[N];
    unsigned sc = sc_of(48);
    for (unsigned got = 0; got < N;) got += arena_bin_fill(A, sc, ptrs + got, N - got);
    for (unsigned i = 0; i < N; i++) {
        uint32_t w = word_of(ptrs[i]);
        cr_assert_eq(MAP_KIND(w), MAP_SLAB);
        cr_assert_eq(MAP_CLASS(w), sc);
        cr_assert_eq((uintptr_t)ptrs[i] % 16, 0);
        memset(ptrs[i], (int)i, 48);
        cr_assert_eq(pm_lookup((uintptr_t)ptrs[i]), (uintptr_t)chunk_of(ptrs[i]));
    }
    for (unsigned i = 0; i < N; i++)
        for (unsigned k = 0; k < 48; k++)
            cr_assert_eq(((unsigned char *)ptrs[i])[k], (unsigned char)i, "blocks overlap");
    arena_bin_flush(sc, ptrs, N);
    cr_assert_eq(A->bins[sc].curregs, 0);
}

Test(arena, fill_hands_out_lowest_addresses_first)
{
    void *a[8];
    unsigned sc = sc_of(64);
    cr_assert_eq(arena_bin_fill(A, sc, a, 8), 8);
    for (int i = 1; i < 8; i++) cr_assert_eq((char *)a[i] - (char *)a[i - 1], 64);
}

Test(arena, emptied_slabs_return_their_units_to_the_chunk)
{
    enum { N = 2000 };
    static void *ptrs[N];
    unsigned sc = sc_of(1024);
    unsigned got = 0;
    while (got < N) got += arena_bin_fill(A, sc, ptrs + got, N - got);
    cr_assert_gt(A->bins[sc].nslabs, 1);
    arena_bin_flush(sc, ptrs, N);
    cr_assert_leq(A->bins[sc].nslabs, 1, "only the current slab stays");
}

Test(arena, flushing_a_block_twice_aborts, .signal = SIGABRT)
{
    void *p;
    cr_assert_eq(arena_bin_fill(A, 0, &p, 1), 1);
    arena_bin_flush(0, &p, 1);
    arena_bin_flush(0, &p, 1);
}

Test(arena, large_runs_honour_alignment)
{
    for (size_t align = 4096; align <= (1u << 20); align <<= 1) {
        void *p = arena_large_alloc(A, 40960, align, false);
        cr_assert_not_null(p);
        cr_assert_eq((uintptr_t)p % align, 0, "align %zu", align);
        uint32_t w = word_of(p);
        cr_assert_eq(MAP_KIND(w), MAP_LARGE);
        cr_assert_eq(MAP_BACK(w), 0);
        memset(p, 1, 40960);
    }
}

static run_t *run_of(void *p) { return chunk_run_of_word(chunk_of(p), word_of(p)); }

Test(arena, freed_runs_merge_and_an_empty_chunk_stays_as_spare)
{
    void *a = arena_large_alloc(A, 65536, 0, false);
    void *b = arena_large_alloc(A, 65536, 0, false);
    void *c = arena_large_alloc(A, 65536, 0, false);
    cr_assert(a && b && c);
    chunk_t *ch = chunk_of(a);
    cr_assert_eq(chunk_of(b), ch);
    cr_assert_eq(chunk_of(c), ch);
    arena_large_free(b);
    arena_large_free(a);
    arena_large_free(c);
    cr_assert_eq(ch->nfree_units, CHUNK_USABLE_UNITS);
    cr_assert_eq(A->spare, ch);
    uint32_t w = ch->map[CHUNK_HEADER_UNITS];
    cr_assert_eq(MAP_KIND(w), MAP_FREE);
    cr_assert_eq(chunk_run_of_word(ch, w)->nunits, CHUNK_USABLE_UNITS, "one run spans the chunk");
}

Test(arena, a_split_free_run_keeps_its_dirty_time)
{
    /* A run freed just now and then split by a smaller allocation: the
     * part left free is as young as the run was, and a decay pass (which
     * purges only what has been dirty for dirty_decay_ms) leaves it alone.
     * Its time once started at 0, which made every split remainder look
     * ancient: the next pass purged memory freed a moment before. */
    cr_assert_gt(arena_decay_ms(A), 100);
    void *p = arena_large_alloc(A, 262144, 0, false);
    cr_assert_not_null(p);
    memset(p, 1, 262144);
    arena_large_free(p);
    void *q = arena_large_alloc(A, 65536, 0, false);
    cr_assert_eq(q, p, "the freed run is reused from its start");
    run_t *tail = run_of((char *)q + 65536);
    cr_assert_eq(tail->kind, MAP_FREE);
    cr_assert_gt(tail->dirty, 0, "the remainder holds the pages just written");
    uint32_t now = os_now_ms();
    cr_assert_lt((int32_t)(now - tail->aux), 1000, "dirty since the free, not since time 0");
    arena_purge(0, false);
    cr_assert_gt(run_of((char *)q + 65536)->dirty, 0, "a decay pass keeps what was freed just now");
    arena_large_free(q);
}

Test(arena, a_second_empty_chunk_goes_back_to_the_page_heap)
{
    /* Two runs too big to share a chunk. */
    size_t big = (size_t)SC_LARGE_MAX;
    void *a = arena_large_alloc(A, big, 0, false);
    void *b = arena_large_alloc(A, big, 0, false);
    cr_assert(a && b);
    void *c = arena_large_alloc(A, big, 0, false);
    cr_assert_not_null(c);
    chunk_t *cc = chunk_of(c);
    cr_assert_neq(cc, chunk_of(a));
    size_t chunk_bytes = A->heap.chunk_bytes, dirty = A->heap.free_bytes[0];
    arena_large_free(a);
    arena_large_free(b);
    cr_assert_eq(A->spare, chunk_of(a));
    arena_large_free(c);
    cr_assert_not(pm_is_chunk((uintptr_t)cc), "released chunk left the chunk bitmap");
    cr_assert(pm_lookup((uintptr_t)cc) & PM_TABLE_TAG, "its slot is the page heap's again");
    cr_assert_eq(A->nchunks, 1);
    cr_assert_lt(A->heap.chunk_bytes, chunk_bytes);
    cr_assert_eq(A->heap.chunk_bytes, A->nchunks * CHUNK_SIZE, "only the spare is a chunk");
    cr_assert_geq(A->heap.free_bytes[0], dirty + CHUNK_SIZE, "kept as dirty memory");
    arena_lock(A);
    extent_t *x = NULL;
    for (unsigned b = 0; b < PH_BINS; b++)
        for (extent_t *e = A->heap.bins[0][b]; e; e = e->next)
            if (e->addr <= (uintptr_t)cc && e->addr + e->size >= (uintptr_t)cc + CHUNK_SIZE) x = e;
    cr_assert_not_null(x, "a dirty free extent covers the chunk");
    cr_assert_eq(atomic_load(&x->state), EXTENT_DIRTY);
    cr_assert_eq(ph_entry(x->addr), x, "its first unit names it");
    cr_assert_eq(ph_entry(x->addr + x->size - 4096), x, "and its last");
    /* The next chunk is the same memory again: no new mapping. */
    bool zeroed = true;
    extent_t *y = ph_chunk_alloc(A, CHUNK_SIZE, &zeroed);
    cr_assert_not_null(y);
    cr_assert_not(zeroed, "dirty memory is not zero");
    cr_assert_eq(y->addr % CHUNK_SIZE, 0);
    ph_chunk_free(A, y);
    arena_unlock(A);
}

Test(arena, large_runs_grow_in_place_into_free_neighbours)
{
    void *a = arena_large_alloc(A, 20480, 0, false);
    cr_assert_not_null(a);
    cr_assert(arena_large_resize(a, 163840));
    cr_assert_eq(run_of(a)->nunits, 40);
    void *b = arena_large_alloc(A, 20480, 0, false);
    cr_assert_eq((char *)b, (char *)a + 163840, "the next run starts after the grown one");
    cr_assert_not(arena_large_resize(a, 204800), "neighbour is taken");
    cr_assert(arena_large_resize(a, 20480), "shrinking always works");
    void *c = arena_large_alloc(A, 24576, 0, false);
    cr_assert_eq((char *)c, (char *)a + 20480, "the freed tail is reused first");
}

Test(arena, huge_blocks_are_page_granular_extents_found_by_lookup)
{
    size_t n = ((size_t)5 << 20) + 4096;
    char *p = huge_alloc(A, n, 0, false);
    cr_assert_not_null(p);
    ptr_info_t in = arena_lookup(p);
    cr_assert_eq(in.kind, PTR_HUGE);
    cr_assert_eq(in.usable, os_page_round(n), "sized in pages, not slots");
    extent_t *x = in.huge;
    cr_assert_eq(x->addr, (uintptr_t)p);
    cr_assert_eq(arena_lookup(p + 4096).kind, PTR_INVALID, "an interior page is not a block");
    cr_assert_eq(arena_lookup(p + 8).kind, PTR_INVALID);
    memset(p, 7, n);
    cr_assert(huge_resize(x, p, (size_t)3 << 20), "shrinks in place");
    cr_assert_eq(arena_lookup(p).usable, (size_t)3 << 20);
    cr_assert(huge_resize(x, p, (size_t)6 << 20), "grows back into the freed tail");
    cr_assert_eq(p[(3 << 20) - 1], 7, "contents kept");
    huge_free(x, p, "free");
    cr_assert_eq(arena_lookup(p).kind, PTR_INVALID, "a freed block is not live");
    /* The freed extent is reused first, dirty. */
    char *q = huge_alloc(A, n, 0, false);
    cr_assert_eq(q, p, "the same memory again");
    cr_assert_eq(q[0], 7, "dirty memory keeps its contents (no fill mode)");
    huge_free(arena_lookup(q).huge, q, "free");
}

Test(arena, slab_purges_give_back_whole_pages_and_count_only_what_was_purged)
{
    /* One live block in every 256: the slabs stay, almost all free. */
    enum { N = 4096 };
    static void *ptrs[N], *rest[N];
    unsigned sc = sc_of(256), nrest = 0;
    for (unsigned got = 0; got < N;) got += arena_bin_fill(A, sc, ptrs + got, N - got);
    for (unsigned i = 0; i < N; i++) {
        memset(ptrs[i], 0xab, 256);
        if (i % 256 != 0) rest[nrest++] = ptrs[i];
    }
    arena_bin_flush(sc, rest, nrest);
    bin_t *b = &A->bins[sc];
    uint64_t before = b->npurged_slabs;
    cr_assert(arena_purge(0, true));
    size_t ps = os_page_size();
    cr_assert_gt(b->purged, 0);
    cr_assert_eq(b->purged % ps, 0, "whole pages only");
    cr_assert_gt(b->npurged_slabs, before);
    cr_assert_eq(os_error_count(OS_ERR_PURGE), 0, "every madvise was page-aligned");
    /* Pages of free blocks read as zero again (those that share a page with
     * a live block keep their bytes). */
    unsigned zero = 0;
    for (unsigned i = 0; i < nrest; i++) zero += ((unsigned char *)rest[i])[0] == 0;
    cr_assert_geq(zero, nrest / 2, "%u of %u freed blocks purged", zero, nrest);
}

Test(pagemap, entries_cover_exactly_the_slots_set)
{
    uintptr_t base = (uintptr_t)3 << 40;
    cr_assert(pm_range_free(base, CHUNK_SIZE * 3));
    cr_assert(pm_set(base + CHUNK_SIZE, CHUNK_SIZE + 1, 0x1000));
    cr_assert_eq(pm_lookup(base), 0);
    cr_assert_eq(pm_lookup(base + CHUNK_SIZE), 0x1000);
    cr_assert_eq(pm_lookup(base + 3 * CHUNK_SIZE - 1), 0x1000);
    cr_assert_eq(pm_lookup(base + 3 * CHUNK_SIZE), 0);
    cr_assert_not(pm_range_free(base, CHUNK_SIZE * 2));
    cr_assert(pm_set(base + CHUNK_SIZE, 2 * CHUNK_SIZE, 0));
    cr_assert(pm_range_free(base, CHUNK_SIZE * 3));
}

Test(pagemap, every_address_the_kernel_gives_fits_and_wider_ones_are_never_ours)
{
    /* The map is sized for the widest kernel window (48 bits), whatever the
     * width of this machine's (47 on x86_64, 48 on AArch64). */
    unsigned bits = os_addr_bits();
    cr_assert_geq(bits, 39);
    cr_assert_leq(bits, PM_ADDR_BITS);
    uintptr_t top = ((uintptr_t)1 << bits) - CHUNK_SIZE;
    cr_assert(pm_set(top, CHUNK_SIZE, 0x1000), "the kernel's last slot is representable");
    cr_assert_eq(pm_lookup(top + CHUNK_SIZE - 1), 0x1000);
    cr_assert(pm_is_chunk(top));
    cr_assert(pm_set(top, CHUNK_SIZE, 0));
    cr_assert_eq(pm_lookup((uintptr_t)1 << PM_ADDR_BITS), 0);
    cr_assert_eq(pm_lookup(~(uintptr_t)0), 0);
    cr_assert_not(pm_set((uintptr_t)1 << PM_ADDR_BITS, 4096, 1));
}

/* ---- memory limits (arena/limit.h) ---- */

Test(limit, the_hard_limit_counts_committed_bytes_and_the_soft_one_lingers)
{
    static arena_t fake; /* index 0: only its counter is touched */
    fake.decay_ms = ARENA_DECAY_DEFAULT; /* follows the default, as arenas start */
    opt_dirty_decay_ms = 250;
    limit_set_hard(1000);
    limit_set_soft(600);
    limit_commit(&fake, 700);
    cr_assert_eq(limit_committed(), 700);
    cr_assert_eq(limit_committed_of(&fake), 700);
    cr_assert(limit_allows(300));
    cr_assert(!limit_allows(301), "one byte past the hard limit");
    cr_assert(limit_over_soft());
    cr_assert(limit_decay_now());
    cr_assert_eq(arena_decay_ms(&fake), 0, "above the soft threshold decay is 0");
    limit_commit(&fake, -400);
    cr_assert(!limit_over_soft());
    cr_assert(limit_pressed(), "below it, for LIMIT_PRESSURE_MS after it was last above");
    cr_assert_eq(arena_decay_ms(&fake), 0);
    usleep((LIMIT_PRESSURE_MS + 50) * 1000);
    cr_assert(!limit_pressed());
    cr_assert(!limit_decay_now());
    cr_assert_eq(arena_decay_ms(&fake), 250, "decay as usual again");
    limit_set_hard(0);
    cr_assert(limit_allows((size_t)1 << 40), "no hard limit");
    limit_set_soft(0);
    limit_commit(&fake, 1 << 20);
    cr_assert(!limit_over_soft(), "no soft limit");
}
