/* src/ctl/lock.c — the control lock, its fork hooks, and reports (a
 * snapshot copied out from under the lock).
 *
 * Owns: ctl_mtx. Invariants: registered with the allocator's fork hooks
 * before anyone takes it (pthread_once), so the fork lock order is fixed
 * whoever initialises first; no cancellation point is reached while it is
 * held, except in a report's fallback, which disables cancellation.
 * Locking: see src/ctl/lock.h.
 */
#include "ctl/lock.h"

#include <pthread.h>
#include <string.h>

#include "os/lock.h"
#include "os/os.h"
#include "process/process.h"

static pthread_mutex_t ctl_mtx = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
static pthread_once_t ctl_fork_once = PTHREAD_ONCE_INIT;

/* Both control locks are taken before fork, ahead of the allocator's own
 * (they are held while stats are read from the arenas), and only if they
 * are free (process.h): the control lock is held across a stats print's
 * callback, which may wait for the stdio list lock that fork already holds;
 * in a single-threaded process a busy lock is held by the forking thread's
 * own interrupted call. Both or neither. */
static bool ctl_prefork(void)
{
    if (!lock_try(&ctl_mtx, LOCK_CTL, 0)) return false;
    if (ctl_stats_prefork()) return true;
    lock_drop(&ctl_mtx);
    return false;
}
static void ctl_postfork_parent(void)
{
    ctl_stats_postfork();
    lock_drop(&ctl_mtx);
}
static void ctl_postfork_child(void)
{
    ctl_stats_postfork();
    /* The child's thread is not the owner glibc recorded: start afresh. */
    static const pthread_mutex_t fresh = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
    lock_witness_drop(&ctl_mtx);
    memcpy(&ctl_mtx, &fresh, sizeof ctl_mtx);
}
static void ctl_fork_register(void)
{
    process_fork_hook(ctl_prefork, ctl_postfork_parent, ctl_postfork_child);
}

void ctl_fork_ready(void) { pthread_once(&ctl_fork_once, ctl_fork_register); }

const ctl_stats_t *ctl_begin(bool refresh)
{
    if (!process_init()) return NULL;
    /* Before the first lock is taken: pthread_once makes every other caller
     * wait until the hook is in place. */
    ctl_fork_ready();
    lock_take(&ctl_mtx, LOCK_CTL, 0);
    const ctl_stats_t *s = refresh ? ctl_stats_refresh() : ctl_stats_current();
    if (s == NULL) lock_drop(&ctl_mtx);
    return s;
}

void ctl_end(void) { lock_drop(&ctl_mtx); }

const ctl_stats_t *ctl_report_begin(ctl_report_t *r)
{
    r->copy = NULL;
    r->locked = false;
    const ctl_stats_t *s = ctl_begin(true);
    if ((r->s = s) == NULL) return NULL;
    r->bytes = os_page_round(ctl_stats_size(s));
    r->copy = os_map_aligned(r->bytes, os_page_size());
    if (r->copy != NULL) {
        r->s = ctl_stats_copy(s, r->copy);
        ctl_end();
        return r->s;
    }
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &r->cancel_state);
    r->locked = true;
    return s;
}

void ctl_report_end(void *report)
{
    ctl_report_t *r = report;
    if (r->copy != NULL) os_unmap(r->copy, r->bytes);
    r->copy = NULL;
    if (r->locked) {
        r->locked = false;
        ctl_end();
        pthread_setcancelstate(r->cancel_state, NULL);
    }
}
