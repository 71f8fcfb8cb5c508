/* src/tcache/tcache.c — thread set-up and tear-down, cache refill and flush
 * (local and remote stacks), the uncached path of the secure and fill modes,
 * per-thread counters for stats, the background purger, process-wide
 * initialisation and fork handling.
 *
 * Locking: the caches themselves are thread-private. pool_lock guards the
 * lists of recycled and live caches and the fork hooks; init_lock serialises
 * process set-up. fork takes, in this order: the hooks' locks (the control
 * layer's), pool_lock, each arena's bin locks and arena lock, the huge lock,
 * the page-map lock, the metadata lock.
 */
#include "tcache/tcache.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "arena/huge.h"
#include "arena/meta.h"
#include "arena/pagemap.h"
#include "ctl/options.h"

/* Both start with every bin at NULL/NULL/NULL: empty and full at once. */
static tcache_t tcache_boot = {.state = TCACHE_BOOT};
static tcache_t tcache_dead = {.state = TCACHE_DEAD};

__thread tcache_t *tcache_tls __attribute__((tls_model(SABLE_TLS_MODEL))) = &tcache_boot;

static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic int init_state; /* 0 not yet, 1 done, -1 failed */
static _Atomic int atfork_done;
static pthread_key_t exit_key;

/* Threads without a cache (tcache:false, secure, junk, zero_on_free) still
 * spread over the arenas: theirs is kept here. Threads whose cache was torn
 * down use arena 0. */
static __thread unsigned direct_arena __attribute__((tls_model(SABLE_TLS_MODEL)));
static __thread uint64_t direct_rng __attribute__((tls_model(SABLE_TLS_MODEL)));

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static tcache_t *pool;
static tcache_t *live;               /* every live cache (pool_lock) */
static tcache_counts_t *exited;      /* per arena: counts of finished threads (pool_lock) */
static _Atomic unsigned next_arena;

/* Stack capacity per class: small classes about 32 KiB of blocks (8 to 256
 * blocks), large classes about 128 KiB (1 to 4 blocks). A full cache holds
 * at most about 2.7 MiB. */
static uint16_t bin_cap[SC_NCACHED];
static size_t total_slots;


static void compute_caps(void)
{
    total_slots = 0;
    for (unsigned c = 0; c < SC_NCACHED; c++) {
        size_t size = sc_size(c), cap;
        if (c < SC_NSMALL) {
            cap = 32768 / size;
            cap = cap < 8 ? 8 : cap > 256 ? 256 : cap;
        } else {
            cap = (128u << 10) / size;
            cap = cap < 1 ? 1 : cap > 4 ? 4 : cap;
        }
        bin_cap[c] = (uint16_t)cap;
        /* the local and the remote stack, each followed by two guard slots
         * that are never written: the double-free check reads up to two
         * slots past a stack's bottom, and must find NULL there (a stale
         * entry of a neighbouring stack could be a recycled block of this
         * class). */
        total_slots += 2 * (cap + 2);
    }
}

static _Noreturn void double_free(void *p) { sable_fatal("free(): double free of %p", p); }

/* The fast path's double-free compares, repeated where a slow path pushes. */
static void check_not_cached(void *const *cur, void *const *empty, void *p)
{
    for (int i = 0; i < 2 && cur + i < empty; i++)
        if (cur[i] == p) double_free(p);
}

/* Takes up to n blocks of class sc from arena a into out. Large classes are
 * taken one run at a time: speculative large runs would cost memory. */
static unsigned fill_blocks(arena_t *a, unsigned sc, void **out, unsigned n)
{
    if (sc < SC_NSMALL) return arena_bin_fill(a, sc, out, n);
    out[0] = arena_large_alloc(a, sc_size(sc), 0);
    return out[0] != NULL;
}

static void flush_blocks(unsigned sc, void *const *ptrs, unsigned n)
{
    if (sc < SC_NSMALL) {
        arena_bin_flush(sc, ptrs, n);
        return;
    }
    for (unsigned i = 0; i < n; i++) arena_large_free(ptrs[i]);
}

/* dst may be the shared "exited" totals, which uncached operations update
 * atomically without the pool lock: add atomically (a stats path, rare). */
