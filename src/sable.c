/* src/sable.c — the prefixed API and the slow paths of the malloc family.
 *
 * This layer owns the contract: size limits, errno, alignment dispatch,
 * realloc semantics and the diagnosis of pointers sable did not hand out.
 * Below it, tcache and arena deal only in classes, runs and mappings.
 */
#include "sable.h"

#include <stdbool.h>
#include <string.h>

#include "api.h"
#include "arena/huge.h"

/* ---- allocation ---- */

static void *enomem(void)
{
    errno = ENOMEM;
    return NULL;
}

/* Serves n > SC_SMALL_MAX with alignment `align` (0 or a power of two). */
static void *alloc_big_aligned(size_t n, size_t align)
{
    if (n > PTRDIFF_MAX) return enomem();
    void *p = NULL;
    if (n <= SC_LARGE_MAX) {
        arena_t *a = tcache_arena();
        if (a == NULL) return enomem();
        size_t size = sc_size(sc_of(n));
        p = arena_large_alloc(a, size, align);
        if (p) {
            tcache_count_big(size, 0);
            return p;
        }
        /* The alignment may not fit in a chunk: a huge mapping can take it. */
        if (align <= UNIT_SIZE) return enomem();
    }
    p = huge_alloc(n, align, false);
    if (p == NULL) return enomem();
    tcache_count_big(api_usable_size(p), 0);
    return p;
}

void *api_alloc_big(size_t n)
{
    if (n <= SC_CACHED_MAX) return tcache_alloc(sc_of(n));
    return alloc_big_aligned(n, 0);
}

/* ---- pointer diagnosis ---- */

/* What sable knows about a pointer it is asked to free or measure. */
typedef struct {
    enum { PTR_INVALID, PTR_SMALL, PTR_LARGE, PTR_HUGE } kind;
    size_t usable;
    chunk_t *chunk;
    run_t *run;
    huge_t *huge;
} ptr_info_t;

static ptr_info_t classify(const void *p, uintptr_t e)
{
    ptr_info_t in = {.kind = PTR_INVALID};
    if (e == 0) return in;
    if (e & PM_HUGE_TAG) {
        huge_t *h = (huge_t *)(e & ~PM_HUGE_TAG);
        if (h->addr == p) {
            in.kind = PTR_HUGE;
            in.usable = h->size;
            in.huge = h;
        }
        return in;
    }
    chunk_t *c = (chunk_t *)e;
    uint32_t w = c->map[chunk_unit_of(p)];
    in.chunk = c;
    in.run = chunk_run_of_word(c, w);
    if (map_slab_block(w, p)) {
        in.kind = PTR_SMALL;
        in.usable = sc_size(MAP_CLASS(w));
    } else if (MAP_KIND(w) == MAP_LARGE && map_run_offset(w, p) == 0) {
        in.kind = PTR_LARGE;
        in.usable = (size_t)in.run->nunits << UNIT_SHIFT;
    }
    return in;
}

/* A pointer sable does not consider live: was it a block that has been
 * freed already (double free), or never one of sable's (invalid)? Read
 * without locks: it only chooses the words of the message. */
static bool looks_freed(const void *p, uintptr_t e)
{
    if (e == 0) return huge_recently_freed(p);
    if (e & PM_HUGE_TAG) return false;
    chunk_t *c = (chunk_t *)e;
    uint32_t w = c->map[chunk_unit_of(p)];
    if (MAP_KIND(w) == MAP_FREE) return ((uintptr_t)p & (UNIT_SIZE - 1)) == 0;
    if (MAP_KIND(w) != MAP_SLAB) return false;
    unsigned sc = MAP_CLASS(w);
    uint32_t off = map_run_offset(w, p);
    if (!sc_is_block_start(sc, off)) return false;
    uint32_t idx = sc_block_index(sc, off);
    run_t *r = chunk_run_of_word(c, w);
    return (r->free_bits[idx >> 6] >> (idx & 63)) & 1;
}

static _Noreturn void invalid_pointer(const char *fn, const void *p)
{
    if (looks_freed(p, pm_lookup((uintptr_t)p))) sable_fatal("%s(): double free of %p", fn, p);
    sable_fatal("%s(): invalid pointer %p", fn, p);
}

void api_free_slow(void *p, const char *fn)
{
    if (p == NULL) return;
    ptr_info_t in = classify(p, pm_lookup((uintptr_t)p));
    switch (in.kind) {
    case PTR_SMALL: tcache_free(p, in.run->sc); return;
    case PTR_LARGE:
        if (in.run->sc < SC_NCACHED) {
            tcache_free(p, in.run->sc);
        } else {
            tcache_count_big(0, in.usable);
            arena_large_free(p);
        }
        return;
    case PTR_HUGE:
        tcache_count_big(0, in.usable);
        huge_free(in.huge);
        return;
    case PTR_INVALID: break;
    }
    invalid_pointer(fn, p);
}

