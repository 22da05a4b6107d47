/*
 * prep.c - the preparation actors users reach for first: std.impute
 * (fill nulls), std.onehot (categories to indicator columns) and
 * std.split (train/test rows by seed).
 *
 * std.impute learns one fill value per numeric column at train: the mean
 * or the median of its present cells, or the `value` parameter
 * (strategy = "constant"); apply writes that value into every null cell
 * of those columns (which come out as f64) and passes every other column
 * through. Without `columns`, every f64/i64 column of the training input
 * is imputed. A column with no present cell at train has no mean or
 * median and is refused, naming it.
 *
 * std.onehot learns, per column, the sorted distinct values (strings, or
 * integers compared as numbers) at train; apply replaces each such column,
 * in place, by one f64 column per category, "<column>_<category>", 1 where
 * the row has that category and 0 elsewhere. A value not seen at train (or
 * a null) is an error naming the column, the value and the row (unknown =
 * "error", the default) or a row of zeros (unknown = "ignore"). Without
 * `columns`, every text column of the training input is encoded.
 *
 * std.split has two outputs: the training rows and the test rows (flows
 * pick one with "split:0" and "split:1"). round(fraction * rows) rows go
 * to test, chosen by a Fisher-Yates shuffle driven by splitmix64 from
 * `seed`, so the same seed and row count always pick the same rows on any
 * machine; each output keeps the input's row order. It is stateless and
 * splits whatever frame it gets: a label that the flow's source keeps
 * apart is not split with it. It says so with SY_ACTOR_ROW_SUBSET, and
 * the core refuses (at load, with file:line) a flow where an actor that
 * trains on that label reads split rows; `switchyard eval --holdout`
 * splits features and label together.
 *
 * States (the public codec, switchyard/state.h): "SYIMPUTE" version 1:
 * u32 strategy, u32 columns, per column str name + f64 fill; "SYONEHOT"
 * version 1: u32 columns, per column str name, u32 type (2 i64, 3 str),
 * u32 count, then the categories (i64, or str).
 */
#include "std.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- std.impute ------------------------------------------------------- */

#define IMPUTE "std.impute"
#define IMPUTE_MAGIC "SYIMPUTE"

typedef struct impute {
  int strategy;
  double value;
  char **columns; /* parameter; NULL: every numeric column */
  bool trained;
  size_t n;
  char **names; /* n learned columns */
  double *fill; /* n */
} impute;

static const char *const impute_strategies[] = {"mean", "median", "constant",
                                                NULL};

static void impute_clear(impute *a) {
  if (a->names)
    for (size_t j = 0; j < a->n; j++)
      free(a->names[j]);
  free(a->names);
  free(a->fill);
  a->names = NULL;
  a->fill = NULL;
  a->n = 0;
  a->trained = false;
}

static int impute_create(const void *config, void **self, sy_error *err) {
  const std_impute_config *cfg = config;
  bool ok;
  if (!isfinite(cfg->value))
    return sy_error_set(err, SY_ECONFIG, IMPUTE ": 'value' must be finite");
  impute *a = calloc(1, sizeof *a);
  if (!a)
    return sy_error_set(err, SY_ENOMEM, IMPUTE ": out of memory");
  a->strategy = cfg->strategy;
  a->value = cfg->value;
  a->columns = std_strv_dup(cfg->columns, &ok);
  if (!ok) {
    free(a);
    return sy_error_set(err, SY_ENOMEM, IMPUTE ": out of memory");
  }
  *self = a;
  return 0;
}

static void impute_destroy(void *self) {
  impute *a = self;
  if (!a)
    return;
  impute_clear(a);
  std_strv_free(a->columns);
  free(a);
}

static int cmp_double(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return (a > b) - (a < b);
}

