/* The OS layer: machine facts, mappings and their hints, purge, failure
 * counts, formatting, environment. Criterion runs each test in a process of
 * its own; tests that need a second process, a resource limit or stderr
 * capture fork once more (run_captured). */
#include <criterion/criterion.h>
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "os/os.h"

/* Under qemu-user (the AArch64 run of make check) the emulator, not the
 * kernel, answers these: it places mappings itself (no hint is honoured),
 * does not apply RLIMIT_AS, and reports madvise and MAP_HUGETLB failures
 * differently. They run natively on every architecture. */
#ifdef SABLE_TEST_EMULATED
#define UNDER_EMULATION 1
#else
#define UNDER_EMULATION 0
#endif
#include "sable.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

#define MiB ((size_t)1 << 20)

/* Runs fn in a child whose stderr goes to `out` (NUL-terminated, truncated
 * to cap); returns fn's result (the child's exit status), or -1 if it died. */
static int run_captured(int (*fn)(void), char *out, size_t cap)
{
    int fds[2];
    cr_assert_eq(pipe(fds), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], 2);
        _exit(fn());
    }
    close(fds[1]);
    size_t n = 0;
    ssize_t r;
    while ((r = read(fds[0], out + n, cap - 1 - n)) > 0) n += (size_t)r;
    out[n] = '\0';
    close(fds[0]);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static unsigned count_lines(const char *s)
{
    unsigned n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

Test(os, page_size_matches_the_kernel)
{
    os_init();
    cr_assert_eq(os_page_size(), (size_t)sysconf(_SC_PAGESIZE));
}

Test(os, ncpus_is_at_least_one)
{
    cr_assert_geq(os_ncpus(), 1);
}

Test(os, ncpus_matches_the_affinity_mask)
{
    os_init();
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0) cr_skip_test("more than 1024 CPUs");
    cr_assert_eq(os_ncpus(), (unsigned)CPU_COUNT(&set));
}

/* A fake sched_getaffinity for os_count_cpus: a host of fake_cpus CPUs of
 * which every fake_gap-th is outside the mask (0: none), refusing masks too
 * small for them with EINVAL as the kernel does, or failing with
 * fake_errno when it is set. It records the largest mask asked for. */
static unsigned fake_cpus, fake_gap;
static int fake_errno;
static size_t fake_largest;

static int fake_affinity(size_t bytes, void *mask)
{
    if (bytes > fake_largest) fake_largest = bytes;
    if (fake_errno || bytes * 8 < fake_cpus) {
        errno = fake_errno ? fake_errno : EINVAL;
        return -1;
    }
    memset(mask, 0, bytes);
    for (unsigned c = 0; c < fake_cpus; c++)
        if (fake_gap == 0 || c % fake_gap != 0) CPU_SET_S(c, bytes, (cpu_set_t *)mask);
    return 0;
}

Test(os, ncpus_counts_the_affinity_mask)
{
    fake_cpus = 64, fake_gap = 4;
    cr_assert_eq(os_count_cpus(fake_affinity, NULL), 48);
    cr_assert_eq(fake_largest, 128, "one mask of 1024 CPUs was enough");
}

Test(os, ncpus_grows_the_mask_for_more_than_1024_cpus)
{
    fake_cpus = 3000, fake_gap = 0;
    errno = 1234;
    cr_assert_eq(os_count_cpus(fake_affinity, "0-1"), 3000);
    cr_assert_eq(errno, 1234, "errno is preserved");
    cr_assert_eq(fake_largest, 512, "4096 CPUs' mask: the first size that holds 3000");
    fake_cpus = 40000, fake_largest = 0;
    cr_assert_eq(os_count_cpus(fake_affinity, "0-1"), 40000);
    cr_assert_eq(fake_largest, 65536 / 8);
}

Test(os, ncpus_falls_back_to_the_online_list)
{
    fake_cpus = OS_CPU_MAX + 1, fake_gap = 0;
    cr_assert_eq(os_count_cpus(fake_affinity, "0-3,8-11,16"), 9, "no mask is large enough");
    cr_assert_eq(fake_largest, OS_CPU_MAX / 8);
    fake_cpus = 8, fake_errno = EPERM;
    cr_assert_eq(os_count_cpus(fake_affinity, "0-5"), 6, "the call is refused");
    fake_errno = 0, fake_gap = 1;
    cr_assert_eq(os_count_cpus(fake_affinity, "0-2"), 3, "an empty mask");
}

