/* src/arena/meta.h — memory for sable's own metadata.
 *
 * Thread caches, huge-object headers and page-map leaves live here, never in
 * the heap they describe. Memory comes from the OS in 1 MiB blocks and is
 * handed out by a bump pointer under one lock; it is never returned (the
 * objects built on it are recycled through their own free lists).
 * Invariants: metadata never lives in the heap it describes.
 */
#ifndef SABLE_ARENA_META_H
#define SABLE_ARENA_META_H

#include <stddef.h>

/* Zeroed memory of `size` bytes aligned to 64, or NULL when the OS refuses. */
void *meta_alloc(size_t size);

/* Bytes obtained from the OS for metadata (for stats). */
size_t meta_mapped(void);

/* fork support: the lock is taken before fork and released after. */
void meta_prefork(void);
void meta_postfork(void);

#endif
