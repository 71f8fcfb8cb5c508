/* src/ctl/mallctl.c — sable_mallctl and its name tree.
 *
 * Names are dotted paths ("stats.arenas.0.bins.3.curregs"). The tree below
 * is static data, one line per name: a node has named children, or one index
 * child ("<i>": any decimal number its `valid` function accepts), or is a
 * leaf. A leaf either reads one value (a getter and the value's type: such
 * leaves are read-only) or runs an action (epoch, purges, thread.*). opt.* is
 * not spelled out here: its children are the rows of the option table
 * (src/ctl/options.c), so an option added there is a name here at once.
 *
 * A MIB is the path as numbers: the child's position among its siblings for
 * named nodes, the index itself for index nodes, the row for opt.*.
 *
 * Read/write conventions are jemalloc's: a read copies the value if oldp and
 * oldlenp are non-NULL, and fails with EINVAL (copying what fits) when
 * *oldlenp is not the value's size; a write needs newlen equal to the size;
 * writing a read-only name is EPERM; actions that take no value give EPERM
 * when passed any. Statistics come from the snapshot that writing "epoch"
 * refreshes (the first read takes one if there is none).
 *
 * Nothing here allocates: names are parsed in place, values built on the
 * stack.
 */
#include "ctl/mallctl.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "arena/arena.h"
#include "arena/chunk.h"
#include "options/options.h"
#include "sable.h"
#include "sizeclass/sizeclass.h"
#include "process/process.h"
#include "process/threads.h"
#include "tcache/tcache.h"

#define CTL_MAX_DEPTH 8 /* components of the longest name */
#define CTL_MAX_IDX 2   /* indices in one name (arena and bin) */
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---- the control lock and the snapshot ---- */

static pthread_mutex_t ctl_mtx = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
static pthread_once_t ctl_fork_once = PTHREAD_ONCE_INIT;

/* Both control locks are taken before fork, ahead of the allocator's own
 * (they are held while stats are read from the arenas): through the
 * allocator's fork hooks, so the order is fixed whoever initialises first. */
static void ctl_prefork(void)
{
    pthread_mutex_lock(&ctl_mtx);
    ctl_stats_prefork();
}
static void ctl_postfork_parent(void)
{
    ctl_stats_postfork();
    pthread_mutex_unlock(&ctl_mtx);
}
static void ctl_postfork_child(void)
{
    ctl_stats_postfork();
    /* The child's thread is not the owner glibc recorded: start afresh. */
    static const pthread_mutex_t fresh = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;
    memcpy(&ctl_mtx, &fresh, sizeof ctl_mtx);
}
static void ctl_fork_register(void)
{
    process_fork_hook(ctl_prefork, ctl_postfork_parent, ctl_postfork_child);
}

const ctl_stats_t *ctl_begin(bool refresh)
{
    if (!process_init()) return NULL;
    /* Before the first lock is taken: pthread_once makes every other caller
     * wait until the hook is in place. */
    pthread_once(&ctl_fork_once, ctl_fork_register);
    pthread_mutex_lock(&ctl_mtx);
    const ctl_stats_t *s = refresh ? ctl_stats_refresh() : ctl_stats_current();
    if (s == NULL) pthread_mutex_unlock(&ctl_mtx);
    return s;
}

void ctl_end(void) { pthread_mutex_unlock(&ctl_mtx); }

/* ---- derived figures ---- */

static bool arena_selected(const ctl_stats_t *s, unsigned sel, unsigned i)
{
    return sel >= s->narenas || sel == i;
}

void ctl_arena_read(const ctl_stats_t *s, unsigned sel, ctl_arena_t *o)
{
    memset(o, 0, sizeof *o);
    for (unsigned i = 0; i < s->narenas; i++) {
        if (!arena_selected(s, sel, i)) continue;
        const ctl_arena_stats_t *as = &s->arenas[i];
        const arena_stats_t *a = &as->a;
        o->nthreads += a->nthreads;
        o->mapped += a->mapped;
        o->resident += a->resident;
        o->metadata += a->metadata;
        o->active += a->active;
        o->dirty += a->dirty;
        o->small_allocated += a->small_allocated;
        o->large_allocated += a->large_allocated;
        o->nlarge_malloc += a->nlarge_malloc;
        o->nlarge_dalloc += a->nlarge_dalloc;
        o->npurge += a->npurge;
        o->nmadvise += a->nmadvise;
        o->purged += a->purged;
        o->tcache_bytes += as->tcache_bytes;
        for (unsigned c = 0; c < SC_NCACHED; c++) o->nrequests += as->req.nalloc[c];
    }
    size_t page = os_page_size();
    o->pactive = o->active / page;
    o->pdirty = o->dirty / page;
}

