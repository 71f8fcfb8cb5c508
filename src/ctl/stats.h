/* src/ctl/stats.h — one consistent picture of the allocator, for mallctl,
 * stats printing and glibc's mallinfo family.
 *
 * A snapshot is taken by ctl_stats_refresh() (the "epoch" of mallctl): each
 * arena under its own locks (its resident bytes measured after them), thread
 * counters by a racy read of each live cache. Between refreshes the snapshot
 * does not change; reports copy it (ctl_stats_copy) to write it out with no
 * lock held.
 *
 * Byte counts, and how they relate (all in bytes):
 *   allocated  blocks the program holds, at their class size:
 *              slab blocks handed out, minus those sitting in thread caches,
 *              plus large runs and huge blocks
 *   active     runs that hold blocks (whole slabs, large runs) plus huge
 *              blocks: allocated <= active
 *   mapped     chunks, huge blocks and the page heap's dirty free extents:
 *              active <= mapped
 *   resident   pages of sable's mappings in memory now (mincore), plus
 *              metadata mappings
 *   metadata   sable's own structures: metadata mappings and the used part
 *              of chunk headers
 *   retained   the page heap's clean free extents: address space kept
 *              mapped without memory behind it (purged or never touched),
 *              outside mapped
 * Invariants: allocated <= active <= mapped, as written above.
 */
#ifndef SABLE_CTL_STATS_H
#define SABLE_CTL_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "arena/arena.h"
#include "tcache/tcache.h"

typedef struct ctl_arena_stats {
    arena_stats_t a;       /* the arena's own view */
    tcache_counts_t req;   /* requests of the threads attached to it, ever */
    size_t tcache_bytes;   /* bytes in those threads' caches now */
} ctl_arena_stats_t;

typedef struct ctl_stats {
    uint64_t epoch;
    size_t allocated, active, mapped, resident, metadata, retained;
    size_t huge_allocated, huge_count;
    size_t huge_count_peak, huge_bytes_peak; /* the most there have been, never below the above */
    size_t huge_cached; /* the page heaps' dirty free extents (part of mapped) */
    size_t tcache_bytes;
    unsigned narenas;
    ctl_arena_stats_t *arenas; /* narenas entries, in metadata memory */
} ctl_stats_t;

/* Takes a new snapshot and returns it (NULL if sable failed to initialise).
 * Serialised by a lock of its own; the returned snapshot stays valid until
 * the next refresh. */
const ctl_stats_t *ctl_stats_refresh(void);
/* A snapshot of one's own, outside mallctl's epochs (the stats page,
 * src/inspect): *out is filled as a refresh fills mallctl's, its arenas
 * array taken from metadata memory on the first call (zero *out first).
 * False, with *out unchanged, if a refresh is under way in another thread
 * (it never waits) or memory ran out. */
bool ctl_stats_take(ctl_stats_t *out);
/* fork: the snapshot lock, taken by the control layer's fork hook if it is
 * free (true). */
bool ctl_stats_prefork(void);
void ctl_stats_postfork(void);

/* The last snapshot (refreshing once if there is none yet). */
const ctl_stats_t *ctl_stats_current(void);

/* A copy of snapshot s for a reader that outlives the control lock: the
 * bytes it needs, and the copy made into buf (at least that many bytes,
 * 8-aligned), whose arenas point into buf. */
size_t ctl_stats_size(const ctl_stats_t *s);
const ctl_stats_t *ctl_stats_copy(const ctl_stats_t *s, void *buf);

/* Bytes of class c handed to the program and not yet freed, across threads,
 * derived from a snapshot (a block freed by another thread than the one that
 * allocated it counts on both sides, so only the sum over arenas is exact). */
size_t ctl_class_allocated(const ctl_stats_t *s, unsigned c);

#endif
