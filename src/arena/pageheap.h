/* src/arena/pageheap.h — each arena's page heap: address space as extents
 * of whole pages, from which chunks and huge blocks are cut.
 *
 * An arena reserves address space from the kernel in large steps (regions,
 * 4 MiB aligned) and never gives it back on its own: what is freed stays
 * mapped as a free extent, and only decay and trim return its pages (purge,
 * MADV_DONTNEED), which keeps the address space ("retained"). Free extents
 * are split on allocation and coalesced with their free neighbours on free,
 * so the heap is one set of extents in address order:
 *
 *   region ─►│ chunk │  huge block  │ dirty │ chunk │ clean ...        │
 *            └─4 MiB─┴─ page granular ─────┴─4 MiB─┴──────────────────┘
 *
 * A chunk (slabs and large runs, chunk.h) is a 4 MiB-aligned extent; a huge
 * block is an extent of its size rounded to pages (plus a guard page in
 * secure mode). Free extents are in one of two states, kept apart and never
 * coalesced across:
 *   dirty  freed and not purged since: its pages are likely resident and in
 *          the TLB, so allocation takes dirty extents first;
 *   clean  fresh or purged: reads as zeroes and costs no memory, so calloc
 *          need not write it.
 * Decay purges dirty extents once they have been dirty for dirty_decay_ms
 * (purge.c); a purged extent turns clean and coalesces with clean
 * neighbours. Under address-space pressure (a reservation refused, as under
 * RLIMIT_AS) free extents are unmapped, and the reservation is retried;
 * the header pages of a slot that held a chunk stay, as a small clean free
 * extent (a stub: PH_STUB), because a racing lock-free lookup may still
 * read them (lookup.h, "Racing a release").
 *
 * Finding a free extent: size bins, four a doubling (like the size classes),
 * one list each per state, and a bitmap of non-empty bins. A request looks
 * at the bin its size falls in (best fit among a bounded number, the lowest
 * address on ties) and then takes the first extent of the next non-empty
 * bin, whose every extent fits: O(1) apart from the bounded scan.
 *
 * Finding an extent by address: the page map (pagemap.h) points every slot
 * of a region that is not a chunk at a slot table of 1024 entries, one per
 * 4 KiB unit. The entries of an extent's first and last unit name its
 * descriptor; other entries may be stale. An entry is believed only if the
 * descriptor agrees (it starts there, or ends there, in the state looked
 * for), so stale entries are harmless. Live huge blocks are looked up this
 * way (lookup.h), free neighbours are found this way when coalescing.
 *
 * Invariants (all under the owning arena's lock): every byte of a region is
 * in exactly one extent or chunk; free extents are on the bin list of their
 * state and size, live ones on the arena's live list; two free extents of
 * one state are never adjacent; the first and last unit entries of every
 * extent name it; an extent never spans two arenas. A descriptor belongs to
 * one arena for life (recycled through its free list).
 * Locking: everything here runs under the arena's lock. Descriptors and slot
 * tables come from metadata and are never freed, so lock-free readers
 * (lookup.h) may read them at any time.
 */
#ifndef SABLE_ARENA_PAGEHEAP_H
#define SABLE_ARENA_PAGEHEAP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena/chunk.h"
#include "arena/pagemap.h"
#include "sizeclass/sizeclass.h"

struct arena;

/* An extent's state. UNUSED: a spare descriptor; LIVE: a huge block;
 * CHUNK: cut out as a chunk (its slot is the chunk's, not the tables');
 * DIRTY, CLEAN: free (see above). */
enum { EXTENT_UNUSED, EXTENT_LIVE, EXTENT_CHUNK, EXTENT_DIRTY, EXTENT_CLEAN };

typedef struct extent {
    uintptr_t addr;
    size_t size;               /* bytes, a page multiple */
    struct extent *next, *prev; /* bin list (free), live list, or descriptor free list */
    struct arena *arena;       /* owner, for life */
    union {
        size_t usable;            /* live: bytes the program may use (size less the guard) */
        struct ph_table *table;   /* chunk: the slot's table, for when the chunk comes back */
    };
    uint32_t freed_ms;         /* dirty: when its oldest part was freed */
    _Atomic uint8_t state;     /* EXTENT_*: read without the lock by lookups */
    bool guarded;              /* live: its last page is a guard page */
    uint8_t pad[64 - 6 * 8 - 4 - 2];
} extent_t;
_Static_assert(sizeof(extent_t) == 64, "extent_t is one cache line");

