/* docs/jemalloc-names.tsv, read by the probe of every jemalloc name
 * (jemalloc_names.c) and by the generator of docs/mallctl.md's table of
 * them (mallctl_doc.c), so that the two cannot disagree. The file's format
 * is described at its top. Test code: it runs on the C library's malloc. */
#ifndef SABLE_TEST_JEMALLOC_NAMES_H
#define SABLE_TEST_JEMALLOC_NAMES_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { JN_ANSWERED, JN_FIXED, JN_ABSENT };

typedef struct {
    char *name, *type, *access, *value, *why;
    int status;
} jn_row_t;

/* One @expand line: the template ("{counter}") and its words, each
 * "word" or "word:type". */
typedef struct {
    char *key;
    char *words[16];
    unsigned nwords;
} jn_expand_t;

typedef struct {
    jn_row_t *rows;
    size_t nrows;
    jn_expand_t expand[4];
    unsigned nexpand;
    char *text;
} jn_table_t;

/* Splits s at tabs into at most max fields, in place; the count. */
static inline unsigned jn_split(char *s, char **f, unsigned max)
{
    unsigned n = 0;
    while (n < max) {
        f[n++] = s;
        char *t = strchr(s, '\t');
        if (t == NULL) break;
        *t = '\0';
        s = t + 1;
    }
    return n;
}

/* Reads the table; NULL-free on success, false with a message otherwise. */
static inline bool jn_read(const char *path, jn_table_t *t)
{
    memset(t, 0, sizeof *t);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "cannot read %s\n", path);
        return false;
    }
    size_t cap = 0, n = 0;
    for (int c; (c = fgetc(f)) != EOF;) {
        if (n + 2 > cap) t->text = realloc(t->text, cap = cap ? 2 * cap : 65536);
        t->text[n++] = (char)c;
    }
    fclose(f);
    if (t->text == NULL) return false;
    t->text[n] = '\0';
    size_t rcap = 0;
    unsigned lineno = 0;
    for (char *line = t->text, *next; line && *line; line = next) {
        lineno++;
        next = strchr(line, '\n');
        if (next) *next++ = '\0';
        if (*line == '\0' || *line == '#') continue;
        char *fld[20];
        if (strncmp(line, "@expand\t", 8) == 0) {
            jn_expand_t *e = &t->expand[t->nexpand++];
            unsigned k = jn_split(line + 8, fld, 17);
            e->key = fld[0];
            for (unsigned i = 1; i < k; i++) e->words[e->nwords++] = fld[i];
            continue;
        }
        if (jn_split(line, fld, 6) != 6) {
            fprintf(stderr, "%s:%u: expected 6 tab-separated fields\n", path, lineno);
            return false;
        }
        if (t->nrows == rcap) t->rows = realloc(t->rows, (rcap = rcap ? 2 * rcap : 256) * sizeof *t->rows);
        jn_row_t *r = &t->rows[t->nrows++];
        r->name = fld[0], r->type = fld[1], r->access = fld[2], r->value = fld[4], r->why = fld[5];
        r->status = strcmp(fld[3], "answered") == 0 ? JN_ANSWERED
                    : strcmp(fld[3], "fixed") == 0  ? JN_FIXED
                    : strcmp(fld[3], "absent") == 0 ? JN_ABSENT
                                                    : -1;
        if (r->status < 0) {
            fprintf(stderr, "%s:%u: unknown status '%s'\n", path, lineno, fld[3]);
            return false;
        }
    }
    return true;
}

static inline const char *jn_status_name(int s)
{
    return s == JN_ANSWERED ? "answered" : s == JN_FIXED ? "fixed" : "absent";
}

/* The template of a row's name ("{counter}") and its expansion, or NULL. */
static inline const jn_expand_t *jn_template(const jn_table_t *t, const char *name)
{
    for (unsigned i = 0; i < t->nexpand; i++)
        if (strstr(name, t->expand[i].key)) return &t->expand[i];
    return NULL;
}

#endif
