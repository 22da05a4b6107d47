/*
 * test_actor_ml.c - unit tests of what issue 14 added to actor-std:
 * std.logreg's L-BFGS solver (the optimum it finds, its stopping rule and
 * its warning) and the describe_state op of std.scaler, std.linreg and
 * std.logreg (JSON text checked with jansson).
 *
 * The provider sources are compiled into this binary, as for
 * test_actor_std.c.
 */
#include <CUnit/Basic.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "internal.h" /* sy__note_to */
#include "std.h"

static const sy_provider *find(const char *name) {
  const sy_plugin *pl = sy_plugin_entry();
  for (size_t i = 0; pl->providers[i]; i++)
    if (strcmp(pl->providers[i]->name, name) == 0)
      return pl->providers[i];
  return NULL;
}

static const sy_actor_ops *ops_of(const char *name) {
  return find(name)->ops;
}

static void *make(const char *name, const void *cfg) {
  void *self = NULL;
  sy_error err = {0};
  CU_ASSERT_PTR_NOT_NULL_FATAL(find(name));
  CU_ASSERT_EQUAL_FATAL(find(name)->create(cfg, &self, &err), 0);
  return self;
}

static int train1(const char *name, void *self, const sy_value *in,
                  const sy_value *label, sy_error *err) {
  const sy_value *ins[1] = {in};
  return ops_of(name)->train(self, ins, 1, label, err);
}

static sy_value *apply1(const char *name, void *self, const sy_value *in) {
  const sy_value *ins[1] = {in};
  sy_value *out = NULL;
  sy_error err = {0};
  CU_ASSERT_EQUAL_FATAL(ops_of(name)->apply(self, ins, 1, &out, &err), 0);
  return out;
}

static char notes[2048];
static void catch_note(void *ud, const char *message) {
  (void)ud;
  size_t used = strlen(notes);
  snprintf(notes + used, sizeof notes - used, "%s\n", message);
}

/* 12 rows, 2 features, 3 overlapping classes (so the optimum is finite
 * even without a penalty). */
static void data(sy_value **X, sy_value **Y) {
  static const double a[] = {0.1, 0.4, 0.9, 1.2, 1.9, 2.2,
                             2.4, 2.9, 3.3, 3.1, 0.5, 1.7};
  static const double b[] = {1.0, 0.2, 0.8, 0.3, 1.5, 0.1,
                             0.9, 1.1, 0.4, 1.6, 0.7, 0.6};
  static const int64_t y[] = {0, 0, 1, 0, 1, 2, 1, 2, 2, 1, 0, 2};
  CU_ASSERT_EQUAL_FATAL(sy_frame_new(12, X), 0);
  CU_ASSERT_EQUAL_FATAL(sy_frame_add_f64(*X, "a", a, NULL), 0);
  CU_ASSERT_EQUAL_FATAL(sy_frame_add_f64(*X, "b", b, NULL), 0);
  CU_ASSERT_EQUAL_FATAL(sy_frame_new(12, Y), 0);
  CU_ASSERT_EQUAL_FATAL(sy_frame_add_i64(*Y, "y", y, NULL), 0);
}

static json_t *describe(const char *name, void *self) {
  sy_value *st = NULL;
  sy_error err = {0};
  sy_buf b = SY_BUF_INIT;
  json_error_t jerr;
  CU_ASSERT_EQUAL_FATAL(ops_of(name)->state_save(self, &st, &err), 0);
  CU_ASSERT_FATAL(SY_ACTOR_HAS_DESCRIBE_STATE(ops_of(name)));
  CU_ASSERT_EQUAL_FATAL(ops_of(name)->describe_state(st, &b, &err), 0);
  json_t *j = json_loadb(b.data, b.len, 0, &jerr);
  CU_ASSERT_FATAL(json_is_object(j));
  sy_buf_free(&b);
  sy_value_unref(st);
  return j;
}

static double num(json_t *j, const char *path1, const char *path2) {
  json_t *v = json_object_get(j, path1);
  if (path2)
    v = json_object_get(v, path2);
  return json_number_value(v);
}

