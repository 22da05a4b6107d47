/*
 * linreg.c - std.linreg: ordinary least squares, optionally ridge
 * (l2 * ||beta||^2, the intercept not penalised), solved with Householder
 * QR.
 *
 * Why QR and not the normal equations: QR works on X itself, so its error
 * grows with cond(X) rather than cond(X)^2. Ridge stays in the same frame
 * by augmenting the system with sqrt(l2) * I rows and zero targets:
 *
 *   minimise ||y - X b||^2 + l2 ||b||^2  ==  ||[y; 0] - [X; sqrt(l2) I] b||^2
 *
 * With an intercept, X and y are centred first (the intercept is then
 * mean(y) - mean(X) . b), which both leaves the intercept unpenalised and
 * improves conditioning. A feature whose remaining column norm during the
 * factorisation falls below m * eps * (largest column norm) is declared
 * collinear and refused, naming it, instead of producing huge
 * coefficients.
 *
 * Features are every f64/i64 column of the training input, in frame order
 * (each text column left out is named in a -v note, sy_note); apply looks
 * them up by name (extra columns are ignored) and refuses one that has
 * become text. The label is a
 * frame with exactly one numeric column. Rows with nulls are refused.
 */
#include "std.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ACTOR "std.linreg"
#define LINREG_MAGIC "SYLINREG"

typedef struct linreg_model {
  size_t p;
  char **names;     /* p feature names */
  double *coef;     /* p coefficients */
  double intercept; /* 0 when fitted without one */
  double r2;        /* R^2 on the training data (state version 2; NaN
                       from a version 1 state, or when y is constant) */
} linreg_model;

#define LINREG_VERSION 2u

typedef struct linreg {
  double l2;
  bool intercept;
  char *output;
  bool trained;
  linreg_model model;
} linreg;

static void model_free(linreg_model *m) {
  if (m->names)
    for (size_t j = 0; j < m->p; j++)
      free(m->names[j]);
  free(m->names);
  free(m->coef);
  memset(m, 0, sizeof *m);
}

static int model_alloc(linreg_model *m, size_t p) {
  memset(m, 0, sizeof *m);
  m->names = std_calloc(p, sizeof *m->names);
  m->coef = std_calloc(p, sizeof *m->coef);
  m->p = p;
  if (!m->names || !m->coef) {
    model_free(m);
    return SY_ENOMEM;
  }
  return 0;
}

static int linreg_create(const void *config, void **self, sy_error *err) {
  const std_linreg_config *cfg = config;
  linreg *a;
  if (!cfg || !(cfg->l2 >= 0) || !isfinite(cfg->l2))
    return sy_error_set(err, SY_ECONFIG,
                        ACTOR ": 'l2' must be a finite number >= 0");
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
  a->l2 = cfg->l2;
  a->intercept = cfg->intercept;
  *self = a;
  return 0;
}

static void linreg_destroy(void *self) {
  linreg *a = self;
  if (!a)
    return;
  model_free(&a->model);
  free(a->output);
  free(a);
}

/* Reads the label frame into y[0..n), refusing what is not one complete
 * numeric column of n rows. */
static int read_label(const sy_value *label, size_t n, double *y,
                      sy_error *err) {
  const uint8_t *valid;
  if (sy_value_type_of(label) != SY_VALUE_FRAME)
    return sy_error_set(err, SY_EINVAL, ACTOR ": train needs a label frame");
  if (sy_frame_cols(label) != 1 || !std_is_numeric(label, 0))
    return sy_error_set(err, SY_ETYPE,
                        ACTOR ": the label must be a frame with exactly one "
                              "numeric column (it has %zu columns)",
                        sy_frame_cols(label));
  if (sy_frame_rows(label) != n)
    return sy_error_set(err, SY_EINVAL,
                        ACTOR ": the label has %zu rows, the features %zu",
                        sy_frame_rows(label), n);
  valid = sy_frame_valid(label, 0);
  for (size_t i = 0; i < n; i++) {
    if (valid && !valid[i])
      return sy_error_set(err, SY_EINVAL,
                          ACTOR ": label column '%s' is null at row %zu "
                                "(rows count from 0)",
                          sy_frame_col_name(label, 0), i);
    y[i] = std_cell(label, 0, i);
  }
  return 0;
}

/* Solves min ||b - A x|| for A (m x p, column-major, destroyed) by
 * Householder QR; b (m) is destroyed, x (p) receives the solution. v is
 * scratch of m doubles. Returns -1 - k when column k is (numerically)
 * dependent on the earlier ones, else 0. */
