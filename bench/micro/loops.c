/* The micro-benchmark loops (see loops.h). Pointers pass through an empty
 * asm with a "memory" clobber so the compiler cannot pair up and drop the
 * malloc/free calls. */
#include "loops.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline void sink(const void *p)
{
	__asm__ volatile("" : : "r"(p) : "memory");
}

static void oom(size_t size)
{
	fprintf(stderr, "micro: allocation of %zu bytes failed\n", size);
	abort();
}

/* One op: malloc(size), write one byte, free. */
void loop_malloc_free(size_t size, long iters)
{
	for (long i = 0; i < iters; i++) {
		char *p = malloc(size);
		if (p == NULL)
			oom(size);
		*(volatile char *)p = 1;
		sink(p);
		free(p);
	}
}

/* One op: calloc(1, size), read one byte, free. */
void loop_calloc_free(size_t size, long iters)
{
	for (long i = 0; i < iters; i++) {
		char *p = calloc(1, size);
		if (p == NULL)
			oom(size);
		if (*(volatile char *)p != 0)
			abort();
		sink(p);
		free(p);
	}
}

/* One op: malloc(size), write one byte, free, while one other block of the
 * same size, allocated before the loop, stays live (so the freed block is
 * not the only one of its class in use). */
void loop_malloc_free_keep(size_t size, long iters)
{
	char *keep = malloc(size);
	if (keep == NULL)
		oom(size);
	*(volatile char *)keep = 1;
	sink(keep);
	for (long i = 0; i < iters; i++) {
		char *p = malloc(size);
		if (p == NULL)
			oom(size);
		*(volatile char *)p = 1;
		sink(p);
		free(p);
	}
	sink(keep);
	free(keep);
}

#define BATCH 1000

/* One op: 1000 blocks of 8..size bytes (8..512 by default) allocated, then
 * all freed in allocation order. */
void loop_batch(size_t size, long iters)
{
	void *ptr[BATCH];
	size_t sz[BATCH];
	size_t hi = size < 8 ? 8 : size;
	uint64_t x = 0x9e3779b97f4a7c15u;
	for (int k = 0; k < BATCH; k++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		sz[k] = 8 + (size_t)(x % (hi - 8 + 1));
	}
	for (long i = 0; i < iters; i++) {
		for (int k = 0; k < BATCH; k++) {
			ptr[k] = malloc(sz[k]);
			if (ptr[k] == NULL)
				oom(sz[k]);
			sink(ptr[k]);
		}
		for (int k = 0; k < BATCH; k++)
			free(ptr[k]);
	}
}

/* One op: one realloc, growing a buffer by 16 bytes; the buffer is freed
 * and restarted at 16 bytes once it would exceed `size`. */
void loop_realloc_growth(size_t size, long iters)
{
	size_t cur = 16;
	char *p = malloc(cur);
	if (p == NULL)
		oom(cur);
	for (long i = 0; i < iters; i++) {
		if (cur + 16 > size) {
			free(p);
			cur = 16;
			p = malloc(cur);
			if (p == NULL)
				oom(cur);
		}
		cur += 16;
		p = realloc(p, cur);
		if (p == NULL)
			oom(cur);
		p[cur - 1] = 1;
		sink(p);
	}
	free(p);
}

/* One op: a buffer grown by doubling from 16 bytes to `size` (1 MiB by
 * default): realloc(NULL, 16), then realloc to 32, 64, ... bytes, the last
 * byte written after each step, then free. */
void loop_realloc_doubling(size_t size, long iters)
{
	for (long i = 0; i < iters; i++) {
		char *p = NULL;
		for (size_t n = 16; n <= size; n *= 2) {
			p = realloc(p, n);
			if (p == NULL)
				oom(n);
			p[n - 1] = 1;
			sink(p);
		}
		free(p);
	}
}

/* One op: two reallocs that stay within one size class, up to `size` bytes
 * and back down by 8 (48 -> 40 -> 48 ... by default, both in the 48 B class;
 * the block starts at size - 8). */
void loop_realloc_same_class(size_t size, long iters)
{
	size_t lo = size > 8 ? size - 8 : size;
	char *p = malloc(lo);
	if (p == NULL)
		oom(lo);
	for (long i = 0; i < iters; i++) {
		p = realloc(p, size);
		if (p == NULL)
			oom(size);
		p[size - 1] = 1;
		sink(p);
		p = realloc(p, lo);
		if (p == NULL)
			oom(lo);
		p[lo - 1] = 1;
		sink(p);
	}
	free(p);
}

#define RING 256

struct xring {
	_Alignas(64) atomic_long head;
	_Alignas(64) atomic_long tail;
	_Alignas(64) void *slot[RING];
	long n;
};

