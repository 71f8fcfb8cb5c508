/* Cross builds only: lets criterion's test workers start under user-mode
 * emulation.
 *
 * Criterion runs each test in a worker process that its sandbox library
 * (BoxFort) starts with fork() and an execve() of the test program itself.
 * Under qemu-user, without a binfmt_misc handler (which takes root and
 * changes the whole machine), the host kernel cannot run the target's ELF
 * file and that execve() fails with ENOEXEC.
 *
 * This execve(), linked into the criterion tests of cross builds that have
 * an exe wrapper (tests/meson.build), is found before the C library's. When
 * the program to run is an ELF file for the same machine as this process and
 * meson test has named the wrapper (MESON_EXE_WRAPPER, e.g.
 * "/usr/bin/qemu-aarch64 -L /usr/aarch64-linux-gnu"), the program is run as
 *
 *     <wrapper words...> -0 <argv[0]> <path> <argv[1]...>
 *
 * ("-0" is qemu-user's option for the program's argv[0]). The pid, the
 * environment and the open file descriptors are those of a direct execve(),
 * which is what the worker relies on. Anything else (shell scripts, host
 * programs) goes to the kernel unchanged.
 *
 * It only runs in a child between fork() and exec, so it allocates nothing.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

enum { MAX_WRAPPER_WORDS = 16, MAX_ARGS = 256, MAX_WRAPPER_CHARS = 1024 };

static int raw_execve(const char *path, char *const argv[], char *const envp[])
{
    return (int)syscall(SYS_execve, path, argv, envp);
}

/* The e_machine of an ELF file, or -1 if it is not one. e_ident, e_type and
 * e_machine sit at the same offsets in 32- and 64-bit headers. */
static int elf_machine(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    Elf64_Ehdr h;
    ssize_t n = read(fd, &h, sizeof h);
    close(fd);
    if (n < (ssize_t)(EI_NIDENT + 2 * sizeof(Elf64_Half)) ||
        memcmp(h.e_ident, ELFMAG, SELFMAG) != 0)
        return -1;
    return h.e_machine;
}

static void complain(const char *what)
{
    static const char pre[] = "tests/cross/reexec: ";
    ssize_t unused = write(STDERR_FILENO, pre, sizeof pre - 1);
    unused = write(STDERR_FILENO, what, strlen(what));
    unused = write(STDERR_FILENO, "\n", 1);
    (void)unused;
}

/* execvp's search, into out[PATH_MAX]. */
static int find_in_path(const char *name, char *out)
{
    const char *dirs = getenv("PATH");
    if (dirs == NULL)
        return 0;
    while (*dirs != '\0') {
        size_t dlen = strcspn(dirs, ":");
        size_t nlen = strlen(name);
        if (dlen + 1 + nlen < PATH_MAX) {
            memcpy(out, dlen > 0 ? dirs : ".", dlen > 0 ? dlen : 1);
            size_t at = dlen > 0 ? dlen : 1;
            out[at] = '/';
            memcpy(out + at + 1, name, nlen + 1);
            if (access(out, X_OK) == 0)
                return 1;
        }
        dirs += dlen;
        if (*dirs == ':')
            dirs++;
    }
    return 0;
}

int execve(const char *path, char *const argv[], char *const envp[])
{
    const char *wrapper = getenv("MESON_EXE_WRAPPER");
    if (wrapper == NULL || *wrapper == '\0')
        return raw_execve(path, argv, envp);
    int machine = elf_machine(path);
    if (machine < 0 || machine != elf_machine("/proc/self/exe"))
        return raw_execve(path, argv, envp);

    /* meson joins the wrapper's words with spaces and quotes only words that
     * need it; such words are not supported here. */
    char words[MAX_WRAPPER_CHARS];
    size_t len = strlen(wrapper);
    if (len >= sizeof words || strpbrk(wrapper, "'\"\\") != NULL) {
        complain("MESON_EXE_WRAPPER is too long or quoted");
        errno = ENOEXEC;
        return -1;
    }
    memcpy(words, wrapper, len + 1);

    char *args[MAX_WRAPPER_WORDS + 3 + MAX_ARGS + 1];
    size_t n = 0;
    char *save = NULL;
    for (char *w = strtok_r(words, " ", &save); w != NULL; w = strtok_r(NULL, " ", &save)) {
        if (n == MAX_WRAPPER_WORDS) {
            complain("MESON_EXE_WRAPPER has too many words");
            errno = E2BIG;
            return -1;
        }
        args[n++] = w;
    }
    char found[PATH_MAX];
    if (n == 0 || (strchr(args[0], '/') == NULL && !find_in_path(args[0], found))) {
        complain("MESON_EXE_WRAPPER names no program found in PATH");
        errno = ENOEXEC;
        return -1;
    }
    if (strchr(args[0], '/') == NULL)
        args[0] = found;
    args[n++] = "-0";
    args[n++] = argv[0] != NULL ? argv[0] : (char *)path;
    args[n++] = (char *)path;
    if (argv[0] != NULL) {
        for (size_t i = 1; argv[i] != NULL; i++) {
            if (i > MAX_ARGS) {
                complain("too many arguments");
                errno = E2BIG;
                return -1;
            }
            args[n++] = argv[i];
        }
    }
    args[n] = NULL;
    return raw_execve(args[0], args, envp);
}
