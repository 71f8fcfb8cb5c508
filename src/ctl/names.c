/* src/ctl/names.c — every name of the control tree: its type, whether it can
 * be written, its doc string and its stats_print sections, one row each,
 * with the getters, setters and actions the rows point to.
 *
 * This table is the only list of names: sable_mallctl resolves through it,
 * sable_malloc_stats_print walks it (text and JSON), and docs/mallctl.md's
 * name tables are generated from it (tests/ctl/mallctl_doc.c; a test fails
 * when the doc is stale). Adding a name is one row here; a new figure also
 * needs its field in src/ctl/figures.h. opt.* is not spelled out: its rows
 * are those of the option table (src/options/options.c).
 *
 * jemalloc's names (docs/jemalloc-names.tsv lists every one of its 5.3 man
 * page with what sable answers; tests/ctl/jemalloc_names.c probes them)
 * have jemalloc's types. A writable one acts, or refuses a value it cannot
 * honour with jemalloc's error code; one whose concept sable lacks reads
 * jemalloc's value for "none" (0, false, "disabled"). Their rows are
 * appended to each table, which keeps sable's MIBs. A jemalloc rw name
 * carries CTL_OLD: a write hands back the value before it.
 *
 * Invariants: a row's doc is one Markdown sentence or two, without numbers
 * measured on some machine; printing order is row order; appending a row
 * keeps every existing MIB.
 *
 * Locking: getters of stats.* read the snapshot under the control lock,
 * which the caller holds (src/ctl/lock.h); the others read live values.
 * Setters run under it too, which serialises background_thread's switches.
 */
#include <errno.h>
#include <string.h>
#include <sys/types.h>

#include "arena/arena.h"
#include "arena/huge.h"
#include "arena/lookup.h"
#include "arena/pageheap.h"
#include "ctl/figures.h"
#include "ctl/tree.h"
#include "options/options.h"
#include "os/os.h"
#include "arena/limit.h"
#include "process/explicit.h"
#include "process/place.h"
#include "process/process.h"
#include "process/reclaim.h"
#include "process/threads.h"
#include "sable.h"
#include "sizeclass/sizeclass.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---- indices ---- */

/* arena.<i> and stats.arenas.<i> accept every arena, and arenas.narenas or
 * SABLE_MALLCTL_ARENAS_ALL for all of them at once. */
static bool valid_arena(size_t i) { return i <= arena_count() || i == SABLE_MALLCTL_ARENAS_ALL; }
static unsigned arena_sel(size_t i) { return i < arena_count() ? (unsigned)i : CTL_ARENAS_ALL; }
/* arena.<i>.reset, destroy and dirty_decay_ms name one arena, never all. */
static arena_t *one_arena(const ctl_ctx_t *x)
{
    unsigned i = arena_sel(x->idx[0]);
    return i == CTL_ARENAS_ALL ? NULL : arena_get(i);
}

/* The printers walk every arena, then all of them merged. */
static unsigned arena_entries(void) { return arena_count() + 1; }
static void arena_entry(unsigned k, ctl_entry_t *e)
{
    if (k < arena_count()) {
        e->index = k;
        os_format(e->buf, sizeof e->buf, "%zu", (size_t)k);
        e->key = e->buf;
        e->sections = CTL_S_ARENAS;
    } else {
        e->index = SABLE_MALLCTL_ARENAS_ALL;
        e->key = "merged";
        e->sections = CTL_S_MERGED;
    }
}

/* Small size classes, labelled by their block size. */
static bool valid_bin(size_t i) { return i < SC_NSMALL; }
static unsigned bin_entries(void) { return SC_NSMALL; }
static void bin_entry(unsigned k, ctl_entry_t *e)
{
    e->index = k;
    e->label = sc_size(k);
}

/* The large classes that thread caches hold, above the small ones. */
#define NLARGE_CACHED (SC_NCACHED - SC_NSMALL)
static bool valid_lclass(size_t i) { return i < NLARGE_CACHED; }
static unsigned lclass_entries(void) { return NLARGE_CACHED; }
static void lclass_entry(unsigned k, ctl_entry_t *e) { e->index = k; }

/* arenas.lextent.<i>: every large class (above the small classes, up to
 * SC_LARGE_MAX), then one entry for the page-granular sizes above them,
 * whose size is the largest block there can be (jemalloc's largest class:
 * a request above it fails). */
#define NLARGE (SC_NCLASSES - SC_NSMALL)
#define NLEXTENTS (NLARGE + 1)
static bool valid_lextent(size_t i) { return i < NLEXTENTS; }
static unsigned lextent_entries(void) { return NLEXTENTS; }

static const ctl_index_t arena_index = {valid_arena, arena_entries, arena_entry, true, NULL, NULL};
static const ctl_index_t lextent_index = {valid_lextent, lextent_entries, lclass_entry, false,
                                          NULL, NULL};
static const ctl_index_t bin_index = {valid_bin, bin_entries, bin_entry, false, NULL, NULL};
static const ctl_index_t bin_index_sized = {valid_bin, bin_entries, bin_entry, false, "size",
                                            "the class's block size"};
static const ctl_index_t lclass_index = {valid_lclass, lclass_entries, lclass_entry, false, NULL,
                                         NULL};

/* ---- getters ---- */

static int g_const(ctl_ctx_t *x, size_t arg, ctl_val_t *v)
{
    (void)x;
    v->n = arg;
    return 0;
}

static int g_version(ctl_ctx_t *x, size_t arg, ctl_val_t *v)
{
    (void)x, (void)arg;
    v->s = SABLE_VERSION_STRING;
    return 0;
}

enum { G_NARENAS, G_PAGE, G_NBINS };
static int g_arenas(ctl_ctx_t *x, size_t arg, ctl_val_t *v)
{
    (void)x;
    v->n = arg == G_NARENAS ? arena_count() : arg == G_PAGE ? os_page_size() : SC_NSMALL;
    return 0;
}

/* The default decay time (arenas.dirty_decay_ms), which every arena
 * follows until arena.<i>.dirty_decay_ms gives it its own; writing it
 * moves all those at once. A value sable cannot honour (jemalloc's -1,
 * never, or above the option's maximum) is EFAULT, jemalloc's answer for a
 * decay time it refuses. */
static int g_decay(ctl_ctx_t *x, size_t arg, ctl_val_t *v)
{
    (void)x, (void)arg;
    v->n = opt_decay_ms();
    return 0;
}

static int decay_value(const void *newp, size_t newlen, unsigned *out)
{
    ssize_t ms;
    int err = ctl_new_value(newp, newlen, &ms, sizeof ms);
    if (err) return err;
    if (ms < 0 || ms > 86400000) return EFAULT;
    *out = (unsigned)ms;
    return 0;
}

static int s_decay(ctl_ctx_t *x, const void *newp, size_t newlen)
{
    (void)x;
    unsigned ms;
    int err = decay_value(newp, newlen, &ms);
    if (!err) opt_decay_set(ms);
    return err;
}

/* arena.<i>.dirty_decay_ms: the arena's own decay time (or the default it
 * follows); one arena only (EFAULT for all, or a destroyed one). Above the
 * soft memory limit every arena purges at once whatever it says. */
static int g_arena_decay(ctl_ctx_t *x, size_t arg, ctl_val_t *v)
{
    (void)arg;
    arena_t *a = one_arena(x);
    if (a == NULL || arena_destroyed(a)) return EFAULT;
    unsigned own = atomic_load_explicit(&a->decay_ms, memory_order_relaxed);
    v->n = own == ARENA_DECAY_DEFAULT ? opt_decay_ms() : own;
    return 0;
}

static int g_stats_decay(ctl_ctx_t *x, size_t arg, ctl_val_t *v)
{
    arena_t *a = one_arena(x);
    return a == NULL || arena_destroyed(a) ? g_decay(x, arg, v) : g_arena_decay(x, arg, v);
}

static int s_arena_decay(ctl_ctx_t *x, const void *newp, size_t newlen)
{
    arena_t *a = one_arena(x);
    unsigned ms;
    int err = decay_value(newp, newlen, &ms);
    if (err) return err;
    if (a == NULL || arena_destroyed(a)) return EFAULT;
    arena_set_decay_ms(a, ms);
    return 0;
}

