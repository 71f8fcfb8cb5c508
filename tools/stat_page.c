/* tools/stat_page.c — finding, checking and reading stats pages, and
 * talking to the control socket (stat_page.h).
 *
 * A page is read without trusting it: its size, magic, version and owner
 * are checked before it is mapped read-only, and each snapshot is checked
 * after it is copied, so that a stale, foreign, truncated or corrupt page
 * gives one line of error and never a crash.
 */
#include "stat_page.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define READ_BUDGET_MS 1000 /* how long copies are tried while updates keep coming */

unsigned stat_dirs(const char *dirs[2])
{
    unsigned n = 0;
    dirs[n++] = "/dev/shm";
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    if (xdg && *xdg == '/' && strcmp(xdg, "/dev/shm") != 0) dirs[n++] = xdg;
    return n;
}

/* Parses "sable.<pid>.<start>.page" into t (paths under dir). */
static bool parse_name(const char *dir, const char *name, stat_target_t *t)
{
    int pid;
    uint64_t start;
    if (!sable_page_parse_name(name, &pid, &start)) return false;
    t->pid = pid;
    t->start = start;
    int a = snprintf(t->page, sizeof t->page, "%s/%s", dir, name);
    int b = snprintf(t->sock, sizeof t->sock, "%s/%s%d.%llu%s", dir, SABLE_PAGE_PREFIX, pid,
                     (unsigned long long)start, SABLE_SOCK_SUFFIX);
    return a > 0 && (size_t)a < sizeof t->page && b > 0 && (size_t)b < sizeof t->sock;
}

unsigned stat_list(void (*fn)(const stat_target_t *t, void *arg), void *arg)
{
    const char *dirs[2];
    unsigned nd = stat_dirs(dirs), count = 0;
    for (unsigned i = 0; i < nd; i++) {
        DIR *d = opendir(dirs[i]);
        if (d == NULL) continue;
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            stat_target_t t;
            if (!parse_name(dirs[i], e->d_name, &t)) continue;
            count++;
            if (fn) fn(&t, arg);
        }
        closedir(d);
    }
    return count;
}

bool stat_proc_start(int pid, uint64_t *start)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL) return false;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *s = strrchr(buf, ')');
    if (s == NULL) return false;
    s++;
    for (unsigned field = 3; field < 22; field++) {
        while (*s == ' ') s++;
        while (*s && *s != ' ') s++;
    }
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s) return false;
    *start = v;
    return true;
}

/* 1 if some process holds the page's life lock (an OFD lock the library
 * keeps on it from its creation to its process's exit or exec), 0 if none
 * does, -1 if that cannot be told (the page cannot be opened). */
static int page_held(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) return -1;
    struct stat st;
    int held = fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ? -1 : sable_page_held(fd);
    close(fd);
    return held;
}

const char *stat_stale(const stat_target_t *t, char buf[STAT_ERR])
{
    uint64_t start;
    int held = page_held(t->page);
    if (held == 1) return NULL;
    if (!stat_proc_start(t->pid, &start)) {
        snprintf(buf, STAT_ERR, "%s is stale: process %d is gone", t->page, t->pid);
        return buf;
    }
    if (start != t->start) {
        snprintf(buf, STAT_ERR,
                 "%s is stale: pid %d is another process now (started at tick %llu, the page's "
                 "at %llu)",
                 t->page, t->pid, (unsigned long long)start, (unsigned long long)t->start);
        return buf;
    }
    if (held == 0) {
        snprintf(buf, STAT_ERR,
                 "%s is stale: process %d no longer holds it (it ran exec, or is ending)", t->page,
                 t->pid);
        return buf;
    }
    return NULL;
}

