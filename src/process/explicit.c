/* src/process/explicit.c — explicit thread caches (see explicit.h).
 * Invariants and locking: see explicit.h. */
#include "process/explicit.h"

#include <errno.h>
#include <stdatomic.h>

#include "process/threads.h"

static _Atomic(tcache_t *) table[EXPLICIT_MAX];

int explicit_create(unsigned *id)
{
    arena_t *a = thread_arena();
    if (a == NULL) return EFAULT;
    for (unsigned i = 0; i < EXPLICIT_MAX; i++) {
        if (atomic_load_explicit(&table[i], memory_order_relaxed) != NULL) continue;
        tcache_t *tc = threads_cache_new(a);
        if (tc == NULL) return EFAULT;
        atomic_store_explicit(&table[i], tc, memory_order_release);
        *id = i;
        return 0;
    }
    return EFAULT;
}

tcache_t *explicit_get(unsigned id)
{
    return id < EXPLICIT_MAX ? atomic_load_explicit(&table[id], memory_order_acquire) : NULL;
}

int explicit_flush(unsigned id)
{
    tcache_t *tc = explicit_get(id);
    if (tc == NULL) return EFAULT;
    tcache_flush_all(tc);
    return 0;
}

int explicit_destroy(unsigned id)
{
    tcache_t *tc = explicit_get(id);
    if (tc == NULL) return EFAULT;
    atomic_store_explicit(&table[id], NULL, memory_order_release);
    threads_cache_drop(tc);
    return 0;
}
