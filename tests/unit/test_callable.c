/*
 * test_callable.c - the serving callable (core/callable.c) against the
 * step executor, over the built providers (plugins.d of the build tree).
 *
 * A callable's first call runs through the step executor; later calls
 * take the chain path, which reuses each step's earlier output in place
 * (apply_into). The reference for every request is therefore the first
 * call of a fresh callable, which is the executor's answer: a long-lived
 * callable must give bit-identical frames (and identical errors) for a
 * sequence of requests whose row counts, nulls, label column and values
 * change from call to call. And reuse must never touch a value the caller
 * still holds.
 */
#include <CUnit/Basic.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "switchyard/switchyard.h"
#include "fixture.h"

static sy_platform *plat;

/* Two flows over the same table: a model chain with an i64 feature, and a
 * chain that passes a string column and nulls through. */
static const char *const flow_model =
    "name = \"model\";\n"
    "source = { feed = \"data\"; table = \"points\"; label = \"y\"; };\n"
    "actors = (\n"
    "  { id = \"pick\"; actor = \"std.select\";"
    " params = { columns = [\"a\", \"b\", \"c\", \"e\"]; }; },\n"
    "  { id = \"scale\"; actor = \"std.scaler\"; },\n"
    "  { id = \"fit\"; actor = \"std.linreg\"; },\n"
    "  { id = \"top\"; actor = \"std.head\"; params = { n = 2; }; }\n"
    ");\n";
static const char *const flow_pass =
    "name = \"pass\";\n"
    "source = { feed = \"data\"; table = \"points\"; label = \"y\"; };\n"
    "actors = (\n"
    "  { id = \"less\"; actor = \"std.drop\";"
    " params = { columns = [\"c\"]; }; },\n"
    "  { id = \"scale\"; actor = \"std.scaler\";"
    " params = { columns = [\"a\", \"b\"]; }; },\n"
    "  { id = \"top\"; actor = \"std.head\"; params = { n = 3; }; }\n"
    ");\n";

/* For the row path's other kernels: a scaler that only centres, under a
 * linreg that reads its columns in another order than the request's (drop
 * keeps the request's order, the model was fitted in the table's); a
 * scaler over a constant column (deviation 0: its cells become 0); and a
 * standardising scaler that is the result (nothing to fuse it with). */
static const char *const flow_center =
    "name = \"center\";\n"
    "source = { feed = \"data\"; table = \"points\"; label = \"y\"; };\n"
    "actors = (\n"
    "  { id = \"less\"; actor = \"std.drop\";"
    " params = { columns = [\"d\", \"e\", \"k\"]; }; },\n"
    "  { id = \"mid\"; actor = \"std.scaler\";"
    " params = { with_std = false; }; },\n"
    "  { id = \"fit\"; actor = \"std.linreg\"; }\n"
    ");\n";
static const char *const flow_zero =
    "name = \"zero\";\n"
    "source = { feed = \"data\"; table = \"points\"; label = \"y\"; };\n"
    "actors = (\n"
    "  { id = \"pick\"; actor = \"std.select\";"
    " params = { columns = [\"k\", \"a\"]; }; },\n"
    "  { id = \"scale\"; actor = \"std.scaler\"; }\n"
    ");\n";

static const char *const flow_std =
    "name = \"std\";\n"
    "source = { feed = \"data\"; table = \"points\"; label = \"y\"; };\n"
    "actors = (\n"
    "  { id = \"pick\"; actor = \"std.select\";"
    " params = { columns = [\"b\", \"a\"]; }; },\n"
    "  { id = \"scale\"; actor = \"std.scaler\"; }\n"
    ");\n";

/* An opaque (FN) kernel between a select and a scaler + linreg that fuse
 * into one loop reading its output. fault.pass is a fixture actor
 * (tests/providers/fx_faulty.c). */
static const char *const flow_fn =
    "name = \"fn\";\n"
    "source = { feed = \"data\"; table = \"points\"; label = \"y\"; };\n"
    "actors = (\n"
    "  { id = \"pick\"; actor = \"std.select\";"
    " params = { columns = [\"a\", \"b\", \"c\"]; }; },\n"
    "  { id = \"same\"; actor = \"fault.pass\"; },\n"
    "  { id = \"scale\"; actor = \"std.scaler\"; },\n"
    "  { id = \"fit\"; actor = \"std.linreg\"; }\n"
    ");\n";

/* Classifiers (ABI 1.5 row labels): std.logreg's predicted class is a
 * string column, carried on the row path as an index into its classes.
 * The label d has five string classes; e has integer ones (no row
 * kernel); cls_p keeps only probabilities (a result of numbers, which
 * the plain bind takes). */
static const char *const flow_cls =
    "name = \"cls\";\n"
    "source = { feed = \"data\"; table = \"points\"; label = \"d\"; };\n"
    "actors = (\n"
    "  { id = \"pick\"; actor = \"std.select\";"
    " params = { columns = [\"a\", \"b\", \"c\"]; }; },\n"
    "  { id = \"scale\"; actor = \"std.scaler\"; },\n"
    "  { id = \"fit\"; actor = \"std.logreg\"; inputs = [\"scale\"];"
    " params = { epochs = 40; rate = 0.5; }; }\n"
    ");\n";
static const char *const flow_cls_all =
    "name = \"cls_all\";\n"
    "source = { feed = \"data\"; table = \"points\"; label = \"d\"; };\n"
    "actors = (\n"
    "  { id = \"scale\"; actor = \"std.scaler\"; },\n"
    "  { id = \"fit\"; actor = \"std.logreg\"; inputs = [\"scale\"];"
    " params = { epochs = 40; rate = 0.5; output = \"class\"; }; }\n"
    ");\n";
