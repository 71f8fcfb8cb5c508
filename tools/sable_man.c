/* tools/sable_man.c — the generator of sable(3).
 *
 *   sable-man OUTPUT     writes the page (roff) to OUTPUT
 *
 * Nothing in the page that the code knows is typed here twice:
 *   - the synopsis: the prototypes below, each checked at compile time
 *     against include/sable.h (a function whose type changes there breaks
 *     this build);
 *   - ENVIRONMENT: every row of the option table (src/options/options.c),
 *     with its type, default and accepted values;
 *   - MALLCTL NAMES: every name of the control tree (src/ctl/names.c),
 *     walked as docs/mallctl.md's tables are (tools/doctree.c).
 * The prose around them is here. tests/package/man.sh checks the rendered
 * page: every option, every mallctl name and every function libsable.so
 * exports appears in it, and man(1) renders it without a warning.
 *
 * Doc strings are Markdown: code spans become bold, other characters are
 * escaped for roff, and characters beyond ASCII become groff's \[uXXXX].
 * Option defaults are the table's values, so it refuses to run with a
 * variable set that changes them (meson runs it with them unset).
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "doctree.h"
#include "sable.h"

/* ---- the public functions ---- */

/* name, return type, parameters, what it does (Markdown, one sentence or
 * more, each ending with a full stop). */
