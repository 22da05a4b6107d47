/*
 * std.h - private header of the actor-std plugin (std.select, std.drop,
 * std.head, std.concat, std.scaler, std.linreg, std.logreg, std.impute,
 * std.onehot, std.split).
 *
 * Design: every actor lives in its own .c file and exports (within the
 * plugin only: providers build with -fvisibility=hidden) one static-shaped
 * sy_provider, declared here so that plugin.c can list them and the unit
 * tests can call them directly. The config structs are here for the same
 * reason: the core fills them from the option tables, tests fill them by
 * hand.
 *
 * Ownership: create() copies everything it needs out of the config (column
 * lists, output names), so an instance never points into the config. Each
 * instance owns its trained state; apply() only reads it, so concurrent
 * applies on one trained instance are safe. train() and state_load() build
 * the new state completely before they swap it in, so a failure leaves the
 * previous state intact.
 *
 * States: std.scaler, std.linreg and std.logreg keep theirs with the
 * public state codec (switchyard/state.h): a magic per actor
 * ("SYSCALER", "SYLINREG", "SYLOGREG"), format version STD_STATE_VERSION
 * (the layout every release so far has written, so old states load), a
 * length and a checksum. Each actor's file documents its payload.
 */
#ifndef SY_ACTOR_STD_H
#define SY_ACTOR_STD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <switchyard/actor.h>
#include <switchyard/buf.h>
#include <switchyard/event.h>
#include <switchyard/error.h>
#include <switchyard/option.h>
#include <switchyard/plugin.h>
#include <switchyard/state.h>
#include <switchyard/value.h>

#define STD_VERSION "1.0.0"
#define STD_STATE_MEDIA SY_STATE_MEDIA
/* The format version of every actor-std state; bump an actor's own when
 * its payload changes, and keep reading the old one where it is cheap. */
#define STD_STATE_VERSION 1u
#define STD_STATE_HEADER SY_STATE_HEADER_SIZE
#define STD_STATE_TRAILER SY_STATE_TRAILER_SIZE

/* ---- config structs (what the option tables write) --------------------- */

/* std.select and std.drop. */
typedef struct std_columns_config {
  const char *const *columns; /* NULL-terminated */
} std_columns_config;

/* std.head. */
typedef struct std_head_config {
  int64_t n;
} std_head_config;

/* std.concat: axis is an index into {"columns", "rows"}. */
enum { STD_AXIS_COLUMNS = 0, STD_AXIS_ROWS = 1 };
typedef struct std_concat_config {
  int axis;
} std_concat_config;

/* std.scaler. columns NULL: every f64/i64 column of the training input. */
typedef struct std_scaler_config {
  bool with_mean;
  bool with_std;
  const char *const *columns;
} std_scaler_config;

/* std.linreg. */
typedef struct std_linreg_config {
  double l2;
  bool intercept;
  const char *output;
} std_linreg_config;

/* std.logreg. solver is an index into {"gd", "lbfgs"}; C 0 means unset
 * (lambda is then l2). The fields after output came with solver = lbfgs
 * and stay last, so that older positional initialisers still mean gd. */
enum { STD_SOLVER_GD = 0, STD_SOLVER_LBFGS = 1 };
typedef struct std_logreg_config {
  int64_t epochs;
  double rate;
  double l2;
  const char *output;
  int solver;
  double C;
  double tol;
  int64_t max_iter;
} std_logreg_config;

/* std.impute: strategy indexes {"mean", "median", "constant"}. */
enum { STD_IMPUTE_MEAN = 0, STD_IMPUTE_MEDIAN = 1, STD_IMPUTE_CONSTANT = 2 };
typedef struct std_impute_config {
  int strategy;
  double value;
  const char *const *columns;
} std_impute_config;

/* std.onehot: unknown indexes {"error", "ignore"}. */
enum { STD_UNKNOWN_ERROR = 0, STD_UNKNOWN_IGNORE = 1 };
typedef struct std_onehot_config {
  const char *const *columns;
  int unknown;
} std_onehot_config;

/* std.split. */
typedef struct std_split_config {
  double fraction;
  int64_t seed;
} std_split_config;

/* ---- the providers ------------------------------------------------------ */

extern const sy_provider std_select_provider;
extern const sy_provider std_drop_provider;
extern const sy_provider std_head_provider;
extern const sy_provider std_concat_provider;
extern const sy_provider std_scaler_provider;
extern const sy_provider std_linreg_provider;
extern const sy_provider std_logreg_provider;
extern const sy_provider std_impute_provider;
extern const sy_provider std_onehot_provider;
extern const sy_provider std_split_provider;

/* The plugin's entry point (plugin.c), declared for the unit tests. */
SY_API const sy_plugin *sy_plugin_entry(void);

/* ---- helpers shared by the actor files (common.c) ----------------------- */

/* malloc/calloc of n elements of size bytes that never returns NULL for
 * n == 0 (so NULL always means out of memory) and checks the product. */
void *std_alloc(size_t n, size_t size);
void *std_calloc(size_t n, size_t size);
char *std_strdup(const char *s);
/* Copies a NULL-terminated string list (NULL gives NULL with *ok true);
 * *ok is false on out of memory. */
char **std_strv_dup(const char *const *v, bool *ok);
size_t std_strv_len(const char *const *v);
void std_strv_free(char **v);

