/* src/process/explicit.h — explicit thread caches: tcache.create,
 * tcache.flush, tcache.destroy, and the extended API's MALLOCX_TCACHE(id).
 *
 * An explicit cache is an ordinary cache (tcache.h) that no thread owns:
 * any thread may allocate and free through it by id, one at a time (the
 * program serialises its uses, as jemalloc requires). It belongs to the
 * arena of the thread that created it; its blocks of other arenas go to its
 * remote stacks, as in any cache. It is never collected (tcache_gc) nor
 * asked to flush by malloc_trim: only tcache.flush and tcache.destroy
 * empty it, and arena.<i>.reset and destroy, which flush every explicit
 * cache first.
 *
 * Ids are jemalloc's: 0 .. EXPLICIT_MAX - 1, passed to the extended API as
 * SABLE_MALLOCX_TCACHE(id) (the flags' cache field holds id + 2); a
 * destroyed id is given out again by a later tcache.create.
 *
 * Invariants: table[id] is a LIVE explicit cache or NULL.
 * Locking: create, flush and destroy run under the control lock (their
 * only callers are mallctl names), which fork takes first, so the table
 * never changes during a fork; explicit_get reads a slot with an acquire
 * load and takes no lock.
 */
#ifndef SABLE_PROCESS_EXPLICIT_H
#define SABLE_PROCESS_EXPLICIT_H

#include <stdbool.h>

#include "tcache/tcache.h"

#define EXPLICIT_MAX 4094u /* the flags' 12-bit field, less its two meanings */

/* 0, or EFAULT when EXPLICIT_MAX caches exist or no memory is left (as
 * jemalloc answers). */
int explicit_create(unsigned *id);
/* 0, or EFAULT for an id that names no cache. */
int explicit_flush(unsigned id);
int explicit_destroy(unsigned id);
/* The cache of id, or NULL. */
tcache_t *explicit_get(unsigned id);

#endif
