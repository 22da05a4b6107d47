/*
 * test_value.c - values: building, reading, reference counts, the binary
 * encoding (round trips, a pinned layout, hostile input), hashing and
 * equality.
 *
 * Hostile encodings are built by hand with a small writer and then sealed
 * (body length and XXH3 checksum filled in), so that they get past the
 * checksum and reach the body parser: a checksum alone must not be what
 * keeps the decoder safe.
 */

#include <CUnit/Basic.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>
#include "fixture.h"
#include "switchyard/switchyard.h"

/* ---- helpers ---------------------------------------------------------- */

/* Encodes v, decodes the result, checks it equals v and hashes the same,
 * and returns the decoded copy (caller unrefs). */
static sy_value *round_trip(const sy_value *v) {
  void *buf = NULL;
  size_t len = 0;
  sy_value *back = NULL;
  sy_error err;
  sy_error_clear(&err);
  CU_ASSERT_EQUAL_FATAL(sy_value_encode(v, &buf, &len), 0);
  int rc = sy_value_decode(buf, len, &back, &err);
  if (rc != 0)
    fprintf(stderr, "decode: %s\n", err.message);
  CU_ASSERT_EQUAL_FATAL(rc, 0);
  CU_ASSERT_TRUE(sy_value_equal(v, back));
  uint8_t h1[SY_VALUE_HASH_SIZE], h2[SY_VALUE_HASH_SIZE];
  CU_ASSERT_EQUAL(sy_value_hash(v, h1), 0);
  CU_ASSERT_EQUAL(sy_value_hash(back, h2), 0);
  CU_ASSERT_EQUAL(memcmp(h1, h2, sizeof h1), 0);
  /* The encoding is canonical: re-encoding gives the same bytes. */
  void *buf2 = NULL;
  size_t len2 = 0;
  CU_ASSERT_EQUAL(sy_value_encode(back, &buf2, &len2), 0);
  CU_ASSERT_EQUAL(len, len2);
  CU_ASSERT(len == len2 && memcmp(buf, buf2, len) == 0);
  free(buf2);
  free(buf);
  return back;
}

/* A hand-written encoding: header, then whatever body the test writes. */
typedef struct wire {
  unsigned char b[1 << 16];
  size_t n;
} wire;

static void w_raw(wire *w, const void *p, size_t n) {
  memcpy(w->b + w->n, p, n);
  w->n += n;
}

static void w_u8(wire *w, unsigned x) {
  w->b[w->n++] = (unsigned char)x;
}

static void w_u32(wire *w, uint32_t x) {
  for (int i = 0; i < 4; i++)
    w_u8(w, (x >> (8 * i)) & 0xff);
}

static void w_u64(wire *w, uint64_t x) {
  for (int i = 0; i < 8; i++)
    w_u8(w, (unsigned)((x >> (8 * i)) & 0xff));
}

static void w_str(wire *w, const char *s) {
  w_u32(w, (uint32_t)strlen(s));
  w_raw(w, s, strlen(s));
}

static void wire_start(wire *w, unsigned type) {
  w->n = 0;
  w_raw(w, "SYV", 3);
  w_u8(w, 1);
  w_u8(w, type);
  w_raw(w, "\0\0\0", 3);
  w_u64(w, 0);
}

static void put_u64_at(unsigned char *p, uint64_t x) {
  for (int i = 0; i < 8; i++)
    p[i] = (unsigned char)(x >> (8 * i));
}

/* Fills in the body length and appends the checksum. */
static void wire_seal(wire *w) {
  put_u64_at(w->b + 8, w->n - 16);
  uint64_t sum = XXH3_64bits(w->b, w->n);
  w_u64(w, sum);
}

/* Recomputes the checksum of an encoding in place (after a test edits
 * it), so that the edit reaches the body parser. */
static void reseal(unsigned char *buf, size_t len) {
  put_u64_at(buf + len - 8, XXH3_64bits(buf, len - 8));
}

/* Decodes and expects failure with `code` and a message holding `needle`
 * and an offset. */
static void expect_fail(const void *buf, size_t len, int code,
                        const char *needle) {
  sy_value *v = (sy_value *)buf; /* any non-NULL value; must be reset */
  sy_error err;
  sy_error_clear(&err);
  int rc = sy_value_decode(buf, len, &v, &err);
  if (rc != code || !strstr(err.message, needle))
    fprintf(stderr, "\n  expected %s '%s', got %s '%s'\n", sy_err_name(code),
            needle, sy_err_name(rc), err.message);
  CU_ASSERT_EQUAL(rc, code);
  CU_ASSERT_EQUAL(err.code, code);
  CU_ASSERT_PTR_NULL(v);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, needle));
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "offset"));
  if (rc == 0)
    sy_value_unref(v);
}

/* A small frame with every column type and nulls in each. */
static sy_value *sample_frame(void) {
  sy_value *f = NULL;
  const double x[] = {1.5, -0.0, 3.25, NAN};
  const uint8_t xv[] = {1, 0, 1, 1};
  const int64_t n[] = {INT64_MIN, 0, 42, INT64_MAX};
  const uint8_t nv[] = {1, 1, 0, 1};
  const char *s[] = {"alpha", NULL, "", "\xc3\xa9t\xc3\xa9 \xe2\x82\xac"};
  CU_ASSERT_EQUAL_FATAL(sy_frame_new(4, &f), 0);
  CU_ASSERT_EQUAL_FATAL(sy_frame_add_f64(f, "x", x, xv), 0);
  CU_ASSERT_EQUAL_FATAL(sy_frame_add_i64(f, "n", n, nv), 0);
  CU_ASSERT_EQUAL_FATAL(sy_frame_add_str(f, "s", s), 0);
  return f;
}

/* ---- bytes ------------------------------------------------------------ */

static void test_value_bytes_round_trip(void) {
  const char data[] = "a\0b\xff";
  sy_value *v = NULL;
  CU_ASSERT_EQUAL_FATAL(
      sy_bytes_new(data, sizeof data, "application/x-test", &v), 0);
  CU_ASSERT_EQUAL(sy_value_type_of(v), SY_VALUE_BYTES);
  size_t len = 0;
  const void *p = sy_bytes_data(v, &len);
  CU_ASSERT_EQUAL(len, sizeof data);
  CU_ASSERT(p != (const void *)data && memcmp(p, data, len) == 0);
  CU_ASSERT_STRING_EQUAL(sy_bytes_media_type(v), "application/x-test");
  sy_value *back = round_trip(v);
  CU_ASSERT_STRING_EQUAL(sy_bytes_media_type(back), "application/x-test");
  /* A frame accessor on bytes answers "nothing", never crashes. */
  CU_ASSERT_EQUAL(sy_frame_rows(back), 0);
  CU_ASSERT_PTR_NULL(sy_frame_f64(back, 0));
  sy_value_unref(back);
  sy_value_unref(v);

  /* Empty data, default media type. */
  CU_ASSERT_EQUAL_FATAL(sy_bytes_new(NULL, 0, NULL, &v), 0);
  CU_ASSERT_PTR_NOT_NULL(sy_bytes_data(v, &len));
  CU_ASSERT_EQUAL(len, 0);
  CU_ASSERT_STRING_EQUAL(sy_bytes_media_type(v), "application/octet-stream");
  back = round_trip(v);
  sy_value_unref(back);
  sy_value_unref(v);
}