const char *stat_foreign(const stat_target_t *t, char buf[STAT_ERR])
{
    struct stat self;
    uint64_t ns = 0;
    int fd = open(t->page, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return NULL;
    bool read = pread(fd, &ns, sizeof ns, offsetof(sable_page_t, pid_ns)) == sizeof ns;
    close(fd);
    if (!read || ns == 0 || stat("/proc/self/ns/pid", &self) != 0 || self.st_ino == ns) return NULL;
    snprintf(buf, STAT_ERR, "%s was published in another pid namespace (%llu, this one is %llu)",
             t->page, (unsigned long long)ns, (unsigned long long)self.st_ino);
    return buf;
}

struct find {
    int pid;
    uint64_t start;
    bool found;
    unsigned stale;
    stat_target_t *t, stale_one;
};

static void find_one(const stat_target_t *t, void *arg)
{
    struct find *f = arg;
    if (t->pid != f->pid || f->found) return;
    if (t->start == f->start) {
        *f->t = *t;
        f->found = true;
    } else if (f->stale++ == 0) {
        f->stale_one = *t;
    }
}

bool stat_find(int pid, stat_target_t *t, char err[STAT_ERR])
{
    struct find f = {.pid = pid, .t = t};
    bool alive = stat_proc_start(pid, &f.start);
    stat_list(find_one, &f);
    if (f.found && page_held(t->page) == 0) { /* its name's process, but not held: exec'd */
        f.stale_one = *t;
        f.stale = 1;
        f.found = false;
    }
    if (f.found) return true;
    if (f.stale) {
        char why[STAT_ERR];
        const char *reason = stat_foreign(&f.stale_one, why);
        if (reason == NULL) reason = stat_stale(&f.stale_one, why);
        snprintf(err, STAT_ERR, "%s; process %d publishes no current page",
                 reason ? reason : f.stale_one.page, pid);
        return false;
    }
    if (!alive)
        snprintf(err, STAT_ERR, "there is no process %d", pid);
    else
        snprintf(err, STAT_ERR,
                 "process %d publishes no stats page: start it with SABLE_CONF=stats_page:true "
                 "under sable (sable-stat never attaches to a process)",
                 pid);
    return false;
}

/* The effective uid of process pid (the Uid: line of its status). */
static bool proc_uid(int pid, uid_t *uid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL) return false;
    bool ok = false;
    while (fgets(line, sizeof line, f)) {
        unsigned r, e;
        if (sscanf(line, "Uid: %u %u", &r, &e) == 2) {
            *uid = e;
            ok = true;
            break;
        }
    }
    fclose(f);
    return ok;
}

