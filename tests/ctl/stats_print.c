/* sable_malloc_stats_print: sections, figures that agree with sable_mallctl
 * and add up (text and JSON), no allocation, and the SABLE_CONF options
 * stats_print / stats_print_opts in a child process. */
#include <malloc.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl_test.h"

#include <criterion/redirect.h>

static char out[1 << 20];
static size_t out_len;
static unsigned out_calls;

static void collect(void *opaque, const char *s)
{
    cr_assert_eq(opaque, &out_len);
    size_t n = strlen(s);
    cr_assert_lt(out_len + n, sizeof out);
    memcpy(out + out_len, s, n);
    out_len += n;
    out[out_len] = '\0';
    out_calls++;
}

static const char *print(const char *opts)
{
    out_len = 0;
    out[0] = '\0';
    sable_malloc_stats_print(collect, &out_len, opts);
    return out;
}

static void *some[300];

static void allocate_some(void)
{
    for (int i = 0; i < 300; i++) some[i] = sable_malloc(16 + (size_t)i * 61);
    for (int i = 0; i < 300; i += 3) sable_free(some[i]);
}

/* The number on the line "  <label> <value> ..." of the section headed
 * "<heading>:" in the text output. */
static uint64_t text_value(const char *s, const char *heading, const char *label)
{
    char head[96], line[96];
    snprintf(head, sizeof head, "\n%s:", heading);
    const char *sec = strstr(s, head);
    cr_assert_not_null(sec, "no section '%s'", heading);
    const char *next = strstr(sec + 1, "\n\n");
    snprintf(line, sizeof line, "\n  %s ", label);
    const char *l = strstr(sec, line);
    cr_assert(l != NULL && (next == NULL || l < next), "no '%s' under '%s'", label, heading);
    unsigned long long v;
    cr_assert_eq(sscanf(l + strlen(line), "%llu", &v), 1, "'%s' has no number", label);
    return v;
}

Test(stats_print, text_answers_where_memory_goes)
{
    allocate_some();
    const char *s = print(NULL);
    cr_assert(strstr(s, "___ Begin sable statistics ___\n") == s);
    cr_assert_not_null(strstr(s, "--- End sable statistics ---\n"));
    const char *must[] = {"\n  version ", SABLE_VERSION_STRING, "\nopt: ", "\n  narenas ",
                          "\narenas: ", "\narenas.bin.<j>:", "\nstats: ", "\n  resident ",
                          "\n  huge.allocated ", "\nstats.frag: ",
                          "free space in slabs holding blocks", "free memory not yet returned",
                          "\nstats.bins.<j>: ", "largest slab_bytes first",
                          "\nstats.arenas.0: ", "\nstats.arenas.0.bins.<j>: ",
                          "\nstats.arenas.merged:", "\nstats.large_classes.<k>: "};
    for (size_t i = 0; i < sizeof must / sizeof must[0]; i++)
        cr_assert_not_null(strstr(s, must[i]), "missing '%s'", must[i]);
    cr_assert_null(strstr(s, "\nthread:"), "the calling thread's names are not printed");
    cr_assert_null(strstr(s, "\n  deallocated "));
    cr_assert_null(strstr(s, "\narena."), "actions are not printed");
    cr_assert_null(strstr(s, "\n  purge "));

    /* The figures are the names' values from the snapshot the print took,
     * and the breakdown adds up as it does through sable_mallctl. */
    cr_assert_eq(text_value(s, "stats", "allocated"), ctl_z("stats.allocated"));
    cr_assert_eq(text_value(s, "stats", "mapped"), ctl_z("stats.mapped"));
    cr_assert_eq(text_value(s, "stats.arenas.0", "mapped"), ctl_z("stats.arenas.0.mapped"));
    cr_assert_eq(text_value(s, "arenas", "nbins"), 36);
    uint64_t parts = text_value(s, "stats", "allocated");
    const char *frag[] = {"cached_bytes", "partial_slab_bytes", "dirty_bytes", "clean_bytes",
                          "chunk_header_bytes"};
    for (size_t i = 0; i < sizeof frag / sizeof frag[0]; i++)
        parts += text_value(s, "stats.frag", frag[i]);
    cr_assert_eq(parts, text_value(s, "stats", "mapped"), "the breakdown adds up to mapped");
}