/* lbfgs and many steps of gd on one strictly convex objective (c = 2,
 * i.e. l2 = 1 / 24) find the same optimum; lbfgs in far fewer
 * iterations, converged, within tol. */
static void test_lbfgs_optimum(void) {
  sy_value *X, *Y, *pl, *pg;
  sy_error err = {0};
  data(&X, &Y);
  std_logreg_config lb = {1,   0.1,   0,   "prediction", STD_SOLVER_LBFGS,
                          2.0, 1e-10, 1000};
  std_logreg_config gd = {200000,        1.0, 0,    "prediction",
                          STD_SOLVER_GD, 2.0, 1e-4, 100};
  void *l = make("std.logreg", &lb), *g = make("std.logreg", &gd);
  CU_ASSERT_EQUAL_FATAL(train1("std.logreg", l, X, Y, &err), 0);
  CU_ASSERT_EQUAL_FATAL(train1("std.logreg", g, X, Y, &err), 0);
  pl = apply1("std.logreg", l, X);
  pg = apply1("std.logreg", g, X);
  for (size_t c = 1; c < 4; c++)
    for (size_t i = 0; i < 12; i++)
      CU_ASSERT_DOUBLE_EQUAL(sy_frame_f64(pl, c)[i], sy_frame_f64(pg, c)[i],
                             1e-7);
  json_t *jl = describe("std.logreg", l), *jg = describe("std.logreg", g);
  CU_ASSERT(json_is_true(json_object_get(jl, "converged")));
  CU_ASSERT(json_is_null(json_object_get(jg, "converged")));
  CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(jl, "solver")),
                         "lbfgs");
  CU_ASSERT(num(jl, "iterations", NULL) < 100);
  CU_ASSERT_EQUAL(num(jg, "iterations", NULL), 200000);
  /* the same loss, and the same coefficients as the JSON says */
  CU_ASSERT_DOUBLE_EQUAL(num(jl, "loss", NULL), num(jg, "loss", NULL), 1e-12);
  json_t *cl = json_object_get(json_object_get(jl, "coefficients"), "2");
  json_t *cg = json_object_get(json_object_get(jg, "coefficients"), "2");
  CU_ASSERT_DOUBLE_EQUAL(num(cl, "a", NULL), num(cg, "a", NULL), 1e-6);
  CU_ASSERT_DOUBLE_EQUAL(num(jl, "intercepts", "0"), num(jg, "intercepts", "0"),
                         1e-6);
  json_decref(jl);
  json_decref(jg);
  sy_value_unref(pl);
  sy_value_unref(pg);
  find("std.logreg")->destroy(l);
  find("std.logreg")->destroy(g);
  sy_value_unref(X);
  sy_value_unref(Y);
}

/* Stopping at max_iter warns (sy_warn) and records converged = false. */
static void test_lbfgs_warns(void) {
  sy_value *X, *Y;
  sy_error err = {0};
  data(&X, &Y);
  std_logreg_config lb = {1,   0.1,   0, "prediction", STD_SOLVER_LBFGS,
                          1.0, 1e-12, 2};
  void *l = make("std.logreg", &lb);
  notes[0] = '\0';
  sy__note_to(catch_note, NULL);
  CU_ASSERT_EQUAL(train1("std.logreg", l, X, Y, &err), 0);
  sy__note_to(NULL, NULL);
  CU_ASSERT(strstr(notes, "warning: std.logreg: lbfgs did not converge") !=
            NULL);
  CU_ASSERT(strstr(notes, "after 2 iterations (max_iter = 2)") != NULL);
  json_t *j = describe("std.logreg", l);
  CU_ASSERT(json_is_false(json_object_get(j, "converged")));
  CU_ASSERT_EQUAL(num(j, "iterations", NULL), 2);
  json_decref(j);
  find("std.logreg")->destroy(l);
  /* refusals */
  std_logreg_config both = {1,   0.1,  0.5, "prediction", STD_SOLVER_LBFGS,
                            1.0, 1e-4, 100};
  std_logreg_config tol0 = {1,   0.1, 0,  "prediction", STD_SOLVER_LBFGS,
                            1.0, 0,   100};
  void *self = NULL;
  CU_ASSERT_EQUAL(find("std.logreg")->create(&both, &self, &err), SY_ECONFIG);
  CU_ASSERT(strstr(err.message, "either 'c' or 'l2'") != NULL);
  CU_ASSERT_EQUAL(find("std.logreg")->create(&tol0, &self, &err), SY_ECONFIG);
  sy_value_unref(X);
  sy_value_unref(Y);
}

