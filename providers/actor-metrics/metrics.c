/*
 * metrics.c - the actor-metrics plugin: what `switchyard eval` compiles
 * into a program, usable in any flow too.
 *
 *   metrics.fold      the rows of one fold (k-fold) or of a holdout split:
 *                     (features, label) -> (features, label) of part
 *                     "train" or "test"
 *   metrics.accuracy, metrics.log_loss, metrics.roc_auc (binary),
 *   metrics.r2, metrics.rmse, metrics.mae
 *                     (predictions, truth) -> one row, one column named
 *                     after the metric
 *   metrics.table     the metric rows of every fold (and branch) -> one
 *                     row per branch and metric: mean, std, each fold
 *
 * Design notes:
 *
 * - Splits are deterministic: rows are shuffled by a Fisher-Yates pass
 *   driven by splitmix64(seed), never by a clock. k-fold deals the
 *   shuffled rows to folds in turn; stratified (a string or integer
 *   label, or stratify = "yes"), it deals each class's rows in turn,
 *   classes in sorted order, continuing the count from class to class, so
 *   every fold holds each class in proportion and fold sizes differ by at
 *   most one. A holdout takes round(holdout * n_c) of each class's
 *   shuffled rows (of all rows, unstratified) as the test part. Parts
 *   keep the rows' original order.
 * - Predictions: the metric reads the column `column` (default
 *   "prediction"; a frame of one column is read whatever its name). Log
 *   loss and ROC AUC read the class probabilities "p_<class>" that
 *   std.logreg writes. Log loss clips probabilities to [1e-15, 1 - 1e-15]
 *   as scikit-learn does; ROC AUC is the Mann-Whitney statistic with tied
 *   scores sharing their average rank.
 * - std in metrics.table is the sample standard deviation (n - 1); 0 for
 *   a single fold.
 *
 * Thread-safety: instances are read-only after create(); apply may run
 * concurrently.
 */
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <switchyard/actor.h>
#include <switchyard/error.h>
#include <switchyard/option.h>
#include <switchyard/plugin.h>
#include <switchyard/value.h>

#define METRICS_VERSION "1.0.0"

/* ---- helpers ---------------------------------------------------------- */

static int want_frame(const char *actor, const sy_value *const *in, size_t n_in,
                      size_t i, sy_error *err) {
  if (i >= n_in || !in[i])
    return sy_error_set(err, SY_EINVAL, "%s: input %zu is missing", actor,
                        i + 1);
  if (sy_value_type_of(in[i]) != SY_VALUE_FRAME)
    return sy_error_set(err, SY_ETYPE, "%s: input %zu is not a frame", actor,
                        i + 1);
  return 0;
}

/* Cell (c, row) as text: the class key of a label. */
static int cell_key(const sy_value *f, size_t c, size_t row, char *buf,
                    size_t cap) {
  return sy_frame_format_cell(f, c, row, buf, cap);
}

