/* src/os — every system call sable makes, and nothing else.
 *
 * Owns: address-space reservation (naturally aligned), commit/purge, unmap,
 * page size and CPU count discovery, the monotonic clock, raw writes to
 * stderr, the one fatal-error path, and reading the environment without libc's
 * getenv. Nothing here allocates from the heap; failures come back as NULL or
 * false, never as a crash.
 */
#ifndef SABLE_OS_H
#define SABLE_OS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SABLE_HIDDEN __attribute__((visibility("hidden")))
#define SABLE_NOINLINE __attribute__((noinline))
#define SABLE_COLD __attribute__((cold))
#define SABLE_INLINE static inline __attribute__((always_inline))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* The system page size, read once at init (4 KiB, 16 KiB and 64 KiB kernels
 * all exist). os_init must run before any other os_ function. */
void os_init(void);
size_t os_page_size(void);

/* Number of CPUs this process may run on (sched_getaffinity), at least 1. */
unsigned os_ncpus(void);

/* Maps `size` bytes of fresh, zeroed, read-write memory whose start is a
 * multiple of `align` (a power of two, at least the page size). Returns NULL
 * when the kernel refuses (ENOMEM, RLIMIT_AS, map count). */
void *os_map_aligned(size_t size, size_t align);
/* Like os_map_aligned, backed by 2 MiB huge pages from the kernel's
 * reserved pool (MAP_HUGETLB). NULL when none are reserved or free. */
void *os_map_aligned_hugetlb(size_t size, size_t align);
/* Makes a page-aligned range inaccessible (a guard page). */
bool os_guard(void *addr, size_t size);
/* Asks for transparent huge pages on a range (MADV_HUGEPAGE). */
bool os_advise_hugepage(void *addr, size_t size);
#define OS_HUGE_PAGE ((size_t)2 << 20)

/* Unmaps a range obtained from os_map_aligned (or a page-aligned part of it). */
void os_unmap(void *addr, size_t size);
/* Tells the kernel the pages' contents are no longer needed; the range reads
 * as zeroes afterwards and stops counting as resident. Page-aligned input. */
bool os_purge(void *addr, size_t size);
/* Tries to grow the mapping [addr, addr+old) to [addr, addr+new) in place.
 * Returns true when the bytes after it were free and are now mapped. */
bool os_extend_inplace(void *addr, size_t old_size, size_t new_size);

/* Initialises a mutex that spins briefly before sleeping: arena locks are
 * held for short, bounded sections, where a futex sleep costs more than the
 * wait. Use for every lock on an allocation path. */
void os_lock_init(pthread_mutex_t *m);

/* Bytes of [addr, addr+size) resident in memory now (mincore), page-aligned
 * input. Returns 0 for a range the kernel does not know. */
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

/* Writes one formatted line prefixed by "sable: " to stderr and aborts. The
 * one exit for fatal misuse (invalid or double free, corrupted metadata). */
_Noreturn void sable_fatal(const char *fmt, ...) SABLE_COLD;

/* The value of environment variable `name` read straight from environ (no
 * getenv: it may not be safe this early), or NULL. */
const char *os_getenv(const char *name);

#endif /* SABLE_OS_H */
