/* The generator of docs/mallctl.md's generated sections, and their check.
 *
 *   mallctl-docgen --print
 *       prints the name tables, walked from the control tree (the walk
 *       that sable(3)'s generator shares: tools/doctree.c);
 *   mallctl-docgen --check DOC EXAMPLE SOURCE NAMES
 *       exits 1 when a generated section of DOC is stale;
 *   mallctl-docgen --write DOC EXAMPLE SOURCE NAMES
 *       rewrites them in place (meson compile -C build mallctl-doc); an
 *       example output of unchanged shape is kept as it is.
 *
 * Sections sit between marker comments:
 *   mallctl           every name: type, r/w (opt.*: default and values), doc;
 *                     checked exactly;
 *   jemalloc-names    every name of jemalloc 5.3's man page and what sable
 *                     answers for it, from NAMES (docs/jemalloc-names.tsv,
 *                     which the probe test ctl-jemalloc-names also reads);
 *                     checked exactly;
 *   mallctl-example-src  the example program (SOURCE); checked exactly;
 *   mallctl-example-out  what EXAMPLE prints with stats_print:true; numbers
 *                     vary from run to run, so it is checked for shape only
 *                     (every line the same once numbers and units are
 *                     blanked and spaces squeezed).
 * Option defaults are the option table's values, so it refuses to run
 * with SABLE_CONF set. */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doctree.h"
#include "jemalloc_names.h"

/* ---- the name tables ---- */

/* A doc string in a table cell ('|' escaped). */
static void cell(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '|') fputc('\\', f);
        fputc(*s, f);
    }
}

static void heading(doctree_t *d, bool continued)
{
    FILE *f = d->f;
    fputs("\n### ", f);
    doctree_title(d, continued, "`", "`");
    fputs("\n\n", f);
    const char *doc = doctree_paragraph(d, continued);
    if (doc) {
        fputc(toupper((unsigned char)doc[0]), f); /* a paragraph: capitalised */
        fputs(doc + 1, f);
        fputs(".\n\n", f);
    }
    if (d->sect_node->rows)
        fputs("| name | type | default | values | meaning |\n|---|---|---|---|---|\n", f);
    else
        fputs("| name | type | r/w | meaning |\n|---|---|---|---|\n", f);
}

/* opt.* rows: the default (the value before SABLE_CONF) and the values
 * the option table accepts. */
static void opt_cells(FILE *f, const opt_desc_t *o)
{
    switch (o->type) {
    case OPT_BOOL:
        if (o->min == o->max)
            fprintf(f, "%s | only `%s`", o->min ? "true" : "false", o->min ? "true" : "false");
        else
            fprintf(f, "%s | `true`, `false`", *(const bool *)o->var ? "true" : "false");
        break;
    case OPT_UINT:
    case OPT_INT: {
        long long v = o->type == OPT_INT ? (long long)*(const int64_t *)o->var
                                         : (long long)*(const unsigned *)o->var;
        if (o->min == o->max)
            fprintf(f, "%lld | only %lld", v, (long long)o->min);
        else
            fprintf(f, "%lld | %lld – %lld", v, (long long)o->min, (long long)o->max);
        break;
    }
    case OPT_SIZE:
        fprintf(f, "%zu | bytes, with `k`, `m`, `g` suffixes", *(const size_t *)o->var);
        break;
    case OPT_ENUM:
        fprintf(f, "`\"%s\"` | %s", opt_enum_name(o), o->names[1] ? "" : "only ");
        for (unsigned k = 0; o->names[k]; k++) fprintf(f, "%s`%s`", k ? ", " : "", o->names[k]);
        break;
    default:
        if (o->max == 0)
            fprintf(f, "`\"%s\"` | only `\"\"`", (const char *)o->var);
        else
            fprintf(f, "`\"%s\"` | at most %llu characters", (const char *)o->var,
                    (unsigned long long)o->max);
        break;
    }
}

static void row(doctree_t *d, const ctl_node_t *n)
{
    FILE *f = d->f;
    bool action = n->kind == CTL_ACTION;
    fprintf(f, "| `%s` | ", d->path);
    if (action)
        fputs("–", f);
    else
        fprintf(f, "`%s`", ctl_type_name(n->type));
    fputs(" | ", f);
    const opt_desc_t *o = doctree_option(d, n);
    if (o)
        opt_cells(f, o);
    else
        fputs(action ? "–" : n->flags & CTL_WRONLY ? "w" : n->set ? "rw" : "r", f);
    fputs(" | ", f);
    cell(f, n->doc);
    fputs(" |\n", f);
}

