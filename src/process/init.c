/* src/process/init.c — process-wide set-up, run on the first call into the
 * allocator (or from a constructor, whichever comes first).
 *
 * Nothing in here may allocate from the heap: a malloc from this thread
 * would re-enter and deadlock on init_lock. A failure (out of memory, an
 * RLIMIT_AS too small for the first mappings) leaves the state at "not yet",
 * so that a later call tries again once memory is available.
 *
 * Invariants: once init_done is set every layer is ready, and it is never
 * cleared.
 * Locking: init_lock around set-up; init_done is read lock-free.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "arena/arena.h"
#include "options/options.h"
#include "os/lock.h"
#include "os/os.h"
#include "process/process.h"
#include "process/threads.h"
#include "tcache/tcache.h"

static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic int init_done;
static bool booted; /* os, options and caps: once only, even if later steps fail */
static bool arenas_ready;
static _Atomic int atfork_done;

static bool init_locked(void)
{
    if (!booted) {
        /* false: an address width the page map cannot cover (one line was
         * printed); sable then refuses every allocation. */
        if (!os_init()) return false;
        opt_init();
        tcache_boot_caps();
        booted = true;
    }
    if (!arenas_ready) {
        unsigned n = opt_narenas ? opt_narenas : os_ncpus();
        if (!arena_boot(n)) return false;
        arenas_ready = true;
    }
    return threads_boot();
}

bool process_init(void)
{
    if (likely(atomic_load_explicit(&init_done, memory_order_acquire))) return true;
    lock_take(&init_lock, LOCK_INIT, 0);
    bool ok = atomic_load_explicit(&init_done, memory_order_relaxed) || init_locked();
    if (ok) atomic_store_explicit(&init_done, 1, memory_order_release);
    lock_drop(&init_lock);
    /* pthread_atfork may allocate: register outside the init lock, once
     * everything it could call into is ready. */
    if (ok && !atomic_exchange(&atfork_done, 1)) process_fork_register();
    return ok;
}
