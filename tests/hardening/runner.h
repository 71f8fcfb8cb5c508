/* The hardening tests' runner: runs one case in a fresh child process (the
 * test binary re-executed with the case's name and its own SABLE_CONF, since
 * sable reads SABLE_CONF once, at initialisation), captures the child's stderr
 * through a pipe and the values the child publishes before its misuse through
 * a second pipe, and checks how the child ended and what it wrote. */
#ifndef SABLE_TEST_RUNNER_H
#define SABLE_TEST_RUNNER_H

#include <stddef.h>
#include <stdint.h>

/* What the child publishes right before the misuse. */
struct published {
    uintptr_t ptr; /* the pointer the message must name */
    size_t size;   /* the size passed (wrong-size cases) */
    size_t usable; /* the block's usable size (wrong-size cases) */
};

/* In the child: tell the parent what is about to be misused. Allocates
 * nothing. May be called more than once; the last call counts. */
void runner_publish(uintptr_t ptr, size_t size, size_t usable);

enum expect_kind {
    EXPECT_LINE_ABORT, /* SIGABRT after exactly one line: the expected message */
    EXPECT_SEGV,       /* killed by SIGSEGV */
    EXPECT_EXIT0,      /* exits 0 with nothing on stderr */
};

/* Message formats, with the published values filled in as (ptr), or
 * (size, usable, ptr) for the wrong-size messages. */
enum message {
    MSG_NONE,
    MSG_INVALID,     /* "sable: FN(): invalid pointer 0x..." */
    MSG_DOUBLE_FREE, /* "sable: FN(): double free of 0x..." */
    MSG_WRONG_SIZE,  /* "sable: FN(): wrong size N for the block of M bytes at 0x..." */
    MSG_CORRUPTION,  /* "sable: heap corruption detected at 0x..." */
};

struct expectation {
    enum expect_kind kind;
    enum message message;
    const char *fn; /* "free", "realloc", ... */
};

/* In the parent: re-executes this program as `self --child case_name` with
 * SABLE_CONF=conf (unset when conf is NULL) and checks the expectation.
 * Prints what happened; returns 0 on success, 1 on failure. */
int runner_run(const char *case_name, const char *conf, const struct expectation *expect);

/* argv[1] of a child. */
#define RUNNER_CHILD_FLAG "--child"

#endif