static void names_section(FILE *f)
{
    static const doctree_ops_t markdown = {heading, row};
    doctree_t d;
    fputs("<!-- Generated from the control tree (src/ctl/names.c and the option table) by "
          "`meson compile -C build mallctl-doc`; do not edit by hand. -->\n",
          f);
    doctree_walk(&d, &markdown, f);
    fputs("\n", f);
}

/* ---- jemalloc's names ---- */

static const char *names_path;

static bool jemalloc_section(FILE *f, const char *path)
{
    jn_table_t t;
    if (!jn_read(path, &t)) return false;
    unsigned count[3] = {0};
    for (size_t k = 0; k < t.nrows; k++) count[t.rows[k].status]++;
    fprintf(f, "<!-- Generated from docs/jemalloc-names.tsv by `meson compile -C build "
               "mallctl-doc`; do not edit by hand. -->\n\n");
    fprintf(f, "%zu entries of jemalloc 5.3's man page: %u answered as in jemalloc, %u answered "
               "with a fixed value, %u absent.\n\n",
            t.nrows, count[JN_ANSWERED], count[JN_FIXED], count[JN_ABSENT]);
    for (unsigned i = 0; i < t.nexpand; i++) {
        fprintf(f, "`%s` stands for each of ", t.expand[i].key);
        for (unsigned w = 0; w < t.expand[i].nwords; w++) {
            const char *word = t.expand[i].words[w], *colon = strchr(word, ':');
            fprintf(f, "%s`%.*s`", w ? ", " : "", colon ? (int)(colon - word) : (int)strlen(word),
                    word);
        }
        fputs(".\n", f);
    }
    fputs("\n| jemalloc name | type | access | in sable | why |\n|---|---|---|---|---|\n", f);
    for (size_t k = 0; k < t.nrows; k++) {
        const jn_row_t *r = &t.rows[k];
        fprintf(f, "| `%s` | `%s` | %s | ", r->name, r->type, r->access);
        if (r->status == JN_FIXED)
            fprintf(f, "fixed: `%s`", r->value);
        else
            fputs(jn_status_name(r->status), f);
        fputs(" | ", f);
        cell(f, r->why);
        fputs(" |\n", f);
    }
    free(t.rows);
    free(t.text);
    return true;
}

/* ---- the example ---- */

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) return NULL;
    char *s = NULL;
    size_t cap = 0, n = 0;
    for (int c; (c = fgetc(f)) != EOF;) {
        if (n + 2 > cap) s = realloc(s, cap = cap ? 2 * cap : 4096);
        s[n++] = (char)c;
    }
    fclose(f);
    if (s == NULL) s = calloc(1, 1);
    s[n] = '\0';
    return s;
}

static bool example_src(FILE *f, const char *source)
{
    char *s = read_file(source);
    if (s == NULL) return false;
    fprintf(f, "```c\n%s```\n", s);
    free(s);
    return true;
}

#define EXAMPLE_CONF "stats_print:true,stats_print_opts:ga"

static bool example_out(FILE *f, const char *example)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "SABLE_CONF=%s '%s' 2>&1", EXAMPLE_CONF, example);
    FILE *p = popen(cmd, "r");
    if (p == NULL) return false;
    fputs("```\n", f);
    for (int c; (c = fgetc(p)) != EOF;) fputc(c, f);
    fputs("```\n", f);
    return pclose(p) == 0;
}

/* ---- sections of the document ---- */

typedef struct {
    const char *name;
    bool shape_only;
    char *text; /* generated */
} section_t;

/* A line with numbers (and the units after them) blanked and runs of
 * spaces squeezed, into out. */
static void shape(const char *s, size_t len, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < len && n + 2 < cap;) {
        if (isdigit((unsigned char)s[i])) {
            while (i < len && (isdigit((unsigned char)s[i]) || s[i] == '.')) i++;
            out[n++] = '#';
            static const char *const units[] = {" TiB", " GiB", " MiB", " KiB", " B"};
            for (size_t u = 0; u < 5; u++) {
                size_t k = strlen(units[u]);
                if (i + k <= len && memcmp(s + i, units[u], k) == 0 &&
                    (i + k == len || !isalnum((unsigned char)s[i + k]))) {
                    i += k;
                    break;
                }
            }
        } else if (s[i] == ' ') {
            while (i < len && s[i] == ' ') i++;
            out[n++] = ' ';
        } else {
            out[n++] = s[i++];
        }
    }
    out[n] = '\0';
}

