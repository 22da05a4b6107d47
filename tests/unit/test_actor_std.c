/*
 * test_actor_std.c - unit tests of the actor-std plugin (std.select,
 * std.drop, std.head, std.concat, std.scaler, std.linreg, std.logreg).
 *
 * The provider sources are compiled into this binary, so the tests reach
 * the descriptors through the plugin's own sy_plugin_entry() and fill the
 * config structs of std.h by hand, as the core would. Expected numbers are
 * computed independently: by hand for the scaler, and with a short Python
 * script in exact rational arithmetic (fractions.Fraction, normal
 * equations) for the regressions; each block says how.
 */
#include <CUnit/Basic.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "std.h"
#include "fixture.h"
#include "internal.h" /* sy__note_to */

/* ---- helpers --------------------------------------------------------------
 */

static const sy_provider *find(const char *name) {
  const sy_plugin *pl = sy_plugin_entry();
  for (size_t i = 0; pl->providers[i]; i++)
    if (strcmp(pl->providers[i]->name, name) == 0)
      return pl->providers[i];
  return NULL;
}

static const sy_actor_ops *ops_of(const sy_provider *p) {
  return p->ops;
}

/* Creates an instance, asserting success. */
static void *make(const char *name, const void *cfg) {
  const sy_provider *p = find(name);
  void *self = NULL;
  sy_error err = {0};
  CU_ASSERT_PTR_NOT_NULL_FATAL(p);
  CU_ASSERT_EQUAL_FATAL(p->create(cfg, &self, &err), 0);
  return self;
}

static void drop(const char *name, void *self) {
  find(name)->destroy(self);
}

static int apply1(const char *name, void *self, const sy_value *in,
                  sy_value **out, sy_error *err) {
  const sy_value *ins[1] = {in};
  *out = NULL;
  return ops_of(find(name))->apply(self, ins, 1, out, err);
}

static int train1(const char *name, void *self, const sy_value *in,
                  const sy_value *label, sy_error *err) {
  const sy_value *ins[1] = {in};
  return ops_of(find(name))->train(self, ins, 1, label, err);
}

static sy_value *frame(size_t rows) {
  sy_value *f = NULL;
  CU_ASSERT_EQUAL_FATAL(sy_frame_new(rows, &f), 0);
  return f;
}

static void add_f64(sy_value *f, const char *name, const double *d,
                    const uint8_t *valid) {
  CU_ASSERT_EQUAL_FATAL(sy_frame_add_f64(f, name, d, valid), 0);
}

static void add_i64(sy_value *f, const char *name, const int64_t *d,
                    const uint8_t *valid) {
  CU_ASSERT_EQUAL_FATAL(sy_frame_add_i64(f, name, d, valid), 0);
}

static void add_str(sy_value *f, const char *name, const char *const *d) {
  CU_ASSERT_EQUAL_FATAL(sy_frame_add_str(f, name, d), 0);
}

static bool has(const sy_error *err, const char *text) {
  return strstr(err->message, text) != NULL;
}

static int col(const sy_value *f, const char *name) {
  return sy_frame_col_index(f, name);
}

/* A frame with f64 a = {1,2,3}, i64 b = {10,null,30}, str s = {x,null,z}. */
static sy_value *abs_frame(void) {
  static const double a[] = {1, 2, 3};
  static const int64_t b[] = {10, 0, 30};
  static const uint8_t bv[] = {1, 0, 1};
  static const char *const s[] = {"x", NULL, "z"};
  sy_value *f = frame(3);
  add_f64(f, "a", a, NULL);
  add_i64(f, "b", b, bv);
  add_str(f, "s", s);
  return f;
}

/* ---- plugin descriptor ----------------------------------------------------
 */

static void test_actor_std_descriptor(void) {
  static const char *const names[] = {"std.select", "std.drop",   "std.head",
                                      "std.concat", "std.scaler", "std.linreg",
                                      "std.logreg"};
  const sy_plugin *pl = sy_plugin_entry();
  size_t n = 0;
  CU_ASSERT_EQUAL(pl->abi_major, SY_ABI_MAJOR);
  CU_ASSERT_STRING_EQUAL(pl->name, "actor-std");
  while (pl->providers[n])
    n++;
  CU_ASSERT_EQUAL(n, 10);
  for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
    const sy_provider *p = find(names[i]);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_EQUAL(p->kind, SY_KIND_ACTOR);
    CU_ASSERT_STRING_EQUAL(p->version, "1.0.0");
    CU_ASSERT_EQUAL(ops_of(p)->size, sizeof(sy_actor_ops));
    CU_ASSERT_PTR_NOT_NULL(ops_of(p)->apply);
    for (const sy_option *o = p->options; o && o->name; o++)
      CU_ASSERT(o->help && o->help[0]);
  }
  CU_ASSERT_EQUAL(ops_of(find("std.concat"))->max_inputs, SY_ARITY_MANY);
  CU_ASSERT_EQUAL(ops_of(find("std.scaler"))->flags,
                  SY_ACTOR_STATEFUL | SY_ACTOR_INCREMENTAL | SY_ACTOR_ROW_WISE);
  CU_ASSERT_EQUAL(ops_of(find("std.linreg"))->flags,
                  SY_ACTOR_STATEFUL | SY_ACTOR_SUPERVISED | SY_ACTOR_ROW_WISE);
  CU_ASSERT_EQUAL(ops_of(find("std.logreg"))->flags,
                  SY_ACTOR_STATEFUL | SY_ACTOR_SUPERVISED | SY_ACTOR_ROW_WISE);
  CU_ASSERT_EQUAL(ops_of(find("std.select"))->flags, SY_ACTOR_ROW_WISE);
  CU_ASSERT_EQUAL(ops_of(find("std.drop"))->flags, SY_ACTOR_ROW_WISE);
  CU_ASSERT_EQUAL(ops_of(find("std.head"))->flags, SY_ACTOR_ROW_SUBSET);
  CU_ASSERT_EQUAL(ops_of(find("std.split"))->flags, SY_ACTOR_ROW_SUBSET);
}

/* ---- select / drop --------------------------------------------------------
 */

static void test_actor_std_select_orders_columns(void) {
  static const char *const cols[] = {"s", "a", NULL};
  std_columns_config cfg = {cols};
  void *a = make("std.select", &cfg);
  sy_value *in = abs_frame(), *out;
  sy_error err = {0};
  CU_ASSERT_EQUAL_FATAL(apply1("std.select", a, in, &out, &err), 0);
  CU_ASSERT_EQUAL(sy_frame_cols(out), 2);
  CU_ASSERT_EQUAL(sy_frame_rows(out), 3);
  CU_ASSERT_STRING_EQUAL(sy_frame_col_name(out, 0), "s");
  CU_ASSERT_STRING_EQUAL(sy_frame_col_name(out, 1), "a");
  CU_ASSERT_STRING_EQUAL(sy_frame_str(out, 0, 2), "z");
  CU_ASSERT(sy_frame_is_null(out, 0, 1));
  CU_ASSERT_EQUAL(sy_frame_f64(out, 1)[2], 3.0);
  sy_value_unref(out);
  sy_value_unref(in);
  drop("std.select", a);
}

static void test_actor_std_select_unknown_column(void) {
  static const char *const cols[] = {"a", "nope", NULL};
  std_columns_config cfg = {cols};
  void *a = make("std.select", &cfg);
  sy_value *in = abs_frame(), *out;
  sy_error err = {0};
  CU_ASSERT_EQUAL(apply1("std.select", a, in, &out, &err), SY_EINVAL);
  CU_ASSERT_PTR_NULL(out);
  CU_ASSERT(has(&err, "std.select: unknown column 'nope'"));
  CU_ASSERT(has(&err, "available: a, b, s"));
  sy_value_unref(in);
  drop("std.select", a);
}

static void test_actor_std_select_refuses_bad_config(void) {
  static const char *const none[] = {NULL};
  static const char *const twice[] = {"a", "a", NULL};
  std_columns_config empty = {none}, dup = {twice};
  void *self = NULL;
  sy_error err = {0};
  CU_ASSERT_EQUAL(find("std.select")->create(&empty, &self, &err), SY_ECONFIG);
  CU_ASSERT_EQUAL(find("std.select")->create(&dup, &self, &err), SY_ECONFIG);
  CU_ASSERT(has(&err, "'a' is listed twice"));
  CU_ASSERT_PTR_NULL(self);
}

