/* A helper of test_os.c: a freshly started process's first aligned mapping.
 * Prints its address and the hint misses so far, in hex; the test runs it
 * twice to see that two processes start their hints at different places
 * (a forked child would inherit its parent's cursor). */
#include <stdio.h>

#include "os/os.h"

int main(void)
{
    os_init();
    void *p = os_map_aligned((size_t)4 << 20, (size_t)4 << 20);
    printf("%lx %lx\n", (unsigned long)(uintptr_t)p,
           (unsigned long)os_error_count(OS_ERR_HINT_MISS));
    return p == NULL;
}
