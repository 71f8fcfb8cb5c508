/* espresso: a single-threaded symbolic workload in the spirit of the
 * espresso logic minimiser (a classic allocator benchmark): many
 * short-lived small objects in recursive, LIFO-ish patterns.
 *
 * For each of `problems` random sum-of-products covers F over `vars`
 * variables, compute its complement C with the unate recursive paradigm
 * (Shannon expansion on the most frequent variable, cofactor covers built
 * as malloc'd cubes in realloc-grown arrays, results merged with sorting),
 * then the complement G of C (a disjoint cover of F). Each cube of C is
 * printed into a malloc'd string, the strings are linked into a list,
 * merge-sorted and hashed, and everything is freed.
 *
 * Self-checks: C and G are disjoint covers by construction, so their
 * volumes must add to exactly 2^vars; and on random minterms F == G and
 * F != C. The checksum (cube counts and string hashes) is deterministic
 * and independent of the allocator.
 *
 * ops = malloc + realloc + free calls.
 */
#include "common.h"

#define W "espresso"

static long nvars = 24;
static long ncubes = 28;
static long min_lits = 5, max_lits = 10;
static long problems = 160;
static long samples = 512;
static long seed = 1985;

static long n_ops;

static void *xmalloc(size_t n)
{
	n_ops++;
	return wl_check_ptr(W, malloc(n), n);
}

static void *xrealloc(void *p, size_t n)
{
	n_ops++;
	return wl_check_ptr(W, realloc(p, n), n);
}

static void xfree(void *p)
{
	n_ops++;
	free(p);
}

/* A cube: 2 bits per variable, 01 = x', 10 = x, 11 = don't care. */
struct cube {
	uint32_t nlit;
	uint32_t pad;
	uint64_t bits;
};

struct cover {
	int n, cap;
	struct cube **c;
};

static uint64_t full_mask; /* 11 for every variable */

static struct cube *cube_new(uint64_t bits)
{
	struct cube *c = xmalloc(sizeof *c);
	c->bits = bits;
	c->pad = 0;
	uint32_t lits = 0;
	for (long v = 0; v < nvars; v++)
		lits += ((bits >> (2 * v)) & 3) != 3;
	c->nlit = lits;
	return c;
}

static struct cover *cover_new(void)
{
	struct cover *f = xmalloc(sizeof *f);
	f->n = 0;
	f->cap = 0;
	f->c = NULL;
	return f;
}

static void cover_add(struct cover *f, struct cube *c)
{
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 4;
		f->c = xrealloc(f->c, (size_t)f->cap * sizeof *f->c);
	}
	f->c[f->n++] = c;
}

static void cover_free(struct cover *f)
{
	for (int i = 0; i < f->n; i++)
		xfree(f->c[i]);
	if (f->c != NULL)
		xfree(f->c);
	xfree(f);
}

/* Cofactor of f with respect to variable v = val (val 0 or 1). */
static struct cover *cofactor(const struct cover *f, long v, int val)
{
	struct cover *r = cover_new();
	uint64_t need = UINT64_C(1) << (2 * v + val);
	uint64_t field = UINT64_C(3) << (2 * v);
	for (int i = 0; i < f->n; i++)
		if (f->c[i]->bits & need)
			cover_add(r, cube_new(f->c[i]->bits | field));
	return r;
}

static int cmp_cube(const void *a, const void *b)
{
	uint64_t x = (*(struct cube *const *)a)->bits, y = (*(struct cube *const *)b)->bits;
	return x < y ? -1 : x > y;
}

