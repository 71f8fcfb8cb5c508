/* src/ctl/figures.h — the figures derived from a statistics snapshot: per
 * arena, per size class, and where the mapped memory goes.
 *
 * Owns: the arithmetic that turns the raw snapshot (src/ctl/stats.h) into
 * what the names of the control tree report. Pure functions of a snapshot.
 *
 * Invariant: every figure is a uint64_t, so that the tree, the printer and
 * the glibc glue treat them alike; the tree narrows each to its documented
 * type when it hands it out.
 *
 * Locking: callers hold the control lock (src/ctl/lock.h), which keeps the
 * snapshot still; nothing here locks.
 */
#ifndef SABLE_CTL_FIGURES_H
#define SABLE_CTL_FIGURES_H

#include <stdint.h>

#include "ctl/stats.h"

/* Selects every arena in ctl_arena_read / ctl_class_read. */
#define CTL_ARENAS_ALL UINT32_MAX

/* One arena, or the sum over all of them (CTL_ARENAS_ALL). */
typedef struct ctl_arena {
    uint64_t nthreads;
    uint64_t mapped, resident, metadata; /* bytes of chunks, resident, headers */
    uint64_t system;      /* chunks and dirty free extents: all but huge blocks */
    uint64_t system_peak; /* the most `system` has been (over arenas: the sum of theirs) */
    uint64_t aspace;      /* address space held, mapped and retained */
    uint64_t active, dirty;              /* bytes in runs / in free runs not purged */
    uint64_t pactive, pdirty;            /* the same in pages of arenas.page */
    uint64_t small_allocated;            /* bytes of slab blocks handed out (incl. cached) */
    uint64_t large_allocated;            /* bytes of large runs (incl. cached) */
    uint64_t nlarge_malloc, nlarge_dalloc;
    uint64_t npurge, nmadvise, purged;
    uint64_t tcache_bytes;               /* bytes in its threads' caches */
    uint64_t nrequests;                  /* its threads' allocation requests, all classes */
    uint64_t retained;                   /* its page heap's purged or untouched free extents */
    uint64_t small_nmalloc, small_ndalloc, small_nfills, small_nflushes; /* over its bins */
} ctl_arena_t;
void ctl_arena_read(const ctl_stats_t *s, unsigned arena, ctl_arena_t *out);

/* One small size class in one arena, or in all of them. allocated_bytes,
 * cached_bytes and rounding_estimate are exact only over all arenas (a block
 * freed by a thread of another arena counts against that arena). */
typedef struct ctl_class {
    uint64_t size, nregs, slab_size;
    uint64_t nmalloc, ndalloc, nrequests, nfills, nflushes;
    uint64_t curregs, curslabs, nonfull_slabs;
    uint64_t used_bytes;        /* curregs x size: blocks out of slabs */
    uint64_t allocated_bytes;   /* blocks the program holds */
    uint64_t cached_bytes;      /* blocks in thread caches */
    uint64_t slab_bytes;        /* curslabs x slab_size */
    uint64_t free_in_slabs;     /* slab_bytes - used_bytes: free space in slabs */
    uint64_t rounding_estimate; /* bytes lost to rounding up, if request sizes are uniform */
} ctl_class_t;
void ctl_class_read(const ctl_stats_t *s, unsigned arena, unsigned c, ctl_class_t *out);

/* Where the memory goes. By construction
 *   chunk_mapped = allocated - huge + cached + partial_slab + dirty + clean + chunk_headers
 * and stats.mapped = chunk_mapped + huge. */
typedef struct ctl_frag {
    uint64_t allocated, small_allocated, large_allocated, huge_allocated;
    uint64_t cached;            /* free blocks in thread caches */
    uint64_t partial_slab;      /* free space inside slabs that hold blocks */
    uint64_t rounding_estimate; /* part of allocated: rounding requests up to classes */
    uint64_t dirty;             /* free runs touched and not yet purged: resident */
    uint64_t clean;             /* free runs purged or never touched: not resident */
    uint64_t chunk_headers;     /* chunk header units (mapped; resident as used) */
    uint64_t chunk_mapped;      /* bytes of chunks */
    uint64_t meta_mapped;       /* metadata mappings (thread caches, page map, ...) */
} ctl_frag_t;
void ctl_frag_read(const ctl_stats_t *s, ctl_frag_t *out);

/* Chunks backed by the hugetlb pool, and chunks that asked for it and fell
 * back to normal pages (live counters, not part of the snapshot). */
uint64_t ctl_hugepages_mapped(void);
uint64_t ctl_hugepages_fallbacks(void);

#endif