static long qr_solve(double *A, size_t m, size_t p, double *b, double *x,
                     double *v) {
  double maxnorm = 0, tol;
  for (size_t j = 0; j < p; j++) {
    double s = 0;
    for (size_t i = 0; i < m; i++)
      s += A[j * m + i] * A[j * m + i];
    if (sqrt(s) > maxnorm)
      maxnorm = sqrt(s);
  }
  tol = (double)(m > p ? m : p) * DBL_EPSILON * maxnorm;
  for (size_t k = 0; k < p; k++) {
    double *ak = A + k * m, norm = 0, alpha, vtv = 0;
    for (size_t i = k; i < m; i++)
      norm += ak[i] * ak[i];
    norm = sqrt(norm);
    if (!(norm > tol))
      return -1 - (long)k;
    /* The sign choice avoids cancellation in v[0] = a_kk - alpha. */
    alpha = ak[k] > 0 ? -norm : norm;
    for (size_t i = k; i < m; i++)
      v[i] = ak[i];
    v[k] -= alpha;
    for (size_t i = k; i < m; i++)
      vtv += v[i] * v[i];
    for (size_t j = k + 1; j < p; j++) {
      double *aj = A + j * m, s = 0;
      for (size_t i = k; i < m; i++)
        s += v[i] * aj[i];
      s = 2 * s / vtv;
      for (size_t i = k; i < m; i++)
        aj[i] -= s * v[i];
    }
    double s = 0;
    for (size_t i = k; i < m; i++)
      s += v[i] * b[i];
    s = 2 * s / vtv;
    for (size_t i = k; i < m; i++)
      b[i] -= s * v[i];
    ak[k] = alpha;
  }
  for (size_t k = p; k-- > 0;) {
    double s = b[k];
    for (size_t j = k + 1; j < p; j++)
      s -= A[j * m + k] * x[j];
    x[k] = s / A[k * m + k];
  }
  return 0;
}

static int linreg_train(void *self, const sy_value *const *in, size_t n_in,
                        const sy_value *label, sy_error *err) {
  linreg *a = self;
  std_matrix X = {0};
  linreg_model next = {0};
  double *y = NULL, *A = NULL, *b = NULL, *v = NULL, *xm = NULL, ym = 0;
  size_t n, p, m;
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
  m = n + (a->l2 > 0 ? p : 0);
  if (m > SIZE_MAX / p) {
    rc = sy_error_set(err, SY_ETOOBIG, ACTOR ": input too large");
    goto fail;
  }
  y = std_alloc(n, sizeof *y);
  A = std_calloc(m * p, sizeof *A);
  b = std_calloc(m, sizeof *b);
  v = std_alloc(m, sizeof *v);
  xm = std_calloc(p, sizeof *xm);
  if (!y || !A || !b || !v || !xm || model_alloc(&next, p) < 0)
    goto nomem;
  if ((rc = read_label(label, n, y, err)) < 0)
    goto fail;
  if (a->intercept) {
    for (size_t i = 0; i < n; i++)
      ym += y[i];
    ym /= (double)n;
    for (size_t j = 0; j < p; j++) {
      for (size_t i = 0; i < n; i++)
        xm[j] += X.x[j * n + i];
      xm[j] /= (double)n;
    }
  }
  for (size_t j = 0; j < p; j++) {
    for (size_t i = 0; i < n; i++)
      A[j * m + i] = X.x[j * n + i] - xm[j];
    if (a->l2 > 0)
      A[j * m + n + j] = sqrt(a->l2);
  }
  for (size_t i = 0; i < n; i++)
    b[i] = y[i] - ym;
  long bad = qr_solve(A, m, p, b, next.coef, v);
  if (bad < 0) {
    rc = sy_error_set(err, SY_EINVAL,
                      ACTOR ": feature column '%s' is constant or a linear "
                            "combination of the others (or there are too few "
                            "rows); drop it or set l2 > 0",
                      X.names[-1 - bad]);
    goto fail;
  }
  next.intercept = 0;
  if (a->intercept) {
    next.intercept = ym;
    for (size_t j = 0; j < p; j++)
      next.intercept -= xm[j] * next.coef[j];
  }
  { /* R^2 = 1 - SS_res / SS_tot on the training rows, as apply predicts
       them (SS_tot about the mean of y, with or without an intercept). */
    double mean = 0, ss_res = 0, ss_tot = 0;
    for (size_t i = 0; i < n; i++)
      mean += y[i];
    mean /= (double)n;
    for (size_t i = 0; i < n; i++) {
      double f = next.intercept;
      for (size_t j = 0; j < p; j++)
        f += next.coef[j] * X.x[j * n + i];
      ss_res += (y[i] - f) * (y[i] - f);
      ss_tot += (y[i] - mean) * (y[i] - mean);
    }
    next.r2 = ss_tot > 0 ? 1.0 - ss_res / ss_tot : NAN;
  }
  for (size_t j = 0; j < p; j++)
    if (!(next.names[j] = std_strdup(X.names[j])))
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
  free(A);
  free(b);
  free(v);
  free(xm);
  return rc;
}

