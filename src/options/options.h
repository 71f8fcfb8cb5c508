/* src/options/options.h — options, read once from SABLE_CONF at start-up.
 *
 * SABLE_CONF="key:value,key:value". Every key is the leaf of an opt.* name.
 * An unknown key or a bad value prints one warning naming it and is ignored;
 * the allocator then runs on the default for that option. The keys include
 * jemalloc's spellings of what sable shares with it (so that a MALLOC_CONF
 * string can be reused): options of the same meaning, `thp` (another name
 * for hugepages' off and thp modes), and fixed rows (opt_fixed), concepts
 * sable has one way only (retain:true, dss:disabled, muzzy_decay_ms:0, ...),
 * which accept that value and warn about any other. glibc's variables
 * set two options that SABLE_CONF leaves alone: MALLOC_ARENA_MAX (narenas)
 * and MALLOC_PERTURB_ (perturb), and their GLIBC_TUNABLES names.
 *
 * Invariants: each variable holds a value its row's min and max allow.
 * Locking: the variables are written during process set-up (before any
 * other thread can be inside the allocator: opt_init, and mallopt's values
 * given before it through opt_set_unless_conf) and by opt_parse in tests;
 * every layer reads them without locks.
 */
#ifndef SABLE_OPTIONS_H
#define SABLE_OPTIONS_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

extern unsigned opt_narenas;   /* 0: one per CPU */
extern bool opt_tcache;        /* per-thread caches */
extern size_t opt_tcache_max_bytes; /* one cache's capacity in bytes (0: built-in) */
extern size_t opt_tcache_total_bytes; /* all caches' capacity together (0: no bound) */
extern bool opt_abort_conf;    /* abort on a bad SABLE_CONF instead of warning */
extern bool opt_confirm_conf;  /* print the options in force at start-up */
extern unsigned opt_dirty_decay_ms; /* free memory is returned after this long */
extern bool opt_background_thread;  /* a thread purges on schedule */
extern unsigned opt_background_thread_auto; /* ... started on its own at this many threads (0: never) */
extern bool opt_secure;       /* checked, uncached allocation (see docs/security.md) */
/* jemalloc's junk values: fill new blocks with 0xa5 (alloc), freed ones
 * with 0x5a (free), or both (true). */
typedef enum { JUNK_FALSE, JUNK_TRUE, JUNK_ALLOC, JUNK_FREE } junk_mode_t;
extern unsigned opt_junk;     /* a junk_mode_t */
extern bool opt_zero;         /* every new block is zeroed (jemalloc's zero) */
extern bool opt_zero_on_free; /* fill freed blocks with zeroes */
extern bool opt_abort;        /* run-time warnings abort (jemalloc's abort) */
extern unsigned opt_perturb;  /* glibc's perturb byte (MALLOC_PERTURB_): 0 off */

typedef enum { HUGEPAGES_OFF, HUGEPAGES_THP, HUGEPAGES_HUGETLB } hugepages_mode_t;
extern unsigned opt_hugepages; /* a hugepages_mode_t */

typedef enum { PERCPU_OFF, PERCPU_PERCPU, PERCPU_PHYCPU } percpu_mode_t;
extern unsigned opt_percpu_arena; /* a percpu_mode_t (jemalloc's names and meanings) */
typedef enum { NUMA_AUTO, NUMA_OFF } numa_mode_t;
extern unsigned opt_numa;         /* a numa_mode_t */
extern size_t opt_memory_limit;   /* bytes of committed memory at most (0: none) */
extern unsigned opt_memory_soft_limit; /* percent of the memory limit: decay 0, caches flushed */
extern bool opt_stats_print;   /* print stats to stderr at exit */
/* The largest size thread caches hold: sizeclass's SC_CACHED_MAX, which
 * this leaf cannot include (process/init.c asserts that they agree). */
