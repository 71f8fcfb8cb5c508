/* Arenas and caches as objects while threads allocate: four threads move
 * between the automatic arenas and two created ones (thread.arena), switch
 * their caches off and on (thread.tcache.enabled), and free each other's
 * blocks through a shared exchange, while the main thread creates arenas,
 * fills them past the caches, resets and destroys them, uses explicit
 * caches and sets per-arena decay times. Every
 * block must keep its contents. Under ThreadSanitizer this is where a race
 * between creation (the arena table growing) and lock-free lookups, decay
 * passes or stats, shows. */
#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>

#include "stress.h"

enum { NTHREADS = 4, LIVE = 64, XCHG = 64, ROUNDS = 30 };
static atomic_int stop;
static unsigned stable[2]; /* created arenas the workers move to */
static unsigned nauto;
static _Atomic(void *) xchg[XCHG]; /* blocks handed to another thread */

static void set_unsigned(const char *name, unsigned v)
{
    CHECK(sable_mallctl(name, NULL, NULL, &v, sizeof v) == 0, "%s = %u", name, v);
}

static unsigned read_unsigned(const char *name)
{
    unsigned v = 0;
    size_t len = sizeof v;
    CHECK(sable_mallctl(name, &v, &len, NULL, 0) == 0, "%s", name);
    return v;
}

static void *worker(void *arg)
{
    uint64_t rng = (uintptr_t)arg * 0x9e3779b97f4a7c15ull + 1;
    void *live[LIVE] = {0};
    size_t size[LIVE] = {0};
    for (unsigned r = 0; !atomic_load(&stop); r++) {
        if (r % 1000 == 0) {
            unsigned x = (unsigned)rng_next(&rng) % (nauto + 2);
            set_unsigned("thread.arena", x < nauto ? x : stable[x - nauto]);
        }
        if (r % 5000 == 0) {
            bool on = (r / 5000) % 2 == 0;
            CHECK(sable_mallctl("thread.tcache.enabled", NULL, NULL, &on, sizeof on) == 0, "tc");
        }
        unsigned k = (unsigned)(rng_next(&rng) % LIVE);
        if (live[k]) {
            pattern_check(live[k], live[k], size[k], size[k]);
            unsigned s = (unsigned)(rng_next(&rng) % XCHG);
            if (rng_next(&rng) % 2) {
                sable_free(live[k]);
            } else {
                /* Another thread's block out, this one in: it frees it. */
                void *other = atomic_exchange(&xchg[s], NULL);
                if (other) {
                    pattern_check(other, other, 48, 48);
                    sable_free(other);
                }
                sable_free(live[k]);
            }
        }
        uint64_t x = rng_next(&rng);
        size[k] = x % 8 == 0 ? 16 + x % (512 * KiB) : 16 + x % 2048;
        live[k] = sable_malloc(size[k]);
        CHECK(live[k] != NULL, "malloc(%zu)", size[k]);
        pattern_fill(live[k], size[k]);
        if (x % 16 == 1) {
            unsigned s = (unsigned)(x >> 16) % XCHG;
            void *b = sable_malloc(48);
            CHECK(b != NULL, "malloc(48)");
            pattern_fill(b, 48);
            void *old = atomic_exchange(&xchg[s], b);
            if (old) {
                pattern_check(old, old, 48, 48);
                sable_free(old);
            }
        }
    }
    for (unsigned k = 0; k < LIVE; k++) {
        if (live[k] == NULL) continue;
        pattern_check(live[k], live[k], size[k], size[k]);
        sable_free(live[k]);
    }
    return NULL;
}

/* One round on an arena no worker uses: fill, check, reset, fill, destroy. */
static void arena_round(uint64_t *rng)
{
    unsigned i = 0;
    size_t len = sizeof i;
    CHECK(sable_mallctl("arenas.create", &i, &len, NULL, 0) == 0, "arenas.create");
    int f = SABLE_MALLOCX_ARENA(i) | SABLE_MALLOCX_TCACHE_NONE;
    char name[64];
    for (int pass = 0; pass < 2; pass++) {
        void *b[200];
        size_t n[200];
        for (int k = 0; k < 200; k++) {
            uint64_t x = rng_next(rng);
            n[k] = x % 20 == 0  ? 3 * MiB + x % MiB
                   : x % 4 == 0 ? 20000 + x % 200000
                                : 16 + x % 4096;
            b[k] = sable_mallocx(n[k], f);
            CHECK(b[k] != NULL, "mallocx(%zu) in arena %u", n[k], i);
            pattern_fill(b[k], n[k]);
        }
        for (int k = 0; k < 200; k++)
            pattern_check(b[k], b[k], n[k], n[k]);
        for (int k = 0; k < 100; k++)
            sable_dallocx(b[k], f);
        snprintf(name, sizeof name, "arena.%u.%s", i, pass ? "destroy" : "reset");
        CHECK(sable_mallctl(name, NULL, NULL, NULL, 0) == 0, "%s", name);
    }
}

static void cache_round(void)
{
    unsigned id = 0;
    size_t len = sizeof id;
    CHECK(sable_mallctl("tcache.create", &id, &len, NULL, 0) == 0, "tcache.create");
    int f = SABLE_MALLOCX_TCACHE(id);
    void *b[100];
    for (int k = 0; k < 100; k++) {
        b[k] = sable_mallocx((size_t)k * 40 + 1, f);
        CHECK(b[k] != NULL, "mallocx through cache %u", id);
        pattern_fill(b[k], (size_t)k * 40 + 1);
    }
    for (int k = 0; k < 100; k++) {
        pattern_check(b[k], b[k], (size_t)k * 40 + 1, (size_t)k * 40 + 1);
        sable_dallocx(b[k], f);
    }
    if (id % 2) CHECK(sable_mallctl("tcache.flush", NULL, NULL, &id, sizeof id) == 0, "flush");
    CHECK(sable_mallctl("tcache.destroy", NULL, NULL, &id, sizeof id) == 0, "tcache.destroy");
}

int main(void)
{
    nauto = read_unsigned("arenas.narenas");
    for (int k = 0; k < 2; k++) {
        size_t len = sizeof stable[k];
        CHECK(sable_mallctl("arenas.create", &stable[k], &len, NULL, 0) == 0, "create");
    }
    pthread_t t[NTHREADS];
    for (uintptr_t i = 0; i < NTHREADS; i++)
        CHECK(pthread_create(&t[i], NULL, worker, (void *)(i + 1)) == 0, "pthread_create");
    uint64_t rng = 42;
    for (int r = 0; r < ROUNDS; r++) {
        arena_round(&rng);
        cache_round();
        char name[64];
        ssize_t ms = r % 2 ? 0 : 10000;
        snprintf(name, sizeof name, "arena.%u.dirty_decay_ms", stable[r % 2]);
        CHECK(sable_mallctl(name, NULL, NULL, &ms, sizeof ms) == 0, "%s", name);
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(t[i], NULL);
    /* Statistics after the workers: a refresh reads live caches' counters
     * racily by design (tcache.h), which ThreadSanitizer would report. */
    uint64_t e = 1;
    size_t len = sizeof e;
    CHECK(sable_mallctl("epoch", &e, &len, &e, sizeof e) == 0, "epoch");
    for (int s = 0; s < XCHG; s++) {
        void *b = atomic_exchange(&xchg[s], NULL);
        if (b) sable_free(b);
    }
    printf("objects: ok (%u arenas)\n", read_unsigned("arenas.narenas"));
    return 0;
}
