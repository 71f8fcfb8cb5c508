/* src/inspect/publish.c — the stats page: created at start-up with
 * stats_page:true, updated at most every stats_page_interval_ms, removed
 * at exit (layout: page.h).
 *
 * An update takes a snapshot of the control layer's own (ctl_stats_take,
 * which never waits for a refresh under way in another thread: that update
 * is skipped), fills a staging copy from the same figures mallctl reports
 * (ctl_arena_read, ctl_class_read, ctl_frag_read), and copies it into the
 * shared page under the sequence lock. Then it answers what waits on the
 * control socket (control.c).
 *
 * Invariants: pub describes the page of the process getpid() names, or
 * none; the staging copy and `own` are written under page_lock only.
 * Locking: page_lock, only ever tried: an update that finds it taken is
 * skipped. An update runs with cancellation disabled (it makes system
 * calls that are cancellation points) and leaves errno as it found it.
 */
#include "inspect/inspect.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "arena/arena.h"
#include "ctl/figures.h"
#include "ctl/lock.h"
#include "ctl/stats.h"
#include "os/lock.h"
#include "os/os.h"
#include "os/topo.h"
#include "options/options.h"
#include "process/process.h"
#include "process/threads.h"
#include "sable.h"

_Static_assert(ARENA_MAX <= SABLE_PAGE_ARENAS, "the page holds every arena");
_Static_assert(SC_NSMALL <= SABLE_PAGE_CLASSES, "the page holds every small class");

#define PATH_CAP 108 /* a unix socket's sun_path */

static pthread_mutex_t page_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic uint32_t next_due_ms;
static _Atomic int registered;

static struct {
    sable_page_t *map; /* the shared page, or NULL */
    int fd, sock;      /* the page's file and the listening socket, or -1 */
    int pid;           /* the process that published it */
    bool failed;       /* no page in this process: said once, not tried again */
    char path[PATH_CAP], sock_path[PATH_CAP];
    bool named;        /* the page has its name in the directory */
    uint64_t seq;      /* the sequence count, the writer's own copy */
    uint64_t last_purged, last_mono_ns, actions;
} pub = {.fd = -1, .sock = -1};

static sable_page_t staging;
static ctl_stats_t own; /* the page's snapshot, outside mallctl's epochs */

static uint64_t unix_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The process's resident set in bytes (/proc/self/statm's second field). */
static uint64_t process_rss(void)
{
    char buf[128];
    uint64_t pages = 0;
    if (os_read_file("/proc/self/statm", buf, sizeof buf) <= 0) return 0;
    const char *s = os_parse_u64(buf, &pages);
    if (s == NULL || *s != ' ' || os_parse_u64(s + 1, &pages) == NULL) return 0;
    return pages * os_page_size();
}

/* ---- the writer ---- */

void inspect_page_write(sable_page_t *dst, const sable_page_t *src, uint64_t *seqp)
{
    uint64_t *d = (uint64_t *)(void *)dst;
    const uint64_t *s = (const uint64_t *)(const void *)src;
    const size_t nseq = offsetof(sable_page_t, seq) / 8;
    uint64_t seq = *seqp & ~(uint64_t)1;
    *seqp = seq + 2;
    __atomic_store_n(&d[nseq], seq + 1, __ATOMIC_RELAXED);
    /* The odd count is seen before any word of the update. */
    __atomic_thread_fence(__ATOMIC_RELEASE);
    size_t span[SABLE_PAGE_SPANS][2];
    sable_page_spans(src->narenas, src->nclasses, span);
    for (unsigned k = 0; k < SABLE_PAGE_SPANS; k++)
        for (size_t i = span[k][0]; i < span[k][1]; i++)
            if (i != nseq) __atomic_store_n(&d[i], s[i], __ATOMIC_RELAXED);
    __atomic_store_n(&d[nseq], seq + 2, __ATOMIC_RELEASE);
}

