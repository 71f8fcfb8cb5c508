/* src/options/options.c — the option table and the SABLE_CONF parser.
 *
 * One row per option: adding an option is one line here plus its variable.
 * Rows in jemalloc's spelling follow sable's own (options.h: fixed rows).
 * Parsing works on the environment string in place, with fixed buffers and
 * no allocation: it runs inside the allocator's first call.
 * Invariants: every option has a default that works; a bad entry leaves that
 * option at its value and is warned about by name. Locking: see options.h.
 */
#include "options/options.h"

#include <stdint.h>
#include <string.h>

#include "os/os.h"
#include "sable.h"

unsigned opt_narenas = 0;
bool opt_tcache = true;
size_t opt_tcache_max_bytes;
size_t opt_tcache_total_bytes = (size_t)128 << 20;
bool opt_abort_conf = false;
bool opt_confirm_conf = false;
unsigned opt_dirty_decay_ms = 250;
bool opt_background_thread = false;
unsigned opt_background_thread_auto = 64;
bool opt_secure = false;
unsigned opt_junk = JUNK_FALSE;
bool opt_zero = false;
bool opt_zero_on_free = false;
bool opt_abort = false;
unsigned opt_perturb = 0;
unsigned opt_hugepages = HUGEPAGES_OFF;
unsigned opt_percpu_arena = PERCPU_OFF;
unsigned opt_numa = NUMA_AUTO;
size_t opt_memory_limit = 0;
unsigned opt_memory_soft_limit = 90;
bool opt_stats_print = false;
char opt_stats_print_opts[OPT_STR_MAX + 1] = "";
bool opt_stats_page = false;
unsigned opt_stats_page_interval_ms = 1000;

static const char *const hugepages_names[] = {"off", "thp", "hugetlb", NULL};
/* jemalloc's thp: "default" leaves pages to the kernel (hugepages:off),
 * "always" asks for huge pages (hugepages:thp). sable never refuses them
 * (jemalloc's "never"). With hugepages:hugetlb it reads "default". */
static const char *const thp_names[] = {"default", "always", NULL};
static const char *const junk_names[] = {"false", "true", "alloc", "free", NULL};
static const char *const disabled_names[] = {"disabled", NULL};
static const char *const free_names[] = {"free", NULL};

/* Fixed rows: what sable always does, under jemalloc's names (their
 * variables are never written: SABLE_CONF accepts only their value). */
static bool fixed_true = true, fixed_false = false;
static unsigned fixed_zero = 0, fixed_one = 1, fixed_tcache_max = OPT_TCACHE_MAX;
static unsigned fixed_disabled = 0;
static int64_t fixed_minus_one = -1;
static char fixed_empty[1] = "";
static const char *const percpu_names[] = {"disabled", "percpu", "phycpu", NULL};
static const char *const numa_names[] = {"auto", "off", NULL};

