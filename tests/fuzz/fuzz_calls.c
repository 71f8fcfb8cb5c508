/* tests/fuzz/fuzz_calls.c — libFuzzer target over call sequences of the
 * prefixed API (include/sable.h).
 *
 * The input is decoded into operations on a table of NSLOTS live-block slots:
 * allocate with every function of the family (sizes from 0 through tiny,
 * every class boundary +-1, large and huge up to 64 MiB; alignments
 * 1 B .. 64 MiB),
 * realloc (grow, shrink, to 0, from NULL), free, free_sized,
 * free_aligned_sized, usable-size queries, trim, and calls that the contract
 * says must fail (bad alignments, sizes above PTRDIFF_MAX, overflowing
 * products), whose documented errors are asserted.
 *
 * A shadow of every live block (requested size, alignment, usable size, a
 * content pattern derived from slot and generation) is checked on every free
 * and realloc, after trim and periodically: the pattern over the requested
 * size, usable >= size (and unchanged), alignment, calloc zeroing, and that
 * no two live blocks' usable ranges overlap (on every allocation against all
 * live blocks, and on a check-overlap operation by sorting). Any mismatch
 * prints one line and traps.
 *
 * Every input frees what it allocated, so runs are independent (sable's own
 * caches and arenas persist between inputs, as in a long-running program).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sable.h"

#define NSLOTS 256
#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)
#define LIVE_CAP (256 * MiB)   /* sum of usable sizes of live blocks */
#define MAX_VALID_ALIGN (64 * MiB)
#define HUGE_MAX (64 * MiB)   /* largest size decoded or reached by realloc */
#define VERIFY_EVERY 64        /* operations between periodic full checks */

/* Largest log2 alignment op_huge_align tries (the contract covers all of
 * them: aligned, or ENOMEM). Lowering it with -DFUZZ_HUGE_ALIGN_MAX_LG=43
 * (FUZZ_CFLAGS) steps around a known finding to keep looking for others;
 * see repro/align_units_truncation.c. */
#ifndef FUZZ_HUGE_ALIGN_MAX_LG
#define FUZZ_HUGE_ALIGN_MAX_LG 63
#endif

/* The size classes as docs/design.md describes them: 16..128 every 16 B, then
 * four per doubling up to 2 MiB. Computed here, independently of the
 * allocator's generated tables. */
#define NCLASSES (8 + 4 * 14)
static size_t class_size(unsigned c)
{
    if (c < 8) return (size_t)(c + 1) * 16;
    unsigned g = (c - 8) / 4, i = (c - 8) % 4;
    size_t base = (size_t)128 << g;
    return base + base / 4 * (i + 1);
}

/* ---- failure ---- */

static unsigned long op_index;
static int last_op = -1;

__attribute__((noreturn, format(printf, 1, 2))) static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "fuzz_calls: FAIL at op %lu (kind %d): ", op_index, last_op);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    fflush(stderr);
    __builtin_trap();
}

/* FUZZ_CALLS_TRACE=1 in the environment prints every operation and block:
 * the way to read a crashing input as a program. */
static int tracing = -1;
#define TRACE(...)                                                                                \
    do {                                                                                          \
        if (tracing) fprintf(stderr, __VA_ARGS__);                                                \
    } while (0)

#define CHECK(cond, ...)                                                                          \
    do {                                                                                          \
        if (!(cond)) fail(__VA_ARGS__);                                                           \
    } while (0)

/* ---- input ---- */

typedef struct {
    const uint8_t *d;
    size_t n, i;
} input_t;

static unsigned u8(input_t *in) { return in->i < in->n ? in->d[in->i++] : 0; }
static unsigned u16(input_t *in) { return u8(in) | u8(in) << 8; }
static uint32_t u32(input_t *in) { return (uint32_t)u16(in) | (uint32_t)u16(in) << 16; }

/* ---- content pattern ---- */

/* The loops over block contents are most of the run time; instrumenting
 * them (coverage of their compares, ASan checks of memory that is sable's
 * own mappings anyway) would only slow them down several times. */
#if defined(__clang__)
#define NO_COVERAGE __attribute__((no_sanitize("coverage", "address", "undefined")))
#else
#define NO_COVERAGE
#endif

NO_COVERAGE static inline uint64_t pat_word(uint64_t seed, size_t w)
{
    uint64_t x = seed ^ ((uint64_t)w * 0x9e3779b97f4a7c15ull);
    x *= 0xbf58476d1ce4e5b9ull;
    return x ^ (x >> 31);
}

NO_COVERAGE static inline uint8_t pat_byte(uint64_t seed, size_t i)
{
    uint64_t w = pat_word(seed, i / 8);
    uint8_t b[8];
    memcpy(b, &w, 8);
    return b[i % 8];
}