static const char *const flow_cls_p =
    "name = \"cls_p\";\n"
    "source = { feed = \"data\"; table = \"points\"; label = \"d\"; };\n"
    "actors = (\n"
    "  { id = \"pick\"; actor = \"std.select\";"
    " params = { columns = [\"a\", \"b\"]; }; },\n"
    "  { id = \"fit\"; actor = \"std.logreg\"; inputs = [\"pick\"];"
    " params = { epochs = 40; }; },\n"
    "  { id = \"keep\"; actor = \"std.select\"; inputs = [\"fit\"];"
    " params = { columns = [\"p_w3\", \"p_w1\"]; }; }\n"
    ");\n";
static const char *const flow_cls_int =
    "name = \"cls_int\";\n"
    "source = { feed = \"data\"; table = \"points\"; label = \"e\"; };\n"
    "actors = (\n"
    "  { id = \"pick\"; actor = \"std.select\";"
    " params = { columns = [\"a\", \"b\"]; }; },\n"
    "  { id = \"fit\"; actor = \"std.logreg\"; inputs = [\"pick\"];"
    " params = { epochs = 40; }; }\n"
    ");\n";

static int suite_init(void) {
  if (fx_tmpdir_make("/tmp/sy_callable_XXXXXX") != 0)
    return 1;
  FILE *f = fopen(fx_tmp_path("points.csv"), "w");
  if (!f)
    return 1;
  fprintf(f, "a,b,c,d,e,k,y\n");
  unsigned s = 11;
  for (int r = 0; r < 40; r++) {
    double x[3];
    for (int k = 0; k < 3; k++) {
      s = s * 1103515245u + 12345u;
      x[k] = (double)((s >> 8) % 10000) / 100.0;
    }
    int e = (int)((s >> 4) % 7);
    fprintf(f, "%.17g,%.17g,%.17g,w%d,%d,1.5,%.17g\n", x[0], x[1], x[2], r % 5,
            e, 1.5 * x[0] - 0.5 * x[1] + 2 * e + (r % 3) * 0.1);
  }
  fclose(f);
  /* The built plugins, and the fault.* fixture actors (fault.pass has an
   * opaque row kernel). */
  char plugins[1200], o1[700];
  const char *top = getenv("top_builddir");
  snprintf(plugins, sizeof plugins, "%s:%s/tests/providers/.libs",
           fx_plugins_dir(), top ? top : ".");
  setenv("SWITCHYARD_PLUGIN_PATH", plugins, 1);
  snprintf(o1, sizeof o1, "FEED.data.path=%s", fx_tmpdir);
  const char *overrides[] = {"FEED.data.provider=csv", o1, "PLATFORM.cache=off",
                             NULL};
  sy_error err;
  if (fx_platform_open(overrides, &plat, &err)) {
    fprintf(stderr, "platform: %s\n", err.message);
    return 1;
  }
  /* Train both flows to state files. */
  const char *names[10] = {"model", "pass", "center",  "zero",  "std",
                           "fn",    "cls",  "cls_all", "cls_p", "cls_int"};
  const char *texts[10] = {flow_model, flow_pass,   flow_center, flow_zero,
                           flow_std,   flow_fn,     flow_cls,    flow_cls_all,
                           flow_cls_p, flow_cls_int};
  for (int i = 0; i < 10; i++) {
    char flow[64], state[400];
    snprintf(flow, sizeof flow, "%s.flow", names[i]);
    snprintf(state, sizeof state, "%s/%s.state", fx_tmpdir, names[i]);
    if (fx_write_text(flow, texts[i]) != 0)
      return 1;
    sy_program *prog = NULL;
    sy_job *job = NULL;
    sy_job_options jopts = {sizeof jopts, state, "off"};
    if (sy_program_compile(plat, fx_tmp_path(flow), SY_MODE_TRAIN, NULL, stderr,
                           &prog, &err) ||
        sy_job_new(plat, prog, &jopts, &job, &err) ||
        sy_job_run(job, "inline", &err)) {
      fprintf(stderr, "train %s: %s\n", names[i], err.message);
      return 1;
    }
    sy_job_free(job);
    sy_program_free(prog);
  }
  return 0;
}

static int suite_clean(void) {
  sy_platform_close(plat);
  return fx_tmpdir_remove() == 0 ? 0 : 1;
}

/* A request of `rows` rows, numbers drawn from seed; null_row >= 0 makes
 * that row of column b null; with_label adds y; without `drop` (a column
 * name) that column is left out. */
static sy_value *request(size_t rows, unsigned seed, long null_row,
                         int with_label, const char *drop) {
  sy_value *f = NULL;
  CU_ASSERT_FATAL(sy_frame_new(rows, &f) == 0);
  double num[3][8];
  int64_t e[8];
  const char *w[8];
  uint8_t valid[8];
  CU_ASSERT_FATAL(rows <= 8);
  for (size_t r = 0; r < rows; r++) {
    for (int k = 0; k < 3; k++) {
      seed = seed * 1103515245u + 12345u;
      num[k][r] = (double)((seed >> 8) % 100000) / 997.0 - 20;
    }
    e[r] = (int64_t)((seed >> 3) % 9) - 2;
    w[r] = r % 2 ? "odd" : "even";
    valid[r] = (long)r != null_row;
  }
  static const char *const cols[] = {"a", "b", "c", "d", "e"};
  for (int k = 0; k < 5; k++) {
    if (drop && strcmp(drop, cols[k]) == 0)
      continue;
    int rc = k < 3    ? sy_frame_add_f64(f, cols[k], num[k],
                                      k == 1 && null_row >= 0 ? valid : NULL)
             : k == 3 ? sy_frame_add_str(f, cols[k], w)
                      : sy_frame_add_i64(f, cols[k], e, NULL);
    CU_ASSERT_FATAL(rc == 0);
  }
  if (with_label)
    CU_ASSERT_FATAL(sy_frame_add_f64(f, "y", num[2], NULL) == 0);
  return f;
}

