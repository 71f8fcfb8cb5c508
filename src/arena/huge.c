/* src/arena/huge.c — huge blocks on the page heap: allocation with the
 * hugepage alignment and the fills, frees checked under the arena lock,
 * resizing in place, moving by mremap.
 *
 * Invariants: see huge.h; huge_bytes and nhuge of an arena's heap are the
 * usable bytes and the number of its live huge blocks; the process-wide
 * counts below are their sums, and their peaks never less.
 * Locking: the owning arena's lock around every heap operation. System
 * calls for guard pages and fills of whole blocks run outside it, on an
 * extent that is off every list (its state tells lookups it is not live).
 */
#include "arena/huge.h"

#include <string.h>

#include "lib/list.h"
#include "options/options.h"
#include "os/os.h"

DLIST_DEFINE(live_list, extent_t, next, prev)

static _Atomic(uintptr_t) freed_ring[HUGE_FREED_RING];
static _Atomic unsigned freed_next;

static void note_freed(const void *p)
{
    unsigned slot = atomic_fetch_add_explicit(&freed_next, 1, memory_order_relaxed);
    atomic_store_explicit(&freed_ring[slot % HUGE_FREED_RING], (uintptr_t)p, memory_order_relaxed);
}

bool huge_recently_freed(const void *p)
{
    for (unsigned i = 0; i < HUGE_FREED_RING; i++)
        if (atomic_load_explicit(&freed_ring[i], memory_order_relaxed) == (uintptr_t)p)
            return true;
    return false;
}

/* The process's huge blocks, count and usable bytes, and the most of each
 * there have been at once (malloc_stats' "max mmap regions/bytes"). Global
 * atomics beside each arena's own counters, changed on huge paths only. */
static _Atomic size_t live_count, live_bytes, peak_count, peak_bytes;

static void raise_peak(_Atomic size_t *peak, size_t v)
{
    size_t p = atomic_load_explicit(peak, memory_order_relaxed);
    while (v > p && !atomic_compare_exchange_weak_explicit(peak, &p, v, memory_order_relaxed,
                                                           memory_order_relaxed)) {
    }
}

/* n blocks and `bytes` usable bytes more (added) or fewer. */
static void count_huge(bool added, size_t n, size_t bytes)
{
    if (!added) {
        atomic_fetch_sub_explicit(&live_count, n, memory_order_relaxed);
        atomic_fetch_sub_explicit(&live_bytes, bytes, memory_order_relaxed);
        return;
    }
    raise_peak(&peak_count, atomic_fetch_add_explicit(&live_count, n, memory_order_relaxed) + n);
    raise_peak(&peak_bytes,
               atomic_fetch_add_explicit(&live_bytes, bytes, memory_order_relaxed) + bytes);
}

void huge_peaks(size_t *count, size_t *bytes)
{
    *count = atomic_load_explicit(&peak_count, memory_order_relaxed);
    *bytes = atomic_load_explicit(&peak_bytes, memory_order_relaxed);
}

static bool is_live(const extent_t *x, const void *p)
{
    return x->addr == (uintptr_t)p &&
           atomic_load_explicit(&x->state, memory_order_relaxed) == EXTENT_LIVE;
}

/* Arena lock held: x becomes p's live block of `usable` bytes. */
static void link_live(arena_t *a, extent_t *x, size_t usable)
{
    extent_set_usable(x, usable);
    live_list_push(&a->heap.live, x);
    a->heap.huge_bytes += usable;
    ph_note_live(&a->heap);
    a->heap.nhuge++;
    a->heap.nhuge_malloc++;
    count_huge(true, 1, usable);
}

/* Arena lock held: x leaves the live list; its state stops lookups from
 * taking it for a live block until ph_free files it. */
static void unlink_live(arena_t *a, extent_t *x)
{
    live_list_remove(&a->heap.live, x);
    a->heap.huge_bytes -= x->usable;
    a->heap.nhuge--;
    a->heap.nhuge_dalloc++;
    count_huge(false, 1, x->usable);
    atomic_store_explicit(&x->state, EXTENT_UNUSED, memory_order_release);
}

