/* src/arena/chunk.h — the layout of a chunk and of the runs inside it.
 *
 * A chunk is a naturally aligned 4 MiB extent of one arena's page heap (or,
 * with hugepages:hugetlb, a mapping of the hugetlb pool of its own). Its first
 * CHUNK_HEADER_UNITS units hold the header; the rest is cut into runs of
 * 4 KiB units. A run is a slab (blocks of one small class), a large object,
 * or free space. User blocks never share a unit with metadata.
 *
 *   chunk ──►┌────────────────────────────┐
 *            │ chunk_t: arena, links      │
 *            │ map[1024]: one word a unit │  unit → (kind, class, run start, run_t)
 *            │ runs[]: run_t pool         │  descriptors, used densely
 *            ├────────────────────────────┤ CHUNK_HEADER_UNITS
 *            │ slab │ large │ free │ ...  │ runs of whole units
 *            └────────────────────────────┘
 *
 * A map word packs   class:8 | kind:2 | 2 spare | back:10 | desc:10
 *                   bits 0-7   8-9                12-21     22-31
 *   class the run's size class (slabs and large runs)
 *   kind  MAP_SLAB (0), MAP_LARGE, MAP_FREE, MAP_NONE (header, never used)
 *   back  distance in units from this unit to its run's first unit, stored
 *         pre-shifted so that (p & 4095) | (w & MAP_BACK_MASK) is p's byte
 *         offset in its run
 *   desc  index of the run's run_t in the chunk's pool
 * The layout is chosen for free(): kind SLAB is 0, so "is this a slab" is one
 * test, and the class is the low byte. A zero word would therefore read as a
 * slab of class 0: chunk_init writes MAP_NONE into every word first.
 * Every unit of a slab or large run carries its run's word, so free(p) finds
 * the class with one load and can check that p is the start of a block
 * without touching the descriptor (a large run's class is exact in its first
 * unit's word only: resizing in place rewrites that word and the units
 * gained, not the whole run). A free run needs exact words only at its
 * first and last unit (what merging with a neighbour reads); its interior
 * units keep kind MAP_FREE or MAP_NONE with stale back/desc fields, which is
 * enough to reject a pointer into them. So freeing or splitting a run costs
 * writes in proportion to the allocated part, never to the free space.
 *
 * Words change only under the owning arena's lock, but are read without it,
 * so every access is atomic (relaxed: the same mov as a plain one; chunk_word
 * and chunk_set_word below). A valid pointer's word cannot change while the
 * block is live. For any other pointer a lock-free reader may be reading a
 * chunk that is being given back, or memory that has since become a huge
 * block, purged pages or a new chunk: the chunk's `arena` field is what tells
 * (see "Racing a release" in lookup.h). chunk_release stores NULL there
 * before the chunk leaves the page map, and chunk_init stores the arena last;
 * a reader that loads the word with acquire order and then finds its own
 * arena in `arena` read the word of a live chunk.
 * Invariants: see run_t below and the map-word rules above; chunk_t's first
 * line holds what free() reads (arena): non-NULL exactly while the chunk is
 * in the page map.
 */
#ifndef SABLE_ARENA_CHUNK_H
#define SABLE_ARENA_CHUNK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sizeclass/sizeclass.h"

#define CHUNK_SHIFT 22
#define CHUNK_SIZE ((size_t)1 << CHUNK_SHIFT)
#define CHUNK_MASK (CHUNK_SIZE - 1)
#define UNIT_SHIFT SC_UNIT_SHIFT
#define UNIT_SIZE SC_UNIT
#define CHUNK_UNITS (CHUNK_SIZE >> UNIT_SHIFT)

enum { MAP_SLAB = 0, MAP_LARGE = 1, MAP_FREE = 2, MAP_NONE = 3 };

#define MAP_KIND_MASK 0x300u
#define MAP_BACK_MASK 0x3ff000u
#define MAP_KIND(w) (((w) >> 8) & 3u)
#define MAP_CLASS(w) ((w) & 0xffu)
#define MAP_BACK(w) (((w) >> 12) & 0x3ffu)
#define MAP_DESC(w) ((w) >> 22)
#define MAP_WORD(kind, cls, back, desc)                                                            \
    ((uint32_t)(cls) | ((uint32_t)(kind) << 8) | ((uint32_t)(back) << 12) |                        \
     ((uint32_t)(desc) << 22))
