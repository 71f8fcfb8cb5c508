/* Arenas and caches as objects, the behaviours of jemalloc's integration
 * tests thread_arena, thread_tcache_enabled and MALLOCX_ARENA and of its
 * unit test arena_reset, written for sable: arenas.create, thread.arena
 * moves, arena.<i>.reset and destroy (memory comes back: RSS and
 * stats.mapped fall), per-arena dirty_decay_ms, thread.tcache.enabled and
 * explicit caches (tcache.create/flush/destroy, SABLE_MALLOCX_TCACHE).
 * Prefixed API: the harness runs on the C library's malloc. */
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl_test.h"

#define MiB ((size_t)1 << 20)

static unsigned create_arena(void)
{
    unsigned i = 0;
    size_t len = sizeof i;
    cr_assert_eq(sable_mallctl("arenas.create", &i, &len, NULL, 0), 0);
    return i;
}

static int arena_op(unsigned i, const char *op)
{
    char name[64];
    return sable_mallctl(ctl_name(name, "arena.%u.%s", i, op), NULL, NULL, NULL, 0);
}

static unsigned arena_of(void *p)
{
    unsigned i = 9999;
    size_t len = sizeof i;
    cr_assert_eq(sable_mallctl("arenas.lookup", &i, &len, &p, sizeof p), 0);
    return i;
}

static size_t mapped(void)
{
    ctl_epoch();
    return ctl_z("stats.mapped");
}

static size_t rss(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    cr_assert_not_null(f);
    unsigned long size = 0, res = 0;
    cr_assert_eq(fscanf(f, "%lu %lu", &size, &res), 2);
    fclose(f);
    return res * (size_t)sysconf(_SC_PAGESIZE);
}

static void set_thread_arena(unsigned i)
{
    cr_assert_eq(sable_mallctl("thread.arena", NULL, NULL, &i, sizeof i), 0);
}

/* Blocks of every kind in arena i, written: small, large, huge. */
#define NBLOCKS 3000
static void *blocks[NBLOCKS];
static size_t fill_arena(unsigned i, int flags)
{
    size_t total = 0;
    for (unsigned k = 0; k < NBLOCKS; k++) {
        size_t n = k % 100 == 0 ? 3 * MiB : k % 10 == 0 ? 40000 : 16 + (k % 64) * 16;
        blocks[k] = sable_mallocx(n, SABLE_MALLOCX_ARENA(i) | flags);
        cr_assert_not_null(blocks[k]);
        memset(blocks[k], 0x5c, n);
        cr_assert_eq(arena_of(blocks[k]), i, "a block of %zu bytes comes from arena %u", n, i);
        total += n;
    }
    return total;
}

Test(objects, arenas_create_makes_a_new_arena_and_narenas_counts_it)
{
    unsigned n = ctl_u("arenas.narenas"), i = create_arena();
    cr_assert_eq(i, n, "the next index");
    cr_assert_eq(ctl_u("arenas.narenas"), n + 1);
    char name[64];
    bool init = false;
    size_t len = sizeof init;
    cr_assert_eq(sable_mallctl(ctl_name(name, "arena.%u.initialized", i), &init, &len, NULL, 0), 0);
    cr_assert(init);
    void *hooks = (void *)1;
    unsigned j = 0;
    len = sizeof j;
    cr_assert_eq(sable_mallctl("arenas.create", &j, &len, &hooks, sizeof hooks), EINVAL,
                 "sable has no extent hooks: only NULL is taken");
}

Test(objects, mallocx_arena_allocates_from_it_past_the_cache)
{
    unsigned i = create_arena();
    fill_arena(i, SABLE_MALLOCX_TCACHE_NONE);
    for (unsigned k = 0; k < NBLOCKS; k++)
        sable_dallocx(blocks[k], SABLE_MALLOCX_ARENA(i));
    unsigned gone = ctl_u("arenas.narenas") + 5;
    errno = 0;
    cr_assert_null(sable_mallocx(64, SABLE_MALLOCX_ARENA(gone)));
    cr_assert_eq(errno, EINVAL);
}