static int impute_train(void *self, const sy_value *const *in, size_t n_in,
                        const sy_value *label, sy_error *err) {
  impute *a = self;
  impute next = {0};
  double *cells = NULL;
  int rc;
  (void)label;
  if ((rc = std_want_frame(IMPUTE, in, n_in, 0, err)) < 0)
    return rc;
  const sy_value *f = in[0];
  size_t rows = sy_frame_rows(f), cols = sy_frame_cols(f);
  size_t want =
      a->columns ? std_strv_len((const char *const *)a->columns) : cols;
  next.names = std_calloc(want, sizeof *next.names);
  next.fill = std_calloc(want, sizeof *next.fill);
  cells = std_alloc(rows, sizeof *cells);
  if (!next.names || !next.fill || !cells)
    goto nomem;
  for (size_t k = 0; k < want; k++) {
    int c;
    if (a->columns) {
      c = sy_frame_col_index(f, a->columns[k]);
      if (c < 0) {
        char avail[512];
        std_column_list(f, avail, sizeof avail);
        rc = sy_error_set(err, SY_EINVAL,
                          IMPUTE ": no column '%s' (available: %s)",
                          a->columns[k], avail);
        goto fail;
      }
      if (!std_is_numeric(f, (size_t)c)) {
        rc = sy_error_set(err, SY_ETYPE,
                          IMPUTE ": column '%s' is text (string); only f64 "
                                 "and i64 columns can be imputed",
                          a->columns[k]);
        goto fail;
      }
    } else {
      c = (int)k;
      if (!std_is_numeric(f, k))
        continue;
    }
    const uint8_t *valid = sy_frame_valid(f, (size_t)c);
    size_t m = 0;
    for (size_t i = 0; i < rows; i++)
      if (!valid || valid[i])
        cells[m++] = std_cell(f, (size_t)c, i);
    double v = a->value;
    if (a->strategy != STD_IMPUTE_CONSTANT) {
      if (m == 0) {
        rc = sy_error_set(err, SY_EINVAL,
                          IMPUTE ": column '%s' has no value at all to take "
                                 "the %s of; drop it or use strategy = "
                                 "\"constant\"",
                          sy_frame_col_name(f, (size_t)c),
                          impute_strategies[a->strategy]);
        goto fail;
      }
      if (a->strategy == STD_IMPUTE_MEAN) {
        v = 0;
        for (size_t i = 0; i < m; i++)
          v += cells[i];
        v /= (double)m;
      } else {
        qsort(cells, m, sizeof *cells, cmp_double);
        v = m % 2 ? cells[m / 2] : (cells[m / 2 - 1] + cells[m / 2]) / 2;
      }
    }
    if (!(next.names[next.n] = std_strdup(sy_frame_col_name(f, (size_t)c))))
      goto nomem;
    next.fill[next.n++] = v;
  }
  free(cells);
  impute_clear(a);
  a->names = next.names;
  a->fill = next.fill;
  a->n = next.n;
  a->trained = true;
  return 0;
nomem:
  rc = sy_error_set(err, SY_ENOMEM, IMPUTE ": out of memory");
fail:
  free(cells);
  impute_clear(&next);
  return rc;
}

static int impute_apply(void *self, const sy_value *const *in, size_t n_in,
                        sy_value **out, sy_error *err) {
  const impute *a = self;
  sy_value *o = NULL;
  double *buf = NULL;
  int rc;
  if (!a->trained)
    return sy_error_set(err, SY_ESTATE, IMPUTE ": not trained");
  if ((rc = std_want_frame(IMPUTE, in, n_in, 0, err)) < 0)
    return rc;
  const sy_value *f = in[0];
  size_t rows = sy_frame_rows(f), cols = sy_frame_cols(f);
  for (size_t j = 0; j < a->n; j++) {
    int c = sy_frame_col_index(f, a->names[j]);
    if (c < 0)
      return sy_error_set(err, SY_EINVAL,
                          IMPUTE ": missing column '%s', which it was "
                                 "trained on",
                          a->names[j]);
    if (!std_is_numeric(f, (size_t)c))
      return sy_error_set(err, SY_ETYPE,
                          IMPUTE ": column '%s' is text (string) here, but "
                                 "was trained as a number",
                          a->names[j]);
  }
  buf = std_alloc(rows, sizeof *buf);
  if (!buf || (rc = sy_frame_new(rows, &o)) < 0) {
    rc = SY_ENOMEM;
    goto fail;
  }
  for (size_t c = 0; c < cols && rc == 0; c++) {
    const char *name = sy_frame_col_name(f, c);
    size_t j = 0;
    while (j < a->n && strcmp(a->names[j], name) != 0)
      j++;
    if (j == a->n) {
      rc = sy_frame_add_column_from(o, NULL, f, c);
      continue;
    }
    const uint8_t *valid = sy_frame_valid(f, c);
    for (size_t i = 0; i < rows; i++)
      buf[i] = valid && !valid[i] ? a->fill[j] : std_cell(f, c, i);
    rc = sy_frame_add_f64(o, name, buf, NULL);
  }
  if (rc < 0)
    goto fail;
  free(buf);
  *out = o;
  return 0;
fail:
  free(buf);
  sy_value_unref(o);
  return sy_error_set(err, rc, IMPUTE ": cannot build the output: %s",
                      sy_strerror(rc));
}

