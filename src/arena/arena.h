/* src/arena/arena.h — the only state shared between threads.
 *
 * An arena owns a page heap (pageheap.h): address space kept as extents,
 * from which it cuts chunks and huge blocks. Inside chunks it keeps free
 * runs (by size bucket), slabs for each small class (a bin per class), and
 * large runs. Threads reach an arena only on slow paths: to fill or flush a
 * thread cache's bin, to allocate or free a large or huge object. Blocks
 * always return to the arena that owns their memory, whichever thread frees
 * them.
 *
 * Invariants: a block always returns to the arena that owns its chunk; bin
 * counters change only under the bin lock, arena counters only under the
 * arena lock (nthreads is an atomic).
 * Locking: each bin has a lock (its slabs and their bitmaps); the arena lock
 * guards free runs, chunks and large runs. Order: bin lock, then arena lock;
 * across arenas, by increasing index (only fork takes more than one).
 */
#ifndef SABLE_ARENA_H
#define SABLE_ARENA_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena/chunk.h"
#include "arena/pageheap.h"
#include "arena/pagemap.h"
#include "os/lock.h"
#include "os/os.h"

#define ARENA_MAX 256
#define ARENA_RUN_BUCKETS 11 /* floor(log2(units)) for 1 .. 1023 units */

typedef struct bin {
    pthread_mutex_t lock;
    run_t *cur;     /* slab blocks are taken from first; on no list */
    run_t *nonfull; /* other slabs with free blocks, doubly linked */
    size_t nslabs;  /* slabs of this class in this arena */
    size_t npending; /* slabs with `pending` set (the current one or nonfull) */
    size_t curregs; /* blocks handed out (to caches or users) */
    uint64_t nmalloc, ndalloc; /* blocks handed out / returned, ever */
    uint64_t nfills, nflushes;
    uint64_t npurged_slabs, purged; /* in-slab purges, bytes given back */
} bin_t;

typedef struct arena {
    pthread_mutex_t lock;
    unsigned index;
    chunk_t *chunks;      /* every chunk, doubly linked */
    chunk_t *spare;       /* one empty chunk kept mapped, or NULL */
    run_t *runs[ARENA_RUN_BUCKETS];
    size_t nchunks;
    size_t large_allocated; /* bytes in large runs (class sizes) */
    size_t nlarge;
    uint64_t nlarge_malloc, nlarge_dalloc;
    uint64_t npurge, nmadvise, purged; /* purge passes, madvise calls, bytes */
    /* False only if no free run holds dirty units that malloc_trim could
     * purge (each has dirty 0, or was purged at the grain trim uses): set
     * when a run is freed dirty, cleared by a purge pass that leaves none. */
    bool runs_dirty;
    /* The most bytes of chunks and dirty free extents the arena has held at
     * once (its memory apart from huge blocks: glibc's "system" bytes of an
     * arena), raised by arena_note_mapped where either grows. */
    size_t mapped_peak;
    /* malloc_trim's memory of this arena (purge.c), under the arena lock:
     * read once and written back once by each trim's decision. */
    struct arena_trim_memo {
        bool trimmed;      /* a complete trim happened, at trim_ms (os_now_ms) */
        bool weighed;      /* a trim found the free memory within the reserve, */
        uint32_t trim_ms;  /* at weigh_ms, with weigh_live bytes live */
        uint32_t weigh_ms;
        size_t weigh_live;
    } trim;
    _Atomic unsigned nthreads;
    /* arena.<i>.dirty_decay_ms: the arena's own decay time, or
     * ARENA_DECAY_DEFAULT to follow arenas.dirty_decay_ms (arena_decay_ms). */
    _Atomic unsigned decay_ms;
    /* Set by arena_destroy, cleared when arenas.create reuses the slot:
     * nothing allocates from a destroyed arena (arena_usable). */
    _Atomic bool destroyed;
    uint64_t born_ns; /* when the arena was set up (os_now_ns), for its uptime */
    /* The NUMA node its regions are bound to when `bound` (numa:auto on a
     * host of several nodes); set once, before threads use the arena. */
    unsigned node;
    bool bound;
    pageheap_t heap;
    bin_t bins[SC_NSMALL];
} arena_t;

/* Lock order (os/lock.h): inside one arena its bin locks by class, then its
 * arena lock; arenas by index. One rank, ordered by these keys. */