bool stat_open(const stat_target_t *t, stat_map_t *m, char err[STAT_ERR])
{
    m->page = NULL;
    m->fd = open(t->page, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK); /* a FIFO never blocks */
    if (m->fd < 0) {
        struct stat st;
        if (errno == EACCES && stat(t->page, &st) == 0)
            snprintf(err, STAT_ERR, "%s belongs to uid %u and you are uid %u: not yours to read",
                     t->page, (unsigned)st.st_uid, (unsigned)geteuid());
        else
            snprintf(err, STAT_ERR, "cannot open %s: %s", t->page, strerror(errno));
        return false;
    }
    struct stat st;
    uid_t owner;
    const char *why = NULL;
    char buf[STAT_ERR];
    if (fstat(m->fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        why = "is not a regular file";
    } else if (proc_uid(t->pid, &owner) && st.st_uid != owner) {
        snprintf(buf, sizeof buf, "belongs to uid %u, not to the process's user (uid %u): refused",
                 (unsigned)st.st_uid, (unsigned)owner);
        why = buf;
    } else if (st.st_size < (off_t)offsetof(sable_page_t, seq)) {
        snprintf(buf, sizeof buf, "is %lld bytes long: truncated, or not a stats page",
                 (long long)st.st_size);
        why = buf;
    }
    uint64_t head[3];
    if (why == NULL && pread(m->fd, head, sizeof head, 0) != (ssize_t)sizeof head)
        why = "cannot be read";
    if (why == NULL && head[0] != SABLE_PAGE_MAGIC) why = "is not a sable stats page (bad magic)";
    if (why == NULL && head[1] != SABLE_PAGE_VERSION) {
        snprintf(buf, sizeof buf, "has layout version %llu; this sable-stat reads version %u",
                 (unsigned long long)head[1], SABLE_PAGE_VERSION);
        why = buf;
    }
    if (why == NULL && (head[2] != sizeof(sable_page_t) || st.st_size != (off_t)sizeof(sable_page_t))) {
        snprintf(buf, sizeof buf, "is %lld bytes long (it says %llu), not %zu: truncated or corrupt",
                 (long long)st.st_size, (unsigned long long)head[2], sizeof(sable_page_t));
        why = buf;
    }
    void *map = MAP_FAILED;
    if (why == NULL) {
        map = mmap(NULL, sizeof(sable_page_t), PROT_READ, MAP_SHARED, m->fd, 0);
        if (map == MAP_FAILED) why = "cannot be mapped";
    }
    if (why) {
        snprintf(err, STAT_ERR, "%s %s", t->page, why);
        close(m->fd);
        m->fd = -1;
        return false;
    }
    m->page = map;
    return true;
}

void stat_close(stat_map_t *m)
{
    if (m->page) munmap((void *)m->page, sizeof(sable_page_t));
    if (m->fd >= 0) close(m->fd);
    m->page = NULL;
    m->fd = -1;
}

bool stat_valid(const sable_page_t *p, char err[STAT_ERR])
{
    if (p->magic != SABLE_PAGE_MAGIC || p->version != SABLE_PAGE_VERSION || p->size != sizeof *p)
        snprintf(err, STAT_ERR, "the page's head changed under the reader: corrupt");
    else if (p->updates == 0)
        snprintf(err, STAT_ERR, "the page has not been written yet");
    else if (p->checksum != sable_page_checksum(p))
        snprintf(err, STAT_ERR, "the page's checksum does not match: corrupt");
    else if (p->narenas > SABLE_PAGE_ARENAS || p->nclasses > SABLE_PAGE_CLASSES)
        snprintf(err, STAT_ERR, "the page counts %llu arenas and %llu classes: corrupt",
                 (unsigned long long)p->narenas, (unsigned long long)p->nclasses);
    else if (memchr(p->options, '\0', sizeof p->options) == NULL)
        snprintf(err, STAT_ERR, "the page's options are not terminated: corrupt");
    else
        return true;
    return false;
}

/* A page cut short after it was mapped (by its owner, or a full file
 * system) is SIGBUS on the copy: caught, it is one more bad page. */
static sigjmp_buf bus_jump;
static void on_bus(int sig)
{
    (void)sig;
    siglongjmp(bus_jump, 1);
}

static bool copy_page(const stat_target_t *t, const stat_map_t *m, sable_page_t *out,
                      unsigned *tries, char err[STAT_ERR]);

bool stat_read(const stat_target_t *t, const stat_map_t *m, sable_page_t *out, unsigned *tries,
               char err[STAT_ERR])
{
    struct sigaction sa = {.sa_handler = on_bus}, old;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGBUS, &sa, &old);
    bool ok;
    if (sigsetjmp(bus_jump, 1) == 0) {
        ok = copy_page(t, m, out, tries, err);
    } else {
        snprintf(err, STAT_ERR, "%s was cut short while it was read: truncated", t->page);
        ok = false;
    }
    sigaction(SIGBUS, &old, NULL);
    return ok;
}

