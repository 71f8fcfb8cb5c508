/* src/arena/huge.c — huge objects: one aligned mapping each.
 * Locking: huge_lock guards the header free list and the page-map entries of
 * huge mappings (so a resize and a concurrent allocation cannot both claim a
 * slot). The mmap/munmap calls themselves run under it too: huge operations
 * are rare and dominated by the system call. */
#include "arena/huge.h"

#include <pthread.h>
#include <stdint.h>

#include "arena/chunk.h"
#include "arena/meta.h"
#include "arena/pagemap.h"
#include "os/os.h"

static pthread_mutex_t huge_lock = PTHREAD_MUTEX_INITIALIZER;
static huge_t *free_headers;
static size_t mapped_bytes;

static size_t page_round(size_t n)
{
    size_t ps = os_page_size();
    return (n + ps - 1) & ~(ps - 1);
}

void *huge_alloc(size_t size, size_t align)
{
    size_t len = page_round(size);
    if (len < size) return NULL;
    if (align < CHUNK_SIZE) align = CHUNK_SIZE;
    pthread_mutex_lock(&huge_lock);
    huge_t *h = free_headers;
    if (h)
        free_headers = h->next;
    else
        h = meta_alloc(sizeof *h);
    void *p = h ? os_map_aligned(len, align) : NULL;
    if (p && !pm_set((uintptr_t)p, len, (uintptr_t)h | PM_HUGE_TAG)) {
        os_unmap(p, len);
        p = NULL;
    }
    if (p == NULL) {
        if (h) {
            h->next = free_headers;
            free_headers = h;
        }
        pthread_mutex_unlock(&huge_lock);
        return NULL;
    }
    h->addr = p;
    h->size = len;
    mapped_bytes += len;
    pthread_mutex_unlock(&huge_lock);
    return p;
}

void huge_free(huge_t *h)
{
    pthread_mutex_lock(&huge_lock);
    pm_set((uintptr_t)h->addr, h->size, 0);
    os_unmap(h->addr, h->size);
    mapped_bytes -= h->size;
    h->addr = NULL;
    h->next = free_headers;
    free_headers = h;
    pthread_mutex_unlock(&huge_lock);
}

/* Slots [first, last] touched by the mapping [addr, addr+len). */
static uintptr_t slot_end(uintptr_t addr, size_t len)
{
    return ((addr + len - 1) >> PM_SLOT_SHIFT) << PM_SLOT_SHIFT;
}

bool huge_resize(huge_t *h, size_t size)
{
    size_t len = page_round(size);
    if (len < size || len == 0) return false;
    uintptr_t a = (uintptr_t)h->addr;
    bool ok = true;
    pthread_mutex_lock(&huge_lock);
    if (len < h->size) {
        uintptr_t old_last = slot_end(a, h->size), new_last = slot_end(a, len);
        if (old_last > new_last)
            pm_set(new_last + ((uintptr_t)1 << PM_SLOT_SHIFT), old_last - new_last, 0);
        os_unmap((char *)h->addr + len, h->size - len);
        mapped_bytes -= h->size - len;
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
            mapped_bytes += len - h->size;
            h->size = len;
        }
    }
    pthread_mutex_unlock(&huge_lock);
    return ok;
}

size_t huge_mapped(void)
{
    pthread_mutex_lock(&huge_lock);
    size_t m = mapped_bytes;
    pthread_mutex_unlock(&huge_lock);
    return m;
}

void huge_prefork(void) { pthread_mutex_lock(&huge_lock); }
void huge_postfork(void) { pthread_mutex_unlock(&huge_lock); }