static void test_actor_std_select_refuses_bytes(void) {
  static const char *const cols[] = {"a", NULL};
  std_columns_config cfg = {cols};
  void *a = make("std.select", &cfg);
  sy_value *in = NULL, *out;
  sy_error err = {0};
  CU_ASSERT_EQUAL_FATAL(sy_bytes_new("hi", 2, NULL, &in), 0);
  CU_ASSERT_EQUAL(apply1("std.select", a, in, &out, &err), SY_ETYPE);
  CU_ASSERT(has(&err, "input 1 is a bytes value"));
  sy_value_unref(in);
  drop("std.select", a);
}

static void test_actor_std_drop_removes_columns(void) {
  static const char *const cols[] = {"b", NULL};
  static const char *const bad[] = {"a", "zz", NULL};
  std_columns_config cfg = {cols}, cfg_bad = {bad};
  void *a = make("std.drop", &cfg), *b = make("std.drop", &cfg_bad);
  sy_value *in = abs_frame(), *out;
  sy_error err = {0};
  CU_ASSERT_EQUAL_FATAL(apply1("std.drop", a, in, &out, &err), 0);
  CU_ASSERT_EQUAL(sy_frame_cols(out), 2);
  CU_ASSERT_STRING_EQUAL(sy_frame_col_name(out, 0), "a");
  CU_ASSERT_STRING_EQUAL(sy_frame_col_name(out, 1), "s");
  CU_ASSERT_EQUAL(col(out, "b"), SY_ENOENT);
  sy_value_unref(out);
  CU_ASSERT_EQUAL(apply1("std.drop", b, in, &out, &err), SY_EINVAL);
  CU_ASSERT(has(&err, "std.drop: unknown column 'zz'"));
  sy_value_unref(in);
  drop("std.drop", a);
  drop("std.drop", b);
}

/* ---- head -----------------------------------------------------------------
 */

static void test_actor_std_head_rows(void) {
  std_head_config two = {2}, zero = {0}, many = {100}, neg = {-1};
  void *a = make("std.head", &two), *z = make("std.head", &zero),
       *m = make("std.head", &many), *self = NULL;
  sy_value *in = abs_frame(), *out;
  sy_error err = {0};

  CU_ASSERT_EQUAL_FATAL(apply1("std.head", a, in, &out, &err), 0);
  CU_ASSERT_EQUAL(sy_frame_rows(out), 2);
  CU_ASSERT_EQUAL(sy_frame_cols(out), 3);
  CU_ASSERT_EQUAL(sy_frame_f64(out, 0)[1], 2.0);
  CU_ASSERT(sy_frame_is_null(out, 1, 1));
  CU_ASSERT_STRING_EQUAL(sy_frame_str(out, 2, 0), "x");
  sy_value_unref(out);

  CU_ASSERT_EQUAL_FATAL(apply1("std.head", z, in, &out, &err), 0);
  CU_ASSERT_EQUAL(sy_frame_rows(out), 0);
  CU_ASSERT_EQUAL(sy_frame_cols(out), 3);
  sy_value_unref(out);

  CU_ASSERT_EQUAL_FATAL(apply1("std.head", m, in, &out, &err), 0);
  CU_ASSERT(sy_value_equal(out, in));
  sy_value_unref(out);

  CU_ASSERT_EQUAL(find("std.head")->create(&neg, &self, &err), SY_ECONFIG);
  sy_value_unref(in);
  drop("std.head", a);
  drop("std.head", z);
  drop("std.head", m);
}

/* ---- concat ---------------------------------------------------------------
 */

static void test_actor_std_concat_columns(void) {
  static const double c[] = {7, 8, 9};
  std_concat_config cfg = {STD_AXIS_COLUMNS};
  void *a = make("std.concat", &cfg);
  sy_value *x = abs_frame(), *y = frame(3), *short_ = frame(2), *out = NULL;
  const sy_value *ins[2] = {x, y};
  sy_error err = {0};
  add_f64(y, "c", c, NULL);
  add_f64(short_, "d", c, NULL);

  CU_ASSERT_EQUAL_FATAL(
      ops_of(find("std.concat"))->apply(a, ins, 2, &out, &err), 0);
  CU_ASSERT_EQUAL(sy_frame_cols(out), 4);
  CU_ASSERT_STRING_EQUAL(sy_frame_col_name(out, 3), "c");
  CU_ASSERT_EQUAL(sy_frame_f64(out, 3)[2], 9.0);
  CU_ASSERT(sy_frame_is_null(out, 1, 1));
  sy_value_unref(out);
  out = NULL;

  /* A single input is returned as is. */
  CU_ASSERT_EQUAL_FATAL(
      ops_of(find("std.concat"))->apply(a, ins, 1, &out, &err), 0);
  CU_ASSERT(sy_value_equal(out, x));
  sy_value_unref(out);
  out = NULL;

  ins[1] = x;
  CU_ASSERT_EQUAL(ops_of(find("std.concat"))->apply(a, ins, 2, &out, &err),
                  SY_EINVAL);
  CU_ASSERT(has(&err, "duplicate column 'a'"));
  CU_ASSERT_PTR_NULL(out);

  ins[1] = short_;
  CU_ASSERT_EQUAL(ops_of(find("std.concat"))->apply(a, ins, 2, &out, &err),
                  SY_EINVAL);
  CU_ASSERT(has(&err, "input 2 has 2 rows, input 1 has 3"));

  CU_ASSERT_EQUAL(ops_of(find("std.concat"))->apply(a, ins, 0, &out, &err),
                  SY_EINVAL);
  sy_value_unref(x);
  sy_value_unref(y);
  sy_value_unref(short_);
  drop("std.concat", a);
}

static void test_actor_std_concat_rows(void) {
  static const double a2[] = {4, 5};
  static const int64_t b2[] = {40, 50};
  static const uint8_t b2v[] = {0, 1};
  static const char *const s2[] = {"u", "v"};
  std_concat_config cfg = {STD_AXIS_ROWS};
  void *a = make("std.concat", &cfg);
  sy_value *x = abs_frame(), *y = frame(2), *out = NULL, *bad = frame(2),
           *badt = frame(2), *empty = frame(0);
  const sy_value *ins[3] = {x, y, empty};
  sy_error err = {0};
  add_f64(y, "a", a2, NULL);
  add_i64(y, "b", b2, b2v);
  add_str(y, "s", s2);
  add_f64(empty, "a", NULL, NULL);
  add_i64(empty, "b", NULL, NULL);
  add_str(empty, "s", NULL);

  CU_ASSERT_EQUAL_FATAL(
      ops_of(find("std.concat"))->apply(a, ins, 3, &out, &err), 0);
  CU_ASSERT_EQUAL(sy_frame_rows(out), 5);
  CU_ASSERT_EQUAL(sy_frame_cols(out), 3);
  CU_ASSERT_EQUAL(sy_frame_f64(out, 0)[4], 5.0);
  CU_ASSERT_EQUAL(sy_frame_i64(out, 1)[2], 30);
  CU_ASSERT_EQUAL(sy_frame_i64(out, 1)[4], 50);
  CU_ASSERT(sy_frame_is_null(out, 1, 1));
  CU_ASSERT(sy_frame_is_null(out, 1, 3));
  CU_ASSERT(!sy_frame_is_null(out, 1, 4));
  CU_ASSERT(sy_frame_is_null(out, 2, 1));
  CU_ASSERT_STRING_EQUAL(sy_frame_str(out, 2, 3), "u");
  sy_value_unref(out);
  out = NULL;

  /* Same names in another order: refused. */
  add_i64(bad, "b", b2, NULL);
  add_f64(bad, "a", a2, NULL);
  add_str(bad, "s", s2);
  ins[1] = bad;
  CU_ASSERT_EQUAL(ops_of(find("std.concat"))->apply(a, ins, 2, &out, &err),
                  SY_EINVAL);
  CU_ASSERT(has(&err, "input 2 column 1 is 'b'"));

  /* Same names, another type: refused. */
  add_f64(badt, "a", a2, NULL);
  add_f64(badt, "b", a2, NULL);
  add_str(badt, "s", s2);
  ins[1] = badt;
  CU_ASSERT_EQUAL(ops_of(find("std.concat"))->apply(a, ins, 2, &out, &err),
                  SY_ETYPE);
  CU_ASSERT(has(&err, "column 'b' is f64 in input 2 but i64 in input 1"));
  CU_ASSERT_PTR_NULL(out);

  sy_value_unref(x);
  sy_value_unref(y);
  sy_value_unref(bad);
  sy_value_unref(badt);
  sy_value_unref(empty);
  drop("std.concat", a);
}

