/* latency: how long single malloc and free calls take, tail included.
 *
 * Each thread serves "requests": a request allocates 1-8 objects (60 % of
 * them 16-128 B, 30 % 128 B-2 KiB, 9 % 2-32 KiB, 1 % 64-512 KiB, log-uniform
 * within each band), tags the first and last bytes, and frees random live
 * objects (older requests' results) while the live count is above the
 * phase's target. The phases, separated by a barrier of all threads:
 *
 *   1. steady   target `live` objects per thread;
 *   2. burst    target 4 x live: nothing is freed until it is reached;
 *   3. drain    target live / 8, at most 2k + 8 frees per request: the
 *               allocator is left with free memory it may purge;
 *   4. idle     every thread sleeps `idle` seconds (a decay or a background
 *               thread may return memory now);
 *   5. refill   target `live` again: memory given back must be refaulted.
 *
 * Phases 1, 2, 3 and 5 serve `requests` requests each. A call is timed with
 * clock_gettime(CLOCK_MONOTONIC) around it alone, on average one call in
 * `sample-every` (the gap between timed calls is random, so periodic work
 * in an allocator is not aliased away). Untimed calls cost no timer read.
 * Every freed object's tags are checked (a corrupted block fails the run).
 *
 * With --samples FILE the timed latencies are written there (native
 * endianness): uint64 count of malloc samples, uint64 count of free samples,
 * then that many uint32 nanoseconds each (malloc's, then free's). The
 * buffers are mmap'ed so that the allocator under test does not see them.
 *
 * ops = malloc + free calls in phases 1, 2, 3 and 5; seconds = their time
 * (the idle phase is not counted); timer_ns = the smallest time of an empty
 * timed section (what the timer itself adds to each sample); checksum:
 * deterministic for a seed and thread count.
 */
#include "common.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>

#define W "latency"

static long nthreads = 2;
static long requests = 200000;
static long live = 5000;
static long sample_every = 32;
static double idle = 0.5;
static long seed = 8080;
static const char *samples_path;

struct obj {
	unsigned char *p;
	uint32_t size;
	uint32_t id;
};

struct samples {
	uint32_t *ns;
	size_t n, cap;
};

struct worker {
	pthread_t tid;
	long index;
	wl_rng rng;
	struct obj *pool;
	size_t n, cap;
	uint32_t next_id;
	uint64_t countdown;
	struct samples m, f;
	uint64_t calls, checksum;
	double busy;
};

static pthread_barrier_t phase_barrier;

static uint64_t ns_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}

