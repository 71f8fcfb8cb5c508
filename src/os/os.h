/* src/os/os.h — every system call sable makes, and nothing else.
 *
 * Owns: address-space reservation (naturally aligned, at randomised hints),
 * commit/purge, unmap, the facts of the machine (page size, huge page size,
 * user address width, CPU count), the monotonic clock, raw writes to stderr,
 * the one fatal-error path, reading the environment without libc's getenv,
 * and the count of every failed system call by kind.
 *
 * Invariants: nothing here allocates from the heap or uses stdio (sable may
 * be inside malloc); failures come back as NULL or false, never as a crash;
 * every function leaves the caller's errno as it found it (the public layer
 * decides errno, and free must never change it); the reason for a failure is
 * kept in the error counters below instead.
 *
 * Locking: none. os_init runs once, before other threads use the allocator
 * (sable calls it under its init lock); after it the machine facts are
 * read-only, and the hint cursor and error counters are atomics.
 */
#ifndef SABLE_OS_H
#define SABLE_OS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SABLE_HIDDEN __attribute__((visibility("hidden")))
#define SABLE_NOINLINE __attribute__((noinline))
#define SABLE_COLD __attribute__((cold))
#define SABLE_INLINE static inline __attribute__((always_inline))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* The widest user address the page map can describe (48 bits): x86_64
 * hands out 47-bit user addresses, AArch64 48-bit ones by default. Wider
 * kernels (x86 5-level paging, AArch64 52-bit VA) return addresses above the
 * 47/48-bit default window only for mmap hints above it, which sable never
 * passes, so 48 bits cover every address sable can be given. */
#define OS_ADDR_BITS_MAX 48

/* Reads the facts of the machine once: page size (sysconf), huge page size,
 * user address width, CPU count, and the process's random hint start. Later
 * calls return at once. os_init must run before any other os_ function that
 * maps memory. Returns false, after one os_warn line, when the kernel's
 * address width exceeds OS_ADDR_BITS_MAX: every os_map_* then returns NULL,
 * so the allocator answers NULL/ENOMEM instead of handing out pointers its
 * page map cannot hold. */
bool os_init(void);

/* The system page size (4 KiB, 16 KiB and 64 KiB kernels all exist). */
size_t os_page_size(void);
/* n rounded up to a multiple of the page size; less than n (0) when that
 * overflows, which callers test. */
static inline size_t os_page_round(size_t n)
{
    size_t ps = os_page_size();
    return (n + ps - 1) & ~(ps - 1);
}

/* The transparent huge page (PMD) size: the kernel's
 * transparent_hugepage/hpage_pmd_size, else what the page size implies
 * (page_size * page_size / 8: 2 MiB for 4 KiB pages, 32 MiB for 16 KiB,
 * 512 MiB for 64 KiB). A power of two, larger than the page size. */
size_t os_huge_page_size(void);

/* Bits of a user address the kernel may hand out without a high hint: the
 * architecture's default window (x86_64 47, AArch64 48), widened if the main
 * thread's stack (/proc/self/maps, else this thread's stack), which the
 * kernel puts at the top of that window, lies higher; on other
 * architectures the stack alone tells. 47 or 48 on x86_64 and AArch64. */
unsigned os_addr_bits(void);

/* For tests: applies the start-up width check as if the kernel handed out
 * `bits`-bit addresses (warns and refuses mappings above OS_ADDR_BITS_MAX,
 * re-enables them otherwise). Returns what os_init would have returned. */
bool os_set_addr_bits(unsigned bits);

/* Number of CPUs this process may run on (sched_getaffinity, with masks of
 * up to OS_CPU_MAX CPUs), at least 1. Counted once, at os_init. */
unsigned os_ncpus(void);

