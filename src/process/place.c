/* src/process/place.c — arena counts, thread placement by CPU and NUMA
 * node, node binding and the memory limits from the cgroup (see place.h).
 *
 * Invariants: arena_node[i] is the node of arena i for i < nauto; with NUMA
 * groups (no percpu_arena) node k's arenas are [node_lo[k], node_hi[k]),
 * empty when k has none (more nodes than arenas: its threads take arenas
 * in turn, as without NUMA).
 * Locking: see place.h; the plan is written under the init lock before any
 * thread is set up, and read without a lock afterwards.
 */
#include "process/place.h"

#include <stdatomic.h>
#include <string.h>

#include "arena/limit.h"
#include "options/options.h"
#include "process/threads.h"
#include "tcache/tcache.h"

static os_topo_t topo;
static bool planned;
static unsigned nauto = 1; /* arenas created at set-up */
static unsigned ncpu = 1;  /* CPUs counted at set-up (phycpu halves them) */
static bool numa_active;
static uint8_t arena_node[ARENA_MAX];
static unsigned node_lo[OS_TOPO_NODES], node_hi[OS_TOPO_NODES];
static _Atomic unsigned node_turn[OS_TOPO_NODES];
static _Atomic uint64_t nmoves;
static __thread unsigned poll_skip __attribute__((tls_model(SABLE_TLS_MODEL)));

static unsigned node_of_cpu(unsigned cpu) { return cpu < OS_TOPO_CPUS ? topo.cpu_node[cpu] : 0; }

/* jemalloc's phycpu: the CPUs of the second half are the hyperthread
 * siblings of the first half's (Linux's numbering on x86). */
static unsigned cpu_arena(unsigned cpu, unsigned count)
{
    if (opt_percpu_arena == PERCPU_PHYCPU) {
        unsigned half = (ncpu + 1) / 2;
        cpu = cpu % (2 * half);
        if (cpu >= half) cpu -= half;
    }
    return cpu % count;
}

unsigned place_plan(const os_topo_t *t, unsigned ncpus)
{
    if (t != &topo) memcpy(&topo, t, sizeof topo);
    ncpu = ncpus ? ncpus : 1;
    unsigned n = opt_narenas;
    if (n == 0 && opt_percpu_arena == PERCPU_PERCPU) n = ncpu;
    else if (n == 0 && opt_percpu_arena == PERCPU_PHYCPU) n = (ncpu + 1) / 2;
    else if (n == 0) n = topo.cgroup_cpus && topo.cgroup_cpus < ncpu ? topo.cgroup_cpus : ncpu;
    n = n < 1 ? 1 : n > ARENA_MAX ? ARENA_MAX : n;
    nauto = n;
    numa_active = opt_numa == NUMA_AUTO && topo.nnodes > 1;
    place_follows_cpu = numa_active || opt_percpu_arena != PERCPU_OFF;
    for (unsigned k = 0; k < OS_TOPO_NODES; k++) node_lo[k] = node_hi[k] = 0;
    for (unsigned i = 0; i < n; i++) {
        unsigned node = 0;
        if (numa_active && opt_percpu_arena != PERCPU_OFF) node = node_of_cpu(i);
        else if (numa_active) node = (unsigned)((uint64_t)i * topo.nnodes / n);
        arena_node[i] = (uint8_t)node;
        if (node_hi[node] == 0) node_lo[node] = i;
        node_hi[node] = i + 1;
    }
    return n;
}

unsigned place_boot(void)
{
    if (!planned) {
        os_topo_read(&topo);
        place_plan(&topo, os_ncpus());
        planned = true;
    }
    return nauto;
}

static _Atomic unsigned soft_pct; /* memory_soft_limit in force */

unsigned place_soft_percent(void) { return atomic_load_explicit(&soft_pct, memory_order_relaxed); }

void place_set_limits(size_t hard, unsigned soft_percent)
{
    atomic_store_explicit(&soft_pct, soft_percent, memory_order_relaxed);
    size_t base = topo.cgroup_memory;
    if (hard && (base == 0 || hard < base)) base = hard;
    limit_set_hard(hard);
    limit_set_soft((size_t)((__uint128_t)base * (soft_percent > 100 ? 100 : soft_percent) / 100));
}

void place_arenas_ready(void)
{
    unsigned n = arena_count() < nauto ? arena_count() : nauto;
    for (unsigned i = 0; i < n; i++) arena_set_node(arena_get(i), arena_node[i], numa_active);
    place_set_limits(opt_memory_limit, opt_memory_soft_limit);
}

/* The next of node's arenas below count, or count when it has none. */
static unsigned node_arena(unsigned node, unsigned count)
{
    unsigned lo = node_lo[node], hi = node_hi[node] < count ? node_hi[node] : count;
    if (lo >= hi) return count;
    return lo + atomic_fetch_add_explicit(&node_turn[node], 1, memory_order_relaxed) % (hi - lo);
}

unsigned place_choose(unsigned cpu, unsigned seq, unsigned count)
{
    if (opt_percpu_arena != PERCPU_OFF) return cpu_arena(cpu, count);
    if (numa_active) {
        unsigned a = node_arena(node_of_cpu(cpu), count);
        if (a < count) return a;
    }
    return seq % count;
}

unsigned place_want(unsigned cpu, unsigned cur, unsigned count)
{
    if (cur >= nauto || cur >= count) return cur; /* not an automatic arena: stays */
    if (opt_percpu_arena != PERCPU_OFF) return cpu_arena(cpu, count);
    if (!numa_active) return cur;
    unsigned node = node_of_cpu(cpu);
    if (arena_node[cur] == node) return cur;
    unsigned a = node_arena(node, count);
    return a < count ? a : cur;
}

bool place_follows_cpu;

void place_poll_slow(tcache_t *tc)
{
    if (!os_current_cpu_is_cheap() && ++poll_skip % PLACE_POLL_EVERY != 0) return;
    unsigned count = threads_auto_count();
    unsigned cur = tc->arena->index, want = place_want(os_current_cpu(), cur, count);
    if (want == cur) return;
    thread_move(tc, arena_get(want));
    atomic_fetch_add_explicit(&nmoves, 1, memory_order_relaxed);
}

unsigned place_nnodes(void) { return topo.nnodes ? topo.nnodes : 1; }
unsigned place_arena_node(unsigned i) { return i < nauto ? arena_node[i] : 0; }
unsigned place_cgroup_cpus(void) { return topo.cgroup_cpus; }
size_t place_cgroup_memory(void) { return topo.cgroup_memory; }
bool place_numa_active(void) { return numa_active; }
uint64_t place_moves(void) { return atomic_load_explicit(&nmoves, memory_order_relaxed); }
