/* tools/sable_stat.c — sable-stat: the allocator of a running process,
 * seen from outside through the stats page it publishes
 * (SABLE_CONF=stats_page:true), and steered through its control socket.
 *
 *   sable-stat PID                 a live view, refreshed every second
 *   sable-stat --once PID          the view once, as text
 *   sable-stat --json PID          one JSON document (docs/inspection.md)
 *   sable-stat --prometheus PID    Prometheus's text exposition format
 *   sable-stat -l                  the processes that publish a page
 *   sable-stat --clean             removes stale pages (processes gone)
 *   sable-stat --purge|--flush|--dump|--ping|--decay MS PID
 *
 * It never attaches to a process: a process that publishes no page is
 * told how to publish one. Every error is one line on stderr and exit
 * status 1 (2: a usage error).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "stat_page.h"

#define HISTORY 60 /* samples in a sparkline: a minute at one a second */

/* How long a request waits for its answer: --timeout, or else 5 s or two
 * of the target's update intervals and a second, whichever is longer (the
 * process answers its socket when it updates its page). */
static unsigned timeout_ms;

static unsigned request_timeout(const sable_page_t *p)
{
    if (timeout_ms) return timeout_ms;
    uint64_t ms = p ? 2 * p->interval_ms + 1000 : 0;
    return ms > 5000 ? (unsigned)(ms < 8000000 ? ms : 8000000) : 5000;
}

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("sable-stat: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static uint64_t unix_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static const char *bytes(uint64_t n, char buf[16])
{
    static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double v = (double)n;
    unsigned u = 0;
    while (v >= 1024 && u < 5) v /= 1024, u++;
    if (u == 0)
        snprintf(buf, 16, "%llu B", (unsigned long long)n);
    else
        snprintf(buf, 16, "%.1f %s", v, unit[u]);
    return buf;
}

/* ---- the page's figures, by name: one table for JSON and Prometheus ---- */

typedef struct {
    const char *name; /* JSON key; Prometheus: sable_<name>[_bytes|_total] */
    size_t off;       /* in sable_page_totals_t */
    const char *suffix, *type, *help;
} figure_t;

#define T(f) offsetof(sable_page_totals_t, f)
static const figure_t totals[] = {
    {"allocated", T(allocated), "_bytes", "gauge", "bytes of blocks the program holds (stats.allocated)"},
    {"active", T(active), "_bytes", "gauge", "bytes of runs that hold blocks (stats.active)"},
    {"resident", T(resident), "_bytes", "gauge", "bytes of sable's mappings in RAM (stats.resident)"},
    {"mapped", T(mapped), "_bytes", "gauge", "bytes of chunks, huge blocks and dirty extents (stats.mapped)"},
    {"metadata", T(metadata), "_bytes", "gauge", "bytes of sable's own structures (stats.metadata)"},
    {"retained", T(retained), "_bytes", "gauge", "address space kept without memory (stats.retained)"},
    {"dirty", T(dirty), "_bytes", "gauge", "free memory not yet returned: the decay backlog (stats.frag.dirty_bytes)"},
    {"tcache_bytes", T(tcache_bytes), "", "gauge", "bytes of free blocks in thread caches (stats.tcache_bytes)"},
    {"huge_allocated", T(huge_allocated), "_bytes", "gauge", "bytes of huge blocks (stats.huge.allocated)"},
    {"huge_count", T(huge_count), "", "gauge", "huge blocks live"},
    {"rss", T(rss), "_bytes", "gauge", "the process's resident set (/proc/self/statm)"},
    {"threads", T(threads), "", "gauge", "threads with a cache"},
    {"background_thread", T(background_thread), "", "gauge", "1 while the background thread runs"},
    {"decay_ms", T(decay_ms), "", "gauge", "dirty_decay_ms in force"},
    {"npurge", T(npurge), "_total", "counter", "purge passes, ever"},
    {"nmadvise", T(nmadvise), "_total", "counter", "madvise calls, ever"},
    {"purged", T(purged), "_bytes_total", "counter", "bytes returned to the OS, ever"},
    {"purge_rate", T(purge_rate), "_bytes_per_second", "gauge", "bytes purged per second over the last update"},
    {"actions", T(actions), "_total", "counter", "control-socket actions carried out, ever"},
};
#undef T

#define A(f) offsetof(sable_page_arena_t, f)
static const figure_t arena_figs[] = {
    {"nthreads", A(nthreads), "", "gauge", "threads attached to the arena"},
    {"small_allocated", A(small_allocated), "_bytes", "gauge", "bytes of slab blocks handed out"},
    {"large_allocated", A(large_allocated), "_bytes", "gauge", "bytes of large runs handed out"},
    {"active", A(active), "_bytes", "gauge", "bytes in runs that hold blocks"},
    {"mapped", A(mapped), "_bytes", "gauge", "bytes of the arena's chunks"},
    {"resident", A(resident), "_bytes", "gauge", "bytes of its chunks in RAM"},
    {"dirty", A(dirty), "_bytes", "gauge", "bytes in free runs not yet purged"},
    {"retained", A(retained), "_bytes", "gauge", "bytes of its page heap's clean free extents"},
    {"metadata", A(metadata), "_bytes", "gauge", "used bytes of its chunk headers"},
    {"tcache_bytes", A(tcache_bytes), "", "gauge", "bytes in its threads' caches"},
    {"npurge", A(npurge), "_total", "counter", "purge passes, ever"},
    {"nmadvise", A(nmadvise), "_total", "counter", "madvise calls, ever"},
    {"purged", A(purged), "_bytes_total", "counter", "bytes returned to the OS, ever"},
    {"nrequests", A(nrequests), "_total", "counter", "allocation requests of its threads, ever"},
};
#undef A

#define C(f) offsetof(sable_page_class_t, f)
static const figure_t class_figs[] = {
    {"size", C(size), "_bytes", "gauge", "the class's block size"},
    {"nregs", C(nregs), "", "gauge", "blocks per slab"},
    {"slab_size", C(slab_size), "_bytes", "gauge", "bytes per slab"},
    {"nmalloc", C(nmalloc), "_total", "counter", "blocks handed out by slabs, ever"},
    {"ndalloc", C(ndalloc), "_total", "counter", "blocks returned to slabs, ever"},
    {"nrequests", C(nrequests), "_total", "counter", "malloc requests of the class, ever"},
    {"nfills", C(nfills), "_total", "counter", "cache refills, ever"},
    {"nflushes", C(nflushes), "_total", "counter", "cache flushes, ever"},
    {"curregs", C(curregs), "", "gauge", "blocks out of slabs now"},
    {"curslabs", C(curslabs), "", "gauge", "slabs now"},
    {"nonfull_slabs", C(nonfull_slabs), "", "gauge", "slabs with free blocks"},
    {"allocated_bytes", C(allocated_bytes), "", "gauge", "bytes of the class the program holds"},
    {"cached_bytes", C(cached_bytes), "", "gauge", "bytes of the class in thread caches"},
    {"slab_bytes", C(slab_bytes), "", "gauge", "bytes of the class's slabs"},
    {"free_in_slabs", C(free_in_slabs), "_bytes", "gauge", "free space in the class's slabs (fragmentation)"},
};
#undef C

#define NFIG(t) (sizeof(t) / sizeof(t)[0])

static uint64_t fig(const void *base, const figure_t *f)
{
    uint64_t v;
    memcpy(&v, (const char *)base + f->off, sizeof v);
    return v;
}

static double frag(const sable_page_class_t *c)
{
    return c->slab_bytes ? (double)c->free_in_slabs / (double)c->slab_bytes : 0.0;
}

/* ---- JSON ---- */

static void json_string(const char *s, size_t n)
{
    putchar('"');
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\')
            printf("\\%c", ch);
        else if (ch < 0x20 || ch >= 0x7f) /* bytes above ASCII as Latin-1: always valid UTF-8 */
            printf("\\u%04x", ch);
        else
            putchar(ch);
    }
    putchar('"');
}

