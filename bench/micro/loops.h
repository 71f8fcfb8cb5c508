/* Micro-benchmark loops: plain C, calling only the malloc family, shared by
 * the Google Benchmark registration (micro.cc) and the instruction-count
 * driver (count.c). Every loop has the same signature: `size` is the block
 * size (or the largest block size), `iters` the number of operations; what
 * one operation is depends on the loop (see micro_loops[].op). */
#ifndef SABLE_BENCH_LOOPS_H
#define SABLE_BENCH_LOOPS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef void (*micro_loop_fn)(size_t size, long iters);

void loop_malloc_free(size_t size, long iters);
void loop_calloc_free(size_t size, long iters);
void loop_batch(size_t size, long iters);
void loop_realloc_growth(size_t size, long iters);
void loop_realloc_doubling(size_t size, long iters);
void loop_realloc_same_class(size_t size, long iters);
void loop_cross_thread(size_t size, long iters);
void loop_large(size_t size, long iters);
void loop_malloc_free_keep(size_t size, long iters);
void loop_large_mixed(size_t size, long iters);
void loop_empty(size_t size, long iters);

struct micro_loop {
	const char *name;
	micro_loop_fn fn;
	size_t default_size;
	const char *op; /* what one iteration is */
};

extern const struct micro_loop micro_loops[];
extern const size_t micro_nloops;

#ifdef __cplusplus
}
#endif

#endif