static const opt_desc_t options[] = {
    {"narenas", OPT_UINT, &opt_narenas, 0, 256, "number of arenas (0: one per CPU)", NULL, 0},
    {"tcache", OPT_BOOL, &opt_tcache, 0, 1, "per-thread caches of small blocks", NULL, 0},
    {"tcache_max_bytes", OPT_SIZE, &opt_tcache_max_bytes, 0, (size_t)1 << 30,
     "the most bytes of blocks one thread's cache holds, local and remote stacks together "
     "(every stack's capacity scaled down to fit; 0: the built-in budgets)",
     NULL, OPT_AS_SIZE},
    {"tcache_total_bytes", OPT_SIZE, &opt_tcache_total_bytes, 0, (size_t)1 << 40,
     "the bytes of blocks all threads' caches may hold together: with more threads than fit, "
     "every cache's stacks are halved until their share fits (at most 8 times; 0: no bound)",
     NULL, OPT_AS_SIZE},
    {"abort_conf", OPT_BOOL, &opt_abort_conf, 0, 1, "abort on an invalid SABLE_CONF", NULL, 0},
    {"confirm_conf", OPT_BOOL, &opt_confirm_conf, 0, 1, "print the options at start-up", NULL,
     0},
    {"dirty_decay_ms", OPT_UINT, &opt_dirty_decay_ms, 0, 86400000,
     "free memory goes back to the OS after this many ms (0: at once); read as `ssize_t`, as "
     "in jemalloc (whose -1, never, sable does not have)",
     NULL, OPT_AS_SSIZE},
    {"background_thread", OPT_BOOL, &opt_background_thread, 0, 1,
     "a background thread purges on schedule, also when the program is idle (at start-up; "
     "`background_thread` switches it at run time)",
     NULL, 0},
    {"background_thread_auto", OPT_UINT, &opt_background_thread_auto, 0, 1000000,
     "with `background_thread:false`, the background thread starts on its own once this many "
     "threads have caches, and takes the cached blocks of idle threads (0: never; a run-time "
     "switch of `background_thread` stops it for good)",
     NULL, 0},
    {"hugepages", OPT_ENUM, &opt_hugepages, 0, 2, "off, thp (madvise chunks) or hugetlb",
     hugepages_names, 0},
    {"secure", OPT_BOOL, &opt_secure, 0, 1,
     "no thread caches; freed blocks filled and checked on reuse; random block order; guard "
     "pages after huge objects",
     NULL, 0},
    {"junk", OPT_ENUM, &opt_junk, 0, 3,
     "fill new blocks with 0xa5 (`alloc`), freed ones with 0x5a (`free`), or both (`true`), "
     "jemalloc's values",
     junk_names, 0},
    {"zero_on_free", OPT_BOOL, &opt_zero_on_free, 0, 1, "fill freed blocks with zeroes", NULL, 0},
    {"perturb", OPT_UINT, &opt_perturb, 0, 255,
     "glibc's perturb byte b (MALLOC_PERTURB_): new blocks filled with b ^ 0xff, freed ones "
     "with b, not checked (0: off)",
     NULL, 0},
    {"stats_print", OPT_BOOL, &opt_stats_print, 0, 1, "print statistics to stderr at exit", NULL,
     0},
    {"stats_print_opts", OPT_STR, opt_stats_print_opts, 0, OPT_STR_MAX,
     "sable_malloc_stats_print letters for stats_print (J: JSON; g m a b l: leave out)", NULL, 0},
    /* jemalloc's names, appended (rows keep their MIBs). */
    {"abort", OPT_BOOL, &opt_abort, 0, 1,
     "run-time warnings abort (those of `SABLE_CONF` itself are `abort_conf`'s)", NULL, 0},
    {"zero", OPT_BOOL, &opt_zero, 0, 1,
     "every new block is zeroed (without thread caches, like the fill modes)", NULL, 0},
    {"thp", OPT_ENUM, &opt_hugepages, 0, 1,
     "jemalloc's name: `always` is `hugepages:thp`, `default` is `hugepages:off`", thp_names, 0},
    {"tcache_max", OPT_UINT, &fixed_tcache_max, OPT_TCACHE_MAX, OPT_TCACHE_MAX,
     "the largest size thread caches hold (fixed at build time)", NULL, OPT_AS_SIZE},
    {"retain", OPT_BOOL, &fixed_true, 1, 1,
     "address space is kept for reuse (`stats.retained`), never unmapped by decay", NULL, 0},
    {"dss", OPT_ENUM, &fixed_disabled, 0, 0, "sable never uses `sbrk`", disabled_names, 0},
    {"metadata_thp", OPT_ENUM, &fixed_disabled, 0, 0,
     "metadata is never backed by transparent huge pages", disabled_names, 0},
    {"oversize_threshold", OPT_UINT, &fixed_zero, 0, 0,
     "no dedicated arena for huge requests (jemalloc's 0: off)", NULL, OPT_AS_SIZE},
    {"muzzy_decay_ms", OPT_UINT, &fixed_zero, 0, 0,
     "no muzzy stage (jemalloc's 0: dirty pages are purged, never made muzzy)", NULL,
     OPT_AS_SSIZE},
    {"max_background_threads", OPT_UINT, &fixed_one, 1, 1, "one background thread at most",
     NULL, OPT_AS_SIZE},
    {"cache_oblivious", OPT_BOOL, &fixed_false, 0, 0,
     "large blocks are not offset by a random cache line", NULL, 0},
    {"trust_madvise", OPT_BOOL, &fixed_true, 1, 1,
     "`MADV_DONTNEED` is trusted to zero pages, not tested at start-up", NULL, 0},
    {"stats_interval", OPT_INT, &fixed_minus_one, -1, -1,
     "no statistics printed by allocation volume (jemalloc's -1: off)", NULL, 0},
    {"stats_interval_opts", OPT_STR, fixed_empty, 0, 0, "see `opt.stats_interval`", NULL, 0},
    {"zero_realloc", OPT_ENUM, &fixed_disabled, 0, 0,
     "`realloc(p, 0)` frees `p` and returns NULL (glibc's behaviour)", free_names, 0},
    /* Placement and limits (docs/threads.md). */
    {"percpu_arena", OPT_ENUM, &opt_percpu_arena, 0, 2,
     "disabled (threads take arenas in turn), percpu (the arena of the CPU a thread runs on) "
     "or phycpu (of its physical core, as jemalloc counts them): jemalloc's values",
     percpu_names, 0},
    {"numa", OPT_ENUM, &opt_numa, 0, 1,
     "auto (arenas grouped by NUMA node, their memory bound to it, threads on their node's "
     "arenas) or off",
     numa_names, 0},
    {"memory_limit", OPT_SIZE, &opt_memory_limit, 0, INT64_MAX,
     "bytes of memory sable may commit; an allocation beyond it fails with ENOMEM (0: none)",
     NULL, OPT_AS_SIZE},
    {"memory_soft_limit", OPT_UINT, &opt_memory_soft_limit, 0, 100,
     "percent of the memory limit (the cgroup's or memory_limit) above which decay drops to 0 "
     "and thread caches are flushed (0: off)",
     NULL, 0},
    /* The stats page (docs/inspection.md). */
    {"stats_page", OPT_BOOL, &opt_stats_page, 0, 1,
     "publish a live statistics page in /dev/shm, with a control socket beside it, for "
     "`sable-stat` (docs/inspection.md)",
     NULL, 0},
    {"stats_page_interval_ms", OPT_UINT, &opt_stats_page_interval_ms, 10, 3600000,
     "the stats page is updated at most this often, by the background thread or else on slow "
     "paths",
     NULL, 0},
};
#define NOPTIONS (sizeof options / sizeof options[0])

