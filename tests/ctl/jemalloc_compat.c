/* jemalloc's names at work: the behaviours jemalloc's integration test
 * `allocated`, its `MALLOCX_ARENA` test (to the arenas that exist) and the
 * parts of its unit tests mallctl.c and stats.c about these names check,
 * written for sable. Writable names must act: background_thread starts and
 * stops the purger, arenas.dirty_decay_ms changes when memory is purged,
 * thread.peak.reset starts a new peak. Prefixed API: the harness runs on
 * the C library's malloc. */
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctl_test.h"


static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* ---- thread.allocated, thread.allocatedp (jemalloc's `allocated`) ---- */

static uint64_t *ctl_p(const char *name)
{
    uint64_t *p = NULL;
    size_t len = sizeof p;
    cr_assert_eq(sable_mallctl(name, &p, &len, NULL, 0), 0, "%s", name);
    cr_assert_not_null(p, "%s", name);
    return p;
}

static void *allocated_counts(void *arg)
{
    (void)arg;
    uint64_t a0 = ctl_q("thread.allocated"), *ap0 = ctl_p("thread.allocatedp");
    cr_assert_eq(*ap0, a0, "the pointer's value is thread.allocated");
    uint64_t d0 = ctl_q("thread.deallocated"), *dp0 = ctl_p("thread.deallocatedp");
    cr_assert_eq(*dp0, d0);
    void *p = sable_malloc(1);
    size_t usable = sable_malloc_usable_size(p);
    uint64_t a1 = ctl_q("thread.allocated"), *ap1 = ctl_p("thread.allocatedp");
    cr_assert_eq(ap1, ap0, "the pointer does not change");
    cr_assert_eq(*ap1, a1);
    cr_assert_geq(a1, a0 + usable, "grew by at least what was allocated");
    sable_free(p);
    uint64_t d1 = ctl_q("thread.deallocated"), *dp1 = ctl_p("thread.deallocatedp");
    cr_assert_eq(dp1, dp0);
    cr_assert_eq(*dp1, d1);
    cr_assert_geq(d1, d0 + usable);
    /* The copy is brought up to date by reads: a big allocation, then a
     * read of thread.allocated, and the old pointer shows it. */
    void *big = sable_malloc(1 << 20);
    uint64_t a2 = ctl_q("thread.allocated");
    cr_assert_eq(*ap0, a2);
    cr_assert_geq(a2, a1 + (1 << 20));
    sable_free(big);
    return NULL;
}

Test(compat, thread_allocated_and_its_pointer_in_the_main_thread_and_others)
{
    for (int round = 0; round < 3; round++) {
        allocated_counts(NULL);
        pthread_t t;
        cr_assert_eq(pthread_create(&t, NULL, allocated_counts, NULL), 0);
        pthread_join(t, NULL);
    }
}

/* ---- MALLOCX_ARENA to the arenas that exist, and arenas.lookup ---- */

static unsigned lookup(const void *p)
{
    unsigned a = UINT32_MAX;
    size_t len = sizeof a;
    int err = sable_mallctl("arenas.lookup", &a, &len, (void *)&p, sizeof p);
    cr_assert_eq(err, 0, "arenas.lookup: %d", err);
    return a;
}

Test(compat, mallocx_arena_allocates_from_that_arena)
{
    unsigned n = ctl_u("arenas.narenas");
    static const size_t sizes[] = {8, 100, 4000, 20000, 300000, 3 << 20};
    for (unsigned i = 0; i < n; i++) {
        for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
            void *p = sable_mallocx(sizes[k], SABLE_MALLOCX_ARENA(i));
            cr_assert_not_null(p);
            cr_assert_eq(lookup(p), i, "%zu B from arena %u", sizes[k], i);
            /* Freed by free(): it goes back to its own arena. */
            if (k % 2) sable_free(p); else sable_dallocx(p, SABLE_MALLOCX_ARENA(i));
        }
    }
    /* The thread's own blocks are its arena's. */
    void *q = sable_malloc(64);
    cr_assert_eq(lookup(q), ctl_u("thread.arena"));
    sable_free(q);
}

Test(compat, arenas_lookup_refuses_what_is_not_a_block)
{
    char on_stack[64];
    const void *p = on_stack;
    unsigned a;
    size_t len = sizeof a;
    cr_assert_eq(sable_mallctl("arenas.lookup", &a, &len, (void *)&p, sizeof p), EINVAL);
    cr_assert_eq(sable_mallctl("arenas.lookup", &a, &len, NULL, 0), EINVAL, "nothing written");
    p = NULL;
    cr_assert_eq(sable_mallctl("arenas.lookup", &a, &len, (void *)&p, sizeof p), EINVAL);
}

