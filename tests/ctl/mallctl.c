/* sable_mallctl: every name with its type, the error codes, epoch, MIBs,
 * and counters that move by exactly what a known sequence of calls should
 * move them by. Prefixed API: the test harness itself runs on the C
 * library's malloc, so sable's counters see only what the tests do. */
#include <pthread.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl_test.h"

#include "ctl/tree.h"
#include "os/os.h"

/* Every name, with an index where one is needed, and its value's size. */
typedef struct {
    const char *name;
    size_t size;
    bool writable; /* write with a value of `size` bytes is accepted */
} name_t;

static const name_t names[] = {
    {"version", sizeof(const char *), false},
    {"epoch", sizeof(uint64_t), true},
    {"opt.narenas", sizeof(unsigned), false},
    {"opt.tcache", sizeof(bool), false},
    {"opt.abort_conf", sizeof(bool), false},
    {"opt.confirm_conf", sizeof(bool), false},
    {"opt.stats_print", sizeof(bool), false},
    {"opt.stats_print_opts", sizeof(const char *), false},
    {"arenas.narenas", sizeof(unsigned), false},
    {"arenas.page", sizeof(size_t), false},
    {"arenas.quantum", sizeof(size_t), false},
    {"arenas.nbins", sizeof(unsigned), false},
    {"arenas.bin.0.size", sizeof(size_t), false},
    {"arenas.bin.0.nregs", sizeof(uint32_t), false},
    {"arenas.bin.35.slab_size", sizeof(size_t), false},
    {"thread.allocated", sizeof(uint64_t), false},
    {"thread.deallocated", sizeof(uint64_t), false},
    {"thread.arena", sizeof(unsigned), true},
    {"stats.allocated", sizeof(size_t), false},
    {"stats.active", sizeof(size_t), false},
    {"stats.resident", sizeof(size_t), false},
    {"stats.mapped", sizeof(size_t), false},
    {"stats.retained", sizeof(size_t), false},
    {"stats.metadata", sizeof(size_t), false},
    {"stats.tcache_bytes", sizeof(size_t), false},
    {"stats.huge.allocated", sizeof(size_t), false},
    {"stats.huge.nmaps", sizeof(size_t), false},
    {"stats.huge.cached", sizeof(size_t), false},
    {"stats.hugepages.mapped", sizeof(size_t), false},
    {"stats.hugepages.fallbacks", sizeof(uint64_t), false},
    {"stats.errors.map", sizeof(uint64_t), false},
    {"stats.errors.purge", sizeof(uint64_t), false},
    {"stats.errors.hint_miss", sizeof(uint64_t), false},
    {"stats.frag.rounding_bytes_estimate", sizeof(size_t), false},
    {"stats.frag.partial_slab_bytes", sizeof(size_t), false},
    {"stats.frag.cached_bytes", sizeof(size_t), false},
    {"stats.frag.dirty_bytes", sizeof(size_t), false},
    {"stats.frag.clean_bytes", sizeof(size_t), false},
    {"stats.frag.chunk_header_bytes", sizeof(size_t), false},
    {"stats.frag.metadata_mapped_bytes", sizeof(size_t), false},
    {"stats.frag.small_allocated_bytes", sizeof(size_t), false},
    {"stats.frag.large_allocated_bytes", sizeof(size_t), false},
    {"stats.large_classes.0.size", sizeof(size_t), false},
    {"stats.large_classes.15.allocated_bytes", sizeof(size_t), false},
    {"stats.bins.3.allocated_bytes", sizeof(size_t), false},
    {"stats.bins.3.cached_bytes", sizeof(size_t), false},
    {"stats.bins.3.slab_bytes", sizeof(size_t), false},
    {"stats.bins.3.free_in_slabs_bytes", sizeof(size_t), false},
    {"stats.bins.3.rounding_bytes_estimate", sizeof(size_t), false},
    {"stats.arenas.0.nthreads", sizeof(unsigned), false},
    {"stats.arenas.0.pactive", sizeof(size_t), false},
    {"stats.arenas.0.pdirty", sizeof(size_t), false},
    {"stats.arenas.0.mapped", sizeof(size_t), false},
    {"stats.arenas.0.resident", sizeof(size_t), false},
    {"stats.arenas.0.metadata", sizeof(size_t), false},
    {"stats.arenas.0.tcache_bytes", sizeof(size_t), false},
    {"stats.arenas.0.purged", sizeof(uint64_t), false},
    {"stats.arenas.0.npurge", sizeof(uint64_t), false},
    {"stats.arenas.0.nmadvise", sizeof(uint64_t), false},
    {"stats.arenas.0.small.allocated", sizeof(size_t), false},
    {"stats.arenas.0.small.nrequests", sizeof(uint64_t), false},
    {"stats.arenas.0.large.allocated", sizeof(size_t), false},
    {"stats.arenas.0.large.nmalloc", sizeof(uint64_t), false},
    {"stats.arenas.0.large.ndalloc", sizeof(uint64_t), false},
    {"stats.arenas.4096.pactive", sizeof(size_t), false},
    {"stats.arenas.0.bins.0.nmalloc", sizeof(uint64_t), false},
    {"stats.arenas.0.bins.0.ndalloc", sizeof(uint64_t), false},
    {"stats.arenas.0.bins.0.nrequests", sizeof(uint64_t), false},
    {"stats.arenas.0.bins.0.nfills", sizeof(uint64_t), false},
    {"stats.arenas.0.bins.0.nflushes", sizeof(uint64_t), false},
    {"stats.arenas.0.bins.0.curregs", sizeof(size_t), false},
    {"stats.arenas.0.bins.0.curslabs", sizeof(size_t), false},
    {"stats.arenas.0.bins.35.nonfull_slabs", sizeof(size_t), false},
};
#define NNAMES (sizeof names / sizeof names[0])

