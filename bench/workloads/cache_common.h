/* The body of the two false-sharing workloads, modelled on Hoard's
 * cache-scratch (passive false sharing) and cache-thrash (active false
 * sharing). Include after defining WL_NAME and WL_SCRATCH (1 or 0).
 *
 * Each of T threads, for I iterations, allocates an object of S bytes,
 * zeroes it, increments every byte R times through a volatile pointer
 * (each increment is a load and a store to the object's cache line),
 * verifies every byte equals R mod 256, and frees it.
 *
 * scratch: the main thread first allocates T objects back to back (so they
 *   likely share cache lines) and hands object t to thread t, which frees
 *   it before its loop: an allocator that hands the freed object back to
 *   the thread keeps the threads writing to the same cache line.
 * thrash: no hand-over; an allocator that carves the threads' objects from
 *   the same cache line makes them fight over it.
 *
 * ops = allocations + frees; writes = byte increments.
 */
#include "common.h"

#include <pthread.h>

#define W WL_NAME

static long nthreads = 2;
static long iterations = 50000;
static long obj_size = 8;
static long repetitions = 10000;

struct worker {
	pthread_t tid;
	long id;
	void *handed; /* scratch: the object from the main thread */
	uint64_t checksum;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	uint64_t check = 0;
	if (w->handed != NULL)
		free(w->handed);
	for (long it = 0; it < iterations; it++) {
		unsigned char *p = wl_check_ptr(W, malloc((size_t)obj_size), (size_t)obj_size);
		memset(p, 0, (size_t)obj_size);
		volatile unsigned char *v = p;
		for (long r = 0; r < repetitions; r++)
			for (long b = 0; b < obj_size; b++)
				v[b] = (unsigned char)(v[b] + 1);
		for (long b = 0; b < obj_size; b++) {
			if (p[b] != (unsigned char)repetitions)
				wl_fail(W, "thread %ld: object %p byte %ld is %u, want %u",
				        w->id, (void *)p, b, p[b], (unsigned)(unsigned char)repetitions);
			check += p[b];
		}
		free(p);
	}
	w->checksum = check;
	return NULL;
}

int main(int argc, char **argv)
{
	wl_opt opts[] = {
		{ "threads", WL_OPT_LONG, &nthreads, "threads" },
		{ "iterations", WL_OPT_LONG, &iterations, "objects allocated per thread" },
		{ "size", WL_OPT_LONG, &obj_size, "object size in bytes" },
		{ "repetitions", WL_OPT_LONG, &repetitions, "increments of every byte per object" },
	};
	if (wl_parse_args(W, argc, argv, opts, WL_NOPTS(opts), true))
		iterations = 1000;
	wl_parse_args(W, argc, argv, opts, WL_NOPTS(opts), false);
	wl_require(W, nthreads >= 1 && nthreads <= 1024, "threads in 1..1024");
	wl_require(W, iterations >= 1 && repetitions >= 1, "iterations, repetitions >= 1");
	wl_require(W, obj_size >= 1 && obj_size <= (1L << 20), "size in 1..1M");

	struct worker *ws = calloc((size_t)nthreads, sizeof *ws);
	if (ws == NULL)
		wl_fail(W, "cannot allocate the workers");
	for (long t = 0; t < nthreads; t++) {
		ws[t].id = t;
		if (WL_SCRATCH)
			ws[t].handed = wl_check_ptr(W, malloc((size_t)obj_size), (size_t)obj_size);
	}

	double t0 = wl_now();
	for (long t = 0; t < nthreads; t++)
		if (pthread_create(&ws[t].tid, NULL, worker_main, &ws[t]) != 0)
			wl_fail(W, "pthread_create failed");
	uint64_t checksum = 0;
	for (long t = 0; t < nthreads; t++) {
		pthread_join(ws[t].tid, NULL);
		checksum += ws[t].checksum;
	}
	double elapsed = wl_now() - t0;
	free(ws);

	uint64_t want = (uint64_t)nthreads * (uint64_t)iterations * (uint64_t)obj_size *
	                (unsigned char)repetitions;
	if (checksum != want)
		wl_fail(W, "checksum %" PRIu64 ", want %" PRIu64, checksum, want);

	wl_json j;
	wl_json_begin(&j, W);
	wl_json_int(&j, "ops", 2 * nthreads * iterations);
	wl_json_double(&j, "seconds", elapsed);
	wl_json_int(&j, "threads", nthreads);
	wl_json_int(&j, "writes", nthreads * iterations * repetitions * obj_size);
	wl_json_int(&j, "object_size", obj_size);
	wl_json_end(&j);
	return 0;
}
