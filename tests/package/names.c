/* package-names: prints every SABLE_CONF option (the option table) and
 * every mallctl name (the control tree), one per line, for
 * tests/package/man.sh to look up in the rendered sable(3).
 *
 * The tree is walked here on its own, through tree.h's child accessors
 * only, and not through tools/doctree.c, the walk that writes the page: a
 * name that the page's walk missed is still listed here. */
#include <stdio.h>

#include "ctl/tree.h"
#include "options/options.h"

static void list(const ctl_node_t *n, const char *prefix, ctl_ctx_t *x)
{
    char name[256];
    snprintf(name, sizeof name, "%s%s%s", prefix, *prefix && *n->name ? "." : "", n->name);
    if (n->kind == CTL_VALUE || n->kind == CTL_ACTION) {
        puts(name);
        return;
    }
    for (size_t k = 0; k < ctl_nkids(n); k++) list(ctl_kid(n, k, x), name, x);
}

int main(void)
{
    size_t n;
    const opt_desc_t *t = opt_table(&n);
    for (size_t i = 0; i < n; i++) puts(t[i].name);
    ctl_ctx_t x = {0};
    list(&ctl_tree_root, "", &x);
    return ferror(stdout) != 0;
}