static void samples_init(struct samples *s, size_t cap)
{
	void *p = mmap(NULL, cap * sizeof(uint32_t), PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		wl_fail(W, "cannot map %zu sample slots", cap);
	s->ns = p;
	s->n = 0;
	s->cap = cap;
}

static void record(struct samples *s, uint64_t ns)
{
	if (s->n < s->cap)
		s->ns[s->n++] = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
}

/* Whether to time the next call: a random gap of mean sample_every. */
static bool timed(struct worker *w)
{
	if (w->countdown > 0) {
		w->countdown--;
		return false;
	}
	w->countdown = wl_below(&w->rng, (uint64_t)(2 * sample_every - 1));
	return true;
}

static uint32_t draw_size(wl_rng *r)
{
	uint64_t band = wl_below(r, 100);
	if (band < 60)
		return (uint32_t)wl_log_range(r, 16, 128);
	if (band < 90)
		return (uint32_t)wl_log_range(r, 129, 2048);
	if (band < 99)
		return (uint32_t)wl_log_range(r, 2049, 32768);
	return (uint32_t)wl_log_range(r, 65536, 524288);
}

static inline uint64_t tag_of(uint32_t thread, uint32_t id)
{
	return wl_mix64(((uint64_t)thread << 32) | id);
}

static void alloc_one(struct worker *w)
{
	uint32_t size = draw_size(&w->rng);
	unsigned char *p;
	if (timed(w)) {
		uint64_t t0 = ns_now();
		p = malloc(size);
		uint64_t t1 = ns_now();
		record(&w->m, t1 - t0);
	} else {
		p = malloc(size);
	}
	wl_check_ptr(W, p, size);
	uint32_t id = w->next_id++;
	uint64_t t = tag_of((uint32_t)w->index, id);
	memcpy(p, &t, 8);
	p[size - 1] = (unsigned char)(t >> 56);
	w->pool[w->n].p = p;
	w->pool[w->n].size = size;
	w->pool[w->n].id = id;
	w->n++;
	w->calls++;
}

static void free_one(struct worker *w)
{
	size_t i = (size_t)wl_below(&w->rng, w->n);
	struct obj o = w->pool[i];
	w->pool[i] = w->pool[--w->n];
	uint64_t t = tag_of((uint32_t)w->index, o.id), got;
	memcpy(&got, o.p, 8);
	if (got != t || o.p[o.size - 1] != (unsigned char)(t >> 56))
		wl_fail(W, "object %u of thread %ld (%u bytes) was corrupted", o.id,
		        w->index, o.size);
	w->checksum += t ^ o.size;
	if (timed(w)) {
		uint64_t t0 = ns_now();
		free(o.p);
		uint64_t t1 = ns_now();
		record(&w->f, t1 - t0);
	} else {
		free(o.p);
	}
	w->calls++;
}

/* Serve `requests` requests with the live count going to target; at most
 * max_frees frees per request beyond its own allocations (0: no limit). */
static void serve(struct worker *w, size_t target, long max_frees)
{
	double t0 = wl_now();
	for (long r = 0; r < requests; r++) {
		long k = 1 + (long)wl_below(&w->rng, 8);
		for (long i = 0; i < k && w->n < w->cap; i++)
			alloc_one(w);
		long budget = max_frees > 0 ? 2 * k + max_frees : -1;
		while (w->n > target && budget-- != 0)
			free_one(w);
	}
	w->busy += wl_now() - t0;
}

static void *run_worker(void *arg)
{
	struct worker *w = arg;
	size_t l = (size_t)live;
	serve(w, l, 0);
	pthread_barrier_wait(&phase_barrier);
	serve(w, 4 * l, 0);
	pthread_barrier_wait(&phase_barrier);
	serve(w, l / 8, 8);
	pthread_barrier_wait(&phase_barrier);
	wl_sleep(idle);
	pthread_barrier_wait(&phase_barrier);
	serve(w, l, 0);
	while (w->n > 0)
		free_one(w);
	return NULL;
}

static void write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			wl_fail(W, "cannot write the samples: %s", strerror(errno));
		p += n;
		len -= (size_t)n;
	}
}

