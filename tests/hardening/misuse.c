/* One misuse per case: the test binary takes the case's name, re-executes
 * itself as a child that performs the misuse (runner.c), and checks that the
 * child ends the way the hardening issue specifies: SIGABRT after exactly one
 * line naming the misused pointer, SIGSEGV on the guard page after a huge
 * block in secure mode, or a normal exit where the "misuse" must be harmless.
 *
 *   hardening-<case> <case>             the parent: runs and checks the child
 *   hardening-<case> --child <case>     the child: performs the misuse
 *   --list, --registered CASE...        the table, and a check of meson.build's
 *
 * Built twice (see hard.h): unprefixed through libsable.so, and prefixed
 * against the core library. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hard.h"
#include "runner.h"

/* Hides a pointer's origin from the compiler, so that it neither warns about
 * nor optimises the deliberate misuse. */
static void *launder(void *p)
{
    __asm__ volatile("" : "+r"(p));
    return p;
}

struct hcase;
typedef void (*child_fn)(const struct hcase *c);

enum df_mode {
    DF_IMMEDIATE,   /* free(p); free(p); */
    DF_DELAYED,     /* p, q of the same size; free(p); free(q); free(p); */
    DF_INTERLEAVED, /* free(p); malloc(200); malloc(5000); free(p); */
    DF_FLUSHED,     /* free(p); the thread cache flushed to the arena; free(p); */
    DF_AFTER_FREES, /* free(p); then frees of 300 other blocks of p's size; free(p); */
};

struct hcase {
    const char *name;
    const char *conf; /* SABLE_CONF for the child, NULL: unset */
    struct expectation expect;
    child_fn fn;
    size_t size;
    enum df_mode mode;
};

/* ---- invalid pointers ---------------------------------------------------- */

static void free_wild(const struct hcase *c)
{
    (void)c;
    void *p = launder((void *)(uintptr_t)0x12345678);
    runner_publish((uintptr_t)p, 0, 0);
    M_FREE(p);
}

static void free_stack(const struct hcase *c)
{
    (void)c;
    char buf[256];
    memset(buf, 0, sizeof buf);
    void *p = launder(buf + 16);
    runner_publish((uintptr_t)p, 0, 0);
    M_FREE(p);
}

/* free(malloc(c->size) + offset): the offset is in c->mode's place. */
static void free_interior(const struct hcase *c)
{
    char *p = M_MALLOC(c->size);
    if (!p)
        _exit(3);
    void *q = launder(p + (size_t)c->mode);
    runner_publish((uintptr_t)q, 0, 0);
    M_FREE(q);
}

static void free_into_released_huge(const struct hcase *c)
{
    (void)c;
    char *p = M_MALLOC(8 * MiB);
    if (!p)
        _exit(3);
    M_FREE(p);
    void *q = launder(p + 4096);
    runner_publish((uintptr_t)q, 0, 0);
    M_FREE(q);
}

static void realloc_wild(const struct hcase *c)
{
    (void)c;
    void *p = launder((void *)(uintptr_t)0x12345678);
    runner_publish((uintptr_t)p, 0, 0);
    (void)!M_REALLOC(p, 200);
}

static void realloc_stack(const struct hcase *c)
{
    (void)c;
    char buf[256];
    memset(buf, 0, sizeof buf);
    void *p = launder(buf + 16);
    runner_publish((uintptr_t)p, 0, 0);
    (void)!M_REALLOC(p, 200);
}

/* c->size: the new size (200 by default; 64, the block's own class, is the
 * inline path's case). */
static void realloc_interior(const struct hcase *c)
{
    char *p = M_MALLOC(64);
    if (!p)
        _exit(3);
    void *q = launder(p + 16);
    runner_publish((uintptr_t)q, 0, 0);
    (void)!M_REALLOC(q, c->size ? c->size : 200);
}

static void usable_wild(const struct hcase *c)
{
    (void)c;
    void *p = launder((void *)(uintptr_t)0x12345678);
    runner_publish((uintptr_t)p, 0, 0);
    (void)!M_USABLE(p);
}