/* Average bytes lost per block of class c if request sizes were spread
 * evenly between the class below and this one, times 2 (kept exact). */
static uint64_t rounding_x2(unsigned c)
{
    size_t below = c ? sc_size(c - 1) : 0;
    return sc_size(c) - below - 1;
}

void ctl_class_read(const ctl_stats_t *s, unsigned sel, unsigned c, ctl_class_t *o)
{
    memset(o, 0, sizeof *o);
    o->size = sc_size(c);
    o->nregs = sc_nregs(c);
    o->slab_size = (uint64_t)sc_slab_units(c) << SC_UNIT_SHIFT;
    uint64_t na = 0, nf = 0;
    for (unsigned i = 0; i < s->narenas; i++) {
        if (!arena_selected(s, sel, i)) continue;
        const bin_stats_t *b = &s->arenas[i].a.bins[c];
        o->nmalloc += b->nmalloc;
        o->ndalloc += b->ndalloc;
        o->nfills += b->nfills;
        o->nflushes += b->nflushes;
        o->curregs += b->curregs;
        o->curslabs += b->curslabs;
        o->nonfull_slabs += b->nonfull_slabs;
        o->nrequests += s->arenas[i].req.nalloc[c];
        na += s->arenas[i].req.nalloc[c];
        nf += s->arenas[i].req.nfree[c];
    }
    uint64_t held = na > nf ? na - nf : 0;
    o->used_bytes = o->curregs * o->size;
    o->allocated_bytes = held * o->size;
    if (o->allocated_bytes > o->used_bytes) o->allocated_bytes = o->used_bytes; /* racy counts */
    o->cached_bytes = o->used_bytes - o->allocated_bytes;
    o->slab_bytes = o->curslabs * o->slab_size;
    o->free_in_slabs = o->slab_bytes > o->used_bytes ? o->slab_bytes - o->used_bytes : 0;
    o->rounding_estimate = held * rounding_x2(c) / 2;
}

void ctl_frag_read(const ctl_stats_t *s, ctl_frag_t *o)
{
    memset(o, 0, sizeof *o);
    ctl_arena_t a;
    ctl_arena_read(s, CTL_ARENAS_ALL, &a);
    for (unsigned c = 0; c < SC_NSMALL; c++) {
        ctl_class_t k;
        ctl_class_read(s, CTL_ARENAS_ALL, c, &k);
        o->small_allocated += k.allocated_bytes;
        o->partial_slab += k.free_in_slabs;
        o->rounding_estimate += k.rounding_estimate;
    }
    /* Large classes that thread caches hold are counted per request too. */
    for (unsigned c = SC_NSMALL; c < SC_NCACHED; c++) {
        uint64_t held = ctl_class_allocated(s, c) / sc_size(c);
        o->rounding_estimate += held * rounding_x2(c) / 2;
    }
    o->allocated = s->allocated;
    o->huge_allocated = s->huge_allocated;
    uint64_t rest = s->allocated - (s->allocated < s->huge_allocated ? s->allocated : s->huge_allocated);
    o->large_allocated = rest > o->small_allocated ? rest - o->small_allocated : 0;
    o->cached = s->tcache_bytes;
    /* Freed huge mappings kept for reuse count as dirty free memory. */
    o->dirty = a.dirty + s->huge_cached;
    o->chunk_mapped = a.mapped;
    o->chunk_headers = a.mapped / CHUNK_SIZE * ((uint64_t)CHUNK_HEADER_UNITS << UNIT_SHIFT);
    uint64_t used = a.active + a.dirty + o->chunk_headers;
    o->clean = a.mapped > used ? a.mapped - used : 0;
    o->meta_mapped = s->metadata > a.metadata ? s->metadata - a.metadata : 0;
}

/* Chunks backed by the hugetlb pool (hugepages:hugetlb) and chunks that
 * asked for it and fell back to normal pages. Transparent huge pages
 * (hugepages:thp) are the kernel's choice and are not counted here. */
