/* After 256 MiB of small blocks are allocated by two threads and freed
 * crosswise, sable_trim (malloc_trim) gives the memory back: RSS ends within
 * 32 MiB of where it started. Run by default and, through the test's
 * environment, with hugepages:thp (trim purges partial huge pages) and with
 * hugepages:hugetlb falling back to normal pages (purged as such); chunks
 * really backed by hugetlb pages, which are purged in whole huge pages
 * only, skip it. */
#include <stdint.h>

#include "common.h"

static size_t hugetlb_mapped(void)
{
    uint64_t epoch = 1;
    size_t v = 0, len = sizeof epoch;
    sable_mallctl("epoch", &epoch, &len, &epoch, len);
    len = sizeof v;
    return sable_mallctl("stats.hugepages.mapped", &v, &len, NULL, 0) == 0 ? v : 0;
}

int main(void)
{
    sable_free(sable_malloc(1)); /* initialise before the baseline */
    long base = rss_kib();
    alloc_and_free_crosswise((size_t)256 << 20);
    long after_free = rss_kib();
    if (hugetlb_mapped() > 0) {
        printf("chunks are backed by hugetlb pages here: skipped\n");
        free_kept();
        return 77;
    }
    CHECK(sable_trim(0) == 1, "trim released nothing");
    long after_trim = rss_kib();
    printf("rss: base %ld KiB, after free %ld KiB, after trim %ld KiB\n", base, after_free,
           after_trim);
    CHECK(after_trim - base < 32 * 1024, "RSS stayed %ld KiB above the baseline",
          after_trim - base);
    free_kept();
    return 0;
}