static void *xfreer(void *arg)
{
	struct xring *r = arg;
	long tail = 0;
	while (tail < r->n) {
		long head = atomic_load_explicit(&r->head, memory_order_acquire);
		if (head == tail) {
			sched_yield();
			continue;
		}
		while (tail < head) {
			free(r->slot[tail & (RING - 1)]);
			tail++;
		}
		atomic_store_explicit(&r->tail, tail, memory_order_release);
	}
	return NULL;
}

/* One op: the calling thread allocates a block of `size` bytes, a second
 * thread frees it (blocks pass through a ring of 256). Includes one thread
 * creation per call: call with many iterations. */
void loop_cross_thread(size_t size, long iters)
{
	struct xring *r = aligned_alloc(64, sizeof *r);
	if (r == NULL)
		oom(sizeof *r);
	atomic_init(&r->head, 0);
	atomic_init(&r->tail, 0);
	r->n = iters;
	pthread_t t;
	if (pthread_create(&t, NULL, xfreer, r) != 0) {
		fprintf(stderr, "micro: pthread_create failed\n");
		abort();
	}
	for (long i = 0; i < iters; i++) {
		while (i - atomic_load_explicit(&r->tail, memory_order_acquire) >= RING)
			sched_yield();
		char *p = malloc(size);
		if (p == NULL)
			oom(size);
		*(volatile char *)p = 1;
		r->slot[i & (RING - 1)] = p;
		atomic_store_explicit(&r->head, i + 1, memory_order_release);
	}
	pthread_join(t, NULL);
	free(r);
}

/* One op: malloc(size) (meant for 4 KiB - 256 KiB), write the first and the
 * last byte, free. */
void loop_large(size_t size, long iters)
{
	for (long i = 0; i < iters; i++) {
		char *p = malloc(size);
		if (p == NULL)
			oom(size);
		*(volatile char *)p = 1;
		*(volatile char *)(p + size - 1) = 1;
		sink(p);
		free(p);
	}
}

#define LARGE_MIXED_N 1024
#define LARGE_MIXED_MIN 4096

/* One op: malloc of a size between 4 KiB and `size` bytes (256 KiB by
 * default), write the first and the last byte, free. The sizes cycle through
 * a fixed table of 1024 drawn with a fixed seed, roughly log-uniform: a
 * power of two from 4 KiB up to below `size` is picked uniformly, then a
 * size uniformly between it and twice it (capped at `size`). */
void loop_large_mixed(size_t size, long iters)
{
	size_t sz[LARGE_MIXED_N];
	size_t hi = size < LARGE_MIXED_MIN ? LARGE_MIXED_MIN : size;
	int nexp = 0;
	while (((size_t)LARGE_MIXED_MIN << (nexp + 1)) <= hi)
		nexp++;
	uint64_t x = 0x2545f4914f6cdd1du;
	for (int k = 0; k < LARGE_MIXED_N; k++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		size_t lo = (size_t)LARGE_MIXED_MIN << (nexp > 0 ? (int)(x % (uint64_t)nexp) : 0);
		size_t top = lo * 2 > hi ? hi : lo * 2;
		sz[k] = lo + (size_t)((x >> 32) % (top - lo + 1));
	}
	for (long i = 0; i < iters; i++) {
		size_t n = sz[i & (LARGE_MIXED_N - 1)];
		char *p = malloc(n);
		if (p == NULL)
			oom(n);
		*(volatile char *)p = 1;
		*(volatile char *)(p + n - 1) = 1;
		sink(p);
		free(p);
	}
}

/* One op: the malloc_free loop's own work (a volatile write, the sink, the
 * loop counter) on a static buffer, with no allocation: a baseline. */
void loop_empty(size_t size, long iters)
{
	static char buf[64];
	(void)size;
	for (long i = 0; i < iters; i++) {
		char *p = buf;
		sink(p);
		*(volatile char *)p = 1;
		sink(p);
	}
}

const struct micro_loop micro_loops[] = {
	{ "malloc_free", loop_malloc_free, 64, "malloc + free" },
	{ "calloc_free", loop_calloc_free, 64, "calloc + free" },
	{ "batch", loop_batch, 512, "1000 mallocs then 1000 frees" },
	{ "realloc_growth", loop_realloc_growth, 4096, "realloc by +16 B" },
	{ "realloc_doubling", loop_realloc_doubling, 1 << 20, "realloc doubling 16 B..size, then free" },
	{ "realloc_same_class", loop_realloc_same_class, 48, "two reallocs within one class (size-8, size)" },
	{ "cross_thread", loop_cross_thread, 64, "malloc here + free on another thread" },
	{ "large", loop_large, 65536, "malloc + free of a large block" },
	{ "malloc_free_keep", loop_malloc_free_keep, 64, "malloc + free, one other block of the size live" },
	{ "large_mixed", loop_large_mixed, 262144, "malloc + free of 4 KiB..size (log-uniform)" },
	{ "empty", loop_empty, 64, "the malloc_free loop without malloc and free" },
};
const size_t micro_nloops = sizeof micro_loops / sizeof micro_loops[0];
