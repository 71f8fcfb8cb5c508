/* src/api/sable.c — the prefixed API of include/sable.h: one line each over
 * the shared logic of api.h.
 * Invariants: each function is the api.h call of the same name, nothing more.
 * Locking: none of its own.
 */
#include "sable.h"

#include "api/api.h"

void *sable_malloc(size_t n) { return api_malloc(n); }
void sable_free(void *p) { api_free(p); }
void *sable_calloc(size_t count, size_t size) { return api_calloc(count, size); }
void *sable_realloc(void *p, size_t n) { return api_realloc(p, n); }
void *sable_reallocarray(void *p, size_t count, size_t size)
{
    return api_reallocarray(p, count, size);
}
void sable_free_sized(void *p, size_t size) { api_free_sized_fast(p, size, "free_sized"); }
void sable_free_aligned_sized(void *p, size_t align, size_t size)
{
    api_free_sized(p, size, align, "free_aligned_sized");
}
int sable_posix_memalign(void **memptr, size_t align, size_t n)
{
    return api_posix_memalign(memptr, align, n);
}
void *sable_aligned_alloc(size_t align, size_t n) { return api_aligned_alloc(align, n); }
void *sable_memalign(size_t align, size_t n) { return api_memalign(align, n); }
void *sable_valloc(size_t n) { return api_valloc(n); }
void *sable_pvalloc(size_t n) { return api_pvalloc(n); }
size_t sable_malloc_usable_size(const void *p) { return api_usable_size(p); }
const char *sable_version(void) { return SABLE_VERSION_STRING; }
int sable_trim(size_t pad) { return api_trim(pad); }
