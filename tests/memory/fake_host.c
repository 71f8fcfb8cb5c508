/* A container's limits and a NUMA host under a fake kernel tree (SABLE_SYSROOT: sable reads
 * it once at set-up, which a constructor may run before main, so the test
 * writes the tree and runs itself again with the variable set):
 *   cpu:     cpu.max of one CPU caps the default narenas;
 *   soft:    memory.max of 128 MiB with memory_soft_limit:90 (the default):
 *            120 MiB touched and freed come back at the next slow paths
 *            although dirty_decay_ms is a minute (SABLE_CONF of the test),
 *            and every flush request is counted;
 *   control: the same without the fake tree: the freed memory stays
 *            resident for the minute, which is what makes "soft" a test;
 *   numa:    4 nodes of 8 CPUs and narenas:8: this machine's CPUs are node
 *            0's, so every thread takes one of node 0's two arenas, and
 *            their regions are bound to node 0 (numa_maps says "prefer:0";
 *            node 0 exists here, so mbind succeeds). */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include "../ctl_values.h"
#include "../fake_tree.h"
#include "common.h"

#define MiB ((size_t)1 << 20)
#define BLOCK ((size_t)200 << 10)
#define NBLOCKS 600 /* 120 MiB: above 90 % of 128 MiB */


/* Slow paths without fresh memory: fills and flushes of small classes. */
static void churn(void)
{
    for (size_t sz = 16; sz <= 8192; sz += 16) {
        void *p[64];
        for (int i = 0; i < 64; i++) p[i] = sable_malloc(sz);
        for (int i = 0; i < 64; i++) sable_free(p[i]);
    }
}

static long churn_until_below(long base, long above_kib, double seconds)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long now;
    do {
        churn();
        now = rss_kib();
        clock_gettime(CLOCK_MONOTONIC, &t);
    } while (now - base >= above_kib &&
             (double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9 < seconds);
    return now;
}

/* Writes the tree for `mode` and runs this program again under it. */
static void run_under_tree(const char *mode, char **argv)
{
    if (getenv("SABLE_SYSROOT") != NULL || strcmp(mode, "control") == 0) return;
    const char *root = fake_tree_new();
    if (strcmp(mode, "cpu") == 0) {
        fake_tree_cgroup2(root, "100000 100000\n", NULL);
    } else if (strcmp(mode, "numa") == 0) {
        fake_tree_numa(root, 4, 8);
        setenv("SABLE_CONF", "narenas:8", 1);
    } else {
        fake_tree_cgroup2(root, NULL, "134217728\n");
    }
    setenv("SABLE_SYSROOT", root, 1);
    execv("/proc/self/exe", argv);
    perror("execv");
    exit(1);
}

static void *thread_main(void *arg)
{
    sable_free(sable_malloc(64));
    pthread_barrier_wait(arg);
    pthread_barrier_wait(arg);
    return NULL;
}

static unsigned node_value(unsigned k, const char *leaf)
{
    char name[64];
    snprintf(name, sizeof name, "topology.nodes.%u.%s", k, leaf);
    return ctl_unsigned(name);
}

/* The numa_maps line of the mapping that holds p carries "prefer:0". */
static bool bound_to_node0(const void *p)
{
    FILE *f = fopen("/proc/self/numa_maps", "r");
    char line[1024];
    bool found = false;
    while (f && fgets(line, sizeof line, f)) {
        unsigned long start = strtoul(line, NULL, 16);
        if (start <= (uintptr_t)p && (uintptr_t)p - start < ((size_t)1 << 30) &&
            strstr(line, "prefer:0"))
            found = true;
    }
    if (f) fclose(f);
    return found;
}

static int numa_mode(void)
{
    pthread_barrier_t bar;
    pthread_barrier_init(&bar, NULL, 4);
    pthread_t t[3];
    void *p = sable_malloc(MiB);
    CHECK(p != NULL, "malloc");
    for (int i = 0; i < 3; i++) pthread_create(&t[i], NULL, thread_main, &bar);
    pthread_barrier_wait(&bar);
    CHECK(ctl_unsigned("topology.nnodes") == 4, "four nodes");
    CHECK(ctl_bool("topology.numa"), "grouped by node");
    for (unsigned k = 0; k < 4; k++) CHECK(node_value(k, "narenas") == 2, "two arenas on node %u", k);
    unsigned here = sched_getcpu() < 8 ? 0 : (unsigned)sched_getcpu() / 8;
    CHECK(node_value(here, "nthreads") >= 4, "every thread on node %u's arenas", here);
    CHECK(ctl_unsigned("thread.arena") / 2 == here, "arena %u", ctl_unsigned("thread.arena"));
    uint64_t bind_errors = ctl_u64("stats.errors.bind");
    if (here == 0) {
        CHECK(bind_errors == 0, "node 0 exists: mbind succeeded");
        CHECK(bound_to_node0(p), "the region is bound to node 0");
    }
    pthread_barrier_wait(&bar);
    for (int i = 0; i < 3; i++) pthread_join(t[i], NULL);
    sable_free(p);
    printf("numa: 4 nodes, threads on node %u's arenas, bind errors %llu\n", here,
           (unsigned long long)bind_errors);
    return 0;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "soft";
    run_under_tree(mode, argv);
    if (strcmp(mode, "numa") == 0) return numa_mode();
    if (strcmp(mode, "cpu") == 0) {
        sable_free(sable_malloc(1));
        long ncpus = sysconf(_SC_NPROCESSORS_ONLN);
        CHECK(ctl_unsigned("limits.cgroup_cpus") == 1, "the quota is one CPU");
        CHECK(ctl_unsigned("arenas.narenas") == 1, "narenas %u with %ld CPUs",
              ctl_unsigned("arenas.narenas"), ncpus);
        printf("cgroup cpus 1, narenas 1 (%ld CPUs online)\n", ncpus);
        return 0;
    }
    bool control = strcmp(mode, "control") == 0;
    sable_free(sable_malloc(1));
    CHECK(ctl_size("limits.cgroup_memory") == (control ? 0 : 128 * MiB), "cgroup_memory");
    CHECK(ctl_size("limits.soft_bytes") == (control ? 0 : 128 * MiB * 90 / 100), "soft_bytes");
    long base = rss_kib();
    void **p = malloc(NBLOCKS * sizeof *p);
    for (int i = 0; i < NBLOCKS; i++) {
        p[i] = sable_malloc(BLOCK);
        CHECK(p[i] != NULL, "block %d", i);
        memset(p[i], 1, BLOCK);
    }
    long full = rss_kib();
    for (int i = 0; i < NBLOCKS; i++) sable_free(p[i]);
    free(p);
    long after_free = rss_kib();
    long now = churn_until_below(base, 16 * 1024, control ? 0.5 : 3);
    uint64_t events = ctl_u64("limits.soft_events");
    printf("%s: rss base %ld KiB, full %ld, after free %ld, after churn %ld; committed %zu KiB, "
           "soft events %llu\n",
           mode, base, full, after_free, now, ctl_size("limits.committed") >> 10,
           (unsigned long long)events);
    CHECK(full - base > 100 * 1024, "the blocks were resident");
    if (control) {
        CHECK(now - base > 64 * 1024, "without a limit the freed memory stays (decay is a minute)");
    } else {
        CHECK(now - base < 16 * 1024, "RSS stayed %ld KiB above the baseline", now - base);
        CHECK(ctl_size("limits.committed") < 128 * MiB * 90 / 100, "committed below the threshold");
        CHECK(events > 0, "the soft limit asked the caches to flush");
    }
    return 0;
}