static int impute_save(void *self, sy_value **state, sy_error *err) {
  const impute *a = self;
  sy_state_writer w;
  if (!a->trained)
    return sy_error_set(err, SY_ESTATE, IMPUTE ": not trained");
  sy_state_begin(&w, IMPUTE_MAGIC, 1);
  sy_state_put_u32(&w, (uint32_t)a->strategy);
  sy_state_put_u32(&w, (uint32_t)a->n);
  for (size_t j = 0; j < a->n; j++) {
    sy_state_put_str(&w, a->names[j]);
    sy_state_put_f64(&w, a->fill[j]);
  }
  return sy_state_finish(&w, IMPUTE, state, err);
}

static int impute_read(const sy_value *state, impute *next, sy_error *err) {
  sy_state_reader r;
  uint32_t strategy, n;
  int rc;
  memset(next, 0, sizeof *next);
  if ((rc = sy_state_open(&r, state, IMPUTE, IMPUTE_MAGIC, 1, 1, err)) < 0)
    return rc;
  sy_state_get_u32(&r, &strategy);
  /* a column takes at least 4 + 1 + 8 bytes */
  if (sy_state_get_count(&r, 13, &n) < 0 || strategy > STD_IMPUTE_CONSTANT) {
    sy_state_reject(&r);
    return sy_state_close(&r, err);
  }
  next->strategy = (int)strategy;
  next->names = std_calloc(n, sizeof *next->names);
  next->fill = std_calloc(n, sizeof *next->fill);
  if (!next->names || !next->fill) {
    impute_clear(next);
    return sy_error_set(err, SY_ENOMEM, IMPUTE ": out of memory");
  }
  next->n = n;
  for (size_t j = 0; j < n; j++) {
    if (sy_state_get_str(&r, 1, SY_VALUE_MAX_NAME, &next->names[j]) < 0 ||
        sy_state_get_f64(&r, &next->fill[j]) < 0)
      break;
    if (!isfinite(next->fill[j]))
      sy_state_reject(&r);
  }
  if ((rc = sy_state_close(&r, err)) < 0) {
    impute_clear(next);
    return rc;
  }
  next->trained = true;
  return 0;
}

static int impute_load(void *self, const sy_value *state, sy_error *err) {
  impute *a = self, next;
  int rc = impute_read(state, &next, err);
  if (rc < 0)
    return rc;
  impute_clear(a);
  a->names = next.names;
  a->fill = next.fill;
  a->n = next.n;
  a->strategy = next.strategy; /* what the fills came from */
  a->trained = true;
  return 0;
}

/* {"strategy": "mean", "fill": {column: value}} */
static int impute_describe(const sy_value *state, sy_buf *b, sy_error *err) {
  impute md;
  int rc = impute_read(state, &md, err);
  if (rc < 0)
    return rc;
  sy_buf_printf(
      b, "{\"strategy\": \"%s\", \"fill\": ", impute_strategies[md.strategy]);
  std_json_named(b, md.names, md.fill, md.n);
  sy_buf_puts(b, "}");
  impute_clear(&md);
  return std_json_done(IMPUTE, b, err);
}

static const sy_option impute_options[] = {
    {"strategy", SY_OPT_ENUM, 0, "mean", NULL, NULL, impute_strategies,
     offsetof(std_impute_config, strategy),
     "What fills a null cell: the column's mean or median at train, or "
     "'value'."},
    {"value", SY_OPT_DOUBLE, 0, "0", NULL, NULL, NULL,
     offsetof(std_impute_config, value),
     "The fill of strategy = \"constant\"."},
    {"columns", SY_OPT_LIST, 0, NULL, NULL, NULL, NULL,
     offsetof(std_impute_config, columns),
     "Columns to impute; unset means every f64 and i64 column."},
    SY_OPTION_END};

