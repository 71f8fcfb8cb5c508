/* spawn: run a command as the child of a small process and report it.
 *
 * usage: spawn RESULT_FILE PRELOAD COMMAND [ARGS...]
 *
 * Why it exists: Linux keeps the peak RSS of a process across execve(), and
 * a child forked from the (large) Python runner starts with the runner's
 * pages counted, so ru_maxrss of a small workload would read as the
 * runner's size. Forked from this tiny program instead, the workload's
 * ru_maxrss is its own. PRELOAD ("-" for none) becomes LD_PRELOAD in the
 * child only, so the preloaded allocator never runs in this process.
 *
 * RESULT_FILE gets "pid N" as soon as the child exists, then one line
 * "status S wall W utime U stime T maxrss_kib M minflt F majflt J" after
 * wait4().
 * Exit status: 0 when the report was written, 127 on a setup error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double seconds(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec * 1e-6;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: spawn RESULT_FILE PRELOAD COMMAND...\n");
        return 127;
    }
    int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        perror("spawn: result file");
        return 127;
    }
    double t0 = now();
    pid_t pid = fork();
    if (pid < 0) {
        perror("spawn: fork");
        return 127;
    }
    if (pid == 0) {
        if (strcmp(argv[2], "-") != 0) setenv("LD_PRELOAD", argv[2], 1);
        execvp(argv[3], argv + 3);
        fprintf(stderr, "spawn: cannot run %s: %s\n", argv[3], strerror(errno));
        _exit(127);
    }
    dprintf(fd, "pid %d\n", (int)pid);
    int status;
    struct rusage ru;
    while (wait4(pid, &status, 0, &ru) < 0) {
        if (errno != EINTR) {
            perror("spawn: wait4");
            return 127;
        }
    }
    double wall = now() - t0;
    dprintf(fd,
            "status %d wall %.6f utime %.6f stime %.6f maxrss_kib %ld "
            "minflt %ld\n",
            status, wall, seconds(ru.ru_utime), seconds(ru.ru_stime), ru.ru_maxrss, ru.ru_minflt);
    close(fd);
    return 0;
}
