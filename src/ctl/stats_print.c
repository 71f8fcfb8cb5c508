/* src/ctl/stats_print.c — sable_malloc_stats_print and stats_print:true: one
 * walk of the control tree that drives the emitter.
 *
 * Owns: the walk. It has no list of names: what is printed, under which key,
 * with which doc, in which section, is what the tree (src/ctl/names.c) says;
 * the emitter (src/ctl/emit.c) lays it out as text or, with 'J' in opts,
 * JSON. Rules of the walk:
 *   - groups nest as JSON objects; in text a group with a doc, and every
 *     index entry, starts a heading naming its dotted path, and the values
 *     of undocumented groups are listed under the nearest heading with
 *     names relative to it ("huge.allocated" under "stats");
 *   - an index whose children are numbers is a table (JSON: an array of
 *     objects); other indices list their entries (stats.arenas.0, ...,
 *     stats.arenas.merged; JSON: an object keyed like that);
 *   - text leaves out table rows and index entries whose statistics are all
 *     zero, and orders a table's rows by its CTL_SORT column; JSON has every
 *     row and entry, in index order;
 *   - docs appear once: in text, for the first entry of an index only;
 *   - opts letters leave out nodes of their section: g general (options and
 *     geometry), m merged statistics, a per-arena statistics, b size-class
 *     tables, l large objects; d, x, e name jemalloc sections sable has not
 *     got and are ignored. Actions and CTL_NOPRINT nodes are never printed.
 *
 * Invariants: nothing here allocates (the walk state, the path and one
 * table live on the stack; output goes through the emitter's buffer to the
 * caller's write callback).
 *
 * Locking: the walk reads a report (src/ctl/lock.h): a copy of a fresh
 * snapshot, so that write_cb runs with no lock held. It may block, be a
 * cancellation point, call malloc, sable_mallctl or this function again;
 * the figures printed stay those of the report's snapshot. (Other values
 * the walk reads are live: options, geometry, error counters.)
 */
/* Before any header: this file's pthread_cleanup_push registers its handler
 * with glibc (which runs it when the thread is cancelled) rather than as an
 * unwinding cleanup. The libraries are built with -fexceptions, so that C++
 * exceptions pass through operator new; an unwinding cleanup would make
 * libsable need libgcc_s's _Unwind_Resume, and depend on more than libc. */
#undef __EXCEPTIONS
#include "ctl/stats_print.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/emit.h"
#include "ctl/lock.h"
#include "ctl/tree.h"
#include "options/options.h"
#include "process/process.h"
#include "sable.h"

#define PATH_MAX_LEN 128
#define NO_COLUMN EMIT_MAX_COLS

typedef struct pr {
    emit_t e;
    ctl_ctx_t x;
    unsigned leave_out; /* CTL_S_* sections the opts letters leave out */
    bool quiet;         /* docs were shown for an earlier entry of the same index */
    bool headed;        /* text: nothing was headed since the heading of `head` */
    size_t len, head;   /* lengths of the path, and of its part the heading names */
    char path[PATH_MAX_LEN];
    emit_table_t t;
} pr_t;

static unsigned parse_opts(const char *opts, bool *json)
{
    unsigned leave = 0;
    *json = false;
    for (const char *p = opts ? opts : ""; *p; p++) {
        switch (*p) {
        case 'J': *json = true; break;
        case 'g': leave |= CTL_S_GENERAL; break;
        case 'm': leave |= CTL_S_MERGED; break;
        case 'a': leave |= CTL_S_ARENAS; break;
        case 'b': leave |= CTL_S_BINS; break;
        case 'l': leave |= CTL_S_LARGE; break;
        default: break; /* d, x, e and unknown letters */
        }
    }
    return leave;
}

/* ---- the path ---- */

static size_t push(pr_t *p, const char *comp)
{
    size_t old = p->len, n = strlen(comp);
    if (old + 1 + n >= sizeof p->path) n = 0; /* deeper than any name: keep it short */
    if (old) p->path[p->len++] = '.';
    memcpy(p->path + p->len, comp, n);
    p->len += n;
    p->path[p->len] = '\0';
    return old;
}

static void pop(pr_t *p, size_t old)
{
    p->len = old;
    p->path[old] = '\0';
}

/* The current name relative to the heading. */
static const char *label(const pr_t *p) { return p->path + (p->head ? p->head + 1 : 0); }

static void enter(pr_t *p, size_t index)
{
    if (p->x.nidx < CTL_MAX_IDX) p->x.idx[p->x.nidx] = index;
    p->x.nidx++;
}

static void leave(pr_t *p) { p->x.nidx--; }

/* ---- headings (text) ---- */

/* Starts a heading at the current path; returns the one it replaces. */
static size_t heading(pr_t *p, const char *doc)
{
    size_t outer = p->head;
    emit_heading(&p->e, p->path, p->quiet ? NULL : doc);
    p->head = p->len;
    p->headed = true;
    return outer;
}