Test(mallctl, every_name_reads_with_its_size)
{
    for (size_t i = 0; i < NNAMES; i++) {
        unsigned char buf[16];
        size_t len = names[i].size;
        memset(buf, 0xa5, sizeof buf);
        cr_assert_eq(sable_mallctl(names[i].name, buf, &len, NULL, 0), 0, "%s", names[i].name);
        cr_assert_eq(len, names[i].size, "%s", names[i].name);
        cr_assert_eq(buf[names[i].size], 0xa5, "%s wrote past its size", names[i].name);
        /* No output buffer: a valid no-op. */
        cr_assert_eq(sable_mallctl(names[i].name, NULL, NULL, NULL, 0), 0, "%s", names[i].name);
    }
}

Test(mallctl, wrong_length_is_einval_and_copies_what_fits)
{
    for (size_t i = 0; i < NNAMES; i++) {
        unsigned char buf[16];
        size_t len = names[i].size + 1;
        cr_assert_eq(sable_mallctl(names[i].name, buf, &len, NULL, 0), EINVAL, "%s", names[i].name);
        cr_assert_eq(len, names[i].size, "%s: copied length", names[i].name);
        len = names[i].size - 1;
        cr_assert_eq(sable_mallctl(names[i].name, buf, &len, NULL, 0), EINVAL, "%s", names[i].name);
        cr_assert_eq(len, names[i].size - 1, "%s: copied length", names[i].name);
    }
    uint64_t e = 0;
    cr_assert_eq(sable_mallctl("epoch", NULL, NULL, &e, sizeof e - 1), EINVAL);
    unsigned a = 0;
    cr_assert_eq(sable_mallctl("thread.arena", NULL, NULL, &a, sizeof a + 1), EINVAL);
}

Test(mallctl, writing_a_read_only_name_is_eperm)
{
    for (size_t i = 0; i < NNAMES; i++) {
        if (names[i].writable) continue;
        unsigned char buf[16] = {0};
        cr_assert_eq(sable_mallctl(names[i].name, NULL, NULL, buf, names[i].size), EPERM, "%s",
                     names[i].name);
    }
}

/* name with every numeric component replaced by 0, into out. */
static void index_zero(const char *name, char *out, size_t cap)
{
    size_t n = 0;
    for (const char *p = name; *p && n + 2 < cap;) {
        const char *e = strchr(p, '.');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        bool number = len > 0 && strspn(p, "0123456789") == len;
        n += (size_t)snprintf(out + n, cap - n, "%s%.*s", n ? "." : "", number ? 1 : (int)len,
                              number ? "0" : p);
        p += len + (e != NULL);
    }
    out[n] = '\0';
}

/* Walks the tree with index 0 wherever a number goes: every value reads
 * with its type's size and, unless writable, refuses writes; every action
 * runs without a value and refuses one. Marks the entries of the list above
 * that the leaf stands for. */