#define SABLE_API(X)                                                                               \
    X(sable_malloc, void *, (size_t size), "Allocates `size` bytes.")                              \
    X(sable_calloc, void *, (size_t count, size_t size),                                           \
      "Allocates `count` × `size` bytes, zeroed; NULL and `ENOMEM` when the product overflows.")   \
    X(sable_realloc, void *, (void *ptr, size_t size),                                             \
      "Resizes the block at `ptr`, keeping its first bytes; `sable_realloc(NULL, size)` "          \
      "allocates, `sable_realloc(ptr, 0)` frees `ptr` and returns NULL with `errno` untouched. "    \
      "On failure the block is left as it was.")                                                  \
    X(sable_reallocarray, void *, (void *ptr, size_t count, size_t size),                          \
      "`sable_realloc` to `count` × `size` bytes, NULL and `ENOMEM` when the product overflows "   \
      "(`ptr` is left intact).")                                                                   \
    X(sable_free, void, (void *ptr), "Frees the block at `ptr` (NULL: nothing); never changes `errno`.") \
    X(sable_free_sized, void, (void *ptr, size_t size),                                            \
      "Frees a block allocated with `size` bytes (C23's `free_sized`); a wrong size aborts.")      \
    X(sable_free_aligned_sized, void, (void *ptr, size_t alignment, size_t size),                  \
      "Frees a block allocated with `alignment` and `size` (C23's `free_aligned_sized`).")         \
    X(sable_posix_memalign, int, (void **memptr, size_t alignment, size_t size),                   \
      "Allocates `size` bytes aligned to `alignment` into `*memptr`; returns 0, `EINVAL` for an "  \
      "alignment that is not a power of two multiple of `sizeof(void *)` or `ENOMEM`, and leaves " \
      "`*memptr` alone on error.")                                                                 \
    X(sable_aligned_alloc, void *, (size_t alignment, size_t size),                                \
      "Allocates `size` bytes aligned to `alignment`, which must be a power of two (else NULL "    \
      "and `EINVAL`).")                                                                            \
    X(sable_memalign, void *, (size_t alignment, size_t size),                                     \
      "As `sable_aligned_alloc`, with an alignment that is not a power of two rounded up to one.") \
    X(sable_valloc, void *, (size_t size), "Allocates `size` bytes aligned to the page size.")     \
    X(sable_pvalloc, void *, (size_t size),                                                        \
      "As `sable_valloc`, with `size` rounded up to whole pages (at least one).")                  \
    X(sable_malloc_usable_size, size_t, (const void *ptr),                                         \
      "Returns the usable size of the block at `ptr` (at least what was asked for; 0 for NULL).")  \
    X(sable_version, const char *, (void), "Returns the version string, e.g. `\"" SABLE_VERSION_STRING "\"`.") \
    X(sable_trim, int, (size_t pad),                                                               \
      "Flushes the calling thread's cache and returns unused memory to the operating system; "     \
      "returns 1 if any memory was released, else 0 (glibc's `malloc_trim`).")                     \
    X(sable_mallctl, int, (const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen), \
      "Reads the value of `name` into `oldp` (`*oldlenp` bytes, set to the value's size) and, "    \
      "when `newp` is not NULL, writes `newlen` bytes from it; jemalloc's conventions (see "       \
      "MALLCTL NAMES and RETURN VALUE).")                                                          \
    X(sable_mallctlnametomib, int, (const char *name, size_t *mibp, size_t *miblenp),              \
      "Translates `name` into a MIB of at most `*miblenp` components (set to the number used), "   \
      "for repeated `sable_mallctlbymib` calls.")                                                  \
    X(sable_mallctlbymib, int,                                                                     \
      (const size_t *mib, size_t miblen, void *oldp, size_t *oldlenp, void *newp, size_t newlen),  \
      "`sable_mallctl` by MIB; an index component (`<i>`, `<j>`) may be changed in place.")        \
    X(sable_malloc_stats_print, void,                                                              \
      (void (*write_cb)(void *, const char *), void *cbopaque, const char *opts),                  \
      "Writes the statistics through `write_cb(cbopaque, text)`, or to standard error when "       \
      "`write_cb` is NULL, without allocating; `opts` letters: `J` JSON, and `g` general, `m` "    \
      "merged arenas, `a` per arena, `b` size classes, `l` large objects leave those sections "    \
      "out.")                                                                                      \
    X(sable_mallocx, void *, (size_t size, int flags),                                             \
      "jemalloc's `mallocx`: at least `size` bytes, as `flags` says (`SABLE_MALLOCX_LG_ALIGN`, "   \
      "`SABLE_MALLOCX_ALIGN`, `SABLE_MALLOCX_ZERO`, `SABLE_MALLOCX_ARENA`, "                       \
      "`SABLE_MALLOCX_TCACHE`, `SABLE_MALLOCX_TCACHE_NONE`: jemalloc's meanings and bits); "      \
      "NULL and `errno` on failure.")                                                              \
    X(sable_rallocx, void *, (void *ptr, size_t size, int flags),                                  \
      "jemalloc's `rallocx`: resizes the block at `ptr` to at least `size` bytes, moving it if "   \
      "it must; NULL on failure, the block left as it was.")                                      \
    X(sable_xallocx, size_t, (void *ptr, size_t size, size_t extra, int flags),                    \
      "jemalloc's `xallocx`: resizes in place to at least `size` bytes, up to `size` + `extra` "   \
      "if it can; returns the usable size (unchanged if it could not resize).")                    \
    X(sable_sallocx, size_t, (const void *ptr, int flags),                                         \
      "jemalloc's `sallocx`: the usable size of the block at `ptr`.")                              \
    X(sable_dallocx, void, (void *ptr, int flags), "jemalloc's `dallocx`: frees the block at `ptr`.") \
    X(sable_sdallocx, void, (void *ptr, size_t size, int flags),                                   \
      "jemalloc's `sdallocx`: frees a block allocated with `size` bytes (any size from the "       \
      "request to the usable size); a wrong size aborts.")                                         \
    X(sable_nallocx, size_t, (size_t size, int flags),                                             \
      "jemalloc's `nallocx`: the usable size `sable_mallocx(size, flags)` would give, 0 if none.")

