/* src/process/fork.c — fork handling: every lock of the allocator, taken
 * in one fixed order before fork and released after it in parent and child.
 *
 * The order, the one place it is written (each lock is taken only after
 * every lock above it, on every path of the allocator too):
 *   0. the C library's stdio list lock (glibc's _IO_list_lock)
 *   1. the hooks' locks, in registration order (the control layer's),
 *      each taken only if it is free (process.h)
 *   2. the thread-cache pool lock (threads.c)
 *   3. for each arena by index: its bin locks by class, then its arena lock
 *      (which guards its page heap too)
 *   4. the page-map leaf lock
 *   5. the metadata lock
 *
 * Why the stdio list lock comes first (glibc bug 19431's cycle): glibc's
 * fork takes it itself, after every prepare handler has run, so after
 * sable's locks. A thread in fflush(NULL) holds it while it waits for a
 * stream's lock; the stream's holder (fopen's first write, a wide fprintf)
 * is in malloc, waiting for an arena lock that the forking thread holds
 * while it waits for the list lock: a cycle. glibc's own malloc takes its
 * locks after the list lock; sable takes the list lock before its own, so
 * no thread ever waits for it while holding one of sable's locks (sable
 * never calls stdio). The lock is recursive: glibc's fork takes it a second
 * time, releases that in the parent before sable's parent handler releases
 * the first, and resets it in the child before sable's child handler resets
 * it again. The references are weak: a static link that pulls in no stdio
 * has no list lock, and no stream can take part in a cycle. The one sable
 * lock held across user code, the control lock (a stats print's callback
 * may fopen, and so wait for the list lock), is only tried: when it is busy
 * fork lets go of the list lock, sleeps 1 ms and starts again.
 *
 * In a single-threaded process (glibc's __libc_single_threaded, the test
 * its fork makes to skip its own locks) fork waits for no lock: it takes
 * none of the allocator's, and the hooks' only if they are free. fork from
 * a signal handler then works whatever the interrupted malloc or free
 * holds. The
 * parent goes on; the child is a copy of the parent at the interrupt: it may
 * _exit or exec, or return from the handler, which finishes the interrupted
 * call; it may allocate in the handler exactly when the parent could (the
 * signal did not interrupt sable). In a multi-threaded process every lock is
 * taken, and fork from a handler that interrupted sable in the forking
 * thread deadlocks, as with glibc's malloc (docs/design.md, "fork").
 *
 * In the child, the caches of threads that did not survive the fork are
 * taken off the live list (threads_forked_child).
 *
 * Invariants: every lock of the allocator is in the list above, in the order
 * any path takes it; postfork releases exactly what prefork took
 * (fork_locked, fork_hooks_held).
 * Locking: hooks are registered under the pool lock; fork_locked and
 * fork_hooks_held are written by the forking thread, under the locks they
 * describe or with no other thread alive.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#if __has_include(<sys/single_threaded.h>)
#include <sys/single_threaded.h>
#define SINGLE_THREADED() (__libc_single_threaded != 0)
#else
#define SINGLE_THREADED() false /* glibc < 2.32: always take the locks */
#endif

#include "arena/arena.h"
#include "arena/meta.h"
#include "arena/pagemap.h"
#include "os/lock.h"
#include "os/os.h"
#include "process/process.h"
#include "process/threads.h"

/* glibc's stdio list lock (exported since 2.2.5, declared in no header). */
extern void _IO_list_lock(void) __attribute__((weak));
extern void _IO_list_unlock(void) __attribute__((weak));
extern void _IO_list_resetlock(void) __attribute__((weak));
static const char stdio_lock_id; /* names the list lock to the witness */

#define FORK_HOOKS 4
static struct {
    bool (*prefork)(void);
    void (*parent)(void), (*child)(void);
} fork_hooks[FORK_HOOKS];
static _Atomic unsigned nfork_hooks;
static bool fork_locked;          /* the fork in progress took every lock */
static unsigned fork_hooks_held;  /* and the locks of this many hooks */

void process_fork_hook(bool (*prefork)(void), void (*postfork_parent)(void),
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

static bool have_stdio(void) { return _IO_list_lock && _IO_list_unlock && _IO_list_resetlock; }

static void stdio_lock(void)
{
    if (!have_stdio()) return;
    lock_witness_take(&stdio_lock_id, LOCK_STDIO, 0, true);
    _IO_list_lock();
}

/* The parent releases its own hold (glibc's fork has already released the
 * second one); the child resets the lock, as glibc did. */
static void stdio_unlock(bool child)
{
    if (!have_stdio()) return;
    lock_witness_drop(&stdio_lock_id);
    if (child)
        _IO_list_resetlock();
    else
        _IO_list_unlock();
}

/* Takes the first hooks' locks that are free, in order: how many hooks it
 * took (all of them, or up to the first busy one). */
static unsigned hooks_try(unsigned n)
{
    unsigned i = 0;
    while (i < n && fork_hooks[i].prefork()) i++;
    return i;
}

static void hooks_release(unsigned held)
{
    while (held-- > 0) fork_hooks[held].parent();
}

static void prefork(void)
{
    unsigned n = atomic_load_explicit(&nfork_hooks, memory_order_acquire);
    if (SINGLE_THREADED()) {
        /* Nobody to wait for: a busy lock is this thread's own, held by the
         * call the signal interrupted. The hooks' locks are tried once (a
         * fork from a stats callback resets the control lock in the child,
         * as before); the allocator's are left alone. */
        fork_hooks_held = hooks_try(n);
        fork_locked = false;
        return;
    }
    for (;;) {
        stdio_lock();
        unsigned held = hooks_try(n);
        if (held == n) break;
        /* A hook's lock is busy, and its holder may be waiting for the
         * list lock (process.h): let go of everything, then try again. */
        hooks_release(held);
        stdio_unlock(false);
        os_sleep_ms(1);
    }
    threads_prefork();
    arena_prefork();
    pm_prefork();
    meta_prefork();
    fork_hooks_held = n;
    fork_locked = true;
}

/* Parent and child alike: the forking thread took every lock of its own,
 * so it can release them. */
static void postfork_locks(void)
{
    meta_postfork();
    pm_postfork();
    arena_postfork();
    threads_postfork();
}

static void postfork_parent(void)
{
    if (fork_locked) postfork_locks();
    hooks_release(fork_hooks_held);
    if (fork_locked) stdio_unlock(false);
}

static void postfork_child(void)
{
    /* Every lock still held, or no other thread ever ran: nothing else
     * runs in the child yet. */
    arena_hugetlb_forked();
    process_background_forked();
    if (fork_locked) {
        threads_forked_child();
        postfork_locks();
    }
    for (unsigned i = fork_hooks_held; i-- > 0;) fork_hooks[i].child();
    if (fork_locked) stdio_unlock(true);
}

void process_fork_register(void) { pthread_atfork(prefork, postfork_parent, postfork_child); }
