/* free-all: does memory go back to the system once everything is freed?
 *
 * Two threads each allocate half of `bytes` (512 MiB) in mostly small
 * blocks (7/8 of them 16-256 B, the rest up to 4096 B), filling them. Then
 * each thread verifies and frees the other thread's blocks (cross-thread
 * frees of everything). The main thread then calls malloc_trim(0) if the
 * process has one (looked up with dlsym, so it works under any allocator),
 * and keeps running `linger` seconds (1) sampling VmRSS, so the runner's
 * RSS-over-time sampling shows the return.
 *
 * ops = allocations + frees; seconds = allocation and free phases.
 * rss_before_kib: before allocating; rss_peak_kib: VmRSS when all blocks
 * are live; rss_after_free_kib: right after the frees; rss_after_trim_kib:
 * right after malloc_trim; rss_end_kib: after lingering.
 */
#include "common.h"

#include <dlfcn.h>
#include <pthread.h>

#define W "free-all"
#define NT 2

static long bytes = 512L << 20;
static long min_size = 16, small_max = 256, max_size = 4096;
static double linger = 1.0;
static long seed = 31337;

struct side {
	pthread_t tid;
	long id;
	unsigned char **ptr;
	uint32_t *size;
	size_t n;
	long ops;
};

static struct side sides[NT];
static pthread_barrier_t barrier;

static inline uint64_t tag_of(long side, size_t i)
{
	return wl_mix64(((uint64_t)side << 48) ^ i);
}

static void *thread_main(void *arg)
{
	struct side *s = arg;
	wl_rng rng;
	wl_rng_seed(&rng, (uint64_t)seed + (uint64_t)s->id);
	uint64_t target = (uint64_t)bytes / NT, live = 0;
	size_t cap = 1 << 16;
	s->ptr = malloc(cap * sizeof *s->ptr);
	s->size = malloc(cap * sizeof *s->size);
	if (s->ptr == NULL || s->size == NULL)
		wl_fail(W, "cannot allocate the block table");
	while (live < target) {
		if (s->n == cap) {
			cap *= 2;
			s->ptr = realloc(s->ptr, cap * sizeof *s->ptr);
			s->size = realloc(s->size, cap * sizeof *s->size);
			if (s->ptr == NULL || s->size == NULL)
				wl_fail(W, "cannot grow the block table");
		}
		uint64_t hi = wl_below(&rng, 8) == 0 ? (uint64_t)max_size : (uint64_t)small_max;
		uint32_t size = (uint32_t)wl_range(&rng, (uint64_t)min_size, hi);
		unsigned char *p = wl_check_ptr(W, malloc(size), size);
		uint64_t t = tag_of(s->id, s->n);
		memset(p, (int)(t & 0xff), size);
		memcpy(p, &t, size < 8 ? size : 8);
		s->ptr[s->n] = p;
		s->size[s->n] = size;
		s->n++;
		live += size;
		s->ops++;
	}
	pthread_barrier_wait(&barrier);

	/* Free the other thread's blocks. */
	struct side *o = &sides[(s->id + 1) % NT];
	for (size_t i = 0; i < o->n; i++) {
		unsigned char *p = o->ptr[i];
		uint32_t size = o->size[i];
		uint64_t t = tag_of(o->id, i), got = 0, want = 0;
		size_t k = size < 8 ? size : 8;
		memcpy(&got, p, k);
		memcpy(&want, &t, k);
		if (got != want || (size > 8 && p[size - 1] != (unsigned char)(t & 0xff)))
			wl_fail(W, "block %zu of thread %ld (%p, size %u) corrupted", i, o->id,
			        (void *)p, size);
		free(p);
		s->ops++;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	wl_opt opts[] = {
		{ "bytes", WL_OPT_LONG, &bytes, "requested bytes allocated in all" },
		{ "min-size", WL_OPT_LONG, &min_size, "smallest block" },
		{ "small-max", WL_OPT_LONG, &small_max, "largest block of the common (7/8) kind" },
		{ "max-size", WL_OPT_LONG, &max_size, "largest block" },
		{ "linger", WL_OPT_DOUBLE, &linger, "seconds to keep running after the trim" },
		{ "seed", WL_OPT_LONG, &seed, "PRNG seed" },
	};
	if (wl_parse_args(W, argc, argv, opts, WL_NOPTS(opts), true))
		bytes = 64L << 20;
	wl_parse_args(W, argc, argv, opts, WL_NOPTS(opts), false);
	wl_require(W, min_size >= 1 && small_max >= min_size && max_size >= small_max &&
	           max_size < (1L << 31), "1 <= min-size <= small-max <= max-size < 2^31");
	wl_require(W, bytes >= NT && linger >= 0, "bytes >= 2, linger >= 0");

	long rss_before = wl_rss_kib();
	pthread_barrier_init(&barrier, NULL, NT);
	double t0 = wl_now();
	for (long i = 0; i < NT; i++) {
		sides[i].id = i;
		if (pthread_create(&sides[i].tid, NULL, thread_main, &sides[i]) != 0)
			wl_fail(W, "pthread_create failed");
	}
	for (long i = 0; i < NT; i++)
		pthread_join(sides[i].tid, NULL);
	double elapsed = wl_now() - t0;
	long rss_peak = wl_status_kib("VmHWM");
	long ops = 0;
	for (long i = 0; i < NT; i++) {
		ops += sides[i].ops;
		free(sides[i].ptr);
		free(sides[i].size);
	}
	pthread_barrier_destroy(&barrier);
	long rss_after_free = wl_rss_kib();

	int (*trim)(size_t) = (int (*)(size_t))dlsym(RTLD_DEFAULT, "malloc_trim");
	double t1 = wl_now();
	int trim_result = trim != NULL ? trim(0) : -1;
	double trim_seconds = wl_now() - t1;
	long rss_after_trim = wl_rss_kib();

	long rss_min = rss_after_trim;
	double end = wl_now() + linger;
	while (wl_now() < end) {
		wl_sleep(0.05);
		long r = wl_rss_kib();
		if (r >= 0 && r < rss_min)
			rss_min = r;
	}
	long rss_end = wl_rss_kib();

	wl_json j;
	wl_json_begin(&j, W);
	wl_json_int(&j, "ops", ops);
	wl_json_double(&j, "seconds", elapsed);
	wl_json_int(&j, "threads", NT);
	wl_json_int(&j, "bytes", bytes);
	wl_json_int(&j, "rss_before_kib", rss_before);
	wl_json_int(&j, "rss_peak_kib", rss_peak);
	wl_json_int(&j, "rss_after_free_kib", rss_after_free);
	wl_json_int(&j, "rss_after_trim_kib", rss_after_trim);
	/* What the runner's report shows as "final RSS": after the lingering. */
	wl_json_int(&j, "final_rss_kib", rss_end);
	wl_json_int(&j, "rss_end_kib", rss_end);
	wl_json_int(&j, "rss_min_kib", rss_min);
	wl_json_bool(&j, "trim_called", trim != NULL);
	wl_json_int(&j, "trim_result", trim_result);
	wl_json_double(&j, "trim_seconds", trim_seconds);
	wl_json_end(&j);
	return 0;
}
