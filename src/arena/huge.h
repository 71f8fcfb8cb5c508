/* src/arena/huge.h — objects above SC_LARGE_MAX, each in its own mapping.
 *
 * A huge mapping starts on a chunk-slot boundary, so the page map can point
 * every slot it covers at its header (tagged with PM_HUGE_TAG) without ever
 * sharing a slot with a chunk. The header lives in metadata, not next to the
 * user's bytes. Freeing unmaps it, or keeps the mapping in a small cache of
 * freed ones for reuse (huge.c).
 * Invariants: size is a page multiple; a header is on the live list while its
 * object lives, on the free list after. Locking: huge.c's huge_lock guards
 * both lists and the cache; the mappings' page-map entries belong to their
 * holder.
 */
#ifndef SABLE_ARENA_HUGE_H
#define SABLE_ARENA_HUGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct huge {
    void *addr;        /* start of the mapping = the user's pointer */
    size_t size;       /* usable bytes, a page multiple */
    size_t guard;      /* bytes of the guard page after it (secure mode), or 0 */
    struct huge *next; /* free-header list, or live list */
    struct huge *prev; /* live list */
} huge_t;

/* A huge object of at least size bytes aligned to align (rounded up to the
 * 4 MiB slot). zeroed: the memory must read as zeroes (calloc), so a cached
 * mapping is not reused. */
void *huge_alloc(size_t size, size_t align, bool zeroed);
void huge_free(huge_t *h);
/* Changes the usable size in place (page granular). False if it cannot. */
bool huge_resize(huge_t *h, size_t size);
/* True if p was a huge object freed recently (the last HUGE_FREED_RING
 * frees): lets a second free of an unmapped huge block be named a double
 * free rather than an invalid pointer. */
#define HUGE_FREED_RING 64
bool huge_recently_freed(const void *p);

/* Unmaps cached free mappings older than dirty_decay_ms (all of them if
 * `all`). True if any was. huge_cached: bytes in the cache. */
bool huge_decay(uint32_t now, bool all);
size_t huge_cached(void);

/* Bytes currently mapped by huge objects; their count. */
size_t huge_mapped(void);
size_t huge_count(void);
/* Bytes of huge mappings resident in memory now (walks every mapping). */
size_t huge_resident(void);

void huge_prefork(void);
void huge_postfork(void);

#endif
