/* src/process/reclaim.h — taking the cached blocks of idle threads.
 *
 * A thread cache shrinks at its own thread's slow paths (tcache_gc), so a
 * thread that frees its blocks and goes to sleep keeps them: a service with
 * a thousand mostly idle threads strands a cache's worth each. The
 * background thread takes them (reclaim.c has the handshake that makes
 * this safe without a lock or an atomic on the fast paths).
 *
 * Invariants: a cache is taken only while its owner is idle and in none of
 * its slow paths, and only from a thread that holds the pool lock
 * throughout; a taken cache is settled by its owner (or by whoever
 * retires it) before any of its stacks is used again.
 * Locking: the pool lock (threads.c), then bin and arena locks (the
 * flushes).
 */
#ifndef SABLE_PROCESS_RECLAIM_H
#define SABLE_PROCESS_RECLAIM_H

#include <stdbool.h>
#include <stdint.h>

#include "tcache/tcache.h"

/* A cache whose thread has done no allocation or free for this long is
 * taken (two collection intervals: a thread that merely pauses between
 * bursts is not). */
#define RECLAIM_IDLE_MS (2 * TCACHE_GC_MS)

/* One pass over the live caches, at most once per TCACHE_GC_MS: notes
 * which have been idle since the last look and takes their blocks. From
 * the background thread. */
void reclaim_idle_caches(void);

/* Whether this build and kernel can take caches at all (membarrier). */
bool reclaim_available(void);

/* stats.background_thread.reclaims / reclaimed_bytes: caches taken, and
 * the bytes of blocks given back from them. */
void reclaim_stats(uint64_t *caches, uint64_t *bytes);

#endif
