/*
 * logreg.c - std.logreg: multinomial logistic regression (softmax over K
 * classes; K = 2 is ordinary logistic regression with a redundant but
 * harmless second row of weights), trained by L-BFGS (solver = "lbfgs")
 * or by full-batch gradient descent (solver = "gd", the default, as
 * before).
 *
 * Model: p(k | x) = softmax_k(W_k . x + b_k). Loss minimised:
 *
 *   L = -(1/n) sum_i log p(y_i | x_i) + (lambda / 2) ||W||^2  (b unpenalised)
 *
 * where lambda is `l2`, or 1 / (C n) when `C` is set: n L is then
 * scikit-learn's LogisticRegression objective, C * (summed log loss) +
 * ||W||^2 / 2 (multinomial; for two classes the symmetric softmax, as
 * scikit-learn's multi_class = "multinomial"), so the same C gives the
 * same model.
 *
 * L-BFGS keeps the last 10 steps' curvature pairs, starts at W = b = 0,
 * takes the quasi-Newton direction (two-loop recursion, scaled by
 * s'y / y'y) and backtracks from step 1 until the Armijo condition holds.
 * It stops when the largest component of the gradient of L is at most
 * `tol` (converged; scikit-learn >= 1.3 scales its `tol` the same way),
 * after `max_iter` iterations, or when no step lowers L any more; the
 * last two end with a warning (sy_warn) that it did not converge.
 *
 * Gradient descent runs `epochs` steps with no stopping rule; one epoch
 * is, with P the predicted and Y the one-hot matrix:
 *
 *   W -= rate * ((1/n) (P - Y)^T X + lambda W),
 *   b -= rate * (1/n) sum_i (P_i - Y_i)
 *
 * Weights start at 0, every sum runs in row order, and training never
 * looks at a clock or a random source, so the result is deterministic.
 * train() always starts again from 0 (the actor is not incremental).
 *
 * Classes are the distinct label values, sorted (numerically for i64,
 * bytewise for strings); class k's probability is the column "p_<class>".
 * The prediction is the most probable class, the first one on ties.
 * Features are every f64/i64 column of the training input (each text
 * column left out is named in a -v note, sy_note), looked up by name at
 * apply time, which refuses one that has become text. Features are not scaled
 * here: put std.scaler first.
 */
#include "std.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ACTOR "std.logreg"
#define LOGREG_MAGIC "SYLOGREG"

typedef struct logreg_model {
  size_t p, k;
  char **names;     /* p feature names */
  sy_col_type type; /* SY_COL_I64 or SY_COL_STR */
  int64_t *cls_i64; /* k classes when type is i64 */
  char **cls_str;   /* k classes when type is str */
  double *w;        /* k * p, row-major (class by class) */
  double *b;        /* k */
  /* How it was fitted (state version 2; a version 1 state reads as gd
   * with loss NaN, iterations 0 and converged FIT_UNKNOWN). */
  uint32_t solver;    /* STD_SOLVER_* */
  uint32_t iters;     /* gd: epochs; lbfgs: iterations taken */
  uint32_t converged; /* FIT_* */
  double loss;        /* L at the end, penalty included */
  /* The probability columns' names, "p_<class>" (k of them), made once
   * when the model is trained or loaded (model_pnames), not per apply. */
  char **pnames;
} logreg_model;

/* converged: lbfgs met tol (YES) or stopped before (NO); gd has no
 * stopping rule (UNKNOWN). */
enum { FIT_NO = 0, FIT_YES = 1, FIT_UNKNOWN = 2 };

static int model_pnames(logreg_model *m);

#define LOGREG_VERSION 2u
#define LBFGS_M 10

typedef struct logreg {
  int64_t epochs;
  double rate, l2;
  int solver;
  double C, tol;
  int64_t max_iter;
  char *output;
  bool trained;
  logreg_model model;
} logreg;

static void model_free(logreg_model *m) {
  if (m->names)
    for (size_t j = 0; j < m->p; j++)
      free(m->names[j]);
  if (m->cls_str)
    for (size_t c = 0; c < m->k; c++)
      free(m->cls_str[c]);
  if (m->pnames)
    for (size_t c = 0; c < m->k; c++)
      free(m->pnames[c]);
  free(m->pnames);
  free(m->names);
  free(m->cls_i64);
  free(m->cls_str);
  free(m->w);
  free(m->b);
  memset(m, 0, sizeof *m);
}

static int model_alloc(logreg_model *m, size_t p, size_t k, sy_col_type type) {
  memset(m, 0, sizeof *m);
  m->p = p;
  m->k = k;
  m->type = type;
  m->names = std_calloc(p, sizeof *m->names);
  if (type == SY_COL_STR)
    m->cls_str = std_calloc(k, sizeof *m->cls_str);
  else
    m->cls_i64 = std_calloc(k, sizeof *m->cls_i64);
  m->w = k && p > SIZE_MAX / k ? NULL : std_calloc(k * p, sizeof *m->w);
  m->b = std_calloc(k, sizeof *m->b);
  if (!m->names || !(m->cls_str || m->cls_i64) || !m->w || !m->b) {
    model_free(m);
    return SY_ENOMEM;
  }
  return 0;
}

