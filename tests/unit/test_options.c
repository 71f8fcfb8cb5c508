/* SABLE_CONF parsing: values, sizes, and a warning naming each bad entry;
 * glibc's MALLOC_ARENA_MAX and MALLOC_PERTURB_, which SABLE_CONF overrides. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>

#include "options/options.h"

Test(options, valid_entries_are_applied)
{
    cr_assert_eq(opt_parse("narenas:3,tcache:false,confirm_conf:0"), 0);
    cr_assert_eq(opt_narenas, 3);
    cr_assert_eq(opt_tcache, false);
    cr_assert_eq(opt_confirm_conf, false);
    cr_assert_eq(opt_parse("tcache:true,narenas:0"), 0);
    cr_assert_eq(opt_tcache, true);
}

Test(options, empty_entries_are_ignored)
{
    cr_assert_eq(opt_parse(",,narenas:2,"), 0);
    cr_assert_eq(opt_narenas, 2);
}

Test(options, unknown_key_is_warned_about_by_name, .init = cr_redirect_stderr)
{
    cr_assert_eq(opt_parse("bogus_key:1,narenas:5"), 1);
    cr_assert_eq(opt_narenas, 5, "the valid entry after the bad one still applies");
    fflush(stderr);
    cr_assert_stderr_eq_str("sable: SABLE_CONF: unknown option 'bogus_key' ignored\n");
}

Test(options, bad_value_keeps_the_default, .init = cr_redirect_stderr)
{
    opt_narenas = 0;
    cr_assert_eq(opt_parse("narenas:lots"), 1);
    cr_assert_eq(opt_narenas, 0);
    fflush(stderr);
    cr_assert_stderr_eq_str("sable: SABLE_CONF: invalid value 'lots' for option 'narenas' ignored\n");
}

Test(options, out_of_range_value_is_rejected, .init = cr_redirect_stderr)
{
    opt_narenas = 0;
    cr_assert_eq(opt_parse("narenas:100000"), 1);
    cr_assert_eq(opt_narenas, 0);
}

Test(options, malformed_entry_is_rejected, .init = cr_redirect_stderr)
{
    cr_assert_eq(opt_parse("tcache"), 1);
    fflush(stderr);
    cr_assert_stderr_eq_str(
        "sable: SABLE_CONF: malformed entry 'tcache' (expected key:value) ignored\n");
}

Test(options, size_suffixes_scale, .init = cr_redirect_stderr)
{
    /* narenas is capped at 256, so exercise the suffix on a value in range. */
    cr_assert_eq(opt_parse("narenas:0k"), 0);
    cr_assert_eq(opt_narenas, 0);
    cr_assert_eq(opt_parse("narenas:1k"), 1, "1k = 1024 is above the cap");
}

Test(options, enum_values_are_matched_by_name, .init = cr_redirect_stderr)
{
    cr_assert_eq(opt_parse("hugepages:thp"), 0);
    cr_assert_eq(opt_hugepages, HUGEPAGES_THP);
    cr_assert_eq(opt_parse("hugepages:hugetlb"), 0);
    cr_assert_eq(opt_hugepages, HUGEPAGES_HUGETLB);
    cr_assert_eq(opt_parse("hugepages:huge"), 1, "a prefix is not a value");
    cr_assert_eq(opt_hugepages, HUGEPAGES_HUGETLB);
    cr_assert_eq(opt_parse("hugepages:off,dirty_decay_ms:0,background_thread:true"), 0);
    cr_assert_eq(opt_hugepages, HUGEPAGES_OFF);
    cr_assert_eq(opt_dirty_decay_ms, 0);
    cr_assert(opt_background_thread);
}

/* glibc's variables (opt_glibc_env). Each test runs in a process of its own,
 * so SABLE_CONF's marks (opt_from_conf) start clear unless the test parses. */
Test(options, malloc_arena_max_and_perturb_set_their_options)
{
    cr_assert_eq(opt_glibc_env(NULL, "3", "60"), 0);
    cr_assert_eq(opt_narenas, 3);
    cr_assert_eq(opt_perturb, 60);
    cr_assert_eq(opt_glibc_env(NULL, "0x10", "0xa5"), 0, "hexadecimal, as glibc reads it");
    cr_assert_eq(opt_narenas, 16);
    cr_assert_eq(opt_perturb, 0xa5);
    cr_assert_eq(opt_glibc_env(NULL, NULL, ""), 0, "unset and empty change nothing");
    cr_assert_eq(opt_narenas, 16);
    cr_assert_eq(opt_perturb, 0xa5);
}

