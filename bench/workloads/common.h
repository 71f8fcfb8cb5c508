/* Shared helpers for the benchmark workloads.
 *
 * Every workload is a standalone program that calls only the plain malloc
 * family (the runner swaps allocators with LD_PRELOAD), verifies its own
 * results (a failed check prints to stderr and exits 1) and, on success,
 * prints exactly one line of JSON on stdout as its last line.
 *
 * Everything here is static inline so each workload is one translation unit
 * plus this header.
 */
#ifndef SABLE_BENCH_COMMON_H
#define SABLE_BENCH_COMMON_H

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* Failure                                                              */

__attribute__((noreturn, format(printf, 2, 3)))
static inline void wl_fail(const char *workload, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: FAILED: ", workload);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	exit(1);
}

/* Allocation failure is a failed check too: a workload never degrades. */
static inline void *wl_check_ptr(const char *workload, void *p, size_t size)
{
	if (p == NULL)
		wl_fail(workload, "allocation of %zu bytes returned NULL", size);
	return p;
}

/* Keep the compiler from eliding an allocation or its use. */
/* Tagged objects (size >= 9): the tag in the first 8 bytes, its low byte in
 * the rest. wl_tagged_ok checks the tag, every 61st byte and the last one:
 * enough to see an object that moved, was overwritten or was handed out
 * twice, at a cost small beside the allocation. */
static inline void wl_fill_tagged(unsigned char *p, size_t size, uint64_t tag)
{
	memcpy(p, &tag, 8);
	memset(p + 8, (int)(tag & 0xff), size - 8);
}

static inline bool wl_tagged_ok(const unsigned char *p, size_t size, uint64_t tag)
{
	uint64_t t;
	memcpy(&t, p, 8);
	bool ok = t == tag;
	for (size_t i = 8; ok && i < size; i += 61)
		ok = p[i] == (unsigned char)(tag & 0xff);
	return ok && p[size - 1] == (unsigned char)(tag & 0xff);
}

static inline void wl_escape(const void *p)
{
	__asm__ volatile("" : : "r"(p) : "memory");
}

/* ------------------------------------------------------------------ */
/* PRNG: splitmix64 for seeding and hashing, xoshiro256** for streams.  */

static inline uint64_t wl_splitmix64(uint64_t *state)
{
	uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* Stateless 64-bit mix: a hash of one word. */
static inline uint64_t wl_mix64(uint64_t x)
{
	uint64_t s = x;
	return wl_splitmix64(&s);
}

typedef struct {
	uint64_t s[4];
} wl_rng;

static inline void wl_rng_seed(wl_rng *r, uint64_t seed)
{
	uint64_t sm = seed;
	for (int i = 0; i < 4; i++)
		r->s[i] = wl_splitmix64(&sm);
}

static inline uint64_t wl_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64_t wl_next(wl_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = wl_rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = wl_rotl(s[3], 45);
	return result;
}

/* Uniform in [0, n) (n > 0), multiply-shift (bias negligible here). */
static inline uint64_t wl_below(wl_rng *r, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)wl_next(r) * n) >> 64);
}

/* Uniform in [lo, hi]. */
static inline uint64_t wl_range(wl_rng *r, uint64_t lo, uint64_t hi)
{
	return lo + wl_below(r, hi - lo + 1);
}

/* Log-uniform in [lo, hi] (lo > 0): as many small as large octaves. */
static inline uint64_t wl_log_range(wl_rng *r, uint64_t lo, uint64_t hi)
{
	int lo_bits = 63 - __builtin_clzll(lo);
	int hi_bits = 63 - __builtin_clzll(hi);
	for (;;) {
		int b = lo_bits + (int)wl_below(r, (uint64_t)(hi_bits - lo_bits + 1));
		uint64_t base = UINT64_C(1) << b;
		uint64_t v = base + wl_below(r, base);
		if (v >= lo && v <= hi)
			return v;
	}
}

/* ------------------------------------------------------------------ */
/* Time and memory                                                      */