static struct cover *complement(const struct cover *f)
{
	struct cover *r = cover_new();
	if (f->n == 0) {
		cover_add(r, cube_new(full_mask));
		return r;
	}
	for (int i = 0; i < f->n; i++)
		if (f->c[i]->nlit == 0)
			return r; /* tautology */
	if (f->n == 1) {
		/* Disjoint De Morgan: l1' + l1 l2' + l1 l2 l3' + ... */
		uint64_t c = f->c[0]->bits, prefix = full_mask;
		for (long v = 0; v < nvars; v++) {
			uint64_t field = UINT64_C(3) << (2 * v);
			uint64_t lit = c & field;
			if (lit == field)
				continue;
			cover_add(r, cube_new((prefix & ~field) | (~lit & field)));
			prefix = (prefix & ~field) | lit;
		}
		return r;
	}
	/* Split on the variable that appears in the most cubes. */
	long best = -1, best_count = 0;
	for (long v = 0; v < nvars; v++) {
		uint64_t field = UINT64_C(3) << (2 * v);
		long count = 0;
		for (int i = 0; i < f->n; i++)
			count += (f->c[i]->bits & field) != field;
		if (count > best_count) {
			best_count = count;
			best = v;
		}
	}
	uint64_t field = UINT64_C(3) << (2 * best);
	struct cover *f1 = cofactor(f, best, 1), *f0 = cofactor(f, best, 0);
	struct cover *c1 = complement(f1), *c0 = complement(f0);
	cover_free(f1);
	cover_free(f0);
	if (c1->n > 1)
		qsort(c1->c, (size_t)c1->n, sizeof *c1->c, cmp_cube);
	if (c0->n > 1)
		qsort(c0->c, (size_t)c0->n, sizeof *c0->c, cmp_cube);
	/* x C1 + x' C0, merging cubes present in both. */
	int i = 0, k = 0;
	uint64_t x1 = UINT64_C(2) << (2 * best), x0 = UINT64_C(1) << (2 * best);
	while (i < c1->n || k < c0->n) {
		uint64_t a = i < c1->n ? c1->c[i]->bits : UINT64_MAX;
		uint64_t b = k < c0->n ? c0->c[k]->bits : UINT64_MAX;
		if (i < c1->n && k < c0->n && a == b) {
			cover_add(r, cube_new(a));
			i++;
			k++;
		} else if (k >= c0->n || (i < c1->n && a < b)) {
			cover_add(r, cube_new((a & ~field) | x1));
			i++;
		} else {
			cover_add(r, cube_new((b & ~field) | x0));
			k++;
		}
	}
	cover_free(c1);
	cover_free(c0);
	return r;
}

static uint64_t volume(const struct cover *f)
{
	uint64_t v = 0;
	for (int i = 0; i < f->n; i++)
		v += UINT64_C(1) << (nvars - f->c[i]->nlit);
	return v;
}

static bool contains(const struct cover *f, uint64_t m2)
{
	for (int i = 0; i < f->n; i++)
		if ((m2 & ~f->c[i]->bits) == 0)
			return true;
	return false;
}

/* Strings: one per cube, in a linked list, merge-sorted, hashed. */
struct snode {
	struct snode *next;
	char *s;
};

static struct snode *merge_sort(struct snode *h, long n)
{
	if (n <= 1) {
		if (h)
			h->next = NULL;
		return h;
	}
	struct snode *mid = h;
	for (long i = 0; i < n / 2 - 1; i++)
		mid = mid->next;
	struct snode *b = mid->next;
	mid->next = NULL;
	struct snode *a = merge_sort(h, n / 2);
	b = merge_sort(b, n - n / 2);
	struct snode head = { NULL, NULL }, *t = &head;
	while (a && b) {
		if (strcmp(a->s, b->s) <= 0) {
			t->next = a;
			a = a->next;
		} else {
			t->next = b;
			b = b->next;
		}
		t = t->next;
	}
	t->next = a ? a : b;
	return head.next;
}

static uint64_t string_pass(const struct cover *f)
{
	struct snode *list = NULL;
	for (int i = 0; i < f->n; i++) {
		char *s = xmalloc((size_t)nvars + 1);
		for (long v = 0; v < nvars; v++)
			s[v] = "?01-"[(f->c[i]->bits >> (2 * v)) & 3];
		s[nvars] = '\0';
		struct snode *n = xmalloc(sizeof *n);
		n->s = s;
		n->next = list;
		list = n;
	}
	list = merge_sort(list, f->n);
	uint64_t h = UINT64_C(0xcbf29ce484222325);
	while (list) {
		for (const char *p = list->s; *p; p++)
			h = (h ^ (unsigned char)*p) * UINT64_C(0x100000001b3);
		struct snode *next = list->next;
		xfree(list->s);
		xfree(list);
		list = next;
	}
	return h;
}

