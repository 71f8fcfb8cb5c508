/* micro-count: run one micro-benchmark loop for N iterations and nothing
 * else, for instruction counting:
 *
 *   valgrind --tool=callgrind micro-count malloc_free 100000 64
 *   valgrind --tool=callgrind micro-count malloc_free 200000 64
 *
 * and subtract; the difference divided by 100000 is the instructions per
 * operation, free of start-up costs. */
#include "loops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
	fprintf(out, "usage: micro-count <loop> <iters> [size]\nloops:\n");
	for (size_t i = 0; i < micro_nloops; i++)
		fprintf(out, "  %-16s size %zu by default; one iteration = %s\n",
		        micro_loops[i].name, micro_loops[i].default_size, micro_loops[i].op);
}

int main(int argc, char **argv)
{
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return 0;
	}
	if (argc < 3 || argc > 4) {
		usage(stderr);
		return 2;
	}
	const struct micro_loop *l = NULL;
	for (size_t i = 0; i < micro_nloops; i++)
		if (strcmp(micro_loops[i].name, argv[1]) == 0)
			l = &micro_loops[i];
	char *end;
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
	l->fn(size, iters);
	return 0;
}