/* The step executor's answer: the first call of a fresh callable. */
static int reference(const char *flow, const char *state, const sy_value *req,
                     sy_value **out, sy_error *err) {
  sy_callable *c = NULL;
  int rc = sy_callable_new(plat, flow, state, &c, err);
  CU_ASSERT_FATAL(rc == 0);
  rc = sy_callable_call(c, req, out, err);
  sy_callable_free(c);
  return rc;
}

typedef struct req_spec {
  size_t rows;
  long null_row;
  int with_label;
  const char *drop;
} req_spec;

/* Requests whose shape changes along the way: same shape repeated (the
 * in-place path), more and fewer rows, a null, a label column, a missing
 * column (an error), then back to the first shape. */
static const req_spec specs[] = {
    {1, -1, 0, NULL}, {1, -1, 0, NULL}, {1, -1, 0, NULL}, {4, -1, 0, NULL},
    {4, -1, 0, NULL}, {4, 2, 0, NULL},  {4, 2, 0, NULL},  {4, -1, 0, NULL},
    {1, -1, 1, NULL}, {1, -1, 1, NULL}, {0, -1, 0, NULL}, {1, -1, 0, "a"},
    {1, -1, 0, NULL}, {2, 0, 0, NULL},  {2, -1, 0, NULL}, {1, -1, 0, NULL},
};

static void compare_sequence(const char *name) {
  char flow[300], state[300];
  snprintf(flow, sizeof flow, "%s/%s.flow", fx_tmpdir, name);
  snprintf(state, sizeof state, "%s/%s.state", fx_tmpdir, name);
  sy_callable *c = NULL;
  sy_error err, rerr;
  sy_error_clear(&err);
  CU_ASSERT_FATAL(sy_callable_new(plat, flow, state, &c, &err) == 0);
  for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
    const req_spec *sp = &specs[i];
    sy_value *req = request(sp->rows, 100 + (unsigned)i, sp->null_row,
                            sp->with_label, sp->drop);
    sy_value *got = NULL, *want = NULL;
    sy_error_clear(&err);
    sy_error_clear(&rerr);
    int rc = sy_callable_call(c, req, &got, &err);
    int wrc = reference(flow, state, req, &want, &rerr);
    CU_ASSERT_EQUAL(rc, wrc);
    if (rc || wrc) {
      CU_ASSERT_STRING_EQUAL(err.message, rerr.message);
      CU_ASSERT_PTR_NULL(got);
    } else {
      CU_ASSERT_TRUE(sy_value_equal(got, want));
      CU_ASSERT_EQUAL(sy_frame_rows(got), sy_frame_rows(want));
    }
    if (!sy_value_equal(got, want) || rc != wrc)
      fprintf(stderr, "%s: request %zu differs (%d/%d: %s | %s)\n", name, i, rc,
              wrc, err.message, rerr.message);
    sy_value_unref(got);
    sy_value_unref(want);
    sy_value_unref(req);
  }
  sy_callable_free(c);
}

static void test_callable_matches_executor_model(void) {
  compare_sequence("model");
}

static void test_callable_matches_executor_pass(void) {
  compare_sequence("pass");
}

/* The chain path really reuses: once the caller drops a result, the next
 * call of the same shape hands back the very same frame, rewritten. And a
 * result the caller keeps is never rewritten. */
static void test_callable_reuse_never_aliases_held_values(void) {
  char flow[300], state[300];
  snprintf(flow, sizeof flow, "%s/model.flow", fx_tmpdir);
  snprintf(state, sizeof state, "%s/model.state", fx_tmpdir);
  sy_callable *c = NULL;
  sy_error err;
  sy_error_clear(&err);
  CU_ASSERT_FATAL(sy_callable_new(plat, flow, state, &c, &err) == 0);
  sy_value *req = request(1, 1, -1, 0, NULL);
  sy_value *r1 = NULL, *r2 = NULL, *r3 = NULL, *r4 = NULL;
  /* First call: executor; second: the chain builds its frames. */
  CU_ASSERT_FATAL(sy_callable_call(c, req, &r1, &err) == 0);
  sy_value_unref(r1);
  CU_ASSERT_FATAL(sy_callable_call(c, req, &r1, &err) == 0);
  void *first = r1;
  sy_value_unref(r1);
  CU_ASSERT_FATAL(sy_callable_call(c, req, &r2, &err) == 0);
  CU_ASSERT_PTR_EQUAL(r2, first); /* rewritten in place */

  /* Keep r2: the next call must build a new frame and leave r2 alone. */
  double kept = sy_frame_f64(r2, 0)[0];
  sy_value *other = request(1, 999, -1, 0, NULL);
  CU_ASSERT_FATAL(sy_callable_call(c, other, &r3, &err) == 0);
  CU_ASSERT_PTR_NOT_EQUAL(r3, r2);
  CU_ASSERT_EQUAL(memcmp(&kept, sy_frame_f64(r2, 0), sizeof kept), 0);
  CU_ASSERT_NOT_EQUAL(sy_frame_f64(r3, 0)[0], kept);
  /* The request is never written either. */
  sy_value *copy = request(1, 999, -1, 0, NULL);
  CU_ASSERT_TRUE(sy_value_equal(other, copy));
  /* Holding r3 too, then dropping r2: r3 is still ours and unchanged. */
  double kept3 = sy_frame_f64(r3, 0)[0];
  CU_ASSERT_FATAL(sy_callable_call(c, req, &r4, &err) == 0);
  CU_ASSERT_PTR_NOT_EQUAL(r4, r3);
  CU_ASSERT_PTR_NOT_EQUAL(r4, r2);
  CU_ASSERT_EQUAL(memcmp(&kept3, sy_frame_f64(r3, 0), sizeof kept3), 0);
  CU_ASSERT_EQUAL(memcmp(&kept, sy_frame_f64(r4, 0), sizeof kept), 0);
  sy_value_unref(r2);
  sy_value_unref(r3);
  sy_value_unref(r4);
  sy_value_unref(copy);
  sy_value_unref(other);
  sy_value_unref(req);
  sy_callable_free(c);
}

