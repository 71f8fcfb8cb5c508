/* src/ctl/emit.c — the statistics emitter: a fixed output buffer and the
 * text and JSON back-ends (see emit.h).
 *
 * Text lines are `  label  value  human  doc`, under headings that name the
 * dotted path they belong to; tables are right-aligned columns sized to
 * their widest cell. JSON is indented by two spaces per level.
 *
 * Invariants: every opened object or array is closed in the same walk; JSON
 * string values are escaped (keys are names from the tree); numbers are
 * written as integers.
 * Locking: none. No allocation, no stdio: everything goes through buf.
 */
#include "ctl/emit.h"

#include <string.h>

#include "os/os.h"

#define LABEL_WIDTH 28
#define VALUE_WIDTH 14
#define HUMAN_WIDTH 10

/* ---- the buffer ---- */

static void flush(emit_t *e)
{
    if (e->n == 0) return;
    e->buf[e->n] = '\0';
    if (e->cb)
        e->cb(e->opaque, e->buf);
    else
        os_write_stderr(e->buf, e->n);
    e->n = 0;
}

static void put_mem(emit_t *e, const char *s, size_t len)
{
    while (len) {
        size_t room = sizeof e->buf - 1 - e->n;
        if (room == 0) {
            flush(e);
            continue;
        }
        size_t k = len < room ? len : room;
        memcpy(e->buf + e->n, s, k);
        e->n += k;
        s += k;
        len -= k;
    }
}

static void put(emit_t *e, const char *s) { put_mem(e, s, strlen(s)); }

static void pad(emit_t *e, size_t n)
{
    while (n--) put_mem(e, " ", 1);
}

/* s right-aligned in `width` columns. */
static void put_right(emit_t *e, const char *s, size_t width)
{
    size_t n = strlen(s);
    if (width > n) pad(e, width - n);
    put_mem(e, s, n);
}

/* Docs are Markdown: drop the backquotes. */
static void put_doc(emit_t *e, const char *s)
{
    for (const char *q; (q = strchr(s, '`')) != NULL; s = q + 1) put_mem(e, s, (size_t)(q - s));
    put(e, s);
}

static size_t fmt_u(char *b, uint64_t v)
{
    char t[24];
    size_t n = 0, k = 0;
    do {
        t[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n) b[k++] = t[--n];
    b[k] = '\0';
    return k;
}

/* "12.3 MiB" style, in a buffer of at least 16 bytes. */
static const char *human(char *b, uint64_t v)
{
    static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    unsigned u = 0;
    if (v >= ((uint64_t)1 << 60)) return "huge";
    uint64_t tenths = v * 10;
    while (tenths >= 10240 && u < 4) {
        tenths /= 1024;
        u++;
    }
    size_t n = fmt_u(b, tenths / 10);
    if (u) {
        b[n++] = '.';
        b[n++] = (char)('0' + tenths % 10);
    }
    b[n++] = ' ';
    strcpy(b + n, unit[u]);
    return b;
}

/* A value as text, in b (at least 24 bytes) or pointing at the string. */
static const char *text_of(char *b, emit_kind_t kind, uint64_t n, const char *s)
{
    if (kind == EMIT_BOOL) return n ? "true" : "false";
    if (kind == EMIT_STR) return s == NULL ? "(null)" : *s ? s : "\"\"";
    if (kind == EMIT_INT && (int64_t)n < 0) {
        b[0] = '-';
        fmt_u(b + 1, -n);
        return b;
    }
    fmt_u(b, n);
    return b;
}

/* ---- JSON ---- */

static void js_key(emit_t *e, const char *k)
{
    if (e->depth > 0) {
        put(e, e->first[e->depth] ? "\n" : ",\n");
        e->first[e->depth] = false;
        pad(e, 2 * e->depth);
    }
    if (k) {
        put(e, "\"");
        put(e, k);
        put(e, "\": ");
    }
}

/* Opens an object ('{') or an array ('['), closed by js_close. */
static void js_open(emit_t *e, const char *k, char brace)
{
    js_key(e, k);
    put_mem(e, &brace, 1);
    if (e->depth + 1 < EMIT_MAX_DEPTH) e->depth++;
    e->first[e->depth] = true;
    e->closer[e->depth] = brace == '{' ? '}' : ']';
}

static void js_close(emit_t *e)
{
    bool empty = e->first[e->depth];
    char brace = e->closer[e->depth];
    e->depth--;
    if (!empty) {
        put(e, "\n");
        pad(e, 2 * e->depth);
    }
    put_mem(e, &brace, 1);
}

static void js_string(emit_t *e, const char *s)
{
    put(e, "\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char esc[3] = {'\\', (char)c, 0};
            put(e, esc);
        } else if (c < 0x20) {
            char esc[7] = {'\\', 'u', '0', '0', "0123456789abcdef"[c >> 4],
                           "0123456789abcdef"[c & 15], 0};
            put(e, esc);
        } else {
            put_mem(e, s, 1);
        }
    }
    put(e, "\"");
}

