/* The OS layer: mappings, purge, formatting, environment. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "os/os.h"

Test(os, page_size_matches_the_kernel)
{
    os_init();
    cr_assert_eq(os_page_size(), (size_t)sysconf(_SC_PAGESIZE));
}

Test(os, ncpus_is_at_least_one)
{
    cr_assert_geq(os_ncpus(), 1);
}

Test(os, aligned_mappings_are_aligned_zeroed_and_writable)
{
    os_init();
    for (size_t align = 4096; align <= ((size_t)64 << 20); align <<= 1) {
        size_t size = 3 * 4096 + align / 2;
        size = (size + 4095) & ~(size_t)4095;
        unsigned char *p = os_map_aligned(size, align);
        cr_assert_not_null(p, "align %zu", align);
        cr_assert_eq((uintptr_t)p % align, 0, "align %zu", align);
        for (size_t i = 0; i < size; i += 4096) cr_assert_eq(p[i], 0);
        memset(p, 0xab, size);
        os_unmap(p, size);
    }
}

Test(os, purge_makes_pages_read_as_zero)
{
    os_init();
    size_t ps = os_page_size();
    unsigned char *p = os_map_aligned(4 * ps, ps);
    cr_assert_not_null(p);
    memset(p, 0x5a, 4 * ps);
    cr_assert(os_purge(p + ps, 2 * ps));
    cr_assert_eq(p[0], 0x5a);
    cr_assert_eq(p[ps], 0);
    cr_assert_eq(p[3 * ps - 1], 0);
    cr_assert_eq(p[3 * ps], 0x5a);
    os_unmap(p, 4 * ps);
}

Test(os, extend_inplace_grows_into_free_space_only)
{
    os_init();
    size_t ps = os_page_size();
    unsigned char *p = os_map_aligned(8 * ps, ps);
    cr_assert_not_null(p);
    os_unmap(p + 2 * ps, 6 * ps); /* leave a hole after two pages */
    cr_assert(os_extend_inplace(p, 2 * ps, 4 * ps));
    p[4 * ps - 1] = 1;
    os_unmap(p, 4 * ps);
}

Test(os, extend_inplace_refuses_an_occupied_range)
{
    os_init();
    size_t ps = os_page_size();
    unsigned char *p = os_map_aligned(4 * ps, ps);
    cr_assert_not_null(p);
    cr_assert_not(os_extend_inplace(p, 2 * ps, 3 * ps), "the third page is still mapped");
    os_unmap(p, 4 * ps);
}

Test(os, format_handles_every_conversion)
{
    char buf[128];
    os_format(buf, sizeof buf, "%s %zu %d %p %x %%", "hi", (size_t)42, -7, (void *)0x1234,
              (size_t)255);
    cr_assert_str_eq(buf, "hi 42 -7 0x1234 0xff %");
}

Test(os, format_truncates_to_the_buffer)
{
    char buf[8];
    size_t n = os_format(buf, sizeof buf, "%s", "abcdefghijkl");
    cr_assert_eq(n, 7);
    cr_assert_str_eq(buf, "abcdefg");
}

Test(os, getenv_reads_environ_exactly)
{
    setenv("SABLE_TEST_VAR", "value", 1);
    setenv("SABLE_TEST_VARX", "other", 1);
    cr_assert_str_eq(os_getenv("SABLE_TEST_VAR"), "value");
    cr_assert_null(os_getenv("SABLE_TEST_VA"));
}

Test(os, fatal_writes_one_line_and_aborts, .signal = SIGABRT)
{
    sable_fatal("free(): invalid pointer %p", (void *)0x10);
}
