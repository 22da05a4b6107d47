/*
 * test_helpers.c - the plugin-author helpers of ABI 1.3, through the
 * public headers only: the content hash (hash.h), the state codec
 * (state.h) and the frame builder (value.h).
 */
#include <CUnit/Basic.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <switchyard/switchyard.h>

#include "fixture.h"

static bool has(const sy_error *err, const char *needle) {
  bool ok = strstr(err->message, needle) != NULL;
  if (!ok)
    fprintf(stderr, "\n  message was: %s\n  wanted: %s\n", err->message,
            needle);
  return ok;
}

/* ---- the content hash ------------------------------------------------- */

/* One shot, streamed in pieces and after a reset: the same hash. */
static void test_hash_one_shot_equals_streamed(void) {
  char text[1000];
  uint8_t once[SY_HASH_SIZE], streamed[SY_HASH_SIZE], again[SY_HASH_SIZE];
  sy_hasher *h = NULL;
  for (size_t i = 0; i < sizeof text; i++)
    text[i] = (char)('a' + i % 26);
  sy_hash(text, sizeof text, once);
  CU_ASSERT_EQUAL_FATAL(sy_hasher_new(&h), 0);
  sy_hasher_update(h, "junk", 4);
  sy_hasher_reset(h);
  for (size_t at = 0; at < sizeof text; at += 7)
    sy_hasher_update(h, text + at, sizeof text - at < 7 ? sizeof text - at : 7);
  sy_hasher_digest(h, streamed);
  CU_ASSERT_EQUAL(memcmp(once, streamed, SY_HASH_SIZE), 0);
  /* digest does not end the stream. */
  sy_hasher_update(h, "x", 1);
  sy_hasher_digest(h, again);
  CU_ASSERT_NOT_EQUAL(memcmp(once, again, SY_HASH_SIZE), 0);
  sy_hasher_free(h);
  sy_hasher_free(NULL);
  CU_ASSERT_EQUAL(sy_hasher_new(NULL), SY_EINVAL);

  /* Empty input, NULL allowed, and different from one byte. */
  uint8_t empty[SY_HASH_SIZE], zero[SY_HASH_SIZE];
  sy_hash(NULL, 0, empty);
  sy_hash("", 1, zero);
  CU_ASSERT_NOT_EQUAL(memcmp(empty, zero, SY_HASH_SIZE), 0);
}

/* It is the core's own hash: sy_value_hash is documented as XXH3-128 of
 * the encoding without its 8-byte checksum, in canonical order. */
static void test_hash_is_the_value_hash(void) {
  sy_value *v = NULL;
  void *enc = NULL;
  size_t len = 0;
  uint8_t mine[SY_HASH_SIZE], core[SY_VALUE_HASH_SIZE];
  CU_ASSERT_EQUAL(SY_HASH_SIZE, SY_VALUE_HASH_SIZE);
  CU_ASSERT_EQUAL_FATAL(sy_bytes_new("hello", 5, "text/plain", &v), 0);
  CU_ASSERT_EQUAL_FATAL(sy_value_encode(v, &enc, &len), 0);
  CU_ASSERT_EQUAL_FATAL(sy_value_hash(v, core), 0);
  sy_hash(enc, len - 8, mine);
  CU_ASSERT_EQUAL(memcmp(mine, core, SY_HASH_SIZE), 0);
  free(enc);
  sy_value_unref(v);
}

/* ---- the state codec -------------------------------------------------- */

/* A state with one field of each kind. */
static sy_value *sample_state(uint32_t version) {
  sy_state_writer w;
  sy_value *st = NULL;
  sy_error err;
  const double xs[3] = {1.5, -0.0, 1e300};
  CU_ASSERT_EQUAL(sy_state_begin(&w, "TESTST", version), 0);
  sy_state_put_u32(&w, 3);
  sy_state_put_u64(&w, UINT64_MAX);
  sy_state_put_i64(&w, -42);
  sy_state_put_f64(&w, 0.25);
  sy_state_put_f64s(&w, xs, 3);
  sy_state_put_str(&w, "name");
  sy_state_put_str(&w, "");
  CU_ASSERT_EQUAL(sy_state_finish(&w, "test.actor", &st, &err), 0);
  CU_ASSERT_PTR_NULL(w.data); /* emptied */
  return st;
}