/* arenas.create: reading makes an arena and gives its index (EAGAIN when
 * ARENA_MAX exist). jemalloc's write of extent hooks: sable has none, so
 * only NULL (the default hooks) is taken; any other pointer is EINVAL. */
static int g_arena_create(ctl_ctx_t *x, size_t arg, ctl_val_t *v)
{
    (void)x, (void)arg;
    unsigned i;
    if (!process_init() || !arena_create(&i)) return EAGAIN;
    v->n = i;
    return 0;
}

static int s_arena_create(ctl_ctx_t *x, const void *newp, size_t newlen)
{
    (void)x;
    void *hooks;
    int err = ctl_new_value(newp, newlen, &hooks, sizeof hooks);
    return err ? err : hooks == NULL ? 0 : EINVAL;
}

/* arena.<i>.reset and destroy: created arenas only (EFAULT for an
 * automatic one, all of them, or one destroyed), as in jemalloc; destroy
 * also EFAULT while a thread is attached. The caller's cache and every
 * explicit cache are flushed first (they may hold the arena's blocks);
 * other threads' caches must hold none (the caller's part of jemalloc's
 * contract). */
static int a_reset(ctl_ctx_t *x, size_t destroy)
{
    arena_t *a = one_arena(x);
    if (a == NULL || a->index < arena_auto_count() || arena_destroyed(a)) return EFAULT;
    thread_flush();
    if (destroy && atomic_load_explicit(&a->nthreads, memory_order_relaxed) != 0) return EFAULT;
    threads_flush_explicit();
    if (destroy)
        arena_destroy(a);
    else
        arena_reset(a);
    threads_arena_discarded(a->index, destroy != 0);
    return 0;
}

/* Writable names of a concept sable has one way only (no muzzy stage, no
 * dss, a fixed growth step): writing the value they read succeeds, any
 * other is EFAULT, as jemalloc answers a setting it cannot make. arg: the
 * value. */
static int s_fixed_ssize(ctl_ctx_t *x, const void *newp, size_t newlen)
{
    (void)x;
    ssize_t v;
    int err = ctl_new_value(newp, newlen, &v, sizeof v);
    return err ? err : v == 0 ? 0 : EFAULT;
}

static int s_grow_limit(ctl_ctx_t *x, const void *newp, size_t newlen)
{
    (void)x;
    size_t v;
    int err = ctl_new_value(newp, newlen, &v, sizeof v);
    return err ? err : v == PH_STEP_MAX ? 0 : EFAULT;
}

/* arena.<i>.dss: jemalloc's names are "disabled", "primary", "secondary";
 * sable never uses sbrk, so only "disabled" can be set (the others are
 * EFAULT, any other string EINVAL, as in jemalloc). */
static int s_dss(ctl_ctx_t *x, const void *newp, size_t newlen)
{
    (void)x;
    const char *dss;
    int err = ctl_new_value(newp, newlen, &dss, sizeof dss);
    if (err) return err;
    if (dss == NULL) return EINVAL;
    if (strcmp(dss, "disabled") == 0) return 0;
    return strcmp(dss, "primary") == 0 || strcmp(dss, "secondary") == 0 ? EFAULT : EINVAL;
}

/* arenas.lookup: write a block's address, read its arena's index; a
 * pointer that is not a live block sable handed out is EINVAL (as is a
 * read without a write). */
static int s_lookup(ctl_ctx_t *x, const void *newp, size_t newlen)
{
    const void *p;
    int err = ctl_new_value(newp, newlen, &p, sizeof p);
    if (err) return err;
    ptr_info_t in = arena_lookup(p);
    if (in.kind == PTR_INVALID) return EINVAL;
    arena_t *a = in.kind == PTR_HUGE ? in.huge->arena : arena_owner(p);
    if (!arena_is(a)) return EINVAL;
    x->result = a->index;
    x->has_result = true;
    return 0;
}

static int g_lookup(ctl_ctx_t *x, size_t arg, ctl_val_t *v)
{
    (void)arg;
    if (!x->has_result) return EINVAL;
    v->n = x->result;
    return 0;
}

/* False for a destroyed arena (until arenas.create takes it again). */
static int g_arena_initialized(ctl_ctx_t *x, size_t arg, ctl_val_t *v)
{
    (void)arg;
    arena_t *a = one_arena(x);
    v->n = a == NULL || !arena_destroyed(a);
    return 0;
}

/* Nanoseconds since arena i was set up (arena 0's for all of them, as in
 * jemalloc's merged figures). */
static int g_uptime(ctl_ctx_t *x, size_t arg, ctl_val_t *v)
{
    (void)arg;
    unsigned i = arena_sel(x->idx[0]);
    v->n = os_now_ns() - arena_get(i == CTL_ARENAS_ALL ? 0 : i)->born_ns;
    return 0;
}

/* background_thread: the purger switched at run time (src/process);
 * max_background_threads: sable runs one at most, so 1 is the only value
 * (a write of 1 succeeds; 0 or more than opt.max_background_threads is
 * EINVAL, as in jemalloc). */
static int g_background(ctl_ctx_t *x, size_t arg, ctl_val_t *v)
{
    (void)x, (void)arg;
    v->n = process_background_enabled();
    return 0;
}

static int s_background(ctl_ctx_t *x, const void *newp, size_t newlen)
{
    (void)x;
    bool on;
    int err = ctl_new_value(newp, newlen, &on, sizeof on);
    if (err) return err;
    return process_background_set(on) ? 0 : EFAULT;
}

static int s_max_background(ctl_ctx_t *x, const void *newp, size_t newlen)
{
    (void)x;
    size_t n;
    int err = ctl_new_value(newp, newlen, &n, sizeof n);
    return err ? err : n == 1 ? 0 : EINVAL;
}

enum { G_BG_THREADS, G_BG_RUNS, G_BG_INTERVAL, G_BG_RECLAIMS, G_BG_RECLAIMED, G_ZERO_REALLOCS };
static int g_process(ctl_ctx_t *x, size_t arg, ctl_val_t *v)
{
    (void)x;
    size_t threads;
    uint64_t runs, interval, reclaims, reclaimed;
    process_background_stats(&threads, &runs, &interval);
    reclaim_stats(&reclaims, &reclaimed);
    v->n = arg == G_BG_THREADS    ? threads
           : arg == G_BG_RUNS     ? runs
           : arg == G_BG_INTERVAL ? interval
           : arg == G_BG_RECLAIMS ? reclaims
           : arg == G_BG_RECLAIMED ? reclaimed
                                   : threads_zero_reallocs();
    return 0;
}

enum { G_BIN_SIZE, G_BIN_NREGS, G_BIN_SLAB, G_LCLASS_SIZE };
static int g_geometry(ctl_ctx_t *x, size_t arg, ctl_val_t *v)
{
    unsigned c = (unsigned)x->idx[x->nidx - 1];
    v->n = arg == G_BIN_SIZE     ? sc_size(c)
           : arg == G_BIN_NREGS  ? sc_nregs(c)
           : arg == G_BIN_SLAB   ? (uint64_t)sc_slab_units(c) << SC_UNIT_SHIFT
                                 : sc_size(SC_NSMALL + c);
    return 0;
}

/* thread.allocated and thread.deallocated; thread.allocatedp and
 * thread.deallocatedp point at this thread's copies of them, which every
 * read of the four brings up to date (sable counts blocks per class on the
 * fast path, not bytes: there is no byte counter to point at). */
static __thread uint64_t thread_bytes[2];

static int g_thread(ctl_ctx_t *x, size_t arg, ctl_val_t *v)
{
    (void)x;
    thread_stats_self(&thread_bytes[0], &thread_bytes[1]);
    v->n = thread_bytes[arg & 1];
    v->p = &thread_bytes[arg & 1];
    return 0;
}

static int g_lextent(ctl_ctx_t *x, size_t arg, ctl_val_t *v)
{
    (void)arg;
    size_t i = x->idx[x->nidx - 1];
    v->n = i < NLARGE ? sc_size(SC_NSMALL + (unsigned)i)
                      : (size_t)PTRDIFF_MAX & ~(os_page_size() - 1);
    return 0;
}

static int g_thread_peak(ctl_ctx_t *x, size_t arg, ctl_val_t *v)
{
    (void)x, (void)arg;
    v->n = thread_peak(false);
    return 0;
}