static unsigned check_tree(const ctl_node_t *n, char *name, size_t len, ctl_ctx_t *x,
                           bool *listed)
{
    if (n->kind == CTL_VALUE || n->kind == CTL_ACTION) {
        unsigned char buf[16], zero[16] = {0};
        size_t size = ctl_type_size(n->type), got = size;
        if (n->kind == CTL_ACTION) {
            /* Arena 0 is automatic: only created arenas are reset or destroyed. */
            bool created_only = strcmp(name, "arena.0.reset") == 0 || strcmp(name, "arena.0.destroy") == 0;
            cr_assert_eq(sable_mallctl(name, NULL, NULL, NULL, 0), created_only ? EFAULT : 0, "%s",
                         name);
            cr_assert_eq(sable_mallctl(name, buf, &got, NULL, 0), EPERM, "%s", name);
        } else if (n->flags & CTL_WRONLY) {
            cr_assert_eq(sable_mallctl(name, buf, &got, NULL, 0), EPERM, "%s: written only", name);
            cr_assert_eq(sable_mallctl(name, NULL, NULL, NULL, 0), EINVAL, "%s: no value", name);
        } else {
            cr_assert_gt(size, 0, "%s has a type", name);
            /* arenas.lookup answers only after a pointer is written. */
            int want = strcmp(name, "arenas.lookup") == 0 ? EINVAL : 0;
            cr_assert_eq(sable_mallctl(name, buf, &got, NULL, 0), want, "%s", name);
            cr_assert_eq(got, size, "%s", name);
            if (n->set == NULL)
                cr_assert_eq(sable_mallctl(name, NULL, NULL, zero, size), EPERM, "%s", name);
        }
        cr_assert_not_null(n->doc, "%s has a doc string", name);
        for (size_t i = 0; i < NNAMES; i++) {
            char z[128];
            index_zero(names[i].name, z, sizeof z);
            if (strcmp(z, name) != 0) continue;
            cr_assert_eq(n->kind == CTL_ACTION ? 0 : ctl_type_size(n->type), names[i].size,
                         "%s: the tree's type and the list's size agree", names[i].name);
            listed[i] = true;
        }
        return 1;
    }
    unsigned leaves = 0;
    for (size_t k = 0; k < ctl_nkids(n); k++) {
        /* A row node lives in x: copy it before the next row is built. */
        ctl_node_t kid = *ctl_kid(n, k, x);
        size_t n2 = len + (size_t)snprintf(name + len, 128 - len, "%s%s", len ? "." : "",
                                           kid.kind == CTL_INDEX ? "0" : kid.name);
        leaves += check_tree(&kid, name, n2, x, listed);
        name[len] = '\0';
    }
    return leaves;
}

/* The tree is the source of the names: this covers every row, and every
 * name of the list above is one of them. */
Test(mallctl, every_name_of_the_tree_answers)
{
    char name[128] = "";
    ctl_ctx_t x = {.nidx = 0};
    bool listed[NNAMES] = {false};
    unsigned leaves = check_tree(&ctl_tree_root, name, 0, &x, listed);
    for (size_t i = 0; i < NNAMES; i++) cr_assert(listed[i], "%s is not in the tree", names[i].name);
    cr_assert_geq(leaves, 60);
}

Test(mallctl, unknown_names_are_enoent)
{
    static const char *const bad[] = {
        "",
        "bogus",
        "stats",          /* an inner node is not a value */
        "stats.",
        ".stats",
        "stats.bogus",
        "stats.allocated.more",
        "opt",
        "opt.bogus",
        "opt.narenas.x",
        "arenas.bin",
        "arenas.bin.36.size", /* past the last small class */
        "arenas.bin.x.size",
        "arenas.bin.-1.size",
        "arenas.bin.1x.size",
        "stats.arenas.4097.pactive",
        "stats.arenas.0.bins.36.curregs",
        "stats.large_classes.16.size",
        "arena.4095.purge",
        "thread.tcache",
        "mallctl",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t v, len = sizeof v;
        cr_assert_eq(sable_mallctl(bad[i], &v, &len, NULL, 0), ENOENT, "'%s'", bad[i]);
    }
    cr_assert_eq(sable_mallctl(NULL, NULL, NULL, NULL, 0), ENOENT);
    char name[64];
    unsigned n = ctl_u("arenas.narenas");
    cr_assert_eq(sable_mallctl(ctl_name(name, "arena.%u.purge", n + 1), NULL, NULL, NULL, 0), ENOENT);
    cr_assert_eq(sable_mallctl(ctl_name(name, "stats.arenas.%u.mapped", n + 1), NULL, NULL, NULL, 0),
                 ENOENT);
}

