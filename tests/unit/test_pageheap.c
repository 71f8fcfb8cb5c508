/* The page heap, driven directly: split and coalesce, the dirty and clean
 * states, zeroed memory, lookups through the slot tables, chunks, purging
 * and address-space pressure. */
#include <criterion/criterion.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "arena/arena.h"
#include "arena/pageheap.h"
#include "arena/pagemap.h"

#define MiB ((size_t)1 << 20)
#define PAGE ((size_t)4096)

static arena_t *A;

static void setup(void)
{
    os_init();
    cr_assert(arena_boot(1));
    A = arena_get(0);
    arena_lock(A);
}

static void teardown(void) { arena_unlock(A); }

TestSuite(pageheap, .init = setup, .fini = teardown);

static unsigned state(const extent_t *x) { return atomic_load(&x->state); }

/* The free extent of state st covering [p, p+n), or NULL. */
static extent_t *free_covering(uintptr_t p, size_t n, unsigned st)
{
    for (unsigned b = 0; b < PH_BINS; b++)
        for (extent_t *x = A->heap.bins[ph_state_index(st)][b]; x; x = x->next)
            if (x->addr <= p && x->addr + x->size >= p + n) return x;
    return NULL;
}

static size_t count_free(unsigned st)
{
    size_t n = 0;
    for (unsigned b = 0; b < PH_BINS; b++)
        for (extent_t *x = A->heap.bins[ph_state_index(st)][b]; x; x = x->next) n++;
    return n;
}

/* Every free extent is named by its edges, and no two free extents of one
 * state touch: the heap's invariants, checked from the bins. */
static void check_invariants(void)
{
    size_t bytes[2] = {0, 0};
    for (unsigned s = 0; s < 2; s++) {
        for (unsigned b = 0; b < PH_BINS; b++) {
            for (extent_t *x = A->heap.bins[s][b]; x; x = x->next) {
                bytes[s] += x->size;
                cr_assert_eq(ph_entry(x->addr), x, "first unit of %p", (void *)x->addr);
                cr_assert_eq(ph_entry(x->addr + x->size - PAGE), x, "last unit");
                extent_t *r = ph_entry(x->addr + x->size);
                if (r && r->addr == x->addr + x->size)
                    cr_assert_neq(state(r), state(x), "adjacent free extents of one state");
            }
        }
    }
    cr_assert_eq(bytes[0], A->heap.free_bytes[0]);
    cr_assert_eq(bytes[1], A->heap.free_bytes[1]);
}

Test(pageheap, fresh_memory_is_clean_and_freed_memory_dirty)
{
    bool zeroed = false;
    extent_t *x = ph_alloc(A, 3 * MiB + PAGE, 0, &zeroed);
    cr_assert_not_null(x);
    cr_assert(zeroed, "a fresh region reads as zeroes");
    cr_assert_eq(state(x), EXTENT_LIVE);
    cr_assert_eq(x->size, 3 * MiB + PAGE, "page granular");
    cr_assert_geq(A->heap.reserved, 64 * MiB, "address space comes in large steps");
    memset((void *)x->addr, 0x11, x->size);
    uintptr_t at = x->addr;
    ph_free(A, x, PH_DIRTY);
    cr_assert_not_null(free_covering(at, 3 * MiB + PAGE, EXTENT_DIRTY));
    check_invariants();
    extent_t *y = ph_alloc(A, 3 * MiB + PAGE, 0, &zeroed);
    cr_assert_eq(y->addr, at, "dirty memory is reused first");
    cr_assert_not(zeroed, "and is not known to be zero");
    cr_assert_eq(*(unsigned char *)y->addr, 0x11);
    ph_free(A, y, PH_DIRTY);
}

