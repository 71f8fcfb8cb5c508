/* src/arena/arena.c — the arenas themselves: creation, lookup by index,
 * the fill policy of the hardening modes, the cache-facing fill and flush
 * that route a class to slabs or large runs, and fork.
 *
 * The rest of the layer, by concept: run.c (chunks and runs), bin.c (slabs),
 * large.c (large runs), purge.c (decay), stats.c (snapshots), pageheap.c
 * (address space as extents), huge.c (huge blocks), pagemap.c (ownership),
 * meta.c (metadata memory), lookup.h (what a pointer is).
 *
 * The table. Arenas live in one array with room for ARENA_MAX, mapped at
 * boot (untouched slots cost address space only), so that arena_is stays a
 * range check whatever arenas.create adds later: narenas grows, and a slot,
 * once handed out, stays an arena for life (destroyed and created again,
 * never unmapped), so a pointer read without a lock always lands in one.
 *
 * Invariants: arena i is arenas[i] for the life of the process; slots below
 * narenas are set up; a class below SC_NSMALL is served by bins, the cached
 * large ones by large runs.
 * Locking: see arena.h. create_lock serialises arenas.create; narenas is
 * published with a release store after the slot is set up.
 */
#include "arena/arena.h"

#include <string.h>

#include "arena/limit.h"
#include "arena/meta.h"
#include "options/options.h"

static arena_t *arenas;
static _Atomic unsigned narenas;
static unsigned nauto;
static pthread_mutex_t create_lock = PTHREAD_MUTEX_INITIALIZER;

static void setup(arena_t *a, unsigned i)
{
    os_lock_init(&a->lock);
    a->index = i;
    a->born_ns = os_now_ns();
    atomic_store_explicit(&a->decay_ms, ARENA_DECAY_DEFAULT, memory_order_relaxed);
    for (unsigned c = 0; c < SC_NSMALL; c++) os_lock_init(&a->bins[c].lock);
}

bool arena_boot(unsigned n)
{
    if (n == 0) n = 1;
    if (n > ARENA_MAX) n = ARENA_MAX;
    arena_t *all = os_map_aligned(os_page_round(ARENA_MAX * sizeof(arena_t)), os_page_size());
    if (all == NULL) return false;
    for (unsigned i = 0; i < n; i++) setup(&all[i], i);
    arenas = all;
    nauto = n;
    atomic_store_explicit(&narenas, n, memory_order_release);
    return true;
}

unsigned arena_count(void) { return atomic_load_explicit(&narenas, memory_order_acquire); }
unsigned arena_auto_count(void) { return nauto; }
size_t arena_table_bytes(void) { return os_page_round(arena_count() * sizeof(arena_t)); }

/* A destroyed slot taken again starts as a new arena would: counters at
 * zero (arena_destroy cleared its peak; its page heap holds only retained
 * address space and stubs, which stay its own, as descriptors do). Locks
 * are already set up. */
static void renew(arena_t *a)
{
    arena_lock(a);
    a->nlarge_malloc = a->nlarge_dalloc = a->npurge = a->nmadvise = a->purged = 0;
    memset(&a->trim, 0, sizeof a->trim);
    a->born_ns = os_now_ns();
    a->heap.nhuge_malloc = a->heap.nhuge_dalloc = a->heap.npurge = a->heap.purged = 0;
    arena_unlock(a);
    for (unsigned c = 0; c < SC_NSMALL; c++) {
        bin_t *b = &a->bins[c];
        bin_lock(a, c);
        b->nmalloc = b->ndalloc = b->nfills = b->nflushes = b->npurged_slabs = b->purged = 0;
        bin_unlock(a, c);
    }
    atomic_store_explicit(&a->decay_ms, ARENA_DECAY_DEFAULT, memory_order_relaxed);
    atomic_store_explicit(&a->destroyed, false, memory_order_release);
}

bool arena_create(unsigned *index)
{
    lock_take(&create_lock, LOCK_CREATE, 0);
    unsigned n = arena_count(), i = nauto;
    while (i < n && !arena_destroyed(&arenas[i])) i++;
    if (i < n) {
        renew(&arenas[i]);
    } else if (n < ARENA_MAX) {
        setup(&arenas[n], n);
        atomic_store_explicit(&narenas, n + 1, memory_order_release);
    } else {
        lock_drop(&create_lock);
        return false;
    }
    lock_drop(&create_lock);
    *index = i;
    return true;
}

unsigned arena_decay_ms(const arena_t *a)
{
    if (limit_decay_now()) return 0;
    unsigned v = atomic_load_explicit(&a->decay_ms, memory_order_relaxed);
    return v == ARENA_DECAY_DEFAULT ? opt_decay_ms() : v;
}

void arena_set_decay_ms(arena_t *a, unsigned ms)
{
    atomic_store_explicit(&a->decay_ms, ms, memory_order_relaxed);
}

void arena_set_node(arena_t *a, unsigned node, bool bind)
{
    a->node = node;
    a->bound = bind;
}

bool arena_is(const arena_t *a)
{
    uintptr_t off = (uintptr_t)a - (uintptr_t)arenas;
    return a != NULL && off < arena_count() * sizeof(arena_t) && off % sizeof(arena_t) == 0;
}
arena_t *arena_get(unsigned i) { return &arenas[i]; }

int arena_free_fill(void)
{
    if (opt_junk == JUNK_TRUE || opt_junk == JUNK_FREE) return 0x5a;
    if (opt_secure || opt_zero_on_free) return 0;
    return opt_perturb ? (int)opt_perturb : -1;
}

int arena_new_fill(void)
{
    if (opt_junk == JUNK_TRUE || opt_junk == JUNK_ALLOC) return 0xa5;
    if (opt_zero) return 0;
    return opt_perturb ? (int)(opt_perturb ^ 0xff) : -1;
}

int arena_kept_fill(void)
{
    bool junk_free = opt_junk == JUNK_TRUE || opt_junk == JUNK_FREE;
    return opt_secure || opt_zero_on_free || junk_free ? arena_free_fill() : -1;
}

unsigned arena_cache_fill(arena_t *a, unsigned sc, void **out, unsigned n)
{
    if (sc < SC_NSMALL) return arena_bin_fill(a, sc, out, n);
    /* Large classes one run at a time: speculative large runs cost memory. */
    out[0] = arena_large_alloc(a, sc_size(sc), 0, false);
    return out[0] != NULL;
}

void arena_cache_flush(unsigned sc, void *const *ptrs, unsigned n)
{
    if (sc < SC_NSMALL) {
        arena_bin_flush(sc, ptrs, n);
        return;
    }
    for (unsigned i = 0; i < n; i++) arena_large_free(ptrs[i]);
}

void arena_prefork(void)
{
    lock_take(&create_lock, LOCK_CREATE, 0);
    unsigned n = arena_count();
    for (unsigned i = 0; i < n; i++) {
        for (unsigned c = 0; c < SC_NSMALL; c++) bin_lock(&arenas[i], c);
        arena_lock(&arenas[i]);
    }
}

void arena_postfork(void)
{
    for (unsigned i = arena_count(); i-- > 0;) {
        arena_unlock(&arenas[i]);
        for (unsigned c = SC_NSMALL; c-- > 0;) bin_unlock(&arenas[i], c);
    }
    lock_drop(&create_lock);
}

