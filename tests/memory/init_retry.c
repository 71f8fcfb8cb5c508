/* A failed first initialisation is tried again. sable sets itself up in a
 * constructor, before main, so the limit has to be in place before the
 * program starts: the parent runs this program again (execve of
 * /proc/self/exe) under RLIMIT_AS limits around its own address space at
 * start, from 3 MiB below it to 6 MiB above it in 256 KiB steps. Each
 * child, from main on, calls sable only and reports by exit status:
 *   - INIT_RETRIED: set-up had failed (sable_mallctl answers EAGAIN) and
 *     malloc returned NULL with ENOMEM; after the limit was raised the same
 *     calls worked: set-up was tried again;
 *   - ALLOC_RETRIED: set-up worked but the first allocation failed (NULL,
 *     ENOMEM), and worked after the limit was raised;
 *   - FIRST_OK: everything worked under the limit;
 * and in each case 16 B to 64 MiB blocks were then allocated, written and
 * freed. Any other status fails the test, and so does a child that died
 * before main (the loader ran out of address space) at a limit above one
 * where a child reached main. At least one child must have seen set-up fail
 * and recover. */
#include <errno.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)

enum { INIT_RETRIED = 10, ALLOC_RETRIED, FIRST_OK, STILL_FAILING, BAD_ERRNO, BAD_BLOCK, NO_LIMIT };

/* Blocks of every route: small, large, huge. */
static const size_t sizes[] = {16, 100, 4000, 20000, 300 * KiB, 3 * MiB, 64 * MiB};
#define NSIZES (sizeof sizes / sizeof sizes[0])

static bool alloc_all_and_free(void)
{
    void *p[NSIZES];
    for (unsigned i = 0; i < NSIZES; i++) {
        p[i] = sable_malloc(sizes[i]);
        if (p[i] == NULL) return false;
        memset(p[i], (int)i + 1, sizes[i]);
    }
    for (unsigned i = 0; i < NSIZES; i++) {
        const unsigned char *c = p[i];
        if (c[0] != i + 1 || c[sizes[i] - 1] != i + 1) return false;
        sable_free(p[i]);
    }
    return true;
}

/* From main on, only sable and system calls: under the limit stdio may fail. */
static int child(void)
{
    unsigned narenas = 0;
    size_t len = sizeof narenas;
    bool init_failed = sable_mallctl("arenas.narenas", &narenas, &len, NULL, 0) == EAGAIN;
    errno = 0;
    void *first = sable_malloc(64);
    bool alloc_failed = first == NULL;
    if (alloc_failed && errno != ENOMEM) return BAD_ERRNO;
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return NO_LIMIT;
    rl.rlim_cur = RLIM_INFINITY;
    if (setrlimit(RLIMIT_AS, &rl) != 0) return NO_LIMIT;
    len = sizeof narenas;
    if (sable_mallctl("arenas.narenas", &narenas, &len, NULL, 0) != 0 || narenas == 0)
        return STILL_FAILING;
    if (first == NULL && (first = sable_malloc(64)) == NULL) return STILL_FAILING;
    sable_free(first);
    if (!alloc_all_and_free()) return BAD_BLOCK;
    return init_failed ? INIT_RETRIED : alloc_failed ? ALLOC_RETRIED : FIRST_OK;
}

/* Runs this program as a child under RLIMIT_AS = limit (the hard limit
 * stays unlimited, so the child can raise it); its exit status, or -1 if it
 * did not exit (killed, or the exec failed). */
static int run_limited(size_t limit)
{
    pid_t pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
        struct rlimit rl = {.rlim_cur = limit, .rlim_max = RLIM_INFINITY};
        if (setrlimit(RLIMIT_AS, &rl) != 0) _exit(NO_LIMIT);
        char *argv[] = {"memory-init-retry", "child", NULL};
        execv("/proc/self/exe", argv);
        _exit(127);
    }
    int status;
    CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
    if (!WIFEXITED(status) || WEXITSTATUS(status) == 127) return -1;
    return WEXITSTATUS(status);
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "child") == 0) return child();
    size_t base = (size_t)vm_size_kib() * KiB;
    CHECK(base > 0, "VmSize");
    unsigned counts[NO_LIMIT + 1] = {0};
    bool reached_main = false;
    for (size_t limit = base - 3 * MiB; limit <= base + 6 * MiB; limit += 256 * KiB) {
        int r = run_limited(limit);
        printf("limit %zu KiB (%+ld KiB): %s\n", limit / KiB, ((long)limit - (long)base) / 1024,
               r == INIT_RETRIED    ? "set-up failed, tried again: ok"
               : r == ALLOC_RETRIED ? "first allocation failed, tried again: ok"
               : r == FIRST_OK      ? "no failure"
               : r < 0              ? "did not reach main"
                                    : "FAILED");
        if (r < 0) {
            CHECK(!reached_main, "a child died under %zu KiB, above a limit where one reached main",
                  limit / KiB);
            continue;
        }
        reached_main = true;
        CHECK(r >= INIT_RETRIED && r <= FIRST_OK, "child exit status %d under %zu KiB", r,
              limit / KiB);
        counts[r]++;
    }
    CHECK(counts[INIT_RETRIED] > 0, "no limit made set-up fail (and recover)");
    CHECK(counts[FIRST_OK] > 0, "no limit was large enough for everything");
    return 0;
}