Test(options, malloc_arena_max_is_capped_at_the_most_arenas)
{
    cr_assert_eq(opt_glibc_env(NULL, "100000", NULL), 0, "glibc takes any count");
    cr_assert_eq(opt_narenas, 256);
}

Test(options, sable_conf_wins_over_glibc_variables)
{
    cr_assert_eq(opt_parse("narenas:2,perturb:7"), 0);
    cr_assert(opt_from_conf(&opt_narenas));
    cr_assert(!opt_from_conf(&opt_tcache));
    cr_assert_eq(opt_glibc_env(NULL, "5", "60"), 0);
    cr_assert_eq(opt_narenas, 2);
    cr_assert_eq(opt_perturb, 7);
    cr_assert(!opt_set_unless_conf(&opt_narenas, 4), "mallopt loses to SABLE_CONF too");
    cr_assert_eq(opt_narenas, 2);
}

Test(options, a_bad_value_for_glibc_is_warned_about_and_ignored, .init = cr_redirect_stderr)
{
    opt_narenas = 0;
    opt_perturb = 0;
    cr_assert_eq(opt_glibc_env(NULL, "lots", "256"), 2);
    cr_assert_eq(opt_glibc_env(NULL, "0", "-1"), 2, "at least one arena; no sign");
    cr_assert_eq(opt_narenas, 0);
    cr_assert_eq(opt_perturb, 0);
    fflush(stderr);
    cr_assert_stderr_eq_str("sable: MALLOC_ARENA_MAX: invalid value 'lots' ignored\n"
                            "sable: MALLOC_PERTURB_: invalid value '256' ignored\n"
                            "sable: MALLOC_ARENA_MAX: invalid value '0' ignored\n"
                            "sable: MALLOC_PERTURB_: invalid value '-1' ignored\n");
}

Test(options, set_unless_conf_keeps_to_the_table)
{
    cr_assert(opt_set_unless_conf(&opt_narenas, 1000));
    cr_assert_eq(opt_narenas, 256, "capped at the row's maximum");
    cr_assert(opt_set_unless_conf(&opt_perturb, 0));
    cr_assert_eq(opt_perturb, 0);
    unsigned other = 0;
    cr_assert(!opt_set_unless_conf(&other, 1), "not an option's variable");
    cr_assert_eq(other, 0);
}

Test(options, glibc_tunables_set_the_same_options, .init = cr_redirect_stderr)
{
    cr_assert_eq(opt_glibc_env("glibc.malloc.tcache_count=0:glibc.malloc.arena_max=4:"
                               "glibc.malloc.perturb=0x21",
                               NULL, NULL),
                 0, "other tunables are glibc's business");
    cr_assert_eq(opt_narenas, 4);
    cr_assert_eq(opt_perturb, 0x21);
    cr_assert_eq(opt_glibc_env("glibc.malloc.arena_max=4:glibc.malloc.perturb=9", "6", "33"), 0);
    cr_assert_eq(opt_narenas, 4, "the tunable wins over MALLOC_ARENA_MAX, as in glibc");
    cr_assert_eq(opt_perturb, 9, "and over MALLOC_PERTURB_");
    cr_assert_eq(opt_glibc_env("glibc.malloc.arena_max=many", NULL, NULL), 1);
    cr_assert_eq(opt_narenas, 4);
    fflush(stderr);
    cr_assert_stderr_eq_str("sable: glibc.malloc.arena_max: invalid value 'many' ignored\n");
}

/* jemalloc's spellings (docs/mallctl.md, "Differences from jemalloc"). */

/* conf has `bad` bad entries and leaves the enum variable var at want. */
static void parses_to(const char *conf, unsigned bad, const unsigned *var, unsigned want)
{
    cr_assert_eq(opt_parse(conf), bad, "%s", conf);
    cr_assert_eq(*var, want, "%s", conf);
}

Test(options, jemalloc_junk_values_set_each_fill, .init = cr_redirect_stderr)
{
    parses_to("junk:alloc", 0, &opt_junk, JUNK_ALLOC);
    parses_to("junk:free", 0, &opt_junk, JUNK_FREE);
    parses_to("junk:true", 0, &opt_junk, JUNK_TRUE);
    parses_to("junk:false", 0, &opt_junk, JUNK_FALSE);
    parses_to("junk:both", 1, &opt_junk, JUNK_FALSE);
}

