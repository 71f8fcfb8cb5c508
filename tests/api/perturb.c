/* glibc's MALLOC_PERTURB_: blocks handed out other than by calloc are
 * filled with one byte, freed blocks with another (docs/security.md, "Fill
 * modes"). meson runs this source under several configurations; each gives
 * the bytes it must produce as PERTURB_NEW and PERTURB_FREED and the
 * perturb option it must show as PERTURB_OPTION (tests/api/meson.build):
 * MALLOC_PERTURB_ alone, SABLE_CONF's perturb winning over it, and junk and
 * zero_on_free taking precedence for what they fill. */
#include <stdio.h>

#include "api.h"

TestSuite(perturb, .timeout = 60);

static unsigned expected(const char *name)
{
    const char *v = getenv(name);
    cr_assert_not_null(v, "%s is not set: run this test through meson", name);
    return (unsigned)strtoul(v, NULL, 0);
}

/* Small (two classes), large and huge blocks. */
static const size_t sizes[] = {24, 1000, 20000, 300 * KiB, 3 * MiB};
#define NSIZES (sizeof sizes / sizeof sizes[0])

/* The first offset of [p, p + n) that does not hold `byte`, or n. */
static size_t first_other(const void *p, size_t n, unsigned byte)
{
    const volatile unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != byte) return i;
    return n;
}

Test(perturb, the_option_shows_the_byte_in_force)
{
    unsigned v = 0;
    size_t len = sizeof v;
    cr_assert_eq(sable_mallctl("opt.perturb", &v, &len, NULL, 0), 0);
    cr_assert_eq(v, expected("PERTURB_OPTION"));
}

Test(perturb, new_blocks_hold_the_new_fill)
{
    unsigned fill = expected("PERTURB_NEW");
    for (unsigned i = 0; i < NSIZES; i++) {
        void *p = M_MALLOC(sizes[i]);
        cr_assert_not_null(p);
        size_t bad = first_other(p, sizes[i], fill);
        cr_assert_eq(bad, sizes[i], "malloc(%zu): byte %zu is not 0x%02x", sizes[i], bad, fill);
        M_FREE(p);
    }
}

Test(perturb, freed_blocks_hold_the_free_fill)
{
    unsigned fill = expected("PERTURB_FREED");
    for (unsigned i = 0; i < NSIZES; i++) {
        /* a neighbour keeps the block's slab or chunk in use */
        void *keep = M_MALLOC(sizes[i]);
        void *p = M_MALLOC(sizes[i]);
        cr_assert(keep && p);
        memset(p, 0x11, sizes[i]);
        unsigned char *q = launder(p);
        M_FREE(p);
        size_t bad = first_other(q, sizes[i], fill);
        cr_assert_eq(bad, sizes[i], "freed %zu B block: byte %zu is not 0x%02x", sizes[i], bad,
                     fill);
        M_FREE(keep);
    }
}

Test(perturb, a_small_block_is_filled_again_when_reused)
{
    unsigned fill = expected("PERTURB_NEW");
    for (int round = 0; round < 100; round++) {
        void *p = M_MALLOC(64);
        cr_assert_not_null(p);
        size_t bad = first_other(p, 64, fill);
        cr_assert_eq(bad, 64, "round %d: byte %zu is not 0x%02x", round, bad, fill);
        memset(p, 0x11 + round, 64);
        M_FREE(p);
    }
}

Test(perturb, calloc_still_returns_zeroes)
{
    for (unsigned i = 0; i < NSIZES; i++) {
        void *dirty = M_MALLOC(sizes[i]);
        cr_assert_not_null(dirty);
        memset(dirty, 0x11, sizes[i]);
        M_FREE(dirty);
        void *p = M_CALLOC(1, sizes[i]);
        cr_assert_not_null(p);
        size_t bad = first_other(p, sizes[i], 0);
        cr_assert_eq(bad, sizes[i], "calloc(1, %zu): byte %zu is not zero", sizes[i], bad);
        M_FREE(p);
    }
}

Test(perturb, realloc_keeps_the_contents_and_fills_the_growth)
{
    unsigned fill = expected("PERTURB_NEW");
    unsigned char *p = M_MALLOC(100);
    cr_assert_not_null(p);
    fill_pattern(p, 100, 7);
    p = M_REALLOC(p, 5000);
    cr_assert_not_null(p);
    cr_assert_eq(check_pattern(p, 100, 7), 100, "contents lost");
    size_t bad = first_other(p + 100, 4900, fill);
    cr_assert_eq(bad, 4900, "grown byte %zu is not 0x%02x", 100 + bad, fill);
    M_FREE(p);
}
