/* large: large blocks, 256 KiB - 64 MiB (log-uniform, so every octave is
 * as common as the next). A set of `live` (4) blocks is kept; each step
 * replaces a random one: the old block is verified and freed, a new one
 * allocated and every page of it written, then read back. Allocators that
 * keep and reuse large blocks save the page faults; allocators that keep
 * too much show it in RSS.
 *
 * ops = allocations + frees; bytes_touched = bytes of the blocks written.
 */
#include "common.h"

#define W "large"
#define MAX_LIVE 256
#define PAGE 4096

static long min_size = 256L << 10, max_size = 64L << 20;
static long steps = 1200;
static long nlive = 4;
static long seed = 8;

struct blk {
	unsigned char *p;
	size_t size;
	uint64_t tag;
};

static void touch(struct blk *b)
{
	for (size_t off = 0; off < b->size; off += PAGE) {
		uint64_t v = b->tag ^ off;
		size_t at = off + 8 <= b->size ? off : b->size - 8;
		memcpy(b->p + at, &v, 8);
	}
	uint64_t v = b->tag ^ ~(uint64_t)0;
	memcpy(b->p + b->size - 8, &v, 8);
}

static void verify(const struct blk *b)
{
	uint64_t bad = 0;
	for (size_t off = 0; off + 8 <= b->size - 8; off += PAGE) {
		uint64_t v;
		memcpy(&v, b->p + off, 8);
		bad |= v ^ (b->tag ^ off);
	}
	uint64_t v;
	memcpy(&v, b->p + b->size - 8, 8);
	bad |= v ^ (b->tag ^ ~(uint64_t)0);
	if (bad != 0)
		wl_fail(W, "block %p (%zu bytes) corrupted", (void *)b->p, b->size);
}

int main(int argc, char **argv)
{
	wl_opt opts[] = {
		{ "min-size", WL_OPT_LONG, &min_size, "smallest block" },
		{ "max-size", WL_OPT_LONG, &max_size, "largest block" },
		{ "steps", WL_OPT_LONG, &steps, "block replacements" },
		{ "live", WL_OPT_LONG, &nlive, "blocks live at a time" },
		{ "seed", WL_OPT_LONG, &seed, "PRNG seed" },
	};
	if (wl_parse_args(W, argc, argv, opts, WL_NOPTS(opts), true))
		steps = 150;
	wl_parse_args(W, argc, argv, opts, WL_NOPTS(opts), false);
	wl_require(W, min_size >= 16 && max_size >= min_size && max_size <= (1L << 40),
	           "16 <= min-size <= max-size");
	wl_require(W, nlive >= 1 && nlive <= MAX_LIVE && steps >= 0, "live in 1..256, steps >= 0");

	struct blk live[MAX_LIVE];
	wl_rng rng;
	wl_rng_seed(&rng, (uint64_t)seed);
	long ops = 0;
	uint64_t touched = 0, live_bytes = 0, peak_live = 0;

	double t0 = wl_now();
	for (long i = 0; i < steps + nlive; i++) {
		long k = i < nlive ? i : (long)wl_below(&rng, (uint64_t)nlive);
		if (i >= nlive) {
			verify(&live[k]);
			free(live[k].p);
			live_bytes -= live[k].size;
			ops++;
		}
		struct blk *b = &live[k];
		b->size = (size_t)wl_log_range(&rng, (uint64_t)min_size, (uint64_t)max_size);
		b->tag = wl_next(&rng);
		b->p = wl_check_ptr(W, malloc(b->size), b->size);
		ops++;
		touch(b);
		verify(b);
		touched += b->size;
		live_bytes += b->size;
		if (live_bytes > peak_live)
			peak_live = live_bytes;
	}
	for (long k = 0; k < nlive; k++) {
		verify(&live[k]);
		free(live[k].p);
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
	wl_json_end(&j);
	return 0;
}