Test(mallctl, version_and_options)
{
    const char *v = NULL;
    size_t len = sizeof v;
    cr_assert_eq(sable_mallctl("version", &v, &len, NULL, 0), 0);
    cr_assert_str_eq(v, SABLE_VERSION_STRING);
    cr_assert_eq(ctl_u("opt.narenas"), 0);
    bool b = false;
    len = sizeof b;
    cr_assert_eq(sable_mallctl("opt.tcache", &b, &len, NULL, 0), 0);
    cr_assert(b);
    cr_assert_eq(sable_mallctl("opt.stats_print", &b, &len, NULL, 0), 0);
    cr_assert(!b);
    const char *s = NULL;
    len = sizeof s;
    cr_assert_eq(sable_mallctl("opt.stats_print_opts", &s, &len, NULL, 0), 0);
    cr_assert_str_eq(s, "");
    /* Enum-valued options read as their name. */
    if (sable_mallctl("opt.hugepages", &s, &len, NULL, 0) == 0) cr_assert_str_eq(s, "off");
}

Test(mallctl, arenas_geometry)
{
    cr_assert_eq(ctl_z("arenas.quantum"), 16);
    cr_assert_eq(ctl_z("arenas.page"), (size_t)sysconf(_SC_PAGESIZE));
    cr_assert_geq(ctl_u("arenas.narenas"), 1);
    unsigned nbins = ctl_u("arenas.nbins");
    cr_assert_eq(nbins, 36);
    size_t prev = 0;
    char name[64];
    for (unsigned j = 0; j < nbins; j++) {
        size_t size = ctl_z(ctl_name(name, "arenas.bin.%u.size", j));
        size_t slab = ctl_z(ctl_name(name, "arenas.bin.%u.slab_size", j));
        uint32_t nregs = 0;
        size_t len = sizeof nregs;
        cr_assert_eq(sable_mallctl(ctl_name(name, "arenas.bin.%u.nregs", j), &nregs, &len, NULL, 0), 0);
        cr_assert_gt(size, prev);
        cr_assert_eq(size % 16, 0);
        cr_assert_leq((size_t)nregs * size, slab);
        cr_assert_eq(slab % 4096, 0);
        prev = size;
    }
    cr_assert_eq(prev, 16384);
}

/* The index of the small class of `size`. */
static unsigned class_of(size_t size)
{
    char name[64];
    for (unsigned j = 0;; j++)
        if (ctl_z(ctl_name(name, "arenas.bin.%u.size", j)) >= size) return j;
}

Test(mallctl, epoch_refreshes_the_snapshot_only_when_written)
{
    uint64_t e0 = ctl_epoch();
    uint64_t e = 0;
    size_t len = sizeof e;
    cr_assert_eq(sable_mallctl("epoch", &e, &len, NULL, 0), 0);
    cr_assert_eq(e, e0, "reading epoch does not refresh");
    size_t before = ctl_z("stats.allocated");
    void *p = sable_malloc(1 << 20);
    cr_assert_not_null(p);
    cr_assert_eq(ctl_z("stats.allocated"), before, "the snapshot holds until the next epoch");
    cr_assert_eq(ctl_epoch(), e0 + 1);
    cr_assert_eq(ctl_z("stats.allocated"), before + (1 << 20));
    sable_free(p);
    ctl_epoch();
    cr_assert_eq(ctl_z("stats.allocated"), before);
}