/* ---- scaler ---------------------------------------------------------------
 */

/* x = {1, 2, 3, 4}: mean 2.5, population variance
 * (2.25 + 0.25 + 0.25 + 2.25) / 4 = 1.25.
 * k (i64) = {10, 10, 10, null}: mean 10, std 0, so 0 0 0 null.
 * y = {2, null, 4, 6}: mean 4, variance (4 + 0 + 4) / 3 = 8/3.
 * s (str) passes through. */
static sy_value *scaler_frame(void) {
  static const double x[] = {1, 2, 3, 4};
  static const int64_t k[] = {10, 10, 10, 0};
  static const uint8_t kv[] = {1, 1, 1, 0};
  static const double y[] = {2, 0, 4, 6};
  static const uint8_t yv[] = {1, 0, 1, 1};
  static const char *const s[] = {"p", "q", "r", "s"};
  sy_value *f = frame(4);
  add_f64(f, "x", x, NULL);
  add_i64(f, "k", k, kv);
  add_str(f, "s", s);
  add_f64(f, "y", y, yv);
  return f;
}

static void test_actor_std_scaler_hand_example(void) {
  std_scaler_config cfg = {true, true, NULL};
  void *a = make("std.scaler", &cfg);
  sy_value *in = scaler_frame(), *out = NULL;
  sy_error err = {0};
  const double sx = sqrt(1.25), sy = sqrt(8.0 / 3.0);
  const double ex[] = {-1.5 / sx, -0.5 / sx, 0.5 / sx, 1.5 / sx};
  const double ey[] = {-2 / sy, 0, 0, 2 / sy};

  CU_ASSERT_EQUAL(apply1("std.scaler", a, in, &out, &err), SY_ESTATE);
  CU_ASSERT_STRING_EQUAL(err.message, "std.scaler: not trained");
  CU_ASSERT_EQUAL_FATAL(train1("std.scaler", a, in, NULL, &err), 0);
  CU_ASSERT_EQUAL_FATAL(apply1("std.scaler", a, in, &out, &err), 0);
  CU_ASSERT_EQUAL(sy_frame_cols(out), 4);
  CU_ASSERT_EQUAL(sy_frame_col_type(out, 0), SY_COL_F64);
  CU_ASSERT_EQUAL(sy_frame_col_type(out, 1), SY_COL_F64); /* was i64 */
  CU_ASSERT_EQUAL(sy_frame_col_type(out, 2), SY_COL_STR);
  for (int i = 0; i < 4; i++) {
    CU_ASSERT_DOUBLE_EQUAL(sy_frame_f64(out, 0)[i], ex[i], 1e-12);
    if (i != 1) {
      CU_ASSERT_DOUBLE_EQUAL(sy_frame_f64(out, 3)[i], ey[i], 1e-12);
    }
  }
  CU_ASSERT_EQUAL(sy_frame_f64(out, 1)[0], 0.0);
  CU_ASSERT_EQUAL(sy_frame_f64(out, 1)[2], 0.0);
  CU_ASSERT(sy_frame_is_null(out, 1, 3));
  CU_ASSERT(sy_frame_is_null(out, 3, 1));
  CU_ASSERT_STRING_EQUAL(sy_frame_str(out, 2, 3), "s");
  sy_value_unref(out);
  sy_value_unref(in);
  drop("std.scaler", a);
}

static void test_actor_std_scaler_options(void) {
  static const char *const only_x[] = {"x", NULL};
  static const char *const bad[] = {"s", NULL};
  std_scaler_config no_mean = {false, true, only_x};
  std_scaler_config no_std = {true, false, NULL};
  std_scaler_config str_col = {true, true, bad};
  void *a = make("std.scaler", &no_mean), *b = make("std.scaler", &no_std),
       *c = make("std.scaler", &str_col);
  sy_value *in = scaler_frame(), *out = NULL;
  sy_error err = {0};

  CU_ASSERT_EQUAL_FATAL(train1("std.scaler", a, in, NULL, &err), 0);
  CU_ASSERT_EQUAL_FATAL(apply1("std.scaler", a, in, &out, &err), 0);
  CU_ASSERT_DOUBLE_EQUAL(sy_frame_f64(out, 0)[3], 4 / sqrt(1.25), 1e-12);
  CU_ASSERT_EQUAL(sy_frame_col_type(out, 1), SY_COL_I64); /* untouched */
  CU_ASSERT_EQUAL(sy_frame_f64(out, 3)[3], 6.0);          /* untouched */
  sy_value_unref(out);

  CU_ASSERT_EQUAL_FATAL(train1("std.scaler", b, in, NULL, &err), 0);
  CU_ASSERT_EQUAL_FATAL(apply1("std.scaler", b, in, &out, &err), 0);
  CU_ASSERT_DOUBLE_EQUAL(sy_frame_f64(out, 0)[0], -1.5, 1e-15);
  CU_ASSERT_DOUBLE_EQUAL(sy_frame_f64(out, 3)[3], 2.0, 1e-15);
  sy_value_unref(out);

  CU_ASSERT_EQUAL(train1("std.scaler", c, in, NULL, &err), SY_ETYPE);
  CU_ASSERT(has(&err, "column 's' is not numeric"));

  sy_value_unref(in);
  drop("std.scaler", a);
  drop("std.scaler", b);
  drop("std.scaler", c);
}

/* Training on two halves must give what training on everything gives. */
static void test_actor_std_scaler_incremental(void) {
  static const double x1[] = {1.5, -2, 7}, x2[] = {3, 10.25, -4, 0.5};
  static const double all[] = {1.5, -2, 7, 3, 10.25, -4, 0.5};
  static const uint8_t v2[] = {1, 1, 0, 1}, vall[] = {1, 1, 1, 1, 1, 0, 1};
  static const int64_t z1[] = {1, 2, 3}, z2[] = {4, 5, 6, 7};
  static const int64_t zall[] = {1, 2, 3, 4, 5, 6, 7};
  std_scaler_config cfg = {true, true, NULL};
  void *a = make("std.scaler", &cfg), *b = make("std.scaler", &cfg);
  sy_value *f1 = frame(3), *f2 = frame(4), *fa = frame(7), *o1, *o2,
           *other = frame(1);
  sy_error err = {0};
  add_f64(f1, "x", x1, NULL);
  add_i64(f1, "z", z1, NULL);
  add_f64(f2, "x", x2, v2);
  add_i64(f2, "z", z2, NULL);
  add_f64(fa, "x", all, vall);
  add_i64(fa, "z", zall, NULL);
  add_f64(other, "w", x1, NULL);

  CU_ASSERT_EQUAL_FATAL(train1("std.scaler", a, f1, NULL, &err), 0);
  CU_ASSERT_EQUAL_FATAL(train1("std.scaler", a, f2, NULL, &err), 0);
  CU_ASSERT_EQUAL_FATAL(train1("std.scaler", b, fa, NULL, &err), 0);
  CU_ASSERT_EQUAL_FATAL(apply1("std.scaler", a, fa, &o1, &err), 0);
  CU_ASSERT_EQUAL_FATAL(apply1("std.scaler", b, fa, &o2, &err), 0);
  for (int i = 0; i < 7; i++) {
    CU_ASSERT_DOUBLE_EQUAL(sy_frame_f64(o1, 0)[i], sy_frame_f64(o2, 0)[i],
                           1e-12);
    CU_ASSERT_DOUBLE_EQUAL(sy_frame_f64(o1, 1)[i], sy_frame_f64(o2, 1)[i],
                           1e-12);
  }
  /* z = 1..7: mean 4, population variance 4, so z=7 maps to 1.5. */
  CU_ASSERT_DOUBLE_EQUAL(sy_frame_f64(o1, 1)[6], 1.5, 1e-12);
  sy_value_unref(o1);
  sy_value_unref(o2);

  /* A later batch lacking a trained column is refused, state kept. */
  CU_ASSERT_EQUAL(train1("std.scaler", a, other, NULL, &err), SY_EINVAL);
  CU_ASSERT(has(&err, "unknown column 'x'"));
  CU_ASSERT_EQUAL(apply1("std.scaler", a, other, &o1, &err), SY_EINVAL);
  CU_ASSERT(has(&err, "trained column 'x' is missing"));

  sy_value_unref(f1);
  sy_value_unref(f2);
  sy_value_unref(fa);
  sy_value_unref(other);
  drop("std.scaler", a);
  drop("std.scaler", b);
}

