/* SABLE_CONF parsing: values, sizes, and a warning naming each bad entry. */
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
