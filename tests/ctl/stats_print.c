/* sable_malloc_stats_print: sections, JSON that parses, no allocation, and
 * the SABLE_CONF options stats_print / stats_print_opts in a child process. */
#include <malloc.h>
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

Test(stats_print, text_answers_where_memory_goes)
{
    allocate_some();
    const char *s = print(NULL);
    cr_assert(strstr(s, "___ Begin sable statistics ___\n") == s);
    cr_assert_not_null(strstr(s, "--- End sable statistics ---\n"));
    const char *must[] = {"Version: " SABLE_VERSION_STRING, "Options: narenas:", "allocated",
                          "resident", "mapped", "metadata", "thread caches",
                          "free space in slabs holding blocks", "free memory not yet returned",
                          "Small size classes", "Large and huge", "Arena 0:"};
    for (size_t i = 0; i < sizeof must / sizeof must[0]; i++)
        cr_assert_not_null(strstr(s, must[i]), "missing '%s'", must[i]);
}

Test(stats_print, letters_leave_sections_out)
{
    allocate_some();
    cr_assert_null(strstr(print("g"), "Version:"));
    cr_assert_not_null(strstr(out, "Small size classes"));
    cr_assert_null(strstr(print("m"), "Where the mapped bytes go"));
    cr_assert_null(strstr(out, "Small size classes"));
    cr_assert_not_null(strstr(out, "Arena 0:"));
    cr_assert_null(strstr(print("b"), "Small size classes"));
    cr_assert_null(strstr(out, "nflushes"));
    cr_assert_null(strstr(print("a"), "Arena 0:"));
    cr_assert_null(strstr(print("l"), "Large and huge"));
    cr_assert_not_null(strstr(print("dxe"), "Version:"), "d, x, e are accepted and ignored");
    print("gmablxde");
    cr_assert_not_null(strstr(out, "allocated"), "the totals are always there");
}

static void check_json(const char *opts)
{
    char path[] = "/tmp/sable-ctl-json-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    print(opts);
    cr_assert_eq(write(fd, out, out_len), (ssize_t)out_len);
    close(fd);
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "%s -c 'import json,sys; d=json.load(open(sys.argv[1])); "
             "assert d[\"sable\"][\"stats\"][\"allocated\"] >= 0' %s",
             getenv("CTL_PYTHON") ? getenv("CTL_PYTHON") : "/usr/bin/python3", path);
    int rc = system(cmd);
    unlink(path);
    cr_assert_eq(rc, 0, "JSON with opts '%s' does not parse:\n%s", opts, out);
}

Test(stats_print, json_parses)
{
    allocate_some();
    check_json("J");
    cr_assert_not_null(strstr(out, "\"free_in_slabs_bytes\""));
    cr_assert_not_null(strstr(out, "\"merged\""));
    check_json("Jg");
    check_json("Jm");
    check_json("Ja");
    check_json("Jb");
    check_json("Jgmabl");
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
