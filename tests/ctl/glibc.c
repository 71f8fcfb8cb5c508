/* glibc's extras through libsable.so: mallinfo2, mallinfo, malloc_stats,
 * malloc_info, mallopt answered from sable's statistics, and no unprefixed
 * mallctl (programs probe it to detect jemalloc). */
#include <dlfcn.h>
#include <malloc.h>
#include <unistd.h>

#include "ctl_test.h"

#include <criterion/redirect.h>

static void *blocks[1000];
static void *huge;

static void allocate(void)
{
    for (int i = 0; i < 1000; i++) blocks[i] = malloc(1000);
    huge = malloc(8 << 20);
}

static void release(void)
{
    for (int i = 0; i < 1000; i++) free(blocks[i]);
    free(huge);
}

Test(glibc, malloc_is_sables)
{
    void *p = malloc(100);
    cr_assert_eq(sable_malloc_usable_size(p), 112);
    free(p);
    cr_assert_null(dlsym(RTLD_DEFAULT, "mallctl"), "unprefixed mallctl must not exist");
    cr_assert_null(dlsym(RTLD_DEFAULT, "mallctlnametomib"));
    cr_assert_not_null(dlsym(RTLD_DEFAULT, "sable_mallctl"));
}

Test(glibc, mallinfo2_matches_the_stats)
{
    allocate();
    struct mallinfo2 m = mallinfo2();
    size_t allocated = 0, mapped = 0, len = sizeof(size_t);
    cr_assert_eq(sable_mallctl("stats.allocated", &allocated, &len, NULL, 0), 0);
    cr_assert_eq(sable_mallctl("stats.mapped", &mapped, &len, NULL, 0), 0);
    cr_assert_eq(m.hblks, 1);
    cr_assert_eq(m.hblkhd, (size_t)8 << 20);
    cr_assert_eq(m.uordblks + m.hblkhd, allocated, "mallinfo2 refreshed the same snapshot");
    cr_assert_geq(m.uordblks, (size_t)1000 * 1024);
    cr_assert_eq(m.arena, m.uordblks + m.fordblks);
    cr_assert_eq(m.arena + m.hblkhd, mapped);
    cr_assert_eq(m.smblks, 0);
    cr_assert_eq(m.usmblks, 0);
    struct mallinfo2 before = m;
    release();
    m = mallinfo2();
    cr_assert_eq(m.hblks, 0);
    cr_assert_leq(m.uordblks, before.uordblks - (size_t)1000 * 1024);
}

#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
Test(glibc, mallinfo_is_mallinfo2_clamped)
{
    allocate();
    struct mallinfo2 m2 = mallinfo2();
    struct mallinfo m = mallinfo();
    cr_assert_eq((size_t)m.hblkhd, m2.hblkhd);
    cr_assert_eq((size_t)m.arena, m2.arena);
    cr_assert_eq((size_t)m.uordblks, m2.uordblks);
    cr_assert_eq(m.hblks, 1);
    release();
}

Test(glibc, malloc_stats_prints_a_summary, .init = cr_redirect_stderr)
{
    allocate();
    malloc_stats();
    fflush(stderr);
    FILE *f = cr_get_redirected_stderr();
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    cr_assert_not_null(strstr(buf, "Arena 0:\nsystem bytes     = "), "%s", buf);
    cr_assert_not_null(strstr(buf, "in use bytes     = "), "%s", buf);
    cr_assert_not_null(strstr(buf, "Total (incl. mmap):\n"), "%s", buf);
    cr_assert_not_null(strstr(buf, "max mmap regions =          1\n"), "%s", buf);
    release();
}

Test(glibc, malloc_info_writes_glibc_shaped_xml)
{
    allocate();
    char path[] = "/tmp/sable-ctl-xml-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    FILE *f = fdopen(fd, "w");
    cr_assert_eq(malloc_info(0, f), 0);
    cr_assert_eq(malloc_info(1, f), EINVAL);
    fclose(f);
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "%s -c 'import sys, xml.etree.ElementTree as E; r=E.parse(sys.argv[1]).getroot(); "
             "assert r.tag == \"malloc\" and r.get(\"version\") == \"1\"; "
             "assert r.find(\"heap\").get(\"nr\") == \"0\"; "
             "t=[x for x in r.findall(\"total\") if x.get(\"type\") == \"mmap\"][0]; "
             "assert t.get(\"count\") == \"1\" and t.get(\"size\") == str(8 << 20)' %s",
             getenv("CTL_PYTHON") ? getenv("CTL_PYTHON") : "/usr/bin/python3", path);
    int rc = system(cmd);
    unlink(path);
    cr_assert_eq(rc, 0);
    release();
}

