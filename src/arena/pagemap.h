/* src/arena/pagemap.h — which chunk-sized slots of the address space are ours.
 *
 * One entry per 4 MiB slot of a 48-bit address space (OS_ADDR_BITS_MAX: the
 * widest user address any supported kernel hands out, see os.h), in two
 * levels: a static root of PM_ROOT_LEN pointers and leaves of PM_LEAF_LEN
 * entries allocated on first use (each leaf covers 32 GiB). An entry is 0
 * (not ours), a chunk_t pointer (slot is a chunk; 4 MiB aligned), or a
 * slot-table pointer with bit 0 set (the slot is part of a page-heap region
 * and not a chunk: the table names the extents in it, see pageheap.h). Lookups are
 * lock-free: leaves are never freed and entries are written with release
 * stores before the memory is handed out, so any pointer sable returned
 * resolves on any thread.
 *
 *   p: | 16 unused | 13 root index | 13 leaf index | 22 offset in slot |
 *
 * A pointer with any of the 16 top bits set (beyond the map, or carrying a
 * tag in its top byte) is never ours: pm_lookup returns 0, pm_is_chunk false,
 * pm_set and pm_range_free refuse it. The map is sized for 48 bits whatever
 * the kernel's width (os_addr_bits, 47 on x86_64): the root is 64 KiB and the
 * bitmap below 8 MiB of .bss, whose untouched pages cost nothing.
 *
 * free() asks a narrower question on its fast path, "is p in a chunk?", and
 * answers it from a flat bitmap with one bit per slot (of which only the
 * words covering sable's chunks are ever touched): one load and a bit test
 * instead of two dependent loads. The bit is set when a chunk is registered
 * and cleared when it is released; page-heap slots have no bit and go through
 * the two-level map on the slow path.
 * Invariants: an entry is set before the memory it covers is handed out and
 * cleared before that memory is unmapped; a chunk's bitmap bit is set exactly
 * while its entry is a chunk.
 */
#ifndef SABLE_ARENA_PAGEMAP_H
#define SABLE_ARENA_PAGEMAP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "os/os.h"

#define PM_SLOT_SHIFT 22
#define PM_ADDR_BITS OS_ADDR_BITS_MAX
#define PM_LEAF_BITS 13
#define PM_ROOT_BITS (PM_ADDR_BITS - PM_SLOT_SHIFT - PM_LEAF_BITS)
#define PM_ROOT_LEN ((size_t)1 << PM_ROOT_BITS)
#define PM_LEAF_LEN ((size_t)1 << PM_LEAF_BITS)
#define PM_TABLE_TAG ((uintptr_t)1)

typedef _Atomic(uintptr_t) pm_entry_t;

extern _Atomic(pm_entry_t *) pm_root[PM_ROOT_LEN];

#define PM_CHUNK_WORDS ((size_t)1 << (PM_ADDR_BITS - PM_SLOT_SHIFT - 6))
extern _Atomic uint64_t pm_chunk_bits[PM_CHUNK_WORDS];

/* True if p lies in a chunk (a slot whose entry is a chunk_t). */
static inline bool pm_is_chunk(uintptr_t p)
{
    uintptr_t word = p >> (PM_SLOT_SHIFT + 6);
    if (__builtin_expect(word >= PM_CHUNK_WORDS, 0)) return false;
    uint64_t bits = atomic_load_explicit(&pm_chunk_bits[word], memory_order_relaxed);
    return (bits >> ((p >> PM_SLOT_SHIFT) & 63)) & 1;
}

/* The entry for the slot holding address p (0 when p is not ours). */
static inline uintptr_t pm_lookup(uintptr_t p)
{
    if (__builtin_expect(p >> PM_ADDR_BITS, 0)) return 0;
    pm_entry_t *leaf = atomic_load_explicit(&pm_root[p >> (PM_SLOT_SHIFT + PM_LEAF_BITS)],
                                            memory_order_acquire);
    if (__builtin_expect(leaf == NULL, 0)) return 0;
    return atomic_load_explicit(&leaf[(p >> PM_SLOT_SHIFT) & (PM_LEAF_LEN - 1)],
                                memory_order_relaxed);
}

/* Sets the entries of every slot overlapping [addr, addr+size) to `value`
 * (and their chunk bits to whether value is a chunk). Returns false if a
 * leaf could not be allocated (nothing changed then). */
bool pm_set(uintptr_t addr, size_t size, uintptr_t value);

/* fork: the leaf-creation lock, taken after the huge lock (pm_set runs
 * under arena locks) and before the metadata lock (leaves come from it). */
void pm_prefork(void);
void pm_postfork(void);

/* True if every slot overlapping [addr, addr+size) is unclaimed. */
bool pm_range_free(uintptr_t addr, size_t size);

#endif
