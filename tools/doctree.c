/* tools/doctree.c — the walk of the control tree for the documentation
 * generators (see doctree.h). */
#include "doctree.h"

#include <stdlib.h>
#include <string.h>

static size_t push(doctree_t *w, const char *comp)
{
    size_t old = w->len;
    w->len += (size_t)snprintf(w->path + w->len, sizeof w->path - w->len, "%s%s",
                               old ? "." : "", comp);
    return old;
}

static void pop(doctree_t *w, size_t old)
{
    w->len = old;
    w->path[old] = '\0';
}

static void walk(doctree_t *w, const ctl_node_t *n)
{
    if (n->kind == CTL_VALUE || n->kind == CTL_ACTION) {
        if (!w->open) {
            w->ops->heading(w, true);
            w->open = true;
        }
        w->ops->row(w, n);
        return;
    }
    size_t sect = w->sect;
    const ctl_node_t *sect_node = w->sect_node;
    if (n->doc) {
        w->sect = w->len;
        w->sect_node = n;
        w->ops->heading(w, false);
        w->open = true;
    }
    for (size_t k = 0; k < ctl_nkids(n); k++) {
        const ctl_node_t *kid = ctl_kid(n, k, &w->x);
        size_t old = push(w, kid->name);
        walk(w, kid);
        pop(w, old);
    }
    if (n->doc) {
        w->sect = sect;
        w->sect_node = sect_node;
        w->open = false;
    }
}

void doctree_walk(doctree_t *w, const doctree_ops_t *ops, FILE *f)
{
    *w = (doctree_t){.ops = ops, .f = f};
    walk(w, &ctl_tree_root);
}

void doctree_title(const doctree_t *w, bool continued, const char *code_open,
                   const char *code_close)
{
    if (w->sect_node == &ctl_tree_root)
        fputs("Top-level names", w->f);
    else
        fprintf(w->f, "%s%.*s.*%s", code_open, (int)w->sect, w->path, code_close);
    if (continued) fputs(" (continued)", w->f);
}

const char *doctree_paragraph(const doctree_t *w, bool continued)
{
    return continued || w->sect_node == &ctl_tree_root ? NULL : w->sect_node->doc;
}

const opt_desc_t *doctree_option(const doctree_t *w, const ctl_node_t *n)
{
    if (w->sect_node == NULL || w->sect_node->rows == NULL) return NULL;
    size_t count;
    const opt_desc_t *table = opt_table(&count);
    return n->arg < count ? &table[n->arg] : NULL;
}

bool doctree_defaults_in_force(const char *tool)
{
    /* meson's test runner sets MALLOC_PERTURB_, and the test setup sets it
     * to 0; GLIBC_TUNABLES counts only with one of the two names sable reads. */
    static const char *const setters[] = {"SABLE_CONF", "MALLOC_ARENA_MAX", "MALLOC_PERTURB_"};
    static const char *const tunables[] = {"glibc.malloc.arena_max", "glibc.malloc.perturb"};
    for (size_t i = 0; i < sizeof setters / sizeof setters[0]; i++) {
        const char *v = getenv(setters[i]);
        if (v && *v && strcmp(v, "0") != 0) {
            fprintf(stderr, "%s: run without %s (option defaults are read from the table)\n",
                    tool, setters[i]);
            return false;
        }
    }
    const char *t = getenv("GLIBC_TUNABLES");
    for (size_t i = 0; t && i < sizeof tunables / sizeof tunables[0]; i++) {
        if (strstr(t, tunables[i])) {
            fprintf(stderr, "%s: run without %s in GLIBC_TUNABLES (option defaults are read "
                            "from the table)\n",
                    tool, tunables[i]);
            return false;
        }
    }
    return true;
}
