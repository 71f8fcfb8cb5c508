/* memory_limit:64m (SABLE_CONF of the test): large and huge allocations
 * fail with NULL and ENOMEM once sable's committed memory would pass 64 MiB,
 * a failed realloc leaves its block intact, allocation succeeds again after
 * frees, and limits.memory_limit can be raised and lowered at run time. */
#include <errno.h>

#include "../ctl_values.h"
#include "common.h"

#define MiB ((size_t)1 << 20)
#define MAXB 256


static void set_size(const char *name, size_t v)
{
    CHECK(sable_mallctl(name, NULL, NULL, &v, sizeof v) == 0, "%s", name);
}

/* Allocates 1 MiB blocks until the limit refuses one; returns how many. */
static int fill(void **b)
{
    int n = 0;
    for (; n < MAXB; n++) {
        errno = 0;
        if ((b[n] = sable_malloc(MiB)) == NULL) break;
        memset(b[n], 0x5c, MiB);
    }
    CHECK(n < MAXB, "the limit never refused");
    CHECK(errno == ENOMEM, "errno %d", errno);
    CHECK(ctl_size("limits.committed") <= 64 * MiB, "committed %zu", ctl_size("limits.committed"));
    return n;
}

int main(void)
{
    static void *b[MAXB];
    sable_free(sable_malloc(1));
    CHECK(ctl_size("opt.memory_limit") == 64 * MiB, "opt.memory_limit");
    CHECK(ctl_size("limits.memory_limit") == 64 * MiB, "limits.memory_limit");
    /* The soft threshold follows the hard limit where there is no cgroup
     * limit tighter (none on a test machine outside a container is). */
    CHECK(ctl_unsigned("limits.memory_soft_limit") == 90, "memory_soft_limit");
    size_t cg = ctl_size("limits.cgroup_memory");
    if (cg == 0 || cg >= 64 * MiB)
        CHECK(ctl_size("limits.soft_bytes") == 64 * MiB * 90 / 100, "soft_bytes");
    unsigned pct = 101;
    CHECK(sable_mallctl("limits.memory_soft_limit", NULL, NULL, &pct, sizeof pct) == EINVAL,
          "a percent above 100 is refused");
    pct = 0;
    CHECK(sable_mallctl("limits.memory_soft_limit", NULL, NULL, &pct, sizeof pct) == 0, "off");
    CHECK(ctl_unsigned("limits.memory_soft_limit") == 0 && ctl_size("limits.soft_bytes") == 0,
          "the soft limit is off");
    int n = fill(b);
    CHECK((size_t)n * MiB >= 40 * MiB && (size_t)n * MiB <= 64 * MiB, "%d MiB held", n);
    errno = 0;
    CHECK(sable_malloc(16 * MiB) == NULL && errno == ENOMEM, "a huge block past the limit");
    void *grown = sable_realloc(b[0], 32 * MiB);
    CHECK(grown == NULL && errno == ENOMEM, "realloc past the limit");
    CHECK(((unsigned char *)b[0])[MiB - 1] == 0x5c, "the block is intact after realloc failed");

    /* After frees, the same memory serves again: nothing fresh is needed. */
    for (int i = 0; i < n; i++) sable_free(b[i]);
    int again = fill(b);
    CHECK(again >= n, "%d blocks after the frees, %d before", again, n);
    for (int i = 0; i < again; i++) sable_free(b[i]);
    void *h = sable_malloc(16 * MiB);
    CHECK(h != NULL, "a huge block from freed memory");
    memset(h, 1, 16 * MiB);
    sable_free(h);

    /* At run time: no limit, then one below what is committed. */
    set_size("limits.memory_limit", 0);
    h = sable_malloc(128 * MiB);
    CHECK(h != NULL, "no limit: 128 MiB");
    memset(h, 1, 128 * MiB);
    sable_free(h);
    set_size("limits.memory_limit", 8 * MiB);
    /* Freed memory stays committed and is reused under any limit: purged,
     * it no longer counts, and a block then needs fresh memory. */
    CHECK(sable_mallctl("arena.4096.purge", NULL, NULL, NULL, 0) == 0, "purge");
    errno = 0;
    CHECK(sable_malloc(64 * MiB) == NULL && errno == ENOMEM, "the lowered limit refuses");
    set_size("limits.memory_limit", 0);
    printf("memory_limit: %d MiB blocks under 64 MiB, %d again after frees\n", n, again);
    return 0;
}
