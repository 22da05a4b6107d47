/*
 * serve_req.h - the request decoder and answer encoder of `switchyard
 * serve` (cli/cmd_serve.c), apart from the HTTP server so that unit tests
 * and the fuzz target (tests/fuzz/fuzz_serve.c) call them directly.
 *
 * A request body is JSON, {"rows": [{"col": value, ...}, ...]} or
 * {"columns": {"col": [value, ...], ...}}, read by yajl's streaming parser, or
 * CSV text with a header, parsed with sy_csv_read. It becomes a frame whose
 * columns follow the model's input schema (when known) whatever order the
 * request gives them in. Answers are JSON rows or CSV, numbers written by
 * sy_csv_format_f64 so that they are the bytes `apply` writes.
 *
 * Ownership: the caller owns what the functions return (frames: unref;
 * buffers: sy_buf_free). Thread-safety: any thread; a schema is read-only
 * once built.
 */
#ifndef SY_SERVE_REQ_H
#define SY_SERVE_REQ_H

#include <stddef.h>

#include "switchyard/buf.h"
#include "switchyard/value.h"

/* The input columns a model expects (its feed's table less the label),
 * with their types; label: the label column a request may carry (set
 * aside by the model), or NULL. n 0 with open 1: unknown, any columns
 * are passed on and the model's actors judge them. */
typedef struct serve_schema {
  size_t n;
  char **names;
  sy_col_type *types;
  char *label;
  int open;
} serve_schema;

void serve_schema_free(serve_schema *s);
/* Adds a column (copies name); 0 or SY_ENOMEM. */
int serve_schema_add(serve_schema *s, const char *name, sy_col_type type);
const char *serve_type_name(sy_col_type t);

/* Why a request was refused: the HTTP status (400, 415, 422), a short
 * error code ("malformed_json", "bad_request", "bad_column", ...) and
 * the detail, which says where. */
typedef struct serve_fail {
  int status;
  char error[32];
  char detail[512];
} serve_fail;

enum { SERVE_BODY_JSON = 0, SERVE_BODY_CSV = 1 };
/* serve_decode's answer for a request it refuses (SY_E* codes are
 * negative). */
#define SERVE_REFUSED 1

/* Decodes body[0..len) (kind SERVE_BODY_JSON or SERVE_BODY_CSV) into a
 * frame of at least one row. 0 and *out, or SERVE_REFUSED with *f filled
 * (*out NULL), or SY_ENOMEM. */
int serve_decode(const char *body, size_t len, int kind,
                 const serve_schema *schema, sy_value **out, serve_fail *f);

/* The fast path of the JSON decoder: serve_simd.cc, a module of its own
 * (serve-simdjson.so) that `serve` loads with serve_fast_load. It
 * decodes the common bodies into the frame the yajl decoder would build,
 * and declines the rest: 0 with *out, SERVE_FAST_DECLINED (nothing done;
 * the yajl decoder runs) or SY_ENOMEM. Any thread. */
#define SERVE_FAST_DECLINED 1
#define SERVE_FAST_SYMBOL "sy_serve_simd_decode"
typedef int (*serve_fast_fn)(const char *body, size_t len,
                             const serve_schema *s, sy_value **out);
/* The bound-row path's decoder in the same module: for a schema of f64
 * columns alone, a JSON body that the fast path takes with every cell a
 * number and no label becomes rows of doubles, row-major in the schema's
 * order, *x[0 .. *rows * s->n), kept by the calling thread until its
 * next call; more than max_rows rows, and anything else, is declined
 * (SERVE_FAST_DECLINED: nothing done; decode the body with serve_decode)
 * or SY_ENOMEM. */
#define SERVE_ROWS_SYMBOL "sy_serve_simd_rows"
typedef int (*serve_rows_fn)(const char *body, size_t len,
                             const serve_schema *s, size_t max_rows,
                             const double **x, size_t *rows);
/* Sets the fast paths serve_decode and serve_decode_rows take (NULL:
 * none). Call before the threads that decode start. */
void serve_set_fast(serve_fast_fn fn);
void serve_set_fast_rows(serve_rows_fn fn);
/* serve_rows_fn through the module when loaded, else declined. */
int serve_decode_rows(const char *body, size_t len, const serve_schema *s,
                      size_t max_rows, const double **x, size_t *rows);
/* How many bodies the fast path has decoded (all threads). */
unsigned long serve_fast_count(void);
/* Loads serve-simdjson.so from `path`, or (NULL) from the build tree the
 * executable runs in, else $(pkglibdir), and sets it as the fast path;
 * SWITCHYARD_SERVE_NO_SIMD=1 (non-empty, not 0) keeps it off. 1 loaded,
 * 0 not (a line on stderr says why, unless quiet). Not thread-safe. */
int serve_fast_load(const char *path, int quiet);

/* Appends the frame as {"rows":[{...},...]} (JSON; f64 as the CSV sink
 * writes it, nan/inf as the strings "nan", "inf", "-inf", null as null)
 * or as CSV (sy_csv_write). 0 or SY_ENOMEM. */
int serve_encode_json(const sy_value *frame, sy_buf *b);
int serve_encode_csv(const sy_value *frame, sy_buf *b);
/* The answer's layout for the bound-row path (sy_row_call), made once
 * per model: each column's `"name":` text and each label's JSON string,
 * escaped once rather than per request. */
typedef struct serve_row_enc {
  size_t w;
  sy_buf text;     /* the keys, then the labels */
  size_t *key_at;  /* column c's key: text[key_at[c] .. key_at[c + 1]) */
  size_t **lab_at; /* per column: NULL (a number) or n_lab[c] + 1 offsets */
  size_t *n_lab;
  size_t row_max; /* the longest text of a row, braces and comma too */
} serve_row_enc;

/* Lays out w columns named names[], column c a label column when
 * labels[c] (n_labels[c] strings) is not NULL. 0 or SY_ENOMEM. */
int serve_row_enc_init(serve_row_enc *e, size_t w, const char *const *names,
                       const char *const *const *labels,
                       const size_t *n_labels);
void serve_row_enc_free(serve_row_enc *e);
/* Whether cell v of a label column with n strings is an index into
 * them (whole, 0 <= v < n; NaN is not): 1 and *i, or 0. */
int serve_label_index(double v, size_t n, size_t *i);

/* Appends the JSON answer for result rows y[0..rows * w), row by row (a
 * label column's cell: the index of its string): the bytes
 * serve_encode_json writes for the frame the rows stand for. 0,
 * SY_ENOMEM, or SY_ERANGE when a label cell is not an index into its
 * table. */
int serve_encode_row_json(const serve_row_enc *e, const double *y, size_t rows,
                          sy_buf *b);

/* Appends s as a JSON string literal. */
void serve_json_str(sy_buf *b, const char *s);
/* Appends {"error": error, "detail": detail}. */
void serve_error_json(sy_buf *b, const char *error, const char *detail);

#endif /* SY_SERVE_REQ_H */
