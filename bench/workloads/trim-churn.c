/* trim-churn: malloc, free and realloc churn with malloc_trim(0) every 256
 * operations, the pattern of a common malloc stress test.
 *
 * `slots` (4096) slots, each empty or holding one block of 16 B - 64 KiB
 * (uniform). Each operation picks a random slot: an empty one gets a
 * malloc; a full one is freed or, with probability 1/2, reallocated to a
 * new random size (so as many grows as shrinks). About 2/3 of the slots are
 * full in the steady state. A block's pages are touched: one word per 4 KiB
 * page and its last word hold tag ^ offset; they are checked before a free
 * and, as far as they are kept, after a realloc. Every `trim-every` (256)
 * operations malloc_trim(0) is called (0: never). At the end everything is
 * freed and malloc_trim(0) called once more.
 *
 * malloc_trim is looked up with dlsym, as in free-all. Of the preloaded
 * allocators only sable defines it; under jemalloc, tcmalloc and mimalloc
 * the call reaches glibc's own (and nearly empty) heap, as it would in any
 * program linked against glibc.
 *
 * ops = malloc + free + realloc calls (the trims not counted);
 * seconds = the churn, trims included; trim_seconds = the time in the
 * periodic trims; rss_after_free_kib: VmRSS once everything is freed;
 * final_rss_kib (and rss_after_trim_kib): VmRSS after the final trim.
 */
#include "common.h"

#include <dlfcn.h>

#define W "trim-churn"
#define PAGE 4096

static long min_size = 16, max_size = 64L << 10;
static long slots = 4096;
static long nops = 300000;
static long trim_every = 256;
static long seed = 2718;

struct slot {
	unsigned char *p;
	size_t size;
	uint64_t tag;
};

static inline void put(unsigned char *p, size_t off, uint64_t tag)
{
	uint64_t v = tag ^ off;
	memcpy(p + off, &v, 8);
}

/* The last touched word: 8-aligned, so it either is a page word or does not
 * overlap one. */
static inline size_t last_word(size_t size)
{
	return (size - 8) & ~(size_t)7;
}

static void touch(unsigned char *p, size_t size, uint64_t tag)
{
	for (size_t off = 0; off + 8 <= size; off += PAGE)
		put(p, off, tag);
	put(p, last_word(size), tag);
}

/* Check the words touch(p, size, tag) wrote that lie in the first `limit`
 * bytes (limit <= size after a shrinking realloc); returns their hash. */
static uint64_t check(const struct slot *s, size_t size, size_t limit)
{
	uint64_t bad = 0, sum = 0, v;
	for (size_t off = 0; off + 8 <= limit; off += PAGE) {
		memcpy(&v, s->p + off, 8);
		bad |= v ^ (s->tag ^ off);
		sum += v;
	}
	size_t lw = last_word(size);
	if (lw + 8 <= limit) {
		memcpy(&v, s->p + lw, 8);
		bad |= v ^ (s->tag ^ lw);
		sum += v;
	}
	if (bad != 0)
		wl_fail(W, "block %p (%zu bytes) corrupted", (void *)s->p, size);
	return sum;
}

