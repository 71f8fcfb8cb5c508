/* src/inspect/inspect.h — the view from outside: the stats page that
 * sable-stat reads, and the control socket it sends actions to
 * (stats_page:true; docs/inspection.md).
 *
 * This layer sits above the control layer and reads it (a snapshot of its
 * own, ctl_stats_take, so that mallctl's epochs are left alone). Nothing
 * below calls it: it hands its periodic task to the process layer
 * (process_tick_hook), which runs it after each background pass or, while
 * no background thread runs, on slow paths. It makes its own system calls
 * (a shared file mapping, a unix socket): no layer below has a use for
 * them.
 *
 * Invariants: at most one page and one socket per process, named by its
 * pid and start time; a forked child closes what it inherited and
 * publishes its own. Nothing is added to the fast paths.
 * Locking: page_lock (LOCK_INSPECT) serialises the writer; it is only ever
 * tried, never waited for, and fork takes it through the process layer's
 * fork hooks.
 */
#ifndef SABLE_INSPECT_INSPECT_H
#define SABLE_INSPECT_INSPECT_H

#include <stdbool.h>
#include <stdint.h>

#include "inspect/page.h"

/* With stats_page:true, publishes the page and opens the socket (once;
 * from the library's constructors), registers the periodic update, the
 * fork handlers and the removal at exit. */
void inspect_init(void);

/* Copies src into the shared page dst as one update of its sequence lock:
 * the words in use, with dst's seq odd (++*seq) while they are written and
 * even (++*seq) after. The count is the writer's own, never read back from
 * the shared page, which another process could write. The writer's half;
 * exposed for tests. */
void inspect_page_write(sable_page_t *dst, const sable_page_t *src, uint64_t *seq);

/* The control socket (control.c). control_open: a listening socket bound
 * at path (a stale socket of this user there is replaced), mode 0600;
 * -1 on failure, with errno set. control_serve: answers the requests
 * waiting on it, at most a few per call, each in at most
 * CONTROL_READ_MS; the number of actions carried out. */
#define CONTROL_READ_MS 50
int control_open(const char *path);
unsigned control_serve(int fd);

#endif
