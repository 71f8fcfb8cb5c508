/* A program linked with libsable.a: the malloc family it calls, and the one
 * the C library calls internally, must be sable's and not glibc's.
 *  - each function's address lies in the executable itself, not in libc.so;
 *  - sable_malloc_usable_size accepts (does not abort on) a block from plain
 *    malloc, and from strdup inside libc, and agrees with malloc_usable_size;
 *  - blocks cross freely between the prefixed and unprefixed functions. */
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expect.h"
#include "sable.h"

/* The executable's load address, and the object each function comes from. */
static void expect_in_executable(void *fn, const char *name)
{
    Dl_info self, info;
    EXPECT(dladdr((void *)&expect_in_executable, &self) != 0, "dladdr(self)");
    EXPECT(dladdr(fn, &info) != 0, "dladdr(%s)", name);
    EXPECT(info.dli_fbase == self.dli_fbase, "%s comes from %s, not from the executable", name,
        info.dli_fname ? info.dli_fname : "?");
}

int main(void)
{
    expect_in_executable((void *)malloc, "malloc");
    expect_in_executable((void *)free, "free");
    expect_in_executable((void *)calloc, "calloc");
    expect_in_executable((void *)realloc, "realloc");
    expect_in_executable((void *)posix_memalign, "posix_memalign");
    expect_in_executable((void *)aligned_alloc, "aligned_alloc");
    expect_in_executable((void *)malloc_usable_size, "malloc_usable_size");

    /* the default lookup scope (what libc's own calls see) finds ours too */
    EXPECT(dlsym(RTLD_DEFAULT, "malloc") == (void *)malloc, "RTLD_DEFAULT malloc differs");
    EXPECT(dlsym(RTLD_DEFAULT, "free") == (void *)free, "RTLD_DEFAULT free differs");

    for (size_t size = 1; size <= 1 << 20; size = size * 3 + 1) {
        char *p = malloc(size);
        EXPECT(p != NULL, "malloc(%zu)", size);
        size_t mine = sable_malloc_usable_size(p), theirs = malloc_usable_size(p);
        EXPECT(mine >= size && mine == theirs, "size %zu: sable says %zu, malloc_usable_size %zu",
            size, mine, theirs);
        memset(p, 1, size);
        sable_free(p);
    }

    char *s = strdup("a string that libc allocates with malloc");
    EXPECT(s != NULL, "strdup");
    EXPECT(sable_malloc_usable_size(s) > strlen(s), "strdup block unknown to sable");
    sable_free(s);

    char *q = sable_malloc(1000);
    memset(q, 'q', 1000);
    q = realloc(q, 100000);
    EXPECT(q != NULL && q[999] == 'q', "realloc of a sable_malloc block");
    free(q);

    unsigned char *z = calloc(1000, 10);
    EXPECT(z != NULL, "calloc");
    for (size_t i = 0; z && i < 10000; i++)
        if (z[i]) {
            EXPECT(z[i] == 0, "calloc byte %zu not zero", i);
            break;
        }
    free(z);

    void *a = NULL;
    EXPECT(posix_memalign(&a, 4096, 100) == 0 && ((uintptr_t)a & 4095) == 0, "posix_memalign");
    EXPECT(sable_malloc_usable_size(a) >= 100, "posix_memalign block unknown to sable");
    free(a);

    errno = 0;
    volatile size_t huge = SIZE_MAX;
    EXPECT(malloc(huge) == NULL && errno == ENOMEM, "malloc(SIZE_MAX)");

    if (failures) {
        fprintf(stderr, "static_malloc: %d failures\n", failures);
        return 1;
    }
    printf("static_malloc: sable %s is the malloc of this program\n", sable_version());
    return 0;
}
