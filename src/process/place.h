/* src/process/place.h — where threads and memory go: how many arenas there
 * are, which arena a thread takes and when it moves, which NUMA node an
 * arena's memory is bound to, and the memory limits taken from the cgroup.
 *
 * At set-up place_boot reads the topology (os/topo.h: nodes, the cgroup's
 * CPU quota and memory limit) once and decides:
 *   - the default arena count (narenas:0): one per CPU of the affinity
 *     mask, at most the cgroup's CPU quota rounded up; with percpu_arena,
 *     one per CPU (percpu) or per physical core (phycpu: half the CPUs,
 *     rounded up), whatever the quota, since the arenas follow CPU numbers;
 *   - each arena's node (numa:auto on a host of several nodes): with
 *     percpu_arena the node of its CPU, else arenas split into equal
 *     contiguous groups, node by node; a node's regions are bound to it
 *     (mbind, MPOL_PREFERRED);
 *   - the limits: memory_limit as the hard limit, and memory_soft_limit
 *     percent of the tighter of it and the cgroup's memory limit as the soft
 *     threshold (arena/limit.h).
 * A thread's arena (place_choose, at its set-up): with percpu_arena, its
 * CPU's; else with NUMA groups, the next of its node's arenas in turn;
 * else the next arena in turn. With either, the thread looks at its CPU
 * again on its slow paths (place_poll: every slow path when the CPU number
 * is one load from glibc's rseq area, else one in PLACE_POLL_EVERY), and
 * moves when the CPU's arena (percpu) or node (NUMA) is not its arena's:
 * its cache is flushed first, so that its local stacks hold only blocks of
 * its new arena. The CPU number is a hint: a thread that moves again at
 * once, or reads a stale number, only allocates from a farther arena.
 * Arenas from the first arena_count() at set-up only (the automatic ones);
 * a thread on any other arena (one set by a program) is never moved.
 *
 * Invariants: the decisions are made once (place_boot) and read-only
 * afterwards, except the per-node turn counters (atomics).
 * Locking: place_boot runs under the init lock; the rest takes none of its
 * own (a move takes the pool lock, threads.c).
 */
#ifndef SABLE_PROCESS_PLACE_H
#define SABLE_PROCESS_PLACE_H

#include <stdbool.h>
#include <stdint.h>

#include "os/topo.h"

struct tcache;

/* Without rseq, a thread reads its CPU (sched_getcpu) on one slow path in
 * this many. */
#define PLACE_POLL_EVERY 16

/* Reads the topology and limits (once: later calls return the first
 * answer) and returns the number of arenas to create. */
unsigned place_boot(void);
/* After arena_boot: each arena's node, and the memory limits. */
void place_arenas_ready(void);

/* For tests: place_boot's decisions for topology t (as os_topo_read gives
 * it) and `ncpus` CPUs, without reading files: returns the arena count. */
unsigned place_plan(const os_topo_t *t, unsigned ncpus);

/* The arena a thread running on `cpu` takes at set-up, the seq-th thread
 * set up, among the first `count` arenas. */
unsigned place_choose(unsigned cpu, unsigned seq, unsigned count);
/* The arena a thread on `cpu`, now on arena `cur`, should move to among
 * the first `count` arenas, or `cur` itself. */
unsigned place_want(unsigned cpu, unsigned cur, unsigned count);

/* A LIVE cache's slow path: moves the thread if it has migrated (above).
 * place_follows_cpu: percpu_arena or NUMA groups are in force (set by the
 * plan), tested inline so that other slow paths pay one load. */
extern bool place_follows_cpu;
void place_poll_slow(struct tcache *tc);
static inline void place_poll(struct tcache *tc)
{
    if (place_follows_cpu) place_poll_slow(tc);
}

/* Figures for mallctl: nodes, the node of arena i, the cgroup's CPU quota
 * and memory limit (0: none), whether arenas follow nodes, and the moves
 * made by place_poll. */
unsigned place_nnodes(void);
unsigned place_arena_node(unsigned i);
unsigned place_cgroup_cpus(void);
size_t place_cgroup_memory(void);
bool place_numa_active(void);
uint64_t place_moves(void);

/* Sets the limits as memory_limit and memory_soft_limit would (mallctl):
 * hard in bytes (0: none), soft in percent (0 - 100). */
void place_set_limits(size_t hard, unsigned soft_percent);
unsigned place_soft_percent(void);

#endif