Test(os, ncpus_is_one_when_nothing_answers)
{
    fake_cpus = 8, fake_errno = ENOSYS;
    cr_assert_eq(os_count_cpus(fake_affinity, ""), 1);
    cr_assert_eq(os_count_cpus(fake_affinity, "garbage"), 1);
}

Test(os, ncpus_without_injection_is_the_real_count)
{
    os_init();
    cr_assert_eq(os_count_cpus(NULL, NULL), os_ncpus());
}

Test(os, thread_ids_and_exited_threads)
{
    cr_assert_eq(os_process_id(), getpid());
    cr_assert_eq(os_thread_id(), gettid(), "the main thread");
    cr_assert(!os_thread_gone(getpid(), gettid()), "this thread is alive");
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) _exit(0);
    cr_assert_eq(waitpid(pid, NULL, 0), pid);
    cr_assert(os_thread_gone(pid, pid), "a reaped child is gone");
}

Test(os, huge_page_size_is_a_power_of_two_above_the_page_size)
{
    os_init();
    size_t hp = os_huge_page_size(), ps = os_page_size();
    cr_assert_eq(hp & (hp - 1), 0, "%zu", hp);
    cr_assert_gt(hp, ps);
    FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size", "r");
    unsigned long long v = 0;
    if (f && fscanf(f, "%llu", &v) == 1)
        cr_assert_eq(hp, (size_t)v, "the kernel's PMD size");
    else
        cr_assert_eq(hp, ps * ps / 8, "derived from the page size");
    if (f) fclose(f);
}

Test(os, address_width_is_the_architectures)
{
    cr_assert(os_init());
    unsigned bits = os_addr_bits();
#if defined(__x86_64__) || defined(__aarch64__)
    cr_assert(bits == 47 || bits == 48, "%u bits", bits);
#endif
    cr_assert_leq(bits, OS_ADDR_BITS_MAX);
    int local;
    cr_assert_lt((uintptr_t)&local >> bits, 1, "the stack lies inside the width");
}

/* A kernel wider than the page map: one line at start, then every mapping
 * fails and malloc answers NULL/ENOMEM instead of crashing. */
static int unsupported_width_child(void)
{
    if (!os_init()) return 1;
    unsigned bits = os_addr_bits();
    if (os_set_addr_bits(57)) return 2;
    if (os_map_aligned(os_page_size(), os_page_size()) != NULL) return 3;
    if (os_map_aligned(4 * MiB, 4 * MiB) != NULL) return 4;
    errno = 0;
    if (sable_malloc(16) != NULL || errno != ENOMEM) return 5;
    if (sable_malloc(10 * MiB) != NULL || errno != ENOMEM) return 6;
    errno = EDOM;
    sable_free(NULL);
    if (errno != EDOM) return 7;
    if (!os_set_addr_bits(bits)) return 8;
    void *p = os_map_aligned(4 * MiB, 4 * MiB);
    if (p == NULL) return 9;
    os_unmap(p, 4 * MiB);
    return 0;
}

