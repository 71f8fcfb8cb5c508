/* src/process/init.c — process-wide set-up, run on the first call into the
 * allocator (or from a constructor, whichever comes first), and the glibc
 * tunings that act on it (mallopt's M_ARENA_MAX and M_PERTURB).
 *
 * Nothing in here may allocate from the heap: a malloc from this thread
 * would re-enter and deadlock on init_lock. What runs under the lock reads
 * files with open/read, the environment straight from environ, the CPU
 * count with sched_getaffinity into a stack or mmap'd mask, and maps
 * metadata; sysconf is asked for the page size only (which allocates in no
 * glibc); pthread_key_create allocates nothing for the first keys. A
 * failure (out of memory, an RLIMIT_AS too small for the first mappings)
 * leaves the state at "not yet", and each step that succeeded stays done,
 * so a later call tries again from where it stopped once memory is
 * available.
 *
 * Invariants: once init_done is set every layer is ready, and it is never
 * cleared; the options are final once the arenas exist (narenas) or set-up
 * is done (perturb).
 * Locking: init_lock around set-up and the tunings, held with cancellation
 * disabled (set-up may write a warning, and write is a cancellation point:
 * a thread cancelled there would leave the lock held for ever); init_done
 * is read lock-free.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "arena/arena.h"
#include "options/options.h"
#include "os/lock.h"
#include "os/os.h"
#include "process/place.h"
#include "process/process.h"
#include "process/threads.h"
#include "sizeclass/sizeclass.h"
#include "tcache/tcache.h"

/* opt.tcache_max (a leaf's constant) is the size classes' cache limit. */
_Static_assert(OPT_TCACHE_MAX == SC_CACHED_MAX, "opt.tcache_max is SC_CACHED_MAX");

static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic int init_done;
static bool booted; /* os, options and caps: once only, even if later steps fail */
static bool arenas_ready;
static _Atomic int atfork_done;

static int init_lock_take(void)
{
    int cancel;
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel);
    lock_take(&init_lock, LOCK_INIT, 0);
    return cancel;
}

static void init_lock_drop(int cancel)
{
    lock_drop(&init_lock);
    pthread_setcancelstate(cancel, NULL);
}

/* The first step: the machine's facts and the options. False only for an
 * address width the page map cannot cover (one line was printed); sable
 * then refuses every allocation. */
static bool boot_locked(void)
{
    if (!booted) {
        if (!os_init()) return false;
        opt_init();
        tcache_boot_caps(opt_tcache_max_bytes);
        booted = true;
    }
    return true;
}

static bool init_locked(void)
{
    if (!boot_locked()) return false;
    if (!arenas_ready) {
        if (!arena_boot(place_boot())) return false;
        place_arenas_ready();
        arenas_ready = true;
    }
    return threads_boot();
}

bool process_init(void)
{
    if (likely(atomic_load_explicit(&init_done, memory_order_acquire))) return true;
    int cancel = init_lock_take();
    bool ok = atomic_load_explicit(&init_done, memory_order_relaxed) || init_locked();
    if (ok) atomic_store_explicit(&init_done, 1, memory_order_release);
    init_lock_drop(cancel);
    /* pthread_atfork may allocate: register outside the init lock, once
     * everything it could call into is ready. */
    if (ok && !atomic_exchange(&atfork_done, 1)) process_fork_register();
    return ok;
}

bool process_arena_max(unsigned n)
{
    int cancel = init_lock_take();
    /* Booting first reads SABLE_CONF, which wins. */
    bool ok = n > 0 && boot_locked() && !opt_from_conf(&opt_narenas);
    if (ok && !arenas_ready)
        opt_set_unless_conf(&opt_narenas, n);
    else if (ok)
        threads_arena_limit(n);
    init_lock_drop(cancel);
    return ok;
}

bool process_perturb(unsigned byte)
{
    int cancel = init_lock_take();
    bool ok = boot_locked();
    if (ok && !atomic_load_explicit(&init_done, memory_order_relaxed))
        ok = opt_perturb == byte || opt_set_unless_conf(&opt_perturb, byte);
    else
        ok = ok && opt_perturb == byte;
    init_lock_drop(cancel);
    return ok;
}
