/* src/ctl/stats_print.c — sable_malloc_stats_print and stats_print:true.
 *
 * Text by default, JSON with 'J' in opts. The text is laid out to answer
 * "why is my process using this much memory?": the totals from the
 * program's view (allocated) down to the OS's (resident, mapped), then where
 * the mapped bytes go, then the size classes with the largest footprint
 * first. Letters in opts leave sections out as in jemalloc: g general (version,
 * options, geometry), m merged statistics (the breakdown and the merged class
 * and large tables), a per-arena statistics, b size-class tables, l large
 * objects; d, x and e name jemalloc sections sable has not got and are
 * ignored.
 *
 * Nothing here allocates: lines are built in a fixed buffer on the stack and
 * handed to write_cb (stderr when it is NULL) whenever it fills and at the
 * end. The snapshot is refreshed first and read under the control lock.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/mallctl.h"
#include "process/process.h"
#include "options/options.h"
#include "sable.h"
#include "sizeclass/sizeclass.h"

/* ---- output ---- */

typedef struct {
    void (*cb)(void *, const char *);
    void *opaque;
    size_t n;
    char buf[2048];
} out_t;

static void out_flush(out_t *o)
{
    if (o->n == 0) return;
    o->buf[o->n] = '\0';
    if (o->cb)
        o->cb(o->opaque, o->buf);
    else
        os_write_stderr(o->buf, o->n);
    o->n = 0;
}

static void out_mem(out_t *o, const char *s, size_t len)
{
    while (len) {
        size_t room = sizeof o->buf - 1 - o->n;
        if (room == 0) {
            out_flush(o);
            continue;
        }
        size_t k = len < room ? len : room;
        memcpy(o->buf + o->n, s, k);
        o->n += k;
        s += k;
        len -= k;
    }
}

static void out_s(out_t *o, const char *s) { out_mem(o, s, strlen(s)); }

static void out_pad(out_t *o, size_t n)
{
    while (n--) out_mem(o, " ", 1);
}

static size_t fmt_u(char *b, uint64_t v)
{
    char t[24];
    size_t n = 0, k = 0;
    do {
        t[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n) b[k++] = t[--n];
    b[k] = '\0';
    return k;
}

/* v right-aligned in `width` columns (0: as is). */
static void out_u(out_t *o, uint64_t v, size_t width)
{
    char b[24];
    size_t n = fmt_u(b, v);
    if (width > n) out_pad(o, width - n);
    out_mem(o, b, n);
}

/* s left-aligned in `width` columns. */
static void out_sl(out_t *o, const char *s, size_t width)
{
    size_t n = strlen(s);
    out_mem(o, s, n);
    if (width > n) out_pad(o, width - n);
}

/* s right-aligned in `width` columns. */
static void out_sr(out_t *o, const char *s, size_t width)
{
    size_t n = strlen(s);
    if (width > n) out_pad(o, width - n);
    out_mem(o, s, n);
}

/* "12.3 MiB" style, in a buffer of at least 16 bytes. */
static const char *human(char *b, uint64_t v)
{
    static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    unsigned u = 0;
    uint64_t tenths = v * 10;
    if (v >= ((uint64_t)1 << 60)) return "huge";
    while (tenths >= 10240 && u < 4) {
        tenths /= 1024;
        u++;
    }
    size_t n = fmt_u(b, tenths / 10);
    if (u) {
        b[n++] = '.';
        b[n++] = (char)('0' + tenths % 10);
    }
    b[n++] = ' ';
    strcpy(b + n, unit[u]);
    return b;
}

/* num/den as "12.3%" right-aligned in 6 columns. */
static void out_pct(out_t *o, uint64_t num, uint64_t den)
{
    char b[24];
    if (den == 0) {
        out_sr(o, "-", 6);
        return;
    }
    uint64_t t = num > UINT64_MAX / 1000 ? num / (den / 1000 ? den / 1000 : 1) : num * 1000 / den;
    size_t n = fmt_u(b, t / 10);
    b[n++] = '.';
    b[n++] = (char)('0' + t % 10);
    b[n++] = '%';
    b[n] = '\0';
    out_sr(o, b, 6);
}

/* ---- JSON ---- */

#define JS_MAX_DEPTH 16

typedef struct {
    out_t *o;
    unsigned depth;
    bool first[JS_MAX_DEPTH];
} js_t;

static void js_key(js_t *j, const char *k)
{
    if (j->depth > 0) {
        out_s(j->o, j->first[j->depth] ? "\n" : ",\n");
        j->first[j->depth] = false;
        out_pad(j->o, 2 * j->depth);
    }
    if (k) {
        out_s(j->o, "\"");
        out_s(j->o, k);
        out_s(j->o, "\": ");
    }
}

static void js_open(js_t *j, const char *k, const char *brace)
{
    js_key(j, k);
    out_s(j->o, brace);
    if (j->depth + 1 < JS_MAX_DEPTH) j->depth++;
    j->first[j->depth] = true;
}

static void js_close(js_t *j, const char *brace)
{
    bool empty = j->first[j->depth];
    j->depth--;
    if (!empty) {
        out_s(j->o, "\n");
        out_pad(j->o, 2 * j->depth);
    }
    out_s(j->o, brace);
}

static void js_u(js_t *j, const char *k, uint64_t v)
{
    js_key(j, k);
    out_u(j->o, v, 0);
}

static void js_str(js_t *j, const char *k, const char *s)
{
    js_key(j, k);
    out_s(j->o, "\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char e[3] = {'\\', (char)c, 0};
            out_s(j->o, e);
        } else if (c < 0x20) {
            char e[7] = {'\\', 'u', '0', '0', "0123456789abcdef"[c >> 4], "0123456789abcdef"[c & 15], 0};
            out_s(j->o, e);
        } else {
            out_mem(j->o, s, 1);
        }
    }
    out_s(j->o, "\"");
}

