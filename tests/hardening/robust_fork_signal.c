/* fork from a signal handler of a single-threaded process, whatever lock
 * the interrupted malloc or free holds (glibc promises it: its fork skips
 * the malloc locks when the process has one thread).
 *
 * The process allocates, resizes, checks and frees blocks of every size
 * range (small, large, huge) in a loop for argv[1] seconds, while a second
 * process sends it SIGUSR1 about every 100 us. The handler forks; the child
 * _exits at once, or (argv[2] = "exec") execs /bin/true. The main loop reaps
 * the children (waitpid with WNOHANG, never in the handler) and checks each
 * exited with 0. A watchdog (SIGALRM, re-armed while the loop progresses)
 * fails the test with one line when the process stops making progress: the
 * handler waiting for a lock its own interrupted call holds. */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hard.h"

enum { SLOTS = 64, STALL_S = 10, MAX_CHILDREN = 64, MIN_FORKS = 50 };

extern char **environ;

static volatile sig_atomic_t exec_child;
static atomic_long forked, reaped;
static char *const true_argv[] = {"true", NULL};

static void say(const char *line)
{
    if (write(2, line, strlen(line)) < 0) {
        /* nothing more to say */
    }
}

#define CHECK(cond, what)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            say("FAIL: " what "\n");                                                               \
            _exit(1);                                                                              \
        }                                                                                          \
    } while (0)

static void on_usr1(int sig)
{
    (void)sig;
    int saved = errno;
    if (atomic_load(&forked) - atomic_load(&reaped) < MAX_CHILDREN) {
        pid_t pid = fork();
        if (pid == 0) {
            if (exec_child)
                execve("/bin/true", true_argv, environ);
            _exit(exec_child ? 127 : 0);
        }
        if (pid > 0)
            atomic_fetch_add(&forked, 1);
    }
    errno = saved;
}

static void on_alarm(int sig)
{
    (void)sig;
    say("FAIL: no progress for 10 s: fork in a signal handler deadlocked on a lock held by "
        "the call it interrupted (an allocation, or a fork)\n");
    _exit(1);
}

/* Sends SIGUSR1 to `target` about every 100 us until the target is gone. */
static void sender(pid_t target)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != target)
        _exit(0);
    struct timespec gap = {0, 100000};
    for (;;) {
        if (kill(target, SIGUSR1) != 0)
            _exit(0);
        nanosleep(&gap, NULL);
    }
}

static size_t size_of(unsigned r)
{
    switch (r % 16) {
    case 0:
        return 2 * MiB + r % (6 * MiB); /* huge */
    case 1:
    case 2:
    case 3:
        return 20 * KiB + r % (2 * MiB - 20 * KiB); /* large */
    default:
        return 1 + r % (16 * KiB); /* small */
    }
}

static void fill(unsigned char *p, size_t n, unsigned char v)
{
    p[0] = p[n / 2] = p[n - 1] = v;
}

static void check(const unsigned char *p, size_t n, unsigned char v)
{
    CHECK(p[0] == v && p[n / 2] == v && p[n - 1] == v, "a block lost its contents");
}

/* Reaps every child that has exited; each must have exited with 0. */
static void reap(pid_t sender_pid)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        CHECK(pid != sender_pid, "the signal sender died");
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "a child forked in the handler failed");
        atomic_fetch_add(&reaped, 1);
    }
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 4;
    exec_child = argc > 2 && strcmp(argv[2], "exec") == 0;

    struct sigaction sa = {0};
    sa.sa_handler = on_usr1;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction");
    sa.sa_handler = on_alarm;
    CHECK(sigaction(SIGALRM, &sa, NULL) == 0, "sigaction");

    alarm(STALL_S); /* the first signals may arrive while this process forks the sender */
    pid_t self = getpid();
    pid_t sender_pid = fork();
    CHECK(sender_pid >= 0, "fork of the sender");
    if (sender_pid == 0)
        sender(self);

    unsigned char *blocks[SLOTS] = {0};
    size_t sizes[SLOTS] = {0};
    unsigned r = 12345;
    long ops = 0;
    double start = now_s();
    while (now_s() - start < seconds) {
        for (int i = 0; i < 256; i++, ops++) {
            r = r * 1103515245u + 12345u;
            unsigned s = (r >> 8) % SLOTS;
            unsigned char v = (unsigned char)(s + 1);
            if (blocks[s] == NULL) {
                sizes[s] = size_of(r >> 12);
                blocks[s] = M_MALLOC(sizes[s]);
                CHECK(blocks[s] != NULL, "malloc");
                fill(blocks[s], sizes[s], v);
            } else if (r % 3 == 0) {
                check(blocks[s], sizes[s], v);
                size_t n = size_of(r >> 14);
                unsigned char *q = M_REALLOC(blocks[s], n);
                CHECK(q != NULL, "realloc");
                CHECK(q[0] == v, "realloc lost the contents");
                blocks[s] = q;
                sizes[s] = n;
                fill(q, n, v);
            } else {
                check(blocks[s], sizes[s], v);
                M_FREE(blocks[s]);
                blocks[s] = NULL;
            }
        }
        reap(sender_pid);
        alarm(STALL_S);
    }
    kill(sender_pid, SIGKILL);
    CHECK(waitpid(sender_pid, NULL, 0) == sender_pid, "waitpid of the sender");
    signal(SIGUSR1, SIG_IGN);
    while (atomic_load(&reaped) < atomic_load(&forked)) {
        int status;
        pid_t pid = waitpid(-1, &status, 0);
        CHECK(pid > 0, "waitpid");
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "a child forked in the handler failed");
        atomic_fetch_add(&reaped, 1);
    }
    alarm(0);
    for (int s = 0; s < SLOTS; s++)
        M_FREE(blocks[s]);
    CHECK(atomic_load(&forked) >= MIN_FORKS, "too few forks in the handler to have tested anything");
    printf("fork-signal%s: %ld forks from the handler, %ld operations in %.1f s\n",
        exec_child ? " (exec)" : "", atomic_load(&forked), ops, now_s() - start);
    return 0;
}
