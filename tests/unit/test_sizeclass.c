/* Size classes: the properties the allocator relies on, over every size. */
#include <criterion/criterion.h>

#include "sizeclass/sizeclass.h"

Test(sizeclass, every_size_maps_to_the_smallest_class_that_fits)
{
    for (size_t n = 1; n <= SC_LARGE_MAX; n++) {
        unsigned c = sc_of(n);
        cr_assert_lt(c, SC_NCLASSES, "size %zu", n);
        cr_assert_geq(sc_size(c), n, "size %zu", n);
        if (c > 0) cr_assert_lt(sc_size(c - 1), n, "size %zu not in the smallest class", n);
    }
}

Test(sizeclass, lookup_table_agrees_with_arithmetic)
{
    for (size_t n = 0; n <= SC_SMALL_MAX; n++) cr_assert_eq(sc_of_small(n), sc_of(n), "size %zu", n);
}

Test(sizeclass, internal_fragmentation_is_bounded)
{
    /* At most 15 bytes up to 128 B; above, less than a quarter of the request
     * (classes are 1/4 of a power of two apart). */
    for (size_t n = 1; n <= SC_LARGE_MAX; n++) {
        size_t waste = sc_size(sc_of(n)) - n;
        if (n <= SC_LINEAR_MAX)
            cr_assert_leq(waste, 15, "size %zu wastes %zu", n, waste);
        else
            cr_assert_lt(waste * 4, n, "size %zu wastes %zu", n, waste);
    }
}

Test(sizeclass, classes_are_quantum_aligned_and_increasing)
{
    for (unsigned c = 0; c < SC_NCLASSES; c++) {
        cr_assert_eq(sc_size(c) % 16, 0);
        if (c) cr_assert_gt(sc_size(c), sc_size(c - 1));
    }
    cr_assert_eq(sc_size(SC_NSMALL - 1), SC_SMALL_MAX);
    cr_assert_eq(sc_size(SC_NCLASSES - 1), SC_LARGE_MAX);
}

Test(sizeclass, slabs_hold_between_4_and_maxregs_blocks_with_little_waste)
{
    for (unsigned c = 0; c < SC_NSMALL; c++) {
        size_t bytes = (size_t)sc_slab_units(c) * SC_UNIT;
        cr_assert_eq(sc_nregs(c), bytes / sc_size(c));
        cr_assert_leq(sc_nregs(c), SC_SLAB_MAXREGS);
        cr_assert_geq(sc_nregs(c), 4);
        cr_assert_lt((bytes % sc_size(c)) * 8, bytes, "class %zu wastes over 1/8 of its slab",
                     (size_t)sc_size(c));
    }
}

Test(sizeclass, block_index_is_exact_division_for_every_offset)
{
    for (unsigned c = 0; c < SC_NSMALL; c++) {
        uint32_t slab = sc_slab_units(c) * (uint32_t)SC_UNIT;
        for (uint32_t off = 0; off < slab; off++)
        {
            cr_assert_eq(sc_block_index(c, off), off / sc_size(c), "class %u off %u", c, off);
            cr_assert_eq(sc_is_block_start(c, off), off % sc_size(c) == 0, "class %u off %u", c,
                         off);
        }
    }
}