static void test_value_bytes_invalid(void) {
  sy_value *v = NULL;
  char longtype[SY_VALUE_MAX_NAME + 2];
  memset(longtype, 'a', sizeof longtype - 1);
  longtype[3] = '/';
  longtype[sizeof longtype - 1] = '\0';
  CU_ASSERT_EQUAL(sy_bytes_new("x", 1, "", &v), SY_EINVAL);
  CU_ASSERT_EQUAL(sy_bytes_new("x", 1, "noslash", &v), SY_EINVAL);
  CU_ASSERT_EQUAL(sy_bytes_new("x", 1, "text/\x01", &v), SY_EINVAL);
  CU_ASSERT_EQUAL(sy_bytes_new("x", 1, longtype, &v), SY_EINVAL);
  longtype[SY_VALUE_MAX_NAME] = '\0'; /* exactly the limit is fine */
  CU_ASSERT_EQUAL(sy_bytes_new("x", 1, longtype, &v), 0);
  sy_value_unref(v);
  CU_ASSERT_EQUAL(sy_bytes_new(NULL, 3, "text/plain", &v), SY_EINVAL);
  CU_ASSERT_EQUAL(sy_bytes_new("x", 1, "text/plain", NULL), SY_EINVAL);
  CU_ASSERT_EQUAL(sy_bytes_new("x", SY_VALUE_MAX_BYTES + 1, "text/plain", &v),
                  SY_ETOOBIG);
  CU_ASSERT_PTR_NULL(v);

  /* The largest bytes value cannot be encoded: the header and media type
   * push the body past the limit. Sizes are checked before any data is
   * read, so a small buffer claiming to be that long is safe here. */
  static char tiny[1];
  CU_ASSERT_EQUAL_FATAL(sy_bytes_wrap(tiny, SY_VALUE_MAX_BYTES, NULL, NULL, &v),
                        0);
  void *buf = (void *)tiny;
  size_t len = 1;
  uint8_t h[SY_VALUE_HASH_SIZE];
  CU_ASSERT_EQUAL(sy_value_encode(v, &buf, &len), SY_ETOOBIG);
  CU_ASSERT_PTR_NULL(buf);
  CU_ASSERT_EQUAL(len, 0);
  CU_ASSERT_EQUAL(sy_value_hash(v, h), SY_ETOOBIG);
  sy_value_unref(v);
}

static atomic_int freed;
static void count_free(void *p) {
  atomic_fetch_add(&freed, 1);
  free(p);
}

static void test_value_bytes_wrap(void) {
  sy_value *v = NULL;
  char *data = strdup("hello");
  atomic_store(&freed, 0);
  CU_ASSERT_EQUAL_FATAL(sy_bytes_wrap(data, 5, "text/plain", count_free, &v),
                        0);
  size_t len = 0;
  CU_ASSERT_PTR_EQUAL(sy_bytes_data(v, &len), data); /* no copy */
  CU_ASSERT_EQUAL(len, 5);
  sy_value_ref(v);
  sy_value_unref(v);
  CU_ASSERT_EQUAL(atomic_load(&freed), 0);
  sy_value_unref(v);
  CU_ASSERT_EQUAL(atomic_load(&freed), 1);

  /* On failure the caller keeps the buffer. */
  data = strdup("x");
  CU_ASSERT_EQUAL(sy_bytes_wrap(data, 1, "bad", count_free, &v), SY_EINVAL);
  CU_ASSERT_EQUAL(atomic_load(&freed), 1);
  free(data);

  /* A static buffer with no free function. */
  static char fixed[] = "static";
  CU_ASSERT_EQUAL_FATAL(sy_bytes_wrap(fixed, 6, NULL, NULL, &v), 0);
  sy_value *back = round_trip(v);
  sy_value_unref(back);
  sy_value_unref(v);
}

/* ---- frames ----------------------------------------------------------- */