/* Reads sample_state back; returns sy_state_close's code. */
static int read_sample(const sy_value *st, uint32_t lo, uint32_t hi,
                       sy_error *err) {
  sy_state_reader r;
  uint32_t n = 0, u32 = 0;
  uint64_t u64 = 0;
  int64_t i64 = 0;
  double f = 0, xs[3];
  char *a = NULL, *b = NULL;
  int rc = sy_state_open(&r, st, "test.actor", "TESTST", lo, hi, err);
  if (rc)
    return rc;
  sy_state_get_count(&r, 8, &n);
  sy_state_get_u64(&r, &u64);
  sy_state_get_i64(&r, &i64);
  sy_state_get_f64(&r, &f);
  sy_state_get_f64s(&r, xs, n == 3 ? 3 : 0);
  sy_state_get_str(&r, 1, 16, &a);
  sy_state_get_str(&r, 0, 16, &b);
  rc = sy_state_close(&r, err);
  if (rc == 0) {
    CU_ASSERT_EQUAL(n, 3);
    CU_ASSERT_EQUAL(u64, UINT64_MAX);
    CU_ASSERT_EQUAL(i64, -42);
    CU_ASSERT_EQUAL(f, 0.25);
    CU_ASSERT_EQUAL(xs[0], 1.5);
    CU_ASSERT(xs[1] == 0.0 && signbit(xs[1]));
    CU_ASSERT_EQUAL(xs[2], 1e300);
    CU_ASSERT_STRING_EQUAL(a, "name");
    CU_ASSERT_STRING_EQUAL(b, "");
  }
  (void)u32;
  free(a);
  free(b);
  return rc;
}

static void test_state_roundtrip_and_layout(void) {
  sy_value *st = sample_state(2);
  sy_error err;
  size_t len = 0;
  const uint8_t *p = sy_bytes_data(st, &len);
  CU_ASSERT_STRING_EQUAL(sy_bytes_media_type(st), SY_STATE_MEDIA);
  /* The documented layout: magic padded with NULs, version, length. */
  CU_ASSERT_EQUAL(memcmp(p, "TESTST\0\0", 8), 0);
  CU_ASSERT_EQUAL(p[8], 2);
  CU_ASSERT_EQUAL(p[12] | p[13] << 8,
                  len - SY_STATE_HEADER_SIZE - SY_STATE_TRAILER_SIZE);
  CU_ASSERT_EQUAL(len, 16 + 4 + 8 + 8 + 8 + 24 + 8 + 4 + 8);
  CU_ASSERT_EQUAL(read_sample(st, 1, 2, &err), 0);
  sy_state_reader r;
  CU_ASSERT_EQUAL(sy_state_open(&r, st, "t", "TESTST", 2, 5, &err), 0);
  CU_ASSERT_EQUAL(r.version, 2);
  /* Stopping early leaves bytes over: refused, saying how many. */
  CU_ASSERT_EQUAL(sy_state_close(&r, &err), SY_ECORRUPT);
  CU_ASSERT(has(&err, "t: state: malformed payload at offset 16"));
  CU_ASSERT(has(&err, "left over"));
  sy_value_unref(st);
}