Test(pageheap, neighbours_coalesce_in_any_order_of_frees)
{
    bool z;
    extent_t *x[6];
    for (int i = 0; i < 6; i++) {
        x[i] = ph_alloc(A, (size_t)(i + 1) * PAGE * 3, 0, &z);
        cr_assert_not_null(x[i]);
        if (i) cr_assert_eq(x[i]->addr, x[i - 1]->addr + x[i - 1]->size, "cut in address order");
    }
    uintptr_t start = x[0]->addr, end = x[5]->addr + x[5]->size;
    size_t nd = count_free(EXTENT_DIRTY);
    int order[6] = {1, 4, 3, 0, 5, 2};
    for (int i = 0; i < 6; i++) {
        ph_free(A, x[order[i]], PH_DIRTY);
        check_invariants();
    }
    extent_t *all = free_covering(start, end - start, EXTENT_DIRTY);
    cr_assert_not_null(all, "one dirty extent covers the six");
    cr_assert_eq(all->addr, start);
    cr_assert_eq(all->size, end - start, "dirty does not merge with the clean rest");
    cr_assert_eq(count_free(EXTENT_DIRTY), nd + 1);
}

Test(pageheap, dirty_and_clean_never_merge_until_purged)
{
    bool z;
    extent_t *a = ph_alloc(A, 8 * PAGE, 0, &z), *b = ph_alloc(A, 8 * PAGE, 0, &z);
    extent_t *c = ph_alloc(A, 8 * PAGE, 0, &z);
    uintptr_t start = a->addr;
    memset((void *)a->addr, 1, 24 * PAGE);
    ph_free(A, a, PH_DIRTY);
    ph_free(A, b, PH_PURGE); /* purged at once: clean, zero */
    check_invariants();
    cr_assert_not_null(free_covering(start, 8 * PAGE, EXTENT_DIRTY));
    extent_t *cb = free_covering(start + 8 * PAGE, 8 * PAGE, EXTENT_CLEAN);
    cr_assert_not_null(cb);
    cr_assert_eq(*(unsigned char *)(start + 8 * PAGE), 0, "purged memory reads as zeroes");
    ph_free(A, c, PH_DIRTY);
    check_invariants();
    /* Purging everything turns the dirty parts clean, and then it is one
     * clean extent with the untouched rest of the region. */
    uint64_t npurge = A->heap.npurge;
    cr_assert(ph_purge(A, os_now_ms(), 0, true));
    cr_assert_gt(A->heap.npurge, npurge);
    cr_assert_eq(A->heap.free_bytes[0], 0, "nothing dirty after a full purge");
    check_invariants();
    extent_t *all = free_covering(start, 24 * PAGE, EXTENT_CLEAN);
    cr_assert_not_null(all);
    cr_assert_eq(all->size, A->heap.free_bytes[1], "the whole region is one clean extent");
    cr_assert_not(ph_purge(A, os_now_ms(), 0, true), "a second purge has nothing to do");
}

Test(pageheap, decay_purges_only_what_is_old_enough)
{
    bool z;
    extent_t *a = ph_alloc(A, 16 * PAGE, 0, &z), *gap = ph_alloc(A, PAGE, 0, &z);
    extent_t *b = ph_alloc(A, 16 * PAGE, 0, &z);
    uintptr_t pa = a->addr, pb = b->addr;
    ph_free(A, a, PH_DIRTY);
    ph_free(A, b, PH_DIRTY);
    free_covering(pa, 16 * PAGE, EXTENT_DIRTY)->freed_ms -= 5000; /* freed long ago */
    cr_assert(ph_purge(A, os_now_ms(), 1000, false));
    cr_assert_not_null(free_covering(pa, 16 * PAGE, EXTENT_CLEAN), "the old one is purged");
    cr_assert_not_null(free_covering(pb, 16 * PAGE, EXTENT_DIRTY), "the young one is kept");
    ph_free(A, gap, PH_DIRTY);
    check_invariants();
}