/* Which rows SABLE_CONF set (opt_from_conf). */
static bool from_conf[NOPTIONS];

const opt_desc_t *opt_table(size_t *n)
{
    *n = NOPTIONS;
    return options;
}

const char *opt_enum_name(const opt_desc_t *o)
{
    unsigned v = *(const unsigned *)o->var;
    for (unsigned k = 0; o->names[k]; k++)
        if (k == v) return o->names[k];
    return o->names[0];
}

unsigned opt_decay_now = UINT_MAX;
void opt_decay_set(unsigned ms) { __atomic_store_n(&opt_decay_now, ms, __ATOMIC_RELAXED); }

static bool parse_uint(const char *s, size_t len, uint64_t *out)
{
    if (len == 0) return false;
    uint64_t v = 0;
    size_t i = 0;
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
        if (v > (UINT64_MAX - 9) / 10) return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (i == 0) return false;
    if (i < len) {
        unsigned shift;
        switch (s[i] | 0x20) {
        case 'k': shift = 10; break;
        case 'm': shift = 20; break;
        case 'g': shift = 30; break;
        default: return false;
        }
        if (i + 1 != len || v > (UINT64_MAX >> shift)) return false;
        v <<= shift;
    }
    *out = v;
    return true;
}

/* An integer with an optional '-' (jemalloc's -1 values). */
static bool parse_int(const char *s, size_t len, int64_t *out)
{
    bool neg = len > 0 && s[0] == '-';
    uint64_t v;
    if (!parse_uint(s + neg, len - neg, &v) || v > (uint64_t)INT64_MAX) return false;
    *out = neg ? -(int64_t)v : (int64_t)v;
    return true;
}

static bool parse_bool(const char *s, size_t len, bool *out)
{
    if ((len == 4 && memcmp(s, "true", 4) == 0) || (len == 1 && s[0] == '1')) {
        *out = true;
        return true;
    }
    if ((len == 5 && memcmp(s, "false", 5) == 0) || (len == 1 && s[0] == '0')) {
        *out = false;
        return true;
    }
    return false;
}

/* Copies at most cap-1 bytes of [s, s+len) into buf for a message. */
static const char *clip(char *buf, size_t cap, const char *s, size_t len)
{
    if (len >= cap) len = cap - 1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    return buf;
}

