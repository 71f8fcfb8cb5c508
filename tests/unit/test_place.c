/* Topology and placement under fake kernel trees: NUMA nodes and their
 * CPUs, cgroup v2 and v1 CPU quotas and memory limits, the arena count they
 * give, and which arena a thread takes (and moves to) on a host of 4 nodes
 * x 8 CPUs; the real files where this machine has them; the current CPU
 * under real sched_setaffinity moves. */
#include <criterion/criterion.h>
#include <sched.h>

#include "../fake_tree.h"
#include "options/options.h"
#include "os/topo.h"
#include "process/place.h"

static os_topo_t topo;

static void read_fake(const char *root)
{
    os_topo_set_root(root);
    os_topo_read(&topo);
    os_topo_set_root(NULL);
}

static void reset_options(void)
{
    opt_narenas = 0;
    opt_percpu_arena = PERCPU_OFF;
    opt_numa = NUMA_AUTO;
}

Test(topo, nodes_and_their_cpus_come_from_the_node_directory)
{
    const char *root = fake_tree_new();
    fake_tree_numa(root, 4, 8);
    read_fake(root);
    cr_assert_eq(topo.nnodes, 4);
    for (unsigned c = 0; c < 32; c++) cr_assert_eq(topo.cpu_node[c], c / 8, "cpu %u", c);
    cr_assert_eq(topo.cgroup_cpus, 0, "no cgroup files: no quota");
    cr_assert_eq(topo.cgroup_memory, 0);
}

Test(topo, a_tree_without_nodes_is_one_node)
{
    read_fake(fake_tree_new());
    cr_assert_eq(topo.nnodes, 1);
}

Test(topo, cgroup_v2_quota_is_rounded_up_and_the_tightest_level_counts)
{
    const char *root = fake_tree_new();
    fake_tree_cgroup2(root, "250000 100000\n", "max\n");
    read_fake(root);
    cr_assert_eq(topo.cgroup_cpus, 3, "2.5 CPUs of quota");
    cr_assert_eq(topo.cgroup_memory, 0, "memory.max \"max\" is no limit");
    fake_tree_put(root, "sys/fs/cgroup/box/app/cpu.max", "120000 100000\n");
    fake_tree_put(root, "sys/fs/cgroup/cpu.max", "max 100000\n");
    read_fake(root);
    cr_assert_eq(topo.cgroup_cpus, 2, "the process's own level is tighter");
}

Test(topo, cgroup_v2_memory_limit_is_the_smallest_of_max_and_high)
{
    const char *root = fake_tree_new();
    fake_tree_cgroup2(root, NULL, "1073741824\n");
    read_fake(root);
    cr_assert_eq(topo.cgroup_memory, (size_t)1 << 30);
    fake_tree_put(root, "sys/fs/cgroup/box/app/memory.high", "536870912\n");
    read_fake(root);
    cr_assert_eq(topo.cgroup_memory, (size_t)512 << 20);
}

Test(topo, cgroup_v1_quota_and_memory_limit)
{
    const char *root = fake_tree_new();
    fake_tree_put(root, "proc/self/cgroup",
                  "5:memory:/job\n4:cpu,cpuacct:/job\n0::/\n");
    fake_tree_put(root, "sys/fs/cgroup/cpu,cpuacct/job/cpu.cfs_quota_us", "400000\n");
    fake_tree_put(root, "sys/fs/cgroup/cpu,cpuacct/job/cpu.cfs_period_us", "100000\n");
    fake_tree_put(root, "sys/fs/cgroup/memory/job/memory.limit_in_bytes", "268435456\n");
    fake_tree_put(root, "sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712\n");
    read_fake(root);
    cr_assert_eq(topo.cgroup_cpus, 4);
    cr_assert_eq(topo.cgroup_memory, (size_t)256 << 20, "the root's huge value is no limit");
    fake_tree_put(root, "sys/fs/cgroup/cpu,cpuacct/job/cpu.cfs_quota_us", "-1\n");
    read_fake(root);
    cr_assert_eq(topo.cgroup_cpus, 0, "-1 is no quota");
}

Test(place, narenas_defaults_to_the_cpu_quota, .init = reset_options)
{
    const char *root = fake_tree_new();
    fake_tree_cgroup2(root, "150000 100000\n", NULL);
    read_fake(root);
    cr_assert_eq(place_plan(&topo, 64), 2, "64 CPUs, a quota of 1.5");
    cr_assert_eq(place_plan(&topo, 1), 1, "never more than the CPUs");
    opt_narenas = 5;
    cr_assert_eq(place_plan(&topo, 64), 5, "narenas given wins");
    opt_narenas = 0;
    opt_percpu_arena = PERCPU_PERCPU;
    cr_assert_eq(place_plan(&topo, 64), 64, "per-CPU arenas follow CPU numbers, not the quota");
}

