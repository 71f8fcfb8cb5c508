/* src/tcache/tcache.c — the stacks of a thread cache: their capacities and
 * layout, refill from the arena, flush back to it (local and remote
 * stacks), and the bytes they hold.
 *
 * Invariants: a stack's slots between cur and empty hold distinct blocks of
 * that class and of the right arena (local) or of other arenas (remote); the
 * two guard slots below each stack stay NULL.
 * Locking: none here (a cache is its thread's own); the arena functions
 * called take the bin and arena locks.
 */
#include "tcache/tcache.h"

#include <string.h>

/* Both start with every bin at NULL/NULL/NULL: empty and full at once. */
tcache_t tcache_boot = {.state = TCACHE_BOOT};
tcache_t tcache_dead = {.state = TCACHE_DEAD};

__thread tcache_t *tcache_tls __attribute__((tls_model(SABLE_TLS_MODEL))) = &tcache_boot;

/* Stack capacity per class: a budget of bytes of blocks, within bounds on
 * the block count (tcache.h). The local and the remote stacks have the same
 * capacities. */
static uint16_t bin_cap[SC_NCACHED];
static size_t total_slots;

size_t tcache_full_bytes(void)
{
    size_t bytes = 0;
    for (unsigned c = 0; c < SC_NCACHED; c++) bytes += 2 * (size_t)bin_cap[c] * sc_size(c);
    return bytes;
}

void tcache_boot_caps(size_t max_bytes)
{
    total_slots = 0;
    for (unsigned c = 0; c < SC_NCACHED; c++) {
        size_t size = sc_size(c), cap;
        if (c < SC_NSMALL) {
            cap = TCACHE_SMALL_BUDGET / size;
            cap = cap < TCACHE_SMALL_MIN ? TCACHE_SMALL_MIN : cap > TCACHE_SMALL_MAX ? TCACHE_SMALL_MAX : cap;
        } else {
            cap = TCACHE_LARGE_BUDGET / size;
            cap = cap < 1 ? 1 : cap > TCACHE_LARGE_MAX ? TCACHE_LARGE_MAX : cap;
        }
        bin_cap[c] = (uint16_t)cap;
    }
    size_t full = tcache_full_bytes();
    for (unsigned c = 0; c < SC_NCACHED; c++) {
        if (max_bytes && full > max_bytes)
            bin_cap[c] = (uint16_t)((__uint128_t)bin_cap[c] * max_bytes / full);
        /* the local and the remote stack, each followed by two guard slots
         * that are never written: the double-free check reads up to two
         * slots past a stack's bottom, and must find NULL there (a stale
         * entry of a neighbouring stack could be a recycled block of this
         * class). */
        total_slots += 2 * ((size_t)bin_cap[c] + 2);
    }
}

size_t tcache_bytes(void) { return sizeof(tcache_t) + total_slots * sizeof(void *); }

void tcache_init(tcache_t *tc, arena_t *a)
{
    memset(&tc->counts, 0, sizeof tc->counts);
    void **slot = tc->slots;
    for (unsigned c = 0; c < SC_NCACHED; c++) {
        tc->full[c] = slot;
        slot += bin_cap[c];
        tc->bottom[c] = tc->empty[c] = tc->cur[c] = slot;
        slot += 2; /* guard slots, NULL forever */
    }
    for (unsigned c = 0; c < SC_NCACHED; c++) {
        tc->rfull[c] = slot;
        slot += bin_cap[c];
        tc->rempty[c] = tc->rcur[c] = slot;
        slot += 2;
    }
    memset(tc->low_hit, 0, sizeof tc->low_hit);
    tc->gc_ms = os_now_ms();
    tc->gc_tick = 0;
    tc->arena = a;
    tc->off = false;
    tc->state = TCACHE_LIVE;
}

void tcache_set_enabled(tcache_t *tc, bool on)
{
    if (tc->off == !on) return;
    tcache_flush_all(tc);
    for (unsigned c = 0; c < SC_NCACHED; c++) {
        tc->full[c] = on ? tc->bottom[c] - bin_cap[c] : tc->bottom[c];
        tc->rfull[c] = on ? tc->rempty[c] - bin_cap[c] : tc->rempty[c];
    }
    tc->off = !on;
}

static _Noreturn void double_free(void *p) { sable_fatal("free(): double free of %p", p); }

/* The fast path's double-free compares, repeated where a slow path pushes. */
static void check_not_cached(void *const *cur, void *const *empty, void *p)
{
    for (int i = 0; i < 2 && cur + i < empty; i++)
        if (cur[i] == p) double_free(p);
}

static void low_note(tcache_t *tc, unsigned sc)
{
    tc->empty[sc] = tc->bottom[sc];
    tc->low_hit[sc / 64] |= (uint64_t)1 << (sc % 64);
}

/* A stack of no room (the cache switched off, tcache_set_enabled, or a
 * class of capacity 0) serves one block at a time. */
static SABLE_COLD void *refill_off(tcache_t *tc, unsigned sc)
{
    void *p;
    if (!arena_cache_fill(tc->arena, sc, &p, 1)) return NULL;
    tc->counts.nalloc[sc]++;
    return p;
}