static uint64_t splitmix64(uint64_t *s) {
  uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* Class of each row (0..k-1, classes in sorted order: numeric for number
 * columns, bytewise for strings); *k receives the count. */
typedef struct keyed {
  size_t row;
  double num;
  const char *s;
} keyed;

static int by_num(const void *a, const void *b) {
  const keyed *x = a, *y = b;
  if (x->num != y->num)
    return x->num < y->num ? -1 : 1;
  return (x->row > y->row) - (x->row < y->row);
}
static int by_str(const void *a, const void *b) {
  const keyed *x = a, *y = b;
  int c = strcmp(x->s, y->s);
  if (c)
    return c;
  return (x->row > y->row) - (x->row < y->row);
}

static int classes_of(const char *actor, const sy_value *lab, size_t *cls,
                      size_t *k, sy_error *err) {
  size_t n = sy_frame_rows(lab);
  sy_col_type t = sy_frame_col_type(lab, 0);
  keyed *v = malloc((n ? n : 1) * sizeof *v);
  if (!v)
    return sy_error_set(err, SY_ENOMEM, "%s: out of memory", actor);
  for (size_t i = 0; i < n; i++) {
    if (sy_frame_is_null(lab, 0, i)) {
      free(v);
      return sy_error_set(err, SY_EINVAL, "%s: the label is null in row %zu",
                          actor, i);
    }
    v[i].row = i;
    v[i].s = t == SY_COL_STR ? sy_frame_str(lab, 0, i) : "";
    v[i].num = t == SY_COL_F64   ? sy_frame_f64(lab, 0)[i]
               : t == SY_COL_I64 ? (double)sy_frame_i64(lab, 0)[i]
                                 : 0;
  }
  qsort(v, n, sizeof *v, t == SY_COL_STR ? by_str : by_num);
  size_t c = 0;
  for (size_t i = 0; i < n; i++) {
    if (i > 0 && (t == SY_COL_STR ? strcmp(v[i].s, v[i - 1].s) != 0
                                  : v[i].num != v[i - 1].num))
      c++;
    cls[v[i].row] = c;
  }
  *k = n ? c + 1 : 0;
  free(v);
  return 0;
}

/* A frame of the rows of f marked in keep (in order). */
static int subset(const sy_value *f, const uint8_t *keep, size_t m,
                  sy_value **out, sy_error *err) {
  size_t n = sy_frame_rows(f), cols = sy_frame_cols(f);
  sy_value *o = NULL;
  int rc = sy_frame_new(m, &o);
  void *buf = malloc((m ? m : 1) * sizeof(double));
  const char **strs = malloc((m ? m : 1) * sizeof *strs);
  uint8_t *valid = malloc(m ? m : 1);
  if (rc == 0 && (!buf || !strs || !valid))
    rc = SY_ENOMEM;
  for (size_t c = 0; rc == 0 && c < cols; c++) {
    sy_col_type t = sy_frame_col_type(f, c);
    const uint8_t *fv = sy_frame_valid(f, c);
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
      if (!keep[i])
        continue;
      valid[j] = fv ? fv[i] : 1;
      if (t == SY_COL_F64)
        ((double *)buf)[j] = sy_frame_f64(f, c)[i];
      else if (t == SY_COL_I64)
        ((int64_t *)buf)[j] = sy_frame_i64(f, c)[i];
      else
        strs[j] = sy_frame_str(f, c, i);
      j++;
    }
    const char *name = sy_frame_col_name(f, c);
    if (t == SY_COL_F64)
      rc = sy_frame_add_f64(o, name, buf, fv ? valid : NULL);
    else if (t == SY_COL_I64)
      rc = sy_frame_add_i64(o, name, buf, fv ? valid : NULL);
    else
      rc = sy_frame_add_str(o, name, strs);
  }
  free(buf);
  free(strs);
  free(valid);
  if (rc != 0) {
    sy_value_unref(o);
    return sy_error_set(err, rc, "metrics.fold: cannot build a part: %s",
                        sy_strerror(rc));
  }
  *out = o;
  return 0;
}

/* ---- metrics.fold ----------------------------------------------------- */

typedef struct fold_config {
  int64_t folds, fold;
  double holdout;
  int64_t seed;
  int part;     /* 0 train, 1 test */
  int stratify; /* 0 auto, 1 yes, 2 no */
} fold_config;

static const char *const part_choices[] = {"train", "test", NULL};
static const char *const stratify_choices[] = {"auto", "yes", "no", NULL};

static int fold_create(const void *config, void **self, sy_error *err) {
  const fold_config *c = config;
  if (c->holdout == 0 && c->folds < 2)
    return sy_error_set(err, SY_ECONFIG,
                        "metrics.fold: 'folds' must be at least 2 (or set "
                        "'holdout')");
  if (c->holdout == 0 && c->fold >= c->folds)
    return sy_error_set(err, SY_ECONFIG,
                        "metrics.fold: 'fold' %lld is not below 'folds' %lld",
                        (long long)c->fold, (long long)c->folds);
  if (c->holdout < 0 || c->holdout >= 1)
    return sy_error_set(err, SY_ECONFIG,
                        "metrics.fold: 'holdout' must be in [0, 1)");
  fold_config *s = malloc(sizeof *s);
  if (!s)
    return sy_error_set(err, SY_ENOMEM, "metrics.fold: out of memory");
  *s = *c;
  *self = s;
  return 0;
}

