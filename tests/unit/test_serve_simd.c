/*
 * test_serve_simd.c - serve's fast JSON path (cli/serve_simd.cc, the
 * module serve-simdjson.so loaded from the build tree) against the yajl
 * decoder (cli/serve_req.c): the bench's bodies (iris rows and columns,
 * 1 and 100 rows) are taken by the fast path, and every body below,
 * common or corner, gives the same answer both ways: the same frame
 * (names, types, values bit for bit, nulls) or the same refusal.
 */
#include <CUnit/Basic.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <switchyard/switchyard.h>

#include "../../cli/serve_req.h"
#include "fixture.h"

static serve_schema iris, typed, f2, open_s = {0, NULL, NULL, NULL, 1};
static int loaded;

static int suite_init(void) {
  static const char *feats[] = {"sepal_length", "sepal_width", "petal_length",
                                "petal_width"};
  for (size_t i = 0; i < 4; i++)
    if (serve_schema_add(&iris, feats[i], SY_COL_F64))
      return 1;
  if (!(iris.label = strdup("species")))
    return 1;
  if (serve_schema_add(&typed, "a", SY_COL_F64) ||
      serve_schema_add(&typed, "n", SY_COL_I64) ||
      serve_schema_add(&typed, "s", SY_COL_STR) || !(typed.label = strdup("y")))
    return 1;
  if (serve_schema_add(&f2, "a", SY_COL_F64) ||
      serve_schema_add(&f2, "b", SY_COL_F64) || !(f2.label = strdup("y")))
    return 1;
  unsetenv("SWITCHYARD_SERVE_NO_SIMD");
  loaded = serve_fast_load(SY_TEST_SIMD_MODULE, 0);
  return 0;
}

static int suite_clean(void) {
  serve_schema_free(&iris);
  serve_schema_free(&typed);
  serve_schema_free(&f2);
  serve_set_fast(NULL);
  serve_set_fast_rows(NULL);
  return 0;
}

/* Decodes body both ways; 1 when the fast path took it. */
static int both_ways(const char *body, const serve_schema *s) {
  sy_value *fa = NULL, *fb = NULL;
  serve_fail ea, eb;
  unsigned long before = serve_fast_count();
  int ra = serve_decode(body, strlen(body), SERVE_BODY_JSON, s, &fa, &ea);
  int fast = serve_fast_count() == before + 1;
  serve_set_fast(NULL); /* and yajl alone */
  int rb = serve_decode(body, strlen(body), SERVE_BODY_JSON, s, &fb, &eb);
  if (loaded)
    serve_fast_load(SY_TEST_SIMD_MODULE, 0);
  int same = ra == rb;
  if (same && ra == 0)
    same = sy_value_equal(fa, fb);
  if (same && ra == SERVE_REFUSED)
    same = ea.status == eb.status && strcmp(ea.error, eb.error) == 0 &&
           strcmp(ea.detail, eb.detail) == 0;
  CU_ASSERT_TRUE(same);
  if (!same)
    fprintf(stderr, "differs (%d/%d, fast %d): %.200s\n", ra, rb, fast, body);
  sy_value_unref(fa);
  sy_value_unref(fb);
  return fast;
}

/* An iris body of n rows, as bench/serve.sh posts it (rows) or by
 * columns. */
static char *iris_body(size_t n, int by_rows) {
  static const char *feats[] = {"sepal_length", "sepal_width", "petal_length",
                                "petal_width"};
  sy_buf b = SY_BUF_INIT;
  if (by_rows) {
    sy_buf_puts(&b, "{\"rows\": [");
    for (size_t r = 0; r < n; r++) {
      sy_buf_puts(&b, r ? ", {" : "{");
      for (size_t c = 0; c < 4; c++)
        sy_buf_printf(&b, "%s\"%s\": %.1f", c ? ", " : "", feats[c],
                      (double)((r * 7 + c * 13) % 70 + 1) / 10);
      sy_buf_puts(&b, "}");
    }
    sy_buf_puts(&b, "]}");
  } else {
    sy_buf_puts(&b, "{\"columns\": {");
    for (size_t c = 0; c < 4; c++) {
      sy_buf_printf(&b, "%s\"%s\": [", c ? ", " : "", feats[c]);
      for (size_t r = 0; r < n; r++)
        sy_buf_printf(&b, "%s%.1f", r ? ", " : "",
                      (double)((r * 7 + c * 13) % 70 + 1) / 10);
      sy_buf_puts(&b, "]");
    }
    sy_buf_puts(&b, "}}");
  }
  return b.data;
}

static void test_loaded(void) {
  CU_ASSERT_TRUE(loaded);
}

