/* src/api/alloc.c — the malloc family's slow paths: cache misses, big and
 * aligned allocation by route, calloc, realloc, trim.
 *
 * This layer owns the contract: size limits, errno, alignment dispatch and
 * realloc semantics. Below it, the process layer sets threads up, and
 * tcache and arena deal only in classes, runs and mappings.
 *
 * Invariants: every path returns a block of at least the size asked for,
 * aligned as asked, or NULL with errno ENOMEM (EINVAL where the contract says
 * so); a failed realloc leaves the old block untouched.
 * Locking: none of its own.
 */
#include <stdbool.h>
#include <string.h>

#include "api/api.h"
#include "api/route.h"
#include "arena/huge.h"
#include "process/process.h"
#include "process/threads.h"
#include "uncached/uncached.h"

static void *enomem(void)
{
    errno = ENOMEM;
    return NULL;
}

/* ---- cache misses ---- */

/* The cache's stack of class sc was empty, or the thread has no cache yet
 * (the boot cache), or none any more (the dead cache). */
void *api_alloc_miss(unsigned sc)
{
    tcache_t *tc = thread_cache_begin();
    void *p = NULL;
    if (tc == NULL) return enomem();
    if (tc->state == TCACHE_LIVE) {
        p = tcache_refill(tc, sc);
        thread_peak_sample(tc);
        thread_poll(tc);
        thread_cache_end(tc);
        process_background_poll();
    } else if ((p = uncached_alloc(sc)) != NULL) {
        thread_count_uncached(sc, 1, 0);
    }
    return p ? p : enomem();
}

/* The stack was full, held p already, or the thread has no cache (the boot
 * and dead caches miss on every free). */
void api_free_miss(void *p, unsigned sc)
{
    tcache_t *tc = thread_cache_begin();
    if (tc == NULL || tc->state != TCACHE_LIVE) {
        uncached_free(p, sc);
        if (tc) thread_count_uncached(sc, 0, 1);
        return;
    }
    tcache_push_slow(tc, p, sc);
    thread_poll(tc);
    thread_cache_end(tc);
    process_background_poll();
}

/* ---- allocation by route ---- */

/* Serves n bytes aligned to `align` by their route, from arena `in` (NULL:
 * the thread's) and, with `bypass` or an arena given, without the thread's
 * cache (the extended API's MALLOCX_ARENA and MALLOCX_TCACHE_NONE). */
void *api_alloc_in(size_t n, size_t align, bool zeroed, arena_t *in, bool bypass)
{
    route_t r = route(n, align);
    void *p = NULL;
    switch (r.path) {
    case ROUTE_CACHED:
        if (in == NULL && !bypass) {
            p = api_alloc_class(r.sc);
        } else {
            arena_t *a = in ? in : thread_arena();
            if (a && (p = uncached_alloc_in(a, r.sc)) != NULL) thread_count_uncached(r.sc, 1, 0);
        }
        if (p && zeroed) memset(p, 0, n);
        return p ? p : enomem();
    /* The route's size, not n: a small request with a large alignment is
     * served as at least SC_SMALL_MAX + 1 bytes. Memory known to be zero
     * (fresh or purged) is not written for calloc. */
    case ROUTE_LARGE:
    case ROUTE_HUGE: {
        arena_t *a = in ? in : thread_arena();
        if (a == NULL) break;
        p = r.path == ROUTE_LARGE ? arena_large_alloc(a, r.usable, align, zeroed)
                                  : huge_alloc(a, r.usable, align, zeroed);
        break;
    }
    case ROUTE_TOO_BIG: break;
    }
    if (p == NULL) return enomem();
    thread_count_big(r.usable, 0);
    return p;
}

static SABLE_NOINLINE void *alloc_routed(size_t n, size_t align, bool zeroed)
{
    return api_alloc_in(n, align, zeroed, NULL, false);
}

/* The cached case (the common one) costs the class computation and a pop,
 * with no frame. */
void *api_alloc_big(size_t n)
{
    if (likely(route_cached(n))) return api_alloc_class(sc_of(n));
    return alloc_routed(n, 0, false);
}

/* align: a power of two. */
void *api_aligned(size_t align, size_t n)
{
    if (align <= SC_QUANTUM) return api_malloc(n);
    return alloc_routed(n, align, false);
}