static void js_bool(js_t *j, const char *k, bool b)
{
    js_key(j, k);
    out_s(j->o, b ? "true" : "false");
}

/* ---- shared pieces ---- */

typedef struct {
    bool json, general, merged, arenas, bins, large;
} sections_t;

static sections_t parse_opts(const char *opts)
{
    sections_t s = {false, true, true, true, true, true};
    for (const char *p = opts ? opts : ""; *p; p++) {
        switch (*p) {
        case 'J': s.json = true; break;
        case 'g': s.general = false; break;
        case 'm': s.merged = false; break;
        case 'a': s.arenas = false; break;
        case 'b': s.bins = false; break;
        case 'l': s.large = false; break;
        default: break; /* d, x, e and unknown letters */
        }
    }
    return s;
}

/* Writes an option's value as text into b (at least OPT_STR_MAX + 24). */
static const char *opt_text(char *b, const opt_desc_t *o)
{
    switch (o->type) {
    case OPT_BOOL: return *(const bool *)o->var ? "true" : "false";
    case OPT_UINT: fmt_u(b, *(const unsigned *)o->var); return b;
    case OPT_ENUM: return o->names[*(const unsigned *)o->var];
    default: return (const char *)o->var;
    }
}

/* Classes in decreasing order of footprint (slab bytes, then bytes held). */
static void order_classes(const ctl_class_t *k, unsigned *ord)
{
    for (unsigned i = 0; i < SC_NSMALL; i++) {
        unsigned c = i, p = i;
        for (; p > 0; p--) {
            const ctl_class_t *a = &k[ord[p - 1]], *b = &k[c];
            if (a->slab_bytes > b->slab_bytes ||
                (a->slab_bytes == b->slab_bytes && a->allocated_bytes >= b->allocated_bytes))
                break;
            ord[p] = ord[p - 1];
        }
        ord[p] = c;
    }
}

/* ---- text ---- */

static void t_line(out_t *o, const char *label, uint64_t v, const char *what)
{
    char h[32];
    out_s(o, "  ");
    out_sl(o, label, 44);
    out_u(o, v, 14);
    out_s(o, "  ");
    out_sr(o, human(h, v), 10);
    if (what && *what) {
        out_s(o, "  ");
        out_s(o, what);
    }
    out_s(o, "\n");
}

static void t_count(out_t *o, const char *label, uint64_t v)
{
    out_s(o, "  ");
    out_sl(o, label, 44);
    out_u(o, v, 14);
    out_s(o, "\n");
}