static void test_state_version_and_magic(void) {
  sy_value *st = sample_state(3);
  sy_error err;
  CU_ASSERT_EQUAL(read_sample(st, 1, 2, &err), SY_ECORRUPT);
  CU_ASSERT(has(&err, "test.actor: state format version 3 is not supported "
                      "(this plugin reads 1 to 2); train the model again"));
  CU_ASSERT_EQUAL(read_sample(st, 1, 1, &err), SY_ECORRUPT);
  CU_ASSERT(has(&err, "(this plugin reads 1); train the model again"));
  CU_ASSERT_EQUAL(read_sample(st, 3, 3, &err), 0);
  sy_state_reader r;
  CU_ASSERT_EQUAL(sy_state_open(&r, st, "x.y", "OTHER", 1, 9, &err),
                  SY_ECORRUPT);
  CU_ASSERT(has(&err, "x.y: state has a bad magic (not a x.y state)"));
  /* close after a failed open keeps open's message. */
  CU_ASSERT_EQUAL(sy_state_close(&r, &err), SY_ECORRUPT);
  CU_ASSERT(has(&err, "bad magic"));
  /* A prefix of the magic is another magic. */
  CU_ASSERT_EQUAL(sy_state_open(&r, st, "x.y", "TEST", 1, 9, &err),
                  SY_ECORRUPT);
  /* Not bytes; wrong media type. */
  sy_value *f = NULL, *b = NULL;
  CU_ASSERT_EQUAL_FATAL(sy_frame_new(0, &f), 0);
  CU_ASSERT_EQUAL(sy_state_open(&r, f, "x.y", "TESTST", 1, 9, &err), SY_ETYPE);
  CU_ASSERT(has(&err, "x.y: state is a frame, expected bytes"));
  size_t len;
  const void *p = sy_bytes_data(st, &len);
  CU_ASSERT_EQUAL_FATAL(sy_bytes_new(p, len, "text/plain", &b), 0);
  CU_ASSERT_EQUAL(sy_state_open(&r, b, "x.y", "TESTST", 1, 9, &err),
                  SY_ECORRUPT);
  CU_ASSERT(has(&err, "media type 'text/plain'"));
  /* Bad arguments. */
  CU_ASSERT_EQUAL(sy_state_open(&r, st, "x.y", "", 1, 9, &err), SY_EINVAL);
  CU_ASSERT_EQUAL(sy_state_open(&r, st, "x.y", "TOOLONGMAGIC", 1, 9, &err),
                  SY_EINVAL);
  CU_ASSERT_EQUAL(sy_state_open(&r, st, "x.y", "TESTST", 2, 1, &err),
                  SY_EINVAL);
  sy_value_unref(b);
  sy_value_unref(f);
  sy_value_unref(st);
}

/* Every truncation and every flipped bit gets a clean SY_ECORRUPT. */
static void test_state_damage_is_refused(void) {
  sy_value *st = sample_state(1), *bad = NULL;
  sy_error err;
  size_t len;
  const uint8_t *p = sy_bytes_data(st, &len);
  uint8_t *copy = malloc(len);
  CU_ASSERT_PTR_NOT_NULL_FATAL(copy);
  for (size_t n = 0; n < len; n++) {
    CU_ASSERT_EQUAL_FATAL(sy_bytes_new(p, n, SY_STATE_MEDIA, &bad), 0);
    CU_ASSERT_EQUAL(read_sample(bad, 1, 1, &err), SY_ECORRUPT);
    sy_value_unref(bad);
  }
  for (size_t i = 0; i < len; i++)
    for (int bit = 0; bit < 8; bit++) {
      memcpy(copy, p, len);
      copy[i] ^= (uint8_t)(1u << bit);
      CU_ASSERT_EQUAL_FATAL(sy_bytes_new(copy, len, SY_STATE_MEDIA, &bad), 0);
      CU_ASSERT_EQUAL(read_sample(bad, 1, 1, &err), SY_ECORRUPT);
      CU_ASSERT(strstr(err.message, "test.actor: ") == err.message);
      sy_value_unref(bad);
    }
  free(copy);
  sy_value_unref(st);
}

/* FNV-1a 64 over all but the last 8 bytes, written there: a lying payload
 * that passes the checksum must still be refused by the field checks. */
static void seal(uint8_t *b, size_t len) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < len - 8; i++) {
    h ^= b[i];
    h *= 0x100000001b3ull;
  }
  for (int i = 0; i < 8; i++)
    b[len - 8 + i] = (uint8_t)(h >> (8 * i));
}

