/* src/inspect/control.c — the control socket beside the stats page: one
 * request line in, one answer line out, then the connection is closed.
 *
 * Requests (docs/inspection.md):
 *   ping        answers "ok sable <version> pid <pid>"; changes nothing
 *   purge       every arena returns its free pages now (arena.<all>.purge)
 *   flush       every thread flushes its cache at its next slow path
 *   decay <ms>  the default dirty_decay_ms (arenas.dirty_decay_ms)
 *   dump        a heap profile: sable has no heap profiler yet, so this
 *               answers with an error and does nothing
 * An answer starts with "ok" or "error:". Every request but ping is
 * written once, as one line, to the process's stderr, and so is every
 * refusal: notes (os_note), which abort:true does not make fatal. purge
 * and decay go through sable_mallctl, so that they do what the names do.
 *
 * Who may ask: the peer's credentials (SO_PEERCRED) must be the process's
 * own user or root. The socket's mode (0600) already keeps others out at
 * connect(); the check stands where the mode does not (a socket whose mode
 * was changed, a directory shared another way).
 *
 * Invariants: a request line is read within CONTROL_READ_MS in all (the
 * connection is non-blocking), so a peer that connects and says nothing,
 * or trickles bytes, delays an update by that much at most.
 * Locking: none of its own; the caller (publish.c) holds page_lock.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "inspect/inspect.h"
#include "os/os.h"
#include "os/topo.h"
#include "process/threads.h"
#include "sable.h"

#define REQUESTS_PER_CALL 4
#define DECAY_MAX_MS 86400000u /* arenas.dirty_decay_ms's bound */
#define STR_(x) #x
#define STR(x) STR_(x)

int control_open(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t len = strlen(path);
    if (len >= sizeof sa.sun_path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(sa.sun_path, path, len + 1);
    struct stat st;
    if (lstat(path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode) || st.st_uid != geteuid()) {
            errno = EEXIST;
            return -1;
        }
        unlink(path); /* a socket of this pid and start time: not alive */
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || chmod(path, 0600) != 0 ||
        listen(fd, REQUESTS_PER_CALL) != 0) {
        int err = errno;
        close(fd);
        unlink(path);
        errno = err;
        return -1;
    }
    return fd;
}

static void answer(int fd, const char *fmt, const char *arg)
{
    char line[256];
    size_t n = os_format(line, sizeof line - 1, fmt, arg);
    line[n++] = '\n';
    (void)!send(fd, line, n, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* Reads one line (without its newline) into buf; false if none came
 * within CONTROL_READ_MS in all, or it does not fit. The socket is
 * non-blocking and the bound is on the whole line, so a peer that trickles
 * bytes holds the update no longer than one that says nothing. */
static bool read_line(int fd, char *buf, size_t cap)
{
    uint64_t deadline = os_now_ns() + (uint64_t)CONTROL_READ_MS * 1000000u;
    size_t n = 0;
    while (n + 1 < cap) {
        ssize_t r = recv(fd, buf + n, cap - 1 - n, MSG_DONTWAIT);
        if (r > 0) {
            n += (size_t)r;
            if (memchr(buf, '\n', n)) break;
            continue;
        }
        if (r == 0 || (errno != EAGAIN && errno != EINTR)) break;
        uint64_t now = os_now_ns();
        if (now >= deadline) break;
        struct pollfd in = {.fd = fd, .events = POLLIN};
        (void)poll(&in, 1, (int)((deadline - now) / 1000000u) + 1);
    }
    buf[n] = '\0';
    char *nl = memchr(buf, '\n', n);
    if (nl == NULL) return false;
    *nl = '\0';
    if (nl > buf && nl[-1] == '\r') nl[-1] = '\0';
    return true;
}

/* Carries out one request from peer (pid, uid); true if it was an action
 * (ping is not). */
static bool serve_one(int fd, const struct ucred *peer)
{
    char req[128], who[64];
    os_format(who, sizeof who, "pid %d, uid %d", (int)peer->pid, (int)peer->uid);
    if (peer->uid != geteuid() && peer->uid != 0) {
        os_note("stats_page: refused a request from %s: not this process's user", who);
        answer(fd, "error: refused: %s is neither this process's user nor root", who);
        return false;
    }
    if (!read_line(fd, req, sizeof req)) {
        os_note("stats_page: refused a request from %s: no request line", who);
        answer(fd, "error: %s", "no request line");
        return false;
    }
    if (strcmp(req, "ping") == 0) {
        char line[96];
        os_format(line, sizeof line, "ok sable " SABLE_VERSION_STRING " pid %d", (int)getpid());
        answer(fd, "%s", line);
        return false;
    }
    if (strcmp(req, "purge") == 0) {
        sable_mallctl("arena." STR(SABLE_MALLCTL_ARENAS_ALL) ".purge", NULL, NULL, NULL, 0);
        os_note("stats_page: purge of every arena (from %s)", who);
        answer(fd, "ok %s", "purge");
        return true;
    }
    if (strcmp(req, "flush") == 0) {
        threads_request_flush();
        os_note("stats_page: every thread flushes its cache at its next slow path (from %s)", who);
        answer(fd, "ok %s", "flush");
        return true;
    }
    if (strncmp(req, "decay ", 6) == 0) {
        uint64_t ms;
        const char *end = os_parse_u64(req + 6, &ms);
        ssize_t v = (ssize_t)ms;
        if (end == NULL || *end != '\0' || ms > DECAY_MAX_MS ||
            sable_mallctl("arenas.dirty_decay_ms", NULL, NULL, &v, sizeof v) != 0) {
            req[40] = '\0';
            os_note("stats_page: refused 'decay %s' from %s: not 0 to 86400000 ms", req + 6, who);
            answer(fd, "error: decay wants milliseconds from 0 to 86400000, not '%s'", req + 6);
            return false;
        }
        os_note("stats_page: dirty_decay_ms set to %s (from %s)", req + 6, who);
        answer(fd, "ok decay %s", req + 6);
        return true;
    }
    if (strcmp(req, "dump") == 0) {
        os_note("stats_page: refused 'dump' from %s: no heap profiler in this build", who);
        answer(fd, "error: %s", "dump: this build of sable has no heap profiler (nothing written)");
        return false;
    }
    req[40] = '\0';
    for (char *c = req; *c; c++)
        if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f) *c = '?'; /* one line, printable */
    os_note("stats_page: refused an unknown request '%s' from %s", req, who);
    answer(fd, "error: unknown request '%s' (ping, purge, flush, decay MS, dump)", req);
    return false;
}

unsigned control_serve(int lfd)
{
    unsigned actions = 0;
    for (int i = 0; i < REQUESTS_PER_CALL; i++) {
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) break; /* EAGAIN: nothing waits */
        struct ucred peer;
        socklen_t len = sizeof peer;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &len) == 0 && len == sizeof peer)
            actions += serve_one(fd, &peer);
        close(fd);
    }
    return actions;
}