/* ---- state save/load ----------------------------------------------------- */

/* Little-endian helpers and FNV-1a 64 to forge well-sealed states whose
 * payload lies (the checksum alone must not be what protects the parser). */
static void put32(uint8_t *b, uint32_t v) {
  for (int i = 0; i < 4; i++)
    b[i] = (uint8_t)(v >> (8 * i));
}

static void seal(uint8_t *b, size_t len) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < len - 8; i++) {
    h ^= b[i];
    h *= 0x100000001b3ull;
  }
  for (int i = 0; i < 8; i++)
    b[len - 8 + i] = (uint8_t)(h >> (8 * i));
}

/* Saves a's state, loads it into a fresh instance b, and checks that both
 * give identical outputs on `probe`; then feeds b damaged copies. */
static void roundtrip(const char *name, const void *cfg, void *a,
                      const sy_value *probe) {
  const sy_actor_ops *ops = ops_of(find(name));
  void *b = make(name, cfg);
  sy_value *state = NULL, *o1 = NULL, *o2 = NULL, *bad = NULL;
  sy_error err = {0};
  const uint8_t *bytes;
  uint8_t *copy;
  size_t len;

  CU_ASSERT_EQUAL(ops->state_save(b, &state, &err), SY_ESTATE);
  CU_ASSERT_EQUAL_FATAL(ops->state_save(a, &state, &err), 0);
  CU_ASSERT_STRING_EQUAL(sy_bytes_media_type(state), STD_STATE_MEDIA);
  CU_ASSERT_EQUAL_FATAL(ops->state_load(b, state, &err), 0);
  CU_ASSERT_EQUAL_FATAL(apply1(name, a, probe, &o1, &err), 0);
  CU_ASSERT_EQUAL_FATAL(apply1(name, b, probe, &o2, &err), 0);
  CU_ASSERT(sy_value_equal(o1, o2));

  bytes = sy_bytes_data(state, &len);
  copy = malloc(len);
  CU_ASSERT_PTR_NOT_NULL_FATAL(copy);
  /* Each damage: wrong magic, wrong version, truncated, extended, one
   * payload bit flipped, wrong media type. */
  for (int k = 0; k < 6; k++) {
    size_t n = len;
    const char *media = STD_STATE_MEDIA;
    memcpy(copy, bytes, len);
    if (k == 0)
      copy[0] ^= 0x20;
    else if (k == 1)
      copy[8] = 3; /* std.linreg and std.logreg read 1 and 2 */
    else if (k == 2)
      n = len - 1;
    else if (k == 3)
      n = len - 9;
    else if (k == 4)
      copy[len / 2] ^= 0x01;
    else
      media = "application/octet-stream";
    CU_ASSERT_EQUAL_FATAL(sy_bytes_new(copy, n, media, &bad), 0);
    err.message[0] = '\0';
    CU_ASSERT_EQUAL(ops->state_load(b, bad, &err), SY_ECORRUPT);
    CU_ASSERT(has(&err, name));
    if (k == 0) {
      CU_ASSERT(has(&err, "bad magic"));
    }
    if (k == 1) {
      CU_ASSERT(has(&err, "version 3 is not supported"));
    }
    sy_value_unref(bad);
  }
  /* Every truncation and every flipped bit: a clean SY_ECORRUPT naming
   * the actor. Resealed (the checksum made right again), a flipped byte
   * reaches the field checks: refused or loaded, never a crash (ASan and
   * valgrind runs of this test see to that). */
  for (size_t n = 0; n < len; n++) {
    CU_ASSERT_EQUAL_FATAL(sy_bytes_new(bytes, n, STD_STATE_MEDIA, &bad), 0);
    CU_ASSERT_EQUAL(ops->state_load(b, bad, &err), SY_ECORRUPT);
    sy_value_unref(bad);
  }
  for (size_t i = 0; i < len; i++) {
    for (int bit = 0; bit < 8; bit++) {
      memcpy(copy, bytes, len);
      copy[i] ^= (uint8_t)(1u << bit);
      CU_ASSERT_EQUAL_FATAL(sy_bytes_new(copy, len, STD_STATE_MEDIA, &bad), 0);
      err.message[0] = '\0';
      CU_ASSERT_EQUAL(ops->state_load(b, bad, &err), SY_ECORRUPT);
      CU_ASSERT(strncmp(err.message, name, strlen(name)) == 0);
      sy_value_unref(bad);
    }
    if (i >= STD_STATE_HEADER && i < len - STD_STATE_TRAILER) {
      memcpy(copy, bytes, len);
      copy[i] ^= 0xff;
      seal(copy, len);
      CU_ASSERT_EQUAL_FATAL(sy_bytes_new(copy, len, STD_STATE_MEDIA, &bad), 0);
      int rc = ops->state_load(b, bad, &err);
      CU_ASSERT(rc == 0 || rc == SY_ECORRUPT);
      sy_value_unref(bad);
    }
  }
  /* Whatever the resealed loads did, the saved state loads again. */
  CU_ASSERT_EQUAL(ops->state_load(b, state, &err), 0);

  /* Another actor's state is refused by its magic. */
  if (strcmp(name, "std.scaler") != 0) {
    std_scaler_config scfg = {true, true, NULL};
    void *s = make("std.scaler", &scfg);
    CU_ASSERT_EQUAL(ops_of(find("std.scaler"))->state_load(s, state, &err),
                    SY_ECORRUPT);
    drop("std.scaler", s);
  }
  /* A refused load leaves the loaded state in place. */
  sy_value_unref(o2);
  CU_ASSERT_EQUAL_FATAL(apply1(name, b, probe, &o2, &err), 0);
  CU_ASSERT(sy_value_equal(o1, o2));

  free(copy);
  sy_value_unref(o1);
  sy_value_unref(o2);
  sy_value_unref(state);
  drop(name, b);
}

/* A std.scaler state laid out by hand as every release before the public
 * state codec wrote it: it loads, applies, and saves back byte for byte,
 * so states saved by older plugins keep loading. */
static void test_actor_std_state_old_layout(void) {
  std_scaler_config cfg = {true, true, NULL};
  void *a = make("std.scaler", &cfg);
  uint8_t b[16 + 4 + 4 + 1 + 24 + 8] = {0};
  const double stats[3] = {2, 1.5, 0.5}; /* count, mean, M2 of {1, 2} */
  sy_value *st = NULL, *again = NULL, *out = NULL;
  sy_error err = {0};

  memcpy(b, "SYSCALER", 8);
  put32(b + 8, 1);
  put32(b + 12, 4 + 4 + 1 + 24);
  put32(b + 16, 1);
  put32(b + 20, 1);
  b[24] = 'x';
  memcpy(b + 25, stats, sizeof stats); /* tests run little-endian */
  seal(b, sizeof b);
  CU_ASSERT_EQUAL_FATAL(sy_bytes_new(b, sizeof b, STD_STATE_MEDIA, &st), 0);
  CU_ASSERT_EQUAL_FATAL(ops_of(find("std.scaler"))->state_load(a, st, &err), 0);
  static const double x[2] = {1, 2};
  sy_value *in = frame(2);
  add_f64(in, "x", x, NULL);
  CU_ASSERT_EQUAL_FATAL(apply1("std.scaler", a, in, &out, &err), 0);
  CU_ASSERT_EQUAL(sy_frame_f64(out, 0)[0], -1.0);
  CU_ASSERT_EQUAL(sy_frame_f64(out, 0)[1], 1.0);
  CU_ASSERT_EQUAL_FATAL(ops_of(find("std.scaler"))->state_save(a, &again, &err),
                        0);
  CU_ASSERT(sy_value_equal(st, again));
  sy_value_unref(again);
  sy_value_unref(out);
  sy_value_unref(in);
  sy_value_unref(st);
  drop("std.scaler", a);
}