size_t api_usable_size(const void *p)
{
    if (p == NULL) return 0;
    ptr_info_t in = classify(p, pm_lookup((uintptr_t)p));
    if (in.kind == PTR_INVALID) invalid_pointer("malloc_usable_size", p);
    return in.usable;
}

/* The small class that serves n bytes aligned to `align` (16 < align <=
 * UNIT_SIZE), or SC_NSMALL if none does. A slab block is aligned to its
 * size's largest power-of-two factor (slabs start on units): the first class
 * that is a multiple of the alignment. Power-of-two classes exist up to
 * SC_SMALL_MAX. */
static unsigned aligned_small_class(size_t n, size_t align)
{
    size_t m = n < align ? align : n;
    if (m > SC_SMALL_MAX) return SC_NSMALL;
    unsigned c = sc_of_small(m);
    while (sc_size(c) & (align - 1)) c++;
    return c;
}

/* The usable size sable gives a request of n bytes aligned to `align`
 * (0: unaligned), mirroring api_malloc and api_aligned. */
static size_t expected_usable(size_t n, size_t align)
{
    size_t ps = os_page_size();
    if (align <= SC_QUANTUM) {
        if (n <= SC_LARGE_MAX) return sc_size(sc_of(n));
        return (n + ps - 1) & ~(ps - 1);
    }
    if (align <= UNIT_SIZE) {
        unsigned c = aligned_small_class(n, align);
        if (c < SC_NSMALL) return sc_size(c);
    }
    size_t big = n <= SC_SMALL_MAX ? SC_SMALL_MAX + 1 : n;
    if (big <= SC_LARGE_MAX) return sc_size(sc_of(big));
    return (n + ps - 1) & ~(ps - 1);
}

/* Could a request of `size` bytes (aligned to `align`, or to any power of
 * two: free_sized is also called on memalign'd blocks with the size that was
 * asked for) have produced this block? */
static bool size_fits_block(size_t size, size_t align, const ptr_info_t *in)
{
    if (expected_usable(size, align) == in->usable) return true;
    /* large aligned requests may have gone huge */
    if (in->kind == PTR_HUGE) return size <= in->usable;
    for (size_t a = 2 * SC_QUANTUM; a <= CHUNK_SIZE; a <<= 1)
        if (expected_usable(size, a) == in->usable) return true;
    return false;
}

/* Sized deallocation: the size must be one that gives this block (its
 * class, or its page-rounded size for huge blocks). A mismatch means the
 * program frees something other than it thinks (a type confusion, a
 * truncated size): abort before the heap is touched. */
void api_free_sized(void *p, size_t size, size_t align, const char *fn)
{
    if (p == NULL) return;
    ptr_info_t in = classify(p, pm_lookup((uintptr_t)p));
    if (in.kind == PTR_INVALID) invalid_pointer(fn, p);
    if (size > PTRDIFF_MAX || !size_fits_block(size, align, &in))
        sable_fatal("%s(): wrong size %zu for the block of %zu bytes at %p", fn, size,
                    in.usable, p);
    api_free_named(p, fn);
}

/* ---- calloc / realloc ---- */

void *api_calloc(size_t count, size_t size)
{
    size_t n;
    if (__builtin_mul_overflow(count, size, &n)) return enomem();
    if (n > SC_LARGE_MAX) {
        /* Huge objects are fresh mappings: already zero. */
        if (n > PTRDIFF_MAX) return enomem();
        void *p = huge_alloc(n, 0, true);
        if (p == NULL) return enomem();
        tcache_count_big(api_usable_size(p), 0);
        return p;
    }
    void *p = api_malloc(n);
    if (p) memset(p, 0, n);
    return p;
}

