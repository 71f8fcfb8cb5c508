/* Reading a mallctl value in the tests of the prefixed API: the value, or
 * exit with a line naming the name that could not be read. */
#ifndef SABLE_TEST_CTL_VALUES_H
#define SABLE_TEST_CTL_VALUES_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "sable.h"

static inline void ctl_read(const char *name, void *v, size_t len)
{
    size_t got = len;
    if (sable_mallctl(name, v, &got, NULL, 0) != 0 || got != len) {
        fprintf(stderr, "cannot read %s\n", name);
        exit(1);
    }
}

static inline unsigned ctl_unsigned(const char *name)
{
    unsigned v = 0;
    ctl_read(name, &v, sizeof v);
    return v;
}

static inline size_t ctl_size(const char *name)
{
    size_t v = 0;
    ctl_read(name, &v, sizeof v);
    return v;
}

static inline uint64_t ctl_u64(const char *name)
{
    uint64_t v = 0;
    ctl_read(name, &v, sizeof v);
    return v;
}

static inline bool ctl_bool(const char *name)
{
    bool v = false;
    ctl_read(name, &v, sizeof v);
    return v;
}

#endif
