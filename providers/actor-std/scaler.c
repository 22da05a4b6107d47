/*
 * scaler.c - std.scaler: standardises numeric columns to
 * (x - mean) / std, with the population standard deviation (ddof 0).
 *
 * The state per column is (name, count, mean, M2), M2 being the sum of
 * squared deviations from the mean. A batch is summarised with two passes
 * (mean first, then squared deviations, which is accurate), and a second
 * train() folds the new batch into the old summary with Chan et al.'s
 * parallel formula, so training is incremental and gives the same result,
 * up to rounding, as one pass over all the data:
 *
 *   n = na + nb, d = mb - ma, mean = ma + d * nb / n,
 *   M2 = M2a + M2b + d^2 * na * nb / n
 *
 * Nulls are skipped in the statistics and stay null in the output. A
 * column whose std is 0 (constant, or never seen) maps every present cell
 * to 0 when with_std is on. i64 columns come out as f64; every other
 * column passes through unchanged. Without a 'columns' list, train names
 * each text column it leaves out in a note (sy_note, shown at -v), and
 * apply refuses a trained column that has become text.
 */
#include "std.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ACTOR "std.scaler"
#define SCALER_MAGIC "SYSCALER"

typedef struct scaler_stats {
  size_t n;      /* columns */
  char **names;  /* n names (not NULL-terminated) */
  double *count; /* present cells seen */
  double *mean;
  double *m2;
  double *sd; /* sqrt(m2 / count), 0 when count is 0: what apply divides by,
                 worked out once per train or load, not once per call */
} scaler_stats;

typedef struct scaler {
  bool with_mean, with_std;
  char **columns; /* the 'columns' parameter, NULL when unset */
  bool trained;
  scaler_stats stats; /* valid when trained */
} scaler;

static void stats_free(scaler_stats *s) {
  if (s->names)
    for (size_t i = 0; i < s->n; i++)
      free(s->names[i]);
  free(s->names);
  free(s->count);
  free(s->mean);
  free(s->m2);
  free(s->sd);
  memset(s, 0, sizeof *s);
}

static int stats_alloc(scaler_stats *s, size_t n) {
  memset(s, 0, sizeof *s);
  s->names = std_calloc(n, sizeof *s->names);
  s->count = std_calloc(n, sizeof *s->count);
  s->mean = std_calloc(n, sizeof *s->mean);
  s->m2 = std_calloc(n, sizeof *s->m2);
  s->sd = std_calloc(n, sizeof *s->sd);
  s->n = n;
  if (!s->names || !s->count || !s->mean || !s->m2 || !s->sd) {
    stats_free(s);
    return SY_ENOMEM;
  }
  return 0;
}

/* Fills sd[] from count and m2, once the summaries are final. */
static void stats_finish(scaler_stats *s) {
  for (size_t j = 0; j < s->n; j++)
    s->sd[j] = s->count[j] > 0 ? sqrt(s->m2[j] / s->count[j]) : 0.0;
}

static int scaler_create(const void *config, void **self, sy_error *err) {
  const std_scaler_config *cfg = config;
  scaler *s = NULL;
  bool ok;
  int rc;

  if (!cfg) {
    rc = sy_error_set(err, SY_ECONFIG, ACTOR ": no configuration");
    goto fail;
  }
  s = calloc(1, sizeof *s);
  if (!s)
    goto nomem;
  s->with_mean = cfg->with_mean;
  s->with_std = cfg->with_std;
  s->columns = std_strv_dup(cfg->columns, &ok);
  if (!ok)
    goto nomem;
  if (s->columns && !s->columns[0]) {
    rc = sy_error_set(err, SY_ECONFIG,
                      ACTOR ": 'columns' is set but names no column");
    goto fail;
  }
  *self = s;
  return 0;
nomem:
  rc = sy_error_set(err, SY_ENOMEM, ACTOR ": out of memory");
fail:
  if (s)
    std_strv_free(s->columns);
  free(s);
  return rc;
}

static void scaler_destroy(void *self) {
  scaler *s = self;
  if (!s)
    return;
  std_strv_free(s->columns);
  stats_free(&s->stats);
  free(s);
}