static sy_value *forged(const uint8_t *payload, size_t n) {
  uint8_t b[64] = "TESTST";
  sy_value *v = NULL;
  CU_ASSERT_FATAL(n + 24 <= sizeof b);
  b[8] = 1;
  b[12] = (uint8_t)n;
  memcpy(b + 16, payload, n);
  seal(b, n + 24);
  CU_ASSERT_EQUAL_FATAL(sy_bytes_new(b, n + 24, SY_STATE_MEDIA, &v), 0);
  return v;
}

static void test_state_lying_fields(void) {
  sy_state_reader r;
  sy_error err;
  uint32_t n = 7;
  char *s = (char *)1;
  double d[2] = {1, 1};

  /* A count of 4 billion in 4 bytes: refused before any allocation. */
  sy_value *v = forged((const uint8_t *)"\xff\xff\xff\xff", 4);
  CU_ASSERT_EQUAL_FATAL(sy_state_open(&r, v, "a", "TESTST", 1, 1, &err), 0);
  CU_ASSERT_EQUAL(sy_state_left(&r), 4);
  CU_ASSERT_EQUAL(sy_state_get_count(&r, 1, &n), SY_ECORRUPT);
  CU_ASSERT_EQUAL(n, 0);
  CU_ASSERT_EQUAL(sy_state_left(&r), 0);
  /* Sticky: later gets fail too, and zero their output. */
  CU_ASSERT_EQUAL(sy_state_get_f64s(&r, d, 2), SY_ECORRUPT);
  CU_ASSERT(d[0] == 0 && d[1] == 0);
  CU_ASSERT_EQUAL(sy_state_close(&r, &err), SY_ECORRUPT);
  CU_ASSERT(has(&err, "a: state: malformed payload at offset 16"));
  sy_value_unref(v);

  /* A string with a NUL inside; one longer than the caller's max. */
  v = forged((const uint8_t *)"\x03\0\0\0a\0b", 7);
  CU_ASSERT_EQUAL_FATAL(sy_state_open(&r, v, "a", "TESTST", 1, 1, &err), 0);
  CU_ASSERT_EQUAL(sy_state_get_str(&r, 0, 10, &s), SY_ECORRUPT);
  CU_ASSERT_PTR_NULL(s);
  CU_ASSERT_EQUAL(sy_state_close(&r, &err), SY_ECORRUPT);
  sy_value_unref(v);
  v = forged((const uint8_t *)"\x03\0\0\0abc", 7);
  CU_ASSERT_EQUAL_FATAL(sy_state_open(&r, v, "a", "TESTST", 1, 1, &err), 0);
  CU_ASSERT_EQUAL(sy_state_get_str(&r, 0, 2, &s), SY_ECORRUPT);
  CU_ASSERT_EQUAL(sy_state_close(&r, &err), SY_ECORRUPT);
  CU_ASSERT_EQUAL_FATAL(sy_state_open(&r, v, "a", "TESTST", 1, 1, &err), 0);
  CU_ASSERT_EQUAL(sy_state_get_str(&r, 0, 3, &s), 0);
  CU_ASSERT_STRING_EQUAL(s, "abc");
  free(s);
  CU_ASSERT_EQUAL(sy_state_close(&r, &err), 0);
  /* The actor's own judgement: reject marks the offset. */
  CU_ASSERT_EQUAL_FATAL(sy_state_open(&r, v, "a", "TESTST", 1, 1, &err), 0);
  CU_ASSERT_EQUAL(sy_state_get_u32(&r, &n), 0);
  CU_ASSERT_EQUAL(sy_state_reject(&r), SY_ECORRUPT);
  CU_ASSERT_EQUAL(sy_state_close(&r, &err), SY_ECORRUPT);
  CU_ASSERT(has(&err, "a: state: malformed payload at offset 20"));
  sy_value_unref(v);
}

