/* src/ctl/glibc.c — how sable's statistics map onto glibc's mallinfo2,
 * mallinfo, malloc_stats and malloc_info, and what sable says to mallopt.
 *
 * Owns: the mapping only; the figures come from src/ctl/figures.c. The
 * exported symbols stay in preload/preload.c.
 *
 * mallinfo2 / mallinfo fields (glibc's meaning -> sable's figure):
 *   arena     bytes from the non-mmapped heap  -> bytes of chunks
 *   ordblks   free chunks                      -> free blocks in slabs
 *   smblks    free fastbin blocks              -> 0 (no fastbins)
 *   hblks     mmapped regions                  -> huge mappings
 *   hblkhd    bytes in mmapped regions         -> bytes of huge mappings
 *   usmblks   0 in glibc                       -> 0
 *   fsmblks   bytes in free fastbin blocks     -> 0
 *   uordblks  bytes in use (not mmapped)       -> allocated minus huge
 *   fordblks  free bytes (not mmapped)         -> arena - uordblks: thread
 *             caches, free space in slabs, free runs, chunk headers
 *   keepcost  releasable by malloc_trim        -> free runs not yet purged
 * so arena = uordblks + fordblks and uordblks + hblkhd = stats.allocated,
 * as programs that add them up expect. mallinfo clamps each to INT_MAX.
 *
 * Invariants: nothing here allocates; malloc_stats writes with write(2),
 * malloc_info formats each line on the stack and fputs it to the caller's
 * stream (the one use of stdio, which that API is made of).
 *
 * Locking: mallinfo2 takes a fresh snapshot under the control lock and
 * reads it there (no cancellation point in between); malloc_stats and
 * malloc_info write a report (src/ctl/lock.h), a copy of a fresh snapshot,
 * with no lock held.
 */
/* Before any header: this file's pthread_cleanup_push registers its handler
 * with glibc (which runs it when the thread is cancelled) rather than as an
 * unwinding cleanup. The libraries are built with -fexceptions, so that C++
 * exceptions pass through operator new; an unwinding cleanup would make
 * libsable need libgcc_s's _Unwind_Resume, and depend on more than libc. */
#undef __EXCEPTIONS
#include "ctl/glibc.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>

#include "ctl/figures.h"
#include "ctl/lock.h"
#include "os/os.h"
#include "process/process.h"
#include "sizeclass/sizeclass.h"

/* Free blocks in the slabs of a class, and the free blocks (and their
 * bytes) in every small class of one arena or all of them. */
static uint64_t class_free_blocks(const ctl_class_t *k)
{
    return k->curslabs * k->nregs > k->curregs ? k->curslabs * k->nregs - k->curregs : 0;
}

static size_t free_blocks(const ctl_stats_t *s, unsigned arena, size_t *bytes)
{
    size_t n = 0;
    *bytes = 0;
    for (unsigned c = 0; c < SC_NSMALL; c++) {
        ctl_class_t k;
        ctl_class_read(s, arena, c, &k);
        uint64_t f = class_free_blocks(&k);
        n += f;
        *bytes += f * k.size;
    }
    return n;
}

struct mallinfo2 ctl_mallinfo2(void)
{
    struct mallinfo2 mi;
    memset(&mi, 0, sizeof mi);
    const ctl_stats_t *s = ctl_begin(true);
    if (s == NULL) return mi;
    ctl_frag_t f;
    ctl_frag_read(s, &f);
    size_t free_bytes;
    mi.arena = f.chunk_mapped;
    mi.ordblks = free_blocks(s, CTL_ARENAS_ALL, &free_bytes);
    mi.hblks = s->huge_count;
    mi.hblkhd = s->huge_allocated;
    mi.uordblks = s->allocated - (s->allocated < s->huge_allocated ? s->allocated : s->huge_allocated);
    if (mi.uordblks > mi.arena) mi.uordblks = mi.arena;
    mi.fordblks = mi.arena - mi.uordblks;
    mi.keepcost = f.dirty;
    ctl_end();
    return mi;
}

static int clamp_int(size_t v) { return v > INT_MAX ? INT_MAX : (int)v; }

