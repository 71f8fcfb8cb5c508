/* src/os/lock.c — the lock-order witness of debug builds (see lock.h).
 *
 * Each thread keeps the locks it holds, in the order taken, in a small
 * thread-local array: no allocation, so it works inside malloc. A recursive
 * lock taken again by its holder is recorded once more and checks nothing.
 * Invariants: held[0..nheld) lists the locks the thread holds in the order
 * taken. Locking: the record is thread-local.
 */
#include "os/lock.h"

#ifdef SABLE_DEBUG

#include "os/os.h"

/* fork holds every lock of every arena (37 each): past this many the extra
 * ones are counted, not checked (fork's order is the order of the keys). */
#define WITNESS_MAX 128

typedef struct {
    const void *m;
    unsigned rank, key;
} held_t;

static __thread held_t held[WITNESS_MAX];
static __thread unsigned nheld;
static __thread unsigned overflow; /* locks past WITNESS_MAX, not checked */

static const char *const rank_names[] = {
    [LOCK_STDIO] = "stdio",     [LOCK_INSPECT] = "inspect", [LOCK_CTL] = "ctl",   [LOCK_CTL_STATS] = "ctl.stats",
    [LOCK_INIT] = "init",       [LOCK_POOL] = "pool", [LOCK_CREATE] = "create", [LOCK_ARENA] = "arena",
    [LOCK_PAGEMAP] = "pagemap", [LOCK_META] = "meta",
};

void lock_witness_take(const void *m, lock_rank_t rank, unsigned key, bool checked)
{
    for (unsigned i = 0; i < nheld; i++) {
        /* a recursive lock taken again by its holder */
        if (held[i].m == m && rank == LOCK_CTL) checked = false;
    }
    if (checked && nheld > 0) {
        const held_t *top = &held[nheld - 1];
        if (rank < top->rank || (rank == top->rank && key <= top->key && top->m != m))
            sable_fatal("lock order: taking %s (key %d) while holding %s (key %d)",
                        rank_names[rank], (int)key, rank_names[top->rank], (int)top->key);
    }
    if (nheld == WITNESS_MAX) {
        overflow++;
        return;
    }
    held[nheld++] = (held_t){m, rank, key};
}

void lock_witness_drop(const void *m)
{
    for (unsigned i = nheld; i-- > 0;) {
        if (held[i].m != m) continue;
        for (unsigned j = i; j + 1 < nheld; j++) held[j] = held[j + 1];
        nheld--;
        return;
    }
    if (overflow) {
        overflow--;
        return;
    }
    sable_fatal("lock order: releasing a lock this thread does not hold");
}

void lock_assert_held(const void *m)
{
    for (unsigned i = 0; i < nheld; i++)
        if (held[i].m == m) return;
    sable_fatal("lock order: a lock that must be held is not");
}

#endif
