/* src/api/check.c — frees that leave the inline path, and the diagnosis of
 * pointers sable did not hand out: invalid and double frees, wrong sizes
 * given to sized frees, malloc_usable_size.
 *
 * Invariants: a pointer reaches the arena only after arena_lookup found it to
 * start a live block; every other pointer ends in one sable_fatal line naming
 * it.
 * Locking: none of its own; a free that reaches an arena is checked again
 * there under the owner's lock.
 */
#include <stdbool.h>

#include "api/api.h"
#include "api/route.h"
#include "arena/huge.h"
#include "process/threads.h"

void api_invalid_pointer(const char *fn, const void *p)
{
    if (arena_looks_freed(p)) sable_fatal("%s(): double free of %p", fn, p);
    sable_fatal("%s(): invalid pointer %p", fn, p);
}

void api_free_slow(void *p, const char *fn)
{
    if (p == NULL) return;
    ptr_info_t in = arena_lookup(p);
    switch (in.kind) {
    case PTR_SMALL: api_free_class(p, in.sc); return;
    case PTR_LARGE:
        if (in.sc < SC_NCACHED) {
            api_free_class(p, in.sc);
        } else {
            thread_count_big(0, in.usable);
            arena_large_free(p);
        }
        return;
    case PTR_HUGE:
        thread_count_big(0, in.usable);
        huge_free(in.huge, p, fn);
        return;
    case PTR_INVALID: break;
    }
    api_invalid_pointer(fn, p);
}

size_t api_usable_size(const void *p)
{
    if (p == NULL) return 0;
    ptr_info_t in = arena_lookup(p);
    if (in.kind == PTR_INVALID) api_invalid_pointer("malloc_usable_size", p);
    return in.usable;
}

/* Could a request of `size` bytes aligned to `align` have produced this
 * block? Exactly as it was allocated: free_sized (align 0) is for blocks
 * from malloc, calloc and realloc, free_aligned_sized for aligned ones with
 * the alignment they were asked for (rounded up as memalign rounds it). The
 * route says what such a request gets; a block's usable size is always
 * what its last request maps to (realloc keeps that true). */
static bool size_fits_block(size_t size, size_t align, const ptr_info_t *in)
{
    if (align > SIZE_MAX / 2 + 1) return false;
    if (align > SC_QUANTUM) {
        size_t a = SC_QUANTUM;
        while (a < align) a <<= 1;
        align = a;
    } else {
        align = 0;
    }
    return route(size, align).usable == in->usable;
}

/* Sized deallocation: the size must be one that gives this block (its
 * class, or its page-rounded size for huge blocks). A mismatch means the
 * program frees something other than it thinks (a type confusion, a
 * truncated size): abort before the heap is touched. */
ptr_info_t api_sized_info(void *p, size_t size, size_t align, const char *fn)
{
    ptr_info_t in = arena_lookup(p);
    if (in.kind == PTR_INVALID) api_invalid_pointer(fn, p);
    if (size > PTRDIFF_MAX || !size_fits_block(size, align, &in))
        sable_fatal("%s(): wrong size %zu for the block of %zu bytes at %p", fn, size,
                    in.usable, p);
    return in;
}

void api_free_sized(void *p, size_t size, size_t align, const char *fn)
{
    if (p == NULL) return;
    api_sized_info(p, size, align, fn);
    api_free_named(p, fn);
}
