/*
 * test_serve_req.c - the request decoder and answer encoder of `switchyard
 * serve` (cli/serve_req.c): the three request forms give the same frame
 * in the schema's order, each kind of bad request gets its status and a
 * detail that says where, and numbers are written as the CSV sink writes
 * them (sy_csv_format_f64).
 */
#include <CUnit/Basic.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <switchyard/csv.h>
#include <switchyard/switchyard.h>

#include "../../cli/serve_req.h"
#include "fixture.h"

static serve_schema schema;

static int suite_init(void) {
  memset(&schema, 0, sizeof schema);
  if (serve_schema_add(&schema, "a", SY_COL_F64) ||
      serve_schema_add(&schema, "b", SY_COL_F64) ||
      serve_schema_add(&schema, "n", SY_COL_I64))
    return 1;
  schema.label = strdup("y");
  return schema.label ? 0 : 1;
}
static int suite_clean(void) {
  serve_schema_free(&schema);
  return 0;
}

static sy_value *decode_ok(const char *body, int kind) {
  sy_value *f = NULL;
  serve_fail e;
  int rc = serve_decode(body, strlen(body), kind, &schema, &f, &e);
  CU_ASSERT_EQUAL(rc, 0);
  if (rc)
    fprintf(stderr, "decode: %d %s: %s\n", e.status, e.error, e.detail);
  return f;
}

static serve_fail decode_bad(const char *body, int kind) {
  sy_value *f = NULL;
  serve_fail e;
  int rc = serve_decode(body, strlen(body), kind, &schema, &f, &e);
  CU_ASSERT_EQUAL(rc, SERVE_REFUSED);
  CU_ASSERT_PTR_NULL(f);
  sy_value_unref(f);
  return e;
}

static void check_frame(sy_value *f) {
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  CU_ASSERT_EQUAL(sy_frame_rows(f), 2);
  CU_ASSERT_EQUAL(sy_frame_cols(f), 3);
  CU_ASSERT_STRING_EQUAL(sy_frame_col_name(f, 0), "a");
  CU_ASSERT_STRING_EQUAL(sy_frame_col_name(f, 1), "b");
  CU_ASSERT_STRING_EQUAL(sy_frame_col_name(f, 2), "n");
  CU_ASSERT_EQUAL(sy_frame_col_type(f, 0), SY_COL_F64);
  CU_ASSERT_EQUAL(sy_frame_col_type(f, 2), SY_COL_I64);
  CU_ASSERT_EQUAL(sy_frame_f64(f, 0)[0], 1.5);
  CU_ASSERT_EQUAL(sy_frame_f64(f, 1)[1], 4.0);
  CU_ASSERT_EQUAL(sy_frame_i64(f, 2)[1], 7);
  CU_ASSERT_TRUE(sy_frame_is_null(f, 1, 0));
  sy_value_unref(f);
}

/* Rows (keys in any order), columns and CSV give the same frame, in the
 * schema's column order; an integer is a valid f64 cell. */
static void test_forms(void) {
  check_frame(decode_ok("{\"rows\":[{\"b\":null,\"n\":3,\"a\":1.5},"
                        "{\"n\":7,\"a\":2,\"b\":4}]}",
                        SERVE_BODY_JSON));
  check_frame(decode_ok("{\"columns\":{\"n\":[3,7],\"b\":[null,4.0],"
                        "\"a\":[1.5,2]}}",
                        SERVE_BODY_JSON));
  check_frame(decode_ok("n,b,a\n3,,1.5\n7,4,2\n", SERVE_BODY_CSV));
  /* The label may come along (set aside by the model). */
  sy_value *f = decode_ok("{\"rows\":[{\"a\":1,\"b\":2,\"n\":3,\"y\":\"x\"}]}",
                          SERVE_BODY_JSON);
  CU_ASSERT_EQUAL(sy_frame_cols(f), 4);
  CU_ASSERT_EQUAL(sy_frame_col_index(f, "y"), 3);
  sy_value_unref(f);
}

