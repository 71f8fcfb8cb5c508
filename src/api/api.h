/* src/api/api.h — the malloc family's logic, shared by the prefixed API
 * (src/api/sable.c) and the unprefixed one (preload/preload.c).
 *
 * The fast paths are always_inline so each exported entry point is one
 * function with no extra call: malloc of a small size is a class lookup and a
 * cache pop; free of a small block is a pointer lookup (arena/lookup.h), a
 * check that the pointer is the start of a block, and a cache push; realloc
 * of a small block within its class is the same pointer test and a class
 * compare. A miss of any goes to this layer's out-of-line paths (alloc.c),
 * which set the thread up when it has no cache yet; everything else is in
 * alloc.c and check.c.
 * Invariants: the fast paths take no lock and no atomic; anything they cannot
 * serve goes to one out-of-line path of this layer, never to a lower layer's
 * slow path directly.
 */
#ifndef SABLE_API_H
#define SABLE_API_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "arena/lookup.h"
#include "os/os.h"
#include "sizeclass/sizeclass.h"
#include "tcache/tcache.h"

/* Slow paths (alloc.c, check.c). `fn` names the public function for
 * messages. */
SABLE_HIDDEN void *api_alloc_miss(unsigned sc) SABLE_NOINLINE;
SABLE_HIDDEN void api_free_miss(void *p, unsigned sc) SABLE_NOINLINE;
SABLE_HIDDEN void *api_alloc_big(size_t n) SABLE_NOINLINE;
SABLE_HIDDEN void api_free_slow(void *p, const char *fn) SABLE_NOINLINE;
SABLE_HIDDEN void *api_calloc(size_t count, size_t size);
SABLE_HIDDEN void *api_realloc_slow(void *p, size_t n) SABLE_NOINLINE;
SABLE_HIDDEN void *api_realloc_small(void *p, unsigned sc, size_t n) SABLE_NOINLINE;
SABLE_HIDDEN void *api_reallocarray(void *p, size_t count, size_t size);
SABLE_HIDDEN void *api_aligned(size_t align, size_t n);
SABLE_HIDDEN int api_posix_memalign(void **memptr, size_t align, size_t n);
SABLE_HIDDEN void *api_aligned_alloc(size_t align, size_t n);
SABLE_HIDDEN void *api_memalign(size_t align, size_t n);
SABLE_HIDDEN void *api_valloc(size_t n);
SABLE_HIDDEN void *api_pvalloc(size_t n);
SABLE_HIDDEN size_t api_usable_size(const void *p);
SABLE_HIDDEN void api_free_sized(void *p, size_t size, size_t align, const char *fn);
SABLE_HIDDEN _Noreturn void api_invalid_pointer(const char *fn, const void *p) SABLE_COLD;
SABLE_HIDDEN int api_trim(size_t pad);
SABLE_HIDDEN void api_fill_grown(void *p, size_t old, size_t usable);
SABLE_HIDDEN void *api_alloc_in(size_t n, size_t align, bool zeroed, arena_t *in, bool bypass);
SABLE_HIDDEN ptr_info_t api_sized_info(void *p, size_t size, size_t align, const char *fn);
SABLE_HIDDEN void api_init(void);

/* A block of cached class sc; sets errno to ENOMEM when it returns NULL. */
SABLE_INLINE void *api_alloc_class(unsigned sc)
{
    void *p;
    if (likely(tcache_pop(sc, &p))) return p;
    return api_alloc_miss(sc);
}

/* Frees p, a checked block start of cached class sc. */
SABLE_INLINE void api_free_class(void *p, unsigned sc)
{
    if (likely(tcache_push(p, sc))) return;
    api_free_miss(p, sc);
}

SABLE_INLINE void *api_malloc(size_t n)
{
    if (likely(n <= SC_SMALL_MAX)) return api_alloc_class(sc_of_small(n));
    return api_alloc_big(n);
}

/* A cached block is recognised without leaving the inline path; everything
 * else (NULL, huge, uncached large, invalid) goes to the slow path, which
 * diagnoses it. */
SABLE_INLINE void api_free_named(void *p, const char *fn)
{
    unsigned sc;
    if (likely(arena_cached_block(p, &sc))) {
        api_free_class(p, sc);
        return;
    }
    api_free_slow(p, fn);
}

SABLE_INLINE void api_free(void *p) { api_free_named(p, "free"); }

/* Sized free (free_sized, C++ sized delete): the free fast path plus one
 * check that the size maps to the block's class. Anything else, including a
 * mismatch, goes to api_free_sized, which checks fully and names both
 * sizes. */
SABLE_INLINE void api_free_sized_fast(void *p, size_t size, const char *fn)
{
    unsigned sc;
    if (likely(size <= SC_SMALL_MAX) && likely(arena_small_block(p, &sc)) &&
        likely(sc_of_small(size) == sc)) {
        api_free_class(p, sc);
        return;
    }
    api_free_sized(p, size, 0, fn);
}

/* realloc: a slab block resized within its class is returned as it is
 * without leaving the inline path, after the same pointer test as the sized
 * free's (chunk bitmap, map word, block start). A slab block resized to
 * another small class goes to api_realloc_small with its class, so the move
 * does not test the pointer again; everything else (NULL, size 0, a size
 * above the small classes, large, huge, invalid) goes to api_realloc_slow,
 * which diagnoses it. n - 1 < SC_SMALL_MAX is 1 <= n <= SC_SMALL_MAX in one
 * compare (realloc(p, 0) frees). The class rule is api_realloc_small's: a
 * smaller class moves as well, so a block's usable size is always what its
 * last requested size maps to. */
SABLE_INLINE void *api_realloc(void *p, size_t n)
{
    unsigned sc;
    if (likely(n - 1 < SC_SMALL_MAX) && likely(arena_small_block(p, &sc))) {
        if (likely(sc_of_small(n) == sc)) return p;
        return api_realloc_small(p, sc, n);
    }
    return api_realloc_slow(p, n);
}

#endif