static void plain_destroy(void *self) {
  free(self);
}

static int fold_apply(void *self, const sy_value *const *in, size_t n_in,
                      sy_value **out, sy_error *err) {
  const fold_config *c = self;
  int rc;
  if ((rc = want_frame("metrics.fold", in, n_in, 0, err)) != 0 ||
      (rc = want_frame("metrics.fold", in, n_in, 1, err)) != 0)
    return rc;
  const sy_value *x = in[0], *lab = in[1];
  size_t n = sy_frame_rows(x);
  if (sy_frame_rows(lab) != n || sy_frame_cols(lab) < 1)
    return sy_error_set(err, SY_EINVAL,
                        "metrics.fold: the label has %zu rows and %zu "
                        "columns, the features %zu rows",
                        sy_frame_rows(lab), sy_frame_cols(lab), n);
  sy_col_type lt = sy_frame_col_type(lab, 0);
  bool strat = c->stratify == 1 || (c->stratify == 0 && lt != SY_COL_F64);
  size_t *perm = malloc((n ? n : 1) * sizeof *perm);
  size_t *cls = calloc(n ? n : 1, sizeof *cls);
  size_t *test = calloc(n ? n : 1, sizeof *test); /* fold of each row */
  uint8_t *keep = malloc(n ? n : 1);
  size_t k = 1;
  if (!perm || !cls || !test || !keep) {
    rc = sy_error_set(err, SY_ENOMEM, "metrics.fold: out of memory");
    goto done;
  }
  if (strat && (rc = classes_of("metrics.fold", lab, cls, &k, err)) != 0)
    goto done;
  uint64_t st = (uint64_t)c->seed;
  for (size_t i = 0; i < n; i++)
    perm[i] = i;
  for (size_t i = n; i > 1; i--) {
    size_t j = (size_t)(splitmix64(&st) % i);
    size_t t = perm[i - 1];
    perm[i - 1] = perm[j];
    perm[j] = t;
  }
  size_t dealt = 0;
  for (size_t cl = 0; cl < k; cl++) {
    size_t nc = 0;
    for (size_t i = 0; i < n; i++)
      nc += cls[perm[i]] == cl;
    size_t cut = (size_t)llround(c->holdout * (double)nc), seen = 0;
    for (size_t i = 0; i < n; i++) {
      size_t r = perm[i];
      if (cls[r] != cl)
        continue;
      if (c->holdout > 0)
        test[r] = seen++ < cut;
      else
        test[r] = (size_t)((dealt++) % (uint64_t)c->folds) == (size_t)c->fold;
    }
  }
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    keep[i] = c->part == 1 ? test[i] != 0 : test[i] == 0;
    m += keep[i];
  }
  if (m == 0) {
    rc = sy_error_set(err, SY_EINVAL,
                      "metrics.fold: the %s part of fold %lld is empty (%zu "
                      "rows in all)",
                      part_choices[c->part], (long long)c->fold, n);
    goto done;
  }
  if ((rc = subset(x, keep, m, &out[0], err)) != 0)
    goto done;
  if ((rc = subset(lab, keep, m, &out[1], err)) != 0) {
    sy_value_unref(out[0]);
    out[0] = NULL;
  }
done:
  free(perm);
  free(cls);
  free(test);
  free(keep);
  return rc;
}