static void t_general(out_t *o)
{
    char b[OPT_STR_MAX + 24];
    size_t n;
    const opt_desc_t *t = opt_table(&n);
    out_s(o, "Version: ");
    out_s(o, SABLE_VERSION_STRING);
    out_s(o, "\nOptions:");
    for (size_t i = 0; i < n; i++) {
        out_s(o, i ? "," : " ");
        out_s(o, t[i].name);
        out_s(o, ":");
        out_s(o, opt_text(b, &t[i]));
    }
    out_s(o, "\nArenas: ");
    out_u(o, arena_count(), 0);
    out_s(o, ", page: ");
    out_u(o, os_page_size(), 0);
    out_s(o, " B, quantum: ");
    out_u(o, SC_QUANTUM, 0);
    out_s(o, " B, small classes: ");
    out_u(o, SC_NSMALL, 0);
    out_s(o, " (16 B .. 16 KiB, in slabs), large: to 2 MiB (page runs), huge: above (own mappings)\n");
}

static void t_totals(out_t *o, const ctl_stats_t *s)
{
    out_s(o, "\nTotals (bytes; allocated <= active <= mapped):\n");
    t_line(o, "allocated", s->allocated, "blocks the program holds, at class size");
    t_line(o, "active", s->active, "runs holding blocks: allocated + caches + free space in slabs");
    t_line(o, "resident", s->resident, "sable's pages in RAM (compare with the process RSS)");
    t_line(o, "mapped", s->mapped, "address space of chunks and huge mappings");
    t_line(o, "metadata", s->metadata, "sable's own structures (mostly outside mapped)");
    t_line(o, "retained", s->retained, "mapped without memory behind it (sable unmaps instead)");
    t_line(o, "thread caches", s->tcache_bytes, "free blocks held by threads (part of active)");
}

static void t_breakdown(out_t *o, const ctl_stats_t *s)
{
    ctl_frag_t f;
    ctl_frag_read(s, &f);
    uint64_t total = f.chunk_mapped + f.huge_allocated + s->huge_cached;
    out_s(o, "\nWhere the mapped bytes go (the first lines answer \"why is RSS high\"):\n");
    t_line(o, "held by the program (allocated)", f.allocated, "");
    t_line(o, "  small blocks (16 B .. 16 KiB)", f.small_allocated, "");
    t_line(o, "  large runs (to 2 MiB)", f.large_allocated, "");
    t_line(o, "  huge mappings", f.huge_allocated, "");
    t_line(o, "  of which rounding up to a class (est.)", f.rounding_estimate,
           "requests assumed evenly spread between classes");
    t_line(o, "free blocks in thread caches", f.cached, "release: thread.tcache.flush, malloc_trim");
    t_line(o, "free space in slabs holding blocks", f.partial_slab,
           "fragmentation: see the size classes below");
    t_line(o, "free memory not yet returned (dirty)", f.dirty,
           "free runs and cached huge mappings; release: arena.<i>.purge, malloc_trim");
    t_line(o, "free runs purged or never used (clean)", f.clean, "mapped, not resident");
    t_line(o, "chunk headers", f.chunk_headers, "resident only as far as used");
    t_line(o, "= mapped", total, "");
    t_line(o, "+ metadata mappings", f.meta_mapped, "thread caches, page map, huge headers");
    out_s(o, "  resident is ");
    out_pct(o, s->resident, total + f.meta_mapped);
    out_s(o, " of mapped + metadata; process RSS above resident is not sable's memory\n");
}

