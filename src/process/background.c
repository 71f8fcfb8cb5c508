/* src/process/background.c — the background purger (background_thread).
 *
 * One detached thread runs decay passes on every arena, so memory comes back
 * even when the program has gone idle, and takes the blocks idle threads'
 * caches hold (reclaim.c). It is started lazily from a slow path
 * (never from a constructor: a library must not start threads while the
 * program is still being loaded) and again in a forked child, which inherits
 * none of the parent's threads. opt.background_thread is the start-up
 * value, and background_thread_auto starts it in a process that reaches
 * that many thread caches; the control layer switches it at run time
 * (background_thread), after which it never starts on its own:
 * switching on starts the thread at once, switching off stops it and waits
 * until it has stopped, as jemalloc does. A layer above may hand it one
 * periodic task (process_tick_hook: the stats page), which runs after each
 * pass, or on slow paths while no background thread runs.
 *
 * Invariants: at most one purger thread per process (again after fork):
 * bg_running is 1 from the start of a thread until it has finished its
 * last pass, and a new one is started only once it is 0.
 * Locking: none; the flags are atomics. process_background_set is called
 * under the control lock, which serialises switches; the purger takes no
 * lock of the control layer, so waiting for it cannot deadlock.
 */
#include <stdatomic.h>

#include "arena/arena.h"
#include "options/options.h"
#include "os/os.h"
#include "process/process.h"
#include "process/reclaim.h"
#include "process/threads.h"

static _Atomic int bg_wanted = -1; /* -1: opt.background_thread not read yet */
static _Atomic int bg_switched;    /* switched at run time: no automatic start any more */
static _Atomic int bg_auto;        /* wanted because of background_thread_auto */
static _Atomic int bg_started, bg_running;
static _Atomic uint64_t bg_runs, bg_run_ns, bg_last_ns;
static void (*_Atomic tick_fn)(uint32_t now_ms); /* process_tick_hook's */
static _Atomic unsigned tick_ms;

void process_tick_hook(void (*fn)(uint32_t now_ms), unsigned interval_ms)
{
    atomic_store_explicit(&tick_ms, interval_ms, memory_order_relaxed);
    atomic_store_explicit(&tick_fn, fn, memory_order_release);
}

static void tick(void)
{
    void (*fn)(uint32_t) = atomic_load_explicit(&tick_fn, memory_order_acquire);
    if (fn) fn(os_now_ms());
}

void process_tick_slow(uint32_t now_ms)
{
    void (*fn)(uint32_t) = atomic_load_explicit(&tick_fn, memory_order_acquire);
    if (fn && !atomic_load_explicit(&bg_running, memory_order_relaxed)) fn(now_ms);
}

/* Sleeps ms in steps of at most 10 ms; false as soon as the purger is
 * switched off. */
static bool bg_sleep(unsigned ms)
{
    for (unsigned slept = 0; slept < ms; slept += 10) {
        if (atomic_load_explicit(&bg_wanted, memory_order_relaxed) != 1) return false;
        os_sleep_ms(ms - slept < 10 ? ms - slept : 10);
    }
    return atomic_load_explicit(&bg_wanted, memory_order_relaxed) == 1;
}

static void *bg_main(void *arg)
{
    (void)arg;
    for (;;) {
        unsigned ms = arena_decay_min_ms() / 4, hook_ms = atomic_load_explicit(&tick_ms, memory_order_relaxed);
        if (hook_ms && hook_ms < ms) ms = hook_ms;
        if (!bg_sleep(ms < 10 ? 10 : ms > 1000 ? 1000 : ms)) break;
        arena_decay_due();
        reclaim_idle_caches();
        tick();
        uint64_t now = os_now_ns(), last = atomic_exchange(&bg_last_ns, now);
        atomic_fetch_add_explicit(&bg_run_ns, now - last, memory_order_relaxed);
        atomic_fetch_add_explicit(&bg_runs, 1, memory_order_relaxed);
    }
    atomic_store_explicit(&bg_started, 0, memory_order_relaxed);
    atomic_store_explicit(&bg_running, 0, memory_order_release);
    return NULL;
}

