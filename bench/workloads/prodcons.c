/* prodcons: N producer threads allocate small messages (16-256 B), fill
 * them with PRNG bytes and a checksum, and pass them through lock-free
 * single-producer/single-consumer rings (one per producer/consumer pair) to
 * N consumer threads, which verify and free them. Every object is freed by
 * a thread that did not allocate it.
 *
 * Message layout: [0,4) size, [4,8) sequence number within its ring,
 * [8,16) checksum of the body, [16,size) body.
 *
 * ops = allocations + frees (2 per message).
 */
#include "common.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#define W "prodcons"
#define RING 1024 /* power of two */

static long nthreads = 2; /* producers; as many consumers */
static long messages = 16000000; /* per producer */
static long min_size = 16, max_size = 256;
static long seed = 77;

struct ring {
	_Alignas(64) atomic_ulong head; /* next slot to write (producer) */
	_Alignas(64) atomic_ulong tail; /* next slot to read (consumer) */
	_Alignas(64) void *slot[RING];
};

struct side {
	long id;
	struct ring *ring;
	uint64_t sum;      /* sum of checksums sent or verified */
	uint64_t bytes;    /* requested bytes sent or received */
	pthread_t tid;
};

static inline void backoff(unsigned *spins)
{
	if (++*spins < 64)
		__builtin_ia32_pause();
	else
		sched_yield();
}

static inline uint64_t body_sum(const unsigned char *b, size_t n)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, b + i, 8);
		h = (h ^ w) * UINT64_C(0x100000001b3);
	}
	for (; i < n; i++)
		h = (h ^ b[i]) * UINT64_C(0x100000001b3);
	return h ^ n;
}

static void *producer(void *arg)
{
	struct side *s = arg;
	struct ring *r = s->ring;
	wl_rng rng;
	wl_rng_seed(&rng, (uint64_t)seed * 1000 + (uint64_t)s->id);
	unsigned long head = 0;
	for (long i = 0; i < messages; i++) {
		uint32_t size = (uint32_t)wl_range(&rng, (uint64_t)min_size, (uint64_t)max_size);
		unsigned char *p = wl_check_ptr(W, malloc(size), size);
		uint32_t seq = (uint32_t)i;
		size_t blen = size - 16;
		for (size_t k = 0; k < blen; k += 8) {
			uint64_t w = wl_next(&rng);
			memcpy(p + 16 + k, &w, blen - k < 8 ? blen - k : 8);
		}
		uint64_t sum = body_sum(p + 16, blen);
		memcpy(p, &size, 4);
		memcpy(p + 4, &seq, 4);
		memcpy(p + 8, &sum, 8);
		s->sum += sum;
		s->bytes += size;
		unsigned spins = 0;
		while (head - atomic_load_explicit(&r->tail, memory_order_acquire) >= RING)
			backoff(&spins);
		r->slot[head & (RING - 1)] = p;
		atomic_store_explicit(&r->head, ++head, memory_order_release);
	}
	return NULL;
}

static void *consumer(void *arg)
{
	struct side *s = arg;
	struct ring *r = s->ring;
	unsigned long tail = 0;
	for (long i = 0; i < messages; i++) {
		unsigned spins = 0;
		while (atomic_load_explicit(&r->head, memory_order_acquire) == tail)
			backoff(&spins);
		unsigned char *p = r->slot[tail & (RING - 1)];
		atomic_store_explicit(&r->tail, ++tail, memory_order_release);
		uint32_t size, seq;
		uint64_t sum;
		memcpy(&size, p, 4);
		memcpy(&seq, p + 4, 4);
		memcpy(&sum, p + 8, 8);
		if (size < (uint32_t)min_size || size > (uint32_t)max_size || seq != (uint32_t)i)
			wl_fail(W, "consumer %ld: message %ld has size %u seq %u", s->id, i, size, seq);
		if (body_sum(p + 16, size - 16) != sum)
			wl_fail(W, "consumer %ld: message %ld (size %u) body corrupted", s->id, i, size);
		s->sum += sum;
		s->bytes += size;
		free(p);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	wl_opt opts[] = {
		{ "threads", WL_OPT_LONG, &nthreads, "producers (and as many consumers)" },
		{ "messages", WL_OPT_LONG, &messages, "messages per producer" },
		{ "min-size", WL_OPT_LONG, &min_size, "smallest message" },
		{ "max-size", WL_OPT_LONG, &max_size, "largest message" },
		{ "seed", WL_OPT_LONG, &seed, "PRNG seed" },
	};
	if (wl_parse_args(W, argc, argv, opts, WL_NOPTS(opts), true))
		messages = 300000;
	wl_parse_args(W, argc, argv, opts, WL_NOPTS(opts), false);
	wl_require(W, nthreads >= 1 && nthreads <= 512, "threads in 1..512");
	wl_require(W, min_size >= 16 && max_size >= min_size && max_size < (1L << 31),
	           "16 <= min-size <= max-size < 2^31");
	wl_require(W, messages >= 1, "messages >= 1");

	struct ring *rings = aligned_alloc(64, sizeof(struct ring) * (size_t)nthreads);
	struct side *prod = calloc((size_t)nthreads, sizeof *prod);
	struct side *cons = calloc((size_t)nthreads, sizeof *cons);
	if (rings == NULL || prod == NULL || cons == NULL)
		wl_fail(W, "cannot allocate the rings");
	for (long i = 0; i < nthreads; i++) {
		atomic_init(&rings[i].head, 0);
		atomic_init(&rings[i].tail, 0);
		prod[i].id = cons[i].id = i;
		prod[i].ring = cons[i].ring = &rings[i];
	}

	double t0 = wl_now();
	for (long i = 0; i < nthreads; i++) {
		if (pthread_create(&cons[i].tid, NULL, consumer, &cons[i]) != 0 ||
		    pthread_create(&prod[i].tid, NULL, producer, &prod[i]) != 0)
			wl_fail(W, "pthread_create failed");
	}
	for (long i = 0; i < nthreads; i++) {
		pthread_join(prod[i].tid, NULL);
		pthread_join(cons[i].tid, NULL);
	}
	double elapsed = wl_now() - t0;

	uint64_t total = 0, bytes = 0;
	for (long i = 0; i < nthreads; i++) {
		if (prod[i].sum != cons[i].sum || prod[i].bytes != cons[i].bytes)
			wl_fail(W, "pair %ld: sent and received checksums differ", i);
		total += prod[i].sum;
		bytes += prod[i].bytes;
	}
	free(rings);
	free(prod);
	free(cons);

	wl_json j;
	wl_json_begin(&j, W);
	wl_json_int(&j, "ops", 2 * messages * nthreads);
	wl_json_double(&j, "seconds", elapsed);
	wl_json_int(&j, "threads", 2 * nthreads);
	wl_json_int(&j, "producers", nthreads);
	wl_json_int(&j, "messages", messages * nthreads);
	wl_json_uint(&j, "bytes", bytes);
	wl_json_hex(&j, "checksum", total);
	wl_json_end(&j);
	return 0;
}
