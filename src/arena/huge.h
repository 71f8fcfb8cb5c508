/* src/arena/huge.h — objects above SC_LARGE_MAX: extents of the arena's
 * page heap (pageheap.h), sized in pages.
 *
 * A huge block is a live extent of its size rounded up to pages (at most one
 * page of waste), plus a guard page after it in secure mode. With
 * hugepages:thp, blocks of a huge page or more are huge-page aligned, so the
 * kernel can back them with huge pages. Freeing returns the extent to the
 * heap as dirty memory, reused first by the next allocation; decay and trim
 * purge it. realloc grows a block in place into a free extent after it,
 * shrinks it in place, or moves its pages to a new extent with mremap.
 *
 * Fills (secure, junk, zero_on_free, perturb; see arena.h and
 * docs/security.md): with secure or zero_on_free a freed block is purged at
 * once, so its contents are gone and a later block reads as zeroes; with
 * junk (or glibc's perturb byte b) it is filled with 0x5a (b) when freed and
 * a new one with 0xa5 (b ^ 0xff).
 *
 * Invariants: a live block's extent is on its arena's live list, in state
 * EXTENT_LIVE, and starts at the user's pointer.
 * Locking: the owning arena's lock, taken here. A free or resize checks
 * again under it that the extent is live and starts at the pointer, so two
 * racing frees of one block are diagnosed, never both applied.
 */
#ifndef SABLE_ARENA_HUGE_H
#define SABLE_ARENA_HUGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena/arena.h"
#include "arena/pageheap.h"

/* A huge block of at least size bytes aligned to align (a power of two),
 * from arena a's page heap. zeroed: it must read as zeroes (calloc); only
 * memory not known to be zero is written. NULL when out of memory. */
void *huge_alloc(arena_t *a, size_t size, size_t align, bool zeroed);
/* Frees huge block p, whose extent lookup found to be x. Aborts with a
 * double-free message naming `fn` if x is no longer p's live extent. */
void huge_free(extent_t *x, void *p, const char *fn);
/* arena.<i>.reset: every live huge block of a goes back to its page heap
 * as dirty free memory, unchecked (arena lock held). */
void huge_discard_all(arena_t *a);
/* Changes the usable size of p (extent x) in place, page granular: shrinks
 * it, or grows it into the free extent after it. False if it cannot. */
bool huge_resize(extent_t *x, void *p, size_t size);
/* realloc of huge block p to a new huge block of `size` bytes elsewhere:
 * its pages are moved (mremap) rather than copied when the kernel allows,
 * and p is freed. NULL when out of memory (p is untouched then). */
void *huge_move(extent_t *x, void *p, size_t size);

/* True if p was a huge block freed recently (the last HUGE_FREED_RING
 * frees): lets a second free be named a double free rather than an invalid
 * pointer once the extent was merged into another. */
#define HUGE_FREED_RING 64
bool huge_recently_freed(const void *p);

/* The most huge blocks, and the most usable bytes of them, the process has
 * held at once (each its own peak; for glibc's malloc_stats). */
void huge_peaks(size_t *count, size_t *bytes);

#endif