static void json_figs(const void *base, const figure_t *figs, size_t n, const char *indent)
{
    for (size_t i = 0; i < n; i++)
        printf("%s\"%s\": %llu%s\n", indent, figs[i].name, (unsigned long long)fig(base, &figs[i]),
               i + 1 < n ? "," : "");
}

static void print_json(const stat_target_t *t, const sable_page_t *p)
{
    uint64_t now = unix_ns();
    printf("{\n  \"schema\": \"sable-stat/1\",\n  \"pid\": %d,\n  \"start_ticks\": %llu,\n", t->pid,
           (unsigned long long)p->start_ticks);
    printf("  \"page\": ");
    json_string(t->page, strlen(t->page));
    printf(",\n  \"sable_version\": \"%llu.%llu.%llu\",\n", (unsigned long long)(p->sable_version >> 32),
           (unsigned long long)(p->sable_version >> 16 & 0xffff),
           (unsigned long long)(p->sable_version & 0xffff));
    printf("  \"created_unix_ns\": %llu,\n  \"updated_unix_ns\": %llu,\n  \"age_ms\": %llu,\n",
           (unsigned long long)p->created_unix_ns, (unsigned long long)p->updated_unix_ns,
           (unsigned long long)(now > p->updated_unix_ns ? (now - p->updated_unix_ns) / 1000000 : 0));
    printf("  \"updates\": %llu,\n  \"interval_ms\": %llu,\n  \"page_size\": %llu,\n",
           (unsigned long long)p->updates, (unsigned long long)p->interval_ms,
           (unsigned long long)p->page_size);
    printf("  \"totals\": {\n");
    json_figs(&p->totals, totals, NFIG(totals), "    ");
    printf("  },\n  \"arenas\": [\n");
    for (uint64_t i = 0; i < p->narenas; i++) {
        printf("    {\n      \"index\": %llu,\n", (unsigned long long)i);
        json_figs(&p->arenas[i], arena_figs, NFIG(arena_figs), "      ");
        printf("    }%s\n", i + 1 < p->narenas ? "," : "");
    }
    printf("  ],\n  \"classes\": [\n");
    for (uint64_t j = 0; j < p->nclasses; j++) {
        printf("    {\n      \"index\": %llu,\n      \"fragmentation\": %.4f,\n",
               (unsigned long long)j, frag(&p->classes[j]));
        json_figs(&p->classes[j], class_figs, NFIG(class_figs), "      ");
        printf("    }%s\n", j + 1 < p->nclasses ? "," : "");
    }
    printf("  ],\n  \"options\": {");
    const char *s = p->options;
    for (bool first = true; *s; first = false) {
        const char *colon = strchr(s, ':'), *comma = strchr(s, ',');
        if (comma == NULL) comma = s + strlen(s);
        if (colon == NULL || colon > comma) colon = comma;
        printf("%s\n    ", first ? "" : ",");
        json_string(s, (size_t)(colon - s));
        printf(": ");
        json_string(colon < comma ? colon + 1 : colon, colon < comma ? (size_t)(comma - colon - 1) : 0);
        s = *comma ? comma + 1 : comma;
    }
    printf("\n  }\n}\n");
}