Test(os, an_address_width_beyond_the_map_is_refused_at_start)
{
    char out[1024];
    cr_assert_eq(run_captured(unsupported_width_child, out, sizeof out), 0);
    cr_assert_eq(count_lines(out), 1, "one line: %s", out);
    cr_assert(strstr(out, "57-bit") != NULL, "%s", out);
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

/* ---- hints ---- */

Test(os, the_hint_region_needs_46_bits)
{
    cr_assert_eq(os_hint_end(47), (uintptr_t)1 << 46);
    cr_assert_eq(os_hint_end(48), (uintptr_t)1 << 46);
    cr_assert_eq(os_hint_end(46), (uintptr_t)1 << 45);
    cr_assert_eq(os_hint_end(45), 0, "too narrow: no hints");
    cr_assert_eq(os_hint_end(39), 0);
    cr_assert_gt(os_hint_end(46), os_hint_start(~0ull) + ((size_t)1 << 30),
                 "every start leaves room");
}

Test(os, hint_starts_are_random_and_aligned)
{
    enum { N = 4096 };
    static uintptr_t seen[N];
    uintptr_t lim = OS_HINT_BASE + ((uintptr_t)1 << OS_HINT_RANDOM_BITS) * OS_HINT_STEP;
    unsigned distinct = 0;
    for (unsigned i = 0; i < N; i++) {
        uintptr_t h = os_hint_start(i);
        cr_assert_geq(h, OS_HINT_BASE);
        cr_assert_lt(h, lim);
        cr_assert_eq(h % OS_HINT_STEP, 0);
        bool dup = false;
        for (unsigned k = 0; k < distinct && !dup; k++) dup = seen[k] == h;
        if (!dup) seen[distinct++] = h;
    }
    /* Consecutive seeds (pids, clocks) must not give neighbouring starts:
     * 4096 draws from 2^20 slots collide about 8 times. */
    cr_assert_geq(distinct, N - 32);
    cr_assert_neq(os_hint_start(1), os_hint_start(2), "two processes, two starts");
}

Test(os, hints_advance_and_wrap_to_the_base)
{
    uintptr_t end = os_hint_end(47), next = 0;
    size_t chunk = 4 * MiB;
    uintptr_t h = os_hint_place(OS_HINT_BASE + 12345, chunk, chunk, end, &next);
    cr_assert_eq(h, OS_HINT_BASE + chunk, "rounded up to the alignment");
    cr_assert_eq(next, h + chunk);
    cr_assert_eq(os_hint_place(next, chunk, chunk, end, &next), h + chunk, "contiguous");

    /* Near the end: wraps to the base instead of stopping. */
    h = os_hint_place(end - MiB, chunk, chunk, end, &next);
    cr_assert_eq(h, OS_HINT_BASE);
    cr_assert_eq(next, OS_HINT_BASE + chunk);
    cr_assert_eq(os_hint_place(end - chunk, chunk, chunk, end, &next), end - chunk, "fits exactly");
    cr_assert_eq(next, end);
    cr_assert_eq(os_hint_place(next, chunk, chunk, end, &next), OS_HINT_BASE);

    /* A large alignment wraps to the base rounded up. */
    size_t big = (size_t)1 << 40;
    h = os_hint_place(end - chunk, chunk, big, end, &next);
    cr_assert_eq(h % big, 0);
    cr_assert_geq(h, OS_HINT_BASE);
    cr_assert_lt(h, end);

    /* An uninitialised cursor, or one below the base, starts at the base. */
    cr_assert_eq(os_hint_place(0, chunk, chunk, end, &next), OS_HINT_BASE);
    cr_assert_eq(os_hint_place(~(uintptr_t)0 - 10, chunk, chunk, end, &next), OS_HINT_BASE,
                 "rounding past 2^64 wraps too");
    /* Nothing fits: no hint. */
    next = 7;
    cr_assert_eq(os_hint_place(OS_HINT_BASE, end, chunk, end, &next), 0);
    cr_assert_eq(next, 7);
    cr_assert_eq(os_hint_place(OS_HINT_BASE, chunk, chunk, 0, &next), 0, "no region");
}

Test(os, a_long_walk_stays_aligned_inside_the_region_and_wraps)
{
    uintptr_t end = os_hint_end(48), cur = os_hint_start(42), next;
    uint64_t rng = 88172645463325252ull;
    unsigned wraps = 0;
    for (unsigned i = 0; i < 200000; i++) {
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        size_t align = (size_t)4 << 20 << (rng % 4);
        size_t size = (size_t)(1 + (rng >> 8) % 256) * (4 * MiB);
        uintptr_t h = os_hint_place(cur, size, align, end, &next);
        cr_assert_neq(h, 0);
        cr_assert_eq(h % align, 0);
        cr_assert_geq(h, OS_HINT_BASE);
        cr_assert_leq(h + size, end);
        wraps += h < cur;
        cur = next;
    }
    cr_assert_geq(wraps, 1, "about 100 TiB of mappings wrap the 62 TiB region");
}

/* A freshly started process's first aligned mapping, from hint_probe (see
 * meson.build); *misses gets its hint misses. */
static uintptr_t first_mapping_of_a_new_process(unsigned long *misses)
{
    const char *probe = getenv("SABLE_HINT_PROBE");
    if (probe == NULL) cr_skip_test("SABLE_HINT_PROBE is not set (run through meson test)");
    FILE *f = popen(probe, "r");
    cr_assert_not_null(f);
    unsigned long a = 0;
    cr_assert_eq(fscanf(f, "%lx %lx", &a, misses), 2);
    cr_assert_eq(pclose(f), 0);
    return (uintptr_t)a;
}

Test(os, aligned_mappings_land_at_the_hint_in_one_call, .disabled = UNDER_EMULATION)
{
    unsigned long miss_a, miss_b;
    uintptr_t a = first_mapping_of_a_new_process(&miss_a);
    uintptr_t b = first_mapping_of_a_new_process(&miss_b);
    cr_assert_eq(a % (4 * MiB), 0);
    cr_assert_eq(b % (4 * MiB), 0);
    os_init();
    /* ASan's shadow memory covers the hint region on x86_64. */
    if (UNDER_ASAN || os_hint_end(os_addr_bits()) == 0) return;
    uintptr_t lim = OS_HINT_BASE + ((uintptr_t)1 << OS_HINT_RANDOM_BITS) * OS_HINT_STEP;
    cr_assert(a >= OS_HINT_BASE && a < lim, "%p", (void *)a);
    cr_assert(b >= OS_HINT_BASE && b < lim, "%p", (void *)b);
    cr_assert_eq(miss_a + miss_b, 0, "one mmap each");
    cr_assert_neq(a, b, "two processes start at different places: %p %p", (void *)a, (void *)b);
    /* Here too (this process's cursor was set when the allocator started). */
    uint64_t misses = os_error_count(OS_ERR_HINT_MISS);
    void *p = os_map_aligned(4 * MiB, 4 * MiB);
    cr_assert_not_null(p);
    cr_assert_eq(os_error_count(OS_ERR_HINT_MISS), misses);
    os_unmap(p, 4 * MiB);
}

/* ---- failures, counted ---- */

Test(os, error_kinds_have_names)
{
    const char *want[] = {"map", "unmap", "purge", "advise", "guard",
                          "resident", "move", "hugetlb", "hint_miss", "bind"};
    cr_assert_eq(OS_ERR_NKINDS, sizeof want / sizeof want[0]);
    for (unsigned k = 0; k < OS_ERR_NKINDS; k++) {
        cr_assert_str_eq(os_error_name((enum os_error_kind)k), want[k]);
        cr_assert_eq(os_error_count((enum os_error_kind)k), 0, "nothing failed yet");
        cr_assert_eq(os_last_error((enum os_error_kind)k), 0);
    }
    cr_assert_null(os_error_name(OS_ERR_NKINDS));
    cr_assert_eq(os_error_count(OS_ERR_NKINDS), 0);
    cr_assert_eq(os_last_error((enum os_error_kind)-1), 0);
}

Test(os, a_failed_purge_is_counted_and_errno_kept, .disabled = UNDER_EMULATION)
{
    os_init();
    size_t ps = os_page_size();
    char *p = os_map_aligned(4 * ps, ps);
    cr_assert_not_null(p);
    errno = EDOM;
    cr_assert_not(os_purge(p + 1, ps), "unaligned");
    cr_assert_eq(errno, EDOM);
    cr_assert_eq(os_error_count(OS_ERR_PURGE), 1);
    cr_assert_eq(os_last_error(OS_ERR_PURGE), EINVAL);
    os_unmap(p, 4 * ps);
    cr_assert_not(os_purge(p, ps), "unmapped");
    cr_assert_eq(errno, EDOM);
    cr_assert_eq(os_error_count(OS_ERR_PURGE), 2);
    cr_assert_eq(os_last_error(OS_ERR_PURGE), ENOMEM);
    cr_assert_eq(os_error_count(OS_ERR_MAP), 0, "other kinds untouched");
}

Test(os, failed_guard_unmap_and_mincore_are_counted)
{
    os_init();
    size_t ps = os_page_size();
    char *p = os_map_aligned(2 * ps, ps);
    cr_assert_not_null(p);
    errno = EDOM;
    cr_assert_not(os_guard(p + 1, ps));
    cr_assert_eq(os_error_count(OS_ERR_GUARD), 1);
    cr_assert_eq(os_last_error(OS_ERR_GUARD), EINVAL);
    /* mincore of an unaligned address while the range is mapped (once it
     * is unmapped, qemu's user mode answers ENOMEM, which is no failure) */
    cr_assert_eq(os_resident(p + 1, ps), 0, "unaligned");
    cr_assert_eq(os_error_count(OS_ERR_RESIDENT), 1);
    cr_assert_eq(os_last_error(OS_ERR_RESIDENT), EINVAL);
    os_unmap(p + 1, ps);
    cr_assert_eq(os_error_count(OS_ERR_UNMAP), 1);
    os_unmap(p, 2 * ps);
    cr_assert_eq(os_error_count(OS_ERR_UNMAP), 1, "a good unmap is not counted");
    cr_assert_eq(errno, EDOM);
}

/* Statistics measure ranges after dropping the lock that kept them mapped:
 * a range unmapped meanwhile is not resident, and not a failure (no count,
 * no warning); the pages of it still mapped are counted. */
static int unmapped_resident_child(void)
{
    os_init();
    size_t ps = os_page_size();
    char *p = os_map_aligned(4 * ps, ps);
    if (p == NULL) return 1;
    memset(p, 1, 4 * ps);
    os_unmap(p + ps, ps);
    if (os_resident(p, 4 * ps) != 3 * ps) return 2;
    os_unmap(p, 4 * ps);
    if (os_resident(p, 4 * ps) != 0) return 3;
    return os_error_count(OS_ERR_RESIDENT) == 0 ? 0 : 4;
}

Test(os, an_unmapped_range_is_not_resident_and_not_a_failure)
{
    char out[1024];
    cr_assert_eq(run_captured(unmapped_resident_child, out, sizeof out), 0);
    cr_assert_str_empty(out);
}

static int two_purge_failures_child(void)
{
    os_init();
    size_t ps = os_page_size();
    char *p = os_map_aligned(2 * ps, ps);
    if (p == NULL) return 1;
    if (os_purge(p + 1, ps) || os_purge(p + 2, ps)) return 2;
    return os_error_count(OS_ERR_PURGE) == 2 ? 0 : 3;
}

Test(os, each_kind_warns_once)
{
    char out[1024];
    cr_assert_eq(run_captured(two_purge_failures_child, out, sizeof out), 0);
    cr_assert_eq(count_lines(out), 1, "%s", out);
    cr_assert(strstr(out, "madvise(") && strstr(out, "MADV_DONTNEED") && strstr(out, "EINVAL"),
              "%s", out);
}

/* Under a small RLIMIT_AS mmap says ENOMEM: the normal out-of-memory
 * answer, counted but silent, with errno untouched. */
static int rlimit_child(void)
{
    os_init();
    unsigned long long vsz_pages = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f == NULL || fscanf(f, "%llu", &vsz_pages) != 1) return 1;
    fclose(f);
    rlim_t lim = (rlim_t)vsz_pages * os_page_size() + 64 * MiB;
    struct rlimit rl = {.rlim_cur = lim, .rlim_max = lim};
    if (setrlimit(RLIMIT_AS, &rl) != 0) return 2;
    errno = EDOM;
    if (os_map_aligned(256 * MiB, 4 * MiB) != NULL) return 3;
    if (os_error_count(OS_ERR_MAP) != 1) return 4;
    if (os_map_aligned(256 * MiB, os_page_size()) != NULL) return 5;
    if (os_error_count(OS_ERR_MAP) != 2) return 6;
    if (os_last_error(OS_ERR_MAP) != ENOMEM) return 7;
    if (errno != EDOM) return 8;
    return 0;
}

