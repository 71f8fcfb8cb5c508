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
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "forked.h"
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

static void child(void *arg)
{
    (void)arg;
    pthread_t t[2];
    if (pthread_barrier_init(&barrier, NULL, 2) != 0) _exit(125);
    for (int i = 0; i < 2; i++)
        if (pthread_create(&t[i], NULL, racer, NULL) != 0) _exit(125);
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    _exit(0); /* both frees returned: the double free went unnoticed */
}

/* One round; returns NULL on success or what went wrong. */
static const char *one_round(size_t size, char *err, size_t *err_len, int *status)
{
    unsigned char *p = M_MALLOC(size);
    if (p == NULL) return "malloc failed in the parent";
    memset(p, 0x42, size < 8192 ? size : 8192);
    victim = p;
    atomic_store(&arrived, 0);
    const char *why = forked_run(child, NULL, CHILD_TIMEOUT_MS, err, ERR_MAX, err_len, status);
    if (why) return why;
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