static const sy_actor_ops impute_ops = {.size = sizeof(sy_actor_ops),
                                        .min_inputs = 1,
                                        .max_inputs = 1,
                                        .n_outputs = 1,
                                        .flags = SY_ACTOR_STATEFUL,
                                        .apply = impute_apply,
                                        .train = impute_train,
                                        .state_save = impute_save,
                                        .state_load = impute_load,
                                        .describe_state = impute_describe};

const sy_provider std_impute_provider = {
    sizeof(sy_provider),
    SY_KIND_ACTOR,
    "std.impute",
    STD_VERSION,
    "Fills null cells with a column's mean, median or a constant.",
    impute_options,
    sizeof(std_impute_config),
    impute_create,
    impute_destroy,
    &impute_ops};

/* ---- std.onehot ------------------------------------------------------- */

#define ONEHOT "std.onehot"
#define ONEHOT_MAGIC "SYONEHOT"

typedef struct onehot_col {
  char *name;
  sy_col_type type; /* SY_COL_I64 or SY_COL_STR */
  size_t k;
  char **cats; /* k categories as text (i64 in decimal), sorted */
} onehot_col;

typedef struct onehot {
  int unknown; /* STD_UNKNOWN_* */
  char **columns;
  bool trained;
  size_t n;
  onehot_col *cols;
} onehot;

static const char *const onehot_unknown[] = {"error", "ignore", NULL};

static void onehot_cols_free(onehot_col *c, size_t n) {
  for (size_t j = 0; c && j < n; j++) {
    for (size_t t = 0; c[j].cats && t < c[j].k; t++)
      free(c[j].cats[t]);
    free(c[j].cats);
    free(c[j].name);
  }
  free(c);
}

static int onehot_create(const void *config, void **self, sy_error *err) {
  const std_onehot_config *cfg = config;
  bool ok;
  onehot *a = calloc(1, sizeof *a);
  if (!a)
    return sy_error_set(err, SY_ENOMEM, ONEHOT ": out of memory");
  a->unknown = cfg->unknown;
  a->columns = std_strv_dup(cfg->columns, &ok);
  if (!ok) {
    free(a);
    return sy_error_set(err, SY_ENOMEM, ONEHOT ": out of memory");
  }
  *self = a;
  return 0;
}

static void onehot_destroy(void *self) {
  onehot *a = self;
  if (!a)
    return;
  onehot_cols_free(a->cols, a->n);
  std_strv_free(a->columns);
  free(a);
}

/* Cell (c, i) as category text into buf; NULL for a null cell. */
static const char *cat_text(const sy_value *f, size_t c, size_t i, char *buf,
                            size_t cap) {
  if (sy_frame_is_null(f, c, i))
    return NULL;
  if (sy_frame_col_type(f, c) == SY_COL_STR)
    return sy_frame_str(f, c, i);
  snprintf(buf, cap, "%" PRId64, sy_frame_i64(f, c)[i]);
  return buf;
}

static int cmp_cat_str(const void *x, const void *y) {
  return strcmp(*(char *const *)x, *(char *const *)y);
}

static int cmp_cat_num(const void *x, const void *y) {
  long long a = strtoll(*(char *const *)x, NULL, 10);
  long long b = strtoll(*(char *const *)y, NULL, 10);
  return (a > b) - (a < b);
}

/* The category index of text s in col, or -1. */
static long cat_find(const onehot_col *col, const char *s) {
  char *const *hit =
      bsearch(&s, col->cats, col->k, sizeof *col->cats,
              col->type == SY_COL_STR ? cmp_cat_str : cmp_cat_num);
  return hit ? (long)(hit - col->cats) : -1;
}