static void usable_interior(const struct hcase *c)
{
    (void)c;
    char *p = M_MALLOC(64);
    if (!p)
        _exit(3);
    void *q = launder(p + 16);
    runner_publish((uintptr_t)q, 0, 0);
    (void)!M_USABLE(q);
}

/* ---- double frees -------------------------------------------------------- */

static void double_free(const struct hcase *c)
{
    void *p = M_MALLOC(c->size);
    if (!p)
        _exit(3);
    switch (c->mode) {
    case DF_IMMEDIATE:
        M_FREE(p);
        break;
    case DF_DELAYED: {
        void *q = M_MALLOC(c->size);
        if (!q)
            _exit(3);
        M_FREE(p);
        M_FREE(q);
        break;
    }
    case DF_INTERLEAVED: {
        M_FREE(p);
        void *x = M_MALLOC(200);
        void *y = M_MALLOC(5000);
        if (!x || !y)
            _exit(3);
        /* A test of sable, not of the test: if p's address came back (it
         * must not while x and y have classes of their own), the second free
         * would be legitimate. */
        if (x == p || y == p) {
            static const char msg[] = "test setup: p came back as x or y\n";
            (void)!write(STDERR_FILENO, msg, sizeof msg - 1);
            _exit(4);
        }
        break;
    }
    case DF_AFTER_FREES: {
        /* enough frees of p's class to fill the thread cache, so that it
         * flushes its older half, p included, to the arena */
        enum { OTHERS = 300 };
        static void *others[OTHERS];
        int n = c->size > 2 * MiB ? 8 : OTHERS; /* huge: address space only */
        for (int i = 0; i < n; i++)
            if (!(others[i] = M_MALLOC(c->size)))
                _exit(3);
        M_FREE(p);
        for (int i = 0; i < n; i++)
            M_FREE(others[i]);
        break;
    }
    case DF_FLUSHED:
        M_FREE(p);
        if (sable_mallctl("thread.tcache.flush", NULL, NULL, NULL, 0) != 0)
            _exit(3);
        break;
    }
    void *again = launder(p);
    runner_publish((uintptr_t)again, 0, 0);
    M_FREE(again);
    /* The contract (docs/security.md): a double free is caught at the second
     * free, except for a small block whose first free had already left the
     * thread cache (DF_FLUSHED, DF_AFTER_FREES): the second free then enters
     * the cache and is caught when the cache is flushed, before the block
     * can be handed out by the arena again. Flush, so that the test sees it. */
    sable_mallctl("thread.tcache.flush", NULL, NULL, NULL, 0);
}

/* A double free that the thread cache takes unchecked, whose first free
 * empties its chunk, which the arena then gives back before the second free
 * is flushed (docs/security.md, "Racing a release"): the flush must name the
 * block, not read the given-back memory as a chunk. The blocks of c->size
 * fill the chunks K1, K2 and K3 (none holding a warm-up block); K1 is
 * emptied first so that it becomes the arena's spare and K2, when empty, is
 * given back at once. K2 is emptied but for v; then v is freed, two blocks
 * of K3, and v again, which enters the cache past its two-entry check. The
 * flush takes the newest first: v's second free empties K2, which goes back
 * to the page heap (and with dirty_decay_ms:0 is purged: it reads as
 * zeroes), and then v's first free comes. */
enum { RELEASED_MAX_BLOCKS = 300000 };

static uintptr_t chunk_base(const void *p) { return (uintptr_t)p & ~(uintptr_t)(4 * MiB - 1); }

static void *warm[4];

static int is_warm_chunk(uintptr_t base)
{
    for (int i = 0; i < 4; i++)
        if (chunk_base(warm[i]) == base)
            return 1;
    return 0;
}

static void flush_cache(void)
{
    if (sable_mallctl("thread.tcache.flush", NULL, NULL, NULL, 0) != 0)
        _exit(3);
}