struct mallinfo ctl_mallinfo(void)
{
    struct mallinfo2 m2 = ctl_mallinfo2();
    struct mallinfo mi;
    mi.arena = clamp_int(m2.arena);
    mi.ordblks = clamp_int(m2.ordblks);
    mi.smblks = clamp_int(m2.smblks);
    mi.hblks = clamp_int(m2.hblks);
    mi.hblkhd = clamp_int(m2.hblkhd);
    mi.usmblks = clamp_int(m2.usmblks);
    mi.fsmblks = clamp_int(m2.fsmblks);
    mi.uordblks = clamp_int(m2.uordblks);
    mi.fordblks = clamp_int(m2.fordblks);
    mi.keepcost = clamp_int(m2.keepcost);
    return mi;
}

/* "label = %10zu\n" without stdio (glibc's layout). */
static size_t stats_line(char *buf, size_t cap, const char *label, size_t v)
{
    char num[32];
    size_t n = os_format(num, sizeof num, "%zu", v);
    size_t k = os_format(buf, cap, "%s= ", label);
    while (n < 10 && k + 1 < cap) buf[k++] = ' ', n++;
    return k + os_format(buf + k, cap - k, "%s\n", num);
}

/* glibc's summary on stderr: per arena the bytes it maps apart from huge
 * blocks ("system": chunks and dirty free extents) and those its threads'
 * blocks hold ("in use"), then the totals with huge blocks (glibc's mmapped
 * chunks) and the most huge blocks and bytes there have been at once.
 * Written from a report with cancellation disabled: like glibc's (whose
 * stderr is flagged not cancellable for it), malloc_stats is no
 * cancellation point; a request pending acts at the caller's next one. */
static void stats_write(const ctl_stats_t *s)
{
    char buf[256];
    size_t n;
    for (unsigned i = 0; i < s->narenas; i++) {
        ctl_arena_t a;
        ctl_arena_read(s, i, &a);
        uint64_t used = a.small_allocated + a.large_allocated;
        used = used > a.tcache_bytes ? used - a.tcache_bytes : 0;
        n = os_format(buf, sizeof buf, "Arena %d:\n", (int)i);
        n += stats_line(buf + n, sizeof buf - n, "system bytes     ", a.system);
        n += stats_line(buf + n, sizeof buf - n, "in use bytes     ", used);
        os_write_stderr(buf, n);
    }
    n = os_format(buf, sizeof buf, "Total (incl. mmap):\n");
    n += stats_line(buf + n, sizeof buf - n, "system bytes     ", s->mapped);
    n += stats_line(buf + n, sizeof buf - n, "in use bytes     ", s->allocated);
    n += stats_line(buf + n, sizeof buf - n, "max mmap regions ", s->huge_count_peak);
    n += stats_line(buf + n, sizeof buf - n, "max mmap bytes   ", s->huge_bytes_peak);
    os_write_stderr(buf, n);
}

void ctl_malloc_stats(void)
{
    ctl_report_t r;
    const ctl_stats_t *s = ctl_report_begin(&r);
    if (s == NULL) return;
    int old;
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
    stats_write(s);
    pthread_setcancelstate(old, NULL);
    ctl_report_end(&r);
}

/* glibc's closing lines of a heap and of the whole report: system memory
 * now and at its peak, and the address space behind it. sable maps what it
 * reserves read-write whole (nothing is kept PROT_NONE to be committed
 * later), so the mprotect'ed address space is all of it. */
static void info_system(FILE *fp, const ctl_arena_t *a, const char *end)
{
    char buf[256];
    os_format(buf, sizeof buf,
              "<system type=\"current\" size=\"%zu\"/>\n<system type=\"max\" size=\"%zu\"/>\n"
              "<aspace type=\"total\" size=\"%zu\"/>\n<aspace type=\"mprotect\" size=\"%zu\"/>\n"
              "%s\n",
              (size_t)a->system, (size_t)a->system_peak, (size_t)a->aspace, (size_t)a->aspace,
              end);
    fputs(buf, fp);
}

/* glibc's XML: one <heap> per arena listing, per small class, the free
 * blocks in its slabs (from/to: the sizes the class serves), then glibc's
 * totals ("rest": free blocks in slabs; "mmap": huge blocks; "system" and
 * "aspace": the sums over heaps, as glibc adds its arenas up). */