static void test_state_writer_failures(void) {
  sy_state_writer w;
  sy_value *v = (sy_value *)1;
  sy_error err;
  CU_ASSERT_EQUAL(sy_state_begin(&w, "BAD MAGIC", 1), SY_EINVAL);
  sy_state_put_u32(&w, 1); /* a no-op after the failure */
  CU_ASSERT_EQUAL(sy_state_finish(&w, "a.b", &v, &err), SY_EINVAL);
  CU_ASSERT_PTR_NULL(v);
  CU_ASSERT(has(&err, "a.b: cannot save the state"));
  CU_ASSERT_EQUAL(sy_state_begin(&w, "OK", 0), SY_EINVAL);
  sy_state_discard(&w);
  CU_ASSERT_EQUAL(sy_state_begin(&w, "OK", 1), 0);
  sy_state_put_str(&w, NULL);
  CU_ASSERT_EQUAL(sy_state_finish(&w, "a.b", &v, &err), SY_EINVAL);
  /* discard frees a state given up half way (valgrind/ASan see it). */
  CU_ASSERT_EQUAL(sy_state_begin(&w, "OK", 1), 0);
  sy_state_put_f64(&w, 1.0);
  sy_state_discard(&w);
  CU_ASSERT_PTR_NULL(w.data);
}

/* ---- the frame builder ------------------------------------------------ */

/* Builds row by row across columns, with nulls, and compares against the
 * same frame made with sy_frame_add_*. */
static void test_builder_rows_equal_add(void) {
  sy_frame_builder *b = NULL;
  sy_value *f = NULL, *want = NULL;
  sy_error err;
  const double x[3] = {1.5, 0, -2};
  const uint8_t xv[3] = {1, 0, 1};
  const int64_t n[3] = {7, 8, 9};
  const char *s[3] = {"a", NULL, ""};

  CU_ASSERT_EQUAL_FATAL(sy_frame_builder_new(SY_FRAME_GROW, &b), 0);
  CU_ASSERT_EQUAL(sy_frame_builder_column(b, "x", SY_COL_F64), 0);
  CU_ASSERT_EQUAL(sy_frame_builder_column(b, "n", SY_COL_I64), 1);
  CU_ASSERT_EQUAL(sy_frame_builder_column(b, "s", SY_COL_STR), 2);
  for (size_t r = 0; r < 3; r++) {
    if (xv[r]) {
      CU_ASSERT_EQUAL(sy_frame_builder_f64(b, 0, x[r]), 0);
    } else {
      CU_ASSERT_EQUAL(sy_frame_builder_null(b, 0), 0);
    }
    CU_ASSERT_EQUAL(sy_frame_builder_i64(b, 1, n[r]), 0);
    CU_ASSERT_EQUAL(sy_frame_builder_str(b, 2, s[r]), 0);
  }
  CU_ASSERT_EQUAL_FATAL(sy_frame_builder_finish(b, &f, &err), 0);

  CU_ASSERT_EQUAL_FATAL(sy_frame_new(3, &want), 0);
  CU_ASSERT_EQUAL(sy_frame_add_f64(want, "x", x, xv), 0);
  CU_ASSERT_EQUAL(sy_frame_add_i64(want, "n", n, NULL), 0);
  CU_ASSERT_EQUAL(sy_frame_add_str(want, "s", s), 0);
  CU_ASSERT(sy_value_equal(f, want));
  uint8_t h1[SY_VALUE_HASH_SIZE], h2[SY_VALUE_HASH_SIZE];
  CU_ASSERT_EQUAL(sy_value_hash(f, h1), 0);
  CU_ASSERT_EQUAL(sy_value_hash(want, h2), 0);
  CU_ASSERT_EQUAL(memcmp(h1, h2, sizeof h1), 0);
  CU_ASSERT_PTR_NULL(sy_frame_valid(f, 1)); /* no nulls: no validity */
  CU_ASSERT(sy_frame_is_null(f, 2, 1));
  CU_ASSERT_STRING_EQUAL(sy_frame_str(f, 2, 2), "");
  /* Finished frames are immutable. */
  const double one = 1;
  CU_ASSERT_EQUAL(sy_frame_add_f64(f, "y", &one, NULL), SY_ESTATE);
  /* ...but still exclusively held, for apply_into. */
  CU_ASSERT(sy_value_exclusive(f));
  sy_value_unref(f);
  sy_value_unref(want);
}

