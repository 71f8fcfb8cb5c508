/* src/process/fork.c — fork handling: every lock of the allocator, taken
 * in one fixed order before fork and released after it in parent and child.
 *
 * The order, the one place it is written (each lock is taken only after
 * every lock above it, on every path of the allocator too):
 *   1. the hooks' locks, in registration order (the control layer's)
 *   2. the thread-cache pool lock (threads.c)
 *   3. for each arena by index: its bin locks by class, then its arena lock
 *      (which guards its page heap too)
 *   4. the page-map leaf lock
 *   5. the metadata lock
 * In the child, the caches of threads that did not survive the fork are
 * never used again: blocks they held are lost (a bounded leak, as in
 * jemalloc), blocks they had handed out free normally.
 *
 * Invariants: every lock of the allocator is in the list above, in the order
 * any path takes it.
 * Locking: hooks are registered under the pool lock.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "arena/arena.h"
#include "arena/meta.h"
#include "arena/pagemap.h"
#include "os/os.h"
#include "process/process.h"
#include "process/threads.h"

#define FORK_HOOKS 4
static struct {
    void (*prefork)(void), (*parent)(void), (*child)(void);
} fork_hooks[FORK_HOOKS];
static _Atomic unsigned nfork_hooks;

void process_fork_hook(void (*prefork)(void), void (*postfork_parent)(void),
                       void (*postfork_child)(void))
{
    threads_prefork();
    unsigned n = atomic_load_explicit(&nfork_hooks, memory_order_relaxed);
    if (n == FORK_HOOKS) sable_fatal("process_fork_hook: too many hooks");
    fork_hooks[n].prefork = prefork;
    fork_hooks[n].parent = postfork_parent;
    fork_hooks[n].child = postfork_child;
    atomic_store_explicit(&nfork_hooks, n + 1, memory_order_release);
    threads_postfork();
}

static void prefork(void)
{
    unsigned n = atomic_load_explicit(&nfork_hooks, memory_order_acquire);
    for (unsigned i = 0; i < n; i++) fork_hooks[i].prefork();
    threads_prefork();
    arena_prefork();
    pm_prefork();
    meta_prefork();
}

/* Parent and child alike: the forking thread took every lock, so it can
 * release them. */
static void postfork_locks(void)
{
    meta_postfork();
    pm_postfork();
    arena_postfork();
    threads_postfork();
}

static void postfork_parent(void)
{
    postfork_locks();
    for (unsigned i = atomic_load_explicit(&nfork_hooks, memory_order_acquire); i-- > 0;)
        fork_hooks[i].parent();
}

static void postfork_child(void)
{
    /* Still holding every lock: nothing else runs in the child yet. */
    arena_hugetlb_forked();
    postfork_locks();
    for (unsigned i = atomic_load_explicit(&nfork_hooks, memory_order_acquire); i-- > 0;)
        fork_hooks[i].child();
    process_background_forked();
}

void process_fork_register(void) { pthread_atfork(prefork, postfork_parent, postfork_child); }