static const sy_option fold_options[] = {
    {"folds", SY_OPT_INT, 0, "5", "1", "1000", NULL,
     offsetof(fold_config, folds), "Number of folds (k-fold)."},
    {"fold", SY_OPT_INT, 0, "0", "0", "999", NULL, offsetof(fold_config, fold),
     "Which fold is the test part, from 0."},
    {"holdout", SY_OPT_DOUBLE, 0, "0", "0", "1", NULL,
     offsetof(fold_config, holdout),
     "When above 0: one split, this fraction of the rows (of each class) "
     "being the test part; folds and fold are then ignored."},
    {"seed", SY_OPT_INT, 0, "0", NULL, NULL, NULL, offsetof(fold_config, seed),
     "Seed of the shuffle; the same seed gives the same split."},
    {"part", SY_OPT_ENUM, 0, "train", NULL, NULL, part_choices,
     offsetof(fold_config, part), "Which part to output: train or test."},
    {"stratify", SY_OPT_ENUM, 0, "auto", NULL, NULL, stratify_choices,
     offsetof(fold_config, stratify),
     "Keep class proportions in every part: auto (for a string or integer "
     "label), yes or no."},
    SY_OPTION_END};

static const sy_actor_ops fold_ops = {.size = sizeof(sy_actor_ops),
                                      .min_inputs = 2,
                                      .max_inputs = 2,
                                      .n_outputs = 2,
                                      .flags = 0,
                                      .apply = fold_apply};

static const sy_provider fold_provider = {
    sizeof(sy_provider),
    SY_KIND_ACTOR,
    "metrics.fold",
    METRICS_VERSION,
    "Splits (features, label) into the train or test rows of one fold or of "
    "a holdout, by seed.",
    fold_options,
    sizeof(fold_config),
    fold_create,
    plain_destroy,
    &fold_ops};

/* ---- the metrics -------------------------------------------------------- */

typedef enum metric_kind {
  M_ACCURACY,
  M_LOG_LOSS,
  M_ROC_AUC,
  M_R2,
  M_RMSE,
  M_MAE
} metric_kind;

static const char *const metric_names[] = {"accuracy", "log_loss", "roc_auc",
                                           "r2",       "rmse",     "mae"};

typedef struct metric_config {
  const char *column;
  const char *positive;
} metric_config;

typedef struct metric {
  metric_kind kind;
  char *column, *positive;
  char actor[32];
} metric;

static int metric_create(metric_kind kind, const void *config, void **self,
                         sy_error *err) {
  const metric_config *c = config;
  metric *m = calloc(1, sizeof *m);
  if (!m)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  m->kind = kind;
  m->column = strdup(c->column ? c->column : "prediction");
  m->positive = strdup(c->positive ? c->positive : "");
  snprintf(m->actor, sizeof m->actor, "metrics.%s", metric_names[kind]);
  if (!m->column || !m->positive) {
    free(m->column);
    free(m->positive);
    free(m);
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  }
  *self = m;
  return 0;
}

static void metric_destroy(void *self) {
  metric *m = self;
  if (!m)
    return;
  free(m->column);
  free(m->positive);
  free(m);
}

/* The prediction column of p: `column`, or the only column. */
static int pred_column(const metric *m, const sy_value *p, sy_error *err) {
  int c = sy_frame_col_index(p, m->column);
  if (c >= 0)
    return c;
  if (sy_frame_cols(p) == 1)
    return 0;
  return sy_error_set(err, SY_EINVAL,
                      "%s: the predictions have no column '%s'; set the "
                      "metric's 'column'",
                      m->actor, m->column);
}

static int numeric(const metric *m, const sy_value *f, size_t c, size_t row,
                   const char *what, double *v, sy_error *err) {
  sy_col_type t = sy_frame_col_type(f, c);
  if (sy_frame_is_null(f, c, row))
    return sy_error_set(err, SY_EINVAL, "%s: the %s is null in row %zu",
                        m->actor, what, row);
  if (t == SY_COL_F64)
    *v = sy_frame_f64(f, c)[row];
  else if (t == SY_COL_I64)
    *v = (double)sy_frame_i64(f, c)[row];
  else
    return sy_error_set(err, SY_ETYPE,
                        "%s: the %s column '%s' is text; this metric needs "
                        "numbers",
                        m->actor, what, sy_frame_col_name(f, c));
  return 0;
}