static bool copy_page(const stat_target_t *t, const stat_map_t *m, sable_page_t *out,
                      unsigned *tries, char err[STAT_ERR])
{
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    const uint64_t *src = (const uint64_t *)(const void *)m->page;
    uint64_t *dst = (uint64_t *)(void *)out;
    const size_t nseq = offsetof(sable_page_t, seq) / 8;
    const size_t nna = offsetof(sable_page_t, narenas) / 8, nnc = offsetof(sable_page_t, nclasses) / 8;
    unsigned i = 0;
    for (;;) {
        i++;
        if (i % 64 == 0) {
            /* A writer descheduled in the middle of an update on a busy
             * machine: wait for it, up to READ_BUDGET_MS. */
            clock_gettime(CLOCK_MONOTONIC, &now);
            if ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000 >= READ_BUDGET_MS)
                break;
            struct timespec ts = {0, 20000};
            nanosleep(&ts, NULL);
        }
        uint64_t s1 = __atomic_load_n(&src[nseq], __ATOMIC_ACQUIRE);
        if (s1 & 1) {
            if (tries) *tries = i;
            continue;
        }
        /* The counts that size the copy are read inside it: when the
         * sequence holds, they are the update's own. */
        size_t span[SABLE_PAGE_SPANS][2];
        sable_page_spans(__atomic_load_n(&src[nna], __ATOMIC_RELAXED),
                         __atomic_load_n(&src[nnc], __ATOMIC_RELAXED), span);
        for (unsigned k = 0; k < SABLE_PAGE_SPANS; k++) {
            for (size_t w = span[k][0]; w < span[k][1]; w++)
                dst[w] = __atomic_load_n(&src[w], __ATOMIC_RELAXED);
            size_t next = k + 1 < SABLE_PAGE_SPANS ? span[k + 1][0] : span[k][1];
            memset(dst + span[k][1], 0, (next - span[k][1]) * 8); /* arrays' unused tails */
        }
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        uint64_t s2 = __atomic_load_n(&src[nseq], __ATOMIC_RELAXED);
        if (tries) *tries = i;
        if (s1 != s2) continue;
        if (!stat_valid(out, err)) {
            char why[STAT_ERR];
            snprintf(why, sizeof why, "%s: %s", t->page, err);
            memcpy(err, why, STAT_ERR);
            return false;
        }
        if (out->pid != (uint64_t)t->pid || out->start_ticks != t->start) {
            snprintf(err, STAT_ERR, "%s says it is process %llu's (start %llu): not this name's",
                     t->page, (unsigned long long)out->pid, (unsigned long long)out->start_ticks);
            return false;
        }
        return true;
    }
    snprintf(err, STAT_ERR, "%s: no consistent copy in %u ms (%u tries: an update never ended)",
             t->page, READ_BUDGET_MS, i);
    return false;
}

static long ms_since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000;
}

bool stat_request(const stat_target_t *t, const char *request, char *reply, size_t cap,
                  unsigned timeout_ms, char err[STAT_ERR])
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(t->sock) >= sizeof sa.sun_path) {
        snprintf(err, STAT_ERR, "%s: the socket's path is too long", t->sock);
        return false;
    }
    strcpy(sa.sun_path, t->sock);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        int e = errno;
        if (fd >= 0) close(fd);
        if (e == EACCES)
            snprintf(err, STAT_ERR, "refused: %s is not yours (connect: %s)", t->sock, strerror(e));
        else
            snprintf(err, STAT_ERR, "cannot connect to %s: %s", t->sock, strerror(e));
        return false;
    }
    char line[160];
    int n = snprintf(line, sizeof line, "%s\n", request);
    if (n <= 0 || (size_t)n >= sizeof line || send(fd, line, (size_t)n, MSG_NOSIGNAL) != n) {
        snprintf(err, STAT_ERR, "cannot send the request to %s", t->sock);
        close(fd);
        return false;
    }
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    size_t got = 0;
    for (;;) {
        long left = (long)timeout_ms - ms_since(&t0);
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (left <= 0 || poll(&p, 1, (int)left) <= 0) {
            if (left > 0 && errno == EINTR) continue;
            snprintf(err, STAT_ERR,
                     "process %d did not answer on %s within %u ms (requests are served by its "
                     "background thread, or on its allocation slow paths when none runs)",
                     t->pid, t->sock, timeout_ms);
            close(fd);
            return false;
        }
        ssize_t r = recv(fd, reply + got, cap - 1 - got, 0);
        if (r <= 0) break;
        got += (size_t)r;
        if (memchr(reply, '\n', got) || got + 1 >= cap) break;
    }
    close(fd);
    reply[got] = '\0';
    char *nl = strchr(reply, '\n');
    if (nl == NULL) {
        snprintf(err, STAT_ERR, "process %d closed %s without an answer", t->pid, t->sock);
        return false;
    }
    *nl = '\0';
    return true;
}
