/* tests/inspect/target.c — a process for the stats page's tests, run
 * under LD_PRELOAD=libsable.so with stats_page:true (inspect_test.py).
 *
 *   target hold    allocates a fixed pattern, then answers each line on
 *                  stdin with one line of sable_mallctl's figures
 *   target churn   allocates and frees without end, growing and shrinking
 *   target bloat   allocates 192 MiB in small and large blocks, frees it
 *                  all, says "ready" and sleeps
 *   target fork    forks a child that sleeps; prints the child's pid
 *
 * Every mode (and the forked child) exits when stdin reaches its end.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

typedef int mallctl_fn(const char *, void *, size_t *, void *, size_t);
static mallctl_fn *ctl;

/* A uint64_t or size_t name, or (size 4) an unsigned one. */
static uint64_t get_sized(const char *name, size_t size)
{
    union {
        uint64_t u64;
        unsigned u;
    } v = {0};
    size_t n = size;
    if (ctl(name, &v, &n, NULL, 0) != 0) {
        fprintf(stderr, "target: mallctl %s failed\n", name);
        exit(1);
    }
    return size == sizeof v.u ? v.u : v.u64;
}

static uint64_t get(const char *name) { return get_sized(name, sizeof(uint64_t)); }

static volatile sig_atomic_t child_quit;
static void on_usr1(int sig)
{
    (void)sig;
    child_quit = 1;
}

static void *eof_watch(void *arg)
{
    (void)arg;
    char buf[64];
    while (fgets(buf, sizeof buf, stdin)) {}
    exit(0); /* exit's handlers remove the page */
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "hold";
    ctl = (mallctl_fn *)dlsym(RTLD_DEFAULT, "sable_mallctl");
    if (ctl == NULL) {
        fprintf(stderr, "target: not running under sable\n");
        return 1;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (strcmp(mode, "hold") == 0) {
        static void *keep[30000];
        for (int i = 0; i < 30000; i++) {
            keep[i] = malloc(16 + (size_t)(i % 40) * 48);
            memset(keep[i], 7, 16);
        }
        for (int i = 0; i < 30000; i += 3) free(keep[i]);
        void *big = malloc(3 << 20);
        memset(big, 1, 3 << 20);
        printf("ready\n");
        char line[64];
        while (fgets(line, sizeof line, stdin)) {
            uint64_t e = 1;
            ctl("epoch", NULL, NULL, &e, sizeof e);
            printf("allocated %llu active %llu mapped %llu metadata %llu retained %llu resident %llu "
                   "tcache_bytes %llu class3_nmalloc %llu class3_curregs %llu arenas %u\n",
                   (unsigned long long)get("stats.allocated"), (unsigned long long)get("stats.active"),
                   (unsigned long long)get("stats.mapped"), (unsigned long long)get("stats.metadata"),
                   (unsigned long long)get("stats.retained"), (unsigned long long)get("stats.resident"),
                   (unsigned long long)get("stats.tcache_bytes"),
                   (unsigned long long)get("stats.arenas.4096.bins.3.nmalloc"),
                   (unsigned long long)get("stats.arenas.4096.bins.3.curregs"),
                   (unsigned)get_sized("arenas.narenas", sizeof(unsigned)));
        }
        return 0;
    }
    pthread_t t;
    pthread_create(&t, NULL, eof_watch, NULL);
    if (strcmp(mode, "churn") == 0) {
        static void *slot[4096];
        for (unsigned long i = 0;; i++) {
            unsigned k = (unsigned)(i * 2654435761u) % 4096;
            free(slot[k]);
            slot[k] = malloc(32 + (i % 1000) * ((i / 200000) % 4 + 1));
            if (i % 20000 == 0) usleep(2000);
        }
    }
    if (strcmp(mode, "bloat") == 0) {
        enum { N = 12288 };
        static void *p[N];
        for (int i = 0; i < N; i++) { /* 12288 x 16 KiB = 192 MiB */
            p[i] = malloc(i % 2 ? 16384 : 16000);
            memset(p[i], 3, 16000);
        }
        for (int i = 0; i < N; i++) free(p[i]);
        printf("ready\n");
        for (;;) pause();
    }
    if (strcmp(mode, "fork") == 0) {
        void *q = malloc(1000);
        pid_t pid = fork();
        if (pid == 0) {
            pthread_create(&t, NULL, eof_watch, NULL); /* the parent's is not in the child */
            signal(SIGUSR1, on_usr1);                  /* SIGUSR1: exit (with exit's handlers) */
            /* More blocks than a cache holds: slow paths, which start the
             * child's background thread. */
            static void *b[5000];
            while (!child_quit) {
                for (int i = 0; i < 5000; i++) b[i] = malloc(64);
                for (int i = 0; i < 5000; i++) free(b[i]);
                usleep(20000);
            }
            exit(0);
        }
        printf("child %d\n", (int)pid);
        char line[8];
        (void)!read(0, line, 0);
        for (;;) pause();
        free(q);
    }
    fprintf(stderr, "target: unknown mode %s\n", mode);
    return 2;
}