/* ---- the row path (sy_row_call) ------------------------------------ */

/* A one-row frame of f64 columns names[i] = x[i]. */
static sy_value *row_frame(const char *const *names, const double *x,
                           size_t n) {
  sy_value *f = NULL;
  CU_ASSERT_FATAL(sy_frame_new(1, &f) == 0);
  for (size_t i = 0; i < n; i++)
    CU_ASSERT_FATAL(sy_frame_add_f64(f, names[i], &x[i], NULL) == 0);
  return f;
}

/* NAME.flow with its trained state as two callables: c for a row call,
 * ref for the frame path to compare with. */
static void open_two(const char *name, sy_callable **c, sy_callable **ref) {
  char flow[300], state[300];
  snprintf(flow, sizeof flow, "%s/%s.flow", fx_tmpdir, name);
  snprintf(state, sizeof state, "%s/%s.state", fx_tmpdir, name);
  sy_error err;
  sy_error_clear(&err);
  CU_ASSERT_FATAL(sy_callable_new(plat, flow, state, c, &err) == 0);
  CU_ASSERT_FATAL(sy_callable_new(plat, flow, state, ref, &err) == 0);
}

/* Binds a row call to `names` (in that order) and checks, over many rows
 * of varied magnitude and sign, that it gives the frame path's cells bit
 * for bit, with the frame path's column names. */
static void row_matches_frame(const char *name, const char *const *names,
                              size_t n, size_t want_width) {
  sy_callable *c = NULL, *ref = NULL;
  sy_row_call *r = NULL;
  sy_error err;
  sy_error_clear(&err);
  open_two(name, &c, &ref);
  if (sy_callable_bind_row(c, names, n, &r, &err) != 0)
    fprintf(stderr, "bind %s: %s\n", name, err.message);
  CU_ASSERT_FATAL(r != NULL);
  CU_ASSERT_EQUAL(sy_row_call_width(r), want_width);
  CU_ASSERT_PTR_NULL(sy_row_call_name(r, want_width));
  unsigned seed = 5;
  for (int round = 0; round < 64; round++) {
    double x[8], y[8], dirty[8];
    for (size_t i = 0; i < n; i++) {
      seed = seed * 1103515245u + 12345u;
      x[i] = ((double)((seed >> 8) % 200001) - 100000.0) /
             (round % 3 == 0 ? 7.0 : 1000.0);
    }
    /* Whatever out holds on entry must not matter. */
    for (size_t j = 0; j < 8; j++)
      y[j] = dirty[j] = NAN;
    sy_row_call_run(r, x, y);
    sy_value *req = row_frame(names, x, n), *got = NULL;
    CU_ASSERT_FATAL(sy_callable_call(ref, req, &got, &err) == 0);
    CU_ASSERT_EQUAL(sy_frame_rows(got), 1);
    CU_ASSERT_EQUAL(sy_frame_cols(got), sy_row_call_width(r));
    for (size_t j = 0; j < sy_frame_cols(got) && j < 8; j++) {
      CU_ASSERT_STRING_EQUAL(sy_frame_col_name(got, j), sy_row_call_name(r, j));
      const double *cell = sy_frame_f64(got, j);
      CU_ASSERT_FATAL(cell != NULL);
      CU_ASSERT_EQUAL(memcmp(&cell[0], &y[j], sizeof y[j]), 0);
    }
    /* Nothing past the width is written. */
    for (size_t j = sy_row_call_width(r); j < 8; j++)
      CU_ASSERT_TRUE(isnan(y[j]) && isnan(dirty[j]));
    sy_value_unref(got);
    sy_value_unref(req);
  }
  sy_row_call_free(r);
  sy_callable_free(ref);
  sy_callable_free(c);
}

/* select -> scaler -> linreg -> head: request columns in another order
 * than the flow's (a gather before the scaler), with the label column
 * among them (set aside) and an extra column select drops. */
static void test_row_matches_frame_model(void) {
  const char *const names[] = {"y", "e", "zz", "c", "b", "a"};
  row_matches_frame("model", names, 6, 1);
}

/* The same flow with the request in the flow's own column order: the
 * whole flow becomes one fused loop reading the request directly. */