_Static_assert(SC_NSMALL < 63, "bin keys stay below the arena lock's key");
static inline void arena_lock(arena_t *a) { lock_take(&a->lock, LOCK_ARENA, a->index * 64 + 63); }
static inline bool arena_trylock(arena_t *a)
{
    return lock_try(&a->lock, LOCK_ARENA, a->index * 64 + 63);
}
static inline void arena_unlock(arena_t *a) { lock_drop(&a->lock); }
static inline void bin_lock(arena_t *a, unsigned sc)
{
    lock_take(&a->bins[sc].lock, LOCK_ARENA, a->index * 64 + sc);
}
static inline bool bin_trylock(arena_t *a, unsigned sc)
{
    return lock_try(&a->bins[sc].lock, LOCK_ARENA, a->index * 64 + sc);
}
static inline void bin_unlock(arena_t *a, unsigned sc) { lock_drop(&a->bins[sc].lock); }

/* Arena lock held: the arena's chunks and dirty free extents, and its peak
 * raised to them. Called after each change that can grow them: a new chunk
 * (run.c), an extent freed or shrunk into dirty memory (pageheap.c); slow
 * paths only. */
static inline size_t arena_mapped_now(const arena_t *a)
{
    return a->nchunks * CHUNK_SIZE + a->heap.free_bytes[0];
}
static inline void arena_note_mapped(arena_t *a)
{
    size_t m = arena_mapped_now(a);
    if (m > a->mapped_peak) a->mapped_peak = m;
}

/* Creates the n automatic arenas (n >= 1, capped at ARENA_MAX), in room
 * for ARENA_MAX (address space only until used). False if out of memory. */
bool arena_boot(unsigned n);
/* Arenas: every index ever handed out (automatic, created, destroyed),
 * which only grows; the automatic ones, [0, arena_auto_count()), set up at
 * boot and never reset or destroyed. */
unsigned arena_count(void);
unsigned arena_auto_count(void);
arena_t *arena_get(unsigned i);
/* Bytes of the arena table in use (metadata, for stats). */
size_t arena_table_bytes(void);

/* Arenas as objects (arenas.create, arena.<i>.reset / destroy; see
 * "Arenas as objects" in docs/design.md).
 * arena_create: a new arena, unbound to any node, decay following the
 * default, in the slot of a destroyed one if there is one (its page heap,
 * now empty, goes with the slot); *index is its index. False when
 * ARENA_MAX arenas exist.
 * arena_reset: every block of created arena a is discarded at once, its
 * chunks and huge blocks given back to its page heap as dirty free
 * memory; its counters count them freed. The caller sees to it that no
 * cache holds a block of a (as jemalloc documents: a block cached
 * anywhere would be handed out again over memory reused since).
 * arena_destroy: arena_reset, then every free extent of a's page heap is
 * unmapped (stats.mapped and RSS fall by them), and the arena is marked
 * destroyed until arenas.create reuses it. No thread may be attached. */
bool arena_create(unsigned *index);
void arena_reset(arena_t *a);
void arena_destroy(arena_t *a);
static inline bool arena_destroyed(const arena_t *a)
{
    return atomic_load_explicit(&a->destroyed, memory_order_acquire);
}

/* The decay time arena a purges by: 0 above the soft memory limit or under
 * memory pressure (limit.h), else its own or the default. */
#define ARENA_DECAY_DEFAULT UINT_MAX
unsigned arena_decay_ms(const arena_t *a);
/* Sets a's own decay time, or ARENA_DECAY_DEFAULT. */
void arena_set_decay_ms(arena_t *a, unsigned ms);
/* Arena a's node; `bind`: its regions reserved from now on are bound to it
 * (os_bind_node, preferred: memory comes from elsewhere when the node has
 * none). Before threads use the arena. */
void arena_set_node(arena_t *a, unsigned node, bool bind);
/* True if a is one of the arenas: what a chunk's arena field holds only
 * while it is a live chunk (chunk.h), checked before a lock is taken
 * through a pointer read without one. */
bool arena_is(const arena_t *a);

/* Takes up to n blocks of small class sc into out[0..) in address order.
 * Returns how many it took (0 only when out of memory). */
unsigned arena_bin_fill(arena_t *a, unsigned sc, void **out, unsigned n);

/* One block of small class sc at a random free position of the current
 * slab (secure mode: the order of fresh blocks is not predictable). */
void *arena_bin_alloc_random(arena_t *a, unsigned sc, uint64_t rnd);