static void test_bench_bodies(void) {
  const size_t ns[] = {1, 100};
  for (size_t i = 0; i < 2; i++)
    for (int by_rows = 0; by_rows < 2; by_rows++) {
      char *body = iris_body(ns[i], by_rows);
      CU_ASSERT_PTR_NOT_NULL_FATAL(body);
      CU_ASSERT_TRUE(both_ways(body, &iris));
      CU_ASSERT_TRUE(both_ways(body, &open_s));
      free(body);
    }
}

/* Taken by the fast path, and the same frame as yajl's. */
static const char *fast_bodies[] = {
    "{\"rows\":[{\"a\":1,\"n\":2,\"s\":\"x\"}]}",
    "{\"rows\":[{\"s\":\"\xc3\xa9t\xc3\xa9\",\"n\":-9223372036854775808,"
    "\"a\":-0.0}]}",
    "{\"rows\":[{\"a\":null,\"n\":null,\"s\":null},{\"a\":1e-400,\"n\":7,"
    "\"s\":\"\"}]}",
    "{\"rows\":[{\"a\":-0,\"n\":1,\"s\":\"q\",\"y\":3},{\"a\":2.5,\"n\":1,"
    "\"s\":\"q\",\"y\":4.5}]}",
    "{\"rows\":[{\"a\":1,\"n\":1,\"s\":\"q\"},{\"a\":2,\"n\":1,\"s\":\"q\","
    "\"y\":\"late label\"}]}",
    "{\"columns\":{\"s\":[\"a\",null],\"n\":[1,2],\"a\":[9007199254740993,"
    "1.7976931348623157e308],\"y\":[\"u\",\"v\"]}}",
    " \r\n\t{\"columns\":{\"a\":[0.1],\"n\":[0],\"s\":[\"\"]}} \n",
    "{\"columns\":{\"a\":[2.4703282292062328e-324,0.00001e310,"
    "123456789012345678901234567890e-300,0e99999999999999999999,"
    "1e-99999999999999999999,-0e-5,1.7976931348623157e308],"
    "\"n\":[1,2,3,4,5,6,7],\"s\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\"]}}",
};

/* Declined by the fast path: yajl answers, the same as before. */
static const char *slow_bodies[] = {
    "{\"rows\":[{\"a\":1,\"n\":2,\"s\":\"x\\n\"}]}",
    "{\"rows\":[{\"a\":1,\"n\":2,\"s\":\"\\u0000\"}]}",
    "{\"rows\":[{\"a\":1,\"n\":2,\"s\":\"\\ud800\"}]}",
    "{\"rows\":[{\"a\":1,\"n\":2,\"s\":\"x\",\"a\":1}]}",
    "{\"rows\":[{\"a\":1,\"n\":2,\"s\":\"x\",\"z\":1}]}",
    "{\"rows\":[{\"a\":1,\"n\":2}]}",
    "{\"rows\":[{\"a\":1,\"n\":2.5,\"s\":\"x\"}]}",
    "{\"rows\":[{\"a\":1,\"n\":9223372036854775808,\"s\":\"x\"}]}",
    "{\"rows\":[{\"a\":1,\"n\":-9223372036854775809,\"s\":\"x\"}]}",
    "{\"rows\":[{\"a\":1e400,\"n\":1,\"s\":\"x\"}]}",
    "{\"rows\":[{\"a\":1797693134862315799999e288,\"n\":1,\"s\":\"x\"}]}",
    "{\"rows\":[{\"a\":1.7976931348623159e308,\"n\":1,\"s\":\"x\"}]}",
    "{\"rows\":[{\"a\":true,\"n\":1,\"s\":\"x\"}]}",
    "{\"rows\":[{\"a\":1,\"n\":1,\"s\":\"x\",\"y\":[1]}]}",
    "{\"rows\":[{\"a\":1,\"n\":1,\"s\":\"x\",\"y\":1},{\"a\":1,\"n\":1,"
    "\"s\":\"x\"}]}",
    "{\"rows\":[{\"a\":1,\"n\":1,\"s\":\"x\",\"y\":1},{\"a\":1,\"n\":1,"
    "\"s\":\"x\",\"y\":\"z\"}]}",
    "{\"rows\":[{\"a\":1,\"n\":1,\"s\":\"q\"},{\"a\":2,\"n\":1,\"s\":\"q\","
    "\"y\":{\"k\":1,\"k\":2}}]}",
    "{\"rows\":[]}",
    "{\"rows\":[1]}",
    "{\"rows\":{}}",
    "{\"rows\":[{\"a\":1,\"n\":1,\"s\":\"x\"}],\"x\":1}",
    "{\"rows\":[{\"a\":1,\"n\":1,\"s\":\"x\"}]} x",
    "{\"rows\":[{\"a\":1,\"n\":1,\"s\":\"x\"}]}\v",
    "{\"rows\":[{\"a\":1,\"n\":1,\"s\":\"x\"}]",
    "\xef\xbb\xbf{\"rows\":[{\"a\":1,\"n\":1,\"s\":\"x\"}]}",
    "{\"rows\":[{\"a\":1,\"n\":1,\"s\":\"\xc0\x80\"}]}",
    "{\"columns\":{\"a\":[1,2],\"n\":[1],\"s\":[\"x\",\"y\"]}}",
    "{\"columns\":{\"a\":[],\"n\":[],\"s\":[]}}",
    "{\"columns\":{\"a\":1,\"n\":[1],\"s\":[\"x\"]}}",
    "{\"columns\":{\"a\":[1],\"n\":[1],\"s\":[\"x\"],\"a\":[2]}}",
    "{\"columns\":{\"a\":[1],\"n\":[1],\"s\":[1]}}",
    "{\"columns\":{\"a\":[1],\"n\":[1],\"s\":[\"x\"],\"y\":[1,\"x\"]}}",
    "[]",
    "5",
    "{}",
};