/* The probability column of class `key` ("p_<key>"), or -1. */
static int prob_column(const sy_value *p, const char *key) {
  char name[320];
  snprintf(name, sizeof name, "p_%s", key);
  return sy_frame_col_index(p, name);
}

typedef struct scored {
  double s;
  int pos;
} scored;
static int by_score(const void *a, const void *b) {
  double x = ((const scored *)a)->s, y = ((const scored *)b)->s;
  return (x > y) - (x < y);
}

static int metric_value(const metric *m, const sy_value *p, const sy_value *t,
                        double *out, sy_error *err) {
  size_t n = sy_frame_rows(t);
  char a[300], b[300];
  int rc;
  if (n == 0)
    return sy_error_set(err, SY_EINVAL, "%s: no rows", m->actor);
  if (m->kind == M_ACCURACY) {
    int c = pred_column(m, p, err);
    if (c < 0)
      return c;
    size_t hit = 0;
    for (size_t i = 0; i < n; i++) {
      if (cell_key(p, (size_t)c, i, a, sizeof a) < 0 ||
          cell_key(t, 0, i, b, sizeof b) < 0)
        return sy_error_set(err, SY_ERANGE, "%s: a class is too long",
                            m->actor);
      hit += strcmp(a, b) == 0;
    }
    *out = (double)hit / (double)n;
    return 0;
  }
  if (m->kind == M_LOG_LOSS) {
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
      if (cell_key(t, 0, i, b, sizeof b) < 0)
        return sy_error_set(err, SY_ERANGE, "%s: a class is too long",
                            m->actor);
      int c = prob_column(p, b);
      if (c < 0)
        return sy_error_set(err, SY_EINVAL,
                            "%s: the predictions have no probability column "
                            "'p_%s' for class '%s' (row %zu); log loss needs "
                            "class probabilities (std.logreg)",
                            m->actor, b, b, i);
      double v;
      if ((rc = numeric(m, p, (size_t)c, i, "probability", &v, err)) != 0)
        return rc;
      v = v < 1e-15 ? 1e-15 : v > 1 - 1e-15 ? 1 - 1e-15 : v;
      sum -= log(v);
    }
    *out = sum / (double)n;
    return 0;
  }
  if (m->kind == M_ROC_AUC) {
    size_t *cls = malloc(n * sizeof *cls);
    size_t k = 0;
    if (!cls)
      return sy_error_set(err, SY_ENOMEM, "out of memory");
    if ((rc = classes_of(m->actor, t, cls, &k, err)) != 0) {
      free(cls);
      return rc;
    }
    if (k != 2) {
      free(cls);
      return sy_error_set(err, SY_EINVAL,
                          "%s: ROC AUC needs a binary label: the truth has %zu "
                          "class%s",
                          m->actor, k, k == 1 ? "" : "es");
    }
    /* The positive class: `positive`, else the greater one (class 1). */
    const char *pos = m->positive;
    size_t pos_row = 0;
    for (size_t i = 0; i < n; i++)
      if (cls[i] == 1)
        pos_row = i;
    if (!*pos) {
      if (cell_key(t, 0, pos_row, b, sizeof b) < 0) {
        free(cls);
        return sy_error_set(err, SY_ERANGE, "%s: a class is too long",
                            m->actor);
      }
      pos = b;
    }
    int c = prob_column(p, pos);
    if (c < 0) {
      free(cls);
      return sy_error_set(err, SY_EINVAL,
                          "%s: the predictions have no probability column "
                          "'p_%s' for the positive class",
                          m->actor, pos);
    }
    scored *v = malloc(n * sizeof *v);
    size_t npos = 0;
    rc = v ? 0 : sy_error_set(err, SY_ENOMEM, "out of memory");
    for (size_t i = 0; rc == 0 && i < n; i++) {
      rc = numeric(m, p, (size_t)c, i, "probability", &v[i].s, err);
      char key[300];
      if (rc == 0 && cell_key(t, 0, i, key, sizeof key) < 0)
        rc = sy_error_set(err, SY_ERANGE, "%s: a class is too long", m->actor);
      v[i].pos = rc == 0 && strcmp(key, pos) == 0;
      npos += (size_t)v[i].pos;
    }
    free(cls);
    if (rc == 0 && (npos == 0 || npos == n))
      rc = sy_error_set(err, SY_EINVAL,
                        "%s: the positive class '%s' is not one of the "
                        "truth's two classes",
                        m->actor, pos);
    if (rc != 0) {
      free(v);
      return rc;
    }
    qsort(v, n, sizeof *v, by_score);
    double rank_sum = 0;
    for (size_t i = 0; i < n;) {
      size_t j = i;
      while (j < n && v[j].s == v[i].s)
        j++;
      double avg = ((double)(i + 1) + (double)j) / 2; /* ranks i+1..j */
      for (size_t q = i; q < j; q++)
        if (v[q].pos)
          rank_sum += avg;
      i = j;
    }
    free(v);
    double np = (double)npos, nn = (double)(n - npos);
    *out = (rank_sum - np * (np + 1) / 2) / (np * nn);
    return 0;
  }
  int c = pred_column(m, p, err);
  if (c < 0)
    return c;
  double mean = 0, ss_res = 0, ss_tot = 0, abs_sum = 0;
  for (size_t i = 0; i < n; i++) {
    double y;
    if ((rc = numeric(m, t, 0, i, "truth", &y, err)) != 0)
      return rc;
    mean += y;
  }
  mean /= (double)n;
  for (size_t i = 0; i < n; i++) {
    double y, f;
    if ((rc = numeric(m, t, 0, i, "truth", &y, err)) != 0 ||
        (rc = numeric(m, p, (size_t)c, i, "prediction", &f, err)) != 0)
      return rc;
    ss_res += (y - f) * (y - f);
    ss_tot += (y - mean) * (y - mean);
    abs_sum += fabs(y - f);
  }
  if (m->kind == M_R2) {
    if (ss_tot == 0)
      return sy_error_set(err, SY_EINVAL,
                          "%s: R² is undefined: the truth is constant",
                          m->actor);
    *out = 1 - ss_res / ss_tot;
  } else if (m->kind == M_RMSE) {
    *out = sqrt(ss_res / (double)n);
  } else {
    *out = abs_sum / (double)n;
  }
  return 0;
}

