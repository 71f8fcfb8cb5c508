/* src/arena/huge.c — huge objects: one aligned mapping each.
 * Invariants: a live huge header's addr is its mapping's start and every slot
 * the mapping covers points at it; a freed mapping is in the page map no more
 * (cached ones neither).
 * Locking: huge_lock guards the header free list and the list of live
 * headers (for stats). System calls run outside it. The page-map slots of a mapping belong to whoever holds the
 * mapping: a new mapping's slots cannot overlap a live one (the kernel hands
 * out free ranges), and growth in place claims new address space with
 * MAP_FIXED_NOREPLACE, which fails if anything else got there first. Entries
 * are cleared before the range is unmapped, so a reused range is never seen
 * with a stale entry. */
#include "arena/huge.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "arena/chunk.h"
#include "arena/meta.h"
#include "arena/pagemap.h"
#include "lib/list.h"
#include "options/options.h"
#include "os/lock.h"
#include "os/os.h"

static pthread_mutex_t huge_lock = PTHREAD_MUTEX_INITIALIZER;
static huge_t *free_headers;
static huge_t *live_headers;
static size_t live_count;
static _Atomic(uintptr_t) freed_ring[HUGE_FREED_RING];
static _Atomic unsigned freed_next;

/* Freed mappings kept for reuse (huge_lock): a program that allocates,
 * touches and frees big blocks in a loop would otherwise pay an mmap, a page
 * fault per page and an munmap every time. Bounded in count and bytes, and
 * unmapped once older than dirty_decay_ms (huge_decay), like any other free
 * memory. They are not in the page map: freeing one again is a double free. */
#define CACHE_SLOTS 8
#define CACHE_MAX_BYTES ((size_t)64 << 20)
static struct {
    void *addr;
    size_t size;
    uint32_t freed_ms;
} cache[CACHE_SLOTS];
static size_t cache_bytes;
static _Atomic size_t mapped_bytes;

static huge_t *header_get(void)
{
    lock_take(&huge_lock, LOCK_HUGE, 0);
    huge_t *h = free_headers;
    if (h) free_headers = h->next;
    lock_drop(&huge_lock);
    return h ? h : meta_alloc(sizeof *h);
}

static void header_put(huge_t *h)
{
    lock_take(&huge_lock, LOCK_HUGE, 0);
    h->addr = NULL;
    h->next = free_headers;
    free_headers = h;
    lock_drop(&huge_lock);
}

/* A header is on the live list or on the free list (by `next` alone). */
DLIST_DEFINE(live_list, huge_t, next, prev)

static void live_link(huge_t *h)
{
    lock_take(&huge_lock, LOCK_HUGE, 0);
    live_list_push(&live_headers, h);
    live_count++;
    lock_drop(&huge_lock);
}

static void live_unlink(huge_t *h)
{
    lock_take(&huge_lock, LOCK_HUGE, 0);
    live_list_remove(&live_headers, h);
    live_count--;
    lock_drop(&huge_lock);
}

/* A cached mapping of at least len bytes and at most twice that, cut down
 * to len; NULL if there is none. */
static void *cache_take(size_t len)
{
    void *p = NULL;
    size_t have = 0;
    lock_take(&huge_lock, LOCK_HUGE, 0);
    for (unsigned i = 0; i < CACHE_SLOTS; i++) {
        if (cache[i].addr && cache[i].size >= len && cache[i].size / 2 <= len &&
            (p == NULL || cache[i].size < have)) {
            p = cache[i].addr;
            have = cache[i].size;
        }
    }
    for (unsigned i = 0; p && i < CACHE_SLOTS; i++) {
        if (cache[i].addr == p) {
            cache[i].addr = NULL;
            cache_bytes -= have;
        }
    }
    lock_drop(&huge_lock);
    if (p && have > len) os_unmap((char *)p + len, have - len);
    return p;
}

static bool cache_put(void *addr, size_t size)
{
    if (opt_dirty_decay_ms == 0 || size > CACHE_MAX_BYTES / 2) return false;
    bool kept = false;
    lock_take(&huge_lock, LOCK_HUGE, 0);
    for (unsigned i = 0; i < CACHE_SLOTS && !kept; i++) {
        if (cache[i].addr == NULL && cache_bytes + size <= CACHE_MAX_BYTES) {
            cache[i].addr = addr;
            cache[i].size = size;
            cache[i].freed_ms = os_now_ms();
            cache_bytes += size;
            kept = true;
        }
    }
    lock_drop(&huge_lock);
    return kept;
}

bool huge_decay(uint32_t now, bool all)
{
    void *drop[CACHE_SLOTS];
    size_t size[CACHE_SLOTS];
    unsigned n = 0;
    lock_take(&huge_lock, LOCK_HUGE, 0);
    for (unsigned i = 0; i < CACHE_SLOTS; i++) {
        if (cache[i].addr &&
            (all || (int32_t)(now - cache[i].freed_ms) >= (int32_t)opt_dirty_decay_ms)) {
            drop[n] = cache[i].addr;
            size[n++] = cache[i].size;
            cache_bytes -= cache[i].size;
            cache[i].addr = NULL;
        }
    }
    lock_drop(&huge_lock);
    for (unsigned i = 0; i < n; i++) os_unmap(drop[i], size[i]);
    return n > 0;
}