/* libsable.so is set up before main: mallopt can no longer start a fill,
 * the parameters without a counterpart in sable return 0 (glibc's "did not
 * act"), and M_ARENA_MAX still acts (on threads set up later; the static
 * tier checks that, and mallopt before set-up). */
Test(glibc, mallopt_returns_1_only_when_it_acts)
{
    cr_assert_eq(mallopt(M_MXFAST, 64), 0);
    cr_assert_eq(mallopt(M_TRIM_THRESHOLD, 1 << 20), 0);
    cr_assert_eq(mallopt(M_TOP_PAD, 0), 0);
    cr_assert_eq(mallopt(M_MMAP_THRESHOLD, 1 << 20), 0);
    cr_assert_eq(mallopt(M_MMAP_MAX, 0), 0);
    cr_assert_eq(mallopt(M_CHECK_ACTION, 3), 0);
    cr_assert_eq(mallopt(M_ARENA_TEST, 2), 0);
    cr_assert_eq(mallopt(12345, 1), 0, "an unknown parameter");
    unsigned perturb = 0;
    size_t len = sizeof perturb;
    cr_assert_eq(sable_mallctl("opt.perturb", &perturb, &len, NULL, 0), 0);
    cr_assert_eq(mallopt(M_PERTURB, (int)perturb), 1, "the byte in force");
    cr_assert_eq(mallopt(M_PERTURB, (int)(perturb ^ 0x5c)), 0, "a new byte after set-up");
    cr_assert_eq(mallopt(M_ARENA_MAX, 0), 0, "a value glibc ignores");
    cr_assert_eq(mallopt(M_ARENA_MAX, 1), 1, "limits the arenas of threads set up later");
    void *p = malloc(100); /* still works */
    cr_assert_not_null(p);
    free(p);
}

/* The figure after `key` in text (0 if it is not there). */
static size_t figure_after(const char *text, const char *key)
{
    const char *at = strstr(text, key);
    return at ? (size_t)strtoull(at + strlen(key), NULL, 10) : 0;
}

/* malloc_stats' "max mmap" lines are the most huge blocks (and bytes) there
 * have been at once, not those live now. */
Test(glibc, malloc_stats_reports_the_peak_of_huge_blocks, .init = cr_redirect_stderr)
{
    void *h[3];
    for (int i = 0; i < 3; i++) {
        h[i] = malloc(8 << 20);
        cr_assert_not_null(h[i]);
    }
    free(h[1]);
    free(h[2]);
    cr_assert_eq(mallinfo2().hblks, 1);
    malloc_stats();
    fflush(stderr);
    char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, cr_get_redirected_stderr());
    buf[n] = '\0';
    cr_assert_geq(figure_after(buf, "max mmap regions = "), 3, "%s", buf);
    cr_assert_geq(figure_after(buf, "max mmap bytes   = "), (size_t)24 << 20, "%s", buf);
    free(h[0]);
}

/* malloc_info's current and max system bytes of every heap and of the
 * total: max >= current each time. */
static size_t info_system(size_t *current, size_t *max)
{
    char *text = NULL;
    size_t len = 0, heaps = 0;
    FILE *f = open_memstream(&text, &len);
    cr_assert_not_null(f);
    cr_assert_eq(malloc_info(0, f), 0);
    fclose(f);
    static const char cur[] = "<system type=\"current\" size=\"", mx[] = "<system type=\"max\" size=\"";
    for (const char *at = strstr(text, cur); at; at = strstr(at + 1, cur), heaps++) {
        *current = (size_t)strtoull(at + strlen(cur), NULL, 10);
        const char *m = strstr(at, mx);
        cr_assert_not_null(m);
        *max = (size_t)strtoull(m + strlen(mx), NULL, 10);
        cr_assert_geq(*max, *current, "%s", text);
    }
    free(text);
    return heaps; /* the last pair read is the total's */
}

/* The chunks 48 MiB of small blocks need stay in the heaps' maxima after
 * the blocks are freed and trimmed (their memory is then purged: no longer
 * system memory). */
Test(glibc, malloc_info_reports_each_heaps_peak)
{
    enum { N = 48 * 1024 };
    static void *b[N];
    size_t cur0, max0, cur1, max1, cur2, max2;
    size_t heaps = info_system(&cur0, &max0);
    cr_assert_geq(heaps, 2, "one heap at least, and the total");
    for (int i = 0; i < N; i++) {
        b[i] = malloc(1000);
        cr_assert_not_null(b[i]);
    }
    info_system(&cur1, &max1);
    cr_assert_geq(cur1, cur0 + ((size_t)40 << 20));
    for (int i = 0; i < N; i++) free(b[i]);
    malloc_trim(0);
    info_system(&cur2, &max2);
    cr_assert_geq(max2, max1, "a peak never goes down");
    cr_assert_leq(cur2 + ((size_t)32 << 20), max2, "current %zu, max %zu", cur2, max2);
}
