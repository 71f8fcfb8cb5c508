/* src/arena/run.h — the run allocator inside the arena layer (internal).
 *
 * Free runs sit on per-arena lists bucketed by floor(log2(units)); run_alloc
 * is first fit within a bucket (a bounded scan), else any run of a larger
 * bucket, else a new chunk. run_free merges a run with its free neighbours,
 * found through the map words of the units on either side. An arena keeps at
 * most one empty chunk (its "spare") and gives the others back to its page
 * heap.
 *
 * Invariants: a free run is on exactly one bucket list (the one for its
 * size), its first and last unit's map words name it, and its `dirty` counts
 * the units touched since they were last purged (0: the run reads as
 * zeroes); `aux` holds the time (ms) its oldest dirty part was freed;
 * `clean_shift` is as chunk.h says. The arena's runs_dirty is true whenever
 * a free run holds dirty units a full purge would return.
 *
 * Locking: every function here runs under the arena's lock.
 */
#ifndef SABLE_ARENA_RUN_H
#define SABLE_ARENA_RUN_H

#include "arena/arena.h"

/* arena.<i>.reset: every chunk of a goes back to its page heap, with its
 * slabs, large runs and free runs (arena lock held; the bins are the
 * caller's to empty). Large runs count as freed. */
void chunks_discard_all(arena_t *a);

/* Takes a run of `units` units whose address is a multiple of align_units
 * units, marks it `kind`/`sc` and maps it. NULL when no memory is left.
 * *zeroed: the run reads as zeroes (it had no dirty unit). */
run_t *run_alloc(arena_t *a, unsigned units, unsigned align_units, unsigned kind, unsigned sc,
                 bool *zeroed);
/* Returns run r to the free lists, merging with free neighbours. */
void run_free(arena_t *a, chunk_t *c, run_t *r);
/* Splits run r after its first n units; the tail becomes a free run (edges
 * mapped, on no list). */
run_t *run_split(chunk_t *c, run_t *r, unsigned n);
/* Free-run bucket lists. */
void runs_insert(arena_t *a, run_t *r);
void runs_remove(arena_t *a, run_t *r);

/* Purges free run r (purge.c) at the grain of a decay pass, or of a full
 * purge if `all`: true if it gave pages back. */
bool run_purge(arena_t *a, chunk_t *c, run_t *r, bool all);

#endif
