/* src/arena/limit.h — the memory limits: what sable counts as its memory,
 * the hard limit (memory_limit) and the soft threshold (memory_soft_limit).
 *
 * The figure: committed bytes, the address space of every arena's page
 * heap that is not a clean free extent — chunks (whole, their free and
 * purged runs included), huge blocks (guard pages included) and dirty free
 * extents. It is what sable may have resident at most, apart from its
 * metadata and hugetlb chunks (which are separate mappings, and charged to
 * the hugetlb controller, not to memory.max). Purging a dirty extent lowers
 * it; a chunk's purged pages do not (a conservative figure: the chunk stays
 * mapped). The page heap keeps it exactly: every change of a heap's
 * reserved bytes or clean free bytes goes through limit_commit.
 *
 * The hard limit: an allocation that needs fresh memory (a clean extent, a
 * new region, a huge block grown in place) beyond the limit first purges
 * the arena's own dirty extents and fails (NULL, ENOMEM at the api) if that
 * is not enough. Memory already committed is reused freely, so allocation
 * succeeds again as soon as frees bring the figure down (or their extents
 * are purged). The figure is shared and read without a lock, so two arenas
 * growing at once may pass it by one step each (a chunk, or one block).
 *
 * The soft threshold: while the figure is above it, and for
 * LIMIT_PRESSURE_MS after it was last found above, decay uses a delay of 0
 * (frees purge at once, and passes run at most 10 ms apart and purge
 * everything dirty): a program that crossed it and frees what it holds
 * returns all of it, not just what brings the figure under the threshold,
 * and one that stays under it for that long decays as usual again. The
 * process layer also asks thread caches to flush.
 *
 * Invariants: committed = the sum over heaps of (reserved - clean free).
 * Locking: the counters are atomics, changed under the owning arena's lock;
 * the limits are atomics, written by set-up and mallctl.
 */
#ifndef SABLE_ARENA_LIMIT_H
#define SABLE_ARENA_LIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena/arena.h"
#include "os/os.h"

/* The heap of arena a gained (delta > 0) or lost committed bytes. */
void limit_commit(arena_t *a, ptrdiff_t delta);
/* Committed bytes of every arena, and of arena a. */
size_t limit_committed(void);
size_t limit_committed_of(const arena_t *a);

/* The hard limit in bytes (0: none), and whether `more` fresh bytes fit
 * under it now. */
void limit_set_hard(size_t bytes);
size_t limit_hard(void);
bool limit_allows(size_t more);

/* The soft threshold (limit.c; 0: none), for the inline test below. */
extern _Atomic size_t limit_soft_threshold;
/* True if there is a soft threshold: one relaxed load, for slow paths that
 * look at every miss. */
static inline bool limit_soft_armed(void)
{
    return __atomic_load_n((size_t *)&limit_soft_threshold, __ATOMIC_RELAXED) != 0;
}

/* The soft threshold in bytes (0: none), whether the figure is above it,
 * and how many times it was found above (each decay pass or flush request
 * that it caused). */
void limit_set_soft(size_t bytes);
size_t limit_soft(void);
bool limit_over_soft(void);
uint64_t limit_soft_events(void);
void limit_count_soft_event(void);

/* True less than LIMIT_PRESSURE_MS after limit_over_soft last found the
 * figure above the threshold. */
#define LIMIT_PRESSURE_MS 1000u
bool limit_pressed(void);

/* True above the soft threshold or while pressed: every arena's decay time
 * is 0 then (arena_decay_ms), whatever its own. */
bool limit_decay_now(void);

#endif