/* ---- Prometheus ---- */

static void prom_family(const figure_t *f, const char *scope)
{
    printf("# HELP sable_%s%s%s %s\n# TYPE sable_%s%s%s %s\n", scope, f->name, f->suffix, f->help,
           scope, f->name, f->suffix, f->type);
}

static void print_prometheus(const stat_target_t *t, const sable_page_t *p)
{
    for (size_t i = 0; i < NFIG(totals); i++) {
        prom_family(&totals[i], "");
        printf("sable_%s%s{pid=\"%d\"} %llu\n", totals[i].name, totals[i].suffix, t->pid,
               (unsigned long long)fig(&p->totals, &totals[i]));
    }
    for (size_t i = 0; i < NFIG(arena_figs); i++) {
        prom_family(&arena_figs[i], "arena_");
        for (uint64_t a = 0; a < p->narenas; a++)
            printf("sable_arena_%s%s{pid=\"%d\",arena=\"%llu\"} %llu\n", arena_figs[i].name,
                   arena_figs[i].suffix, t->pid, (unsigned long long)a,
                   (unsigned long long)fig(&p->arenas[a], &arena_figs[i]));
    }
    for (size_t i = 0; i < NFIG(class_figs); i++) {
        prom_family(&class_figs[i], "class_");
        for (uint64_t c = 0; c < p->nclasses; c++)
            printf("sable_class_%s%s{pid=\"%d\",class=\"%llu\",size=\"%llu\"} %llu\n",
                   class_figs[i].name, class_figs[i].suffix, t->pid, (unsigned long long)c,
                   (unsigned long long)p->classes[c].size,
                   (unsigned long long)fig(&p->classes[c], &class_figs[i]));
    }
    uint64_t now = unix_ns();
    printf("# HELP sable_page_updates_total updates of the stats page, ever\n"
           "# TYPE sable_page_updates_total counter\nsable_page_updates_total{pid=\"%d\"} %llu\n",
           t->pid, (unsigned long long)p->updates);
    printf("# HELP sable_page_age_seconds seconds since the stats page was updated\n"
           "# TYPE sable_page_age_seconds gauge\nsable_page_age_seconds{pid=\"%d\"} %.3f\n",
           t->pid, now > p->updated_unix_ns ? (double)(now - p->updated_unix_ns) / 1e9 : 0.0);
}

