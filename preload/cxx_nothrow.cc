// preload/cxx_nothrow.cc — the one piece of operator new that must be C++.
//
// Nothrow new must call the new-handler like throwing new does, and return
// NULL if the handler throws std::bad_alloc (or the retry loop gives up by
// throwing). Catching needs C++; everything else stays in cxx_ops.c.
//
// The C++ runtime is referenced weakly (the personality routine with an
// assembler directive, because the compiler emits that reference itself), so
// libsable.so still depends on libc alone: only C++ programs ever reach this
// code, and they have the runtime loaded.
#include <cstddef>

extern "C" {
void *__cxa_begin_catch(void *) noexcept;
void __cxa_end_catch();
void *cxx_new_slow(std::size_t n, std::size_t align);
void *cxx_nothrow_slow(std::size_t n, std::size_t align) noexcept;
}
#pragma weak __cxa_begin_catch
#pragma weak __cxa_end_catch
__asm__(".weak __gxx_personality_v0");

extern "C" __attribute__((visibility("hidden"))) void *cxx_nothrow_slow(std::size_t n,
                                                                      std::size_t align) noexcept
{
    try {
        return cxx_new_slow(n, align);
    } catch (...) {
        return nullptr;
    }
}
