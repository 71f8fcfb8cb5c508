/* Racing double frees of large and huge blocks: two threads free the same
 * pointer at the same moment. docs/security.md promises that a double free
 * of a large block above 256 KiB, of a huge block, and of any block under
 * secure:true is caught at the second free: exactly one free goes through,
 * the other ends the process with SIGABRT after the one line
 *
 *     sable: free(): double free of 0x...
 *
 * naming the pointer. Never another signal, a hang, a second line or both
 * frees returning.
 *
 *   hardening-race-double-free SIZE [ROUNDS]
 *
 * Each round forks a child (the block is allocated in the parent before the
 * fork, so the parent knows the pointer); the child starts two threads that
 * meet at a barrier, spin until both are there and free the block, and
 * exits 0 if both frees return. The parent reads the child's stderr through
 * a pipe, with a 10 s deadline per child (then SIGKILL: a hang fails). The
 * test's environment may set SABLE_CONF (secure:true); the children inherit
 * the parent's initialised allocator.
 *
 * Built twice (see hard.h): unprefixed through libsable.so, and prefixed. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hard.h"

enum { CHILD_TIMEOUT_MS = 10000, ERR_MAX = 4096 };

static void *victim;
static pthread_barrier_t barrier;
static atomic_int arrived;

static void *racer(void *arg)
{
    (void)arg;
    void *p = victim;
    __asm__ volatile("" : "+r"(p)); /* neither warn about nor fold the misuse */
    pthread_barrier_wait(&barrier);
    /* The barrier wakes the threads some microseconds apart; spinning until
     * both have left it lines the two frees up much closer. */
    atomic_fetch_add(&arrived, 1);
    while (atomic_load(&arrived) < 2) {
    }
    M_FREE(p);
    return NULL;
}

static void child(int errfd)
{
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    if (dup2(errfd, STDERR_FILENO) < 0) _exit(125);
    close(errfd);
    pthread_t t[2];
    if (pthread_barrier_init(&barrier, NULL, 2) != 0) _exit(125);
    for (int i = 0; i < 2; i++)
        if (pthread_create(&t[i], NULL, racer, NULL) != 0) _exit(125);
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    _exit(0); /* both frees returned: the double free went unnoticed */
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One round; returns NULL on success or what went wrong. */
static const char *one_round(size_t size, char *err, size_t *err_len, int *status)
{
    unsigned char *p = M_MALLOC(size);
    if (p == NULL) return "malloc failed in the parent";
    memset(p, 0x42, size < 8192 ? size : 8192);
    victim = p;
    atomic_store(&arrived, 0);
    int pfd[2];
    if (pipe(pfd) != 0) return "pipe failed";
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return "fork failed";
    if (pid == 0) {
        close(pfd[0]);
        child(pfd[1]);
    }
    close(pfd[1]);
    *err_len = 0;
    int timed_out = 0;
    long long deadline = now_ms() + CHILD_TIMEOUT_MS;
    struct pollfd fd = {pfd[0], POLLIN, 0};
    for (;;) {
        long long left = deadline - now_ms();
        if (left <= 0) {
            timed_out = 1;
            break;
        }
        int r = poll(&fd, 1, (int)left);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) break;
        if (r == 0) continue;
        ssize_t n = read(pfd[0], err + *err_len, ERR_MAX - 1 - *err_len);
        if (n <= 0) break; /* EOF: the child is gone (or closed stderr) */
        *err_len += (size_t)n;
        if (*err_len == ERR_MAX - 1) break;
    }
    close(pfd[0]);
    err[*err_len] = '\0';
    if (!timed_out) {
        /* EOF came; the child ends right after. Bound the wait anyway. */
        for (;;) {
            pid_t w = waitpid(pid, status, WNOHANG);
            if (w == pid) break;
            if (w < 0 && errno != EINTR) return "waitpid failed";
            if (now_ms() >= deadline) {
                timed_out = 1;
                break;
            }
            struct timespec ms = {0, 1000000};
            nanosleep(&ms, NULL);
        }
    }
    if (timed_out) {
        kill(pid, SIGKILL);
        while (waitpid(pid, status, 0) < 0 && errno == EINTR) {
        }
        return "the child hung (killed after 10 s)";
    }
    M_FREE(p); /* the parent's copy of the block is still live */

    char expected[128];
    snprintf(expected, sizeof expected, "sable: free(): double free of 0x%" PRIxPTR "\n",
        (uintptr_t)victim);
    if (WIFEXITED(*status) && WEXITSTATUS(*status) == 125) return "the child could not be set up";
    if (WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
        return "both frees returned: the double free went unnoticed";
    if (!WIFSIGNALED(*status)) return "the child exited with an unexpected status";
    if (WTERMSIG(*status) != SIGABRT) return "the child was killed by a signal other than SIGABRT";
    if (*err_len == 0) return "SIGABRT with nothing on stderr";
    if (strchr(err, '\n') != err + *err_len - 1) return "stderr is not exactly one line";
    if (strcmp(err, expected) != 0) return "the line on stderr is not the double-free message";
    return NULL;
}

static void print_quoted(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '\n')
            fputs("\\n", stdout);
        else if ((unsigned char)*s < 0x20)
            printf("\\x%02x", (unsigned char)*s);
        else
            putchar(*s);
    }
    putchar('"');
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s SIZE [ROUNDS]\n", argv[0]);
        return 2;
    }
    char *end;
    size_t size = strtoull(argv[1], &end, 0);
    if (*end == 'k' || *end == 'K') size <<= 10, end++;
    else if (*end == 'm' || *end == 'M') size <<= 20, end++;
    unsigned long rounds = argc == 3 ? strtoul(argv[2], NULL, 0) : 200;
    if (*end != '\0' || size == 0 || rounds == 0) {
        fprintf(stderr, "%s: bad SIZE or ROUNDS\n", argv[0]);
        return 2;
    }
    const char *conf = getenv("SABLE_CONF");
    printf("%s API, %zu-byte blocks, %lu rounds, SABLE_CONF=%s\n", M_VARIANT, size, rounds,
        conf ? conf : "(unset)");
    static char err[ERR_MAX];
    unsigned long failures = 0;
    for (unsigned long r = 0; r < rounds; r++) {
        size_t err_len;
        int status = 0;
        const char *why = one_round(size, err, &err_len, &status);
        if (why == NULL) continue;
        failures++;
        if (failures <= 5) {
            printf("round %lu, block %p: FAIL: %s; child status %#x", r, victim, why, status);
            if (WIFSIGNALED(status)) printf(" (signal %d, %s)", WTERMSIG(status),
                strsignal(WTERMSIG(status)));
            printf("; stderr ");
            print_quoted(err);
            putchar('\n');
        }
    }
    printf("%lu of %lu rounds failed\n", failures, rounds);
    return failures ? 1 : 0;
}