/* The count behind os_ncpus, with its inputs injectable for tests.
 * `affinity` is called as sched_getaffinity(0, bytes, mask) is (0, or -1
 * with errno; NULL: the real call), first with a mask of 1024 CPUs and, as
 * long as it answers EINVAL (a mask smaller than the kernel's CPU count),
 * with masks twice as large up to OS_CPU_MAX, taken from a mapping (never
 * from malloc: CPU_ALLOC would re-enter the allocator). If no mask is
 * accepted, or the mask is empty, the CPUs of `online` count, a list like
 * "0-3,8-11" (NULL: sysfs's /sys/devices/system/cpu/online). At least 1.
 * Allocates nothing and takes no lock; errno is preserved. */
#define OS_CPU_MAX 65536
typedef int (*os_affinity_fn)(size_t bytes, void *mask);
unsigned os_count_cpus(os_affinity_fn affinity, const char *online);

/* The calling thread's kernel id and the process id (system calls: for the
 * rare paths that record who owns a thread cache), and whether thread `tid`
 * of process `pid` has exited (tgkill with signal 0 answers ESRCH; any
 * other answer, a live thread or a refusal, is "not gone"). */
int os_thread_id(void);
int os_process_id(void);
bool os_thread_gone(int pid, int tid);

/* A memory barrier on every thread of the process that runs now (the
 * others pass one when they are next scheduled), by membarrier(2)'s
 * private expedited command, registered on first use. Afterwards every
 * load a thread of the process makes sees every store the caller made
 * before the call. False when the kernel has no such command (before
 * Linux 4.14, some emulators and sandboxes): nothing was fenced. */
bool os_process_fence(void);

/* The calling thread's mask of blocked signals as the kernel keeps it (bit
 * s-1 for signal s, 1..64; glibc's internal signals included). */
uint64_t os_signal_mask(void);
/* Whether thread `tid` of this process is, at the moment the kernel looks,
 * blocked in a system call (/proc/self/task/<tid>/syscall gives its number,
 * not "running", nor -1 for a thread stopped or faulting outside one), and
 * its blocked signals as they were just before (/proc/.../status, SigBlk).
 * False when the files cannot be read or parsed. */
bool os_thread_in_syscall(int tid, uint64_t *sigblk);
/* The start time of process pid (0: this one) in clock ticks after boot
 * (field 22 of /proc/<pid>/stat), which tells a process from a later one
 * with its pid. False if the process is gone, or /proc is missing or not
 * this process's own pid namespace's. */
bool os_start_time(int pid, uint64_t *ticks);
/* This process's pid namespace (the inode of /proc/self/ns/pid): pids
 * mean the same in two processes only when these are equal. */
bool os_pid_namespace(uint64_t *id);

/* Maps `size` bytes of fresh, zeroed, read-write memory whose start is a
 * multiple of `align` (a power of two, at least the page size). Returns NULL
 * when the kernel refuses (ENOMEM, RLIMIT_AS, map count). */
void *os_map_aligned(size_t size, size_t align);
/* Like os_map_aligned, backed by huge pages of os_huge_page_size() from the
 * kernel's reserved pool (MAP_HUGETLB). NULL when none are reserved or free,
 * or when size is not a multiple of the huge page size. */
void *os_map_aligned_hugetlb(size_t size, size_t align);
/* Makes a page-aligned range inaccessible (a guard page). */
bool os_guard(void *addr, size_t size);
/* Asks for transparent huge pages on a range (MADV_HUGEPAGE). */
bool os_advise_hugepage(void *addr, size_t size);

/* Unmaps a range obtained from os_map_aligned (or a page-aligned part of it). */
void os_unmap(void *addr, size_t size);
/* Tells the kernel the pages' contents are no longer needed; the range reads
 * as zeroes afterwards and stops counting as resident. Page-aligned input.
 * False (and counted) if the kernel refused: nothing was purged then. */
bool os_purge(void *addr, size_t size);
/* Moves the pages of [from, from+len) to [to, to+len) without copying them
 * (mremap with MREMAP_FIXED and MREMAP_DONTUNMAP, Linux 5.7): afterwards
 * `to` holds the contents and `from` stays mapped and reads as zeroes.
 * Page-aligned, disjoint ranges of private anonymous memory. False when the
 * kernel cannot (the source spans two mappings, an old kernel, the map
 * count): `to` is then fresh zeroed memory and `from` is unchanged. After
 * a refusal that will not change (EINVAL, ENOMEM) it is not tried again. */
