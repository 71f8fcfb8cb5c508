/* Threads cancelled inside malloc_stats, malloc_info and
 * sable_malloc_stats_print leave no lock held: afterwards mallinfo2, a
 * mallctl epoch and fork (the child allocates and exits) all complete. A
 * hang anywhere is turned into a failure by a watchdog.
 *
 * Phase 1: many threads, each cancelled (deferred cancellation) after a
 * random delay while it calls one report in a loop, with its output going
 * to a pipe that a drainer empties. Phase 2: the pipe is full and nobody
 * reads it, so the report blocks in write(2) inside the call; the thread is
 * cancelled there, then the pipe is drained. malloc_stats is, as in glibc,
 * no cancellation point: its thread must leave the call and be cancelled
 * after it. The other two write through a cancellation point (fputs on the
 * caller's stream, the caller's callback), and some cancellations must act
 * inside them.
 *
 * The reports are called through the control layer's entry points, which
 * the exported malloc_stats and malloc_info call and nothing else
 * (preload/preload.c), so that this test builds against the prefixed core
 * and runs under the sanitizers. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctl/glibc.h"
#include "stress.h"

enum { ITERATIONS = 150, PHASE_TIMEOUT_S = 30, MAX_DELAY_US = 1500 };

enum report { R_STATS, R_INFO, R_PRINT, R_NREPORTS };
static const char *const report_name[R_NREPORTS] = {"malloc_stats", "malloc_info",
                                                    "sable_malloc_stats_print"};

static int pipe_r, pipe_w, err_fd; /* err_fd: the test's own stderr */
static FILE *info_fp;              /* malloc_info's stream, on the pipe, unbuffered */

/* ---- the watchdog: a phase that does not end in time fails the test ---- */

static _Atomic long deadline; /* CLOCK_MONOTONIC seconds; 0: disarmed */
static const char *_Atomic phase;

static long now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

static void arm(const char *what)
{
    atomic_store(&phase, what);
    atomic_store(&deadline, now_s() + PHASE_TIMEOUT_S);
}

static void say(const char *a, const char *b)
{
    if (write(err_fd, a, strlen(a)) < 0 || write(err_fd, b, strlen(b)) < 0 ||
        write(err_fd, "\n", 1) < 0)
        _exit(3);
}

static void *watchdog(void *arg)
{
    (void)arg;
    for (;;) {
        usleep(100 * 1000);
        long d = atomic_load(&deadline);
        if (d && now_s() > d) {
            say("cancel-stats: hung (a lock left held?) in: ", atomic_load(&phase));
            _exit(1);
        }
    }
    return NULL;
}

/* ---- the pipe ---- */

static atomic_bool draining;

/* Reads the pipe (non-blocking) while `draining`: once it is cleared, no
 * read is left in flight a millisecond later. */
static void *drainer(void *arg)
{
    (void)arg;
    static char buf[65536];
    for (;;) {
        if (!atomic_load(&draining) || read(pipe_r, buf, sizeof buf) <= 0) usleep(200);
    }
    return NULL;
}

static void set_nonblock(int fd, bool on)
{
    int fl = fcntl(fd, F_GETFL);
    CHECK(fl >= 0 && fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK) == 0, "fcntl");
}

/* Fills the pipe to capacity (nobody drains it). */
static void fill_pipe(void)
{
    atomic_store(&draining, false);
    usleep(20 * 1000);
    static const char junk[4096];
    set_nonblock(pipe_w, true);
    while (write(pipe_w, junk, sizeof junk) > 0 || errno == EINTR) {
    }
    CHECK(errno == EAGAIN, "filling the pipe: %s", strerror(errno));
    set_nonblock(pipe_w, false);
}

/* ---- the callers ---- */

static void print_cb(void *opaque, const char *s)
{
    (void)opaque;
    size_t n = strlen(s);
    while (n) {
        ssize_t k = write(pipe_w, s, n); /* a cancellation point */
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return;
        s += k;
        n -= (size_t)k;
    }
}

typedef struct caller {
    enum report r;
    atomic_int in_call; /* still 1 after the join: cancelled inside the call */
    atomic_long calls;
} caller_t;