static void test_actor_std_state_lying_payload(void) {
  std_scaler_config cfg = {true, true, NULL};
  std_logreg_config lcfg = {1, 0.1,  0,  "prediction", STD_SOLVER_GD,
                            0, 1e-4, 100};
  void *a = make("std.scaler", &cfg), *l = make("std.logreg", &lcfg);
  uint8_t b[16 + 12 + 8] = {0};
  sy_value *st = NULL, *out = NULL;
  sy_error err = {0};

  /* A scaler state claiming 4 billion columns in a 4-byte payload. */
  memcpy(b, "SYSCALER", 8);
  put32(b + 8, STD_STATE_VERSION);
  put32(b + 12, 4);
  put32(b + 16, 0xffffffffu);
  seal(b, 16 + 4 + 8);
  CU_ASSERT_EQUAL_FATAL(sy_bytes_new(b, 16 + 4 + 8, STD_STATE_MEDIA, &st), 0);
  CU_ASSERT_EQUAL(ops_of(find("std.scaler"))->state_load(a, st, &err),
                  SY_ECORRUPT);
  CU_ASSERT(has(&err, "malformed payload"));
  sy_value_unref(st);
  CU_ASSERT_EQUAL(apply1("std.scaler", a, NULL, &out, &err), SY_ESTATE);

  /* A logreg state with an unknown label type. */
  memcpy(b, "SYLOGREG", 8);
  put32(b + 12, 12);
  put32(b + 16, 1);
  put32(b + 20, 2);
  put32(b + 24, 9);
  seal(b, sizeof b);
  CU_ASSERT_EQUAL_FATAL(sy_bytes_new(b, sizeof b, STD_STATE_MEDIA, &st), 0);
  CU_ASSERT_EQUAL(ops_of(find("std.logreg"))->state_load(l, st, &err),
                  SY_ECORRUPT);
  sy_value_unref(st);
  drop("std.scaler", a);
  drop("std.logreg", l);
}

static void test_actor_std_scaler_state_roundtrip(void) {
  std_scaler_config cfg = {true, true, NULL};
  void *a = make("std.scaler", &cfg);
  sy_value *in = scaler_frame();
  sy_error err = {0};
  CU_ASSERT_EQUAL_FATAL(train1("std.scaler", a, in, NULL, &err), 0);
  roundtrip("std.scaler", &cfg, a, in);
  sy_value_unref(in);
  drop("std.scaler", a);
}

/* ---- linreg ---------------------------------------------------------------
 */

/* y = 2 + 3 x1 - 1.5 x2 exactly. */
static void test_actor_std_linreg_exact(void) {
  static const double x1[] = {0, 1, 2, 3, 4, -1, 5, 2.5};
  static const int64_t x2[] = {1, 0, 3, -2, 7, 4, 1, 2};
  static const double p1[] = {0, 1, 0, 10};
  static const int64_t p2[] = {0, 0, 1, -4};
  std_linreg_config cfg = {0, true, "yhat"};
  void *a = make("std.linreg", &cfg);
  sy_value *X = frame(8), *Y = frame(8), *P = frame(4), *out = NULL;
  static const char *const names[] = {"a", "b", "c", "d", "e", "f", "g", "h"};
  double y[8];
  sy_error err = {0};
  for (int i = 0; i < 8; i++)
    y[i] = 2 + 3 * x1[i] - 1.5 * (double)x2[i];
  add_f64(X, "x1", x1, NULL);
  add_str(X, "id", names); /* not numeric: not a feature */
  add_i64(X, "x2", x2, NULL);
  add_f64(Y, "y", y, NULL);
  add_f64(P, "x1", p1, NULL);
  add_i64(P, "x2", p2, NULL);

  CU_ASSERT_EQUAL(apply1("std.linreg", a, P, &out, &err), SY_ESTATE);
  CU_ASSERT_EQUAL_FATAL(train1("std.linreg", a, X, Y, &err), 0);
  CU_ASSERT_EQUAL_FATAL(apply1("std.linreg", a, P, &out, &err), 0);
  CU_ASSERT_EQUAL(sy_frame_cols(out), 1);
  CU_ASSERT_STRING_EQUAL(sy_frame_col_name(out, 0), "yhat");
  /* Predictions at 0, e1, e2 read back intercept and coefficients. */
  const double *yh = sy_frame_f64(out, 0);
  CU_ASSERT_DOUBLE_EQUAL(yh[0], 2.0, 1e-9);
  CU_ASSERT_DOUBLE_EQUAL(yh[1] - yh[0], 3.0, 1e-9);
  CU_ASSERT_DOUBLE_EQUAL(yh[2] - yh[0], -1.5, 1e-9);
  CU_ASSERT_DOUBLE_EQUAL(yh[3], 2 + 30 + 6, 1e-9);
  sy_value_unref(out);
  roundtrip("std.linreg", &cfg, a, P);
  sy_value_unref(X);
  sy_value_unref(Y);
  sy_value_unref(P);
  drop("std.linreg", a);
}

/* Noisy data: y = 2 + 3 x1 - 1.5 x2 + noise, noise = {0.1, -0.2, 0.05,
 * 0.3, -0.15, 0, 0.2, -0.1}. The expected numbers were computed offline
 * in exact rational arithmetic (no numpy) on the exact values of the
 * doubles below, then printed with %.17g:
 *
 *   from fractions import Fraction as F
 *   X = [[F(a), F(b)] for a, b in zip(x1, x2)]; Y = [F(v) for v in y]
 *   n = len(Y)
 *   xm = [sum(r[j] for r in X) / n for j in (0, 1)] if intercept else [0, 0]
 *   ym = sum(Y) / n if intercept else 0
 *   Xc = [[r[j] - xm[j] for j in (0, 1)] for r in X]; yc = [v - ym for v in Y]
 *   A = [[sum(r[i] * r[j] for r in Xc) + (F(l2) if i == j else 0)
 *         for j in (0, 1)] for i in (0, 1)]
 *   b = [sum(r[i] * v for r, v in zip(Xc, yc)) for i in (0, 1)]
 *   beta = Gauss-Jordan solve of A beta = b (exact)
 *   b0 = ym - xm[0] * beta[0] - xm[1] * beta[1]
 *
 * i.e. the normal equations (X'X + l2 I) beta = X'y on centred data, which
 * in exact arithmetic give the same solution as the QR under test. */
