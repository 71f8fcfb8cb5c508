/* hugepages:hugetlb (set by the test's environment) really maps chunks from
 * the kernel's huge-page pool when pages are reserved: reserve 64 (as root;
 * skip otherwise), allocate 100 MB of large blocks, check the pool shrank
 * and the memory holds its contents, then free, trim and restore. */
#include <unistd.h>

#include "common.h"

static long meminfo(const char *key)
{
    FILE *f = fopen("/proc/meminfo", "r");
    char line[256];
    long v = -1;
    size_t klen = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, key, klen) == 0 && line[klen] == ':') sscanf(line + klen + 1, "%ld", &v);
    if (f) fclose(f);
    return v;
}

static int set_nr_hugepages(long n)
{
    FILE *f = fopen("/proc/sys/vm/nr_hugepages", "w");
    if (f == NULL) return -1;
    int rc = fprintf(f, "%ld\n", n) > 0 ? 0 : -1;
    return fclose(f) == 0 ? rc : -1;
}

int main(void)
{
    long before = meminfo("HugePages_Total");
    if (before < 0 || set_nr_hugepages(before + 64) != 0 ||
        meminfo("HugePages_Total") < before + 64) {
        set_nr_hugepages(before);
        printf("cannot reserve huge pages here: skipped\n");
        return 77;
    }
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
