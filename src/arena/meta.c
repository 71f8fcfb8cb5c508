/* src/arena/meta.c — bump allocation of metadata from dedicated mappings.
 * Invariants: memory handed out is zeroed, 64-byte aligned and never
 * returned; meta_total counts every byte mapped for it.
 * Locking: one mutex around the bump pointer; callers never hold it long. */
#include "arena/meta.h"

#include <pthread.h>
#include <stdint.h>

#include "os/lock.h"
#include "os/os.h"

#define META_BLOCK ((size_t)1 << 20)

static pthread_mutex_t meta_lock = PTHREAD_MUTEX_INITIALIZER;
static char *meta_cur, *meta_end;
static size_t meta_total;

void *meta_alloc(size_t size)
{
    size = (size + 63) & ~(size_t)63;
    lock_take(&meta_lock, LOCK_META, 0);
    if ((size_t)(meta_end - meta_cur) < size) {
        size_t block = size > META_BLOCK ? size : META_BLOCK;
        block = os_page_round(block);
        char *p = os_map_aligned(block, os_page_size());
        if (p == NULL) {
            lock_drop(&meta_lock);
            return NULL;
        }
        meta_total += block;
        meta_cur = p;
        meta_end = p + block;
    }
    void *r = meta_cur;
    meta_cur += size;
    lock_drop(&meta_lock);
    return r;
}

size_t meta_mapped(void)
{
    lock_take(&meta_lock, LOCK_META, 0);
    size_t t = meta_total;
    lock_drop(&meta_lock);
    return t;
}

void meta_prefork(void) { lock_take(&meta_lock, LOCK_META, 0); }
void meta_postfork(void) { lock_drop(&meta_lock); }
