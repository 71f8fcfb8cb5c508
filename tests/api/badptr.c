/* Pointers sable did not hand out: free and realloc abort with SIGABRT after
 * writing exactly one line, "sable: free(): invalid pointer 0x...", that names
 * the pointer. Each case runs in a child process whose stderr is captured. */
#include "api.h"

#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>

/* A hang (e.g. an allocator loop) fails the one test, not the whole binary. */
TestSuite(badptr, .timeout = 60);

/* The pointer a child is about to misuse, published before the misuse. */
static volatile uintptr_t *published;

/* Returns the pointer to pass to free() or realloc(); may allocate first.
 * `stack` is a buffer on the child's stack. */
typedef void *(*make_bad_fn)(char *stack);

enum action { DO_FREE, DO_REALLOC };

static void *stack_address(char *stack)
{
    return stack + 16;
}

static void *wild_address(char *stack)
{
    (void)stack;
    return (void *)(uintptr_t)0x12345678;
}

static void *interior_of_small_block(char *stack)
{
    (void)stack;
    char *p = M_MALLOC(64);
    return p + 16;
}

static void *interior_of_large_block(char *stack)
{
    (void)stack;
    char *p = M_MALLOC(100 * KiB);
    return p + 4096;
}

static void *interior_of_huge_block(char *stack)
{
    (void)stack;
    char *p = M_MALLOC(16 * MiB);
    return p + 8;
}

static void *foreign_mapping(char *stack)
{
    (void)stack;
    /* an address inside a region sable never mapped: a private mapping */
    char *p = mmap(NULL, 1 * MiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p + 4096;
}

struct outcome {
    int status;
    uintptr_t bad;
    char err[4096];
};

static void run_child(make_bad_fn make_bad, enum action action, struct outcome *out)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    published = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq((void *)published, MAP_FAILED);
    *published = 0;
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core);
        close(fds[0]);
        dup2(fds[1], STDERR_FILENO);
        close(fds[1]);
        char stack[256];
        memset(stack, 0, sizeof stack);
        void *bad = make_bad(stack);
        *published = (uintptr_t)bad;
        if (action == DO_FREE)
            M_FREE(bad);
        else
            (void)!M_REALLOC(bad, 200);
        _exit(0);
    }
    close(fds[1]);
    size_t len = 0;
    ssize_t n;
    while (len < sizeof out->err - 1 &&
           (n = read(fds[0], out->err + len, sizeof out->err - 1 - len)) > 0)
        len += (size_t)n;
    out->err[len] = '\0';
    close(fds[0]);
    cr_assert_eq(waitpid(pid, &out->status, 0), pid);
    out->bad = *published;
    munmap((void *)published, 4096);
}

#ifdef SABLE_TEST_EMULATED
/* Under user-mode emulation, qemu-user (7.2) reports a program that dies of
 * a signal with a line of its own on that process's stderr, "qemu: uncaught
 * target signal 6 (Aborted) - core dumped" (core file or not). It is not
 * sable's: a last line of that form is dropped. */
static void drop_emulator_line(char *err)
{
    static const char tag[] = "\nqemu: uncaught target signal ";
    char *at = strstr(err, tag);
    if (at != NULL && strchr(at + 1, '\n') == at + strlen(at) - 1)
        at[1] = '\0';
}
#endif

/* The child died of SIGABRT after writing one line that starts with prefix
 * followed by the misused pointer in hex. */
static void expect_one_line_abort(make_bad_fn make_bad, enum action action, const char *prefix)
{
    struct outcome out;
    run_child(make_bad, action, &out);
#ifdef SABLE_TEST_EMULATED
    drop_emulator_line(out.err);
#endif
    cr_assert_neq(out.bad, 0, "the child did not get as far as the misuse");
    cr_assert(WIFSIGNALED(out.status) && WTERMSIG(out.status) == SIGABRT,
        "%s of %#lx: child did not abort (status %#x), stderr: \"%s\"",
        action == DO_FREE ? "free" : "realloc", (unsigned long)out.bad, out.status, out.err);
    size_t len = strlen(out.err);
    cr_assert_gt(len, 0, "nothing on stderr");
    cr_assert_eq(out.err[len - 1], '\n', "message does not end with a newline: \"%s\"", out.err);
    cr_assert_eq(strchr(out.err, '\n'), out.err + len - 1, "more than one line: \"%s\"", out.err);
    size_t plen = strlen(prefix);
    cr_assert_eq(strncmp(out.err, prefix, plen), 0, "stderr \"%s\" does not start with \"%s\"",
        out.err, prefix);
    unsigned long named = strtoul(out.err + plen - 2, NULL, 16);
    cr_assert_eq(named, (unsigned long)out.bad, "message names %#lx, the pointer was %#lx",
        named, (unsigned long)out.bad);
}

#define FREE_PREFIX "sable: free(): invalid pointer 0x"
#define REALLOC_PREFIX "sable: realloc(): invalid pointer 0x"

Test(badptr, free_of_stack_address_aborts_with_one_line)
{
    expect_one_line_abort(stack_address, DO_FREE, FREE_PREFIX);
}

Test(badptr, free_of_wild_address_aborts_with_one_line)
{
    expect_one_line_abort(wild_address, DO_FREE, FREE_PREFIX);
}

Test(badptr, free_of_foreign_mapping_aborts_with_one_line)
{
    expect_one_line_abort(foreign_mapping, DO_FREE, FREE_PREFIX);
}

Test(badptr, free_of_interior_pointer_of_small_block_aborts_with_one_line)
{
    expect_one_line_abort(interior_of_small_block, DO_FREE, FREE_PREFIX);
}

Test(badptr, free_of_interior_pointer_of_large_block_aborts_with_one_line)
{
    expect_one_line_abort(interior_of_large_block, DO_FREE, FREE_PREFIX);
}

Test(badptr, free_of_interior_pointer_of_huge_block_aborts_with_one_line)
{
    expect_one_line_abort(interior_of_huge_block, DO_FREE, FREE_PREFIX);
}

Test(badptr, realloc_of_wild_pointer_aborts_with_one_line)
{
    expect_one_line_abort(wild_address, DO_REALLOC, REALLOC_PREFIX);
}

Test(badptr, realloc_of_stack_address_aborts_with_one_line)
{
    expect_one_line_abort(stack_address, DO_REALLOC, REALLOC_PREFIX);
}

Test(badptr, realloc_of_interior_pointer_aborts_with_one_line)
{
    expect_one_line_abort(interior_of_small_block, DO_REALLOC, REALLOC_PREFIX);
}