bool os_move(void *to, void *from, size_t len);
/* Puts the pages of [from, from+len) at `to` in place of what was mapped
 * there, without copying when the kernel can (mremap MREMAP_FIXED); else
 * maps fresh memory at `to` and copies. `from` is gone afterwards. False
 * only if neither worked (`to` may then be unmapped). */
bool os_replace(void *to, void *from, size_t len);
/* Maps fresh, zeroed, read-write memory over a page-aligned range in place
 * of whatever was mapped there (MAP_FIXED: the range is never unmapped in
 * between). False if the kernel refused (the range may then be unmapped). */
bool os_map_fresh(void *addr, size_t len);
/* Makes a guard page made by os_guard readable and writable again. */
bool os_unguard(void *addr, size_t size);

/* Mapping hints: aligned mappings are asked for at a cursor that walks up
 * through [OS_HINT_BASE, end), a part of the address space the kernel does
 * not fill by itself (it maps top-down from below the stack, and programs
 * sit far above 64 TiB), so that one mmap usually returns an aligned range.
 * The cursor starts at a random multiple of OS_HINT_STEP in the first
 * 2^OS_HINT_RANDOM_BITS steps (4 TiB) above the base, different in every
 * process, advances by each mapping's size, and wraps back to the base when
 * a mapping would pass the end. A taken or refused hint falls back to
 * over-mapping and trimming. No hints when the address space is too narrow
 * (under 46 bits) or for mappings above OS_HINT_MAX_SIZE, which would use up
 * the region quickly and make the addresses of later mappings guessable.
 * The functions below are the cursor's pure arithmetic, exposed for tests. */
#define OS_HINT_BASE ((uintptr_t)2 << 40)
#define OS_HINT_STEP ((uintptr_t)4 << 20)
#define OS_HINT_RANDOM_BITS 20
#define OS_HINT_MAX_SIZE ((size_t)1 << 30)
/* The end of the hint region for an address space of `bits` bits, or 0 when
 * it is too narrow for hints. */
uintptr_t os_hint_end(unsigned bits);
/* The cursor's start for a process whose random seed is `seed`. */
uintptr_t os_hint_start(uint64_t seed);
/* Where a mapping of `size` bytes aligned to `align` is asked for when the
 * cursor is at `cursor`: cursor rounded up to align, or the base rounded up
 * when that would pass `end`. *next is the cursor after it. 0 (and *next
 * untouched) when the mapping does not fit even from the base. */
uintptr_t os_hint_place(uintptr_t cursor, size_t size, size_t align, uintptr_t end,
                        uintptr_t *next);

/* Failed system calls, counted by kind (atomically; for stats). Each kind
 * warns once, with the call and errno, on its first unexpected failure;
 * later ones are counted only. Expected answers of normal operation never
 * warn:
 *   - ENOMEM from mmap (OS_ERR_MAP, OS_ERR_HUGETLB) is the
 *     out-of-memory answer (RLIMIT_AS, overcommit, map count, an empty
 *     hugetlb pool, which hugepages:hugetlb reports itself when it falls
 *     back): counted, never printed;
 *   - a move that finds the source in two mappings (EFAULT) is a plain
 *     "no" (the caller copies): not counted;
 *   - mincore's ENOMEM, a range no longer mapped (statistics measure
 *     ranges after the lock that kept them is dropped): not counted;
 *   - a hint the kernel did not honour is counted under OS_ERR_HINT_MISS
 *     (errno 0), never printed: a high count means aligned mappings cost
 *     three system calls instead of one.
 * The caller's errno is preserved in every case; os_last_error keeps the
 * errno of the most recent failure of a kind. */