static void double_free_chunk_released(const struct hcase *c)
{
    static void *blk[RELEASED_MAX_BLOCKS];
    uintptr_t k[3] = {0, 0, 0};
    size_t n = 0;
    int seen = 0, in_k3 = 0;
    while (in_k3 < 2) {
        if (n == RELEASED_MAX_BLOCKS || !(blk[n] = M_MALLOC(c->size)))
            _exit(3);
        uintptr_t b = chunk_base(blk[n++]);
        if (seen < 3 && !is_warm_chunk(b) && b != k[0] && b != k[1])
            k[seen++] = b;
        in_k3 += seen == 3 && b == k[2];
    }
    void *v = NULL, *x = NULL, *y = NULL;
    for (size_t i = 0; i < n; i++)
        if (chunk_base(blk[i]) == k[0])
            M_FREE(blk[i]);
    flush_cache();
    for (size_t i = 0; i < n; i++) {
        uintptr_t b = chunk_base(blk[i]);
        if (b == k[1] && v == NULL)
            v = blk[i];
        else if (b == k[1])
            M_FREE(blk[i]);
        else if (b == k[2] && x == NULL)
            x = blk[i];
        else if (b == k[2] && y == NULL)
            y = blk[i];
    }
    flush_cache();
    if (!v || !x || !y)
        _exit(3);
    M_FREE(v);
    M_FREE(x);
    M_FREE(y);
    void *again = launder(v);
    runner_publish((uintptr_t)again, 0, 0);
    M_FREE(again);
    flush_cache();
}

/* ---- sized frees --------------------------------------------------------- */

static void free_sized_wrong(const struct hcase *c)
{
    void *p = M_MALLOC(c->size);
    if (!p)
        _exit(3);
    size_t wrong = (size_t)c->mode;
    runner_publish((uintptr_t)p, wrong, M_USABLE(p));
    M_FREE_SIZED(launder(p), wrong);
}

/* The same size class is not a mismatch: 100 and 105 both round to 112. */
static void free_sized_same_class(const struct hcase *c)
{
    (void)c;
    void *p = M_MALLOC(100);
    if (!p)
        _exit(3);
    runner_publish((uintptr_t)p, 105, M_USABLE(p));
    M_FREE_SIZED(launder(p), 105);
    /* and the allocator carries on */
    for (int i = 0; i < 1000; i++) {
        void *q = M_MALLOC(100 + (size_t)i % 13);
        if (!q)
            _exit(3);
        M_FREE_SIZED(q, 100 + (size_t)i % 13);
    }
}

static void free_aligned_sized_wrong(const struct hcase *c)
{
    (void)c;
    void *p = M_ALIGNED_ALLOC(64, 64);
    if (!p)
        _exit(3);
    runner_publish((uintptr_t)p, 4000, M_USABLE(p));
    M_FREE_ALIGNED_SIZED(launder(p), 64, 4000);
}

/* free_sized is for blocks from malloc, calloc and realloc: an aligned
 * block freed with its requested size but without its alignment is a
 * mismatch (its class is the alignment's, not the size's). */
static void free_sized_aligned_block(const struct hcase *c)
{
    (void)c;
    void *p = M_ALIGNED_ALLOC(4096, 1);
    if (!p)
        _exit(3);
    runner_publish((uintptr_t)p, 1, M_USABLE(p));
    M_FREE_SIZED(launder(p), 1);
}

/* The right size with the wrong alignment. */
static void free_aligned_sized_wrong_alignment(const struct hcase *c)
{
    (void)c;
    void *p = M_ALIGNED_ALLOC(4096, 100);
    if (!p)
        _exit(3);
    runner_publish((uintptr_t)p, 100, M_USABLE(p));
    M_FREE_ALIGNED_SIZED(launder(p), 64, 100);
}

/* Every block freed exactly as it was allocated passes: aligned blocks with
 * their alignment and size, reallocated ones with their last size, in
 * every size range. */