static void js_value(emit_t *e, const char *key, emit_kind_t kind, uint64_t n, const char *s)
{
    char b[24];
    js_key(e, key);
    if (kind == EMIT_STR && s)
        js_string(e, s);
    else
        put(e, kind == EMIT_STR ? "null" : text_of(b, kind, n, s));
}

/* ---- the document ---- */

void emit_init(emit_t *e, bool json, void (*cb)(void *, const char *), void *opaque)
{
    e->cb = cb;
    e->opaque = opaque;
    e->json = json;
    e->depth = 0;
    e->first[0] = true;
    e->n = 0;
}

void emit_begin(emit_t *e)
{
    if (e->json)
        js_open(e, NULL, '{');
    else
        put(e, "___ Begin sable statistics ___\n");
}

void emit_end(emit_t *e)
{
    if (e->json) {
        js_close(e);
        put(e, "\n");
    } else {
        put(e, "--- End sable statistics ---\n");
    }
    flush(e);
}

void emit_message(emit_t *e, const char *s)
{
    put(e, s);
    flush(e);
}

void emit_object_begin(emit_t *e, const char *key)
{
    if (e->json) js_open(e, key, '{');
}

void emit_object_end(emit_t *e)
{
    if (e->json) js_close(e);
}

void emit_list_begin(emit_t *e, const char *key, bool keyed)
{
    if (e->json) js_open(e, key, keyed ? '{' : '[');
}

void emit_list_end(emit_t *e)
{
    if (e->json) js_close(e);
}

void emit_heading(emit_t *e, const char *heading, const char *doc)
{
    if (e->json) return;
    put(e, "\n");
    put(e, heading);
    put(e, ":");
    if (doc) {
        put(e, " ");
        put_doc(e, doc);
    }
    put(e, "\n");
}

void emit_value(emit_t *e, const char *key, const char *label, const emit_val_t *v,
                const char *doc)
{
    if (e->json) {
        js_value(e, key, v->kind, v->n, v->s);
        return;
    }
    char b[24], h[24];
    size_t n = strlen(label);
    put(e, "  ");
    put(e, label);
    pad(e, n < LABEL_WIDTH ? LABEL_WIDTH - n : 1);
    put_right(e, text_of(b, v->kind, v->n, v->s), VALUE_WIDTH);
    bool bytes = v->kind == EMIT_NUM && v->bytes;
    if (bytes || doc) {
        put(e, "  ");
        put_right(e, bytes ? human(h, v->n) : "", HUMAN_WIDTH);
    }
    if (doc) {
        put(e, "  ");
        put_doc(e, doc);
    }
    put(e, "\n");
}

/* ---- tables ---- */

static void json_table(emit_t *e, const emit_table_t *t)
{
    js_open(e, t->key, '[');
    for (unsigned r = 0; r < t->nrows; r++) {
        js_open(e, NULL, '{');
        for (unsigned c = 0; c < t->ncols; c++)
            js_value(e, t->cols[c], t->kinds[c], t->cells[r][c], NULL);
        js_close(e);
    }
    js_close(e);
}

void emit_table(emit_t *e, const emit_table_t *t)
{
    if (e->json) {
        json_table(e, t);
        return;
    }
    char b[24];
    size_t width[EMIT_MAX_COLS], name_width = 0;
    for (unsigned c = 0; c < t->ncols; c++) {
        width[c] = strlen(t->cols[c]);
        if (width[c] > name_width) name_width = width[c];
        for (unsigned i = 0; i < t->nshown; i++) {
            size_t w = strlen(text_of(b, t->kinds[c], t->cells[t->order[i]][c], NULL));
            if (w > width[c]) width[c] = w;
        }
    }
    put(e, "\n");
    put(e, t->heading);
    put(e, ":");
    if (t->doc) {
        put(e, " ");
        put_doc(e, t->doc);
    }
    if (t->note) {
        put(e, " (");
        put(e, t->note);
        put(e, ")");
    }
    put(e, "\n");
    if (t->nshown == 0) {
        put(e, "  (no rows to show)\n");
        return;
    }
    for (unsigned c = 0; c < t->ncols; c++) put_right(e, t->cols[c], width[c] + 2);
    put(e, "\n");
    for (unsigned i = 0; i < t->nshown; i++) {
        for (unsigned c = 0; c < t->ncols; c++)
            put_right(e, text_of(b, t->kinds[c], t->cells[t->order[i]][c], NULL), width[c] + 2);
        put(e, "\n");
    }
    for (unsigned c = 0; c < t->ncols; c++) {
        if (t->docs[c] == NULL) continue;
        put(e, "    ");
        put(e, t->cols[c]);
        pad(e, name_width - strlen(t->cols[c]) + 2);
        put_doc(e, t->docs[c]);
        put(e, "\n");
    }
}