static int logreg_create(const void *config, void **self, sy_error *err) {
  const std_logreg_config *cfg = config;
  logreg *a;
  if (!cfg || cfg->epochs < 1 || cfg->epochs > 1000000)
    return sy_error_set(err, SY_ECONFIG,
                        ACTOR ": 'epochs' must be 1 to 1000000");
  if (!(cfg->rate > 0) || !isfinite(cfg->rate))
    return sy_error_set(err, SY_ECONFIG,
                        ACTOR ": 'rate' must be a finite number > 0");
  if (!(cfg->l2 >= 0) || !isfinite(cfg->l2))
    return sy_error_set(err, SY_ECONFIG,
                        ACTOR ": 'l2' must be a finite number >= 0");
  if (!(cfg->C >= 0) || !isfinite(cfg->C))
    return sy_error_set(err, SY_ECONFIG,
                        ACTOR ": 'c' must be a finite number > 0 (or 0: "
                              "unset, the penalty is then 'l2')");
  if (cfg->C > 0 && cfg->l2 > 0)
    return sy_error_set(err, SY_ECONFIG,
                        ACTOR ": set either 'c' or 'l2', not both (l2 = "
                              "1 / (c * rows))");
  if (cfg->solver == STD_SOLVER_LBFGS &&
      (!(cfg->tol > 0) || !isfinite(cfg->tol)))
    return sy_error_set(err, SY_ECONFIG,
                        ACTOR ": 'tol' must be a finite number > 0");
  if (cfg->solver == STD_SOLVER_LBFGS &&
      (cfg->max_iter < 1 || cfg->max_iter > 1000000))
    return sy_error_set(err, SY_ECONFIG,
                        ACTOR ": 'max_iter' must be 1 to 1000000");
  if (!cfg->output || !cfg->output[0] ||
      strlen(cfg->output) > SY_VALUE_MAX_NAME)
    return sy_error_set(err, SY_ECONFIG,
                        ACTOR ": 'output' must be 1 to %d characters",
                        SY_VALUE_MAX_NAME);
  a = calloc(1, sizeof *a);
  if (!a || !(a->output = std_strdup(cfg->output))) {
    free(a);
    return sy_error_set(err, SY_ENOMEM, ACTOR ": out of memory");
  }
  a->epochs = cfg->epochs;
  a->rate = cfg->rate;
  a->l2 = cfg->l2;
  a->solver = cfg->solver;
  a->C = cfg->C;
  a->tol = cfg->tol;
  a->max_iter = cfg->max_iter;
  *self = a;
  return 0;
}

static void logreg_destroy(void *self) {
  logreg *a = self;
  if (!a)
    return;
  model_free(&a->model);
  free(a->output);
  free(a);
}

static int cmp_i64(const void *x, const void *y) {
  int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
  return (a > b) - (a < b);
}

