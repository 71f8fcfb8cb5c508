/* The page map and the chunk bitmap across the whole 48-bit address space.
 *
 * The structures take integers, so no address here is mapped: entries are
 * set at the edges of the range (near 0, at 2^46, on both sides of 2^47,
 * just below 2^48) and looked up again, and everything at or above 2^48
 * (including pointers with a tag in the top byte) must read as not ours.
 * Only pm_set's leaves are real memory (sable's metadata). Each test runs in
 * its own process, so the map starts empty. */
#include <criterion/criterion.h>

#include "arena/chunk.h"
#include "arena/pagemap.h"

#define SLOT ((uintptr_t)1 << PM_SLOT_SHIFT)
#define BIT(n) ((uintptr_t)1 << (n))

static void setup(void) { cr_assert(os_init()); }

TestSuite(pagemap, .init = setup);

/* Slot starts that exercise the edges of the root, the leaves and the
 * bitmap: the first slots, the 2^46 and 2^47 boundaries from both sides, a
 * bitmap word boundary, and the last slot of the map. */
static const uintptr_t edges[] = {
    0,
    SLOT,
    SLOT * 63,
    SLOT * 64,
    BIT(46) - SLOT,
    BIT(46),
    BIT(47) - SLOT,
    BIT(47),
    BIT(47) + SLOT,
    BIT(48) - SLOT,
};
#define NEDGES (sizeof edges / sizeof edges[0])

/* A chunk-like entry value (4 MiB aligned, bit 0 clear) distinct per slot. */
static uintptr_t chunk_value(unsigned i) { return (uintptr_t)(i + 1) << PM_SLOT_SHIFT; }

Test(pagemap, is_sized_for_48_bits)
{
    cr_assert_eq(PM_ADDR_BITS, 48);
    cr_assert_eq(PM_ROOT_LEN, 8192);
    cr_assert_eq((uintptr_t)PM_ROOT_LEN * PM_LEAF_LEN * SLOT, BIT(48), "the two levels cover 2^48");
    cr_assert_eq((uintptr_t)PM_CHUNK_WORDS * 64 * SLOT, BIT(48), "the bitmap covers 2^48");
    cr_assert_eq(sizeof pm_chunk_bits, (size_t)8 << 20);
    cr_assert_geq(PM_ADDR_BITS, os_addr_bits(), "the kernel's width fits the map");
}

Test(pagemap, chunk_entries_at_the_edges_of_the_range)
{
    for (unsigned i = 0; i < NEDGES; i++) {
        uintptr_t a = edges[i];
        cr_assert(pm_range_free(a, SLOT), "slot %p starts free", (void *)a);
        cr_assert_not(pm_is_chunk(a));
        cr_assert(pm_set(a, SLOT, chunk_value(i)), "set %p", (void *)a);
    }
    for (unsigned i = 0; i < NEDGES; i++) {
        uintptr_t a = edges[i];
        cr_assert_eq(pm_lookup(a), chunk_value(i), "lookup %p", (void *)a);
        cr_assert_eq(pm_lookup(a + SLOT - 1), chunk_value(i), "last byte of %p", (void *)a);
        cr_assert(pm_is_chunk(a), "bit of %p", (void *)a);
        cr_assert(pm_is_chunk(a + SLOT / 2));
        cr_assert_not(pm_range_free(a, 1));
    }
    /* The slots next to the edges that were not set stay empty. */
    const uintptr_t unset[] = {2 * SLOT, SLOT * 62, SLOT * 65, BIT(46) - 2 * SLOT,
                               BIT(46) + SLOT, BIT(47) - 2 * SLOT, BIT(47) + 2 * SLOT,
                               BIT(48) - 2 * SLOT};
    for (unsigned i = 0; i < sizeof unset / sizeof unset[0]; i++) {
        cr_assert_eq(pm_lookup(unset[i]), 0, "neighbour %p", (void *)unset[i]);
        cr_assert_not(pm_is_chunk(unset[i]), "neighbour %p", (void *)unset[i]);
        cr_assert(pm_range_free(unset[i], SLOT));
    }
    for (unsigned i = 0; i < NEDGES; i++) {
        cr_assert(pm_set(edges[i], SLOT, 0));
        cr_assert_eq(pm_lookup(edges[i]), 0);
        cr_assert_not(pm_is_chunk(edges[i]), "bit of %p cleared", (void *)edges[i]);
        cr_assert(pm_range_free(edges[i], SLOT));
    }
}

Test(pagemap, table_entries_have_no_chunk_bit)
{
    for (unsigned i = 0; i < NEDGES; i++) {
        uintptr_t v = chunk_value(i) | PM_TABLE_TAG;
        cr_assert(pm_set(edges[i], SLOT, v));
        cr_assert_eq(pm_lookup(edges[i]), v);
        cr_assert_not(pm_is_chunk(edges[i]), "table slot %p", (void *)edges[i]);
        cr_assert_not(pm_range_free(edges[i], SLOT));
    }
}

