/* tests/fuzz/replay.c — runs fuzz_calls.c's target once over each input,
 * without libFuzzer: the committed seed corpus as a deterministic regression
 * test of the main build (gcc, no sanitizers needed).
 *
 *   fuzz-replay FILE_OR_DIR...    replays every file (a directory's files in
 *                                 name order); exits 0 when all ran through
 *
 * A failing input ends in fuzz_calls' own "fuzz_calls: FAIL ..." line and a
 * trap, or in sable's one-line abort; the name of the input is printed
 * before it runs, so the log says which one it was. Reading the inputs uses
 * the C library's malloc, not sable's. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned replayed;

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "fuzz-replay: %s: %s\n", path, strerror(errno));
        return 1;
    }
    static uint8_t buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf, f);
    int err = ferror(f) || !feof(f);
    fclose(f);
    if (err) {
        fprintf(stderr, "fuzz-replay: %s: read error or longer than %zu bytes\n", path,
            sizeof buf);
        return 1;
    }
    printf("fuzz-replay: %s (%zu bytes)\n", path, n);
    fflush(stdout);
    LLVMFuzzerTestOneInput(buf, n);
    replayed++;
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int replay_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        fprintf(stderr, "fuzz-replay: %s: %s\n", dir, strerror(errno));
        return 1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **grown = realloc(names, cap * sizeof *names);
            if (grown == NULL) return 1;
            names = grown;
        }
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        names[n] = malloc(len);
        if (names[n] == NULL) return 1;
        snprintf(names[n], len, "%s/%s", dir, e->d_name);
        n++;
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_names);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        rc |= replay_file(names[i]);
        free(names[i]);
    }
    free(names);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE_OR_DIR...\n", argv[0]);
        return 2;
    }
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "fuzz-replay: %s: %s\n", argv[i], strerror(errno));
            rc = 1;
        } else if (S_ISDIR(st.st_mode)) {
            rc |= replay_dir(argv[i]);
        } else {
            rc |= replay_file(argv[i]);
        }
    }
    printf("fuzz-replay: %u inputs replayed%s\n", replayed, rc ? ", with errors" : "");
    /* Nothing replayed is a broken test, not a pass. */
    return rc || replayed == 0 ? 1 : 0;
}
