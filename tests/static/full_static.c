/* A fully static program (-static) with libsable.a: glibc's malloc.o must not
 * be pulled from libc.a (that would fail the link with "multiple definition"),
 * so sable has to define every symbol libc's malloc.o would have provided to
 * the rest of libc. At run time, libc's internal allocations (strdup, stdio,
 * threads) go to sable. */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sable.h"

static void *thread_body(void *arg)
{
    char *p = malloc(1000);
    if (!p)
        return NULL;
    memset(p, 3, 1000);
    free(arg); /* a block from the main thread */
    return p;
}

int main(void)
{
    int failures = 0;
    char *s = strdup("static strdup");
    if (!s || sable_malloc_usable_size(s) <= strlen(s)) {
        fprintf(stderr, "strdup block unknown to sable\n");
        failures++;
    }
    free(s);

    void *p = malloc(100);
    if (sable_malloc_usable_size(p) != malloc_usable_size(p) || malloc_usable_size(p) < 100) {
        fprintf(stderr, "malloc_usable_size disagrees with sable\n");
        failures++;
    }
    pthread_t t;
    void *from_thread = NULL;
    if (pthread_create(&t, NULL, thread_body, p) != 0 || pthread_join(t, &from_thread) != 0 ||
        !from_thread) {
        fprintf(stderr, "thread allocation failed\n");
        failures++;
    }
    sable_free(from_thread);

    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    for (int i = 0; f && i < 10000; i++)
        fprintf(f, "%d\n", i);
    if (!f || fclose(f) != 0 || sable_malloc_usable_size(buf) <= len) {
        fprintf(stderr, "open_memstream buffer unknown to sable\n");
        failures++;
    }
    free(buf);

    void *a = NULL;
    if (posix_memalign(&a, 1 << 16, 1000) != 0 || ((uintptr_t)a & 0xffff) != 0) {
        fprintf(stderr, "posix_memalign\n");
        failures++;
    }
    free(a);
    a = realloc(calloc(10, 10), 1 << 20);
    free(a);

    if (failures)
        return 1;
    printf("full_static: ok\n");
    return 0;
}
