/* src/ctl/tree.h — the shape of the control tree: nodes, value types, and
 * how a dotted name or a MIB is resolved to a node.
 *
 * The tree is the one data model of the control layer. Every name that
 * sable_mallctl answers is one node row (src/ctl/names.c) carrying its type,
 * whether it can be written, its doc string, and the stats_print sections it
 * belongs to. sable_mallctl resolves names through it; stats printing
 * (src/ctl/stats_print.c) and the generator of docs/mallctl.md walk it. No
 * other file lists names.
 *
 * Nodes:
 *   group   named children (kids), or children that are the rows of another
 *           table (rows: opt.* is the option table);
 *   index   the only child of its parent: the component is a number that
 *           index->valid accepts ("stats.arenas.<i>"), recorded in the
 *           context; its kids follow the number;
 *   value   a leaf with a getter and a type; a setter makes it writable;
 *   action  a leaf that runs something and takes no value (type NONE).
 * A MIB component is the child's position among its siblings, the row for
 * rows, or the number itself for an index.
 *
 * Invariants: the tree is static const data and never changes; a name has at
 * most CTL_MAX_DEPTH components and CTL_MAX_IDX indices; getters only read.
 * Nothing here allocates: names are parsed in place, values built on the
 * stack, and a row node is built in the caller's context.
 *
 * Locking: resolution takes no lock. Getters and setters that read the
 * snapshot run under the control lock (src/ctl/lock.h), taken by the caller.
 */
#ifndef SABLE_CTL_TREE_H
#define SABLE_CTL_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The snapshot (src/ctl/stats.h); only pointed to here, so that tools that
 * walk the tree need not see the allocator's headers. */
typedef struct ctl_stats ctl_stats_t;

#define CTL_MAX_DEPTH 8 /* components of the longest name */
#define CTL_MAX_IDX 2   /* indices in one name (arena and bin) */

/* A value's type; its C type is what a mallctl read copies out. */
typedef enum {
    CTL_T_NONE, /* actions */
    CTL_T_BOOL,
    CTL_T_UNSIGNED,
    CTL_T_U32,
    CTL_T_SIZE,
    CTL_T_U64,
    CTL_T_STR, /* const char * */
    CTL_T_SSIZE,
    CTL_T_I64,
    CTL_T_PTR, /* uint64_t * (thread.allocatedp) */
} ctl_type_t;

typedef enum { CTL_GROUP, CTL_INDEX, CTL_VALUE, CTL_ACTION } ctl_kind_t;

/* Flags of a node, read by the printers. */
enum {
    CTL_BYTES = 1,   /* a count of bytes: text adds a "12.3 MiB" column */
    CTL_CONST = 2,   /* fixed for the process (geometry, options): not a statistic */
    CTL_SORT = 4,    /* text tables order their rows by this column, largest first */
    CTL_NOPRINT = 8, /* not part of the statistics printout (the calling thread's) */
    CTL_OLD = 16,    /* a write returns the value before it (jemalloc's rw names) */
    CTL_WRONLY = 32, /* written only (jemalloc's -w names): a read is EPERM */
};

/* stats_print sections, left out by opts letters (a node is left out when
 * any of its sections is). */
enum {
    CTL_S_GENERAL = 1, /* g: options and geometry */
    CTL_S_MERGED = 2,  /* m: figures merged over arenas */
    CTL_S_ARENAS = 4,  /* a: per-arena figures */
    CTL_S_BINS = 8,    /* b: size-class tables */
    CTL_S_LARGE = 16,  /* l: large and huge objects */
};

typedef struct ctl_val {
    uint64_t n;    /* signed types: two's complement */
    const char *s; /* CTL_T_STR */
    const void *p; /* CTL_T_PTR */
} ctl_val_t;