/* The page's prototype of each function is the type sable.h declares. */
#define CHECK(name, ret, params, doc)                                                              \
    _Static_assert(__builtin_types_compatible_p(__typeof__(&name), ret(*) params),                 \
                   #name ": its type in include/sable.h differs from the one documented here");
SABLE_API(CHECK)

typedef struct {
    const char *name, *ret, *params, *doc;
} api_fn_t;

#define ENTRY(name, ret, params, doc) {#name, #ret, #params, doc},
static const api_fn_t api[] = {SABLE_API(ENTRY)};
#define NAPI (sizeof api / sizeof api[0])

/* The unprefixed functions that libsable.so and libsable.a export (the
 * preload layer, preload/preload.c); tests/package/man.sh checks this list
 * against the library's dynamic symbols. */
static const char *const replaced[] = {
    "malloc", "free", "calloc", "realloc", "reallocarray", "posix_memalign", "aligned_alloc",
    "memalign", "valloc", "pvalloc", "malloc_usable_size", "free_sized", "free_aligned_sized",
    "cfree",
};
static const char *const aliases[] = {
    "__libc_malloc", "__libc_free", "__libc_calloc", "__libc_realloc", "__libc_memalign",
    "__libc_valloc", "__libc_pvalloc", "__posix_memalign",
};
static const char *const reports[] = {
    "malloc_trim", "mallinfo", "mallinfo2", "malloc_stats", "malloc_info", "mallopt",
};

/* ---- roff ---- */

/* Text of a Markdown doc string: code spans bold (with \- for a minus, so
 * that names copy as typed), roff's escape and control characters escaped,
 * and every character beyond ASCII as \[uXXXX]. */
static void text(FILE *f, const char *s)
{
    bool code = false;
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
        if (*p == '`') {
            fputs((code = !code) ? "\\fB" : "\\fR", f);
        } else if (*p == '\\') {
            fputs("\\e", f);
        } else if (*p == '-' && code) {
            fputs("\\-", f);
        } else if (*p < 0x80) {
            fputc(*p, f);
        } else {
            unsigned extra = *p >= 0xf0 ? 3 : *p >= 0xe0 ? 2 : 1;
            unsigned long cp = *p & (0x3fu >> extra);
            for (unsigned k = 0; k < extra && (p[1] & 0xc0) == 0x80; k++) cp = cp << 6 | (*++p & 0x3fu);
            fprintf(f, "\\[u%04lX]", cp);
        }
    }
    if (code) fputs("\\fR", f);
}

/* A paragraph's text on a line of its own, ending with a full stop: after
 * lead (roff, or NULL), or else with its first letter capitalised. */
static void sentence(FILE *f, const char *lead, const char *s)
{
    fputs("\\&", f); /* a line starting with . or ' would be a request */
    if (lead) {
        fputs(lead, f);
    } else if (s && islower((unsigned char)s[0])) {
        fputc(toupper((unsigned char)s[0]), f);
        s++;
    }
    text(f, s);
    size_t n = s ? strlen(s) : 0;
    fputs(n && s[n - 1] == '.' ? "\n" : ".\n", f);
}

/* A list of names in bold, separated by commas. */
static void names(FILE *f, const char *const *list, size_t n, const char *last)
{
    for (size_t i = 0; i < n; i++)
        fprintf(f, "\\fB%s\\fR%s\n", list[i], i + 1 < n ? "," : last);
}

/* ---- sections of the page ---- */

static void header(FILE *f)
{
    fputs(".\\\" Generated by tools/sable_man.c from include/sable.h, the option table\n"
          ".\\\" (src/options/options.c) and the control tree (src/ctl/names.c): do not edit.\n",
          f);
    fprintf(f, ".TH SABLE 3 \"\" \"sable %s\" \"sable manual\"\n", SABLE_VERSION_STRING);
    fputs(".nh\n.ad l\n.SH NAME\nsable", f);
    for (size_t i = 0; i < NAPI; i++) fprintf(f, ", %s", api[i].name);
    fputs(" \\- a drop\\-in malloc replacement\n", f);
}