static void test_row_matches_frame_model_direct(void) {
  const char *const names[] = {"a", "b", "c", "e"};
  row_matches_frame("model", names, 4, 1);
}

/* Centring only (no fusion: a SCALE then a DOT reading it out of order),
 * a constant column (its deviation is 0: the ZERO mode), and a
 * standardising SCALE alone. */
static void test_row_matches_frame_center_zero(void) {
  const char *const cnames[] = {"c", "d", "a", "e", "k", "b"};
  row_matches_frame("center", cnames, 6, 1);
  const char *const tnames[] = {"a", "b", "c", "d", "e", "k"};
  row_matches_frame("center", tnames, 6, 1);
  const char *const znames[] = {"a", "k"};
  row_matches_frame("zero", znames, 2, 2);
  const char *const snames[] = {"b", "a"};
  row_matches_frame("std", snames, 2, 2);
  const char *const fnames[] = {"a", "b", "c"};
  row_matches_frame("fn", fnames, 3, 1);
}

/* A classifier on the row path (SY_ROW_LABELS): every cell equal to the
 * frame path's, the class as the string its label index names, bit for
 * bit for the probabilities; the plain bind refuses the label result. */
static void row_labels_match_frame(const char *name, const char *const *names,
                                   size_t n, size_t want_width,
                                   size_t want_label) {
  sy_callable *c = NULL, *ref = NULL;
  sy_row_call *r = NULL;
  sy_error err;
  sy_error_clear(&err);
  open_two(name, &c, &ref);
  CU_ASSERT_EQUAL(sy_callable_bind_row(c, names, n, &r, &err), SY_ENOTSUP);
  CU_ASSERT_PTR_NULL(r);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "is a label (text)"));
  if (sy_callable_bind_row_flags(c, names, n, SY_ROW_LABELS, &r, &err) != 0)
    fprintf(stderr, "bind %s: %s\n", name, err.message);
  CU_ASSERT_FATAL(r != NULL);
  CU_ASSERT_EQUAL(sy_row_call_width(r), want_width);
  size_t nlab = 99;
  CU_ASSERT_PTR_NULL(sy_row_call_labels(r, want_width, &nlab));
  CU_ASSERT_EQUAL(nlab, 0);
  for (size_t j = 0; j < want_width; j++) {
    const char *const *lab = sy_row_call_labels(r, j, &nlab);
    CU_ASSERT_EQUAL(lab != NULL, j == want_label);
    if (lab) {
      CU_ASSERT_EQUAL(nlab, 5); /* w0 .. w4, sorted */
      CU_ASSERT_STRING_EQUAL(lab[0], "w0");
      CU_ASSERT_STRING_EQUAL(lab[4], "w4");
    }
  }
  unsigned seed = 9;
  int classes_seen = 0;
  for (int round = 0; round < 200; round++) {
    double x[8], y[8];
    for (size_t i = 0; i < n; i++) {
      seed = seed * 1103515245u + 12345u;
      x[i] = (double)((seed >> 8) % 20001) / (round % 2 ? 100.0 : 7.0) - 20;
    }
    sy_row_call_run(r, x, y);
    sy_value *req = row_frame(names, x, n), *got = NULL;
    CU_ASSERT_FATAL(sy_callable_call(ref, req, &got, &err) == 0);
    CU_ASSERT_EQUAL_FATAL(sy_frame_cols(got), want_width);
    for (size_t j = 0; j < want_width; j++) {
      CU_ASSERT_STRING_EQUAL(sy_frame_col_name(got, j), sy_row_call_name(r, j));
      const char *const *lab = sy_row_call_labels(r, j, &nlab);
      if (lab) {
        CU_ASSERT_FATAL(y[j] >= 0 && y[j] < (double)nlab &&
                        y[j] == (double)(size_t)y[j]);
        CU_ASSERT_EQUAL_FATAL(sy_frame_col_type(got, j), SY_COL_STR);
        CU_ASSERT_STRING_EQUAL(sy_frame_str(got, j, 0), lab[(size_t)y[j]]);
        classes_seen |= 1 << (int)y[j];
      } else {
        CU_ASSERT_EQUAL_FATAL(sy_frame_col_type(got, j), SY_COL_F64);
        CU_ASSERT_EQUAL(memcmp(&sy_frame_f64(got, j)[0], &y[j], sizeof y[j]),
                        0);
      }
    }
    sy_value_unref(got);
    sy_value_unref(req);
  }
  /* The inputs were spread enough to predict more than one class. */
  CU_ASSERT(want_label >= want_width || (classes_seen & (classes_seen - 1)));
  sy_row_call_free(r);
  r = NULL;
  /* Every step is row-wise: row by row over a batch gives the frame
   * path's result on the whole batch. */
  if (sy_callable_bind_row_flags(c, names, n, SY_ROW_LABELS | SY_ROW_BATCH, &r,
                                 &err) != 0)
    fprintf(stderr, "bind batch %s: %s\n", name, err.message);
  CU_ASSERT_FATAL(r != NULL);
  enum { BATCH = 50 };
  double xs[BATCH][8], ys[BATCH][8];
  sy_value *req = NULL, *got = NULL;
  CU_ASSERT_FATAL(sy_frame_new(BATCH, &req) == 0);
  for (size_t i = 0; i < n; i++) {
    double colv[BATCH];
    for (size_t k = 0; k < BATCH; k++) {
      seed = seed * 1103515245u + 12345u;
      colv[k] = xs[k][i] = (double)((seed >> 8) % 20001) / 50.0 - 200;
    }
    CU_ASSERT_FATAL(sy_frame_add_f64(req, names[i], colv, NULL) == 0);
  }
  for (size_t k = 0; k < BATCH; k++)
    sy_row_call_run(r, xs[k], ys[k]);
  CU_ASSERT_FATAL(sy_callable_call(ref, req, &got, &err) == 0);
  CU_ASSERT_EQUAL_FATAL(sy_frame_rows(got), BATCH);
  for (size_t j = 0; j < want_width; j++)
    for (size_t k = 0; k < BATCH; k++) {
      if (j == want_label) {
        CU_ASSERT_STRING_EQUAL(
            sy_frame_str(got, j, k),
            sy_row_call_labels(r, j, NULL)[(size_t)ys[k][j]]);
      } else {
        CU_ASSERT_EQUAL(
            memcmp(&sy_frame_f64(got, j)[k], &ys[k][j], sizeof ys[k][j]), 0);
      }
    }
  sy_value_unref(got);
  sy_value_unref(req);
  sy_row_call_free(r);
  sy_callable_free(ref);
  sy_callable_free(c);
}

