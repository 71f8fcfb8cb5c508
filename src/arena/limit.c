/* src/arena/limit.c — the committed-bytes figure and the memory limits
 * (see limit.h).
 *
 * Invariants: see limit.h. Locking: atomics only; limit_commit runs under
 * the arena lock of the heap that changed, which orders each arena's own
 * updates.
 */
#include "arena/limit.h"

#include <stdatomic.h>

#include "options/options.h"
#include "os/os.h"

static _Atomic size_t committed;        /* every arena's */
static _Atomic size_t arena_committed[ARENA_MAX];
static _Atomic size_t hard;             /* bytes; 0: none */
_Atomic size_t limit_soft_threshold;    /* bytes; 0: none */
static _Atomic uint64_t soft_events;
static _Atomic uint32_t pressed_ms; /* when last found above (os_now_ms | 1), or 0 */

void limit_commit(arena_t *a, ptrdiff_t delta)
{
    atomic_fetch_add_explicit(&committed, (size_t)delta, memory_order_relaxed);
    atomic_fetch_add_explicit(&arena_committed[a->index], (size_t)delta, memory_order_relaxed);
}

size_t limit_committed(void) { return atomic_load_explicit(&committed, memory_order_relaxed); }

size_t limit_committed_of(const arena_t *a)
{
    return atomic_load_explicit(&arena_committed[a->index], memory_order_relaxed);
}

void limit_set_hard(size_t bytes) { atomic_store_explicit(&hard, bytes, memory_order_relaxed); }
size_t limit_hard(void) { return atomic_load_explicit(&hard, memory_order_relaxed); }

bool limit_allows(size_t more)
{
    size_t h = limit_hard();
    if (h == 0) return true;
    size_t c = limit_committed();
    return c <= h && more <= h - c;
}

void limit_set_soft(size_t bytes)
{
    atomic_store_explicit(&limit_soft_threshold, bytes, memory_order_relaxed);
}
size_t limit_soft(void) { return atomic_load_explicit(&limit_soft_threshold, memory_order_relaxed); }

bool limit_over_soft(void)
{
    size_t s = limit_soft();
    bool over = s != 0 && limit_committed() > s;
    if (over) atomic_store_explicit(&pressed_ms, os_now_ms() | 1, memory_order_relaxed);
    return over;
}

bool limit_pressed(void)
{
    uint32_t p = atomic_load_explicit(&pressed_ms, memory_order_relaxed);
    if (p == 0) return false;
    /* Signed: p may be 1 ms ahead of the clock (the | 1 that marks it set). */
    if ((int32_t)(os_now_ms() - p) < (int32_t)LIMIT_PRESSURE_MS) return true;
    /* Once expired, the clock is not read again until the next crossing. */
    atomic_compare_exchange_strong(&pressed_ms, &p, 0);
    return false;
}

uint64_t limit_soft_events(void) { return atomic_load_explicit(&soft_events, memory_order_relaxed); }
void limit_count_soft_event(void) { atomic_fetch_add_explicit(&soft_events, 1, memory_order_relaxed); }

bool limit_decay_now(void) { return limit_over_soft() || limit_pressed(); }