/* A descriptor's address and usable size are read by lock-free lookups
 * (lookup.h) while the arena writes them under its lock: the writes are
 * atomic (relaxed, the same mov), and so are the lock-free reads. Readers
 * under the lock read them plainly. */
static inline void extent_set_addr(extent_t *x, uintptr_t addr)
{
    __atomic_store_n(&x->addr, addr, __ATOMIC_RELAXED);
}
static inline void extent_set_usable(extent_t *x, size_t usable)
{
    __atomic_store_n(&x->usable, usable, __ATOMIC_RELAXED);
}

/* One entry per 4 KiB unit of a slot (pagemap.h: a tagged slot entry points
 * at one of these). */
#define PH_UNITS_PER_SLOT ((size_t)1 << (PM_SLOT_SHIFT - SC_UNIT_SHIFT))
typedef struct ph_table {
    _Atomic(extent_t *) unit[PH_UNITS_PER_SLOT];
    /* The slot has held a chunk: its first PH_STUB bytes are never unmapped
     * (a lock-free reader may still load the old header, lookup.h). Arena
     * lock. */
    bool chunked;
} ph_table_t;

/* What stays mapped at the start of a slot that held a chunk when free
 * extents are unmapped under pressure (unmap_free): the chunk header,
 * rounded to pages. */
#define PH_STUB(page) (((size_t)CHUNK_HEADER_UNITS * SC_UNIT + (page) - 1) & ~((page) - 1))

/* Regions: the first is PH_STEP_MIN; later ones are half of what the arena
 * holds already (so the number of regions grows with the log of the heap),
 * at most PH_STEP_MAX; never less than the request. Untouched address space
 * costs no memory, only a line in /proc/<pid>/maps. */
#define PH_STEP_MIN ((size_t)64 << 20)
#define PH_STEP_MAX ((size_t)1 << 30)
/* How many extents of a bin are compared for best fit (and for the largest
 * dirty one). */
#define PH_FIT_SCAN 32
/* Dirty memory kept when an allocation must fault in fresh pages: at most
 * 1/PH_DIRTY_SHARE of the heap's live bytes (huge blocks and chunks) or
 * 1/PH_PEAK_SHARE of their peak over the last PH_PEAK_MS or more,
 * whichever is more, and at least PH_DIRTY_FLOOR. Dirty extents that could
 * not serve the request would otherwise sit resident beside the new pages
 * until decay. */
#define PH_DIRTY_SHARE 2
#define PH_PEAK_SHARE 3
#define PH_PEAK_MS 1000
#define PH_DIRTY_FLOOR ((size_t)4 << 20)

#define PH_BINS 148 /* four a doubling: pages 1 .. 2^36 */
#define PH_BIN_WORDS ((PH_BINS + 63) / 64)

typedef struct pageheap {
    extent_t *bins[2][PH_BINS]; /* [0] dirty, [1] clean */
    uint64_t nonempty[2][PH_BIN_WORDS];
    extent_t *live;             /* live huge blocks */
    extent_t *spare;            /* descriptor free list */
    size_t reserved;            /* bytes of address space held (regions) */
    size_t free_bytes[2];       /* bytes in dirty, clean free extents */
    size_t chunk_bytes;         /* bytes cut out as chunks */
    size_t huge_bytes;          /* bytes of live huge extents (guards included) */
    size_t live_peak;           /* most huge + chunk bytes since live_peak_ms */
    size_t live_peak_prev;      /* most in the window before that */
    uint32_t live_peak_ms;      /* when the current window began */
    size_t nhuge;
    uint64_t nhuge_malloc, nhuge_dalloc;
    uint64_t nreserve, nunmap;  /* regions reserved; extents unmapped under pressure */
    uint64_t npurge, purged;    /* extents purged, bytes */
} pageheap_t;