/* Writes the pattern of `seed` over bytes [from, to) of block p (p is at least
 * 16-byte aligned, so block offsets and addresses agree modulo 8). */
NO_COVERAGE static void pat_fill(unsigned char *p, uint64_t seed, size_t from, size_t to)
{
    size_t i = from;
    for (; i < to && i % 8; i++) p[i] = pat_byte(seed, i);
    for (; i + 8 <= to; i += 8) {
        uint64_t w = pat_word(seed, i / 8);
        memcpy(p + i, &w, 8);
    }
    for (; i < to; i++) p[i] = pat_byte(seed, i);
}

/* Returns the first offset in [from, to) that does not hold the pattern, or
 * `to` if all do. */
NO_COVERAGE static size_t pat_check(const unsigned char *p, uint64_t seed, size_t from, size_t to)
{
    size_t i = from;
    for (; i < to && i % 8; i++)
        if (p[i] != pat_byte(seed, i)) return i;
    for (; i + 8 <= to; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        if (w != pat_word(seed, i / 8)) break;
    }
    for (; i < to; i++)
        if (p[i] != pat_byte(seed, i)) return i;
    return to;
}

/* ---- shadow of live blocks ---- */

enum fn {
    FN_MALLOC, FN_CALLOC, FN_REALLOC, FN_REALLOCARRAY, FN_POSIX_MEMALIGN, FN_ALIGNED_ALLOC,
    FN_MEMALIGN, FN_VALLOC, FN_PVALLOC,
};
static const char *const fn_name[] = {"malloc", "calloc", "realloc", "reallocarray",
    "posix_memalign", "aligned_alloc", "memalign", "valloc", "pvalloc"};

typedef struct {
    unsigned char *p; /* NULL: slot empty */
    size_t size;      /* requested size */
    size_t align;     /* alignment promised (at least 16) */
    size_t req_align; /* alignment the caller passed (for free_aligned_sized) */
    size_t usable;    /* sable_malloc_usable_size at allocation */
    uint64_t seed;    /* pattern seed from (slot, generation) */
    enum fn fn;       /* function that produced the current block */
} slot_t;

static slot_t slots[NSLOTS];
static uint32_t generation[NSLOTS];
static size_t live_bytes; /* sum of usable sizes */
static size_t page;

static uint64_t make_seed(unsigned s)
{
    generation[s]++;
    return ((uint64_t)s << 32 | generation[s]) * 0xd6e8feb86659fd93ull + 1;
}

/* Offset of the first nonzero byte of p[0, n), or n. */
NO_COVERAGE static size_t first_nonzero(const unsigned char *p, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        if (w) break;
    }
    for (; i < n; i++)
        if (p[i]) return i;
    return n;
}

static bool is_aligned(const void *p, size_t a) { return ((uintptr_t)p & (a - 1)) == 0; }

/* Checks everything known about slot s's block. `full`: the whole pattern.
 * Otherwise blocks above 64 KiB are sampled: the first and last 4 KiB and
 * 64 bytes of every 4 KiB page between (enough to see a page purged or
 * mapped over while live); they are checked in full when freed. */
static void verify_slot(unsigned s, bool full)
{
    slot_t *b = &slots[s];
    if (b->p == NULL) return;
    CHECK(is_aligned(b->p, b->align), "slot %u (%s, size %zu): %p not %zu-aligned", s,
        fn_name[b->fn], b->size, (void *)b->p, b->align);
    size_t u = sable_malloc_usable_size(b->p);
    CHECK(u == b->usable, "slot %u (%s, size %zu) at %p: usable size changed from %zu to %zu", s,
        fn_name[b->fn], b->size, (void *)b->p, b->usable, u);
    size_t bad = b->size;
    if (full || b->size <= 64 * KiB) {
        bad = pat_check(b->p, b->seed, 0, b->size);
    } else {
        size_t at = pat_check(b->p, b->seed, 0, 4 * KiB);
        if (at != 4 * KiB) bad = at;
        for (size_t off = 4 * KiB; bad == b->size && off + 8 * KiB <= b->size; off += 4 * KiB) {
            at = pat_check(b->p, b->seed, off, off + 64);
            if (at != off + 64) bad = at;
        }
        if (bad == b->size) bad = pat_check(b->p, b->seed, b->size - 4 * KiB, b->size);
    }
    CHECK(bad == b->size,
        "slot %u (%s, size %zu, usable %zu) at %p: content corrupted at offset %zu "
        "(0x%02x, expected 0x%02x)",
        s, fn_name[b->fn], b->size, b->usable, (void *)b->p, bad, b->p[bad],
        pat_byte(b->seed, bad));
}

static void verify_all(bool full)
{
    for (unsigned s = 0; s < NSLOTS; s++) verify_slot(s, full);
}