static int cmp_str(const void *x, const void *y) {
  return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* The class index of each label row, and the sorted distinct classes
 * (copied into md, which model_alloc sizes once the count is known). */
static int read_classes(const sy_value *label, size_t n, size_t p,
                        logreg_model *md, size_t *y, sy_error *err) {
  sy_col_type type;
  const uint8_t *valid;
  void *sorted = NULL;
  size_t k = 0;
  int rc = 0;

  if (sy_value_type_of(label) != SY_VALUE_FRAME)
    return sy_error_set(err, SY_EINVAL, ACTOR ": train needs a label frame");
  type = sy_frame_col_type(label, 0);
  if (sy_frame_cols(label) != 1 || (type != SY_COL_I64 && type != SY_COL_STR))
    return sy_error_set(err, SY_ETYPE,
                        ACTOR ": the label must be a frame with exactly one "
                              "i64 or str column");
  if (sy_frame_rows(label) != n)
    return sy_error_set(err, SY_EINVAL,
                        ACTOR ": the label has %zu rows, the features %zu",
                        sy_frame_rows(label), n);
  valid = sy_frame_valid(label, 0);
  for (size_t i = 0; i < n; i++)
    if (valid && !valid[i])
      return sy_error_set(err, SY_EINVAL,
                          ACTOR ": label column '%s' is null at row %zu "
                                "(rows count from 0)",
                          sy_frame_col_name(label, 0), i);

  /* Sort a copy of the labels and keep the distinct ones. */
  sorted = std_alloc(n, type == SY_COL_STR ? sizeof(char *) : sizeof(int64_t));
  if (!sorted)
    goto nomem;
  if (type == SY_COL_STR) {
    const char **s = sorted;
    for (size_t i = 0; i < n; i++)
      s[i] = sy_frame_str(label, 0, i);
    qsort(s, n, sizeof *s, cmp_str);
    for (size_t i = 0; i < n; i++)
      if (k == 0 || strcmp(s[k - 1], s[i]) != 0)
        s[k++] = s[i];
  } else {
    int64_t *s = sorted;
    memcpy(s, sy_frame_i64(label, 0), n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_i64);
    for (size_t i = 0; i < n; i++)
      if (k == 0 || s[k - 1] != s[i])
        s[k++] = s[i];
  }
  if (k < 2) {
    rc = sy_error_set(err, SY_EINVAL,
                      ACTOR ": the label has %zu distinct value%s; at least "
                            "2 classes are needed",
                      k, k == 1 ? "" : "s");
    goto done;
  }
  if (model_alloc(md, p, k, type) < 0)
    goto nomem;
  for (size_t c = 0; c < k; c++) {
    if (type == SY_COL_STR) {
      const char *cls = ((const char **)sorted)[c];
      /* "p_" + class must be a valid column name. */
      if (strlen(cls) + 2 > SY_VALUE_MAX_NAME) {
        rc = sy_error_set(err, SY_EINVAL,
                          ACTOR ": class label '%.40s...' is longer than %d "
                                "bytes",
                          cls, SY_VALUE_MAX_NAME - 2);
        goto done;
      }
      if (!(md->cls_str[c] = std_strdup(cls)))
        goto nomem;
    } else {
      md->cls_i64[c] = ((const int64_t *)sorted)[c];
    }
  }
  for (size_t i = 0; i < n; i++) {
    void *hit;
    if (type == SY_COL_STR) {
      const char *key = sy_frame_str(label, 0, i);
      hit = bsearch(&key, md->cls_str, k, sizeof *md->cls_str, cmp_str);
      y[i] = (size_t)((char **)hit - md->cls_str);
    } else {
      int64_t key = sy_frame_i64(label, 0)[i];
      hit = bsearch(&key, md->cls_i64, k, sizeof *md->cls_i64, cmp_i64);
      y[i] = (size_t)((int64_t *)hit - md->cls_i64);
    }
  }
  goto done;
nomem:
  rc = sy_error_set(err, SY_ENOMEM, ACTOR ": out of memory");
done:
  free(sorted);
  return rc;
}

/* Writes softmax(W x + b) into prob[0..k). x has p entries with stride
 * `stride` (so both row-major and column-major matrices work). */
static void predict_row(const logreg_model *md, const double *x, size_t stride,
                        double *prob) {
  double max = -INFINITY, sum = 0;
  for (size_t c = 0; c < md->k; c++) {
    double z = md->b[c];
    for (size_t j = 0; j < md->p; j++)
      z += md->w[c * md->p + j] * x[j * stride];
    prob[c] = z;
    if (z > max)
      max = z;
  }
  /* Subtracting the largest logit keeps exp() from overflowing. */
  for (size_t c = 0; c < md->k; c++) {
    prob[c] = exp(prob[c] - max);
    sum += prob[c];
  }
  for (size_t c = 0; c < md->k; c++)
    prob[c] /= sum;
}

/* L (see the top) and its gradient at the model's W, b: g holds k * p
 * weight components, then k bias components. xr is row-major (n by p);
 * prob has room for k. Rows are summed in order, so the result is
 * deterministic. */
static double loss_grad(const logreg_model *md, const double *xr,
                        const size_t *y, size_t n, double lambda, double *g,
                        double *prob) {
  size_t k = md->k, p = md->p;
  double *gw = g, *gb = g + k * p, loss = 0;
  memset(g, 0, (k * p + k) * sizeof *g);
  for (size_t i = 0; i < n; i++) {
    const double *x = xr + i * p;
    double max = -INFINITY, sum = 0, zy;
    for (size_t c = 0; c < k; c++) {
      const double *w = md->w + c * p;
      double z = md->b[c];
      for (size_t j = 0; j < p; j++)
        z += w[j] * x[j];
      prob[c] = z;
      if (z > max)
        max = z;
    }
    zy = prob[y[i]];
    for (size_t c = 0; c < k; c++)
      sum += (prob[c] = exp(prob[c] - max));
    /* -log p(y) = log(sum exp(z - max)) - (z_y - max). */
    loss += log(sum) - (zy - max);
    for (size_t c = 0; c < k; c++) {
      double d = prob[c] / sum - (y[i] == c ? 1.0 : 0.0);
      double *gr = gw + c * p;
      gb[c] += d;
      for (size_t j = 0; j < p; j++)
        gr[j] += d * x[j];
    }
  }
  double inv = 1.0 / (double)n, pen = 0;
  for (size_t t = 0; t < k * p; t++) {
    gw[t] = gw[t] * inv + lambda * md->w[t];
    pen += md->w[t] * md->w[t];
  }
  for (size_t c = 0; c < k; c++)
    gb[c] *= inv;
  return loss * inv + 0.5 * lambda * pen;
}

static double dot(const double *a, const double *b, size_t n) {
  double s = 0;
  for (size_t i = 0; i < n; i++)
    s += a[i] * b[i];
  return s;
}

static double max_abs(const double *a, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; i++)
    if (fabs(a[i]) > m)
      m = fabs(a[i]);
  return m;
}

/* L-BFGS on md's W and b (which hold the start, 0, on entry and the
 * result on return). md->w and md->b are one parameter vector for the
 * algorithm: theta is copied in and out of them around each evaluation.
 * Fills md->iters, md->converged and md->loss. SY_ENOMEM or 0. */