static void t_classes(out_t *o, const ctl_stats_t *s)
{
    ctl_class_t k[SC_NSMALL];
    unsigned ord[SC_NSMALL];
    for (unsigned c = 0; c < SC_NSMALL; c++) ctl_class_read(s, CTL_ARENAS_ALL, c, &k[c]);
    order_classes(k, ord);
    out_s(o, "\nSmall size classes, largest footprint first (bytes; classes never used left out):\n");
    out_s(o, "   size   slab  slabs nonfull   in use     allocated        cached  free in slabs"
             "  used%     requests\n");
    for (unsigned i = 0; i < SC_NSMALL; i++) {
        const ctl_class_t *c = &k[ord[i]];
        if (c->curslabs == 0 && c->nrequests == 0 && c->nmalloc == 0) continue;
        out_u(o, c->size, 7);
        out_u(o, c->slab_size, 7);
        out_u(o, c->curslabs, 7);
        out_u(o, c->nonfull_slabs, 8);
        out_u(o, c->curregs, 9);
        out_u(o, c->allocated_bytes, 14);
        out_u(o, c->cached_bytes, 14);
        out_u(o, c->free_in_slabs, 15);
        out_s(o, " ");
        out_pct(o, c->used_bytes, c->slab_bytes);
        out_u(o, c->nrequests, 13);
        out_s(o, "\n");
    }
}

static void t_large(out_t *o, const ctl_stats_t *s)
{
    ctl_arena_t a;
    ctl_frag_t f;
    ctl_arena_read(s, CTL_ARENAS_ALL, &a);
    ctl_frag_read(s, &f);
    out_s(o, "\nLarge and huge:\n");
    t_line(o, "large runs held by the program", f.large_allocated, "");
    t_line(o, "large runs incl. thread caches", a.large_allocated, "");
    t_count(o, "large runs allocated, ever (count)", a.nlarge_malloc);
    t_count(o, "large runs freed, ever (count)", a.nlarge_dalloc);
    t_count(o, "huge mappings (count)", s->huge_count);
    t_line(o, "huge mappings (bytes)", s->huge_allocated, "");
    bool head = false;
    for (unsigned c = SC_NSMALL; c < SC_NCACHED; c++) {
        size_t held = ctl_class_allocated(s, c);
        if (held == 0) continue;
        if (!head) out_s(o, "  cached large classes held by the program:     size         bytes\n");
        head = true;
        out_pad(o, 46);
        out_u(o, sc_size(c), 7);
        out_u(o, held, 14);
        out_s(o, "\n");
    }
}

static void t_arenas(out_t *o, const ctl_stats_t *s, bool bins)
{
    for (unsigned i = 0; i < s->narenas; i++) {
        ctl_arena_t a;
        ctl_arena_read(s, i, &a);
        if (a.mapped == 0 && a.nthreads == 0 && a.nrequests == 0) continue;
        out_s(o, "\nArena ");
        out_u(o, i, 0);
        out_s(o, ": threads ");
        out_u(o, a.nthreads, 0);
        out_s(o, ", mapped ");
        out_u(o, a.mapped, 0);
        out_s(o, ", resident ");
        out_u(o, a.resident, 0);
        out_s(o, ", active pages ");
        out_u(o, a.pactive, 0);
        out_s(o, ", dirty pages ");
        out_u(o, a.pdirty, 0);
        out_s(o, ", caches ");
        out_u(o, a.tcache_bytes, 0);
        out_s(o, " B, purged ");
        out_u(o, a.purged, 0);
        out_s(o, " B in ");
        out_u(o, a.npurge, 0);
        out_s(o, " passes (");
        out_u(o, a.nmadvise, 0);
        out_s(o, " madvise), requests ");
        out_u(o, a.nrequests, 0);
        out_s(o, "\n");
        if (!bins) continue;
        bool head = false;
        for (unsigned c = 0; c < SC_NSMALL; c++) {
            ctl_class_t k;
            ctl_class_read(s, i, c, &k);
            if (k.nmalloc == 0 && k.curslabs == 0 && k.nrequests == 0) continue;
            if (!head)
                out_s(o, "   size       nmalloc       ndalloc     nrequests    curregs curslabs"
                         " nonfull     nfills   nflushes\n");
            head = true;
            out_u(o, k.size, 7);
            out_u(o, k.nmalloc, 14);
            out_u(o, k.ndalloc, 14);
            out_u(o, k.nrequests, 14);
            out_u(o, k.curregs, 11);
            out_u(o, k.curslabs, 9);
            out_u(o, k.nonfull_slabs, 8);
            out_u(o, k.nfills, 11);
            out_u(o, k.nflushes, 11);
            out_s(o, "\n");
        }
    }
}

