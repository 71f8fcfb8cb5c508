/* src/inspect/page.h — the stats page's layout: what a process running
 * sable with stats_page:true publishes, and what sable-stat reads.
 *
 * The page is one file in /dev/shm (or $XDG_RUNTIME_DIR), named
 * sable.<pid>.<start>.page, where <start> is the process's start time in
 * clock ticks after boot (field 22 of /proc/<pid>/stat), so that a page
 * left by a process that died is never taken for a later one with its
 * pid. Mode 0600; removed at exit. Beside it, sable.<pid>.<start>.sock is
 * the control socket (docs/inspection.md has its protocol).
 *
 * The layout is fixed for a version: every field a 64-bit word in the
 * writer's byte order, at the offsets of sable_page_t, and the file exactly
 * sizeof(sable_page_t) bytes long. A reader checks magic, version and
 * size, and refuses anything else. A new field means a new version.
 *
 * Invariants: a reader that sees the same even `seq` before and after its
 * copy (read word by word, an acquire fence before the second read) has a
 * snapshot of one update, whose `checksum` matches sable_page_checksum; an
 * odd seq is an update under way. In such a snapshot narenas <=
 * SABLE_PAGE_ARENAS, nclasses <= SABLE_PAGE_CLASSES and options is
 * NUL-terminated. The figures are mallctl's, which are read from the
 * arenas and threads one after another: relations between them (allocated
 * <= active) hold only roughly.
 * Liveness: the publishing process holds an OFD read lock of the whole
 * file from before the file has its name until it exits or execs; a page
 * that nobody holds locked is stale, whatever its pid says.
 * Locking: one writer at a time (publish.c's lock); readers take none.
 */
#ifndef SABLE_INSPECT_PAGE_H
#define SABLE_INSPECT_PAGE_H

#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "sablepg1" read as a little-endian word. */
#define SABLE_PAGE_MAGIC 0x3167706c62617373ull
#define SABLE_PAGE_VERSION 1u
#define SABLE_PAGE_ARENAS 256u  /* ARENA_MAX */
#define SABLE_PAGE_CLASSES 64u  /* at least SC_NSMALL */
#define SABLE_PAGE_OPTIONS 4096u /* bytes of the options string, NUL included */
#define SABLE_PAGE_PREFIX "sable."
#define SABLE_PAGE_SUFFIX ".page"
#define SABLE_SOCK_SUFFIX ".sock"

/* The whole process (stats.* of mallctl, from one snapshot). */
typedef struct sable_page_totals {
    uint64_t allocated, active, resident, mapped, metadata, retained;
    uint64_t dirty;        /* stats.frag.dirty_bytes: free runs not yet purged */
    uint64_t tcache_bytes; /* stats.tcache_bytes */
    uint64_t huge_allocated, huge_count;
    uint64_t rss;          /* the process's resident set (/proc/self/statm) */
    uint64_t threads;      /* thread caches live */
    uint64_t background_thread; /* 1 while the background thread runs */
    uint64_t decay_ms;     /* the default dirty_decay_ms in force */
    uint64_t npurge, nmadvise, purged; /* over every arena, ever */
    uint64_t purge_rate;   /* bytes purged per second since the update before */
    uint64_t actions;      /* control-socket actions served, ever */
    uint64_t spare[5];
} sable_page_totals_t;

/* One arena (stats.arenas.<i>.*). */
typedef struct sable_page_arena {
    uint64_t nthreads, small_allocated, large_allocated, active, mapped, resident;
    uint64_t dirty, retained, metadata, tcache_bytes;
    uint64_t npurge, nmadvise, purged, nrequests;
    uint64_t spare[2];
} sable_page_arena_t;

/* One small size class over every arena (arenas.bin.<j>.* and
 * stats.arenas.<all>.bins.<j>.*). */
typedef struct sable_page_class {
    uint64_t size, nregs, slab_size;
    uint64_t nmalloc, ndalloc, nrequests, nfills, nflushes;
    uint64_t curregs, curslabs, nonfull_slabs;
    uint64_t allocated_bytes, cached_bytes, slab_bytes, free_in_slabs;
    uint64_t spare;
} sable_page_class_t;

typedef struct sable_page {
    uint64_t magic, version, size, seq;
    uint64_t pid, start_ticks, uid, checksum;
    uint64_t created_unix_ns, updated_unix_ns, updated_mono_ns, updates;
    uint64_t interval_ms, page_size, narenas, nclasses;
    uint64_t sable_version; /* major << 32 | minor << 16 | patch */
    uint64_t pid_ns;        /* the inode of /proc/<pid>/ns/pid: what pid means */
    uint64_t head_spare[6];
    sable_page_totals_t totals;
    sable_page_arena_t arenas[SABLE_PAGE_ARENAS];
    sable_page_class_t classes[SABLE_PAGE_CLASSES];
    /* "name:value,..." for every option, as SABLE_CONF spells them. */
    char options[SABLE_PAGE_OPTIONS];
} sable_page_t;

