/* src/uncached/uncached.c — allocation without a thread cache, with the
 * checks of the fill modes (see uncached.h).
 * Invariants: with a kept fill on, every free small block holds the fill
 * byte. Locking: see uncached.h.
 */
#include "uncached/uncached.h"

#include <string.h>

#include "options/options.h"

/* Threads without a cache still spread over the arenas: theirs is kept
 * here. Threads whose cache was torn down keep 0 (arena 0). */
static __thread unsigned direct_arena __attribute__((tls_model(SABLE_TLS_MODEL)));
static __thread uint64_t direct_rng __attribute__((tls_model(SABLE_TLS_MODEL)));

void uncached_thread_init(unsigned arena_index, unsigned seq)
{
    direct_arena = arena_index;
    /* Per-thread seed for the secure mode's block order: the address of a
     * thread-local and the clock differ between threads and runs. */
    direct_rng = (uint64_t)(uintptr_t)&direct_rng ^ os_now_ns() ^ ((uint64_t)seq << 32);
}

/* A thread left on an arena that was destroyed since (nothing counts
 * uncached threads as attached, so destroy cannot refuse for them) goes
 * back to arena 0, which is never destroyed. */
arena_t *uncached_arena(void)
{
    arena_t *a = arena_get(direct_arena);
    if (unlikely(arena_destroyed(a))) a = arena_get(direct_arena = 0);
    return a;
}

void uncached_set_arena(unsigned arena_index) { direct_arena = arena_index; }

static uint64_t next_random(void)
{
    uint64_t x = direct_rng; /* xorshift64 */
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return direct_rng = x ? x : 0x9e3779b97f4a7c15u;
}

void *uncached_alloc(unsigned sc) { return uncached_alloc_in(uncached_arena(), sc); }

void *uncached_alloc_in(arena_t *a, unsigned sc)
{
    int fill = arena_kept_fill(), fresh = arena_new_fill();
    void *p;
    if (sc < SC_NSMALL && opt_secure) {
        p = arena_bin_alloc_random(a, sc, next_random());
    } else if (!arena_cache_fill(a, sc, &p, 1)) {
        p = NULL;
    }
    if (p == NULL || sc >= SC_NSMALL) return p;
    if (fill >= 0) {
        /* Blocks are multiples of 16 bytes and 16-aligned: compare by words. */
        uint64_t want = 0x0101010101010101u * (unsigned char)fill;
        const uint64_t *w = p;
        for (size_t i = 0; i < sc_size(sc) / 8; i++)
            if (w[i] != want) sable_fatal("heap corruption detected at %p", p);
    }
    if (fresh >= 0) memset(p, fresh, sc_size(sc));
    return p;
}

void uncached_free(void *p, unsigned sc)
{
    int fill = arena_free_fill();
    if (fill >= 0 && sc < SC_NSMALL)
        arena_bin_free_filled(sc, p, fill);
    else
        arena_cache_flush(sc, &p, 1);
}