static void synopsis(FILE *f)
{
    fputs(".SH SYNOPSIS\n.nf\n.B #include <sable.h>\n.PP\n", f);
    for (size_t i = 0; i < NAPI; i++) {
        const api_fn_t *a = &api[i];
        size_t r = strlen(a->ret);
        fprintf(f, "\\fB%s%s%s\\fR%s;\n", a->ret, a->ret[r - 1] == '*' ? "" : " ", a->name,
                a->params);
    }
    fputs(".fi\n.PP\nLink with \\fB\\-lsable\\fR (\\fBpkg\\-config \\-\\-libs sable\\fR), or "
          "preload \\fIlibsable.so.0\\fR into an unmodified program (see \\fBsable\\-run\\fR(1)).\n",
          f);
}

static void description(FILE *f)
{
    fputs(".SH DESCRIPTION\n"
          "sable is a drop\\-in replacement of the C library's \\fBmalloc\\fR(3) family: size\\-class "
          "slabs with per\\-thread caches in front of them for small blocks, several arenas, page "
          "runs for large blocks and page\\-granular extents above that, which keep freed memory "
          "mapped for reuse and return its pages to the kernel on a decay schedule "
          "(\\fBdirty_decay_ms\\fR).\n"
          "Every pointer given to \\fBfree\\fR, \\fBrealloc\\fR or \\fBmalloc_usable_size\\fR is "
          "checked first: one that sable did not hand out ends the process with one line "
          "(DIAGNOSTICS).\n"
          ".PP\n"
          "Preloaded (\\fBLD_PRELOAD\\fR) or linked, \\fIlibsable.so.0\\fR and \\fIlibsable.a\\fR "
          "replace\n",
          f);
    names(f, replaced, sizeof replaced / sizeof replaced[0], ",");
    fputs("the C library's internal aliases\n", f);
    names(f, aliases, sizeof aliases / sizeof aliases[0], ",");
    fputs("glibc's reports and tunings\n", f);
    names(f, reports, sizeof reports / sizeof reports[0], "");
    fputs("(answered from sable's statistics; \\fBmallopt\\fR acts on \\fBM_ARENA_MAX\\fR and "
          "\\fBM_PERTURB\\fR and returns 0 for the other parameters), and C++ \\fBoperator new\\fR "
          "and \\fBoperator delete\\fR in every variant (sized, aligned, nothrow, arrays), "
          "without depending on the C++ library.\n"
          "A static link with \\fIlibsable.a\\fR replaces them in the executable, for the C "
          "library's own calls too.\n"
          ".PP\n"
          "The prefixed functions below are always exported, and work side by side with another "
          "allocator: each \\fBsable_\\fR\\fIname\\fR behaves as its unprefixed twin.\n"
          "Where the standards leave a choice, the behaviour is glibc's: every block is at least "
          "16\\-byte aligned; a request of 0 bytes returns a unique pointer; sizes above "
          "\\fBPTRDIFF_MAX\\fR fail with \\fBENOMEM\\fR; alignments up to at least 64 MiB work.\n",
          f);
    for (size_t i = 0; i < NAPI; i++) {
        fprintf(f, ".TP\n.B %s\n", api[i].name);
        sentence(f, NULL, api[i].doc);
    }
}