static bool same_shape(const char *a, size_t alen, const char *b, size_t blen)
{
    const char *ae = a + alen, *be = b + blen;
    for (unsigned line = 1;; line++) {
        if (a == ae || b == be) return a == ae && b == be;
        const char *an = memchr(a, '\n', (size_t)(ae - a)), *bn = memchr(b, '\n', (size_t)(be - b));
        size_t al = an ? (size_t)(an - a) : (size_t)(ae - a), bl = bn ? (size_t)(bn - b) : (size_t)(be - b);
        char sa[1024], sb[1024];
        shape(a, al, sa, sizeof sa);
        shape(b, bl, sb, sizeof sb);
        if (strcmp(sa, sb) != 0) {
            fprintf(stderr, "line %u of the example differs in shape:\n  doc: %.*s\n  now: %.*s\n",
                    line, (int)al, a, (int)bl, b);
            return false;
        }
        a += al + (an != NULL);
        b += bl + (bn != NULL);
    }
}

/* Finds "<!-- name:begin -->\n" ... "<!-- name:end -->" in doc: the
 * content's start and end. */
static bool find_section(const char *doc, const char *name, const char **start, const char **end)
{
    char begin[64], stop[64];
    snprintf(begin, sizeof begin, "<!-- %s:begin -->\n", name);
    snprintf(stop, sizeof stop, "<!-- %s:end -->", name);
    const char *b = strstr(doc, begin);
    if (b == NULL) return false;
    *start = b + strlen(begin);
    *end = strstr(*start, stop);
    return *end != NULL;
}

static char *generate(void (*fn)(FILE *), bool (*fn2)(FILE *, const char *), const char *arg)
{
    char *s = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&s, &n);
    bool ok = true;
    if (fn) fn(f);
    if (fn2) ok = fn2(f, arg);
    fclose(f);
    if (!ok) {
        free(s);
        return NULL;
    }
    return s;
}

static int usage(void)
{
    fputs("usage: mallctl-docgen --print\n"
          "       mallctl-docgen --check|--write DOC EXAMPLE SOURCE NAMES\n",
          stderr);
    return 2;
}

int main(int argc, char **argv)
{
    if (!doctree_defaults_in_force("mallctl-docgen")) return 2;
    if (argc == 2 && strcmp(argv[1], "--print") == 0) {
        names_section(stdout);
        return 0;
    }
    if (argc != 6) return usage();
    names_path = argv[5];
    bool write = strcmp(argv[1], "--write") == 0;
    if (!write && strcmp(argv[1], "--check") != 0) return usage();
    const char *path = argv[2];
    section_t sec[] = {
        {"mallctl", false, generate(names_section, NULL, NULL)},
        {"jemalloc-names", false, generate(NULL, jemalloc_section, names_path)},
        {"mallctl-example-src", false, generate(NULL, example_src, argv[4])},
        {"mallctl-example-out", true, generate(NULL, example_out, argv[3])},
    };
    char *doc = read_file(path);
    if (doc == NULL) {
        fprintf(stderr, "mallctl-docgen: cannot read %s\n", path);
        return 2;
    }
    int stale = 0;
    char *out = NULL;
    size_t outlen = 0;
    FILE *o = open_memstream(&out, &outlen);
    const char *rest = doc;
    for (size_t i = 0; i < sizeof sec / sizeof sec[0]; i++) {
        const char *start, *end;
        if (sec[i].text == NULL) {
            fprintf(stderr, "mallctl-docgen: cannot generate section %s\n", sec[i].name);
            return 2;
        }
        if (!find_section(rest, sec[i].name, &start, &end)) {
            fprintf(stderr, "mallctl-docgen: %s has no section %s (in this order)\n", path,
                    sec[i].name);
            return 2;
        }
        size_t len = (size_t)(end - start), glen = strlen(sec[i].text);
        bool same = sec[i].shape_only ? same_shape(start, len, sec[i].text, glen)
                                      : len == glen && memcmp(start, sec[i].text, len) == 0;
        if (!same) {
            fprintf(stderr, "mallctl-docgen: section %s of %s %s\n", sec[i].name, path,
                    write ? "regenerated" : "is stale");
            stale = 1;
        }
        fwrite(rest, 1, (size_t)(start - rest), o);
        /* An example of the same shape keeps its numbers: no churn. */
        if (same && sec[i].shape_only)
            fwrite(start, 1, len, o);
        else
            fputs(sec[i].text, o);
        rest = end;
    }
    fputs(rest, o);
    fclose(o);
    int rc = stale;
    if (write) {
        FILE *f = fopen(path, "w");
        rc = 0;
        if (f == NULL || fwrite(out, 1, outlen, f) != outlen || fclose(f) != 0) {
            fprintf(stderr, "mallctl-docgen: cannot write %s\n", path);
            rc = 2;
        }
    } else if (stale) {
        fputs("Regenerate with: meson compile -C <build> mallctl-doc (then review the diff)\n",
              stderr);
    }
    for (size_t i = 0; i < sizeof sec / sizeof sec[0]; i++) free(sec[i].text);
    free(doc);
    free(out);
    return rc;
}
