/* After 256 MiB of small blocks are allocated by two threads and freed
 * crosswise, sable_trim (malloc_trim) gives the memory back: RSS ends within
 * 32 MiB of where it started. */
#include "common.h"

int main(void)
{
    sable_free(sable_malloc(1)); /* initialise before the baseline */
    long base = rss_kib();
    alloc_and_free_crosswise((size_t)256 << 20);
    long after_free = rss_kib();
    CHECK(sable_trim(0) == 1, "trim released nothing");
    long after_trim = rss_kib();
    printf("rss: base %ld KiB, after free %ld KiB, after trim %ld KiB\n", base, after_free,
           after_trim);
    CHECK(after_trim - base < 32 * 1024, "RSS stayed %ld KiB above the baseline",
          after_trim - base);
    free_kept();
    return 0;
}