static int a_thread_peak_reset(ctl_ctx_t *x, size_t arg)
{
    (void)x, (void)arg;
    thread_peak(true);
    return 0;
}

/* thread.idle: what jemalloc does, flush the cache and decay the arena. */
static int a_thread_idle(ctl_ctx_t *x, size_t arg)
{
    (void)x, (void)arg;
    thread_flush();
    arena_t *a = thread_arena();
    if (a) arena_purge(a->index, false);
    return 0;
}

static int g_str(ctl_ctx_t *x, size_t arg, ctl_val_t *v)
{
    (void)x;
    static const char *const strs[] = {"", "disabled"};
    v->s = strs[arg];
    return 0;
}
enum { S_EMPTY, S_DISABLED };

/* A size_t field of the snapshot. */
static int g_snap(ctl_ctx_t *x, size_t off, ctl_val_t *v)
{
    int err = ctl_need_stats(x);
    if (err) return err;
    v->n = *(const size_t *)((const char *)x->s + off);
    return 0;
}

/* The figures a path names, computed from the snapshot into out. */
typedef void fill_t(const ctl_ctx_t *x, void *out);

static void fill_arena(const ctl_ctx_t *x, void *out)
{
    ctl_arena_read(x->s, arena_sel(x->idx[0]), out);
}

/* stats.arenas.<i>.bins.<j> (two indices) or stats.bins.<j> (one: every
 * arena). */
static void fill_class(const ctl_ctx_t *x, void *out)
{
    if (x->nidx == 2)
        ctl_class_read(x->s, arena_sel(x->idx[0]), (unsigned)x->idx[1], out);
    else
        ctl_class_read(x->s, CTL_ARENAS_ALL, (unsigned)x->idx[0], out);
}

static void fill_frag(const ctl_ctx_t *x, void *out) { ctl_frag_read(x->s, out); }

/* The uint64_t at offset `off` of the figures fill computes. */
static int figure(ctl_ctx_t *x, size_t off, ctl_val_t *v, fill_t *fill)
{
    union {
        ctl_arena_t a;
        ctl_class_t k;
        ctl_frag_t f;
    } fig;
    int err = ctl_need_stats(x);
    if (err) return err;
    fill(x, &fig);
    memcpy(&v->n, (const char *)&fig + off, sizeof v->n);
    return 0;
}

/* A field of ctl_arena_t, ctl_class_t or ctl_frag_t (arg: its offset). */
static int g_arena(ctl_ctx_t *x, size_t off, ctl_val_t *v) { return figure(x, off, v, fill_arena); }
static int g_class(ctl_ctx_t *x, size_t off, ctl_val_t *v) { return figure(x, off, v, fill_class); }
static int g_frag(ctl_ctx_t *x, size_t off, ctl_val_t *v) { return figure(x, off, v, fill_frag); }

static int g_lclass_allocated(ctl_ctx_t *x, size_t arg, ctl_val_t *v)
{
    (void)arg;
    int err = ctl_need_stats(x);
    if (err) return err;
    v->n = ctl_class_allocated(x->s, SC_NSMALL + (unsigned)x->idx[0]);
    return 0;
}

enum { G_HP_MAPPED, G_HP_FALLBACKS };
static int g_hugepages(ctl_ctx_t *x, size_t arg, ctl_val_t *v)
{
    (void)x;
    v->n = arg == G_HP_MAPPED ? ctl_hugepages_mapped() : ctl_hugepages_fallbacks();
    return 0;
}

/* ---- writable values and actions ---- */

static int g_epoch(ctl_ctx_t *x, size_t arg, ctl_val_t *v)
{
    (void)arg;
    if (ctl_need_stats(x)) return EAGAIN;
    v->n = x->s->epoch;
    return 0;
}

static int s_epoch(ctl_ctx_t *x, const void *newp, size_t newlen)
{
    uint64_t ignored;
    int err = ctl_new_value(newp, newlen, &ignored, sizeof ignored);
    if (err) return err;
    x->s = ctl_stats_refresh();
    return x->s ? 0 : EAGAIN;
}

/* thread.arena: reading gives the calling thread's arena; writing moves
 * the thread to another one, its cache flushed first (thread_set_arena).
 * As in jemalloc: an index out of range (or a destroyed arena) is EFAULT,
 * and with percpu_arena on, moving to an automatic arena is EPERM (the CPU
 * chooses those); a created arena is the thread's until it moves again. */
static int g_thread_arena(ctl_ctx_t *x, size_t arg, ctl_val_t *v)
{
    (void)x, (void)arg;
    arena_t *a = thread_arena();
    if (a == NULL) return EAGAIN;
    v->n = a->index;
    return 0;
}

static int s_thread_arena(ctl_ctx_t *x, const void *newp, size_t newlen)
{
    (void)x;
    arena_t *a = thread_arena();
    if (a == NULL) return EAGAIN;
    unsigned want;
    int err = ctl_new_value(newp, newlen, &want, sizeof want);
    if (err) return err;
    if (want >= arena_count() || arena_destroyed(arena_get(want))) return EFAULT;
    if (want == a->index) return 0;
    if (opt_percpu_arena != PERCPU_OFF && want < arena_auto_count()) return EPERM;
    thread_set_arena(arena_get(want));
    return 0;
}

/* thread.tcache.enabled (tcache_set_enabled). Switching a cache on in a
 * thread that has none (tcache:false, or a fill mode, which needs the
 * uncached path) is EFAULT. */
static int g_tcache_enabled(ctl_ctx_t *x, size_t arg, ctl_val_t *v)
{
    (void)x, (void)arg;
    int on = thread_cache_enabled();
    if (on < 0) return EAGAIN;
    v->n = (uint64_t)on;
    return 0;
}

static int s_tcache_enabled(ctl_ctx_t *x, const void *newp, size_t newlen)
{
    (void)x;
    bool on;
    int err = ctl_new_value(newp, newlen, &on, sizeof on);
    if (err) return err;
    return thread_cache_enable(on) ? 0 : EFAULT;
}

/* tcache.create, tcache.flush, tcache.destroy (src/process/explicit.h). */
static int g_tcache_create(ctl_ctx_t *x, size_t arg, ctl_val_t *v)
{
    (void)x, (void)arg;
    unsigned id;
    int err = process_init() ? explicit_create(&id) : EAGAIN;
    if (!err) v->n = id;
    return err;
}

static int s_tcache_flush(ctl_ctx_t *x, const void *newp, size_t newlen)
{
    (void)x;
    unsigned id;
    int err = ctl_new_value(newp, newlen, &id, sizeof id);
    return err ? err : explicit_flush(id);
}

static int s_tcache_destroy(ctl_ctx_t *x, const void *newp, size_t newlen)
{
    (void)x;
    unsigned id;
    int err = ctl_new_value(newp, newlen, &id, sizeof id);
    return err ? err : explicit_destroy(id);
}

static int g_never(ctl_ctx_t *x, size_t arg, ctl_val_t *v)
{
    (void)x, (void)arg, (void)v;
    return EPERM;
}

/* arena.<i>.purge returns every dirty free run of the arena (or of all
 * arenas); arena.<i>.decay only those dirty for at least dirty_decay_ms. */
static int a_purge(ctl_ctx_t *x, size_t all)
{
    unsigned sel = arena_sel(x->idx[0]);
    for (unsigned i = 0; i < arena_count(); i++)
        if (sel == CTL_ARENAS_ALL || sel == i) arena_purge(i, all != 0);
    return 0;
}

static int a_tcache_flush(ctl_ctx_t *x, size_t arg)
{
    (void)x, (void)arg;
    thread_flush();
    return 0;
}

/* ---- limits.* and topology.* ---- */

enum { G_LIM_HARD, G_LIM_SOFT_PCT, G_LIM_SOFT, G_LIM_COMMITTED, G_LIM_EVENTS, G_LIM_CG_MEM,
       G_LIM_CG_CPUS, G_TOPO_NNODES, G_TOPO_NUMA, G_TOPO_MOVES };
