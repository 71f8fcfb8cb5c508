/* src/ctl/tree.c — resolving names and MIBs in the control tree, and
 * jemalloc's read/write conventions on the node found.
 *
 * Owns: the generic machinery only; what the names are is src/ctl/names.c.
 * Invariants and locking: see src/ctl/tree.h (no lock taken here; no
 * allocation: components are compared in place).
 */
#include "ctl/tree.h"

#include <errno.h>
#include <string.h>
#include <sys/types.h>

#include "ctl/stats.h"

size_t ctl_nkids(const ctl_node_t *n)
{
    if (n->kind != CTL_GROUP && n->kind != CTL_INDEX) return 0;
    return n->rows ? n->rows->count() : n->nkids;
}

const ctl_node_t *ctl_kid(const ctl_node_t *n, size_t k, ctl_ctx_t *x)
{
    if (k >= ctl_nkids(n)) return NULL;
    if (n->rows == NULL) return &n->kids[k];
    n->rows->row(k, &x->row);
    return &x->row;
}

const ctl_node_t *ctl_index_of(const ctl_node_t *n)
{
    if (n->kind != CTL_GROUP || n->rows || n->nkids != 1) return NULL;
    return n->kids[0].kind == CTL_INDEX ? &n->kids[0] : NULL;
}

/* A decimal component of at most 9 digits. */
static bool parse_index(const char *comp, size_t len, size_t *out)
{
    if (len == 0 || len > 9) return false;
    size_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (comp[i] < '0' || comp[i] > '9') return false;
        v = v * 10 + (size_t)(comp[i] - '0');
    }
    *out = v;
    return true;
}

/* One step down from n: by name (comp, len) or, with comp NULL, by the
 * number *m. Fills *m, records indices in x, returns the child or NULL. */
static const ctl_node_t *step(const ctl_node_t *n, const char *comp, size_t len, size_t *m,
                              ctl_ctx_t *x)
{
    const ctl_node_t *ix = ctl_index_of(n);
    if (ix) {
        if (comp && !parse_index(comp, len, m)) return NULL;
        if (!ix->index->valid(*m) || x->nidx == CTL_MAX_IDX) return NULL;
        x->idx[x->nidx++] = *m;
        return ix;
    }
    size_t nk = ctl_nkids(n);
    if (comp) {
        for (*m = 0; *m < nk; (*m)++) {
            const char *k = ctl_kid(n, *m, x)->name;
            if (strlen(k) == len && memcmp(k, comp, len) == 0) break;
        }
    }
    return ctl_kid(n, *m, x);
}

int ctl_lookup_name(const char *name, size_t *mib, size_t cap, size_t *depth,
                    const ctl_node_t **out, ctl_ctx_t *x)
{
    if (name == NULL) return ENOENT;
    const ctl_node_t *n = &ctl_tree_root;
    size_t d = 0;
    const char *p = name;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        if (d == cap) break; /* nametomib with a short buffer: a prefix */
        size_t m = 0;
        n = step(n, p, len, &m, x);
        if (n == NULL) return ENOENT;
        mib[d++] = m;
        if (dot == NULL) break;
        p = dot + 1;
    }
    *depth = d;
    *out = n;
    return 0;
}

int ctl_lookup_mib(const size_t *mib, size_t miblen, const ctl_node_t **out, ctl_ctx_t *x)
{
    const ctl_node_t *n = &ctl_tree_root;
    for (size_t d = 0; d < miblen; d++) {
        size_t m = mib[d];
        n = step(n, NULL, 0, &m, x);
        if (n == NULL) return ENOENT;
    }
    *out = n;
    return 0;
}

/* ---- values ---- */