static void test_row_labels_match_frame(void) {
  const char *const names[] = {"c", "a", "b"};
  row_labels_match_frame("cls", names, 3, 6, 0);
  /* every numeric column a feature (k constant: a ZERO scale), the
   * request in another order than the table's, output renamed */
  const char *const all[] = {"y", "k", "c", "e", "b", "a"};
  row_labels_match_frame("cls_all", all, 6, 6, 0);
}

/* A result of probabilities only takes the plain bind; a label column
 * read by a kernel, and integer classes, are refused (the frame path
 * serves them). */
static void test_row_labels_refused(void) {
  char flow[300], state[300];
  sy_callable *c = NULL;
  sy_row_call *r = NULL;
  sy_error err;
  sy_error_clear(&err);
  snprintf(flow, sizeof flow, "%s/cls_p.flow", fx_tmpdir);
  snprintf(state, sizeof state, "%s/cls_p.state", fx_tmpdir);
  CU_ASSERT_FATAL(sy_callable_new(plat, flow, state, &c, &err) == 0);
  const char *const ab[] = {"a", "b"};
  if (sy_callable_bind_row(c, ab, 2, &r, &err) != 0)
    fprintf(stderr, "bind cls_p: %s\n", err.message);
  CU_ASSERT_FATAL(r != NULL);
  CU_ASSERT_EQUAL(sy_row_call_width(r), 2);
  CU_ASSERT_STRING_EQUAL(sy_row_call_name(r, 0), "p_w3");
  CU_ASSERT_PTR_NULL(sy_row_call_labels(r, 0, NULL));
  double x[2] = {3, 40}, y[2];
  sy_row_call_run(r, x, y);
  sy_value *req = row_frame(ab, x, 2), *got = NULL;
  CU_ASSERT_FATAL(sy_callable_call(c, req, &got, &err) == 0);
  CU_ASSERT_EQUAL(memcmp(&sy_frame_f64(got, 1)[0], &y[1], sizeof y[1]), 0);
  sy_value_unref(got);
  sy_value_unref(req);
  sy_row_call_free(r);
  sy_callable_free(c);
  snprintf(flow, sizeof flow, "%s/cls_int.flow", fx_tmpdir);
  snprintf(state, sizeof state, "%s/cls_int.state", fx_tmpdir);
  CU_ASSERT_FATAL(sy_callable_new(plat, flow, state, &c, &err) == 0);
  CU_ASSERT_EQUAL(sy_callable_bind_row_flags(c, ab, 2, SY_ROW_LABELS, &r, &err),
                  SY_ENOTSUP);
  CU_ASSERT_PTR_NULL(r);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "integer classes"));
  sy_callable_free(c);
  /* A scaler after the classifier would read the class as a number. */
  static const char *const after =
      "name = \"after\";\n"
      "source = { feed = \"data\"; table = \"points\"; label = \"d\"; };\n"
      "actors = (\n"
      "  { id = \"pick\"; actor = \"std.select\";"
      " params = { columns = [\"a\", \"b\"]; }; },\n"
      "  { id = \"fit\"; actor = \"std.logreg\"; inputs = [\"pick\"];"
      " params = { epochs = 5; }; },\n"
      "  { id = \"scale\"; actor = \"std.scaler\"; inputs = [\"fit\"]; }\n"
      ");\n";
  CU_ASSERT_FATAL(fx_write_text("after.flow", after) == 0);
  snprintf(state, sizeof state, "%s/after.state", fx_tmpdir);
  sy_program *prog = NULL;
  sy_job *job = NULL;
  sy_job_options jopts = {sizeof jopts, state, "off"};
  CU_ASSERT_FATAL(sy_program_compile(plat, fx_tmp_path("after.flow"),
                                     SY_MODE_TRAIN, NULL, stderr, &prog,
                                     &err) == 0);
  CU_ASSERT_FATAL(sy_job_new(plat, prog, &jopts, &job, &err) == 0);
  CU_ASSERT_FATAL(sy_job_run(job, "inline", &err) == 0);
  sy_job_free(job);
  sy_program_free(prog);
  CU_ASSERT_FATAL(
      sy_callable_new(plat, fx_tmp_path("after.flow"), state, &c, &err) == 0);
  CU_ASSERT_EQUAL(sy_callable_bind_row_flags(c, ab, 2, SY_ROW_LABELS, &r, &err),
                  SY_ENOTSUP);
  CU_ASSERT_PTR_NULL(r);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "reads the label column"));
  sy_callable_free(c);
}