static void sized_frees_exact(const struct hcase *c)
{
    (void)c;
    static const size_t sizes[] = {1, 16, 100, 4000, 4096, 20000, 100 * KiB, 3 * MiB};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        for (size_t align = 16; align <= 64 * KiB; align <<= 2) {
            void *p = M_ALIGNED_ALLOC(align, sizes[i]);
            if (!p)
                _exit(3);
            M_FREE_ALIGNED_SIZED(p, align, sizes[i]);
        }
        void *p = M_MALLOC(sizes[i]);
        if (!p)
            _exit(3);
        M_FREE_SIZED(p, sizes[i]);
        p = M_MALLOC(sizes[i]);
        void *q = p ? M_REALLOC(p, sizes[i] / 2 + 1) : NULL;
        if (!q)
            _exit(3);
        M_FREE_SIZED(q, sizes[i] / 2 + 1);
        p = M_MALLOC(sizes[i]);
        q = p ? M_REALLOC(p, sizes[i] * 3) : NULL;
        if (!q)
            _exit(3);
        M_FREE_SIZED(q, sizes[i] * 3);
    }
}

#ifndef SABLE_TEST_PREFIXED
static void delete_sized_wrong(const struct hcase *c)
{
    (void)c;
    void *p = _Znwm(64);
    runner_publish((uintptr_t)p, 4000, M_USABLE(p));
    _ZdlPvm(launder(p), 4000);
}

static void delete_array_sized_wrong(const struct hcase *c)
{
    (void)c;
    void *p = _Znam(64);
    runner_publish((uintptr_t)p, 4000, M_USABLE(p));
    _ZdaPvm(launder(p), 4000);
}
#endif

/* ---- writes through dangling pointers, secure mode ----------------------- */

/* Writes 8 bytes at the start of a freed 64 B block, then gives the allocator
 * every chance to look at it: the block comes back from the thread cache,
 * many more blocks of its class are allocated, all are freed, the caches are
 * flushed and memory is trimmed. */
static void uaf_write_then_churn(const struct hcase *c)
{
    (void)c;
    enum { N = 1000 };
    static void *blocks[N];
    char *p = M_MALLOC(64);
    if (!p)
        _exit(3);
    memset(p, 0x11, 64);
    M_FREE(p);
    volatile uint64_t *dangling = launder(p);
    runner_publish((uintptr_t)p, 0, 0);
    *dangling = 0x4141414141414141ull;
    for (int i = 0; i < N; i++) {
        blocks[i] = M_MALLOC(64);
        if (!blocks[i])
            _exit(3);
        memset(blocks[i], 0x22, 64);
    }
    /* all distinct (the dangling write cannot have made the allocator hand
     * out a block twice) */
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++)
            if (blocks[i] == blocks[j]) {
                fprintf(stderr, "block %p handed out twice (allocations %d and %d)\n",
                    blocks[i], i, j);
                _exit(5);
            }
    for (int i = 0; i < N; i++)
        M_FREE(blocks[i]);
    sable_mallctl("thread.tcache.flush", NULL, NULL, NULL, 0);
    M_TRIM();
    /* and once more after the flush */
    for (int i = 0; i < N; i++)
        blocks[i] = M_MALLOC(64);
    for (int i = 0; i < N; i++)
        M_FREE(blocks[i]);
}

/* Checks n bytes at p read through a (possibly dangling) pointer against
 * want; reports the first difference on stderr and exits 6. */
static void expect_bytes(const char *what, const volatile unsigned char *p, size_t n,
    unsigned char want)
{
    size_t bad = 0, first = n;
    for (size_t i = 0; i < n; i++)
        if (p[i] != want) {
            if (first == n)
                first = i;
            bad++;
        }
    if (bad) {
        fprintf(stderr, "%s: %zu of %zu bytes are not 0x%02x, the first at offset %zu is 0x%02x\n",
            what, bad, n, want, first, p[first]);
        _exit(6);
    }
}

static void junk_on_alloc(const struct hcase *c)
{
    (void)c;
    unsigned char *p = M_MALLOC(64);
    if (!p)
        _exit(3);
    runner_publish((uintptr_t)p, 64, 0);
    expect_bytes("new 64 B block", launder(p), 64, 0xa5);
    M_FREE(p);
}

static void junk_on_free(const struct hcase *c)
{
    (void)c;
    unsigned char *p = M_MALLOC(64);
    if (!p)
        _exit(3);
    memset(p, 0x11, 64);
    M_FREE(p);
    runner_publish((uintptr_t)p, 64, 0);
    /* read only: a debugging feature's observable effect */
    expect_bytes("freed 64 B block", launder(p), 64, 0x5a);
}

