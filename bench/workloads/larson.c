/* larson: a server-style workload in the spirit of Larson & Krishnan's
 * benchmark. A shared pool of slots is split into one chunk per thread.
 * The main thread fills the pool; then each worker replaces random objects
 * of random sizes in its chunk (free the old one, allocate a new one). When
 * a worker has done its share it starts its successor, which inherits the
 * chunk and so frees the objects its predecessor allocated: every object
 * is freed by a different thread than the one that allocated it, at least
 * across generations. Each object carries a header (slot key and size) and
 * a trailer byte, checked when it is freed.
 *
 * Fixed work: threads * generations * ops_per_gen replacements. With
 * --seconds T > 0 the workers instead keep starting generations until T
 * seconds have passed (the original's time-bounded mode).
 *
 * ops = allocations + frees in the timed section.
 */
#include "common.h"

#include <pthread.h>
#include <stdatomic.h>

#define W "larson"

struct slot {
	unsigned char *p;
	uint32_t size;
	uint32_t key;
};

/* Object layout: [0,8) mixed slot key, [8,12) requested size, last byte a
 * function of the key. */
#define HDR_BYTES 12

static long min_size = 16, max_size = 1024;
static long slots_per_thread = 5000;
static long ops_per_gen = 100000;
static long generations = 1000;
static long nthreads = 2;
static double seconds_limit = 0;
static long seed = 4141;

static struct slot *pool;
static atomic_long total_ops;
static atomic_long total_gens;
static atomic_int live_workers;
static atomic_bool stop_flag;
static pthread_mutex_t done_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cv = PTHREAD_COND_INITIALIZER;
static atomic_int start_errors;

struct worker {
	long chunk;
	long gen;
	uint64_t seed;
};

static inline uint64_t hdr_key(uint32_t key)
{
	return wl_mix64(key) | 1;
}

static void fill(struct slot *s, uint32_t size, uint32_t key)
{
	unsigned char *p = wl_check_ptr(W, malloc(size), size);
	uint64_t k = hdr_key(key);
	memcpy(p, &k, 8);
	memcpy(p + 8, &size, 4);
	p[size - 1] = (unsigned char)(k >> 8);
	s->p = p;
	s->size = size;
	s->key = key;
}

static void check_and_free(const struct slot *s)
{
	uint64_t k;
	uint32_t size;
	memcpy(&k, s->p, 8);
	memcpy(&size, s->p + 8, 4);
	uint64_t want = hdr_key(s->key);
	if (k != want || size != s->size ||
	    s->p[s->size - 1] != (unsigned char)(want >> 8))
		wl_fail(W, "object %p (size %u) corrupted: header %016" PRIx64
		        "/%u, want %016" PRIx64 "/%u",
		        (void *)s->p, s->size, k, size, want, s->size);
	free(s->p);
}

static void *worker_main(void *arg);

