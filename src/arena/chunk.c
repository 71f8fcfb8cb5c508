/* src/arena/chunk.c — chunk header initialisation, descriptor pool, map words.
 * Invariants: every map word of a fresh chunk is MAP_NONE until a run covers
 * it; a descriptor is in use (pointed to by map words), on the chunk's free
 * descriptor list, or past desc_used (never handed out).
 * Locking: every function here runs under the owning arena's lock (or on a
 * chunk no other thread can see yet). */
#include "arena/chunk.h"

#include <stddef.h>
#include <string.h>

#include "os/os.h"

run_t *chunk_init(chunk_t *c, struct arena *a, bool zeroed)
{
    /* The memory may be an old chunk's or a huge block's: the header fields
     * are all written, and descriptors are cleared when handed out, so the
     * descriptor pool's untouched pages stay unfaulted in a fresh chunk.
     * Every map word must start as MAP_NONE: a zero word reads as a slab. */
    memset(&c->next, 0, offsetof(chunk_t, map) - offsetof(chunk_t, next));
    chunk_set_words(c, 0, CHUNK_UNITS, MAP_WORD(MAP_NONE, 0, 0, 0), 0);
    /* Last, after every word: a lock-free reader that finds its arena here
     * read words of this chunk (see lookup.h). */
    atomic_store_explicit(&c->arena, a, memory_order_release);
    c->nfree_units = CHUNK_USABLE_UNITS;
    run_t *r = chunk_desc_alloc(c);
    r->first = CHUNK_HEADER_UNITS;
    r->nunits = CHUNK_USABLE_UNITS;
    r->kind = MAP_FREE;
    r->dirty = zeroed ? 0 : CHUNK_USABLE_UNITS;
    r->aux = os_now_ms();
    chunk_map_free_edges(c, r);
    return r;
}

run_t *chunk_desc_alloc(chunk_t *c)
{
    run_t *r;
    if (c->desc_free) {
        r = &c->runs[c->desc_free - 1];
        c->desc_free = (uint16_t)r->aux;
    } else {
        r = &c->runs[c->desc_used++];
    }
    memset(r, 0, sizeof *r);
    return r;
}

void chunk_desc_free(chunk_t *c, run_t *r)
{
    r->kind = MAP_NONE;
    r->aux = c->desc_free;
    c->desc_free = (uint16_t)(r - c->runs + 1);
}

void chunk_set_words(chunk_t *c, unsigned first, unsigned n, uint32_t w, uint32_t step)
{
    _Atomic uint32_t *m = c->map + first;
    unsigned i = 0;
    for (; i + 4 <= n; i += 4, w += 4 * step) {
        atomic_store_explicit(m + i, w, memory_order_relaxed);
        atomic_store_explicit(m + i + 1, w + step, memory_order_relaxed);
        atomic_store_explicit(m + i + 2, w + 2 * step, memory_order_relaxed);
        atomic_store_explicit(m + i + 3, w + 3 * step, memory_order_relaxed);
    }
    for (; i < n; i++, w += step) atomic_store_explicit(m + i, w, memory_order_relaxed);
}

void chunk_map_run(chunk_t *c, run_t *r)
{
    unsigned desc = (unsigned)(r - c->runs);
    chunk_set_words(c, r->first, r->nunits, MAP_WORD(r->kind, r->sc, 0, desc), MAP_BACK_STEP);
}

void chunk_map_resized(chunk_t *c, run_t *r, unsigned old)
{
    unsigned desc = (unsigned)(r - c->runs);
    chunk_set_word(c, r->first, MAP_WORD(r->kind, r->sc, 0, desc));
    if (r->nunits > old)
        chunk_set_words(c, r->first + old, r->nunits - old, MAP_WORD(r->kind, r->sc, old, desc),
                        MAP_BACK_STEP);
}

void chunk_map_free_edges(chunk_t *c, run_t *r)
{
    unsigned desc = (unsigned)(r - c->runs);
    chunk_set_word(c, r->first, MAP_WORD(MAP_FREE, 0, 0, desc));
    chunk_set_word(c, r->first + r->nunits - 1, MAP_WORD(MAP_FREE, 0, 0, desc));
}
