/* src/api/extended.c — the extended API with jemalloc's flags:
 * sable_mallocx, sable_rallocx, sable_xallocx, sable_sallocx, sable_dallocx,
 * sable_sdallocx and sable_nallocx (include/sable.h).
 *
 * Flags are jemalloc's MALLOCX_* bits, spelled SABLE_MALLOCX_*: bits 0-5
 * the log2 of the alignment (0: none), bit 6 zero, bits 8-19 the thread
 * cache (0: the thread's own, 1: none, n >= 2: explicit cache n - 2), bits
 * 20-31 the arena plus one (0: the thread's). An arena or "no cache" sends
 * the block past the thread's cache, to the arena directly (the uncached
 * path, with the fill modes' checks). An explicit cache (tcache.create,
 * src/process/explicit.h) serves the cached classes from its stacks and
 * takes their frees, as the thread's own does; large and huge blocks come
 * from its arena. With both an arena and an explicit cache of another
 * arena, the arena wins and the cache is passed by (its stacks hold
 * another arena's blocks). An id or arena that does not exist fails as
 * jemalloc's do: NULL and EINVAL (xallocx does not resize; dallocx and
 * sdallocx, which cannot fail, end with one line naming it).
 *
 * Sizes follow the routing (src/api/route.h): nallocx is what mallocx
 * would hand out, and a block's usable size always maps back to its last
 * request, so sdallocx's check is free_aligned_sized's.
 *
 * Invariants: a failed call leaves the block as it was; every path that
 * moves a block copies min(old usable, new size) bytes. Locking: none of its
 * own (the arena's, below).
 */
#include <string.h>

#include "api/api.h"
#include "api/route.h"
#include "arena/huge.h"
#include "process/explicit.h"
#include "process/process.h"
#include "process/threads.h"
#include "sable.h"
#include "uncached/uncached.h"

/* A flags word decoded. */
typedef struct {
    size_t align;   /* 0: none */
    bool zero;
    bool bypass;    /* past the thread's cache */
    arena_t *arena; /* NULL: the thread's */
    tcache_t *cache; /* an explicit cache, or NULL */
    bool valid;     /* false: an arena or cache that does not exist */
} xflags_t;

#define TCACHE_FIELD(flags) (((unsigned)(flags) >> 8) & 0xfff)
#define ARENA_FIELD(flags) ((unsigned)(flags) >> 20)

static xflags_t decode(int flags)
{
    xflags_t f = {.valid = true};
    unsigned la = (unsigned)flags & 0x3f, tc = TCACHE_FIELD(flags), a = ARENA_FIELD(flags);
    f.align = la ? (size_t)1 << la : 0;
    f.zero = (flags & SABLE_MALLOCX_ZERO) != 0;
    f.bypass = tc == 1 || a != 0;
    if (tc >= 2 && (f.cache = explicit_get(tc - 2)) == NULL) f.valid = false;
    if (a != 0) {
        if (!process_init() || a - 1 >= arena_count() || arena_destroyed(arena_get(a - 1)))
            f.valid = false;
        else
            f.arena = arena_get(a - 1);
    }
    /* An explicit cache of the arena asked for (or of any, with none asked
     * for) serves the request; of another arena, it is passed by. */
    if (f.cache && f.arena && f.arena != f.cache->arena) f.cache = NULL;
    if (f.cache && f.arena == NULL) f.arena = f.cache->arena;
    return f;
}

static void *einval(void)
{
    errno = EINVAL;
    return NULL;
}

/* Frees a checked block (in) past the thread's cache. */
static void free_bypass(void *p, const ptr_info_t *in, const char *fn)
{
    switch (in->kind) {
    case PTR_SMALL:
    case PTR_LARGE:
        if (in->sc < SC_NCACHED) {
            uncached_free(p, in->sc);
            thread_count_uncached(in->sc, 0, 1);
        } else {
            thread_count_big(0, in->usable);
            arena_large_free(p);
        }
        return;
    case PTR_HUGE:
        thread_count_big(0, in->usable);
        huge_free(in->huge, p, fn);
        return;
    case PTR_INVALID: break;
    }
    api_invalid_pointer(fn, p);
}

static void free_flags(void *p, const ptr_info_t *in, const xflags_t *f, int flags,
                       const char *fn)
{
    if (TCACHE_FIELD(flags) >= 2 && explicit_get(TCACHE_FIELD(flags) - 2) == NULL)
        sable_fatal("%s(): MALLOCX_TCACHE(%zu): no such thread cache", fn,
                    (size_t)TCACHE_FIELD(flags) - 2);
    if (TCACHE_FIELD(flags) >= 2 && in->kind != PTR_HUGE && in->sc < SC_NCACHED) {
        /* Into the explicit cache named, whatever the arena flag: frees
         * of other arenas' blocks go to its remote stacks. */
        tcache_t *tc = explicit_get(TCACHE_FIELD(flags) - 2);
        if (!tcache_push_to(tc, p, in->sc)) tcache_push_slow(tc, p, in->sc);
        return;
    }
    if (f->bypass)
        free_bypass(p, in, fn);
    else
        api_free_named(p, fn);
}

static ptr_info_t info_of(void *p, const char *fn)
{
    ptr_info_t in = arena_lookup(p);
    if (in.kind == PTR_INVALID) api_invalid_pointer(fn, p);
    return in;
}

/* From explicit cache tc: its stacks for a cached class, its arena for the
 * rest. */