uint64_t ctl_hugepages_mapped(void) { return arena_hugetlb_mapped(); }
uint64_t ctl_hugepages_fallbacks(void) { return arena_hugetlb_fallbacks(); }

/* ---- the tree ---- */

typedef enum { T_NONE, T_BOOL, T_UNS, T_U32, T_SIZE, T_U64, T_STR } ctl_type_t;

typedef struct {
    uint64_t n;
    const char *s;
} ctl_val_t;

typedef struct {
    size_t idx[CTL_MAX_IDX]; /* the indices met on the path, in order */
    unsigned nidx;
    size_t opt;              /* opt.*: the row */
    const ctl_stats_t *s;    /* loaded by getters that need it */
} ctl_ctx_t;

typedef struct ctl_node ctl_node_t;
typedef int ctl_get_t(ctl_ctx_t *x, size_t arg, ctl_val_t *v);
typedef int ctl_act_t(ctl_ctx_t *x, void *oldp, size_t *oldlenp, void *newp, size_t newlen);
typedef bool ctl_valid_t(size_t i);

typedef enum { K_NODE, K_INDEX, K_LEAF, K_OPT } ctl_kind_t;

struct ctl_node {
    const char *name; /* NULL for an index node */
    unsigned char kind;
    unsigned char type; /* value leaves */
    unsigned nkids;
    const ctl_node_t *kids;
    ctl_valid_t *valid; /* index nodes */
    ctl_get_t *get;     /* value leaves, with arg */
    size_t arg;
    ctl_act_t *act;     /* action leaves */
};

#define VAL(nm, ty, g, a) {.name = nm, .kind = K_LEAF, .type = ty, .get = g, .arg = (a)}
#define ACT(nm, f) {.name = nm, .kind = K_LEAF, .act = f}
#define NODE(nm, k) {.name = nm, .kind = K_NODE, .kids = k, .nkids = NELEM(k)}
#define INDEX(v, k) {.name = NULL, .kind = K_INDEX, .kids = k, .nkids = NELEM(k), .valid = v}

/* Copies a value out, jemalloc's READ: on a size mismatch copy what fits and
 * fail with EINVAL. */
static int ctl_read(void *oldp, size_t *oldlenp, const void *v, size_t size)
{
    if (oldp == NULL || oldlenp == NULL) return 0;
    if (*oldlenp != size) {
        size_t n = *oldlenp < size ? *oldlenp : size;
        memcpy(oldp, v, n);
        *oldlenp = n;
        return EINVAL;
    }
    memcpy(oldp, v, size);
    return 0;
}

static int read_typed(void *oldp, size_t *oldlenp, unsigned type, const ctl_val_t *v)
{
    switch (type) {
    case T_BOOL: {
        bool b = v->n != 0;
        return ctl_read(oldp, oldlenp, &b, sizeof b);
    }
    case T_UNS: {
        unsigned u = (unsigned)v->n;
        return ctl_read(oldp, oldlenp, &u, sizeof u);
    }
    case T_U32: {
        uint32_t u = (uint32_t)v->n;
        return ctl_read(oldp, oldlenp, &u, sizeof u);
    }
    case T_SIZE: {
        size_t z = (size_t)v->n;
        return ctl_read(oldp, oldlenp, &z, sizeof z);
    }
    case T_U64: return ctl_read(oldp, oldlenp, &v->n, sizeof v->n);
    case T_STR: return ctl_read(oldp, oldlenp, &v->s, sizeof v->s);
    default: return EINVAL;
    }
}

static int need_stats(ctl_ctx_t *x)
{
    if (x->s == NULL) x->s = ctl_stats_current();
    return x->s ? 0 : EAGAIN;
}

/* Index checks. arena.<i> and stats.arenas.<i> accept every arena, and
 * arenas.narenas or SABLE_MALLCTL_ARENAS_ALL for all of them at once. */
static bool valid_arena(size_t i)
{
    return i <= arena_count() || i == SABLE_MALLCTL_ARENAS_ALL;
}
static bool valid_bin(size_t i) { return i < SC_NSMALL; }

/* The arena an index names (CTL_ARENAS_ALL for "all"). */
static unsigned arena_sel(size_t i) { return i < arena_count() ? (unsigned)i : CTL_ARENAS_ALL; }

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

