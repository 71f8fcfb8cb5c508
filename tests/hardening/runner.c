/* See runner.h. */
#include "runner.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

enum {
    PUBLISH_FD = 3,         /* the child's end of the published-values pipe */
    CHILD_TIMEOUT_MS = 20000,
    ERR_MAX = 8192,
};

void runner_publish(uintptr_t ptr, size_t size, size_t usable)
{
    struct published rec = {ptr, size, usable};
    /* one write of a few bytes to a pipe is atomic */
    if (write(PUBLISH_FD, &rec, sizeof rec) != (ssize_t)sizeof rec)
        _exit(126);
}

/* environ without SABLE_CONF, plus SABLE_CONF=conf if conf is set. */
static char **child_env(const char *conf, char *conf_entry, size_t entry_size)
{
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 2, sizeof *env);
    if (!env)
        return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "SABLE_CONF=", 11) != 0)
            env[k++] = environ[i];
    if (conf) {
        snprintf(conf_entry, entry_size, "SABLE_CONF=%s", conf);
        env[k++] = conf_entry;
    }
    env[k] = NULL;
    return env;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void describe_status(int status, char *buf, size_t size)
{
    if (WIFEXITED(status))
        snprintf(buf, size, "exited with status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, size, "killed by signal %d (%s)", WTERMSIG(status),
            strsignal(WTERMSIG(status)));
    else
        snprintf(buf, size, "status %#x", status);
}

static void format_expected(const struct expectation *e, const struct published *pub,
    char *buf, size_t size)
{
    switch (e->message) {
    case MSG_INVALID:
        snprintf(buf, size, "sable: %s(): invalid pointer 0x%" PRIxPTR "\n", e->fn, pub->ptr);
        break;
    case MSG_DOUBLE_FREE:
        snprintf(buf, size, "sable: %s(): double free of 0x%" PRIxPTR "\n", e->fn, pub->ptr);
        break;
    case MSG_WRONG_SIZE:
        snprintf(buf, size,
            "sable: %s(): wrong size %zu for the block of %zu bytes at 0x%" PRIxPTR "\n", e->fn,
            pub->size, pub->usable, pub->ptr);
        break;
    case MSG_CORRUPTION:
        snprintf(buf, size, "sable: heap corruption detected at 0x%" PRIxPTR "\n", pub->ptr);
        break;
    case MSG_NONE:
        buf[0] = '\0';
        break;
    }
}

/* Prints s with control characters escaped, so that a missing or extra
 * newline is visible. */
static void print_quoted(const char *label, const char *s)
{
    printf("  %s \"", label);
    for (; *s; s++) {
        if (*s == '\n')
            fputs("\\n", stdout);
        else if ((unsigned char)*s < 0x20)
            printf("\\x%02x", (unsigned char)*s);
        else
            putchar(*s);
    }
    printf("\"\n");
}