static int onehot_train(void *self, const sy_value *const *in, size_t n_in,
                        const sy_value *label, sy_error *err) {
  onehot *a = self;
  onehot_col *cols = NULL;
  size_t n = 0;
  char num[32];
  int rc;
  (void)label;
  if ((rc = std_want_frame(ONEHOT, in, n_in, 0, err)) < 0)
    return rc;
  const sy_value *f = in[0];
  size_t rows = sy_frame_rows(f), ncols = sy_frame_cols(f);
  size_t want =
      a->columns ? std_strv_len((const char *const *)a->columns) : ncols;
  cols = std_calloc(want, sizeof *cols);
  if (!cols)
    goto nomem;
  for (size_t k = 0; k < want; k++) {
    int c;
    if (a->columns) {
      c = sy_frame_col_index(f, a->columns[k]);
      if (c < 0) {
        char avail[512];
        std_column_list(f, avail, sizeof avail);
        rc = sy_error_set(err, SY_EINVAL,
                          ONEHOT ": no column '%s' (available: %s)",
                          a->columns[k], avail);
        goto fail;
      }
      if (sy_frame_col_type(f, (size_t)c) == SY_COL_F64) {
        rc = sy_error_set(err, SY_ETYPE,
                          ONEHOT ": column '%s' is f64; categories are text "
                                 "or integers",
                          a->columns[k]);
        goto fail;
      }
    } else {
      c = (int)k;
      if (sy_frame_col_type(f, k) != SY_COL_STR)
        continue;
    }
    onehot_col *col = &cols[n++];
    col->type = sy_frame_col_type(f, (size_t)c);
    if (!(col->name = std_strdup(sy_frame_col_name(f, (size_t)c))) ||
        !(col->cats = std_calloc(rows, sizeof *col->cats)))
      goto nomem;
    for (size_t i = 0; i < rows; i++) {
      const char *s = cat_text(f, (size_t)c, i, num, sizeof num);
      if (s && !(col->cats[col->k++] = std_strdup(s)))
        goto nomem;
    }
    qsort(col->cats, col->k, sizeof *col->cats,
          col->type == SY_COL_STR ? cmp_cat_str : cmp_cat_num);
    size_t u = 0;
    for (size_t t = 0; t < col->k; t++) {
      if (u && strcmp(col->cats[u - 1], col->cats[t]) == 0)
        free(col->cats[t]);
      else
        col->cats[u++] = col->cats[t];
    }
    col->k = u;
    for (size_t t = 0; t < u; t++)
      if (strlen(col->name) + 1 + strlen(col->cats[t]) > SY_VALUE_MAX_NAME) {
        rc = sy_error_set(err, SY_EINVAL,
                          ONEHOT ": column name '%s_%.40s' would be longer "
                                 "than %d bytes",
                          col->name, col->cats[t], SY_VALUE_MAX_NAME);
        goto fail;
      }
  }
  onehot_cols_free(a->cols, a->n);
  a->cols = cols;
  a->n = n;
  a->trained = true;
  return 0;
nomem:
  rc = sy_error_set(err, SY_ENOMEM, ONEHOT ": out of memory");
fail:
  onehot_cols_free(cols, n);
  return rc;
}