/* drop -> scaler (two columns of three) -> head: pass-through columns. */
static void test_row_matches_frame_pass(void) {
  const char *const names[] = {"a", "b", "c", "e"};
  row_matches_frame("pass", names, 4, 3);
}

/* What the row path cannot run, or a request the flow refuses: clear
 * errors at bind time, the same message as the frame path where it is the
 * actor's own error. */
static void test_row_bind_errors(void) {
  char flow[300], state[300];
  snprintf(flow, sizeof flow, "%s/model.flow", fx_tmpdir);
  snprintf(state, sizeof state, "%s/model.state", fx_tmpdir);
  sy_callable *c = NULL;
  sy_row_call *r = NULL;
  sy_error err, ferr;
  sy_error_clear(&err);
  sy_error_clear(&ferr);
  CU_ASSERT_FATAL(sy_callable_new(plat, flow, state, &c, &err) == 0);
  /* A column select needs is missing: the frame path's error. */
  const char *const lacking[] = {"b", "c", "e"};
  double x[3] = {1, 2, 3};
  sy_value *req = row_frame(lacking, x, 3), *got = NULL;
  CU_ASSERT_EQUAL(sy_callable_call(c, req, &got, &ferr), SY_EINVAL);
  CU_ASSERT_EQUAL(sy_callable_bind_row(c, lacking, 3, &r, &err), SY_EINVAL);
  CU_ASSERT_PTR_NULL(r);
  CU_ASSERT_STRING_EQUAL(err.message, ferr.message);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "unknown column 'a'"));
  sy_value_unref(req);
  /* The same name twice. */
  const char *const twice[] = {"a", "b", "a"};
  CU_ASSERT_EQUAL(sy_callable_bind_row(c, twice, 3, &r, &err), SY_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "'a' is given twice"));
  /* std.head keeps the first rows of a batch: not row-wise. */
  const char *const abce[] = {"a", "b", "c", "e"};
  CU_ASSERT_EQUAL(
      sy_callable_bind_row_flags(c, abce, 4, SY_ROW_BATCH, &r, &err),
      SY_ENOTSUP);
  CU_ASSERT_PTR_NULL(r);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "std.head is not row-wise"));
  CU_ASSERT_EQUAL(sy_callable_bind_row_flags(c, abce, 4, 0x80u, &r, &err),
                  SY_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "unknown row-call flags 0x80"));
  CU_ASSERT_EQUAL(sy_callable_bind_row_flags(c, abce, 4, 0, &r, &err), 0);
  sy_row_call_free(r);
  r = NULL;
  sy_callable_free(c);

  /* Two inputs (std.concat), and head with n = 0: not rows. */
  static const char *const flows[2] = {
      "name = \"join\";\n"
      "source = { feed = \"data\"; table = \"points\"; };\n"
      "actors = (\n"
      "  { id = \"l\"; actor = \"std.select\";"
      " params = { columns = [\"a\"]; }; },\n"
      "  { id = \"r\"; actor = \"std.select\";"
      " params = { columns = [\"b\"]; }; inputs = [\"source\"]; },\n"
      "  { id = \"both\"; actor = \"std.concat\"; inputs = [\"l\", \"r\"]; }\n"
      ");\n",
      "name = \"none\";\n"
      "source = { feed = \"data\"; table = \"points\"; };\n"
      "actors = ( { id = \"zero\"; actor = \"std.head\";"
      " params = { n = 0; }; } );\n"};
  static const char *const want[2] = {"takes 2 inputs", "n = 0 leaves no row"};
  for (int i = 0; i < 2; i++) {
    FILE *f = fopen(fx_tmp_path("notrow.flow"), "w");
    CU_ASSERT_FATAL(f != NULL);
    fputs(flows[i], f);
    fclose(f);
    sy_error_clear(&err);
    if (sy_callable_new(plat, fx_tmp_path("notrow.flow"), NULL, &c, &err))
      fprintf(stderr, "notrow %d: %s\n", i, err.message);
    CU_ASSERT_FATAL(c != NULL);
    const char *const ab[] = {"a", "b"};
    CU_ASSERT_EQUAL(sy_callable_bind_row(c, ab, 2, &r, &err), SY_ENOTSUP);
    CU_ASSERT_PTR_NULL(r);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, want[i]));
    if (!strstr(err.message, want[i]))
      fprintf(stderr, "notrow %d: %s\n", i, err.message);
    sy_callable_free(c);
    c = NULL;
  }
}

/* A request frame of columns a, b, c, e (e an i64) with these e's. */
static sy_value *request_e(const int64_t *e, size_t rows) {
  double a[4] = {1, 2, 3, 4}, b[4] = {5, 6, 7, 8}, c[4] = {9, 9, 9, 9};
  sy_value *f = NULL;
  CU_ASSERT_FATAL(rows <= 4 && sy_frame_new(rows, &f) == 0);
  CU_ASSERT(sy_frame_add_f64(f, "a", a, NULL) == 0);
  CU_ASSERT(sy_frame_add_f64(f, "b", b, NULL) == 0);
  CU_ASSERT(sy_frame_add_f64(f, "c", c, NULL) == 0);
  CU_ASSERT(sy_frame_add_i64(f, "e", e, NULL) == 0);
  return f;
}

/* The source's columns and where meet each request (wave 7): columns
 * kept in their order, a row the where excludes refused by number, a
 * column the where reads required; the row path refused when a where
 * applies or the row is not exactly the columns. */
