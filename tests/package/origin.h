/* Where a function of a program built against an installed sable comes
 * from (tests/package/consumer.c and consumer.cc): in a dynamic link, from
 * the libsable.so.0 the test installed; in a static link, from the
 * executable itself. */
#ifndef SABLE_TEST_ORIGIN_H
#define SABLE_TEST_ORIGIN_H

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* mode "shared": fn lies in the object at lib (compared after realpath);
 * "static": in the executable. Prints the reason and returns 0 if not. */
static inline int origin_is(void *fn, const char *what, const char *mode, const char *lib)
{
    Dl_info self, info;
    if (!dladdr((void *)&origin_is, &self) || !dladdr(fn, &info) || !info.dli_fname) {
        fprintf(stderr, "%s: dladdr found no object\n", what);
        return 0;
    }
    if (strcmp(mode, "static") == 0) {
        if (info.dli_fbase == self.dli_fbase) return 1;
        fprintf(stderr, "%s comes from %s, not from the executable\n", what, info.dli_fname);
        return 0;
    }
    char a[PATH_MAX], b[PATH_MAX];
    if (lib && realpath(info.dli_fname, a) && realpath(lib, b) && strcmp(a, b) == 0) return 1;
    fprintf(stderr, "%s comes from %s, not from %s\n", what, info.dli_fname, lib ? lib : "?");
    return 0;
}

#endif
