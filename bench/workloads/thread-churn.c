/* thread-churn: many short-lived threads, a few at a time. Each thread
 * allocates a few hundred small objects (16-512 B), writes and verifies
 * them, frees most of them, and leaves a handful to its successor in the
 * same lane, which verifies and frees them: the allocator must cope with
 * thread caches that die with objects still owed to them, and with frees
 * of memory allocated by threads that no longer exist.
 *
 * ops = allocations + frees; threads = concurrent threads (lanes).
 */
#include "common.h"

#include <pthread.h>

#define W "thread-churn"
#define MAX_ALLOCS 4096
#define MAX_LEFT 256

static long lanes = 2;
static long total_threads = 40000;
static long allocs = 300;
static long left_over = 16;
static long min_size = 16, max_size = 512;
static long seed = 2024;

struct lane {
	long id;
	long gen;
	pthread_t tid;
	unsigned char *left[MAX_LEFT]; /* handed to the next thread */
	uint32_t left_size[MAX_LEFT];
	uint64_t left_tag[MAX_LEFT];
	long nleft;
	long ops;
	uint64_t checksum;
};

static void verify(const unsigned char *p, uint32_t size, uint64_t tag, const char *what)
{
	if (!wl_tagged_ok(p, size, tag))
		wl_fail(W, "%s object %p (size %u) corrupted", what, (void *)p, size);
}

static void *thread_main(void *arg)
{
	struct lane *l = arg;
	unsigned char *ptr[MAX_ALLOCS];
	uint32_t sz[MAX_ALLOCS];
	uint64_t tag[MAX_ALLOCS];
	wl_rng rng;
	wl_rng_seed(&rng, (uint64_t)seed ^ ((uint64_t)l->id << 40) ^ (uint64_t)l->gen);
	long ops = 0;
	uint64_t check = 0;

	/* Free what the previous thread of this lane left behind. */
	for (long i = 0; i < l->nleft; i++) {
		verify(l->left[i], l->left_size[i], l->left_tag[i], "inherited");
		check += l->left_tag[i];
		free(l->left[i]);
		ops++;
	}
	l->nleft = 0;

	for (long i = 0; i < allocs; i++) {
		sz[i] = (uint32_t)wl_range(&rng, (uint64_t)min_size, (uint64_t)max_size);
		tag[i] = wl_next(&rng);
		ptr[i] = wl_check_ptr(W, malloc(sz[i]), sz[i]);
		wl_fill_tagged(ptr[i], sz[i], tag[i]);
		ops++;
		/* Free an older object now and then: interleaved lifetimes. */
		if ((i & 3) == 3) {
			long k = (long)wl_below(&rng, (uint64_t)i + 1);
			if (ptr[k] != NULL) {
				verify(ptr[k], sz[k], tag[k], "own");
				check += tag[k];
				free(ptr[k]);
				ptr[k] = NULL;
				ops++;
			}
		}
	}
	for (long i = 0; i < allocs; i++) {
		if (ptr[i] == NULL)
			continue;
		if (l->nleft < left_over) {
			l->left[l->nleft] = ptr[i];
			l->left_size[l->nleft] = sz[i];
			l->left_tag[l->nleft] = tag[i];
			l->nleft++;
			continue;
		}
		verify(ptr[i], sz[i], tag[i], "own");
		check += tag[i];
		free(ptr[i]);
		ops++;
	}
	l->ops += ops;
	l->checksum += check;
	return NULL;
}

int main(int argc, char **argv)
{
	wl_opt opts[] = {
		{ "threads", WL_OPT_LONG, &lanes, "threads alive at a time" },
		{ "total-threads", WL_OPT_LONG, &total_threads, "threads created in all" },
		{ "allocs", WL_OPT_LONG, &allocs, "allocations per thread" },
		{ "left-over", WL_OPT_LONG, &left_over, "objects each thread leaves to its successor" },
		{ "min-size", WL_OPT_LONG, &min_size, "smallest object" },
		{ "max-size", WL_OPT_LONG, &max_size, "largest object" },
		{ "seed", WL_OPT_LONG, &seed, "PRNG seed" },
	};
	if (wl_parse_args(W, argc, argv, opts, WL_NOPTS(opts), true))
		total_threads = 2000;
	wl_parse_args(W, argc, argv, opts, WL_NOPTS(opts), false);
	wl_require(W, lanes >= 1 && lanes <= 256, "threads in 1..256");
	wl_require(W, total_threads >= lanes, "total-threads >= threads");
	wl_require(W, allocs >= 1 && allocs <= MAX_ALLOCS, "allocs in 1..4096");
	wl_require(W, left_over >= 0 && left_over <= MAX_LEFT && left_over <= allocs,
	           "left-over in 0..min(256, allocs)");
	wl_require(W, min_size >= 8 && max_size >= min_size && max_size < (1L << 31),
	           "8 <= min-size <= max-size < 2^31");

	struct lane *ls = calloc((size_t)lanes, sizeof *ls);
	if (ls == NULL)
		wl_fail(W, "cannot allocate the lanes");
	for (long i = 0; i < lanes; i++)
		ls[i].id = i;

	double t0 = wl_now();
	long rounds = total_threads / lanes;
	for (long r = 0; r < rounds; r++) {
		for (long i = 0; i < lanes; i++) {
			ls[i].gen = r;
			if (pthread_create(&ls[i].tid, NULL, thread_main, &ls[i]) != 0)
				wl_fail(W, "pthread_create failed");
		}
		for (long i = 0; i < lanes; i++)
			pthread_join(ls[i].tid, NULL);
	}
	double elapsed = wl_now() - t0;

	long ops = 0;
	uint64_t checksum = 0;
	for (long i = 0; i < lanes; i++) {
		for (long k = 0; k < ls[i].nleft; k++) {
			verify(ls[i].left[k], ls[i].left_size[k], ls[i].left_tag[k], "final");
			ls[i].checksum += ls[i].left_tag[k];
			free(ls[i].left[k]);
		}
		ops += ls[i].ops;
		checksum += ls[i].checksum;
	}
	free(ls);

	wl_json j;
	wl_json_begin(&j, W);
	wl_json_int(&j, "ops", ops);
	wl_json_double(&j, "seconds", elapsed);
	wl_json_int(&j, "threads", lanes);
	wl_json_int(&j, "threads_created", rounds * lanes);
	wl_json_hex(&j, "checksum", checksum);
	wl_json_end(&j);
	return 0;
}
