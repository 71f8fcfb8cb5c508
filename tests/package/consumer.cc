// A C++ program built against an installed sable through pkg-config
// (tests/package/common.sh), dynamically or statically, as consumer.c: the
// operators new and delete, and the containers' memory, come from sable.
#include <new>
#include <string>
#include <vector>

#include "origin.h"
#include <sable.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        std::fputs("usage: consumer-cxx shared LIBRARY | consumer-cxx static\n", stderr);
        return 2;
    }
    const char *lib = argc > 2 ? argv[2] : nullptr;
    void *(*plain_new)(std::size_t) = &::operator new;
    void (*plain_delete)(void *) noexcept = &::operator delete;
    bool ok = origin_is(reinterpret_cast<void *>(plain_new), "operator new", argv[1], lib) &&
              origin_is(reinterpret_cast<void *>(plain_delete), "operator delete", argv[1], lib);
    std::vector<std::string> v;
    for (int i = 0; i < 1000; i++) v.push_back(std::string(100, static_cast<char>('a' + i % 26)));
    // A block sable did not hand out would abort here.
    ok = ok && sable_malloc_usable_size(v.data()) >= v.capacity() * sizeof(std::string);
    ok = ok && sable_malloc_usable_size(v[999].data()) > 100;
    int *a = new int[1000];
    ok = ok && sable_malloc_usable_size(a) >= 1000 * sizeof(int);
    delete[] a;
    if (!ok) return 1;
    std::printf("consumer (C++, %s): sable %s is operator new\n", argv[1], sable_version());
    return 0;
}