static int onehot_apply(void *self, const sy_value *const *in, size_t n_in,
                        sy_value **out, sy_error *err) {
  const onehot *a = self;
  sy_value *o = NULL;
  double *ind = NULL;
  char num[32], name[SY_VALUE_MAX_NAME + 1];
  int rc;
  if (!a->trained)
    return sy_error_set(err, SY_ESTATE, ONEHOT ": not trained");
  if ((rc = std_want_frame(ONEHOT, in, n_in, 0, err)) < 0)
    return rc;
  const sy_value *f = in[0];
  size_t rows = sy_frame_rows(f), ncols = sy_frame_cols(f);
  for (size_t j = 0; j < a->n; j++) {
    int c = sy_frame_col_index(f, a->cols[j].name);
    if (c < 0)
      return sy_error_set(err, SY_EINVAL,
                          ONEHOT ": missing column '%s', which it was "
                                 "trained on",
                          a->cols[j].name);
    if (sy_frame_col_type(f, (size_t)c) != a->cols[j].type)
      return sy_error_set(err, SY_ETYPE,
                          ONEHOT ": column '%s' has another type than at "
                                 "train (%s)",
                          a->cols[j].name,
                          a->cols[j].type == SY_COL_STR ? "str" : "i64");
  }
  ind = std_alloc(rows, sizeof *ind);
  if (!ind || (rc = sy_frame_new(rows, &o)) < 0) {
    rc = SY_ENOMEM;
    goto fail_code;
  }
  for (size_t c = 0; c < ncols; c++) {
    const char *cname = sy_frame_col_name(f, c);
    const onehot_col *col = NULL;
    for (size_t j = 0; j < a->n && !col; j++)
      if (strcmp(a->cols[j].name, cname) == 0)
        col = &a->cols[j];
    if (!col) {
      if ((rc = sy_frame_add_column_from(o, NULL, f, c)) < 0)
        goto fail_code;
      continue;
    }
    /* Check every row first: an unknown value is an error before any
     * output. */
    if (a->unknown == STD_UNKNOWN_ERROR)
      for (size_t i = 0; i < rows; i++) {
        const char *s = cat_text(f, c, i, num, sizeof num);
        if (!s || cat_find(col, s) < 0) {
          rc = sy_error_set(err, SY_EINVAL,
                            ONEHOT ": column '%s' has %s%.60s%s at row %zu "
                                   "(rows count from 0), a category not "
                                   "seen at train; train on data that has "
                                   "it, or set unknown = \"ignore\" (a row "
                                   "of zeros)",
                            cname, s ? "'" : "", s ? s : "a null", s ? "'" : "",
                            i);
          goto fail;
        }
      }
    for (size_t t = 0; t < col->k; t++) {
      for (size_t i = 0; i < rows; i++) {
        const char *s = cat_text(f, c, i, num, sizeof num);
        ind[i] = s && strcmp(s, col->cats[t]) == 0 ? 1.0 : 0.0;
      }
      snprintf(name, sizeof name, "%s_%s", cname, col->cats[t]);
      if ((rc = sy_frame_add_f64(o, name, ind, NULL)) < 0) {
        if (rc == SY_EEXIST)
          sy_error_set(err, rc,
                       ONEHOT ": output column '%s' clashes with an input "
                              "column; rename one of them",
                       name);
        else
          sy_error_set(err, rc, ONEHOT ": %s", sy_strerror(rc));
        goto fail;
      }
    }
  }
  free(ind);
  *out = o;
  return 0;
fail_code:
  sy_error_set(err, rc, ONEHOT ": cannot build the output: %s",
               sy_strerror(rc));
fail:
  free(ind);
  sy_value_unref(o);
  return rc;
}

static int onehot_save(void *self, sy_value **state, sy_error *err) {
  const onehot *a = self;
  sy_state_writer w;
  if (!a->trained)
    return sy_error_set(err, SY_ESTATE, ONEHOT ": not trained");
  sy_state_begin(&w, ONEHOT_MAGIC, 1);
  sy_state_put_u32(&w, (uint32_t)a->n);
  for (size_t j = 0; j < a->n; j++) {
    sy_state_put_str(&w, a->cols[j].name);
    sy_state_put_u32(&w, (uint32_t)a->cols[j].type);
    sy_state_put_u32(&w, (uint32_t)a->cols[j].k);
    for (size_t t = 0; t < a->cols[j].k; t++)
      sy_state_put_str(&w, a->cols[j].cats[t]);
  }
  return sy_state_finish(&w, ONEHOT, state, err);
}

static int onehot_read(const sy_value *state, onehot_col **out, size_t *nout,
                       sy_error *err) {
  sy_state_reader r;
  uint32_t n;
  onehot_col *cols = NULL;
  int rc;
  *out = NULL;
  *nout = 0;
  if ((rc = sy_state_open(&r, state, ONEHOT, ONEHOT_MAGIC, 1, 1, err)) < 0)
    return rc;
  /* a column takes at least 4 + 1 + 4 + 4 bytes */
  if (sy_state_get_count(&r, 13, &n) < 0)
    return sy_state_close(&r, err);
  cols = std_calloc(n, sizeof *cols);
  if (!cols)
    return sy_error_set(err, SY_ENOMEM, ONEHOT ": out of memory");
  size_t j = 0;
  for (; j < n; j++) {
    uint32_t type, k;
    if (sy_state_get_str(&r, 1, SY_VALUE_MAX_NAME, &cols[j].name) < 0 ||
        sy_state_get_u32(&r, &type) < 0 || sy_state_get_count(&r, 4, &k) < 0)
      break;
    if (type != SY_COL_I64 && type != SY_COL_STR) {
      sy_state_reject(&r);
      break;
    }
    cols[j].type = (sy_col_type)type;
    if (!(cols[j].cats = std_calloc(k, sizeof *cols[j].cats))) {
      sy_state_reject(&r);
      break;
    }
    for (; cols[j].k < k; cols[j].k++) {
      char **cat = &cols[j].cats[cols[j].k];
      if (sy_state_get_str(&r, 0, SY_VALUE_MAX_NAME, cat) < 0)
        break;
      /* apply looks categories up by binary search: strictly sorted, and
       * integers written as train writes them */
      if (type == SY_COL_I64) {
        char again[32];
        snprintf(again, sizeof again, "%lld", strtoll(*cat, NULL, 10));
        if (strcmp(again, *cat) != 0)
          sy_state_reject(&r);
      }
      if (cols[j].k > 0 &&
          (type == SY_COL_STR ? cmp_cat_str : cmp_cat_num)(cat - 1, cat) >= 0)
        sy_state_reject(&r);
    }
  }
  if ((rc = sy_state_close(&r, err)) < 0) {
    onehot_cols_free(cols, j < n ? j + 1 : n);
    return rc;
  }
  *out = cols;
  *nout = n;
  return 0;
}