static inline double wl_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline void wl_sleep(double seconds)
{
	struct timespec ts;
	ts.tv_sec = (time_t)seconds;
	ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* A field of /proc/self/status in KiB ("VmRSS", "VmHWM"); -1 if absent.
 * Uses only the stack: no allocation that would perturb the measurement. */
static inline long wl_status_kib(const char *field)
{
	char buf[4096];
	FILE *f = fopen("/proc/self/status", "r");
	long val = -1;
	size_t flen = strlen(field);
	if (f == NULL)
		return -1;
	setvbuf(f, NULL, _IONBF, 0);
	while (fgets(buf, sizeof buf, f) != NULL) {
		if (strncmp(buf, field, flen) == 0 && buf[flen] == ':') {
			val = strtol(buf + flen + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return val;
}

static inline long wl_rss_kib(void)
{
	return wl_status_kib("VmRSS");
}

/* ------------------------------------------------------------------ */
/* Argument parsing: "--name VALUE", "--name=VALUE", flags "--name".     */
/* Integer values accept k/K, m/M, g/G suffixes (powers of 1024).        */

enum wl_opt_kind { WL_OPT_LONG, WL_OPT_DOUBLE, WL_OPT_FLAG, WL_OPT_STRING };

typedef struct {
	const char *name; /* without the leading "--" */
	enum wl_opt_kind kind;
	void *val;        /* long *, double *, bool * or const char ** */
	const char *help;
} wl_opt;

static inline bool wl_parse_long(const char *s, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 0);
	if (errno != 0 || end == s)
		return false;
	long mul = 1;
	switch (*end) {
	case 'k': case 'K': mul = 1L << 10; end++; break;
	case 'm': case 'M': mul = 1L << 20; end++; break;
	case 'g': case 'G': mul = 1L << 30; end++; break;
	default: break;
	}
	if (*end != '\0')
		return false;
	*out = v * mul;
	return true;
}

static inline void wl_usage(const char *workload, const wl_opt *opts, size_t n,
                            FILE *out)
{
	fprintf(out, "usage: wl-%s [options]\n", workload);
	fprintf(out, "  --quick            tiny run (< 2 s)\n");
	for (size_t i = 0; i < n; i++) {
		const wl_opt *o = &opts[i];
		if (o->kind == WL_OPT_LONG)
			fprintf(out, "  --%-16s %s (default %ld)\n", o->name, o->help,
			        *(long *)o->val);
		else if (o->kind == WL_OPT_DOUBLE)
			fprintf(out, "  --%-16s %s (default %g)\n", o->name, o->help,
			        *(double *)o->val);
		else
			fprintf(out, "  --%-16s %s\n", o->name, o->help);
	}
}

/* Returns true if --quick was given. Call it twice when the quick defaults
 * differ: first with quick_only=true to learn whether --quick is present
 * (values are not stored), then set the defaults and call it again.
 * Unknown options are an error (exit 2). */
static inline bool wl_parse_args(const char *workload, int argc, char **argv,
                                 const wl_opt *opts, size_t n, bool quick_only)
{
	bool quick = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--quick") == 0) {
			quick = true;
			continue;
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			wl_usage(workload, opts, n, stdout);
			exit(0);
		}
		if (strncmp(a, "--", 2) != 0)
			goto bad;
		const char *name = a + 2;
		const char *eq = strchr(name, '=');
		size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
		const wl_opt *o = NULL;
		for (size_t k = 0; k < n; k++) {
			if (strlen(opts[k].name) == nlen &&
			    strncmp(opts[k].name, name, nlen) == 0) {
				o = &opts[k];
				break;
			}
		}
		if (o == NULL)
			goto bad;
		if (o->kind == WL_OPT_FLAG) {
			if (eq)
				goto bad;
			if (!quick_only)
				*(bool *)o->val = true;
			continue;
		}
		const char *v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
		if (v == NULL)
			goto bad;
		if (o->kind == WL_OPT_STRING) {
			if (!quick_only)
				*(const char **)o->val = v;
		} else if (o->kind == WL_OPT_LONG) {
			long x;
			if (!wl_parse_long(v, &x))
				goto bad;
			if (!quick_only)
				*(long *)o->val = x;
		} else {
			char *end;
			double x = strtod(v, &end);
			if (end == v || *end != '\0')
				goto bad;
			if (!quick_only)
				*(double *)o->val = x;
		}
		continue;
bad:
		fprintf(stderr, "wl-%s: bad argument '%s'\n", workload, a);
		wl_usage(workload, opts, n, stderr);
		exit(2);
	}
	return quick;
}

#define WL_NOPTS(a) (sizeof(a) / sizeof((a)[0]))

static inline void wl_require(const char *workload, bool cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "wl-%s: invalid parameters: %s\n", workload, what);
		exit(2);
	}
}

/* ------------------------------------------------------------------ */
/* The JSON result line. Build with wl_json_* then wl_json_end() prints   */
/* it (one line, flushed) as the last output on stdout.                  */

typedef struct {
	char buf[2048];
	size_t len;
} wl_json;

__attribute__((format(printf, 2, 3)))
static inline void wl_json_raw(wl_json *j, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(j->buf + j->len, sizeof j->buf - j->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof j->buf - j->len) {
		fprintf(stderr, "wl: JSON line too long\n");
		exit(1);
	}
	j->len += (size_t)n;
}

static inline void wl_json_begin(wl_json *j, const char *workload)
{
	j->len = 0;
	wl_json_raw(j, "{\"workload\":\"%s\"", workload);
}

static inline void wl_json_int(wl_json *j, const char *key, long long v)
{
	wl_json_raw(j, ",\"%s\":%lld", key, v);
}

static inline void wl_json_uint(wl_json *j, const char *key, uint64_t v)
{
	wl_json_raw(j, ",\"%s\":%" PRIu64, key, v);
}

static inline void wl_json_double(wl_json *j, const char *key, double v)
{
	wl_json_raw(j, ",\"%s\":%.6f", key, v);
}

static inline void wl_json_bool(wl_json *j, const char *key, bool v)
{
	wl_json_raw(j, ",\"%s\":%s", key, v ? "true" : "false");
}

/* Hex string: checksums stay exact whatever the JSON reader does. */
static inline void wl_json_hex(wl_json *j, const char *key, uint64_t v)
{
	wl_json_raw(j, ",\"%s\":\"%016" PRIx64 "\"", key, v);
}

static inline void wl_json_end(wl_json *j)
{
	wl_json_raw(j, "}");
	fflush(stdout);
	fputs(j->buf, stdout);
	fputc('\n', stdout);
	fflush(stdout);
}

#endif /* SABLE_BENCH_COMMON_H */