static void end_heading(pr_t *p, size_t outer)
{
    p->head = outer;
    p->headed = false;
}

/* Before a value: repeats the current heading if a nested one came since. */
static void reheading(pr_t *p)
{
    if (p->headed) return;
    char save = p->path[p->head];
    p->path[p->head] = '\0';
    emit_heading(&p->e, p->head ? p->path : "sable", NULL);
    p->path[p->head] = save;
    p->headed = true;
}

/* ---- what is printed ---- */

static bool shown(pr_t *p, const ctl_node_t *n)
{
    if ((n->sections & p->leave_out) || (n->flags & CTL_NOPRINT)) return false;
    if (n->kind == CTL_VALUE) return true;
    for (size_t k = 0; k < ctl_nkids(n); k++)
        if (shown(p, ctl_kid(n, k, &p->x))) return true;
    return false;
}

static emit_kind_t kind_of(unsigned type)
{
    return type == CTL_T_BOOL ? EMIT_BOOL : type == CTL_T_STR ? EMIT_STR : EMIT_NUM;
}

/* The value of a leaf, 0 if it cannot be read now. */
static ctl_val_t value_of(pr_t *p, const ctl_node_t *n)
{
    ctl_val_t v = {0, NULL};
    if (n->get(&p->x, n->arg, &v) != 0) v.n = 0, v.s = NULL;
    return v;
}

/* True if the statistics among ix's values are all zero for the entry
 * entered last (constants do not count; an entry without statistics is not
 * zero). */
static bool entry_is_zero(pr_t *p, const ctl_node_t *ix)
{
    bool any = false;
    for (size_t k = 0; k < ctl_nkids(ix); k++) {
        const ctl_node_t *n = ctl_kid(ix, k, &p->x);
        if (n->kind != CTL_VALUE || (n->flags & CTL_CONST) || !shown(p, n)) continue;
        if (value_of(p, n).n != 0) return false;
        any = true;
    }
    return any;
}

/* ---- the walk ---- */

static void walk_node(pr_t *p, const ctl_node_t *n);

static void walk_kids(pr_t *p, const ctl_node_t *n)
{
    for (size_t k = 0; k < ctl_nkids(n); k++) {
        const ctl_node_t *kid = ctl_kid(n, k, &p->x);
        if (!shown(p, kid)) continue;
        size_t old = push(p, kid->name);
        walk_node(p, kid);
        pop(p, old);
    }
}

static void walk_value(pr_t *p, const ctl_node_t *n)
{
    ctl_val_t v = value_of(p, n);
    emit_val_t ev = {kind_of(n->type), (n->flags & CTL_BYTES) != 0, v.n, v.s};
    reheading(p);
    emit_value(&p->e, n->name, label(p), &ev, p->quiet ? NULL : n->doc);
}

/* An index whose children are numbers, few enough entries and columns. */
static bool is_table(pr_t *p, const ctl_node_t *ix)
{
    if (ix->index->count() > EMIT_MAX_ROWS) return false;
    unsigned ncols = ix->index->label ? 1 : 0;
    for (size_t k = 0; k < ctl_nkids(ix); k++) {
        const ctl_node_t *n = ctl_kid(ix, k, &p->x);
        if (!shown(p, n)) continue;
        if (n->kind != CTL_VALUE || n->type == CTL_T_STR) return false;
        ncols++;
    }
    return ncols <= EMIT_MAX_COLS;
}

/* Text: rows with statistics, ordered by the sort column if there is one. */
static void choose_rows(emit_table_t *t, const ctl_node_t *const *cols, unsigned sort)
{
    t->nshown = 0;
    for (unsigned r = 0; r < t->nrows; r++) {
        bool stats = false, zero = true;
        for (unsigned c = 0; c < t->ncols; c++) {
            if (cols[c] == NULL || (cols[c]->flags & CTL_CONST)) continue;
            stats = true;
            zero = zero && t->cells[r][c] == 0;
        }
        if (stats && zero) continue;
        unsigned i = t->nshown++;
        for (; sort != NO_COLUMN && i > 0 && t->cells[t->order[i - 1]][sort] < t->cells[r][sort]; i--)
            t->order[i] = t->order[i - 1];
        t->order[i] = (unsigned char)r;
    }
}

