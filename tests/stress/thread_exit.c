/* Thread exit: TLS destructors run after the allocator's own per-thread
 * cleanup may have run, and still free and allocate.
 *  - key_before: a pthread key created before the allocator's first use (its
 *    destructor runs before any key the allocator creates later);
 *  - key_after: a key created after the allocator is initialised (runs after
 *    the allocator's key, if it has one);
 *  - a __thread object whose blocks a destructor frees;
 *  - a destructor that re-arms its key, so it runs again in a later
 *    destructor round, allocating each time;
 *  - threads whose first allocation ever happens in a TLS destructor.
 * Many threads do this; blocks also cross threads (allocated by main, freed
 * in a destructor, and allocated in a destructor, freed by main). RSS stays
 * bounded, so per-thread state made by late allocations is reclaimed too. */
#include <pthread.h>

#include "stress.h"

enum {
    NTHREADS = 8000,
    AT_ONCE = 4,
    MAX_GROWTH_KIB = 64 * 1024,
};

static pthread_key_t key_before, key_after, key_rearm;

struct tls_object {
    void *p[4];
    size_t size[4];
};
static __thread struct tls_object tls_obj;

/* Blocks allocated in destructors, freed by the main thread. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static void *from_destructors[AT_ONCE * 4];
static size_t from_destructors_size[AT_ONCE * 4];
static int n_from_destructors;

static void keep_for_main(void *p, size_t size)
{
    pthread_mutex_lock(&lock);
    CHECK(n_from_destructors < AT_ONCE * 4, "too many");
    from_destructors[n_from_destructors] = p;
    from_destructors_size[n_from_destructors] = size;
    n_from_destructors++;
    pthread_mutex_unlock(&lock);
}

struct owned {
    void *p;
    size_t size;
};

/* Frees the value (allocated by the thread, or by main), then allocates and
 * frees, then allocates a block that main will free. */
static void destroy_owned(void *v)
{
    struct owned *o = v;
    free_checked(o->p, o->size);
    size_t s = 100 + ((uintptr_t)o >> 4) % 5000;
    free_checked(alloc_filled(s), s);
    free_checked(alloc_filled(300 * KiB), 300 * KiB);
    sable_free(o);
}

static void destroy_tls_object(void *v)
{
    (void)v;
    for (int i = 0; i < 4; i++)
        free_checked(tls_obj.p[i], tls_obj.size[i]);
    void *late = alloc_filled(777);
    keep_for_main(late, 777);
}

static void destroy_rearm(void *v)
{
    uintptr_t round = (uintptr_t)v;
    size_t s = 64 * round + 1;
    free_checked(alloc_filled(s), s);
    if (round < 3)
        pthread_setspecific(key_rearm, (void *)(round + 1));
}

static struct owned *make_owned(size_t size)
{
    struct owned *o = sable_malloc(sizeof *o);
    CHECK(o != NULL, "malloc");
    o->size = size;
    o->p = alloc_filled(size);
    return o;
}

static void *thread_body(void *arg)
{
    struct owned *from_main = arg;
    /* the thread's first allocation happens here, after the keys exist */
    pthread_setspecific(key_before, make_owned(200));
    pthread_setspecific(key_after, from_main);
    pthread_setspecific(key_rearm, (void *)(uintptr_t)1);
    for (int i = 0; i < 4; i++) {
        tls_obj.size[i] = (size_t)1 << (4 + 4 * i); /* 16 B .. 64 KiB */
        tls_obj.p[i] = alloc_filled(tls_obj.size[i]);
    }
    return NULL;
}

static pthread_key_t key_tls_obj, key_first;

static void *thread_main(void *arg)
{
    thread_body(arg);
    pthread_setspecific(key_tls_obj, (void *)1);
    return NULL;
}

/* A thread whose first allocation ever happens in a TLS destructor. */
static void destroy_first(void *v)
{
    struct owned *from_main = v;
    free_checked(from_main->p, from_main->size);
    sable_free(from_main);
    free_checked(alloc_filled(5000), 5000);
    keep_for_main(alloc_filled(40), 40);
}

static void *thread_never_allocating(void *arg)
{
    pthread_setspecific(key_first, arg);
    return NULL;
}

static void drain(void)
{
    pthread_mutex_lock(&lock);
    for (int i = 0; i < n_from_destructors; i++)
        free_checked(from_destructors[i], from_destructors_size[i]);
    n_from_destructors = 0;
    pthread_mutex_unlock(&lock);
}

int main(void)
{
    CHECK(pthread_key_create(&key_before, destroy_owned) == 0, "key");
    CHECK(pthread_key_create(&key_tls_obj, destroy_tls_object) == 0, "key");
    CHECK(pthread_key_create(&key_first, destroy_first) == 0, "key");
    /* initialises the allocator, which may create its own key now */
    sable_free(alloc_filled(1));
    CHECK(pthread_key_create(&key_after, destroy_owned) == 0, "key");
    CHECK(pthread_key_create(&key_rearm, destroy_rearm) == 0, "key");

    long rss_start = -1;
    for (int started = 0; started < NTHREADS; started += AT_ONCE) {
        pthread_t t[AT_ONCE];
        for (int i = 0; i < AT_ONCE; i++) {
            struct owned *o = make_owned(50 + (size_t)(started + i) % 20000);
            void *(*body)(void *) = (started / AT_ONCE + i) % 2 ? thread_main
                                                                  : thread_never_allocating;
            CHECK(pthread_create(&t[i], NULL, body, o) == 0, "pthread_create");
        }
        for (int i = 0; i < AT_ONCE; i++)
            pthread_join(t[i], NULL);
        drain();
        if (started == 400)
            rss_start = rss_kib();
    }
    long rss_end = rss_kib();
    printf("thread_exit: %d threads, VmRSS %ld KiB -> %ld KiB\n", NTHREADS, rss_start, rss_end);
    CHECK(rss_end - rss_start < MAX_GROWTH_KIB, "VmRSS grew by %ld KiB", rss_end - rss_start);
    return 0;
}