static int fit_lbfgs(const logreg *a, logreg_model *md, const double *xr,
                     const size_t *y, size_t n, double lambda) {
  size_t k = md->k, p = md->p, d = k * p + k, m = LBFGS_M;
  double *buf = std_alloc((6 + 2 * m) * d + 2 * m, sizeof *buf);
  double *prob = std_alloc(k, sizeof *prob);
  if (!buf || !prob) {
    free(buf);
    free(prob);
    return SY_ENOMEM;
  }
  double *x = buf, *g = x + d, *dir = g + d, *xn = dir + d, *gn = xn + d;
  double *q = gn + d, *S = q + d, *Y = S + m * d, *rho = Y + m * d;
  double *alpha = rho + m;
  size_t used = 0, head = 0; /* ring of the last m pairs */
  double f, gamma = 1;
  int64_t it = 0;

#define PUT(theta)                                                             \
  do {                                                                         \
    memcpy(md->w, (theta), k *p * sizeof *md->w);                              \
    memcpy(md->b, (theta) + k * p, k * sizeof *md->b);                         \
  } while (0)

  memset(x, 0, d * sizeof *x);
  PUT(x);
  f = loss_grad(md, xr, y, n, lambda, g, prob);
  md->converged = FIT_NO;
  while (max_abs(g, d) > a->tol) {
    if (it >= a->max_iter)
      break;
    /* Two-loop recursion: dir = -H g. */
    memcpy(q, g, d * sizeof *q);
    for (size_t t = 0; t < used; t++) {
      size_t r = (head + m - 1 - t) % m;
      alpha[r] = rho[r] * dot(S + r * d, q, d);
      for (size_t i = 0; i < d; i++)
        q[i] -= alpha[r] * Y[r * d + i];
    }
    for (size_t i = 0; i < d; i++)
      q[i] *= gamma;
    for (size_t t = used; t-- > 0;) {
      size_t r = (head + m - 1 - t) % m;
      double beta = rho[r] * dot(Y + r * d, q, d);
      for (size_t i = 0; i < d; i++)
        q[i] += S[r * d + i] * (alpha[r] - beta);
    }
    for (size_t i = 0; i < d; i++)
      dir[i] = -q[i];
    double slope = dot(g, dir, d);
    if (!(slope < 0)) { /* not a descent direction: forget the pairs */
      used = 0;
      for (size_t i = 0; i < d; i++)
        dir[i] = -g[i];
      slope = -dot(g, g, d);
    }
    /* The first step has no curvature yet: keep its length at most 1. */
    double step = used ? 1.0 : fmin(1.0, 1.0 / sqrt(-slope));
    double fn = f;
    int found = 0;
    for (int tries = 0; tries < 60; tries++, step *= 0.5) {
      for (size_t i = 0; i < d; i++)
        xn[i] = x[i] + step * dir[i];
      PUT(xn);
      fn = loss_grad(md, xr, y, n, lambda, gn, prob);
      if (isfinite(fn) && fn <= f + 1e-4 * step * slope) {
        found = 1;
        break;
      }
    }
    it++;
    if (!found) { /* no step lowers L: as far as rounding lets it go */
      PUT(x);
      break;
    }
    double *s_new = S + head * d, *y_new = Y + head * d;
    for (size_t i = 0; i < d; i++) {
      s_new[i] = xn[i] - x[i];
      y_new[i] = gn[i] - g[i];
    }
    double sy = dot(s_new, y_new, d), yy = dot(y_new, y_new, d);
    if (sy > 1e-12 * yy && yy > 0) { /* keep only pairs with curvature */
      rho[head] = 1.0 / sy;
      gamma = sy / yy;
      head = (head + 1) % m;
      if (used < m)
        used++;
    }
    memcpy(x, xn, d * sizeof *x);
    memcpy(g, gn, d * sizeof *g);
    f = fn;
  }
  if (max_abs(g, d) <= a->tol)
    md->converged = FIT_YES;
  PUT(x);
#undef PUT
  md->iters = (uint32_t)it;
  md->loss = f;
  free(buf);
  free(prob);
  return 0;
}

static int logreg_train(void *self, const sy_value *const *in, size_t n_in,
                        const sy_value *label, sy_error *err) {
  logreg *a = self;
  std_matrix X = {0};
  logreg_model next = {0};
  size_t *y = NULL, n, p, k;
  double *xr = NULL, *gw = NULL, *gb = NULL, *prob = NULL, lambda;
  int rc;

  if ((rc = std_want_frame(ACTOR, in, n_in, 0, err)) < 0 ||
      (rc = std_matrix_from_frame(ACTOR, in[0], NULL, 0, &X, err)) < 0)
    goto fail;
  n = X.n;
  p = X.p;
  if (p == 0) {
    rc = sy_error_set(err, SY_EINVAL,
                      ACTOR ": the input has no numeric column to use as a "
                            "feature");
    goto fail;
  }
  if (n == 0) {
    rc = sy_error_set(err, SY_EINVAL, ACTOR ": no rows to train on");
    goto fail;
  }
  y = std_alloc(n, sizeof *y);
  if (!y)
    goto nomem;
  if ((rc = read_classes(label, n, p, &next, y, err)) < 0)
    goto fail;
  k = next.k;
  for (size_t j = 0; j < p; j++)
    if (!(next.names[j] = std_strdup(X.names[j])))
      goto nomem;
  /* A row-major copy makes each row's features contiguous for the many
   * passes over the data. */
  xr = std_alloc(n * p, sizeof *xr);
  gw = std_alloc(k * p, sizeof *gw);
  gb = std_alloc(k, sizeof *gb);
  prob = std_alloc(k, sizeof *prob);
  if (!xr || !gw || !gb || !prob)
    goto nomem;
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < p; j++)
      xr[i * p + j] = X.x[j * n + i];
  /* C in scikit-learn's terms: C * sum(log loss) + ||W||^2 / 2 is n L
   * with lambda = 1 / (C n). */
  lambda = a->C > 0 ? 1.0 / (a->C * (double)n) : a->l2;
  next.solver = (uint32_t)a->solver;

  if (a->solver == STD_SOLVER_LBFGS) {
    if (fit_lbfgs(a, &next, xr, y, n, lambda) < 0)
      goto nomem;
    if (next.converged != FIT_YES)
      sy_warn(ACTOR ": lbfgs did not converge: the largest gradient "
                    "component is still above tol = %g after %" PRIu32
                    " iteration%s (max_iter = %" PRId64
                    "); raise max_iter, scale the features (std.scaler) or "
                    "regularise more (a smaller C)",
              a->tol, next.iters, next.iters == 1 ? "" : "s", a->max_iter);
  }
  for (int64_t e = 0; a->solver == STD_SOLVER_GD && e < a->epochs; e++) {
    memset(gw, 0, k * p * sizeof *gw);
    memset(gb, 0, k * sizeof *gb);
    for (size_t i = 0; i < n; i++) {
      const double *x = xr + i * p;
      predict_row(&next, x, 1, prob);
      for (size_t c = 0; c < k; c++) {
        double d = prob[c] - (y[i] == c ? 1.0 : 0.0);
        gb[c] += d;
        for (size_t j = 0; j < p; j++)
          gw[c * p + j] += d * x[j];
      }
    }
    for (size_t c = 0; c < k; c++) {
      for (size_t j = 0; j < p; j++) {
        double *w = &next.w[c * p + j];
        *w -= a->rate * (gw[c * p + j] / (double)n + lambda * *w);
      }
      next.b[c] -= a->rate * gb[c] / (double)n;
    }
  }
  if (a->solver == STD_SOLVER_GD) {
    double *g = std_alloc(k * p + k, sizeof *g);
    if (!g)
      goto nomem;
    next.iters = (uint32_t)a->epochs;
    next.converged = FIT_UNKNOWN;
    next.loss = loss_grad(&next, xr, y, n, lambda, g, prob);
    free(g);
  }
  for (size_t t = 0; t < k * p; t++)
    if (!isfinite(next.w[t])) {
      rc = sy_error_set(err, SY_EINVAL,
                        ACTOR ": training diverged (weights are not finite); "
                              "lower 'rate' or scale the features");
      goto fail;
    }
  if (model_pnames(&next))
    goto nomem;
  model_free(&a->model);
  a->model = next;
  memset(&next, 0, sizeof next);
  a->trained = true;
  rc = 0;
  goto done;
