/* Freed large and huge blocks are not handed out again with their old
 * contents in the fill modes (docs/security.md): secure:true implies
 * zero_on_free ("freed data does not linger in memory"); junk:true fills new
 * blocks with 0xa5 and freed ones with 0x5a.
 *
 *   hardening-stale-secure     SABLE_CONF=secure:true
 *   hardening-stale-junk       SABLE_CONF=junk:true
 *
 * For each size (64 KiB and 1 MiB: large; 8 MiB and 24 MiB: huge) a block is
 * filled with a marker pattern and freed; then blocks of the same size and
 * of similar sizes are allocated (held together, so that whichever of them
 * gets the old memory is looked at) and every 8-byte word of their usable
 * size is checked: none may hold the marker. Under junk:true every byte
 * must also be the junk byte 0xa5 or, from memory the kernel has just
 * handed out, zero. Repeated with the freed block's neighbours freed too,
 * and after several blocks were freed at once.
 *
 * Built twice (see hard.h): unprefixed through libsable.so, and prefixed. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "hard.h"

/* A marker word that fills nothing else: the high half a tag, the low half
 * the word's index, so that a stale word is recognised wherever it lands. */
#define MARK_TAG 0x57a1e5c0ull
static uint64_t mark(size_t i) { return MARK_TAG << 32 | (uint32_t)i; }
static int is_mark(uint64_t w) { return w >> 32 == MARK_TAG; }

static int junk_mode;
static unsigned failures;
static unsigned printed; /* failure lines printed for the current size */

static void fill_mark(void *p, size_t n)
{
    uint64_t *w = p;
    for (size_t i = 0; i < n / 8; i++) w[i] = mark(i);
}

/* Checks a freshly allocated block; returns 0 if clean. */
static int check_fresh(const char *what, size_t size, const unsigned char *p)
{
    size_t usable = M_USABLE((void *)(uintptr_t)p);
    size_t nmarks = 0, first_mark = SIZE_MAX, nbad = 0, first_bad = SIZE_MAX;
    for (size_t i = 0; i + 8 <= usable; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        if (is_mark(w)) {
            if (nmarks++ == 0) first_mark = i;
        }
    }
    if (junk_mode)
        for (size_t i = 0; i < usable; i++)
            if (p[i] != 0xa5 && p[i] != 0) {
                if (nbad++ == 0) first_bad = i;
            }
    if (nmarks == 0 && nbad == 0) return 0;
    failures++;
    if (printed++ < 4) {
        printf("  FAIL %s: malloc(%zu) = %p (usable %zu):", what, size, (const void *)p, usable);
        if (nmarks)
            printf(" %zu words of the freed block's marker, the first at offset %zu;", nmarks,
                first_mark);
        if (nbad)
            printf(" %zu bytes neither 0xa5 nor 0, the first at offset %zu (0x%02x);", nbad,
                first_bad, p[first_bad]);
        putchar('\n');
    }
    return 1;
}

enum { NAGAIN = 6 };

/* Free one marked block of `size`, then allocate the same and similar sizes. */
static void freed_then_again(size_t size)
{
    unsigned char *p = M_MALLOC(size);
    if (!p) {
        printf("  FAIL: malloc(%zu) returned NULL\n", size);
        failures++;
        return;
    }
    fill_mark(p, M_USABLE(p));
    M_FREE(p);
    const size_t again[NAGAIN] = {size, size, size - 4096, size + 4096, size - size / 8,
        size / 2 + 4096};
    unsigned char *q[NAGAIN];
    for (int i = 0; i < NAGAIN; i++) {
        q[i] = M_MALLOC(again[i]);
        if (!q[i]) {
            printf("  FAIL: malloc(%zu) returned NULL\n", again[i]);
            failures++;
            continue;
        }
        check_fresh("after one free", again[i], q[i]);
    }
    for (int i = 0; i < NAGAIN; i++) {
        if (q[i]) fill_mark(q[i], M_USABLE(q[i]));
    }
    /* All of them freed at once (neighbours merge), then asked for again. */
    for (int i = 0; i < NAGAIN; i++) M_FREE(q[i]);
    for (int i = NAGAIN - 1; i >= 0; i--) {
        q[i] = M_MALLOC(again[i]);
        if (q[i]) check_fresh("after neighbours were freed", again[i], q[i]);
    }
    /* One big block over the space of the freed ones. */
    unsigned char *big = M_MALLOC(size * 2);
    if (big) check_fresh("a larger block after frees", size * 2, big);
    M_FREE(big);
    for (int i = 0; i < NAGAIN; i++) M_FREE(q[i]);
}

int main(void)
{
    const char *conf = getenv("SABLE_CONF");
    junk_mode = conf && strstr(conf, "junk:true") != NULL;
    printf("%s API, SABLE_CONF=%s\n", M_VARIANT, conf ? conf : "(unset)");
    if (!conf || (!junk_mode && !strstr(conf, "secure:true"))) {
        printf("needs SABLE_CONF=secure:true or junk:true\n");
        return 2;
    }
    const size_t sizes[] = {64 * KiB, 1 * MiB, 8 * MiB, 24 * MiB};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        unsigned before = failures;
        printed = 0;
        for (int round = 0; round < 3; round++) freed_then_again(sizes[s]);
        printf("%zu KiB: %s\n", sizes[s] >> 10, failures == before ? "ok" : "stale contents");
    }
    printf("%u failures\n", failures);
    return failures ? 1 : 0;
}