static void add_counter(uint64_t *dst, const uint64_t *src)
{
    __atomic_fetch_add(dst, __atomic_load_n(src, __ATOMIC_RELAXED), __ATOMIC_RELAXED);
}

static void counts_add(tcache_counts_t *dst, const tcache_counts_t *src)
{
    for (unsigned c = 0; c < SC_NCACHED; c++) {
        add_counter(&dst->nalloc[c], &src->nalloc[c]);
        add_counter(&dst->nfree[c], &src->nfree[c]);
    }
    add_counter(&dst->big_alloc_bytes, &src->big_alloc_bytes);
    add_counter(&dst->big_free_bytes, &src->big_free_bytes);
}

/* Operations of threads without a cache (torn down, tcache:false, the fill
 * modes) are counted in arena 0's "exited" totals, atomically: no lock of
 * its own on every operation. */
static void count_uncached(unsigned sc, uint64_t nalloc, uint64_t nfree)
{
    if (sc >= SC_NCACHED) return;
    __atomic_fetch_add(&exited[0].nalloc[sc], nalloc, __ATOMIC_RELAXED);
    __atomic_fetch_add(&exited[0].nfree[sc], nfree, __ATOMIC_RELAXED);
}

static void thread_exit(void *arg);
static void prefork(void);
static void postfork(void);
static void postfork_child(void);

/* ---- the background purger (background_thread:true) ----
 * One detached thread runs decay passes on every arena, so memory comes
 * back even when the program has gone idle. It is started lazily from a
 * slow path (never from a constructor: a library must not start threads
 * while the program is still being loaded) and again in a forked child,
 * which inherits none of the parent's threads. */
static _Atomic int bg_started;

static void *bg_main(void *arg)
{
    (void)arg;
    for (;;) {
        unsigned ms = opt_dirty_decay_ms / 4;
        os_sleep_ms(ms < 10 ? 10 : ms > 1000 ? 1000 : ms);
        arena_decay_due();
    }
    return NULL;
}

static void bg_maybe_start(void)
{
    if (!opt_background_thread || atomic_load_explicit(&bg_started, memory_order_relaxed)) return;
    if (atomic_exchange(&bg_started, 1)) return;
    /* pthread_create may call malloc: fine, no lock is held here. On failure
     * the flag stays set: the program runs on slow-path decay alone. */
    if (!os_thread_start(bg_main, NULL)) os_warn("background_thread: cannot start the thread");
}

bool tcache_global_init(void)
{
    int st = atomic_load_explicit(&init_state, memory_order_acquire);
    if (st == 0) {
        pthread_mutex_lock(&init_lock);
        st = atomic_load_explicit(&init_state, memory_order_relaxed);
        if (st == 0) {
            /* Nothing in here may allocate: a malloc from this thread would
             * re-enter and deadlock on init_lock. */
            os_init();
            opt_init();
            compute_caps();
            unsigned n = opt_narenas ? opt_narenas : os_ncpus();
            st = arena_boot(n) && pthread_key_create(&exit_key, thread_exit) == 0 ? 1 : -1;
            if (st == 1) {
                exited = meta_alloc(arena_count() * sizeof *exited);
                if (exited == NULL) st = -1;
            }
            atomic_store_explicit(&init_state, st, memory_order_release);
        }
        pthread_mutex_unlock(&init_lock);
        /* pthread_atfork may allocate: register outside the init lock, once
         * everything it could call into is ready. */
        if (st == 1 && !atomic_exchange(&atfork_done, 1))
            pthread_atfork(prefork, postfork, postfork_child);
    }
    return st == 1;
}

