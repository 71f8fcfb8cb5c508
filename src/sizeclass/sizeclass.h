/* src/sizeclass — size to class, class to size, slab geometry. A leaf: pure
 * arithmetic over constant tables generated at build time (gen_tables.c),
 * callable before anything is initialised.
 *
 * Internal fragmentation (bytes lost to rounding a request up to its class):
 * at most 15 bytes for requests up to 128 B, and less than 20 % of the block
 * (one quarter of the request) above; tests/unit checks every size up to
 * SC_LARGE_MAX.
 *
 * Invariants: sc_size is increasing, every size maps to the smallest class
 * that holds it, and the tables were proved at build time.
 * Locking: none; everything here is constant.
 */
#ifndef SABLE_SIZECLASS_H
#define SABLE_SIZECLASS_H

#include <stddef.h>
#include <stdint.h>

#include "sc_tables.h"
#include "sizeclass/geometry.h"

_Static_assert(SC_NSMALL <= 255 && SC_NCLASSES <= 255, "class must fit a byte");
_Static_assert(SC_SMALL_MAX % SC_QUANTUM == 0, "small max is a multiple of the quantum");
_Static_assert(SC_LARGE_MAX % SC_UNIT == 0, "large max is unit aligned");

/* Class of a request of n <= SC_SMALL_MAX bytes: one table load. */
static inline unsigned sc_of_small(size_t n)
{
    return sc_lookup_table[(n + SC_QUANTUM - 1) >> SC_QUANTUM_SHIFT];
}

/* Class of any request n <= SC_LARGE_MAX (arithmetic above the table). */
static inline unsigned sc_of(size_t n)
{
    if (n <= SC_SMALL_MAX) return sc_of_small(n);
    return sc_class_above_linear(n);
}

static inline size_t sc_size(unsigned c) { return sc_size_table[c]; }
static inline unsigned sc_slab_units(unsigned c) { return sc_slab_units_table[c]; }
static inline unsigned sc_nregs(unsigned c) { return sc_nregs_table[c]; }

/* Block index of byte offset `off` inside a slab of class c: off / size, by a
 * multiply that gen_tables.c proved exact for every offset in the slab. */
static inline uint32_t sc_block_index_by(uint64_t magic, uint32_t off)
{
    return (uint32_t)(((uint64_t)off * magic) >> 32);
}
static inline uint32_t sc_block_index(unsigned c, uint32_t off)
{
    return sc_block_index_by(sc_div_magic_table[c], off);
}

/* True if byte offset `off` inside a slab of class c is the start of a block:
 * one multiply and one compare (gen_tables.c checks every offset). The _by
 * forms take the class's constant, for loops over blocks of one class that
 * load it once. */
static inline int sc_is_block_start_by(uint64_t divtest, uint32_t off)
{
    return (uint64_t)off * divtest < divtest;
}
static inline int sc_is_block_start(unsigned c, uint32_t off)
{
    return sc_is_block_start_by(sc_divtest_table[c], off);
}

#endif