static int onehot_load(void *self, const sy_value *state, sy_error *err) {
  onehot *a = self;
  onehot_col *cols;
  size_t n;
  int rc = onehot_read(state, &cols, &n, err);
  if (rc < 0)
    return rc;
  onehot_cols_free(a->cols, a->n);
  a->cols = cols;
  a->n = n;
  a->trained = true;
  return 0;
}

/* {"categories": {column: [category, ...]}} (integers as numbers) */
static int onehot_describe(const sy_value *state, sy_buf *b, sy_error *err) {
  onehot_col *cols;
  size_t n;
  int rc = onehot_read(state, &cols, &n, err);
  if (rc < 0)
    return rc;
  sy_buf_puts(b, "{\"categories\": {");
  for (size_t j = 0; j < n; j++) {
    sy_buf_puts(b, j ? ", " : "");
    std_json_str(b, cols[j].name);
    sy_buf_puts(b, ": [");
    for (size_t t = 0; t < cols[j].k; t++) {
      sy_buf_puts(b, t ? ", " : "");
      if (cols[j].type == SY_COL_STR)
        std_json_str(b, cols[j].cats[t]);
      else
        sy_buf_printf(b, "%lld", strtoll(cols[j].cats[t], NULL, 10));
    }
    sy_buf_puts(b, "]");
  }
  sy_buf_puts(b, "}}");
  onehot_cols_free(cols, n);
  return std_json_done(ONEHOT, b, err);
}

static const sy_option onehot_options[] = {
    {"columns", SY_OPT_LIST, 0, NULL, NULL, NULL, NULL,
     offsetof(std_onehot_config, columns),
     "Columns to encode (str or i64); unset means every text column."},
    {"unknown", SY_OPT_ENUM, 0, "error", NULL, NULL, onehot_unknown,
     offsetof(std_onehot_config, unknown),
     "A category not seen at train, or a null, at apply: error, or ignore "
     "(a row of zeros)."},
    SY_OPTION_END};

static const sy_actor_ops onehot_ops = {.size = sizeof(sy_actor_ops),
                                        .min_inputs = 1,
                                        .max_inputs = 1,
                                        .n_outputs = 1,
                                        .flags = SY_ACTOR_STATEFUL,
                                        .apply = onehot_apply,
                                        .train = onehot_train,
                                        .state_save = onehot_save,
                                        .state_load = onehot_load,
                                        .describe_state = onehot_describe};

const sy_provider std_onehot_provider = {
    sizeof(sy_provider),
    SY_KIND_ACTOR,
    "std.onehot",
    STD_VERSION,
    "Replaces category columns by one 0/1 column per category.",
    onehot_options,
    sizeof(std_onehot_config),
    onehot_create,
    onehot_destroy,
    &onehot_ops};

/* ---- std.split -------------------------------------------------------- */

#define SPLIT "std.split"

typedef struct split {
  double fraction;
  int64_t seed;
} split;

static int split_create(const void *config, void **self, sy_error *err) {
  const std_split_config *cfg = config;
  if (!(cfg->fraction > 0 && cfg->fraction < 1))
    return sy_error_set(err, SY_ECONFIG,
                        SPLIT ": 'fraction' must be between 0 and 1 "
                              "(exclusive)");
  split *a = calloc(1, sizeof *a);
  if (!a)
    return sy_error_set(err, SY_ENOMEM, SPLIT ": out of memory");
  a->fraction = cfg->fraction;
  a->seed = cfg->seed;
  *self = a;
  return 0;
}

