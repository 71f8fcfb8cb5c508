/* src/api/route.h — which path serves a request, and the usable size it
 * gets: the one statement of the allocation routing. The allocation paths
 * follow it, and the sized-free check compares a block with it.
 *
 *   align <= 16     n <= SC_CACHED_MAX   cached class (thread cache)
 *                   n <= SC_LARGE_MAX    large run
 *   16 < align      the first small class that is a multiple of the
 *     <= 4 KiB      alignment, if one holds n (slab blocks are aligned to
 *                   their size's largest power-of-two factor)
 *   otherwise       a large run of the class of max(n, SC_SMALL_MAX + 1)
 *                   when the alignment fits in a chunk
 *   anything else   a huge mapping, page granular
 *
 * Pure arithmetic; no locks.
 * Invariants: route(n, a).usable >= n for every path but ROUTE_TOO_BIG, and a
 * block served by a route has exactly that usable size.
 */
#ifndef SABLE_API_ROUTE_H
#define SABLE_API_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "arena/arena.h"
#include "os/os.h"
#include "sizeclass/sizeclass.h"

typedef enum { ROUTE_CACHED, ROUTE_LARGE, ROUTE_HUGE, ROUTE_TOO_BIG } route_path_t;

typedef struct {
    route_path_t path;
    unsigned sc;   /* ROUTE_CACHED, ROUTE_LARGE: the class */
    size_t usable; /* the block's usable size (0 for ROUTE_TOO_BIG) */
} route_t;

/* The small class that serves n bytes aligned to `align` (16 < align <=
 * SC_UNIT), or SC_NSMALL if none does. Power-of-two classes exist up to
 * SC_SMALL_MAX, so the walk ends within one doubling. */
static inline unsigned route_aligned_small_class(size_t n, size_t align)
{
    size_t m = n < align ? align : n;
    if (m > SC_SMALL_MAX) return SC_NSMALL;
    unsigned c = sc_of_small(m);
    while (sc_size(c) & (align - 1)) c++;
    return c;
}

/* The first rule alone, for the callers that test it before anything
 * else: an unaligned request of n bytes is served by a thread cache, as
 * class sc_of(n). */
SABLE_INLINE bool route_cached(size_t n) { return n <= SC_CACHED_MAX; }

/* n bytes aligned to `align` (0 or a power of two). */
SABLE_INLINE route_t route(size_t n, size_t align)
{
    if (align <= SC_QUANTUM && route_cached(n)) {
        unsigned c = sc_of(n);
        return (route_t){ROUTE_CACHED, c, sc_size(c)};
    }
    if (n > PTRDIFF_MAX) return (route_t){ROUTE_TOO_BIG, 0, 0};
    if (align > SC_QUANTUM) {
        if (align <= SC_UNIT) {
            unsigned c = route_aligned_small_class(n, align);
            if (c < SC_NSMALL) return (route_t){ROUTE_CACHED, c, sc_size(c)};
        }
        if (n <= SC_SMALL_MAX) n = SC_SMALL_MAX + 1;
    }
    if (n <= SC_LARGE_MAX) {
        unsigned c = sc_of(n);
        if (arena_large_fits(sc_size(c), align)) return (route_t){ROUTE_LARGE, c, sc_size(c)};
    }
    size_t pages = os_page_round(n);
    if (pages < n || pages > PTRDIFF_MAX) return (route_t){ROUTE_TOO_BIG, 0, 0};
    return (route_t){ROUTE_HUGE, 0, pages};
}

#endif