/* [p, p + usable) must not meet any other live block's usable range. */
static void check_disjoint(unsigned self, const unsigned char *p, size_t usable)
{
    for (unsigned s = 0; s < NSLOTS; s++) {
        const slot_t *b = &slots[s];
        if (s == self || b->p == NULL) continue;
        CHECK(p + usable <= b->p || b->p + b->usable <= p,
            "block %p+%zu overlaps live slot %u (%s) %p+%zu", (const void *)p, usable, s,
            fn_name[b->fn], (void *)b->p, b->usable);
    }
}

static int cmp_slot_addr(const void *a, const void *b)
{
    const slot_t *x = *(const slot_t *const *)a, *y = *(const slot_t *const *)b;
    return (x->p > y->p) - (x->p < y->p);
}

static void check_overlap_sorted(void)
{
    static const slot_t *live[NSLOTS];
    size_t n = 0;
    for (unsigned s = 0; s < NSLOTS; s++)
        if (slots[s].p) live[n++] = &slots[s];
    qsort(live, n, sizeof live[0], cmp_slot_addr);
    for (size_t i = 1; i < n; i++)
        CHECK(live[i - 1]->p + live[i - 1]->usable <= live[i]->p,
            "live blocks overlap: %p+%zu (%s) and %p+%zu (%s)", (void *)live[i - 1]->p,
            live[i - 1]->usable, fn_name[live[i - 1]->fn], (void *)live[i]->p, live[i]->usable,
            fn_name[live[i]->fn]);
}

/* Records a freshly allocated block in slot s (which must be empty), after
 * checking what a fresh block promises, and writes its pattern. */
static void adopt(unsigned s, void *vp, size_t size, size_t align, enum fn fn)
{
    unsigned char *p = vp;
    slot_t *b = &slots[s];
    CHECK(b->p == NULL, "internal: slot %u not empty", s);
    CHECK(p != NULL, "%s(size %zu, align %zu) returned NULL (errno %d)", fn_name[fn], size, align,
        errno);
    size_t req_align = align;
    if (align < 16) align = 16;
    CHECK(is_aligned(p, align), "%s(size %zu, align %zu) = %p: misaligned", fn_name[fn], size,
        align, (void *)p);
    size_t u = sable_malloc_usable_size(p);
    CHECK(u >= size, "%s(size %zu, align %zu) = %p: usable size %zu < requested", fn_name[fn],
        size, align, (void *)p, u);
    CHECK(u >= 1, "%s(%zu) = %p: usable size 0", fn_name[fn], size, (void *)p);
    /* Rounding bound of docs/design.md for unaligned requests up to 2 MiB:
     * at most 15 B up to 128 B, less than a quarter of the request above. */
    if ((fn == FN_MALLOC || fn == FN_CALLOC) && size > 0 && size <= 2 * MiB) {
        if (size <= 128)
            CHECK(u - size <= 15, "%s(%zu): usable %zu wastes more than 15 B", fn_name[fn], size,
                u);
        else
            CHECK(4 * (u - size) < size, "%s(%zu): usable %zu wastes a quarter or more",
                fn_name[fn], size, u);
    }
    if (fn == FN_CALLOC) {
        size_t i = first_nonzero(p, size);
        CHECK(i == size, "calloc(total %zu) = %p: byte %zu is 0x%02x, not zero", size, (void *)p,
            i, p[i]);
    }
    TRACE("    slot %u <- %s(size %zu, align %zu) = %p usable %zu\n", s, fn_name[fn], size,
        req_align, (void *)p, u);
    check_disjoint(s, p, u);
    b->p = p;
    b->size = size;
    b->align = align;
    b->req_align = req_align;
    b->usable = u;
    b->seed = make_seed(s);
    b->fn = fn;
    live_bytes += u;
    pat_fill(p, b->seed, 0, size);
}

/* Forgets slot s's block (already released). */
static void drop(unsigned s)
{
    live_bytes -= slots[s].usable;
    slots[s].p = NULL;
}

enum free_how { FREE_PLAIN, FREE_SIZED, FREE_ALIGNED_SIZED };

