/* With background_thread:true and dirty_decay_ms:1000 (set by the test's
 * environment), memory freed by an idle program comes back without any
 * further call: RSS ends within 32 MiB of the baseline after 4 s. */
#include <unistd.h>

#include "common.h"

int main(void)
{
    sable_free(sable_malloc(1));
    long base = rss_kib();
    alloc_and_free_crosswise((size_t)256 << 20);
    long after_free = rss_kib(), now = after_free;
    for (int i = 0; i < 40 && now - base >= 32 * 1024; i++) {
        usleep(100 * 1000);
        now = rss_kib();
    }
    printf("rss: base %ld KiB, after free %ld KiB, idle %ld KiB\n", base, after_free, now);
    CHECK(now - base < 32 * 1024, "RSS stayed %ld KiB above the baseline after 4 s",
          now - base);
    free_kept();
    return 0;
}