Test(objects, destroy_gives_the_arena_memory_back)
{
    unsigned i = create_arena();
    size_t m0 = mapped(), r0 = rss();
    size_t total = fill_arena(i, SABLE_MALLOCX_TCACHE_NONE);
    size_t m1 = mapped(), r1 = rss();
    cr_assert_geq(m1 - m0, total, "stats.mapped grew by what was allocated");
    cr_assert_geq(r1 - r0, total / 2, "and so did RSS");
    cr_assert_eq(arena_op(i, "destroy"), 0);
    size_t m2 = mapped(), r2 = rss();
    cr_assert_leq(m2, m0 + MiB, "stats.mapped falls back: %zu -> %zu -> %zu", m0, m1, m2);
    cr_assert_lt(r2, r1 - total / 2, "RSS falls back: %zu -> %zu -> %zu", r0, r1, r2);
    char name[64];
    bool init = true;
    size_t len = sizeof init;
    cr_assert_eq(sable_mallctl(ctl_name(name, "arena.%u.initialized", i), &init, &len, NULL, 0), 0);
    cr_assert(!init, "a destroyed arena is not initialized");
    errno = 0;
    cr_assert_null(sable_mallocx(64, SABLE_MALLOCX_ARENA(i)), "nothing allocates from it");
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(arena_op(i, "reset"), EFAULT, "nor is it reset again");
    cr_assert_eq(create_arena(), i, "arenas.create takes the index again");
    cr_assert(sable_mallctl(name, &init, &len, NULL, 0) == 0 && init);
    fill_arena(i, SABLE_MALLOCX_TCACHE_NONE);
    cr_assert_eq(arena_op(i, "destroy"), 0);
}

Test(objects, reset_discards_every_block_and_the_arena_serves_again)
{
    unsigned i = create_arena();
    char name[64];
    for (int round = 0; round < 3; round++) {
        fill_arena(i, SABLE_MALLOCX_TCACHE_NONE);
        ctl_epoch();
        cr_assert_gt(ctl_z(ctl_name(name, "stats.arenas.%u.small.allocated", i)), 0);
        cr_assert_eq(arena_op(i, "reset"), 0);
        ctl_epoch();
        cr_assert_eq(ctl_z(ctl_name(name, "stats.arenas.%u.small.allocated", i)), 0);
        cr_assert_eq(ctl_z(ctl_name(name, "stats.arenas.%u.large.allocated", i)), 0);
        cr_assert_eq(ctl_z(ctl_name(name, "stats.arenas.%u.mapped", i)), 0, "no chunk left");
        uint64_t nm = ctl_q(ctl_name(name, "stats.arenas.%u.small.nmalloc", i));
        uint64_t nd = ctl_q(ctl_name(name, "stats.arenas.%u.small.ndalloc", i));
        cr_assert_eq(nm, nd, "the discarded blocks count as freed");
    }
    cr_assert_eq(arena_op(i, "destroy"), 0);
}

Test(objects, reset_and_destroy_take_created_arenas_only)
{
    cr_assert_eq(arena_op(0, "reset"), EFAULT, "arena 0 is automatic");
    cr_assert_eq(arena_op(0, "destroy"), EFAULT);
    cr_assert_eq(arena_op(SABLE_MALLCTL_ARENAS_ALL, "reset"), EFAULT, "one arena, not all");
    cr_assert_eq(arena_op(ctl_u("arenas.narenas"), "destroy"), EFAULT);
}

Test(objects, destroy_is_refused_while_a_thread_is_attached)
{
    unsigned i = create_arena(), home = ctl_u("thread.arena");
    set_thread_arena(i);
    void *p = sable_malloc(100);
    cr_assert_eq(arena_of(p), i, "the thread allocates from its new arena");
    sable_free(p);
    cr_assert_eq(arena_op(i, "destroy"), EFAULT);
    set_thread_arena(home);
    cr_assert_eq(arena_op(i, "destroy"), 0);
}