enum { G_BIN_SIZE, G_BIN_NREGS, G_BIN_SLAB };
static int g_bin_geom(ctl_ctx_t *x, size_t arg, ctl_val_t *v)
{
    unsigned c = (unsigned)x->idx[0];
    v->n = arg == G_BIN_SIZE    ? sc_size(c)
           : arg == G_BIN_NREGS ? sc_nregs(c)
                                : (uint64_t)sc_slab_units(c) << SC_UNIT_SHIFT;
    return 0;
}

static int g_thread(ctl_ctx_t *x, size_t arg, ctl_val_t *v)
{
    (void)x;
    uint64_t a, d;
    thread_stats_self(&a, &d);
    v->n = arg ? d : a;
    return 0;
}

/* A size_t field of the snapshot. */
static int g_snap(ctl_ctx_t *x, size_t off, ctl_val_t *v)
{
    int err = need_stats(x);
    if (err) return err;
    v->n = *(const size_t *)((const char *)x->s + off);
    return 0;
}

/* A field of ctl_arena_t for stats.arenas.<i>. */
static int g_arena(ctl_ctx_t *x, size_t off, ctl_val_t *v)
{
    int err = need_stats(x);
    if (err) return err;
    ctl_arena_t a;
    ctl_arena_read(x->s, arena_sel(x->idx[0]), &a);
    v->n = *(const uint64_t *)((const char *)&a + off);
    return 0;
}

/* A field of ctl_class_t for stats.arenas.<i>.bins.<j> (two indices) or
 * stats.bins.<j> (one: every arena). */
static int g_class(ctl_ctx_t *x, size_t off, ctl_val_t *v)
{
    int err = need_stats(x);
    if (err) return err;
    ctl_class_t k;
    if (x->nidx == 2)
        ctl_class_read(x->s, arena_sel(x->idx[0]), (unsigned)x->idx[1], &k);
    else
        ctl_class_read(x->s, CTL_ARENAS_ALL, (unsigned)x->idx[0], &k);
    v->n = *(const uint64_t *)((const char *)&k + off);
    return 0;
}

static int g_frag(ctl_ctx_t *x, size_t off, ctl_val_t *v)
{
    int err = need_stats(x);
    if (err) return err;
    ctl_frag_t f;
    ctl_frag_read(x->s, &f);
    v->n = *(const uint64_t *)((const char *)&f + off);
    return 0;
}

enum { G_HP_MAPPED, G_HP_FALLBACKS };
static int g_hugepages(ctl_ctx_t *x, size_t arg, ctl_val_t *v)
{
    (void)x;
    v->n = arg == G_HP_MAPPED ? ctl_hugepages_mapped() : ctl_hugepages_fallbacks();
    return 0;
}

/* ---- actions ---- */

/* jemalloc's NEITHER_READ_NOR_WRITE. */
static int no_value(void *oldp, size_t *oldlenp, void *newp, size_t newlen)
{
    return oldp || oldlenp || newp || newlen ? EPERM : 0;
}

static int a_epoch(ctl_ctx_t *x, void *oldp, size_t *oldlenp, void *newp, size_t newlen)
{
    if (newp != NULL || newlen != 0) {
        if (newp == NULL || newlen != sizeof(uint64_t)) return EINVAL;
        x->s = ctl_stats_refresh();
        if (x->s == NULL) return EAGAIN;
    } else if (need_stats(x)) {
        return EAGAIN;
    }
    uint64_t e = x->s->epoch;
    return ctl_read(oldp, oldlenp, &e, sizeof e);
}

/* arena.<i>.purge returns every dirty free run of the arena (or of all
 * arenas) to the OS; arena.<i>.decay only those dirty for at least
 * dirty_decay_ms (arg: 1 for purge, 0 for decay). */
static int purge(ctl_ctx_t *x, bool all, void *oldp, size_t *oldlenp, void *newp, size_t newlen)
{
    int err = no_value(oldp, oldlenp, newp, newlen);
    if (err) return err;
    unsigned sel = arena_sel(x->idx[0]);
    for (unsigned i = 0; i < arena_count(); i++)
        if (sel == CTL_ARENAS_ALL || sel == i) arena_purge(i, all);
    return 0;
}

static int a_purge(ctl_ctx_t *x, void *oldp, size_t *oldlenp, void *newp, size_t newlen)
{
    return purge(x, true, oldp, oldlenp, newp, newlen);
}