/* ---- writable names that act ---- */

static bool bg_enabled(void)
{
    bool b = false;
    size_t len = sizeof b;
    cr_assert_eq(sable_mallctl("background_thread", &b, &len, NULL, 0), 0);
    return b;
}

Test(compat, background_thread_starts_and_stops_the_purger)
{
    cr_assert(!bg_enabled(), "off by default");
    cr_assert_eq(ctl_z("stats.background_thread.num_threads"), 0);
    bool on = true, old = true;
    size_t len = sizeof old;
    cr_assert_eq(sable_mallctl("background_thread", &old, &len, &on, sizeof on), 0);
    cr_assert(!old, "a write returns the value before it");
    cr_assert(bg_enabled());
    cr_assert_eq(ctl_z("stats.background_thread.num_threads"), 1);
    uint64_t runs = 0;
    for (int i = 0; i < 500 && (runs = ctl_q("stats.background_thread.num_runs")) < 2; i++)
        sleep_ms(10);
    cr_assert_geq(runs, 2, "the purger runs decay passes");
    cr_assert_gt(ctl_q("stats.background_thread.run_interval"), 0);
    bool off = false;
    cr_assert_eq(sable_mallctl("background_thread", NULL, NULL, &off, sizeof off), 0);
    cr_assert_eq(ctl_z("stats.background_thread.num_threads"), 0, "stopped before the return");
    runs = ctl_q("stats.background_thread.num_runs");
    sleep_ms(100);
    cr_assert_eq(ctl_q("stats.background_thread.num_runs"), runs, "and stays stopped");
    bool opt = true;
    len = sizeof opt;
    cr_assert_eq(sable_mallctl("opt.background_thread", &opt, &len, NULL, 0), 0);
    cr_assert(!opt, "opt.* keeps the start-up value");
    cr_assert_eq(sable_mallctl("background_thread", NULL, NULL, &on, 4), EINVAL);
}

Test(compat, max_background_threads_is_one)
{
    size_t v = 0, len = sizeof v, one = 1, two = 2, zero = 0;
    cr_assert_eq(sable_mallctl("max_background_threads", &v, &len, NULL, 0), 0);
    cr_assert_eq(v, 1);
    cr_assert_eq(sable_mallctl("opt.max_background_threads", &v, &len, NULL, 0), 0);
    cr_assert_eq(v, 1);
    cr_assert_eq(sable_mallctl("max_background_threads", NULL, NULL, &one, sizeof one), 0);
    cr_assert_eq(sable_mallctl("max_background_threads", NULL, NULL, &two, sizeof two), EINVAL);
    cr_assert_eq(sable_mallctl("max_background_threads", NULL, NULL, &zero, sizeof zero), EINVAL);
}

static ssize_t ctl_ss(const char *name)
{
    ssize_t v = 0;
    size_t len = sizeof v;
    cr_assert_eq(sable_mallctl(name, &v, &len, NULL, 0), 0, "%s", name);
    return v;
}

/* Writing 0 makes every arena purge what is freed at once: a freed large
 * run is dirty under the default and clean under 0. */