/* Summarises column c of f (count, mean, M2), skipping nulls. */
static void column_stats(const sy_value *f, size_t c, double *count,
                         double *mean, double *m2) {
  size_t rows = sy_frame_rows(f);
  const uint8_t *valid = sy_frame_valid(f, c);
  double n = 0, sum = 0, ss = 0, mu;
  for (size_t i = 0; i < rows; i++)
    if (!valid || valid[i]) {
      sum += std_cell(f, c, i);
      n += 1;
    }
  mu = n > 0 ? sum / n : 0.0;
  for (size_t i = 0; i < rows; i++)
    if (!valid || valid[i]) {
      double d = std_cell(f, c, i) - mu;
      ss += d * d;
    }
  *count = n;
  *mean = mu;
  *m2 = ss;
}

/* The trained column named `name`, or -1. */
static int trained_col(const scaler *s, const char *name) {
  for (size_t j = 0; j < s->stats.n; j++)
    if (strcmp(s->stats.names[j], name) == 0)
      return (int)j;
  return -1;
}

/* Which columns of f this training covers: the 'columns' parameter, the
 * already trained columns (incremental training), or every numeric one.
 * Fills idx[] (frame indices) and names[] (borrowed) and returns the
 * count, or a negative code with err set. */
static int pick_columns(const scaler *s, const sy_value *f, size_t *idx,
                        const char **names, size_t *np, sy_error *err) {
  size_t cols = sy_frame_cols(f), p = 0;
  char avail[512];

  if (s->columns || s->trained) {
    size_t want =
        s->columns ? std_strv_len((const char *const *)s->columns) : s->stats.n;
    for (size_t j = 0; j < want; j++) {
      const char *name = s->columns ? s->columns[j] : s->stats.names[j];
      int c = sy_frame_col_index(f, name);
      if (c < 0) {
        std_column_list(f, avail, sizeof avail);
        return sy_error_set(err, SY_EINVAL,
                            ACTOR ": unknown column '%s' (available: %s)", name,
                            avail);
      }
      if (!std_is_numeric(f, (size_t)c))
        return sy_error_set(err, SY_ETYPE,
                            ACTOR ": column '%s' is not numeric (f64 or i64)",
                            name);
      idx[p] = (size_t)c;
      names[p++] = name;
    }
    /* Without an explicit list, every numeric column is scaled, so a
     * later batch may not bring a numeric column the first did not. */
    if (!s->columns)
      for (size_t c = 0; c < cols; c++) {
        const char *name = sy_frame_col_name(f, c);
        if (std_is_numeric(f, c) && trained_col(s, name) < 0)
          return sy_error_set(err, SY_EINVAL,
                              ACTOR ": numeric column '%s' was not in the "
                                    "earlier training data",
                              name);
      }
  } else {
    for (size_t c = 0; c < cols; c++)
      if (std_is_numeric(f, c)) {
        idx[p] = c;
        names[p++] = sy_frame_col_name(f, c);
      }
  }
  /* Without an explicit list, say which columns are left out for not
   * being numbers (a -v note): a column that turned to text must not
   * vanish from the features unnoticed. */
  if (!s->columns)
    std_note_text_columns(ACTOR, f, "not scaled; it passes through as it is");
  *np = p;
  return 0;
}

static int scaler_train(void *self, const sy_value *const *in, size_t n_in,
                        const sy_value *label, sy_error *err) {
  scaler *s = self;
  scaler_stats next = {0};
  size_t *idx = NULL, p = 0, cap;
  const char **names = NULL;
  int rc;

  if ((rc = std_want_frame(ACTOR, in, n_in, 0, err)) < 0)
    goto fail;
  /* pick_columns never picks more than the frame has, the parameter
   * lists or the state knows, whichever rule applies. */
  cap = sy_frame_cols(in[0]) + std_strv_len((const char *const *)s->columns) +
        s->stats.n;
  idx = std_alloc(cap, sizeof *idx);
  names = std_alloc(cap, sizeof *names);
  if (!idx || !names)
    goto nomem;
  if ((rc = pick_columns(s, in[0], idx, names, &p, err)) < 0)
    goto fail;
  if (stats_alloc(&next, p) < 0)
    goto nomem;
  for (size_t j = 0; j < p; j++) {
    double nb, mb, m2b;
    if (!(next.names[j] = std_strdup(names[j])))
      goto nomem;
    column_stats(in[0], idx[j], &nb, &mb, &m2b);
    /* Fold in what earlier training saw for this column (Chan et al.). */
    int old = s->trained ? trained_col(s, names[j]) : -1;
    if (old >= 0 && s->stats.count[old] > 0) {
      double na = s->stats.count[old], ma = s->stats.mean[old];
      double n = na + nb, d = mb - ma;
      next.count[j] = n;
      next.mean[j] = nb > 0 ? ma + d * nb / n : ma;
      next.m2[j] = s->stats.m2[old] + m2b + (nb > 0 ? d * d * na * nb / n : 0);
    } else {
      next.count[j] = nb;
      next.mean[j] = mb;
      next.m2[j] = m2b;
    }
  }
  stats_finish(&next);
  stats_free(&s->stats);
  s->stats = next;
  s->trained = true;
  free(idx);
  free(names);
  return 0;
nomem:
  rc = sy_error_set(err, SY_ENOMEM, ACTOR ": out of memory");
fail:
  stats_free(&next);
  free(idx);
  free(names);
  return rc;
}