size_t huge_cached(void)
{
    lock_take(&huge_lock, LOCK_HUGE, 0);
    size_t b = cache_bytes;
    lock_drop(&huge_lock);
    return b;
}

void *huge_alloc(size_t size, size_t align, bool zeroed)
{
    size_t len = os_page_round(size);
    if (len < size) return NULL;
    if (align < CHUNK_SIZE) align = CHUNK_SIZE;
    huge_t *h = header_get();
    if (h == NULL) return NULL;
    /* Secure mode: an inaccessible page after the object stops a linear
     * overflow at its end. Cached mappings are slot-aligned (4 MiB), not
     * zeroed and have no guard page. */
    size_t guard = opt_secure ? os_page_size() : 0;
    void *p = NULL;
    if (!zeroed && !guard && align == CHUNK_SIZE) p = cache_take(len);
    if (p == NULL) p = len + guard < len ? NULL : os_map_aligned(len + guard, align);
    if (p && guard && !os_guard((char *)p + len, guard)) {
        os_unmap(p, len + guard);
        p = NULL;
    }
    if (p && !pm_set((uintptr_t)p, len + guard, (uintptr_t)h | PM_HUGE_TAG)) {
        os_unmap(p, len + guard);
        p = NULL;
    }
    if (p == NULL) {
        header_put(h);
        return NULL;
    }
    h->addr = p;
    h->size = len;
    h->guard = guard;
    live_link(h);
    atomic_fetch_add_explicit(&mapped_bytes, len, memory_order_relaxed);
    return p;
}

void huge_free(huge_t *h)
{
    void *addr = h->addr;
    size_t size = h->size + h->guard;
    live_unlink(h);
    pm_set((uintptr_t)addr, size, 0);
    unsigned slot = atomic_fetch_add_explicit(&freed_next, 1, memory_order_relaxed);
    atomic_store_explicit(&freed_ring[slot % HUGE_FREED_RING], (uintptr_t)addr,
                          memory_order_relaxed);
    atomic_fetch_sub_explicit(&mapped_bytes, h->size, memory_order_relaxed);
    bool guarded = h->guard != 0;
    header_put(h);
    if (guarded || !cache_put(addr, size)) os_unmap(addr, size);
}

/* Slots [first, last] touched by the mapping [addr, addr+len). */
static uintptr_t slot_end(uintptr_t addr, size_t len)
{
    return ((addr + len - 1) >> PM_SLOT_SHIFT) << PM_SLOT_SHIFT;
}

bool huge_resize(huge_t *h, size_t size)
{
    size_t len = os_page_round(size);
    uintptr_t a = (uintptr_t)h->addr;
    /* Beyond the page map (48 bits, every address the kernel hands out)
     * nothing can grow, and the slot walk below must stay short. */
    if (len < size || len == 0 || a + len < a || ((a + len - 1) >> PM_ADDR_BITS)) return false;
    if (h->guard) return false; /* secure mode: the guard page stays put */
    bool ok = true;
    if (len < h->size) {
        uintptr_t old_last = slot_end(a, h->size), new_last = slot_end(a, len);
        if (old_last > new_last)
            pm_set(new_last + ((uintptr_t)1 << PM_SLOT_SHIFT), old_last - new_last, 0);
        os_unmap((char *)h->addr + len, h->size - len);
        atomic_fetch_sub_explicit(&mapped_bytes, h->size - len, memory_order_relaxed);
        h->size = len;
    } else if (len > h->size) {
        uintptr_t old_last = slot_end(a, h->size), new_last = slot_end(a, len);
        uintptr_t next = old_last + ((uintptr_t)1 << PM_SLOT_SHIFT);
        ok = new_last == old_last || pm_range_free(next, new_last - old_last);
        ok = ok && os_extend_inplace(h->addr, h->size, len);
        if (ok && new_last > old_last &&
            !pm_set(next, new_last - old_last, (uintptr_t)h | PM_HUGE_TAG)) {
            os_unmap((char *)h->addr + h->size, len - h->size);
            ok = false;
        }
        if (ok) {
            atomic_fetch_add_explicit(&mapped_bytes, len - h->size, memory_order_relaxed);
            h->size = len;
        }
    }
    return ok;
}

size_t huge_mapped(void) { return atomic_load_explicit(&mapped_bytes, memory_order_relaxed); }

size_t huge_count(void)
{
    lock_take(&huge_lock, LOCK_HUGE, 0);
    size_t n = live_count;
    lock_drop(&huge_lock);
    return n;
}

/* Holds huge_lock across mincore so no mapping goes away under it. */
size_t huge_resident(void)
{
    size_t r = 0;
    lock_take(&huge_lock, LOCK_HUGE, 0);
    for (huge_t *h = live_headers; h; h = h->next) r += os_resident(h->addr, h->size);
    for (unsigned i = 0; i < CACHE_SLOTS; i++)
        if (cache[i].addr) r += os_resident(cache[i].addr, cache[i].size);
    lock_drop(&huge_lock);
    return r;
}

void huge_prefork(void) { lock_take(&huge_lock, LOCK_HUGE, 0); }
void huge_postfork(void) { lock_drop(&huge_lock); }

bool huge_recently_freed(const void *p)
{
    for (unsigned i = 0; i < HUGE_FREED_RING; i++)
        if (atomic_load_explicit(&freed_ring[i], memory_order_relaxed) == (uintptr_t)p)
            return true;
    return false;
}
