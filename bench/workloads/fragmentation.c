/* fragmentation: how much memory an allocator holds after a phase change.
 *
 * 1. Allocate mixed sizes (7/8 of them 16-256 B, 1/8 16-4096 B) until
 *    `bytes` (512 MiB) are requested and live, filling every object.
 * 2. Free a random 90 % of them, in random order.
 * 3. Allocate larger blocks (2-16 KiB) until the live requested bytes are
 *    back at the phase-1 total: an allocator that cannot reuse the holes
 *    left by the small objects grows its footprint.
 * Then verify every live object, read VmRSS and sleep 0.3 s so the runner's
 * RSS sampling sees the final state. The objects are not freed at exit.
 *
 * ops = allocations + frees; live_bytes = requested bytes live at the end;
 * peak_live_bytes = after phase 1; final_rss_kib = VmRSS at the end.
 */
#include "common.h"

#define W "fragmentation"

static long bytes = 512L << 20;
static long min_size = 16, small_max = 256, max_size = 4096;
static long big_min = 2048, big_max = 16384;
static long free_percent = 90;
static long seed = 12345;
static double settle = 0.3;

struct obj {
	unsigned char *p;
	uint32_t size;
};

static struct obj *objs;
static size_t nobjs, cap;

static inline uint64_t tag_of(size_t i)
{
	return wl_mix64(i ^ UINT64_C(0x5eed));
}

static void add(uint32_t size)
{
	if (nobjs == cap) {
		cap = cap ? cap * 2 : 1 << 16;
		objs = realloc(objs, cap * sizeof *objs);
		if (objs == NULL)
			wl_fail(W, "cannot grow the object table");
	}
	unsigned char *p = wl_check_ptr(W, malloc(size), size);
	uint64_t t = tag_of(nobjs);
	memset(p, (int)(t & 0xff), size);
	memcpy(p, &t, size < 8 ? size : 8);
	objs[nobjs].p = p;
	objs[nobjs].size = size;
	nobjs++;
}

static void verify(size_t i)
{
	const struct obj *o = &objs[i];
	uint64_t t = tag_of(i), got = 0;
	size_t n = o->size < 8 ? o->size : 8;
	memcpy(&got, o->p, n);
	uint64_t want = 0;
	memcpy(&want, &t, n);
	unsigned char fillb = (unsigned char)(t & 0xff);
	if (got != want || (o->size > 8 && (o->p[o->size - 1] != fillb ||
	                                    o->p[8 + (o->size - 8) / 2] != fillb)))
		wl_fail(W, "object %zu at %p (size %u) corrupted", i, (void *)o->p, o->size);
}

int main(int argc, char **argv)
{
	wl_opt opts[] = {
		{ "bytes", WL_OPT_LONG, &bytes, "requested bytes of phase 1" },
		{ "min-size", WL_OPT_LONG, &min_size, "phase 1: smallest object" },
		{ "small-max", WL_OPT_LONG, &small_max, "phase 1: largest object of the common (7/8) kind" },
		{ "max-size", WL_OPT_LONG, &max_size, "phase 1: largest object" },
		{ "free-percent", WL_OPT_LONG, &free_percent, "phase 2: percentage freed" },
		{ "big-min", WL_OPT_LONG, &big_min, "phase 3: smallest block" },
		{ "big-max", WL_OPT_LONG, &big_max, "phase 3: largest block" },
		{ "settle", WL_OPT_DOUBLE, &settle, "seconds to sleep at the end" },
		{ "seed", WL_OPT_LONG, &seed, "PRNG seed" },
	};
	if (wl_parse_args(W, argc, argv, opts, WL_NOPTS(opts), true))
		bytes = 64L << 20;
	wl_parse_args(W, argc, argv, opts, WL_NOPTS(opts), false);
	wl_require(W, min_size >= 1 && small_max >= min_size && max_size >= small_max &&
	           max_size < (1L << 31), "1 <= min-size <= small-max <= max-size < 2^31");
	wl_require(W, big_min >= 1 && big_max >= big_min && big_max < (1L << 31),
	           "1 <= big-min <= big-max < 2^31");
	wl_require(W, bytes >= 1 && free_percent >= 0 && free_percent <= 100,
	           "bytes >= 1, free-percent in 0..100");

	wl_rng rng;
	wl_rng_seed(&rng, (uint64_t)seed);
	long ops = 0;

	double t0 = wl_now();
	/* Phase 1. */
	uint64_t live = 0;
	while (live < (uint64_t)bytes) {
		uint64_t hi = wl_below(&rng, 8) == 0 ? (uint64_t)max_size : (uint64_t)small_max;
		uint32_t size = (uint32_t)wl_range(&rng, (uint64_t)min_size, hi);
		add(size);
		live += size;
		ops++;
	}
	uint64_t peak = live;
	size_t phase1 = nobjs;
	long rss_phase1 = wl_rss_kib();

	/* Phase 2: free a random subset, in random order. */
	uint32_t *perm = malloc(phase1 * sizeof *perm);
	if (perm == NULL)
		wl_fail(W, "cannot allocate the permutation");
	for (size_t i = 0; i < phase1; i++)
		perm[i] = (uint32_t)i;
	for (size_t i = phase1 - 1; i > 0; i--) {
		size_t k = (size_t)wl_below(&rng, i + 1);
		uint32_t x = perm[i];
		perm[i] = perm[k];
		perm[k] = x;
	}
	size_t nfree = phase1 * (size_t)free_percent / 100;
	for (size_t i = 0; i < nfree; i++) {
		size_t k = perm[i];
		verify(k);
		live -= objs[k].size;
		free(objs[k].p);
		objs[k].p = NULL;
		ops++;
	}
	free(perm);
	long rss_phase2 = wl_rss_kib();

	/* Phase 3: bigger blocks up to the phase-1 total. */
	while (live < peak) {
		uint32_t size = (uint32_t)wl_range(&rng, (uint64_t)big_min, (uint64_t)big_max);
		add(size);
		live += size;
		ops++;
	}
	double elapsed = wl_now() - t0;

	for (size_t i = 0; i < nobjs; i++)
		if (objs[i].p != NULL)
			verify(i);
	long rss = wl_rss_kib();
	wl_sleep(settle);
	long rss_final = wl_rss_kib();

	wl_json j;
	wl_json_begin(&j, W);
	wl_json_int(&j, "ops", ops);
	wl_json_double(&j, "seconds", elapsed);
	wl_json_uint(&j, "live_bytes", live);
	wl_json_uint(&j, "peak_live_bytes", peak);
	wl_json_int(&j, "threads", 1);
	wl_json_int(&j, "objects_phase1", (long long)phase1);
	wl_json_int(&j, "objects_final", (long long)(nobjs - nfree));
	wl_json_int(&j, "rss_phase1_kib", rss_phase1);
	wl_json_int(&j, "rss_phase2_kib", rss_phase2);
	wl_json_int(&j, "final_rss_kib", rss_final > 0 ? rss_final : rss);
	wl_json_int(&j, "peak_rss_kib", wl_status_kib("VmHWM"));
	wl_json_double(&j, "rss_over_live", (double)(rss_final > 0 ? rss_final : rss) * 1024.0 /
	                                    (double)(live ? live : 1));
	wl_json_end(&j);
	return 0;
}