/* jemalloc's thread_arena: each thread moves to an arena, and its
 * allocations come from there. */
static void *move_and_allocate(void *arg)
{
    unsigned i = *(unsigned *)arg, old = 9999;
    size_t len = sizeof old;
    cr_assert_eq(sable_mallctl("thread.arena", &old, &len, &i, sizeof i), 0);
    cr_assert_neq(old, 9999u, "a write returns the arena before it");
    cr_assert_eq(ctl_u("thread.arena"), i);
    for (int k = 0; k < 1000; k++) {
        void *p = sable_malloc((size_t)(k % 200) * 8 + 1);
        cr_assert_eq(arena_of(p), i);
        sable_free(p);
    }
    void *big = sable_malloc(300000);
    cr_assert_eq(arena_of(big), i, "large blocks too");
    sable_free(big);
    return NULL;
}

Test(objects, thread_arena_moves_each_thread)
{
    unsigned idx[4];
    pthread_t t[4];
    unsigned n = ctl_u("arenas.narenas");
    for (int k = 0; k < 4; k++) {
        idx[k] = k < 2 ? create_arena() : (unsigned)k % n;
        cr_assert_eq(pthread_create(&t[k], NULL, move_and_allocate, &idx[k]), 0);
    }
    for (int k = 0; k < 4; k++)
        pthread_join(t[k], NULL);
    unsigned destroyed = ctl_u("arenas.narenas") + 1;
    cr_assert_eq(sable_mallctl("thread.arena", NULL, NULL, &destroyed, sizeof destroyed), EFAULT);
    cr_assert_eq(arena_op(idx[0], "destroy"), 0, "its thread has exited");
    cr_assert_eq(sable_mallctl("thread.arena", NULL, NULL, &idx[0], sizeof idx[0]), EFAULT,
                 "a destroyed arena takes no thread");
    cr_assert_eq(arena_op(idx[1], "destroy"), 0);
}

/* The arena of a block freed after its arena was destroyed: the pointer
 * names no live block any more, and free ends with one line naming it. */
Test(objects, a_block_of_a_destroyed_arena_is_an_invalid_pointer)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 2);
        unsigned i = create_arena();
        void *p = sable_mallocx(5 * MiB, SABLE_MALLOCX_ARENA(i));
        fprintf(stderr, "%p\n", p);
        if (arena_op(i, "destroy") != 0) _exit(3);
        sable_free(p);
        _exit(0);
    }
    close(fds[1]);
    char out[512] = {0};
    size_t got = 0;
    ssize_t r;
    while (got < sizeof out - 1 && (r = read(fds[0], out + got, sizeof out - 1 - got)) > 0)
        got += (size_t)r;
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "aborts (status %d)", status);
    char ptr[32] = {0};
    cr_assert_eq(sscanf(out, "%31s", ptr), 1);
    cr_assert_not_null(strstr(out + strlen(ptr), ptr), "the message names %s: %s", ptr, out);
}