/* Fills the staging copy from snapshot s. */
static void fill(sable_page_t *p, const ctl_stats_t *s)
{
    sable_page_totals_t *t = &p->totals;
    ctl_frag_t f;
    ctl_arena_t all;
    ctl_frag_read(s, &f);
    ctl_arena_read(s, CTL_ARENAS_ALL, &all);
    size_t bg;
    uint64_t runs, interval;
    process_background_stats(&bg, &runs, &interval);
    uint64_t mono = os_now_ns();
    t->allocated = s->allocated;
    t->active = s->active;
    t->resident = s->resident;
    t->mapped = s->mapped;
    t->metadata = s->metadata;
    t->retained = s->retained;
    t->dirty = f.dirty;
    t->tcache_bytes = s->tcache_bytes;
    t->huge_allocated = s->huge_allocated;
    t->huge_count = s->huge_count;
    t->rss = process_rss();
    t->threads = threads_live_count();
    t->background_thread = bg;
    t->decay_ms = opt_decay_ms();
    t->npurge = all.npurge;
    t->nmadvise = all.nmadvise;
    t->purged = all.purged;
    t->purge_rate = pub.last_mono_ns && mono > pub.last_mono_ns && all.purged >= pub.last_purged
                        ? (uint64_t)((unsigned __int128)(all.purged - pub.last_purged) * 1000000000u /
                                     (mono - pub.last_mono_ns))
                        : 0;
    t->actions = pub.actions;
    pub.last_purged = all.purged;
    pub.last_mono_ns = mono;

    p->narenas = s->narenas;
    for (unsigned i = 0; i < s->narenas; i++) {
        ctl_arena_t a;
        ctl_arena_read(s, i, &a);
        p->arenas[i] = (sable_page_arena_t){
            .nthreads = a.nthreads, .small_allocated = a.small_allocated,
            .large_allocated = a.large_allocated, .active = a.active, .mapped = a.mapped,
            .resident = a.resident, .dirty = a.dirty, .retained = a.retained,
            .metadata = a.metadata, .tcache_bytes = a.tcache_bytes, .npurge = a.npurge,
            .nmadvise = a.nmadvise, .purged = a.purged, .nrequests = a.nrequests,
        };
    }
    p->nclasses = SC_NSMALL;
    for (unsigned c = 0; c < SC_NSMALL; c++) {
        ctl_class_t k;
        ctl_class_read(s, CTL_ARENAS_ALL, c, &k);
        p->classes[c] = (sable_page_class_t){
            .size = k.size, .nregs = k.nregs, .slab_size = k.slab_size,
            .nmalloc = k.nmalloc, .ndalloc = k.ndalloc, .nrequests = k.nrequests,
            .nfills = k.nfills, .nflushes = k.nflushes, .curregs = k.curregs,
            .curslabs = k.curslabs, .nonfull_slabs = k.nonfull_slabs,
            .allocated_bytes = k.allocated_bytes, .cached_bytes = k.cached_bytes,
            .slab_bytes = k.slab_bytes, .free_in_slabs = k.free_in_slabs,
        };
    }
    memset(p->options, 0, sizeof p->options);
    opt_format_all(p->options, sizeof p->options);
    p->interval_ms = opt_stats_page_interval_ms;
    p->updated_unix_ns = unix_ns();
    p->updated_mono_ns = mono;
    p->updates++;
    p->checksum = sable_page_checksum(p);
}

/* ---- the page's life ---- */

/* Opens path anew for this process: a file left there by this user (an
 * earlier process with this pid and start time cannot be alive: a page
 * after exec, or after a crash) is replaced; anyone else's is left alone. */
static int create_file(const char *path)
{
    for (int tries = 0; tries < 2; tries++) {
        int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd >= 0 || errno != EEXIST) return fd;
        struct stat st;
        if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
            errno = EEXIST;
            return -1;
        }
        unlink(path);
    }
    errno = EEXIST;
    return -1;
}

/* The directory of the page: /dev/shm, or $XDG_RUNTIME_DIR where /dev/shm
 * cannot be written; NULL if neither can. */
static const char *page_dir(void)
{
    if (access("/dev/shm", W_OK | X_OK) == 0) return "/dev/shm";
    const char *xdg = os_getenv("XDG_RUNTIME_DIR");
    return xdg && *xdg == '/' && access(xdg, W_OK | X_OK) == 0 ? xdg : NULL;
}

/* Says once why this process has no page, and stops trying. */
static void give_up(const char *what, const char *path, int err)
{
    pub.failed = true;
    const char *name = strerrorname_np(err);
    os_warn("stats_page: %s%s%s (%s): no stats page in this process", what, path ? " " : "",
            path ? path : "", name ? name : "unknown error");
    pub.path[0] = pub.sock_path[0] = '\0';
}

/* The page's sign of life: a read lock of the whole file, held through
 * the open file description of the page's descriptor (F_OFD_SETLK). The
 * kernel drops it when the last descriptor of that description closes:
 * at exit, at a crash or a kill, and at exec (the descriptor is
 * close-on-exec). A forked child shares it until its fork handler closes
 * its copy. */
static bool hold_life_lock(int fd)
{
    struct flock fl = {.l_type = F_RDLCK, .l_whence = SEEK_SET};
    return fcntl(fd, F_OFD_SETLK, &fl) == 0;
}

