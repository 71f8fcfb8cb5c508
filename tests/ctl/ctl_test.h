/* Helpers shared by the ctl tests: typed reads of sable_mallctl names. */
#ifndef SABLE_TEST_CTL_H
#define SABLE_TEST_CTL_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "sable.h"

static inline size_t ctl_z(const char *name)
{
    size_t v = 0, len = sizeof v;
    int err = sable_mallctl(name, &v, &len, NULL, 0);
    cr_assert_eq(err, 0, "%s: error %d", name, err);
    return v;
}

static inline uint64_t ctl_q(const char *name)
{
    uint64_t v = 0;
    size_t len = sizeof v;
    int err = sable_mallctl(name, &v, &len, NULL, 0);
    cr_assert_eq(err, 0, "%s: error %d", name, err);
    return v;
}

static inline unsigned ctl_u(const char *name)
{
    unsigned v = 0;
    size_t len = sizeof v;
    int err = sable_mallctl(name, &v, &len, NULL, 0);
    cr_assert_eq(err, 0, "%s: error %d", name, err);
    return v;
}

static inline uint64_t ctl_epoch(void)
{
    uint64_t e = 1;
    size_t len = sizeof e;
    cr_assert_eq(sable_mallctl("epoch", &e, &len, &e, sizeof e), 0);
    return e;
}

/* The class-size formatted name, e.g. ctl_name(buf, "stats.bins.%u.curregs", j). */
#define ctl_name(buf, fmt, ...) (snprintf((buf), sizeof(buf), fmt, __VA_ARGS__), (buf))

#endif