static void *alloc_cached_in(tcache_t *tc, size_t size, size_t align, bool zero)
{
    route_t r = route(size, align);
    if (r.path != ROUTE_CACHED) return api_alloc_in(size, align, zero, tc->arena, true);
    void *p;
    if (!tcache_pop_from(tc, r.sc, &p) && (p = tcache_refill(tc, r.sc)) == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    if (zero) memset(p, 0, size);
    return p;
}

void *sable_mallocx(size_t size, int flags)
{
    xflags_t f = decode(flags);
    if (!f.valid) return einval();
    if (f.cache) {
        route_t r = route(size, f.align);
        if (f.zero && r.path != ROUTE_TOO_BIG) size = r.usable;
        return alloc_cached_in(f.cache, size, f.align, f.zero);
    }
    if (f.align <= SC_QUANTUM && !f.bypass && !f.zero) return api_malloc(size);
    /* Zeroed: all of the block, as jemalloc does (a request of its usable
     * size gets the same block). */
    if (f.zero) {
        route_t r = route(size, f.align);
        if (r.path != ROUTE_TOO_BIG) size = r.usable;
    }
    return api_alloc_in(size, f.align, f.zero, f.arena, f.bypass);
}

size_t sable_nallocx(size_t size, int flags)
{
    xflags_t f = decode(flags);
    if (!f.valid) return 0;
    return route(size, f.align).usable;
}

size_t sable_sallocx(const void *ptr, int flags)
{
    (void)flags;
    return info_of((void *)ptr, "sallocx").usable;
}

void sable_dallocx(void *ptr, int flags)
{
    if (ptr == NULL) return;
    xflags_t f = decode(flags);
    ptr_info_t in = info_of(ptr, "dallocx");
    free_flags(ptr, &in, &f, flags, "dallocx");
}

void sable_sdallocx(void *ptr, size_t size, int flags)
{
    if (ptr == NULL) return;
    xflags_t f = decode(flags);
    ptr_info_t in = api_sized_info(ptr, size, f.align, "sdallocx");
    free_flags(ptr, &in, &f, flags, "sdallocx");
}

/* Resizes the block in place to the class of `size`, keeping its address;
 * true if it now has that class's usable size (*usable). */
static bool resize_to(void *p, const ptr_info_t *in, size_t size, size_t *usable)
{
    route_t r = route(size, 0);
    if (r.path == ROUTE_TOO_BIG) return false;
    if (r.usable == in->usable) {
        *usable = in->usable;
        return true;
    }
    if (in->kind == PTR_LARGE && size > SC_SMALL_MAX && size <= SC_LARGE_MAX &&
        arena_large_resize(p, r.usable)) {
        thread_count_big(r.usable, in->usable);
        api_fill_grown(p, in->usable, r.usable);
        *usable = r.usable;
        return true;
    }
    if (in->kind == PTR_HUGE && size > SC_LARGE_MAX && huge_resize(in->huge, p, size)) {
        *usable = in->huge->usable;
        thread_count_big(*usable, in->usable);
        return true;
    }
    return false;
}

/* jemalloc's in-place rule: a usable size already within [size, size +
 * extra]'s classes stays; otherwise the block grows to size + extra or, if
 * that cannot be had, to size, or shrinks to size + extra. The usable size
 * after (unchanged if nothing could be done). */
static size_t resize_in_place(void *p, const ptr_info_t *in, size_t size, size_t extra,
                              size_t align)
{
    if (align > SC_QUANTUM && ((uintptr_t)p & (align - 1))) return in->usable;
    if (size > PTRDIFF_MAX) return in->usable;
    size_t hi = extra > PTRDIFF_MAX - size ? PTRDIFF_MAX : size + extra;
    size_t lo_usable = route(size, 0).usable, hi_usable = route(hi, 0).usable, now;
    if (in->usable >= lo_usable && in->usable <= hi_usable) return in->usable;
    if (resize_to(p, in, hi, &now)) return now;
    if (in->usable < lo_usable && hi != size && resize_to(p, in, size, &now)) return now;
    return in->usable;
}

size_t sable_xallocx(void *ptr, size_t size, size_t extra, int flags)
{
    xflags_t f = decode(flags);
    ptr_info_t in = info_of(ptr, "xallocx");
    if (!f.valid) return in.usable;
    size_t now = resize_in_place(ptr, &in, size, extra, f.align);
    if (f.zero && now > in.usable) memset((char *)ptr + in.usable, 0, now - in.usable);
    return now;
}

void *sable_rallocx(void *ptr, size_t size, int flags)
{
    xflags_t f = decode(flags);
    if (!f.valid) return einval();
    if (ptr == NULL) return sable_mallocx(size, flags);
    ptr_info_t in = info_of(ptr, "rallocx");
    if (size > PTRDIFF_MAX) {
        errno = ENOMEM;
        return NULL;
    }
    size_t old = in.usable, now = resize_in_place(ptr, &in, size, 0, f.align);
    bool aligned = f.align <= SC_QUANTUM || ((uintptr_t)ptr & (f.align - 1)) == 0;
    bool fits = now == route(size, 0).usable || now == route(size, f.align).usable;
    void *q = ptr;
    if (!aligned || !fits) {
        if (f.cache) {
            q = alloc_cached_in(f.cache, size, f.align, false);
            if (q) {
                memcpy(q, ptr, old < size ? old : size);
                free_flags(ptr, &in, &f, flags, "rallocx");
            }
        } else if (f.align <= SC_QUANTUM && !f.bypass) {
            /* realloc's own moves (huge blocks' pages move, not copied). */
            q = api_realloc(ptr, size ? size : 1);
        } else {
            q = api_alloc_in(size, f.align, false, f.arena, f.bypass);
            if (q) {
                memcpy(q, ptr, old < size ? old : size);
                if (f.bypass)
                    free_bypass(ptr, &in, "rallocx");
                else
                    api_free_named(ptr, "rallocx");
            }
        }
        if (q == NULL) return NULL;
        now = api_usable_size(q);
    }
    if (f.zero && now > old) memset((char *)q + old, 0, now - old);
    return q;
}
