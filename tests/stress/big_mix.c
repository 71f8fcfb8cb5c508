/* Blocks of every size, 1 B .. 48 MiB, through malloc, calloc, realloc,
 * aligned_alloc (alignments up to 1 GiB) and posix_memalign, in random
 * order over 64 slots, with a malloc_trim now and then: every live block
 * must stay disjoint from every other, keep its contents, and calloc must
 * return zeroes. This is the page heap's stress: extents split, coalesced,
 * taken in windows over dirty and clean neighbours, purged, and grown in
 * place or moved by realloc. (Found: a window's extent still looked free to
 * the purge that followed it, and was merged and handed out twice.) */
#include "stress.h"

#define SLOTS 64

static struct {
    unsigned char *p;
    size_t n;
} slot[SLOTS];
static uint64_t seed = 0x9e3779b97f4a7c15u;

static size_t pick(void)
{
    uint64_t r = rng_next(&seed);
    switch (r % 6) {
    case 0: return 1 + r / 8 % (16 * KiB);
    case 1: return 16 * KiB + r / 8 % (256 * KiB);
    case 2: return 256 * KiB + r / 8 % (2 * MiB);
    case 3: return 2 * MiB + r / 8 % (8 * MiB);
    case 4: return 8 * MiB + r / 8 % (40 * MiB);
    default: return 1 + r / 8 % MiB;
    }
}

static void check_disjoint(unsigned i)
{
    size_t ui = sable_malloc_usable_size(slot[i].p);
    CHECK(ui >= slot[i].n, "usable %zu < %zu", ui, slot[i].n);
    for (unsigned j = 0; j < SLOTS; j++) {
        if (j == i || slot[j].p == NULL) continue;
        size_t uj = sable_malloc_usable_size(slot[j].p);
        CHECK(slot[i].p + ui <= slot[j].p || slot[j].p + uj <= slot[i].p,
              "%p+%zu overlaps %p+%zu", (void *)slot[i].p, ui, (void *)slot[j].p, uj);
    }
}

static void mark(unsigned i)
{
    slot[i].p[0] = (unsigned char)i;
    slot[i].p[slot[i].n - 1] = (unsigned char)i;
    check_disjoint(i);
}

int main(int argc, char **argv)
{
    long iters = argc > 1 ? atol(argv[1]) : 60000;
    for (long it = 0; it < iters; it++) {
        unsigned i = (unsigned)(rng_next(&seed) % SLOTS);
        if (slot[i].p) {
            CHECK(slot[i].p[0] == (unsigned char)i && slot[i].p[slot[i].n - 1] == (unsigned char)i,
                  "block %u at %p lost its contents", i, (void *)slot[i].p);
            if (rng_next(&seed) % 2) {
                size_t n = pick();
                unsigned char *q = sable_realloc(slot[i].p, n);
                if (q == NULL) continue;
                CHECK(q[0] == (unsigned char)i, "realloc lost the first byte");
                slot[i].p = q;
                slot[i].n = n;
                mark(i);
                continue;
            }
            sable_free(slot[i].p);
            slot[i].p = NULL;
        }
        size_t n = pick();
        unsigned char *p = NULL;
        uint64_t k = rng_next(&seed) % 4;
        if (k == 0) {
            size_t al = (size_t)1 << (12 + rng_next(&seed) % 19);
            p = sable_aligned_alloc(al, (n + al - 1) / al * al);
            if (p) CHECK((uintptr_t)p % al == 0, "%p not aligned to %zu", (void *)p, al);
        } else if (k == 1) {
            void *q = NULL;
            size_t al = (size_t)1 << (4 + rng_next(&seed) % 20);
            if (sable_posix_memalign(&q, al, n) == 0) p = q;
            if (p) CHECK((uintptr_t)p % al == 0, "%p not aligned to %zu", (void *)p, al);
        } else if (k == 2) {
            p = sable_calloc(1, n);
            for (size_t x = 0; p && x < n; x += 4096) CHECK(p[x] == 0, "calloc %p+%zu", (void *)p, x);
        } else {
            p = sable_malloc(n);
        }
        if (p == NULL) continue;
        slot[i].p = p;
        slot[i].n = n;
        mark(i);
        if (rng_next(&seed) % 1000 == 0) sable_trim(0);
    }
    for (unsigned i = 0; i < SLOTS; i++) sable_free(slot[i].p);
    printf("%ld operations\n", iters);
    return 0;
}
