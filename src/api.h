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
SABLE_HIDDEN void api_free_slow(void *p, uintptr_t entry, const char *fn) SABLE_NOINLINE;
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
SABLE_HIDDEN void api_free_sized(void *p, size_t size, const char *fn);
SABLE_HIDDEN int api_trim(size_t pad);
SABLE_HIDDEN void api_init(void);

SABLE_INLINE void *api_malloc(size_t n)
{
    if (likely(n <= SC_SMALL_MAX)) return tcache_alloc(sc_of_small(n));
    return api_alloc_big(n);
}

/* The small-block test: p's slot is a chunk, p's unit belongs to a slab, and
 * p's offset in the slab is a multiple of the block size. */
SABLE_INLINE void api_free_named(void *p, const char *fn)
{
    uintptr_t e = pm_lookup((uintptr_t)p);
    if (likely((e & PM_HUGE_TAG) == 0 && e != 0)) {
        chunk_t *c = (chunk_t *)e;
        uint32_t w = c->map[chunk_unit_of(p)];
        if (likely(MAP_KIND(w) == MAP_SLAB)) {
            unsigned sc = MAP_CLASS(w);
            uint32_t off = (uint32_t)(((uintptr_t)p & (UNIT_SIZE - 1)) +
                                      ((uintptr_t)MAP_BACK(w) << UNIT_SHIFT));
            if (likely(sc_block_index(sc, off) * sc_size(sc) == off)) {
                tcache_free(p, sc);
                return;
            }
        }
    }
    api_free_slow(p, e, fn);
}

SABLE_INLINE void api_free(void *p) { api_free_named(p, "free"); }

#endif
