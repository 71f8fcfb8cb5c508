/* src/ctl/mallctl.c — the public entry points sable_mallctl,
 * sable_mallctlnametomib and sable_mallctlbymib.
 *
 * Owns: nothing but the calling convention. Names and MIBs are resolved in
 * the control tree (src/ctl/tree.c, names in src/ctl/names.c).
 *
 * Read/write conventions are jemalloc's: a read copies the value if oldp and
 * oldlenp are non-NULL, and fails with EINVAL (copying what fits) when
 * *oldlenp is not the value's size; a write needs newlen equal to the size;
 * writing a read-only name is EPERM; actions that take no value give EPERM
 * when passed any; an unknown name, an index out of range or an inner node
 * is ENOENT; EAGAIN when sable could not initialise. Statistics come from
 * the snapshot that writing "epoch" refreshes (the first read takes one if
 * there is none).
 *
 * Invariants: a name resolves to the same node and MIB every time; a read
 * copies exactly the value's size or fails.
 * Locking: a value is read or written under the control lock
 * (src/ctl/lock.h); nametomib resolves without it. Nothing here allocates.
 * The order of checks (initialisation and snapshot, then the name) decides
 * which error a call gets when several apply.
 */
#include <errno.h>

#include "ctl/lock.h"
#include "ctl/tree.h"
#include "process/process.h"
#include "sable.h"

int sable_mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen)
{
    if (!process_init()) return EAGAIN;
    ctl_ctx_t x = {.nidx = 0};
    size_t mib[CTL_MAX_DEPTH], depth;
    const ctl_node_t *n;
    if (ctl_begin(false) == NULL) return EAGAIN;
    int err = ctl_lookup_name(name, mib, CTL_MAX_DEPTH, &depth, &n, &x);
    if (err == 0) err = ctl_invoke(n, &x, oldp, oldlenp, newp, newlen);
    ctl_end();
    return err;
}

int sable_mallctlnametomib(const char *name, size_t *mibp, size_t *miblenp)
{
    if (mibp == NULL || miblenp == NULL) return EINVAL;
    if (!process_init()) return EAGAIN;
    ctl_ctx_t x = {.nidx = 0};
    const ctl_node_t *n;
    size_t depth;
    int err = ctl_lookup_name(name, mibp, *miblenp, &depth, &n, &x);
    if (err == 0) *miblenp = depth;
    return err;
}

int sable_mallctlbymib(const size_t *mib, size_t miblen, void *oldp, size_t *oldlenp, void *newp,
                       size_t newlen)
{
    if (mib == NULL && miblen != 0) return EINVAL;
    if (!process_init()) return EAGAIN;
    ctl_ctx_t x = {.nidx = 0};
    const ctl_node_t *n;
    int err = ctl_lookup_mib(mib, miblen, &n, &x);
    if (err) return err;
    if (ctl_begin(false) == NULL) return EAGAIN;
    err = ctl_invoke(n, &x, oldp, oldlenp, newp, newlen);
    ctl_end();
    return err;
}