static tcache_t *thread_init(void)
{
    if (!tcache_global_init()) return NULL;
    if (!opt_tcache || arena_free_fill() >= 0) {
        unsigned i = atomic_fetch_add_explicit(&next_arena, 1, memory_order_relaxed);
        direct_arena = i % arena_count();
        /* Per-thread seed for the secure mode's block order: the address of
         * a thread-local and the clock differ between threads and runs. */
        direct_rng = (uint64_t)(uintptr_t)&direct_rng ^ os_now_ns() ^ ((uint64_t)i << 32);
        tcache_tls = &tcache_dead;
        return &tcache_dead;
    }
    pthread_mutex_lock(&pool_lock);
    tcache_t *tc = pool;
    if (tc) pool = tc->next_free;
    pthread_mutex_unlock(&pool_lock);
    if (tc == NULL) {
        tc = meta_alloc(sizeof(tcache_t) + total_slots * sizeof(void *));
        if (tc == NULL) return NULL;
    }
    memset(&tc->counts, 0, sizeof tc->counts);
    void **slot = tc->slots;
    for (unsigned c = 0; c < SC_NCACHED; c++) {
        tc->full[c] = slot;
        slot += bin_cap[c];
        tc->empty[c] = tc->cur[c] = slot;
        slot += 2; /* guard slots, NULL forever */
    }
    for (unsigned c = 0; c < SC_NCACHED; c++) {
        tc->rfull[c] = slot;
        slot += bin_cap[c];
        tc->rempty[c] = tc->rcur[c] = slot;
        slot += 2;
    }
    unsigned i = atomic_fetch_add_explicit(&next_arena, 1, memory_order_relaxed);
    tc->arena = arena_get(i % arena_count());
    atomic_fetch_add_explicit(&tc->arena->nthreads, 1, memory_order_relaxed);
    tc->next_free = NULL;
    tc->state = TCACHE_LIVE;
    pthread_mutex_lock(&pool_lock);
    tc->prev_live = NULL;
    tc->next_live = live;
    if (live) live->prev_live = tc;
    live = tc;
    pthread_mutex_unlock(&pool_lock);
    /* Publish before pthread_setspecific: it may call calloc (keys >= 32),
     * which must find this cache instead of setting up another. */
    tcache_tls = tc;
    pthread_setspecific(exit_key, tc);
    return tc;
}

static void bin_flush_all(tcache_t *tc)
{
    for (unsigned c = 0; c < SC_NCACHED; c++) {
        unsigned n = (unsigned)(tc->empty[c] - tc->cur[c]);
        if (n) flush_blocks(c, tc->cur[c], n);
        tc->cur[c] = tc->empty[c];
        n = (unsigned)(tc->rempty[c] - tc->rcur[c]);
        if (n) flush_blocks(c, tc->rcur[c], n);
        tc->rcur[c] = tc->rempty[c];
    }
}

static void thread_exit(void *arg)
{
    tcache_t *tc = arg;
    if (tc == NULL || tc->state != TCACHE_LIVE) return;
    bin_flush_all(tc);
    /* From here on this thread's frees (from later TLS destructors) go
     * straight to the arenas and never build a new cache. */
    tcache_tls = &tcache_dead;
    atomic_fetch_sub_explicit(&tc->arena->nthreads, 1, memory_order_relaxed);
    tc->state = TCACHE_DEAD;
    pthread_mutex_lock(&pool_lock);
    if (tc->prev_live)
        tc->prev_live->next_live = tc->next_live;
    else
        live = tc->next_live;
    if (tc->next_live) tc->next_live->prev_live = tc->prev_live;
    counts_add(&exited[tc->arena->index], &tc->counts);
    tc->next_free = pool;
    pool = tc;
    pthread_mutex_unlock(&pool_lock);
}

/* ---- uncached operation, with the checks of the fill modes ----
 * Every free small block holds arena_free_fill()'s byte: freeing writes it,
 * handing the block out again checks that nothing wrote to the block in
 * between (a write through a dangling pointer), then junk fills it. */

static uint64_t next_random(void)
{
    uint64_t x = direct_rng; /* xorshift64 */
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return direct_rng = x ? x : 0x9e3779b97f4a7c15u;
}

static void *alloc_uncached(unsigned sc)
{
    arena_t *a = arena_get(direct_arena);
    int fill = arena_free_fill();
    void *p;
    if (sc < SC_NSMALL && opt_secure) {
        p = arena_bin_alloc_random(a, sc, next_random());
    } else if (!fill_blocks(a, sc, &p, 1)) {
        p = NULL;
    }
    if (p == NULL || sc >= SC_NSMALL || fill < 0) return p;
    /* Blocks are multiples of 16 bytes and 16-aligned: compare by words. */
    uint64_t want = 0x0101010101010101u * (unsigned char)fill;
    const uint64_t *w = p;
    for (size_t i = 0; i < sc_size(sc) / 8; i++)
        if (w[i] != want) sable_fatal("heap corruption detected at %p", p);
    if (opt_junk) memset(p, 0xa5, sc_size(sc));
    return p;
}

