/* fork against stdio (glibc bug 19431's cycle): one thread forks in a loop
 * (the child exits at once, or after allocating, or after using a stream),
 * one flushes every stream (fflush(NULL) holds the stdio list lock and takes
 * each stream's lock in turn), and the others open, write, rewind and close
 * streams: a first write allocates the stream's buffer and a wide field makes
 * fprintf allocate, both under the stream's lock; they also hold a stream's
 * lock around large allocations, which take an arena lock every time; one
 * prints sable's statistics through a callback that opens and closes a
 * stream (it holds sable's control lock and waits for the list lock). If
 * fork took sable's locks before the list lock, the three would close a
 * cycle: the forking thread waits for the list lock, the flusher for a
 * stream, the stream's holder for an arena lock the forking thread holds.
 *
 * Runs for argv[1] seconds (default 4). A watchdog (the main thread) fails
 * the test with one line when no fork has completed for STALL_S seconds, and
 * when the workers do not stop. Linked with libsable.so, or with libsable.a
 * (static-link variant): every allocation of the C library is sable's. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sable.h"

enum { STREAMERS = 2, STALL_S = 10, MIN_FORKS = 20 };

static atomic_int stop;
static atomic_long forks, flushes, streams, prints;
static atomic_int running, forking = 1;

static _Noreturn void fail(const char *what)
{
    char line[256];
    int n = snprintf(line, sizeof line, "FAIL: %s (%ld forks, %ld flushes, %ld streams, %ld prints)\n",
        what, atomic_load(&forks), atomic_load(&flushes), atomic_load(&streams), atomic_load(&prints));
    if (write(2, line, (size_t)n) < 0) {
        /* nothing more to say */
    }
    _exit(1);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void child(long k)
{
    switch (k % 3) {
    case 0:
        break;
    case 1: {
        char *p = malloc(1000 + (size_t)k % 5000);
        char *q = malloc(3 << 20);
        if (p == NULL || q == NULL)
            _exit(2);
        p[0] = q[(3 << 20) - 1] = 1;
        free(q);
        free(p);
        break;
    }
    default: {
        /* The child's stdio works: its list lock and stream locks were reset. */
        FILE *f = fopen("/dev/null", "w");
        if (f == NULL || fprintf(f, "child %ld\n", k) < 0 || fclose(f) != 0)
            _exit(3);
        break;
    }
    }
    _exit(0);
}

static void *forker(void *arg)
{
    (void)arg;
    for (long k = 0; !atomic_load(&stop); k++) {
        pid_t pid = fork();
        if (pid < 0)
            fail("fork failed");
        if (pid == 0)
            child(k);
        int status;
        if (waitpid(pid, &status, 0) != pid)
            fail("waitpid");
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            fail("a forked child failed");
        atomic_fetch_add(&forks, 1);
    }
    atomic_store(&forking, 0);
    atomic_fetch_sub(&running, 1);
    return NULL;
}

static void *flusher(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop)) {
        fflush(NULL);
        atomic_fetch_add(&flushes, 1);
    }
    atomic_fetch_sub(&running, 1);
    return NULL;
}

static void *streamer(void *arg)
{
    unsigned r = (unsigned)(uintptr_t)arg * 2654435761u;
    while (!atomic_load(&stop)) {
        r = r * 1103515245u + 12345u;
        FILE *f = fopen("/dev/null", "w");
        if (f == NULL)
            fail("fopen");
        /* The first write allocates the buffer; a field wider than
         * vfprintf's work buffer allocates one, under the stream's lock. */
        if (fprintf(f, "%u\n", r) < 0 || fprintf(f, "%*u", (int)(300000 + r % 4096), r) < 0)
            fail("fprintf");
        rewind(f);
        flockfile(f);
        size_t n = (size_t)300 << 10 | (r % 65536);
        char *p = malloc(n);
        if (p == NULL)
            fail("malloc under a stream's lock");
        p[0] = p[n - 1] = (char)r;
        char *q = realloc(p, n * 2);
        if (q == NULL)
            fail("realloc under a stream's lock");
        free(q);
        funlockfile(f);
        if (fclose(f) != 0)
            fail("fclose");
        atomic_fetch_add(&streams, 1);
    }
    atomic_fetch_sub(&running, 1);
    return NULL;
}

static void print_cb(void *opaque, const char *text)
{
    (void)opaque;
    FILE *f = fopen("/dev/null", "w");
    if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0)
        fail("a stats callback's stream");
}

static void *printer(void *arg)
{
    (void)arg;
    while (!atomic_load(&stop)) {
        sable_malloc_stats_print(print_cb, NULL, "gmabl");
        atomic_fetch_add(&prints, 1);
        usleep(1000); /* a fork tries the control lock: leave it free at times */
    }
    atomic_fetch_sub(&running, 1);
    return NULL;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 4;
    pthread_t th[STREAMERS + 3];
    atomic_store(&running, STREAMERS + 3);
    if (pthread_create(&th[0], NULL, forker, NULL) != 0 ||
        pthread_create(&th[1], NULL, flusher, NULL) != 0 ||
        pthread_create(&th[2], NULL, printer, NULL) != 0)
        fail("pthread_create");
    for (uintptr_t i = 0; i < STREAMERS; i++)
        if (pthread_create(&th[3 + i], NULL, streamer, (void *)(i + 1)) != 0)
            fail("pthread_create");

    double start = now_s(), last = start;
    long seen = 0;
    while (now_s() - start < seconds || atomic_load(&running) > 0) {
        if (now_s() - start >= seconds)
            atomic_store(&stop, 1);
        long f = atomic_load(&forks);
        if (f != seen) {
            seen = f;
            last = now_s();
        }
        if (now_s() - last > STALL_S)
            fail(atomic_load(&forking) ? "no fork completed for 10 s: fork deadlocked against stdio"
                                       : "the workers did not stop: deadlock");
        usleep(20000);
    }
    for (int i = 0; i < STREAMERS + 3; i++)
        pthread_join(th[i], NULL);
    if (atomic_load(&forks) < MIN_FORKS)
        fail("too few forks to have tested anything");
    printf("fork-stdio: %ld forks, %ld flushes, %ld streams, %ld prints in %.1f s\n",
        atomic_load(&forks), atomic_load(&flushes), atomic_load(&streams), atomic_load(&prints),
        now_s() - start);
    return 0;
}