static void *call_reports(void *arg)
{
    caller_t *c = arg;
    for (;;) {
        atomic_store(&c->in_call, 1);
        switch (c->r) {
        case R_STATS: ctl_malloc_stats(); break;
        case R_INFO: CHECK(ctl_malloc_info(0, info_fp) == 0, "malloc_info"); break;
        default: sable_malloc_stats_print(print_cb, NULL, ""); break;
        }
        atomic_store(&c->in_call, 0);
        atomic_fetch_add(&c->calls, 1);
        pthread_testcancel();
    }
    return NULL;
}

/* Starts a caller of report r, cancels it after delay_us (or once it has
 * had time to block, for delay_us < 0), and returns whether the
 * cancellation acted inside the call. */
static bool cancel_one(enum report r, long delay_us, bool drain_after_cancel)
{
    caller_t c = {.r = r};
    pthread_t t;
    CHECK(pthread_create(&t, NULL, call_reports, &c) == 0, "pthread_create");
    usleep(delay_us >= 0 ? (useconds_t)delay_us : 100 * 1000);
    CHECK(pthread_cancel(t) == 0, "pthread_cancel");
    if (drain_after_cancel) atomic_store(&draining, true);
    void *ret;
    CHECK(pthread_join(t, &ret) == 0, "pthread_join");
    CHECK(ret == PTHREAD_CANCELED, "the caller was cancelled");
    return atomic_load(&c.in_call) != 0;
}

/* ---- after the cancellations: nothing may be left locked ---- */

static void everything_still_works(void)
{
    arm("mallinfo2 after the cancellations");
    struct mallinfo2 mi = ctl_mallinfo2();
    CHECK(mi.hblks >= 1, "mallinfo2 answers (the huge block kept)");
    arm("sable_mallctl(epoch) after the cancellations");
    uint64_t e = 1;
    size_t len = sizeof e;
    CHECK(sable_mallctl("epoch", &e, &len, &e, len) == 0, "epoch");
    arm("fork after the cancellations");
    pid_t pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
        void *p = sable_malloc(100);
        sable_free(p);
        struct mallinfo2 m = ctl_mallinfo2();
        _exit(p != NULL && m.hblks >= 1 ? 0 : 1);
    }
    int status;
    CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x", status);
    arm("a report after the cancellations");
    atomic_store(&draining, true);
    ctl_malloc_stats();
    CHECK(ctl_malloc_info(0, info_fp) == 0, "malloc_info");
    sable_malloc_stats_print(print_cb, NULL, "");
}

int main(void)
{
    int fds[2];
    CHECK(pipe(fds) == 0, "pipe");
    pipe_r = fds[0];
    pipe_w = fds[1];
    set_nonblock(pipe_r, true);
    err_fd = dup(2);
    CHECK(err_fd >= 0 && dup2(pipe_w, 2) == 2, "fd 2 onto the pipe");
    FILE *err = fdopen(err_fd, "w"); /* the test's own messages (CHECK) */
    CHECK(err != NULL && setvbuf(err, NULL, _IONBF, 0) == 0, "stderr");
    stderr = err;
    info_fp = fdopen(dup(pipe_w), "w");
    CHECK(info_fp != NULL && setvbuf(info_fp, NULL, _IONBF, 0) == 0, "malloc_info's stream");
    pthread_t w, d;
    CHECK(pthread_create(&w, NULL, watchdog, NULL) == 0, "watchdog");
    CHECK(pthread_create(&d, NULL, drainer, NULL) == 0, "drainer");
    void *keep = sable_malloc(8 * MiB); /* something in every report */

    uint64_t rng = 0x5eed;
    unsigned inside[R_NREPORTS] = {0};
    for (enum report r = 0; r < R_NREPORTS; r++) {
        arm(report_name[r]);
        atomic_store(&draining, true);
        for (int i = 0; i < ITERATIONS; i++)
            inside[r] += cancel_one(r, (long)(rng_next(&rng) % MAX_DELAY_US), false);
    }
    for (enum report r = 0; r < R_NREPORTS; r++) {
        arm(report_name[r]);
        fill_pipe();
        inside[r] += cancel_one(r, -1, true);
    }
    everything_still_works();
    atomic_store(&deadline, 0);
    sable_free(keep);
    fprintf(stderr, "cancelled inside the call: malloc_stats %u, malloc_info %u, stats_print %u\n",
            inside[R_STATS], inside[R_INFO], inside[R_PRINT]);
    CHECK(inside[R_STATS] == 0, "malloc_stats is no cancellation point");
    CHECK(inside[R_INFO] > 0 && inside[R_PRINT] > 0,
          "cancellations acted inside malloc_info and stats_print");
    return 0;
}