_Static_assert(sizeof(sable_page_t) % 8 == 0, "the page is 64-bit words");
_Static_assert(offsetof(sable_page_t, totals) == 24 * 8, "the head is 24 words");

/* FNV-1a over 64-bit words. */
static inline uint64_t sable_page_mix(uint64_t h, uint64_t w)
{
    return (h ^ w) * 0x100000001b3ull;
}

/* The words of a page in use: the head and the totals, the first narenas
 * arenas, the first nclasses classes (both capped at their arrays) and the
 * options, as four [begin, end) ranges of word indices. The writer stores
 * and the reader copies these alone: a page with 4 arenas is 14 KiB of
 * its 44 KiB, and a copy of lines another core has just written costs a
 * cache miss per line. */
#define SABLE_PAGE_SPANS 4
static inline void sable_page_spans(uint64_t narenas, uint64_t nclasses,
                                    size_t span[SABLE_PAGE_SPANS][2])
{
    size_t na = narenas < SABLE_PAGE_ARENAS ? narenas : SABLE_PAGE_ARENAS;
    size_t nc = nclasses < SABLE_PAGE_CLASSES ? nclasses : SABLE_PAGE_CLASSES;
    span[0][0] = 0;
    span[0][1] = offsetof(sable_page_t, arenas) / 8;
    span[1][0] = span[0][1];
    span[1][1] = span[1][0] + na * sizeof(sable_page_arena_t) / 8;
    span[2][0] = offsetof(sable_page_t, classes) / 8;
    span[2][1] = span[2][0] + nc * sizeof(sable_page_class_t) / 8;
    span[3][0] = offsetof(sable_page_t, options) / 8;
    span[3][1] = sizeof(sable_page_t) / 8;
}

/* The checksum of a copy: every word in use (sable_page_spans) but seq
 * and checksum. */
static inline uint64_t sable_page_checksum(const sable_page_t *p)
{
    uint64_t h = 0xcbf29ce484222325ull;
    const uint64_t *w = (const uint64_t *)(const void *)p;
    const size_t nseq = offsetof(sable_page_t, seq) / 8, nsum = offsetof(sable_page_t, checksum) / 8;
    size_t span[SABLE_PAGE_SPANS][2];
    sable_page_spans(p->narenas, p->nclasses, span);
    for (unsigned k = 0; k < SABLE_PAGE_SPANS; k++)
        for (size_t i = span[k][0]; i < span[k][1]; i++)
            if (i != nseq && i != nsum) h = sable_page_mix(h, w[i]);
    return h;
}

/* Parses a page's file name, "sable.<pid>.<start>.page", in the one
 * spelling the library writes (decimal digits, no sign, space or leading
 * zero), so that no second name can stand for the same page; false for any
 * other name. Both the library's sweep and sable-stat read names with it. */
static inline bool sable_page_parse_name(const char *name, int *pid, uint64_t *start)
{
    const size_t np = sizeof SABLE_PAGE_PREFIX - 1, ns = sizeof SABLE_PAGE_SUFFIX - 1;
    size_t n = 0;
    while (name[n]) n++;
    if (n <= np + ns) return false;
    for (size_t i = 0; i < np; i++)
        if (name[i] != SABLE_PAGE_PREFIX[i]) return false;
    for (size_t i = 0; i < ns; i++)
        if (name[n - ns + i] != SABLE_PAGE_SUFFIX[i]) return false;
    const char *s = name + np, *end = name + n - ns;
    uint64_t num[2] = {0, 0};
    for (int k = 0; k < 2; k++) {
        const char *d = s;
        for (; s < end && *s >= '0' && *s <= '9'; s++) {
            if (num[k] > (UINT64_MAX - 9) / 10) return false;
            num[k] = num[k] * 10 + (uint64_t)(*s - '0');
        }
        if (s == d || (*d == '0' && s - d > 1)) return false;
        if (k == 0 && (s == end || *s++ != '.')) return false;
    }
    if (s != end || num[0] == 0 || num[0] > 0x7fffffff) return false;
    *pid = (int)num[0];
    *start = num[1];
    return true;
}

/* The page's sign of life: its process holds a read lock of the whole
 * file through an open file description (F_OFD_SETLK, publish.c), which
 * the kernel drops at the process's exit, crash or exec. True if some open
 * file description holds a lock of the file open on fd, or if that cannot
 * be told. */
static inline bool sable_page_held(int fd)
{
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    return fcntl(fd, F_OFD_GETLK, &fl) != 0 || fl.l_type != F_UNLCK;
}

#endif