void *api_realloc(void *p, size_t n)
{
    if (p == NULL) return api_malloc(n);
    if (n == 0) {
        /* glibc's behaviour: free and return NULL, errno untouched. */
        api_free_named(p, "realloc");
        return NULL;
    }
    ptr_info_t in = classify(p, pm_lookup((uintptr_t)p));
    if (in.kind == PTR_INVALID) invalid_pointer("realloc", p);
    if (n > PTRDIFF_MAX) return enomem();

    size_t old = in.usable;
    switch (in.kind) {
    case PTR_SMALL:
        /* In place only within the same class: a smaller class moves (and
         * gives the memory back), so that a block's usable size is always
         * what its last requested size maps to (sized frees rely on it). */
        if (n <= SC_SMALL_MAX && sc_size(sc_of_small(n)) == old) return p;
        break;
    case PTR_LARGE:
        if (n > SC_SMALL_MAX && n <= SC_LARGE_MAX) {
            size_t size = sc_size(sc_of(n));
            if (size == old) return p;
            if (arena_large_resize(in.chunk, in.run, size)) {
                tcache_count_big(size, old);
                return p;
            }
        }
        break;
    case PTR_HUGE:
        if (n > SC_LARGE_MAX && huge_resize(in.huge, n)) {
            tcache_count_big(in.huge->size, old);
            return p;
        }
        break;
    case PTR_INVALID: break;
    }
    void *q = api_malloc(n);
    if (q == NULL) return NULL;
    memcpy(q, p, old < n ? old : n);
    api_free_named(p, "realloc");
    return q;
}

void *api_reallocarray(void *p, size_t count, size_t size)
{
    size_t n;
    if (__builtin_mul_overflow(count, size, &n)) return enomem();
    return api_realloc(p, n);
}

/* ---- aligned allocation ---- */

/* align: a power of two. */
void *api_aligned(size_t align, size_t n)
{
    if (align <= SC_QUANTUM) return api_malloc(n);
    if (n > PTRDIFF_MAX) return enomem();
    if (align <= UNIT_SIZE) {
        unsigned c = aligned_small_class(n, align);
        if (c < SC_NSMALL) {
            void *p = tcache_alloc(c);
            return p ? p : enomem();
        }
    }
    return alloc_big_aligned(n <= SC_SMALL_MAX ? SC_SMALL_MAX + 1 : n, align);
}

static int is_pow2(size_t x) { return x && !(x & (x - 1)); }

int api_posix_memalign(void **memptr, size_t align, size_t n)
{
    if (!is_pow2(align) || align % sizeof(void *) != 0) return EINVAL;
    int saved = errno;
    void *p = api_aligned(align, n);
    if (p == NULL) {
        errno = saved;
        return ENOMEM;
    }
    *memptr = p;
    return 0;
}

void *api_aligned_alloc(size_t align, size_t n)
{
    if (!is_pow2(align)) {
        errno = EINVAL;
        return NULL;
    }
    return api_aligned(align, n);
}

void *api_memalign(size_t align, size_t n)
{
    if (align > SIZE_MAX / 2 + 1) {
        errno = EINVAL;
        return NULL;
    }
    /* glibc rounds a non-power-of-two alignment up. */
    if (!is_pow2(align)) {
        size_t a = SC_QUANTUM;
        while (a < align) a <<= 1;
        align = a;
    }
    return api_aligned(align, n);
}

void *api_valloc(size_t n)
{
    api_init();
    return api_aligned(os_page_size(), n);
}

void *api_pvalloc(size_t n)
{
    api_init();
    size_t ps = os_page_size();
    if (n > PTRDIFF_MAX) return enomem();
    size_t rounded = n == 0 ? ps : (n + ps - 1) & ~(ps - 1);
    return api_aligned(ps, rounded);
}

int api_trim(size_t pad)
{
    (void)pad;
    if (!tcache_global_init()) return 0;
    tcache_flush();
    return arena_purge_all() ? 1 : 0;
}

void api_init(void) { tcache_global_init(); }

/* ---- the prefixed API ---- */

void *sable_malloc(size_t n) { return api_malloc(n); }
void sable_free(void *p) { api_free(p); }
void *sable_calloc(size_t count, size_t size) { return api_calloc(count, size); }
void *sable_realloc(void *p, size_t n) { return api_realloc(p, n); }
void *sable_reallocarray(void *p, size_t count, size_t size)
{
    return api_reallocarray(p, count, size);
}
void sable_free_sized(void *p, size_t size) { api_free_sized_fast(p, size, "free_sized"); }
void sable_free_aligned_sized(void *p, size_t align, size_t size)
{
    api_free_sized(p, size, align, "free_aligned_sized");
}
int sable_posix_memalign(void **memptr, size_t align, size_t n)
{
    return api_posix_memalign(memptr, align, n);
}
void *sable_aligned_alloc(size_t align, size_t n) { return api_aligned_alloc(align, n); }
void *sable_memalign(size_t align, size_t n) { return api_memalign(align, n); }
void *sable_valloc(size_t n) { return api_valloc(n); }
void *sable_pvalloc(size_t n) { return api_pvalloc(n); }
size_t sable_malloc_usable_size(const void *p) { return api_usable_size(p); }
const char *sable_version(void) { return SABLE_VERSION_STRING; }
int sable_trim(size_t pad) { return api_trim(pad); }