/* The state index of a free extent's bins. */
static inline unsigned ph_state_index(unsigned state) { return state == EXTENT_CLEAN; }

/* Live bytes grew: the window's peak follows. */
static inline void ph_note_live(pageheap_t *h)
{
    size_t live = h->huge_bytes + h->chunk_bytes;
    if (live > h->live_peak) h->live_peak = live;
}

/* The extent whose entry covers unit-aligned address a (NULL if a is not
 * in a region slot, or the entry is empty). The caller checks what it
 * finds (see above). Lock-free. */
static inline extent_t *ph_entry(uintptr_t a)
{
    uintptr_t e = pm_lookup(a);
    if (!(e & PM_TABLE_TAG)) return NULL;
    ph_table_t *t = (ph_table_t *)(e & ~PM_TABLE_TAG);
    return atomic_load_explicit(&t->unit[(a >> SC_UNIT_SHIFT) & (PH_UNITS_PER_SLOT - 1)],
                                memory_order_acquire);
}

/* Cuts a live extent of `size` bytes (a page multiple) aligned to `align`
 * (a power of two, at least a page) out of arena a's heap, reserving more
 * address space if nothing free fits. *zeroed tells whether it reads as
 * zeroes (it was clean). NULL when the kernel refuses address space even
 * after unmapping every free extent. */
extent_t *ph_alloc(struct arena *a, size_t size, size_t align, bool *zeroed);
/* How ph_free files an extent: as dirty memory; purged at once (secure
 * mode, dirty_decay_ms:0 always does); or as clean, its pages being known
 * to read as zeroes already (moved away by mremap). */
typedef enum { PH_DIRTY, PH_PURGE, PH_CLEAN } ph_free_t;
/* Returns live extent x to the heap (coalescing with free neighbours). */
void ph_free(struct arena *a, extent_t *x, ph_free_t how);
/* Grows live extent x in place to `size` bytes by taking the front of the
 * free extent after it. False if that extent is not free or too small.
 * *zeroed: the added bytes read as zeroes. */
bool ph_grow(struct arena *a, extent_t *x, size_t size, bool *zeroed);
/* Shrinks live extent x to `size` bytes (a page multiple, > 0); the tail
 * becomes free dirty memory. False (nothing changed) without metadata. */
bool ph_shrink(struct arena *a, extent_t *x, size_t size);

/* A chunk_size-aligned extent of chunk_size bytes (one page-map slot) for
 * a new chunk, *zeroed as for ph_alloc. The caller points the slot at the
 * chunk (pm_set); the descriptor stays with the chunk. NULL as ph_alloc. */
extent_t *ph_chunk_alloc(struct arena *a, size_t chunk_size, bool *zeroed);
/* Gives a chunk's extent back as dirty free memory (the slot points at its
 * table again). */
void ph_chunk_free(struct arena *a, extent_t *x);
/* Takes [addr, addr+size), slot-aligned fresh memory mapped in place of a
 * chunk that was a mapping of its own (hugetlb), into the heap as a clean
 * free extent (the slots get tables, so the chunk bits go). False (nothing
 * changed) without metadata. */
bool ph_adopt(struct arena *a, uintptr_t addr, size_t size);

/* Unmaps every free extent of arena a but the stubs (arena.<i>.destroy;
 * also what a refused reservation does). True if anything was unmapped. */
bool ph_unmap_free(struct arena *a);

/* Purges arena a's dirty extents: all of them if `all`, else those dirty
 * since before `now - decay_ms`. True if any memory was returned. */
bool ph_purge(struct arena *a, uint32_t now, uint32_t decay_ms, bool all);

/* A range of address space, for measuring what of it is resident. */
typedef struct ph_range {
    uintptr_t addr;
    size_t size;
} ph_range_t;

/* The ranges whose resident bytes stats count in the page heap: live huge
 * extents and dirty free extents. Copies the first `cap` of them to out and
 * returns how many there are (arena lock held; stats measure the copy after
 * dropping it, so that mincore never runs under the lock). */
size_t ph_ranges(struct arena *a, ph_range_t *out, size_t cap);

#endif