static void print_text(out_t *o, const ctl_stats_t *s, sections_t sec)
{
    out_s(o, "___ Begin sable statistics ___\n");
    if (sec.general) t_general(o);
    t_totals(o, s);
    if (sec.merged) {
        t_breakdown(o, s);
        if (sec.bins) t_classes(o, s);
        if (sec.large) t_large(o, s);
    }
    if (sec.arenas) t_arenas(o, s, sec.bins);
    out_s(o, "--- End sable statistics ---\n");
}

/* ---- JSON ---- */

static void j_class(js_t *j, const ctl_class_t *k, bool merged)
{
    js_open(j, NULL, "{");
    js_u(j, "size", k->size);
    js_u(j, "nmalloc", k->nmalloc);
    js_u(j, "ndalloc", k->ndalloc);
    js_u(j, "nrequests", k->nrequests);
    js_u(j, "nfills", k->nfills);
    js_u(j, "nflushes", k->nflushes);
    js_u(j, "curregs", k->curregs);
    js_u(j, "curslabs", k->curslabs);
    js_u(j, "nonfull_slabs", k->nonfull_slabs);
    if (merged) {
        js_u(j, "allocated_bytes", k->allocated_bytes);
        js_u(j, "cached_bytes", k->cached_bytes);
        js_u(j, "slab_bytes", k->slab_bytes);
        js_u(j, "free_in_slabs_bytes", k->free_in_slabs);
        js_u(j, "rounding_bytes_estimate", k->rounding_estimate);
    }
    js_close(j, "}");
}

static void j_arena(js_t *j, const ctl_stats_t *s, unsigned i, const char *key, bool bins)
{
    ctl_arena_t a;
    ctl_arena_read(s, i, &a);
    js_open(j, key, "{");
    js_u(j, "nthreads", a.nthreads);
    js_u(j, "pactive", a.pactive);
    js_u(j, "pdirty", a.pdirty);
    js_u(j, "mapped", a.mapped);
    js_u(j, "resident", a.resident);
    js_u(j, "metadata", a.metadata);
    js_u(j, "tcache_bytes", a.tcache_bytes);
    js_u(j, "purged", a.purged);
    js_u(j, "npurge", a.npurge);
    js_u(j, "nmadvise", a.nmadvise);
    js_open(j, "small", "{");
    js_u(j, "allocated", a.small_allocated);
    js_u(j, "nrequests", a.nrequests);
    js_close(j, "}");
    js_open(j, "large", "{");
    js_u(j, "allocated", a.large_allocated);
    js_u(j, "nmalloc", a.nlarge_malloc);
    js_u(j, "ndalloc", a.nlarge_dalloc);
    js_close(j, "}");
    if (bins) {
        js_open(j, "bins", "[");
        for (unsigned c = 0; c < SC_NSMALL; c++) {
            ctl_class_t k;
            ctl_class_read(s, i, c, &k);
            j_class(j, &k, false);
        }
        js_close(j, "]");
    }
    js_close(j, "}");
}