static void test_actor_std_linreg_noisy(void) {
  static const double x1[] = {1, 2, 3, 4, 5, 6, 7, 8};
  static const double x2[] = {2.5, 0.5, 4, 3, 1, 6, 2, 5.5};
  static const double y[] = {1.35, 7.05, 5.05, 9.8, 15.35, 11.0, 20.2, 17.65};
  static const double p1[] = {0, 1, 0}, p2[] = {0, 0, 1};
  static const struct {
    double l2;
    bool intercept;
    double b0, b1, b2;
  } cases[] = {
      {0, true, 2.0041903902235805, 2.9939070962366334, -1.4842521871962226},
      {0.5, true, 2.0825327875699613, 2.9358449586500708, -1.4245175841617241},
      {0, false, 0, 3.2363095538190065, -1.3047995966725485},
  };
  sy_value *X = frame(8), *Y = frame(8), *P = frame(3);
  add_f64(X, "x1", x1, NULL);
  add_f64(X, "x2", x2, NULL);
  add_f64(Y, "y", y, NULL);
  add_f64(P, "x1", p1, NULL);
  add_f64(P, "x2", p2, NULL);
  for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
    std_linreg_config cfg = {cases[k].l2, cases[k].intercept, "prediction"};
    void *a = make("std.linreg", &cfg);
    sy_value *out = NULL;
    sy_error err = {0};
    CU_ASSERT_EQUAL_FATAL(train1("std.linreg", a, X, Y, &err), 0);
    CU_ASSERT_EQUAL_FATAL(apply1("std.linreg", a, P, &out, &err), 0);
    CU_ASSERT_STRING_EQUAL(sy_frame_col_name(out, 0), "prediction");
    const double *yh = sy_frame_f64(out, 0);
    CU_ASSERT_DOUBLE_EQUAL(yh[0], cases[k].b0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(yh[1] - yh[0], cases[k].b1, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(yh[2] - yh[0], cases[k].b2, 1e-12);
    sy_value_unref(out);
    drop("std.linreg", a);
  }
  sy_value_unref(X);
  sy_value_unref(Y);
  sy_value_unref(P);
}

static void test_actor_std_linreg_refusals(void) {
  static const double x[] = {1, 2, 3, 4};
  static const double x2x[] = {2, 4, 6, 8}; /* 2 * x: collinear */
  static const uint8_t v[] = {1, 1, 0, 1};
  static const char *const s[] = {"a", "b", "c", "d"};
  std_linreg_config cfg = {0, true, "prediction"}, ridge = {1, true, "p"};
  std_linreg_config bad_l2 = {-1, true, "p"};
  void *a = make("std.linreg", &cfg), *r = make("std.linreg", &ridge),
       *self = NULL;
  sy_value *X = frame(4), *Xn = frame(4), *Y = frame(4), *Yn = frame(4),
           *Ys = frame(4), *Y3 = frame(3), *P = frame(3), *out = NULL;
  static const double p1[] = {0, 1, 0}, p2[] = {0, 0, 1};
  sy_error err = {0};
  add_f64(P, "x", p1, NULL);
  add_f64(P, "x2", p2, NULL);
  add_f64(X, "x", x, NULL);
  add_f64(X, "x2", x2x, NULL);
  add_f64(Xn, "x", x, NULL);
  add_f64(Xn, "w", x, v);
  add_f64(Y, "y", x, NULL);
  add_f64(Yn, "y", x, v);
  add_str(Ys, "y", s);
  add_f64(Y3, "y", x, NULL);

  CU_ASSERT_EQUAL(train1("std.linreg", a, Xn, Y, &err), SY_EINVAL);
  CU_ASSERT(has(&err, "column 'w' is null at row 2"));
  CU_ASSERT_EQUAL(train1("std.linreg", a, X, Yn, &err), SY_EINVAL);
  CU_ASSERT(has(&err, "label column 'y' is null at row 2"));
  CU_ASSERT_EQUAL(train1("std.linreg", a, X, Ys, &err), SY_ETYPE);
  CU_ASSERT_EQUAL(train1("std.linreg", a, X, Y3, &err), SY_EINVAL);
  CU_ASSERT(has(&err, "the label has 3 rows, the features 4"));
  CU_ASSERT_EQUAL(train1("std.linreg", a, X, Y, &err), SY_EINVAL);
  CU_ASSERT(has(&err, "feature column 'x2' is constant or a linear "
                      "combination"));
  /* Still untrained after all refusals. */
  CU_ASSERT_EQUAL(apply1("std.linreg", a, X, &out, &err), SY_ESTATE);
  /* Ridge makes the collinear case solvable. By hand: centred x is
   * {-1.5, -0.5, 0.5, 1.5}, x2 = 2x, y = x, so Xc'Xc + I = [[6, 10],
   * [10, 21]] and Xc'yc = [5, 10]: b = [5/26, 10/26], intercept
   * 2.5 - 2.5 * 5/26 - 5 * 10/26 = 2.5/26. */
  CU_ASSERT_EQUAL_FATAL(train1("std.linreg", r, X, Y, &err), 0);
  CU_ASSERT_EQUAL_FATAL(apply1("std.linreg", r, P, &out, &err), 0);
  CU_ASSERT_STRING_EQUAL(sy_frame_col_name(out, 0), "p");
  CU_ASSERT_DOUBLE_EQUAL(sy_frame_f64(out, 0)[0], 2.5 / 26, 1e-12);
  CU_ASSERT_DOUBLE_EQUAL(sy_frame_f64(out, 0)[1] - sy_frame_f64(out, 0)[0],
                         5.0 / 26, 1e-12);
  CU_ASSERT_DOUBLE_EQUAL(sy_frame_f64(out, 0)[2] - sy_frame_f64(out, 0)[0],
                         10.0 / 26, 1e-12);
  sy_value_unref(out);
  /* Apply without a trained feature is refused, naming it. */
  CU_ASSERT_EQUAL(apply1("std.linreg", r, Xn, &out, &err), SY_EINVAL);
  CU_ASSERT(has(&err, "missing feature column 'x2' (available: x, w)"));
  CU_ASSERT_EQUAL(find("std.linreg")->create(&bad_l2, &self, &err), SY_ECONFIG);

  sy_value_unref(X);
  sy_value_unref(Xn);
  sy_value_unref(Y);
  sy_value_unref(Yn);
  sy_value_unref(Ys);
  sy_value_unref(Y3);
  sy_value_unref(P);
  drop("std.linreg", a);
  drop("std.linreg", r);
}

/* ---- logreg ---------------------------------------------------------------
 */

/* Parses a std.logreg state (layout in logreg.c) to read W and b. */
static void read_logreg_state(const sy_value *state, size_t p, size_t k,
                              double *w, double *b) {
  size_t len, pos = STD_STATE_HEADER + 12;
  const uint8_t *d = sy_bytes_data(state, &len);
  uint32_t type;
  memcpy(&type, d + STD_STATE_HEADER + 8, 4); /* tests run little-endian */
  for (size_t j = 0; j < p; j++) {
    uint32_t n;
    memcpy(&n, d + pos, 4);
    pos += 4 + n;
  }
  for (size_t c = 0; c < k; c++) {
    if (type == SY_COL_STR) {
      uint32_t n;
      memcpy(&n, d + pos, 4);
      pos += 4 + n;
    } else {
      pos += 8;
    }
  }
  memcpy(w, d + pos, k * p * 8);
  memcpy(b, d + pos + k * p * 8, k * 8);
  /* version 2: then solver, iterations, converged (u32) and loss (f64) */
  CU_ASSERT_EQUAL(pos + (k * p + k) * 8 + 3 * 4 + 8 + STD_STATE_TRAILER, len);
}

/* 5 rows, 2 features, 3 classes (i64 labels 0 1 2 1 0), rate 0.5. From
 * W = 0 every probability is 1/3, so one epoch is
 * W1[k][j] = -rate * (1/n) sum_i (1/3 - [y_i == k]) x_ij, which gives,
 * exactly (by hand, checked with Python fractions.Fraction):
 *   W1 = [[2/15, 3/10], [-4/15, 0], [2/15, -3/10]], b1 = [1/30, 1/30, -1/15]
 * (l2 has no effect on the first step, W being 0). A second epoch with
 * l2 = 0.1 gives, in Python floats with the same summation order:
 *   W2 = [[0.19760165564949778, 0.43065757456986214],
 *         [-0.40046636329545882, 0.013679512170311815],
 *         [0.20286470764596101, -0.44433708674017397]]
 *   b2 = [0.010446824247202564, 0.10558965206766588, -0.11603647631486846] */
static void test_actor_std_logreg_gradient_step(void) {
  static const double f1[] = {1, -1, 3, 0, 2}, f2[] = {2, 0, -2, 1, 2};
  static const int64_t lab[] = {0, 1, 2, 1, 0};
  static const double W1[] = {2.0 / 15, 3.0 / 10, -4.0 / 15,
                              0,        2.0 / 15, -3.0 / 10};
  static const double B1[] = {1.0 / 30, 1.0 / 30, -1.0 / 15};
  static const double W2[] = {0.19760165564949778,  0.43065757456986214,
                              -0.40046636329545882, 0.013679512170311815,
                              0.20286470764596101,  -0.44433708674017397};
  static const double B2[] = {0.010446824247202564, 0.10558965206766588,
                              -0.11603647631486846};
  std_logreg_config one = {1, 0.5,  0.1, "prediction", STD_SOLVER_GD,
                           0, 1e-4, 100};
  std_logreg_config two = {2, 0.5,  0.1, "prediction", STD_SOLVER_GD,
                           0, 1e-4, 100};
  void *a = make("std.logreg", &one), *b = make("std.logreg", &two);
  sy_value *X = frame(5), *Y = frame(5), *st = NULL;
  double w[6], bb[3];
  sy_error err = {0};
  add_f64(X, "f1", f1, NULL);
  add_f64(X, "f2", f2, NULL);
  add_i64(Y, "label", lab, NULL);

  CU_ASSERT_EQUAL_FATAL(train1("std.logreg", a, X, Y, &err), 0);
  CU_ASSERT_EQUAL_FATAL(ops_of(find("std.logreg"))->state_save(a, &st, &err),
                        0);
  read_logreg_state(st, 2, 3, w, bb);
  for (int t = 0; t < 6; t++)
    CU_ASSERT_DOUBLE_EQUAL(w[t], W1[t], 1e-15);
  for (int c = 0; c < 3; c++)
    CU_ASSERT_DOUBLE_EQUAL(bb[c], B1[c], 1e-15);
  sy_value_unref(st);

  CU_ASSERT_EQUAL_FATAL(train1("std.logreg", b, X, Y, &err), 0);
  CU_ASSERT_EQUAL_FATAL(ops_of(find("std.logreg"))->state_save(b, &st, &err),
                        0);
  read_logreg_state(st, 2, 3, w, bb);
  for (int t = 0; t < 6; t++)
    CU_ASSERT_DOUBLE_EQUAL(w[t], W2[t], 1e-13);
  for (int c = 0; c < 3; c++)
    CU_ASSERT_DOUBLE_EQUAL(bb[c], B2[c], 1e-13);
  sy_value_unref(st);

  /* Training again restarts from zero: same result as the first time. */
  CU_ASSERT_EQUAL_FATAL(train1("std.logreg", a, X, Y, &err), 0);
  CU_ASSERT_EQUAL_FATAL(ops_of(find("std.logreg"))->state_save(a, &st, &err),
                        0);
  read_logreg_state(st, 2, 3, w, bb);
  CU_ASSERT_DOUBLE_EQUAL(w[0], W1[0], 1e-15);
  sy_value_unref(st);

  sy_value_unref(X);
  sy_value_unref(Y);
  drop("std.logreg", a);
  drop("std.logreg", b);
}

/* Checks 100% accuracy and probabilities summing to 1 against labels. */
static void check_fit(const sy_value *out, size_t k, const char *const *sl,
                      const int64_t *il, size_t n) {
  CU_ASSERT_EQUAL_FATAL(sy_frame_cols(out), 1 + k);
  CU_ASSERT_EQUAL_FATAL(sy_frame_rows(out), n);
  for (size_t i = 0; i < n; i++) {
    double sum = 0;
    if (sl) {
      CU_ASSERT_STRING_EQUAL(sy_frame_str(out, 0, i), sl[i]);
    } else {
      CU_ASSERT_EQUAL(sy_frame_i64(out, 0)[i], il[i]);
    }
    for (size_t c = 0; c < k; c++) {
      double p = sy_frame_f64(out, 1 + c)[i];
      CU_ASSERT(p >= 0 && p <= 1);
      sum += p;
    }
    CU_ASSERT_DOUBLE_EQUAL(sum, 1.0, 1e-12);
  }
}

static void test_actor_std_logreg_two_classes(void) {
  /* Separable by x + y > 0. */
  static const double x[] = {1, 2, 0.5, 3, -1, -2, -0.5, -3};
  static const int64_t y[] = {1, 0, 2, -1, -1, 0, -2, 1};
  static const char *const lab[] = {"yes", "yes", "yes", "yes",
                                    "no",  "no",  "no",  "no"};
  std_logreg_config cfg = {500, 0.5, 0, "cls", STD_SOLVER_GD, 0, 1e-4, 100};
  void *a = make("std.logreg", &cfg);
  sy_value *X = frame(8), *Y = frame(8), *out = NULL;
  sy_error err = {0};
  add_f64(X, "x", x, NULL);
  add_i64(X, "y", y, NULL);
  add_str(Y, "label", lab);
  CU_ASSERT_EQUAL(apply1("std.logreg", a, X, &out, &err), SY_ESTATE);
  CU_ASSERT_EQUAL_FATAL(train1("std.logreg", a, X, Y, &err), 0);
  CU_ASSERT_EQUAL_FATAL(apply1("std.logreg", a, X, &out, &err), 0);
  CU_ASSERT_STRING_EQUAL(sy_frame_col_name(out, 0), "cls");
  CU_ASSERT_EQUAL(sy_frame_col_type(out, 0), SY_COL_STR);
  CU_ASSERT_STRING_EQUAL(sy_frame_col_name(out, 1), "p_no"); /* sorted */
  CU_ASSERT_STRING_EQUAL(sy_frame_col_name(out, 2), "p_yes");
  check_fit(out, 2, lab, NULL, 8);
  sy_value_unref(out);
  roundtrip("std.logreg", &cfg, a, X);
  sy_value_unref(X);
  sy_value_unref(Y);
  drop("std.logreg", a);
}

static void test_actor_std_logreg_three_classes(void) {
  /* Three clusters around (0, 5), (5, 0) and (-5, -5). */
  static const double x[] = {0, 1, -1, 5, 6, 4, -5, -6, -4};
  static const double y[] = {5, 6, 4, 0, 1, -1, -5, -4, -6};
  static const int64_t lab[] = {7, 7, 7, -3, -3, -3, 12, 12, 12};
  std_logreg_config cfg = {300,           0.1, 0.001, "prediction",
                           STD_SOLVER_GD, 0,   1e-4,  100};
  void *a = make("std.logreg", &cfg);
  sy_value *X = frame(9), *Y = frame(9), *out = NULL;
  sy_error err = {0};
  add_f64(X, "x", x, NULL);
  add_f64(X, "y", y, NULL);
  add_i64(Y, "k", lab, NULL);
  CU_ASSERT_EQUAL_FATAL(train1("std.logreg", a, X, Y, &err), 0);
  CU_ASSERT_EQUAL_FATAL(apply1("std.logreg", a, X, &out, &err), 0);
  CU_ASSERT_EQUAL(sy_frame_col_type(out, 0), SY_COL_I64);
  CU_ASSERT_STRING_EQUAL(sy_frame_col_name(out, 1), "p_-3");
  CU_ASSERT_STRING_EQUAL(sy_frame_col_name(out, 2), "p_7");
  CU_ASSERT_STRING_EQUAL(sy_frame_col_name(out, 3), "p_12");
  check_fit(out, 3, NULL, lab, 9);
  sy_value_unref(out);
  roundtrip("std.logreg", &cfg, a, X);
  sy_value_unref(X);
  sy_value_unref(Y);
  drop("std.logreg", a);
}

static void test_actor_std_logreg_refusals(void) {
  static const double x[] = {1, 2, 3};
  static const int64_t one[] = {4, 4, 4};
  std_logreg_config cfg = {10, 0.1,  0,  "prediction", STD_SOLVER_GD,
                           0,  1e-4, 100};
  std_logreg_config zero_rate = {10, 0,    0,  "prediction", STD_SOLVER_GD,
                                 0,  1e-4, 100};
  std_logreg_config clash = {10, 0.1, 0, "p_4", STD_SOLVER_GD, 0, 1e-4, 100};
  void *a = make("std.logreg", &cfg), *self = NULL;
  sy_value *X = frame(3), *Y1 = frame(3), *Yf = frame(3);
  sy_error err = {0};
  add_f64(X, "x", x, NULL);
  add_i64(Y1, "k", one, NULL);
  add_f64(Yf, "k", x, NULL);
  CU_ASSERT_EQUAL(train1("std.logreg", a, X, Y1, &err), SY_EINVAL);
  CU_ASSERT(has(&err, "1 distinct value; at least 2 classes"));
  CU_ASSERT_EQUAL(train1("std.logreg", a, X, Yf, &err), SY_ETYPE);
  CU_ASSERT_EQUAL(find("std.logreg")->create(&zero_rate, &self, &err),
                  SY_ECONFIG);
  CU_ASSERT(has(&err, "'rate' must be a finite number > 0"));
  /* An output name equal to a probability column is refused at apply. */
  {
    static const int64_t two[] = {4, 5, 4};
    void *c = make("std.logreg", &clash);
    sy_value *Y2 = frame(3), *out = NULL;
    add_i64(Y2, "k", two, NULL);
    CU_ASSERT_EQUAL_FATAL(train1("std.logreg", c, X, Y2, &err), 0);
    CU_ASSERT_EQUAL(apply1("std.logreg", c, X, &out, &err), SY_EEXIST);
    CU_ASSERT(has(&err, "clashes"));
    CU_ASSERT_PTR_NULL(out);
    sy_value_unref(Y2);
    drop("std.logreg", c);
  }
  sy_value_unref(X);
  sy_value_unref(Y1);
  sy_value_unref(Yf);
  drop("std.logreg", a);
}

/* ---- concurrency ------------------------------------------------------- */

typedef struct apply_job {
  void *self;
  const sy_value *in;
  const sy_value *expect;
  int ok;
} apply_job;

static void *apply_thread(void *arg) {
  apply_job *job = arg;
  job->ok = 1;
  for (int r = 0; r < 50; r++) {
    sy_value *out = NULL;
    sy_error err = {0};
    if (apply1("std.logreg", job->self, job->in, &out, &err) != 0 ||
        !sy_value_equal(out, job->expect))
      job->ok = 0;
    sy_value_unref(out);
  }
  return NULL;
}

/* Applies on one trained instance from four threads at once. */
static void test_actor_std_concurrent_apply(void) {
  static const double x[] = {0, 1, -1, 5, 6, 4};
  static const char *const lab[] = {"a", "a", "a", "b", "b", "b"};
  std_logreg_config cfg = {50, 0.1,  0,  "prediction", STD_SOLVER_GD,
                           0,  1e-4, 100};
  void *a = make("std.logreg", &cfg);
  sy_value *X = frame(6), *Y = frame(6), *expect = NULL;
  sy_error err = {0};
  pthread_t t[4];
  apply_job jobs[4];
  add_f64(X, "x", x, NULL);
  add_str(Y, "k", lab);
  sy_value_ref(X); /* freeze: handed to several threads */
  sy_value_unref(X);
  CU_ASSERT_EQUAL_FATAL(train1("std.logreg", a, X, Y, &err), 0);
  CU_ASSERT_EQUAL_FATAL(apply1("std.logreg", a, X, &expect, &err), 0);
  for (int i = 0; i < 4; i++) {
    jobs[i] = (apply_job){a, X, expect, 0};
    CU_ASSERT_EQUAL_FATAL(pthread_create(&t[i], NULL, apply_thread, &jobs[i]),
                          0);
  }
  for (int i = 0; i < 4; i++) {
    pthread_join(t[i], NULL);
    CU_ASSERT(jobs[i].ok);
  }
  sy_value_unref(expect);
  sy_value_unref(X);
  sy_value_unref(Y);
  drop("std.logreg", a);
}

/* ---- text columns: said at -v, refused where trained (issue 10) ------
 */

static char notes[2048];

static void catch_note(void *ud, const char *message) {
  (void)ud;
  size_t used = strlen(notes);
  snprintf(notes + used, sizeof notes - used, "%s\n", message);
}

/* An actor that leaves out a column it cannot use says so (sy_note, shown
 * at -v); a model refuses to apply to a frame where a column it trained on
 * has become text. */
static void test_actor_std_text_columns_noted_and_refused(void) {
  static const double x[] = {1, 2, 3, 4}, x2[] = {1, 0, 1, 3};
  static const double y[] = {2, 3, 5, 8};
  static const char *const names[] = {"a", "b", "c", "d"};
  static const char *const cls[] = {"lo", "lo", "hi", "hi"};
  static const char *const only_x[] = {"x", NULL};
  sy_value *X = frame(4), *Xt = frame(4), *Y = frame(4), *C = frame(4),
           *out = NULL;
  sy_error err = {0};
  add_f64(X, "x", x, NULL);
  add_f64(X, "x2", x2, NULL);
  add_str(X, "name", names);
  add_f64(Xt, "x", x, NULL);
  add_str(Xt, "x2", names); /* x2 became text */
  add_f64(Y, "y", y, NULL);
  add_str(C, "class", cls);
  sy__note_to(catch_note, NULL);

  std_scaler_config all = {true, true, NULL}, listed = {true, true, only_x};
  void *sc = make("std.scaler", &all), *sl = make("std.scaler", &listed);
  notes[0] = '\0';
  CU_ASSERT_EQUAL(train1("std.scaler", sc, X, NULL, &err), 0);
  CU_ASSERT_STRING_EQUAL(notes, "std.scaler: column 'name' is text (string), "
                                "not scaled; it passes through as it is\n");
  /* An explicit list leaves the others out on purpose: no note. */
  notes[0] = '\0';
  CU_ASSERT_EQUAL(train1("std.scaler", sl, X, NULL, &err), 0);
  CU_ASSERT_STRING_EQUAL(notes, "");
  CU_ASSERT_EQUAL(apply1("std.scaler", sc, Xt, &out, &err), SY_ETYPE);
  CU_ASSERT(has(&err, "column 'x2' is not numeric (f64 or i64): it is text "
                      "(string) here, but was trained as a number"));

  std_linreg_config lin = {0, true, "prediction"};
  void *lr = make("std.linreg", &lin);
  notes[0] = '\0';
  CU_ASSERT_EQUAL(train1("std.linreg", lr, X, Y, &err), 0);
  CU_ASSERT_STRING_EQUAL(notes, "std.linreg: column 'name' is text (string), "
                                "not a feature; the model leaves it out\n");
  CU_ASSERT_EQUAL(apply1("std.linreg", lr, Xt, &out, &err), SY_ETYPE);
  CU_ASSERT_PTR_NULL(out);
  CU_ASSERT(has(&err, "std.linreg: feature column 'x2' is text (string) "
                      "here, but the model was trained on it as a number"));

  std_logreg_config log = {50, 0.1,  0,  "prediction", STD_SOLVER_GD,
                           0,  1e-4, 100};
  void *lg = make("std.logreg", &log);
  notes[0] = '\0';
  CU_ASSERT_EQUAL(train1("std.logreg", lg, X, C, &err), 0);
  CU_ASSERT_STRING_EQUAL(notes, "std.logreg: column 'name' is text (string), "
                                "not a feature; the model leaves it out\n");
  CU_ASSERT_EQUAL(apply1("std.logreg", lg, Xt, &out, &err), SY_ETYPE);
  CU_ASSERT_PTR_NULL(out);
  CU_ASSERT(has(&err, "std.logreg: feature column 'x2' is text (string) "
                      "here"));
  /* A numeric frame draws no note. */
  notes[0] = '\0';
  CU_ASSERT_EQUAL(apply1("std.logreg", lg, X, &out, &err), 0);
  sy_value_unref(out);
  CU_ASSERT_STRING_EQUAL(notes, "");

  sy__note_to(NULL, NULL);
  drop("std.scaler", sc);
  drop("std.scaler", sl);
  drop("std.linreg", lr);
  drop("std.logreg", lg);
  sy_value_unref(X);
  sy_value_unref(Xt);
  sy_value_unref(Y);
  sy_value_unref(C);
}

int main(void) {
  static const CU_TestInfo tests[] = {
      {"descriptor", test_actor_std_descriptor},
      {"text_columns_noted_and_refused",
       test_actor_std_text_columns_noted_and_refused},
      {"select_orders_columns", test_actor_std_select_orders_columns},
      {"select_unknown_column", test_actor_std_select_unknown_column},
      {"select_refuses_bad_config", test_actor_std_select_refuses_bad_config},
      {"select_refuses_bytes", test_actor_std_select_refuses_bytes},
      {"drop_removes_columns", test_actor_std_drop_removes_columns},
      {"head_rows", test_actor_std_head_rows},
      {"concat_columns", test_actor_std_concat_columns},
      {"concat_rows", test_actor_std_concat_rows},
      {"scaler_hand_example", test_actor_std_scaler_hand_example},
      {"scaler_options", test_actor_std_scaler_options},
      {"scaler_incremental", test_actor_std_scaler_incremental},
      {"scaler_state_roundtrip", test_actor_std_scaler_state_roundtrip},
      {"state_lying_payload", test_actor_std_state_lying_payload},
      {"state_old_layout", test_actor_std_state_old_layout},
      {"linreg_exact", test_actor_std_linreg_exact},
      {"linreg_noisy", test_actor_std_linreg_noisy},
      {"linreg_refusals", test_actor_std_linreg_refusals},
      {"logreg_gradient_step", test_actor_std_logreg_gradient_step},
      {"logreg_two_classes", test_actor_std_logreg_two_classes},
      {"logreg_three_classes", test_actor_std_logreg_three_classes},
      {"logreg_refusals", test_actor_std_logreg_refusals},
      {"concurrent_apply", test_actor_std_concurrent_apply},
      CU_TEST_INFO_NULL,
  };
  return fx_run_suite("actor_std", NULL, NULL, tests);
}
