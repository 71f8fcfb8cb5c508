/* percpu_arena:percpu (SABLE_CONF of the test) with real sched_setaffinity
 * moves: a thread pinned to a CPU allocates from that CPU's arena; pinned to
 * another, it moves there at its next slow paths (topology.moves counts
 * it), and the blocks it allocated before the move free intact. Then four
 * threads hop between CPUs while they allocate, verify and free blocks,
 * half of them freed by another thread. Needs two CPUs (skipped with one). */
#include <pthread.h>
#include <sched.h>

#include "../ctl_values.h"
#include "stress.h"

#define NBLK 512
#define ROUNDS 200

static int cpus[2];

static uint64_t moves(void) { return ctl_u64("topology.moves"); }

static void pin(int cpu)
{
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    CHECK(sched_setaffinity(0, sizeof one, &one) == 0, "pin to CPU %d", cpu);
    sched_yield();
}

/* Slow paths: fills and flushes of many classes. */
static void churn(void)
{
    for (size_t sz = 16; sz <= 4096; sz += 48) {
        void *p[80];
        for (int i = 0; i < 80; i++) p[i] = sable_malloc(sz);
        for (int i = 0; i < 80; i++) sable_free(p[i]);
    }
}

static void *fill_blocks(void **b, uint64_t *rng)
{
    for (int i = 0; i < NBLK; i++) {
        size_t size = 16 + rng_next(rng) % 3000;
        b[i] = sable_malloc(size);
        CHECK(b[i] != NULL, "malloc");
        pattern_fill(b[i], size);
        ((size_t *)b[i])[0] = size;
    }
    return b;
}

static void check_free(void **b, int from, int to)
{
    for (int i = from; i < to; i++) {
        size_t size = ((size_t *)b[i])[0];
        ((size_t *)b[i])[0] = (size_t)pattern_word(b[i], size, 0);
        pattern_check(b[i], b[i], size, size);
        sable_free(b[i]);
    }
}

static void *_Atomic handoff[4];

static void *hopper(void *arg)
{
    uintptr_t id = (uintptr_t)arg;
    uint64_t rng = 0x9e3779b97f4a7c15ull * (id + 1);
    static __thread void *b[NBLK];
    for (int r = 0; r < ROUNDS; r++) {
        pin(cpus[(r + id) % 2]);
        fill_blocks(b, &rng);
        check_free(b, 0, NBLK / 2);
        /* The other half goes to the next thread, which frees it. */
        void **mine = sable_malloc(sizeof(void *) * (NBLK / 2));
        CHECK(mine != NULL, "malloc");
        memcpy(mine, b + NBLK / 2, sizeof(void *) * (NBLK / 2));
        void **theirs = atomic_exchange(&handoff[(id + 1) % 4], mine);
        if (theirs) {
            check_free(theirs, 0, NBLK / 2);
            sable_free(theirs);
        }
    }
    return NULL;
}

int main(void)
{
    cpu_set_t all;
    CHECK(sched_getaffinity(0, sizeof all, &all) == 0, "sched_getaffinity");
    int n = 0;
    for (int c = 0; c < CPU_SETSIZE && n < 2; c++)
        if (CPU_ISSET(c, &all)) cpus[n++] = c;
    if (n < 2) {
        printf("percpu: one CPU only, skipped\n");
        return 77;
    }
    pin(cpus[0]);
    sable_free(sable_malloc(1));
    unsigned narenas = ctl_unsigned("arenas.narenas");
    CHECK(ctl_unsigned("thread.arena") == (unsigned)cpus[0] % narenas, "the first CPU's arena");
    uint64_t rng = 42;
    static void *b[NBLK];
    fill_blocks(b, &rng);
    uint64_t m0 = moves();
    pin(cpus[1]);
    unsigned want = (unsigned)cpus[1] % narenas;
    for (int i = 0; i < 1000 && ctl_unsigned("thread.arena") != want; i++) churn();
    CHECK(ctl_unsigned("thread.arena") == want, "moved to CPU %d's arena %u", cpus[1], want);
    CHECK(moves() > m0, "the move is counted");
    check_free(b, 0, NBLK);

    sched_setaffinity(0, sizeof all, &all);
    pthread_t t[4];
    for (uintptr_t i = 0; i < 4; i++) CHECK(pthread_create(&t[i], NULL, hopper, (void *)i) == 0, "create");
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    for (int i = 0; i < 4; i++) {
        void **left = atomic_exchange(&handoff[i], NULL);
        if (left) {
            check_free(left, 0, NBLK / 2);
            sable_free(left);
        }
    }
    printf("percpu: %u arenas, %llu moves\n", narenas, (unsigned long long)moves());
    return 0;
}
