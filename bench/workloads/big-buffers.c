/* big-buffers: zeroed big buffers, as compression, I/O and tensor code uses
 * them. Blocks of 4 - 32 MiB (uniform, never a whole number of pages) are
 * allocated zeroed and then written in full: every byte gets a word pattern
 * (tag ^ word index), then a few words (the first, the last and 8 at random)
 * are read back into a checksum. Up to `live` (3) blocks are live at a
 * time: before each allocation a random live block is verified and freed
 * when all slots are taken, and otherwise with probability 1/2, so between
 * 1 and `live` blocks are live.
 *
 * Built twice, as two workloads, by how the block is zeroed:
 *   big-buffers-calloc  calloc(1, size)
 *   big-buffers-memset  malloc(size), then memset(p, 0, size)
 * An allocator that hands out fresh pages for calloc skips the zeroing; one
 * that keeps freed big blocks mapped saves the page faults.
 *
 * ops = allocations + frees; bytes_touched = bytes of the blocks written;
 * checksum = over the words read back (the same under every allocator).
 */
#include "common.h"

#ifndef BIG_BUFFERS_CALLOC
#error "build with -DBIG_BUFFERS_CALLOC=1 (calloc) or 0 (malloc + memset)"
#endif

#if BIG_BUFFERS_CALLOC
#define W "big-buffers-calloc"
#else
#define W "big-buffers-memset"
#endif

#define MAX_LIVE 64
#define PAGE 4096
#define SAMPLES 8

static long min_size = 4L << 20, max_size = 32L << 20;
static long steps = 500;
static long nlive = 3;
static long seed = 4242;

struct blk {
	unsigned char *p;
	size_t size;
	uint64_t tag;
};

static inline uint64_t pattern(size_t i, uint64_t tag)
{
	return (i * UINT64_C(0x9e3779b97f4a7c15)) ^ tag;
}

/* Byte `at` of the pattern: byte at % 8 of word at / 8 (little or big
 * endian alike, since memcpy writes the words the same way). */
static inline unsigned char pattern_byte(size_t at, uint64_t tag)
{
	uint64_t w = pattern(at / 8, tag);
	unsigned char b[8];
	memcpy(b, &w, 8);
	return b[at % 8];
}

static void *zeroed(size_t size)
{
#if BIG_BUFFERS_CALLOC
	return wl_check_ptr(W, calloc(1, size), size);
#else
	void *p = wl_check_ptr(W, malloc(size), size);
	/* Keeps the compiler from turning malloc + memset into calloc. */
	wl_escape(p);
	memset(p, 0, size);
	wl_escape(p);
	return p;
#endif
}

/* The block must be zero: check the first and last word and a few words
 * in between (a block handed out again must have been zeroed). */
static void check_zero(const struct blk *b, wl_rng *rng)
{
	size_t words = b->size / 8;
	uint64_t bad = 0, v;
	for (int s = 0; s < SAMPLES; s++) {
		size_t i = s == 0 ? 0 : s == 1 ? words - 1 : (size_t)wl_below(rng, words);
		memcpy(&v, b->p + i * 8, 8);
		bad |= v;
	}
	bad |= b->p[b->size - 1];
	if (bad != 0)
		wl_fail(W, "block %p (%zu bytes) is not zeroed", (void *)b->p, b->size);
}

static void fill(struct blk *b)
{
	uint64_t *w = (uint64_t *)(void *)b->p;
	size_t words = b->size / 8;
	for (size_t i = 0; i < words; i++)
		w[i] = pattern(i, b->tag);
	for (size_t at = words * 8; at < b->size; at++)
		b->p[at] = pattern_byte(at, b->tag);
	wl_escape(b->p);
}

/* Read the first and last word, the last byte and a few words at random;
 * fail if any differs from the pattern, else fold them into the checksum. */
static uint64_t read_back(const struct blk *b, wl_rng *rng)
{
	size_t words = b->size / 8;
	uint64_t sum = 0, bad = 0, v;
	for (int s = 0; s < SAMPLES; s++) {
		size_t i = s == 0 ? 0 : s == 1 ? words - 1 : (size_t)wl_below(rng, words);
		memcpy(&v, b->p + i * 8, 8);
		bad |= v ^ pattern(i, b->tag);
		sum = wl_mix64(sum ^ v);
	}
	unsigned char last = b->p[b->size - 1];
	bad |= (uint64_t)(last ^ pattern_byte(b->size - 1, b->tag));
	if (bad != 0)
		wl_fail(W, "block %p (%zu bytes) corrupted", (void *)b->p, b->size);
	return wl_mix64(sum ^ last);
}

int main(int argc, char **argv)
{
	wl_opt opts[] = {
		{ "min-size", WL_OPT_LONG, &min_size, "smallest block" },
		{ "max-size", WL_OPT_LONG, &max_size, "largest block" },
		{ "steps", WL_OPT_LONG, &steps, "blocks allocated" },
		{ "live", WL_OPT_LONG, &nlive, "most blocks live at a time" },
		{ "seed", WL_OPT_LONG, &seed, "PRNG seed" },
	};
	if (wl_parse_args(W, argc, argv, opts, WL_NOPTS(opts), true))
		steps = 20;
	wl_parse_args(W, argc, argv, opts, WL_NOPTS(opts), false);
	wl_require(W, min_size >= 16 && max_size >= min_size && max_size <= (1L << 40) &&
	           (max_size > min_size || min_size % PAGE != 0),
	           "16 <= min-size <= max-size, not one whole number of pages");
	wl_require(W, nlive >= 1 && nlive <= MAX_LIVE && steps >= 0,
	           "live in 1..64, steps >= 0");

	struct blk live[MAX_LIVE];
	long n = 0;
	wl_rng rng;
	wl_rng_seed(&rng, (uint64_t)seed);
	long ops = 0;
	uint64_t touched = 0, live_bytes = 0, peak_live = 0, sum = 0;

	double t0 = wl_now();
	for (long i = 0; i < steps; i++) {
		if (n == nlive || (n > 0 && wl_below(&rng, 2) == 0)) {
			long k = (long)wl_below(&rng, (uint64_t)n);
			sum = wl_mix64(sum ^ read_back(&live[k], &rng));
			free(live[k].p);
			live_bytes -= live[k].size;
			live[k] = live[--n];
			ops++;
		}
		struct blk *b = &live[n++];
		do
			b->size = (size_t)wl_range(&rng, (uint64_t)min_size, (uint64_t)max_size);
		while (b->size % PAGE == 0);
		b->tag = wl_next(&rng);
		b->p = zeroed(b->size);
		ops++;
		check_zero(b, &rng);
		fill(b);
		sum = wl_mix64(sum ^ read_back(b, &rng));
		touched += b->size;
		live_bytes += b->size;
		if (live_bytes > peak_live)
			peak_live = live_bytes;
	}
	while (n > 0) {
		n--;
		sum = wl_mix64(sum ^ read_back(&live[n], &rng));
		free(live[n].p);
		ops++;
	}
	double elapsed = wl_now() - t0;

	wl_json j;
	wl_json_begin(&j, W);
	wl_json_int(&j, "ops", ops);
	wl_json_double(&j, "seconds", elapsed);
	wl_json_int(&j, "threads", 1);
	wl_json_uint(&j, "bytes_touched", touched);
	wl_json_uint(&j, "peak_live_bytes", peak_live);
	wl_json_int(&j, "peak_rss_kib", wl_status_kib("VmHWM"));
	wl_json_hex(&j, "checksum", sum);
	wl_json_end(&j);
	return 0;
}
