/* realloc-growth: buffers grown with realloc, their contents verified.
 *
 * Doubling phase: a buffer grows 16 B -> 32 B -> ... -> max-double (64 MiB);
 *   after every grow the whole old content is verified and the new part
 *   filled. Repeated `rounds-double` times.
 * Step phase: `buffers` buffers (4) grow in turn by `step` bytes (16) from
 *   `step` up to max-step (1 MiB), so they compete for the space behind each
 *   other; after every grow the first, last-old and one random old word are
 *   checked, the new part filled, and each buffer is verified in full at
 *   the end. Repeated `rounds-step` times.
 *
 * Every 8-byte word i of a buffer holds pattern(i, buffer seed), so any
 * word can be checked on its own.
 *
 * ops = malloc + realloc + free calls; moves = reallocs that moved.
 */
#include "common.h"

#define W "realloc-growth"

static long max_double = 64L << 20;
static long rounds_double = 25;
static long buffers = 4;
static long step = 16;
static long max_step = 1L << 20;
static long rounds_step = 30;

static long n_ops, n_moves;

static inline uint64_t pattern(size_t i, uint64_t seed)
{
	return (i * UINT64_C(0x9e3779b97f4a7c15)) ^ seed;
}

static void fill_words(uint64_t *p, size_t from, size_t to, uint64_t seed)
{
	for (size_t i = from; i < to; i++)
		p[i] = pattern(i, seed);
}

static void verify_words(const uint64_t *p, size_t from, size_t to, uint64_t seed)
{
	uint64_t bad = 0;
	for (size_t i = from; i < to; i++)
		bad |= p[i] ^ pattern(i, seed);
	if (bad != 0) {
		for (size_t i = from; i < to; i++)
			if (p[i] != pattern(i, seed))
				wl_fail(W, "buffer %p word %zu is %016" PRIx64 ", want %016" PRIx64,
				        (const void *)p, i, p[i], pattern(i, seed));
	}
}

static void *grow(void *p, size_t size)
{
	void *q = wl_check_ptr(W, realloc(p, size), size);
	n_ops++;
	if (q != p)
		n_moves++;
	return q;
}

static void phase_double(uint64_t seed)
{
	size_t size = 16;
	uint64_t *p = wl_check_ptr(W, malloc(size), size);
	n_ops++;
	fill_words(p, 0, size / 8, seed);
	while (size < (size_t)max_double) {
		size_t nsize = size * 2;
		p = grow(p, nsize);
		verify_words(p, 0, size / 8, seed);
		fill_words(p, size / 8, nsize / 8, seed);
		size = nsize;
	}
	verify_words(p, 0, size / 8, seed);
	free(p);
	n_ops++;
}

static void phase_step(wl_rng *rng, uint64_t seed)
{
	uint64_t **b = calloc((size_t)buffers, sizeof *b);
	if (b == NULL)
		wl_fail(W, "cannot allocate the buffer table");
	size_t size = (size_t)step;
	for (long k = 0; k < buffers; k++) {
		b[k] = wl_check_ptr(W, malloc(size), size);
		n_ops++;
		fill_words(b[k], 0, size / 8, seed + (uint64_t)k);
	}
	while (size < (size_t)max_step) {
		size_t nsize = size + (size_t)step;
		size_t ow = size / 8;
		for (long k = 0; k < buffers; k++) {
			uint64_t s = seed + (uint64_t)k;
			uint64_t *p = grow(b[k], nsize);
			size_t r = (size_t)wl_below(rng, ow);
			if (p[0] != pattern(0, s) || p[ow - 1] != pattern(ow - 1, s) ||
			    p[r] != pattern(r, s))
				wl_fail(W, "buffer %ld lost its content growing to %zu bytes", k, nsize);
			fill_words(p, ow, nsize / 8, s);
			b[k] = p;
		}
		size = nsize;
	}
	for (long k = 0; k < buffers; k++) {
		verify_words(b[k], 0, size / 8, seed + (uint64_t)k);
		free(b[k]);
		n_ops++;
	}
	free(b);
}

int main(int argc, char **argv)
{
	wl_opt opts[] = {
		{ "max-double", WL_OPT_LONG, &max_double, "doubling phase: final size" },
		{ "rounds-double", WL_OPT_LONG, &rounds_double, "doubling phase: repetitions" },
		{ "buffers", WL_OPT_LONG, &buffers, "step phase: buffers grown in turn" },
		{ "step", WL_OPT_LONG, &step, "step phase: bytes added per grow" },
		{ "max-step", WL_OPT_LONG, &max_step, "step phase: final size" },
		{ "rounds-step", WL_OPT_LONG, &rounds_step, "step phase: repetitions" },
	};
	if (wl_parse_args(W, argc, argv, opts, WL_NOPTS(opts), true)) {
		max_double = 16L << 20;
		rounds_double = 2;
		max_step = 256L << 10;
		rounds_step = 1;
	}
	wl_parse_args(W, argc, argv, opts, WL_NOPTS(opts), false);
	wl_require(W, max_double >= 16 && max_double <= (1L << 36), "max-double in 16..64G");
	wl_require(W, step >= 8 && step % 8 == 0, "step a positive multiple of 8");
	wl_require(W, max_step >= step && buffers >= 1 && buffers <= 1024,
	           "max-step >= step, buffers in 1..1024");
	wl_require(W, rounds_double >= 0 && rounds_step >= 0, "rounds >= 0");

	wl_rng rng;
	wl_rng_seed(&rng, 99);
	double t0 = wl_now();
	for (long r = 0; r < rounds_double; r++)
		phase_double(wl_next(&rng));
	double t1 = wl_now();
	for (long r = 0; r < rounds_step; r++)
		phase_step(&rng, wl_next(&rng));
	double t2 = wl_now();

	wl_json j;
	wl_json_begin(&j, W);
	wl_json_int(&j, "ops", n_ops);
	wl_json_double(&j, "seconds", t2 - t0);
	wl_json_int(&j, "threads", 1);
	wl_json_int(&j, "moves", n_moves);
	wl_json_double(&j, "double_seconds", t1 - t0);
	wl_json_double(&j, "step_seconds", t2 - t1);
	wl_json_end(&j);
	return 0;
}