Test(os, mmap_refused_by_rlimit_is_counted_silently, .disabled = UNDER_EMULATION)
{
    char out[1024];
    cr_assert_eq(run_captured(rlimit_child, out, sizeof out), 0);
    cr_assert_str_empty(out);
}

static int hugetlb_child(void)
{
    os_init();
    size_t hp = os_huge_page_size();
    errno = EDOM;
    if (os_map_aligned_hugetlb(hp / 2, hp) != NULL) return 1;
    if (os_error_count(OS_ERR_HUGETLB) != 1 || os_last_error(OS_ERR_HUGETLB) != EINVAL) return 2;
    void *p = os_map_aligned_hugetlb(hp, hp);
    if (p != NULL) {
        /* The pool has pages: the mapping is hp-aligned and usable. */
        if ((uintptr_t)p % hp) return 3;
        ((char *)p)[0] = 1;
        os_unmap(p, hp);
        return errno == EDOM ? 100 : 4;
    }
    if (os_error_count(OS_ERR_HUGETLB) != 2) return 5;
    if (os_last_error(OS_ERR_HUGETLB) != ENOMEM) return 6;
    return errno == EDOM ? 0 : 7;
}

Test(os, hugetlb_with_an_empty_pool_is_counted_silently, .disabled = UNDER_EMULATION)
{
    char out[1024];
    int rc = run_captured(hugetlb_child, out, sizeof out);
    cr_assert(rc == 0 || rc == 100, "child check %d", rc);
    /* One line for the size that is not a multiple of the huge page. */
    cr_assert_eq(count_lines(out), 1, "%s", out);
    cr_assert(strstr(out, "MAP_HUGETLB") != NULL, "%s", out);
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

Test(os, move_hands_the_pages_over_and_leaves_zeroes_behind)
{
    os_init();
    size_t ps = os_page_size();
    unsigned char *from = os_map_aligned(8 * ps, ps), *to = os_map_aligned(8 * ps, ps);
    cr_assert(from && to);
    for (size_t i = 0; i < 8 * ps; i++) from[i] = (unsigned char)(i * 7);
    memset(to, 0xee, 8 * ps);
    if (!os_move(to, from, 8 * ps)) {
        /* Kernels before 5.7 have no MREMAP_DONTUNMAP: the target must
         * then be whole, fresh memory. */
        cr_assert_eq(os_error_count(OS_ERR_MOVE), 1);
        for (size_t i = 0; i < 8 * ps; i += ps) cr_assert_eq(to[i], 0);
        cr_assert_eq(from[ps], (unsigned char)(ps * 7), "the source is unchanged");
    } else {
        for (size_t i = 0; i < 8 * ps; i++) cr_assert_eq(to[i], (unsigned char)(i * 7));
        for (size_t i = 0; i < 8 * ps; i++) cr_assert_eq(from[i], 0, "the source reads as zeroes");
        from[3] = 1; /* and stays mapped */
    }
    os_unmap(from, 8 * ps);
    os_unmap(to, 8 * ps);
}

Test(os, a_move_from_unmapped_memory_is_a_plain_no)
{
    os_init();
    size_t ps = os_page_size();
    unsigned char *from = os_map_aligned(4 * ps, ps), *to = os_map_aligned(4 * ps, ps);
    cr_assert(from && to);
    os_unmap(from, 4 * ps); /* nothing to move: EFAULT */
    to[0] = 5;
    uint64_t errors = os_error_count(OS_ERR_MOVE);
    cr_assert_not(os_move(to, from, 4 * ps));
    cr_assert_eq(os_error_count(OS_ERR_MOVE), errors, "EFAULT is not counted");
    to[4 * ps - 1] = 1; /* the target is mapped and writable */
    cr_assert(to[0] == 0 || to[0] == 5, "the target is mapped memory");
    /* Moves are still tried after a plain no. */
    unsigned char *src = os_map_aligned(ps, ps);
    cr_assert_not_null(src);
    src[0] = 3;
    if (os_move(to, src, ps)) cr_assert_eq(to[0], 3);
    os_unmap(src, ps);
    os_unmap(to, 4 * ps);
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