Test(stats_print, letters_leave_sections_out)
{
    allocate_some();
    cr_assert_null(strstr(print("g"), "\nopt: "));
    cr_assert_null(strstr(out, "\narenas: "));
    cr_assert_null(strstr(out, "\narenas.bin.<j>:"));
    cr_assert_not_null(strstr(out, "\nstats.bins.<j>:"));
    cr_assert_not_null(strstr(out, "\n  version "), "version is always there");
    cr_assert_null(strstr(print("m"), "\nstats.frag:"));
    cr_assert_null(strstr(out, "\nstats.bins.<j>:"));
    cr_assert_null(strstr(out, "\nstats.arenas.merged:"));
    cr_assert_null(strstr(out, "\nstats.large_classes.<k>:"));
    cr_assert_not_null(strstr(out, "\nstats.arenas.0:"));
    cr_assert_null(strstr(print("b"), "\nstats.bins.<j>:"));
    cr_assert_null(strstr(out, "nflushes"));
    cr_assert_null(strstr(out, "\narenas.bin.<j>:"));
    cr_assert_not_null(strstr(out, "\nstats.frag:"));
    cr_assert_null(strstr(print("a"), "\nstats.arenas.0:"));
    cr_assert_not_null(strstr(out, "\nstats.arenas.merged:"));
    cr_assert_null(strstr(print("l"), "\n  large.allocated "));
    cr_assert_null(strstr(out, "\n  huge.allocated "));
    cr_assert_null(strstr(out, "\nstats.large_classes.<k>:"));
    cr_assert_not_null(strstr(out, "\n  small.allocated "));
    cr_assert_not_null(strstr(print("dxe"), "\nopt: "), "d, x, e are accepted and ignored");
    print("gmablxde");
    cr_assert_not_null(strstr(out, "\n  allocated "), "the totals are always there");
    cr_assert_null(strstr(out, "\nstats.arenas."));
}

/* Prints with opts, then has python3 parse the JSON as `d` and run the
 * assertions in `check` (Python; `allocated` is sable_mallctl's
 * stats.allocated of the same snapshot). */
static void check_json(const char *opts, const char *check)
{
    char path[] = "/tmp/sable-ctl-json-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    print(opts);
    cr_assert_eq(write(fd, out, out_len), (ssize_t)out_len);
    close(fd);
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             "%s -c 'import json,sys; d=json.load(open(sys.argv[1]))[\"sable\"]; "
             "s=d[\"stats\"]; allocated=int(sys.argv[2]); "
             "assert s[\"allocated\"] == allocated, (s[\"allocated\"], allocated); %s' %s %zu",
             getenv("CTL_PYTHON") ? getenv("CTL_PYTHON") : "/usr/bin/python3", check, path,
             ctl_z("stats.allocated"));
    int rc = system(cmd);
    unlink(path);
    cr_assert_eq(rc, 0, "JSON with opts '%s' does not parse or check:\n%s", opts, out);
}

