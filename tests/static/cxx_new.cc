// C++ operators from libsable.a: new/delete, arrays, sized and aligned
// variants, nothrow; a failing operator new calls the new_handler first and
// then throws std::bad_alloc (nothrow forms return nullptr).
#include <dlfcn.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <new>

#include "sable.h"

static int failures;

#define EXPECT(cond, what)                                                                         \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            std::fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #cond, what);             \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

static bool aligned(const void *p, std::size_t a)
{
    return (reinterpret_cast<std::uintptr_t>(p) & (a - 1)) == 0;
}

// The operator's code is in this executable (from libsable.a), not libstdc++.
static void expect_in_executable(void *fn, const char *name)
{
    Dl_info self, info;
    dladdr(reinterpret_cast<void *>(&expect_in_executable), &self);
    if (dladdr(fn, &info) == 0 || info.dli_fbase != self.dli_fbase) {
        std::fprintf(stderr, "%s comes from %s, not from the executable\n", name,
            info.dli_fname ? info.dli_fname : "?");
        failures++;
    }
}

static int handler_calls;
static void counting_handler()
{
    handler_calls++;
    std::set_new_handler(nullptr); // the next attempt fails for good
}

struct alignas(256) Wide {
    char bytes[300];
};

static std::size_t impossible()
{
    volatile std::size_t v = std::numeric_limits<std::size_t>::max() / 2 + 1;
    return v;
}

// [new.delete.single]: the nothrow form's default behaviour "calls
// operator new(size)", so the new_handler runs before nullptr is returned
// (libstdc++ does this). Run on its own: `cxx_new nothrow-handler`.
static int nothrow_calls_new_handler()
{
    handler_calls = 0;
    std::set_new_handler(counting_handler);
    void *none = ::operator new(impossible(), std::nothrow);
    EXPECT(none == nullptr, "nothrow new(huge) did not return nullptr");
    EXPECT(handler_calls == 1, "nothrow new(huge) did not call the new_handler");
    handler_calls = 0;
    std::set_new_handler(counting_handler);
    none = ::operator new(impossible(), std::align_val_t(128), std::nothrow);
    EXPECT(none == nullptr, "aligned nothrow new(huge) did not return nullptr");
    EXPECT(handler_calls == 1, "aligned nothrow new(huge) did not call the new_handler");
    std::set_new_handler(nullptr);
    if (failures) {
        std::fprintf(stderr, "cxx_new nothrow-handler: %d failures\n", failures);
        return 1;
    }
    std::printf("cxx_new nothrow-handler: ok\n");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && std::strcmp(argv[1], "nothrow-handler") == 0)
        return nothrow_calls_new_handler();

    void *(*plain_new)(std::size_t) = &::operator new;
    void (*plain_delete)(void *) noexcept = &::operator delete;
    void *(*aligned_new)(std::size_t, std::align_val_t) = &::operator new;
    expect_in_executable(reinterpret_cast<void *>(plain_new), "operator new");
    expect_in_executable(reinterpret_cast<void *>(plain_delete), "operator delete");
    expect_in_executable(reinterpret_cast<void *>(aligned_new), "operator new(align_val_t)");

    int *i = new int(42);
    EXPECT(*i == 42 && sable_malloc_usable_size(i) >= sizeof(int), "new int");
    delete i;

    char *arr = new char[1000];
    std::memset(arr, 1, 1000);
    EXPECT(sable_malloc_usable_size(arr) >= 1000, "new[] block unknown to sable");
    delete[] arr;

    void *s = ::operator new(123);
    ::operator delete(s, 123); // sized delete
    void *sa = ::operator new[](4000);
    ::operator delete[](sa, 4000);

    Wide *w = new Wide[3];
    EXPECT(aligned(w, 256), "new Wide[] not 256-aligned");
    delete[] w;
    for (std::size_t a = 16; a <= (std::size_t)1 << 22; a *= 4) {
        void *p = ::operator new(a + 5, std::align_val_t(a));
        EXPECT(aligned(p, a), "aligned operator new");
        std::memset(p, 2, a + 5);
        ::operator delete(p, a + 5, std::align_val_t(a)); // sized + aligned
        p = ::operator new[](100, std::align_val_t(a), std::nothrow);
        EXPECT(p != nullptr && aligned(p, a), "aligned nothrow new[]");
        ::operator delete[](p, std::align_val_t(a));
    }

    int *n = new (std::nothrow) int[10];
    EXPECT(n != nullptr, "nothrow new[]");
    delete[] n;

    // a failing new calls the handler, then throws
    handler_calls = 0;
    std::set_new_handler(counting_handler);
    bool threw = false;
    try {
        void *p = ::operator new(impossible());
        ::operator delete(p);
    } catch (const std::bad_alloc &) {
        threw = true;
    }
    EXPECT(threw, "operator new(huge) did not throw std::bad_alloc");
    EXPECT(handler_calls == 1, "the new_handler was not called before the throw");

    // no handler: throws straight away
    threw = false;
    try {
        char *p = new char[impossible()];
        delete[] p;
    } catch (const std::bad_alloc &) {
        threw = true;
    }
    EXPECT(threw, "new char[huge] did not throw std::bad_alloc");

    threw = false;
    try {
        void *p = ::operator new(impossible(), std::align_val_t(64));
        ::operator delete(p, std::align_val_t(64));
    } catch (const std::bad_alloc &) {
        threw = true;
    }
    EXPECT(threw, "aligned operator new(huge) did not throw std::bad_alloc");

    // nothrow: nullptr instead of an exception
    std::set_new_handler(nullptr);
    void *none = ::operator new(impossible(), std::nothrow);
    EXPECT(none == nullptr, "nothrow new(huge) did not return nullptr");
    none = ::operator new[](impossible(), std::nothrow);
    EXPECT(none == nullptr, "nothrow new[](huge) did not return nullptr");
    none = ::operator new(impossible(), std::align_val_t(128), std::nothrow);
    EXPECT(none == nullptr, "aligned nothrow new(huge) did not return nullptr");

    // a handler that frees memory lets the allocation be retried: here the
    // handler throws its own exception, which must propagate unchanged
    struct Custom {};
    std::set_new_handler([] { throw Custom(); });
    bool custom = false;
    try {
        void *p = ::operator new(impossible());
        ::operator delete(p);
    } catch (const Custom &) {
        custom = true;
    } catch (...) {
    }
    EXPECT(custom, "the new_handler's exception did not propagate");
    std::set_new_handler(nullptr);

    if (failures) {
        std::fprintf(stderr, "cxx_new: %d failures\n", failures);
        return 1;
    }
    std::printf("cxx_new: ok\n");
    return 0;
}
