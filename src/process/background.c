/* src/process/background.c — the background purger (background_thread:true).
 *
 * One detached thread runs decay passes on every arena, so memory comes back
 * even when the program has gone idle. It is started lazily from a slow path
 * (never from a constructor: a library must not start threads while the
 * program is still being loaded) and again in a forked child, which inherits
 * none of the parent's threads.
 *
 * Invariants: at most one purger thread per process (again after fork).
 * Locking: none; bg_started is an atomic flag.
 */
#include <stdatomic.h>

#include "arena/arena.h"
#include "options/options.h"
#include "os/os.h"
#include "process/process.h"

static _Atomic int bg_started;

static void *bg_main(void *arg)
{
    (void)arg;
    for (;;) {
        unsigned ms = opt_dirty_decay_ms / 4;
        os_sleep_ms(ms < 10 ? 10 : ms > 1000 ? 1000 : ms);
        arena_decay_due();
    }
    return NULL;
}

void process_background_poll(void)
{
    if (!opt_background_thread || atomic_load_explicit(&bg_started, memory_order_relaxed)) return;
    if (atomic_exchange(&bg_started, 1)) return;
    /* pthread_create may call malloc: fine, no lock is held here. On failure
     * the flag stays set: the program runs on slow-path decay alone. */
    if (!os_thread_start(bg_main, NULL)) os_warn("background_thread: cannot start the thread");
}

void process_background_forked(void) { atomic_store_explicit(&bg_started, 0, memory_order_relaxed); }