/* Writes the scaled cells of numeric column c of f (trained column st)
 * into dst[0..rows): the one place the arithmetic lives, for apply and
 * apply_into alike, so that both give the same bits. Null cells get 0. */
static void scale_column(const scaler *s, size_t st, const sy_value *f,
                         size_t c, double *dst) {
  size_t rows = sy_frame_rows(f);
  double mean = s->with_mean ? s->stats.mean[st] : 0.0;
  double sd = s->stats.sd[st];
  const uint8_t *valid = sy_frame_valid(f, c);
  const double *xf = sy_frame_f64(f, c);
  const int64_t *xi = sy_frame_i64(f, c);
  for (size_t i = 0; i < rows; i++) {
    if (valid && !valid[i]) {
      dst[i] = 0.0;
      continue;
    }
    double x = (xf ? xf[i] : (double)xi[i]) - mean;
    if (s->with_std)
      x = sd > 0 ? x / sd : 0.0;
    dst[i] = x;
  }
}

static int scaler_apply(void *self, const sy_value *const *in, size_t n_in,
                        sy_value **out, sy_error *err) {
  const scaler *s = self;
  const sy_value *f;
  sy_value *o = NULL;
  double *buf = NULL;
  size_t rows;
  int rc;

  if (!s->trained)
    return sy_error_set(err, SY_ESTATE, ACTOR ": not trained");
  if ((rc = std_want_frame(ACTOR, in, n_in, 0, err)) < 0)
    return rc;
  f = in[0];
  rows = sy_frame_rows(f);
  /* Every trained column must be there and numeric before anything is
   * built, so the error names the real problem. */
  for (size_t j = 0; j < s->stats.n; j++) {
    int c = sy_frame_col_index(f, s->stats.names[j]);
    char avail[512];
    if (c < 0) {
      std_column_list(f, avail, sizeof avail);
      return sy_error_set(err, SY_EINVAL,
                          ACTOR ": trained column '%s' is missing from the "
                                "input (available: %s)",
                          s->stats.names[j], avail);
    }
    if (!std_is_numeric(f, (size_t)c))
      return sy_error_set(err, SY_ETYPE,
                          ACTOR ": column '%s' is not numeric (f64 or i64): "
                                "it is text (string) here, but was trained "
                                "as a number",
                          s->stats.names[j]);
  }
  buf = std_alloc(rows, sizeof *buf);
  if (!buf) {
    rc = SY_ENOMEM;
    goto fail_code;
  }
  if ((rc = sy_frame_new(rows, &o)) < 0)
    goto fail_code;
  for (size_t c = 0; c < sy_frame_cols(f); c++) {
    const char *name = sy_frame_col_name(f, c);
    int st = trained_col(s, name);
    if (st < 0) {
      if ((rc = sy_frame_add_column_from(o, name, f, c)) < 0)
        goto fail_code;
      continue;
    }
    scale_column(s, (size_t)st, f, c, buf);
    if ((rc = sy_frame_add_f64(o, name, buf, sy_frame_valid(f, c))) < 0)
      goto fail_code;
  }
  free(buf);
  *out = o;
  return 0;
fail_code:
  sy_error_set(err, rc, ACTOR ": cannot build the output frame: %s",
               sy_strerror(rc));
  free(buf);
  sy_value_unref(o);
  return rc;
}

/* Rewrites the earlier output in place: every input column is either a
 * trained one (scaled into an f64 column of the same name) or passed
 * through, as apply does. Anything apply would refuse, or a shape that
 * changed, goes to apply. */
