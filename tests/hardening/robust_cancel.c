/* pthread_cancel of threads that run malloc/free-heavy loops and block in
 * cancellation points (usleep, or read on a pipe nobody writes) or only pass
 * through one (pthread_testcancel), 200 threads in waves of 20. A cleanup handler frees the thread's last block while the
 * thread unwinds. Afterwards the process allocates and frees normally, from
 * the main thread and from a new thread, and exits 0. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hard.h"

enum { THREADS = 200, WAVE = 20, BATCH = 64 };

#define CHECK(cond, what)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            printf("FAIL: %s (line %d)\n", what, __LINE__);                                        \
            fflush(stdout);                                                                        \
            _exit(1);                                                                              \
        }                                                                                          \
    } while (0)

static int never_written[2];

struct worker {
    pthread_t th;
    int id;
    atomic_int iterations;
    void *held;
};

static void cleanup_free(void *arg)
{
    struct worker *w = arg;
    M_FREE(w->held);
    w->held = NULL;
}

static size_t size_of(uint64_t *rng)
{
    *rng = *rng * 6364136223846793005ull + 1442695040888963407ull;
    unsigned r = (unsigned)(*rng >> 33);
    switch (r % 8) {
    case 0:
        return 20 * KiB + r % (200 * KiB); /* large */
    case 1:
        return 1 + r % 16384;
    default:
        return 1 + r % 512;
    }
}

static void churn(uint64_t *rng, void **blocks, size_t *sizes)
{
    for (int i = 0; i < BATCH; i++) {
        sizes[i] = size_of(rng);
        blocks[i] = M_MALLOC(sizes[i]);
        CHECK(blocks[i] != NULL, "malloc in a worker");
        memset(blocks[i], i & 0xff, sizes[i] < 64 ? sizes[i] : 64);
    }
    for (int i = 0; i < BATCH; i++) {
        unsigned char *b = blocks[i];
        CHECK(b[0] == (unsigned char)(i & 0xff), "block content in a worker");
        M_FREE(b);
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    uint64_t rng = (uint64_t)w->id * 7919 + 1;
    void *blocks[BATCH];
    size_t sizes[BATCH];
    pthread_cleanup_push(cleanup_free, w);
    for (;;) {
        churn(&rng, blocks, sizes);
        w->held = M_REALLOC(w->held, size_of(&rng));
        CHECK(w->held != NULL, "realloc in a worker");
        atomic_fetch_add(&w->iterations, 1);
        switch (w->id % 3) {
        case 0:
            usleep(100);
            break;
        case 1: {
            char c;
            (void)!read(never_written[0], &c, 1); /* blocks until cancelled */
            break;
        }
        default:
            /* never blocks: the cancel request arrives while the thread is
             * inside malloc and free, and must wait for this point (a
             * cancellation point inside the allocator would end the thread
             * there, holding whatever it held) */
            pthread_testcancel();
            break;
        }
    }
    pthread_cleanup_pop(1);
    return NULL;
}

static void *fresh_thread(void *arg)
{
    (void)arg;
    uint64_t rng = 12345;
    void *blocks[BATCH];
    size_t sizes[BATCH];
    for (int k = 0; k < 200; k++)
        churn(&rng, blocks, sizes);
    return NULL;
}

int main(void)
{
    alarm(25); /* a deadlock fails the test in time (SIGALRM) */
    CHECK(pipe(never_written) == 0, "pipe");
    static struct worker workers[THREADS];
    for (int base = 0; base < THREADS; base += WAVE) {
        for (int i = base; i < base + WAVE; i++) {
            workers[i].id = i;
            CHECK(pthread_create(&workers[i].th, NULL, worker_main, &workers[i]) == 0,
                "pthread_create");
        }
        /* cancel each one once it has been round its loop (the usleep ones
         * a few times, so that some are caught in the middle of it) */
        for (int i = base; i < base + WAVE; i++) {
            int want = i % 3 == 0 ? 1 + i % 7 : 1;
            while (atomic_load(&workers[i].iterations) < want)
                usleep(50);
            CHECK(pthread_cancel(workers[i].th) == 0, "pthread_cancel");
        }
        for (int i = base; i < base + WAVE; i++) {
            void *ret;
            CHECK(pthread_join(workers[i].th, &ret) == 0, "pthread_join");
            CHECK(ret == PTHREAD_CANCELED, "a worker ended without being cancelled");
            CHECK(workers[i].held == NULL, "the cleanup handler did not run");
        }
    }
    printf("%d threads cancelled\n", THREADS);

    uint64_t rng = 777;
    void *blocks[BATCH];
    size_t sizes[BATCH];
    for (int k = 0; k < 500; k++)
        churn(&rng, blocks, sizes);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, fresh_thread, NULL) == 0, "pthread_create after");
    CHECK(pthread_join(t, NULL) == 0, "pthread_join after");
    void *big = M_MALLOC(8 * MiB);
    CHECK(big != NULL, "huge malloc after");
    memset(big, 1, 8 * MiB);
    M_FREE(big);
    printf("ok (" M_VARIANT " API)\n");
    return 0;
}
