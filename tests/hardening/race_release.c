/* Invalid frees racing the release of chunks (docs/security.md, "Racing a
 * release"): while threads allocate and free working sets a few chunks
 * large (so that chunks are emptied, given back to the page heap, purged,
 * cut into huge blocks and cut again as chunks), another thread frees
 * pointers into that memory that are not live blocks. Each such free must
 * end the process with SIGABRT after one line per detection,
 *
 *     sable: free(): double free of 0x...      or
 *     sable: free(): invalid pointer 0x...
 *
 * naming a pointer that thread freed, or be a no-op; never another signal
 * (SIGSEGV, SIGBUS), a hang, or a normal exit with a misuse unnoticed.
 *
 *   hardening-race-release MODE ROUNDS
 *
 * MODE says what the misusing thread frees:
 *   stale   the block a working-set thread has just freed: a double free,
 *           taken by the misusing thread's cache unchecked (the block looks
 *           like one; the working-set thread waits for that free, so the
 *           chunk is live), which it flushes only once the working set's chunks
 *           have been given back (purged, with dirty_decay_ms:0) and a huge
 *           block cut from them and written over. The flush finds the chunk
 *           gone (or, for the one chunk the arena keeps, the block free).
 *   header  pointers into the first units of published blocks' chunks, a
 *           chunk header in every chunk and never a block: caught at the
 *           free, also when the chunk goes away between the free's loads.
 * Each round forks a child that runs for at most ROUND_MS; the parent reads
 * the child's stderr through a pipe, with a 10 s deadline (then SIGKILL: a
 * hang fails), and the pointers it freed through shared memory. The
 * environment may set SABLE_CONF (dirty_decay_ms:0 purges a chunk when it
 * is given back).
 *
 * Built twice (see hard.h): unprefixed through libsable.so, and prefixed. */
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "forked.h"
#include "hard.h"

#if defined(__SANITIZE_THREAD__)
#define UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UNDER_TSAN 1
#endif
#endif

enum {
    CHILD_TIMEOUT_MS = 10000,
    ROUND_MS = 150,
    ERR_MAX = 8192,
    NCHURN = 2,
    WORKING_SET = 40000, /* blocks of BLOCK bytes: about 2.5 chunks */
    BLOCK = 256,
    RING = 4096,         /* recently freed blocks, for the misusing thread */
    LOG_MAX = 1 << 16,
};
#define HUGE_BLOCK (4 * MiB - 64 * KiB) /* fits in a chunk just given back */
#define CHUNK ((uintptr_t)4 * MiB)
#define HEADER_BYTES ((uintptr_t)64 * KiB) /* within every chunk's header */

/* What the misusing thread freed, shared with the parent. */
struct wild_log {
    atomic_size_t n;
    uintptr_t ptr[LOG_MAX];
};
static struct wild_log *wlog;

static _Atomic(uintptr_t) ring[RING];
static atomic_uint ring_next;
static atomic_int stop;
static int header_mode;
/* Working-set thread 0's rounds: one block it has just freed from a chunk
 * that it will give back (and in which round), the misusing thread's answer
 * that it freed the block again, the round whose huge block is live, and
 * the answer that the misusing thread flushed its cache meanwhile. */
static _Atomic(uintptr_t) latest;
static atomic_uint latest_round, misfreed_round, huge_round, flushed_round;

static uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

/* Waits (yielding) until *v >= want, for at most ms; false on timeout. */
static int wait_for(atomic_uint *v, unsigned want, long long ms)
{
    long long end = forked_now_ms() + ms;
    while ((int)(atomic_load(v) - want) < 0)
        if (forked_now_ms() > end || atomic_load_explicit(&stop, memory_order_relaxed)) return 0;
        else sched_yield();
    return 1;
}

/* A working-set thread: allocate about 2.5 chunks of blocks, free them all,
 * publishing some (the arena keeps one empty chunk and gives the others
 * back), then a huge block that reuses what was given back, written over.
 * Thread 0 keeps its huge block until the misusing thread has flushed (or
 * 20 ms passed). */