static int scaler_apply_into(void *self, const sy_value *const *in, size_t n_in,
                             sy_value **out, sy_error *err) {
  const scaler *s = self;
  const sy_value *f = n_in == 1 ? in[0] : NULL;
  size_t cols = sy_frame_cols(f), matched = 0;
  int st[STD_INTO_MAX_COLS];
  if (!s->trained || sy_value_type_of(f) != SY_VALUE_FRAME ||
      cols > STD_INTO_MAX_COLS ||
      !std_into_fits(out[0], sy_frame_rows(f), cols))
    goto plain;
  sy_value *o = out[0];
  for (size_t c = 0; c < cols; c++) {
    const char *name = sy_frame_col_name(f, c);
    if (strcmp(name, sy_frame_col_name(o, c)) != 0)
      goto plain;
    /* Columns mostly keep the trained order: try that place first. */
    st[c] = c < s->stats.n && strcmp(s->stats.names[c], name) == 0
                ? (int)c
                : trained_col(s, name);
    sy_col_type t = sy_frame_col_type(f, c);
    if (st[c] >= 0) {
      matched++;
      if (!std_is_numeric(f, c) || sy_frame_col_type(o, c) != SY_COL_F64)
        goto plain;
    } else if (t == SY_COL_STR || t != sy_frame_col_type(o, c)) {
      goto plain;
    }
  }
  /* Names in a frame are unique, so this says every trained column is
   * there (apply's first check). */
  if (matched != s->stats.n)
    goto plain;
  for (size_t c = 0; c < cols; c++) {
    int rc = 0;
    if (st[c] >= 0) {
      scale_column(s, (size_t)st[c], f, c, sy_frame_f64_mut(o, c));
      rc = sy_frame_set_valid(o, c, sy_frame_valid(f, c));
    } else {
      size_t idx = c;
      /* A one-column refill of a pass-through column, by hand. */
      void *dst = sy_frame_col_type(o, c) == SY_COL_F64
                      ? (void *)sy_frame_f64_mut(o, c)
                      : (void *)sy_frame_i64_mut(o, c);
      const void *src = sy_frame_col_type(f, idx) == SY_COL_F64
                            ? (const void *)sy_frame_f64(f, idx)
                            : (const void *)sy_frame_i64(f, idx);
      if (sy_frame_rows(f))
        memcpy(dst, src, sy_frame_rows(f) * 8);
      rc = sy_frame_set_valid(o, c, sy_frame_valid(f, c));
    }
    if (rc < 0)
      return sy_error_set(err, rc, ACTOR ": %s", sy_strerror(rc));
  }
  return 0;
plain:
  return std_into_fallback(scaler_apply, self, in, n_in, out, 1, err);
}

/* The row kernel: scale_column's arithmetic as a SCALE kernel that the
 * core runs (and fuses with a linreg after it), each input column's mode
 * and statistics in input order. */
static int scaler_prepare_row(const void *self, sy_row_kernel *k,
                              sy_error *err) {
  const scaler *s = self;
  int rc = std_row_probe(ACTOR, scaler_apply, self, k, err);
  if (rc)
    return rc;
  for (uint32_t c = 0; c < k->n_in; c++) {
    int st = trained_col(s, k->in_names[c]);
    k->out_names[c] = k->in_names[c];
    k->a[c] = st >= 0 && s->with_mean ? s->stats.mean[st] : 0.0;
    k->b[c] = st >= 0 ? s->stats.sd[st] : 0.0;
    if (st < 0)
      k->mode[c] = SY_ROW_PASS;
    else if (!s->with_std)
      k->mode[c] = SY_ROW_CENTER;
    else
      k->mode[c] = k->b[c] > 0 ? SY_ROW_STANDARD : SY_ROW_ZERO;
  }
  k->n_out = k->n_in;
  k->kind = SY_ROW_SCALE;
  return 0;
}

/* Payload: u32 columns, then per column: str name, f64 count, f64 mean,
 * f64 M2. */
static int scaler_save(void *self, sy_value **state, sy_error *err) {
  const scaler *s = self;
  sy_state_writer w;
  if (!s->trained)
    return sy_error_set(err, SY_ESTATE, ACTOR ": not trained");
  if (s->stats.n > UINT32_MAX)
    return sy_error_set(err, SY_ETOOBIG, ACTOR ": too many columns");
  sy_state_begin(&w, SCALER_MAGIC, STD_STATE_VERSION);
  sy_state_put_u32(&w, (uint32_t)s->stats.n);
  for (size_t j = 0; j < s->stats.n; j++) {
    sy_state_put_str(&w, s->stats.names[j]);
    sy_state_put_f64(&w, s->stats.count[j]);
    sy_state_put_f64(&w, s->stats.mean[j]);
    sy_state_put_f64(&w, s->stats.m2[j]);
  }
  return sy_state_finish(&w, ACTOR, state, err);
}