static bool apply(const char *key, size_t klen, const char *val, size_t vlen)
{
    char kbuf[64], vbuf[64];
    for (size_t i = 0; i < NOPTIONS; i++) {
        const opt_desc_t *o = &options[i];
        if (strlen(o->name) != klen || memcmp(o->name, key, klen) != 0) continue;
        bool ok;
        if (o->type == OPT_BOOL) {
            bool b;
            ok = parse_bool(val, vlen, &b) && b >= o->min && b <= o->max;
            if (ok && o->min != o->max) *(bool *)o->var = b;
        } else if (o->type == OPT_ENUM) {
            ok = false;
            for (unsigned k = 0; o->names[k] && !ok; k++) {
                if (strlen(o->names[k]) == vlen && memcmp(o->names[k], val, vlen) == 0) {
                    if (o->max > 0) *(unsigned *)o->var = k;
                    ok = true;
                }
            }
        } else if (o->type == OPT_STR) {
            ok = vlen <= (uint64_t)o->max;
            if (ok && o->max > 0) {
                memcpy(o->var, val, vlen);
                ((char *)o->var)[vlen] = '\0';
            }
        } else if (o->type == OPT_SIZE) {
            uint64_t v;
            ok = parse_uint(val, vlen, &v) && v >= (uint64_t)o->min && v <= (uint64_t)o->max;
            if (ok) *(size_t *)o->var = (size_t)v;
        } else {
            int64_t v;
            ok = parse_int(val, vlen, &v) && v >= o->min && v <= o->max;
            if (ok && o->min != o->max) {
                if (o->type == OPT_INT)
                    *(int64_t *)o->var = v;
                else
                    *(unsigned *)o->var = (unsigned)v;
            }
        }
        if (!ok)
            os_warn("SABLE_CONF: invalid value '%s' for option '%s' ignored",
                    clip(vbuf, sizeof vbuf, val, vlen), o->name);
        from_conf[i] |= ok;
        return ok;
    }
    os_warn("SABLE_CONF: unknown option '%s' ignored", clip(kbuf, sizeof kbuf, key, klen));
    return false;
}

unsigned opt_parse(const char *conf)
{
    unsigned bad = 0;
    const char *p = conf;
    while (p && *p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > 0) {
            const char *colon = memchr(p, ':', len);
            if (colon == NULL) {
                char kbuf[64];
                os_warn("SABLE_CONF: malformed entry '%s' (expected key:value) ignored",
                        clip(kbuf, sizeof kbuf, p, len));
                bad++;
            } else if (!apply(p, (size_t)(colon - p), colon + 1, len - (size_t)(colon - p) - 1)) {
                bad++;
            }
        }
        p = end ? end + 1 : NULL;
    }
    return bad;
}

static size_t row_of(const void *var)
{
    size_t i = 0;
    while (i < NOPTIONS && options[i].var != var) i++;
    return i;
}

bool opt_from_conf(const void *var)
{
    size_t i = row_of(var);
    return i < NOPTIONS && from_conf[i];
}

bool opt_set_unless_conf(unsigned *var, uint64_t v)
{
    size_t i = row_of(var);
    if (i == NOPTIONS || from_conf[i] || options[i].type != OPT_UINT ||
        v < (uint64_t)options[i].min)
        return false;
    *var = (unsigned)(v < (uint64_t)options[i].max ? v : (uint64_t)options[i].max);
    return true;
}

/* A number as glibc's tunables read it: decimal, or hexadecimal after 0x. */
static bool parse_glibc_number(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    unsigned base = 10;
    if (s[0] == '0' && (s[1] | 0x20) == 'x') {
        base = 16;
        s += 2;
    }
    if (*s == '\0') return false;
    for (; *s; s++) {
        char c = (char)(*s | 0x20);
        unsigned d = *s >= '0' && *s <= '9' ? (unsigned)(*s - '0')
                     : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                                            : base;
        if (d >= base || v > (UINT64_MAX - d) / base) return false;
        v = v * base + d;
    }
    *out = v;
    return true;
}

/* One of glibc's variables: `value` (NULL: unset), a number in [min, max],
 * sets *var (capped at its row's maximum) unless SABLE_CONF set it. False
 * if the value is bad (warned about). */
