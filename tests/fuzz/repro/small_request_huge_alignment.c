/* tests/fuzz/repro/small_request_huge_alignment.c — found by
 * tests/fuzz/fuzz_calls.
 *
 * A small request with an alignment too large for a chunk, e.g.
 * aligned_alloc(32 MiB, 0), is routed to a huge mapping as a request of at
 * least SC_SMALL_MAX + 1 bytes (src/api/route.h). The allocation path passed
 * the caller's size (0) to huge_alloc instead of the route's, and the call
 * failed with ENOMEM. Every such request must succeed, aligned, with at least
 * the size asked for usable.
 *
 * Exit status 0 when sable behaves, 1 with a description otherwise.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "sable.h"

int main(void)
{
    int bad = 0;
    static const size_t sizes[] = {0, 1, 100, 4096, 16384, 20000};
    for (unsigned lg = 23; lg <= 26; lg++) {
        size_t align = (size_t)1 << lg;
        for (unsigned i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            size_t n = sizes[i];
            void *p = sable_aligned_alloc(align, n);
            if (p == NULL || ((uintptr_t)p & (align - 1)) != 0 ||
                sable_malloc_usable_size(p) < n) {
                printf("aligned_alloc(2^%u, %zu) = %p (usable %zu)\n", lg, n, p,
                       p ? sable_malloc_usable_size(p) : 0);
                bad = 1;
            }
            if (p) {
                memset(p, 0xab, n);
                sable_free(p);
            }
        }
    }
    return bad;
}