Test(mallctl, mib_round_trip)
{
    size_t mib[8], miblen = 8;
    cr_assert_eq(sable_mallctlnametomib("arenas.bin.0.size", mib, &miblen), 0);
    cr_assert_eq(miblen, 4);
    cr_assert_eq(mib[2], 0);
    char name[64];
    for (unsigned j = 0; j < ctl_u("arenas.nbins"); j++) {
        mib[2] = j;
        size_t v = 0, len = sizeof v;
        cr_assert_eq(sable_mallctlbymib(mib, miblen, &v, &len, NULL, 0), 0);
        cr_assert_eq(v, ctl_z(ctl_name(name, "arenas.bin.%u.size", j)));
    }
    mib[2] = 36;
    size_t v, len = sizeof v;
    cr_assert_eq(sable_mallctlbymib(mib, miblen, &v, &len, NULL, 0), ENOENT);

    /* Two indices, and opt.* through its table row. */
    miblen = 8;
    cr_assert_eq(sable_mallctlnametomib("stats.arenas.0.bins.5.curregs", mib, &miblen), 0);
    cr_assert_eq(miblen, 6);
    cr_assert_eq(mib[2], 0);
    cr_assert_eq(mib[4], 5);
    cr_assert_eq(sable_mallctlbymib(mib, miblen, &v, &len, NULL, 0), 0);
    cr_assert_eq(v, ctl_z("stats.arenas.0.bins.5.curregs"));
    miblen = 8;
    cr_assert_eq(sable_mallctlnametomib("opt.narenas", mib, &miblen), 0);
    unsigned u = 7;
    len = sizeof u;
    cr_assert_eq(sable_mallctlbymib(mib, miblen, &u, &len, NULL, 0), 0);
    cr_assert_eq(u, ctl_u("opt.narenas"));

    /* A short MIB buffer gets the prefix; an inner node is not a value. */
    miblen = 2;
    cr_assert_eq(sable_mallctlnametomib("stats.arenas.0.pactive", mib, &miblen), 0);
    cr_assert_eq(miblen, 2);
    cr_assert_eq(sable_mallctlbymib(mib, miblen, &v, &len, NULL, 0), ENOENT);
    miblen = 8;
    cr_assert_eq(sable_mallctlnametomib("stats.bogus", mib, &miblen), ENOENT);
    cr_assert_eq(sable_mallctlnametomib("stats.allocated", NULL, &miblen), EINVAL);
    size_t junk[2] = {99, 99};
    cr_assert_eq(sable_mallctlbymib(junk, 2, &v, &len, NULL, 0), ENOENT);
}

/* ---- counters ---- */

typedef struct {
    uint64_t a0, d0, a1, d1, a2, d2;
} thread_moves_t;

static void *thread_allocs(void *arg)
{
    thread_moves_t *m = arg;
    m->a0 = ctl_q("thread.allocated");
    m->d0 = ctl_q("thread.deallocated");
    void *small = sable_malloc(100);     /* class 112 */
    void *large = sable_malloc(20000);   /* class 20480 */
    void *huge = sable_malloc(3 << 20);  /* a mapping of 3 MiB */
    m->a1 = ctl_q("thread.allocated");
    sable_free(small);
    sable_free(large);
    sable_free(huge);
    m->d1 = ctl_q("thread.deallocated");
    void *p = sable_calloc(10, 10);      /* 100 B: class 112 */
    m->a2 = ctl_q("thread.allocated");
    sable_free(p);
    m->d2 = ctl_q("thread.deallocated");
    return NULL;
}

Test(mallctl, thread_allocated_moves_by_class_sizes)
{
    thread_moves_t m;
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, thread_allocs, &m), 0);
    pthread_join(t, NULL);
    cr_assert_eq(m.a0, 0, "a fresh thread starts at 0");
    cr_assert_eq(m.d0, 0);
    cr_assert_eq(m.a1 - m.a0, 112 + 20480 + (3u << 20));
    cr_assert_eq(m.d1 - m.d0, 112 + 20480 + (3u << 20));
    cr_assert_eq(m.a2 - m.a1, 112);
    cr_assert_eq(m.d2 - m.d1, 112);
}