/* ---- the view (live and --once) ---- */

typedef struct {
    uint64_t rss[HISTORY], allocated[HISTORY];
    unsigned n; /* samples so far (the newest at [(n - 1) % HISTORY]) */
    sable_page_t prev;
    bool have_prev;
    bool utf8;
} history_t;

static void spark(char *out, size_t cap, const uint64_t *v, unsigned n, bool utf8)
{
    static const char *const blocks[] = {"\u2581", "\u2582", "\u2583", "\u2584",
                                         "\u2585", "\u2586", "\u2587", "\u2588"};
    static const char ascii[] = "_.-:=+*#";
    unsigned count = n < HISTORY ? n : HISTORY;
    uint64_t max = 1;
    for (unsigned i = 0; i < count; i++)
        if (v[i] > max) max = v[i];
    size_t len = 0;
    out[0] = '\0';
    for (unsigned k = 0; k < count; k++) {
        uint64_t x = v[(n - count + k) % HISTORY];
        unsigned level = (unsigned)((double)x / (double)max * 7.0 + 0.5);
        const char *s = utf8 ? blocks[level] : (char[]){ascii[level], 0};
        size_t sl = strlen(s);
        if (len + sl + 1 > cap) break;
        memcpy(out + len, s, sl + 1);
        len += sl;
    }
}

/* Any process may name itself anything (PR_SET_NAME), and a page's
 * process answers its socket with what it likes: what reaches the
 * terminal is printable ASCII, the rest shown as '?'. */
static char *printable(char *s)
{
    for (char *c = s; *c; c++)
        if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f) *c = '?';
    return s;
}

static void comm_of(int pid, char *buf, size_t cap)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/comm", pid);
    FILE *f = fopen(path, "r");
    buf[0] = '\0';
    if (f && fgets(buf, (int)cap, f)) buf[strcspn(buf, "\n")] = '\0';
    if (f) fclose(f);
    printable(buf);
}