static void test_callable_applies_source_query(void) {
  static const char *const flow_q =
      "name = \"q\";\n"
      "source = { feed = \"data\"; table = \"points\"; label = \"y\";\n"
      "  columns = [\"b\", \"a\", \"y\"];\n"
      "  where = { column = \"e\"; op = \">=\"; value = 2; };\n"
      "  order = [\"a desc\"]; limit = 1; };\n"
      "actors = ( { id = \"rows\"; actor = \"std.concat\"; } );\n";
  static const char *const flow_c =
      "name = \"c\";\n"
      "source = { feed = \"data\"; table = \"points\"; label = \"y\";\n"
      "  columns = [\"b\", \"a\", \"y\"]; };\n"
      "actors = ( { id = \"pick\"; actor = \"std.select\";"
      " params = { columns = [\"a\", \"b\"]; }; } );\n";
  CU_ASSERT_FATAL(fx_write_text("q.flow", flow_q) == 0);
  CU_ASSERT_FATAL(fx_write_text("c.flow", flow_c) == 0);
  sy_error err;
  sy_error_clear(&err);
  sy_callable *c = NULL;
  CU_ASSERT_FATAL(
      sy_callable_new(plat, fx_tmp_path("q.flow"), NULL, &c, &err) == 0);
  const sy_feed_query *q = sy_callable_query(c);
  CU_ASSERT_FATAL(q != NULL);
  CU_ASSERT(q->n_columns == 3 && q->n_where == 1 && q->limit == 1);
  /* Every row matches: both answered (no order, no limit), b then a. */
  int64_t good[2] = {3, 2};
  sy_value *in = request_e(good, 2), *out = NULL;
  CU_ASSERT_FATAL(sy_callable_call(c, in, &out, &err) == 0);
  CU_ASSERT(sy_frame_rows(out) == 2 && sy_frame_cols(out) == 2);
  CU_ASSERT(strcmp(sy_frame_col_name(out, 0), "b") == 0);
  CU_ASSERT(strcmp(sy_frame_col_name(out, 1), "a") == 0);
  CU_ASSERT(sy_frame_f64(out, 1)[0] == 1 && sy_frame_f64(out, 1)[1] == 2);
  sy_value_unref(out);
  sy_value_unref(in);
  /* The third row does not match: refused, named, twice (the second
   * call takes the chain path). */
  int64_t bad[3] = {2, 5, 1};
  in = request_e(bad, 3);
  for (int k = 0; k < 2; k++) {
    out = NULL;
    CU_ASSERT(sy_callable_call(c, in, &out, &err) == SY_EINVAL);
    CU_ASSERT(out == NULL);
    CU_ASSERT(strstr(err.message, "request row 3 does not match the "
                                  "source's where (e >= 2") != NULL);
  }
  sy_value_unref(in);
  /* A request without the column the where reads. */
  sy_value *no_e = NULL;
  double a[1] = {1}, b[1] = {2};
  CU_ASSERT_FATAL(sy_frame_new(1, &no_e) == 0);
  sy_frame_add_f64(no_e, "a", a, NULL);
  sy_frame_add_f64(no_e, "b", b, NULL);
  CU_ASSERT(sy_callable_call(c, no_e, &out, &err) == SY_EINVAL);
  CU_ASSERT(strstr(err.message, "no column 'e'") != NULL);
  sy_value_unref(no_e);
  const char *names[] = {"b", "a"};
  sy_row_call *r = NULL;
  CU_ASSERT(sy_callable_bind_row(c, names, 2, &r, &err) == SY_ENOTSUP);
  CU_ASSERT(r == NULL);
  sy_callable_free(c);
  /* Columns alone: the row path takes exactly the columns, in order. */
  CU_ASSERT_FATAL(
      sy_callable_new(plat, fx_tmp_path("c.flow"), NULL, &c, &err) == 0);
  CU_ASSERT(sy_callable_bind_row(c, names, 2, &r, &err) == 0);
  sy_row_call_free(r);
  r = NULL;
  const char *swapped[] = {"a", "b"};
  CU_ASSERT(sy_callable_bind_row(c, swapped, 2, &r, &err) == SY_ENOTSUP);
  in = request_e(good, 2);
  CU_ASSERT(sy_callable_call(c, in, &out, &err) == 0);
  CU_ASSERT(out && sy_frame_cols(out) == 2);
  sy_value_unref(out);
  sy_value_unref(in);
  sy_callable_free(c);
}

int main(void) {
  static const CU_TestInfo tests[] = {
      {"test_callable_matches_executor_model",
       test_callable_matches_executor_model},
      {"test_callable_matches_executor_pass",
       test_callable_matches_executor_pass},
      {"test_callable_reuse_never_aliases_held_values",
       test_callable_reuse_never_aliases_held_values},
      {"test_row_matches_frame_model", test_row_matches_frame_model},
      {"test_row_matches_frame_pass", test_row_matches_frame_pass},
      {"test_row_matches_frame_model_direct",
       test_row_matches_frame_model_direct},
      {"test_row_matches_frame_center_zero",
       test_row_matches_frame_center_zero},
      {"test_row_bind_errors", test_row_bind_errors},
      {"test_row_labels_match_frame", test_row_labels_match_frame},
      {"test_row_labels_refused", test_row_labels_refused},
      {"test_callable_applies_source_query",
       test_callable_applies_source_query},
      CU_TEST_INFO_NULL,
  };
  return fx_run_suite("callable", suite_init, suite_clean, tests);
}