Test(pageheap, alignment_splits_off_a_head_that_stays_free)
{
    bool z;
    extent_t *pad = ph_alloc(A, PAGE, 0, &z);
    extent_t *x = ph_alloc(A, 2 * MiB, 2 * MiB, &z);
    cr_assert_not_null(x);
    cr_assert_eq(x->addr % (2 * MiB), 0);
    extent_t *head = free_covering(pad->addr + PAGE, PAGE, EXTENT_CLEAN);
    cr_assert_not_null(head, "the head before the aligned start is free");
    cr_assert_eq(head->addr + head->size, x->addr);
    check_invariants();
    extent_t *big = ph_alloc(A, 8 * MiB, (size_t)1 << 30, &z);
    cr_assert_not_null(big);
    cr_assert_eq(big->addr % ((size_t)1 << 30), 0, "alignments above a region are honoured");
    ph_free(A, big, PH_DIRTY);
    ph_free(A, x, PH_DIRTY);
    ph_free(A, pad, PH_DIRTY);
    check_invariants();
}

Test(pageheap, grow_takes_dirty_and_clean_neighbours_and_shrink_gives_back)
{
    bool z;
    extent_t *x = ph_alloc(A, 4 * PAGE, 0, &z), *y = ph_alloc(A, 4 * PAGE, 0, &z);
    uintptr_t px = x->addr;
    memset((void *)y->addr, 5, 4 * PAGE);
    ph_free(A, y, PH_DIRTY); /* dirty next to x, clean after it */
    cr_assert(ph_grow(A, x, 20 * PAGE, &z), "across a dirty and a clean extent");
    cr_assert_not(z, "part of it was dirty");
    cr_assert_eq(x->addr, px);
    cr_assert_eq(x->size, 20 * PAGE);
    check_invariants();
    cr_assert(ph_shrink(A, x, 2 * PAGE));
    cr_assert_eq(x->size, 2 * PAGE);
    cr_assert_not_null(free_covering(px + 2 * PAGE, 18 * PAGE, EXTENT_DIRTY), "the tail is dirty");
    check_invariants();
    cr_assert(ph_grow(A, x, 6 * PAGE, &z));
    cr_assert_not(z);
    extent_t *wall = ph_alloc(A, PAGE, 0, &z);
    (void)wall;
    ph_free(A, x, PH_DIRTY);
    check_invariants();
}

Test(pageheap, a_grow_that_meets_a_live_extent_fails_and_changes_nothing)
{
    bool z;
    extent_t *x = ph_alloc(A, 4 * PAGE, 0, &z), *y = ph_alloc(A, 4 * PAGE, 0, &z);
    size_t free0 = A->heap.free_bytes[1];
    cr_assert_not(ph_grow(A, x, 5 * PAGE, &z));
    cr_assert_eq(x->size, 4 * PAGE);
    cr_assert_eq(A->heap.free_bytes[1], free0);
    ph_free(A, y, PH_DIRTY);
    ph_free(A, x, PH_DIRTY);
    check_invariants();
}

Test(pageheap, moved_out_memory_is_filed_clean)
{
    bool z;
    extent_t *x = ph_alloc(A, 4 * PAGE, 0, &z);
    uintptr_t p = x->addr;
    ph_free(A, x, PH_CLEAN);
    cr_assert_not_null(free_covering(p, 4 * PAGE, EXTENT_CLEAN));
    extent_t *y = ph_alloc(A, 4 * PAGE, 0, &z);
    cr_assert(z, "clean memory is known to read as zeroes");
    ph_free(A, y, PH_DIRTY);
}

Test(pageheap, lookups_find_live_extents_by_their_first_unit_only)
{
    bool z;
    extent_t *x = ph_alloc(A, 10 * PAGE, 0, &z);
    cr_assert_eq(ph_entry(x->addr), x);
    cr_assert_eq(ph_entry(x->addr + 9 * PAGE), x, "and the last unit, for neighbours");
    uintptr_t p = x->addr;
    ph_free(A, x, PH_DIRTY);
    extent_t *e = ph_entry(p);
    cr_assert(e == NULL || state(e) != EXTENT_LIVE || e->addr != p, "freed: no live block at p");
}

