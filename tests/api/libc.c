/* Memory that the C library allocates internally comes from sable's malloc
 * and frees cleanly. Built only in the unprefixed variant, where malloc is
 * sable's. Each block is also passed to sable_malloc_usable_size, which would
 * reject a block that came from another allocator. */
#include "api.h"

#include <dirent.h>
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>

/* A hang (e.g. an allocator loop) fails the one test, not the whole binary. */
TestSuite(libc, .timeout = 60);

static void assert_sable_block(const void *p, size_t at_least, const char *what)
{
    cr_assert_not_null(p, "%s returned NULL", what);
    size_t usable = sable_malloc_usable_size(p);
    cr_assert_geq(usable, at_least, "%s: sable_malloc_usable_size %zu < %zu", what, usable,
        at_least);
    cr_assert_eq(usable, malloc_usable_size((void *)p));
}

Test(libc, malloc_symbol_is_provided_by_libsable)
{
    Dl_info info;
    cr_assert_neq(dladdr((void *)malloc, &info), 0);
    cr_assert_not_null(info.dli_fname);
    cr_assert_not_null(strstr(info.dli_fname, "libsable"), "malloc comes from %s", info.dli_fname);
    cr_assert_neq(dladdr((void *)free, &info), 0);
    cr_assert_not_null(strstr(info.dli_fname, "libsable"), "free comes from %s", info.dli_fname);
}

Test(libc, strdup_result_frees_cleanly)
{
    for (int i = 0; i < 1000; i++) {
        char buf[300];
        memset(buf, 'a' + i % 26, sizeof buf);
        buf[i % 299] = '\0';
        char *s = strdup(buf);
        assert_sable_block(s, strlen(buf) + 1, "strdup");
        cr_assert_str_eq(s, buf);
        free(s);
    }
    char *s = strndup("hello world", 5);
    assert_sable_block(s, 6, "strndup");
    cr_assert_str_eq(s, "hello");
    free(s);
}

Test(libc, getline_buffer_frees_cleanly)
{
    FILE *f = tmpfile();
    cr_assert_not_null(f);
    for (int i = 0; i < 200; i++) {
        for (int k = 0; k < i * 50; k++)
            fputc('x', f);
        fputc('\n', f);
    }
    rewind(f);
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int lines = 0;
    while ((n = getline(&line, &cap, f)) > 0) {
        cr_assert_eq((size_t)n, (size_t)lines * 50 + 1);
        assert_sable_block(line, (size_t)n + 1, "getline");
        lines++;
    }
    cr_assert_eq(lines, 200);
    free(line);
    fclose(f);
}

Test(libc, asprintf_result_frees_cleanly)
{
    for (int i = 0; i < 1000; i++) {
        char *s = NULL;
        int n = asprintf(&s, "%d:%0*d", i, i % 500, i);
        cr_assert_geq(n, 0);
        assert_sable_block(s, (size_t)n + 1, "asprintf");
        free(s);
    }
}

Test(libc, realpath_with_null_buffer_frees_cleanly)
{
    char *p = realpath(".", NULL);
    assert_sable_block(p, strlen(p) + 1, "realpath");
    cr_assert_eq(p[0], '/');
    free(p);
    p = realpath("/usr/bin/../lib", NULL);
    assert_sable_block(p, strlen(p) + 1, "realpath");
    free(p);
}

Test(libc, getcwd_with_null_buffer_frees_cleanly)
{
    char *p = getcwd(NULL, 0);
    assert_sable_block(p, strlen(p) + 1, "getcwd");
    free(p);
    p = getcwd(NULL, PATH_MAX);
    assert_sable_block(p, strlen(p) + 1, "getcwd");
    free(p);
}

Test(libc, open_memstream_buffer_frees_cleanly)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_not_null(f);
    for (int i = 0; i < 50000; i++)
        fprintf(f, "line %d\n", i);
    cr_assert_eq(fclose(f), 0);
    cr_assert_gt(len, 300000);
    assert_sable_block(buf, len + 1, "open_memstream");
    cr_assert_eq(strncmp(buf, "line 0\nline 1\n", 14), 0);
    free(buf);
}

Test(libc, scandir_entries_free_cleanly)
{
    struct dirent **list = NULL;
    int n = scandir("/", &list, NULL, alphasort);
    cr_assert_gt(n, 2);
    assert_sable_block(list, (size_t)n * sizeof *list, "scandir list");
    for (int i = 0; i < n; i++) {
        assert_sable_block(list[i], 1, "scandir entry");
        free(list[i]);
    }
    free(list);
}

Test(libc, stdio_buffers_and_fopen_free_cleanly)
{
    for (int i = 0; i < 500; i++) {
        FILE *f = fopen("/proc/self/status", "r");
        cr_assert_not_null(f);
        char line[256];
        cr_assert_not_null(fgets(line, sizeof line, f));
        fclose(f);
    }
}

Test(libc, dlerror_messages_free_cleanly)
{
    for (int i = 0; i < 200; i++) {
        void *h = dlopen("libsable-test-no-such-library.so", RTLD_NOW);
        cr_assert_null(h);
        const char *msg = dlerror();
        cr_assert_not_null(msg);
        cr_assert_not_null(strstr(msg, "no-such-library"));
    }
    cr_assert_null(dlerror());
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* qsort of a large array uses a malloc'd buffer inside libc; printf of a
 * very long field uses one too. */
Test(libc, qsort_and_long_printf_use_internal_buffers_cleanly)
{
    enum { N = 100000 };
    int *v = malloc(N * sizeof *v);
    cr_assert_not_null(v);
    for (int i = 0; i < N; i++)
        v[i] = (i * 7919) % N;
    qsort(v, N, sizeof *v, cmp_int);
    for (int i = 0; i < N; i++)
        cr_assert_eq(v[i], i);
    free(v);
    char small[16];
    int n = snprintf(small, sizeof small, "%*d", 100000, 7);
    cr_assert_eq(n, 100000);
}