/* An option's type, accepted values and default, as SABLE_CONF spells them. */
static void option_values(FILE *f, const opt_desc_t *o)
{
    switch (o->type) {
    case OPT_BOOL:
        if (o->min == o->max)
            fprintf(f, "Boolean, fixed: only \\fB%s\\fR is accepted.", o->min ? "true" : "false");
        else
            fprintf(f, "Boolean (\\fBtrue\\fR, \\fBfalse\\fR, \\fB1\\fR, \\fB0\\fR), default \\fB%s\\fR.",
                    *(const bool *)o->var ? "true" : "false");
        break;
    case OPT_UINT:
    case OPT_INT: {
        long long v = o->type == OPT_INT ? (long long)*(const int64_t *)o->var
                                         : (long long)*(const unsigned *)o->var;
        if (o->min == o->max)
            fprintf(f, "Integer, fixed: only \\fB%lld\\fR is accepted.", (long long)o->min);
        else
            fprintf(f, "Integer from %lld to %lld (suffixes \\fBk\\fR, \\fBm\\fR, \\fBg\\fR multiply "
                       "by 2\\(ha10, 2\\(ha20, 2\\(ha30), default \\fB%lld\\fR.",
                    (long long)o->min, (long long)o->max, v);
        break;
    }
    case OPT_SIZE:
        fprintf(f, "A number of bytes (suffixes \\fBk\\fR, \\fBm\\fR, \\fBg\\fR multiply by "
                   "2\\(ha10, 2\\(ha20, 2\\(ha30), default \\fB%zu\\fR.",
                *(const size_t *)o->var);
        break;
    case OPT_ENUM:
        fputs("One of ", f);
        for (unsigned k = 0; o->names[k]; k++)
            fprintf(f, "%s\\fB%s\\fR", k == 0 ? "" : o->names[k + 1] ? ", " : " or ", o->names[k]);
        fprintf(f, ", default \\fB%s\\fR.", opt_enum_name(o));
        break;
    default:
        if (o->max == 0) {
            fputs("A string, fixed: only the empty string is accepted.", f);
            break;
        }
        fprintf(f, "A string of at most %llu characters, default %s%s%s.", (unsigned long long)o->max,
                *(const char *)o->var ? "\\fB" : "empty", (const char *)o->var,
                *(const char *)o->var ? "\\fR" : "");
        break;
    }
    fputc('\n', f);
}

static void environment(FILE *f)
{
    fputs(".SH ENVIRONMENT\n"
          ".TP\n.B SABLE_CONF\n"
          "Options, as \\fIkey\\fB:\\fIvalue\\fR pairs separated by commas "
          "(\\fBSABLE_CONF=narenas:4,confirm_conf:true\\fR), read once at start\\-up.\n"
          "An unknown key or a bad value prints one line naming it and leaves that option at "
          "its default (\\fBabort_conf:true\\fR aborts instead).\n"
          "The options, each also readable as \\fBopt.\\fR\\fIkey\\fR (MALLCTL NAMES):\n"
          ".RS\n",
          f);
    size_t n;
    const opt_desc_t *t = opt_table(&n);
    for (size_t i = 0; i < n; i++) {
        fprintf(f, ".TP\n.B %s\n", t[i].name);
        sentence(f, NULL, t[i].doc);
        option_values(f, &t[i]);
    }
    fputs(".RE\n"
          ".TP\n.BR MALLOC_ARENA_MAX \", \" MALLOC_PERTURB_\n"
          "As for glibc, they set \\fBnarenas\\fR and \\fBperturb\\fR, and so do "
          "\\fBGLIBC_TUNABLES\\fR' \\fBglibc.malloc.arena_max\\fR and "
          "\\fBglibc.malloc.perturb\\fR, unless \\fBSABLE_CONF\\fR sets them; so does "
          "\\fBmallopt\\fR(3) before sable is set up.\n",
          f);
}

/* ---- the name tree ---- */

static void heading(doctree_t *w, bool continued)
{
    fputs(".SS \"", w->f);
    doctree_title(w, continued, "", "");
    fputs("\"\n", w->f);
    const char *doc = doctree_paragraph(w, continued);
    if (doc) sentence(w->f, NULL, doc);
}

static void row(doctree_t *w, const ctl_node_t *n)
{
    FILE *f = w->f;
    fputs(".TP\n\\fB", f);
    text(f, w->path);
    fputs("\\fR\n", f);
    char lead[64];
    if (n->kind == CTL_ACTION)
        snprintf(lead, sizeof lead, "Action (no value): ");
    else
        snprintf(lead, sizeof lead, "\\fI%s\\fR, %s: ", ctl_type_name(n->type),
                 n->set ? "read\\-write" : "read\\-only");
    sentence(f, lead, n->doc);
}