Test(compat, arenas_dirty_decay_ms_changes_when_memory_is_purged)
{
    ssize_t start = ctl_ss("opt.dirty_decay_ms");
    cr_assert_gt(start, 0);
    cr_assert_eq(ctl_ss("arenas.dirty_decay_ms"), start);
    cr_assert_eq(ctl_ss("stats.arenas.0.dirty_decay_ms"), start);
    void *keep = sable_mallocx(1 << 20, SABLE_MALLOCX_TCACHE_NONE);
    char *p = sable_mallocx(1 << 20, SABLE_MALLOCX_TCACHE_NONE);
    memset(p, 1, 1 << 20);
    sable_dallocx(p, SABLE_MALLOCX_TCACHE_NONE);
    ctl_epoch();
    cr_assert_geq(ctl_z("stats.frag.dirty_bytes"), (size_t)1 << 20, "dirty under the default");
    sable_mallctl("arena.4096.purge", NULL, NULL, NULL, 0);

    ssize_t zero = 0, old = -5, bad = -1, big = 86400001;
    size_t len = sizeof old;
    cr_assert_eq(sable_mallctl("arenas.dirty_decay_ms", &old, &len, &zero, sizeof zero), 0);
    cr_assert_eq(old, start, "a write returns the value before it");
    cr_assert_eq(ctl_ss("arenas.dirty_decay_ms"), 0);
    cr_assert_eq(ctl_ss("stats.arenas.0.dirty_decay_ms"), 0);
    cr_assert_eq(ctl_ss("opt.dirty_decay_ms"), start, "opt.* keeps the start-up value");
    p = sable_mallocx(1 << 20, SABLE_MALLOCX_TCACHE_NONE);
    memset(p, 1, 1 << 20);
    sable_dallocx(p, SABLE_MALLOCX_TCACHE_NONE);
    ctl_epoch();
    cr_assert_lt(ctl_z("stats.frag.dirty_bytes"), (size_t)1 << 20, "purged at once under 0");

    cr_assert_eq(sable_mallctl("arenas.dirty_decay_ms", NULL, NULL, &bad, sizeof bad), EFAULT);
    cr_assert_eq(sable_mallctl("arenas.dirty_decay_ms", NULL, NULL, &big, sizeof big), EFAULT);
    cr_assert_eq(sable_mallctl("arenas.dirty_decay_ms", NULL, NULL, &zero, 4), EINVAL);
    cr_assert_eq(ctl_ss("arenas.dirty_decay_ms"), 0, "refused writes change nothing");
    cr_assert_eq(sable_mallctl("arenas.dirty_decay_ms", NULL, NULL, &start, sizeof start), 0);
    sable_dallocx(keep, 0);
}

Test(compat, names_without_a_concept_take_their_value_and_refuse_others)
{
    ssize_t zero = 0, some = 10000;
    cr_assert_eq(sable_mallctl("arenas.muzzy_decay_ms", NULL, NULL, &zero, sizeof zero), 0);
    cr_assert_eq(sable_mallctl("arenas.muzzy_decay_ms", NULL, NULL, &some, sizeof some), EFAULT);
    cr_assert_eq(sable_mallctl("arena.0.muzzy_decay_ms", NULL, NULL, &some, sizeof some), EFAULT);
    const char *dss = NULL, *disabled = "disabled", *primary = "primary", *bogus = "bogus";
    size_t len = sizeof dss;
    cr_assert_eq(sable_mallctl("arena.0.dss", &dss, &len, NULL, 0), 0);
    cr_assert_str_eq(dss, "disabled");
    cr_assert_eq(sable_mallctl("arena.0.dss", NULL, NULL, &disabled, sizeof disabled), 0);
    cr_assert_eq(sable_mallctl("arena.0.dss", NULL, NULL, &primary, sizeof primary), EFAULT);
    cr_assert_eq(sable_mallctl("arena.4096.dss", NULL, NULL, &bogus, sizeof bogus), EINVAL);
    size_t limit = ctl_z("arena.0.retain_grow_limit"), other = limit / 2;
    cr_assert_gt(limit, 0);
    cr_assert_eq(sable_mallctl("arena.0.retain_grow_limit", NULL, NULL, &limit, sizeof limit), 0);
    cr_assert_eq(sable_mallctl("arena.0.retain_grow_limit", NULL, NULL, &other, sizeof other),
                 EFAULT);
}

/* jemalloc's thread.peak (its mallctl unit test): a fresh thread's peak
 * follows what it holds, within one cache refill, also when it has freed
 * everything again before the read, and reset starts over. */
static void *peak_thread(void *arg)
{
    (void)arg;
    cr_assert_eq(ctl_q("thread.peak.read"), 0, "a new thread has held nothing");
    enum { N = 10000, SIZE = 112 };
    static void *p[N];
    for (int i = 0; i < N; i++) p[i] = sable_malloc(SIZE);
    uint64_t peak = ctl_q("thread.peak.read");
    cr_assert_eq(peak, (uint64_t)N * SIZE, "a read samples what the thread holds");
    for (int i = 0; i < N; i++) sable_free(p[i]);
    cr_assert_eq(ctl_q("thread.peak.read"), peak, "freeing does not lower a peak");
    cr_assert_eq(sable_mallctl("thread.peak.reset", NULL, NULL, NULL, 0), 0);
    cr_assert_eq(ctl_q("thread.peak.read"), 0);
    /* Held and all freed again between two reads: the refills saw it. */
    for (int i = 0; i < N; i++) p[i] = sable_malloc(SIZE);
    for (int i = 0; i < N; i++) sable_free(p[i]);
    peak = ctl_q("thread.peak.read");
    cr_assert_geq(peak, (uint64_t)N * SIZE * 9 / 10, "peak %" PRIu64 " of %d", peak, N * SIZE);
    cr_assert_leq(peak, (uint64_t)N * SIZE);
    cr_assert_eq(sable_mallctl("thread.peak.reset", NULL, NULL, NULL, 0), 0);
    void *big = sable_malloc(3 << 20);
    sable_free(big);
    cr_assert_geq(ctl_q("thread.peak.read"), (uint64_t)3 << 20, "a huge block counts at once");
    return NULL;
}