Test(mallctl, stats_and_bins_move_by_exact_amounts)
{
    enum { N = 1000 };
    static void *p[N];
    char name[96];
    unsigned j = class_of(1000);
    cr_assert_eq(ctl_z(ctl_name(name, "arenas.bin.%u.size", j)), 1024);
    sable_mallctl("thread.tcache.flush", NULL, NULL, NULL, 0);
    ctl_epoch();
    size_t alloc0 = ctl_z("stats.allocated");
    size_t held0 = ctl_z(ctl_name(name, "stats.bins.%u.allocated_bytes", j));
    size_t regs0 = ctl_z(ctl_name(name, "stats.arenas.4096.bins.%u.curregs", j));
    uint64_t req0 = ctl_q(ctl_name(name, "stats.arenas.4096.bins.%u.nrequests", j));
    uint64_t nd0 = ctl_q(ctl_name(name, "stats.arenas.4096.bins.%u.ndalloc", j));

    for (int i = 0; i < N; i++) cr_assert_not_null(p[i] = sable_malloc(1000));
    ctl_epoch();
    cr_assert_eq(ctl_z("stats.allocated") - alloc0, (size_t)N * 1024);
    cr_assert_eq(ctl_z(ctl_name(name, "stats.bins.%u.allocated_bytes", j)) - held0, (size_t)N * 1024);
    cr_assert_eq(ctl_q(ctl_name(name, "stats.arenas.4096.bins.%u.nrequests", j)) - req0, N);
    size_t regs1 = ctl_z(ctl_name(name, "stats.arenas.4096.bins.%u.curregs", j));
    size_t cached = ctl_z(ctl_name(name, "stats.bins.%u.cached_bytes", j));
    cr_assert_geq(regs1 - regs0, N, "blocks out of slabs: the program's and the cache's");
    cr_assert_eq((regs1 - regs0) * 1024, (size_t)N * 1024 + cached);

    /* Flushing the cache leaves exactly the program's blocks out. */
    cr_assert_eq(sable_mallctl("thread.tcache.flush", NULL, NULL, NULL, 0), 0);
    ctl_epoch();
    cr_assert_eq(ctl_z(ctl_name(name, "stats.arenas.4096.bins.%u.curregs", j)) - regs0, N);
    cr_assert_eq(ctl_z(ctl_name(name, "stats.bins.%u.cached_bytes", j)), 0);
    cr_assert_eq(ctl_z("stats.tcache_bytes"), 0);
    size_t slabs = ctl_z(ctl_name(name, "stats.arenas.4096.bins.%u.curslabs", j));
    size_t slab_bytes = ctl_z(ctl_name(name, "stats.bins.%u.slab_bytes", j));
    size_t slab_size = ctl_z(ctl_name(name, "arenas.bin.%u.slab_size", j));
    cr_assert_eq(slab_bytes, slabs * slab_size);
    cr_assert_eq(ctl_z(ctl_name(name, "stats.bins.%u.free_in_slabs_bytes", j)),
                 slab_bytes - (regs0 + N) * 1024);

    for (int i = 0; i < N; i++) sable_free(p[i]);
    sable_mallctl("thread.tcache.flush", NULL, NULL, NULL, 0);
    ctl_epoch();
    cr_assert_eq(ctl_z("stats.allocated"), alloc0);
    cr_assert_eq(ctl_z(ctl_name(name, "stats.arenas.4096.bins.%u.curregs", j)), regs0);
    cr_assert_geq(ctl_q(ctl_name(name, "stats.arenas.4096.bins.%u.ndalloc", j)) - nd0, N);
}

Test(mallctl, totals_are_ordered_and_the_breakdown_adds_up)
{
    void *small[500], *large[8], *huge;
    for (int i = 0; i < 500; i++) small[i] = sable_malloc(24 + i * 7);
    for (int i = 0; i < 8; i++) large[i] = sable_malloc(40000 + i * 30000);
    huge = sable_malloc(5 << 20);
    ctl_epoch();
    size_t allocated = ctl_z("stats.allocated"), active = ctl_z("stats.active");
    size_t mapped = ctl_z("stats.mapped");
    cr_assert_leq(allocated, active);
    cr_assert_leq(active, mapped);
    cr_assert_eq(ctl_z("stats.huge.nmaps"), 1);
    cr_assert_eq(ctl_z("stats.huge.allocated"), (size_t)5 << 20);
    size_t parts = allocated + ctl_z("stats.frag.cached_bytes") +
                   ctl_z("stats.frag.partial_slab_bytes") + ctl_z("stats.frag.dirty_bytes") +
                   ctl_z("stats.frag.clean_bytes") + ctl_z("stats.frag.chunk_header_bytes");
    cr_assert_eq(parts, mapped, "allocated + caches + free in slabs + free runs + headers = mapped");
    cr_assert_eq(active, allocated + ctl_z("stats.frag.cached_bytes") +
                             ctl_z("stats.frag.partial_slab_bytes"));
    cr_assert_gt(ctl_z("stats.frag.rounding_bytes_estimate"), 0);
    cr_assert_lt(ctl_z("stats.frag.rounding_bytes_estimate"), allocated / 4);
    /* Per-arena sums equal the merged view. */
    unsigned n = ctl_u("arenas.narenas");
    size_t sum = 0;
    char name[64];
    for (unsigned i = 0; i < n; i++) sum += ctl_z(ctl_name(name, "stats.arenas.%u.mapped", i));
    cr_assert_eq(sum, ctl_z(ctl_name(name, "stats.arenas.%u.mapped", n)));
    cr_assert_eq(sum, ctl_z("stats.arenas.4096.mapped"));
    cr_assert_eq(sum + ((size_t)5 << 20), mapped);
    for (int i = 0; i < 500; i++) sable_free(small[i]);
    for (int i = 0; i < 8; i++) sable_free(large[i]);
    sable_free(huge);
}