static int a_decay(ctl_ctx_t *x, void *oldp, size_t *oldlenp, void *newp, size_t newlen)
{
    return purge(x, false, oldp, oldlenp, newp, newlen);
}

static int a_tcache_flush(ctl_ctx_t *x, void *oldp, size_t *oldlenp, void *newp, size_t newlen)
{
    (void)x;
    int err = no_value(oldp, oldlenp, newp, newlen);
    if (err) return err;
    thread_flush();
    return 0;
}

/* thread.arena: reading gives the calling thread's arena. Writing the same
 * index succeeds; an index out of range is EFAULT (as in jemalloc); moving
 * a thread to another arena is not supported yet (EPERM). */
static int a_thread_arena(ctl_ctx_t *x, void *oldp, size_t *oldlenp, void *newp, size_t newlen)
{
    (void)x;
    arena_t *a = thread_arena();
    if (a == NULL) return EAGAIN;
    unsigned cur = a->index;
    if (newp != NULL || newlen != 0) {
        if (newp == NULL || newlen != sizeof(unsigned)) return EINVAL;
        unsigned want;
        memcpy(&want, newp, sizeof want);
        if (want >= arena_count()) return EFAULT;
        if (want != cur) return EPERM;
    }
    return ctl_read(oldp, oldlenp, &cur, sizeof cur);
}

/* opt.<name>: reads the row x->opt of the option table. */
static int a_opt(ctl_ctx_t *x, void *oldp, size_t *oldlenp, void *newp, size_t newlen)
{
    if (newp != NULL || newlen != 0) return EPERM;
    size_t n;
    const opt_desc_t *o = &opt_table(&n)[x->opt];
    ctl_val_t v = {0, NULL};
    unsigned type;
    switch (o->type) {
    case OPT_BOOL: type = T_BOOL, v.n = *(const bool *)o->var; break;
    case OPT_UINT: type = T_UNS, v.n = *(const unsigned *)o->var; break;
    case OPT_ENUM: type = T_STR, v.s = o->names[*(const unsigned *)o->var]; break;
    default: type = T_STR, v.s = (const char *)o->var; break;
    }
    return read_typed(oldp, oldlenp, type, &v);
}

static const ctl_node_t opt_leaf = ACT("<opt>", a_opt);

/* ---- the names ---- */

#define CLS(nm, f) VAL(nm, T_U64, g_class, offsetof(ctl_class_t, f))
#define CLSZ(nm, f) VAL(nm, T_SIZE, g_class, offsetof(ctl_class_t, f))
#define AR(nm, ty, f) VAL(nm, ty, g_arena, offsetof(ctl_arena_t, f))
#define FRAG(nm, f) VAL(nm, T_SIZE, g_frag, offsetof(ctl_frag_t, f))
#define SNAP(nm, f) VAL(nm, T_SIZE, g_snap, offsetof(ctl_stats_t, f))

static const ctl_node_t arenas_bin_leaves[] = {
    VAL("size", T_SIZE, g_bin_geom, G_BIN_SIZE),
    VAL("nregs", T_U32, g_bin_geom, G_BIN_NREGS),
    VAL("slab_size", T_SIZE, g_bin_geom, G_BIN_SLAB),
};
static const ctl_node_t arenas_bin_index[] = {INDEX(valid_bin, arenas_bin_leaves)};
static const ctl_node_t arenas_kids[] = {
    VAL("narenas", T_UNS, g_arenas, G_NARENAS),
    VAL("page", T_SIZE, g_arenas, G_PAGE),
    VAL("quantum", T_SIZE, g_const, SC_QUANTUM),
    VAL("nbins", T_UNS, g_arenas, G_NBINS),
    NODE("bin", arenas_bin_index),
};

static const ctl_node_t arena_leaves[] = {
    ACT("purge", a_purge),
    ACT("decay", a_decay),
};
static const ctl_node_t arena_index[] = {INDEX(valid_arena, arena_leaves)};

static const ctl_node_t thread_tcache_kids[] = {ACT("flush", a_tcache_flush)};
static const ctl_node_t thread_kids[] = {
    VAL("allocated", T_U64, g_thread, 0),
    VAL("deallocated", T_U64, g_thread, 1),
    ACT("arena", a_thread_arena),
    NODE("tcache", thread_tcache_kids),
};