/* Whole columns, strn, append_from, a fixed row count. */
static void test_builder_columns_and_append_from(void) {
  sy_frame_builder *b = NULL;
  sy_value *src = NULL, *f = NULL;
  sy_error err;
  const double x[2] = {1, 2};
  const uint8_t xv[2] = {0, 1};
  const char *s[2] = {"p", NULL};
  CU_ASSERT_EQUAL_FATAL(sy_frame_new(2, &src), 0);
  CU_ASSERT_EQUAL(sy_frame_add_f64(src, "x", x, xv), 0);
  CU_ASSERT_EQUAL(sy_frame_add_str(src, "s", s), 0);

  /* Two copies of src stacked, plus a column given whole. */
  CU_ASSERT_EQUAL_FATAL(sy_frame_builder_new(4, &b), 0);
  CU_ASSERT_EQUAL(sy_frame_builder_column(b, "x", SY_COL_F64), 0);
  CU_ASSERT_EQUAL(sy_frame_builder_column(b, "s", SY_COL_STR), 1);
  CU_ASSERT_EQUAL(sy_frame_builder_column(b, "k", SY_COL_I64), 2);
  for (int k = 0; k < 2; k++) {
    CU_ASSERT_EQUAL(sy_frame_builder_append_from(b, 0, src, 0), 0);
    CU_ASSERT_EQUAL(sy_frame_builder_append_from(b, 1, src, 1), 0);
  }
  const int64_t ks[4] = {1, 2, 3, 4};
  const uint8_t kv[4] = {1, 1, 1, 0};
  CU_ASSERT_EQUAL(sy_frame_builder_i64s(b, 2, ks, kv, 4), 0);
  CU_ASSERT_EQUAL_FATAL(sy_frame_builder_finish(b, &f, &err), 0);
  CU_ASSERT_EQUAL(sy_frame_rows(f), 4);
  CU_ASSERT(sy_frame_is_null(f, 0, 0) && sy_frame_is_null(f, 0, 2));
  CU_ASSERT_EQUAL(sy_frame_f64(f, 0)[3], 2);
  CU_ASSERT_EQUAL(sy_frame_f64(f, 0)[0], 0); /* canonical null */
  CU_ASSERT_STRING_EQUAL(sy_frame_str(f, 1, 2), "p");
  CU_ASSERT_PTR_NULL(sy_frame_str(f, 1, 3));
  CU_ASSERT_EQUAL(sy_frame_i64(f, 2)[3], 0);
  CU_ASSERT(sy_frame_is_null(f, 2, 3));
  sy_value_unref(f);

  /* strn copies len bytes; a NUL inside is refused. */
  CU_ASSERT_EQUAL_FATAL(sy_frame_builder_new(SY_FRAME_GROW, &b), 0);
  CU_ASSERT_EQUAL(sy_frame_builder_column(b, "t", SY_COL_STR), 0);
  CU_ASSERT_EQUAL(sy_frame_builder_strn(b, 0, "abcdef", 3), 0);
  CU_ASSERT_EQUAL_FATAL(sy_frame_builder_finish(b, &f, &err), 0);
  CU_ASSERT_STRING_EQUAL(sy_frame_str(f, 0, 0), "abc");
  sy_value_unref(f);
  CU_ASSERT_EQUAL_FATAL(sy_frame_builder_new(SY_FRAME_GROW, &b), 0);
  CU_ASSERT_EQUAL(sy_frame_builder_column(b, "t", SY_COL_STR), 0);
  CU_ASSERT_EQUAL(sy_frame_builder_strn(b, 0, "a\0b", 3), SY_EINVAL);
  CU_ASSERT_EQUAL(sy_frame_builder_finish(b, &f, &err), SY_EINVAL);
  CU_ASSERT(has(&err, "column 't': a string with a NUL byte"));
  sy_value_unref(src);
}

