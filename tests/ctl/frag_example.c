/* A cache that grew to 200,000 entries and was cut back to one in ten, a
 * 16 MiB table, and a 1 MiB buffer used once. Run it with
 * SABLE_CONF=stats_print:true to see where its memory goes. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sable.h>

int main(void)
{
    enum { N = 200000 };
    static char *item[N];
    for (int i = 0; i < N; i++) {
        item[i] = sable_malloc(40 + i % 200);
        memset(item[i], 1, 40 + i % 200);
    }
    for (int i = 0; i < N; i++)
        if (i % 10) sable_free(item[i]);
    char *volatile table = sable_malloc(16 << 20);
    memset(table, 0, 16 << 20);
    char *volatile buf = sable_malloc(1 << 20);
    memset(buf, 0, 1 << 20);
    sable_free(buf);
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long pages, rss;
    if (f && fscanf(f, "%lu %lu", &pages, &rss) == 2)
        fprintf(stderr, "process RSS: %lu KiB\n", rss * (unsigned long)sysconf(_SC_PAGESIZE) / 1024);
    if (f) fclose(f);
    return 0;
}