static int scaler_load(void *self, const sy_value *state, sy_error *err) {
  scaler *s = self;
  scaler_stats next = {0};
  sy_state_reader r;
  uint32_t n;
  int rc;

  if ((rc = sy_state_open(&r, state, ACTOR, SCALER_MAGIC, STD_STATE_VERSION,
                          STD_STATE_VERSION, err)) < 0)
    return rc;
  /* Each column takes at least 4 + 1 + 24 bytes: the codec refuses counts
   * the payload cannot hold before anything is allocated for them. */
  if (sy_state_get_count(&r, 29, &n) < 0)
    return sy_state_close(&r, err);
  if (stats_alloc(&next, n) < 0)
    return sy_error_set(err, SY_ENOMEM, ACTOR ": out of memory");
  for (size_t j = 0; j < n; j++) {
    if (sy_state_get_str(&r, 1, SY_VALUE_MAX_NAME, &next.names[j]) < 0 ||
        sy_state_get_f64(&r, &next.count[j]) < 0 ||
        sy_state_get_f64(&r, &next.mean[j]) < 0 ||
        sy_state_get_f64(&r, &next.m2[j]) < 0)
      break;
    if (!(next.count[j] >= 0) || !(next.m2[j] >= 0)) {
      sy_state_reject(&r);
      break;
    }
    for (size_t k = 0; k < j; k++)
      if (strcmp(next.names[k], next.names[j]) == 0)
        sy_state_reject(&r);
  }
  if ((rc = sy_state_close(&r, err)) < 0)
    goto fail;
  stats_finish(&next);
  stats_free(&s->stats);
  s->stats = next;
  s->trained = true;
  return 0;
fail:
  stats_free(&next);
  return rc;
}

/* {"columns": [...], "means": {column: mean}, "scales": {column: the
 * population standard deviation apply divides by (0: constant, mapped
 * to 0)}, "counts": {column: cells seen}}. */
static int scaler_describe(const sy_value *state, sy_buf *b, sy_error *err) {
  scaler tmp = {0};
  int rc = scaler_load(&tmp, state, err);
  if (rc < 0)
    return rc;
  const scaler_stats *st = &tmp.stats;
  sy_buf_puts(b, "{\"columns\": [");
  for (size_t j = 0; j < st->n; j++) {
    sy_buf_puts(b, j ? ", " : "");
    std_json_str(b, st->names[j]);
  }
  sy_buf_puts(b, "], \"means\": ");
  std_json_named(b, st->names, st->mean, st->n);
  sy_buf_puts(b, ", \"scales\": ");
  std_json_named(b, st->names, st->sd, st->n);
  sy_buf_puts(b, ", \"counts\": ");
  std_json_named(b, st->names, st->count, st->n);
  sy_buf_puts(b, "}");
  stats_free(&tmp.stats);
  return std_json_done(ACTOR, b, err);
}

static const sy_option scaler_options[] = {
    {"with_mean", SY_OPT_BOOL, 0, "true", NULL, NULL, NULL,
     offsetof(std_scaler_config, with_mean), "Subtract each column's mean."},
    {"with_std", SY_OPT_BOOL, 0, "true", NULL, NULL, NULL,
     offsetof(std_scaler_config, with_std),
     "Divide by each column's population standard deviation."},
    {"columns", SY_OPT_LIST, 0, NULL, NULL, NULL, NULL,
     offsetof(std_scaler_config, columns),
     "Columns to scale; unset means every f64 and i64 column."},
    SY_OPTION_END};

static const sy_actor_ops scaler_ops = {
    .size = sizeof(sy_actor_ops),
    .min_inputs = 1,
    .max_inputs = 1,
    .n_outputs = 1,
    .flags = SY_ACTOR_STATEFUL | SY_ACTOR_INCREMENTAL | SY_ACTOR_ROW_WISE,
    .apply = scaler_apply,
    .train = scaler_train,
    .describe_state = scaler_describe,
    .state_save = scaler_save,
    .state_load = scaler_load,
    .apply_into = scaler_apply_into,
    .prepare_row = scaler_prepare_row};

const sy_provider std_scaler_provider = {
    sizeof(sy_provider),
    SY_KIND_ACTOR,
    "std.scaler",
    STD_VERSION,
    "Standardises numeric columns to zero mean and unit variance.",
    scaler_options,
    sizeof(std_scaler_config),
    scaler_create,
    scaler_destroy,
    &scaler_ops};
