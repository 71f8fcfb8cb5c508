/* A program for the SABLE_CONF tests: allocates through the prefixed API and
 * exits, either by returning from main or (argv[1] = "thread-exit") by
 * calling exit() from a second thread while the first waits; with argv[1] =
 * "warn", after one run-time warning (a failed munmap) and exit status 0. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "os/os.h"
#include "sable.h"

static void *work(void *arg)
{
    void *p[100];
    for (int i = 0; i < 100; i++) p[i] = sable_malloc(64 + (size_t)i * 40);
    for (int i = 0; i < 100; i += 2) sable_free(p[i]);
    if (arg) exit(0);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "thread-exit") == 0) {
        pthread_t t;
        pthread_create(&t, NULL, work, (void *)1);
        for (;;) pause();
    }
    if (argc > 1 && strcmp(argv[1], "warn") == 0) {
        char *p = sable_malloc(1 << 20);
        if (p == NULL) return 10;
        os_unmap(p + 1, 4096); /* an unaligned address: EINVAL, warned once */
        return 0;
    }
    work(NULL);
    return 0;
}
