/* Shared by the hardening tests. Each source is compiled twice, like the API
 * tier: with SABLE_TEST_PREFIXED the M_* macros name the prefixed API
 * (sable_malloc, ...) linked from the core library; without it they name the
 * C library's functions, and the binary is linked with libsable.so so that
 * those ARE sable's. */
#ifndef SABLE_TEST_HARD_H
#define SABLE_TEST_HARD_H

#include <malloc.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "sable.h"

#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)
#define GiB ((size_t)1 << 30)

#ifdef SABLE_TEST_PREFIXED
#define M_VARIANT "prefixed"
#define M_MALLOC sable_malloc
#define M_FREE sable_free
#define M_REALLOC sable_realloc
#define M_USABLE sable_malloc_usable_size
#define M_ALIGNED_ALLOC sable_aligned_alloc
#define M_FREE_SIZED sable_free_sized
#define M_FREE_ALIGNED_SIZED sable_free_aligned_sized
#define M_TRIM() sable_trim(0)
#else
#define M_VARIANT "unprefixed"
#define M_MALLOC malloc
#define M_FREE free
#define M_REALLOC realloc
#define M_USABLE malloc_usable_size
#define M_ALIGNED_ALLOC aligned_alloc
#define M_FREE_SIZED free_sized
#define M_FREE_ALIGNED_SIZED free_aligned_sized
#define M_TRIM() malloc_trim(0)
/* C23 / glibc 2.39; the C library's headers here may not declare them. */
void free_sized(void *ptr, size_t size);
void free_aligned_sized(void *ptr, size_t alignment, size_t size);
/* C++ operators under their Itanium ABI names, exported by libsable.so. */
void *_Znwm(size_t size);
void *_Znam(size_t size);
void _ZdlPvm(void *ptr, size_t size);
void _ZdaPvm(void *ptr, size_t size);
#endif

#endif