static void release(unsigned s, enum free_how how)
{
    slot_t *b = &slots[s];
    if (b->p == NULL) {
        errno = 4242;
        if (how == FREE_PLAIN) sable_free(NULL);
        else if (how == FREE_SIZED) sable_free_sized(NULL, 0);
        else sable_free_aligned_sized(NULL, 16, 0);
        CHECK(errno == 4242, "free(NULL) changed errno to %d", errno);
        return;
    }
    verify_slot(s, true);
    /* free_sized is for blocks from malloc, calloc and realloc: an aligned
     * one is freed with its alignment (C23), which sable checks exactly. */
    if (how == FREE_SIZED && b->fn >= FN_POSIX_MEMALIGN) how = FREE_ALIGNED_SIZED;
    TRACE("    slot %u free%s(%p) size %zu\n", s,
        how == FREE_PLAIN ? "" : how == FREE_SIZED ? "_sized" : "_aligned_sized", (void *)b->p,
        b->size);
    errno = 4242;
    if (how == FREE_PLAIN) sable_free(b->p);
    else if (how == FREE_SIZED) sable_free_sized(b->p, b->size);
    else sable_free_aligned_sized(b->p, b->req_align, b->size);
    CHECK(errno == 4242, "free of slot %u (%s, size %zu) changed errno to %d", s, fn_name[b->fn],
        b->size, errno);
    drop(s);
}

static void release_all(void)
{
    for (unsigned s = 0; s < NSLOTS; s++)
        if (slots[s].p) release(s, FREE_PLAIN);
}

/* ---- decoding sizes and alignments ---- */

/* A size for a block that will live: biased toward small. */
static size_t decode_size(input_t *in)
{
    unsigned sel = u8(in);
    if (sel < 8) return 0;
    if (sel < 80) return 1 + u8(in) % 64;
    if (sel < 150) {
        /* A class boundary +-1; small classes three times as often. */
        unsigned c = u8(in);
        c = c < 192 ? c % 36 : c % NCLASSES;
        size_t n = class_size(c);
        switch (u8(in) % 3) {
        case 0: return n - 1;
        case 1: return n;
        default: return n + 1;
        }
    }
    if (sel < 200) return 1 + u16(in) % (16 * KiB);
    if (sel < 225) {
        /* Large, log-uniform: 16 KiB .. 2 MiB. */
        size_t base = (size_t)16 * KiB << (u8(in) % 7);
        return base + u32(in) % (base + 1);
    }
    if (sel < 232) {
        /* Huge, log-uniform: 2 MiB .. 64 MiB (HUGE_MAX). Selector bytes 0..2
         * give 2 .. 16 MiB, as before the range was widened, so older seeds
         * decode the same. */
        size_t base = 2 * MiB << (u8(in) % 5);
        return base + u32(in) % (base + 1);
    }
    /* Page and unit multiples +-1, log-uniform up to 16 MiB. */
    size_t k = 1 + u16(in) % ((size_t)1 << (u8(in) % 13));
    return k * 4096 + (size_t)(u8(in) % 3) - 1;
}

/* A valid power-of-two alignment, 1 B .. 64 MiB, biased toward small. */
static size_t decode_align(input_t *in)
{
    unsigned v = u8(in);
    if (v < 200) return (size_t)1 << (v % 13);  /* 1 .. 4 KiB */
    return (size_t)1 << (v % 27);               /* 1 .. 64 MiB */
}

/* Would a block of `size` (aligned to `align`) keep live bytes under the cap?
 * The estimate is generous so that usable-size rounding never breaks it. */
static bool fits(size_t size, size_t align)
{
    (void)align;
    size_t est = size + size / 4 + 64 * KiB;
    return live_bytes + est <= LIVE_CAP;
}

/* ---- operations ---- */

enum op {
    OP_MALLOC, OP_CALLOC, OP_REALLOC, OP_REALLOCARRAY, OP_FREE, OP_FREE_SIZED,
    OP_FREE_ALIGNED_SIZED, OP_POSIX_MEMALIGN, OP_ALIGNED_ALLOC, OP_MEMALIGN, OP_VALLOC,
    OP_PVALLOC, OP_USABLE, OP_TRIM, OP_CHECK_OVERLAP, OP_VERIFY_ALL, OP_INVALID, OP_REALLOC_ZERO,
    OP_BURST_ALLOC, OP_BURST_FREE, OP_MEMALIGN_ODD, OP_HUGE_ALIGN,
    OP_COUNT
};

static const char *const op_name[OP_COUNT] = {"malloc", "calloc", "realloc", "reallocarray",
    "free", "free_sized", "free_aligned_sized", "posix_memalign", "aligned_alloc", "memalign",
    "valloc", "pvalloc", "usable", "trim", "check_overlap", "verify_all", "invalid",
    "realloc_zero", "burst_alloc", "burst_free", "memalign_odd", "huge_align"};

static void op_malloc(input_t *in, unsigned s)
{
    size_t n = decode_size(in);
    release(s, FREE_PLAIN);
    if (!fits(n, 16)) return;
    adopt(s, sable_malloc(n), n, 16, FN_MALLOC);
}