typedef struct ctl_ctx ctl_ctx_t;
typedef struct ctl_node ctl_node_t;
typedef int ctl_get_t(ctl_ctx_t *x, size_t arg, ctl_val_t *v);
typedef int ctl_set_t(ctl_ctx_t *x, const void *newp, size_t newlen);
typedef int ctl_act_t(ctl_ctx_t *x, size_t arg);

/* One entry of an index as the printers walk it. */
typedef struct ctl_entry {
    size_t index;      /* the number a name would carry */
    const char *key;   /* JSON key and text heading component */
    unsigned sections; /* stats_print sections of this entry */
    uint64_t label;    /* row label (ctl_index_t.label), if any */
    char buf[24];      /* storage for key */
} ctl_entry_t;

typedef struct ctl_index {
    bool (*valid)(size_t i);    /* numbers a name may carry */
    unsigned (*count)(void);    /* entries the printers walk ... */
    void (*entry)(unsigned k, ctl_entry_t *e); /* ... and the k-th of them */
    bool keyed;                 /* JSON: an object keyed by entry key (else an array) */
    const char *label;          /* a label column of tables ("size"), or NULL */
    const char *label_doc;
} ctl_index_t;

/* Children that are the rows of another table. */
typedef struct ctl_rows {
    size_t (*count)(void);
    void (*row)(size_t k, ctl_node_t *out);
} ctl_rows_t;

struct ctl_node {
    const char *name; /* component; an index node's is a placeholder ("<i>") */
    const char *doc;  /* Markdown; backquotes are dropped in text output */
    unsigned char kind, type, flags, sections;
    unsigned nkids;
    const ctl_node_t *kids;
    const ctl_rows_t *rows;   /* groups */
    const ctl_index_t *index; /* index nodes */
    ctl_get_t *get;           /* values, called with arg */
    ctl_set_t *set;           /* writable values */
    ctl_act_t *act;           /* actions, called with arg */
    size_t arg;
};

/* What resolution and getters share: the indices met on the path, the
 * snapshot once a getter loaded it, and room for a row node. */
struct ctl_ctx {
    size_t idx[CTL_MAX_IDX];
    unsigned nidx;
    const ctl_stats_t *s;
    ctl_node_t row;
    bool has_result; /* a setter's answer for the read after it (arenas.lookup) */
    uint64_t result;
};

/* The root (src/ctl/names.c). */
extern const ctl_node_t ctl_tree_root;

/* Children of a group: how many, and the k-th (a row is built in x). */
size_t ctl_nkids(const ctl_node_t *n);
const ctl_node_t *ctl_kid(const ctl_node_t *n, size_t k, ctl_ctx_t *x);
/* The index node under n, or NULL if n's children are named. */
const ctl_node_t *ctl_index_of(const ctl_node_t *n);

/* Resolution: a dotted name, filling mib with up to cap components (a
 * shorter cap resolves a prefix), or a MIB. 0 or ENOENT. */
int ctl_lookup_name(const char *name, size_t *mib, size_t cap, size_t *depth,
                    const ctl_node_t **out, ctl_ctx_t *x);
int ctl_lookup_mib(const size_t *mib, size_t miblen, const ctl_node_t **out, ctl_ctx_t *x);

/* jemalloc's read/write conventions on a resolved node (see mallctl.c). */
int ctl_invoke(const ctl_node_t *n, ctl_ctx_t *x, void *oldp, size_t *oldlenp, void *newp,
               size_t newlen);

/* For getters and setters: the snapshot (EAGAIN if none can be taken), and
 * the new value of a write of exactly `size` bytes (EINVAL otherwise).
 * Values: read first and copied out when the node has CTL_OLD (then
 * written), else written first and read after (epoch). */
int ctl_need_stats(ctl_ctx_t *x);
int ctl_new_value(const void *newp, size_t newlen, void *out, size_t size);

/* For the docs generator: a type's C name and size. */
const char *ctl_type_name(unsigned type);
size_t ctl_type_size(unsigned type);

#endif