static void mallctl_names(FILE *f)
{
    static const doctree_ops_t roff = {heading, row};
    doctree_t w;
    fputs(".SH MALLCTL NAMES\n"
          "Names are dotted paths; \\fI<i>\\fR stands for an arena's number and \\fI<j>\\fR, "
          "\\fI<k>\\fR for a size class's.\n"
          "The type is the C type that a read copies out (\\fBconst char *\\fR for strings).\n"
          "Statistics come from a snapshot, which writing \\fBepoch\\fR refreshes.\n"
          "Unprefixed \\fBmallctl\\fR is deliberately not exported: programs probe it to detect "
          "jemalloc.\n",
          f);
    doctree_walk(&w, &roff, f);
}

static void rest(FILE *f)
{
    fputs(".SH RETURN VALUE\n"
          "The allocating functions return NULL and set \\fBerrno\\fR to \\fBENOMEM\\fR when "
          "memory is exhausted or the size is too large.\n"
          "\\fBsable_mallctl\\fR, \\fBsable_mallctlnametomib\\fR and \\fBsable_mallctlbymib\\fR "
          "return 0 on success or, as jemalloc's do, an error number:\n"
          ".TP\n.B EINVAL\n\\fI*oldlenp\\fR or \\fInewlen\\fR is not the size of the value's "
          "type, or the new value is not accepted;\n"
          ".TP\n.B ENOENT\nan unknown name, an index out of range, or a name that is an inner "
          "node (\\fBstats\\fR);\n"
          ".TP\n.B EPERM\na write to a read\\-only name, or a value passed to an action;\n"
          ".TP\n.B EFAULT\nthe operation failed;\n"
          ".TP\n.B EAGAIN\nsable could not set itself up (out of memory).\n"
          ".SH DIAGNOSTICS\n"
          "A pointer given to \\fBfree\\fR, \\fBrealloc\\fR or \\fBmalloc_usable_size\\fR that "
          "is not a live block, a double free, or a wrong size in a sized free writes one line "
          "and aborts, e.g.\n"
          ".RS\n.B sable: free(): invalid pointer 0x7f3a2c001010\n.RE\n"
          "A bad \\fBSABLE_CONF\\fR entry prints one warning, e.g.\n"
          ".RS\n.B sable: SABLE_CONF: unknown option 'bogus_key' ignored\n.RE\n"
          ".SH NOTES\n"
          "The malloc family is not async\\-signal\\-safe, as in glibc.\n"
          "Under \\fBvalgrind\\fR(1), pass \\fB\\-\\-soname\\-synonyms=somalloc=*libsable*\\fR.\n"
          "The dynamic loader ignores \\fBLD_PRELOAD\\fR paths in set\\-user\\-ID programs.\n"
          ".SH FILES\n"
          ".TP\n.I libsable.so.0\nthe shared library (package libsable0)\n"
          ".TP\n.IR libsable.a \", \" libsable.so \", \" sable.pc \", \" sable.h\n"
          "for linking (package libsable\\-dev)\n"
          ".SH SEE ALSO\n"
          ".BR sable\\-run (1),\n.BR malloc (3),\n.BR malloc_usable_size (3),\n"
          ".BR mallopt (3),\n.BR mallinfo (3),\n.BR malloc_trim (3),\n.BR malloc_info (3)\n",
          f);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fputs("usage: sable-man OUTPUT\n", stderr);
        return 2;
    }
    if (!doctree_defaults_in_force("sable-man")) return 2;
    FILE *f = fopen(argv[1], "w");
    if (f == NULL) {
        perror(argv[1]);
        return 2;
    }
    header(f);
    synopsis(f);
    description(f);
    environment(f);
    mallctl_names(f);
    rest(f);
    if (ferror(f) | fclose(f)) {
        fprintf(stderr, "sable-man: cannot write %s\n", argv[1]);
        return 2;
    }
    return 0;
}