static void start_worker(struct worker *w)
{
	pthread_t t;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, worker_main, w) != 0) {
		atomic_fetch_add(&start_errors, 1);
		pthread_mutex_lock(&done_mu);
		atomic_fetch_sub(&live_workers, 1);
		pthread_cond_signal(&done_cv);
		pthread_mutex_unlock(&done_mu);
	}
	pthread_attr_destroy(&attr);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	wl_rng rng;
	wl_rng_seed(&rng, w->seed);
	struct slot *chunk = pool + w->chunk * slots_per_thread;
	uint32_t key_base = (uint32_t)((w->gen + 1) * 1000003u + (uint64_t)w->chunk * 7919u);
	long n = ops_per_gen;
	for (long i = 0; i < n; i++) {
		long k = (long)wl_below(&rng, (uint64_t)slots_per_thread);
		check_and_free(&chunk[k]);
		uint32_t size = (uint32_t)wl_range(&rng, (uint64_t)min_size, (uint64_t)max_size);
		fill(&chunk[k], size, key_base + (uint32_t)i);
	}
	atomic_fetch_add(&total_ops, 2 * n);
	atomic_fetch_add(&total_gens, 1);

	bool more = seconds_limit > 0 ? !atomic_load(&stop_flag)
	                              : w->gen + 1 < generations;
	if (more) {
		/* Hand the chunk to a fresh thread, like the original. */
		w->gen++;
		w->seed = wl_next(&rng);
		start_worker(w);
	} else {
		pthread_mutex_lock(&done_mu);
		atomic_fetch_sub(&live_workers, 1);
		pthread_cond_signal(&done_cv);
		pthread_mutex_unlock(&done_mu);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	wl_opt opts[] = {
		{ "threads", WL_OPT_LONG, &nthreads, "worker threads (chunks)" },
		{ "min-size", WL_OPT_LONG, &min_size, "smallest object" },
		{ "max-size", WL_OPT_LONG, &max_size, "largest object" },
		{ "slots", WL_OPT_LONG, &slots_per_thread, "pool slots per thread" },
		{ "ops", WL_OPT_LONG, &ops_per_gen, "replacements per thread generation" },
		{ "generations", WL_OPT_LONG, &generations, "thread generations (fixed work)" },
		{ "seconds", WL_OPT_DOUBLE, &seconds_limit, "if > 0: run generations for this long instead" },
		{ "seed", WL_OPT_LONG, &seed, "PRNG seed" },
	};
	if (wl_parse_args(W, argc, argv, opts, WL_NOPTS(opts), true)) {
		ops_per_gen = 50000;
		generations = 20;
	}
	wl_parse_args(W, argc, argv, opts, WL_NOPTS(opts), false);
	wl_require(W, nthreads >= 1 && nthreads <= 1024, "threads in 1..1024");
	wl_require(W, min_size >= HDR_BYTES + 1 && max_size >= min_size &&
	           max_size < (1L << 31), "13 <= min-size <= max-size < 2^31");
	wl_require(W, slots_per_thread >= 1 && ops_per_gen >= 1 && generations >= 1,
	           "slots, ops, generations >= 1");

	long nslots = nthreads * slots_per_thread;
	pool = calloc((size_t)nslots, sizeof *pool);
	struct worker *workers = calloc((size_t)nthreads, sizeof *workers);
	if (pool == NULL || workers == NULL)
		wl_fail(W, "cannot allocate the pool");

	wl_rng rng;
	wl_rng_seed(&rng, (uint64_t)seed);
	/* The main thread allocates the whole initial pool. */
	for (long i = 0; i < nslots; i++)
		fill(&pool[i], (uint32_t)wl_range(&rng, (uint64_t)min_size, (uint64_t)max_size),
		     (uint32_t)i);

	double t0 = wl_now();
	atomic_store(&live_workers, (int)nthreads);
	for (long t = 0; t < nthreads; t++) {
		workers[t].chunk = t;
		workers[t].gen = 0;
		workers[t].seed = wl_next(&rng);
		start_worker(&workers[t]);
	}
	pthread_mutex_lock(&done_mu);
	while (atomic_load(&live_workers) > 0) {
		if (seconds_limit > 0 && !atomic_load(&stop_flag)) {
			double left = seconds_limit - (wl_now() - t0);
			if (left <= 0) {
				atomic_store(&stop_flag, true);
				continue;
			}
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			double when = (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9 +
			              (left < 0.05 ? left : 0.05);
			ts.tv_sec = (time_t)when;
			ts.tv_nsec = (long)((when - (double)ts.tv_sec) * 1e9);
			pthread_cond_timedwait(&done_cv, &done_mu, &ts);
		} else {
			pthread_cond_wait(&done_cv, &done_mu);
		}
	}
	pthread_mutex_unlock(&done_mu);
	double elapsed = wl_now() - t0;
	if (atomic_load(&start_errors) != 0)
		wl_fail(W, "%d thread creations failed", atomic_load(&start_errors));

	/* Verify every live object, count the live bytes, free all. */
	uint64_t live = 0;
	for (long i = 0; i < nslots; i++)
		live += pool[i].size;
	for (long i = 0; i < nslots; i++)
		check_and_free(&pool[i]);
	free(pool);
	free(workers);

	wl_json j;
	wl_json_begin(&j, W);
	wl_json_int(&j, "ops", atomic_load(&total_ops));
	wl_json_double(&j, "seconds", elapsed);
	wl_json_uint(&j, "live_bytes", live);
	wl_json_int(&j, "threads", nthreads);
	wl_json_int(&j, "thread_generations", atomic_load(&total_gens));
	wl_json_end(&j);
	return 0;
}