Test(pageheap, chunks_are_aligned_extents_that_come_back_dirty)
{
    bool z;
    extent_t *c = ph_chunk_alloc(A, CHUNK_SIZE, &z);
    cr_assert_not_null(c);
    cr_assert_eq(c->addr % CHUNK_SIZE, 0);
    cr_assert_eq(state(c), EXTENT_CHUNK);
    cr_assert_eq(A->heap.chunk_bytes, CHUNK_SIZE);
    cr_assert(pm_set(c->addr, CHUNK_SIZE, c->addr), "the slot becomes the chunk's");
    cr_assert(pm_is_chunk(c->addr));
    cr_assert_null(ph_entry(c->addr), "a chunk's slot has no table entries");
    uintptr_t at = c->addr;
    ph_chunk_free(A, c);
    cr_assert_not(pm_is_chunk(at));
    cr_assert(pm_lookup(at) & PM_TABLE_TAG);
    cr_assert_eq(A->heap.chunk_bytes, 0);
    cr_assert_not_null(free_covering(at, CHUNK_SIZE, EXTENT_DIRTY));
    check_invariants();
}

Test(pageheap, impossible_sizes_are_refused)
{
    bool z;
    cr_assert_null(ph_alloc(A, (size_t)1 << 62, 0, &z));
    cr_assert_null(ph_alloc(A, PAGE, (size_t)1 << 62, &z));
    check_invariants();
}

/* AddressSanitizer maps terabytes of shadow memory, and an emulator (qemu
 * user mode) reserves the guest's address space itself: an address-space
 * limit means something else under either. */
#if defined(__SANITIZE_ADDRESS__) || defined(SABLE_TEST_EMULATED)
#define REAL_ADDRESS_SPACE .disabled = true
#else
#define REAL_ADDRESS_SPACE .disabled = false
#endif

/* Limits the address space to what the process maps now and `room` more. */
static void limit_address_space(size_t room)
{
    struct rlimit rl;
    size_t vm = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    cr_assert(f && fscanf(f, "%zu", &vm) == 1);
    fclose(f);
    rl.rlim_cur = rl.rlim_max = vm * (size_t)sysconf(_SC_PAGESIZE) + room;
    cr_assert_eq(setrlimit(RLIMIT_AS, &rl), 0);
}

Test(pageheap, under_an_address_space_limit_free_extents_are_unmapped_and_reused, REAL_ADDRESS_SPACE)
{
    limit_address_space(256 * MiB);
    bool z;
    extent_t *x[64];
    unsigned n = 0;
    while (n < 64 && (x[n] = ph_alloc(A, 24 * MiB, 0, &z)) != NULL) n++;
    cr_assert_gt(n, 2, "some fit");
    cr_assert_lt(n, 64, "the limit is reached");
    for (unsigned i = 0; i < n; i += 2) ph_free(A, x[i], PH_DIRTY);
    /* A block larger than any free extent needs new address space: the
     * free extents are unmapped to make room. */
    uint64_t nunmap = A->heap.nunmap;
    extent_t *big = ph_alloc(A, 48 * MiB, 0, &z);
    cr_assert_not_null(big, "room was made");
    cr_assert_gt(A->heap.nunmap, nunmap);
    check_invariants();
    ph_free(A, big, PH_DIRTY);
    for (unsigned i = 1; i < n; i += 2) ph_free(A, x[i], PH_DIRTY);
    check_invariants();
}

/* A lock-free lookup that raced a chunk's release may still load its header
 * (lookup.h): when free extents are unmapped under pressure, the header
 * pages of every slot that held a chunk stay mapped, as free extents of
 * their own, and everything else goes. */