static int g_place(ctl_ctx_t *x, size_t arg, ctl_val_t *v)
{
    (void)x;
    if (!process_init()) return EAGAIN;
    switch (arg) {
    case G_LIM_HARD: v->n = limit_hard(); break;
    case G_LIM_SOFT_PCT: v->n = place_soft_percent(); break;
    case G_LIM_SOFT: v->n = limit_soft(); break;
    case G_LIM_COMMITTED: v->n = limit_committed(); break;
    case G_LIM_EVENTS: v->n = limit_soft_events(); break;
    case G_LIM_CG_MEM: v->n = place_cgroup_memory(); break;
    case G_LIM_CG_CPUS: v->n = place_cgroup_cpus(); break;
    case G_TOPO_NNODES: v->n = place_nnodes(); break;
    case G_TOPO_NUMA: v->n = place_numa_active(); break;
    default: v->n = place_moves(); break;
    }
    return 0;
}

/* The value written to a limit, once sable is set up (the limits start from
 * the options and the cgroup at set-up). */
static int limit_written(const void *newp, size_t newlen, void *out, size_t size)
{
    int err = ctl_new_value(newp, newlen, out, size);
    return err ? err : process_init() ? 0 : EAGAIN;
}

static int s_memory_limit(ctl_ctx_t *x, const void *newp, size_t newlen)
{
    (void)x;
    size_t bytes;
    int err = limit_written(newp, newlen, &bytes, sizeof bytes);
    if (!err) place_set_limits(bytes, place_soft_percent());
    return err;
}

static int s_memory_soft_limit(ctl_ctx_t *x, const void *newp, size_t newlen)
{
    (void)x;
    unsigned pct;
    int err = limit_written(newp, newlen, &pct, sizeof pct);
    if (!err && pct > 100) err = EINVAL;
    if (!err) place_set_limits(limit_hard(), pct);
    return err;
}

/* topology.nodes.<k>: node k's arenas, their threads and committed bytes
 * (live values, not the snapshot). */
static bool valid_node(size_t i) { return i < place_nnodes(); }
static unsigned node_entries(void) { return place_nnodes(); }
static void node_entry(unsigned k, ctl_entry_t *e)
{
    e->index = k;
    os_format(e->buf, sizeof e->buf, "%zu", (size_t)k);
    e->key = e->buf;
}
static const ctl_index_t node_index = {valid_node, node_entries, node_entry, true, NULL, NULL};

enum { G_NODE_NARENAS, G_NODE_NTHREADS, G_NODE_COMMITTED };
static int g_node(ctl_ctx_t *x, size_t arg, ctl_val_t *v)
{
    if (!process_init()) return EAGAIN;
    unsigned k = (unsigned)x->idx[x->nidx - 1];
    uint64_t n = 0;
    for (unsigned i = 0; i < threads_auto_count(); i++) {
        arena_t *a = arena_get(i);
        if (place_arena_node(i) != k) continue;
        n += arg == G_NODE_NARENAS    ? 1
             : arg == G_NODE_NTHREADS ? atomic_load_explicit(&a->nthreads, memory_order_relaxed)
                                      : limit_committed_of(a);
    }
    v->n = n;
    return 0;
}

/* ---- opt.*: the rows of the option table ---- */

/* The option's value (arg: its row). */
static int g_opt(ctl_ctx_t *x, size_t row, ctl_val_t *v)
{
    (void)x;
    size_t n;
    const opt_desc_t *o = &opt_table(&n)[row];
    switch (o->type) {
    case OPT_BOOL: v->n = *(const bool *)o->var; break;
    case OPT_UINT: v->n = *(const unsigned *)o->var; break;
    case OPT_INT: v->n = (uint64_t) * (const int64_t *)o->var; break;
    case OPT_SIZE: v->n = *(const size_t *)o->var; break;
    case OPT_ENUM: v->s = opt_enum_name(o); break;
    default: v->s = (const char *)o->var; break;
    }
    return 0;
}

static size_t opt_count(void)
{
    size_t n;
    opt_table(&n);
    return n;
}

/* Integer options read as unsigned (or as the row's jemalloc type: size_t,
 * ssize_t), signed ones as int64_t, byte counts as size_t, booleans as bool,
 * enumerations and
 * strings as const char *. */
static void opt_row(size_t k, ctl_node_t *out)
{
    size_t n;
    const opt_desc_t *o = &opt_table(&n)[k];
    unsigned char type = o->type == OPT_BOOL    ? CTL_T_BOOL
                         : o->type == OPT_INT   ? CTL_T_I64
                         : o->type == OPT_SIZE  ? CTL_T_SIZE
                         : o->type != OPT_UINT  ? CTL_T_STR
                         : o->as == OPT_AS_SIZE  ? CTL_T_SIZE
                         : o->as == OPT_AS_SSIZE ? CTL_T_SSIZE
                                                 : CTL_T_UNSIGNED;
    *out = (ctl_node_t){.name = o->name, .doc = o->doc, .kind = CTL_VALUE, .type = type,
                        .flags = CTL_CONST, .get = g_opt, .arg = k};
}

static const ctl_rows_t opt_rows = {opt_count, opt_row};

/* ---- the rows ---- */

/* Row macros: name, then how to read it, then the doc. B marks a count of
 * bytes, N any other number (for the printers' "12.3 MiB" column). */
#define B CTL_BYTES
#define N 0
#define VAL(nm, ty, fl, g, a, d)                                                                   \
    {.name = nm, .doc = d, .kind = CTL_VALUE, .type = ty, .flags = fl, .get = g, .arg = (a)}
#define RW(nm, ty, g, s, d) {.name = nm, .doc = d, .kind = CTL_VALUE, .type = ty, .get = g, .set = s}
/* A writable name whose write returns the value before it, as jemalloc's do. */
#define RWO(nm, ty, fl, g, s, a, d)                                                                \
    {.name = nm, .doc = d, .kind = CTL_VALUE, .type = ty, .flags = CTL_OLD | (fl), .get = g,     \
     .set = s, .arg = (a)}
#define ACT(nm, f, a, d) {.name = nm, .doc = d, .kind = CTL_ACTION, .act = f, .arg = (a)}
#define GROUP(nm, sec, d, k)                                                                       \
    {.name = nm, .doc = d, .kind = CTL_GROUP, .sections = sec, .kids = k, .nkids = NELEM(k)}
/* A named node whose component is followed by a number: `nm.<ph>.kid`. */
#define INDEXED(nm, ix) {.name = nm, .kind = CTL_GROUP, .kids = ix, .nkids = 1}
#define INDEX(ph, idx, sec, fl, d, k)                                                              \
    {.name = ph, .doc = d, .kind = CTL_INDEX, .index = idx, .sections = sec, .flags = fl,          \
     .kids = k, .nkids = NELEM(k)}

#define GEOM(nm, ty, fl, a, d) VAL(nm, ty, CTL_CONST | (fl), g_geometry, a, d)
#define SNAP(nm, fl, f, d) VAL(nm, CTL_T_SIZE, fl, g_snap, offsetof(ctl_stats_t, f), d)
#define AR(nm, ty, fl, f, d) VAL(nm, ty, fl, g_arena, offsetof(ctl_arena_t, f), d)
#define ARB(nm, f, d)                                                                              \
    {.name = nm, .doc = d, .kind = CTL_VALUE, .type = CTL_T_U64, .sections = CTL_S_BINS,          \
     .get = g_arena, .arg = offsetof(ctl_arena_t, f)}
#define CLS(nm, ty, fl, f, d) VAL(nm, ty, fl, g_class, offsetof(ctl_class_t, f), d)
#define FRAG(nm, f, d) VAL(nm, CTL_T_SIZE, B, g_frag, offsetof(ctl_frag_t, f), d)
#define HP(nm, ty, fl, a, d) VAL(nm, ty, fl, g_hugepages, a, d)

