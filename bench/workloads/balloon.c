/* balloon: RSS through grow, shrink, idle and regrow, like a cache or a
 * batch job that fills up, drops most of what it holds, waits, and fills
 * up again with something else.
 *
 *   1. grow     objects of 16 B-1 KiB (log-uniform), each filled, until
 *               `peak` requested bytes are live;
 *   2. shrink   free `free-percent` (90) % of them, in random order;
 *   3. idle     sleep `idle` seconds: no call at all, so only a timer or a
 *               background thread can return the freed memory now;
 *   4. regrow   objects of 2-32 KiB until `peak` bytes are live again: an
 *               allocator that kept the freed small-object pages cannot
 *               reuse them for these sizes without returning them first.
 *
 * VmRSS is read at the end of each phase; after phase 4 every live object
 * is checked and the program sleeps `settle` seconds so that the runner's
 * sampling sees the end state. Objects are not freed at exit.
 *
 * ops = allocations + frees; seconds = time of phases 1, 2 and 4;
 * peak_live_bytes = `peak`; live_bytes = live at the end; rss_grow_kib,
 * rss_shrink_kib, rss_idle_kib, rss_regrow_kib: VmRSS at the end of each
 * phase; checksum: the sizes drawn (the same for every allocator).
 */
#include "common.h"

#include <sys/mman.h>

#define W "balloon"

static long peak = 256L << 20;
static long free_percent = 90;
static double idle = 2.0;
static double settle = 0.2;
static long seed = 777;

struct block {
	unsigned char *p;
	uint32_t size;
	uint32_t mark;
};

static struct block *blocks; /* mmap'ed: not the allocator's memory */
static size_t nblocks, max_blocks;

static unsigned char fill_of(size_t i)
{
	return (unsigned char)(wl_mix64(i * 31 + 7) | 1);
}

static uint64_t grow(wl_rng *rng, uint64_t live, uint64_t lo, uint64_t hi,
                     uint64_t *checksum)
{
	while (live < (uint64_t)peak) {
		if (nblocks == max_blocks)
			wl_fail(W, "more than %zu blocks", max_blocks);
		uint32_t size = (uint32_t)wl_log_range(rng, lo, hi);
		unsigned char *p = wl_check_ptr(W, malloc(size), size);
		memset(p, fill_of(nblocks), size);
		blocks[nblocks].p = p;
		blocks[nblocks].size = size;
		blocks[nblocks].mark = 1;
		nblocks++;
		live += size;
		*checksum = wl_mix64(*checksum ^ size);
	}
	return live;
}

static void check(size_t i)
{
	const struct block *b = &blocks[i];
	unsigned char want = fill_of(i);
	if (b->p[0] != want || b->p[b->size / 2] != want || b->p[b->size - 1] != want)
		wl_fail(W, "block %zu (%u bytes) was corrupted", i, b->size);
}

int main(int argc, char **argv)
{
	wl_opt opts[] = {
		{ "peak", WL_OPT_LONG, &peak, "requested bytes live at the peak" },
		{ "free-percent", WL_OPT_LONG, &free_percent, "percentage freed in the shrink" },
		{ "idle", WL_OPT_DOUBLE, &idle, "seconds of the idle phase" },
		{ "settle", WL_OPT_DOUBLE, &settle, "seconds to sleep at the end" },
		{ "seed", WL_OPT_LONG, &seed, "PRNG seed" },
	};
	if (wl_parse_args(W, argc, argv, opts, WL_NOPTS(opts), true)) {
		peak = 32L << 20;
		idle = 0.5;
	}
	wl_parse_args(W, argc, argv, opts, WL_NOPTS(opts), false);
	wl_require(W, peak >= 4096 && peak <= (64L << 30), "4 KiB <= peak <= 64 GiB");
	wl_require(W, free_percent >= 0 && free_percent <= 100, "free-percent in 0..100");
	wl_require(W, idle >= 0 && settle >= 0, "idle, settle >= 0");

	/* Phase 1 averages ~150 B per object and phase 4 adds more: a bound. */
	max_blocks = (size_t)peak / 16 * 2 + 1024;
	blocks = mmap(NULL, max_blocks * sizeof *blocks, PROT_READ | PROT_WRITE,
	              MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (blocks == MAP_FAILED)
		wl_fail(W, "cannot map the block table");

	wl_rng rng;
	wl_rng_seed(&rng, (uint64_t)seed);
	uint64_t checksum = 0;
	long ops = 0;
	double t0 = wl_now();
	uint64_t live = grow(&rng, 0, 16, 1024, &checksum);
	size_t grown = nblocks;
	ops += (long)grown;
	long rss_grow = wl_rss_kib();

	/* Random order: a Fisher-Yates walk over the indices, each freed as
	 * it is drawn. mark 0 is freed. */
	uint32_t *order = mmap(NULL, grown * sizeof *order, PROT_READ | PROT_WRITE,
	                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (order == MAP_FAILED)
		wl_fail(W, "cannot map the free order");
	for (size_t i = 0; i < grown; i++)
		order[i] = (uint32_t)i;
	size_t to_free = grown * (size_t)free_percent / 100;
	for (size_t i = 0; i < to_free; i++) {
		size_t k = i + (size_t)wl_below(&rng, grown - i);
		uint32_t pick = order[k];
		order[k] = order[i];
		check(pick);
		free(blocks[pick].p);
		blocks[pick].mark = 0;
		live -= blocks[pick].size;
		ops++;
	}
	munmap(order, grown * sizeof *order);
	double busy = wl_now() - t0;
	long rss_shrink = wl_rss_kib();

	wl_sleep(idle);
	long rss_idle = wl_rss_kib();

	double t1 = wl_now();
	live = grow(&rng, live, 2048, 32768, &checksum);
	ops += (long)(nblocks - grown);
	busy += wl_now() - t1;
	long rss_regrow = wl_rss_kib();

	for (size_t i = 0; i < nblocks; i++)
		if (blocks[i].mark)
			check(i);
	wl_sleep(settle);

	wl_json j;
	wl_json_begin(&j, W);
	wl_json_int(&j, "ops", ops);
	wl_json_double(&j, "seconds", busy);
	wl_json_uint(&j, "live_bytes", live);
	wl_json_uint(&j, "peak_live_bytes", (uint64_t)peak);
	wl_json_int(&j, "threads", 1);
	wl_json_int(&j, "rss_grow_kib", rss_grow);
	wl_json_int(&j, "rss_shrink_kib", rss_shrink);
	wl_json_int(&j, "rss_idle_kib", rss_idle);
	wl_json_int(&j, "rss_regrow_kib", rss_regrow);
	wl_json_hex(&j, "checksum", checksum);
	wl_json_end(&j);
	return 0;
}
