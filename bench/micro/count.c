/* micro-count: run one micro-benchmark loop for N iterations and nothing
 * else, for instruction counting:
 *
 *   valgrind --tool=callgrind micro-count malloc_free 100000 64
 *   valgrind --tool=callgrind micro-count malloc_free 200000 64
 *
 * and subtract; the difference divided by 100000 is the instructions per
 * operation, free of start-up costs (bench/icount does this for every loop
 * and allocator).
 *
 * Two options, before the loop name, serve native timing:
 *
 *   micro-count --threads 2 --time malloc_free 10000000
 *
 * runs the loop in 2 threads at once (each doing all the iterations, started
 * together) and prints one JSON line with the wall-clock seconds from the
 * start to the last thread's end. Without options nothing is printed and the
 * loop runs on the main thread, as before. */
#include "loops.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_THREADS 64

static void usage(FILE *out)
{
	fprintf(out, "usage: micro-count [--threads T] [--time] <loop> <iters> [size]\nloops:\n");
	for (size_t i = 0; i < micro_nloops; i++)
		fprintf(out, "  %-16s size %zu by default; one iteration = %s\n",
		        micro_loops[i].name, micro_loops[i].default_size, micro_loops[i].op);
}

struct job {
	const struct micro_loop *loop;
	size_t size;
	long iters;
	pthread_barrier_t *start;
};

static void *run_job(void *arg)
{
	struct job *j = arg;
	pthread_barrier_wait(j->start);
	j->loop->fn(j->size, j->iters);
	return NULL;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return 0;
	}
	long nthreads = 0; /* 0: the loop runs on the main thread */
	int timed = 0;
	char *end;
	int a = 1;
	while (a < argc && strncmp(argv[a], "--", 2) == 0) {
		if (strcmp(argv[a], "--time") == 0) {
			timed = 1;
			a++;
		} else if (strcmp(argv[a], "--threads") == 0 && a + 1 < argc) {
			nthreads = strtol(argv[a + 1], &end, 10);
			if (*end != '\0' || nthreads < 1 || nthreads > MAX_THREADS) {
				usage(stderr);
				return 2;
			}
			a += 2;
		} else {
			usage(stderr);
			return 2;
		}
	}
	argc -= a - 1;
	argv += a - 1;
	if (argc < 3 || argc > 4) {
		usage(stderr);
		return 2;
	}
	const struct micro_loop *l = NULL;
	for (size_t i = 0; i < micro_nloops; i++)
		if (strcmp(micro_loops[i].name, argv[1]) == 0)
			l = &micro_loops[i];
	long iters = strtol(argv[2], &end, 0);
	if (l == NULL || *end != '\0' || iters < 0) {
		usage(stderr);
		return 2;
	}
	size_t size = l->default_size;
	if (argc == 4) {
		unsigned long long s = strtoull(argv[3], &end, 0);
		if (*end != '\0' || s == 0) {
			usage(stderr);
			return 2;
		}
		size = (size_t)s;
	}
	if (nthreads == 0) {
		double t0 = timed ? now() : 0;
		l->fn(size, iters);
		if (timed)
			printf("{\"loop\":\"%s\",\"size\":%zu,\"iters\":%ld,\"threads\":1,\"seconds\":%.9f}\n",
			       l->name, size, iters, now() - t0);
		return 0;
	}
	pthread_t tid[MAX_THREADS];
	struct job job[MAX_THREADS];
	pthread_barrier_t start;
	pthread_barrier_init(&start, NULL, (unsigned)nthreads + 1);
	for (long t = 0; t < nthreads; t++) {
		job[t] = (struct job){ l, size, iters, &start };
		if (pthread_create(&tid[t], NULL, run_job, &job[t]) != 0) {
			fprintf(stderr, "micro-count: pthread_create failed\n");
			return 1;
		}
	}
	pthread_barrier_wait(&start);
	double t0 = now();
	for (long t = 0; t < nthreads; t++)
		pthread_join(tid[t], NULL);
	double secs = now() - t0;
	pthread_barrier_destroy(&start);
	if (timed)
		printf("{\"loop\":\"%s\",\"size\":%zu,\"iters\":%ld,\"threads\":%ld,\"seconds\":%.9f}\n",
		       l->name, size, iters, nthreads, secs);
	return 0;
}