#define OPT_TCACHE_MAX (256u << 10)
#define OPT_STR_MAX 31         /* longest value of a string option */
extern char opt_stats_print_opts[OPT_STR_MAX + 1]; /* stats_print's opts letters */
extern bool opt_stats_page;                 /* publish the live stats page (src/inspect) */
extern unsigned opt_stats_page_interval_ms; /* ... at most this often */

/* The decay time in force: opt_dirty_decay_ms (the start-up value, which
 * opt.dirty_decay_ms keeps showing) until arenas.dirty_decay_ms writes one
 * (opt_decay_set). Read with a relaxed atomic by every arena's decay. */
extern unsigned opt_decay_now; /* UINT_MAX: not written */
static inline unsigned opt_decay_ms(void)
{
    unsigned v = __atomic_load_n(&opt_decay_now, __ATOMIC_RELAXED);
    return v == UINT_MAX ? opt_dirty_decay_ms : v;
}
void opt_decay_set(unsigned ms);

/* The option table (src/options/options.c), also read by mallctl's opt.* names
 * and stats printing. OPT_UINT and OPT_ENUM variables are unsigned, OPT_INT
 * int64_t, OPT_SIZE size_t (a number of bytes, k/m/g suffixes), OPT_BOOL
 * bool, OPT_STR a char array of max + 1 bytes. A row with min == max (a bool
 * or number), or a single name (an enum), or max 0 (a string), is fixed:
 * SABLE_CONF accepts that one value. `as` is the C type mallctl reads the
 * value as (jemalloc's), when it is not the row type's. */
typedef enum { OPT_BOOL, OPT_UINT, OPT_INT, OPT_ENUM, OPT_STR, OPT_SIZE } opt_type_t;
typedef enum { OPT_AS_ROW, OPT_AS_SIZE, OPT_AS_SSIZE } opt_as_t;

typedef struct {
    const char *name;
    opt_type_t type;
    void *var;
    int64_t min, max;
    const char *doc;
    const char *const *names; /* OPT_ENUM: the values, NULL-terminated */
    opt_as_t as;
} opt_desc_t;

/* The table and its length. */
const opt_desc_t *opt_table(size_t *n);
/* An enum row's value name (the first name if the variable, shared with
 * another row, holds a value this row has no name for). */
const char *opt_enum_name(const opt_desc_t *o);

/* Writes every option's value in force as SABLE_CONF would spell it,
 * "name:value,name:value...": the characters written (the output is cut at
 * cap - 1 and NUL-terminated, as os_format's). */
size_t opt_format_all(char *buf, size_t cap);

/* Parses SABLE_CONF (without allocating). Called once during init. */
void opt_init(void);

/* Parses one configuration string (exposed for tests). Returns the number
 * of bad entries (each warned about). */
unsigned opt_parse(const char *conf);

/* True if SABLE_CONF (any opt_parse so far) set the option whose variable
 * is `var`: SABLE_CONF wins over glibc's variables and mallopt. */
bool opt_from_conf(const void *var);

/* Sets the integer option whose variable is `var` to v (capped at its
 * maximum) unless SABLE_CONF set it or v is below its minimum; true if it
 * did. For glibc's variables and for mallopt before set-up (src/process,
 * under its init lock). */
bool opt_set_unless_conf(unsigned *var, uint64_t v);

/* glibc's environment variables, given their values (NULL or empty: unset;
 * opt_init passes the environment's, tests their own): MALLOC_ARENA_MAX=n
 * (n >= 1, capped at narenas' maximum) sets narenas, MALLOC_PERTURB_=b
 * (0 - 255) sets perturb, and so do GLIBC_TUNABLES' glibc.malloc.arena_max
 * and glibc.malloc.perturb (which win over the two, as in glibc), each unless
 * SABLE_CONF set that option. Numbers are decimal or 0x hexadecimal, as
 * glibc reads them. A bad value is warned about by name and ignored (never
 * fatal, even with abort_conf); returns how many were bad. */
unsigned opt_glibc_env(const char *tunables, const char *arena_max, const char *perturb);

#endif
