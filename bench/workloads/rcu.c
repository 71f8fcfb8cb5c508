/* rcu: deferred frees through liburcu (urcu-memb flavour).
 *
 * A cds_lfht lock-free hash table holds `keys` nodes (node size 48 B plus a
 * 32-512 B payload). Reader threads look up random keys inside read-side
 * critical sections and verify the node they find. Updater threads replace
 * nodes of their own keys with freshly allocated ones
 * (cds_lfht_add_replace) and hand the old node to call_rcu, whose
 * callback (on liburcu's call_rcu worker thread) verifies it and frees it:
 * memory allocated by an updater is freed by another thread, in batches,
 * after a grace period.
 *
 * A node's check word is a hash of (key, version) and its payload is filled
 * with a byte derived from it; readers and the free callback check both.
 *
 * ops = lookups + updates (each update is one malloc and, later, one free).
 */
#include "common.h"

#include <pthread.h>
#include <stdatomic.h>
#include <urcu/urcu-memb.h>
#include <urcu/rculfhash.h>

#define W "rcu"

static long nkeys = 16384;
static long nreaders = 1, nupdaters = 1;
static long nthreads_opt = 0;
static long lookups = 12000000; /* per reader */
static long updates = 3000000;  /* per updater */
static long min_payload = 32, max_payload = 512;
static long seed = 5;

struct node {
	struct cds_lfht_node lfn;
	struct rcu_head rcu;
	uint64_t key;
	uint64_t version;
	uint64_t check;
	uint32_t payload_size;
	unsigned char payload[];
};

static struct cds_lfht *ht;
static atomic_long freed;
static atomic_long poisoned;

static inline uint64_t key_hash(uint64_t key)
{
	return wl_mix64(key * 31 + 7);
}

static inline uint64_t node_check(uint64_t key, uint64_t version)
{
	return wl_mix64(key ^ (version << 20) ^ UINT64_C(0xabcdef));
}

static int match(struct cds_lfht_node *n, const void *key)
{
	const struct node *nd = caa_container_of(n, struct node, lfn);
	return nd->key == *(const uint64_t *)key;
}

static struct node *new_node(wl_rng *rng, uint64_t key, uint64_t version)
{
	uint32_t psize = (uint32_t)wl_range(rng, (uint64_t)min_payload, (uint64_t)max_payload);
	size_t size = sizeof(struct node) + psize;
	struct node *n = wl_check_ptr(W, malloc(size), size);
	cds_lfht_node_init(&n->lfn);
	n->key = key;
	n->version = version;
	n->check = node_check(key, version);
	n->payload_size = psize;
	memset(n->payload, (int)(n->check & 0xff), psize);
	return n;
}

static bool node_ok(const struct node *n, uint64_t key)
{
	unsigned char b = (unsigned char)(n->check & 0xff);
	return n->key == key && n->check == node_check(n->key, n->version) &&
	       n->payload_size >= (uint32_t)min_payload &&
	       n->payload_size <= (uint32_t)max_payload && n->payload[0] == b &&
	       n->payload[n->payload_size / 2] == b && n->payload[n->payload_size - 1] == b;
}

static void free_cb(struct rcu_head *head)
{
	struct node *n = caa_container_of(head, struct node, rcu);
	if (!node_ok(n, n->key))
		atomic_fetch_add(&poisoned, 1);
	free(n);
	atomic_fetch_add_explicit(&freed, 1, memory_order_relaxed);
}

struct worker {
	pthread_t tid;
	long id;
	long found;
};

static void *reader(void *arg)
{
	struct worker *w = arg;
	wl_rng rng;
	wl_rng_seed(&rng, (uint64_t)seed * 1000 + 100 + (uint64_t)w->id);
	urcu_memb_register_thread();
	long found = 0;
	for (long i = 0; i < lookups; i++) {
		uint64_t key = wl_below(&rng, (uint64_t)nkeys);
		struct cds_lfht_iter it;
		urcu_memb_read_lock();
		cds_lfht_lookup(ht, key_hash(key), match, &key, &it);
		struct cds_lfht_node *ln = cds_lfht_iter_get_node(&it);
		if (ln != NULL) {
			const struct node *n = caa_container_of(ln, struct node, lfn);
			if (!node_ok(n, key))
				wl_fail(W, "reader %ld: node of key %" PRIu64 " corrupted", w->id, key);
			found++;
		}
		urcu_memb_read_unlock();
	}
	urcu_memb_unregister_thread();
	w->found = found;
	return NULL;
}

static void *updater(void *arg)
{
	struct worker *w = arg;
	wl_rng rng;
	wl_rng_seed(&rng, (uint64_t)seed * 1000 + 200 + (uint64_t)w->id);
	urcu_memb_register_thread();
	/* This updater owns the keys k with k % nupdaters == id. */
	uint64_t mine = ((uint64_t)nkeys - (uint64_t)w->id + (uint64_t)nupdaters - 1) /
	                (uint64_t)nupdaters;
	for (long i = 0; i < updates; i++) {
		uint64_t key = wl_below(&rng, mine) * (uint64_t)nupdaters + (uint64_t)w->id;
		struct node *n = new_node(&rng, key, (uint64_t)i + 1);
		urcu_memb_read_lock();
		struct cds_lfht_node *old =
			cds_lfht_add_replace(ht, key_hash(key), match, &key, &n->lfn);
		urcu_memb_read_unlock();
		if (old == NULL)
			wl_fail(W, "updater %ld: key %" PRIu64 " was missing", w->id, key);
		struct node *on = caa_container_of(old, struct node, lfn);
		urcu_memb_call_rcu(&on->rcu, free_cb);
	}
	urcu_memb_unregister_thread();
	return NULL;
}