static void test_errors(void) {
  serve_fail e = decode_bad("{\"rows\": [{\"a\": 1,}]}", SERVE_BODY_JSON);
  CU_ASSERT_EQUAL(e.status, 400);
  CU_ASSERT_PTR_NOT_NULL(strstr(e.detail, "line 1, column 19"));
  e = decode_bad("[1,2]", SERVE_BODY_JSON);
  CU_ASSERT_EQUAL(e.status, 400);
  e = decode_bad("{\"rows\":[{\"a\":1,\"b\":2}]}", SERVE_BODY_JSON);
  CU_ASSERT_EQUAL(e.status, 422);
  CU_ASSERT_PTR_NOT_NULL(strstr(e.detail, "'n'"));
  e = decode_bad("{\"rows\":[{\"a\":1,\"b\":2,\"n\":1,\"zz\":0}]}",
                 SERVE_BODY_JSON);
  CU_ASSERT_EQUAL(e.status, 422);
  CU_ASSERT_PTR_NOT_NULL(strstr(e.detail, "'zz'"));
  e = decode_bad("{\"rows\":[{\"a\":1,\"b\":\"x\",\"n\":1}]}", SERVE_BODY_JSON);
  CU_ASSERT_EQUAL(e.status, 422);
  CU_ASSERT_PTR_NOT_NULL(strstr(e.detail, "rows[0]: column 'b'"));
  e = decode_bad("{\"rows\":[{\"a\":1,\"b\":2,\"n\":1.5}]}", SERVE_BODY_JSON);
  CU_ASSERT_EQUAL(e.status, 422);
  CU_ASSERT_PTR_NOT_NULL(strstr(e.detail, "'n'"));
  e = decode_bad("{\"columns\":{\"a\":[1,2],\"b\":[1],\"n\":[1,2]}}",
                 SERVE_BODY_JSON);
  CU_ASSERT_EQUAL(e.status, 422);
  CU_ASSERT_PTR_NOT_NULL(strstr(e.detail, "'b'"));
  e = decode_bad("{\"rows\":[]}", SERVE_BODY_JSON);
  CU_ASSERT_EQUAL(e.status, 422);
  e = decode_bad("a,b\n1,2\n", SERVE_BODY_CSV);
  CU_ASSERT_EQUAL(e.status, 422);
  CU_ASSERT_PTR_NOT_NULL(strstr(e.detail, "missing column 'n'"));
  e = decode_bad("a,b,n\n1,\"2\n", SERVE_BODY_CSV);
  CU_ASSERT_EQUAL(e.status, 400);
  CU_ASSERT_PTR_NOT_NULL(strstr(e.detail, "request:2:"));
  e = decode_bad("a,b,n\n1,x,3\n", SERVE_BODY_CSV);
  CU_ASSERT_EQUAL(e.status, 422);
  CU_ASSERT_PTR_NOT_NULL(strstr(e.detail, "column 'b'"));
  e = decode_bad("", SERVE_BODY_JSON);
  CU_ASSERT_EQUAL(e.status, 400);
}

/* JSON answers write f64 cells byte for byte as CSV does. */
static void test_encode(void) {
  sy_value *f = NULL;
  CU_ASSERT_EQUAL_FATAL(sy_frame_new(2, &f), 0);
  const double v[2] = {0.1 + 0.2, 3.0};
  const char *s[2] = {"a\"b", NULL};
  CU_ASSERT_EQUAL(sy_frame_add_f64(f, "p", v, NULL), 0);
  CU_ASSERT_EQUAL(sy_frame_add_str(f, "k", s), 0);
  sy_buf j = SY_BUF_INIT, c = SY_BUF_INIT;
  CU_ASSERT_EQUAL(serve_encode_json(f, &j), 0);
  CU_ASSERT_EQUAL(serve_encode_csv(f, &c), 0);
  CU_ASSERT_STRING_EQUAL(j.data,
                         "{\"rows\":[{\"p\":0.30000000000000004,"
                         "\"k\":\"a\\\"b\"},{\"p\":3.0,\"k\":null}]}\n");
  CU_ASSERT_STRING_EQUAL(c.data, "p,k\n0.30000000000000004,\"a\"\"b\"\n3.0,\n");
  char num[32];
  CU_ASSERT_EQUAL(sy_csv_format_f64(1e21, num, sizeof num), 5);
  CU_ASSERT_STRING_EQUAL(num, "1e+21");
  CU_ASSERT_EQUAL(sy_csv_format_f64(-INFINITY, num, sizeof num), 4);
  CU_ASSERT_EQUAL(sy_csv_format_f64(1, num, 8), SY_EINVAL);
  sy_buf_free(&j);
  sy_buf_free(&c);
  sy_value_unref(f);
  /* Bytes that are not UTF-8 (a CSV request may carry them) never make
   * an answer that is not JSON. */
  sy_buf u = SY_BUF_INIT;
  serve_json_str(&u, "a\xdd\xe2\x82\xac\xed\xa0\x80\x01");
  CU_ASSERT_STRING_EQUAL(u.data, "\"a\\ufffd\xe2\x82\xac\\ufffd\\ufffd\\ufffd"
                                 "\\u0001\"");
  sy_buf_free(&u);
}