static int linreg_apply(void *self, const sy_value *const *in, size_t n_in,
                        sy_value **out, sy_error *err) {
  const linreg *a = self;
  const linreg_model *md = &a->model;
  std_matrix X = {0};
  sy_value *o = NULL;
  double *pred = NULL;
  int rc;

  if (!a->trained)
    return sy_error_set(err, SY_ESTATE, ACTOR ": not trained");
  if ((rc = std_want_frame(ACTOR, in, n_in, 0, err)) < 0 ||
      (rc = std_matrix_from_frame(ACTOR, in[0], (const char *const *)md->names,
                                  md->p, &X, err)) < 0)
    goto fail;
  pred = std_alloc(X.n, sizeof *pred);
  if (!pred) {
    rc = SY_ENOMEM;
    goto fail_code;
  }
  for (size_t i = 0; i < X.n; i++) {
    double s = md->intercept;
    for (size_t j = 0; j < md->p; j++)
      s += md->coef[j] * X.x[j * X.n + i];
    pred[i] = s;
  }
  if ((rc = sy_frame_new(X.n, &o)) < 0 ||
      (rc = sy_frame_add_f64(o, a->output, pred, NULL)) < 0)
    goto fail_code;
  *out = o;
  o = NULL;
  goto done;
fail_code:
  sy_error_set(err, rc, ACTOR ": cannot build the output frame: %s",
               sy_strerror(rc));
fail:
done:
  sy_value_unref(o);
  free(pred);
  std_matrix_free(&X);
  return rc;
}

/* Writes the predictions into the earlier output (one f64 column named
 * by 'output', made by this instance) with the same arithmetic, in the
 * same order, as apply: intercept, then each coefficient times its
 * feature. Features are read where they lie in the input; a missing or
 * non-numeric feature, or a null cell, goes to apply for its error. */
static int linreg_apply_into(void *self, const sy_value *const *in, size_t n_in,
                             sy_value **out, sy_error *err) {
  const linreg *a = self;
  const linreg_model *md = &a->model;
  const sy_value *f = n_in == 1 ? in[0] : NULL;
  const double *xf[STD_INTO_MAX_COLS];
  const int64_t *xi[STD_INTO_MAX_COLS];
  size_t rows = sy_frame_rows(f);
  if (!a->trained || sy_value_type_of(f) != SY_VALUE_FRAME ||
      md->p > STD_INTO_MAX_COLS || !std_into_fits(out[0], rows, 1))
    goto plain;
  for (size_t j = 0; j < md->p; j++) {
    int c = std_col_find(f, md->names[j], j);
    if (c < 0 || !std_is_numeric(f, (size_t)c) || sy_frame_valid(f, (size_t)c))
      goto plain;
    xf[j] = sy_frame_f64(f, (size_t)c);
    xi[j] = sy_frame_i64(f, (size_t)c);
  }
  double *pred = sy_frame_f64_mut(out[0], 0);
  if (!pred)
    goto plain;
  for (size_t i = 0; i < rows; i++) {
    double s = md->intercept;
    for (size_t j = 0; j < md->p; j++)
      s += md->coef[j] * (xf[j] ? xf[j][i] : (double)xi[j][i]);
    pred[i] = s;
  }
  /* apply's output never has nulls, and neither had this frame. */
  return 0;
plain:
  return std_into_fallback(linreg_apply, self, in, n_in, out, 1, err);
}

/* The row kernel: apply's prediction (intercept, then each coefficient
 * times its feature, in order) as a DOT kernel that the core runs. */
static int linreg_prepare_row(const void *self, sy_row_kernel *k,
                              sy_error *err) {
  const linreg *a = self;
  const linreg_model *md = &a->model;
  int rc = std_row_probe(ACTOR, linreg_apply, self, k, err);
  if (rc)
    return rc;
  if (md->p > k->cap)
    return sy_error_set(err, SY_ENOTSUP, ACTOR ": %zu features are too many",
                        md->p);
  /* The probe found every feature, so none of these misses. */
  for (size_t j = 0; j < md->p; j++) {
    k->map[j] = (uint32_t)std_row_find(k, md->names[j]);
    k->a[j] = md->coef[j];
  }
  k->n_terms = (uint32_t)md->p;
  k->c0 = md->intercept;
  k->n_out = 1;
  k->out_names[0] = a->output;
  k->kind = SY_ROW_DOT;
  return 0;
}

/* Payload: u32 features, f64 intercept, then per feature: str name,
 * f64 coefficient; since version 2 then f64 R^2 on the training data
 * (NaN when undefined). Version 1 states still load. */
