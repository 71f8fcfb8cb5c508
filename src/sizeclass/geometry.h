/* src/sizeclass/geometry.h — the constants the size classes are built from.
 *
 * Shared by the build-time table generator (gen_tables.c) and the library, so
 * the two can never disagree. Everything else about classes is derived.
 *
 *   quantum      16 B: every block is 16-byte aligned (alignof(max_align_t)).
 *   classes      16, 32, ..., 128 in steps of 16, then four classes per
 *                doubling (160, 192, 224, 256, 320, ...) up to SC_LARGE_MAX.
 *                Rounding loses at most 1/5 of a block to internal
 *                fragmentation above 128 B, and at most 15 B at or below it.
 *   small        classes up to SC_SMALL_MAX live in slabs (runs of units
 *                holding blocks of one class) and are cached per thread.
 *   large        classes above it, up to SC_LARGE_MAX, are runs of units.
 *   huge         anything larger gets its own mapping (page granular).
 * Invariants: the constants are consistent by the _Static_asserts of
 * sizeclass.h. Locking: none (constants).
 */
#ifndef SABLE_SIZECLASS_GEOMETRY_H
#define SABLE_SIZECLASS_GEOMETRY_H

#define SC_QUANTUM_SHIFT 4
#define SC_QUANTUM (1u << SC_QUANTUM_SHIFT)
#define SC_LINEAR_MAX 128u          /* classes below this are 16 B apart */
#define SC_LINEAR_COUNT (SC_LINEAR_MAX / SC_QUANTUM)
#define SC_GROUP_SHIFT 2            /* 2^2 = 4 classes per doubling */
#define SC_SMALL_MAX (16u << 10)
#define SC_LARGE_MAX (2u << 20)

/* Units are the granule of runs inside a chunk; independent of the kernel's
 * page size (which is read at run time and only matters for purging). */
#define SC_UNIT_SHIFT 12
#define SC_UNIT ((size_t)1 << SC_UNIT_SHIFT)

/* A slab's blocks are tracked by a bitmap of this many bits (4 words). */
#define SC_SLAB_MAXREGS 256u
/* A slab spans at most this many units: its descriptor's unit mask (what was
 * touched since the last purge, one bit a unit) is 32 bits. The generator
 * fails if a slab would be larger. */
#define SC_SLAB_MAXUNITS 32u

/* Class counts follow from the bounds: 8 linear classes, then 4 per doubling
 * from 128 to SMALL_MAX (7 doublings) and from SMALL_MAX to LARGE_MAX (7). */
#define SC_NSMALL (SC_LINEAR_COUNT + 4 * 7)
#define SC_NCLASSES (SC_NSMALL + 4 * 7)

/* Classes that thread caches hold: every small class and the large classes
 * up to SC_CACHED_MAX (4 doublings above SC_SMALL_MAX). */
#define SC_CACHED_MAX (256u << 10)
#define SC_NCACHED (SC_NSMALL + 4 * 4)

/* The class formula above the linear classes, the one place it is written:
 * the generator builds and checks the lookup table with it, and the library
 * uses it for sizes above the table. n > SC_LINEAR_MAX. With lg = log2 of
 * the doubling n - 1 falls in, the class is the linear count, plus 4 per
 * doubling above 128, plus which quarter of the doubling n - 1 is in. */
static inline unsigned sc_class_above_linear(unsigned long long n)
{
    unsigned lg = 63u - (unsigned)__builtin_clzll(n - 1);
    return SC_LINEAR_COUNT + ((lg - 7) << SC_GROUP_SHIFT) +
           (unsigned)((n - 1 - (1ull << lg)) >> (lg - SC_GROUP_SHIFT));
}
_Static_assert(SC_LINEAR_MAX == 1u << 7, "the formula's 7 is log2(SC_LINEAR_MAX)");

#endif