int main(int argc, char **argv)
{
	wl_opt opts[] = {
		{ "min-size", WL_OPT_LONG, &min_size, "smallest block" },
		{ "max-size", WL_OPT_LONG, &max_size, "largest block" },
		{ "slots", WL_OPT_LONG, &slots, "slots of the working set" },
		{ "ops", WL_OPT_LONG, &nops, "malloc, free and realloc calls" },
		{ "trim-every", WL_OPT_LONG, &trim_every, "operations between malloc_trim(0) calls (0: never)" },
		{ "seed", WL_OPT_LONG, &seed, "PRNG seed" },
	};
	if (wl_parse_args(W, argc, argv, opts, WL_NOPTS(opts), true))
		nops = 30000;
	wl_parse_args(W, argc, argv, opts, WL_NOPTS(opts), false);
	wl_require(W, min_size >= 8 && max_size >= min_size && max_size <= (1L << 32),
	           "8 <= min-size <= max-size <= 4G");
	wl_require(W, slots >= 1 && slots <= (1L << 24) && nops >= 0 && trim_every >= 0,
	           "slots in 1..16M, ops >= 0, trim-every >= 0");

	struct slot *slot = calloc((size_t)slots, sizeof *slot);
	if (slot == NULL)
		wl_fail(W, "cannot allocate the slot table");
	int (*trim)(size_t) = (int (*)(size_t))dlsym(RTLD_DEFAULT, "malloc_trim");
	wl_rng rng;
	wl_rng_seed(&rng, (uint64_t)seed);
	long n_malloc = 0, n_free = 0, n_realloc = 0, n_grow = 0, n_moves = 0;
	long n_trims = 0;
	uint64_t live = 0, peak_live = 0, sum = 0;
	double trim_seconds = 0;

	double t0 = wl_now();
	for (long i = 1; i <= nops; i++) {
		struct slot *s = &slot[wl_below(&rng, (uint64_t)slots)];
		size_t size = (size_t)wl_range(&rng, (uint64_t)min_size, (uint64_t)max_size);
		if (s->p == NULL) {
			s->p = wl_check_ptr(W, malloc(size), size);
			s->size = size;
			s->tag = wl_next(&rng);
			touch(s->p, size, s->tag);
			live += size;
			n_malloc++;
		} else if (wl_below(&rng, 2) == 0) {
			sum += check(s, s->size, s->size);
			free(s->p);
			s->p = NULL;
			live -= s->size;
			n_free++;
		} else {
			size_t old = s->size;
			unsigned char *q = wl_check_ptr(W, realloc(s->p, size), size);
			if (q != s->p)
				n_moves++;
			s->p = q;
			sum += check(s, old, size < old ? size : old);
			s->size = size;
			touch(q, size, s->tag);
			live = live - old + size;
			n_realloc++;
			n_grow += size > old;
		}
		if (live > peak_live)
			peak_live = live;
		if (trim_every > 0 && i % trim_every == 0 && trim != NULL) {
			double t = wl_now();
			trim(0);
			trim_seconds += wl_now() - t;
			n_trims++;
		}
	}
	double elapsed = wl_now() - t0;
	long rss_churn = wl_rss_kib();

	long n_live = 0;
	for (long k = 0; k < slots; k++) {
		if (slot[k].p != NULL) {
			sum += check(&slot[k], slot[k].size, slot[k].size);
			free(slot[k].p);
			n_free++;
			n_live++;
		}
	}
	free(slot);
	long rss_after_free = wl_rss_kib();
	double t1 = wl_now();
	int trim_result = trim != NULL ? trim(0) : -1;
	double final_trim_seconds = wl_now() - t1;
	long rss_after_trim = wl_rss_kib();

	wl_json j;
	wl_json_begin(&j, W);
	wl_json_int(&j, "ops", n_malloc + n_free + n_realloc);
	wl_json_double(&j, "seconds", elapsed);
	wl_json_int(&j, "threads", 1);
	wl_json_int(&j, "mallocs", n_malloc);
	wl_json_int(&j, "frees", n_free);
	wl_json_int(&j, "reallocs", n_realloc);
	wl_json_int(&j, "grows", n_grow);
	wl_json_int(&j, "moves", n_moves);
	wl_json_int(&j, "trims", n_trims);
	wl_json_double(&j, "trim_seconds", trim_seconds);
	wl_json_uint(&j, "peak_live_bytes", peak_live);
	wl_json_int(&j, "live_at_end", n_live);
	wl_json_int(&j, "rss_churn_end_kib", rss_churn);
	wl_json_int(&j, "rss_after_free_kib", rss_after_free);
	wl_json_int(&j, "rss_after_trim_kib", rss_after_trim);
	/* What the runner's report shows as "final RSS": after the last trim. */
	wl_json_int(&j, "final_rss_kib", rss_after_trim);
	wl_json_int(&j, "peak_rss_kib", wl_status_kib("VmHWM"));
	wl_json_bool(&j, "trim_called", trim != NULL);
	wl_json_int(&j, "trim_result", trim_result);
	wl_json_double(&j, "final_trim_seconds", final_trim_seconds);
	wl_json_hex(&j, "checksum", sum);
	wl_json_end(&j);
	return 0;
}