static int linreg_save(void *self, sy_value **state, sy_error *err) {
  const linreg *a = self;
  sy_state_writer w;
  if (!a->trained)
    return sy_error_set(err, SY_ESTATE, ACTOR ": not trained");
  if (a->model.p > UINT32_MAX)
    return sy_error_set(err, SY_ETOOBIG, ACTOR ": too many features");
  sy_state_begin(&w, LINREG_MAGIC, LINREG_VERSION);
  sy_state_put_u32(&w, (uint32_t)a->model.p);
  sy_state_put_f64(&w, a->model.intercept);
  for (size_t j = 0; j < a->model.p; j++) {
    sy_state_put_str(&w, a->model.names[j]);
    sy_state_put_f64(&w, a->model.coef[j]);
  }
  sy_state_put_f64(&w, a->model.r2);
  return sy_state_finish(&w, ACTOR, state, err);
}

/* Reads a state into *m (freed on failure). */
static int read_model(const sy_value *state, linreg_model *m, sy_error *err) {
  linreg_model next = {0};
  sy_state_reader r;
  uint32_t p;
  int rc;

  if ((rc = sy_state_open(&r, state, ACTOR, LINREG_MAGIC, STD_STATE_VERSION,
                          LINREG_VERSION, err)) < 0)
    return rc;
  /* A feature takes at least 4 + 1 + 8 bytes. */
  if (sy_state_get_count(&r, 13, &p) < 0 || p == 0) {
    sy_state_reject(&r);
    return sy_state_close(&r, err);
  }
  if (model_alloc(&next, p) < 0)
    return sy_error_set(err, SY_ENOMEM, ACTOR ": out of memory");
  if (sy_state_get_f64(&r, &next.intercept) == 0 && !isfinite(next.intercept))
    sy_state_reject(&r);
  for (size_t j = 0; j < p; j++) {
    if (sy_state_get_str(&r, 1, SY_VALUE_MAX_NAME, &next.names[j]) < 0 ||
        sy_state_get_f64(&r, &next.coef[j]) < 0)
      break;
    if (!isfinite(next.coef[j])) {
      sy_state_reject(&r);
      break;
    }
  }
  next.r2 = NAN;
  if (r.version >= 2)
    sy_state_get_f64(&r, &next.r2);
  if ((rc = sy_state_close(&r, err)) < 0) {
    model_free(&next);
    return rc;
  }
  *m = next;
  return 0;
}

static int linreg_load(void *self, const sy_value *state, sy_error *err) {
  linreg *a = self;
  linreg_model next;
  int rc = read_model(state, &next, err);
  if (rc < 0)
    return rc;
  model_free(&a->model);
  a->model = next;
  a->trained = true;
  return 0;
}

/* {"coefficients": {feature: b}, "intercept", "r2"}; r2 is null when
 * the state does not know it (version 1) or y was constant. */
static int linreg_describe(const sy_value *state, sy_buf *b, sy_error *err) {
  linreg_model md;
  int rc = read_model(state, &md, err);
  if (rc < 0)
    return rc;
  sy_buf_puts(b, "{\"coefficients\": ");
  std_json_named(b, md.names, md.coef, md.p);
  sy_buf_puts(b, ", \"intercept\": ");
  std_json_num(b, md.intercept);
  sy_buf_puts(b, ", \"r2\": ");
  std_json_num(b, md.r2);
  sy_buf_puts(b, "}");
  model_free(&md);
  return std_json_done(ACTOR, b, err);
}

static const sy_option linreg_options[] = {
    {"l2", SY_OPT_DOUBLE, 0, "0", "0", NULL, NULL,
     offsetof(std_linreg_config, l2),
     "Ridge penalty on the coefficients (0 = ordinary least squares)."},
    {"intercept", SY_OPT_BOOL, 0, "true", NULL, NULL, NULL,
     offsetof(std_linreg_config, intercept),
     "Fit an unpenalised intercept term."},
    {"output", SY_OPT_STRING, 0, "prediction", NULL, NULL, NULL,
     offsetof(std_linreg_config, output),
     "Name of the output column holding the predictions."},
    SY_OPTION_END};

static const sy_actor_ops linreg_ops = {
    .size = sizeof(sy_actor_ops),
    .min_inputs = 1,
    .max_inputs = 1,
    .n_outputs = 1,
    .flags = SY_ACTOR_STATEFUL | SY_ACTOR_SUPERVISED | SY_ACTOR_ROW_WISE,
    .apply = linreg_apply,
    .train = linreg_train,
    .state_save = linreg_save,
    .state_load = linreg_load,
    .apply_into = linreg_apply_into,
    .prepare_row = linreg_prepare_row,
    .describe_state = linreg_describe};

const sy_provider std_linreg_provider = {
    sizeof(sy_provider),
    SY_KIND_ACTOR,
    "std.linreg",
    STD_VERSION,
    "Fits a linear regression (least squares, optional ridge) with QR.",
    linreg_options,
    sizeof(std_linreg_config),
    linreg_create,
    linreg_destroy,
    &linreg_ops};