int runner_run(const char *case_name, const char *conf, const struct expectation *expect)
{
    static char err[ERR_MAX];
    static char conf_entry[512];
    int errp[2], pubp[2];
    if (pipe(errp) != 0 || pipe(pubp) != 0) {
        perror("pipe");
        return 1;
    }
    char **env = child_env(conf, conf_entry, sizeof conf_entry);
    if (!env) {
        perror("calloc");
        return 1;
    }
    char *const args[] = {"hardening-child", RUNNER_CHILD_FLAG, (char *)case_name, NULL};
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 1;
    }
    if (pid == 0) {
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core);
        /* move both write ends above the target descriptors first */
        int e = fcntl(errp[1], F_DUPFD, 10);
        int p = fcntl(pubp[1], F_DUPFD, 10);
        if (e < 0 || p < 0)
            _exit(125);
        close(errp[0]);
        close(errp[1]);
        close(pubp[0]);
        close(pubp[1]);
        if (dup2(e, STDERR_FILENO) < 0 || dup2(p, PUBLISH_FD) < 0)
            _exit(125);
        close(e);
        close(p);
        execve("/proc/self/exe", args, env);
        static const char msg[] = "hardening runner: execve of the test binary failed\n";
        (void)!write(STDERR_FILENO, msg, sizeof msg - 1);
        _exit(127);
    }
    free(env);
    close(errp[1]);
    close(pubp[1]);

    size_t err_len = 0;
    struct published pub = {0};
    unsigned char pub_buf[sizeof pub];
    size_t pub_fill = 0;
    int published = 0;
    int timed_out = 0;
    struct pollfd fds[2] = {{errp[0], POLLIN, 0}, {pubp[0], POLLIN, 0}};
    long long deadline = now_ms() + CHILD_TIMEOUT_MS;
    while (fds[0].fd >= 0 || fds[1].fd >= 0) {
        long long left = deadline - now_ms();
        if (left <= 0) {
            timed_out = 1;
            kill(pid, SIGKILL);
            break;
        }
        int r = poll(fds, 2, (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            perror("poll");
            kill(pid, SIGKILL);
            break;
        }
        if (fds[0].fd >= 0 && fds[0].revents) {
            char tmp[1024];
            ssize_t n = read(fds[0].fd, tmp, sizeof tmp);
            if (n <= 0) {
                close(fds[0].fd);
                fds[0].fd = -1;
            } else {
                size_t take = (size_t)n;
                if (take > ERR_MAX - 1 - err_len)
                    take = ERR_MAX - 1 - err_len;
                memcpy(err + err_len, tmp, take);
                err_len += take;
            }
        }
        if (fds[1].fd >= 0 && fds[1].revents) {
            ssize_t n = read(fds[1].fd, pub_buf + pub_fill, sizeof pub_buf - pub_fill);
            if (n <= 0) {
                close(fds[1].fd);
                fds[1].fd = -1;
            } else {
                pub_fill += (size_t)n;
                if (pub_fill == sizeof pub_buf) {
                    memcpy(&pub, pub_buf, sizeof pub);
                    published++;
                    pub_fill = 0;
                }
            }
        }
    }
    for (int i = 0; i < 2; i++)
        if (fds[i].fd >= 0)
            close(fds[i].fd);
    err[err_len] = '\0';
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) {
            perror("waitpid");
            return 1;
        }

    char got[128], expected[512];
    describe_status(status, got, sizeof got);
    format_expected(expect, &pub, expected, sizeof expected);
    printf("case %s, SABLE_CONF=%s: child %s\n", case_name, conf ? conf : "(unset)", got);
    print_quoted("stderr:  ", err);
    if (published)
        printf("  published: ptr 0x%" PRIxPTR ", size %zu, usable %zu\n", pub.ptr, pub.size,
            pub.usable);

    const char *why = NULL;
    if (timed_out)
        why = "the child was still running after 20 s (killed)";
    else if (WIFEXITED(status) && WEXITSTATUS(status) >= 125)
        why = "the child could not be set up (exec or publish failed)";
    else
        switch (expect->kind) {
        case EXPECT_LINE_ABORT:
            print_quoted("expected:", expected);
            if (!published)
                why = "the child did not get as far as the misuse";
            else if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT)
                why = "the child was not ended by SIGABRT";
            else if (err_len == 0)
                why = "nothing on stderr";
            else if (strchr(err, '\n') != err + err_len - 1)
                why = "stderr is not exactly one line";
            else if (strcmp(err, expected) != 0)
                why = "the line on stderr is not the expected message";
            break;
        case EXPECT_SEGV:
            if (!published)
                why = "the child did not get as far as the misuse";
            else if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGSEGV)
                why = "the child was not killed by SIGSEGV";
            break;
        case EXPECT_EXIT0:
            if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                why = "the child did not exit with status 0";
            else if (err_len != 0)
                why = "the child wrote to stderr";
            break;
        }
    if (why) {
        printf("FAIL: %s\n", why);
        return 1;
    }
    printf("ok\n");
    return 0;
}
