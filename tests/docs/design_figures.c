/* design_figures — the figures of docs/design.md, computed from the code.
 *
 *   design-figures DOC           fails (exit 1) if DOC's generated section
 *                                differs from what the code gives now
 *   design-figures DOC --write   rewrites that section
 *
 * The section sits between the markers below; everything in it comes from
 * the constants and tables the allocator itself uses, so the design page
 * cannot drift from the code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena/arena.h"
#include "arena/chunk.h"
#include "arena/pagemap.h"
#include "options/options.h"
#include "process/reclaim.h"
#include "process/threads.h"
#include "sizeclass/sizeclass.h"
#include "tcache/tcache.h"

#define BEGIN "<!-- design-figures:begin -->\n"
#define END "<!-- design-figures:end -->\n"

static size_t put(char *buf, size_t at, size_t cap, const char *fmt, size_t a, size_t b)
{
    int n = snprintf(buf + at, cap - at, fmt, a, b);
    return n < 0 ? at : at + (size_t)n;
}

static double mib(size_t bytes) { return (double)bytes / (1 << 20); }

static size_t figures(char *buf, size_t cap)
{
    size_t n = 0;
    unsigned min_units = 255, max_units = 0;
    for (unsigned c = 0; c < SC_NSMALL; c++) {
        if (sc_slab_units(c) < min_units) min_units = sc_slab_units(c);
        if (sc_slab_units(c) > max_units) max_units = sc_slab_units(c);
    }
    /* A full cache: every local stack full (the remote stacks hold as much
     * again at most, blocks of other arenas). */
    tcache_boot_caps(0); /* the built-in budgets (tcache_max_bytes unset) */
    size_t local = 0, small_blocks_min = (size_t)-1, small_blocks_max = 0;
    static void *slots[1 << 16];
    tcache_t *tc = (tcache_t *)slots;
    if (tcache_bytes() > sizeof slots) return 0;
    tcache_init(tc, NULL);
    for (unsigned c = 0; c < SC_NCACHED; c++) {
        size_t cap = (size_t)(tc->bottom[c] - tc->full[c]);
        local += cap * sc_size(c);
        if (c < SC_NSMALL && cap < small_blocks_min) small_blocks_min = cap;
        if (c < SC_NSMALL && cap > small_blocks_max) small_blocks_max = cap;
    }
    n = put(buf, n, cap, "| figure | value |\n|---|---|\n", 0, 0);
    n = put(buf, n, cap, "| unit | %zu B |\n", UNIT_SIZE, 0);
    n = put(buf, n, cap, "| chunk | %zu MiB: %zu units |\n", CHUNK_SIZE >> 20, CHUNK_UNITS);
    n = put(buf, n, cap, "| chunk header | %zu units; %zu usable units |\n", CHUNK_HEADER_UNITS,
            CHUNK_USABLE_UNITS);
    n = put(buf, n, cap, "| run descriptor | %zu B |\n", sizeof(run_t), 0);
    n = put(buf, n, cap, "| small classes | %zu, from 16 B to %zu B |\n", SC_NSMALL, SC_SMALL_MAX);
    n = put(buf, n, cap, "| large classes | %zu, up to %zu KiB |\n", SC_NCLASSES - SC_NSMALL,
            SC_LARGE_MAX >> 10);
    n = put(buf, n, cap, "| classes held by thread caches | %zu, up to %zu KiB |\n", SC_NCACHED,
            SC_CACHED_MAX >> 10);
    n = put(buf, n, cap, "| slab size | %zu to %zu units |\n", min_units, max_units);
    n = put(buf, n, cap, "| stack budget | %zu KiB of blocks per small class, %zu KiB per cached large class |\n",
            TCACHE_SMALL_BUDGET >> 10, TCACHE_LARGE_BUDGET >> 10);
    n = put(buf, n, cap, "| blocks per small class's stack | %zu to %zu |\n", small_blocks_min,
            small_blocks_max);
    n = put(buf, n, cap, "| thread-cache collection interval | %zu ms, at the thread's slow paths |\n",
            TCACHE_GC_MS, 0);
    n = put(buf, n, cap, "| idle thread's cache taken (background thread) | after %zu ms without an "
            "allocation or free, looked for every %zu ms |\n", RECLAIM_IDLE_MS, TCACHE_GC_MS);
    n = put(buf, n, cap, "| background thread started on its own | at %zu thread caches "
            "(`background_thread_auto`) |\n", opt_background_thread_auto, 0);
    n = put(buf, n, cap, "| all caches' budget | %zu MiB (`tcache_total_bytes`), every stack "
            "halved at most %zu times to fit |\n", opt_tcache_total_bytes >> 20, THREADS_SHIFT_MAX);
    {
        size_t full = tcache_full_bytes(), total = opt_tcache_total_bytes, counts[] = {64, 1000};
        n = put(buf, n, cap, "| room per cache under that budget | full up to %zu threads", total / full, 0);
        for (unsigned i = 0; i < 2; i++)
            n = put(buf, n, cap, "; 1/%zu with %zu threads", (size_t)1 << threads_cache_shift(counts[i]),
                    counts[i]);
        n = put(buf, n, cap, " |\n", 0, 0);
    }
    int k = snprintf(buf + n, cap - n,
                     "| bytes of blocks in a full cache | %.1f MiB local, as much again in remote "
                     "stacks |\n| a cache's own memory (stacks) | %zu KiB |\n",
                     mib(local), tcache_bytes() >> 10);
    if (k > 0) n += (size_t)k;
    n = put(buf, n, cap, "| page map | root of %zu entries, leaves of %zu entries |\n",
            PM_ROOT_LEN, PM_LEAF_LEN);
    n = put(buf, n, cap, "| chunk bitmap | %zu KiB of .bss |\n",
            sizeof(uint64_t) * PM_CHUNK_WORDS >> 10, 0);
    n = put(buf, n, cap, "| arenas at most | %zu |\n", ARENA_MAX, 0);
    n = put(buf, n, cap, "| page-heap regions | the first %zu MiB, at most %zu MiB |\n",
            PH_STEP_MIN >> 20, PH_STEP_MAX >> 20);
    n = put(buf, n, cap, "| page-heap size bins | %zu, each with a best-fit scan of %zu extents |\n",
            PH_BINS, PH_FIT_SCAN);
    n = put(buf, n, cap,
            "| dirty extents kept when fresh pages are faulted in | 1/%zu of the live bytes or "
            "1/%zu of their peak ",
            PH_DIRTY_SHARE, PH_PEAK_SHARE);
    n = put(buf, n, cap, "over the last %zu ms or more, whichever is more, ", PH_PEAK_MS, 0);
    n = put(buf, n, cap, "at least %zu MiB; the excess is purged out of the smallest dirty extent "
            "that covers it (its end next to clean memory) |\n", PH_DIRTY_FLOOR >> 20, 0);
    n = put(buf, n, cap,
            "| trim interval | %zu ms: a `malloc_trim` sooner after an arena's last full trim "
            "leaves it alone while its free resident memory is within the budget above; trims "
            "less than %zu ms apart trust the last such estimate unless the live bytes fell by a "
            "quarter |\n",
            ARENA_TRIM_INTERVAL_MS, ARENA_TRIM_WEIGH_MS);
    n = put(buf, n, cap,
            "| orphaned thread caches | looked for by thread set-up when the live caches reach "
            "twice their number after the last look plus %zu, and by `malloc_trim` at most once "
            "per trim interval |\n",
            THREADS_REAP_FIRST, 0);
    n = put(buf, n, cap, "| slot table | %zu entries, %zu KiB per 4 MiB slot |\n",
            PH_UNITS_PER_SLOT, sizeof(ph_table_t) >> 10);
    n = put(buf, n, cap, "| extent descriptor | %zu B |\n", sizeof(extent_t), 0);
    n = put(buf, n, cap,
            "| kept mapped when free extents are unmapped | %zu KiB at the start of each slot "
            "that held a chunk (its header, with %zu KiB pages) |\n",
            PH_STUB(UNIT_SIZE) >> 10, UNIT_SIZE >> 10);
    return n;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: design-figures DOC [--write]\n");
        return 2;
    }
    bool write = argc > 2 && strcmp(argv[2], "--write") == 0;
    static char doc[1 << 20], want[1 << 14], out[1 << 20];
    FILE *f = fopen(argv[1], "r");
    if (!f) {
        perror(argv[1]);
        return 2;
    }
    size_t len = fread(doc, 1, sizeof doc - 1, f);
    fclose(f);
    doc[len] = '\0';
    char *b = strstr(doc, BEGIN), *e = b ? strstr(b, END) : NULL;
    if (!b || !e) {
        fprintf(stderr, "%s: no generated section (markers %s)\n", argv[1], "design-figures");
        return 2;
    }
    size_t wl = figures(want, sizeof want);
    if (wl == 0) return 2;
    char *have = b + strlen(BEGIN);
    if ((size_t)(e - have) == wl && memcmp(have, want, wl) == 0) return 0;
    if (!write) {
        fprintf(stderr, "%s is out of date; run: build/tests/design-figures %s --write\n", argv[1],
                argv[1]);
        fprintf(stderr, "expected:\n%s", want);
        return 1;
    }
    size_t head = (size_t)(have - doc);
    memcpy(out, doc, head);
    memcpy(out + head, want, wl);
    strcpy(out + head + wl, e);
    f = fopen(argv[1], "w");
    if (!f || fputs(out, f) < 0 || fclose(f) != 0) return 2;
    return 0;
}
