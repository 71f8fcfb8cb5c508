/* src/ctl/stats.c — taking a snapshot of every layer's counters, and
 * copying one for a report.
 * Invariants: a snapshot changes only on refresh, under ctl_lock, and each
 * arena's part is read under that arena's locks (resident bytes measured
 * after them, over ranges copied into the scratch, which only refreshes
 * use).
 * Locking: ctl_lock serialises refreshes; each layer takes its own locks. */
#include "ctl/stats.h"

#include <pthread.h>
#include <string.h>

#include "arena/huge.h"
#include "arena/meta.h"
#include "os/lock.h"
#include "process/process.h"
#include "process/threads.h"

static pthread_mutex_t ctl_lock = PTHREAD_MUTEX_INITIALIZER;
static ctl_stats_t shared; /* mallctl's snapshot, changed by refreshes */
static arena_stats_scratch_t scratch; /* the ranges a refresh measures */

/* Fills snapshot *out (its arenas array first, if it has none), under
 * ctl_lock, which the caller holds. */
static bool take_locked(ctl_stats_t *out)
{
    ctl_stats_t snap = *out;
    unsigned n = arena_count();
    if (snap.arenas == NULL) {
        snap.arenas = meta_alloc(ARENA_MAX * sizeof *snap.arenas);
        if (snap.arenas == NULL) return false;
    }
    snap.narenas = n;
    snap.epoch++;
    size_t small = 0, large = 0, active = 0, mapped = 0, resident = 0, meta = 0, cached = 0;
    size_t huge = 0, nhuge = 0, heap_dirty = 0, retained = 0;
    for (unsigned i = 0; i < n; i++) {
        ctl_arena_stats_t *as = &snap.arenas[i];
        arena_stats_read(i, &as->a, &scratch);
        threads_stats_sum((int)i, &as->req, &as->tcache_bytes);
        small += as->a.small_allocated;
        large += as->a.large_allocated;
        active += as->a.active;
        mapped += as->a.mapped;
        resident += as->a.resident;
        meta += as->a.metadata;
        cached += as->tcache_bytes;
        huge += as->a.huge_allocated;
        nhuge += as->a.nhuge;
        heap_dirty += as->a.heap_dirty;
        retained += as->a.heap_retained;
        resident += as->a.heap_resident;
    }
    snap.huge_allocated = huge;
    snap.huge_count = nhuge;
    /* The arenas were read one after another: their sum may exceed any
     * count the process had at once, and the peak is never shown below it. */
    huge_peaks(&snap.huge_count_peak, &snap.huge_bytes_peak);
    if (snap.huge_count_peak < nhuge) snap.huge_count_peak = nhuge;
    if (snap.huge_bytes_peak < huge) snap.huge_bytes_peak = huge;
    snap.huge_cached = heap_dirty;
    snap.tcache_bytes = cached;
    /* The caches' counts and the arenas' are read at different moments: a
     * refill in between can make cached exceed what the sum shows. */
    size_t held = small + large + huge;
    snap.allocated = held > cached ? held - cached : 0;
    snap.active = active + huge;
    snap.mapped = mapped + huge + heap_dirty;
    snap.metadata = meta + meta_mapped() + arena_table_bytes();
    /* Metadata counts as resident but for thread caches' stacks purged
     * while their threads were idle (src/process/reclaim.c). */
    size_t purged = tcache_purged_bytes(), meta_res = meta_mapped() + arena_table_bytes();
    snap.resident = resident + (purged < meta_res ? meta_res - purged : 0);
    snap.retained = retained;
    *out = snap;
    return true;
}

const ctl_stats_t *ctl_stats_refresh(void)
{
    if (!process_init()) return NULL;
    lock_take(&ctl_lock, LOCK_CTL_STATS, 0);
    bool ok = take_locked(&shared);
    lock_drop(&ctl_lock);
    return ok ? &shared : NULL;
}

bool ctl_stats_take(ctl_stats_t *out)
{
    if (!process_init() || !lock_try(&ctl_lock, LOCK_CTL_STATS, 0)) return false;
    bool ok = take_locked(out);
    lock_drop(&ctl_lock);
    return ok;
}

const ctl_stats_t *ctl_stats_current(void)
{
    return shared.epoch ? &shared : ctl_stats_refresh();
}

size_t ctl_stats_size(const ctl_stats_t *s) { return sizeof *s + s->narenas * sizeof *s->arenas; }

const ctl_stats_t *ctl_stats_copy(const ctl_stats_t *s, void *buf)
{
    ctl_stats_t *c = buf;
    *c = *s;
    c->arenas = (ctl_arena_stats_t *)(c + 1);
    memcpy(c->arenas, s->arenas, s->narenas * sizeof *s->arenas);
    return c;
}

size_t ctl_class_allocated(const ctl_stats_t *s, unsigned c)
{
    uint64_t na = 0, nf = 0;
    for (unsigned i = 0; i < s->narenas; i++) {
        na += s->arenas[i].req.nalloc[c];
        nf += s->arenas[i].req.nfree[c];
    }
    return na > nf ? (size_t)(na - nf) * sc_size(c) : 0;
}

bool ctl_stats_prefork(void) { return lock_try(&ctl_lock, LOCK_CTL_STATS, 0); }
void ctl_stats_postfork(void) { lock_drop(&ctl_lock); }