static void free_uncached(tcache_t *tc, void *p, unsigned sc)
{
    int fill = arena_free_fill();
    if (fill >= 0 && sc < SC_NSMALL) memset(p, fill, sc_size(sc));
    flush_blocks(sc, &p, 1);
    if (tc) count_uncached(sc, 0, 1);
}

void *tcache_alloc_slow(tcache_t *tc, unsigned sc)
{
    /* Failure sets errno here so that the malloc fast path can return the
     * cache's answer as it is. */
    if (tc->state == TCACHE_BOOT && (tc = thread_init()) == NULL) goto oom;
    if (tc->state == TCACHE_DEAD) {
        void *p = alloc_uncached(sc);
        if (p == NULL) goto oom;
        count_uncached(sc, 1, 0);
        return p;
    }
    if (tc->cur[sc] == tc->empty[sc]) {
        unsigned n = (unsigned)(tc->empty[sc] - tc->full[sc]) / 2;
        if (n == 0) n = 1;
        void **dst = tc->empty[sc] - n;
        unsigned got = fill_blocks(tc->arena, sc, dst, n);
        if (got == 0) goto oom;
        if (got < n) memmove(tc->empty[sc] - got, dst, got * sizeof(void *));
        tc->cur[sc] = tc->empty[sc] - got;
        bg_maybe_start();
    }
    tc->counts.nalloc[sc]++;
    return *tc->cur[sc]++;
oom:
    errno = ENOMEM;
    return NULL;
}

/* Pushes p onto one of its class's stacks (local or remote) after the
 * slow path's double-free check. A full stack is flushed first: the local one
 * keeps its most recent half (warm blocks, about to be reused), the remote
 * one is emptied (its blocks are never reused by this thread). */
static void stack_push(tcache_t *tc, void ***cur, void **full, void **empty, void *p,
                       unsigned sc, bool keep_half)
{
    check_not_cached(*cur, empty, p);
    if (*cur == full) {
        unsigned cap = (unsigned)(empty - full);
        unsigned n = keep_half ? cap - cap / 2 : cap;
        flush_blocks(sc, empty - n, n);
        memmove(full + n, full, (cap - n) * sizeof(void *));
        *cur = full + n;
        bg_maybe_start();
    }
    *--*cur = p;
    tc->counts.nfree[sc]++;
}

/* The fast path's stack was full, held p already, or this thread has no
 * cache yet (the boot and dead caches land here for every free). */
void tcache_free_slow(tcache_t *tc, void *p, unsigned sc)
{
    if (tc->state == TCACHE_BOOT) tc = thread_init();
    if (tc == NULL || tc->state == TCACHE_DEAD) {
        free_uncached(tc, p, sc);
        return;
    }
    if (chunk_of(p)->arena == tc->arena)
        stack_push(tc, &tc->cur[sc], tc->full[sc], tc->empty[sc], p, sc, true);
    else
        stack_push(tc, &tc->rcur[sc], tc->rfull[sc], tc->rempty[sc], p, sc, false);
}

arena_t *tcache_arena(void)
{
    tcache_t *tc = tcache_tls;
    if (tc->state == TCACHE_BOOT) tc = thread_init();
    if (tc == NULL) return NULL;
    return tc->state == TCACHE_LIVE ? tc->arena : arena_get(direct_arena);
}

void tcache_flush(void)
{
    tcache_t *tc = tcache_tls;
    if (tc->state == TCACHE_LIVE) bin_flush_all(tc);
}

void tcache_count_big(size_t alloc_bytes, size_t free_bytes)
{
    tcache_t *tc = tcache_tls;
    if (tc->state == TCACHE_BOOT) tc = thread_init();
    if (tc && tc->state == TCACHE_LIVE) {
        tc->counts.big_alloc_bytes += alloc_bytes;
        tc->counts.big_free_bytes += free_bytes;
    } else if (tc) {
        __atomic_fetch_add(&exited[0].big_alloc_bytes, alloc_bytes, __ATOMIC_RELAXED);
        __atomic_fetch_add(&exited[0].big_free_bytes, free_bytes, __ATOMIC_RELAXED);
    }
}