int main(int argc, char **argv)
{
	wl_opt opts[] = {
		{ "keys", WL_OPT_LONG, &nkeys, "keys in the table" },
		{ "threads", WL_OPT_LONG, &nthreads_opt, "if > 0: workers, split into N/2 updaters (at least 1) and readers" },
		{ "readers", WL_OPT_LONG, &nreaders, "reader threads" },
		{ "updaters", WL_OPT_LONG, &nupdaters, "updater threads" },
		{ "lookups", WL_OPT_LONG, &lookups, "lookups per reader" },
		{ "updates", WL_OPT_LONG, &updates, "replacements per updater" },
		{ "min-size", WL_OPT_LONG, &min_payload, "smallest node payload" },
		{ "max-size", WL_OPT_LONG, &max_payload, "largest node payload" },
		{ "seed", WL_OPT_LONG, &seed, "PRNG seed" },
	};
	if (wl_parse_args(W, argc, argv, opts, WL_NOPTS(opts), true)) {
		lookups = 600000;
		updates = 150000;
	}
	wl_parse_args(W, argc, argv, opts, WL_NOPTS(opts), false);
	if (nthreads_opt > 0) {
		nupdaters = nthreads_opt / 2 > 0 ? nthreads_opt / 2 : 1;
		nreaders = nthreads_opt - nupdaters;
	}
	wl_require(W, nkeys >= 1 && nreaders >= 0 && nupdaters >= 1 && nupdaters <= nkeys &&
	           nreaders + nupdaters <= 1024, "keys >= updaters >= 1, readers >= 0");
	wl_require(W, lookups >= 0 && updates >= 0, "lookups, updates >= 0");
	wl_require(W, min_payload >= 1 && max_payload >= min_payload && max_payload < (1L << 30),
	           "1 <= min-size <= max-size");

	ht = cds_lfht_new_flavor(1024, 1024, 0, CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING,
	                         &urcu_memb_flavor, NULL);
	if (ht == NULL)
		wl_fail(W, "cds_lfht_new failed");
	urcu_memb_register_thread();
	wl_rng rng;
	wl_rng_seed(&rng, (uint64_t)seed);
	for (long k = 0; k < nkeys; k++) {
		uint64_t key = (uint64_t)k;
		struct node *n = new_node(&rng, key, 0);
		urcu_memb_read_lock();
		struct cds_lfht_node *r = cds_lfht_add_unique(ht, key_hash(key), match, &key, &n->lfn);
		urcu_memb_read_unlock();
		if (r != &n->lfn)
			wl_fail(W, "duplicate key %ld at setup", k);
	}

	long nthreads = nreaders + nupdaters;
	struct worker *ws = calloc((size_t)nthreads, sizeof *ws);
	if (ws == NULL)
		wl_fail(W, "cannot allocate the workers");
	double t0 = wl_now();
	for (long i = 0; i < nthreads; i++) {
		ws[i].id = i < nupdaters ? i : i - nupdaters;
		if (pthread_create(&ws[i].tid, NULL, i < nupdaters ? updater : reader, &ws[i]) != 0)
			wl_fail(W, "pthread_create failed");
	}
	long found = 0;
	for (long i = 0; i < nthreads; i++) {
		pthread_join(ws[i].tid, NULL);
		if (i >= nupdaters)
			found += ws[i].found;
	}
	/* Wait for every deferred free: part of the work. */
	urcu_memb_barrier();
	double elapsed = wl_now() - t0;
	free(ws);

	long total_updates = updates * nupdaters, total_lookups = lookups * nreaders;
	if (found != total_lookups)
		wl_fail(W, "%ld of %ld lookups found nothing", total_lookups - found, total_lookups);
	if (atomic_load(&freed) != total_updates)
		wl_fail(W, "%ld deferred frees for %ld updates", atomic_load(&freed), total_updates);

	/* Tear down: remove and free every node, checking each. */
	struct cds_lfht_iter it;
	struct node *n;
	long left = 0;
	urcu_memb_read_lock();
	cds_lfht_for_each_entry(ht, &it, n, lfn) {
		if (!node_ok(n, n->key))
			wl_fail(W, "node of key %" PRIu64 " corrupted at teardown", n->key);
		if (cds_lfht_del(ht, &n->lfn) == 0) {
			urcu_memb_call_rcu(&n->rcu, free_cb);
			left++;
		}
	}
	urcu_memb_read_unlock();
	urcu_memb_barrier();
	if (left != nkeys)
		wl_fail(W, "%ld nodes at teardown, want %ld", left, nkeys);
	if (atomic_load(&poisoned) != 0)
		wl_fail(W, "%ld nodes corrupted when freed", atomic_load(&poisoned));
	urcu_memb_unregister_thread();
	if (cds_lfht_destroy(ht, NULL) != 0)
		wl_fail(W, "cds_lfht_destroy failed");

	wl_json j;
	wl_json_begin(&j, W);
	wl_json_int(&j, "ops", total_lookups + total_updates);
	wl_json_double(&j, "seconds", elapsed);
	wl_json_int(&j, "threads", nthreads);
	wl_json_int(&j, "lookups", total_lookups);
	wl_json_int(&j, "updates", total_updates);
	wl_json_int(&j, "keys", nkeys);
	wl_json_end(&j);
	return 0;
}
