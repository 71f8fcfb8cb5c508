/* Under RLIMIT_AS (400 MB), filling memory with one size until allocation
 * fails gives NULL and ENOMEM, never a crash; after everything is freed,
 * the next size (64 B, 4 KiB, 70 KB, 1 MiB, 16 MiB, and 64 B again) fills
 * memory again. */
#include <errno.h>
#include <sys/resource.h>

#include "common.h"

#define MAXBLOCKS (8u << 20)

int main(void)
{
    static void *blocks[MAXBLOCKS];
    struct rlimit rl = {.rlim_cur = 400000ul * 1024, .rlim_max = 400000ul * 1024};
    CHECK(setrlimit(RLIMIT_AS, &rl) == 0, "setrlimit");
    const size_t sizes[] = {64, 4096, 70000, 1 << 20, 16 << 20, 64};
    for (unsigned s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t n = 0;
        errno = 0;
        while (n < MAXBLOCKS) {
            void *p = sable_malloc(sizes[s]);
            if (p == NULL) break;
            memset(p, 1, sizes[s] < 4096 ? sizes[s] : 4096);
            blocks[n++] = p;
        }
        int e = errno;
        printf("%zu B: %zu blocks, %zu MiB before failure\n", sizes[s], n, (n * sizes[s]) >> 20);
        CHECK(n < MAXBLOCKS && e == ENOMEM, "size %zu: no ENOMEM (errno %d, %zu blocks)",
              sizes[s], e, n);
        CHECK(n * sizes[s] > ((size_t)100 << 20), "size %zu: only %zu MiB before failure",
              sizes[s], (n * sizes[s]) >> 20);
        for (size_t i = 0; i < n; i++) sable_free(blocks[i]);
    }
    return 0;
}