/* The fill modes. Each sable option fills what it names and takes
 * precedence; glibc's perturb byte b (opt_perturb, MALLOC_PERTURB_) fills
 * what they leave unfilled:
 *   arena_free_fill: the byte freed blocks are filled with, or -1: 0x5a
 *     with junk, 0 with secure or zero_on_free, else b;
 *   arena_new_fill: the byte blocks handed out other than by calloc are
 *     filled with, or -1: 0xa5 with junk, else b ^ 0xff;
 *   arena_kept_fill: the byte every free small block holds and is checked
 *     for when handed out again, or -1: the free fill of secure,
 *     zero_on_free and junk. glibc does not check its perturb byte, and
 *     sable does not either (a use after free that glibc tolerates must not
 *     abort), so a free fill of b alone is not kept: slabs are purged
 *     inside as without a fill, and their purged pages read as zeroes. */
int arena_free_fill(void);
int arena_new_fill(void);
int arena_kept_fill(void);

/* Returns n blocks of class sc, from any arenas. Aborts on a double free,
 * and on a pointer that no longer starts a block of a live slab of class sc
 * (its chunk given back since it was checked: see bin.c). */
void arena_bin_flush(unsigned sc, void *const *ptrs, unsigned n);
/* The same for one block, filled with `fill` (the fill modes' uncached
 * free) under the bin lock once it is known to be a block: a pointer
 * checked without the lock may lie in memory that is no longer a slab. */
void arena_bin_free_filled(unsigned sc, void *p, int fill);

/* What thread caches and uncached operations use, for any cached class
 * sc < SC_NCACHED: small classes go to the bins, large ones to large runs
 * (taken one at a time: speculative large runs would cost memory). */
unsigned arena_cache_fill(arena_t *a, unsigned sc, void **out, unsigned n);
void arena_cache_flush(unsigned sc, void *const *ptrs, unsigned n);

/* True if a large run of class size `size` aligned to `align` (a power of
 * two) fits in a chunk (else only a huge mapping can take the alignment). */
static inline bool arena_large_fits(size_t size, size_t align)
{
    size_t units = size >> UNIT_SHIFT;
    size_t align_units = align > UNIT_SIZE ? align >> UNIT_SHIFT : 1;
    return align_units <= CHUNK_USABLE_UNITS && units + align_units - 1 <= CHUNK_USABLE_UNITS;
}

/* A large object of class size `size` (SC_SMALL_MAX < size <= SC_LARGE_MAX)
 * aligned to `align` (a power of two). NULL when out of memory or when
 * arena_large_fits says no. zeroed: the block must read as zeroes (calloc);
 * a run that was never touched since its last purge is not written. */
void *arena_large_alloc(arena_t *a, size_t size, size_t align, bool zeroed);
/* Frees the large run starting at p (a pointer in a chunk); aborts with a
 * double-free message if p no longer starts a large run (checked under the
 * arena lock: a block cached by a thread can be freed twice unnoticed until
 * then). */
void arena_large_free(void *p);
/* Grows or shrinks the large run starting at p in place to class size
 * `size` (false if the neighbour is taken); aborts like arena_large_free if
 * p no longer starts a large run. */
bool arena_large_resize(void *p, size_t size);

/* A consistent snapshot of one arena, taken under its locks. */
typedef struct bin_stats {
    uint64_t nmalloc, ndalloc, nfills, nflushes;
    size_t curregs, curslabs, nonfull_slabs;
} bin_stats_t;

typedef struct arena_stats {
    unsigned nthreads;
    size_t mapped;          /* bytes of chunks */
    size_t mapped_peak;     /* the most bytes of chunks + heap_dirty held at once */
    size_t huge_allocated;  /* usable bytes of live huge blocks */
    size_t nhuge;           /* live huge blocks */
    uint64_t nhuge_malloc, nhuge_dalloc;
    size_t heap_dirty;      /* page heap: free extents touched and not purged */
    size_t heap_retained;   /* page heap: free extents purged or never touched */
    size_t heap_resident;   /* page heap: resident bytes of huge blocks and dirty extents */
    size_t reserved;        /* address space held: page-heap regions, hugetlb chunks */
    uint64_t heap_npurge, heap_purged, heap_nreserve, heap_nunmap;
    size_t resident;        /* bytes of chunks resident in memory (mincore) */
    size_t metadata;        /* chunk headers: map words and descriptors in use */
    size_t active;          /* bytes in slab and large runs */
    size_t dirty;           /* bytes in free runs touched and not purged */
    size_t small_allocated; /* bytes of blocks handed out from slabs */
    size_t large_allocated;
    uint64_t nlarge_malloc, nlarge_dalloc;
    uint64_t npurge, nmadvise, purged;
    bin_stats_t bins[SC_NSMALL];
} arena_stats_t;