Test(options, jemalloc_thp_sets_hugepages, .init = cr_redirect_stderr)
{
    parses_to("thp:always", 0, &opt_hugepages, HUGEPAGES_THP);
    parses_to("thp:default", 0, &opt_hugepages, HUGEPAGES_OFF);
    /* sable never refuses huge pages: "never" is not a value */
    parses_to("thp:never", 1, &opt_hugepages, HUGEPAGES_OFF);
    fflush(stderr);
    cr_assert_stderr_eq_str("sable: SABLE_CONF: invalid value 'never' for option 'thp' ignored\n");
}

Test(options, jemalloc_options_of_the_same_meaning, .init = cr_redirect_stderr)
{
    cr_assert_eq(opt_parse("abort:true,zero:true,dirty_decay_ms:5000,narenas:2,"
                           "background_thread:true"),
                 0);
    cr_assert(opt_abort);
    cr_assert(opt_zero);
    cr_assert_eq(opt_dirty_decay_ms, 5000);
    cr_assert_eq(opt_decay_ms(), 5000);
    cr_assert_eq(opt_parse("dirty_decay_ms:-1"), 1, "jemalloc's never is not sable's");
    cr_assert_eq(opt_dirty_decay_ms, 5000);
}

/* Fixed rows take their one value and warn about any other, by name. */
Test(options, fixed_rows_accept_only_their_value, .init = cr_redirect_stderr)
{
    cr_assert_eq(opt_parse("retain:true,dss:disabled,muzzy_decay_ms:0,percpu_arena:disabled,"
                           "metadata_thp:disabled,oversize_threshold:0,max_background_threads:1,"
                           "cache_oblivious:false,trust_madvise:true,stats_interval:-1,"
                           "stats_interval_opts:,zero_realloc:free,tcache_max:256k"),
                 0);
    cr_assert_eq(opt_parse("retain:false"), 1);
    cr_assert_eq(opt_parse("muzzy_decay_ms:10000"), 1);
    cr_assert_eq(opt_parse("dss:primary"), 1);
    cr_assert_eq(opt_parse("stats_interval:1000"), 1);
    cr_assert_eq(opt_parse("tcache_max:4096"), 1);
    cr_assert_eq(opt_parse("zero_realloc:alloc"), 1);
    cr_assert_eq(opt_parse("stats_interval_opts:J"), 1);
    fflush(stderr);
    cr_assert_stderr_eq_str("sable: SABLE_CONF: invalid value 'false' for option 'retain' ignored\n"
                            "sable: SABLE_CONF: invalid value '10000' for option 'muzzy_decay_ms' ignored\n"
                            "sable: SABLE_CONF: invalid value 'primary' for option 'dss' ignored\n"
                            "sable: SABLE_CONF: invalid value '1000' for option 'stats_interval' ignored\n"
                            "sable: SABLE_CONF: invalid value '4096' for option 'tcache_max' ignored\n"
                            "sable: SABLE_CONF: invalid value 'alloc' for option 'zero_realloc' ignored\n"
                            "sable: SABLE_CONF: invalid value 'J' for option 'stats_interval_opts' ignored\n");
}

Test(options, jemalloc_options_sable_lacks_are_unknown_keys, .init = cr_redirect_stderr)
{
    cr_assert_eq(opt_parse("prof:true,lg_tcache_max:15,narenas:3"), 2);
    cr_assert_eq(opt_narenas, 3);
    fflush(stderr);
    cr_assert_stderr_eq_str("sable: SABLE_CONF: unknown option 'prof' ignored\n"
                            "sable: SABLE_CONF: unknown option 'lg_tcache_max' ignored\n");
}

Test(options, placement_and_memory_limit_options)
{
    cr_assert_eq(opt_parse("percpu_arena:phycpu,numa:off,memory_limit:3g,memory_soft_limit:75"), 0);
    cr_assert_eq(opt_percpu_arena, PERCPU_PHYCPU);
    cr_assert_eq(opt_numa, NUMA_OFF);
    cr_assert_eq(opt_memory_limit, (size_t)3 << 30, "a byte count beyond 32 bits");
    cr_assert_eq(opt_memory_soft_limit, 75);
}

Test(options, a_soft_limit_above_100_percent_is_refused, .init = cr_redirect_stderr)
{
    cr_assert_eq(opt_parse("memory_soft_limit:150,percpu_arena:sometimes"), 2);
    cr_assert_eq(opt_memory_soft_limit, 90, "the default stays");
    cr_assert_eq(opt_percpu_arena, PERCPU_OFF);
    fflush(stderr);
    cr_assert_stderr_eq_str(
        "sable: SABLE_CONF: invalid value '150' for option 'memory_soft_limit' ignored\n"
        "sable: SABLE_CONF: invalid value 'sometimes' for option 'percpu_arena' ignored\n");
}
