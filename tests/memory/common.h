/* Helpers shared by the memory-return tests: RSS and VmSize from /proc, a two-thread
 * allocate-then-free-crosswise workload on the prefixed API. */
#ifndef SABLE_TEST_MEMORY_COMMON_H
#define SABLE_TEST_MEMORY_COMMON_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sable.h"

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);               \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

/* A "Name: N kB" line of /proc/self/status (`format` scans it), or -1. */
static inline long status_kib(const char *format)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, format, &kib) == 1) break;
    if (f) fclose(f);
    return kib;
}

static inline long rss_kib(void) { return status_kib("VmRSS: %ld kB"); }

/* The address space in use (VmSize), in KiB, or -1. */
static inline long vm_size_kib(void) { return status_kib("VmSize: %ld kB"); }

/* madvise calls made by all arenas so far (stats.arenas.<merged>.nmadvise). */
static inline uint64_t nmadvise(void)
{
    uint64_t epoch = 1, v = 0;
    size_t len = sizeof epoch;
    CHECK(sable_mallctl("epoch", &epoch, &len, &epoch, len) == 0, "epoch");
    unsigned narenas = 0;
    len = sizeof narenas;
    CHECK(sable_mallctl("arenas.narenas", &narenas, &len, NULL, 0) == 0, "arenas.narenas");
    char name[64];
    snprintf(name, sizeof name, "stats.arenas.%u.nmadvise", narenas);
    len = sizeof v;
    CHECK(sable_mallctl(name, &v, &len, NULL, 0) == 0, "%s", name);
    return v;
}

/* Sleeps past the trim interval (1 s, docs/memory.md): the next trim of an
 * arena purges everything again, however little there is. */
static inline void wait_trim_interval(void)
{
    struct timespec ts = {1, 100 * 1000 * 1000};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* A field of /proc/meminfo (HugePages_Total, HugePages_Free...), or -1. */
static inline long meminfo(const char *key)
{
    FILE *f = fopen("/proc/meminfo", "r");
    char line[256];
    long v = -1;
    size_t klen = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, key, klen) == 0 && line[klen] == ':') sscanf(line + klen + 1, "%ld", &v);
    if (f) fclose(f);
    return v;
}

/* Sets the number of reserved 2 MiB huge pages (root only): 0 or -1. */
static inline int set_nr_hugepages(long n)
{
    FILE *f = fopen("/proc/sys/vm/nr_hugepages", "w");
    if (f == NULL) return -1;
    int rc = fprintf(f, "%ld\n", n) > 0 ? 0 : -1;
    return fclose(f) == 0 ? rc : -1;
}

/* Reserves n more huge pages (root only), with the count before in
 * *before. False (the count restored) where that is not possible: the
 * caller skips. */
static inline bool reserve_hugepages(long n, long *before)
{
    *before = meminfo("HugePages_Total");
    if (*before >= 0 && set_nr_hugepages(*before + n) == 0 &&
        meminfo("HugePages_Total") >= *before + n)
        return true;
    if (*before >= 0) set_nr_hugepages(*before);
    printf("cannot reserve huge pages here: skipped\n");
    return false;
}

/* Two threads each allocate `bytes / 2` in blocks of 16..272 B (filled),
 * then each frees the other's blocks, except every KEEP_EVERY-th: those stay
 * live, so that every chunk keeps a slab and stays mapped, and only purging
 * (not unmapping empty chunks) can give the freed memory back. */
#define KEEP_EVERY 2048
typedef struct {
    void **blocks;
    size_t n;
    size_t bytes;
    unsigned seed;
} half_t;

static void *alloc_half(void *arg)
{
    half_t *h = arg;
    size_t total = 0, cap = h->bytes / 16 + 1;
    h->blocks = malloc(cap * sizeof(void *)); /* the test's bookkeeping: libc */
    unsigned s = h->seed;
    while (total < h->bytes && h->n < cap) {
        s = s * 1103515245u + 12345u;
        size_t sz = 16 + (s >> 16) % 257;
        void *p = sable_malloc(sz);
        if (p == NULL) break;
        memset(p, 0x5a, sz);
        h->blocks[h->n++] = p;
        total += sz;
    }
    return NULL;
}

static void *free_half(void *arg)
{
    half_t *h = arg;
    size_t kept = 0;
    for (size_t i = 0; i < h->n; i++) {
        if (i % KEEP_EVERY == 0)
            h->blocks[kept++] = h->blocks[i];
        else
            sable_free(h->blocks[i]);
    }
    h->n = kept;
    /* shrink the bookkeeping so that its pages do not count as sable's RSS */
    void **shrunk = realloc(h->blocks, (kept ? kept : 1) * sizeof(void *));
    if (shrunk) h->blocks = shrunk;
    return NULL;
}

/* Returns the kept blocks (call free_kept when done). */
static half_t kept_halves[2];

static inline void free_kept(void)
{
    for (int i = 0; i < 2; i++) {
        for (size_t k = 0; k < kept_halves[i].n; k++) sable_free(kept_halves[i].blocks[k]);
        free(kept_halves[i].blocks);
    }
}

static inline void alloc_and_free_crosswise(size_t bytes)
{
    half_t h[2] = {{.bytes = bytes / 2, .seed = 1}, {.bytes = bytes / 2, .seed = 2}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, alloc_half, &h[i]);
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    for (int i = 0; i < 2; i++) CHECK(h[i].n > 0, "allocation failed");
    /* thread i frees what thread 1-i allocated */
    for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, free_half, &h[1 - i]);
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    kept_halves[0] = h[0];
    kept_halves[1] = h[1];
}

#endif