static const ctl_node_t sa_bin_leaves[] = {
    CLS("nmalloc", nmalloc),         CLS("ndalloc", ndalloc),
    CLS("nrequests", nrequests),     CLS("nfills", nfills),
    CLS("nflushes", nflushes),       CLSZ("curregs", curregs),
    CLSZ("curslabs", curslabs),      CLSZ("nonfull_slabs", nonfull_slabs),
};
static const ctl_node_t sa_bin_index[] = {INDEX(valid_bin, sa_bin_leaves)};
static const ctl_node_t sa_small_kids[] = {
    AR("allocated", T_SIZE, small_allocated),
    AR("nrequests", T_U64, nrequests),
};
static const ctl_node_t sa_large_kids[] = {
    AR("allocated", T_SIZE, large_allocated),
    AR("nmalloc", T_U64, nlarge_malloc),
    AR("ndalloc", T_U64, nlarge_dalloc),
};
static const ctl_node_t sa_leaves[] = {
    AR("nthreads", T_UNS, nthreads),   AR("pactive", T_SIZE, pactive),
    AR("pdirty", T_SIZE, pdirty),      AR("mapped", T_SIZE, mapped),
    AR("resident", T_SIZE, resident),  AR("metadata", T_SIZE, metadata),
    AR("tcache_bytes", T_SIZE, tcache_bytes),
    AR("purged", T_U64, purged),       AR("npurge", T_U64, npurge),
    AR("nmadvise", T_U64, nmadvise),   NODE("small", sa_small_kids),
    NODE("large", sa_large_kids),      NODE("bins", sa_bin_index),
};
static const ctl_node_t sa_index[] = {INDEX(valid_arena, sa_leaves)};

static const ctl_node_t sbin_leaves[] = {
    CLSZ("allocated_bytes", allocated_bytes),
    CLSZ("cached_bytes", cached_bytes),
    CLSZ("slab_bytes", slab_bytes),
    CLSZ("free_in_slabs_bytes", free_in_slabs),
    CLSZ("rounding_bytes_estimate", rounding_estimate),
};
static const ctl_node_t sbin_index[] = {INDEX(valid_bin, sbin_leaves)};

static const ctl_node_t frag_kids[] = {
    FRAG("rounding_bytes_estimate", rounding_estimate),
    FRAG("partial_slab_bytes", partial_slab),
    FRAG("cached_bytes", cached),
    FRAG("dirty_bytes", dirty),
    FRAG("clean_bytes", clean),
    FRAG("chunk_header_bytes", chunk_headers),
    FRAG("metadata_mapped_bytes", meta_mapped),
};
static const ctl_node_t huge_kids[] = {
    SNAP("allocated", huge_allocated),
    SNAP("nmaps", huge_count),
    SNAP("cached", huge_cached),
};
static const ctl_node_t hugepages_kids[] = {
    VAL("mapped", T_SIZE, g_hugepages, G_HP_MAPPED),
    VAL("fallbacks", T_U64, g_hugepages, G_HP_FALLBACKS),
};
/* sable aborts on an invalid or double free, so a running process has seen
 * none; the names stay for the day a mode reports and goes on. */
static const ctl_node_t errors_kids[] = {
    VAL("invalid_free", T_U64, g_const, 0),
    VAL("double_free", T_U64, g_const, 0),
};
static const ctl_node_t stats_kids[] = {
    SNAP("allocated", allocated),    SNAP("active", active),
    SNAP("resident", resident),      SNAP("mapped", mapped),
    SNAP("retained", retained),      SNAP("metadata", metadata),
    SNAP("tcache_bytes", tcache_bytes),
    NODE("huge", huge_kids),         NODE("hugepages", hugepages_kids),
    NODE("errors", errors_kids),     NODE("frag", frag_kids),
    NODE("bins", sbin_index),        NODE("arenas", sa_index),
};

static const ctl_node_t root_kids[] = {
    VAL("version", T_STR, g_version, 0),
    ACT("epoch", a_epoch),
    {.name = "opt", .kind = K_OPT},
    NODE("arenas", arenas_kids),
    NODE("arena", arena_index),
    NODE("thread", thread_kids),
    NODE("stats", stats_kids),
};
static const ctl_node_t root = NODE("", root_kids);

/* ---- lookup ---- */

/* One step down from `n`: by name (comp, len) or, with comp NULL, by the
 * number *m. Fills *m, records indices in x, returns the child or NULL. */
