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
 * `refresh`. NULL (and the lock released) if sable could not initialise.
 * Between ctl_begin and ctl_end no cancellation point may be reached (a
 * thread cancelled there would leave the lock held): what writes output
 * uses a report instead. */
const ctl_stats_t *ctl_begin(bool refresh);
void ctl_end(void);

/* Registers both control locks' fork hooks if nobody has yet: what takes
 * the snapshot lock without ctl_begin (ctl_stats_take) calls this first. */
void ctl_fork_ready(void);

/* A report (malloc_stats, malloc_info, sable_malloc_stats_print): a fresh
 * snapshot copied, under the control lock, into pages of the report's own,
 * so that writing it out runs with no lock held. Whatever the output does
 * (block on a full pipe, be cancelled in write(2), call malloc or
 * sable_mallctl from a callback) leaves no lock held and stalls no other
 * thread's control calls or fork. If the copy cannot be mapped (out of
 * address space), the report keeps the control lock instead and disables
 * cancellation until ctl_report_end, which restores the caller's state. */
typedef struct ctl_report {
    const ctl_stats_t *s;
    void *copy; /* the copy's pages, or NULL */
    size_t bytes;
    bool locked; /* the fallback: the control lock is held */
    int cancel_state; /* the caller's, while locked */
} ctl_report_t;

/* The report's snapshot, or NULL if sable could not initialise (nothing is
 * held then, and ctl_report_end need not be called). */
const ctl_stats_t *ctl_report_begin(ctl_report_t *r);
/* Releases what the report holds. A void * so that it can be the
 * pthread_cleanup_push handler of an output that may be cancelled. */
void ctl_report_end(void *report);

#endif