Test(pageheap, under_an_address_space_limit_the_headers_of_former_chunks_stay_mapped,
     REAL_ADDRESS_SPACE)
{
    bool z;
    enum { NCHUNKS = 8 };
    uintptr_t at[NCHUNKS];
    extent_t *c[NCHUNKS];
    for (unsigned i = 0; i < NCHUNKS; i++) {
        c[i] = ph_chunk_alloc(A, CHUNK_SIZE, &z);
        cr_assert_not_null(c[i]);
        cr_assert(pm_set(c[i]->addr, CHUNK_SIZE, c[i]->addr));
        at[i] = c[i]->addr;
        memset((void *)at[i], 0x77, 2 * PAGE); /* a header's first pages */
    }
    /* Every other chunk goes back: free extents between live chunks. */
    for (unsigned i = 0; i < NCHUNKS; i += 2) ph_chunk_free(A, c[i]);
    limit_address_space(256 * MiB);
    extent_t *x[64];
    unsigned n = 0;
    while (n < 64 && (x[n] = ph_alloc(A, 24 * MiB, 0, &z)) != NULL) n++;
    cr_assert_lt(n, 64, "the limit is reached");
    for (unsigned i = 0; i < n; i += 2) ph_free(A, x[i], PH_DIRTY);
    uint64_t nunmap = A->heap.nunmap;
    extent_t *big = ph_alloc(A, 48 * MiB, 0, &z);
    cr_assert_not_null(big, "room was made");
    cr_assert_gt(A->heap.nunmap, nunmap, "free extents were unmapped");
    size_t stub = PH_STUB(PAGE);
    unsigned char vec[64];
    for (unsigned i = 0; i < NCHUNKS; i += 2) {
        if (at[i] >= big->addr && at[i] < big->addr + big->size) continue; /* reused */
        cr_assert_eq(mincore((void *)at[i], stub, vec), 0, "header of %p mapped", (void *)at[i]);
        cr_assert_not_null(free_covering(at[i], stub, EXTENT_CLEAN), "and a clean free extent");
        cr_assert_eq(((volatile unsigned char *)at[i])[0], 0, "purged");
        uintptr_t after = at[i] + stub;
        if (after < big->addr || after >= big->addr + big->size)
            cr_assert_neq(mincore((void *)after, PAGE, vec), 0, "the rest of the slot is unmapped");
    }
    check_invariants();
    ph_free(A, big, PH_DIRTY);
    for (unsigned i = 1; i < n; i += 2) ph_free(A, x[i], PH_DIRTY);
    for (unsigned i = 1; i < NCHUNKS; i += 2) ph_chunk_free(A, c[i]);
    check_invariants();
}

Test(pageheap, a_block_larger_than_any_dirty_extent_reuses_it_with_the_clean_space_after)
{
    bool z;
    extent_t *wall = ph_alloc(A, PAGE, 0, &z), *x = ph_alloc(A, 8 * MiB, 0, &z);
    uintptr_t p = x->addr;
    memset((void *)p, 3, 8 * MiB);
    ph_free(A, x, PH_DIRTY); /* dirty, with the clean rest of the region after it */
    size_t reserved = A->heap.reserved;
    extent_t *y = ph_alloc(A, 20 * MiB, 0, &z);
    cr_assert_not_null(y);
    cr_assert_eq(y->addr, p, "the dirty pages are reused, the rest comes from clean memory");
    cr_assert_not(z, "part of it is dirty");
    cr_assert_eq(A->heap.reserved, reserved, "no new address space");
    cr_assert_eq(A->heap.free_bytes[0], 0, "no dirty memory is left behind");
    check_invariants();
    ph_free(A, y, PH_DIRTY);
    ph_free(A, wall, PH_DIRTY);
    check_invariants();
}