static void split_destroy(void *self) {
  free(self);
}

static uint64_t splitmix64(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* A frame of the rows of f where pick[i] == want, in order. */
static int take_rows(const sy_value *f, const uint8_t *pick, uint8_t want,
                     size_t count, sy_value **out, sy_error *err) {
  sy_frame_builder *b = NULL;
  size_t rows = sy_frame_rows(f), cols = sy_frame_cols(f);
  int rc = sy_frame_builder_new(count, &b);
  for (size_t c = 0; rc >= 0 && c < cols; c++)
    rc = sy_frame_builder_column(b, sy_frame_col_name(f, c),
                                 sy_frame_col_type(f, c));
  for (size_t c = 0; rc >= 0 && c < cols; c++) {
    sy_col_type t = sy_frame_col_type(f, c);
    for (size_t i = 0; rc >= 0 && i < rows; i++) {
      if (pick[i] != want)
        continue;
      if (sy_frame_is_null(f, c, i))
        rc = sy_frame_builder_null(b, c);
      else if (t == SY_COL_F64)
        rc = sy_frame_builder_f64(b, c, sy_frame_f64(f, c)[i]);
      else if (t == SY_COL_I64)
        rc = sy_frame_builder_i64(b, c, sy_frame_i64(f, c)[i]);
      else
        rc = sy_frame_builder_str(b, c, sy_frame_str(f, c, i));
    }
  }
  if (rc < 0) {
    sy_frame_builder_free(b);
    return sy_error_set(err, rc, SPLIT ": %s", sy_strerror(rc));
  }
  rc = sy_frame_builder_finish(b, out, err);
  return rc < 0 ? sy_error_prefix(err, SPLIT), rc : 0;
}

static int split_apply(void *self, const sy_value *const *in, size_t n_in,
                       sy_value **out, sy_error *err) {
  const split *a = self;
  int rc;
  if ((rc = std_want_frame(SPLIT, in, n_in, 0, err)) < 0)
    return rc;
  size_t rows = sy_frame_rows(in[0]);
  size_t n_test = (size_t)llround(a->fraction * (double)rows);
  size_t *idx = std_alloc(rows, sizeof *idx);
  uint8_t *pick = std_calloc(rows, 1);
  if (!idx || !pick) {
    free(idx);
    free(pick);
    return sy_error_set(err, SY_ENOMEM, SPLIT ": out of memory");
  }
  uint64_t s = (uint64_t)a->seed;
  for (size_t i = 0; i < rows; i++)
    idx[i] = i;
  /* The first n_test places of a seeded Fisher-Yates shuffle. */
  for (size_t i = 0; i < n_test; i++) {
    size_t j = i + (size_t)(splitmix64(&s) % (rows - i));
    size_t t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
    pick[idx[i]] = 1;
  }
  free(idx);
  rc = take_rows(in[0], pick, 0, rows - n_test, &out[0], err);
  if (rc == 0 && (rc = take_rows(in[0], pick, 1, n_test, &out[1], err)) < 0) {
    sy_value_unref(out[0]);
    out[0] = NULL;
  }
  free(pick);
  return rc;
}

static const sy_option split_options[] = {
    {"fraction", SY_OPT_DOUBLE, 0, "0.25", "0", "1", NULL,
     offsetof(std_split_config, fraction),
     "Share of the rows that go to the test output (rounded to a count)."},
    {"seed", SY_OPT_INT, 0, "0", NULL, NULL, NULL,
     offsetof(std_split_config, seed),
     "Seed of the shuffle that picks the test rows."},
    SY_OPTION_END};

static const sy_actor_ops split_ops = {.size = sizeof(sy_actor_ops),
                                       .flags = SY_ACTOR_ROW_SUBSET,
                                       .min_inputs = 1,
                                       .max_inputs = 1,
                                       .n_outputs = 2,
                                       .apply = split_apply};

const sy_provider std_split_provider = {
    sizeof(sy_provider),
    SY_KIND_ACTOR,
    "std.split",
    STD_VERSION,
    "Splits rows into a training and a test output by seed and fraction. "
    "The source's label does not follow: an actor that trains on it may not "
    "read split rows (use `switchyard eval --holdout` to score a model).",
    split_options,
    sizeof(std_split_config),
    split_create,
    split_destroy,
    &split_ops};
