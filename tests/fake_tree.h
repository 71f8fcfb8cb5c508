/* Fake kernel trees for the topology and cgroup tests: a temporary
 * directory holding proc/self/cgroup, sys/fs/cgroup/... and
 * sys/devices/system/node/..., which sable reads instead of the real files
 * when its root is pointed there (os_topo_set_root, or SABLE_SYSROOT). The
 * test's own allocations use the C library (these helpers run before sable
 * is set up, or in tests linked without preload). */
#ifndef SABLE_TEST_FAKE_TREE_H
#define SABLE_TEST_FAKE_TREE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A new empty tree; its path is static storage. */
static inline const char *fake_tree_new(void)
{
    static char dir[64];
    strcpy(dir, "/tmp/sable-fake-tree-XXXXXX");
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        exit(1);
    }
    return dir;
}

/* Writes `content` to root/rel, creating the directories on the way. */
static inline void fake_tree_put(const char *root, const char *rel, const char *content)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    for (char *p = path + strlen(root) + 1; (p = strchr(p, '/')) != NULL; p++) {
        *p = '\0';
        mkdir(path, 0755);
        *p = '/';
    }
    FILE *f = fopen(path, "w");
    if (f == NULL || fputs(content, f) < 0 || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

/* A host of `nodes` NUMA nodes of `per` CPUs each, node k holding CPUs
 * [k * per, (k + 1) * per). */
static inline void fake_tree_numa(const char *root, unsigned nodes, unsigned per)
{
    char rel[128], list[64];
    snprintf(list, sizeof list, "0-%u\n", nodes - 1);
    fake_tree_put(root, "sys/devices/system/node/online", list);
    for (unsigned k = 0; k < nodes; k++) {
        snprintf(rel, sizeof rel, "sys/devices/system/node/node%u/cpulist", k);
        snprintf(list, sizeof list, "%u-%u\n", k * per, (k + 1) * per - 1);
        fake_tree_put(root, rel, list);
    }
}

/* The process in cgroup v2's /box/app, with cpu.max and memory.max at
 * /box (NULL: not written). */
static inline void fake_tree_cgroup2(const char *root, const char *cpu_max,
                                     const char *memory_max)
{
    fake_tree_put(root, "proc/self/cgroup", "0::/box/app\n");
    fake_tree_put(root, "sys/fs/cgroup/box/app/cgroup.procs", "");
    if (cpu_max) fake_tree_put(root, "sys/fs/cgroup/box/cpu.max", cpu_max);
    if (memory_max) fake_tree_put(root, "sys/fs/cgroup/box/memory.max", memory_max);
}

#endif