/* The scaler's and linreg's JSON carry their numbers; a damaged state is
 * refused, not described. */
static void test_describe_scaler_linreg(void) {
  sy_value *X, *Y, *st = NULL, *bad = NULL;
  sy_error err = {0};
  sy_buf b = SY_BUF_INIT;
  data(&X, &Y);
  std_scaler_config sc = {true, true, NULL};
  void *s = make("std.scaler", &sc);
  CU_ASSERT_EQUAL_FATAL(train1("std.scaler", s, X, NULL, &err), 0);
  json_t *j = describe("std.scaler", s);
  CU_ASSERT_DOUBLE_EQUAL(num(j, "means", "a"), 20.6 / 12, 1e-14);
  CU_ASSERT_EQUAL(num(j, "counts", "b"), 12);
  CU_ASSERT(num(j, "scales", "a") > 0);
  json_decref(j);

  std_linreg_config lc = {0, true, "prediction"};
  void *l = make("std.linreg", &lc);
  CU_ASSERT_EQUAL_FATAL(train1("std.linreg", l, X, Y, &err), 0);
  j = describe("std.linreg", l);
  double r2 = num(j, "r2", NULL);
  CU_ASSERT(r2 > 0 && r2 < 1);
  CU_ASSERT(json_is_number(json_object_get(j, "intercept")));
  CU_ASSERT(
      json_is_number(json_object_get(json_object_get(j, "coefficients"), "b")));
  json_decref(j);

  /* one flipped byte: the checksum refuses it, naming the actor */
  CU_ASSERT_EQUAL_FATAL(ops_of("std.linreg")->state_save(l, &st, &err), 0);
  size_t len;
  const uint8_t *d = sy_bytes_data(st, &len);
  uint8_t *copy = malloc(len);
  memcpy(copy, d, len);
  copy[len / 2] ^= 1;
  CU_ASSERT_EQUAL_FATAL(sy_bytes_new(copy, len, STD_STATE_MEDIA, &bad), 0);
  CU_ASSERT_EQUAL(ops_of("std.linreg")->describe_state(bad, &b, &err),
                  SY_ECORRUPT);
  CU_ASSERT(strstr(err.message, "std.linreg") != NULL);
  /* another actor's state is not this one's */
  CU_ASSERT_EQUAL(ops_of("std.scaler")->describe_state(st, &b, &err),
                  SY_ECORRUPT);
  sy_buf_free(&b);
  free(copy);
  sy_value_unref(bad);
  sy_value_unref(st);
  find("std.scaler")->destroy(s);
  find("std.linreg")->destroy(l);
  sy_value_unref(X);
  sy_value_unref(Y);
}

/* onehot sorts integer categories as numbers (9 before 10) and names its
 * columns after them; impute's median of an even count is the middle
 * pair's mean; split keeps every row once, in order. */