static const ctl_node_t arenas_bin_leaves[] = {
    GEOM("size", CTL_T_SIZE, B, G_BIN_SIZE, "block size of class `j`"),
    GEOM("nregs", CTL_T_U32, N, G_BIN_NREGS, "blocks per slab"),
    GEOM("slab_size", CTL_T_SIZE, B, G_BIN_SLAB, "bytes per slab"),
};
static const ctl_node_t arenas_bin_index[] = {
    INDEX("<j>", &bin_index, CTL_S_BINS, 0,
          "small size class `j`, `0 .. arenas.nbins - 1` (the same `j` as in `stats.bins.<j>`)",
          arenas_bin_leaves),
};
static const ctl_node_t arenas_lextent_leaves[] = {
    VAL("size", CTL_T_SIZE, CTL_CONST | B, g_lextent, 0,
        "block size of large class `i`; the last entry, past the classes, is the largest block "
        "there can be (sizes above the classes are page granular)"),
};
static const ctl_node_t arenas_lextent_index[] = {
    INDEX("<i>", &lextent_index, CTL_S_LARGE, 0,
          "large size class `i`, `0 .. arenas.nlextents - 1`, above the small classes",
          arenas_lextent_leaves),
};
static const ctl_node_t arenas_kids[] = {
    VAL("narenas", CTL_T_UNSIGNED, N, g_arenas, G_NARENAS,
        "number of arena indices: the automatic arenas, then those `arenas.create` made "
        "(destroyed ones included, until created again)"),
    {.name = "create", .kind = CTL_VALUE, .type = CTL_T_UNSIGNED, .flags = CTL_NOPRINT,
     .get = g_arena_create, .set = s_arena_create,
     .doc = "reading makes a new arena and gives its index (`EAGAIN` when 256 exist); a "
            "write (jemalloc's extent hooks) takes only `NULL`"},
    VAL("page", CTL_T_SIZE, CTL_CONST | B, g_arenas, G_PAGE,
        "the kernel's page size (the pages of `pactive`/`pdirty`)"),
    VAL("quantum", CTL_T_SIZE, CTL_CONST | B, g_const, SC_QUANTUM,
        "every block is aligned to the quantum"),
    VAL("nbins", CTL_T_UNSIGNED, CTL_CONST, g_arenas, G_NBINS, "number of small size classes"),
    INDEXED("bin", arenas_bin_index),
    RWO("dirty_decay_ms", CTL_T_SSIZE, 0, g_decay, s_decay, 0,
        "the default decay time, in ms (starts at `opt.dirty_decay_ms`): every arena without "
        "its own `arena.<i>.dirty_decay_ms` follows it, and writing moves them all at once, "
        "arenas created later included (0 to 86400000, else `EFAULT`)"),
    RWO("muzzy_decay_ms", CTL_T_SSIZE, CTL_CONST, g_const, s_fixed_ssize, 0,
        "0: no muzzy stage (writing 0 succeeds, another value is `EFAULT`)"),
    VAL("tcache_max", CTL_T_SIZE, CTL_CONST | B, g_const, SC_CACHED_MAX,
        "the largest size thread caches hold"),
    VAL("nhbins", CTL_T_UNSIGNED, CTL_CONST, g_const, SC_NCACHED,
        "number of size classes thread caches hold"),
    VAL("nlextents", CTL_T_UNSIGNED, CTL_CONST, g_const, NLEXTENTS,
        "number of large size classes, and one more entry for the page-granular sizes above "
        "them"),
    INDEXED("lextent", arenas_lextent_index),
    {.name = "lookup", .kind = CTL_VALUE, .type = CTL_T_UNSIGNED, .flags = CTL_NOPRINT,
     .get = g_lookup, .set = s_lookup,
     .doc = "write a block's address (`void *`), read the index of its arena; `EINVAL` for a "
            "pointer sable did not hand out, or a read without a write"},
};

static const ctl_node_t arena_leaves[] = {
    ACT("purge", a_purge, 1, "return every dirty free run of arena `i` to the OS now"),
    ACT("decay", a_purge, 0,
        "return the free runs of arena `i` that have been dirty for at least "
        "`arenas.dirty_decay_ms` (what a decay pass does)"),
    VAL("initialized", CTL_T_BOOL, CTL_NOPRINT, g_arena_initialized, 0,
        "true unless arena `i` was destroyed (and not created again since)"),
    ACT("reset", a_reset, 0,
        "discard every block of arena `i` at once, a created arena only (else `EFAULT`): its "
        "memory goes back to its page heap; the caller's cache and every explicit cache are "
        "flushed first, and no other thread's cache may hold its blocks"),
    ACT("destroy", a_reset, 1,
        "`reset`, then unmap the arena's free memory and destroy it (`EFAULT` for an "
        "automatic arena, or while a thread is attached); `arenas.create` reuses the index"),
    RWO("dirty_decay_ms", CTL_T_SSIZE, CTL_NOPRINT, g_arena_decay, s_arena_decay, 0,
        "arena `i`'s decay time, in ms: its own once written, else `arenas.dirty_decay_ms` "
        "(0 to 86400000; `EFAULT` otherwise, and for all arenas at once or a destroyed one)"),
    RWO("dss", CTL_T_STR, CTL_NOPRINT, g_str, s_dss, S_DISABLED,
        "`\"disabled\"`: sable never uses `sbrk` (writing `\"disabled\"` succeeds, `\"primary\"` "
        "or `\"secondary\"` is `EFAULT`, any other string `EINVAL`)"),
    RWO("muzzy_decay_ms", CTL_T_SSIZE, CTL_NOPRINT, g_const, s_fixed_ssize, 0,
        "0: no muzzy stage (writing 0 succeeds, another value is `EFAULT`)"),
    RWO("retain_grow_limit", CTL_T_SIZE, CTL_NOPRINT | B, g_const, s_grow_limit, PH_STEP_MAX,
        "the largest step by which the page heap reserves address space (fixed: writing "
        "another value is `EFAULT`)"),
};
static const ctl_node_t arena_index_node[] = {
    INDEX("<i>", &arena_index, 0, 0,
          "actions on arena `i`; `<i>` = `arenas.narenas` or 4096 (`SABLE_MALLCTL_ARENAS_ALL`) "
          "means every arena",
          arena_leaves),
};

static const ctl_node_t thread_tcache_kids[] = {
    ACT("flush", a_tcache_flush, 0, "return the blocks in this thread's cache to their arenas"),
    RWO("enabled", CTL_T_BOOL, CTL_NOPRINT, g_tcache_enabled, s_tcache_enabled, 0,
        "this thread's cache is on; writing false flushes it and serves the thread from its "
        "arena directly until true is written (`EFAULT` to switch on a thread without a cache: "
        "`tcache:false` or a fill mode)"),
};
static const ctl_node_t tcache_kids[] = {
    VAL("create", CTL_T_UNSIGNED, CTL_NOPRINT, g_tcache_create, 0,
        "reading makes an explicit cache of the calling thread's arena and gives its id, for "
        "`SABLE_MALLOCX_TCACHE(id)` (`EFAULT` when 4094 exist)"),
    {.name = "flush", .kind = CTL_VALUE, .type = CTL_T_UNSIGNED, .flags = CTL_NOPRINT | CTL_WRONLY,
     .get = g_never, .set = s_tcache_flush,
     .doc = "write an explicit cache's id: its blocks go back to their arenas (`EFAULT` for an "
            "id that names none)"},
    {.name = "destroy", .kind = CTL_VALUE, .type = CTL_T_UNSIGNED,
     .flags = CTL_NOPRINT | CTL_WRONLY, .get = g_never, .set = s_tcache_destroy,
     .doc = "write an explicit cache's id: flush it and give the id back"},
};
static const ctl_node_t thread_peak_kids[] = {
    VAL("read", CTL_T_U64, B, g_thread_peak, 0,
        "the most bytes this thread has held (allocated minus freed, at class size) above what "
        "it held at its last `thread.peak.reset` (or its start); sampled at its cache refills, "
        "large allocations and reads, so within one refill's blocks of the true peak, from the "
        "thread's first `thread.peak` call on (before it: what the thread holds at that call)"),
    ACT("reset", a_thread_peak_reset, 0, "start `thread.peak.read` again from now"),
};
static const ctl_node_t thread_kids[] = {
    VAL("allocated", CTL_T_U64, B, g_thread, 0,
        "bytes this thread has allocated, ever, at class size (`malloc(100)` counts 112)"),
    VAL("deallocated", CTL_T_U64, B, g_thread, 1,
        "bytes this thread has freed, ever, at class size"),
    RWO("arena", CTL_T_UNSIGNED, CTL_NOPRINT, g_thread_arena, s_thread_arena, 0,
        "the thread's arena; writing moves the thread there, its cache flushed first (`EFAULT` "
        "for an index `>= narenas` or a destroyed arena; with `percpu_arena` on, `EPERM` for "
        "an automatic arena other than its own)"),
    GROUP("tcache", 0, NULL, thread_tcache_kids),
    VAL("allocatedp", CTL_T_PTR, 0, g_thread, 0,
        "a pointer to this thread's `thread.allocated`, brought up to date by every read of "
        "`thread.allocated`, `thread.deallocated` or these two names (not by each `malloc`: "
        "sable counts blocks per class, and bytes only when asked)"),
    VAL("deallocatedp", CTL_T_PTR, 0, g_thread, 1,
        "a pointer to this thread's `thread.deallocated`, kept as `thread.allocatedp`'s"),
    GROUP("peak", 0, NULL, thread_peak_kids),
    ACT("idle", a_thread_idle, 0,
        "the thread expects to be idle: its cache is flushed and its arena's decay runs"),
};