static void test_corners(void) {
  const serve_schema *schemas[] = {&typed, &open_s, &iris};
  for (size_t k = 0; k < 3; k++) {
    for (size_t i = 0; i < sizeof fast_bodies / sizeof *fast_bodies; i++) {
      int fast = both_ways(fast_bodies[i], schemas[k]);
      if (k == 0) { /* typed: each one is a request the fast path takes */
        CU_ASSERT_TRUE(fast);
        if (!fast)
          fprintf(stderr, "not taken: %s\n", fast_bodies[i]);
      }
    }
    for (size_t i = 0; i < sizeof slow_bodies / sizeof *slow_bodies; i++) {
      int fast = both_ways(slow_bodies[i], schemas[k]);
      if (k == 0) {
        CU_ASSERT_FALSE(fast);
        if (fast)
          fprintf(stderr, "taken: %s\n", slow_bodies[i]);
      }
    }
  }
}

/* Decodes body into rows (at most max_rows) and, when taken, checks
 * them against the frame yajl alone decodes: the schema's columns in
 * order, f64, no nulls, the same rows and the same bits. 1 when taken. */
static int rows_way(const char *body, const serve_schema *s, size_t max_rows) {
  const double *x = NULL;
  size_t n = 0;
  int rc = serve_decode_rows(body, strlen(body), s, max_rows, &x, &n);
  CU_ASSERT_TRUE(rc == 0 || rc == SERVE_FAST_DECLINED);
  if (rc)
    return 0;
  CU_ASSERT_TRUE(n >= 1 && n <= max_rows);
  sy_value *f = NULL;
  serve_fail e;
  serve_set_fast(NULL); /* yajl alone */
  int ry = serve_decode(body, strlen(body), SERVE_BODY_JSON, s, &f, &e);
  if (loaded)
    serve_fast_load(SY_TEST_SIMD_MODULE, 0);
  int same = ry == 0 && sy_frame_rows(f) == n && sy_frame_cols(f) == s->n;
  for (size_t c = 0; same && c < s->n; c++) {
    const double *col = sy_frame_f64(f, c);
    same = col && !sy_frame_valid(f, c) &&
           strcmp(sy_frame_col_name(f, c), s->names[c]) == 0;
    for (size_t r = 0; same && r < n; r++)
      same = memcmp(&col[r], &x[r * s->n + c], sizeof(double)) == 0;
  }
  CU_ASSERT_TRUE(same);
  if (!same)
    fprintf(stderr, "rows differ from yajl's frame: %.200s\n", body);
  sy_value_unref(f);
  return 1;
}

/* The bound-row decoder: the bench's bodies straight into rows, the same
 * numbers as the frame; what it must leave to the frame path. */