Test(stats_print, json_parses_and_adds_up)
{
    allocate_some();
    /* Every part present, keyed like the names, and the figures add up:
     * the breakdown to mapped, the arenas to the merged view, the classes
     * to the small part of allocated. */
    check_json("J",
               "f=s[\"frag\"]; a=s[\"arenas\"]; n=d[\"arenas\"][\"narenas\"]; "
               "assert d[\"version\"] and d[\"epoch\"] >= 1 and d[\"opt\"][\"tcache\"] is True; "
               "assert s[\"mapped\"] == s[\"allocated\"] + f[\"cached_bytes\"] + "
               "f[\"partial_slab_bytes\"] + f[\"dirty_bytes\"] + f[\"clean_bytes\"] + "
               "f[\"chunk_header_bytes\"]; "
               "assert s[\"active\"] == s[\"allocated\"] + f[\"cached_bytes\"] + "
               "f[\"partial_slab_bytes\"]; "
               "assert sorted(a) == sorted([str(i) for i in range(n)] + [\"merged\"]); "
               "assert sum(a[str(i)][\"mapped\"] for i in range(n)) == a[\"merged\"][\"mapped\"]; "
               "assert s[\"mapped\"] == a[\"merged\"][\"mapped\"] + s[\"huge\"][\"allocated\"] + "
               "s[\"huge\"][\"cached\"]; "
               "assert len(s[\"bins\"]) == 36 == len(d[\"arenas\"][\"bin\"]); "
               "assert sum(b[\"allocated_bytes\"] for b in s[\"bins\"]) == "
               "f[\"small_allocated_bytes\"]; "
               "assert [b[\"size\"] for b in s[\"bins\"]] == [b[\"size\"] for b in d[\"arenas\"][\"bin\"]]; "
               "m=a[\"merged\"][\"bins\"]; "
               "assert sum(b[\"curregs\"] * b[\"size\"] for b in m) == "
               "sum(b[\"allocated_bytes\"] + b[\"cached_bytes\"] for b in s[\"bins\"]); "
               "assert len(s[\"large_classes\"]) == 16; assert \"thread\" not in d");
    cr_assert_not_null(strstr(out, "\"free_in_slabs_bytes\""));
    check_json("Jg", "assert \"opt\" not in d and \"arenas\" not in d and \"frag\" in s");
    check_json("Jm", "assert \"frag\" not in s and \"bins\" not in s and "
                     "\"merged\" not in s[\"arenas\"] and \"0\" in s[\"arenas\"]");
    check_json("Ja", "assert list(s[\"arenas\"]) == [\"merged\"]");
    check_json("Jb", "assert \"bins\" not in s and \"bin\" not in d[\"arenas\"] and "
                     "\"bins\" not in s[\"arenas\"][\"0\"]");
    check_json("Jl", "assert \"huge\" not in s and \"large\" not in s[\"arenas\"][\"0\"]");
    check_json("Jgmabl", "assert s[\"arenas\"] == {} and \"hugepages\" in s");
}

Test(stats_print, allocates_nothing)
{
    allocate_some();
    print(NULL); /* the first call may set up lazily (atfork registration) */
    uint64_t a0 = ctl_q("thread.allocated");
    struct mallinfo2 libc0 = mallinfo2(); /* the C library's heap: the test's own */
    print(NULL);
    print("J");
    struct mallinfo2 libc1 = mallinfo2();
    cr_assert_eq(ctl_q("thread.allocated"), a0, "nothing from sable's heap");
    cr_assert_eq(libc1.uordblks, libc0.uordblks, "nothing from the C library's heap");
    cr_assert_gt(out_calls, 1, "output comes in pieces through the callback");
}

Test(stats_print, null_callback_writes_to_stderr, .init = cr_redirect_stderr)
{
    sable_malloc_stats_print(NULL, NULL, "g");
    fflush(stderr);
    cr_assert_stderr_neq_str("");
}

/* Runs the child program with SABLE_CONF=conf and returns its stderr. */
static const char *run_child(const char *conf, const char *arg)
{
    const char *child = getenv("CTL_CHILD");
    cr_assert_not_null(child, "CTL_CHILD names the child program");
    char path[] = "/tmp/sable-ctl-child-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "SABLE_CONF='%s' '%s' %s 2>'%s'", conf, child, arg, path);
    int rc = system(cmd);
    cr_assert_eq(rc, 0, "%s", cmd);
    FILE *f = fopen(path, "r");
    out_len = fread(out, 1, sizeof out - 1, f);
    out[out_len] = '\0';
    fclose(f);
    unlink(path);
    return out;
}

