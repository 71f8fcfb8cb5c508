/* tests/inspect/torn.c — no torn reads: a reader checks a million
 * snapshots of the stats page while a writer updates it as fast as it can.
 *
 * The writer is the library's own (inspect_page_write), on a page mapped
 * from a file as a real one is; each update writes every word with values
 * that hold the page's invariants only all together (allocated, active
 * and mapped move in step, every class and arena word carries the update's
 * number, and the checksum covers them). The reader is sable-stat's
 * (stat_read), which must never return a snapshot that fails its checks,
 * nor one whose words come from two updates.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "inspect/inspect.h"
#include "stat_page.h"

#define READS 1000000

static sable_page_t *shared;
static atomic_int done;
static atomic_ulong writes;
static uint64_t seq; /* the writer's count (one writer at a time) */

static void fill(sable_page_t *p, uint64_t k)
{
    p->updates = k;
    p->totals.allocated = k;
    p->totals.active = 2 * k;
    p->totals.mapped = 3 * k;
    p->totals.rss = k;
    for (unsigned i = 0; i < p->narenas; i++) p->arenas[i].active = k + i;
    for (unsigned j = 0; j < p->nclasses; j++) p->classes[j].nmalloc = k ^ j;
    snprintf(p->options, sizeof p->options, "update:%llu", (unsigned long long)k);
    p->checksum = sable_page_checksum(p);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Back-to-back updates would starve any reader whose copy takes longer
 * than the writer's turn (a copy of lines the other core has just
 * written misses on every line): a sequence lock promises untorn copies,
 * not progress against a writer that never stops. So the writer rests a
 * random 0-40 us after each update, spinning, without a system call: about
 * as long as a copy, which makes most reads race an update and leaves
 * each one a window to finish. The real writer rests at least 10 ms. */
static void *writer(void *arg)
{
    sable_page_t *staging = arg;
    uint64_t x = 0x9e3779b97f4a7c15u;
    for (uint64_t k = 2; !atomic_load_explicit(&done, memory_order_relaxed); k++) {
        fill(staging, k);
        inspect_page_write(shared, staging, &seq);
        atomic_fetch_add_explicit(&writes, 1, memory_order_relaxed);
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        uint64_t until = now_ns() + x % 40000;
        while (now_ns() < until) __asm__ volatile("" ::: "memory");
    }
    return NULL;
}

int main(void)
{
    char path[] = "/tmp/sable-torn-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0 || ftruncate(fd, sizeof(sable_page_t)) != 0) return perror("page"), 1;
    unlink(path);
    shared = mmap(NULL, sizeof *shared, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (shared == MAP_FAILED) return perror("mmap"), 1;
    static sable_page_t staging, copy;
    staging.magic = SABLE_PAGE_MAGIC;
    staging.version = SABLE_PAGE_VERSION;
    staging.size = sizeof staging;
    staging.pid = 4242;
    staging.start_ticks = 77;
    staging.narenas = 2;
    staging.nclasses = 16;
    fill(&staging, 1);
    inspect_page_write(shared, &staging, &seq);
    stat_target_t t = {.pid = 4242, .start = 77};
    snprintf(t.page, sizeof t.page, "torn");
    stat_map_t m = {.page = shared, .fd = fd};

    pthread_t w;
    pthread_create(&w, NULL, writer, &staging);
    char err[STAT_ERR];
    uint64_t last = 0, seen = 0, retried = 0, failed_tries = 0;
    for (long i = 0; i < READS; i++) {
        unsigned tries;
        if (!stat_read(&t, &m, &copy, &tries, err)) {
            /* The one failure allowed: the writer never paused for 1000
             * tries (it is not a torn read); anything else is. */
            if (strstr(err, "no consistent copy") == NULL) {
                printf("FAIL: read %ld: %s\n", i, err);
                return 1;
            }
            failed_tries++;
            continue;
        }
        uint64_t k = copy.updates;
        bool ok = copy.totals.active == 2 * k && copy.totals.mapped == 3 * k && copy.totals.rss == k;
        for (unsigned a = 0; a < copy.narenas; a++) ok = ok && copy.arenas[a].active == k + a;
        for (unsigned j = 0; j < copy.nclasses; j++) ok = ok && copy.classes[j].nmalloc == (k ^ j);
        char want[32];
        snprintf(want, sizeof want, "update:%llu", (unsigned long long)k);
        ok = ok && strcmp(copy.options, want) == 0;
        if (!ok) {
            printf("FAIL: read %ld: a snapshot mixes updates (update %llu)\n", i, (unsigned long long)k);
            return 1;
        }
        if (k < last) {
            printf("FAIL: read %ld: update %llu after %llu\n", i, (unsigned long long)k,
                   (unsigned long long)last);
            return 1;
        }
        seen += k != last;
        last = k;
        retried += tries > 1;
    }
    atomic_store(&done, 1);
    pthread_join(w, NULL);
    unsigned long n = atomic_load(&writes);
    printf("%d reads, %lu writes, %llu distinct updates seen, %llu reads retried, %llu gave up\n",
           READS, n, (unsigned long long)seen, (unsigned long long)retried,
           (unsigned long long)failed_tries);
    /* The test means something only if the two overlapped. */
    if (n < 1000 || seen < 100 || retried == 0) {
        printf("FAIL: the writer and reader hardly overlapped\n");
        return 1;
    }
    if (failed_tries > READS / 100) {
        printf("FAIL: %llu reads found no consistent copy\n", (unsigned long long)failed_tries);
        return 1;
    }
    return 0;
}