static void info_write(const ctl_stats_t *s, FILE *fp)
{
    char buf[256];
    size_t all_count = 0, all_bytes = 0;
    fputs("<malloc version=\"1\">\n", fp);
    for (unsigned i = 0; i < s->narenas; i++) {
        ctl_arena_t a;
        ctl_arena_read(s, i, &a);
        os_format(buf, sizeof buf, "<heap nr=\"%d\">\n<sizes>\n", (int)i);
        fputs(buf, fp);
        for (unsigned c = 0; c < SC_NSMALL; c++) {
            ctl_class_t k;
            ctl_class_read(s, i, c, &k);
            uint64_t f = class_free_blocks(&k);
            if (f == 0) continue;
            os_format(buf, sizeof buf, "  <size from=\"%zu\" to=\"%zu\" total=\"%zu\" count=\"%zu\"/>\n",
                      (size_t)(c ? sc_size(c - 1) + 1 : 1), (size_t)k.size, (size_t)(f * k.size),
                      (size_t)f);
            fputs(buf, fp);
        }
        size_t bytes, count = free_blocks(s, i, &bytes);
        all_count += count;
        all_bytes += bytes;
        os_format(buf, sizeof buf,
                  "</sizes>\n<total type=\"fast\" count=\"0\" size=\"0\"/>\n"
                  "<total type=\"rest\" count=\"%zu\" size=\"%zu\"/>\n",
                  count, bytes);
        fputs(buf, fp);
        info_system(fp, &a, "</heap>");
    }
    os_format(buf, sizeof buf,
              "<total type=\"fast\" count=\"0\" size=\"0\"/>\n"
              "<total type=\"rest\" count=\"%zu\" size=\"%zu\"/>\n"
              "<total type=\"mmap\" count=\"%zu\" size=\"%zu\"/>\n",
              all_count, all_bytes, s->huge_count, s->huge_allocated);
    fputs(buf, fp);
    ctl_arena_t all;
    ctl_arena_read(s, CTL_ARENAS_ALL, &all);
    info_system(fp, &all, "</malloc>");
}

/* Written from a report with no lock held: fputs may block on the caller's
 * stream, allocate its buffer, or be where a cancellation request acts (as
 * in glibc's, which prints with fprintf); the cleanup handler then gives
 * the report's pages back. */
int ctl_malloc_info(int options, FILE *fp)
{
    if (options != 0 || fp == NULL) return EINVAL;
    ctl_report_t r;
    const ctl_stats_t *s = ctl_report_begin(&r);
    if (s == NULL) return ENOMEM;
    pthread_cleanup_push(ctl_report_end, &r);
    info_write(s, fp);
    pthread_cleanup_pop(1);
    return 0;
}

/* mallopt: 1 when the parameter acted, 0 when it did not (glibc's 0 is
 * "error"). Two of glibc's parameters have a counterpart in sable and act
 * (process.h): M_ARENA_MAX (value >= 1) sets the number of arenas before
 * they exist and afterwards limits the arenas threads set up from then on
 * are attached to; M_PERTURB sets the perturb byte (the value's low byte,
 * as glibc's memset uses it) before set-up, and afterwards only confirms
 * the byte in force. SABLE_CONF wins over both. The others return 0:
 *   M_MXFAST            no fastbins (slabs and thread caches instead)
 *   M_TRIM_THRESHOLD    free memory goes back by decay (dirty_decay_ms) and
 *   M_TOP_PAD           malloc_trim, not at a top-of-heap threshold; no sbrk
 *   M_MMAP_THRESHOLD    the huge-block threshold is a size class boundary
 *   M_MMAP_MAX          huge blocks are page-heap extents, not mmaps
 *   M_CHECK_ACTION      misuse always ends with one line and abort()
 *   M_ARENA_TEST        every arena exists from the start
 *   M_NLBLKS, M_GRAIN, M_KEEP  unused by glibc too
 * and so does an unknown parameter (glibc returns 1). */
int ctl_mallopt(int param, int value)
{
    switch (param) {
    case M_ARENA_MAX: return value > 0 && process_arena_max((unsigned)value);
    case M_PERTURB: return process_perturb((unsigned)value & 0xff);
    default: return 0;
    }
}