nomem:
  rc = sy_error_set(err, SY_ENOMEM, ACTOR ": out of memory");
fail:
done:
  model_free(&next);
  std_matrix_free(&X);
  free(y);
  free(xr);
  free(gw);
  free(gb);
  free(prob);
  return rc;
}

/* "p_<class>" into buf (SY_VALUE_MAX_NAME + 1 bytes). */
static void prob_name(const logreg_model *md, size_t c, char *buf, size_t cap) {
  if (md->type == SY_COL_STR)
    snprintf(buf, cap, "p_%s", md->cls_str[c]);
  else
    snprintf(buf, cap, "p_%" PRId64, md->cls_i64[c]);
}

/* Fills m->pnames: 0 or SY_ENOMEM (m then has none). The text is
 * prob_name's into the buffer apply used, so an overlong class name gets
 * the same refusal from sy_frame_add_f64 as before. */
static int model_pnames(logreg_model *m) {
  char name[SY_VALUE_MAX_NAME + 8];
  m->pnames = std_calloc(m->k, sizeof *m->pnames);
  for (size_t c = 0; m->pnames && c < m->k; c++) {
    prob_name(m, c, name, sizeof name);
    if (!(m->pnames[c] = strdup(name))) {
      for (size_t i = 0; i < c; i++)
        free(m->pnames[i]);
      free(m->pnames);
      m->pnames = NULL;
    }
  }
  return m->pnames ? 0 : SY_ENOMEM;
}

static int logreg_apply(void *self, const sy_value *const *in, size_t n_in,
                        sy_value **out, sy_error *err) {
  const logreg *a = self;
  const logreg_model *md = &a->model;
  std_matrix X = {0};
  sy_value *o = NULL;
  double *prob = NULL, *row = NULL;
  size_t *best = NULL, n;
  void *pred = NULL;
  int rc;

  if (!a->trained)
    return sy_error_set(err, SY_ESTATE, ACTOR ": not trained");
  if ((rc = std_want_frame(ACTOR, in, n_in, 0, err)) < 0 ||
      (rc = std_matrix_from_frame(ACTOR, in[0], (const char *const *)md->names,
                                  md->p, &X, err)) < 0)
    goto fail;
  n = X.n;
  /* prob is column-major (class by class) to hand each class's column to
   * the frame directly. */
  prob = std_alloc(md->k * n, sizeof *prob);
  row = std_alloc(md->k, sizeof *row);
  best = std_alloc(n, sizeof *best);
  pred =
      std_alloc(n, md->type == SY_COL_STR ? sizeof(char *) : sizeof(int64_t));
  if (!prob || !row || !best || !pred) {
    rc = SY_ENOMEM;
    goto fail_code;
  }
  for (size_t i = 0; i < n; i++) {
    predict_row(md, X.x + i, n, row);
    best[i] = 0;
    for (size_t c = 0; c < md->k; c++) {
      prob[c * n + i] = row[c];
      if (row[c] > row[best[i]])
        best[i] = c;
    }
    if (md->type == SY_COL_STR)
      ((const char **)pred)[i] = md->cls_str[best[i]];
    else
      ((int64_t *)pred)[i] = md->cls_i64[best[i]];
  }
  if ((rc = sy_frame_new(n, &o)) < 0)
    goto fail_code;
  rc = md->type == SY_COL_STR
           ? sy_frame_add_str(o, a->output, (const char *const *)pred)
           : sy_frame_add_i64(o, a->output, pred, NULL);
  if (rc < 0)
    goto fail_code;
  for (size_t c = 0; c < md->k; c++) {
    if ((rc = sy_frame_add_f64(o, md->pnames[c], prob + c * n, NULL)) < 0) {
      if (rc == SY_EEXIST)
        sy_error_set(err, rc,
                     ACTOR ": output column '%s' clashes with a probability "
                           "column; choose another 'output'",
                     a->output);
      else
        sy_error_set(err, rc, ACTOR ": cannot build the output frame: %s",
                     sy_strerror(rc));
      goto fail;
    }
  }
  *out = o;
  o = NULL;
  goto done;
fail_code:
  sy_error_set(err, rc, ACTOR ": cannot build the output frame: %s",
               sy_strerror(rc));
fail:
done:
  sy_value_unref(o);
  std_matrix_free(&X);
  free(prob);
  free(row);
  free(best);
  free(pred);
  return rc;
}

