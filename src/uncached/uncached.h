/* src/uncached/uncached.h — allocation without a thread cache.
 *
 * Serves threads that have no cache: those whose cache was torn down (frees
 * from late TLS destructors), and every thread when tcache:false or one of
 * the fill modes (secure, junk, zero_on_free, glibc's perturb byte) is on.
 * Each operation goes to the arena directly. Freeing a small block fills it
 * with arena_free_fill()'s byte (under the bin lock, once the arena has
 * checked the pointer again: a pointer checked without the lock may lie in
 * memory that is no longer a slab). With a kept fill (arena_kept_fill:
 * secure, junk, zero_on_free) every free small block holds that byte, and
 * handing the block out again checks that nothing wrote to it in between (a
 * write through a dangling pointer); then the block is filled with
 * arena_new_fill()'s byte, if any (junk, perturb). secure:true also picks
 * blocks at random positions of their slab.
 *
 * Invariants: a thread uses this path only while its cache is the dead one,
 * or for one call that bypasses its cache (uncached_alloc_in).
 * Locking: none of its own; per-thread state is thread-local.
 */
#ifndef SABLE_UNCACHED_H
#define SABLE_UNCACHED_H

#include <stdint.h>

#include "arena/arena.h"

/* Sets up the calling thread on arena `arena_index` (< arena_count());
 * `seq`, different for every thread, seeds the random block order. */
void uncached_thread_init(unsigned arena_index, unsigned seq);

/* The arena the calling thread uses without a cache, and moving it
 * (thread.arena) to arena `arena_index` (< arena_count()). */
arena_t *uncached_arena(void);
void uncached_set_arena(unsigned arena_index);

/* A block of cached class sc (NULL when out of memory), and its free. */
void *uncached_alloc(unsigned sc);
/* The same from arena a, for any thread: the extended API's MALLOCX_ARENA
 * and MALLOCX_TCACHE_NONE (src/api/extended.c), which bypass the cache. */
void *uncached_alloc_in(arena_t *a, unsigned sc);
void uncached_free(void *p, unsigned sc);

#endif
