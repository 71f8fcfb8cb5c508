/* Threads allocating mixed sizes, handing blocks to each other and freeing
 * blocks that other (possibly exited) threads allocated; realloc in the mix.
 * Every free checks the block's pattern. Threads are recreated every round,
 * and between rounds a thread that never allocated frees what is left in the
 * shared slots. */
#include <pthread.h>

#include "stress.h"

enum {
    NTHREADS = 8,
    ROUNDS = 12,
    OPS = 30000,
    LOCAL = 256,
    SHARED = 1024,
};

struct block {
    void *p;
    size_t size;
};

static struct {
    pthread_mutex_t lock;
    struct block b;
} shared[SHARED];

static void block_free(struct block *b)
{
    if (b->p)
        free_checked(b->p, b->size);
    b->p = NULL;
}

/* Puts b in a shared slot and takes what was there, if anything. */
static void swap_with_shared(struct block *b, uint64_t *rng)
{
    size_t slot = rng_next(rng) % SHARED;
    pthread_mutex_lock(&shared[slot].lock);
    struct block theirs = shared[slot].b;
    shared[slot].b = *b;
    pthread_mutex_unlock(&shared[slot].lock);
    *b = theirs;
    if (b->p)
        pattern_check(b->p, b->p, b->size, b->size);
}

static void do_realloc(struct block *b, uint64_t *rng)
{
    size_t to = mixed_size(rng);
    void *old = b->p;
    /* the pattern depends on the address: check the prefix against the old
     * address's pattern, then refill for the new one */
    void *q = sable_realloc(b->p, to);
    CHECK(q != NULL, "sable_realloc(%zu -> %zu) failed", b->size, to);
    size_t keep = to < b->size ? to : b->size;
    if (keep == b->size) {
        pattern_check(q, old, b->size, b->size);
    } else {
        /* shrunk: only whole words of the old pattern survive */
        pattern_check(q, old, b->size, keep & ~(size_t)7);
    }
    b->p = q;
    b->size = to;
    pattern_fill(q, to);
}

static void *worker(void *arg)
{
    uint64_t rng = (uint64_t)(uintptr_t)arg * 0x9e3779b97f4a7c15ull + 1;
    struct block local[LOCAL] = {{0}};
    for (int op = 0; op < OPS; op++) {
        struct block *b = &local[rng_next(&rng) % LOCAL];
        unsigned what = (unsigned)(rng_next(&rng) % 10);
        if (!b->p) {
            b->size = mixed_size(&rng);
            b->p = alloc_filled(b->size);
        } else if (what < 4) {
            block_free(b);
        } else if (what < 6) {
            do_realloc(b, &rng);
        } else {
            swap_with_shared(b, &rng);
        }
    }
    /* half of what is left goes to other threads, the rest is freed here */
    for (int i = 0; i < LOCAL; i++) {
        if (i % 2)
            swap_with_shared(&local[i], &rng);
        block_free(&local[i]);
    }
    return NULL;
}

/* Frees everything in the shared slots without ever allocating. */
static void *sweeper(void *arg)
{
    (void)arg;
    for (int i = 0; i < SHARED; i++) {
        pthread_mutex_lock(&shared[i].lock);
        block_free(&shared[i].b);
        pthread_mutex_unlock(&shared[i].lock);
    }
    return NULL;
}

int main(void)
{
    for (int i = 0; i < SHARED; i++)
        pthread_mutex_init(&shared[i].lock, NULL);
    for (int round = 0; round < ROUNDS; round++) {
        pthread_t t[NTHREADS];
        for (uintptr_t i = 0; i < NTHREADS; i++)
            CHECK(pthread_create(&t[i], NULL, worker, (void *)(round * NTHREADS + i + 1)) == 0,
                "pthread_create");
        for (int i = 0; i < NTHREADS; i++)
            pthread_join(t[i], NULL);
        /* every other round, the shared blocks outlive their threads into the
         * next round; otherwise a non-allocating thread frees them */
        if (round % 2) {
            pthread_t s;
            CHECK(pthread_create(&s, NULL, sweeper, NULL) == 0, "pthread_create");
            pthread_join(s, NULL);
        }
    }
    sweeper(NULL);
    printf("threads: %d rounds x %d threads x %d ops ok\n", ROUNDS, NTHREADS, OPS);
    return 0;
}