/* Checks that in[i] is a frame; otherwise sets err ("ACTOR: input N is
 * ...") and returns SY_ETYPE (or SY_EINVAL when it is missing). */
int std_want_frame(const char *actor, const sy_value *const *in, size_t n_in,
                   size_t i, sy_error *err);
/* Writes "a, b, c" (the frame's column names) into buf, cut with "..."
 * when it does not fit; "(none)" for a frame without columns. */
void std_column_list(const sy_value *f, char *buf, size_t cap);
/* Whether column c is f64 or i64. */
bool std_is_numeric(const sy_value *f, size_t c);
/* A -v note (sy_note) for each column of f that is not numeric: "ACTOR:
 * column 'x' is text (string), WHAT", so that an actor that leaves out
 * columns it cannot use says so. */
void std_note_text_columns(const char *actor, const sy_value *f,
                           const char *what);
/* Reads numeric cell (c, row) as a double (i64 converted). */
double std_cell(const sy_value *f, size_t c, size_t row);

/* ---- apply_into: rewriting an earlier output in place (common.c) ----- */

/* The most columns an apply_into keeps its bookkeeping for on the stack;
 * wider frames take the plain apply path (allocating a new output), which
 * costs little next to the work on so many columns. */
#define STD_INTO_MAX_COLS 32

/* The index of column `name` in f, trying `guess` first: flows mostly keep
 * column order from actor to actor, so this is one strcmp per column
 * instead of a scan. SY_ENOENT when absent. */
int std_col_find(const sy_value *f, const char *name, size_t guess);
/* Whether o can be rewritten in place to hold `rows` rows: the caller
 * holds it exclusively, it is a frame of that many rows and `cols`
 * columns. */
bool std_into_fits(const sy_value *o, size_t rows, size_t cols);
/* Rewrites the exclusively held frame o (std_into_fits) so that its
 * column j holds the first rows(o) cells (and nulls) of column idx[j] of
 * in, for j < cols(o). With check_names, column j of o must already be
 * named like column idx[j] of in. Returns 0 when done, 1 when o does not
 * match (a type or a name differs, or a column is a string column, whose
 * cells are not rewritten in place); o is then unchanged. SY_ENOMEM when
 * new nulls needed memory (o is then partly written; the caller drops
 * it). */
int std_refill(sy_value *o, const sy_value *in, const size_t *idx,
               bool check_names);
/* The end of every apply_into that cannot reuse out[0]: drops it and
 * calls the actor's apply, so that results and errors are apply's. */
int std_into_fallback(int (*apply)(void *, const sy_value *const *, size_t,
                                   sy_value **, sy_error *),
                      void *self, const sy_value *const *in, size_t n_in,
                      sy_value **out, size_t n_out, sy_error *err);

/* ---- prepare_row: row kernels (common.c) ----------------------------- */

/* The first part of every prepare_row: runs the actor's apply on a
 * one-row frame of zeros with the kernel's input columns, so that a row
 * the actor would refuse gets apply's own error, and checks that the
 * result is one row of f64 columns without nulls (SY_ENOTSUP otherwise,
 * saying why). */
int std_row_probe(const char *actor,
                  int (*apply)(void *, const sy_value *const *, size_t,
                               sy_value **, sy_error *),
                  const void *self, const sy_row_kernel *k, sy_error *err);
/* apply on a one-row frame of zeros with k's input columns (what
 * std_row_probe runs): 0 and the result in *out (the caller's), or
 * apply's error. */
int std_row_apply_zeros(const char *actor,
                        int (*apply)(void *, const sy_value *const *, size_t,
                                     sy_value **, sy_error *),
                        const void *self, const sy_row_kernel *k,
                        sy_value **out, sy_error *err);
/* The position of `name` among k's input columns, or -1. */
int std_row_find(const sy_row_kernel *k, const char *name);

/* A numeric design matrix taken from a frame: n rows, p columns, stored
 * column-major (x[j * n + i]); names[j] is the column's name (borrowed
 * from the frame). */
typedef struct std_matrix {
  size_t n, p;
  double *x;
  const char **names;
} std_matrix;
/* Fills m from f. With want == NULL (training) every f64/i64 column is
 * used, in frame order, and each other column gets a -v note
 * (std_note_text_columns); otherwise (apply) the columns named by
 * want[0..nwant), each of which must exist and be numeric: one that is
 * text now is refused with SY_ETYPE naming it. A null cell is refused
 * with SY_EINVAL naming the column and the row (counted from 0). */
int std_matrix_from_frame(const char *actor, const sy_value *f,
                          const char *const *want, size_t nwant, std_matrix *m,
                          sy_error *err);
void std_matrix_free(std_matrix *m);

/* ---- describe: states as JSON (common.c) ------------------------------ */

/* Append a JSON string (quoted, escaped) and a JSON number (17
 * significant digits, so it reads back to the same double; null when not
 * finite) to b. Failures are b's sticky ones. */
void std_json_str(sy_buf *b, const char *s);
void std_json_num(sy_buf *b, double v);
/* {"name": v, ...} for n names and values. */
void std_json_named(sy_buf *b, char *const *names, const double *v, size_t n);
/* The end of every describe: SY_ENOMEM (with err) when b failed. */
int std_json_done(const char *actor, const sy_buf *b, sy_error *err);

#endif /* SY_ACTOR_STD_H */
