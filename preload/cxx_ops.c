/* preload/cxx_ops.c — C++ operator new and delete, every variant, in C.
 *
 * Written in C so that libsable.so depends on libc alone and a C program
 * linked with libsable.a never pulls in libstdc++. What C++ semantics need
 * from the C++ runtime (the new-handler, throwing std::bad_alloc) is reached
 * through weak references to the Itanium C++ ABI: any program that calls
 * operator new is a C++ program, so libstdc++ (or libc++abi) is loaded and
 * the references resolve; if they somehow do not, allocation failure aborts
 * with a message instead of returning NULL from a throwing new.
 *
 * Throwing new: on failure, call the new-handler while there is one and
 * retry; with none, throw std::bad_alloc. Nothrow new does the same inside a
 * catch-all (cxx_nothrow.cc) and returns NULL if anything was thrown. This
 * file is compiled with -fexceptions so exceptions unwind through it.
 */
#include <stddef.h>

#include "api/api.h"

#define EXPORT __attribute__((visibility("default")))

typedef void (*new_handler_t)(void);
extern new_handler_t _ZSt15get_new_handlerv(void) __attribute__((weak));
extern void *__cxa_allocate_exception(size_t) __attribute__((weak));
extern void __cxa_throw(void *, void *, void (*)(void *)) __attribute__((weak, noreturn));
extern char _ZTISt9bad_alloc[] __attribute__((weak)); /* typeinfo for std::bad_alloc */
extern void *_ZTVSt9bad_alloc[] __attribute__((weak)); /* its vtable */
extern void _ZNSt9bad_allocD1Ev(void *) __attribute__((weak));

static _Noreturn void throw_bad_alloc(void)
{
    if (__cxa_allocate_exception && __cxa_throw && _ZTISt9bad_alloc && _ZTVSt9bad_alloc) {
        void **exc = __cxa_allocate_exception(sizeof(void *));
        /* A std::bad_alloc is one vtable pointer: the vtable's address point
         * is two words in (offset-to-top, typeinfo). */
        *exc = &_ZTVSt9bad_alloc[2];
        __cxa_throw(exc, _ZTISt9bad_alloc, _ZNSt9bad_allocD1Ev);
    }
    sable_fatal("operator new: out of memory and no C++ runtime to throw std::bad_alloc");
}

SABLE_HIDDEN void *cxx_new_slow(size_t n, size_t align) SABLE_NOINLINE;
SABLE_HIDDEN void *cxx_nothrow_slow(size_t n, size_t align);

void *cxx_new_slow(size_t n, size_t align)
{
    for (;;) {
        void *p = align ? api_aligned(align, n) : api_malloc(n);
        if (p) return p;
        new_handler_t h = _ZSt15get_new_handlerv ? _ZSt15get_new_handlerv() : NULL;
        if (h == NULL) throw_bad_alloc();
        h();
    }
}

static inline void *new_throw(size_t n)
{
    void *p = api_malloc(n);
    return likely(p != NULL) ? p : cxx_new_slow(n, 0);
}

static inline void *new_aligned_throw(size_t n, size_t align)
{
    void *p = api_aligned(align, n);
    return likely(p != NULL) ? p : cxx_new_slow(n, align);
}

static inline void *new_nothrow(size_t n)
{
    void *p = api_malloc(n);
    return likely(p != NULL) ? p : cxx_nothrow_slow(n, 0);
}

static inline void *new_aligned_nothrow(size_t n, size_t align)
{
    void *p = api_aligned(align, n);
    return likely(p != NULL) ? p : cxx_nothrow_slow(n, align);
}

/* new */
EXPORT void *_Znwm(size_t n) { return new_throw(n); }
EXPORT void *_Znam(size_t n) { return new_throw(n); }
EXPORT void *_ZnwmRKSt9nothrow_t(size_t n, const void *nt)
{
    (void)nt;
    return new_nothrow(n);
}
EXPORT void *_ZnamRKSt9nothrow_t(size_t n, const void *nt)
{
    (void)nt;
    return new_nothrow(n);
}
EXPORT void *_ZnwmSt11align_val_t(size_t n, size_t al) { return new_aligned_throw(n, al); }
EXPORT void *_ZnamSt11align_val_t(size_t n, size_t al) { return new_aligned_throw(n, al); }
EXPORT void *_ZnwmSt11align_val_tRKSt9nothrow_t(size_t n, size_t al, const void *nt)
{
    (void)nt;
    return new_aligned_nothrow(n, al);
}
EXPORT void *_ZnamSt11align_val_tRKSt9nothrow_t(size_t n, size_t al, const void *nt)
{
    (void)nt;
    return new_aligned_nothrow(n, al);
}

/* delete */
EXPORT void _ZdlPv(void *p) { api_free_named(p, "operator delete"); }
EXPORT void _ZdaPv(void *p) { api_free_named(p, "operator delete[]"); }
EXPORT void _ZdlPvm(void *p, size_t n) { api_free_sized_fast(p, n, "operator delete"); }
EXPORT void _ZdaPvm(void *p, size_t n) { api_free_sized_fast(p, n, "operator delete[]"); }
EXPORT void _ZdlPvRKSt9nothrow_t(void *p, const void *nt)
{
    (void)nt;
    api_free_named(p, "operator delete");
}
EXPORT void _ZdaPvRKSt9nothrow_t(void *p, const void *nt)
{
    (void)nt;
    api_free_named(p, "operator delete[]");
}
EXPORT void _ZdlPvSt11align_val_t(void *p, size_t al)
{
    (void)al;
    api_free_named(p, "operator delete");
}
EXPORT void _ZdaPvSt11align_val_t(void *p, size_t al)
{
    (void)al;
    api_free_named(p, "operator delete[]");
}
EXPORT void _ZdlPvmSt11align_val_t(void *p, size_t n, size_t al)
{
    api_free_sized(p, n, al, "operator delete");
}
EXPORT void _ZdaPvmSt11align_val_t(void *p, size_t n, size_t al)
{
    api_free_sized(p, n, al, "operator delete[]");
}
EXPORT void _ZdlPvSt11align_val_tRKSt9nothrow_t(void *p, size_t al, const void *nt)
{
    (void)al;
    (void)nt;
    api_free_named(p, "operator delete");
}
EXPORT void _ZdaPvSt11align_val_tRKSt9nothrow_t(void *p, size_t al, const void *nt)
{
    (void)al;
    (void)nt;
    api_free_named(p, "operator delete[]");
}
