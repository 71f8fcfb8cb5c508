/* src/arena/pagemap.c — leaves of the ownership map, created on first use.
 * Invariant: a range reaching past PM_ADDR_BITS is refused as a whole
 * (nothing set), so the map never holds an entry it cannot look up.
 * Locking: leaf creation takes pm_lock; entries are owned by whoever owns the
 * slot (the arena whose page heap holds it) and written with
 * release stores. */
#include "arena/pagemap.h"

#include <pthread.h>

#include "arena/meta.h"
#include "os/lock.h"
#include "os/os.h"

_Atomic(pm_entry_t *) pm_root[PM_ROOT_LEN];
_Atomic uint64_t pm_chunk_bits[PM_CHUNK_WORDS];
static pthread_mutex_t pm_lock = PTHREAD_MUTEX_INITIALIZER;

static pm_entry_t *leaf_for(uintptr_t p)
{
    _Atomic(pm_entry_t *) *slot = &pm_root[p >> (PM_SLOT_SHIFT + PM_LEAF_BITS)];
    pm_entry_t *leaf = atomic_load_explicit(slot, memory_order_acquire);
    if (leaf) return leaf;
    lock_take(&pm_lock, LOCK_PAGEMAP, 0);
    leaf = atomic_load_explicit(slot, memory_order_relaxed);
    if (!leaf) {
        leaf = meta_alloc(PM_LEAF_LEN * sizeof(pm_entry_t));
        if (leaf) atomic_store_explicit(slot, leaf, memory_order_release);
    }
    lock_drop(&pm_lock);
    return leaf;
}

bool pm_set(uintptr_t addr, size_t size, uintptr_t value)
{
    if (size == 0 || addr + size - 1 < addr || ((addr + size - 1) >> PM_ADDR_BITS)) return false;
    uintptr_t first = addr >> PM_SLOT_SHIFT;
    uintptr_t last = (addr + size - 1) >> PM_SLOT_SHIFT;
    for (uintptr_t s = first; s <= last; s++)
        if (!leaf_for(s << PM_SLOT_SHIFT)) return false;
    bool chunk = value != 0 && (value & PM_TABLE_TAG) == 0;
    for (uintptr_t s = first; s <= last; s++) {
        pm_entry_t *leaf = leaf_for(s << PM_SLOT_SHIFT);
        atomic_store_explicit(&leaf[s & (PM_LEAF_LEN - 1)], value, memory_order_release);
        uint64_t bit = (uint64_t)1 << (s & 63);
        if (chunk)
            atomic_fetch_or_explicit(&pm_chunk_bits[s >> 6], bit, memory_order_release);
        else
            atomic_fetch_and_explicit(&pm_chunk_bits[s >> 6], ~bit, memory_order_release);
    }
    return true;
}

bool pm_range_free(uintptr_t addr, size_t size)
{
    if (size == 0) return (addr >> PM_ADDR_BITS) == 0;
    if (addr + size - 1 < addr || ((addr + size - 1) >> PM_ADDR_BITS)) return false;
    for (uintptr_t s = addr >> PM_SLOT_SHIFT; s <= (addr + size - 1) >> PM_SLOT_SHIFT; s++)
        if (pm_lookup(s << PM_SLOT_SHIFT) != 0) return false;
    return true;
}

void pm_prefork(void) { lock_take(&pm_lock, LOCK_PAGEMAP, 0); }
void pm_postfork(void) { lock_drop(&pm_lock); }