_Static_assert(MAP_SLAB == 0, "free() tests the kind bits against zero");

/* Byte offset of p from the start of its run, given its unit's word. */
static inline uint32_t map_run_offset(uint32_t w, const void *p)
{
    return (uint32_t)((uintptr_t)p & (UNIT_SIZE - 1)) | (w & MAP_BACK_MASK);
}

/* True if w, p's unit's word, is a slab's and p starts one of its blocks:
 * the one test that makes p a small block (kind bits zero, then one multiply
 * and one compare). */
static inline bool map_slab_block(uint32_t w, const void *p)
{
    return (w & MAP_KIND_MASK) == 0 && sc_is_block_start(MAP_CLASS(w), map_run_offset(w, p));
}

struct arena;

/* A run descriptor: 64 bytes, one per run, in the chunk header.
 * Invariants (all under the owning arena's locks):
 *   slab:  nfree = number of 1 bits in free_bits[0 .. nregs); a slab with
 *          0 < nfree is on its bin's nonfull list unless it is the bin's
 *          current slab; a full slab is on no list.
 *          dirty is a unit mask (bit u = unit u of the slab): a unit that
 *          may hold data written since it was last purged has its bit set
 *          (a block on it was freed since, or the slab was cut from dirty
 *          memory or filled); bits are cleared only for units purged.
 *          pending: blocks were freed into the slab since a purge last
 *          looked at it (only such a slab can have newly purgeable pages);
 *          a pending slab has free blocks, and its bin counts it. aux is
 *          the time (coarse ms) of its latest free.
 *   large: nfree unused; size = requested bytes (for stats).
 *   free:  on its arena's free-run list for its size bucket; its first and
 *          last unit's map words point to it (interior words too). dirty
 *          counts the units touched since their last purge, aux the time
 *          its oldest dirty part was freed. clean_shift, if not 0: none of
 *          its dirty units lies inside an aligned 2^clean_shift-byte page
 *          wholly inside the run (a purge at that grain or coarser would
 *          return nothing); kept by splits, cleared by merges.
 */
typedef struct run {
    struct run *next, *prev;
    uint16_t first; /* first unit in the chunk */
    uint16_t nunits;
    uint8_t kind : 2;        /* MAP_SLAB, MAP_LARGE, MAP_FREE or MAP_NONE */
    uint8_t pending : 1;     /* slab: freed into since a purge looked at it */
    uint8_t clean_shift : 5; /* free: see above; 0 = unknown */
    uint8_t sc;
    uint16_t nfree;
    uint32_t dirty; /* free: units touched and not purged; slab: unit mask */
    uint32_t aux;
    uint64_t free_bits[SC_SLAB_MAXREGS / 64]; /* slab: 1 = block is free */
} run_t;
_Static_assert(SC_SLAB_MAXUNITS <= 32, "a slab's unit mask is the 32-bit dirty field");

/* The units [off, off + len) of a run touch, as a mask of a slab's dirty
 * field (off + len <= SC_SLAB_MAXUNITS units, len > 0). */
static inline uint32_t run_units_mask(size_t off, size_t len)
{
    unsigned first = (unsigned)(off >> UNIT_SHIFT);
    unsigned last = (unsigned)((off + len - 1) >> UNIT_SHIFT);
    return (uint32_t)((((uint64_t)2 << (last - first)) - 1) << first);
}
_Static_assert(sizeof(run_t) == 64, "run_t is one cache line");

typedef struct chunk {
    _Atomic(struct arena *) arena; /* the owner; NULL once given back (see above) */
    struct chunk *next, *prev; /* arena's chunk list */
    uint32_t nfree_units;      /* units in free runs */
    uint16_t desc_free;        /* head of the free descriptor slots (index+1) */
    uint16_t desc_used;        /* descriptor slots ever handed out */
    bool hugetlb;              /* backed by the hugetlb pool */
    struct extent *extent;     /* its page-heap extent (NULL: a hugetlb mapping) */
    uint8_t pad[64 - 8 * 3 - 8 - 8 - 8];
    _Atomic uint32_t map[CHUNK_UNITS];
    run_t runs[];
} chunk_t;

