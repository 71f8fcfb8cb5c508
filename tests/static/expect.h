/* The static tier's check: a failed expectation prints one line and
 * counts, so that a program reports every failure before it exits with
 * `failures != 0`. */
#ifndef SABLE_TEST_STATIC_EXPECT_H
#define SABLE_TEST_STATIC_EXPECT_H

#include <stdio.h>

static int failures;

#define EXPECT(cond, ...)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: %s: ", __FILE__, __LINE__, #cond);                            \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

#endif
