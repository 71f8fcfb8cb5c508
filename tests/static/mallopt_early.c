/* glibc's arena and perturb tunings in a program linked with libsable.a:
 *   mallopt_early ARENA_MAX PERTURB NARENAS BYTE ACTED
 * A constructor that runs before sable's own set-up (priority 101; sable's
 * constructors have the default priority) calls mallopt(M_ARENA_MAX,
 * ARENA_MAX) and mallopt(M_PERTURB, PERTURB), unless they are 0; both must
 * return ACTED (1, or 0 when SABLE_CONF sets the option). Then:
 *   - arenas.narenas is NARENAS and opt.perturb is BYTE: mallopt before
 *     set-up, else MALLOC_ARENA_MAX / MALLOC_PERTURB_, else the defaults,
 *     SABLE_CONF over all (meson gives each case its environment);
 *   - with a perturb byte, malloc's bytes are BYTE ^ 0xff and calloc's 0;
 *     after set-up mallopt(M_PERTURB) returns 1 for the byte in force and 0
 *     for another (it cannot change a fill mode threads already run under);
 *   - after set-up mallopt(M_ARENA_MAX, 1) returns 1 and threads started
 *     later all use arena 0, unless SABLE_CONF sets narenas (0, and they
 *     spread over the arenas);
 *   - the parameters sable has no counterpart for return 0. */
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expect.h"
#include "sable.h"

static int early_arena_max, early_perturb, early_ret[2] = {-1, -1};

/* glibc passes (argc, argv, envp) to constructors. */
__attribute__((constructor(101))) static void early(int argc, char **argv)
{
    if (argc != 6) return;
    early_arena_max = atoi(argv[1]);
    early_perturb = atoi(argv[2]);
    if (early_arena_max) early_ret[0] = mallopt(M_ARENA_MAX, early_arena_max);
    if (early_perturb) early_ret[1] = mallopt(M_PERTURB, early_perturb);
}

static unsigned read_unsigned(const char *name)
{
    unsigned v = 0;
    size_t len = sizeof v;
    EXPECT(sable_mallctl(name, &v, &len, NULL, 0) == 0, "%s", name);
    return v;
}

static void *thread_arena(void *arg)
{
    free(malloc(100)); /* sets the thread up */
    *(unsigned *)arg = read_unsigned("thread.arena");
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fputs("usage: mallopt_early ARENA_MAX PERTURB NARENAS BYTE ACTED\n", stderr);
        return 2;
    }
    unsigned narenas = (unsigned)atoi(argv[3]), byte = (unsigned)atoi(argv[4]);
    int acted = atoi(argv[5]);
    if (early_arena_max)
        EXPECT(early_ret[0] == acted, "early M_ARENA_MAX returned %d", early_ret[0]);
    if (early_perturb) EXPECT(early_ret[1] == acted, "early M_PERTURB returned %d", early_ret[1]);
    EXPECT(read_unsigned("arenas.narenas") == narenas, "%u arenas",
           read_unsigned("arenas.narenas"));
    EXPECT(read_unsigned("opt.perturb") == byte, "perturb byte %u", read_unsigned("opt.perturb"));

    if (byte) {
        unsigned char *p = malloc(1000), *z = calloc(1, 1000);
        EXPECT(p && z, "malloc");
        for (int i = 0; p && z && i < 1000; i++) {
            EXPECT(p[i] == (byte ^ 0xff), "malloc byte %d is 0x%02x", i, p[i]);
            EXPECT(z[i] == 0, "calloc byte %d is 0x%02x", i, z[i]);
            if (failures) break;
        }
        free(p);
        free(z);
    }
    EXPECT(mallopt(M_PERTURB, (int)byte) == 1, "after set-up, the byte in force");
    EXPECT(mallopt(M_PERTURB, (int)(byte ^ 1)) == 0, "after set-up, another byte");

    /* After set-up: the arenas exist; M_ARENA_MAX limits new threads. */
    free(malloc(100));
    int limited = mallopt(M_ARENA_MAX, 1);
    EXPECT(limited == acted, "M_ARENA_MAX after set-up returned %d", limited);
    enum { NT = 6 };
    pthread_t t[NT];
    unsigned arena[NT], spread = 0;
    for (int i = 0; i < NT; i++)
        EXPECT(pthread_create(&t[i], NULL, thread_arena, &arena[i]) == 0, "thread");
    for (int i = 0; i < NT; i++) {
        pthread_join(t[i], NULL);
        spread |= arena[i] != 0;
    }
    if (limited)
        EXPECT(!spread, "a thread started after M_ARENA_MAX 1 uses another arena than 0");
    else if (narenas > 1)
        EXPECT(spread, "threads all on arena 0 without a limit");

    static const int inert[] = {M_MXFAST, M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD,
                                M_MMAP_MAX, M_CHECK_ACTION, M_ARENA_TEST, 12345};
    for (unsigned i = 0; i < sizeof inert / sizeof inert[0]; i++)
        EXPECT(mallopt(inert[i], 1) == 0, "mallopt(%d) acted", inert[i]);
    EXPECT(mallopt(M_ARENA_MAX, 0) == 0, "M_ARENA_MAX 0");
    return failures != 0;
}