static const struct {
    const char *name;
    size_t size;
} types[] = {
    [CTL_T_NONE] = {"", 0},
    [CTL_T_BOOL] = {"bool", sizeof(bool)},
    [CTL_T_UNSIGNED] = {"unsigned", sizeof(unsigned)},
    [CTL_T_U32] = {"uint32_t", sizeof(uint32_t)},
    [CTL_T_SIZE] = {"size_t", sizeof(size_t)},
    [CTL_T_U64] = {"uint64_t", sizeof(uint64_t)},
    [CTL_T_STR] = {"const char *", sizeof(const char *)},
    [CTL_T_SSIZE] = {"ssize_t", sizeof(ssize_t)},
    [CTL_T_I64] = {"int64_t", sizeof(int64_t)},
    [CTL_T_PTR] = {"uint64_t *", sizeof(uint64_t *)},
};

const char *ctl_type_name(unsigned type) { return types[type].name; }
size_t ctl_type_size(unsigned type) { return types[type].size; }

/* Copies a value out, jemalloc's READ: on a size mismatch copy what fits and
 * fail with EINVAL. */
static int copy_out(void *oldp, size_t *oldlenp, const void *v, size_t size)
{
    if (oldp == NULL || oldlenp == NULL) return 0;
    if (*oldlenp != size) {
        size_t n = *oldlenp < size ? *oldlenp : size;
        memcpy(oldp, v, n);
        *oldlenp = n;
        return EINVAL;
    }
    memcpy(oldp, v, size);
    return 0;
}

/* Narrows v to the C type of `type` and copies it out. */
static int read_typed(void *oldp, size_t *oldlenp, unsigned type, const ctl_val_t *v)
{
    union {
        bool b;
        unsigned u;
        uint32_t u32;
        size_t z;
        uint64_t q;
        const char *s;
        ssize_t ss;
        int64_t i;
        const void *p;
    } out;
    switch (type) {
    case CTL_T_BOOL: out.b = v->n != 0; break;
    case CTL_T_UNSIGNED: out.u = (unsigned)v->n; break;
    case CTL_T_U32: out.u32 = (uint32_t)v->n; break;
    case CTL_T_SIZE: out.z = (size_t)v->n; break;
    case CTL_T_U64: out.q = v->n; break;
    case CTL_T_STR: out.s = v->s; break;
    case CTL_T_SSIZE: out.ss = (ssize_t)(int64_t)v->n; break;
    case CTL_T_I64: out.i = (int64_t)v->n; break;
    case CTL_T_PTR: out.p = v->p; break;
    default: return EINVAL;
    }
    return copy_out(oldp, oldlenp, &out, ctl_type_size(type));
}

int ctl_need_stats(ctl_ctx_t *x)
{
    if (x->s == NULL) x->s = ctl_stats_current();
    return x->s ? 0 : EAGAIN;
}

int ctl_new_value(const void *newp, size_t newlen, void *out, size_t size)
{
    if (newp == NULL || newlen != size) return EINVAL;
    memcpy(out, newp, size);
    return 0;
}

/* A write to a read-only value, or any value passed to an action, is EPERM
 * (jemalloc's READONLY and NEITHER_READ_NOR_WRITE). A write goes first, then
 * the read of the value after it. */
int ctl_invoke(const ctl_node_t *n, ctl_ctx_t *x, void *oldp, size_t *oldlenp, void *newp,
               size_t newlen)
{
    bool writes = newp != NULL || newlen != 0;
    if (n->kind == CTL_ACTION) {
        if (writes || oldp || oldlenp) return EPERM;
        return n->act(x, n->arg);
    }
    if (n->kind != CTL_VALUE) return ENOENT;
    if (writes && n->set == NULL) return EPERM;
    if (n->flags & CTL_WRONLY) {
        if (oldp || oldlenp) return EPERM;
        return n->set(x, newp, newlen);
    }
    ctl_val_t v = {0, NULL, NULL};
    if (writes && (n->flags & CTL_OLD)) {
        int err = n->get(x, n->arg, &v);
        if (err == 0) err = read_typed(oldp, oldlenp, n->type, &v);
        return err ? err : n->set(x, newp, newlen);
    }
    if (writes) {
        int err = n->set(x, newp, newlen);
        if (err) return err;
    }
    int err = n->get(x, n->arg, &v);
    return err ? err : read_typed(oldp, oldlenp, n->type, &v);
}