static size_t statm_rss(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    cr_assert_not_null(f);
    unsigned long size, rss;
    cr_assert_eq(fscanf(f, "%lu %lu", &size, &rss), 2);
    fclose(f);
    return rss * (size_t)sysconf(_SC_PAGESIZE);
}

Test(mallctl, resident_tracks_the_process_rss)
{
    enum { N = 64 };
    static char *p[N];
    ctl_epoch();
    size_t res0 = ctl_z("stats.resident"), rss0 = statm_rss();
    for (int i = 0; i < N; i++) {
        p[i] = sable_malloc(1 << 20);
        cr_assert_not_null(p[i]);
        memset(p[i], i + 1, 1 << 20);
    }
    ctl_epoch();
    size_t dres = ctl_z("stats.resident") - res0, drss = statm_rss() - rss0;
    cr_assert_geq(drss, (size_t)60 << 20, "the test touched 64 MiB (RSS grew by %zu)", drss);
    size_t diff = dres > drss ? dres - drss : drss - dres;
    cr_assert_leq(diff, drss / 5, "stats.resident grew by %zu, RSS by %zu", dres, drss);
    for (int i = 0; i < N; i++) cr_assert_eq(p[i][12345], (char)(i + 1));
    for (int i = 0; i < N; i++) sable_free(p[i]);
}

Test(mallctl, actions)
{
    unsigned n = ctl_u("arenas.narenas");
    char name[64];
    size_t len = sizeof(size_t);
    size_t v;
    /* Purge: one arena, all (narenas or ARENAS_ALL); no value either way. */
    cr_assert_eq(sable_mallctl("arena.0.purge", NULL, NULL, NULL, 0), 0);
    cr_assert_eq(sable_mallctl("arena.0.decay", NULL, NULL, NULL, 0), 0);
    cr_assert_eq(sable_mallctl(ctl_name(name, "arena.%u.purge", n), NULL, NULL, NULL, 0), 0);
    cr_assert_eq(sable_mallctl("arena.4096.purge", NULL, NULL, NULL, 0), 0);
    cr_assert_eq(sable_mallctl("arena.0.purge", &v, &len, NULL, 0), EPERM);
    cr_assert_eq(sable_mallctl("arena.0.purge", NULL, NULL, &v, sizeof v), EPERM);
    cr_assert_eq(sable_mallctl("thread.tcache.flush", &v, &len, NULL, 0), EPERM);

    /* A purge returns dirty free runs: free a large block, purge, count. */
    void *big = sable_malloc(1 << 20);
    memset(big, 1, 1 << 20);
    sable_free(big);
    ctl_epoch();
    uint64_t purged0 = ctl_q("stats.arenas.4096.purged");
    cr_assert_eq(sable_mallctl("arena.4096.purge", NULL, NULL, NULL, 0), 0);
    ctl_epoch();
    cr_assert_eq(ctl_z("stats.frag.dirty_bytes"), 0);
    cr_assert_eq(ctl_z("stats.arenas.4096.pdirty"), 0);
    cr_assert_geq(ctl_q("stats.arenas.4096.purged"), purged0);

    /* thread.arena: read, rewrite the same, reject others. */
    unsigned a = 99;
    len = sizeof a;
    cr_assert_eq(sable_mallctl("thread.arena", &a, &len, NULL, 0), 0);
    cr_assert_lt(a, n);
    unsigned same = a, old = 99;
    cr_assert_eq(sable_mallctl("thread.arena", &old, &len, &same, sizeof same), 0);
    cr_assert_eq(old, a);
    unsigned out_of_range = n;
    cr_assert_eq(sable_mallctl("thread.arena", NULL, NULL, &out_of_range, sizeof(unsigned)), EFAULT);
    if (n > 1) {
        /* Another arena: the thread moves there (and back). */
        unsigned other = (a + 1) % n, now = 99;
        cr_assert_eq(sable_mallctl("thread.arena", NULL, NULL, &other, sizeof other), 0);
        cr_assert_eq(sable_mallctl("thread.arena", &now, &len, NULL, 0), 0);
        cr_assert_eq(now, other);
        cr_assert_eq(sable_mallctl("thread.arena", NULL, NULL, &a, sizeof a), 0);
    }
    /* Nothing asked for huge pages, so nothing fell back. */
    cr_assert_eq(ctl_q("stats.hugepages.fallbacks"), 0);
}

