/* hugepages:hugetlb (set by the test's environment) really maps chunks from
 * the kernel's huge-page pool when pages are reserved: reserve 64 (as root;
 * skip otherwise), allocate 100 MB of large blocks, check the pool shrank
 * and the memory holds its contents, then free, trim and restore. */
#include <unistd.h>

#include "common.h"

int main(void)
{
    long before;
    if (!reserve_hugepages(64, &before)) return 77;
    long free_before = meminfo("HugePages_Free");
    enum { N = 1000, SIZE = 100000 };
    static unsigned char *p[N];
    for (int i = 0; i < N; i++) {
        p[i] = sable_malloc(SIZE);
        CHECK(p[i] != NULL, "allocation %d failed", i);
        memset(p[i], i & 0xff, SIZE);
    }
    long free_during = meminfo("HugePages_Free");
    for (int i = 0; i < N; i++) CHECK(p[i][SIZE - 1] == (i & 0xff), "block %d lost its contents", i);
    for (int i = 0; i < N; i++) sable_free(p[i]);
    sable_trim(0);
    set_nr_hugepages(before);
    printf("huge pages free: %ld before, %ld with 100 MB allocated\n", free_before, free_during);
    CHECK(free_before - free_during >= 40, "only %ld huge pages were used",
          free_before - free_during);
    return 0;
}