Test(objects, each_arena_decays_by_its_own_time)
{
    unsigned fast = create_arena(), slow = create_arena();
    char name[64];
    ssize_t zero = 0, minute = 60000, got = -1;
    size_t len = sizeof got;
    cr_assert_eq(sable_mallctl(ctl_name(name, "arena.%u.dirty_decay_ms", fast), NULL, NULL, &zero,
                               sizeof zero),
                 0);
    cr_assert_eq(sable_mallctl(ctl_name(name, "arena.%u.dirty_decay_ms", slow), &got, &len, &minute,
                               sizeof minute),
                 0);
    cr_assert_eq(got, (ssize_t)ctl_z("arenas.dirty_decay_ms"),
                 "a write returns the value before it: the default it followed");
    cr_assert_eq(
        sable_mallctl(ctl_name(name, "arena.%u.dirty_decay_ms", slow), &got, &len, NULL, 0), 0);
    cr_assert_eq(got, minute);
    cr_assert_eq(
        sable_mallctl(ctl_name(name, "stats.arenas.%u.dirty_decay_ms", fast), &got, &len, NULL, 0),
        0);
    cr_assert_eq(got, 0);
    ssize_t never = -1;
    cr_assert_eq(sable_mallctl(ctl_name(name, "arena.%u.dirty_decay_ms", fast), NULL, NULL, &never,
                               sizeof never),
                 EFAULT, "sable always purges, in time");
    cr_assert_eq(sable_mallctl("arena.4096.dirty_decay_ms", NULL, NULL, &zero, sizeof zero), EFAULT,
                 "one arena at a time");

    size_t m0 = mapped();
    void *p = sable_mallocx(32 * MiB, SABLE_MALLOCX_ARENA(fast));
    memset(p, 1, 32 * MiB);
    sable_free(p);
    size_t m1 = mapped();
    cr_assert_lt(m1, m0 + 4 * MiB, "decay 0: the freed block is purged at once (%zu -> %zu)", m0,
                 m1);
    p = sable_mallocx(32 * MiB, SABLE_MALLOCX_ARENA(slow));
    memset(p, 1, 32 * MiB);
    sable_free(p);
    size_t m2 = mapped();
    cr_assert_geq(m2, m1 + 32 * MiB, "a minute: it stays, dirty (%zu -> %zu)", m1, m2);
    cr_assert_eq(arena_op(fast, "destroy"), 0);
    cr_assert_eq(arena_op(slow, "destroy"), 0);
}

/* jemalloc's thread_tcache_enabled. */
Test(objects, thread_tcache_enabled_switches_the_cache)
{
    bool on = false, off = false, yes = true;
    size_t len = sizeof on;
    cr_assert_eq(sable_mallctl("thread.tcache.enabled", &on, &len, NULL, 0), 0);
    cr_assert(on, "on by default");
    cr_assert_eq(sable_mallctl("thread.tcache.flush", NULL, NULL, NULL, 0), 0);
    char name[64];
    unsigned me = ctl_u("thread.arena");
    ctl_name(name, "stats.arenas.%u.tcache_bytes", me);
    void *p[64];
    for (int k = 0; k < 64; k++)
        p[k] = sable_malloc(48);
    for (int k = 0; k < 64; k++)
        sable_free(p[k]);
    ctl_epoch();
    cr_assert_gt(ctl_z(name), 0, "on: freed blocks stay cached");
    cr_assert_eq(sable_mallctl("thread.tcache.enabled", &on, &len, &off, sizeof off), 0);
    cr_assert(on, "the write returns the value before it");
    ctl_epoch();
    cr_assert_eq(ctl_z(name), 0, "switching off flushes");
    for (int k = 0; k < 64; k++)
        p[k] = sable_malloc(48);
    for (int k = 0; k < 64; k++)
        cr_assert_not_null(p[k]);
    for (int k = 0; k < 64; k++)
        sable_free(p[k]);
    ctl_epoch();
    cr_assert_eq(ctl_z(name), 0, "off: nothing is cached");
    cr_assert_eq(sable_mallctl("thread.tcache.enabled", &on, &len, &yes, sizeof yes), 0);
    cr_assert(!on);
    for (int k = 0; k < 64; k++)
        p[k] = sable_malloc(48);
    for (int k = 0; k < 64; k++)
        sable_free(p[k]);
    ctl_epoch();
    cr_assert_gt(ctl_z(name), 0, "on again");
}

