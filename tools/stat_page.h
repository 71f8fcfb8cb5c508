/* tools/stat_page.h — the reader's side of the stats page and the control
 * socket (src/inspect/page.h has the layout), shared by sable-stat and the
 * tests that check it.
 *
 * Every function that can fail writes one line saying why into err (no
 * trailing newline) and returns false.
 */
#ifndef SABLE_TOOLS_STAT_PAGE_H
#define SABLE_TOOLS_STAT_PAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "inspect/page.h"

#define STAT_ERR 512

typedef struct stat_target {
    int pid;
    uint64_t start;   /* the start time in the page's name */
    char page[512];   /* its path */
    char sock[512];   /* the control socket's path */
} stat_target_t;

/* The directories searched for pages, in order: /dev/shm, then
 * $XDG_RUNTIME_DIR if set. */
unsigned stat_dirs(const char *dirs[2]);

/* Calls fn for every page found (a name of the form
 * sable.<pid>.<start>.page), in directory order. The count. */
unsigned stat_list(void (*fn)(const stat_target_t *t, void *arg), void *arg);

/* The start time of process pid (field 22 of /proc/<pid>/stat); false if
 * there is no such process. */
bool stat_proc_start(int pid, uint64_t *start);

/* The page of process pid: the one whose start time is the process's.
 * Fails (saying why) when the process does not exist, publishes no page,
 * or only stale ones. */
bool stat_find(int pid, stat_target_t *t, char err[STAT_ERR]);

/* Why target t is stale (its process is gone, or its pid is another
 * process's now), or NULL if it is live. */
const char *stat_stale(const stat_target_t *t, char buf[STAT_ERR]);

/* Why target t's pid cannot be checked from here (its page says it was
 * published in another pid namespace: a container sharing /dev/shm), or
 * NULL. Such a page is neither live nor stale to this reader. */
const char *stat_foreign(const stat_target_t *t, char buf[STAT_ERR]);

/* A page mapped for reading. */
typedef struct stat_map {
    const sable_page_t *page;
    int fd;
} stat_map_t;

/* Opens and maps t's page after checking it: a regular file owned by the
 * process's user, exactly one page of this layout version long, with the
 * right magic. */
bool stat_open(const stat_target_t *t, stat_map_t *m, char err[STAT_ERR]);
void stat_close(stat_map_t *m);

/* Copies one consistent snapshot of the page into out (the sequence lock:
 * retried while an update is under way) and checks it: checksum,
 * allocated <= active <= mapped, counts within their arrays, the pid and
 * start time of t. *tries (if not NULL) gets the copies made. */
bool stat_read(const stat_target_t *t, const stat_map_t *m, sable_page_t *out, unsigned *tries,
               char err[STAT_ERR]);
/* The checks of stat_read on a copy, alone. */
bool stat_valid(const sable_page_t *p, char err[STAT_ERR]);

/* Sends one request line to t's control socket and reads the one-line
 * answer (without its newline) into reply, waiting at most timeout_ms. */
bool stat_request(const stat_target_t *t, const char *request, char *reply, size_t cap,
                  unsigned timeout_ms, char err[STAT_ERR]);

#endif
