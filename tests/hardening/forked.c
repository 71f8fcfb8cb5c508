/* See forked.h. */
#include "forked.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

long long forked_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *forked_run(void (*fn)(void *), void *arg, int timeout_ms, char *err, size_t cap,
                       size_t *err_len, int *status)
{
    int pfd[2];
    *err_len = 0;
    err[0] = '\0';
    if (pipe(pfd) != 0) return "pipe failed";
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return "fork failed";
    if (pid == 0) {
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core);
        close(pfd[0]);
        if (dup2(pfd[1], STDERR_FILENO) < 0) _exit(125);
        close(pfd[1]);
        fn(arg);
        _exit(125);
    }
    close(pfd[1]);
    int timed_out = 0;
    long long deadline = forked_now_ms() + timeout_ms;
    struct pollfd fd = {pfd[0], POLLIN, 0};
    for (;;) {
        long long left = deadline - forked_now_ms();
        if (left <= 0) {
            timed_out = 1;
            break;
        }
        int r = poll(&fd, 1, (int)left);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) break;
        if (r == 0) continue;
        ssize_t n = read(pfd[0], err + *err_len, cap - 1 - *err_len);
        if (n <= 0) break; /* EOF: the child is gone (or closed stderr) */
        *err_len += (size_t)n;
        if (*err_len == cap - 1) break;
    }
    close(pfd[0]);
    err[*err_len] = '\0';
    /* EOF came; the child ends right after. Bound the wait anyway. */
    while (!timed_out) {
        pid_t w = waitpid(pid, status, WNOHANG);
        if (w == pid) return NULL;
        if (w < 0 && errno != EINTR) return "waitpid failed";
        if (forked_now_ms() >= deadline) timed_out = 1;
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    kill(pid, SIGKILL);
    while (waitpid(pid, status, 0) < 0 && errno == EINTR) {
    }
    return "the child hung (killed at its deadline)";
}