/* Writes the view into lines (each without newline); the number written. */
static unsigned render(const stat_target_t *t, const sable_page_t *p, history_t *h, char lines[][256],
                       unsigned maxlines, bool live)
{
    unsigned n = 0;
    char a[16], b[16], c[16], d[16], e[16], comm[64], sp[HISTORY * 4];
    const sable_page_totals_t *to = &p->totals;
    uint64_t now = unix_ns();
    double age = now > p->updated_unix_ns ? (double)(now - p->updated_unix_ns) / 1e9 : 0.0;
    comm_of(t->pid, comm, sizeof comm);
#define LINE(...) (n < maxlines ? (void)snprintf(lines[n++], 256, __VA_ARGS__) : (void)0)
    LINE("sable-stat  pid %d (%s)  sable %llu.%llu.%llu  update %llu, %.1f s ago (every %llu ms)",
         t->pid, comm, (unsigned long long)(p->sable_version >> 32),
         (unsigned long long)(p->sable_version >> 16 & 0xffff),
         (unsigned long long)(p->sable_version & 0xffff), (unsigned long long)p->updates, age,
         (unsigned long long)p->interval_ms);
    LINE("%s", "");
    if (live) {
        spark(sp, sizeof sp, h->rss, h->n, h->utf8);
        LINE("rss        %10s  %s", bytes(to->rss, a), sp);
        spark(sp, sizeof sp, h->allocated, h->n, h->utf8);
        LINE("allocated  %10s  %s", bytes(to->allocated, a), sp);
    } else {
        LINE("rss        %10s", bytes(to->rss, a));
        LINE("allocated  %10s", bytes(to->allocated, a));
    }
    LINE("active %s  resident %s  mapped %s  metadata %s  retained %s", bytes(to->active, a),
         bytes(to->resident, b), bytes(to->mapped, c), bytes(to->metadata, d), bytes(to->retained, e));
    LINE("thread caches %s  huge blocks %llu (%s)", bytes(to->tcache_bytes, a),
         (unsigned long long)to->huge_count, bytes(to->huge_allocated, b));
    LINE("decay backlog %s (dirty_decay_ms %llu)  purged %s in %llu passes, %s/s now",
         bytes(to->dirty, a), (unsigned long long)to->decay_ms, bytes(to->purged, b),
         (unsigned long long)to->npurge, bytes(to->purge_rate, c));
    LINE("threads %llu  arenas %llu  background thread %s  actions served %llu",
         (unsigned long long)to->threads, (unsigned long long)p->narenas,
         to->background_thread ? "running" : "off", (unsigned long long)to->actions);
    LINE("%s", "");
    LINE("%-10s %10s %10s %10s %6s %10s %10s %12s", "class", "slabs", "in use", "free", "frag",
         "held", "cached", live ? "requests/s" : "requests");
    /* The classes with the largest footprint first. */
    unsigned order[SABLE_PAGE_CLASSES], k = 0;
    for (unsigned j = 0; j < p->nclasses; j++)
        if (p->classes[j].slab_bytes || p->classes[j].cached_bytes) order[k++] = j;
    for (unsigned i = 1; i < k; i++)
        for (unsigned j = i; j > 0 && p->classes[order[j]].slab_bytes > p->classes[order[j - 1]].slab_bytes; j--) {
            unsigned x = order[j];
            order[j] = order[j - 1];
            order[j - 1] = x;
        }
    double dt = h->have_prev && p->updated_mono_ns > h->prev.updated_mono_ns
                    ? (double)(p->updated_mono_ns - h->prev.updated_mono_ns) / 1e9
                    : 0.0;
    unsigned shown = 0;
    for (unsigned i = 0; i < k && n + 2 < maxlines; i++, shown++) {
        const sable_page_class_t *cl = &p->classes[order[i]];
        char rate[24], size[16];
        if (live && dt > 0 && cl->nrequests >= h->prev.classes[order[i]].nrequests)
            snprintf(rate, sizeof rate, "%.0f", (double)(cl->nrequests - h->prev.classes[order[i]].nrequests) / dt);
        else if (live)
            snprintf(rate, sizeof rate, "-");
        else
            snprintf(rate, sizeof rate, "%llu", (unsigned long long)cl->nrequests);
        snprintf(size, sizeof size, "%llu B", (unsigned long long)cl->size);
        LINE("%-10s %10s %10s %10s %5.1f%% %10s %10s %12s", size, bytes(cl->slab_bytes, a),
             bytes(cl->slab_bytes - cl->free_in_slabs, b), bytes(cl->free_in_slabs, c),
             frag(cl) * 100.0, bytes(cl->allocated_bytes, d), bytes(cl->cached_bytes, e), rate);
    }
    if (shown < k) LINE("... %u more classes", k - shown);
    if (live) LINE("%s", "q: quit  p: purge  f: flush caches");
#undef LINE
    return n;
}

static bool want_utf8(void)
{
    const char *vars[] = {"LC_ALL", "LC_CTYPE", "LANG"};
    for (unsigned i = 0; i < 3; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v) return strstr(v, "UTF-8") || strstr(v, "utf8") || strstr(v, "UTF8") || strstr(v, "utf-8");
    }
    return false;
}

static void record(history_t *h, const sable_page_t *p)
{
    h->rss[h->n % HISTORY] = p->totals.rss;
    h->allocated[h->n % HISTORY] = p->totals.allocated;
    h->n++;
}

static struct termios saved_tty;
static bool tty_raw;
static volatile sig_atomic_t quit;

static void tty_restore(void)
{
    if (!tty_raw) return;
    tcsetattr(STDIN_FILENO, TCSANOW, &saved_tty);
    fputs("\033[?25h\033[?1049l", stdout);
    fflush(stdout);
    tty_raw = false;
}

static void on_signal(int sig)
{
    (void)sig;
    quit = 1;
}

static void request(const stat_target_t *t, const sable_page_t *p, const char *req, char *msg,
                    size_t cap)
{
    char reply[256], err[STAT_ERR];
    if (stat_request(t, req, reply, sizeof reply, request_timeout(p), err))
        snprintf(msg, cap, "%s: %s", req, printable(reply));
    else
        snprintf(msg, cap, "%s: %s", req, err);
}