static const ctl_node_t sa_bin_leaves[] = {
    CLS("nmalloc", CTL_T_U64, N, nmalloc,
        "blocks of class `j` handed out by the arena's slabs (to caches), ever"),
    CLS("ndalloc", CTL_T_U64, N, ndalloc, "blocks returned to its slabs, ever"),
    CLS("nrequests", CTL_T_U64, N, nrequests,
        "`malloc` requests of class `j` by its threads (cache hits included), ever"),
    CLS("nfills", CTL_T_U64, N, nfills, "cache refills from the bin, ever"),
    CLS("nflushes", CTL_T_U64, N, nflushes, "cache flushes into the bin, ever"),
    CLS("curregs", CTL_T_SIZE, N, curregs,
        "blocks out of its slabs now (held by the program or in caches)"),
    CLS("curslabs", CTL_T_SIZE, N, curslabs, "slabs now"),
    CLS("nonfull_slabs", CTL_T_SIZE, N, nonfull_slabs, "slabs with free blocks (partly used)"),
};
static const ctl_node_t sa_bin_index[] = {
    INDEX("<j>", &bin_index_sized, CTL_S_BINS, 0,
          "the arena's small size class `j`. Requests are counted per thread and summed per "
          "arena of the requesting thread, so a block freed by a thread of another arena counts "
          "against that arena: held bytes per class are exact only over all arenas "
          "(`stats.bins.<j>.*`)",
          sa_bin_leaves),
};
static const ctl_node_t sa_small_kids[] = {
    AR("allocated", CTL_T_SIZE, B, small_allocated,
       "bytes of slab blocks handed out (to the program or to caches)"),
    AR("nrequests", CTL_T_U64, N, nrequests,
       "allocation requests of its threads, ever (all cached classes)"),
    /* Sums over the bins: printed with them (left out with 'b'). */
    ARB("nmalloc", small_nmalloc, "blocks its slabs handed out, ever (all bins)"),
    ARB("ndalloc", small_ndalloc, "blocks returned to its slabs, ever"),
    ARB("nfills", small_nfills, "cache refills from its bins, ever"),
    ARB("nflushes", small_nflushes, "cache flushes into its bins, ever"),
};
static const ctl_node_t sa_large_kids[] = {
    AR("allocated", CTL_T_SIZE, B, large_allocated,
       "bytes of large runs handed out (to the program or to caches)"),
    AR("nmalloc", CTL_T_U64, N, nlarge_malloc, "large runs allocated from the arena, ever"),
    AR("ndalloc", CTL_T_U64, N, nlarge_dalloc, "large runs returned to it, ever"),
};
static const ctl_node_t sa_leaves[] = {
    AR("nthreads", CTL_T_UNSIGNED, N, nthreads, "threads attached to the arena now"),
    AR("pactive", CTL_T_SIZE, N, pactive, "pages (of `arenas.page`) in runs that hold blocks"),
    AR("pdirty", CTL_T_SIZE, N, pdirty, "pages in free runs not yet purged"),
    AR("mapped", CTL_T_SIZE, B, mapped, "bytes of the arena's chunks"),
    AR("resident", CTL_T_SIZE, B, resident, "bytes of its chunks in RAM"),
    AR("metadata", CTL_T_SIZE, B, metadata, "used bytes of its chunk headers"),
    AR("tcache_bytes", CTL_T_SIZE, B, tcache_bytes,
       "bytes in the caches of threads attached to it"),
    AR("purged", CTL_T_U64, B, purged, "bytes returned to the OS, ever"),
    AR("npurge", CTL_T_U64, N, npurge, "purge passes, ever"),
    AR("nmadvise", CTL_T_U64, N, nmadvise, "`madvise` calls, ever"),
    GROUP("small", 0, NULL, sa_small_kids),
    GROUP("large", CTL_S_LARGE, NULL, sa_large_kids),
    INDEXED("bins", sa_bin_index),
    /* jemalloc's names, appended. */
    AR("retained", CTL_T_SIZE, B, retained,
       "bytes of its page heap's free extents without memory behind them (purged or never "
       "touched)"),
    VAL("dirty_decay_ms", CTL_T_SSIZE, CTL_CONST, g_stats_decay, 0,
        "its decay time, in ms (`arena.<i>.dirty_decay_ms`; merged: the default)"),
    VAL("uptime", CTL_T_U64, CTL_CONST, g_uptime, 0, "nanoseconds since the arena was set up"),
    AR("dirty_npurge", CTL_T_U64, N, npurge, "jemalloc's name of `npurge`"),
    AR("dirty_nmadvise", CTL_T_U64, N, nmadvise, "jemalloc's name of `nmadvise`"),
    AR("dirty_purged", CTL_T_U64, B, purged,
       "jemalloc's name of `purged` (bytes here; jemalloc counts pages)"),
    /* What sable does not have, at jemalloc's fixed values. */
    VAL("dss", CTL_T_STR, CTL_CONST, g_str, S_DISABLED, "`\"disabled\"`: sable never uses `sbrk`"),
    VAL("muzzy_decay_ms", CTL_T_SSIZE, CTL_CONST, g_const, 0, "0: no muzzy stage"),
    VAL("pmuzzy", CTL_T_SIZE, CTL_CONST, g_const, 0, "0: no muzzy stage"),
    VAL("muzzy_npurge", CTL_T_U64, CTL_CONST, g_const, 0, "0: no muzzy stage"),
    VAL("muzzy_nmadvise", CTL_T_U64, CTL_CONST, g_const, 0, "0: no muzzy stage"),
    VAL("muzzy_purged", CTL_T_U64, CTL_CONST, g_const, 0, "0: no muzzy stage"),
    VAL("metadata_thp", CTL_T_SIZE, CTL_CONST, g_const, 0,
        "0: metadata is never backed by transparent huge pages"),
};
static const ctl_node_t sa_index[] = {
    INDEX("<i>", &arena_index, 0, 0,
          "per arena; `<i>` = `arenas.narenas` or 4096 means all arenas merged (printed as "
          "`merged`)",
          sa_leaves),
};

static const ctl_node_t sbin_leaves[] = {
    CLS("allocated_bytes", CTL_T_SIZE, B, allocated_bytes,
        "bytes of class-`j` blocks the program holds"),
    CLS("cached_bytes", CTL_T_SIZE, B, cached_bytes, "bytes of class-`j` blocks in thread caches"),
    CLS("slab_bytes", CTL_T_SIZE, B | CTL_SORT, slab_bytes,
        "slabs of class `j` × slab size, over all arenas"),
    CLS("free_in_slabs_bytes", CTL_T_SIZE, B, free_in_slabs,
        "`slab_bytes − curregs × size`: free space in class `j`'s slabs (fragmentation)"),
    CLS("rounding_bytes_estimate", CTL_T_SIZE, B, rounding_estimate,
        "the rounding estimate for class `j`"),
};
static const ctl_node_t sbin_index[] = {
    INDEX("<j>", &bin_index_sized, CTL_S_MERGED | CTL_S_BINS, 0,
          "per small size class, merged over arenas: where the memory of each class goes",
          sbin_leaves),
};

static const ctl_node_t lclass_leaves[] = {
    GEOM("size", CTL_T_SIZE, B, G_LCLASS_SIZE, "block size of the class"),
    VAL("allocated_bytes", CTL_T_SIZE, B, g_lclass_allocated, 0,
        "bytes of blocks of the class the program holds"),
};
static const ctl_node_t lclass_index_node[] = {
    INDEX("<k>", &lclass_index, CTL_S_MERGED | CTL_S_LARGE, 0,
          "the large classes that thread caches hold, the smallest first (above the small "
          "classes, up to 256 KiB), merged over arenas",
          lclass_leaves),
};