static int metric_apply(void *self, const sy_value *const *in, size_t n_in,
                        sy_value **out, sy_error *err) {
  const metric *m = self;
  int rc;
  if ((rc = want_frame(m->actor, in, n_in, 0, err)) != 0 ||
      (rc = want_frame(m->actor, in, n_in, 1, err)) != 0)
    return rc;
  if (sy_frame_cols(in[1]) < 1 || sy_frame_rows(in[0]) != sy_frame_rows(in[1]))
    return sy_error_set(err, SY_EINVAL,
                        "%s: %zu predictions for %zu true values (input 2 "
                        "must be the label)",
                        m->actor, sy_frame_rows(in[0]), sy_frame_rows(in[1]));
  double v = 0;
  if ((rc = metric_value(m, in[0], in[1], &v, err)) != 0)
    return rc;
  sy_value *o = NULL;
  if ((rc = sy_frame_new(1, &o)) != 0 ||
      (rc = sy_frame_add_f64(o, metric_names[m->kind], &v, NULL)) != 0) {
    sy_value_unref(o);
    return sy_error_set(err, rc, "%s: %s", m->actor, sy_strerror(rc));
  }
  *out = o;
  return 0;
}

static const sy_option metric_options[] = {
    {"column", SY_OPT_STRING, 0, "prediction", NULL, NULL, NULL,
     offsetof(metric_config, column),
     "The predictions' column (a frame of one column is read whatever its "
     "name)."},
    {"positive", SY_OPT_STRING, 0, "", NULL, NULL, NULL,
     offsetof(metric_config, positive),
     "roc_auc: the positive class (default: the greater of the two)."},
    SY_OPTION_END};