static int live(const stat_target_t *t, stat_map_t *m)
{
    history_t h = {.utf8 = want_utf8()};
    sable_page_t *p = malloc(sizeof *p);
    static char lines[200][256];
    char err[STAT_ERR], msg[300] = "";
    if (p == NULL) die("out of memory");
    bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved_tty) == 0;
    if (tty) {
        struct termios raw = saved_tty;
        raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
        raw.c_cc[VMIN] = 0;
        raw.c_cc[VTIME] = 0;
        tcsetattr(STDIN_FILENO, TCSANOW, &raw);
        tty_raw = true;
        atexit(tty_restore);
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    fputs("\033[?1049h\033[?25l", stdout);
    uint64_t last_update = UINT64_MAX;
    sable_page_t *next = malloc(sizeof *next);
    if (next == NULL) die("out of memory");
    while (!quit) {
        /* A read that fails keeps the last good snapshot on the screen, with
         * the reason below it; a page gone stale, or none ever read, ends
         * the view. */
        char why[STAT_ERR];
        if (stat_read(t, m, next, NULL, err)) {
            sable_page_t *swap = p;
            p = next;
            next = swap;
        } else if (last_update == UINT64_MAX || stat_stale(t, why)) {
            tty_restore();
            die("%s", last_update == UINT64_MAX ? err : why);
        } else {
            snprintf(msg, sizeof msg, "the last read failed: %s", err);
        }
        if (p->updates != last_update) {
            record(&h, p);
            last_update = p->updates;
        }
        struct winsize ws = {0};
        unsigned rows = ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row ? ws.ws_row : 24;
        unsigned cols = ws.ws_col ? ws.ws_col : 80;
        unsigned maxlines = rows > 1 ? rows - 1 : 1;
        if (maxlines > 200) maxlines = 200;
        unsigned n = render(t, p, &h, lines, maxlines - (msg[0] ? 1 : 0), true);
        fputs("\033[H", stdout);
        for (unsigned i = 0; i < n; i++) {
            /* Cut to the width: count bytes that start a character. */
            unsigned w = 0;
            size_t len = 0;
            for (; lines[i][len] && w < cols; len++)
                if (((unsigned char)lines[i][len] & 0xc0) != 0x80) w++;
            while (((unsigned char)lines[i][len] & 0xc0) == 0x80) len++;
            fwrite(lines[i], 1, len, stdout);
            fputs("\033[K\n", stdout);
        }
        if (msg[0]) printf("%.*s\033[K\n", (int)cols, msg);
        fputs("\033[J", stdout);
        fflush(stdout);
        struct pollfd in = {.fd = STDIN_FILENO, .events = POLLIN};
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int left = 1000;
        while (!quit && left > 0) {
            int r = tty ? poll(&in, 1, left) : (poll(NULL, 0, left), 0);
            if (r > 0) {
                char ch;
                if (read(STDIN_FILENO, &ch, 1) == 1) {
                    if (ch == 'q' || ch == 'Q') quit = 1;
                    else if (ch == 'p') request(t, p, "purge", msg, sizeof msg);
                    else if (ch == 'f') request(t, p, "flush", msg, sizeof msg);
                    if (ch == 'p' || ch == 'f') break;
                } else {
                    tty = false; /* end of input: refresh on time only */
                }
            }
            clock_gettime(CLOCK_MONOTONIC, &t1);
            left = 1000 - (int)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
        }
        /* Rates are over one update interval: the previous update stays
         * until a new one comes. */
        if (!h.have_prev || h.prev.updates != p->updates) {
            h.prev = *p;
            h.have_prev = true;
        }
    }
    tty_restore();
    free(p);
    free(next);
    return 0;
}

static int once(const stat_target_t *t, const sable_page_t *p)
{
    history_t h = {0};
    static char lines[200][256];
    unsigned n = render(t, p, &h, lines, 200, false);
    for (unsigned i = 0; i < n; i++) puts(lines[i]);
    return 0;
}

/* ---- -l and --clean ---- */

struct listing {
    bool clean;
    unsigned live, stale, removed;
};

static void list_one(const stat_target_t *t, void *arg)
{
    struct listing *l = arg;
    char why[STAT_ERR], comm[64];
    const char *stale = stat_stale(t, why);
    if (stale) {
        l->stale++;
        struct stat st;
        if (l->clean && (lstat(t->page, &st) != 0 || !S_ISREG(st.st_mode))) {
            fprintf(stderr, "sable-stat: %s is not a regular file: not a page, left alone\n", t->page);
        } else if (l->clean) {
            if (unlink(t->page) == 0) {
                unlink(t->sock);
                l->removed++;
                printf("removed %s (process %d is gone or not the page's)\n", t->page, t->pid);
            } else {
                fprintf(stderr, "sable-stat: cannot remove %s: %s\n", t->page, strerror(errno));
            }
        } else {
            printf("%7d  %-16s %s\n", t->pid, "(stale)", t->page);
        }
        return;
    }
    l->live++;
    if (stat_foreign(t, why)) { /* live elsewhere: its pid says nothing here */
        if (!l->clean) printf("%7d  %-16s %s\n", t->pid, "(other pid ns)", t->page);
        return;
    }
    if (!l->clean) {
        comm_of(t->pid, comm, sizeof comm);
        printf("%7d  %-16s %s\n", t->pid, comm, t->page);
    }
}