/* Explicit caches: jemalloc's tcache.create and MALLOCX_TCACHE. */
Test(objects, an_explicit_cache_serves_its_blocks_again_until_flushed)
{
    unsigned id = 0;
    size_t len = sizeof id;
    cr_assert_eq(sable_mallctl("tcache.create", &id, &len, NULL, 0), 0);
    int f = SABLE_MALLOCX_TCACHE(id);
    void *p = sable_mallocx(64, f);
    cr_assert_not_null(p);
    sable_dallocx(p, f);
    cr_assert_eq(sable_mallocx(64, f), p, "the freed block comes back from the cache");
    ctl_epoch();
    size_t before = ctl_z("stats.tcache_bytes");
    void *q[32];
    for (int k = 0; k < 32; k++)
        q[k] = sable_mallocx(256, f | SABLE_MALLOCX_ZERO);
    for (int k = 0; k < 32; k++)
        cr_assert_eq(((char *)q[k])[255], 0, "zeroed");
    for (int k = 0; k < 32; k++)
        sable_sdallocx(q[k], 256, f);
    sable_dallocx(p, f);
    ctl_epoch();
    cr_assert_gt(ctl_z("stats.tcache_bytes"), before, "its blocks count as cached");
    cr_assert_eq(sable_mallctl("tcache.flush", NULL, NULL, &id, sizeof id), 0);
    ctl_epoch();
    cr_assert_leq(ctl_z("stats.tcache_bytes"), before, "tcache.flush empties it");
    cr_assert_eq(sable_mallctl("tcache.flush", &id, &len, NULL, 0), EPERM, "written only");
    void *big = sable_mallocx(5 * MiB, f);
    cr_assert_not_null(big, "huge blocks come from its arena");
    sable_dallocx(big, f);
    cr_assert_eq(sable_mallctl("tcache.destroy", NULL, NULL, &id, sizeof id), 0);
    errno = 0;
    cr_assert_null(sable_mallocx(64, f), "a destroyed id names no cache");
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(sable_mallctl("tcache.flush", NULL, NULL, &id, sizeof id), EFAULT);
    cr_assert_eq(sable_mallctl("tcache.destroy", NULL, NULL, &id, sizeof id), EFAULT);
    unsigned again = 9999;
    cr_assert_eq(sable_mallctl("tcache.create", &again, &len, NULL, 0), 0);
    cr_assert_eq(again, id, "the id is given out again");
    cr_assert_eq(sable_mallctl("tcache.destroy", NULL, NULL, &again, sizeof again), 0);
}

static void *use_cache(void *arg)
{
    int f = SABLE_MALLOCX_TCACHE(*(unsigned *)arg);
    for (int k = 0; k < 20000; k++) {
        void *p = sable_mallocx((size_t)(k % 300) * 16 + 1, f);
        cr_assert_not_null(p);
        memset(p, 7, (size_t)(k % 300) * 16 + 1);
        sable_dallocx(p, f);
    }
    return NULL;
}

Test(objects, an_explicit_cache_serves_any_thread_in_turn)
{
    unsigned id = 0;
    size_t len = sizeof id;
    cr_assert_eq(sable_mallctl("tcache.create", &id, &len, NULL, 0), 0);
    for (int k = 0; k < 3; k++) {
        pthread_t t;
        cr_assert_eq(pthread_create(&t, NULL, use_cache, &id), 0);
        pthread_join(t, NULL);
    }
    cr_assert_eq(sable_mallctl("tcache.destroy", NULL, NULL, &id, sizeof id), 0);
}

Test(objects, reset_flushes_the_explicit_caches_first)
{
    unsigned i = create_arena(), home = ctl_u("thread.arena"), id = 0;
    size_t len = sizeof id;
    set_thread_arena(i);
    cr_assert_eq(sable_mallctl("tcache.create", &id, &len, NULL, 0), 0);
    set_thread_arena(home);
    int f = SABLE_MALLOCX_TCACHE(id);
    for (int k = 0; k < 100; k++) {
        void *p = sable_mallocx(96, f);
        cr_assert_eq(arena_of(p), i, "the cache belongs to the arena of its creator");
        sable_dallocx(p, f);
    }
    cr_assert_eq(arena_op(i, "destroy"), 0);
    void *p = sable_mallocx(96, f);
    cr_assert_not_null(p, "the cache of a destroyed arena moves to arena 0");
    cr_assert_eq(arena_of(p), 0);
    sable_dallocx(p, f);
    cr_assert_eq(sable_mallctl("tcache.destroy", NULL, NULL, &id, sizeof id), 0);
}