static void op_calloc(input_t *in, unsigned s)
{
    size_t total = decode_size(in);
    size_t count, size;
    switch (u8(in) % 6) {
    case 0: count = 1, size = total; break;
    case 1: count = total, size = 1; break;
    case 2: count = 0, size = total; break;
    case 3: count = total, size = 0; break;
    default: {
        static const size_t ks[] = {2, 3, 4, 8, 12, 16, 24, 40, 100, 4096};
        size_t k = ks[u8(in) % 10];
        total -= total % k;
        count = total / k, size = k;
        if (u8(in) & 1) count = k, size = total / k;
        break;
    }
    }
    release(s, FREE_PLAIN);
    if (!fits(count * size, 16)) return;
    adopt(s, sable_calloc(count, size), count * size, 16, FN_CALLOC);
}

/* Shared tail of realloc and reallocarray once the result q is known for a
 * live slot s that held (old size, seed). */
static void realloc_result(unsigned s, void *q, size_t n, const char *fn)
{
    slot_t *b = &slots[s];
    CHECK(q != NULL, "%s(%p, %zu) returned NULL (errno %d)", fn, (void *)b->p, n, errno);
    size_t keep = b->size < n ? b->size : n;
    unsigned char *p = q;
    CHECK(is_aligned(p, 16), "%s(..., %zu) = %p: not 16-aligned", fn, n, q);
    size_t bad = pat_check(p, b->seed, 0, keep);
    CHECK(bad == keep,
        "%s(%p (size %zu), %zu) = %p: preserved prefix corrupted at offset %zu (0x%02x, "
        "expected 0x%02x)",
        fn, (void *)b->p, b->size, n, q, bad, p[bad], pat_byte(b->seed, bad));
    size_t u = sable_malloc_usable_size(p);
    CHECK(u >= n, "%s(..., %zu) = %p: usable %zu < requested", fn, n, q, u);
    TRACE("    slot %u <- %s(%p, %zu) = %p usable %zu\n", s, fn, (void *)b->p, n, q, u);
    check_disjoint(s, p, u);
    live_bytes += u - b->usable;
    b->p = p;
    b->size = n;
    b->align = 16; /* realloc does not keep a larger alignment */
    b->req_align = 16;
    b->usable = u;
    b->fn = FN_REALLOC;
    pat_fill(p, b->seed, keep, n);
}

static void op_realloc(input_t *in, unsigned s, bool array)
{
    slot_t *b = &slots[s];
    /* Relative sizes reach the in-place paths (a large run growing into its
     * free neighbour, a huge mapping growing or shrinking). The bytes read
     * depend on the mode alone, not on whether the slot is live, so that the
     * rest of the input decodes the same either way. */
    size_t n, old = b->p ? b->size : 0;
    switch (u8(in) % 5) {
    case 0: n = decode_size(in); break;
    case 1: n = old + 1 + u16(in) % (64 * KiB); break;
    case 2: {
        size_t d = 1 + u16(in) % (64 * KiB);
        n = old > d ? old - d : 1;
        break;
    }
    case 3: n = old * 2 + 1; break;
    default: n = old / 2 + 1; break;
    }
    if (n > HUGE_MAX) n = HUGE_MAX;
    size_t count = n, size = 1;
    if (array) {
        unsigned k = 1 + u8(in) % 16;
        n -= n % k;
        count = n / k, size = k;
    }
    if (n == 0) return; /* OP_REALLOC_ZERO covers it */
    if (b->p == NULL) {
        if (!fits(n, 16)) return;
        void *q = array ? sable_reallocarray(NULL, count, size) : sable_realloc(NULL, n);
        adopt(s, q, n, 16, array ? FN_REALLOCARRAY : FN_REALLOC);
        return;
    }
    if (n > b->size && !fits(n, 16)) return;
    verify_slot(s, true);
    void *q = array ? sable_reallocarray(b->p, count, size) : sable_realloc(b->p, n);
    realloc_result(s, q, n, array ? "reallocarray" : "realloc");
}

static void op_realloc_zero(input_t *in, unsigned s)
{
    slot_t *b = &slots[s];
    bool array = u8(in) & 1;
    if (b->p == NULL) {
        /* realloc(NULL, 0) is malloc(0): a unique block. */
        void *q = array ? sable_reallocarray(NULL, 0, 8) : sable_realloc(NULL, 0);
        adopt(s, q, 0, 16, FN_REALLOC);
        return;
    }
    verify_slot(s, true);
    errno = 4343;
    void *q = array ? sable_reallocarray(b->p, 8, 0) : sable_realloc(b->p, 0);
    CHECK(q == NULL, "realloc(%p, 0) = %p, not NULL", (void *)b->p, q);
    CHECK(errno == 4343, "realloc(%p, 0) changed errno to %d", (void *)b->p, errno);
    drop(s);
}

