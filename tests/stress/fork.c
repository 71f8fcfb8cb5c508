/* fork while threads allocate: the main thread forks repeatedly while worker
 * threads allocate and free. Each child checks, frees and replaces the blocks
 * the workers had published when it was forked, allocates from a new thread
 * too, and exits 0. A child that deadlocks in the allocator is killed after a
 * timeout and fails the test instead of hanging it. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stress.h"

enum {
    NTHREADS = 6,
    SLOTS = 128, /* per thread */
    FORKS = 50,
    CHILD_TIMEOUT_S = 20,
};

/* A published block: size is written before the pointer (release), so whoever
 * sees the pointer (acquire) sees a filled block of that size. */
struct slot {
    _Atomic(void *) p;
    size_t size;
};

static struct slot slots[NTHREADS][SLOTS];
static atomic_int stop;
static atomic_long worker_ops;

static void *worker(void *arg)
{
    uintptr_t id = (uintptr_t)arg;
    uint64_t rng = id * 7919 + 3;
    while (!atomic_load(&stop)) {
        struct slot *s = &slots[id][rng_next(&rng) % SLOTS];
        void *old = atomic_exchange(&s->p, NULL);
        if (old)
            free_checked(old, s->size);
        size_t size = mixed_size(&rng);
        void *p = alloc_filled(size);
        s->size = size;
        atomic_store_explicit(&s->p, p, memory_order_release);
        /* some private churn as well */
        void *tmp = sable_malloc(rng_next(&rng) % 300);
        CHECK(tmp != NULL, "malloc");
        sable_free(tmp);
        atomic_fetch_add(&worker_ops, 1);
    }
    return NULL;
}

static void *child_thread(void *arg)
{
    (void)arg;
    uint64_t rng = 99;
    for (int i = 0; i < 1000; i++) {
        size_t size = mixed_size(&rng);
        free_checked(alloc_filled(size), size);
    }
    return NULL;
}

/* In the child: only this thread exists; the workers' blocks are frozen. */
static int child_main(void)
{
    int checked = 0;
    for (int t = 0; t < NTHREADS; t++)
        for (int i = 0; i < SLOTS; i++) {
            void *p = atomic_load_explicit(&slots[t][i].p, memory_order_acquire);
            if (!p)
                continue;
            free_checked(p, slots[t][i].size);
            checked++;
            size_t size = 1 + (size_t)i * 13;
            free_checked(alloc_filled(size), size);
        }
    pthread_t th;
    CHECK(pthread_create(&th, NULL, child_thread, NULL) == 0, "pthread_create in child");
    pthread_join(th, NULL);
    void *big = alloc_filled(8 * MiB);
    free_checked(big, 8 * MiB);
    return checked > 0 ? 0 : 3;
}

static void on_alarm(int sig)
{
    (void)sig; /* interrupts waitpid */
}

int main(void)
{
    pthread_t t[NTHREADS];
    for (uintptr_t i = 0; i < NTHREADS; i++)
        CHECK(pthread_create(&t[i], NULL, worker, (void *)i) == 0, "pthread_create");

    struct sigaction sa = {0};
    sa.sa_handler = on_alarm; /* no SA_RESTART: waitpid returns EINTR */
    sigaction(SIGALRM, &sa, NULL);

    int failures = 0;
    for (int k = 0; k < FORKS; k++) {
        while (atomic_load(&worker_ops) < (long)(k + 1) * 200)
            sched_yield();
        pid_t pid = fork();
        CHECK(pid >= 0, "fork failed");
        if (pid == 0)
            _exit(child_main());
        alarm(CHILD_TIMEOUT_S);
        int status;
        pid_t r = waitpid(pid, &status, 0);
        alarm(0);
        if (r < 0 && errno == EINTR) {
            fprintf(stderr, "fork %d: child %d still running after %d s (deadlock?)\n", k,
                (int)pid, CHILD_TIMEOUT_S);
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            failures++;
            break;
        }
        CHECK(r == pid, "waitpid");
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "fork %d: child failed, status %#x%s%s\n", k, status,
                WIFSIGNALED(status) ? ", signal " : "",
                WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "");
            failures++;
        }
    }
    atomic_store(&stop, 1);
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(t[i], NULL);
    for (int i = 0; i < NTHREADS; i++)
        for (int j = 0; j < SLOTS; j++) {
            void *p = atomic_load(&slots[i][j].p);
            if (p)
                free_checked(p, slots[i][j].size);
        }
    if (failures) {
        fprintf(stderr, "fork: %d of %d children failed\n", failures, FORKS);
        return 1;
    }
    printf("fork: %d children ok, %ld worker operations\n", FORKS, atomic_load(&worker_ops));
    return 0;
}