static const ctl_node_t frag_kids[] = {
    FRAG("rounding_bytes_estimate", rounding_estimate,
         "part of `allocated` lost to rounding requests up to their class, estimated "
         "assuming request sizes spread evenly between a class and the one below (sable does "
         "not record request sizes)"),
    FRAG("partial_slab_bytes", partial_slab,
         "free space in slabs holding blocks: fragmentation (decay can purge whole free pages "
         "inside them; the rest stays resident)"),
    FRAG("cached_bytes", cached,
         "free blocks in thread caches (released by `thread.tcache.flush`, thread exit, "
         "`malloc_trim`)"),
    FRAG("dirty_bytes", dirty,
         "free memory not yet returned to the OS: free runs touched since their last purge, and "
         "the page heaps' dirty free extents; resident (released by `arena.<i>.purge`, "
         "`malloc_trim`, decay)"),
    FRAG("clean_bytes", clean, "free runs returned to the OS or never touched: mapped, not resident"),
    FRAG("chunk_header_bytes", chunk_headers,
         "chunk headers (map words, run descriptors): resident only as far as used"),
    FRAG("metadata_mapped_bytes", meta_mapped,
         "metadata mappings (thread caches, page-map leaves, slot tables, extent descriptors, arenas), outside "
         "`stats.mapped`"),
    FRAG("small_allocated_bytes", small_allocated,
         "part of `allocated` in small blocks (slab blocks the program holds)"),
    FRAG("large_allocated_bytes", large_allocated,
         "part of `allocated` in large runs (the rest of `allocated` is `stats.huge.allocated`)"),
};

static const ctl_node_t huge_kids[] = {
    SNAP("allocated", B, huge_allocated, "bytes of huge blocks (objects above 2 MiB), page granular"),
    SNAP("nmaps", N, huge_count, "number of huge blocks"),
    SNAP("cached", B, huge_cached,
         "bytes of the page heaps' dirty free extents (freed huge blocks and chunks, kept for "
         "reuse; purged after `dirty_decay_ms` or by `malloc_trim`); part of `stats.mapped`"),
};
static const ctl_node_t hugepages_kids[] = {
    HP("mapped", CTL_T_SIZE, B, G_HP_MAPPED,
       "bytes of chunks backed by the hugetlb pool (`hugepages:hugetlb`); transparent huge pages "
       "(`thp`) are the kernel's choice and not counted (see `AnonHugePages` in "
       "`/proc/<pid>/smaps`)"),
    HP("fallbacks", CTL_T_U64, N, G_HP_FALLBACKS,
       "chunks that asked for hugetlb pages and fell back to normal pages"),
};
/* Failed system calls, counted by the os layer (live, not from the
 * snapshot). Misuse (invalid and double frees) is not counted: it aborts. */
static int g_os_error(ctl_ctx_t *x, size_t kind, ctl_val_t *v)
{
    (void)x;
    v->n = os_error_count((enum os_error_kind)kind);
    return 0;
}
#define OSERR(nm, kind, doc) VAL(nm, CTL_T_U64, N, g_os_error, kind, doc)
static const ctl_node_t errors_kids[] = {
    OSERR("map", OS_ERR_MAP,
          "failed `mmap` calls for chunks, huge objects and metadata (ENOMEM included: the "
          "allocation then returns `NULL`)"),
    OSERR("unmap", OS_ERR_UNMAP, "failed `munmap` calls"),
    OSERR("purge", OS_ERR_PURGE, "failed `madvise(MADV_DONTNEED)` calls (memory not returned)"),
    OSERR("advise", OS_ERR_ADVISE, "failed `madvise(MADV_HUGEPAGE)` calls (`hugepages:thp`)"),
    OSERR("guard", OS_ERR_GUARD, "failed `mprotect` calls for guard pages (`secure:true`)"),
    OSERR("resident", OS_ERR_RESIDENT,
          "failed `mincore` calls while reading `stats.resident` (a range unmapped while it was "
          "measured is not a failure: it is not resident)"),
    OSERR("move", OS_ERR_MOVE,
          "failed `mremap` moves of huge blocks' pages for `realloc` (the block is copied "
          "instead, and moves are not tried again)"),
    OSERR("hugetlb", OS_ERR_HUGETLB,
          "failed `MAP_HUGETLB` mappings (`hugepages:hugetlb`; an empty pool included)"),
    OSERR("hint_miss", OS_ERR_HINT_MISS,
          "aligned mappings the kernel placed away from their hint (not an error: each costs "
          "two more system calls)"),
    OSERR("bind", OS_ERR_BIND,
          "failed `mbind(MPOL_PREFERRED)` calls binding an arena's regions to its NUMA node "
          "(`numa:auto`; the memory is then placed by the kernel's default policy)"),
};
_Static_assert(NELEM(errors_kids) == OS_ERR_NKINDS, "one stats.errors name per os error kind");
static const ctl_node_t bg_stats_kids[] = {
    VAL("num_threads", CTL_T_SIZE, N, g_process, G_BG_THREADS,
        "background threads running now (0 or 1; live)"),
    VAL("num_runs", CTL_T_U64, N, g_process, G_BG_RUNS, "decay passes they have run, ever"),
    VAL("run_interval", CTL_T_U64, N, g_process, G_BG_INTERVAL,
        "average time between those passes, in nanoseconds"),
    VAL("reclaims", CTL_T_U64, N, g_process, G_BG_RECLAIMS,
        "thread caches whose blocks it took while their threads were idle (docs/threads.md), "
        "ever"),
    VAL("reclaimed_bytes", CTL_T_U64, N, g_process, G_BG_RECLAIMED,
        "bytes of blocks it took from them and gave back to the arenas, ever"),
};
static const ctl_node_t stats_kids[] = {
    SNAP("allocated", B, allocated,
         "bytes of blocks the program holds, at class size (blocks in thread caches are not "
         "counted)"),
    SNAP("active", B, active,
         "bytes of runs that hold blocks (whole slabs, large runs) plus huge mappings: allocated "
         "+ thread caches + free space in slabs"),
    SNAP("resident", B, resident,
         "bytes of sable's mappings in RAM now (`mincore` on chunks, huge blocks and dirty extents, plus "
         "metadata mappings): compare with the process RSS; RSS above it is not sable's memory"),
    SNAP("mapped", B, mapped,
         "bytes of chunks, huge blocks and the page heaps' dirty free extents (not `retained`)"),
    SNAP("retained", B, retained,
         "address space kept without memory behind it: the page heaps' free extents that were "
         "purged or never touched (outside `stats.mapped`)"),
    SNAP("metadata", B, metadata,
         "sable's own structures: metadata mappings plus the used part of chunk headers"),
    SNAP("tcache_bytes", B, tcache_bytes, "bytes of free blocks in all thread caches"),
    GROUP("huge", CTL_S_LARGE, NULL, huge_kids),
    GROUP("hugepages", 0, NULL, hugepages_kids),
    GROUP("errors", 0, NULL, errors_kids),
    GROUP("frag", CTL_S_MERGED,
          "where the mapped bytes go (sable's own). They split exactly: `stats.mapped = "
          "stats.allocated + cached_bytes + partial_slab_bytes + dirty_bytes + clean_bytes + "
          "chunk_header_bytes`, and `stats.active = stats.allocated + cached_bytes + "
          "partial_slab_bytes`",
          frag_kids),
    INDEXED("bins", sbin_index),
    INDEXED("arenas", sa_index),
    INDEXED("large_classes", lclass_index_node),
    /* jemalloc's names, appended. */
    VAL("metadata_thp", CTL_T_SIZE, CTL_CONST, g_const, 0,
        "0: metadata is never backed by transparent huge pages"),
    VAL("zero_reallocs", CTL_T_SIZE, N, g_process, G_ZERO_REALLOCS,
        "calls of `realloc` with a block and size 0, ever (live, not from the snapshot)"),
    GROUP("background_thread", 0, NULL, bg_stats_kids),
};