static uint64_t counted_bytes(const uint64_t *per_class, uint64_t big)
{
    uint64_t b = big;
    for (unsigned c = 0; c < SC_NCACHED; c++) b += per_class[c] * sc_size(c);
    return b;
}

void tcache_stats_thread(uint64_t *allocated, uint64_t *deallocated)
{
    tcache_t *tc = tcache_tls;
    if (tc->state != TCACHE_LIVE) {
        *allocated = *deallocated = 0;
        return;
    }
    *allocated = counted_bytes(tc->counts.nalloc, tc->counts.big_alloc_bytes);
    *deallocated = counted_bytes(tc->counts.nfree, tc->counts.big_free_bytes);
}

void tcache_stats_sum(int arena_index, tcache_counts_t *sum, size_t *cached_bytes)
{
    memset(sum, 0, sizeof *sum);
    *cached_bytes = 0;
    if (!tcache_global_init()) return;
    pthread_mutex_lock(&pool_lock);
    for (unsigned i = 0; i < arena_count(); i++)
        if (arena_index < 0 || (unsigned)arena_index == i) counts_add(sum, &exited[i]);
    for (tcache_t *tc = live; tc; tc = tc->next_live) {
        if (arena_index >= 0 && tc->arena->index != (unsigned)arena_index) continue;
        counts_add(sum, &tc->counts);
        for (unsigned c = 0; c < SC_NCACHED; c++) {
            void **cur = __atomic_load_n(&tc->cur[c], __ATOMIC_RELAXED);
            *cached_bytes += (size_t)(tc->empty[c] - cur) * sc_size(c);
        }
        for (unsigned c = 0; c < SC_NCACHED; c++) {
            void **rcur = __atomic_load_n(&tc->rcur[c], __ATOMIC_RELAXED);
            *cached_bytes += (size_t)(tc->rempty[c] - rcur) * sc_size(c);
        }
    }
    pthread_mutex_unlock(&pool_lock);
}

#define FORK_HOOKS 4
static struct {
    void (*prefork)(void), (*parent)(void), (*child)(void);
} fork_hooks[FORK_HOOKS];
static _Atomic unsigned nfork_hooks;

void tcache_fork_hook(void (*prefork)(void), void (*postfork_parent)(void),
                      void (*postfork_child)(void))
{
    pthread_mutex_lock(&pool_lock);
    unsigned n = atomic_load_explicit(&nfork_hooks, memory_order_relaxed);
    if (n == FORK_HOOKS) sable_fatal("tcache_fork_hook: too many hooks");
    fork_hooks[n].prefork = prefork;
    fork_hooks[n].parent = postfork_parent;
    fork_hooks[n].child = postfork_child;
    atomic_store_explicit(&nfork_hooks, n + 1, memory_order_release);
    pthread_mutex_unlock(&pool_lock);
}

static void prefork(void)
{
    unsigned n = atomic_load_explicit(&nfork_hooks, memory_order_acquire);
    for (unsigned i = 0; i < n; i++) fork_hooks[i].prefork();
    pthread_mutex_lock(&pool_lock);
    arena_prefork();
    huge_prefork();
    pm_prefork();
    meta_prefork();
}

/* Parent and child alike: the forking thread took every lock, so it can
 * release them. In the child, the caches of threads that did not survive
 * the fork are simply never used again; blocks they held are lost, blocks
 * they had handed out can be freed normally. */
static void postfork_locks(void)
{
    meta_postfork();
    pm_postfork();
    huge_postfork();
    arena_postfork();
    pthread_mutex_unlock(&pool_lock);
}

static void postfork(void)
{
    postfork_locks();
    for (unsigned i = atomic_load_explicit(&nfork_hooks, memory_order_acquire); i-- > 0;)
        fork_hooks[i].parent();
}

static void postfork_child(void)
{
    postfork_locks();
    for (unsigned i = atomic_load_explicit(&nfork_hooks, memory_order_acquire); i-- > 0;)
        fork_hooks[i].child();
    atomic_store_explicit(&bg_started, 0, memory_order_relaxed);
}