static const ctl_node_t *step(const ctl_node_t *n, const char *comp, size_t len, size_t *m,
                              ctl_ctx_t *x)
{
    if (n->kind == K_OPT) {
        size_t nopt;
        const opt_desc_t *t = opt_table(&nopt);
        if (comp) {
            for (*m = 0; *m < nopt; (*m)++)
                if (strlen(t[*m].name) == len && memcmp(t[*m].name, comp, len) == 0) break;
        }
        if (*m >= nopt) return NULL;
        x->opt = *m;
        return &opt_leaf;
    }
    if (n->kind != K_NODE && n->kind != K_INDEX) return NULL;
    if (n->kids[0].kind == K_INDEX) {
        if (comp) {
            if (len == 0 || len > 9) return NULL;
            size_t v = 0;
            for (size_t i = 0; i < len; i++) {
                if (comp[i] < '0' || comp[i] > '9') return NULL;
                v = v * 10 + (size_t)(comp[i] - '0');
            }
            *m = v;
        }
        if (!n->kids[0].valid(*m) || x->nidx == CTL_MAX_IDX) return NULL;
        x->idx[x->nidx++] = *m;
        return &n->kids[0];
    }
    if (comp) {
        for (*m = 0; *m < n->nkids; (*m)++) {
            const char *k = n->kids[*m].name;
            if (strlen(k) == len && memcmp(k, comp, len) == 0) break;
        }
    }
    return *m < n->nkids ? &n->kids[*m] : NULL;
}

/* Walks a name, filling mib up to *depth components (at most cap). */
static int lookup_name(const char *name, size_t *mib, size_t cap, size_t *depth,
                       const ctl_node_t **out, ctl_ctx_t *x)
{
    if (name == NULL) return ENOENT;
    const ctl_node_t *n = &root;
    size_t d = 0;
    const char *p = name;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (d == cap) break; /* nametomib with a short buffer: a prefix */
        size_t m = 0;
        n = step(n, p, len, &m, x);
        if (n == NULL) return ENOENT;
        mib[d++] = m;
        if (dot == NULL) break;
        p = dot + 1;
    }
    *depth = d;
    *out = n;
    return 0;
}

static int invoke(const ctl_node_t *n, ctl_ctx_t *x, void *oldp, size_t *oldlenp, void *newp,
                  size_t newlen)
{
    if (n->kind != K_LEAF) return ENOENT;
    if (n->act) return n->act(x, oldp, oldlenp, newp, newlen);
    if (newp != NULL || newlen != 0) return EPERM;
    ctl_val_t v = {0, NULL};
    int err = n->get(x, n->arg, &v);
    return err ? err : read_typed(oldp, oldlenp, n->type, &v);
}

int sable_mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen)
{
    if (!process_init()) return EAGAIN;
    ctl_ctx_t x = {.nidx = 0};
    size_t mib[CTL_MAX_DEPTH], depth;
    const ctl_node_t *n;
    if (ctl_begin(false) == NULL) return EAGAIN;
    int err = lookup_name(name, mib, CTL_MAX_DEPTH, &depth, &n, &x);
    if (err == 0) err = invoke(n, &x, oldp, oldlenp, newp, newlen);
    ctl_end();
    return err;
}

int sable_mallctlnametomib(const char *name, size_t *mibp, size_t *miblenp)
{
    if (mibp == NULL || miblenp == NULL) return EINVAL;
    if (!process_init()) return EAGAIN;
    ctl_ctx_t x = {.nidx = 0};
    const ctl_node_t *n;
    size_t depth;
    int err = lookup_name(name, mibp, *miblenp, &depth, &n, &x);
    if (err == 0) *miblenp = depth;
    return err;
}

int sable_mallctlbymib(const size_t *mib, size_t miblen, void *oldp, size_t *oldlenp, void *newp,
                       size_t newlen)
{
    if (mib == NULL && miblen != 0) return EINVAL;
    if (!process_init()) return EAGAIN;
    ctl_ctx_t x = {.nidx = 0};
    const ctl_node_t *n = &root;
    for (size_t d = 0; d < miblen; d++) {
        size_t m = mib[d];
        n = step(n, NULL, 0, &m, &x);
        if (n == NULL) return ENOENT;
    }
    if (ctl_begin(false) == NULL) return EAGAIN;
    int err = invoke(n, &x, oldp, oldlenp, newp, newlen);
    ctl_end();
    return err;
}
