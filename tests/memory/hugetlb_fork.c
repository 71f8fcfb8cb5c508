/* hugepages:hugetlb and fork: the parent takes every page of a small pool
 * (reserve 16, as root; skip otherwise), then forks. Private hugetlb pages
 * are shared copy-on-write and the child has no reservation, so a child
 * that writes to them with the pool exhausted is killed by SIGBUS, unless
 * sable gave the child copies in normal pages (docs/memory.md). The child
 * writes every live block, frees half, allocates more and checks contents;
 * it must exit normally. */
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

int main(void)
{
    long before;
    if (!reserve_hugepages(16, &before)) return 77;
    enum { N = 600, SIZE = 100000 };
    static unsigned char *p[N];
    for (int i = 0; i < N; i++) {
        p[i] = sable_malloc(SIZE);
        CHECK(p[i] != NULL, "allocation %d failed", i);
        memset(p[i], i & 0xff, SIZE);
    }
    long free_now = meminfo("HugePages_Free");
    size_t hp = 0, len = sizeof hp;
    CHECK(sable_mallctl("stats.hugepages.mapped", &hp, &len, NULL, 0) == 0, "mallctl");
    printf("pool: %ld pages free after 60 MB; %zu bytes of chunks in it\n", free_now, hp);
    if (hp == 0) {
        set_nr_hugepages(before);
        printf("no chunk came from the pool: skipped\n");
        return 77;
    }
    fflush(stdout);
    pid_t pid = fork();
    CHECK(pid >= 0, "fork");
    if (pid == 0) {
        for (int i = 0; i < N; i++) {
            if (p[i][SIZE - 1] != (i & 0xff)) _exit(3);
            memset(p[i], (i + 1) & 0xff, SIZE); /* the child's own copy now */
        }
        for (int i = 0; i < N; i += 2) sable_free(p[i]);
        for (int i = 0; i < N; i += 2) {
            p[i] = sable_malloc(SIZE);
            if (p[i] == NULL) _exit(4);
            memset(p[i], 0x5c, SIZE);
        }
        for (int i = 1; i < N; i += 2)
            if (p[i][0] != ((i + 1) & 0xff)) _exit(5);
        _exit(0);
    }
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid, "waitpid");
    for (int i = 0; i < N; i++) CHECK(p[i][SIZE - 1] == (i & 0xff), "parent block %d changed", i);
    for (int i = 0; i < N; i++) sable_free(p[i]);
    sable_trim(0);
    set_nr_hugepages(before);
    CHECK(!WIFSIGNALED(status), "the child was killed by signal %d", WTERMSIG(status));
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child failed (status %d)",
          WEXITSTATUS(status));
    return 0;
}
