/* src/api.h — the malloc family's logic, shared by the prefixed API
 * (src/sable.c) and the unprefixed one (preload/preload.c).
 *
 * The fast paths are always_inline so each exported entry point is one
 * function with no extra call: malloc of a small size is a class lookup and a
 * cache pop; free of a small block is a page-map lookup, a check that the
 * pointer is the start of a block, and a cache push. Everything else is in
 * out-of-line slow paths in src/sable.c.
 */
#ifndef SABLE_API_H
#define SABLE_API_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "arena/chunk.h"
#include "arena/pagemap.h"
#include "os/os.h"
#include "sizeclass/sizeclass.h"
#include "tcache/tcache.h"

/* Slow paths (src/sable.c). `fn` names the public function for messages. */
SABLE_HIDDEN void *api_alloc_big(size_t n) SABLE_NOINLINE;
SABLE_HIDDEN void api_free_slow(void *p, const char *fn) SABLE_NOINLINE;
SABLE_HIDDEN void *api_calloc(size_t count, size_t size);
SABLE_HIDDEN void *api_realloc(void *p, size_t n);
SABLE_HIDDEN void *api_reallocarray(void *p, size_t count, size_t size);
SABLE_HIDDEN void *api_aligned(size_t align, size_t n);
SABLE_HIDDEN int api_posix_memalign(void **memptr, size_t align, size_t n);
SABLE_HIDDEN void *api_aligned_alloc(size_t align, size_t n);
SABLE_HIDDEN void *api_memalign(size_t align, size_t n);
SABLE_HIDDEN void *api_valloc(size_t n);
SABLE_HIDDEN void *api_pvalloc(size_t n);
SABLE_HIDDEN size_t api_usable_size(const void *p);
SABLE_HIDDEN void api_free_sized(void *p, size_t size, size_t align, const char *fn);
SABLE_HIDDEN int api_trim(size_t pad);
SABLE_HIDDEN void api_init(void);

SABLE_INLINE void *api_malloc(size_t n)
{
    if (likely(n <= SC_SMALL_MAX)) return tcache_alloc(sc_of_small(n));
    return api_alloc_big(n);
}

/* A cached block is recognised without leaving the inline path: p lies in a
 * chunk (one bit), its unit's map word says slab (kind bits zero) and p's
 * offset in the slab is a multiple of the class size, or the word says large
 * run, p is the run's first byte and the class is one the caches hold.
 * Everything else (NULL, huge, uncached large, invalid) goes to the slow
 * path, which diagnoses it. */
SABLE_INLINE void api_free_named(void *p, const char *fn)
{
    if (likely(pm_is_chunk((uintptr_t)p))) {
        uint32_t w = chunk_of(p)->map[chunk_unit_of(p)];
        unsigned sc = MAP_CLASS(w);
        /* map_slab_block(w, p), split so that the large-run test below is
         * only reached for non-slab words (one instruction less here). */
        if (likely((w & MAP_KIND_MASK) == 0)) {
            if (likely(sc_is_block_start(sc, map_run_offset(w, p)))) {
                tcache_free(p, sc);
                return;
            }
        } else if ((w & (MAP_KIND_MASK | MAP_BACK_MASK)) == ((uint32_t)MAP_LARGE << 8) &&
                   ((uintptr_t)p & (UNIT_SIZE - 1)) == 0 && sc < SC_NCACHED) {
            tcache_free(p, sc);
            return;
        }
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
    if (likely(pm_is_chunk((uintptr_t)p)) && likely(size <= SC_SMALL_MAX)) {
        uint32_t w = chunk_of(p)->map[chunk_unit_of(p)];
        unsigned sc = MAP_CLASS(w);
        if (likely(map_slab_block(w, p)) && likely(sc_of_small(size) == sc)) {
            tcache_free(p, sc);
            return;
        }
    }
    api_free_sized(p, size, 0, fn);
}

#endif
