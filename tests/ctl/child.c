/* A program for the SABLE_CONF tests: allocates through the prefixed API and
 * exits, either by returning from main or (argv[1] = "thread-exit") by
 * calling exit() from a second thread while the first waits. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    work(NULL);
    return 0;
}