void *tcache_refill(tcache_t *tc, unsigned sc)
{
    void **bottom = tc->bottom[sc];
    if (unlikely(tc->full[sc] == bottom)) return refill_off(tc, sc);
    /* The low-water mark reached (the stack may hold more below it), or
     * the stack empty: either way the mark goes to the bottom. */
    low_note(tc, sc);
    if (tc->cur[sc] == bottom) {
        unsigned n = (unsigned)(bottom - tc->full[sc]) / 2;
        if (n == 0) n = 1;
        void **dst = bottom - n;
        unsigned got = arena_cache_fill(tc->arena, sc, dst, n);
        if (got == 0) return NULL;
        if (got < n) memmove(bottom - got, dst, got * sizeof(void *));
        tc->cur[sc] = bottom - got;
    }
    tc->counts.nalloc[sc]++;
    return *tc->cur[sc]++;
}

/* Pushes p onto one stack after the slow path's double-free check. A full
 * stack is flushed first: the local one keeps its most recent half (warm
 * blocks, about to be reused), the remote one is emptied (its blocks are
 * never reused by this thread). */
static void stack_push(tcache_t *tc, void ***cur, void **full, void **empty, void *p,
                       unsigned sc, bool keep_half)
{
    check_not_cached(*cur, empty, p);
    if (*cur == full) {
        unsigned cap = (unsigned)(empty - full);
        unsigned n = keep_half ? cap - cap / 2 : cap;
        arena_cache_flush(sc, empty - n, n);
        memmove(full + n, full, (cap - n) * sizeof(void *));
        *cur = full + n;
    }
    *--*cur = p;
    tc->counts.nfree[sc]++;
}

void tcache_push_slow(tcache_t *tc, void *p, unsigned sc)
{
    bool local = arena_owner(p) == tc->arena;
    if (unlikely(local ? tc->full[sc] == tc->bottom[sc] : tc->rfull[sc] == tc->rempty[sc])) {
        /* A stack of no room (see refill_off). */
        arena_cache_flush(sc, &p, 1);
        tc->counts.nfree[sc]++;
        return;
    }
    if (local) {
        stack_push(tc, &tc->cur[sc], tc->full[sc], tc->bottom[sc], p, sc, true);
        /* A flush moved the stack's blocks towards its bottom, and cur
         * with them: the mark follows if cur passed it (cur <= empty
         * always, or pops would run past it). */
        if (tc->empty[sc] < tc->cur[sc]) tc->empty[sc] = tc->cur[sc];
    } else {
        stack_push(tc, &tc->rcur[sc], tc->rfull[sc], tc->rempty[sc], p, sc, false);
    }
}

/* Empties the remote stack of class c; returns the bytes it held. */
static size_t flush_remote(tcache_t *tc, unsigned c)
{
    unsigned n = (unsigned)(tc->rempty[c] - tc->rcur[c]);
    if (n == 0) return 0;
    arena_cache_flush(c, tc->rcur[c], n);
    tc->rcur[c] = tc->rempty[c];
    return (size_t)n * sc_size(c);
}

void tcache_flush_all(tcache_t *tc)
{
    for (unsigned c = 0; c < SC_NCACHED; c++) {
        unsigned n = (unsigned)(tc->bottom[c] - tc->cur[c]);
        if (n) arena_cache_flush(c, tc->cur[c], n);
        tc->empty[c] = tc->cur[c] = tc->bottom[c];
        flush_remote(tc, c);
    }
}

size_t tcache_gc(tcache_t *tc, unsigned passes)
{
    size_t bytes = 0;
    for (unsigned c = 0; c < SC_NCACHED; c++) {
        void **cur = tc->cur[c], **bottom = tc->bottom[c];
        bool reached = tc->low_hit[c / 64] >> (c % 64) & 1;
        unsigned unused = reached ? 0 : (unsigned)(bottom - tc->empty[c]), keep = unused;
        for (unsigned i = 0; i < passes && keep; i++) keep /= 4;
        unsigned n = unused - keep;
        if (n) {
            arena_cache_flush(c, bottom - n, n);
            memmove(cur + n, cur, (size_t)(bottom - n - cur) * sizeof(void *));
            tc->cur[c] = cur += n;
            bytes += (size_t)n * sc_size(c);
        }
        tc->empty[c] = cur;
        bytes += flush_remote(tc, c);
    }
    memset(tc->low_hit, 0, sizeof tc->low_hit);
    return bytes;
}

size_t tcache_cached_bytes(const tcache_t *tc)
{
    size_t bytes = 0;
    for (unsigned c = 0; c < SC_NCACHED; c++) {
        void **cur = __atomic_load_n(&tc->cur[c], __ATOMIC_RELAXED);
        void **rcur = __atomic_load_n(&tc->rcur[c], __ATOMIC_RELAXED);
        bytes += (size_t)(tc->bottom[c] - cur) * sc_size(c);
        bytes += (size_t)(tc->rempty[c] - rcur) * sc_size(c);
    }
    return bytes;
}