/* The map word of unit u: relaxed, for readers that hold the arena lock or
 * check what they read (lookup.h); acquire, for lock-free readers that go on
 * to read the chunk's arena (which must not be read before the word). The
 * map's base is taken first: GCC then folds its offset into the load's
 * displacement, as for a plain access (from &c->map[u] it does not). */
static inline uint32_t chunk_word(const chunk_t *c, unsigned u)
{
    const _Atomic uint32_t *map = c->map;
    return atomic_load_explicit(map + u, memory_order_relaxed);
}
static inline uint32_t chunk_word_acquire(const chunk_t *c, unsigned u)
{
    const _Atomic uint32_t *map = c->map;
    return atomic_load_explicit(map + u, memory_order_acquire);
}
/* Arena lock held. */
static inline void chunk_set_word(chunk_t *c, unsigned u, uint32_t w)
{
    _Atomic uint32_t *map = c->map;
    atomic_store_explicit(map + u, w, memory_order_relaxed);
}
/* Writes the words of units [first, first + n): w for the first, and each
 * next one's back field one unit further (step 1 << 12), or the same word
 * (step 0). Unrolled by four: relaxed atomic stores are single movs, but
 * the compiler does not vectorize them as it did plain ones. */
void chunk_set_words(chunk_t *c, unsigned first, unsigned n, uint32_t w, uint32_t step);

/* The chunk's arena, or NULL if it was given back (or the memory is no
 * longer a chunk's: see lookup.h). Relaxed; acquire for the lock-free
 * readers that read the map word again after it. */
static inline struct arena *chunk_arena(const chunk_t *c)
{
    return atomic_load_explicit(&c->arena, memory_order_relaxed);
}
static inline struct arena *chunk_arena_acquire(const chunk_t *c)
{
    return atomic_load_explicit(&c->arena, memory_order_acquire);
}

/* The header holds chunk_t, the map and one descriptor per usable unit. */
#define CHUNK_HEADER_BYTES_FOR(nruns) (sizeof(chunk_t) + (size_t)(nruns) * sizeof(run_t))
#define CHUNK_HEADER_UNITS                                                                         \
    ((CHUNK_HEADER_BYTES_FOR(CHUNK_UNITS) + UNIT_SIZE - 1) >> UNIT_SHIFT)
#define CHUNK_USABLE_UNITS (CHUNK_UNITS - CHUNK_HEADER_UNITS)
_Static_assert(CHUNK_UNITS <= 1024, "back and desc fields are 10 bits");
_Static_assert(SC_LARGE_MAX / UNIT_SIZE <= CHUNK_USABLE_UNITS, "largest run fits a chunk");

static inline chunk_t *chunk_of(const void *p)
{
    return (chunk_t *)((uintptr_t)p & ~(uintptr_t)CHUNK_MASK);
}
static inline unsigned chunk_unit_of(const void *p)
{
    return (unsigned)(((uintptr_t)p & CHUNK_MASK) >> UNIT_SHIFT);
}
static inline char *chunk_unit_addr(chunk_t *c, unsigned unit)
{
    return (char *)c + ((size_t)unit << UNIT_SHIFT);
}
static inline char *run_addr(chunk_t *c, const run_t *r) { return chunk_unit_addr(c, r->first); }
static inline run_t *chunk_run_of_word(chunk_t *c, uint32_t w) { return &c->runs[MAP_DESC(w)]; }

/* Initialises a chunk's header, and one free run spanning the usable units,
 * and returns that run. zeroed: the memory reads as zeroes (fresh or purged;
 * the run is then clean, else all dirty). */
run_t *chunk_init(chunk_t *c, struct arena *a, bool zeroed);

/* Descriptor pool of a chunk. */
run_t *chunk_desc_alloc(chunk_t *c);
void chunk_desc_free(chunk_t *c, run_t *r);

/* The back-field step of chunk_set_words: one unit. */
#define MAP_BACK_STEP ((uint32_t)1 << 12)
/* Writes the map words of every unit of run r (a slab or large run). */
void chunk_map_run(chunk_t *c, run_t *r);
/* After a large run r was resized in place from `old` units: rewrites its
 * first unit's word (the class, which only the first unit's word is read
 * for) and writes the words of units it gained. */
void chunk_map_resized(chunk_t *c, run_t *r, unsigned old);
/* Writes the words of the first and last unit of free run r. */
void chunk_map_free_edges(chunk_t *c, run_t *r);

#endif