void *huge_alloc(arena_t *a, size_t size, size_t align, bool zeroed)
{
    size_t len = os_page_round(size), ps = os_page_size();
    size_t guard = opt_secure ? ps : 0;
    if (len < size || len + guard < len) return NULL;
    if (align < ps) align = ps;
    size_t hp = os_huge_page_size();
    if (opt_hugepages == HUGEPAGES_THP && len >= hp && align < hp) align = hp;
    bool clean = false;
    arena_lock(a);
    extent_t *x = ph_alloc(a, len + guard, align, &clean);
    if (x) link_live(a, x, len);
    arena_unlock(a);
    if (x == NULL) return NULL;
    void *p = (void *)x->addr;
    if (guard) {
        x->guarded = true;
        if (!os_guard((char *)p + len, guard)) {
            x->guarded = false;
            huge_free(x, p, "malloc");
            return NULL;
        }
    }
    int fresh = arena_new_fill();
    if (zeroed) {
        if (!clean) memset(p, 0, len);
    } else if (fresh >= 0) {
        memset(p, fresh, len);
    }
    arena_decay_tick();
    return p;
}

/* Frees p (extent x); `moved`: its pages were moved away and read as
 * zeroes. */
static void free_block(extent_t *x, void *p, const char *fn, bool moved)
{
    arena_t *a = x->arena;
    int fill = arena_free_fill();
    arena_lock(a);
    if (!is_live(x, p)) {
        arena_unlock(a);
        sable_fatal("%s(): double free of %p", fn, p);
    }
    unlink_live(a, x);
    note_freed(p);
    if (x->guarded || fill > 0) {
        /* Off every list now: the system call and the fill run unlocked. */
        arena_unlock(a);
        if (x->guarded) os_unguard((char *)p + x->size - os_page_size(), os_page_size());
        x->guarded = false;
        if (fill > 0) memset(p, fill, x->size);
        arena_lock(a);
    }
    ph_free(a, x, moved && fill < 0 ? PH_CLEAN : fill == 0 ? PH_PURGE : PH_DIRTY);
    arena_unlock(a);
    arena_decay_tick();
}

void huge_free(extent_t *x, void *p, const char *fn) { free_block(x, p, fn, false); }

void huge_discard_all(arena_t *a)
{
    lock_assert_held(&a->lock);
    extent_t *x;
    while ((x = a->heap.live) != NULL) {
        unlink_live(a, x);
        if (x->guarded) os_unguard((char *)x->addr + x->size - os_page_size(), os_page_size());
        x->guarded = false;
        ph_free(a, x, PH_DIRTY);
    }
}

bool huge_resize(extent_t *x, void *p, size_t size)
{
    arena_t *a = x->arena;
    size_t len = os_page_round(size);
    if (len < size || len == 0) return false;
    bool ok = false, zeroed = false;
    arena_lock(a);
    if (!is_live(x, p)) {
        arena_unlock(a);
        sable_fatal("realloc(): double free of %p", p);
    }
    size_t old = x->usable;
    if (x->guarded) {
        ok = false; /* secure mode: the guard page stays where it is */
    } else if (len == old) {
        ok = true;
    } else if (len < old) {
        ok = ph_shrink(a, x, len);
    } else {
        ok = ph_grow(a, x, len, &zeroed);
    }
    if (ok) {
        a->heap.huge_bytes += len;
        a->heap.huge_bytes -= old;
        ph_note_live(&a->heap);
        extent_set_usable(x, len);
        count_huge(len > old, 0, len > old ? len - old : old - len);
    }
    arena_unlock(a);
    int fresh = arena_new_fill();
    if (ok && len > old && fresh >= 0) memset((char *)p + old, fresh, len - old);
    return ok;
}

void *huge_move(extent_t *x, void *p, size_t size)
{
    size_t old = __atomic_load_n(&x->usable, __ATOMIC_RELAXED); /* unlocked: see pageheap.h */
    void *q = huge_alloc(x->arena, size, 0, false);
    if (q == NULL) return NULL;
    size_t keep = old < size ? old : size;
    size_t pages = keep & ~(os_page_size() - 1);
    if (x->guarded || pages == 0 || !os_move(q, p, pages)) pages = 0;
    memcpy((char *)q + pages, (char *)p + pages, keep - pages);
    free_block(x, p, "realloc", pages != 0 && pages == x->size);
    return q;
}