Test(pageheap, dirty_memory_beyond_the_budget_is_purged_before_fresh_pages_are_faulted)
{
    bool z;
    /* Dirty extents boxed in by live ones: none can serve a larger block. */
    enum { N = 8 };
    extent_t *live[N], *gone[N];
    for (int i = 0; i < N; i++) {
        gone[i] = ph_alloc(A, 2 * MiB, 0, &z);
        live[i] = ph_alloc(A, PAGE, 0, &z);
        memset((void *)gone[i]->addr, 1, 2 * MiB);
    }
    for (int i = 0; i < N; i++) ph_free(A, gone[i], PH_DIRTY);
    cr_assert_eq(A->heap.free_bytes[0], N * 2 * MiB);
    extent_t *big = ph_alloc(A, 32 * MiB, 0, &z);
    cr_assert_not_null(big);
    cr_assert_leq(A->heap.free_bytes[0], PH_DIRTY_FLOOR, "dirty memory went down to the budget");
    check_invariants();
    ph_free(A, big, PH_DIRTY);
    for (int i = 0; i < N; i++) ph_free(A, live[i], PH_DIRTY);
    check_invariants();
}

/* Dirty extents of `sizes` MiB, each boxed in by a live page, so that none
 * can serve a larger block; the walls go to wall[]. */
static void dirty_boxed_in(const size_t *sizes, int n, extent_t **wall, uintptr_t *at)
{
    bool z;
    extent_t *gone[8];
    for (int i = 0; i < n; i++) {
        gone[i] = ph_alloc(A, sizes[i] * MiB, 0, &z);
        wall[i] = ph_alloc(A, PAGE, 0, &z);
        memset((void *)gone[i]->addr, 1, sizes[i] * MiB);
        at[i] = gone[i]->addr;
    }
    for (int i = 0; i < n; i++) ph_free(A, gone[i], PH_DIRTY);
}

Test(pageheap, the_purge_to_the_budget_takes_only_the_excess_from_the_smallest_extent_covering_it)
{
    /* 5 MiB dirty against a budget of the floor (nothing live is counted):
     * 1 MiB too much. It comes out of the 2 MiB extent, the smallest that
     * covers it, and only that 1 MiB goes: its top end, since neither
     * neighbour is a clean free extent to merge with. Purging whole
     * extents would have given back 2 MiB (the largest first, 3 MiB). */
    cr_assert_eq(PH_DIRTY_FLOOR, 4 * MiB, "the sizes below assume a 4 MiB floor");
    const size_t sizes[] = {3, 2};
    extent_t *wall[2];
    uintptr_t at[2];
    dirty_boxed_in(sizes, 2, wall, at);
    uint64_t purged = A->heap.purged;
    bool z;
    extent_t *big = ph_alloc(A, 32 * MiB, 0, &z);
    cr_assert_not_null(big);
    cr_assert_eq(A->heap.free_bytes[0], 4 * MiB, "dirty memory is down to the budget, no lower");
    cr_assert_eq(A->heap.purged - purged, 1 * MiB, "exactly the excess was purged");
    cr_assert_not_null(free_covering(at[0], 3 * MiB, EXTENT_DIRTY), "the 3 MiB extent is kept");
    extent_t *kept = free_covering(at[1], 1 * MiB, EXTENT_DIRTY);
    cr_assert_not_null(kept, "the low half of the 2 MiB extent stays dirty");
    cr_assert_eq(kept->size, 1 * MiB);
    cr_assert_not_null(free_covering(at[1] + 1 * MiB, 1 * MiB, EXTENT_CLEAN), "its top half is clean");
    cr_assert_eq(((volatile unsigned char *)at[1])[0], 1, "the part kept dirty keeps its contents");
    cr_assert_eq(((volatile unsigned char *)at[1])[1 * MiB], 0, "the purged part reads as zeroes");
    check_invariants();
    ph_free(A, big, PH_DIRTY);
    for (int i = 0; i < 2; i++) ph_free(A, wall[i], PH_DIRTY);
    check_invariants();
}

