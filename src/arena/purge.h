/* src/arena/purge.h — decay and purging inside the arena layer (internal).
 *
 * The coarse clock is the time of the last decay pass; slab frees stamp
 * their slab with it instead of reading the clock per block.
 * Invariants: arena_coarse_ms is the time of the last pass, never later
 * than now: a slab stamped with it looks older than it is by at most one
 * pass interval, so its free pages may be purged up to a quarter of
 * dirty_decay_ms early, never late.
 */
#ifndef SABLE_ARENA_PURGE_H
#define SABLE_ARENA_PURGE_H

#include <stdatomic.h>
#include <stdint.h>

extern _Atomic uint32_t arena_coarse_ms;

static inline uint32_t arena_coarse_now_ms(void)
{
    return atomic_load_explicit(&arena_coarse_ms, memory_order_relaxed);
}

#endif