static void zero_on_free(const struct hcase *c)
{
    (void)c;
    unsigned char *p = M_MALLOC(64);
    if (!p)
        _exit(3);
    memset(p, 0xcc, 64);
    M_FREE(p);
    runner_publish((uintptr_t)p, 64, 0);
    expect_bytes("freed 64 B block", launder(p), 64, 0);
}

static void guard_after_huge(const struct hcase *c)
{
    (void)c;
    char *p = M_MALLOC(8 * MiB);
    if (!p)
        _exit(3);
    /* neighbours, so that without a guard page the byte after p would likely
     * be mapped (huge blocks are placed on 4 MiB slots, one after another) */
    for (int i = 0; i < 4; i++)
        if (!M_MALLOC(8 * MiB))
            _exit(3);
    size_t usable = M_USABLE(p);
    volatile char *end = launder(p + usable);
    runner_publish((uintptr_t)end, 8 * MiB, usable);
    *end = 1;
}

/* ---- the cases ----------------------------------------------------------- */

#define ABORT_WITH(msg, f) {EXPECT_LINE_ABORT, (msg), (f)}
#define INVALID(f) ABORT_WITH(MSG_INVALID, f)
#define DOUBLE ABORT_WITH(MSG_DOUBLE_FREE, "free")
#define WRONG_SIZE(f) ABORT_WITH(MSG_WRONG_SIZE, f)
#define EXITS_0 {EXPECT_EXIT0, MSG_NONE, NULL}

#define DF_CASES(label, sz)                                                                        \
    {"double-free-" label "-immediate", NULL, DOUBLE, double_free, (sz), DF_IMMEDIATE},            \
    {"double-free-" label "-delayed", NULL, DOUBLE, double_free, (sz), DF_DELAYED},                \
    {"double-free-" label "-interleaved", NULL, DOUBLE, double_free, (sz), DF_INTERLEAVED},        \
    {"double-free-" label "-flushed", NULL, DOUBLE, double_free, (sz), DF_FLUSHED},                \
    {"double-free-" label "-after-frees", NULL, DOUBLE, double_free, (sz), DF_AFTER_FREES}