static void test_value_frame_round_trip(void) {
  sy_value *f = sample_frame();
  sy_value *g = round_trip(f);
  CU_ASSERT_EQUAL(sy_value_type_of(g), SY_VALUE_FRAME);
  CU_ASSERT_EQUAL(sy_frame_rows(g), 4);
  CU_ASSERT_EQUAL(sy_frame_cols(g), 3);
  CU_ASSERT_STRING_EQUAL(sy_frame_col_name(g, 1), "n");
  CU_ASSERT_EQUAL(sy_frame_col_type(g, 0), SY_COL_F64);
  CU_ASSERT_EQUAL(sy_frame_col_type(g, 1), SY_COL_I64);
  CU_ASSERT_EQUAL(sy_frame_col_type(g, 2), SY_COL_STR);
  CU_ASSERT_EQUAL(sy_frame_col_index(g, "s"), 2);
  CU_ASSERT_EQUAL(sy_frame_col_index(g, "missing"), SY_ENOENT);

  const double *x = sy_frame_f64(g, 0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(x);
  CU_ASSERT_EQUAL(x[0], 1.5);
  CU_ASSERT_EQUAL(x[1], 0.0); /* null cells read as 0 */
  CU_ASSERT(isnan(x[3]));
  CU_ASSERT_TRUE(sy_frame_is_null(g, 0, 1));
  CU_ASSERT_FALSE(sy_frame_is_null(g, 0, 0));
  const uint8_t *xv = sy_frame_valid(g, 0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(xv);
  CU_ASSERT(xv[0] == 1 && xv[1] == 0 && xv[2] == 1 && xv[3] == 1);

  const int64_t *n = sy_frame_i64(g, 1);
  CU_ASSERT_PTR_NOT_NULL_FATAL(n);
  CU_ASSERT_EQUAL(n[0], INT64_MIN);
  CU_ASSERT_EQUAL(n[3], INT64_MAX);
  CU_ASSERT_TRUE(sy_frame_is_null(g, 1, 2));
  CU_ASSERT_PTR_NULL(sy_frame_f64(g, 1)); /* wrong type */

  CU_ASSERT_STRING_EQUAL(sy_frame_str(g, 2, 0), "alpha");
  CU_ASSERT_PTR_NULL(sy_frame_str(g, 2, 1));
  CU_ASSERT_STRING_EQUAL(sy_frame_str(g, 2, 2), ""); /* empty, not null */
  CU_ASSERT_FALSE(sy_frame_is_null(g, 2, 2));
  CU_ASSERT_STRING_EQUAL(sy_frame_str(g, 2, 3),
                         "\xc3\xa9t\xc3\xa9 \xe2\x82\xac");

  /* Out of range answers "nothing". */
  CU_ASSERT_PTR_NULL(sy_frame_col_name(g, 3));
  CU_ASSERT_EQUAL(sy_frame_col_type(g, 3), 0);
  CU_ASSERT_PTR_NULL(sy_frame_str(g, 2, 4));
  CU_ASSERT_FALSE(sy_frame_is_null(g, 0, 4));
  CU_ASSERT_PTR_NULL(sy_bytes_data(g, NULL));
  sy_value_unref(g);
  sy_value_unref(f);
}

static void test_value_frame_empty(void) {
  sy_value *f = NULL, *g = NULL;
  /* 0 rows, 0 columns. */
  CU_ASSERT_EQUAL_FATAL(sy_frame_new(0, &f), 0);
  g = round_trip(f);
  CU_ASSERT_EQUAL(sy_frame_rows(g), 0);
  CU_ASSERT_EQUAL(sy_frame_cols(g), 0);
  sy_value_unref(g);
  /* 0 rows, columns of each type (data may be NULL). */
  CU_ASSERT_EQUAL(sy_frame_add_f64(f, "a", NULL, NULL), 0);
  CU_ASSERT_EQUAL(sy_frame_add_i64(f, "b", NULL, NULL), 0);
  CU_ASSERT_EQUAL(sy_frame_add_str(f, "c", NULL), 0);
  g = round_trip(f);
  CU_ASSERT_EQUAL(sy_frame_cols(g), 3);
  CU_ASSERT_PTR_NOT_NULL(sy_frame_f64(g, 0));
  CU_ASSERT_PTR_NOT_NULL(sy_frame_i64(g, 1));
  sy_value_unref(g);
  sy_value_unref(f);
  /* Rows but no columns. */
  CU_ASSERT_EQUAL_FATAL(sy_frame_new(1000, &f), 0);
  g = round_trip(f);
  CU_ASSERT_EQUAL(sy_frame_rows(g), 1000);
  sy_value_unref(g);
  sy_value_unref(f);
}

static void test_value_frame_big(void) {
  enum { ROWS = 200000, COLS = 3000 };
  sy_value *f = NULL;
  double *x = malloc(ROWS * sizeof *x);
  int64_t *n = malloc(ROWS * sizeof *n);
  uint8_t *valid = malloc(ROWS);
  char **s = malloc(ROWS * sizeof *s);
  CU_ASSERT_FATAL(x && n && valid && s);
  for (size_t i = 0; i < ROWS; i++) {
    x[i] = (double)i / 7.0;
    n[i] = (int64_t)i * 1000003;
    valid[i] = i % 13 != 0;
    s[i] = NULL;
    if (i % 5) {
      s[i] = malloc(24);
      snprintf(s[i], 24, "row-%zu", i);
    }
  }
  CU_ASSERT_EQUAL_FATAL(sy_frame_new(ROWS, &f), 0);
  CU_ASSERT_EQUAL(sy_frame_add_f64(f, "x", x, valid), 0);
  CU_ASSERT_EQUAL(sy_frame_add_i64(f, "n", n, NULL), 0);
  CU_ASSERT_EQUAL(sy_frame_add_str(f, "s", (const char *const *)s), 0);
  sy_value *g = round_trip(f);
  CU_ASSERT_STRING_EQUAL(sy_frame_str(g, 2, ROWS - 1), "row-199999");
  CU_ASSERT_EQUAL(sy_frame_i64(g, 1)[ROWS - 1], (int64_t)(ROWS - 1) * 1000003);
  CU_ASSERT_TRUE(sy_frame_is_null(g, 0, 13 * 1000));
  sy_value_unref(g);
  sy_value_unref(f);
  for (size_t i = 0; i < ROWS; i++)
    free(s[i]);
  free(s);
  free(valid);
  free(n);
  free(x);

  /* Many columns: exercises the decoder's duplicate check at scale. */
  int64_t one = 1;
  CU_ASSERT_EQUAL_FATAL(sy_frame_new(1, &f), 0);
  for (int c = 0; c < COLS; c++) {
    char name[16];
    snprintf(name, sizeof name, "c%d", c);
    CU_ASSERT_EQUAL(sy_frame_add_i64(f, name, &one, NULL), 0);
  }
  g = round_trip(f);
  CU_ASSERT_EQUAL(sy_frame_cols(g), COLS);
  CU_ASSERT_EQUAL(sy_frame_col_index(g, "c2999"), 2999);
  sy_value_unref(g);
  sy_value_unref(f);
}

static void test_value_frame_add_errors(void) {
  sy_value *f = NULL, *b = NULL;
  const double x[] = {1, 2};
  const uint8_t all[] = {1, 7}; /* non-zero means present */
  CU_ASSERT_EQUAL_FATAL(sy_frame_new(2, &f), 0);
  CU_ASSERT_EQUAL(sy_frame_add_f64(f, "x", x, all), 0);
  /* A validity array without nulls is dropped (canonical form). */
  CU_ASSERT_PTR_NULL(sy_frame_valid(f, 0));
  CU_ASSERT_EQUAL(sy_frame_add_f64(f, "x", x, NULL), SY_EEXIST);
  CU_ASSERT_EQUAL(sy_frame_add_str(f, "x", (const char *[]){"a", "b"}),
                  SY_EEXIST);
  CU_ASSERT_EQUAL(sy_frame_add_f64(f, "", x, NULL), SY_EINVAL);
  CU_ASSERT_EQUAL(sy_frame_add_f64(f, NULL, x, NULL), SY_EINVAL);
  CU_ASSERT_EQUAL(sy_frame_add_f64(f, "y", NULL, NULL), SY_EINVAL);
  char longname[SY_VALUE_MAX_NAME + 2];
  memset(longname, 'n', sizeof longname - 1);
  longname[sizeof longname - 1] = '\0';
  CU_ASSERT_EQUAL(sy_frame_add_i64(f, longname, (int64_t[]){1, 2}, NULL),
                  SY_EINVAL);
  CU_ASSERT_EQUAL(sy_frame_cols(f), 1);
  CU_ASSERT_EQUAL(sy_frame_new(SY_VALUE_MAX_ROWS + 1, &b), SY_ETOOBIG);

  /* Adding to bytes is refused. */
  CU_ASSERT_EQUAL_FATAL(sy_bytes_new("a", 1, NULL, &b), 0);
  CU_ASSERT_EQUAL(sy_frame_add_f64(b, "x", x, NULL), SY_EINVAL);
  sy_value_unref(b);

  /* Handing on freezes, even after the other reference is gone. */
  sy_value *other = sy_value_ref(f);
  CU_ASSERT_EQUAL(sy_frame_add_f64(f, "y", x, NULL), SY_ESTATE);
  sy_value_unref(other);
  CU_ASSERT_EQUAL(sy_frame_add_f64(f, "y", x, NULL), SY_ESTATE);
  CU_ASSERT_EQUAL(sy_frame_cols(f), 1);
  sy_value_unref(f);
}

static void test_value_format_cell(void) {
  sy_value *f = NULL;
  const double x[] = {0.1, 1.0 / 3.0, 1e300, NAN, -INFINITY, -0.0, 5};
  const uint8_t xv[] = {1, 1, 1, 1, 1, 1, 0};
  const int64_t n[] = {INT64_MIN, -1, 0, 1, 2, 3, INT64_MAX};
  const char *s[] = {"plain", NULL, "", "x", "y", "z", "w"};
  char buf[64];
  CU_ASSERT_EQUAL_FATAL(sy_frame_new(7, &f), 0);
  CU_ASSERT_EQUAL_FATAL(sy_frame_add_f64(f, "x", x, xv), 0);
  CU_ASSERT_EQUAL_FATAL(sy_frame_add_i64(f, "n", n, NULL), 0);
  CU_ASSERT_EQUAL_FATAL(sy_frame_add_str(f, "s", s), 0);
  const char *want[] = {
      "0.1", "0.3333333333333333", "1e+300", "nan", "-inf", "-0", ""};
  for (size_t i = 0; i < 7; i++) {
    int len = sy_frame_format_cell(f, 0, i, buf, sizeof buf);
    CU_ASSERT_EQUAL(len, (int)strlen(want[i]));
    CU_ASSERT_STRING_EQUAL(buf, want[i]);
    if (i < 3) /* round-trippable */
      CU_ASSERT_EQUAL(strtod(buf, NULL), x[i]);
  }
  CU_ASSERT_EQUAL(sy_frame_format_cell(f, 1, 0, buf, sizeof buf), 20);
  CU_ASSERT_STRING_EQUAL(buf, "-9223372036854775808");
  CU_ASSERT_EQUAL(sy_frame_format_cell(f, 2, 0, buf, sizeof buf), 5);
  CU_ASSERT_STRING_EQUAL(buf, "plain");
  CU_ASSERT_EQUAL(sy_frame_format_cell(f, 2, 1, buf, sizeof buf), 0);
  CU_ASSERT_STRING_EQUAL(buf, "");
  /* Exactly fitting, one short, out of range. */
  CU_ASSERT_EQUAL(sy_frame_format_cell(f, 2, 0, buf, 6), 5);
  CU_ASSERT_EQUAL(sy_frame_format_cell(f, 2, 0, buf, 5), SY_ERANGE);
  CU_ASSERT_STRING_EQUAL(buf, "");
  CU_ASSERT_EQUAL(sy_frame_format_cell(f, 2, 0, buf, 0), SY_ERANGE);
  CU_ASSERT_EQUAL(sy_frame_format_cell(f, 3, 0, buf, sizeof buf), SY_EINVAL);
  CU_ASSERT_EQUAL(sy_frame_format_cell(f, 0, 7, buf, sizeof buf), SY_EINVAL);
  sy_value_unref(f);
}

/* ---- references ------------------------------------------------------- */

enum { THREADS = 8, ROUNDS = 100000 };

static void *ref_unref_loop(void *arg) {
  sy_value *v = arg;
  for (int i = 0; i < ROUNDS; i++)
    sy_value_unref(sy_value_ref(v));
  /* Each thread was given one reference and drops it. */
  sy_value_unref(v);
  return NULL;
}

static void test_value_refcount(void) {
  CU_ASSERT_PTR_NULL(sy_value_ref(NULL));
  sy_value_unref(NULL); /* no crash */
  CU_ASSERT_EQUAL(sy_value_type_of(NULL), 0);

  sy_value *v = NULL;
  atomic_store(&freed, 0);
  CU_ASSERT_EQUAL_FATAL(
      sy_bytes_wrap(strdup("shared"), 6, NULL, count_free, &v), 0);
  CU_ASSERT_PTR_EQUAL(sy_value_ref(v), v);
  pthread_t t[THREADS];
  for (int i = 0; i < THREADS; i++) {
    sy_value_ref(v);
    CU_ASSERT_EQUAL_FATAL(pthread_create(&t[i], NULL, ref_unref_loop, v), 0);
  }
  for (int i = 0; i < THREADS; i++)
    pthread_join(t[i], NULL);
  /* Two references are left (creation and the explicit ref above). */
  CU_ASSERT_EQUAL(atomic_load(&freed), 0);
  sy_value_unref(v);
  CU_ASSERT_EQUAL(atomic_load(&freed), 0);
  sy_value_unref(v);
  CU_ASSERT_EQUAL(atomic_load(&freed), 1);
}

/* ---- the wire format ---------------------------------------------------- */

/* Pins the layout: if this test needs changing, the format version must
 * change too. */
static void test_value_encoding_layout(void) {
  sy_value *f = NULL;
  const int64_t n[] = {1, -2, 0};
  const uint8_t nv[] = {1, 1, 0};
  CU_ASSERT_EQUAL_FATAL(sy_frame_new(3, &f), 0);
  CU_ASSERT_EQUAL_FATAL(sy_frame_add_i64(f, "id", n, nv), 0);
  CU_ASSERT_EQUAL_FATAL(
      sy_frame_add_str(f, "s", (const char *[]){"hi", NULL, "é"}), 0);
  void *buf = NULL;
  size_t len = 0;
  CU_ASSERT_EQUAL_FATAL(sy_value_encode(f, &buf, &len), 0);
  /* clang-format off */
  static const unsigned char want[] = {
      'S', 'Y', 'V', 1, 2, 0, 0, 0,                   /* magic, v1, frame */
      69, 0, 0, 0, 0, 0, 0, 0,                        /* body length */
      3, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0,             /* rows, cols */
      2, 0, 0, 0, 'i', 'd', 2, 1, 0x03,               /* i64, nulls, bitmap */
      1, 0, 0, 0, 0, 0, 0, 0,                         /* 1 */
      0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* -2 */
      0, 0, 0, 0, 0, 0, 0, 0,                         /* null */
      1, 0, 0, 0, 's', 3, 1, 0x05,                    /* str, nulls, bitmap */
      2, 0, 0, 0, 'h', 'i', 0, 0, 0, 0,               /* "hi", null */
      2, 0, 0, 0, 0xc3, 0xa9,                         /* "é" */
  };
  /* clang-format on */
  CU_ASSERT_EQUAL_FATAL(len, sizeof want + 8);
  CU_ASSERT_EQUAL(memcmp(buf, want, sizeof want), 0);
  uint64_t sum = XXH3_64bits(buf, sizeof want);
  const unsigned char *c = (const unsigned char *)buf + sizeof want;
  for (int i = 0; i < 8; i++)
    CU_ASSERT_EQUAL(c[i], (sum >> (8 * i)) & 0xff);
  free(buf);
  sy_value_unref(f);

  /* bytes: media type then data. */
  sy_value *b = NULL;
  CU_ASSERT_EQUAL_FATAL(sy_bytes_new("ok", 2, "text/plain", &b), 0);
  CU_ASSERT_EQUAL_FATAL(sy_value_encode(b, &buf, &len), 0);
  static const unsigned char wantb[] = {
      'S', 'Y', 'V', 1, 1, 0, 0,   0,   24,  0,   0,   0,   0,   0,
      0,   0,   10,  0, 0, 0, 't', 'e', 'x', 't', '/', 'p', 'l', 'a',
      'i', 'n', 2,   0, 0, 0, 0,   0,   0,   0,   'o', 'k'};
  CU_ASSERT_EQUAL(len, sizeof wantb + 8);
  CU_ASSERT(len == sizeof wantb + 8 && memcmp(buf, wantb, sizeof wantb) == 0);
  free(buf);
  sy_value_unref(b);
}

/* Every proper prefix of a valid encoding fails cleanly. */
static void test_value_decode_truncated(void) {
  sy_value *vals[2] = {sample_frame(), NULL};
  CU_ASSERT_EQUAL_FATAL(sy_bytes_new("payload", 7, "text/plain", &vals[1]), 0);
  for (int k = 0; k < 2; k++) {
    void *buf = NULL;
    size_t len = 0;
    CU_ASSERT_EQUAL_FATAL(sy_value_encode(vals[k], &buf, &len), 0);
    for (size_t cut = 0; cut < len; cut++) {
      /* A fresh copy of exactly `cut` bytes, so ASan sees any overread. */
      unsigned char *p = malloc(cut ? cut : 1);
      memcpy(p, buf, cut);
      expect_fail(p, cut, SY_ECORRUPT, "truncated");
      free(p);
    }
    /* One byte too many is refused as well. */
    unsigned char *p = malloc(len + 1);
    memcpy(p, buf, len);
    p[len] = 0;
    expect_fail(p, len + 1, SY_ECORRUPT, "unexpected bytes");
    free(p);
    free(buf);
    sy_value_unref(vals[k]);
  }
}

/* Every single-bit flip is detected. */
static void test_value_decode_bit_flips(void) {
  sy_value *f = sample_frame();
  void *buf = NULL;
  size_t len = 0;
  CU_ASSERT_EQUAL_FATAL(sy_value_encode(f, &buf, &len), 0);
  unsigned char *p = buf;
  size_t by_checksum = 0;
  for (size_t i = 0; i < len; i++) {
    for (int bit = 0; bit < 8; bit++) {
      sy_value *v = NULL;
      sy_error err;
      p[i] ^= (unsigned char)(1u << bit);
      int rc = sy_value_decode(p, len, &v, &err);
      p[i] ^= (unsigned char)(1u << bit);
      CU_ASSERT(rc < 0);
      CU_ASSERT_PTR_NULL(v);
      sy_value_unref(v);
      by_checksum += rc < 0 && strstr(err.message, "checksum mismatch");
    }
  }
  /* Flips past the header (body and checksum) are the checksum's job. */
  CU_ASSERT_EQUAL(by_checksum, (len - 16) * 8);
  free(buf);
  sy_value_unref(f);
}

static void test_value_decode_header_errors(void) {
  wire *w = malloc(sizeof *w);
  expect_fail("XYZ", 3, SY_ECORRUPT, "bad magic");
  expect_fail("", 0, SY_ECORRUPT, "truncated header");
  expect_fail("SY", 2, SY_ECORRUPT, "truncated header");

  wire_start(w, 2);
  w->b[3] = 2; /* a newer format */
  wire_seal(w);
  expect_fail(w->b, w->n, SY_ENOTSUP, "format version 2");
  wire_start(w, 2);
  w->b[3] = 0;
  wire_seal(w);
  expect_fail(w->b, w->n, SY_ECORRUPT, "format version 0");
  wire_start(w, 9);
  wire_seal(w);
  expect_fail(w->b, w->n, SY_ECORRUPT, "unknown value type 9");
  wire_start(w, 1);
  w->b[6] = 1;
  wire_seal(w);
  expect_fail(w->b, w->n, SY_ECORRUPT, "reserved");

  /* A body length past the limit, and one that lies within it. */
  wire_start(w, 1);
  wire_seal(w);
  put_u64_at(w->b + 8, (uint64_t)SY_VALUE_MAX_BYTES + 1);
  expect_fail(w->b, w->n, SY_ETOOBIG, "SY_VALUE_MAX_BYTES");
  put_u64_at(w->b + 8, UINT64_MAX);
  expect_fail(w->b, w->n, SY_ETOOBIG, "exceeds");
  put_u64_at(w->b + 8, 1000);
  expect_fail(w->b, w->n, SY_ECORRUPT, "claims 1000 body bytes");
  free(w);
}

/* Bodies whose lengths lie, sealed so the checksum passes: each must be
 * refused by a length check, not by luck (ASan would catch an overread,
 * and none of these allocates more than the input backs). */
static void test_value_decode_lying_lengths(void) {
  wire *w = malloc(sizeof *w);

  /* bytes: media length past the end, huge data length. */
  wire_start(w, 1);
  w_u32(w, 200);
  w_raw(w, "text/plain", 10);
  wire_seal(w);
  expect_fail(w->b, w->n, SY_ECORRUPT, "truncated media type");
  wire_start(w, 1);
  w_u32(w, 0x7fffffff);
  wire_seal(w);
  expect_fail(w->b, w->n, SY_ECORRUPT, "media type length");
  wire_start(w, 1);
  w_str(w, "text/plain");
  w_u64(w, UINT64_MAX);
  w_raw(w, "abc", 3);
  wire_seal(w);
  expect_fail(w->b, w->n, SY_ECORRUPT, "truncated data");

  /* frame: rows over the limit; rows within the limit but no cells. */
  wire_start(w, 2);
  w_u64(w, (uint64_t)SY_VALUE_MAX_ROWS + 1);
  w_u32(w, 0);
  wire_seal(w);
  expect_fail(w->b, w->n, SY_ETOOBIG, "SY_VALUE_MAX_ROWS");
  wire_start(w, 2);
  w_u64(w, SY_VALUE_MAX_ROWS);
  w_u32(w, 1);
  w_str(w, "x");
  w_u8(w, SY_COL_F64);
  w_u8(w, 0);
  w_u64(w, 0);
  wire_seal(w);
  expect_fail(w->b, w->n, SY_ECORRUPT, "truncated column data");
  wire_start(w, 2);
  w_u64(w, SY_VALUE_MAX_ROWS);
  w_u32(w, 1);
  w_str(w, "x");
  w_u8(w, SY_COL_STR);
  w_u8(w, 1);
  wire_seal(w);
  expect_fail(w->b, w->n, SY_ECORRUPT, "truncated column data");

  /* Column count the input cannot hold. */
  wire_start(w, 2);
  w_u64(w, 0);
  w_u32(w, UINT32_MAX);
  w_str(w, "x");
  w_u8(w, SY_COL_I64);
  w_u8(w, 0);
  wire_seal(w);
  expect_fail(w->b, w->n, SY_ECORRUPT, "column count 4294967295");
  /* Fits the 7-byte minimum per column, but the columns are not there. */
  wire_start(w, 2);
  w_u64(w, 0);
  w_u32(w, 2);
  w_str(w, "abcdefghij");
  w_u8(w, SY_COL_I64);
  w_u8(w, 0);
  wire_seal(w);
  expect_fail(w->b, w->n, SY_ECORRUPT, "truncated column name length");

  /* Name length beyond the limit and beyond the input. */
  wire_start(w, 2);
  w_u64(w, 0);
  w_u32(w, 1);
  w_u32(w, 256);
  w_raw(w, "abcdefg", 7);
  wire_seal(w);
  expect_fail(w->b, w->n, SY_ECORRUPT, "column name length 256");
  wire_start(w, 2);
  w_u64(w, 0);
  w_u32(w, 1);
  w_u32(w, 200);
  w_raw(w, "abcdefg", 7);
  wire_seal(w);
  expect_fail(w->b, w->n, SY_ECORRUPT, "truncated column name");

  /* A string length past the end. */
  wire_start(w, 2);
  w_u64(w, 2);
  w_u32(w, 1);
  w_str(w, "s");
  w_u8(w, SY_COL_STR);
  w_u8(w, 0);
  w_u32(w, 0xfffffff0);
  w_raw(w, "abcd", 4);
  wire_seal(w);
  expect_fail(w->b, w->n, SY_ECORRUPT, "truncated string");
  free(w);
}

/* Inputs that are well-formed in length but not canonical or not valid. */
static void test_value_decode_invalid_content(void) {
  wire *w = malloc(sizeof *w);
  /* Unknown column type, bad null flag. */
  wire_start(w, 2);
  w_u64(w, 0);
  w_u32(w, 1);
  w_str(w, "c");
  w_u8(w, 4);
  w_u8(w, 0);
  wire_seal(w);
  expect_fail(w->b, w->n, SY_ECORRUPT, "column 'c' has unknown type 4");
  wire_start(w, 2);
  w_u64(w, 0);
  w_u32(w, 1);
  w_str(w, "c");
  w_u8(w, SY_COL_I64);
  w_u8(w, 2);
  wire_seal(w);
  expect_fail(w->b, w->n, SY_ECORRUPT, "null flag 2");

  /* Bitmap claims nulls but has none; spare bits set; data under a null. */
  wire_start(w, 2);
  w_u64(w, 2);
  w_u32(w, 1);
  w_str(w, "c");
  w_u8(w, SY_COL_I64);
  w_u8(w, 1);
  w_u8(w, 0x03);
  w_u64(w, 1);
  w_u64(w, 2);
  wire_seal(w);
  expect_fail(w->b, w->n, SY_ECORRUPT, "has none");
  w->n -= 8;
  w->b[16 + 8 + 4 + 4 + 1 + 1 + 1] = 0x05; /* bit 2 is spare for 2 rows */
  wire_seal(w);
  expect_fail(w->b, w->n, SY_ECORRUPT, "spare bits");
  w->n -= 8;
  w->b[16 + 8 + 4 + 4 + 1 + 1 + 1] = 0x01; /* row 1 null, yet 2 stored */
  wire_seal(w);
  expect_fail(w->b, w->n, SY_ECORRUPT, "null row 1 carries data");

  /* Strings: NUL inside, a null row with a length. */
  wire_start(w, 2);
  w_u64(w, 1);
  w_u32(w, 1);
  w_str(w, "s");
  w_u8(w, SY_COL_STR);
  w_u8(w, 0);
  w_u32(w, 3);
  w_raw(w, "a\0b", 3);
  wire_seal(w);
  expect_fail(w->b, w->n, SY_ECORRUPT, "NUL byte");
  wire_start(w, 2);
  w_u64(w, 1);
  w_u32(w, 1);
  w_str(w, "s");
  w_u8(w, SY_COL_STR);
  w_u8(w, 1);
  w_u8(w, 0);
  w_u32(w, 1);
  w_raw(w, "a", 1);
  wire_seal(w);
  expect_fail(w->b, w->n, SY_ECORRUPT, "null row 0 has a string");

  /* Duplicate column names; a NUL in a name; a bad media type. */
  wire_start(w, 2);
  w_u64(w, 0);
  w_u32(w, 3);
  w_str(w, "b");
  w_u8(w, SY_COL_I64);
  w_u8(w, 0);
  w_str(w, "a");
  w_u8(w, SY_COL_I64);
  w_u8(w, 0);
  w_str(w, "b");
  w_u8(w, SY_COL_F64);
  w_u8(w, 0);
  wire_seal(w);
  expect_fail(w->b, w->n, SY_ECORRUPT, "offset 46: duplicate column name 'b'");
  wire_start(w, 2);
  w_u64(w, 0);
  w_u32(w, 1);
  w_u32(w, 2);
  w_raw(w, "a\0", 2);
  w_u8(w, SY_COL_I64);
  w_u8(w, 0);
  wire_seal(w);
  expect_fail(w->b, w->n, SY_ECORRUPT, "column name holds a NUL");
  wire_start(w, 1);
  w_str(w, "text plain");
  w_u64(w, 0);
  wire_seal(w);
  expect_fail(w->b, w->n, SY_ECORRUPT, "media type is not");

  /* Bytes left over inside the body. */
  wire_start(w, 1);
  w_str(w, "text/plain");
  w_u64(w, 1);
  w_raw(w, "ab", 2);
  wire_seal(w);
  expect_fail(w->b, w->n, SY_ECORRUPT, "1 unexpected bytes at the end");

  /* A valid hand-made encoding decodes, proving the writer above is
   * right and the failures come from the edits. */
  wire_start(w, 2);
  w_u64(w, 1);
  w_u32(w, 1);
  w_str(w, "s");
  w_u8(w, SY_COL_STR);
  w_u8(w, 0);
  w_str(w, "ok");
  wire_seal(w);
  sy_value *v = NULL;
  CU_ASSERT_EQUAL(sy_value_decode(w->b, w->n, &v, NULL), 0);
  CU_ASSERT_STRING_EQUAL(sy_frame_str(v, 0, 0), "ok");
  sy_value_unref(v);

  /* An edit of a real encoding, resealed, is caught by the parser. */
  sy_value *f = sample_frame();
  void *buf = NULL;
  size_t len = 0;
  CU_ASSERT_EQUAL_FATAL(sy_value_encode(f, &buf, &len), 0);
  ((unsigned char *)buf)[16 + 8] = 9; /* column count 3 -> 9 */
  reseal(buf, len);
  expect_fail(buf, len, SY_ECORRUPT, "truncated");
  free(buf);
  sy_value_unref(f);
  free(w);
}

/* ---- hashing and equality --------------------------------------------- */

static void hash_of(const sy_value *v, uint8_t out[SY_VALUE_HASH_SIZE]) {
  CU_ASSERT_EQUAL(sy_value_hash(v, out), 0);
}

static void test_value_hash(void) {
  uint8_t h[6][SY_VALUE_HASH_SIZE];
  sy_value *a = sample_frame(), *b = sample_frame();
  sy_value *c = NULL, *d = NULL, *e = NULL, *g = NULL;
  hash_of(a, h[0]);
  hash_of(b, h[1]);
  CU_ASSERT_EQUAL(memcmp(h[0], h[1], SY_VALUE_HASH_SIZE), 0);

  /* One cell differs. */
  const int64_t n1[] = {1, 2}, n2[] = {1, 3};
  CU_ASSERT_EQUAL_FATAL(sy_frame_new(2, &c), 0);
  CU_ASSERT_EQUAL_FATAL(sy_frame_new(2, &d), 0);
  sy_frame_add_i64(c, "n", n1, NULL);
  sy_frame_add_i64(d, "n", n2, NULL);
  hash_of(c, h[2]);
  hash_of(d, h[3]);
  CU_ASSERT_NOT_EQUAL(memcmp(h[2], h[3], SY_VALUE_HASH_SIZE), 0);
  CU_ASSERT_NOT_EQUAL(memcmp(h[0], h[2], SY_VALUE_HASH_SIZE), 0);

  /* Same bytes, different media type; bytes vs. frame. */
  CU_ASSERT_EQUAL_FATAL(sy_bytes_new("x", 1, "text/plain", &e), 0);
  CU_ASSERT_EQUAL_FATAL(sy_bytes_new("x", 1, "text/csv", &g), 0);
  hash_of(e, h[4]);
  hash_of(g, h[5]);
  CU_ASSERT_NOT_EQUAL(memcmp(h[4], h[5], SY_VALUE_HASH_SIZE), 0);

  /* The hash is XXH3-128 of the encoding without its checksum. */
  void *buf = NULL;
  size_t len = 0;
  CU_ASSERT_EQUAL_FATAL(sy_value_encode(a, &buf, &len), 0);
  XXH128_canonical_t canon;
  XXH128_canonicalFromHash(&canon, XXH3_128bits(buf, len - 8));
  CU_ASSERT_EQUAL(memcmp(canon.digest, h[0], SY_VALUE_HASH_SIZE), 0);
  free(buf);

  CU_ASSERT_EQUAL(sy_value_hash(NULL, h[0]), SY_EINVAL);
  sy_value_unref(a);
  sy_value_unref(b);
  sy_value_unref(c);
  sy_value_unref(d);
  sy_value_unref(e);
  sy_value_unref(g);
}

static void test_value_equal(void) {
  sy_value *a = NULL, *b = NULL;
  CU_ASSERT_TRUE(sy_value_equal(NULL, NULL));

  /* Null cells are equal whatever data was passed for them; NaN equals
   * the same NaN; -0.0 and 0.0 differ (bitwise). */
  const double x1[] = {NAN, 1, 0.0}, x2[] = {NAN, 99, 0.0};
  const uint8_t v[] = {1, 0, 1};
  CU_ASSERT_EQUAL_FATAL(sy_frame_new(3, &a), 0);
  CU_ASSERT_EQUAL_FATAL(sy_frame_new(3, &b), 0);
  sy_frame_add_f64(a, "x", x1, v);
  sy_frame_add_f64(b, "x", x2, v);
  CU_ASSERT_TRUE(sy_value_equal(a, b));
  CU_ASSERT_TRUE(sy_value_equal(a, a));
  CU_ASSERT_FALSE(sy_value_equal(a, NULL));
  sy_frame_add_f64(a, "z", (const double[]){0.0, 0.0, 0.0}, NULL);
  CU_ASSERT_FALSE(sy_value_equal(a, b)); /* column count */
  sy_frame_add_f64(b, "z", (const double[]){0.0, -0.0, 0.0}, NULL);
  CU_ASSERT_FALSE(sy_value_equal(a, b)); /* -0.0 */
  sy_value_unref(a);
  sy_value_unref(b);

  /* Null vs. present-but-zero; null string vs. empty string; names. */
  CU_ASSERT_EQUAL_FATAL(sy_frame_new(1, &a), 0);
  CU_ASSERT_EQUAL_FATAL(sy_frame_new(1, &b), 0);
  sy_frame_add_i64(a, "n", (const int64_t[]){0}, (const uint8_t[]){0});
  sy_frame_add_i64(b, "n", (const int64_t[]){0}, NULL);
  CU_ASSERT_FALSE(sy_value_equal(a, b));
  sy_value_unref(a);
  sy_value_unref(b);
  CU_ASSERT_EQUAL_FATAL(sy_frame_new(1, &a), 0);
  CU_ASSERT_EQUAL_FATAL(sy_frame_new(1, &b), 0);
  sy_frame_add_str(a, "s", (const char *[]){NULL});
  sy_frame_add_str(b, "s", (const char *[]){""});
  CU_ASSERT_FALSE(sy_value_equal(a, b));
  sy_value_unref(a);
  sy_value_unref(b);
  CU_ASSERT_EQUAL_FATAL(sy_frame_new(1, &a), 0);
  CU_ASSERT_EQUAL_FATAL(sy_frame_new(1, &b), 0);
  sy_frame_add_str(a, "s", (const char *[]){"v"});
  sy_frame_add_str(b, "t", (const char *[]){"v"});
  CU_ASSERT_FALSE(sy_value_equal(a, b));
  sy_value_unref(b);

  /* Different types; bytes of different length. */
  CU_ASSERT_EQUAL_FATAL(sy_bytes_new("v", 1, NULL, &b), 0);
  CU_ASSERT_FALSE(sy_value_equal(a, b));
  sy_value_unref(a);
  CU_ASSERT_EQUAL_FATAL(sy_bytes_new("vv", 2, NULL, &a), 0);
  CU_ASSERT_FALSE(sy_value_equal(a, b));
  sy_value_unref(a);
  sy_value_unref(b);
}

static void test_value_add_column_from(void) {
  double d[3] = {1.5, 2.5, 3.5};
  uint8_t dv[3] = {1, 0, 1};
  int64_t i[3] = {7, 8, 9};
  const char *str[3] = {"a", NULL, "c"};
  sy_value *src = NULL, *dst = NULL, *other = NULL;
  CU_ASSERT_EQUAL_FATAL(sy_frame_new(3, &src), 0);
  CU_ASSERT_EQUAL(sy_frame_add_f64(src, "d", d, dv), 0);
  CU_ASSERT_EQUAL(sy_frame_add_i64(src, "i", i, NULL), 0);
  CU_ASSERT_EQUAL(sy_frame_add_str(src, "s", str), 0);
  CU_ASSERT_EQUAL_FATAL(sy_frame_new(3, &dst), 0);
  for (size_t c = 3; c-- > 0;)
    CU_ASSERT_EQUAL(sy_frame_add_column_from(dst, NULL, src, c), 0);
  CU_ASSERT_EQUAL(sy_frame_cols(dst), 3);
  CU_ASSERT_STRING_EQUAL(sy_frame_col_name(dst, 0), "s");
  CU_ASSERT_PTR_NULL(sy_frame_str(dst, 0, 1));
  CU_ASSERT_STRING_EQUAL(sy_frame_str(dst, 0, 2), "c");
  CU_ASSERT_EQUAL(sy_frame_i64(dst, 1)[2], 9);
  CU_ASSERT(sy_frame_is_null(dst, 2, 1));
  CU_ASSERT_EQUAL(sy_frame_f64(dst, 2)[2], 3.5);
  /* The same column twice, a column out of range, a frame of more rows
   * than the source has. */
  CU_ASSERT_EQUAL(sy_frame_add_column_from(dst, NULL, src, 0), SY_EEXIST);
  CU_ASSERT_EQUAL(sy_frame_add_column_from(dst, NULL, src, 3), SY_EINVAL);
  CU_ASSERT_EQUAL_FATAL(sy_frame_new(4, &other), 0);
  CU_ASSERT_EQUAL(sy_frame_add_column_from(other, NULL, src, 0), SY_EINVAL);
  /* A shorter frame takes the first cells, under a new name. */
  sy_value *head = NULL;
  CU_ASSERT_EQUAL_FATAL(sy_frame_new(2, &head), 0);
  CU_ASSERT_EQUAL(sy_frame_add_column_from(head, "first", src, 2), 0);
  CU_ASSERT_STRING_EQUAL(sy_frame_col_name(head, 0), "first");
  CU_ASSERT_STRING_EQUAL(sy_frame_str(head, 0, 0), "a");
  CU_ASSERT_PTR_NULL(sy_frame_str(head, 0, 1));
  sy_value_unref(head);
  sy_value_unref(src);
  sy_value_unref(dst);
  sy_value_unref(other);
}

/* Rewriting cells in place (ABI 1.1) is only for the holder of the only
 * reference, and leaves the frame canonical: equal to one built afresh
 * with the same cells and nulls. */
static void test_value_frame_reuse_in_place(void) {
  double a[3] = {1, 2, 3};
  int64_t k[3] = {4, 5, 6};
  sy_value *f = NULL;
  CU_ASSERT_FATAL(sy_frame_new(3, &f) == 0);
  CU_ASSERT_FATAL(sy_frame_add_f64(f, "a", a, NULL) == 0);
  CU_ASSERT_FATAL(sy_frame_add_i64(f, "k", k, NULL) == 0);
  CU_ASSERT_TRUE(sy_value_exclusive(f));
  CU_ASSERT_FALSE(sy_value_exclusive(NULL));
  CU_ASSERT_PTR_NULL(sy_frame_i64_mut(f, 0)); /* wrong type */
  CU_ASSERT_PTR_NULL(sy_frame_f64_mut(f, 2)); /* out of range */
  /* Shared: nothing may be written. */
  sy_value *other = sy_value_ref(f);
  CU_ASSERT_FALSE(sy_value_exclusive(f));
  CU_ASSERT_PTR_NULL(sy_frame_f64_mut(f, 0));
  CU_ASSERT_PTR_NULL(sy_frame_i64_mut(f, 1));
  CU_ASSERT_EQUAL(sy_frame_set_valid(f, 0, NULL), SY_ESTATE);
  sy_value_unref(other);
  /* Exclusive again (even though frozen by the ref): rewrite. */
  CU_ASSERT_TRUE(sy_value_exclusive(f));
  double *cells = sy_frame_f64_mut(f, 0);
  CU_ASSERT_FATAL(cells != NULL);
  cells[0] = 7;
  cells[1] = 8;
  cells[2] = 9;
  uint8_t valid[3] = {1, 0, 1};
  CU_ASSERT_EQUAL(sy_frame_set_valid(f, 0, valid), 0);
  CU_ASSERT_TRUE(sy_frame_is_null(f, 0, 1));
  CU_ASSERT_EQUAL(sy_frame_f64(f, 0)[1], 0.0); /* zeroed under the null */
  sy_value *want = NULL;
  double w[3] = {7, 8, 9};
  CU_ASSERT_FATAL(sy_frame_new(3, &want) == 0);
  CU_ASSERT_FATAL(sy_frame_add_f64(want, "a", w, valid) == 0);
  CU_ASSERT_FATAL(sy_frame_add_i64(want, "k", k, NULL) == 0);
  CU_ASSERT_TRUE(sy_value_equal(f, want));
  uint8_t h1[SY_VALUE_HASH_SIZE], h2[SY_VALUE_HASH_SIZE];
  CU_ASSERT_EQUAL(sy_value_hash(f, h1), 0);
  CU_ASSERT_EQUAL(sy_value_hash(want, h2), 0);
  CU_ASSERT_EQUAL(memcmp(h1, h2, sizeof h1), 0);
  /* All present again: the validity array goes (canonical form). */
  cells[1] = 8;
  CU_ASSERT_EQUAL(sy_frame_set_valid(f, 0, NULL), 0);
  CU_ASSERT_PTR_NULL(sy_frame_valid(f, 0));
  CU_ASSERT_EQUAL(sy_frame_f64(f, 0)[1], 8.0);
  /* Strings are not rewritten this way; columns cannot be added. */
  const char *sv[3] = {"x", "y", "z"};
  CU_ASSERT_EQUAL(sy_frame_add_str(f, "s", sv), SY_ESTATE);
  CU_ASSERT_EQUAL(sy_frame_set_valid(f, 5, NULL), SY_EINVAL);
  sy_value_unref(want);
  sy_value_unref(f);
}

int main(void) {
  static const CU_TestInfo tests[] = {
#define T(f) {#f, f}
      T(test_value_bytes_round_trip),
      T(test_value_bytes_invalid),
      T(test_value_bytes_wrap),
      T(test_value_frame_round_trip),
      T(test_value_frame_empty),
      T(test_value_frame_big),
      T(test_value_frame_add_errors),
      T(test_value_frame_reuse_in_place),
      T(test_value_format_cell),
      T(test_value_refcount),
      T(test_value_encoding_layout),
      T(test_value_decode_truncated),
      T(test_value_decode_bit_flips),
      T(test_value_decode_header_errors),
      T(test_value_decode_lying_lengths),
      T(test_value_decode_invalid_content),
      T(test_value_hash),
      T(test_value_equal),
      T(test_value_add_column_from),
#undef T
      CU_TEST_INFO_NULL,
  };
  return fx_run_suite("value", NULL, NULL, tests);
}