static void test_rows(void) {
  const size_t ns[] = {1, 100};
  for (size_t i = 0; i < 2; i++)
    for (int by_rows = 0; by_rows < 2; by_rows++) {
      char *body = iris_body(ns[i], by_rows);
      CU_ASSERT_PTR_NOT_NULL_FATAL(body);
      CU_ASSERT_TRUE(rows_way(body, &iris, 65536));
      CU_ASSERT_EQUAL(rows_way(body, &iris, 1), ns[i] == 1);
      CU_ASSERT_FALSE(rows_way(body, &open_s, 65536));
      CU_ASSERT_FALSE(rows_way(body, &typed, 65536));
      free(body);
    }
  static const char *taken[] = {
      "{\"rows\":[{\"a\":1,\"b\":-0}]}",
      "{\"rows\":[{\"b\":2.5,\"a\":9007199254740993},{\"a\":-0.0,"
      "\"b\":-9223372036854775808}]}",
      "{\"columns\":{\"b\":[1,2e-3],\"a\":[1e-400,1.7976931348623157e308]}}",
      " \r\n\t{\"columns\":{\"a\":[0.1],\"b\":[0]}} \n",
  };
  static const char *declined[] = {
      "{\"rows\":[{\"a\":1,\"b\":2,\"y\":3}]}", /* the label */
      "{\"rows\":[{\"a\":1,\"b\":2},{\"a\":1,\"b\":2,\"y\":\"x\"}]}",
      "{\"columns\":{\"a\":[1],\"b\":[2],\"y\":[3]}}",
      "{\"rows\":[{\"a\":null,\"b\":2}]}",  /* null */
      "{\"rows\":[{\"a\":\"1\",\"b\":2}]}", /* string */
      "{\"rows\":[{\"a\":true,\"b\":2}]}",
      "{\"rows\":[{\"a\":[1],\"b\":2}]}",
      "{\"rows\":[{\"a\":1}]}",                 /* missing */
      "{\"rows\":[{\"a\":1,\"b\":2,\"c\":3}]}", /* unknown */
      "{\"rows\":[{\"a\":1,\"b\":2,\"a\":3}]}", /* twice */
      "{\"rows\":[{\"a\":1,\"b\":9223372036854775808}]}",
      "{\"rows\":[{\"a\":1,\"b\":1e400}]}",
      "{\"rows\":[{\"a\":1,\"b\":2}],\"x\":1}",
      "{\"rows\":[{\"a\":1,\"b\":2}]} x",
      "{\"rows\":[{\"a\":1,\"b\":2}]",
      "{\"rows\":[{\"a\":1,\"b\":2,\"\\u0061\":2}]}",
      "{\"rows\":[]}",
      "{\"rows\":[1]}",
      "{\"columns\":{\"a\":[1,2],\"b\":[1]}}", /* ragged */
      "{\"columns\":{\"a\":[],\"b\":[]}}",
      "{\"columns\":{\"a\":[1],\"b\":[1],\"a\":[2]}}",
      "{\"columns\":{\"a\":[1]}}",
      "{\"columns\":{\"a\":1,\"b\":[1]}}",
      "{\"table\":[]}",
  };
  for (size_t i = 0; i < sizeof taken / sizeof *taken; i++) {
    int t = rows_way(taken[i], &f2, 65536);
    CU_ASSERT_TRUE(t);
    if (!t)
      fprintf(stderr, "not taken: %s\n", taken[i]);
  }
  for (size_t i = 0; i < sizeof declined / sizeof *declined; i++) {
    int t = rows_way(declined[i], &f2, 65536);
    CU_ASSERT_FALSE(t);
    if (t)
      fprintf(stderr, "taken: %s\n", declined[i]);
  }
  /* whatever it takes of the corner bodies is yajl's frame */
  const serve_schema *schemas[] = {&typed, &open_s, &iris, &f2};
  for (size_t k = 0; k < 4; k++) {
    for (size_t i = 0; i < sizeof fast_bodies / sizeof *fast_bodies; i++)
      rows_way(fast_bodies[i], schemas[k], 65536);
    for (size_t i = 0; i < sizeof slow_bodies / sizeof *slow_bodies; i++)
      rows_way(slow_bodies[i], schemas[k], 65536);
  }
}

/* SWITCHYARD_SERVE_NO_SIMD=1 keeps the module off. */
static void test_off(void) {
  setenv("SWITCHYARD_SERVE_NO_SIMD", "1", 1);
  CU_ASSERT_FALSE(serve_fast_load(SY_TEST_SIMD_MODULE, 1));
  unsetenv("SWITCHYARD_SERVE_NO_SIMD");
  char *body = iris_body(3, 1);
  CU_ASSERT_FALSE(both_ways(body, &iris));
  CU_ASSERT_TRUE(serve_fast_load(SY_TEST_SIMD_MODULE, 0));
  CU_ASSERT_TRUE(both_ways(body, &iris));
  setenv("SWITCHYARD_SERVE_NO_SIMD", "1", 1);
  serve_fast_load(SY_TEST_SIMD_MODULE, 1);
  unsetenv("SWITCHYARD_SERVE_NO_SIMD");
  CU_ASSERT_FALSE(rows_way(body, &iris, 65536)); /* off: declined */
  CU_ASSERT_TRUE(serve_fast_load(SY_TEST_SIMD_MODULE, 0));
  CU_ASSERT_TRUE(rows_way(body, &iris, 65536));
  free(body);
}

int main(void) {
  static const CU_TestInfo tests[] = {
      {"the module loads from the build tree", test_loaded},
      {"the bench's bodies take the fast path", test_bench_bodies},
      {"common and corner bodies: the same answer both ways", test_corners},
      {"rows straight from the body: yajl's numbers, or declined", test_rows},
      {"SWITCHYARD_SERVE_NO_SIMD=1: yajl alone", test_off},
      CU_TEST_INFO_NULL};
  return fx_run_suite("serve_simd", suite_init, suite_clean, tests);
}
