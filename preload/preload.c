/* preload/preload.c — the unprefixed malloc family.
 *
 * Linked into libsable.so (LD_PRELOAD) and libsable.a (static linking), these
 * definitions replace the C library's. Every entry point glibc's malloc.o
 * defines that a program may call is here, in this one object, so that a
 * static link never pulls libc.a's malloc.o in beside it ("multiple
 * definition"). glibc's internal names (__libc_malloc, ...) are aliases of
 * the public ones: libc calls them for its own allocations.
 *
 * Symbols only: each forwards to the layer that implements it
 * (src/api/api.h, src/ctl/glibc.h, src/ctl/stats_print.h).
 */
#include <malloc.h>
#include <stdlib.h>

#include "api/api.h"
#include "ctl/glibc.h"
#include "ctl/stats_print.h"
#include "inspect/inspect.h"

#define EXPORT __attribute__((visibility("default")))
#define ALIAS(name) __attribute__((alias(#name), visibility("default")))

EXPORT void *malloc(size_t n) { return api_malloc(n); }
EXPORT void free(void *p) { api_free(p); }
EXPORT void *calloc(size_t count, size_t size) { return api_calloc(count, size); }
EXPORT void *realloc(void *p, size_t n) { return api_realloc(p, n); }
EXPORT void *reallocarray(void *p, size_t count, size_t size)
{
    return api_reallocarray(p, count, size);
}
EXPORT int posix_memalign(void **memptr, size_t align, size_t n)
{
    return api_posix_memalign(memptr, align, n);
}
EXPORT void *aligned_alloc(size_t align, size_t n) { return api_aligned_alloc(align, n); }
EXPORT void *memalign(size_t align, size_t n) { return api_memalign(align, n); }
EXPORT void *valloc(size_t n) { return api_valloc(n); }
EXPORT void *pvalloc(size_t n) { return api_pvalloc(n); }
EXPORT size_t malloc_usable_size(void *p) { return api_usable_size(p); }
EXPORT int malloc_trim(size_t pad) { return api_trim(pad); }

/* C23 sized deallocation (not yet declared by every libc's headers). */
EXPORT void free_sized(void *p, size_t size);
EXPORT void free_aligned_sized(void *p, size_t align, size_t size);
void free_sized(void *p, size_t size) { api_free_sized_fast(p, size, "free_sized"); }
void free_aligned_sized(void *p, size_t align, size_t size)
{
    api_free_sized(p, size, align, "free_aligned_sized");
}

/* Old and internal names. The aliases are the same functions; they need not
 * repeat the attributes glibc's headers put on the public declarations. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpragmas"
#pragma GCC diagnostic ignored "-Wmissing-attributes"
void cfree(void *p) ALIAS(free);
void *__libc_malloc(size_t n) ALIAS(malloc);
void __libc_free(void *p) ALIAS(free);
void *__libc_calloc(size_t count, size_t size) ALIAS(calloc);
void *__libc_realloc(void *p, size_t n) ALIAS(realloc);
void *__libc_memalign(size_t align, size_t n) ALIAS(memalign);
void *__libc_valloc(size_t n) ALIAS(valloc);
void *__libc_pvalloc(size_t n) ALIAS(pvalloc);
int __posix_memalign(void **memptr, size_t align, size_t n) ALIAS(posix_memalign);
#pragma GCC diagnostic pop

/* Set up before main, so that the process is initialised before any of its
 * threads can fork. */
__attribute__((constructor)) static void preload_init(void)
{
    api_init();
    ctl_stats_print_init(); /* stats_print:true: print at exit */
    inspect_init();         /* stats_page:true: the page for sable-stat */
}

/* ---- glibc's statistics and tuning calls ----
 *
 * They live in this object too: a static link must find every symbol of
 * glibc's malloc.o here. How sable's statistics answer them is
 * src/ctl/glibc.c, and so is mallopt's parameter table. */

EXPORT struct mallinfo2 mallinfo2(void) { return ctl_mallinfo2(); }
EXPORT struct mallinfo mallinfo(void) { return ctl_mallinfo(); }
EXPORT void malloc_stats(void) { ctl_malloc_stats(); }
EXPORT int malloc_info(int options, FILE *fp) { return ctl_malloc_info(options, fp); }

EXPORT int mallopt(int param, int value) { return ctl_mallopt(param, value); }
