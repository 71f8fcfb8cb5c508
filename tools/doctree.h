/* tools/doctree.h — the control tree as the documentation generators walk
 * it: docs/mallctl.md's name tables (tests/ctl/mallctl_doc.c) and sable(3)
 * (tools/sable_man.c) see the same sections, names and rows, in row order.
 *
 * A node with a doc string opens a section, whose heading the walk asks for
 * before its first row; a row that follows a subsection, once that one has
 * closed, belongs to the outer section again, which the walk announces as a
 * continued heading. Every value and action is one row, named by its dotted
 * path ("stats.arenas.<i>.pactive"); opt.*'s rows are those of the option
 * table.
 *
 * Invariants: path holds the current node's dotted name; sect is the length
 * of the current section's name within it (0 at the top level).
 * Locking: none. The walk only reads static data, in a tool program, never
 * inside the allocator: the generators use stdio and the C library's malloc.
 */
#ifndef SABLE_TOOLS_DOCTREE_H
#define SABLE_TOOLS_DOCTREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "ctl/tree.h"
#include "options/options.h"

typedef struct doctree doctree_t;

typedef struct {
    /* A section opens (continued: it resumes after a subsection). */
    void (*heading)(doctree_t *w, bool continued);
    /* A value or action, named w->path. */
    void (*row)(doctree_t *w, const ctl_node_t *n);
} doctree_ops_t;

struct doctree {
    const doctree_ops_t *ops;
    FILE *f;                     /* where the callbacks write */
    ctl_ctx_t x;
    char path[128];
    size_t len;
    size_t sect;                 /* path length of the current section's node */
    const ctl_node_t *sect_node; /* the current section's node */
    bool open;                   /* the current section's heading is written */
};

/* Walks the whole tree from its root, calling ops with w->f = f. */
void doctree_walk(doctree_t *w, const doctree_ops_t *ops, FILE *f);

/* Writes the current section's title: "Top-level names", or its name
 * ("stats.*") between code_open and code_close; then " (continued)". */
void doctree_title(const doctree_t *w, bool continued, const char *code_open,
                   const char *code_close);

/* The paragraph under a section's first heading: its doc string, or NULL
 * (continued headings and the top level have none). */
const char *doctree_paragraph(const doctree_t *w, bool continued);

/* True when no variable that sets options is set (unset, empty or "0"):
 * the option table then holds the defaults that the generators print.
 * Otherwise prints which variable, naming tool, and returns false. The
 * core's constructor has read them by the time main runs. */
bool doctree_defaults_in_force(const char *tool);

/* The option table's row behind an opt.* row of the current section, or
 * NULL for any other row. */
const opt_desc_t *doctree_option(const doctree_t *w, const ctl_node_t *n);

#endif
