/* tcache_max_bytes bounds what one thread's cache holds. Run with
 * SABLE_CONF=tcache_max_bytes:256k: a thread allocates and frees blocks of
 * every cached class (its local stacks), and hands as many to a second
 * thread on another arena, which frees them (its remote stacks). Each
 * thread's cached bytes stay within the bound (a built-in cache would hold
 * several MiB). Every block
 * keeps serving: classes whose capacity came out 0 go to the arena. */
#include <pthread.h>
#include <stdbool.h>

#include "common.h"

#define BOUND ((size_t)256 << 10)

/* Bytes in the caches of arena `a`'s threads, or of all threads (-1). */
static size_t tcache_bytes(int a)
{
    uint64_t e = 1;
    size_t v = 0, len = sizeof v;
    char name[64] = "stats.tcache_bytes";
    if (a >= 0) snprintf(name, sizeof name, "stats.arenas.%d.tcache_bytes", a);
    CHECK(sable_mallctl("epoch", NULL, NULL, &e, sizeof e) == 0, "epoch");
    CHECK(sable_mallctl(name, &v, &len, NULL, 0) == 0, "%s", name);
    return v;
}

enum { N = 400 };
static void *blocks[N];

/* Allocates N blocks of each size up to 256 KiB (every cached class). */
static void each_class(void (*use)(size_t size))
{
    for (size_t size = 16; size <= (256 << 10); size += size < 1024 ? 16 : size / 8)
        use(size);
}

static void alloc_free(size_t size)
{
    for (int i = 0; i < N; i++) {
        blocks[i] = sable_malloc(size);
        CHECK(blocks[i] != NULL, "malloc(%zu)", size);
        memset(blocks[i], 0x3c, size < 64 ? size : 64);
    }
    for (int i = 0; i < N; i++)
        sable_free(blocks[i]);
}

/* Main allocates, the other thread (on another arena) frees: the blocks
 * land on its remote stacks. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int turn; /* 1: blocks ready for the other thread; 0: main's turn */
static bool done;
static size_t remote_seen;

static void *other_thread(void *arg)
{
    unsigned a = *(unsigned *)arg;
    CHECK(sable_mallctl("thread.arena", NULL, NULL, &a, sizeof a) == 0, "thread.arena");
    pthread_mutex_lock(&mu);
    for (;;) {
        while (turn == 0 && !done)
            pthread_cond_wait(&cv, &mu);
        if (turn == 0 && done) break;
        for (int i = 0; i < N; i++)
            sable_free(blocks[i]);
        turn = 0;
        pthread_cond_signal(&cv);
    }
    remote_seen = tcache_bytes((int)a); /* this thread's cache alone */
    pthread_mutex_unlock(&mu);
    return NULL;
}

static void hand_over(size_t size)
{
    pthread_mutex_lock(&mu);
    for (int i = 0; i < N; i++)
        CHECK((blocks[i] = sable_malloc(size)) != NULL, "malloc(%zu)", size);
    turn = 1;
    pthread_cond_signal(&cv);
    while (turn == 1)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
}

int main(void)
{
    size_t len = sizeof(size_t), bound = 0;
    CHECK(sable_mallctl("opt.tcache_max_bytes", &bound, &len, NULL, 0) == 0, "opt");
    CHECK(bound == BOUND, "run with SABLE_CONF=tcache_max_bytes:256k (read %zu)", bound);
    each_class(alloc_free);
    size_t local = tcache_bytes(-1);
    CHECK(local <= BOUND, "local stacks: %zu bytes cached, bound %zu", local, BOUND);
    CHECK(local > 0, "small classes are still cached");
    unsigned other = 0;
    len = sizeof other;
    CHECK(sable_mallctl("arenas.create", &other, &len, NULL, 0) == 0, "arenas.create");
    pthread_t t;
    CHECK(pthread_create(&t, NULL, other_thread, &other) == 0, "pthread_create");
    each_class(hand_over);
    pthread_mutex_lock(&mu);
    done = true;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
    pthread_join(t, NULL);
    CHECK(remote_seen <= BOUND, "remote stacks: %zu bytes cached, bound %zu", remote_seen, BOUND);
    CHECK(remote_seen > 0, "the other thread's remote stacks hold blocks");
    printf("tcache-max-bytes: %zu bytes in local stacks, %zu in remote ones, of %zu allowed\n",
           local, remote_seen, BOUND);
    return 0;
}
