/* 20 GiB of address space in 1 GiB huge blocks: allocate them all, touch one
 * byte of each, free them all, twice. The second round must succeed whenever
 * the first did (the address space was given back). Skips (77) when the
 * machine refuses a 1 GiB block in the first round, saying why. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hard.h"

enum { NBLOCKS = 20, ROUNDS = 2 };

static void print_overcommit(void)
{
    FILE *f = fopen("/proc/sys/vm/overcommit_memory", "r");
    int mode = -1;
    if (f) {
        if (fscanf(f, "%d", &mode) != 1)
            mode = -1;
        fclose(f);
    }
    printf("vm.overcommit_memory = %d%s\n", mode,
        mode == 2 ? " (strict accounting: 20 GiB cannot be committed)" : "");
}

int main(void)
{
    alarm(25); /* a hang fails the test in time (SIGALRM) */
    static char *blocks[NBLOCKS];
    for (int round = 0; round < ROUNDS; round++) {
        for (int i = 0; i < NBLOCKS; i++) {
            errno = 0;
            blocks[i] = M_MALLOC(GiB);
            if (!blocks[i]) {
                int e = errno;
                printf("round %d: malloc(1 GiB) number %d returned NULL (%s)\n", round + 1,
                    i + 1, strerror(e));
                for (int j = 0; j < i; j++)
                    M_FREE(blocks[j]);
                if (round == 0) {
                    print_overcommit();
                    printf("SKIP: this machine does not grant 20 GiB of address space\n");
                    return 77;
                }
                printf("FAIL: the first round got all %d blocks, so the address space "
                       "was not given back\n", NBLOCKS);
                return 1;
            }
            if (M_USABLE(blocks[i]) < GiB) {
                printf("FAIL: malloc_usable_size of a 1 GiB block is %zu\n",
                    (size_t)M_USABLE(blocks[i]));
                return 1;
            }
            /* one byte per block, at a different page in each */
            size_t at = ((size_t)i * 4097 * 4096) % GiB;
            blocks[i][at] = (char)(i + 1);
            blocks[i][GiB - 1] = (char)(i + 2);
        }
        for (int i = 0; i < NBLOCKS; i++) {
            size_t at = ((size_t)i * 4097 * 4096) % GiB;
            if (blocks[i][at] != (char)(i + 1) || blocks[i][GiB - 1] != (char)(i + 2)) {
                printf("FAIL: round %d: block %d lost its bytes (overlapping blocks?)\n",
                    round + 1, i);
                return 1;
            }
            for (int j = 0; j < NBLOCKS; j++)
                if (j != i && blocks[j] >= blocks[i] && blocks[j] < blocks[i] + GiB) {
                    printf("FAIL: round %d: blocks %d and %d overlap\n", round + 1, i, j);
                    return 1;
                }
        }
        for (int i = 0; i < NBLOCKS; i++)
            M_FREE(blocks[i]);
        printf("round %d: %d blocks of 1 GiB allocated, touched and freed\n", round + 1,
            NBLOCKS);
    }
    /* and ordinary allocation still works */
    for (int i = 0; i < 10000; i++) {
        char *p = M_MALLOC((size_t)(i % 5000) + 1);
        if (!p) {
            printf("FAIL: small malloc after the huge rounds returned NULL\n");
            return 1;
        }
        p[0] = 1;
        M_FREE(p);
    }
    printf("ok (" M_VARIANT " API)\n");
    return 0;
}
