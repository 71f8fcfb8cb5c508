/* A C program built against an installed sable through pkg-config
 * (tests/package/common.sh), dynamically or statically:
 *   consumer shared LIBRARY   malloc & co. come from LIBRARY
 *   consumer static           ... from the executable (libsable.a)
 * Either way the blocks are sable's (sable_malloc_usable_size would abort on
 * one it did not hand out) and the header matches the library. */
#define _GNU_SOURCE 1 /* dladdr */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "origin.h"
#include <sable.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs("usage: consumer shared LIBRARY | consumer static\n", stderr);
        return 2;
    }
    const char *lib = argc > 2 ? argv[2] : NULL;
    int ok = origin_is((void *)malloc, "malloc", argv[1], lib) &&
             origin_is((void *)free, "free", argv[1], lib) &&
             origin_is((void *)sable_mallctl, "sable_mallctl", argv[1], lib);
    char *s = strdup("a block that the C library allocates with malloc");
    if (s == NULL || sable_malloc_usable_size(s) <= strlen(s)) ok = 0;
    free(s);
    if (strcmp(sable_version(), SABLE_VERSION_STRING) != 0) {
        fprintf(stderr, "library %s, header %s\n", sable_version(), SABLE_VERSION_STRING);
        ok = 0;
    }
    size_t allocated = 0, len = sizeof allocated;
    uint64_t epoch = 1;
    void *big = malloc(1 << 20);
    if (sable_mallctl("epoch", NULL, NULL, &epoch, sizeof epoch) != 0 ||
        sable_mallctl("stats.allocated", &allocated, &len, NULL, 0) != 0 || allocated < (1 << 20)) {
        fprintf(stderr, "stats.allocated %zu with a 1 MiB block held\n", allocated);
        ok = 0;
    }
    free(big);
    if (!ok) return 1;
    printf("consumer (C, %s): sable %s is malloc\n", argv[1], sable_version());
    return 0;
}