/* The bound-row path's answer (a row of doubles, labels as indexes)
 * is the bytes serve_encode_json writes for the frame it stands for:
 * names and labels that need escaping, nan and inf, a label index out of
 * its table refused. */
static void test_encode_row(void) {
  const char *names[4] = {"cl\"ass", "p", "q\n", "r"};
  const char *cls[3] = {"set\\osa", "v\xc3\xa9rsi", "\x01x"};
  const char *const *labels[4] = {cls, NULL, NULL, NULL};
  size_t n_labels[4] = {3, 0, 0, 0};
  serve_row_enc e;
  CU_ASSERT_EQUAL_FATAL(serve_row_enc_init(&e, 4, names, labels, n_labels), 0);
  const double rows[4][4] = {{0, 0.1 + 0.2, -0.0, 1e21},
                             {2, NAN, INFINITY, -INFINITY},
                             {1, 5e-324, 1.0 / 3, 123456789.0},
                             {2, -1e-7, 0.5, 1e300}};
  for (int i = 0; i < 4; i++) {
    sy_value *f = NULL;
    CU_ASSERT_EQUAL_FATAL(sy_frame_new(1, &f), 0);
    const char *cell[1] = {cls[(size_t)rows[i][0]]};
    CU_ASSERT_EQUAL(sy_frame_add_str(f, names[0], cell), 0);
    for (int c = 1; c < 4; c++)
      CU_ASSERT_EQUAL(sy_frame_add_f64(f, names[c], &rows[i][c], NULL), 0);
    sy_buf want = SY_BUF_INIT, got = SY_BUF_INIT;
    sy_buf_puts(&got, "x"); /* appended to what the buffer holds */
    CU_ASSERT_EQUAL(serve_encode_json(f, &want), 0);
    CU_ASSERT_EQUAL(serve_encode_row_json(&e, rows[i], 1, &got), 0);
    CU_ASSERT_EQUAL(got.len, want.len + 1);
    CU_ASSERT_STRING_EQUAL(got.data + 1, want.data);
    sy_buf_free(&want);
    sy_buf_free(&got);
    sy_value_unref(f);
  }
  /* The four rows as one batch. */
  {
    sy_value *f = NULL;
    CU_ASSERT_EQUAL_FATAL(sy_frame_new(4, &f), 0);
    const char *cell[4];
    double num[4];
    for (int i = 0; i < 4; i++)
      cell[i] = cls[(size_t)rows[i][0]];
    CU_ASSERT_EQUAL(sy_frame_add_str(f, names[0], cell), 0);
    for (int c = 1; c < 4; c++) {
      for (int i = 0; i < 4; i++)
        num[i] = rows[i][c];
      CU_ASSERT_EQUAL(sy_frame_add_f64(f, names[c], num, NULL), 0);
    }
    sy_buf want = SY_BUF_INIT, got = SY_BUF_INIT;
    CU_ASSERT_EQUAL(serve_encode_json(f, &want), 0);
    CU_ASSERT_EQUAL(serve_encode_row_json(&e, &rows[0][0], 4, &got), 0);
    CU_ASSERT_STRING_EQUAL(got.data, want.data);
    sy_buf_free(&want);
    sy_buf_free(&got);
    sy_value_unref(f);
  }
  const double bad[4][4] = {
      {3, 0, 0, 0}, {-1, 0, 0, 0}, {0.5, 0, 0, 0}, {NAN, 0, 0, 0}};
  for (int i = 0; i < 4; i++) {
    sy_buf got = SY_BUF_INIT;
    CU_ASSERT_EQUAL(serve_encode_row_json(&e, bad[i], 1, &got), SY_ERANGE);
    sy_buf_free(&got);
  }
  serve_row_enc_free(&e);
}

/* {"rows": [...]} of n rows, row i: a = i + 0.25, b = null on every
 * 7th row else -i, n = i; malloc()ed. */