enum os_error_kind {
    OS_ERR_MAP,       /* mmap of normal pages ("map") */
    OS_ERR_UNMAP,     /* munmap ("unmap") */
    OS_ERR_PURGE,     /* madvise(MADV_DONTNEED) ("purge") */
    OS_ERR_ADVISE,    /* madvise(MADV_HUGEPAGE) ("advise") */
    OS_ERR_GUARD,     /* mprotect(PROT_NONE) ("guard") */
    OS_ERR_RESIDENT,  /* mincore, a range that is not mapped excepted ("resident") */
    OS_ERR_MOVE,      /* mremap moving pages for realloc ("move") */
    OS_ERR_HUGETLB,   /* mmap(MAP_HUGETLB) ("hugetlb") */
    OS_ERR_HINT_MISS, /* a mapping hint not honoured: not an error ("hint_miss") */
    OS_ERR_BIND,      /* mbind(MPOL_PREFERRED) of a NUMA node's memory ("bind") */
    OS_ERR_NKINDS
};
/* Failures of `kind` since start (0 for a kind out of range). */
uint64_t os_error_count(enum os_error_kind kind);
/* errno of the latest failure of `kind`, 0 if none (or a hint miss). */
int os_last_error(enum os_error_kind kind);
/* The kind's short name, as in the comments above ("map", "hint_miss"),
 * usable as a stats key; NULL for a kind out of range. */
const char *os_error_name(enum os_error_kind kind);

/* Initialises a mutex that spins briefly before sleeping: arena locks are
 * held for short, bounded sections, where a futex sleep costs more than the
 * wait. Use for every lock on an allocation path. */
void os_lock_init(pthread_mutex_t *m);

/* Bytes of [addr, addr+size) resident in memory now (mincore), page-aligned
 * input. Pages not mapped (a range unmapped since the caller learnt of it)
 * count as not resident and are not a failure; other refusals (EINVAL for
 * an unaligned address) are counted under OS_ERR_RESIDENT. */
size_t os_resident(void *addr, size_t size);

/* Monotonic clock in nanoseconds, and in milliseconds (wraps every 49
 * days: compare with (int32_t)(a - b)). */
uint64_t os_now_ns(void);
uint32_t os_now_ms(void);

/* Starts a detached thread with every signal blocked (signals belong to the
 * program's threads). False if the thread could not be created. */
bool os_thread_start(void *(*fn)(void *), void *arg);
/* Sleeps for ms milliseconds (restarting after signals is not needed). */
void os_sleep_ms(unsigned ms);

/* Writes a whole buffer to stderr with write(2), ignoring errors. */
void os_write_stderr(const char *buf, size_t len);

/* Formats into a fixed buffer without stdio: %s, %zu, %p (0x... hex), %d, %%.
 * Returns the length written (always NUL-terminated, truncated to fit). */
size_t os_format(char *buf, size_t cap, const char *fmt, ...);

/* Writes one formatted line prefixed by "sable: " to stderr. */
void os_warn(const char *fmt, ...);
/* abort:true (set by the options once SABLE_CONF is read): os_warn ends
 * with sable_fatal after its line. */
extern bool os_warn_aborts;
/* The same line as os_warn, for what the process was asked to do (the
 * stats page's control requests): never fatal, whatever abort says. */
void os_note(const char *fmt, ...);

/* Writes one formatted line prefixed by "sable: " to stderr and aborts. The
 * one exit for fatal misuse (invalid or double free, corrupted metadata). */
_Noreturn void sable_fatal(const char *fmt, ...) SABLE_COLD;

/* Reads at most cap-1 bytes of a small file (a kernel file: /proc, /sys)
 * with open/read/close and NUL-terminates them. Returns the length, or -1
 * (errno then tells why). The topology's files go through os_read_sysfile
 * (topo.h) instead, which tests can point at a fake tree. */
ssize_t os_read_file(const char *path, char *buf, size_t cap);

/* The value of environment variable `name` read straight from environ (no
 * getenv: it may not be safe this early), or NULL. */
const char *os_getenv(const char *name);

#endif /* SABLE_OS_H */