/* Sticky failures, named in finish's message; lengths that disagree. */
static void test_builder_failures(void) {
  sy_frame_builder *b = NULL;
  sy_value *f = (sy_value *)1;
  sy_error err;

  CU_ASSERT_EQUAL_FATAL(sy_frame_builder_new(SY_FRAME_GROW, &b), 0);
  CU_ASSERT_EQUAL(sy_frame_builder_column(b, "x", SY_COL_F64), 0);
  CU_ASSERT_EQUAL(sy_frame_builder_str(b, 0, "no"), SY_ETYPE);
  /* Every later call fails with the first code and does nothing. */
  CU_ASSERT_EQUAL(sy_frame_builder_f64(b, 0, 1.0), SY_ETYPE);
  CU_ASSERT_EQUAL(sy_frame_builder_column(b, "y", SY_COL_I64), SY_ETYPE);
  CU_ASSERT_EQUAL(sy_frame_builder_finish(b, &f, &err), SY_ETYPE);
  CU_ASSERT_PTR_NULL(f);
  CU_ASSERT(has(&err, "column 'x' is f64, not string"));

  CU_ASSERT_EQUAL_FATAL(sy_frame_builder_new(SY_FRAME_GROW, &b), 0);
  CU_ASSERT_EQUAL(sy_frame_builder_column(b, "x", SY_COL_F64), 0);
  CU_ASSERT_EQUAL(sy_frame_builder_column(b, "x", SY_COL_F64), SY_EEXIST);
  sy_frame_builder_free(b);

  CU_ASSERT_EQUAL_FATAL(sy_frame_builder_new(SY_FRAME_GROW, &b), 0);
  CU_ASSERT_EQUAL(sy_frame_builder_column(b, "a", SY_COL_F64), 0);
  CU_ASSERT_EQUAL(sy_frame_builder_column(b, "b", SY_COL_F64), 1);
  CU_ASSERT_EQUAL(sy_frame_builder_f64(b, 0, 1), 0);
  CU_ASSERT_EQUAL(sy_frame_builder_f64(b, 0, 2), 0);
  CU_ASSERT_EQUAL(sy_frame_builder_f64(b, 1, 1), 0);
  CU_ASSERT_EQUAL(sy_frame_builder_f64(b, 7, 1), SY_EINVAL);
  sy_frame_builder_free(b);
  CU_ASSERT_EQUAL_FATAL(sy_frame_builder_new(SY_FRAME_GROW, &b), 0);
  CU_ASSERT_EQUAL(sy_frame_builder_column(b, "a", SY_COL_F64), 0);
  CU_ASSERT_EQUAL(sy_frame_builder_column(b, "b", SY_COL_F64), 1);
  CU_ASSERT_EQUAL(sy_frame_builder_f64(b, 0, 1), 0);
  CU_ASSERT_EQUAL(sy_frame_builder_f64(b, 0, 2), 0);
  CU_ASSERT_EQUAL(sy_frame_builder_f64(b, 1, 1), 0);
  CU_ASSERT_EQUAL(sy_frame_builder_finish(b, &f, &err), SY_EINVAL);
  CU_ASSERT(has(&err, "column 'b' has 1 cells, the first column has 2"));

  /* A fixed row count: one cell too many, one too few. */
  CU_ASSERT_EQUAL_FATAL(sy_frame_builder_new(1, &b), 0);
  CU_ASSERT_EQUAL(sy_frame_builder_column(b, "a", SY_COL_I64), 0);
  CU_ASSERT_EQUAL(sy_frame_builder_i64(b, 0, 1), 0);
  CU_ASSERT_EQUAL(sy_frame_builder_i64(b, 0, 2), SY_ERANGE);
  CU_ASSERT_EQUAL(sy_frame_builder_finish(b, &f, &err), SY_ERANGE);
  CU_ASSERT_EQUAL_FATAL(sy_frame_builder_new(2, &b), 0);
  CU_ASSERT_EQUAL(sy_frame_builder_column(b, "a", SY_COL_I64), 0);
  CU_ASSERT_EQUAL(sy_frame_builder_finish(b, &f, &err), SY_EINVAL);
  CU_ASSERT(has(&err, "column 'a' has 0 cells, the frame has 2 rows"));

  /* No columns: a frame of the row count. Bad arguments. */
  CU_ASSERT_EQUAL_FATAL(sy_frame_builder_new(5, &b), 0);
  CU_ASSERT_EQUAL_FATAL(sy_frame_builder_finish(b, &f, &err), 0);
  CU_ASSERT_EQUAL(sy_frame_rows(f), 5);
  CU_ASSERT_EQUAL(sy_frame_cols(f), 0);
  sy_value_unref(f);
  CU_ASSERT_EQUAL(sy_frame_builder_new(SY_VALUE_MAX_ROWS + 1, &b), SY_ETOOBIG);
  CU_ASSERT_EQUAL(sy_frame_builder_new(1, NULL), SY_EINVAL);
  CU_ASSERT_EQUAL(sy_frame_builder_f64(NULL, 0, 1), SY_EINVAL);
  CU_ASSERT_EQUAL(sy_frame_builder_finish(NULL, &f, &err), SY_EINVAL);
  sy_frame_builder_free(NULL);
}

