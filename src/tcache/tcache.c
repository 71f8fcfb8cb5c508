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
tcache_t tcache_parked = {.state = TCACHE_PARKED};

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
    tc->shift = 0;
    tc->stolen = false;
    tc->slots_purged = 0;
    tc->state = TCACHE_LIVE;
}

/* The room of each stack of class c: its capacity, less for a shrunk cache
 * (tcache_set_shift), none when the cache is off. */
static unsigned room_of(const tcache_t *tc, unsigned c) { return tc->off ? 0 : bin_cap[c] >> tc->shift; }

void tcache_set_enabled(tcache_t *tc, bool on)
{
    if (tc->off == !on) return;
    tcache_flush_all(tc);
    tc->off = !on;
    for (unsigned c = 0; c < SC_NCACHED; c++) {
        tc->full[c] = tc->bottom[c] - room_of(tc, c);
        tc->rfull[c] = tc->rempty[c] - room_of(tc, c);
    }
}

/* Shrinks or grows one stack to `room` slots above its bottom `end`: the
 * blocks above the new lowest slot go back to the arena. */
static void **resize_stack(unsigned c, void **cur, void ***full, void **end, unsigned room)
{
    void **nf = end - room;
    if (cur < nf) {
        arena_cache_flush(c, cur, (unsigned)(nf - cur));
        cur = nf;
    }
    *full = nf;
    return cur;
}

void tcache_set_shift(tcache_t *tc, unsigned k)
{
    if (tc->shift == k) return;
    tcache_settle(tc);
    tc->shift = k;
    for (unsigned c = 0; c < SC_NCACHED; c++) {
        unsigned room = room_of(tc, c);
        tc->cur[c] = resize_stack(c, tc->cur[c], &tc->full[c], tc->bottom[c], room);
        if (tc->empty[c] < tc->cur[c]) tc->empty[c] = tc->cur[c];
        tc->rcur[c] = resize_stack(c, tc->rcur[c], &tc->rfull[c], tc->rempty[c], room);
    }
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
    tcache_settle(tc); /* the blocks taken are the arenas' already */
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

/* Flushes the slots [from, to) of class c; returns their bytes. */
static size_t take(unsigned c, void **from, void **to)
{
    if (from >= to) return 0;
    arena_cache_flush(c, from, (unsigned)(to - from));
    return (size_t)(to - from) * sc_size(c);
}

size_t tcache_steal(tcache_t *tc)
{
    size_t bytes = 0;
    for (unsigned c = 0; c < SC_NCACHED; c++) {
        /* Only the operation in flight may move cur, by one slot: a pop
         * that has passed its compare takes the slot cur points at (or
         * pointed at, if its store is already seen), a push writes the
         * slot above cur. Neither reaches a slot past the one kept. */
        void **cur = __atomic_load_n(&tc->cur[c], __ATOMIC_RELAXED), **bottom = tc->bottom[c];
        void **from = cur == tc->empty[c] || cur == bottom ? cur : cur + 1;
        tc->taken[c] = from;
        bytes += take(c, from, bottom);
        void **rcur = __atomic_load_n(&tc->rcur[c], __ATOMIC_RELAXED);
        tc->rtaken[c] = rcur;
        bytes += take(c, rcur, tc->rempty[c]);
    }
    __atomic_store_n(&tc->stolen, true, __ATOMIC_RELAXED);
    return bytes;
}

size_t tcache_steal_tops(tcache_t *tc)
{
    size_t bytes = 0;
    for (unsigned c = 0; c < SC_NCACHED; c++) {
        void **cur = tc->cur[c];
        if (tc->taken[c] > cur) {
            bytes += take(c, cur, tc->taken[c]);
            tc->taken[c] = cur;
        }
    }
    return bytes;
}

/* Bytes of stacks' storage purged by tcache_purge_slots in caches not
 * settled since (their owners have not touched them again). */
static size_t purged_total;

size_t tcache_purge_slots(tcache_t *tc)
{
    size_t ps = os_page_size();
    uintptr_t lo = ((uintptr_t)tc->slots + ps - 1) & ~(ps - 1);
    uintptr_t hi = (uintptr_t)(tc->slots + total_slots) & ~(ps - 1);
    if (tc->slots_purged || hi <= lo || !os_purge((void *)lo, hi - lo)) return 0;
    tc->slots_purged = hi - lo;
    __atomic_fetch_add(&purged_total, hi - lo, __ATOMIC_RELAXED);
    return hi - lo;
}

size_t tcache_purged_bytes(void) { return __atomic_load_n(&purged_total, __ATOMIC_RELAXED); }

/* The blocks left in [cur, end) move to the stack's bottom; returns the new
 * top. */
static void **settle_stack(void **cur, void **end, void **bottom)
{
    if (cur >= end) return bottom;
    size_t n = (size_t)(end - cur);
    memmove(bottom - n, cur, n * sizeof(void *));
    return bottom - n;
}

void tcache_settle(tcache_t *tc)
{
    if (!tc->stolen) return;
    if (tc->slots_purged) {
        /* Its owner uses its stacks again: count them resident. */
        __atomic_fetch_sub(&purged_total, tc->slots_purged, __ATOMIC_RELAXED);
        tc->slots_purged = 0;
    }
    for (unsigned c = 0; c < SC_NCACHED; c++) {
        tc->empty[c] = tc->cur[c] = settle_stack(tc->cur[c], tc->taken[c], tc->bottom[c]);
        tc->rcur[c] = settle_stack(tc->rcur[c], tc->rtaken[c], tc->rempty[c]);
    }
    memset(tc->low_hit, 0, sizeof tc->low_hit);
    __atomic_store_n(&tc->stolen, false, __ATOMIC_RELAXED);
}

size_t tcache_cached_bytes(const tcache_t *tc)
{
    size_t bytes = 0;
    bool stolen = __atomic_load_n(&tc->stolen, __ATOMIC_RELAXED);
    for (unsigned c = 0; c < SC_NCACHED; c++) {
        void **cur = __atomic_load_n(&tc->cur[c], __ATOMIC_RELAXED);
        void **rcur = __atomic_load_n(&tc->rcur[c], __ATOMIC_RELAXED);
        void **end = stolen ? tc->taken[c] : tc->bottom[c];
        void **rend = stolen ? tc->rtaken[c] : tc->rempty[c];
        if (cur < end) bytes += (size_t)(end - cur) * sc_size(c);
        if (rcur < rend) bytes += (size_t)(rend - rcur) * sc_size(c);
    }
    return bytes;
}
