/* src/process/process.h — the process as the allocator sees it: one-time
 * set-up and glibc's mallopt tunings of it, fork, and the background purger.
 *
 * This layer sits above the thread caches and the arenas and coordinates
 * them; nothing below calls into it. The control layer (src/ctl), above it,
 * joins fork through process_fork_hook.
 *
 * Invariants: nothing below this layer calls into it.
 * Locking: init_lock serialises set-up (init.c). fork in a multi-threaded
 * process takes every lock of the allocator in the one order written in
 * fork.c; in a single-threaded one it waits for none (fork.c).
 */
#ifndef SABLE_PROCESS_H
#define SABLE_PROCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Process-wide set-up (idempotent, thread-safe): os facts, options, thread
 * cache capacities, arenas, the thread exit key, the fork handlers. False
 * if it failed (out of memory); a later call tries again. */
bool process_init(void);

/* glibc's mallopt parameters that act (src/ctl/glibc.c has the table).
 * process_arena_max(n), n >= 1: before the arenas exist, sets narenas to n
 * (capped at its maximum; over MALLOC_ARENA_MAX); after, threads set up from
 * then on are attached to the first n arenas only. False (nothing done) if
 * n is 0 or SABLE_CONF set narenas.
 * process_perturb(byte): before set-up is done, sets the perturb byte (0:
 * off); after, the fill modes are fixed (threads already run with or
 * without caches), so it is true only if `byte` is the one in force. False
 * too if SABLE_CONF set perturb to another byte. */
bool process_arena_max(unsigned n);
bool process_perturb(unsigned byte);

/* fork: layers above (ctl) hand their locks' handlers to the allocator's
 * own pthread_atfork handlers, so that every lock is taken in one fixed
 * order: the stdio list lock, hooks (in registration order), then the
 * allocator's (fork.c). A hook's prefork runs before the allocator's locks
 * are taken; its postfork functions after they are released. A hook's
 * locks may be held across user code (a stats print's callback), which may
 * wait for the stdio list lock, or, in a single-threaded process, by the
 * forking thread's own interrupted call: its prefork must not wait for
 * them, but take them only if they are free and return true, or else take
 * none and return false (fork then lets go of the list lock, waits and
 * tries again; single-threaded, it forks without that hook's locks and
 * those after it, and runs none of their postfork functions). At most 4
 * hooks. */
void process_fork_hook(bool (*prefork)(void), void (*postfork_parent)(void),
                       void (*postfork_child)(void));

/* Registers the fork handlers (init.c calls it once, outside init_lock:
 * pthread_atfork may allocate). */
void process_fork_register(void);

/* The background purger (background_thread:true): started lazily from a
 * slow path, never from a constructor; a forked child starts its own. */
void process_background_poll(void);
void process_background_forked(void);
/* background_thread at run time: whether the purger is wanted (at first
 * opt.background_thread), and switching it: on starts it now (false if the
 * thread cannot be started), off stops it and returns once it has stopped.
 * Callers serialise switches (the control lock). */
bool process_background_enabled(void);
bool process_background_set(bool on);
/* One periodic task of a layer above (the stats page, src/inspect), which
 * nothing below may call directly: fn runs after each background pass
 * (which come at least every interval_ms then), or, while no background
 * thread runs, from slow paths that read the clock (process_tick_slow,
 * from thread_poll: one slow path in THREADS_GC_TICKS). fn runs with no
 * lock of the allocator held, inside the calling thread's cache bracket,
 * and decides itself whether it is due. */
void process_tick_hook(void (*fn)(uint32_t now_ms), unsigned interval_ms);
void process_tick_slow(uint32_t now_ms);
/* Purger threads running (0 or 1), decay passes run, and the average time
 * between passes in nanoseconds (0 before the first). */
void process_background_stats(size_t *threads, uint64_t *runs, uint64_t *interval_ns);

#endif