static char *big_body(size_t n) {
  sy_buf b = SY_BUF_INIT;
  sy_buf_puts(&b, "{\"rows\": [");
  for (size_t i = 0; i < n; i++) {
    if (i % 7 == 0)
      sy_buf_printf(&b, "%s{\"a\": %zu.25, \"b\": null, \"n\": %zu}",
                    i ? "," : "", i, i);
    else
      sy_buf_printf(&b, "%s{\"a\": %zu.25, \"b\": -%zu, \"n\": %zu}",
                    i ? "," : "", i, i, i);
  }
  sy_buf_puts(&b, "]}");
  return b.failed ? NULL : b.data;
}

/* 1 when the frame decoded from big_body(n) holds what it says. */
static int big_ok(const char *body, size_t n) {
  sy_value *f = NULL;
  serve_fail e;
  if (serve_decode(body, strlen(body), SERVE_BODY_JSON, &schema, &f, &e))
    return 0;
  int ok = sy_frame_rows(f) == n;
  for (size_t i = 0; ok && i < n; i++)
    ok = sy_frame_f64(f, 0)[i] == (double)i + 0.25 &&
         sy_frame_i64(f, 2)[i] == (int64_t)i &&
         (i % 7 == 0 ? sy_frame_is_null(f, 1, i)
                     : sy_frame_f64(f, 1)[i] == -(double)i);
  sy_value_unref(f);
  return ok;
}

#define SMALL "{\"rows\":[{\"a\":0.25,\"b\":null,\"n\":0}]}"

static void *decode_often(void *body) {
  int ok = 1;
  for (int k = 0; k < 20 && ok; k++)
    ok = big_ok(body, 3000) && big_ok(SMALL, 1);
  return ok ? body : NULL;
}

/* The decoder keeps its column buffers per thread (cli/serve_req.c),
 * grown by big requests and trimmed after them: big and small requests
 * after one another, a refused one between them, on several threads at
 * once. */
static void test_arena(void) {
  char *body = big_body(3000);
  CU_ASSERT_PTR_NOT_NULL_FATAL(body);
  CU_ASSERT_TRUE(strlen(body) > 64 * 1024);
  CU_ASSERT_TRUE(big_ok(body, 3000));
  CU_ASSERT_TRUE(big_ok(SMALL, 1));
  body[strlen(body) - 3] = '#'; /* malformed near its end */
  serve_fail e = decode_bad(body, SERVE_BODY_JSON);
  CU_ASSERT_EQUAL(e.status, 400);
  free(body);
  body = big_body(3000);
  CU_ASSERT_TRUE(big_ok(body, 3000));
  pthread_t t[3];
  for (int i = 0; i < 3; i++)
    CU_ASSERT_EQUAL_FATAL(pthread_create(&t[i], NULL, decode_often, body), 0);
  for (int i = 0; i < 3; i++) {
    void *ret = NULL;
    pthread_join(t[i], &ret);
    CU_ASSERT_PTR_EQUAL(ret, body);
  }
  free(body);
}

/* What JSON refuses and yajl lets through (or takes its own way) is a
 * 400 malformed_json all the same; numbers read as strtod reads them. */
