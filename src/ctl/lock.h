/* src/ctl/lock.h — the control lock, and the statistics snapshot under it.
 *
 * Owns: the one lock that serialises every reader of the control layer
 * (sable_mallctl, stats printing, glibc's mallinfo family), and its place in
 * the allocator's fork protocol.
 *
 * Invariant: a snapshot returned by ctl_begin stays unchanged until the
 * matching ctl_end (refreshes happen only under this lock).
 *
 * Locking: recursive, so that a stats_print write callback may call
 * sable_mallctl. Taken before the snapshot lock (src/ctl/stats.c), which is
 * taken before any arena lock; both control locks are taken at fork ahead
 * of the allocator's own, after the stdio list lock, and only when they are
 * free (src/process/fork.c).
 */
#ifndef SABLE_CTL_LOCK_H
#define SABLE_CTL_LOCK_H

#include <stdbool.h>

#include "ctl/stats.h"

/* Takes the control lock and returns the snapshot, refreshed first if
 * `refresh`. NULL (and the lock released) if sable could not initialise. */
const ctl_stats_t *ctl_begin(bool refresh);
void ctl_end(void);

#endif