Test(pagemap, a_chunk_slot_turned_table_slot_loses_its_chunk_bit)
{
    for (unsigned i = 0; i < NEDGES; i++) {
        cr_assert(pm_set(edges[i], SLOT, chunk_value(i)));
        cr_assert(pm_is_chunk(edges[i]));
        cr_assert(pm_set(edges[i], SLOT, chunk_value(i) | PM_TABLE_TAG));
        cr_assert_not(pm_is_chunk(edges[i]), "slot %p", (void *)edges[i]);
        cr_assert(pm_set(edges[i], SLOT, 0));
    }
}

Test(pagemap, a_range_across_2_to_the_47_sets_both_halves)
{
    /* 2^47 is where x86_64's user space ends and the second half of
     * AArch64's begins: a mapping may straddle it on AArch64. */
    uintptr_t a = BIT(47) - 2 * SLOT;
    cr_assert(pm_set(a, 4 * SLOT, 0x4000000));
    for (uintptr_t s = a; s < a + 4 * SLOT; s += SLOT) {
        cr_assert_eq(pm_lookup(s), 0x4000000, "%p", (void *)s);
        cr_assert(pm_is_chunk(s));
    }
    cr_assert_eq(pm_lookup(a - 1), 0);
    cr_assert_eq(pm_lookup(a + 4 * SLOT), 0);
    cr_assert_not(pm_range_free(a - SLOT, 2 * SLOT));
    cr_assert(pm_set(a, 4 * SLOT, 0));
    cr_assert(pm_range_free(a, 4 * SLOT));
}

Test(pagemap, addresses_from_2_to_the_48_up_are_never_ours)
{
    const uintptr_t beyond[] = {
        BIT(48), BIT(48) + SLOT, BIT(48) + BIT(47), BIT(52), BIT(56) - SLOT, BIT(57), BIT(63),
        ~(uintptr_t)0, ~(uintptr_t)0 - SLOT,
    };
    for (unsigned i = 0; i < sizeof beyond / sizeof beyond[0]; i++) {
        uintptr_t p = beyond[i];
        cr_assert_eq(pm_lookup(p), 0, "%p", (void *)p);
        cr_assert_not(pm_is_chunk(p), "%p", (void *)p);
        cr_assert_not(pm_set(p, SLOT, 0x400000), "set %p", (void *)p);
        cr_assert_not(pm_range_free(p, SLOT), "%p cannot be claimed", (void *)p);
    }
}

Test(pagemap, a_range_reaching_past_2_to_the_48_is_refused_whole)
{
    uintptr_t last = BIT(48) - SLOT;
    cr_assert_not(pm_set(last, 2 * SLOT, 0x400000));
    cr_assert_eq(pm_lookup(last), 0, "nothing was set");
    cr_assert_not(pm_is_chunk(last));
    cr_assert_not(pm_range_free(last, 2 * SLOT));
    cr_assert_not(pm_set(~(uintptr_t)0 - 100, 200, 0x400000), "a range wrapping past 2^64");
    cr_assert(pm_set(last, SLOT, 0x400000), "the last slot alone fits");
    cr_assert(pm_set(last, SLOT, 0));
}

Test(pagemap, tagged_pointers_to_our_chunks_are_not_ours)
{
    /* Top-byte tags (AArch64 TBI/MTE, HWASan) and any bit from 48 up: the
     * same low bits as a registered chunk, yet not a pointer sable gave. */
    const uintptr_t chunks[] = {SLOT * 5, BIT(46) + SLOT * 3, BIT(48) - SLOT};
    const uintptr_t tags[] = {(uintptr_t)0x5a << 56, (uintptr_t)0xff << 56, (uintptr_t)1 << 56,
                              BIT(48), BIT(55), BIT(63)};
    for (unsigned i = 0; i < 3; i++) {
        cr_assert(pm_set(chunks[i], SLOT, chunk_value(i)));
        for (unsigned t = 0; t < sizeof tags / sizeof tags[0]; t++) {
            uintptr_t p = (chunks[i] + 0x40) | tags[t];
            cr_assert(pm_is_chunk(chunks[i] + 0x40));
            cr_assert_not(pm_is_chunk(p), "%p", (void *)p);
            cr_assert_eq(pm_lookup(p), 0, "%p", (void *)p);
            cr_assert_not(pm_set(p & ~(SLOT - 1), SLOT, 0), "%p", (void *)p);
        }
        cr_assert_eq(pm_lookup(chunks[i]), chunk_value(i), "untouched by the refused sets");
    }
}

Test(pagemap, ranges_spanning_many_slots_and_leaves)
{
    /* 32 GiB is one leaf: a range across a leaf boundary below 2^48. */
    uintptr_t leaf = (uintptr_t)PM_LEAF_LEN * SLOT;
    uintptr_t a = BIT(48) - leaf - 3 * SLOT;
    cr_assert(pm_set(a, 6 * SLOT, 0x8000001));
    for (uintptr_t s = a; s < a + 6 * SLOT; s += SLOT) {
        cr_assert_eq(pm_lookup(s), 0x8000001);
        cr_assert_not(pm_is_chunk(s));
    }
    cr_assert(pm_set(a, 6 * SLOT, 0));
    cr_assert(pm_range_free(a, 6 * SLOT));
}