static void op_aligned(input_t *in, unsigned s, enum fn fn)
{
    size_t align = decode_align(in);
    size_t n = decode_size(in);
    release(s, FREE_PLAIN);
    if (!fits(n, align)) return;
    void *p = NULL;
    switch (fn) {
    case FN_POSIX_MEMALIGN: {
        if (align < sizeof(void *)) align = sizeof(void *);
        void *sentinel = (void *)(uintptr_t)0xdead0;
        p = sentinel;
        int r = sable_posix_memalign(&p, align, n);
        CHECK(r == 0, "posix_memalign(%zu, %zu) = %d", align, n, r);
        CHECK(p != sentinel, "posix_memalign(%zu, %zu) succeeded without setting *memptr", align,
            n);
        break;
    }
    case FN_ALIGNED_ALLOC: p = sable_aligned_alloc(align, n); break;
    default: p = sable_memalign(align, n); break;
    }
    adopt(s, p, n, align, fn);
}

static void op_memalign_odd(input_t *in, unsigned s)
{
    /* memalign rounds a non-power-of-two alignment up (glibc). */
    size_t align = 1 + (u8(in) % 4 == 0 ? u32(in) % (64 * MiB) : u16(in));
    size_t n = decode_size(in);
    size_t want = 16;
    while (want < align) want <<= 1;
    release(s, FREE_PLAIN);
    if (!fits(n, want)) return;
    adopt(s, sable_memalign(align, n), n, want, FN_MEMALIGN);
}

static void op_valloc(input_t *in, unsigned s, bool pv)
{
    size_t n = decode_size(in);
    release(s, FREE_PLAIN);
    size_t rounded = n == 0 ? page : (n + page - 1) / page * page;
    if (!fits(pv ? rounded : n, page)) return;
    void *p = pv ? sable_pvalloc(n) : sable_valloc(n);
    /* pvalloc's whole rounded size is the caller's. */
    adopt(s, p, pv ? rounded : n, page, pv ? FN_PVALLOC : FN_VALLOC);
}

static void op_usable(unsigned s)
{
    CHECK(sable_malloc_usable_size(NULL) == 0, "malloc_usable_size(NULL) != 0");
    verify_slot(s, false);
}

static void op_trim(input_t *in)
{
    size_t pad = u8(in) & 1 ? 0 : u32(in);
    int r = sable_trim(pad);
    CHECK(r == 0 || r == 1, "trim(%zu) = %d", pad, r);
    /* Purging must not have touched live data. */
    verify_all(false);
}

static void op_burst_alloc(input_t *in, unsigned s)
{
    /* Many blocks of one size into consecutive slots: fills slabs and makes
     * the thread cache refill. */
    unsigned count = 1 + u8(in) % 64;
    size_t n = decode_size(in);
    if (n > 64 * KiB) n %= 64 * KiB;
    for (unsigned i = 0; i < count; i++) {
        unsigned t = (s + i) % NSLOTS;
        release(t, FREE_PLAIN);
        if (!fits(n, 16)) return;
        adopt(t, sable_malloc(n), n, 16, FN_MALLOC);
    }
}

static void op_burst_free(input_t *in, unsigned s)
{
    /* Frees a run of slots (with a stride): flushes the thread cache. */
    unsigned count = 1 + u8(in) % 128, stride = 1 + u8(in) % 4;
    enum free_how how = (enum free_how)(u8(in) % 3);
    for (unsigned i = 0; i < count; i++) release((s + i * stride) % NSLOTS, how);
}

/* Alignments beyond 64 MiB, up to 2^63: either a block aligned as asked,
 * or NULL with ENOMEM (posix_memalign: ENOMEM, *memptr untouched). */
static void op_huge_align(input_t *in, unsigned s)
{
    unsigned lg = 27 + u8(in) % (FUZZ_HUGE_ALIGN_MAX_LG - 26); /* 128 MiB .. 2^63 */
    size_t align = (size_t)1 << lg;
    size_t n = decode_size(in);
    unsigned which = u8(in) % 3;
    release(s, FREE_PLAIN);
    if (!fits(n, 16)) return;
    void *p;
    errno = 0;
    if (which == 0) {
        void *sentinel = (void *)(uintptr_t)0xbeef0;
        p = sentinel;
        int r = sable_posix_memalign(&p, align, n);
        if (r != 0) {
            CHECK(r == ENOMEM, "posix_memalign(2^%u, %zu) = %d, not 0 or ENOMEM", lg, n, r);
            CHECK(p == sentinel, "posix_memalign(2^%u, %zu) failed but changed *memptr", lg, n);
            return;
        }
    } else {
        p = which == 1 ? sable_aligned_alloc(align, n) : sable_memalign(align, n);
        if (p == NULL) {
            CHECK(errno == ENOMEM, "%s(2^%u, %zu) = NULL with errno %d, not ENOMEM",
                which == 1 ? "aligned_alloc" : "memalign", lg, n, errno);
            return;
        }
    }
    adopt(s, p, n, align, which == 0 ? FN_POSIX_MEMALIGN : which == 1 ? FN_ALIGNED_ALLOC
                                                                       : FN_MEMALIGN);
    /* Such a block may hold a large reservation: give it back at once. */
    release(s, FREE_PLAIN);
}