static void write_samples(const struct worker *ws)
{
	int fd = open(samples_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		wl_fail(W, "cannot open %s: %s", samples_path, strerror(errno));
	uint64_t counts[2] = { 0, 0 };
	for (long t = 0; t < nthreads; t++) {
		counts[0] += ws[t].m.n;
		counts[1] += ws[t].f.n;
	}
	write_all(fd, counts, sizeof counts);
	for (long t = 0; t < nthreads; t++)
		write_all(fd, ws[t].m.ns, ws[t].m.n * sizeof(uint32_t));
	for (long t = 0; t < nthreads; t++)
		write_all(fd, ws[t].f.ns, ws[t].f.n * sizeof(uint32_t));
	if (close(fd) != 0)
		wl_fail(W, "cannot write %s: %s", samples_path, strerror(errno));
}

/* The smallest time of an empty timed section, in ns. */
static uint64_t timer_overhead(void)
{
	uint64_t best = UINT64_MAX;
	for (int i = 0; i < 10000; i++) {
		uint64_t t0 = ns_now();
		uint64_t t1 = ns_now();
		if (t1 - t0 < best)
			best = t1 - t0;
	}
	return best;
}

int main(int argc, char **argv)
{
	wl_opt opts[] = {
		{ "threads", WL_OPT_LONG, &nthreads, "threads serving requests" },
		{ "requests", WL_OPT_LONG, &requests, "requests per phase per thread" },
		{ "live", WL_OPT_LONG, &live, "live objects per thread when steady" },
		{ "sample-every", WL_OPT_LONG, &sample_every, "time one call in N on average" },
		{ "idle", WL_OPT_DOUBLE, &idle, "seconds of the idle phase" },
		{ "seed", WL_OPT_LONG, &seed, "PRNG seed" },
		{ "samples", WL_OPT_STRING, &samples_path, "write the timed latencies to FILE" },
	};
	if (wl_parse_args(W, argc, argv, opts, WL_NOPTS(opts), true)) {
		requests = 20000;
		live = 1000;
		idle = 0.1;
	}
	wl_parse_args(W, argc, argv, opts, WL_NOPTS(opts), false);
	wl_require(W, nthreads >= 1 && nthreads <= 1024, "threads in 1..1024");
	wl_require(W, requests >= 1 && live >= 8 && live <= (1L << 24),
	           "requests >= 1, 8 <= live <= 2^24");
	wl_require(W, sample_every >= 1 && sample_every <= (1L << 20),
	           "1 <= sample-every <= 2^20");
	wl_require(W, idle >= 0 && idle <= 3600, "0 <= idle <= 3600");

	uint64_t overhead = timer_overhead();
	struct worker *ws = calloc((size_t)nthreads, sizeof *ws);
	if (ws == NULL)
		wl_fail(W, "cannot allocate the workers");
	/* At most 8 allocations per request in 4 phases, as many frees. */
	size_t calls = (size_t)requests * 8 * 4;
	size_t cap = 2 * (calls / (size_t)sample_every) + 4096;
	if (pthread_barrier_init(&phase_barrier, NULL, (unsigned)nthreads) != 0)
		wl_fail(W, "cannot create the barrier");
	for (long t = 0; t < nthreads; t++) {
		struct worker *w = &ws[t];
		w->index = t;
		wl_rng_seed(&w->rng, (uint64_t)seed * 1000003u + (uint64_t)t);
		w->cap = 4 * (size_t)live + 64;
		w->pool = malloc(w->cap * sizeof *w->pool);
		if (w->pool == NULL)
			wl_fail(W, "cannot allocate the pool");
		samples_init(&w->m, cap);
		samples_init(&w->f, cap);
	}
	double t0 = wl_now();
	for (long t = 0; t < nthreads; t++)
		if (pthread_create(&ws[t].tid, NULL, run_worker, &ws[t]) != 0)
			wl_fail(W, "cannot start thread %ld", t);
	uint64_t ops = 0, checksum = 0, nm = 0, nf = 0;
	double busy = 0;
	for (long t = 0; t < nthreads; t++) {
		pthread_join(ws[t].tid, NULL);
		ops += ws[t].calls;
		checksum ^= wl_mix64(ws[t].checksum + (uint64_t)t);
		nm += ws[t].m.n;
		nf += ws[t].f.n;
		if (ws[t].busy > busy)
			busy = ws[t].busy;
	}
	double wall = wl_now() - t0;
	if (samples_path != NULL)
		write_samples(ws);
	for (long t = 0; t < nthreads; t++)
		free(ws[t].pool);
	free(ws);

	wl_json j;
	wl_json_begin(&j, W);
	wl_json_uint(&j, "ops", ops);
	wl_json_double(&j, "seconds", busy);
	wl_json_double(&j, "wall_seconds", wall);
	wl_json_int(&j, "threads", nthreads);
	wl_json_uint(&j, "malloc_samples", nm);
	wl_json_uint(&j, "free_samples", nf);
	wl_json_uint(&j, "timer_ns", overhead);
	wl_json_hex(&j, "checksum", checksum);
	wl_json_end(&j);
	return 0;
}