Test(place, threads_take_their_nodes_arenas_on_4_nodes_of_8_cpus, .init = reset_options)
{
    const char *root = fake_tree_new();
    fake_tree_numa(root, 4, 8);
    read_fake(root);
    cr_assert_eq(place_plan(&topo, 32), 32);
    cr_assert(place_numa_active());
    cr_assert_eq(place_nnodes(), 4);
    for (unsigned i = 0; i < 32; i++) cr_assert_eq(place_arena_node(i), i / 8, "arena %u", i);
    bool seen[32] = {false};
    for (unsigned seq = 0; seq < 64; seq++) {
        unsigned cpu = (seq * 7) % 32, a = place_choose(cpu, seq, 32);
        cr_assert_eq(place_arena_node(a), cpu / 8, "cpu %u got arena %u", cpu, a);
        seen[a] = true;
    }
    for (unsigned i = 0; i < 32; i++) cr_assert(seen[i], "arena %u never chosen: no turns", i);
    /* A thread that migrated to another node moves to one of its arenas;
     * one that stayed on its node stays where it is. */
    cr_assert_eq(place_want(20, 20, 32), 20);
    cr_assert_eq(place_want(17, 20, 32), 20, "same node, another CPU: no move");
    cr_assert_eq(place_want(3, 20, 32) / 8, 0);
    cr_assert_eq(place_want(3, 40, 32), 40, "a thread on an arena set by hand stays");
    /* Fewer arenas than nodes: every node's threads still get an arena. */
    cr_assert_eq(place_plan(&topo, 2), 2);
    for (unsigned cpu = 0; cpu < 32; cpu++) cr_assert_lt(place_choose(cpu, cpu, 2), 2);
    /* numa:off: round-robin as on one node. */
    opt_numa = NUMA_OFF;
    place_plan(&topo, 32);
    cr_assert(!place_numa_active());
    cr_assert_eq(place_choose(20, 5, 32), 5);
    cr_assert_eq(place_want(3, 20, 32), 20);
}

Test(place, percpu_and_phycpu_arenas_follow_the_cpu, .init = reset_options)
{
    const char *root = fake_tree_new();
    fake_tree_numa(root, 4, 8);
    read_fake(root);
    opt_percpu_arena = PERCPU_PERCPU;
    cr_assert_eq(place_plan(&topo, 32), 32);
    for (unsigned cpu = 0; cpu < 32; cpu++) {
        cr_assert_eq(place_choose(cpu, 99, 32), cpu);
        cr_assert_eq(place_arena_node(cpu), cpu / 8, "a CPU's arena is on the CPU's node");
    }
    cr_assert_eq(place_want(9, 3, 32), 9, "migrated from CPU 3 to 9: moves");
    cr_assert_eq(place_choose(35, 0, 32), 3, "a CPU number beyond the arenas wraps");
    opt_percpu_arena = PERCPU_PHYCPU;
    cr_assert_eq(place_plan(&topo, 32), 16, "one arena per physical core");
    cr_assert_eq(place_choose(20, 0, 16), 4, "CPU 20 is CPU 4's hyperthread sibling");
    cr_assert_eq(place_choose(4, 0, 16), 4);
}

Test(topo, the_real_files_where_they_exist)
{
    os_topo_read(&topo);
    unsigned nodes = 0;
    char path[96];
    for (unsigned k = 0; k < OS_TOPO_NODES; k++) {
        snprintf(path, sizeof path, "/sys/devices/system/node/node%u", k);
        if (access(path, F_OK) == 0) nodes = k + 1;
    }
    cr_assert_eq(topo.nnodes, nodes ? nodes : 1);
    /* The v1 memory controller's limit of this process's cgroup, read
     * independently (v2-only hosts and unlimited groups read 0). */
    FILE *f = fopen("/proc/self/cgroup", "r");
    char line[512];
    size_t want = 0;
    bool v1 = false;
    while (f && fgets(line, sizeof line, f)) {
        char *p = strstr(line, ":memory:");
        if (p == NULL) continue;
        p[strcspn(p, "\n")] = '\0';
        snprintf(path, sizeof path, "/sys/fs/cgroup/memory%s/memory.limit_in_bytes", p + 8);
        FILE *g = fopen(path, "r");
        unsigned long long v;
        if (g && fscanf(g, "%llu", &v) == 1) {
            v1 = true;
            want = v >= (1ull << 62) ? 0 : (size_t)v;
        }
        if (g) fclose(g);
    }
    if (f) fclose(f);
    if (v1 && want != 0) cr_assert_leq(topo.cgroup_memory, want);
    if (v1 && want == 0) cr_assert_eq(topo.cgroup_memory, 0, "unlimited v1 group, no v2 limit");
}

/* glibc publishes its rseq registration: __rseq_size is 0 when the kernel
 * refused it (or emulators do not offer it), else the CPU is one load. */
extern const unsigned int __rseq_size __attribute__((weak));

Test(topo, the_current_cpu_is_read_from_rseq_where_glibc_registered_it)
{
    bool registered = &__rseq_size != NULL && __rseq_size > 0;
    cr_assert_eq(os_current_cpu_is_cheap(), registered);
}

Test(topo, the_current_cpu_follows_sched_setaffinity)
{
    cpu_set_t old, one;
    cr_assert_eq(sched_getaffinity(0, sizeof old, &old), 0);
    for (int c = 0; c < CPU_SETSIZE && c < 64; c++) {
        if (!CPU_ISSET(c, &old)) continue;
        CPU_ZERO(&one);
        CPU_SET(c, &one);
        cr_assert_eq(sched_setaffinity(0, sizeof one, &one), 0);
        sched_yield();
        cr_assert_eq(os_current_cpu(), (unsigned)c);
    }
    sched_setaffinity(0, sizeof old, &old);
}
