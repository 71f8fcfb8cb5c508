/* src/ctl/emit.h — one emitter for statistics output, with a text and a JSON
 * back-end, fed by one walk (src/ctl/stats_print.c).
 *
 * Owns: formatting and the output buffer. It knows nothing of names: the
 * caller says what a value is called (its JSON key, its text label) and the
 * emitter lays it out. Calls come in three sorts:
 *   both back-ends  emit_value, emit_table;
 *   JSON only       emit_object_begin/end, emit_list_begin/end (structure
 *                   that the text shows through headings and labels);
 *   text only       emit_heading.
 *
 * Invariants: output reaches the write callback (stderr when NULL) in
 * NUL-terminated pieces of less than EMIT_BUF bytes, in order; JSON nesting
 * is at most EMIT_MAX_DEPTH; a table has at most EMIT_MAX_ROWS rows and
 * EMIT_MAX_COLS columns.
 *
 * Locking: none; one emitter belongs to one call. Nothing here allocates or
 * uses stdio: text is built in the emitter's buffer (on the caller's stack).
 */
#ifndef SABLE_CTL_EMIT_H
#define SABLE_CTL_EMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EMIT_BUF 2048
#define EMIT_MAX_DEPTH 16
#define EMIT_MAX_ROWS 64
#define EMIT_MAX_COLS 12

typedef enum { EMIT_NUM, EMIT_BOOL, EMIT_STR, EMIT_INT } emit_kind_t; /* INT: n is signed */

typedef struct emit_val {
    emit_kind_t kind;
    bool bytes;    /* EMIT_NUM counting bytes: text adds "12.3 MiB" */
    uint64_t n;    /* EMIT_NUM, EMIT_BOOL */
    const char *s; /* EMIT_STR */
} emit_val_t;

typedef struct emit {
    void (*cb)(void *, const char *);
    void *opaque;
    bool json;
    unsigned depth;
    bool first[EMIT_MAX_DEPTH];  /* JSON: no member yet at this depth */
    char closer[EMIT_MAX_DEPTH]; /* JSON: the brace that closes this depth */
    size_t n;
    char buf[EMIT_BUF];
} emit_t;

/* A table: in JSON an array of objects (every row, in order, keyed by the
 * column names), in text a heading, a header line, the rows in `order`
 * (nshown of them) and, with docs, one legend line per column. */
typedef struct emit_table {
    const char *key;     /* JSON member */
    const char *heading; /* text */
    const char *doc;     /* text, under the heading; NULL: none */
    const char *note;    /* text, after the doc (how rows were chosen) */
    unsigned ncols, nrows, nshown;
    const char *cols[EMIT_MAX_COLS];
    const char *docs[EMIT_MAX_COLS]; /* NULL: no legend */
    emit_kind_t kinds[EMIT_MAX_COLS];
    uint64_t cells[EMIT_MAX_ROWS][EMIT_MAX_COLS];
    unsigned char order[EMIT_MAX_ROWS];
} emit_table_t;

void emit_init(emit_t *e, bool json, void (*cb)(void *, const char *), void *opaque);
/* The document: text framing lines, or JSON's outer braces. emit_end flushes. */
void emit_begin(emit_t *e);
void emit_end(emit_t *e);
/* A line that is not statistics (text, whatever the back-end), flushed. */
void emit_message(emit_t *e, const char *s);

/* JSON: an object member `key` (NULL inside an array) holding members, or
 * an array (keyed: an object) holding entries. */
void emit_object_begin(emit_t *e, const char *key);
void emit_object_end(emit_t *e);
void emit_list_begin(emit_t *e, const char *key, bool keyed);
void emit_list_end(emit_t *e);

/* Text: a heading line for the lines that follow, with an optional doc. */
void emit_heading(emit_t *e, const char *heading, const char *doc);

/* One value: JSON member `key`; text line `label value [human] [doc]`. */
void emit_value(emit_t *e, const char *key, const char *label, const emit_val_t *v,
                const char *doc);
void emit_table(emit_t *e, const emit_table_t *t);

#endif