static void usage(FILE *f)
{
    fputs("usage: sable-stat [--once | --json | --prometheus] PID\n"
          "       sable-stat --purge | --flush | --dump | --ping | --decay MS  PID\n"
          "       sable-stat -l | --clean\n"
          "options: --timeout MS (control requests; default: 5000, or 2 update intervals + 1 s)\n"
          "A process publishes its page when run under sable with SABLE_CONF=stats_page:true.\n",
          f);
}

static int parse_pid(const char *s)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v <= 0 || v > 0x7fffffff) {
        fprintf(stderr, "sable-stat: '%s' is not a process id\n", s);
        exit(2);
    }
    return (int)v;
}

int main(int argc, char **argv)
{
    enum { LIVE, ONCE, JSON, PROM, LIST, CLEAN, REQ } mode = LIVE;
    char req[64] = "";
    const char *pid_arg = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--once")) mode = ONCE;
        else if (!strcmp(a, "--json")) mode = JSON;
        else if (!strcmp(a, "--prometheus")) mode = PROM;
        else if (!strcmp(a, "-l") || !strcmp(a, "--list")) mode = LIST;
        else if (!strcmp(a, "--clean")) mode = CLEAN;
        else if (!strcmp(a, "--purge") || !strcmp(a, "--flush") || !strcmp(a, "--dump") ||
                 !strcmp(a, "--ping")) {
            mode = REQ;
            snprintf(req, sizeof req, "%s", a + 2);
        } else if (!strcmp(a, "--decay") && i + 1 < argc) {
            mode = REQ;
            snprintf(req, sizeof req, "decay %s", argv[++i]);
        } else if (!strcmp(a, "--timeout") && i + 1 < argc) {
            timeout_ms = (unsigned)parse_pid(argv[++i]);
        } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (a[0] == '-' || pid_arg) {
            usage(stderr);
            return 2;
        } else {
            pid_arg = a;
        }
    }
    if (mode == LIST || mode == CLEAN) {
        struct listing l = {.clean = mode == CLEAN};
        if (!l.clean) printf("%7s  %-16s %s\n", "PID", "COMMAND", "PAGE");
        stat_list(list_one, &l);
        if (l.clean)
            printf("%u stale page%s removed, %u live\n", l.removed, l.removed == 1 ? "" : "s", l.live);
        else if (l.live + l.stale == 0)
            printf("no process publishes a stats page (run one with SABLE_CONF=stats_page:true)\n");
        return 0;
    }
    if (pid_arg == NULL) {
        usage(stderr);
        return 2;
    }
    int pid = parse_pid(pid_arg);
    stat_target_t t;
    char err[STAT_ERR];
    if (!stat_find(pid, &t, err)) die("%s", err);
    sable_page_t *p = malloc(sizeof *p);
    if (p == NULL) die("out of memory");
    stat_map_t m;
    if (mode == REQ) {
        /* The page only sizes the wait: a request goes out without one. */
        bool paged = stat_open(&t, &m, err);
        if (paged && !stat_read(&t, &m, p, NULL, err)) stat_close(&m), paged = false;
        if (paged) stat_close(&m);
        char reply[256];
        if (!stat_request(&t, req, reply, sizeof reply, request_timeout(paged ? p : NULL), err))
            die("%s", err);
        puts(printable(reply));
        return strncmp(reply, "ok", 2) == 0 ? 0 : 1;
    }
    if (!stat_open(&t, &m, err)) die("%s", err);
    if (mode == LIVE) return live(&t, &m);
    if (!stat_read(&t, &m, p, NULL, err)) die("%s", err);
    if (mode == JSON) print_json(&t, p);
    else if (mode == PROM) print_prometheus(&t, p);
    else once(&t, p);
    free(p);
    stat_close(&m);
    return 0;
}