Test(pageheap, a_partial_purge_takes_the_end_next_to_clean_memory_and_merges_with_it)
{
    /* A dirty 6 MiB extent whose lower neighbour is clean (purged) and whose
     * upper one is live: 2 MiB too much comes off its low end and merges
     * with the clean extent below, so that clean memory stays in one
     * piece. */
    bool z;
    extent_t *low = ph_alloc(A, 2 * MiB, 0, &z);
    extent_t *mid = ph_alloc(A, 6 * MiB, 0, &z);
    extent_t *wall = ph_alloc(A, PAGE, 0, &z);
    cr_assert(low && mid && wall);
    cr_assert_eq(mid->addr, low->addr + 2 * MiB, "placed one after the other");
    uintptr_t lo = low->addr, m = mid->addr;
    memset((void *)m, 1, 6 * MiB);
    ph_free(A, low, PH_PURGE);
    ph_free(A, mid, PH_DIRTY);
    cr_assert_eq(A->heap.free_bytes[0], 6 * MiB);
    extent_t *big = ph_alloc(A, 32 * MiB, 0, &z);
    cr_assert_not_null(big);
    cr_assert_eq(A->heap.free_bytes[0], 4 * MiB);
    extent_t *c = free_covering(lo, 4 * MiB, EXTENT_CLEAN);
    cr_assert_not_null(c, "the purged low end merged with the clean extent below it");
    cr_assert_not_null(free_covering(m + 2 * MiB, 4 * MiB, EXTENT_DIRTY), "the rest stays dirty");
    check_invariants();
    ph_free(A, big, PH_DIRTY);
    ph_free(A, wall, PH_DIRTY);
    check_invariants();
}

Test(pageheap, the_budget_follows_the_recent_peak_of_live_bytes)
{
    /* 40 MiB were live a moment ago (counted as huge blocks are, by
     * huge.c) and are free now: the budget is a share of that peak, not
     * the floor that nothing live would give. */
    const size_t sizes[] = {10, 10, 10, 10};
    extent_t *wall[4];
    uintptr_t at[4];
    A->heap.huge_bytes += 40 * MiB;
    ph_note_live(&A->heap);
    A->heap.huge_bytes -= 40 * MiB;
    dirty_boxed_in(sizes, 4, wall, at);
    bool z;
    extent_t *big = ph_alloc(A, 64 * MiB, 0, &z);
    cr_assert_not_null(big);
    size_t dirty = A->heap.free_bytes[0];
    cr_assert_leq(dirty, 40 * MiB / PH_PEAK_SHARE, "down to the peak's share");
    cr_assert_gt(dirty, PH_DIRTY_FLOOR, "more than the floor is kept (%zu bytes)", dirty);
    check_invariants();
    ph_free(A, big, PH_DIRTY);
    for (int i = 0; i < 4; i++) ph_free(A, wall[i], PH_DIRTY);
    check_invariants();
}

/* What an arena holds need not be whole slots (unmap_free gives back single
 * free extents and keeps header pages), but each new region must be: half
 * of an odd number of pages made a region whose tail unmap failed and
 * whose free extents were not page-aligned (a fuzzing finding). */
Test(pageheap, new_regions_come_in_whole_slots_whatever_the_arena_holds)
{
    bool zeroed;
    extent_t *x = ph_alloc(A, MiB, 0, &zeroed);
    cr_assert_not_null(x);
    A->heap.reserved += 256 * MiB + 3 * PAGE; /* as if held, after unmaps */
    extent_t *y = ph_alloc(A, 80 * MiB, 0, &zeroed);
    cr_assert_not_null(y, "a region beyond the first");
    for (unsigned s = 0; s < 2; s++)
        for (unsigned b = 0; b < PH_BINS; b++)
            for (extent_t *f = A->heap.bins[s][b]; f; f = f->next) {
                cr_assert_eq(f->addr % PAGE, 0, "free extent at %p", (void *)f->addr);
                cr_assert_eq(f->size % PAGE, 0, "free extent of %zu bytes", f->size);
                cr_assert_eq((f->addr + f->size) % (4 * MiB), 0,
                             "a region ends on a slot boundary");
            }
    check_invariants();
    ph_free(A, y, PH_DIRTY);
    ph_free(A, x, PH_DIRTY);
}