static void walk_table(pr_t *p, const ctl_node_t *n, const ctl_node_t *ix)
{
    emit_table_t *t = &p->t;
    const ctl_index_t *idx = ix->index;
    const ctl_node_t *cols[EMIT_MAX_COLS];
    unsigned sort = NO_COLUMN;
    bool stats = false;
    t->ncols = 0;
    if (idx->label) {
        cols[0] = NULL;
        t->cols[0] = idx->label;
        t->docs[0] = idx->label_doc;
        t->kinds[0] = EMIT_NUM;
        t->ncols = 1;
    }
    for (size_t k = 0; k < ctl_nkids(ix); k++) {
        const ctl_node_t *c = ctl_kid(ix, k, &p->x);
        if (!shown(p, c)) continue;
        if (c->flags & CTL_SORT) sort = t->ncols;
        stats = stats || !(c->flags & CTL_CONST);
        cols[t->ncols] = c;
        t->cols[t->ncols] = c->name;
        t->docs[t->ncols] = c->doc;
        t->kinds[t->ncols++] = kind_of(c->type);
    }
    t->nrows = 0;
    for (unsigned k = 0; k < idx->count(); k++) {
        ctl_entry_t en = {0};
        idx->entry(k, &en);
        if (en.sections & p->leave_out) continue;
        enter(p, en.index);
        for (unsigned c = 0; c < t->ncols; c++)
            t->cells[t->nrows][c] = cols[c] ? value_of(p, cols[c]).n : en.label;
        leave(p);
        t->nrows++;
    }
    choose_rows(t, cols, sort);
    char note[80];
    os_format(note, sizeof note, "%s%s%s", sort == NO_COLUMN ? "" : "largest ",
              sort == NO_COLUMN ? "" : t->cols[sort],
              sort == NO_COLUMN ? "rows of zeroes left out" : " first; rows of zeroes left out");
    size_t old = push(p, ix->name);
    t->key = n->name;
    t->heading = p->path;
    t->doc = p->quiet ? NULL : ix->doc;
    t->note = stats ? note : NULL;
    if (p->quiet)
        for (unsigned c = 0; c < t->ncols; c++) t->docs[c] = NULL;
    emit_table(&p->e, t);
    pop(p, old);
    p->headed = false;
}

static void walk_entries(pr_t *p, const ctl_node_t *n, const ctl_node_t *ix)
{
    const ctl_index_t *idx = ix->index;
    bool quiet = p->quiet;
    emit_list_begin(&p->e, n->name, idx->keyed);
    for (unsigned k = 0; k < idx->count(); k++) {
        ctl_entry_t en = {0};
        idx->entry(k, &en);
        if (en.sections & p->leave_out) continue;
        if (en.key == NULL) os_format(en.buf, sizeof en.buf, "%zu", en.index);
        const char *key = en.key ? en.key : en.buf;
        enter(p, en.index);
        if (p->e.json || !entry_is_zero(p, ix)) {
            size_t old = push(p, key);
            emit_object_begin(&p->e, idx->keyed ? key : NULL);
            size_t outer = heading(p, ix->doc);
            walk_kids(p, ix);
            end_heading(p, outer);
            emit_object_end(&p->e);
            pop(p, old);
            p->quiet = true;
        }
        leave(p);
    }
    emit_list_end(&p->e);
    p->quiet = quiet;
}

static void walk_group(pr_t *p, const ctl_node_t *n)
{
    const ctl_node_t *ix = ctl_index_of(n);
    if (ix) {
        if (is_table(p, ix))
            walk_table(p, n, ix);
        else
            walk_entries(p, n, ix);
        return;
    }
    bool root = n == &ctl_tree_root, own = n->doc != NULL && !root;
    emit_object_begin(&p->e, root ? "sable" : n->name);
    size_t outer = own ? heading(p, n->doc) : 0;
    walk_kids(p, n);
    if (own) end_heading(p, outer);
    emit_object_end(&p->e);
}

static void walk_node(pr_t *p, const ctl_node_t *n)
{
    if (n->kind == CTL_VALUE)
        walk_value(p, n);
    else if (n->kind == CTL_GROUP)
        walk_group(p, n);
}

static void print_walk(pr_t *p, const ctl_stats_t *s)
{
    p->x.nidx = 0;
    p->x.s = s;
    p->quiet = false;
    p->headed = true; /* the document's first line heads the top-level values */
    p->len = p->head = 0;
    p->path[0] = '\0';
    emit_begin(&p->e);
    walk_group(p, &ctl_tree_root);
    emit_end(&p->e);
}

void sable_malloc_stats_print(void (*write_cb)(void *, const char *), void *cbopaque,
                              const char *opts)
{
    pr_t p;
    bool json;
    p.leave_out = parse_opts(opts, &json);
    emit_init(&p.e, json, write_cb, cbopaque);
    ctl_report_t r;
    const ctl_stats_t *s = ctl_report_begin(&r);
    if (s == NULL) {
        emit_message(&p.e, "sable: statistics unavailable (initialisation failed)\n");
        return;
    }
    /* The callback runs with no lock held and the caller's cancellation
     * state: if it is cancelled, the handler gives the report back. */
    pthread_cleanup_push(ctl_report_end, &r);
    print_walk(&p, s);
    pthread_cleanup_pop(1);
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
