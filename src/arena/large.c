/* src/arena/large.c — large objects (SC_SMALL_MAX < size <= SC_LARGE_MAX):
 * one run each, allocated with alignment by splitting off a head run, freed
 * by merging, resized in place into a free right neighbour or by splitting.
 * calloc writes a run only if it was touched since its last purge; the fill
 * modes fill or purge a run when it is freed (as huge.h says).
 *
 * Invariants: a large run's map words all carry MAP_LARGE and its class;
 * large_allocated is the sum of the live runs' sizes.
 * Locking: the arena lock, taken here around every run operation. A free
 * checks again under it that p still starts a large run, so two racing
 * frees of one block are diagnosed, never both applied.
 */
#include <string.h>

#include "arena/purge.h"
#include "arena/run.h"
#include "options/options.h"


void *arena_large_alloc(arena_t *a, size_t size, size_t align, bool zeroed)
{
    /* In size_t: an alignment of 2^44 or more would truncate in 32 bits and
     * pass as "no alignment" (found by the call-sequence fuzzer). One that
     * cannot fit in a chunk returns NULL; the caller tries a huge mapping. */
    if (!arena_large_fits(size, align)) return NULL;
    size_t units = size >> UNIT_SHIFT;
    size_t align_units = align > UNIT_SIZE ? align >> UNIT_SHIFT : 1;
    arena_lock(a);
    bool clean = false;
    run_t *r = run_alloc(a, (unsigned)units, (unsigned)align_units, MAP_LARGE, sc_of(size), &clean);
    if (r) {
        a->large_allocated += size;
        a->nlarge++;
        a->nlarge_malloc++;
    }
    arena_unlock(a);
    arena_decay_tick();
    if (r == NULL) return NULL;
    void *p = run_addr(chunk_of(r), r);
    int fresh = arena_new_fill();
    if (zeroed) {
        if (!clean) memset(p, 0, size);
    } else if (fresh >= 0) {
        memset(p, fresh, size);
    }
    return p;
}

/* Locks the arena of p's chunk and returns it with the chunk, or aborts
 * (naming `fn`) unless p starts a large run of a live chunk. p was checked
 * without the lock, so its chunk may have been given back since (a double
 * free racing the free that emptied it): the arena is read again under its
 * lock, where no chunk of it can be given back (see lookup.h). */
static arena_t *lock_large(void *p, const char *fn, chunk_t **cp, uint32_t *wp)
{
    chunk_t *c = chunk_of(p);
    arena_t *a = chunk_arena_acquire(c);
    if (!arena_is(a)) sable_fatal("%s(): double free of %p", fn, p);
    arena_lock(a);
    uint32_t w = chunk_word(c, chunk_unit_of(p));
    if (chunk_arena(c) != a || MAP_KIND(w) != MAP_LARGE || map_run_offset(w, p) != 0) {
        arena_unlock(a);
        sable_fatal("%s(): double free of %p", fn, p);
    }
    *cp = c;
    *wp = w;
    return a;
}

void arena_large_free(void *p)
{
    chunk_t *c;
    uint32_t w;
    int fill = arena_free_fill();
    arena_t *a = lock_large(p, "free", &c, &w);
    run_t *r = chunk_run_of_word(c, w);
    /* The fills (secure, junk, zero_on_free, perturb): a freed run never
     * hands its contents to the next block. Its pages are purged (they read
     * as zeroes) or filled. Under the lock: the run is still live, so no
     * racing free can take it meanwhile. */
    size_t bytes = (size_t)r->nunits << UNIT_SHIFT;
    if (fill == 0 && !os_purge(p, bytes)) memset(p, 0, bytes);
    if (fill > 0) memset(p, fill, bytes);
    a->large_allocated -= (size_t)r->nunits << UNIT_SHIFT;
    a->nlarge--;
    a->nlarge_dalloc++;
    run_free(a, c, r);
    arena_unlock(a);
    arena_decay_tick();
}

/* The block's run is found again under the arena lock: the caller checked
 * p without it. */
bool arena_large_resize(void *p, size_t size)
{
    chunk_t *c;
    uint32_t w;
    unsigned units = (unsigned)(size >> UNIT_SHIFT);
    bool ok = true;
    arena_t *a = lock_large(p, "realloc", &c, &w);
    run_t *r = chunk_run_of_word(c, w);
    unsigned old = r->nunits;
    if (units < old) {
        run_t *tail = run_split(c, r, units);
        c->nfree_units -= tail->nunits; /* run_free adds them back */
        run_free(a, c, tail);
    } else if (units > old) {
        unsigned end = r->first + old;
        uint32_t w = end < CHUNK_UNITS ? chunk_word(c, end) : 0;
        run_t *n = MAP_KIND(w) == MAP_FREE ? chunk_run_of_word(c, w) : NULL;
        if (n && old + n->nunits >= units) {
            unsigned take = units - old;
            runs_remove(a, n);
            if (n->nunits > take) {
                n->first = (uint16_t)(n->first + take);
                n->nunits = (uint16_t)(n->nunits - take);
                if (n->dirty > n->nunits) n->dirty = n->nunits;
                chunk_map_free_edges(c, n);
                runs_insert(a, n);
            } else {
                chunk_desc_free(c, n);
            }
            c->nfree_units -= take;
            r->nunits = (uint16_t)units;
        } else {
            ok = false;
        }
    }
    if (ok) {
        a->large_allocated += ((size_t)r->nunits << UNIT_SHIFT);
        a->large_allocated -= ((size_t)old << UNIT_SHIFT);
        r->sc = (uint8_t)sc_of(size);
        chunk_map_resized(c, r, old);
    }
    arena_unlock(a);
    return ok;
}

