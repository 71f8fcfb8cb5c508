/* tlb: random pointer chasing through many small heap objects.
 *
 * Allocate bytes/node-size nodes (1 GiB of 64 B nodes by default) one
 * after the other, link them into one ring in a pseudo-random order, then
 * follow the ring for `steps` steps summing the nodes' values. The walk
 * misses the caches and the TLB on almost every step, so how densely the
 * allocator packs the nodes (its per-object overhead, its use of huge
 * pages) shows up in the walk time.
 *
 * The ring order is a full-period LCG over the next power of two, conjugated
 * by an invertible bit mixer and restricted to [0, n) by skipping: a single
 * cycle through all nodes whose successor function is computable on its
 * own, so the nodes are linked in allocation order and the expected sum is
 * computed without touching memory.
 *
 * ops = steps; seconds = the walk; alloc_seconds = allocation + linking.
 */
#include "common.h"

#define W "tlb"

static long bytes = 1L << 30;
static long node_size = 64;
static long steps = 3000000;
static long seed = 64;

struct node {
	struct node *next;
	uint64_t value;
	/* the rest of the node, up to node_size, is padding */
};

static uint64_t mask, mul, mul_inv, lcg_a, lcg_c;
static int shift;

/* An invertible mixer on k-bit values: xorshift (an involution since
 * 2 * shift >= k), odd multiply, xorshift. */
static inline uint64_t mix_fwd(uint64_t x)
{
	x ^= x >> shift;
	x = (x * mul) & mask;
	return x ^ (x >> shift);
}

static inline uint64_t mix_inv(uint64_t x)
{
	x ^= x >> shift;
	x = (x * mul_inv) & mask;
	return x ^ (x >> shift);
}

static inline uint64_t succ(uint64_t i, uint64_t n)
{
	uint64_t y = mix_inv(i);
	for (;;) {
		y = (lcg_a * y + lcg_c) & mask;
		uint64_t x = mix_fwd(y);
		if (x < n)
			return x;
	}
}

static void setup_order(uint64_t n, wl_rng *rng)
{
	int k = 1;
	while ((UINT64_C(1) << k) < n)
		k++;
	mask = (UINT64_C(1) << k) - 1;
	shift = (k + 1) / 2;
	mul = (wl_next(rng) | 1) & mask;
	if (mul == 1 && k > 1)
		mul = 3 & mask;
	mul_inv = mul; /* Newton: inverse of an odd number mod 2^64 */
	for (int i = 0; i < 6; i++)
		mul_inv *= 2 - mul * mul_inv;
	mul_inv &= mask;
	/* Hull-Dobell: c odd, a = 1 mod 4 gives period 2^k. */
	lcg_a = ((wl_next(rng) & ~UINT64_C(3)) | 1) & mask;
	lcg_c = (wl_next(rng) | 1) & mask;
}

int main(int argc, char **argv)
{
	wl_opt opts[] = {
		{ "bytes", WL_OPT_LONG, &bytes, "total requested bytes of nodes" },
		{ "node-size", WL_OPT_LONG, &node_size, "bytes per node (>= 16)" },
		{ "steps", WL_OPT_LONG, &steps, "pointer-chasing steps" },
		{ "seed", WL_OPT_LONG, &seed, "PRNG seed" },
	};
	if (wl_parse_args(W, argc, argv, opts, WL_NOPTS(opts), true)) {
		bytes = 64L << 20;
		steps = 2000000;
	}
	wl_parse_args(W, argc, argv, opts, WL_NOPTS(opts), false);
	wl_require(W, node_size >= (long)sizeof(struct node), "node-size >= 16");
	wl_require(W, bytes / node_size >= 2 && bytes / node_size < (1L << 32),
	           "2 <= bytes/node-size < 2^32");
	wl_require(W, steps >= 0, "steps >= 0");

	size_t n = (size_t)(bytes / node_size);
	struct node **nodes = malloc(n * sizeof *nodes);
	if (nodes == NULL)
		wl_fail(W, "cannot allocate the node table");
	wl_rng rng;
	wl_rng_seed(&rng, (uint64_t)seed);
	setup_order(n, &rng);

	double t0 = wl_now();
	for (size_t i = 0; i < n; i++) {
		struct node *nd = wl_check_ptr(W, malloc((size_t)node_size), (size_t)node_size);
		nd->value = wl_mix64(i);
		nd->next = NULL;
		nodes[i] = nd;
	}
	for (size_t i = 0; i < n; i++)
		nodes[i]->next = nodes[succ(i, n)];
	double t1 = wl_now();

	/* Expected sum of `steps` values along the ring from node 0. */
	uint64_t want = 0;
	for (uint64_t s = 0, i = 0; s < (uint64_t)steps; s++) {
		want += wl_mix64(i);
		i = succ(i, n);
	}
	struct node *start = nodes[0];

	double t2 = wl_now();
	struct node *p = start;
	uint64_t sum = 0;
	for (long s = 0; s < steps; s++) {
		sum += p->value;
		p = p->next;
	}
	double t3 = wl_now();
	wl_escape(p);
	if (sum != want)
		wl_fail(W, "walk sum %016" PRIx64 ", want %016" PRIx64, sum, want);

	long rss = wl_rss_kib();
	for (size_t i = 0; i < n; i++)
		free(nodes[i]);
	free(nodes);

	wl_json j;
	wl_json_begin(&j, W);
	wl_json_int(&j, "ops", steps);
	wl_json_double(&j, "seconds", t3 - t2);
	wl_json_int(&j, "threads", 1);
	wl_json_uint(&j, "live_bytes", (uint64_t)n * (uint64_t)node_size);
	wl_json_int(&j, "nodes", (long long)n);
	wl_json_double(&j, "alloc_seconds", t1 - t0);
	wl_json_double(&j, "ns_per_step", steps ? (t3 - t2) * 1e9 / (double)steps : 0.0);
	wl_json_int(&j, "rss_kib", rss);
	wl_json_hex(&j, "checksum", sum);
	wl_json_end(&j);
	return 0;
}