static void test_strict(void) {
  static const char *const bad[] = {
      "{\"rows\":[{\"a\":1,\"a\":2,\"b\":1,\"n\":1}]}", /* duplicate key */
      "{\"rows\":[],\"rows\":[]}",
      "{\"rows\":[{\"a\":1,\"b\":1,\"n\":1,\"zz\":{\"k\":1,\"k\":2}}]}",
      "5", /* a scalar body */
      "{\"rows\":[{\"a\":1,\"b\":1,\"n\":99999999999999999999}]}",
      "{\"rows\":[{\"a\":1e400,\"b\":1,\"n\":1}]}",
      "{\"rows\":[{\"a\":1,\"b\":1,\"n\":1,\"y\":\"\\u0000\"}]}",
      "{\"rows\":[{\"a\":1,\"b\":1,\"n\":1,\"y\":\"\xc0\x8d\"}]}", /* overlong
                                                                    */
      "{\"rows\":[{\"a\":1,\"b\":1,\"n\":1,\"y\":\"\\ud800\"}]}",
      "{\"rows\":[{\"a\":1,\"b\":1,\"n\":1,\"y\":\"\\ud800\\u0041\"}]}",
      "{\"rows\":[{\"\\udc00\":1}]}",
      "{\"rows\":[{\"a\":1,\"b\":1,\"n\":1}]}\"", /* an unfinished token */
      "{\"rows\":[{\"a\":1,\"b\":1,\"n\":1}]}\v",
      "{\"rows\":\f[{\"a\":1,\"b\":1,\"n\":1}]}",
      "{\"rows\":[{\"a\":1,\"b\":1,\"n\":1}]} x",
      "{\"rows\":[{\"a\":1,\"b\":1,\"n\":1}]",
      "",
      " ",
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    serve_fail e = decode_bad(bad[i], SERVE_BODY_JSON);
    CU_ASSERT_EQUAL(e.status, 400);
    if (e.status != 400 || !strstr(e.detail, "line 1, column"))
      fprintf(stderr, "body %zu: %d %s %s\n", i, e.status, e.error, e.detail);
  }
  /* past 2048 levels */
  size_t depth = 3000;
  char *deep = malloc(2 * depth + 64);
  CU_ASSERT_PTR_NOT_NULL_FATAL(deep);
  strcpy(deep, "{\"rows\":[{\"a\":1,\"b\":1,\"n\":1,\"y\":");
  size_t at = strlen(deep);
  for (size_t i = 0; i < depth; i++)
    deep[at++] = '[';
  for (size_t i = 0; i < depth; i++)
    deep[at++] = ']';
  strcpy(deep + at, "}]}");
  serve_fail e = decode_bad(deep, SERVE_BODY_JSON);
  CU_ASSERT_EQUAL(e.status, 400);
  CU_ASSERT_STRING_EQUAL(e.error, "malformed_json");
  free(deep);
  /* a surrogate pair and escaped backslashes are fine */
  sy_value *f = decode_ok("{\"rows\":[{\"a\":1,\"b\":1,\"n\":1,\"y\":"
                          "\"\\ud83d\\ude00 \\\\ud800\"}]}",
                          SERVE_BODY_JSON);
  CU_ASSERT_STRING_EQUAL(sy_frame_str(f, 3, 0), "\xf0\x9f\x98\x80 \\ud800");
  sy_value_unref(f);
  /* numbers: the doubles strtod gives, both on the fast path and off it */
  static const char *const nums[] = {"5.1",
                                     "0.1",
                                     "-0.0",
                                     "1e22",
                                     "1e23",
                                     "4.35",
                                     "123456789012345678",
                                     "9007199254740993.0",
                                     "2.2250738585072011e-308",
                                     "1e-400",
                                     "0.000001234",
                                     "-7e-5",
                                     "3.0e10",
                                     "17976931348623157e292"};
  for (size_t i = 0; i < sizeof nums / sizeof *nums; i++) {
    char body[160];
    snprintf(body, sizeof body, "{\"rows\":[{\"a\":%s,\"b\":1,\"n\":1}]}",
             nums[i]);
    f = decode_ok(body, SERVE_BODY_JSON);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    double want = strtod(nums[i], NULL), got = sy_frame_f64(f, 0)[0];
    CU_ASSERT_EQUAL(memcmp(&want, &got, sizeof want), 0);
    if (memcmp(&want, &got, sizeof want))
      fprintf(stderr, "%s: %.17g, strtod %.17g\n", nums[i], got, want);
    sy_value_unref(f);
  }
  /* integers are i64 (an f64 column takes them as doubles, -0 as 0) */
  f = decode_ok("{\"rows\":[{\"a\":-0,\"b\":1,\"n\":-9223372036854775808}]}",
                SERVE_BODY_JSON);
  CU_ASSERT_EQUAL(sy_frame_i64(f, 2)[0], INT64_MIN);
  CU_ASSERT_FALSE(signbit(sy_frame_f64(f, 0)[0]));
  sy_value_unref(f);
}

int main(void) {
  static const CU_TestInfo tests[] = {
      {"three request forms, one frame", test_forms},
      {"bad requests: status and where", test_errors},
      {"JSON: what yajl lets through is refused", test_strict},
      {"answers as the CSV sink writes numbers", test_encode},
      {"the row path answers as the frame path", test_encode_row},
      {"per-thread buffers, big and small requests", test_arena},
      CU_TEST_INFO_NULL};
  return fx_run_suite("serve_req", suite_init, suite_clean, tests);
}