static bool glibc_variable(const char *name, const char *value, unsigned *var, uint64_t min,
                           uint64_t max)
{
    if (value == NULL || value[0] == '\0') return true; /* unset, as for glibc */
    uint64_t v;
    char vbuf[64];
    if (!parse_glibc_number(value, &v) || v < min || v > max) {
        os_warn("%s: invalid value '%s' ignored", name,
                clip(vbuf, sizeof vbuf, value, strlen(value)));
        return false;
    }
    opt_set_unless_conf(var, v);
    return true;
}

/* The value of `name` in a GLIBC_TUNABLES string ("glibc.a.b=v:glibc.c.d=w"),
 * copied into buf (truncated to cap - 1 bytes), or NULL if it is not there. */
static const char *tunable(const char *tunables, const char *name, char *buf, size_t cap)
{
    size_t n = strlen(name);
    for (const char *p = tunables; p && *p;) {
        const char *end = strchr(p, ':');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > n && memcmp(p, name, n) == 0 && p[n] == '=')
            return clip(buf, cap, p + n + 1, len - n - 1);
        p = end ? end + 1 : NULL;
    }
    return NULL;
}

unsigned opt_glibc_env(const char *tunables, const char *arena_max, const char *perturb)
{
    /* glibc takes any arena count from 1 (sable caps it at narenas' maximum)
     * and a perturb byte of 0 - 255. The tunables last: in glibc they win
     * over the older variables, whichever comes first in the environment. */
    char a[32], b[32];
    unsigned bad = !glibc_variable("MALLOC_ARENA_MAX", arena_max, &opt_narenas, 1, UINT32_MAX);
    bad += !glibc_variable("MALLOC_PERTURB_", perturb, &opt_perturb, 0, 255);
    const char *t = tunable(tunables, "glibc.malloc.arena_max", a, sizeof a);
    bad += !glibc_variable("glibc.malloc.arena_max", t, &opt_narenas, 1, UINT32_MAX);
    t = tunable(tunables, "glibc.malloc.perturb", b, sizeof b);
    bad += !glibc_variable("glibc.malloc.perturb", t, &opt_perturb, 0, 255);
    return bad;
}

/* Option o's value in force, as SABLE_CONF would spell it. */
static size_t opt_format_value(const opt_desc_t *o, char *buf, size_t cap)
{
    if (o->type == OPT_BOOL) return os_format(buf, cap, "%s", *(bool *)o->var ? "true" : "false");
    if (o->type == OPT_ENUM) return os_format(buf, cap, "%s", opt_enum_name(o));
    if (o->type == OPT_STR) return os_format(buf, cap, "%s", (const char *)o->var);
    if (o->type == OPT_INT) {
        int64_t v = *(int64_t *)o->var;
        return os_format(buf, cap, "%s%zu", v < 0 ? "-" : "", (size_t)(v < 0 ? -v : v));
    }
    if (o->type == OPT_SIZE) return os_format(buf, cap, "%zu", *(size_t *)o->var);
    /* The decay time can change at run time: the one in force. */
    unsigned v = o->var == &opt_dirty_decay_ms ? opt_decay_ms() : *(unsigned *)o->var;
    return os_format(buf, cap, "%zu", (size_t)v);
}

size_t opt_format_all(char *buf, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < NOPTIONS && n + 1 < cap; i++) {
        const opt_desc_t *o = &options[i];
        n += os_format(buf + n, cap - n, "%s%s:", i ? "," : "", o->name);
        if (n + 1 < cap) n += opt_format_value(o, buf + n, cap - n);
    }
    return n;
}

static void confirm(void)
{
    char line[1024];
    size_t n = os_format(line, sizeof line, "%s options: ", SABLE_VERSION_STRING);
    opt_format_all(line + n, sizeof line - n);
    os_warn("%s", line);
}

void opt_init(void)
{
    const char *conf = os_getenv("SABLE_CONF");
    unsigned bad = conf ? opt_parse(conf) : 0;
    if (bad && opt_abort_conf) sable_fatal("SABLE_CONF: invalid configuration (abort_conf:true)");
    /* After SABLE_CONF, which wins; a bad value of glibc's is warned about
     * but never aborts (glibc ignores it). */
    opt_glibc_env(os_getenv("GLIBC_TUNABLES"), os_getenv("MALLOC_ARENA_MAX"),
                  os_getenv("MALLOC_PERTURB_"));
    if (opt_confirm_conf) confirm();
    /* From here on a warning is fatal under abort:true (SABLE_CONF's own
     * are abort_conf's, as in jemalloc). */
    os_warn_aborts = opt_abort;
}