static bool bg_wanted_now(void)
{
    int w = atomic_load_explicit(&bg_wanted, memory_order_relaxed);
    if (w < 0) {
        int expect = -1;
        atomic_compare_exchange_strong(&bg_wanted, &expect, opt_background_thread ? 1 : 0);
        w = atomic_load_explicit(&bg_wanted, memory_order_relaxed);
    }
    return w == 1;
}

/* Starts the purger unless it runs (or a stopping one has not finished). */
static bool bg_start(void)
{
    if (atomic_load_explicit(&bg_started, memory_order_relaxed)) return true;
    if (atomic_exchange(&bg_started, 1)) return true;
    if (atomic_load_explicit(&bg_running, memory_order_acquire)) {
        atomic_store_explicit(&bg_started, 0, memory_order_relaxed);
        return true; /* a purger still stopping: the next poll starts one */
    }
    atomic_store_explicit(&bg_running, 1, memory_order_relaxed);
    atomic_store_explicit(&bg_last_ns, os_now_ns(), memory_order_relaxed);
    /* pthread_create may call malloc: fine, no allocator lock is held here.
     * On failure the flag stays set: the program runs on slow-path decay
     * alone. */
    if (os_thread_start(bg_main, NULL)) return true;
    atomic_store_explicit(&bg_running, 0, memory_order_relaxed);
    os_warn("background_thread: cannot start the thread");
    return false;
}

/* background_thread_auto: a process with that many threads gains from one
 * more, which takes what idle threads' caches strand (reclaim.c); one with
 * fewer never gets a thread it did not ask for (a single-threaded program
 * may rely on being one: unshare(CLONE_NEWUSER), for one). */
static bool bg_auto_due(void)
{
    unsigned n = opt_background_thread_auto;
    if (n == 0 || threads_live_count() < n || atomic_load_explicit(&bg_switched, memory_order_relaxed))
        return false;
    int expect = 0;
    if (!atomic_compare_exchange_strong(&bg_wanted, &expect, 1)) return false;
    atomic_store_explicit(&bg_auto, 1, memory_order_relaxed);
    return true;
}

void process_background_poll(void)
{
    if (atomic_load_explicit(&bg_started, memory_order_relaxed)) return;
    if (!bg_wanted_now() && !bg_auto_due()) return;
    bg_start();
}

bool process_background_enabled(void) { return bg_wanted_now(); }

bool process_background_set(bool on)
{
    bg_wanted_now();
    atomic_store_explicit(&bg_switched, 1, memory_order_relaxed);
    atomic_store_explicit(&bg_auto, 0, memory_order_relaxed);
    atomic_store_explicit(&bg_wanted, on ? 1 : 0, memory_order_relaxed);
    if (on) return bg_start();
    while (atomic_load_explicit(&bg_running, memory_order_acquire)) os_sleep_ms(1);
    return true;
}

void process_background_stats(size_t *threads, uint64_t *runs, uint64_t *interval_ns)
{
    uint64_t n = atomic_load_explicit(&bg_runs, memory_order_relaxed);
    *threads = atomic_load_explicit(&bg_running, memory_order_relaxed) ? 1 : 0;
    *runs = n;
    *interval_ns = n ? atomic_load_explicit(&bg_run_ns, memory_order_relaxed) / n : 0;
}

void process_background_forked(void)
{
    /* A child of a process with many threads has one: it starts the
     * thread on its own only once it has that many itself. */
    if (atomic_exchange(&bg_auto, 0)) atomic_store_explicit(&bg_wanted, 0, memory_order_relaxed);
    atomic_store_explicit(&bg_started, 0, memory_order_relaxed);
    atomic_store_explicit(&bg_running, 0, memory_order_relaxed);
}