/* What sable was built with, in jemalloc's terms. */
#ifdef SABLE_DEBUG
#define CONFIG_DEBUG 1
#else
#define CONFIG_DEBUG 0
#endif
#define CFG(nm, v, d) VAL(nm, CTL_T_BOOL, CTL_CONST, g_const, v, d)
static const ctl_node_t config_kids[] = {
    CFG("cache_oblivious", 0, "false: large blocks are not offset by a random cache line"),
    CFG("debug", CONFIG_DEBUG, "built with `debug_checks` (the lock-order witness and checks)"),
    CFG("fill", 1, "true: junk, zero and the other fill modes are built in"),
    CFG("lazy_lock", 0, "false: locks are real from the start"),
    VAL("malloc_conf", CTL_T_STR, CTL_CONST, g_str, S_EMPTY,
        "`\"\"`: no configuration string is built in (`SABLE_CONF` is read at start-up)"),
    CFG("prof", 0, "false: no heap profiling (`opt.prof*`, `prof.*` are absent)"),
    CFG("prof_libgcc", 0, "false: no heap profiling"),
    CFG("prof_libunwind", 0, "false: no heap profiling"),
    CFG("stats", 1, "true: statistics are always kept"),
    CFG("utrace", 0, "false: no allocation tracing"),
    CFG("xmalloc", 0, "false: out of memory returns NULL, never aborts"),
};
#define PLACE(nm, ty, fl, a, d) VAL(nm, ty, fl, g_place, a, d)
#define PLACE_RW(nm, ty, s, a, d)                                                                  \
    {.name = nm, .doc = d, .kind = CTL_VALUE, .type = ty, .get = g_place, .set = s, .arg = (a)}
static const ctl_node_t limits_kids[] = {
    PLACE_RW("memory_limit", CTL_T_SIZE, s_memory_limit, G_LIM_HARD,
       "the hard limit in bytes of `committed` (0: none): an allocation that needs fresh memory "
       "beyond it returns `NULL` with `ENOMEM`; starts at `opt.memory_limit`"),
    PLACE_RW("memory_soft_limit", CTL_T_UNSIGNED, s_memory_soft_limit, G_LIM_SOFT_PCT,
       "percent (0 - 100; 0: off) of the tighter of `memory_limit` and `cgroup_memory` above "
       "which decay drops to 0 and thread caches are asked to flush; starts at "
       "`opt.memory_soft_limit`"),
    PLACE("soft_bytes", CTL_T_SIZE, B, G_LIM_SOFT,
          "the soft threshold in bytes that `memory_soft_limit` gives (0: none)"),
    PLACE("committed", CTL_T_SIZE, B, G_LIM_COMMITTED,
          "the figure the limits compare with, live: chunks, huge blocks and dirty free extents "
          "of every page heap (`stats.mapped` as it stands now, without a snapshot)"),
    PLACE("soft_events", CTL_T_U64, N, G_LIM_EVENTS,
          "flush requests made because `committed` was above `soft_bytes`"),
    PLACE("cgroup_memory", CTL_T_SIZE, CTL_CONST | B, G_LIM_CG_MEM,
          "the cgroup's memory limit read at start-up: the smallest `memory.max`, `memory.high` "
          "(v2) or `memory.limit_in_bytes` (v1) of the process's cgroup and its ancestors (0: "
          "none)"),
    PLACE("cgroup_cpus", CTL_T_UNSIGNED, CTL_CONST, G_LIM_CG_CPUS,
          "the cgroup's CPU quota read at start-up, rounded up to whole CPUs (`cpu.max`, or v1's "
          "`cpu.cfs_quota_us` / `cpu.cfs_period_us`; 0: none): the default `narenas` is at most "
          "this"),
};

#define NODE(nm, ty, fl, a, d) VAL(nm, ty, fl, g_node, a, d)
static const ctl_node_t node_leaves[] = {
    NODE("narenas", CTL_T_UNSIGNED, CTL_CONST, G_NODE_NARENAS, "arenas of node `k`"),
    NODE("nthreads", CTL_T_UNSIGNED, N, G_NODE_NTHREADS, "threads on node `k`'s arenas now"),
    NODE("committed", CTL_T_SIZE, B, G_NODE_COMMITTED,
         "committed bytes (`limits.committed`) of node `k`'s arenas"),
};
static const ctl_node_t node_index_node[] = {
    INDEX("<k>", &node_index, 0, 0, "NUMA node `k`, `0 .. topology.nnodes - 1`", node_leaves),
};
static const ctl_node_t topology_kids[] = {
    PLACE("nnodes", CTL_T_UNSIGNED, CTL_CONST, G_TOPO_NNODES,
          "NUMA nodes (`/sys/devices/system/node/online`; 1 without NUMA)"),
    PLACE("numa", CTL_T_BOOL, CTL_CONST, G_TOPO_NUMA,
          "true if arenas are grouped by node and bound to it (`numa:auto` and more than one "
          "node)"),
    PLACE("moves", CTL_T_U64, N, G_TOPO_MOVES,
          "threads moved to another arena after they migrated to another CPU or node "
          "(`percpu_arena`, `numa`)"),
    INDEXED("nodes", node_index_node),
};

static const ctl_node_t root_kids[] = {
    VAL("version", CTL_T_STR, CTL_CONST, g_version, 0, "sable's version, e.g. `\"0.1.0\"`"),
    RW("epoch", CTL_T_U64, g_epoch, s_epoch,
       "write (any `uint64_t`): take a new statistics snapshot; read: the snapshot's number"),
    {.name = "opt", .kind = CTL_GROUP, .sections = CTL_S_GENERAL, .rows = &opt_rows,
     .doc = "the options in force, one name per row of the option table (`src/options/options.c`); "
            "set by `SABLE_CONF` at start-up (`narenas` and `perturb` also by glibc's "
            "`MALLOC_ARENA_MAX`, `MALLOC_PERTURB_` and `mallopt` before set-up), read-only at run "
            "time (`EPERM`). After sable's own come jemalloc's spellings (from `abort` on): "
            "options of the same meaning, and fixed rows, which `SABLE_CONF` accepts at their one "
            "value (\"only\")"},
    GROUP("arenas", CTL_S_GENERAL, "geometry: arenas, pages and size classes", arenas_kids),
    INDEXED("arena", arena_index_node),
    {.name = "tcache", .kind = CTL_GROUP, .flags = CTL_NOPRINT, .kids = tcache_kids,
     .nkids = NELEM(tcache_kids),
     .doc = "explicit thread caches, which no thread owns: made, flushed and destroyed by id "
            "(src/process/explicit.h)"},
    {.name = "thread", .kind = CTL_GROUP, .flags = CTL_NOPRINT, .kids = thread_kids,
     .nkids = NELEM(thread_kids), .doc = "the calling thread (not in the statistics printout)"},
    GROUP("stats", 0,
          "totals, from the snapshot that writing `epoch` refreshes. `allocated <= active <= "
          "mapped` always holds",
          stats_kids),
    RWO("background_thread", CTL_T_BOOL, 0, g_background, s_background, 0,
        "whether the background purger runs (at first `opt.background_thread`): writing `true` "
        "starts it, `false` stops it and returns once it has stopped"),
    RWO("max_background_threads", CTL_T_SIZE, CTL_CONST, g_const, s_max_background, 1,
        "1: sable runs one background thread at most (writing 1 succeeds; 0, or more than "
        "`opt.max_background_threads`, is `EINVAL`)"),
    GROUP("config", CTL_S_GENERAL, "how sable was built, in jemalloc's terms", config_kids),
    {.name = "limits", .kind = CTL_GROUP, .flags = CTL_NOPRINT, .kids = limits_kids,
     .nkids = NELEM(limits_kids),
     .doc = "memory limits and the container's (cgroup) limits (live values, not in the "
            "statistics printout; see docs/threads.md)"},
    {.name = "topology", .kind = CTL_GROUP, .flags = CTL_NOPRINT, .kids = topology_kids,
     .nkids = NELEM(topology_kids),
     .doc = "NUMA nodes and thread placement (live values, not in the statistics printout; see "
            "docs/threads.md)"},
};

const ctl_node_t ctl_tree_root = {.name = "", .kind = CTL_GROUP, .kids = root_kids,
                                  .nkids = NELEM(root_kids), .doc = "top-level names"};