static const sy_actor_ops metric_ops = {.size = sizeof(sy_actor_ops),
                                        .min_inputs = 2,
                                        .max_inputs = 2,
                                        .n_outputs = 1,
                                        .flags = 0,
                                        .apply = metric_apply};

#define METRIC(kind_, fn_, name_, desc_)                                       \
  static int fn_##_create(const void *config, void **self, sy_error *err) {    \
    return metric_create(kind_, config, self, err);                            \
  }                                                                            \
  static const sy_provider fn_##_provider = {sizeof(sy_provider),              \
                                             SY_KIND_ACTOR,                    \
                                             name_,                            \
                                             METRICS_VERSION,                  \
                                             desc_,                            \
                                             metric_options,                   \
                                             sizeof(metric_config),            \
                                             fn_##_create,                     \
                                             metric_destroy,                   \
                                             &metric_ops};

METRIC(M_ACCURACY, accuracy, "metrics.accuracy",
       "(predictions, label) -> the fraction of rows predicted right.")
METRIC(M_LOG_LOSS, log_loss, "metrics.log_loss",
       "(predictions, label) -> the mean negative log probability of the "
       "true class.")
METRIC(M_ROC_AUC, roc_auc, "metrics.roc_auc",
       "(predictions, label) -> the area under the ROC curve of a binary "
       "label.")
METRIC(M_R2, r2, "metrics.r2",
       "(predictions, label) -> the coefficient of determination R².")
METRIC(M_RMSE, rmse, "metrics.rmse",
       "(predictions, label) -> the root mean squared error.")
METRIC(M_MAE, mae, "metrics.mae",
       "(predictions, label) -> the mean absolute error.")

/* ---- metrics.table ---------------------------------------------------- */

typedef struct table_config {
  const char *const *metrics;
  int64_t folds;
  const char *const *branches;
} table_config;

typedef struct table {
  char **metrics, **branches;
  size_t n_metrics, n_branches;
  size_t folds;
} table;

static void strv_free(char **v, size_t n) {
  for (size_t i = 0; v && i < n; i++)
    free(v[i]);
  free(v);
}

static void table_destroy(void *self) {
  table *t = self;
  if (!t)
    return;
  strv_free(t->metrics, t->n_metrics);
  strv_free(t->branches, t->n_branches);
  free(t);
}

static char **strv_copy(const char *const *v, size_t *n) {
  *n = 0;
  while (v && v[*n])
    (*n)++;
  char **c = calloc(*n + 1, sizeof *c);
  for (size_t i = 0; c && i < *n; i++)
    if (!(c[i] = strdup(v[i]))) {
      strv_free(c, i);
      return NULL;
    }
  return c;
}

static int table_create(const void *config, void **self, sy_error *err) {
  const table_config *c = config;
  table *t = calloc(1, sizeof *t);
  if (!t)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  t->folds = (size_t)c->folds;
  t->metrics = strv_copy(c->metrics, &t->n_metrics);
  t->branches = strv_copy(c->branches, &t->n_branches);
  if (!t->metrics || !t->branches) {
    table_destroy(t);
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  }
  if (!t->n_metrics) {
    table_destroy(t);
    return sy_error_set(err, SY_ECONFIG, "metrics.table: 'metrics' is empty");
  }
  *self = t;
  return 0;
}