/* A mapping the kernel refuses is counted in stats.errors.map, silently
 * (ENOMEM is the normal out-of-memory answer), and the allocation returns
 * NULL with ENOMEM. In a child: the address-space limit stays there. */
Test(mallctl, a_refused_mapping_is_counted_in_stats_errors_map)
{
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        uint64_t before = ctl_q("stats.errors.map");
        struct rlimit lim;
        if (getrlimit(RLIMIT_AS, &lim) != 0) _exit(10);
        lim.rlim_cur = (rlim_t)1 << 30; /* far below what is asked for next */
        if (setrlimit(RLIMIT_AS, &lim) != 0) _exit(11);
        errno = 0;
        void *p = sable_malloc((size_t)4 << 30);
        if (p != NULL || errno != ENOMEM) _exit(12);
        _exit(ctl_q("stats.errors.map") > before ? 0 : 13);
    }
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x", status);
}

/* Every stats.errors name reads its own kind's count: one real failure of
 * each kind, caused through the os layer (an unaligned address, a size the
 * kernel refuses), moves that name by one and no other. hint_miss, which no
 * call fails with, is left out (and may move with any mapping). In a child:
 * a refused move turns moves off for the process. */
static void fail_once(enum os_error_kind k, char *p, size_t ps)
{
    switch (k) {
    case OS_ERR_MAP: (void)os_map_aligned((size_t)1 << 62, ps); break;
    case OS_ERR_UNMAP: os_unmap(p + 1, ps); break;
    case OS_ERR_PURGE: (void)os_purge(p + 1, ps); break;
    case OS_ERR_ADVISE: (void)os_advise_hugepage(p + 1, ps); break;
    case OS_ERR_GUARD: (void)os_guard(p + 1, ps); break;
    case OS_ERR_RESIDENT: (void)os_resident(p + 1, ps); break;
    case OS_ERR_MOVE: (void)os_move(p + 2 * ps, p + 1, ps); break;
    case OS_ERR_HUGETLB: (void)os_map_aligned_hugetlb(os_huge_page_size() / 2, os_huge_page_size()); break;
    default: break;
    }
}

/* The name of kind k, as the os layer names it, read through mallctl. */
static uint64_t error_count(unsigned k)
{
    char name[64];
    uint64_t v = 0;
    size_t len = sizeof v;
    snprintf(name, sizeof name, "stats.errors.%s", os_error_name((enum os_error_kind)k));
    return sable_mallctl(name, &v, &len, NULL, 0) == 0 ? v : UINT64_MAX;
}

static int errors_child(void)
{
    size_t ps = (size_t)sysconf(_SC_PAGESIZE);
    char *p = sable_malloc(64 << 20); /* sets sable up; a huge block is whole pages */
    if (p == NULL) return 10;
    p = (char *)(((uintptr_t)p + ps - 1) & ~(uintptr_t)(ps - 1));
    for (unsigned k = 0; k < OS_ERR_HINT_MISS; k++) {
        uint64_t before[OS_ERR_NKINDS];
        for (unsigned j = 0; j < OS_ERR_NKINDS; j++) before[j] = error_count(j);
        fail_once((enum os_error_kind)k, p + 8 * ps * k, ps);
        for (unsigned j = 0; j < OS_ERR_HINT_MISS; j++)
            if (error_count(j) != before[j] + (j == k)) return 20 + (int)k;
    }
    return 0;
}

Test(mallctl, each_stats_errors_name_counts_its_own_failures)
{
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) _exit(errors_child());
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "child status %#x (20 + k: kind k miscounted)", status);
}

/* stats.retained is the page heaps' clean free extents: a freed huge block
 * is dirty (stats.huge.cached) until purged, and purging moves exactly its
 * bytes (and any other dirty extent's) from one to the other. */
Test(mallctl, retained_grows_by_what_a_purge_makes_clean)
{
    size_t size = (size_t)32 << 20;
    char *p = sable_malloc(size);
    cr_assert_not_null(p);
    memset(p, 1, size);
    sable_free(p);
    ctl_epoch();
    size_t retained = ctl_z("stats.retained"), dirty = ctl_z("stats.huge.cached");
    cr_assert_geq(dirty, size);
    cr_assert_eq(sable_mallctl("arena.4096.purge", NULL, NULL, NULL, 0), 0);
    ctl_epoch();
    cr_assert_eq(ctl_z("stats.huge.cached"), 0);
    cr_assert_eq(ctl_z("stats.retained") - retained, dirty);
}