/* ---- calloc / realloc ---- */

void *api_calloc(size_t count, size_t size)
{
    size_t n;
    if (__builtin_mul_overflow(count, size, &n)) return enomem();
    if (likely(route_cached(n))) {
        void *p = api_alloc_class(sc_of(n));
        if (p) memset(p, 0, n);
        return p;
    }
    return alloc_routed(n, 0, true);
}

/* p: a checked slab block of class sc; n > 0. In place only within the
 * same class: a smaller class moves (and gives the memory back), so that a
 * block's usable size is always what its last requested size maps to (sized
 * frees rely on it). A move frees p by its class: the pointer was checked
 * by the caller, so free's pointer test is not repeated; its double-free
 * compares are (api_free_class). */
void *api_realloc_small(void *p, unsigned sc, size_t n)
{
    if (n <= SC_SMALL_MAX && sc_of_small(n) == sc) return p;
    if (n > PTRDIFF_MAX) return enomem();
    size_t old = sc_size(sc);
    void *q = api_malloc(n);
    if (q == NULL) return NULL;
    memcpy(q, p, old < n ? old : n);
    api_free_class(p, sc);
    return q;
}

/* Everything api_realloc's inline test did not serve or send to
 * api_realloc_small. */
void *api_realloc_slow(void *p, size_t n)
{
    if (p == NULL) return api_malloc(n);
    if (n == 0) {
        /* glibc's behaviour: free and return NULL, errno untouched. */
        thread_count_zero_realloc();
        api_free_named(p, "realloc");
        return NULL;
    }
    ptr_info_t in = arena_lookup(p);
    if (in.kind == PTR_INVALID) api_invalid_pointer("realloc", p);
    if (n > PTRDIFF_MAX) return enomem();

    size_t old = in.usable;
    switch (in.kind) {
    case PTR_SMALL: return api_realloc_small(p, in.sc, n);
    case PTR_LARGE:
        if (n > SC_SMALL_MAX && n <= SC_LARGE_MAX) {
            size_t size = sc_size(sc_of(n));
            if (size == old) return p;
            if (arena_large_resize(p, size)) {
                thread_count_big(size, old);
                api_fill_grown(p, old, size);
                return p;
            }
        }
        break;
    case PTR_HUGE:
        if (n > SC_LARGE_MAX) {
            /* In place (shrinking, or into a free extent after it), else
             * moving its pages rather than copying them. */
            if (huge_resize(in.huge, p, n)) {
                thread_count_big(in.huge->usable, old);
                return p;
            }
            size_t usable = route(n, 0).usable;
            void *q = huge_move(in.huge, p, n);
            if (q == NULL) return enomem();
            thread_count_big(usable, old);
            return q;
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

/* A large run grown in place gets the new-block fill (junk:alloc, zero,
 * perturb) on its new bytes, as a new block would; huge blocks get theirs
 * from the arena. */
void api_fill_grown(void *p, size_t old, size_t usable)
{
    int fresh = arena_new_fill();
    if (fresh >= 0 && usable > old) memset((char *)p + old, fresh, usable - old);
}

void *api_reallocarray(void *p, size_t count, size_t size)
{
    size_t n;
    if (__builtin_mul_overflow(count, size, &n)) return enomem();
    return api_realloc(p, n);
}

/* ---- aligned allocation ---- */

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
    if (n > PTRDIFF_MAX) return enomem();
    return api_aligned(os_page_size(), os_page_round(n == 0 ? 1 : n));
}

/* ---- trim and init ---- */

/* Every other thread is asked to flush its cache at its next slow path (a
 * thread's cache is its own: no other thread may touch it), whatever the
 * arenas hold, since those caches are what the arenas cannot see; a later
 * trim, or decay, returns the blocks. */
int api_trim(size_t pad)
{
    if (!process_init()) return 0;
    threads_trim();
    /* A trim that would leave every arena alone does not flush the
     * caller's cache either: refilling it would cost more than the trim. */
    if (!arena_trim_wanted(pad)) return 0;
    thread_flush();
    return arena_trim(pad) ? 1 : 0;
}

void api_init(void) { process_init(); }
