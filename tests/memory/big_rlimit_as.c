/* Under RLIMIT_AS, large and huge blocks fill the address space, give it
 * back when freed, and fill it again: three rounds, in a child process whose
 * limit is its address space at start plus 1 GiB.
 *
 * Each round fills memory with a fixed sequence of mixed sizes (64 KiB ..
 * 64 MiB, log-uniform) until malloc returns NULL, which must come with
 * errno ENOMEM; then with 64 KiB blocks until NULL again (the space the big
 * ones could not use). The first and last page of every block are touched.
 * Everything is freed in a shuffled order, small allocations must work, and
 * the next round's fill must reach at least 90 % of the first round's bytes:
 * memory that sable keeps after a free must still be usable under the
 * limit. The parent waits for the child with a 60 s deadline. */
#include <errno.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)
#define GiB ((size_t)1 << 30)
#define MAXBLOCKS 65536
#define ROUNDS 3

static void *blocks[MAXBLOCKS];

static unsigned long long rng;
static unsigned long long next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static size_t mixed_size(void)
{
    /* 64 KiB << 0..10, then up to twice that: 64 KiB .. 64 MiB */
    size_t b = (64 * KiB) << (next_rand() % 10);
    return b + next_rand() % (b + 1);
}

static void touch(unsigned char *p, size_t n)
{
    p[0] = 1;
    p[n / 2] = 2;
    p[n - 1] = 3;
}

/* Fills until NULL; returns the bytes allocated, *n the blocks. */
static size_t fill(size_t *n, size_t *nbig)
{
    size_t bytes = 0;
    *n = 0;
    rng = 0x243f6a8885a308d3ull; /* the same sequence every round */
    errno = 0;
    for (;;) {
        CHECK(*n < MAXBLOCKS, "more than %d blocks under a 1 GiB limit", MAXBLOCKS);
        size_t sz = mixed_size();
        unsigned char *p = sable_malloc(sz);
        if (p == NULL) {
            CHECK(errno == ENOMEM, "malloc(%zu) returned NULL with errno %d, not ENOMEM", sz,
                  errno);
            break;
        }
        touch(p, sz);
        blocks[(*n)++] = p;
        bytes += sz;
    }
    *nbig = *n;
    errno = 0;
    for (;;) {
        CHECK(*n < MAXBLOCKS, "more than %d blocks under a 1 GiB limit", MAXBLOCKS);
        unsigned char *p = sable_malloc(64 * KiB);
        if (p == NULL) {
            CHECK(errno == ENOMEM, "malloc(64 KiB) returned NULL with errno %d, not ENOMEM", errno);
            break;
        }
        touch(p, 64 * KiB);
        blocks[(*n)++] = p;
        bytes += 64 * KiB;
    }
    return bytes;
}

static void free_shuffled(size_t n)
{
    rng = 0x13198a2e03707344ull + n;
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)(next_rand() % (i + 1));
        void *t = blocks[i];
        blocks[i] = blocks[j];
        blocks[j] = t;
    }
    for (size_t i = 0; i < n; i++) sable_free(blocks[i]);
}

static void small_allocations_work(int round)
{
    static void *small[4096];
    for (int i = 0; i < 4096; i++) {
        size_t sz = 16 + (size_t)(i % 64) * 64;
        small[i] = sable_malloc(sz);
        CHECK(small[i] != NULL, "round %d: small malloc(%zu) failed after the free", round, sz);
        memset(small[i], i & 0xff, sz);
    }
    for (int i = 0; i < 4096; i++) sable_free(small[i]);
}

static int child(void)
{
    sable_free(sable_malloc(1));
    printf("child: start\n"); /* stdio's buffer is allocated before the limit */
    long vm = vm_size_kib();
    CHECK(vm > 0, "VmSize");
    rlim_t limit = (rlim_t)vm * 1024 + GiB;
    struct rlimit rl = {.rlim_cur = limit, .rlim_max = limit};
    CHECK(setrlimit(RLIMIT_AS, &rl) == 0, "setrlimit");
    printf("VmSize %ld KiB at start, RLIMIT_AS %lu MiB\n", vm, (unsigned long)(limit >> 20));
    size_t first = 0;
    for (int round = 0; round < ROUNDS; round++) {
        size_t n, nbig;
        size_t bytes = fill(&n, &nbig);
        printf("round %d: %zu MiB in %zu blocks (%zu mixed 64 KiB .. 64 MiB, %zu of 64 KiB)\n",
               round, bytes >> 20, n, nbig, n - nbig);
        fflush(stdout);
        CHECK(bytes >= 512 * MiB, "round %d: only %zu MiB under a 1 GiB limit", round,
              bytes >> 20);
        if (round == 0)
            first = bytes;
        else
            CHECK(bytes >= first / 10 * 9, "round %d filled %zu MiB, under 90%% of round 0's %zu MiB",
                  round, bytes >> 20, first >> 20);
        free_shuffled(n);
        small_allocations_work(round);
    }
    return 0;
}

int main(void)
{
    fflush(NULL);
    pid_t pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) _exit(child());
    int status;
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid) break;
        CHECK(w == 0 || errno == EINTR, "waitpid");
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (t.tv_sec - t0.tv_sec >= 60) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            CHECK(0, "the child was still running after 60 s (killed)");
        }
        struct timespec ms = {0, 10 * 1000000L};
        nanosleep(&ms, NULL);
    }
    CHECK(WIFEXITED(status), "the child was killed by signal %d (%s)",
          WIFSIGNALED(status) ? WTERMSIG(status) : 0,
          WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "?");
    CHECK(WEXITSTATUS(status) == 0, "the child exited with status %d", WEXITSTATUS(status));
    return 0;
}
