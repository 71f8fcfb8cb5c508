/* One forked child with its stderr captured, for the tests of this tier
 * that race threads inside the child (race_double_free.c, race_release.c):
 * the child must be forked, not re-executed, since it inherits the parent's
 * blocks and allocator. */
#ifndef SABLE_TEST_FORKED_H
#define SABLE_TEST_FORKED_H

#include <stddef.h>

/* Forks a child that turns core dumps off, sends its stderr into a pipe and
 * runs fn(arg), which must end the process (_exit, or a signal). The parent
 * reads that stderr into err (at most cap - 1 bytes, NUL-terminated; its
 * length in *err_len) until EOF and reaps the child (*status); one still
 * running after timeout_ms is killed with SIGKILL. Returns NULL, or what went
 * wrong (a hang among them). */
const char *forked_run(void (*fn)(void *), void *arg, int timeout_ms, char *err, size_t cap,
                       size_t *err_len, int *status);

/* CLOCK_MONOTONIC in milliseconds. */
long long forked_now_ms(void);

#endif