/* Payload: u32 features p, u32 classes k, u32 label type (2 i64, 3 str),
 * p feature names, k classes (i64 as u64, or str), k * p f64 weights
 * (class by class), k f64 biases; since version 2 then u32 solver
 * (STD_SOLVER_*), u32 iterations, u32 converged (FIT_*), f64 loss.
 * Version 1 states (without those) still load. */
static int logreg_save(void *self, sy_value **state, sy_error *err) {
  const logreg *a = self;
  const logreg_model *md = &a->model;
  sy_state_writer w;
  if (!a->trained)
    return sy_error_set(err, SY_ESTATE, ACTOR ": not trained");
  if (md->p > UINT32_MAX || md->k > UINT32_MAX)
    return sy_error_set(err, SY_ETOOBIG, ACTOR ": model too large");
  sy_state_begin(&w, LOGREG_MAGIC, LOGREG_VERSION);
  sy_state_put_u32(&w, (uint32_t)md->p);
  sy_state_put_u32(&w, (uint32_t)md->k);
  sy_state_put_u32(&w, (uint32_t)md->type);
  for (size_t j = 0; j < md->p; j++)
    sy_state_put_str(&w, md->names[j]);
  for (size_t c = 0; c < md->k; c++) {
    if (md->type == SY_COL_STR)
      sy_state_put_str(&w, md->cls_str[c]);
    else
      sy_state_put_i64(&w, md->cls_i64[c]);
  }
  sy_state_put_f64s(&w, md->w, md->k * md->p);
  sy_state_put_f64s(&w, md->b, md->k);
  sy_state_put_u32(&w, md->solver);
  sy_state_put_u32(&w, md->iters);
  sy_state_put_u32(&w, md->converged);
  sy_state_put_f64(&w, md->loss);
  return sy_state_finish(&w, ACTOR, state, err);
}

/* Reads a state into *next (freed on failure). */
static int read_model(const sy_value *state, logreg_model *next,
                      sy_error *err) {
  sy_state_reader r;
  uint32_t p, k, type;
  int rc;

  memset(next, 0, sizeof *next);
  if ((rc = sy_state_open(&r, state, ACTOR, LOGREG_MAGIC, STD_STATE_VERSION,
                          LOGREG_VERSION, err)) < 0)
    return rc;
  if (sy_state_get_u32(&r, &p) < 0 || sy_state_get_u32(&r, &k) < 0 ||
      sy_state_get_u32(&r, &type) < 0 || p == 0 || k < 2 ||
      (type != SY_COL_I64 && type != SY_COL_STR)) {
    sy_state_reject(&r);
    return sy_state_close(&r, err);
  }
  /* Every feature and class costs at least 5 bytes and every weight 8:
   * refuse counts the payload cannot hold before allocating for them. */
  size_t left = sy_state_left(&r);
  if (p > left / 5 || k > left / 12 || (uint64_t)k * p > left / 8) {
    sy_state_reject(&r);
    return sy_state_close(&r, err);
  }
  if (model_alloc(next, p, k, (sy_col_type)type) < 0)
    return sy_error_set(err, SY_ENOMEM, ACTOR ": out of memory");
  for (size_t j = 0; j < p; j++)
    if (sy_state_get_str(&r, 1, SY_VALUE_MAX_NAME, &next->names[j]) < 0)
      break;
  for (size_t c = 0; c < k; c++) {
    if (type == SY_COL_STR) {
      if (sy_state_get_str(&r, 0, SY_VALUE_MAX_NAME, &next->cls_str[c]) < 0)
        break;
      if (strlen(next->cls_str[c]) + 2 > SY_VALUE_MAX_NAME ||
          (c > 0 && strcmp(next->cls_str[c - 1], next->cls_str[c]) >= 0))
        sy_state_reject(&r);
    } else {
      if (sy_state_get_i64(&r, &next->cls_i64[c]) < 0)
        break;
      if (c > 0 && next->cls_i64[c - 1] >= next->cls_i64[c])
        sy_state_reject(&r);
    }
  }
  sy_state_get_f64s(&r, next->w, (size_t)k * p);
  sy_state_get_f64s(&r, next->b, k);
  for (size_t t = 0; t < (size_t)k * p; t++)
    if (!isfinite(next->w[t]))
      sy_state_reject(&r);
  for (size_t c = 0; c < k; c++)
    if (!isfinite(next->b[c]))
      sy_state_reject(&r);
  if (r.version >= 2) {
    sy_state_get_u32(&r, &next->solver);
    sy_state_get_u32(&r, &next->iters);
    sy_state_get_u32(&r, &next->converged);
    sy_state_get_f64(&r, &next->loss);
    if (next->solver > STD_SOLVER_LBFGS || next->converged > FIT_UNKNOWN)
      sy_state_reject(&r);
  } else {
    next->solver = STD_SOLVER_GD;
    next->converged = FIT_UNKNOWN;
    next->loss = NAN;
  }
  if ((rc = sy_state_close(&r, err)) < 0) {
    model_free(next);
    return rc;
  }
  return 0;
}