static const struct hcase cases[] = {
    {"free-wild", NULL, INVALID("free"), free_wild, 0, 0},
    {"free-stack", NULL, INVALID("free"), free_stack, 0, 0},
    {"free-interior-small", NULL, INVALID("free"), free_interior, 64, 16},
    {"free-interior-large", NULL, INVALID("free"), free_interior, 100 * KiB, 4096},
    {"free-interior-huge", NULL, INVALID("free"), free_interior, 8 * MiB, 8},
    {"free-released-huge", NULL, INVALID("free"), free_into_released_huge, 0, 0},
    {"realloc-wild", NULL, INVALID("realloc"), realloc_wild, 0, 0},
    {"realloc-stack", NULL, INVALID("realloc"), realloc_stack, 0, 0},
    {"realloc-interior", NULL, INVALID("realloc"), realloc_interior, 0, 0},
    {"realloc-interior-same-class", NULL, INVALID("realloc"), realloc_interior, 64, 0},
    {"usable-wild", NULL, INVALID("malloc_usable_size"), usable_wild, 0, 0},
    {"usable-interior", NULL, INVALID("malloc_usable_size"), usable_interior, 0, 0},
    DF_CASES("small", 64),
    DF_CASES("large", 100 * KiB),
    DF_CASES("large-1m", 1 * MiB),
    DF_CASES("huge", 8 * MiB),
    {"double-free-small-chunk-released", "dirty_decay_ms:0", DOUBLE, double_free_chunk_released,
        64, 0},
    {"double-free-small-chunk-released-dirty", NULL, DOUBLE, double_free_chunk_released, 64, 0},
    {"double-free-16k-chunk-released", "dirty_decay_ms:0", DOUBLE, double_free_chunk_released,
        16 * KiB, 0},
    {"double-free-large-chunk-released", "dirty_decay_ms:0", DOUBLE, double_free_chunk_released,
        20 * KiB, 0},
    {"free-sized-wrong", NULL, WRONG_SIZE("free_sized"), free_sized_wrong, 64, 4000},
    {"free-sized-wrong-large", NULL, WRONG_SIZE("free_sized"), free_sized_wrong, 100 * KiB, 64},
    {"free-sized-same-class", NULL, EXITS_0, free_sized_same_class, 0, 0},
    {"free-aligned-sized-wrong", NULL, WRONG_SIZE("free_aligned_sized"),
        free_aligned_sized_wrong, 0, 0},
    /* a smaller size than the block's class: some alignment would map 1 to
     * a 4 KiB block, but malloc(4000) was not aligned */
    {"free-sized-smaller", NULL, WRONG_SIZE("free_sized"), free_sized_wrong, 4000, 1},
    {"free-sized-aligned-block", NULL, WRONG_SIZE("free_sized"), free_sized_aligned_block, 0, 0},
    {"free-aligned-sized-wrong-alignment", NULL, WRONG_SIZE("free_aligned_sized"),
        free_aligned_sized_wrong_alignment, 0, 0},
    {"sized-frees-exact", NULL, EXITS_0, sized_frees_exact, 0, 0},
#ifndef SABLE_TEST_PREFIXED
    {"delete-sized-wrong", NULL, WRONG_SIZE("operator delete"), delete_sized_wrong, 0, 0},
    {"delete-array-sized-wrong", NULL, WRONG_SIZE("operator delete[]"),
        delete_array_sized_wrong, 0, 0},
#endif
    {"uaf-write-harmless", NULL, EXITS_0, uaf_write_then_churn, 0, 0},
    {"secure-uaf-write-detected", "secure:true", ABORT_WITH(MSG_CORRUPTION, NULL),
        uaf_write_then_churn, 0, 0},
    {"secure-junk-on-alloc", "secure:true,junk:true", EXITS_0, junk_on_alloc, 0, 0},
    {"secure-junk-on-free", "secure:true,junk:true", EXITS_0, junk_on_free, 0, 0},
    {"secure-zero-on-free", "secure:true,zero_on_free:true", EXITS_0, zero_on_free, 0, 0},
    {"secure-guard-after-huge", "secure:true", {EXPECT_SEGV, MSG_NONE, NULL},
        guard_after_huge, 0, 0},
};

static const struct hcase *find_case(const char *name)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (strcmp(cases[i].name, name) == 0)
            return &cases[i];
    return NULL;
}

/* Blocks of the classes the interleaved double frees allocate, kept live, so
 * that those allocations come from existing slabs and never from the address
 * space a freed large or huge block gave back; they also keep the first chunk
 * from becoming empty (warm[] is declared above). */

static void warm_up(void)
{
    warm[0] = M_MALLOC(200);
    warm[1] = M_MALLOC(5000);
    warm[2] = M_MALLOC(64);
    warm[3] = M_MALLOC(4096);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], RUNNER_CHILD_FLAG) == 0) {
        const struct hcase *c = find_case(argv[2]);
        if (!c)
            return 124;
        warm_up();
        c->fn(c);
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
            printf("%s\n", cases[i].name);
        return 0;
    }
    if (argc >= 2 && strcmp(argv[1], "--registered") == 0) {
        /* meson.build's list of cases (the rest of argv) must be this table */
        int bad = 0;
        for (int i = 2; i < argc; i++)
            if (!find_case(argv[i])) {
                printf("registered in meson.build, not in misuse.c: %s\n", argv[i]);
                bad = 1;
            }
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            int found = 0;
            for (int j = 2; j < argc; j++)
                found |= strcmp(argv[j], cases[i].name) == 0;
            if (!found) {
                printf("in misuse.c, not registered in meson.build: %s\n", cases[i].name);
                bad = 1;
            }
        }
        return bad;
    }
    const struct hcase *c = argc == 2 ? find_case(argv[1]) : NULL;
    if (!c) {
        fprintf(stderr, "usage: %s CASE (%s --list for the cases)\n", argv[0], argv[0]);
        return 2;
    }
    printf("%s API\n", M_VARIANT);
    return runner_run(c->name, c->conf, &c->expect);
}