static void test_prep_actors(void) {
  static const int64_t cat[] = {10, 9, 10, 2};
  static const double x[] = {1, 0, 4, 8};
  static const uint8_t xv[] = {1, 0, 1, 1};
  sy_value *f, *o, *st = NULL;
  sy_error err = {0};
  sy_buf b = SY_BUF_INIT;
  CU_ASSERT_EQUAL_FATAL(sy_frame_new(4, &f), 0);
  CU_ASSERT_EQUAL_FATAL(sy_frame_add_i64(f, "k", cat, NULL), 0);
  CU_ASSERT_EQUAL_FATAL(sy_frame_add_f64(f, "x", x, xv), 0);

  static const char *const kcol[] = {"k", NULL};
  std_onehot_config oc = {kcol, STD_UNKNOWN_ERROR};
  void *oh = make("std.onehot", &oc);
  CU_ASSERT_EQUAL_FATAL(train1("std.onehot", oh, f, NULL, &err), 0);
  o = apply1("std.onehot", oh, f);
  CU_ASSERT_EQUAL(sy_frame_cols(o), 4);
  CU_ASSERT_STRING_EQUAL(sy_frame_col_name(o, 0), "k_2");
  CU_ASSERT_STRING_EQUAL(sy_frame_col_name(o, 1), "k_9");
  CU_ASSERT_STRING_EQUAL(sy_frame_col_name(o, 2), "k_10");
  CU_ASSERT_EQUAL(sy_frame_f64(o, 2)[0], 1.0);
  CU_ASSERT_EQUAL(sy_frame_f64(o, 1)[1], 1.0);
  CU_ASSERT_EQUAL(sy_frame_f64(o, 0)[3], 1.0);
  sy_value_unref(o);
  CU_ASSERT_EQUAL_FATAL(ops_of("std.onehot")->state_save(oh, &st, &err), 0);
  CU_ASSERT_EQUAL(ops_of("std.onehot")->describe_state(st, &b, &err), 0);
  CU_ASSERT_STRING_EQUAL(b.data, "{\"categories\": {\"k\": [2, 9, 10]}}");
  sy_buf_free(&b);
  void *oh2 = make("std.onehot", &oc);
  CU_ASSERT_EQUAL(ops_of("std.onehot")->state_load(oh2, st, &err), 0);
  o = apply1("std.onehot", oh2, f);
  CU_ASSERT_EQUAL(sy_frame_cols(o), 4);
  sy_value_unref(o);
  sy_value_unref(st);
  find("std.onehot")->destroy(oh);
  find("std.onehot")->destroy(oh2);

  std_impute_config ic = {STD_IMPUTE_MEDIAN, 0, NULL};
  void *im = make("std.impute", &ic);
  CU_ASSERT_EQUAL_FATAL(train1("std.impute", im, f, NULL, &err), 0);
  o = apply1("std.impute", im, f);
  CU_ASSERT_EQUAL(sy_frame_col_type(o, 0), SY_COL_F64);
  CU_ASSERT_EQUAL(sy_frame_f64(o, 1)[1], 4.0); /* median of 1 4 8 */
  CU_ASSERT_PTR_NULL(sy_frame_valid(o, 1));
  sy_value_unref(o);
  find("std.impute")->destroy(im);

  std_split_config sc = {0.5, 3};
  void *sp = make("std.split", &sc);
  const sy_value *ins[1] = {f};
  sy_value *outs[2] = {NULL, NULL};
  CU_ASSERT_EQUAL_FATAL(ops_of("std.split")->apply(sp, ins, 1, outs, &err), 0);
  CU_ASSERT_EQUAL(sy_frame_rows(outs[0]), 2);
  CU_ASSERT_EQUAL(sy_frame_rows(outs[1]), 2);
  int64_t sum = 0;
  for (int k = 0; k < 2; k++)
    for (size_t i = 0; i < 2; i++)
      sum += sy_frame_i64(outs[k], 0)[i];
  CU_ASSERT_EQUAL(sum, 10 + 9 + 10 + 2);
  sy_value_unref(outs[0]);
  sy_value_unref(outs[1]);
  find("std.split")->destroy(sp);
  std_split_config bad = {1.0, 0};
  void *self = NULL;
  CU_ASSERT_EQUAL(find("std.split")->create(&bad, &self, &err), SY_ECONFIG);
  sy_value_unref(f);
}

int main(void) {
  static const CU_TestInfo tests[] = {
      {"lbfgs_optimum", test_lbfgs_optimum},
      {"lbfgs_warns", test_lbfgs_warns},
      {"describe_scaler_linreg", test_describe_scaler_linreg},
      {"prep_actors", test_prep_actors},
      CU_TEST_INFO_NULL};
  return fx_run_suite("actor_ml", NULL, NULL, tests);
}