static void *churn(void *arg)
{
    static void *blk[NCHURN][WORKING_SET];
    unsigned id = (unsigned)(uintptr_t)arg;
    void **mine = blk[id];
    for (unsigned round = 1; !atomic_load_explicit(&stop, memory_order_relaxed); round++) {
        unsigned n = 0;
        while (n < WORKING_SET && (mine[n] = M_MALLOC(BLOCK)) != NULL) n++;
        for (unsigned i = 0; i < n; i++) {
            M_FREE(mine[i]);
            if (i % 61 != 0) continue;
            unsigned at = atomic_fetch_add_explicit(&ring_next, 1, memory_order_relaxed);
            atomic_store_explicit(&ring[at % RING], (uintptr_t)mine[i], memory_order_relaxed);
            /* Neither the first chunk (it empties first and is kept as
             * the arena's spare) nor the last (its blocks freed last stay
             * in the thread's cache): a chunk that is given back. */
            uintptr_t c = (uintptr_t)mine[i] & ~(CHUNK - 1);
            if (id == 0 && atomic_load(&latest_round) != round &&
                c != ((uintptr_t)mine[0] & ~(CHUNK - 1)) &&
                c != ((uintptr_t)mine[n - 1] & ~(CHUNK - 1))) {
                atomic_store(&latest, (uintptr_t)mine[i]);
                atomic_store(&latest_round, round);
                /* Until it is freed again: its chunk is live meanwhile. */
                wait_for(&misfreed_round, round, 20);
            }
        }
        unsigned char *h = M_MALLOC(HUGE_BLOCK);
        if (h) {
#ifndef UNDER_TSAN
            /* The program's data over what were chunk headers. (Not under
             * ThreadSanitizer: it would see the misusing thread's loads of
             * that memory as races with these stores, which they are, by
             * design of this test.) */
            memset(h, (int)(round * 37u), HUGE_BLOCK);
#endif
        }
        if (id == 0) {
            atomic_store(&huge_round, round);
            wait_for(&flushed_round, round, 20);
        }
        M_FREE(h);
    }
    return NULL;
}

/* The calling thread's cache goes back to the arenas (malloc_trim flushes
 * it first; thread.tcache.flush would do too, but its statistics refresh
 * reads other threads' counters, which ThreadSanitizer reports). */
static void flush_cache(void) { M_TRIM(); }

/* Publishes p to the parent, then frees it. */
static void misfree(uintptr_t p)
{
    size_t i = atomic_load_explicit(&wlog->n, memory_order_relaxed);
    if (i == LOG_MAX) return;
    wlog->ptr[i] = p;
    atomic_store_explicit(&wlog->n, i + 1, memory_order_release);
    void *q = (void *)p;
    __asm__ volatile("" : "+r"(q)); /* neither warn about nor fold the misuse */
    M_FREE(q);
}

/* The misusing thread, until the round is over. Stale: frees the block
 * working-set thread 0 has just freed (its chunk still live, so the cache
 * takes it unchecked), waits until that thread's chunks have been given
 * back and its huge block written over them, then flushes. Header: frees
 * pointers into the headers of published blocks' chunks. */
static void misuse(uint64_t seed)
{
    long long end = forked_now_ms() + ROUND_MS;
    while (forked_now_ms() < end) {
        if (header_mode) {
            uintptr_t p = atomic_load_explicit(&ring[rng_next(&seed) % RING], memory_order_relaxed);
            /* 16-aligned, never page aligned, inside the header. */
            uintptr_t off = 16 + 16 * (rng_next(&seed) % (HEADER_BYTES / 16 - 1));
            if ((off & 4095) == 0) off += 16;
            if (p) misfree((p & ~(CHUNK - 1)) + off);
            continue;
        }
        unsigned round = atomic_load(&latest_round);
        if (!wait_for(&latest_round, round + 1, 50)) continue;
        misfree(atomic_load(&latest));
        atomic_store(&misfreed_round, round + 1);
        wait_for(&huge_round, round + 1, 50);
        flush_cache();
        atomic_store(&flushed_round, round + 1);
    }
    flush_cache();
}