/* A size that must be refused with ENOMEM: above PTRDIFF_MAX, or beyond any
 * 47-bit address space. */
static size_t decode_too_big(input_t *in)
{
    switch (u8(in) % 6) {
    case 0: return SIZE_MAX - u8(in);
    case 1: return (size_t)PTRDIFF_MAX + 1 + u8(in);
    case 2: return (size_t)PTRDIFF_MAX - u8(in);
    case 3: return ((size_t)1 << (48 + u8(in) % 16)) + u16(in);
    case 4: return SIZE_MAX - page + 1 - u8(in) % 2;
    default: return ((size_t)1 << 62) | u32(in);
    }
}

static void op_invalid(input_t *in, unsigned s)
{
    unsigned kind = u8(in) % 12;
    TRACE("    invalid kind %u\n", kind);
    void *p;
    int r;
    void *sentinel = (void *)(uintptr_t)0x5670;
    switch (kind) {
    case 0: { /* posix_memalign: zero, non-power-of-two or sub-pointer alignment */
        size_t bad;
        switch (u8(in) % 4) {
        case 0: bad = 0; break;
        case 1: bad = (size_t)1 << (u8(in) % 3); break; /* 1, 2, 4 */
        case 2: bad = SIZE_MAX - u8(in); break;
        default: bad = u32(in) | 3; break;                /* odd-ish, never a power of two >= 8 */
        }
        if (bad >= 8 && (bad & (bad - 1)) == 0) bad++;
        p = sentinel;
        r = sable_posix_memalign(&p, bad, decode_size(in));
        CHECK(r == EINVAL, "posix_memalign(%zu, ...) = %d, not EINVAL", bad, r);
        CHECK(p == sentinel, "posix_memalign(%zu, ...) failed but changed *memptr", bad);
        return;
    }
    case 1: { /* aligned_alloc: an alignment that is not a power of two */
        size_t bad = u8(in) % 4 == 0 ? 0 : (size_t)u32(in) * 2 + 3;
        if (u8(in) % 8 == 0) bad = SIZE_MAX - 2 * u8(in);
        if (bad && (bad & (bad - 1)) == 0) bad += 3;
        errno = 0;
        p = sable_aligned_alloc(bad, decode_size(in));
        CHECK(p == NULL && errno == EINVAL, "aligned_alloc(%zu, ...) = %p, errno %d: not NULL/EINVAL",
            bad, p, errno);
        return;
    }
    case 2: { /* memalign: alignment above SIZE_MAX / 2 + 1 */
        size_t bad = SIZE_MAX / 2 + 2 + u32(in);
        errno = 0;
        p = sable_memalign(bad, decode_size(in));
        CHECK(p == NULL && errno == EINVAL, "memalign(%zu, ...) = %p, errno %d: not NULL/EINVAL", bad,
            p, errno);
        return;
    }
    case 3: { /* malloc of an impossible size */
        size_t n = decode_too_big(in);
        errno = 0;
        p = sable_malloc(n);
        CHECK(p == NULL && errno == ENOMEM, "malloc(%zu) = %p, errno %d: not NULL/ENOMEM", n, p,
            errno);
        return;
    }
    case 4: { /* calloc whose product overflows or is impossible */
        size_t a = decode_too_big(in), c = 2 + u8(in);
        if (u8(in) & 1) a = SIZE_MAX / c + 1 + u8(in); /* overflow */
        errno = 0;
        p = u8(in) & 1 ? sable_calloc(a, c) : sable_calloc(c, a);
        CHECK(p == NULL && errno == ENOMEM, "calloc(%zu, %zu) = %p, errno %d: not NULL/ENOMEM", a,
            c, p, errno);
        return;
    }
    case 5:   /* reallocarray overflow: NULL, ENOMEM, block untouched */
    case 6: { /* realloc of an impossible size: the same */
        slot_t *b = &slots[s];
        size_t n = decode_too_big(in);
        size_t c = 2 + u8(in);
        if (kind == 5) n = SIZE_MAX / c + 1 + u8(in);
        if (b->p) verify_slot(s, true);
        errno = 0;
        p = kind == 5 ? sable_reallocarray(b->p, n, c) : sable_realloc(b->p, n);
        CHECK(p == NULL && errno == ENOMEM, "%s(%p, %zu) = %p, errno %d: not NULL/ENOMEM",
            kind == 5 ? "reallocarray" : "realloc", (void *)b->p, n, p, errno);
        if (b->p) verify_slot(s, true);
        return;
    }
    case 7: { /* aligned functions with a valid alignment and an impossible size */
        size_t align = decode_align(in), n = decode_too_big(in);
        if (align < sizeof(void *)) align = sizeof(void *);
        switch (u8(in) % 3) {
        case 0:
            p = sentinel;
            r = sable_posix_memalign(&p, align, n);
            CHECK(r == ENOMEM, "posix_memalign(%zu, %zu) = %d, not ENOMEM", align, n, r);
            CHECK(p == sentinel, "posix_memalign(%zu, %zu) failed but changed *memptr", align, n);
            return;
        case 1:
            errno = 0;
            p = sable_aligned_alloc(align, n);
            CHECK(p == NULL && errno == ENOMEM,
                "aligned_alloc(%zu, %zu) = %p, errno %d: not NULL/ENOMEM", align, n, p, errno);
            return;
        default:
            errno = 0;
            p = sable_memalign(align, n);
            CHECK(p == NULL && errno == ENOMEM, "memalign(%zu, %zu) = %p, errno %d: not NULL/ENOMEM",
                align, n, p, errno);
            return;
        }
    }
    case 8: case 9: { /* valloc / pvalloc of an impossible size */
        size_t n = decode_too_big(in);
        errno = 0;
        p = kind == 8 ? sable_valloc(n) : sable_pvalloc(n);
        CHECK(p == NULL && errno == ENOMEM, "%s(%zu) = %p, errno %d: not NULL/ENOMEM",
            kind == 8 ? "valloc" : "pvalloc", n, p, errno);
        return;
    }
    case 10: { /* free(NULL) and friends: nothing, errno untouched */
        errno = 77;
        sable_free(NULL);
        sable_free_sized(NULL, u16(in));
        sable_free_aligned_sized(NULL, 64, u16(in));
        CHECK(errno == 77, "free(NULL) changed errno to %d", errno);
        CHECK(sable_malloc_usable_size(NULL) == 0, "malloc_usable_size(NULL) != 0");
        return;
    }
    default: { /* sable_version is the header's */
        CHECK(strcmp(sable_version(), SABLE_VERSION_STRING) == 0, "sable_version() = %s",
            sable_version());
        return;
    }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (page == 0) page = (size_t)sysconf(_SC_PAGESIZE);
    if (tracing < 0) tracing = getenv("FUZZ_CALLS_TRACE") != NULL;
    input_t in = {data, size, 0};
    op_index = 0;
    while (in.i < in.n) {
        unsigned op = u8(&in) % OP_COUNT;
        unsigned s = u8(&in) % NSLOTS;
        last_op = (int)op;
        TRACE("op %lu: %s slot %u\n", op_index, op_name[op], s);
        switch ((enum op)op) {
        case OP_MALLOC: op_malloc(&in, s); break;
        case OP_CALLOC: op_calloc(&in, s); break;
        case OP_REALLOC: op_realloc(&in, s, false); break;
        case OP_REALLOCARRAY: op_realloc(&in, s, true); break;
        case OP_FREE: release(s, FREE_PLAIN); break;
        case OP_FREE_SIZED: release(s, FREE_SIZED); break;
        case OP_FREE_ALIGNED_SIZED: release(s, FREE_ALIGNED_SIZED); break;
        case OP_POSIX_MEMALIGN: op_aligned(&in, s, FN_POSIX_MEMALIGN); break;
        case OP_ALIGNED_ALLOC: op_aligned(&in, s, FN_ALIGNED_ALLOC); break;
        case OP_MEMALIGN: op_aligned(&in, s, FN_MEMALIGN); break;
        case OP_VALLOC: op_valloc(&in, s, false); break;
        case OP_PVALLOC: op_valloc(&in, s, true); break;
        case OP_USABLE: op_usable(s); break;
        case OP_TRIM: op_trim(&in); break;
        case OP_CHECK_OVERLAP: check_overlap_sorted(); break;
        case OP_VERIFY_ALL: verify_all(false); break;
        case OP_INVALID: op_invalid(&in, s); break;
        case OP_REALLOC_ZERO: op_realloc_zero(&in, s); break;
        case OP_BURST_ALLOC: op_burst_alloc(&in, s); break;
        case OP_BURST_FREE: op_burst_free(&in, s); break;
        case OP_MEMALIGN_ODD: op_memalign_odd(&in, s); break;
        case OP_HUGE_ALIGN: op_huge_align(&in, s); break;
        case OP_COUNT: break;
        }
        op_index++;
        if (op_index % VERIFY_EVERY == 0) verify_all(false);
    }
    last_op = -1;
    check_overlap_sorted();
    release_all();
    return 0;
}
