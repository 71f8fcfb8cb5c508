/* src/os/lock.h — the allocator's mutexes, with their order checked in
 * debug builds.
 *
 * Every lock has a rank; a thread may take a lock only if its rank is above
 * that of every lock it holds (locks of one rank are ordered by a second
 * key, e.g. arena index then class). This is the lock order of fork.c,
 * checked at every acquire when sable is built with -Ddebug_checks=true
 * (SABLE_DEBUG), as jemalloc's witness does: a violation aborts with one
 * line naming both locks, on the first run that takes them in the wrong
 * order, long before two threads ever deadlock on it. Release builds compile
 * lock_take/lock_drop to the bare pthread calls.
 *
 * Try-locks never wait, so they cannot deadlock: they skip the check, but
 * the lock is recorded as held so that what is taken under it is checked.
 *
 * Invariants: in a debug build, a thread's held locks are always in
 * increasing (rank, key) order, try-locks aside.
 * Locking: the witness's record is thread-local.
 */
#ifndef SABLE_OS_LOCK_H
#define SABLE_OS_LOCK_H

#include <pthread.h>
#include <stdbool.h>

/* Ranks, lowest taken first (the order of docs/design.md, "Locks"). */
typedef enum {
    LOCK_STDIO = 1, /* the C library's stdio list lock: taken by fork only
                     * (process/fork.c), first, and recorded here so that
                     * the witness checks fork's order against it */
    LOCK_INSPECT,   /* inspect/publish.c: the stats page's writer (try only) */
    LOCK_CTL,       /* ctl/mallctl.c: the control lock (recursive) */
    LOCK_CTL_STATS, /* ctl/stats.c: the snapshot */
    LOCK_INIT,      /* process/init.c: process set-up */
    LOCK_POOL,      /* process/threads.c: caches' pool and live list */
    LOCK_CREATE,    /* arena/arena.c: arenas.create (the arena table) */
    LOCK_ARENA,     /* arena/: an arena's bin locks by class, then its arena
                     * lock (and page heap); arenas by index (key: arena.h) */
    LOCK_PAGEMAP,   /* arena/pagemap.c: leaf creation */
    LOCK_META,      /* arena/meta.c: metadata bump pointer */
} lock_rank_t;

/* The witness names a lock by its address: a pthread mutex, or for a lock
 * sable does not own (the stdio list lock) any object standing for it. */
#ifdef SABLE_DEBUG
void lock_witness_take(const void *m, lock_rank_t rank, unsigned key, bool checked);
void lock_witness_drop(const void *m);
/* Aborts unless the calling thread holds m (asserts a locking rule). */
void lock_assert_held(const void *m);
#else
static inline void lock_witness_take(const void *m, lock_rank_t rank, unsigned key, bool checked)
{
    (void)m, (void)rank, (void)key, (void)checked;
}
static inline void lock_witness_drop(const void *m) { (void)m; }
static inline void lock_assert_held(const void *m) { (void)m; }
#endif

/* Takes m, of rank `rank` and, among locks of that rank, order `key`. */
static inline void lock_take(pthread_mutex_t *m, lock_rank_t rank, unsigned key)
{
    lock_witness_take(m, rank, key, true);
    pthread_mutex_lock(m);
}

/* Takes m if it is free; true if it did. */
static inline bool lock_try(pthread_mutex_t *m, lock_rank_t rank, unsigned key)
{
    if (pthread_mutex_trylock(m) != 0) return false;
    lock_witness_take(m, rank, key, false);
    return true;
}

static inline void lock_drop(pthread_mutex_t *m)
{
    lock_witness_drop(m);
    pthread_mutex_unlock(m);
}

#endif