/* Removes the pages (and their sockets) of this user in dir that no
 * process holds (hold_life_lock): their processes ended without exit's
 * handlers (_exit, a signal, a crash). A page without its lock whose pid
 * names a live process with the page's start time is kept too: with the
 * fallback of page_create, a page is named a moment before it is locked;
 * such a page goes once its pid does. A page of another user, or one that
 * cannot be opened and tested, is left alone. Once per program, when its
 * page is created; reads the directory with getdents64, which allocates
 * nothing. */
static void sweep_stale(const char *dir)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return;
    char buf[4096] __attribute__((aligned(8)));
    unsigned seen = 0;
    for (long n; seen < 100000 && (n = syscall(SYS_getdents64, dfd, buf, sizeof buf)) > 0;) {
        for (long off = 0; off < n && ++seen < 100000;) {
            struct dirent64 *d = (struct dirent64 *)(void *)(buf + off);
            off += d->d_reclen;
            int pid;
            uint64_t start, now;
            if (!sable_page_parse_name(d->d_name, &pid, &start)) continue;
            int fd = openat(dfd, d->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
            if (fd < 0) continue;
            struct stat st;
            bool stale = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
                         !sable_page_held(fd) && !(os_start_time(pid, &now) && now == start);
            close(fd);
            if (!stale) continue;
            char sock[PATH_CAP];
            size_t len = strlen(d->d_name) - (sizeof SABLE_PAGE_SUFFIX - 1);
            if (len + sizeof SABLE_SOCK_SUFFIX > sizeof sock) continue;
            memcpy(sock, d->d_name, len);
            memcpy(sock + len, SABLE_SOCK_SUFFIX, sizeof SABLE_SOCK_SUFFIX);
            unlinkat(dfd, sock, 0);
            unlinkat(dfd, d->d_name, 0);
        }
    }
    close(dfd);
}