static int logreg_load(void *self, const sy_value *state, sy_error *err) {
  logreg *a = self;
  logreg_model next;
  int rc = read_model(state, &next, err);
  if (rc < 0)
    return rc;
  if (model_pnames(&next)) {
    model_free(&next);
    return sy_error_set(err, SY_ENOMEM, ACTOR ": out of memory");
  }
  model_free(&a->model);
  a->model = next;
  a->trained = true;
  return 0;
}

/* {"solver", "features", "classes", "coefficients": {class: {feature:
 * w}}, "intercepts": {class: b}, "loss", "iterations", "converged"};
 * loss and converged are null for a state that does not know them. */
static int logreg_describe(const sy_value *state, sy_buf *b, sy_error *err) {
  logreg_model md;
  char cls[32];
  int rc = read_model(state, &md, err);
  if (rc < 0)
    return rc;
  sy_buf_printf(b, "{\"solver\": \"%s\", \"features\": [",
                md.solver == STD_SOLVER_LBFGS ? "lbfgs" : "gd");
  for (size_t j = 0; j < md.p; j++) {
    sy_buf_puts(b, j ? ", " : "");
    std_json_str(b, md.names[j]);
  }
  sy_buf_puts(b, "], \"classes\": [");
  for (size_t c = 0; c < md.k; c++) {
    sy_buf_puts(b, c ? ", " : "");
    if (md.type == SY_COL_STR)
      std_json_str(b, md.cls_str[c]);
    else
      sy_buf_printf(b, "%" PRId64, md.cls_i64[c]);
  }
  sy_buf_puts(b, "], \"coefficients\": {");
  for (size_t c = 0; c < md.k; c++) {
    snprintf(cls, sizeof cls, "%" PRId64,
             md.type == SY_COL_STR ? 0 : md.cls_i64[c]);
    sy_buf_puts(b, c ? ", " : "");
    std_json_str(b, md.type == SY_COL_STR ? md.cls_str[c] : cls);
    sy_buf_puts(b, ": ");
    std_json_named(b, md.names, md.w + c * md.p, md.p);
  }
  sy_buf_puts(b, "}, \"intercepts\": {");
  for (size_t c = 0; c < md.k; c++) {
    snprintf(cls, sizeof cls, "%" PRId64,
             md.type == SY_COL_STR ? 0 : md.cls_i64[c]);
    sy_buf_puts(b, c ? ", " : "");
    std_json_str(b, md.type == SY_COL_STR ? md.cls_str[c] : cls);
    sy_buf_puts(b, ": ");
    std_json_num(b, md.b[c]);
  }
  sy_buf_puts(b, "}, \"loss\": ");
  std_json_num(b, md.loss);
  sy_buf_printf(b, ", \"iterations\": %" PRIu32 ", \"converged\": %s}",
                md.iters,
                md.converged == FIT_YES  ? "true"
                : md.converged == FIT_NO ? "false"
                                         : "null");
  model_free(&md);
  return std_json_done(ACTOR, b, err);
}

static const char *const solvers[] = {"gd", "lbfgs", NULL};

static const sy_option logreg_options[] = {
    {"epochs", SY_OPT_INT, 0, "100", "1", "1000000", NULL,
     offsetof(std_logreg_config, epochs),
     "Number of full-batch gradient descent steps."},
    {"rate", SY_OPT_DOUBLE, 0, "0.1", "0", NULL, NULL,
     offsetof(std_logreg_config, rate),
     "Learning rate of each step; must be greater than 0."},
    {"l2", SY_OPT_DOUBLE, 0, "0", "0", NULL, NULL,
     offsetof(std_logreg_config, l2),
     "L2 penalty lambda on the weights, (lambda / 2) ||W||^2 added to the "
     "mean log loss (the biases are not penalised); or set c."},
    {"solver", SY_OPT_ENUM, 0, "gd", NULL, NULL, solvers,
     offsetof(std_logreg_config, solver),
     "gd: 'epochs' gradient descent steps of size 'rate'; lbfgs: L-BFGS "
     "until the gradient is within 'tol' or 'max_iter' iterations."},
    {"c", SY_OPT_DOUBLE, 0, "0", "0", NULL, NULL,
     offsetof(std_logreg_config, C),
     "Inverse penalty as scikit-learn's C: C * (summed log loss) + "
     "||W||^2 / 2, i.e. l2 = 1 / (C * rows); 0 leaves it unset (use l2)."},
    {"tol", SY_OPT_DOUBLE, 0, "1e-4", "0", NULL, NULL,
     offsetof(std_logreg_config, tol),
     "lbfgs: stop when no gradient component of the mean loss exceeds "
     "this."},
    {"max_iter", SY_OPT_INT, 0, "100", "1", "1000000", NULL,
     offsetof(std_logreg_config, max_iter),
     "lbfgs: the most iterations; stopping there warns that it did not "
     "converge."},
    {"output", SY_OPT_STRING, 0, "prediction", NULL, NULL, NULL,
     offsetof(std_logreg_config, output),
     "Name of the output column holding the predicted class."},
    SY_OPTION_END};