Test(stats_print, bad_stats_print_value_is_warned_about)
{
    run_child("stats_print:maybe", "");
    cr_assert_str_eq(out, "sable: SABLE_CONF: invalid value 'maybe' for option 'stats_print' ignored\n");
    run_child("stats_print_opts:abcdefghijklmnopqrstuvwxyzabcdefghij", "");
    cr_assert_not_null(strstr(out, "invalid value"), "%s", out);
    cr_assert_not_null(strstr(out, "'stats_print_opts'"), "%s", out);
}

Test(stats_print, stats_print_true_prints_at_exit)
{
    run_child("stats_print:true", "");
    cr_assert(strstr(out, "___ Begin sable statistics ___") == out, "%s", out);
    cr_assert_not_null(strstr(out, "--- End sable statistics ---"));
    run_child("stats_print:false", "");
    cr_assert_str_eq(out, "");
}

Test(stats_print, stats_print_works_when_another_thread_calls_exit)
{
    run_child("stats_print:true", "thread-exit");
    cr_assert_not_null(strstr(out, "--- End sable statistics ---"), "%s", out);
}

Test(stats_print, stats_print_opts_selects_json)
{
    run_child("stats_print:true,stats_print_opts:Ja", "");
    cr_assert(out[0] == '{', "%s", out);
    char path[] = "/tmp/sable-ctl-json-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_eq(write(fd, out, out_len), (ssize_t)out_len);
    close(fd);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s -c 'import json,sys; json.load(open(sys.argv[1]))' %s",
             getenv("CTL_PYTHON") ? getenv("CTL_PYTHON") : "/usr/bin/python3", path);
    int rc = system(cmd);
    unlink(path);
    cr_assert_eq(rc, 0, "%s", out);
}

/* The callback runs with the caller's cancellation state: enabled when the
 * report has its copy (no lock held), disabled while it falls back to the
 * control lock because no pages can be mapped (address space exhausted);
 * either way the printout is whole and the caller's state comes back. */
static unsigned cb_calls, cb_enabled;

static void state_cb(void *opaque, const char *s)
{
    (void)opaque, (void)s;
    int st;
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &st);
    pthread_setcancelstate(st, NULL);
    cb_calls++;
    cb_enabled += st == PTHREAD_CANCEL_ENABLE;
}

static bool state_is_enabled(void)
{
    int st;
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &st);
    pthread_setcancelstate(st, NULL);
    return st == PTHREAD_CANCEL_ENABLE;
}

/* Grows the stack now, so that it need not grow under the limit. */
static __attribute__((noinline)) void touch_stack(void)
{
    volatile char pad[512 << 10];
    memset((char *)pad, 1, sizeof pad);
}

static int fallback_child(void)
{
    sable_malloc_stats_print(state_cb, NULL, "");
    if (cb_calls == 0 || cb_enabled != cb_calls) return 1; /* the copy: no lock, state kept */
    touch_stack();
    unsigned long pages;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f == NULL || fscanf(f, "%lu", &pages) != 1) return 2;
    fclose(f);
    struct rlimit lim = {.rlim_cur = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE),
                         .rlim_max = RLIM_INFINITY};
    if (setrlimit(RLIMIT_AS, &lim) != 0) return 3;
    void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m != MAP_FAILED) return 4; /* nothing can be mapped */
    cb_calls = cb_enabled = 0;
    sable_malloc_stats_print(state_cb, NULL, "");
    if (cb_calls < 2 || cb_enabled != 0) return 5; /* written, under the lock */
    if (!state_is_enabled()) return 6;
    uint64_t e = 1;
    size_t len = sizeof e;
    return sable_mallctl("epoch", &e, &len, &e, len) == 0 ? 0 : 7; /* the lock was released */
}

Test(stats_print, the_callback_runs_unlocked_or_with_cancellation_disabled)
{
    allocate_some();
    print(NULL); /* the snapshot's memory and the scratch exist before the limit */
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) _exit(fallback_child());
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %#x", status);
}
