/* The child of a fork from a multi-threaded process keeps its own thread's
 * cache only. NTHREADS workers each free blocks into their caches and wait;
 * the main thread flushes its own cache and forks. The parent still counts
 * NTHREADS + 1 threads and at least the workers' cached bytes. The child
 * counts one thread (stats.arenas.<all>.nthreads), and after flushing its
 * own cache no bytes in thread caches (stats.tcache_bytes): the dead
 * workers' blocks are not reported as cached by a live thread. Then it
 * allocates and frees heavily, from itself and from a new thread, counts one
 * thread again once that thread is gone, and forks a grandchild while the
 * new thread runs, which counts one thread too.
 *
 * Under ThreadSanitizer, which does not support threads started in the
 * child of a multi-threaded fork, the child starts none. */
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stress.h"

#if defined(__SANITIZE_THREAD__)
#define CHILD_THREADS 0
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CHILD_THREADS 0
#endif
#endif
#ifndef CHILD_THREADS
#define CHILD_THREADS 1
#endif

enum { NTHREADS = 4, NBLOCKS = 200, BLOCK = 64, CHILD_OPS = 30000 };

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int ready, done;

static unsigned nthreads(void)
{
    uint64_t epoch = 1;
    size_t len = sizeof epoch;
    CHECK(sable_mallctl("epoch", &epoch, &len, &epoch, len) == 0, "epoch");
    unsigned n;
    len = sizeof n;
    CHECK(sable_mallctl("stats.arenas.4096.nthreads", &n, &len, NULL, 0) == 0, "nthreads");
    return n;
}

/* From the snapshot nthreads() just took. */
static size_t tcache_bytes(void)
{
    size_t b;
    size_t len = sizeof b;
    CHECK(sable_mallctl("stats.tcache_bytes", &b, &len, NULL, 0) == 0, "stats.tcache_bytes");
    return b;
}

static void flush_own(void)
{
    CHECK(sable_mallctl("thread.tcache.flush", NULL, NULL, NULL, 0) == 0, "thread.tcache.flush");
}

static void *worker(void *arg)
{
    (void)arg;
    void *p[NBLOCKS];
    for (int i = 0; i < NBLOCKS; i++)
        CHECK((p[i] = sable_malloc(BLOCK)) != NULL, "malloc");
    for (int i = 0; i < NBLOCKS; i++)
        sable_free(p[i]); /* into this thread's cache */
    pthread_mutex_lock(&mu);
    ready++;
    pthread_cond_broadcast(&cv);
    while (!done)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    return NULL;
}

static void churn(uint64_t seed, int ops)
{
    enum { SLOTS = 256 };
    void *p[SLOTS] = {0};
    size_t n[SLOTS] = {0};
    uint64_t rng = seed;
    for (int i = 0; i < ops; i++) {
        unsigned s = (unsigned)(rng_next(&rng) % SLOTS);
        if (p[s])
            free_checked(p[s], n[s]);
        n[s] = mixed_size(&rng);
        p[s] = alloc_filled(n[s]);
    }
    for (unsigned s = 0; s < SLOTS; s++)
        if (p[s])
            free_checked(p[s], n[s]);
}

#if CHILD_THREADS
static void *child_thread(void *arg)
{
    churn((uint64_t)(uintptr_t)arg, CHILD_OPS / 2);
    return NULL;
}
#endif

static int wait_child(pid_t pid)
{
    int status;
    CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    fprintf(stderr, "child %d: killed by signal %d\n", (int)pid, WTERMSIG(status));
    return 1;
}

static int child_main(void)
{
    unsigned n = nthreads();
    flush_own();
    nthreads();
    size_t cached = tcache_bytes();
    CHECK(n == 1, "child: %u threads attached to arenas, expected 1 (the dead threads' caches are "
                  "still on the live list)", n);
    CHECK(cached == 0, "child: %zu bytes in thread caches after flushing its own: the dead "
                       "threads' blocks are reported as cached", cached);
    churn(7, CHILD_OPS);
#if CHILD_THREADS
    pthread_t th;
    CHECK(pthread_create(&th, NULL, child_thread, (void *)11) == 0, "pthread_create in the child");
    pid_t pid = fork(); /* while the new thread allocates */
    CHECK(pid >= 0, "fork in the child");
    if (pid == 0) {
        n = nthreads();
        CHECK(n == 1, "grandchild: %u threads attached, expected 1", n);
        churn(13, CHILD_OPS / 4);
        _exit(0);
    }
    CHECK(wait_child(pid) == 0, "grandchild failed");
    pthread_join(th, NULL);
    n = nthreads();
    CHECK(n == 1, "child: %u threads attached after its own thread exited, expected 1", n);
#endif
    flush_own();
    nthreads();
    cached = tcache_bytes();
    CHECK(cached == 0, "child: %zu bytes in thread caches at the end", cached);
    return 0;
}

int main(void)
{
    sable_free(sable_malloc(1)); /* the main thread has a cache too */
    pthread_t th[NTHREADS];
    for (int i = 0; i < NTHREADS; i++)
        CHECK(pthread_create(&th[i], NULL, worker, NULL) == 0, "pthread_create");
    pthread_mutex_lock(&mu);
    while (ready < NTHREADS)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);

    flush_own();
    unsigned n = nthreads();
    size_t cached = tcache_bytes();
    CHECK(n == NTHREADS + 1, "parent: %u threads attached, expected %d", n, NTHREADS + 1);
    CHECK(cached >= (size_t)NTHREADS * NBLOCKS * BLOCK, "parent: only %zu bytes cached", cached);

    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0)
        _exit(child_main());
    int rc = wait_child(pid);

    n = nthreads();
    CHECK(n == NTHREADS + 1, "parent after fork: %u threads attached, expected %d", n, NTHREADS + 1);
    pthread_mutex_lock(&mu);
    done = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(th[i], NULL);
    n = nthreads();
    CHECK(n == 1, "parent after the workers exited: %u threads attached, expected 1", n);
    CHECK(rc == 0, "the child failed (%d)", rc);
    printf("fork-threads: the child counted one thread and no dead caches\n");
    return 0;
}