Test(compat, thread_peak_follows_what_the_thread_holds)
{
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, peak_thread, NULL), 0);
    pthread_join(t, NULL);
}

Test(compat, thread_idle_flushes_the_cache)
{
    void *p[64];
    for (int i = 0; i < 64; i++) p[i] = sable_malloc(48);
    for (int i = 0; i < 64; i++) sable_free(p[i]);
    ctl_epoch();
    cr_assert_gt(ctl_z("stats.tcache_bytes"), 0);
    cr_assert_eq(sable_mallctl("thread.idle", NULL, NULL, NULL, 0), 0);
    ctl_epoch();
    cr_assert_eq(ctl_z("stats.tcache_bytes"), 0);
}

/* ---- fixed answers and types (jemalloc's mallctl unit test) ---- */

static bool ctl_b(const char *name)
{
    bool b = false;
    size_t len = sizeof b;
    cr_assert_eq(sable_mallctl(name, &b, &len, NULL, 0), 0, "%s", name);
    return b;
}

static const char *ctl_s(const char *name)
{
    const char *s = NULL;
    size_t len = sizeof s;
    cr_assert_eq(sable_mallctl(name, &s, &len, NULL, 0), 0, "%s", name);
    return s;
}

Test(compat, config_and_options_answer_with_jemallocs_types)
{
    cr_assert(ctl_b("config.stats"));
    cr_assert(ctl_b("config.fill"));
    cr_assert(!ctl_b("config.prof"));
    cr_assert_str_eq(ctl_s("config.malloc_conf"), "");
    cr_assert_str_eq(ctl_s("opt.junk"), "false");
    cr_assert(!ctl_b("opt.zero"));
    cr_assert(!ctl_b("opt.abort"));
    cr_assert(ctl_b("opt.retain"));
    cr_assert_str_eq(ctl_s("opt.dss"), "disabled");
    cr_assert_str_eq(ctl_s("opt.thp"), "default");
    cr_assert_str_eq(ctl_s("opt.zero_realloc"), "free");
    cr_assert_eq(ctl_ss("opt.muzzy_decay_ms"), 0);
    int64_t interval = 0;
    size_t len = sizeof interval;
    cr_assert_eq(sable_mallctl("opt.stats_interval", &interval, &len, NULL, 0), 0);
    cr_assert_eq(interval, -1);
    cr_assert_eq(ctl_z("opt.tcache_max"), ctl_z("arenas.tcache_max"));
    /* jemalloc's types: a bool read as unsigned, or ssize_t as unsigned, is
     * EINVAL. */
    unsigned u;
    len = sizeof u;
    cr_assert_eq(sable_mallctl("opt.dirty_decay_ms", &u, &len, NULL, 0), EINVAL);
    cr_assert_eq(sable_mallctl("opt.junk", &u, &len, NULL, 0), EINVAL);
    cr_assert_eq(sable_mallctl("prof.active", NULL, NULL, NULL, 0), ENOENT);
}

Test(compat, arenas_geometry_in_jemallocs_terms)
{
    unsigned nbins = ctl_u("arenas.nbins"), nhbins = ctl_u("arenas.nhbins");
    unsigned nl = ctl_u("arenas.nlextents");
    char name[64];
    cr_assert_gt(nhbins, nbins);
    size_t last_small = ctl_z(ctl_name(name, "arenas.bin.%u.size", nbins - 1));
    size_t first_large = ctl_z("arenas.lextent.0.size");
    cr_assert_gt(first_large, last_small, "large classes start above the small ones");
    cr_assert_eq(ctl_z(ctl_name(name, "arenas.lextent.%u.size", nhbins - nbins - 1)),
                 ctl_z("arenas.tcache_max"), "the cached classes end at tcache_max");
    size_t prev = 0;
    for (unsigned i = 0; i < nl; i++) {
        size_t s = ctl_z(ctl_name(name, "arenas.lextent.%u.size", i));
        cr_assert_gt(s, prev);
        prev = s;
    }
    cr_assert(ctl_b("arena.0.initialized"));
    cr_assert(ctl_b("arena.4096.initialized"));
}

