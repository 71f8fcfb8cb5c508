/* src/arena/arena.c — the arenas themselves: creation, lookup by index,
 * the fill policy of the hardening modes, the cache-facing fill and flush
 * that route a class to slabs or large runs, and fork.
 *
 * The rest of the layer, by concept: run.c (chunks and runs), bin.c (slabs),
 * large.c (large runs), purge.c (decay), stats.c (snapshots), pageheap.c
 * (address space as extents), huge.c (huge blocks), pagemap.c (ownership),
 * meta.c (metadata memory), lookup.h (what a pointer is).
 *
 * Invariants: arena i is arenas[i] for the life of the process; a class below
 * SC_NSMALL is served by bins, the cached large ones by large runs.
 * Locking: see arena.h. The arena array is written once at boot.
 */
#include "arena/arena.h"

#include "arena/meta.h"
#include "options/options.h"

static arena_t *arenas;
static unsigned narenas;

bool arena_boot(unsigned n)
{
    if (n == 0) n = 1;
    if (n > ARENA_MAX) n = ARENA_MAX;
    arena_t *all = meta_alloc(n * sizeof(arena_t));
    if (all == NULL) return false;
    for (unsigned i = 0; i < n; i++) {
        arena_t *a = &all[i];
        os_lock_init(&a->lock);
        a->index = i;
        a->born_ns = os_now_ns();
        for (unsigned c = 0; c < SC_NSMALL; c++) os_lock_init(&a->bins[c].lock);
    }
    arenas = all;
    narenas = n;
    return true;
}

unsigned arena_count(void) { return narenas; }

void arena_set_node(arena_t *a, unsigned node, bool bind)
{
    a->node = node;
    a->bound = bind;
}

bool arena_is(const arena_t *a)
{
    uintptr_t off = (uintptr_t)a - (uintptr_t)arenas;
    return a != NULL && off < narenas * sizeof(arena_t) && off % sizeof(arena_t) == 0;
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
    for (unsigned i = 0; i < narenas; i++) {
        for (unsigned c = 0; c < SC_NSMALL; c++) bin_lock(&arenas[i], c);
        arena_lock(&arenas[i]);
    }
}

void arena_postfork(void)
{
    for (unsigned i = narenas; i-- > 0;) {
        arena_unlock(&arenas[i]);
        for (unsigned c = SC_NSMALL; c-- > 0;) bin_unlock(&arenas[i], c);
    }
}

