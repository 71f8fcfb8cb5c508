/* many-threads: a service with many mostly idle threads. `threads` (1000)
 * threads start together; each allocates about `bytes` (100 KiB) of small
 * objects (16-512 B), writes them, frees all but `keep` bytes of them
 * (4 KiB), and goes to sleep on a condition variable. Once every thread
 * sleeps, the process stays idle `idle` seconds (3) and reads its RSS: what
 * the allocator still holds for threads that no longer allocate (thread
 * caches, free space in their arenas) shows above the live bytes. Then the
 * threads wake, verify and free what they kept, and exit.
 *
 * ops = allocations + frees; live_bytes = bytes kept by all threads while
 * idle; final_rss_kib = VmRSS after the idle time (the report's "final
 * RSS"); rss_idle_excess_kib = final RSS less the live bytes and the RSS
 * before the threads started.
 */
#include "common.h"

#include <pthread.h>

#define W "many-threads"
#define MAX_OBJS 8192 /* on the thread's stack (STACK): bytes / 16 at most */
#define STACK (512L << 10)

static long nthreads = 1000;
static long bytes = 100L << 10;
static long keep = 4L << 10;
static double idle = 3.0;
static long seed = 77;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t all_asleep = PTHREAD_COND_INITIALIZER, wake = PTHREAD_COND_INITIALIZER;
static long asleep;
static bool woken;

struct worker {
	long id;
	pthread_t tid;
	long ops;
	long kept_bytes;
	uint64_t checksum;
};

static void verify(const unsigned char *p, size_t size, uint64_t tag)
{
	if (!wl_tagged_ok(p, size, tag))
		wl_fail(W, "object %p (size %zu) corrupted", (const void *)p, size);
}

static void *thread_main(void *arg)
{
	struct worker *w = arg;
	unsigned char *ptr[MAX_OBJS];
	uint32_t sz[MAX_OBJS];
	uint64_t tag[MAX_OBJS];
	wl_rng rng;
	wl_rng_seed(&rng, (uint64_t)seed ^ ((uint64_t)w->id << 32));
	long n = 0, total = 0;
	while (total < bytes && n < MAX_OBJS) {
		sz[n] = (uint32_t)wl_range(&rng, 16, 512);
		tag[n] = wl_next(&rng);
		ptr[n] = wl_check_ptr(W, malloc(sz[n]), sz[n]);
		wl_fill_tagged(ptr[n], sz[n], tag[n]);
		total += sz[n];
		n++;
	}
	/* Keep every k-th object up to `keep` bytes, scattered over the slabs. */
	long stride = keep > 0 ? (total + keep - 1) / keep : n + 1, kept = 0;
	for (long i = 0; i < n; i++) {
		if (keep > 0 && i % (stride > 0 ? stride : 1) == 0 && kept < keep) {
			kept += sz[i];
			continue;
		}
		verify(ptr[i], sz[i], tag[i]);
		free(ptr[i]);
		ptr[i] = NULL;
	}
	w->ops = 2 * n; /* each object is allocated and freed once */
	w->kept_bytes = kept;

	pthread_mutex_lock(&mu);
	asleep++;
	pthread_cond_signal(&all_asleep);
	while (!woken)
		pthread_cond_wait(&wake, &mu);
	pthread_mutex_unlock(&mu);

	for (long i = 0; i < n; i++) {
		if (ptr[i] == NULL)
			continue;
		verify(ptr[i], sz[i], tag[i]);
		w->checksum += tag[i];
		free(ptr[i]);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	wl_opt opts[] = {
		{ "threads", WL_OPT_LONG, &nthreads, "threads, all alive at once" },
		{ "bytes", WL_OPT_LONG, &bytes, "bytes each thread allocates" },
		{ "keep", WL_OPT_LONG, &keep, "bytes each thread keeps while idle" },
		{ "idle", WL_OPT_DOUBLE, &idle, "seconds all threads sleep before RSS is read" },
		{ "seed", WL_OPT_LONG, &seed, "PRNG seed" },
	};
	if (wl_parse_args(W, argc, argv, opts, WL_NOPTS(opts), true)) {
		nthreads = 100;
		idle = 0.3;
	}
	wl_parse_args(W, argc, argv, opts, WL_NOPTS(opts), false);
	wl_require(W, nthreads >= 1 && nthreads <= 20000, "threads in 1..20000");
	wl_require(W, bytes >= 512 && bytes <= 16 * MAX_OBJS, "bytes in 512..128k");
	wl_require(W, keep >= 0 && keep <= bytes, "keep in 0..bytes");
	wl_require(W, idle >= 0, "idle >= 0");

	struct worker *ws = calloc((size_t)nthreads, sizeof *ws);
	if (ws == NULL)
		wl_fail(W, "cannot allocate the workers");
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, STACK);
	long rss_before = wl_rss_kib();
	double t0 = wl_now();
	for (long i = 0; i < nthreads; i++) {
		ws[i].id = i;
		if (pthread_create(&ws[i].tid, &attr, thread_main, &ws[i]) != 0)
			wl_fail(W, "pthread_create failed (thread %ld)", i);
	}
	pthread_mutex_lock(&mu);
	while (asleep < nthreads)
		pthread_cond_wait(&all_asleep, &mu);
	pthread_mutex_unlock(&mu);
	double busy = wl_now() - t0;
	long rss_asleep = wl_rss_kib();
	wl_sleep(idle);
	long rss_idle = wl_rss_kib();

	pthread_mutex_lock(&mu);
	woken = true;
	pthread_cond_broadcast(&wake);
	pthread_mutex_unlock(&mu);
	long ops = 0, live = 0;
	uint64_t checksum = 0;
	for (long i = 0; i < nthreads; i++) {
		pthread_join(ws[i].tid, NULL);
		ops += ws[i].ops;
		live += ws[i].kept_bytes;
		checksum += ws[i].checksum;
	}
	double elapsed = wl_now() - t0;
	free(ws);

	wl_json j;
	wl_json_begin(&j, W);
	wl_json_int(&j, "ops", ops);
	wl_json_double(&j, "seconds", elapsed);
	wl_json_double(&j, "busy_seconds", busy);
	wl_json_int(&j, "threads", nthreads);
	wl_json_int(&j, "live_bytes", live);
	wl_json_int(&j, "rss_before_kib", rss_before);
	wl_json_int(&j, "rss_asleep_kib", rss_asleep);
	wl_json_int(&j, "final_rss_kib", rss_idle);
	wl_json_int(&j, "rss_idle_excess_kib", rss_idle - rss_before - live / 1024);
	wl_json_hex(&j, "checksum", checksum);
	wl_json_end(&j);
	return 0;
}