static int table_apply(void *self, const sy_value *const *in, size_t n_in,
                       sy_value **out, sy_error *err) {
  const table *t = self;
  size_t nb = t->n_branches ? t->n_branches : 1, m = t->n_metrics;
  size_t k = t->folds, rows = nb * m;
  if (n_in != nb * k * m)
    return sy_error_set(err, SY_EINVAL,
                        "metrics.table: %zu inputs, expected %zu (branches) x "
                        "%zu (folds) x %zu (metrics)",
                        n_in, nb, k, m);
  sy_value *o = NULL;
  double *mean = calloc(rows, sizeof *mean), *sd = calloc(rows, sizeof *sd);
  double *folds = calloc(rows * k, sizeof *folds);
  const char **names = calloc(rows, sizeof *names);
  const char **branch = calloc(rows, sizeof *branch);
  int rc = mean && sd && folds && names && branch ? 0 : SY_ENOMEM;
  for (size_t b = 0; rc == 0 && b < nb; b++)
    for (size_t j = 0; rc == 0 && j < m; j++) {
      size_t r = b * m + j;
      names[r] = t->metrics[j];
      branch[r] = t->n_branches ? t->branches[b] : "";
      for (size_t f = 0; f < k; f++) {
        const sy_value *v = in[(b * k + f) * m + j];
        if (!v || sy_frame_rows(v) != 1 || sy_frame_cols(v) != 1 ||
            sy_frame_col_type(v, 0) != SY_COL_F64) {
          rc = sy_error_set(err, SY_EINVAL,
                            "metrics.table: input %zu is not one metric value",
                            (b * k + f) * m + j + 1);
          break;
        }
        folds[f * rows + r] = sy_frame_f64(v, 0)[0];
        mean[r] += folds[f * rows + r];
      }
      mean[r] /= (double)k;
      for (size_t f = 0; f < k; f++)
        sd[r] +=
            (folds[f * rows + r] - mean[r]) * (folds[f * rows + r] - mean[r]);
      sd[r] = k > 1 ? sqrt(sd[r] / (double)(k - 1)) : 0;
    }
  if (rc == 0)
    rc = sy_frame_new(rows, &o);
  if (rc == 0 && t->n_branches)
    rc = sy_frame_add_str(o, "branch", branch);
  if (rc == 0)
    rc = sy_frame_add_str(o, "metric", names);
  if (rc == 0)
    rc = sy_frame_add_f64(o, "mean", mean, NULL);
  if (rc == 0)
    rc = sy_frame_add_f64(o, "std", sd, NULL);
  for (size_t f = 0; rc == 0 && f < k && k > 1; f++) {
    char name[32];
    snprintf(name, sizeof name, "fold%zu", f + 1);
    rc = sy_frame_add_f64(o, name, folds + f * rows, NULL);
  }
  free(mean);
  free(sd);
  free(folds);
  free(names);
  free(branch);
  if (rc != 0) {
    sy_value_unref(o);
    if (!err || !err->code)
      sy_error_set(err, rc, "metrics.table: %s", sy_strerror(rc));
    return rc;
  }
  *out = o;
  return 0;
}

static const sy_option table_options[] = {
    {"metrics", SY_OPT_LIST, SY_OPT_REQUIRED, NULL, NULL, NULL, NULL,
     offsetof(table_config, metrics),
     "The metric of each input, in order (each fold's inputs repeat them)."},
    {"folds", SY_OPT_INT, 0, "1", "1", "1000", NULL,
     offsetof(table_config, folds), "Number of folds."},
    {"branches", SY_OPT_LIST, 0, NULL, NULL, NULL, NULL,
     offsetof(table_config, branches),
     "Labels of the branches (sweeps), each with folds x metrics inputs; "
     "none: one branch."},
    SY_OPTION_END};

static const sy_actor_ops table_ops = {.size = sizeof(sy_actor_ops),
                                       .min_inputs = 1,
                                       .max_inputs = SY_ARITY_MANY,
                                       .n_outputs = 1,
                                       .flags = 0,
                                       .apply = table_apply};

static const sy_provider table_provider = {
    sizeof(sy_provider),
    SY_KIND_ACTOR,
    "metrics.table",
    METRICS_VERSION,
    "Gathers metric values of every fold into one row per branch and "
    "metric: mean, standard deviation and each fold's value.",
    table_options,
    sizeof(table_config),
    table_create,
    table_destroy,
    &table_ops};

SY_PLUGIN_DEFINE("actor-metrics", METRICS_VERSION, &fold_provider,
                 &accuracy_provider, &log_loss_provider, &roc_auc_provider,
                 &r2_provider, &rmse_provider, &mae_provider, &table_provider)