static void print_json(out_t *o, const ctl_stats_t *s, sections_t sec)
{
    js_t jj = {.o = o, .depth = 0};
    js_t *j = &jj;
    char b[OPT_STR_MAX + 24];
    js_open(j, NULL, "{");
    js_open(j, "sable", "{");
    js_str(j, "version", SABLE_VERSION_STRING);
    if (sec.general) {
        size_t n;
        const opt_desc_t *t = opt_table(&n);
        js_open(j, "opt", "{");
        for (size_t i = 0; i < n; i++) {
            if (t[i].type == OPT_BOOL)
                js_bool(j, t[i].name, *(const bool *)t[i].var);
            else if (t[i].type == OPT_UINT)
                js_u(j, t[i].name, *(const unsigned *)t[i].var);
            else
                js_str(j, t[i].name, opt_text(b, &t[i]));
        }
        js_close(j, "}");
        js_open(j, "arenas", "{");
        js_u(j, "narenas", arena_count());
        js_u(j, "page", os_page_size());
        js_u(j, "quantum", SC_QUANTUM);
        js_u(j, "nbins", SC_NSMALL);
        js_open(j, "bin", "[");
        for (unsigned c = 0; c < SC_NSMALL; c++) {
            js_open(j, NULL, "{");
            js_u(j, "size", sc_size(c));
            js_u(j, "nregs", sc_nregs(c));
            js_u(j, "slab_size", (uint64_t)sc_slab_units(c) << SC_UNIT_SHIFT);
            js_close(j, "}");
        }
        js_close(j, "]");
        js_close(j, "}");
    }
    js_open(j, "stats", "{");
    js_u(j, "epoch", s->epoch);
    js_u(j, "allocated", s->allocated);
    js_u(j, "active", s->active);
    js_u(j, "resident", s->resident);
    js_u(j, "mapped", s->mapped);
    js_u(j, "retained", s->retained);
    js_u(j, "metadata", s->metadata);
    js_u(j, "tcache_bytes", s->tcache_bytes);
    js_open(j, "huge", "{");
    js_u(j, "allocated", s->huge_allocated);
    js_u(j, "nmaps", s->huge_count);
    js_close(j, "}");
    js_open(j, "hugepages", "{");
    js_u(j, "mapped", ctl_hugepages_mapped());
    js_u(j, "fallbacks", ctl_hugepages_fallbacks());
    js_close(j, "}");
    js_open(j, "errors", "{");
    js_u(j, "invalid_free", 0);
    js_u(j, "double_free", 0);
    js_close(j, "}");
    if (sec.merged) {
        ctl_frag_t f;
        ctl_frag_read(s, &f);
        js_open(j, "frag", "{");
        js_u(j, "small_allocated", f.small_allocated);
        js_u(j, "large_allocated", f.large_allocated);
        js_u(j, "huge_allocated", f.huge_allocated);
        js_u(j, "rounding_bytes_estimate", f.rounding_estimate);
        js_u(j, "partial_slab_bytes", f.partial_slab);
        js_u(j, "cached_bytes", f.cached);
        js_u(j, "dirty_bytes", f.dirty);
        js_u(j, "clean_bytes", f.clean);
        js_u(j, "chunk_header_bytes", f.chunk_headers);
        js_u(j, "metadata_mapped_bytes", f.meta_mapped);
        js_close(j, "}");
        if (sec.bins) {
            js_open(j, "bins", "[");
            for (unsigned c = 0; c < SC_NSMALL; c++) {
                ctl_class_t k;
                ctl_class_read(s, CTL_ARENAS_ALL, c, &k);
                j_class(j, &k, true);
            }
            js_close(j, "]");
        }
    }
    js_open(j, "arenas", "{");
    if (sec.merged) j_arena(j, s, CTL_ARENAS_ALL, "merged", false);
    if (sec.arenas) {
        for (unsigned i = 0; i < s->narenas; i++) {
            char key[16];
            fmt_u(key, i);
            j_arena(j, s, i, key, sec.bins);
        }
    }
    js_close(j, "}");
    js_close(j, "}");
    js_close(j, "}");
    js_close(j, "}");
    out_s(o, "\n");
}

void sable_malloc_stats_print(void (*write_cb)(void *, const char *), void *cbopaque,
                              const char *opts)
{
    out_t o;
    o.cb = write_cb;
    o.opaque = cbopaque;
    o.n = 0;
    sections_t sec = parse_opts(opts);
    const ctl_stats_t *s = ctl_begin(true);
    if (s == NULL) {
        out_s(&o, "sable: statistics unavailable (initialisation failed)\n");
        out_flush(&o);
        return;
    }
    if (sec.json)
        print_json(&o, s, sec);
    else
        print_text(&o, s, sec);
    out_flush(&o);
    ctl_end();
}

/* ---- stats_print:true ---- */

static atomic_int print_registered;

static void print_at_exit(void) { sable_malloc_stats_print(NULL, NULL, opt_stats_print_opts); }

void ctl_stats_print_init(void)
{
    if (!process_init() || !opt_stats_print) return;
    if (atomic_exchange(&print_registered, 1)) return;
    /* atexit handlers run in the thread that calls exit(), whichever it is,
     * after the program's own handlers registered later than this one. */
    atexit(print_at_exit);
}

/* Also registered from the core, for programs that use the prefixed API
 * only (the preload constructor calls ctl_stats_print_init as well). */
__attribute__((constructor)) static void stats_print_ctor(void) { ctl_stats_print_init(); }