/* ---- the row kernel ------------------------------------------------ */

/* Features of one row at most (the kernel gathers them on the stack). */
#define LOGREG_ROW_MAX_P 256

typedef struct logreg_row {
  const logreg_model *md; /* the instance's: alive as long as the kernel */
  uint32_t idx[];         /* feature j's column in the input row */
} logreg_row;

/* apply's arithmetic for one row: predict_row on the features in the
 * model's order, then the first most probable class. out[0] is that
 * class's index into cls_str (the label), out[1 + c] class c's
 * probability. */
static void logreg_row_fn(const void *ctx, const double *in, double *out) {
  const logreg_row *r = ctx;
  const logreg_model *md = r->md;
  double x[LOGREG_ROW_MAX_P];
  for (size_t j = 0; j < md->p; j++)
    x[j] = in[r->idx[j]];
  double *prob = out + 1;
  predict_row(md, x, 1, prob);
  size_t best = 0;
  for (size_t c = 0; c < md->k; c++)
    if (prob[c] > prob[best])
      best = c;
  out[0] = (double)best;
}

/* A string-class model's apply on one row as an FN kernel whose first
 * output is a label (ABI 1.5). Integer classes, an older core, or more
 * features than the stack holds: SY_ENOTSUP (the frame path serves). */
static int logreg_prepare_row(const void *self, sy_row_kernel *k,
                              sy_error *err) {
  const logreg *a = self;
  const logreg_model *md = &a->model;
  if (!a->trained)
    return sy_error_set(err, SY_ESTATE, ACTOR ": not trained");
  if (!SY_ROW_HAS_LABELS(k))
    return sy_error_set(err, SY_ENOTSUP,
                        ACTOR ": the predicted class is text, and this core "
                              "has no row labels (ABI 1.5)");
  if (md->type != SY_COL_STR)
    return sy_error_set(err, SY_ENOTSUP,
                        ACTOR ": integer classes do not take the row path");
  if (md->p > LOGREG_ROW_MAX_P || md->k + 1 > k->cap || md->k > UINT32_MAX)
    return sy_error_set(err, SY_ENOTSUP,
                        ACTOR ": %zu features and %zu classes are too many "
                              "for the row path",
                        md->p, md->k);
  /* apply on a row of zeros with these columns: a row it would refuse
   * gets its own error, and its result is checked to be what the kernel
   * writes (the class, then k probabilities, no nulls). */
  sy_value *o = NULL;
  int rc = std_row_apply_zeros(ACTOR, logreg_apply, self, k, &o, err);
  if (rc)
    return rc;
  int shape = sy_frame_rows(o) == 1 && sy_frame_cols(o) == md->k + 1 &&
              sy_frame_col_type(o, 0) == SY_COL_STR && !sy_frame_valid(o, 0);
  for (size_t c = 1; shape && c <= md->k; c++)
    shape = sy_frame_col_type(o, c) == SY_COL_F64 && !sy_frame_valid(o, c);
  sy_value_unref(o);
  if (!shape)
    return sy_error_set(err, SY_ENOTSUP,
                        ACTOR ": one row's result is not a class and %zu "
                              "probabilities",
                        md->k);
  logreg_row *r = malloc(sizeof *r + (md->p ? md->p : 1) * sizeof *r->idx);
  if (!r)
    return sy_error_set(err, SY_ENOMEM, ACTOR ": out of memory");
  r->md = md;
  /* apply found every feature among the columns, so none of these misses
   * (the first column of that name, as sy_frame_col_index finds it). */
  for (size_t j = 0; j < md->p; j++)
    r->idx[j] = (uint32_t)std_row_find(k, md->names[j]);
  k->kind = SY_ROW_FN;
  k->fn = logreg_row_fn;
  k->ctx = r;
  k->release = free;
  k->n_out = (uint32_t)md->k + 1;
  k->out_names[0] = a->output;
  k->labels[0] = (const char *const *)md->cls_str;
  k->n_labels[0] = (uint32_t)md->k;
  for (size_t c = 0; c < md->k; c++)
    k->out_names[1 + c] = md->pnames[c];
  return 0;
}

/* No apply_into yet. prepare_row: string classes only (ABI 1.5 labels). */
static const sy_actor_ops logreg_ops = {
    .size = sizeof(sy_actor_ops),
    .min_inputs = 1,
    .max_inputs = 1,
    .n_outputs = 1,
    .flags = SY_ACTOR_STATEFUL | SY_ACTOR_SUPERVISED | SY_ACTOR_ROW_WISE,
    .apply = logreg_apply,
    .train = logreg_train,
    .state_save = logreg_save,
    .state_load = logreg_load,
    .prepare_row = logreg_prepare_row,
    .describe_state = logreg_describe};

const sy_provider std_logreg_provider = {
    sizeof(sy_provider),
    SY_KIND_ACTOR,
    "std.logreg",
    STD_VERSION,
    "Fits a multinomial logistic regression (L-BFGS or gradient descent).",
    logreg_options,
    sizeof(std_logreg_config),
    logreg_create,
    logreg_destroy,
    &logreg_ops};