/* ---- statistics (jemalloc's stats unit test) ---- */

Test(compat, arena_statistics_in_jemallocs_terms)
{
    void *small[100], *large = sable_mallocx(100000, SABLE_MALLOCX_TCACHE_NONE);
    for (int i = 0; i < 100; i++) small[i] = sable_mallocx(200, SABLE_MALLOCX_TCACHE_NONE);
    ctl_epoch();
    char name[96];
    uint64_t nmalloc = 0, ndalloc = 0, nfills = 0, nflushes = 0;
    for (unsigned j = 0; j < ctl_u("arenas.nbins"); j++) {
        nmalloc += ctl_q(ctl_name(name, "stats.arenas.4096.bins.%u.nmalloc", j));
        ndalloc += ctl_q(ctl_name(name, "stats.arenas.4096.bins.%u.ndalloc", j));
        nfills += ctl_q(ctl_name(name, "stats.arenas.4096.bins.%u.nfills", j));
        nflushes += ctl_q(ctl_name(name, "stats.arenas.4096.bins.%u.nflushes", j));
    }
    cr_assert_geq(nmalloc, 100);
    cr_assert_eq(ctl_q("stats.arenas.4096.small.nmalloc"), nmalloc);
    cr_assert_eq(ctl_q("stats.arenas.4096.small.ndalloc"), ndalloc);
    cr_assert_eq(ctl_q("stats.arenas.4096.small.nfills"), nfills);
    cr_assert_eq(ctl_q("stats.arenas.4096.small.nflushes"), nflushes);
    cr_assert_geq(ctl_q("stats.arenas.4096.large.nmalloc"), 1);
    unsigned n = ctl_u("arenas.narenas");
    size_t retained = 0;
    for (unsigned i = 0; i < n; i++) retained += ctl_z(ctl_name(name, "stats.arenas.%u.retained", i));
    cr_assert_eq(retained, ctl_z("stats.retained"));
    cr_assert_eq(ctl_q("stats.arenas.0.dirty_npurge"), ctl_q("stats.arenas.0.npurge"));
    cr_assert_eq(ctl_q("stats.arenas.0.dirty_purged"), ctl_q("stats.arenas.0.purged"));
    cr_assert_eq(ctl_z("stats.arenas.0.pmuzzy"), 0);
    uint64_t up = ctl_q("stats.arenas.0.uptime");
    sleep_ms(20);
    cr_assert_geq(ctl_q("stats.arenas.0.uptime") - up, 20000000ull, "uptime is in ns");
    for (int i = 0; i < 100; i++) sable_dallocx(small[i], SABLE_MALLOCX_TCACHE_NONE);
    sable_dallocx(large, SABLE_MALLOCX_TCACHE_NONE);
    ctl_epoch();
    cr_assert_geq(ctl_q("stats.arenas.4096.small.ndalloc"), ndalloc + 100, "freed past the cache");
}

Test(compat, zero_reallocs_counts_realloc_to_zero)
{
    size_t before = ctl_z("stats.zero_reallocs");
    for (int i = 0; i < 3; i++) cr_assert_null(sable_realloc(sable_malloc(10), 0));
    void *p = sable_realloc(NULL, 0); /* malloc(0): not a zero realloc */
    cr_assert_not_null(p);
    sable_free(p);
    cr_assert_eq(ctl_z("stats.zero_reallocs"), before + 3);
}

/* ---- SABLE_CONF's abort ---- */

/* abort:true makes a run-time warning fatal: a failed munmap (an unaligned
 * address) warns once; under abort:true the process aborts there. In a
 * child program, since sable reads SABLE_CONF when it starts. */
static int warn_child(const char *conf)
{
    const char *child = getenv("CTL_CHILD");
    cr_assert_not_null(child, "CTL_CHILD names the child program");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "SABLE_CONF='%s' exec '%s' warn 2>/dev/null", conf, child);
    return system(cmd);
}

Test(compat, abort_makes_run_time_warnings_fatal)
{
    int st = warn_child("");
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "a warning alone: status %#x", st);
    st = warn_child("abort:true");
    /* The shell execs the child, so system reports the signal itself. */
    cr_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT, "abort:true: status %#x", st);
}