int main(int argc, char **argv)
{
	wl_opt opts[] = {
		{ "vars", WL_OPT_LONG, &nvars, "variables (2..31)" },
		{ "cubes", WL_OPT_LONG, &ncubes, "cubes per random cover" },
		{ "min-lits", WL_OPT_LONG, &min_lits, "fewest literals per cube" },
		{ "max-lits", WL_OPT_LONG, &max_lits, "most literals per cube" },
		{ "problems", WL_OPT_LONG, &problems, "covers to complement" },
		{ "samples", WL_OPT_LONG, &samples, "random minterms checked per problem" },
		{ "seed", WL_OPT_LONG, &seed, "PRNG seed" },
	};
	if (wl_parse_args(W, argc, argv, opts, WL_NOPTS(opts), true))
		problems = 8;
	wl_parse_args(W, argc, argv, opts, WL_NOPTS(opts), false);
	wl_require(W, nvars >= 2 && nvars <= 31, "vars in 2..31");
	wl_require(W, min_lits >= 1 && max_lits >= min_lits && max_lits <= nvars,
	           "1 <= min-lits <= max-lits <= vars");
	wl_require(W, ncubes >= 1 && problems >= 0 && samples >= 0,
	           "cubes >= 1, problems, samples >= 0");
	full_mask = (nvars == 32) ? UINT64_MAX : (UINT64_C(1) << (2 * nvars)) - 1;

	wl_rng rng;
	wl_rng_seed(&rng, (uint64_t)seed);
	uint64_t checksum = 0, total_c = 0, total_g = 0;
	double t0 = wl_now();
	for (long p = 0; p < problems; p++) {
		struct cover *f = cover_new();
		for (long i = 0; i < ncubes; i++) {
			uint64_t bits = full_mask;
			long lits = (long)wl_range(&rng, (uint64_t)min_lits, (uint64_t)max_lits);
			for (long l = 0; l < lits; l++) {
				long v = (long)wl_below(&rng, (uint64_t)nvars);
				uint64_t field = UINT64_C(3) << (2 * v);
				bits = (bits & ~field) | ((UINT64_C(1) + wl_below(&rng, 2)) << (2 * v));
			}
			cover_add(f, cube_new(bits));
		}
		struct cover *c = complement(f);
		struct cover *g = complement(c);
		uint64_t vc = volume(c), vg = volume(g);
		if (vc + vg != UINT64_C(1) << nvars)
			wl_fail(W, "problem %ld: complement volumes %" PRIu64 " + %" PRIu64
			        " != 2^%ld", p, vc, vg, nvars);
		for (long s = 0; s < samples; s++) {
			uint64_t m = wl_next(&rng), m2 = 0;
			for (long v = 0; v < nvars; v++)
				m2 |= UINT64_C(1) << (2 * v + (long)((m >> v) & 1));
			bool in_f = contains(f, m2), in_c = contains(c, m2), in_g = contains(g, m2);
			if (in_f == in_c || in_f != in_g)
				wl_fail(W, "problem %ld: minterm %" PRIx64 " in F %d, C %d, G %d", p,
				        m & ((UINT64_C(1) << nvars) - 1), in_f, in_c, in_g);
		}
		checksum = wl_mix64(checksum ^ string_pass(c)) + (uint64_t)c->n * 31 + (uint64_t)g->n;
		total_c += (uint64_t)c->n;
		total_g += (uint64_t)g->n;
		cover_free(f);
		cover_free(c);
		cover_free(g);
	}
	double elapsed = wl_now() - t0;

	wl_json j;
	wl_json_begin(&j, W);
	wl_json_int(&j, "ops", n_ops);
	wl_json_double(&j, "seconds", elapsed);
	wl_json_int(&j, "threads", 1);
	wl_json_int(&j, "problems", problems);
	wl_json_uint(&j, "complement_cubes", total_c);
	wl_json_uint(&j, "recomplement_cubes", total_g);
	wl_json_hex(&j, "checksum", checksum);
	wl_json_end(&j);
	return 0;
}