static bool page_create(void)
{
    uint64_t start;
    const char *dir = page_dir();
    if (dir == NULL) {
        give_up("neither /dev/shm nor $XDG_RUNTIME_DIR can be written", NULL, EACCES);
        return false;
    }
    uint64_t pid_ns = 0;
    if (!os_start_time(0, &start) || !os_pid_namespace(&pid_ns)) {
        give_up("cannot read the start time and pid namespace from /proc/self", NULL,
                errno ? errno : ENOENT);
        return false;
    }
    /* Once per program: a forked child finds what its parent swept. */
    static bool swept;
    if (!swept) sweep_stale(dir);
    swept = true;
    int pid = getpid();
    size_t n = os_format(pub.path, sizeof pub.path, "%s/" SABLE_PAGE_PREFIX "%d.%zu" SABLE_PAGE_SUFFIX,
                         dir, pid, (size_t)start);
    os_format(pub.sock_path, sizeof pub.sock_path, "%s/" SABLE_PAGE_PREFIX "%d.%zu" SABLE_SOCK_SUFFIX,
              dir, pid, (size_t)start);
    if (n + 1 >= sizeof pub.path) {
        give_up("the path is too long in", dir, ENAMETOOLONG);
        return false;
    }
    /* An unnamed file, named once it is locked and holds the first
     * update (page_name_it), so that no reader or sweeper sees it empty or
     * unlocked; where the directory cannot make one, a named one at once. */
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    pub.named = fd < 0;
    if (fd < 0) fd = create_file(pub.path);
    if (fd < 0) {
        give_up("cannot create", pub.path, errno);
        return false;
    }
    /* The file's memory is taken now: a page that the first store would
     * have to find in a full /dev/shm would be SIGBUS in the allocator. */
    void *map = MAP_FAILED;
    const char *step = "cannot lock";
    if (hold_life_lock(fd)) {
        step = "cannot reserve memory for";
        if (fallocate(fd, 0, 0, sizeof(sable_page_t)) == 0) {
            step = "cannot map";
            map = mmap(NULL, sizeof(sable_page_t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        }
    }
    if (map == MAP_FAILED) {
        int err = errno;
        close(fd);
        if (pub.named) unlink(pub.path);
        give_up(step, pub.path, err);
        return false;
    }
    pub.fd = fd;
    pub.map = map;
    pub.pid = pid;
    pub.last_purged = pub.last_mono_ns = pub.seq = 0;
    memset(&staging, 0, sizeof staging);
    staging.magic = SABLE_PAGE_MAGIC;
    staging.version = SABLE_PAGE_VERSION;
    staging.size = sizeof staging;
    staging.pid = (uint64_t)pid;
    staging.start_ticks = start;
    staging.pid_ns = pid_ns;
    staging.uid = geteuid();
    staging.created_unix_ns = unix_ns();
    staging.page_size = os_page_size();
    staging.sable_version = (uint64_t)SABLE_VERSION_MAJOR << 32 | SABLE_VERSION_MINOR << 16 |
                            SABLE_VERSION_PATCH;
    /* Without the socket the page still works: actions are refused by
     * the reader's connect, which says so. */
    pub.sock = control_open(pub.sock_path);
    if (pub.sock < 0) {
        os_warn("stats_page: no control socket at %s", pub.sock_path);
        pub.sock_path[0] = '\0';
    }
    return true;
}

/* Forgets what the parent published (in a forked child), removing
 * nothing. */
static void page_forget(void)
{
    if (pub.map) munmap(pub.map, sizeof(sable_page_t));
    if (pub.fd >= 0) close(pub.fd);
    if (pub.sock >= 0) close(pub.sock);
    pub.map = NULL;
    pub.fd = pub.sock = -1;
    pub.path[0] = pub.sock_path[0] = '\0';
}

/* Gives the unnamed page its name (/proc/self/fd/N linked into the
 * directory), replacing a file of this user left there; false, with the
 * page given up, if it cannot. */
static bool page_name_it(void)
{
    char proc[40];
    os_format(proc, sizeof proc, "/proc/self/fd/%d", pub.fd);
    for (int tries = 0; tries < 2; tries++) {
        if (linkat(AT_FDCWD, proc, AT_FDCWD, pub.path, AT_SYMLINK_FOLLOW) == 0) {
            pub.named = true;
            return true;
        }
        struct stat st;
        if (errno != EEXIST || lstat(pub.path, &st) != 0 || !S_ISREG(st.st_mode) ||
            st.st_uid != geteuid())
            break;
        unlink(pub.path); /* a page of this pid and start time: not alive */
    }
    int err = errno;
    if (pub.sock_path[0]) unlink(pub.sock_path);
    page_forget();
    give_up("cannot name", pub.path, err);
    return false;
}

static void update_locked(void)
{
    if (pub.map && pub.pid != getpid()) page_forget(); /* a child of a clone without fork's handlers */
    if (pub.map == NULL && (pub.failed || !page_create())) return;
    /* Requests first, so that the page shows what they did. */
    if (pub.sock >= 0) pub.actions += control_serve(pub.sock);
    if (ctl_stats_take(&own)) {
        fill(&staging, &own);
        inspect_page_write(pub.map, &staging, &pub.seq);
        if (!pub.named) page_name_it();
    }
}

static void update(void)
{
    int saved = errno, cancel;
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel);
    if (lock_try(&page_lock, LOCK_INSPECT, 0)) {
        update_locked();
        lock_drop(&page_lock);
    }
    pthread_setcancelstate(cancel, NULL);
    errno = saved;
}

static void tick(uint32_t now_ms)
{
    uint32_t due = atomic_load_explicit(&next_due_ms, memory_order_relaxed);
    if ((int32_t)(now_ms - due) < 0) return;
    if (!atomic_compare_exchange_strong(&next_due_ms, &due, now_ms + opt_stats_page_interval_ms))
        return;
    update();
}

static void remove_at_exit(void)
{
    int saved = errno;
    /* The paths stay set while a page exists, so an update under way in
     * another thread does not stop the removal. */
    if (pub.pid == getpid()) {
        if (pub.path[0]) unlink(pub.path);
        if (pub.sock_path[0]) unlink(pub.sock_path);
    }
    errno = saved;
}

/* ---- fork ---- */

static bool prefork(void) { return lock_try(&page_lock, LOCK_INSPECT, 0); }
static void postfork_parent(void) { lock_drop(&page_lock); }
static void postfork_child(void)
{
    static const pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
    lock_witness_drop(&page_lock);
    memcpy(&page_lock, &fresh, sizeof page_lock);
    page_forget();
    pub.pid = 0;
    pub.actions = 0;
    /* The child's first tick publishes its own page. */
    atomic_store_explicit(&next_due_ms, os_now_ms(), memory_order_relaxed);
}

void inspect_init(void)
{
    if (!process_init() || !opt_stats_page) return;
    if (atomic_exchange(&registered, 1)) return;
    /* An update takes the snapshot lock under page_lock without
     * ctl_begin: the control locks' fork hooks must be in place too (each
     * prefork only tries its locks, so the hooks' order cannot deadlock). */
    process_fork_hook(prefork, postfork_parent, postfork_child);
    ctl_fork_ready();
    /* The first page now, so that a reader finds it from the start. */
    update();
    atexit(remove_at_exit);
    atomic_store_explicit(&next_due_ms, os_now_ms() + opt_stats_page_interval_ms,
                          memory_order_relaxed);
    process_tick_hook(tick, opt_stats_page_interval_ms);
}

/* In libsable.so, also for programs that call the prefixed API only (the
 * preload constructor calls inspect_init as well). A static link pulls
 * this file in only with the preload objects, which reference it
 * (docs/inspection.md). */
__attribute__((constructor)) static void inspect_ctor(void) { inspect_init(); }
