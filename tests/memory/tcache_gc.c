/* Thread-cache collection: blocks a thread's cache holds but the thread no
 * longer uses go back to the arena at the collections its own slow paths
 * run, while a class it keeps using keeps its cached blocks.
 *
 * The thread fills its 64 B stack with KEPT blocks (freed into the cache),
 * then for a few collection intervals churns other classes only: a 128 B
 * class in rounds that pop and push back the same USED blocks (its stack's
 * low-water mark is reached every interval), and a spread of classes whose
 * stacks fill and flush (slow paths). The 64 B class must fall to under an
 * eighth of what it held, the 128 B class must keep its USED blocks. Then
 * a thread idle for several intervals finds its unused blocks all but gone
 * after its first collection after the idle time. */
#include <time.h>

#include "common.h"
#include "sizeclass/sizeclass.h"
/* For TCACHE_GC_MS; the library's own builds set the TLS model. */
#ifndef SABLE_TLS_MODEL
#define SABLE_TLS_MODEL "initial-exec"
#endif
#include "tcache/tcache.h"

enum { KEPT = 200, USED = 100 };

static size_t cached_bytes(size_t block)
{
    uint64_t e = 1;
    size_t len = sizeof e;
    CHECK(sable_mallctl("epoch", NULL, NULL, &e, sizeof e) == 0, "epoch");
    char name[64];
    snprintf(name, sizeof name, "stats.bins.%u.cached_bytes", sc_of_small(block));
    size_t v = 0;
    len = sizeof v;
    CHECK(sable_mallctl(name, &v, &len, NULL, 0) == 0, "%s", name);
    return v;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* Stacks of several classes fill and flush: slow paths. */
static void churn(void)
{
    for (size_t sz = 256; sz <= 4096; sz += 256) {
        void *p[300];
        for (int i = 0; i < 300; i++) p[i] = sable_malloc(sz);
        for (int i = 0; i < 300; i++) sable_free(p[i]);
    }
}

static void fill_kept(void **kept)
{
    for (int i = 0; i < KEPT; i++) kept[i] = sable_malloc(64);
    for (int i = 0; i < KEPT; i++) sable_free(kept[i]);
}

int main(void)
{
    void *kept[KEPT], *used[USED];
    fill_kept(kept);
    size_t before = cached_bytes(64);
    CHECK(before >= (size_t)KEPT * 64, "the 64 B stack holds %zu bytes, not all %d blocks",
          before, KEPT);

    double end = now_s() + 6.0 * TCACHE_GC_MS / 1000;
    while (now_s() < end) {
        for (int i = 0; i < USED; i++) used[i] = sable_malloc(128);
        for (int i = 0; i < USED; i++) sable_free(used[i]);
        churn();
        struct timespec pause = {0, 5 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    size_t after = cached_bytes(64), used_after = cached_bytes(128);
    printf("64 B class cached: %zu bytes before, %zu after; 128 B class: %zu\n", before, after,
           used_after);
    CHECK(after < before / 8, "the unused class kept %zu of %zu bytes", after, before);
    CHECK(used_after >= (size_t)USED * 128, "the class in use kept only %zu bytes", used_after);

    /* The class filled again, then left alone for a collection or two
     * while the thread stays busy; then the thread is idle for several
     * intervals and busy again: the first collection stands for all of
     * them, and the unused class is all but empty (one collection alone
     * would leave a quarter). */
    fill_kept(kept);
    end = now_s() + 1.5 * TCACHE_GC_MS / 1000;
    while (now_s() < end) churn();
    before = cached_bytes(64);
    CHECK(before >= 16 * 64, "too little left to measure: %zu bytes", before);
    long idle_ms = 4 * TCACHE_GC_MS + 50;
    struct timespec idle = {idle_ms / 1000, idle_ms % 1000 * 1000 * 1000L};
    CHECK(nanosleep(&idle, NULL) == 0, "nanosleep");
    churn();
    after = cached_bytes(64);
    printf("after an idle time: %zu bytes before, %zu after\n", before, after);
    CHECK(after < before / 16, "the idle thread's unused class kept %zu of %zu bytes", after,
          before);
    return 0;
}