/* Growing past the first allocations keeps every cell. */
static void test_builder_grows(void) {
  sy_frame_builder *b = NULL;
  sy_value *f = NULL;
  sy_error err;
  char text[32];
  CU_ASSERT_EQUAL_FATAL(sy_frame_builder_new(SY_FRAME_GROW, &b), 0);
  CU_ASSERT_EQUAL(sy_frame_builder_column(b, "i", SY_COL_I64), 0);
  CU_ASSERT_EQUAL(sy_frame_builder_column(b, "s", SY_COL_STR), 1);
  for (int64_t r = 0; r < 5000; r++) {
    snprintf(text, sizeof text, "row %lld", (long long)r);
    if (r % 7 == 3)
      sy_frame_builder_null(b, 0);
    else
      sy_frame_builder_i64(b, 0, r);
    sy_frame_builder_str(b, 1, r % 5 == 1 ? NULL : text);
  }
  CU_ASSERT_EQUAL_FATAL(sy_frame_builder_finish(b, &f, &err), 0);
  CU_ASSERT_EQUAL(sy_frame_rows(f), 5000);
  for (size_t r = 0; r < 5000; r++) {
    snprintf(text, sizeof text, "row %zu", r);
    CU_ASSERT_EQUAL(sy_frame_is_null(f, 0, r), r % 7 == 3);
    if (r % 7 != 3 && sy_frame_i64(f, 0)[r] != (int64_t)r) {
      CU_FAIL("cell lost");
    }
    if (r % 5 == 1) {
      CU_ASSERT_PTR_NULL(sy_frame_str(f, 1, r));
    } else if (strcmp(sy_frame_str(f, 1, r), text) != 0) {
      CU_FAIL("string lost");
    }
  }
  sy_value_unref(f);
}

int main(void) {
  static const CU_TestInfo tests[] = {
#define T(fn) {#fn, fn}
      T(test_hash_one_shot_equals_streamed),
      T(test_hash_is_the_value_hash),
      T(test_state_roundtrip_and_layout),
      T(test_state_version_and_magic),
      T(test_state_damage_is_refused),
      T(test_state_lying_fields),
      T(test_state_writer_failures),
      T(test_builder_rows_equal_add),
      T(test_builder_columns_and_append_from),
      T(test_builder_failures),
      T(test_builder_grows),
#undef T
      CU_TEST_INFO_NULL,
  };
  return fx_run_suite("helpers", NULL, NULL, tests);
}
