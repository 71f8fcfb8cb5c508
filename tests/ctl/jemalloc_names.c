/* Every name of jemalloc 5.3's man page, read with jemalloc's type and size
 * through sable_mallctl, against what docs/jemalloc-names.tsv (the data of
 * docs/mallctl.md's table) says of it:
 *   answered  reads with exactly the type's size (or runs, for an action),
 *             with the result the file gives (0 unless it names an error);
 *             a read-only name refuses a write (EPERM), a writable one
 *             takes back the value it read, and a wrong size is EINVAL;
 *   fixed     the same, and the value is the file's;
 *   absent    ENOENT.
 * <i> and <j> are 0.
 *
 *   ctl-jemalloc-names TSV
 * Prefixed API: the test program itself runs on the C library's malloc. */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "jemalloc_names.h"
#include "sable.h"

/* The C size of a man-page type; what a reader passes for oldp. */
static size_t type_size(const char *t)
{
    static const struct {
        const char *name;
        size_t size;
    } types[] = {
        {"bool", sizeof(bool)},
        {"unsigned", sizeof(unsigned)},
        {"uint32_t", sizeof(uint32_t)},
        {"size_t", sizeof(size_t)},
        {"ssize_t", sizeof(ssize_t)},
        {"uint64_t", sizeof(uint64_t)},
        {"int64_t", sizeof(int64_t)},
        {"const char *", sizeof(const char *)},
        {"uint64_t *", sizeof(uint64_t *)},
        {"extent_hooks_t *", sizeof(void *)},
        {"unsigned, extent_hooks_t *", sizeof(unsigned)}, /* reads the index */
        {"unsigned, void*", sizeof(unsigned)},
        {"void", 0},
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strcmp(types[i].name, t) == 0) return types[i].size;
    return (size_t)-1;
}

static int code_of(const char *v)
{
    static const struct {
        const char *name;
        int code;
    } codes[] = {{"EINVAL", EINVAL}, {"EPERM", EPERM}, {"EFAULT", EFAULT}, {"ENOENT", ENOENT}};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (strcmp(codes[i].name, v) == 0) return codes[i].code;
    return 0;
}

static unsigned failures;

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        fprintf(stderr, "FAIL %s: ", name);                                                        \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fputc('\n', stderr);                                                                       \
        failures++;                                                                                \
        return;                                                                                    \
    } while (0)

/* A fixed value as the file writes it, against what was read. */
static bool same_value(const char *type, const unsigned char *buf, const char *want)
{
    if (strcmp(type, "bool") == 0) return *(const bool *)buf == (strcmp(want, "true") == 0);
    if (strcmp(type, "const char *") == 0) {
        const char *s = *(const char *const *)buf;
        size_t n = strlen(want);
        return s && n >= 2 && strlen(s) == n - 2 && memcmp(s, want + 1, n - 2) == 0;
    }
    int64_t v = strtoll(want, NULL, 10), got;
    switch (type_size(type)) {
    case 4: got = *(const uint32_t *)buf; break;
    default: got = *(const int64_t *)buf; break;
    }
    return got == v;
}

static void probe(const char *name, const char *type, const jn_row_t *r)
{
    size_t size = type_size(type);
    if (size == (size_t)-1) FAIL("unknown type '%s' in the data file", type);
    int expect = r->status == JN_ABSENT ? ENOENT : code_of(r->value);
    unsigned char buf[16], zero[16] = {0};
    size_t len = size;
    int err;
    bool action = strcmp(r->access, "--") == 0;
    memset(buf, 0xa5, sizeof buf);
    if (action)
        err = sable_mallctl(name, NULL, NULL, NULL, 0);
    else
        err = sable_mallctl(name, buf, &len, NULL, 0);
    if (err != expect) FAIL("returned %d, expected %d (%s)", err, expect, jn_status_name(r->status));
    if (err != 0 || action) return;
    if (len != size) FAIL("read %zu bytes, its type has %zu", len, size);
    if (buf[size] != 0xa5) FAIL("wrote past its type's %zu bytes", size);
    if (r->status == JN_FIXED && !same_value(type, buf, r->value))
        FAIL("reads another value than the fixed %s", r->value);
    size_t wrong = size + 1;
    unsigned char other[16];
    if (sable_mallctl(name, other, &wrong, NULL, 0) != EINVAL) FAIL("a wrong size is not EINVAL");
    if (strcmp(r->access, "r-") == 0) {
        if ((err = sable_mallctl(name, NULL, NULL, zero, size)) != EPERM)
            FAIL("read-only, but a write returned %d", err);
    } else if (strcmp(r->access, "rw") == 0 && strchr(type, ',') == NULL) {
        /* Writing back what was read is always a value the name takes.
         * (A name with two types, e.g. arenas.create, reads one and is
         * written the other: not written here.) */
        unsigned char old[16];
        size_t olen = size;
        if ((err = sable_mallctl(name, old, &olen, buf, size)) != 0)
            FAIL("writing back the value it read returned %d", err);
        if (olen != size) FAIL("the read of a write copied %zu bytes", olen);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fputs("usage: ctl-jemalloc-names TSV\n", stderr);
        return 2;
    }
    jn_table_t t;
    if (!jn_read(argv[1], &t)) return 2;
    unsigned count[3] = {0}, names = 0;
    for (size_t k = 0; k < t.nrows; k++) {
        const jn_row_t *r = &t.rows[k];
        const jn_expand_t *e = jn_template(&t, r->name);
        for (unsigned w = 0; w < (e ? e->nwords : 1); w++) {
            char name[160], type[64];
            snprintf(type, sizeof type, "%s", r->type);
            const char *src = r->name;
            size_t n = 0;
            while (*src && n + 16 < sizeof name) {
                if (strncmp(src, "<i>", 3) == 0 || strncmp(src, "<j>", 3) == 0) {
                    name[n++] = '0';
                    src += 3;
                } else if (e && strncmp(src, e->key, strlen(e->key)) == 0) {
                    const char *word = e->words[w], *colon = strchr(word, ':');
                    size_t wl = colon ? (size_t)(colon - word) : strlen(word);
                    memcpy(name + n, word, wl);
                    n += wl;
                    if (colon) snprintf(type, sizeof type, "%s", colon + 1);
                    src += strlen(e->key);
                } else {
                    name[n++] = *src++;
                }
            }
            name[n] = '\0';
            probe(name, type, r);
            names++;
        }
        count[r->status]++;
    }
    printf("%zu man-page entries (%u names): %u answered, %u fixed, %u absent\n", t.nrows, names,
           count[JN_ANSWERED], count[JN_FIXED], count[JN_ABSENT]);
    if (t.nrows < 170) {
        fprintf(stderr, "FAIL: the data file lists %zu entries; jemalloc 5.3's man page has 178\n",
                t.nrows);
        failures++;
    }
    printf("%u passed, %u failed\n", names - failures, failures);
    return failures ? 1 : 0;
}