/* Where arena_stats_read copies the ranges it measures (chunks, huge blocks,
 * dirty extents): pages of its own, grown as needed and kept for the next
 * read. Zero-initialised before first use; one reader at a time. */
typedef struct arena_stats_scratch {
    ph_range_t *ranges;
    size_t cap, bytes;
} arena_stats_scratch_t;

/* Reads arena i's counters under its locks. Resident bytes are measured
 * (mincore) after the arena lock is dropped, over the ranges copied under
 * it, so that a reader never stalls the arena's allocations: a range freed
 * or unmapped meanwhile counts what is resident of it at the time. If the
 * scratch cannot grow to hold every range (out of address space), the
 * ranges that fit are measured and stats.errors.map counts the failure. */
void arena_stats_read(unsigned i, arena_stats_t *out, arena_stats_scratch_t *scratch);

#ifdef SABLE_DEBUG
/* For tests (debug builds): called by arena_stats_read while it measures
 * arena i's resident bytes, with no arena lock held. */
extern void (*arena_stats_measure_hook)(unsigned i);
#endif

/* Returning memory (see "Returning memory" in docs/memory.md).
 * arena_purge: purges arena i's free runs and the free pages of its partly
 * used slabs — everything dirty if `all`, else what has been dirty for at
 * least dirty_decay_ms. True if anything was purged.
 * arena_purge_all: arena_purge(i, true) for every arena.
 * arena_decay_tick: called on slow paths with no lock held; when a pass is
 * due (every quarter of dirty_decay_ms, at least 10 ms apart) one caller
 * runs it over every arena, skipping any lock that is busy. A pass purges
 * free runs and the free pages inside partly used slabs. */
bool arena_purge(unsigned i, bool all);
bool arena_purge_all(void);
/* arena_trim: malloc_trim's purge of every arena, true if anything was
 * purged. Each arena is purged completely, as by arena_purge(i, true),
 * except that an arena whose free resident memory (estimated: see purge.c)
 * is at most `pad` bytes is left alone, and so is one trimmed completely
 * (everything purged, or nothing to purge) less than
 * ARENA_TRIM_INTERVAL_MS ago whose free resident memory is at most its
 * reserve: the page heap's dirty budget applied to the arena's live bytes
 * (1/PH_DIRTY_SHARE of them, at least PH_DIRTY_FLOOR). A program that trims
 * now and then gets every free page back; one that trims every few hundred
 * operations does not purge, at each call, pages it is about to fault in
 * again. */
#define ARENA_TRIM_INTERVAL_MS 1000u
/* Trims less than this apart after one that found the free memory within
 * the reserve trust that estimate, unless the live bytes fell by a quarter:
 * the estimate walks slabs and free runs, and trims can come every few
 * hundred operations. */
#define ARENA_TRIM_WEIGH_MS 10u
bool arena_trim(size_t pad);
/* arena_trim_wanted: false if arena_trim(pad) would leave every arena alone
 * as things stand, so that malloc_trim need not flush the caller's cache
 * first (an arena due for a complete trim always wants the flush). */
bool arena_trim_wanted(size_t pad);
void arena_decay_tick(void);
/* The shortest decay time of the arenas (arena_decay_ms): what paces the
 * decay passes, which visit every arena. */
unsigned arena_decay_min_ms(void);
/* Runs a decay pass if one is due (the background thread's entry point:
 * arena_decay_tick reads the clock on one call in 32 only). */
void arena_decay_due(void);

/* Huge-page backing of chunks (hugepages:hugetlb): bytes of chunks mapped
 * from the hugetlb pool, and chunks that asked for it and fell back to
 * normal pages (those are cut from the page heap like any other). */
size_t arena_hugetlb_mapped(void);
uint64_t arena_hugetlb_fallbacks(void);
/* In a child after fork: every hugetlb chunk is replaced by a copy in
 * normal pages, at the same address (see docs/memory.md, "hugetlb and
 * fork"), and the child maps no new hugetlb chunks. Private hugetlb pages
 * are shared copy-on-write with the parent, and a child has no reservation
 * in the pool: its first write to one would need a free huge page, and
 * with the pool exhausted the kernel kills it with SIGBUS. Called in the
 * child before anything else runs there (with every arena lock held, or in
 * a process that had one thread). */
void arena_hugetlb_forked(void);

/* fork: take every lock in a fixed order; release them in parent and child. */
void arena_prefork(void);
void arena_postfork(void);

#endif