static void child(void *arg)
{
    pthread_t t[NCHURN];
    for (uintptr_t i = 0; i < NCHURN; i++)
        if (pthread_create(&t[i], NULL, churn, (void *)i) != 0) _exit(125);
    while (atomic_load(&ring_next) < RING) sched_yield(); /* the ring is full */
    misuse(*(uint64_t *)arg);
    atomic_store(&stop, 1);
    for (int i = 0; i < NCHURN; i++) pthread_join(t[i], NULL);
    _exit(0); /* every misuse went unnoticed */
}

/* True if line [s, e) is one of the two messages naming a pointer the child
 * announced. */
static int line_ok(const char *s, const char *e)
{
    uintptr_t p;
    char tail;
    char line[256];
    size_t len = (size_t)(e - s);
    if (len >= sizeof line) return 0;
    memcpy(line, s, len);
    line[len] = '\0';
    if (sscanf(line, "sable: free(): double free of 0x%" SCNxPTR "%c", &p, &tail) != 1 &&
        sscanf(line, "sable: free(): invalid pointer 0x%" SCNxPTR "%c", &p, &tail) != 1)
        return 0;
    size_t n = atomic_load_explicit(&wlog->n, memory_order_acquire);
    for (size_t i = n; i-- > 0;)
        if (wlog->ptr[i] == p) return 1;
    return 0;
}

/* One round; NULL on success, else what went wrong. */
static const char *one_round(uint64_t seed, char *err, size_t *err_len, int *status)
{
    atomic_store(&wlog->n, 0);
    const char *why = forked_run(child, &seed, CHILD_TIMEOUT_MS, err, ERR_MAX, err_len, status);
    if (why) return why;
    if (WIFEXITED(*status) && WEXITSTATUS(*status) == 125) return "the child could not be set up";
    if (WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
        return "the child exited normally: its invalid frees went unnoticed";
    if (!WIFSIGNALED(*status)) return "the child exited with an unexpected status";
    if (WTERMSIG(*status) != SIGABRT) return "the child was killed by a signal other than SIGABRT";
    if (*err_len == 0) return "SIGABRT with nothing on stderr";
    if (err[*err_len - 1] != '\n') return "stderr does not end with a whole line";
    for (const char *s = err; *s;) {
        const char *e = strchr(s, '\n');
        if (!line_ok(s, e)) return "a line on stderr is not a message naming a pointer freed";
        s = e + 1;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[1], "stale") != 0 && strcmp(argv[1], "header") != 0)) {
        fprintf(stderr, "usage: %s stale|header ROUNDS\n", argv[0]);
        return 2;
    }
    header_mode = strcmp(argv[1], "header") == 0;
    unsigned long rounds = strtoul(argv[2], NULL, 0);
    wlog = mmap(NULL, sizeof *wlog, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (wlog == MAP_FAILED || rounds == 0) return 2;
    const char *conf = getenv("SABLE_CONF");
    printf("%s API, %s pointers, %lu rounds, SABLE_CONF=%s\n", M_VARIANT, argv[1], rounds,
        conf ? conf : "(unset)");
    static char err[ERR_MAX];
    unsigned long failures = 0, lines = 0, invalid = 0;
    for (unsigned long r = 0; r < rounds; r++) {
        size_t err_len;
        int status = 0;
        const char *why = one_round(0x9e3779b97f4a7c15u * (r + 1), err, &err_len, &status);
        for (const char *s = err; (s = strchr(s, '\n')) != NULL; s++) lines++;
        for (const char *s = err; (s = strstr(s, "invalid pointer")) != NULL; s++) invalid++;
        if (why == NULL) continue;
        failures++;
        if (failures <= 5) {
            printf("round %lu: FAIL: %s; child status %#x", r, why, status);
            if (WIFSIGNALED(status))
                printf(" (signal %d, %s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
            printf("; %zu pointers freed; stderr: %.300s\n",
                atomic_load(&wlog->n), err);
        }
    }
    printf("%lu of %lu rounds failed; %lu messages, %lu of them invalid-pointer ones\n", failures,
        rounds, lines, invalid);
    return failures != 0;
}
