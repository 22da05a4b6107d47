/*
 * test_csv.c - the core's CSV dialect (services/csv.c).
 *
 * Every RFC 4180 case the reader accepts, the type inference and null
 * rules, declared types, each error with its exact "name:line:column"
 * text, the writer's exact output, and write-then-read round trips that
 * must give back an equal frame (f64 bit for bit).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "fixture.h"
#include "switchyard/switchyard.h"

/* ---- helpers ----------------------------------------------------------- */

static sy_value *read_ok(const char *text, const sy_csv_options *opts) {
  sy_value *v = NULL;
  sy_error err;
  sy_error_clear(&err);
  int rc = sy_csv_read(text, strlen(text), opts, &v, &err);
  if (rc != 0)
    fprintf(stderr, "\nunexpected error: %s\n", err.message);
  CU_ASSERT_EQUAL(rc, 0);
  return v;
}

/* Reads text expecting failure with `code`; returns the message (static). */
static const char *read_fail(const char *text, const sy_csv_options *opts,
                             int code) {
  static sy_error err;
  sy_value *v = NULL;
  sy_error_clear(&err);
  int rc = sy_csv_read(text, strlen(text), opts, &v, &err);
  CU_ASSERT_EQUAL(rc, code);
  CU_ASSERT_EQUAL(err.code, code);
  CU_ASSERT_PTR_NULL(v);
  sy_value_unref(v);
  return err.message;
}

static sy_csv_options named(const char *name) {
  sy_csv_options o = {0};
  o.size = sizeof o;
  o.name = name;
  return o;
}

typedef struct sbuf {
  char *data;
  size_t len;
} sbuf;

static int sbuf_write(void *ud, const void *buf, size_t len) {
  sbuf *b = ud;
  char *d = realloc(b->data, b->len + len + 1);
  if (!d)
    return SY_ENOMEM;
  memcpy(d + b->len, buf, len);
  b->len += len;
  d[b->len] = '\0';
  b->data = d;
  return 0;
}

/* Writes f and returns the text (caller frees). */
static char *write_text(const sy_value *f, char delim) {
  sbuf b = {NULL, 0};
  sy_error err;
  int rc = sy_csv_write(f, delim, sbuf_write, &b, &err);
  CU_ASSERT_EQUAL(rc, 0);
  if (!b.data)
    b.data = strdup("");
  return b.data;
}

/* ---- reading ----------------------------------------------------------- */

static void test_csv_basic_inference(void) {
  sy_value *f = read_ok("id,x,name\n1,1.5,ann\n-2,3,bob\n", NULL);
  CU_ASSERT_FATAL(f != NULL);
  CU_ASSERT_EQUAL(sy_frame_rows(f), 2);
  CU_ASSERT_EQUAL(sy_frame_cols(f), 3);
  CU_ASSERT_STRING_EQUAL(sy_frame_col_name(f, 0), "id");
  CU_ASSERT_EQUAL(sy_frame_col_type(f, 0), SY_COL_I64);
  CU_ASSERT_EQUAL(sy_frame_col_type(f, 1), SY_COL_F64);
  CU_ASSERT_EQUAL(sy_frame_col_type(f, 2), SY_COL_STR);
  CU_ASSERT_EQUAL(sy_frame_i64(f, 0)[1], -2);
  CU_ASSERT_DOUBLE_EQUAL(sy_frame_f64(f, 1)[0], 1.5, 0);
  CU_ASSERT_DOUBLE_EQUAL(sy_frame_f64(f, 1)[1], 3.0, 0);
  CU_ASSERT_STRING_EQUAL(sy_frame_str(f, 2, 1), "bob");
  CU_ASSERT_PTR_NULL(sy_frame_valid(f, 0));
  sy_value_unref(f);
}

static void test_csv_quoted_fields(void) {
  /* Delimiter, doubled quote, LF and CRLF inside quotes. */
  sy_value *f = read_ok("a,b\n\"x,y\",\"say \"\"hi\"\"\"\n"
                        "\"line1\nline2\",\"cr\r\nlf\"\n",
                        NULL);
  CU_ASSERT_FATAL(f != NULL);
  CU_ASSERT_EQUAL(sy_frame_rows(f), 2);
  CU_ASSERT_STRING_EQUAL(sy_frame_str(f, 0, 0), "x,y");
  CU_ASSERT_STRING_EQUAL(sy_frame_str(f, 1, 0), "say \"hi\"");
  CU_ASSERT_STRING_EQUAL(sy_frame_str(f, 0, 1), "line1\nline2");
  CU_ASSERT_STRING_EQUAL(sy_frame_str(f, 1, 1), "cr\r\nlf");
  sy_value_unref(f);
  /* A quoted header name and quoted numbers still infer as numbers. */
  f = read_ok("\"a b\",\"n\"\n\"1\",\"2.5\"\n", NULL);
  CU_ASSERT_FATAL(f != NULL);
  CU_ASSERT_STRING_EQUAL(sy_frame_col_name(f, 0), "a b");
  CU_ASSERT_EQUAL(sy_frame_col_type(f, 0), SY_COL_I64);
  CU_ASSERT_EQUAL(sy_frame_col_type(f, 1), SY_COL_F64);
  sy_value_unref(f);
}

static void test_csv_line_ends_and_bom(void) {
  const char *variants[] = {
      "a,b\r\n1,x\r\n2,y\r\n", /* CRLF */
      "a,b\n1,x\n2,y",         /* no trailing newline */
      "a,b\r\n1,x\n2,y\r\n",   /* mixed */
      "\xEF\xBB\xBF"
      "a,b\n1,x\n2,y\n", /* BOM */
  };
  for (size_t i = 0; i < sizeof variants / sizeof *variants; i++) {
    sy_value *f = read_ok(variants[i], NULL);
    CU_ASSERT_FATAL(f != NULL);
    CU_ASSERT_EQUAL(sy_frame_rows(f), 2);
    CU_ASSERT_STRING_EQUAL(sy_frame_col_name(f, 0), "a");
    CU_ASSERT_STRING_EQUAL(sy_frame_str(f, 1, 1), "y");
    CU_ASSERT_EQUAL(sy_frame_i64(f, 0)[1], 2);
    sy_value_unref(f);
  }
  /* A lone CR is data, not a line end. */
  sy_value *f = read_ok("a\nx\ry\n", NULL);
  CU_ASSERT_FATAL(f != NULL);
  CU_ASSERT_EQUAL(sy_frame_rows(f), 1);
  CU_ASSERT_STRING_EQUAL(sy_frame_str(f, 0, 0), "x\ry");
  sy_value_unref(f);
}

static void test_csv_empty_inputs(void) {
  const char *variants[] = {"", "\xEF\xBB\xBF"};
  for (size_t i = 0; i < 2; i++) {
    sy_value *f = read_ok(variants[i], NULL);
    CU_ASSERT_FATAL(f != NULL);
    CU_ASSERT_EQUAL(sy_frame_rows(f), 0);
    CU_ASSERT_EQUAL(sy_frame_cols(f), 0);
    sy_value_unref(f);
  }
  sy_value *f = read_ok("a,b\n", NULL);
  CU_ASSERT_FATAL(f != NULL);
  CU_ASSERT_EQUAL(sy_frame_rows(f), 0);
  CU_ASSERT_EQUAL(sy_frame_cols(f), 2);
  sy_value_unref(f);
}

static void test_csv_nulls(void) {
  sy_value *f = read_ok("i,f,s,e\n1,,,\n,2.5,\"\",\n3,1,x,\n", NULL);
  CU_ASSERT_FATAL(f != NULL);
  CU_ASSERT_EQUAL(sy_frame_col_type(f, 0), SY_COL_I64);
  CU_ASSERT_TRUE(sy_frame_is_null(f, 0, 1));
  CU_ASSERT_FALSE(sy_frame_is_null(f, 0, 0));
  CU_ASSERT_EQUAL(sy_frame_col_type(f, 1), SY_COL_F64);
  CU_ASSERT_TRUE(sy_frame_is_null(f, 1, 0));
  CU_ASSERT_EQUAL(sy_frame_col_type(f, 2), SY_COL_STR);
  CU_ASSERT_PTR_NULL(sy_frame_str(f, 2, 0)); /* unquoted empty: null */
  CU_ASSERT_PTR_NOT_NULL_FATAL(sy_frame_str(f, 2, 1));
  CU_ASSERT_STRING_EQUAL(sy_frame_str(f, 2, 1), ""); /* "": empty string */
  /* A column with no value at all is i64, all null. */
  CU_ASSERT_EQUAL(sy_frame_col_type(f, 3), SY_COL_I64);
  for (size_t r = 0; r < 3; r++)
    CU_ASSERT_TRUE(sy_frame_is_null(f, 3, r));
  sy_value_unref(f);
  /* A quoted empty cell is null in a number column: it does not make the
   * column text (Python's csv.QUOTE_NONNUMERIC writes None as ""). */
  f = read_ok("a\n1\n\"\"\n", NULL);
  CU_ASSERT_FATAL(f != NULL);
  CU_ASSERT_EQUAL(sy_frame_col_type(f, 0), SY_COL_I64);
  CU_ASSERT_TRUE(sy_frame_is_null(f, 0, 1));
  sy_value_unref(f);
  /* Only "" and nulls: a column of (empty) strings. */
  f = read_ok("a\n\"\"\n\n", NULL);
  CU_ASSERT_FATAL(f != NULL);
  CU_ASSERT_EQUAL(sy_frame_col_type(f, 0), SY_COL_STR);
  sy_value_unref(f);
}

/* Issue 10, item 3: one bad cell in a numeric column is an error at its
 * file:line:column, never a silent string column. */
static void test_csv_bad_cell_in_numeric_column(void) {
  sy_csv_options o = named("t.csv");
  const char *msg =
      read_fail("x,y\n1,0.5\n2,1.5\nabc,2.5\n4,3.5\n", &o, SY_ESYNTAX);
  CU_ASSERT_STRING_EQUAL(msg,
                         "t.csv:4:1: column 'x': 'abc' is not a number, but 3 "
                         "of the column's 4 values are; fix the cell, or "
                         "declare the column's type (f64 also reads nan and "
                         "inf, string reads the column as text)");
  /* Not the first column; the first row; a quoted cell (C: its quote). */
  msg = read_fail("a,b\n1,oops\n3,4\n5,6\n", &o, SY_ESYNTAX);
  CU_ASSERT_PTR_NOT_NULL(strstr(msg, "t.csv:2:3: column 'b': 'oops' is not"));
  msg = read_fail("a,b\n1,2.5\n3,\"n/a\"\n5,6\n", &o, SY_ESYNTAX);
  CU_ASSERT_PTR_NOT_NULL(strstr(msg, "t.csv:3:3: column 'b': 'n/a' is not"));
  /* nan in an inferred column is a bad cell too; declared f64 reads it. */
  msg = read_fail("v\n1.5\nnan\n2\n", &o, SY_ESYNTAX);
  CU_ASSERT_PTR_NOT_NULL(strstr(msg, "t.csv:3:1: column 'v': 'nan'"));
  const char *f64[] = {"v:f64", NULL};
  o.types = f64;
  sy_value *f = read_ok("v\n1.5\nnan\n2\n", &o);
  CU_ASSERT_FATAL(f != NULL);
  CU_ASSERT_EQUAL(sy_frame_col_type(f, 0), SY_COL_F64);
  CU_ASSERT_TRUE(isnan(sy_frame_f64(f, 0)[1]));
  sy_value_unref(f);
  /* Declared string: the column is text, as written. */
  const char *str[] = {"x:string", NULL};
  o.types = str;
  f = read_ok("x,y\n1,0.5\n2,1.5\nabc,2.5\n", &o);
  CU_ASSERT_FATAL(f != NULL);
  CU_ASSERT_EQUAL(sy_frame_col_type(f, 0), SY_COL_STR);
  CU_ASSERT_STRING_EQUAL(sy_frame_str(f, 0, 2), "abc");
  CU_ASSERT_EQUAL(sy_frame_col_type(f, 1), SY_COL_F64);
  sy_value_unref(f);
  o.types = NULL;
  /* Text with a minority of numbers (or half) stays text, whatever the
   * order of its rows. */
  const char *text[] = {"n\nann\nbob\n3\n", "n\n3\nann\nbob\n", "n\n1\nx\n",
                        "n\nx\n1\n", "n\n1\n2\nx\ny\n"};
  for (size_t i = 0; i < sizeof text / sizeof *text; i++) {
    f = read_ok(text[i], &o);
    CU_ASSERT_FATAL(f != NULL);
    CU_ASSERT_EQUAL(sy_frame_col_type(f, 0), SY_COL_STR);
    sy_value_unref(f);
  }
  /* A mostly numeric column is an error wherever the bad cell is. */
  msg = read_fail("n\nx\n1\n2\n", &o, SY_ESYNTAX);
  CU_ASSERT_PTR_NOT_NULL(strstr(msg, "t.csv:2:1: column 'n': 'x' is not a "
                                     "number, but 2 of the column's 3"));
  /* Nulls and "" do not count either way. */
  msg = read_fail("n\n1\n\n\"\"\n\nx\n2\n", &o, SY_ESYNTAX);
  CU_ASSERT_PTR_NOT_NULL(strstr(msg, "t.csv:6:1: column 'n': 'x' is not a "
                                     "number, but 2 of the column's 3"));
}

static void test_csv_inference_edges(void) {
  struct {
    const char *cell;
    sy_col_type type;
  } cases[] = {
      {"+5", SY_COL_I64},
      {"007", SY_COL_I64},
      {"9223372036854775807", SY_COL_I64},
      {"-9223372036854775808", SY_COL_I64},
      {"9223372036854775808", SY_COL_F64}, /* does not fit: f64 */
      {".5", SY_COL_F64},
      {"5.", SY_COL_F64},
      {"1e5", SY_COL_F64},
      {"-1.5E-3", SY_COL_F64},
      {"1e999", SY_COL_STR}, /* not finite */
      {"inf", SY_COL_STR},
      {"nan", SY_COL_STR},
      {"0x10", SY_COL_STR},
      {" 1", SY_COL_STR},
      {"1 ", SY_COL_STR},
      {".", SY_COL_STR},
      {"1e", SY_COL_STR},
      {"-", SY_COL_STR},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    char text[64];
    snprintf(text, sizeof text, "c\n%s\n", cases[i].cell);
    sy_value *f = read_ok(text, NULL);
    CU_ASSERT_FATAL(f != NULL);
    if (sy_frame_col_type(f, 0) != cases[i].type)
      fprintf(stderr, "\ncell '%s': type %d\n", cases[i].cell,
              sy_frame_col_type(f, 0));
    CU_ASSERT_EQUAL(sy_frame_col_type(f, 0), cases[i].type);
    sy_value_unref(f);
  }
  /* One non-integer turns the whole column into f64. */
  sy_value *f = read_ok("c\n1\n2\n2.5\n", NULL);
  CU_ASSERT_FATAL(f != NULL);
  CU_ASSERT_EQUAL(sy_frame_col_type(f, 0), SY_COL_F64);
  CU_ASSERT_DOUBLE_EQUAL(sy_frame_f64(f, 0)[1], 2.0, 0);
  sy_value_unref(f);
}

static void test_csv_no_header_and_delimiter(void) {
  sy_csv_options o = named("t");
  o.no_header = 1;
  o.delimiter = ';';
  sy_value *f = read_ok("1;a,b\n2;c\n", &o);
  CU_ASSERT_FATAL(f != NULL);
  CU_ASSERT_EQUAL(sy_frame_rows(f), 2);
  CU_ASSERT_STRING_EQUAL(sy_frame_col_name(f, 0), "c1");
  CU_ASSERT_STRING_EQUAL(sy_frame_col_name(f, 1), "c2");
  CU_ASSERT_STRING_EQUAL(sy_frame_str(f, 1, 0), "a,b");
  sy_value_unref(f);
  o.no_header = 0;
  o.delimiter = '\t';
  f = read_ok("a\tb\n1\t2\n", &o);
  CU_ASSERT_FATAL(f != NULL);
  CU_ASSERT_EQUAL(sy_frame_cols(f), 2);
  CU_ASSERT_EQUAL(sy_frame_i64(f, 1)[0], 2);
  sy_value_unref(f);
  o.delimiter = '"';
  read_fail("a\n", &o, SY_EINVAL);
}

static void test_csv_blank_lines(void) {
  /* One column: an empty line is a null cell (also the last one). */
  sy_value *f = read_ok("a\n1\n\n3\n\n", NULL);
  CU_ASSERT_FATAL(f != NULL);
  CU_ASSERT_EQUAL(sy_frame_rows(f), 4);
  CU_ASSERT_TRUE(sy_frame_is_null(f, 0, 1));
  CU_ASSERT_TRUE(sy_frame_is_null(f, 0, 3));
  sy_value_unref(f);
  /* More columns: an empty line cannot be a record and is skipped. */
  f = read_ok("a,b\n1,2\n\r\n\n3,4\n\n", NULL);
  CU_ASSERT_FATAL(f != NULL);
  CU_ASSERT_EQUAL(sy_frame_rows(f), 2);
  CU_ASSERT_EQUAL(sy_frame_i64(f, 0)[1], 3);
  sy_value_unref(f);
}

static void test_csv_declared_types(void) {
  const char *types[] = {"id:string", "x:f64", "n:i64", NULL};
  sy_csv_options o = named("t.csv");
  o.types = types;
  sy_value *f = read_ok("id,x,n,s\n007,1,5,\n8,nan,,q\n", &o);
  CU_ASSERT_FATAL(f != NULL);
  CU_ASSERT_EQUAL(sy_frame_col_type(f, 0), SY_COL_STR);
  CU_ASSERT_STRING_EQUAL(sy_frame_str(f, 0, 0), "007");
  CU_ASSERT_EQUAL(sy_frame_col_type(f, 1), SY_COL_F64);
  CU_ASSERT_TRUE(isnan(sy_frame_f64(f, 1)[1]));
  CU_ASSERT_EQUAL(sy_frame_col_type(f, 2), SY_COL_I64);
  CU_ASSERT_TRUE(sy_frame_is_null(f, 2, 1));
  CU_ASSERT_EQUAL(sy_frame_col_type(f, 3), SY_COL_STR);
  sy_value_unref(f);
  /* Column names may contain ':'; the type follows the last one. */
  const char *colon[] = {"a:b:string", NULL};
  o.types = colon;
  f = read_ok("a:b\n1\n", &o);
  CU_ASSERT_FATAL(f != NULL);
  CU_ASSERT_EQUAL(sy_frame_col_type(f, 0), SY_COL_STR);
  sy_value_unref(f);
  /* Declared types apply to generated names too. */
  const char *gen[] = {"c2:f64", NULL};
  o.types = gen;
  o.no_header = 1;
  f = read_ok("1,2\n", &o);
  CU_ASSERT_FATAL(f != NULL);
  CU_ASSERT_EQUAL(sy_frame_col_type(f, 1), SY_COL_F64);
  sy_value_unref(f);
}

static void test_csv_declared_type_errors(void) {
  sy_csv_options o = named("t.csv");
  const char *bad_cell[] = {"n:i64", NULL};
  o.types = bad_cell;
  CU_ASSERT_STRING_EQUAL(read_fail("s,n\nx,1\nyy,1.5\n", &o, SY_ESYNTAX),
                         "t.csv:3:4: column 'n': '1.5' is not an i64");
  const char *bad_f64[] = {"n:f64", NULL};
  o.types = bad_f64;
  CU_ASSERT_STRING_EQUAL(read_fail("n\n1\n\"abc\"\n", &o, SY_ESYNTAX),
                         "t.csv:3:1: column 'n': 'abc' is not an f64");
  const char *bad_type[] = {"n:int", NULL};
  o.types = bad_type;
  CU_ASSERT_STRING_EQUAL(read_fail("n\n1\n", &o, SY_EINVAL),
                         "t.csv: types: 'n:int' is not column:type with "
                         "type f64, i64 or string");
  const char *no_col[] = {"m:i64", NULL};
  o.types = no_col;
  CU_ASSERT_STRING_EQUAL(read_fail("n\n1\n", &o, SY_EINVAL),
                         "t.csv: types: no column 'm'");
}

/* ---- errors ------------------------------------------------------------ */

static void test_csv_error_field_count(void) {
  /* The spec's example: the record starting on line 17 has 4 fields. */
  char text[512] = "a,b,c,d,e\n";
  for (int i = 2; i < 17; i++)
    strcat(text, "1,2,3,4,5\n");
  strcat(text, "1,2,3,4\n");
  sy_csv_options o = named("iris.csv");
  CU_ASSERT_STRING_EQUAL(read_fail(text, &o, SY_ESYNTAX),
                         "iris.csv:17:1: 4 fields, header has 5");
  /* Quoted newlines count as lines: the bad record starts on line 4. */
  CU_ASSERT_STRING_EQUAL(read_fail("a,b\n\"x\ny\",1\n1,2,3\n", &o, SY_ESYNTAX),
                         "iris.csv:4:1: 3 fields, header has 2");
  o.no_header = 1;
  CU_ASSERT_STRING_EQUAL(read_fail("1,2\n3\n", &o, SY_ESYNTAX),
                         "iris.csv:2:1: 1 fields, first row has 2");
}

static void test_csv_error_unterminated_quote(void) {
  sy_csv_options o = named("q.csv");
  CU_ASSERT_STRING_EQUAL(read_fail("a,b\n1,\"open\n2,3\n", &o, SY_ESYNTAX),
                         "q.csv:2:3: unterminated quoted field");
  /* Without a name the reader says "csv". */
  CU_ASSERT_STRING_EQUAL(read_fail("\"", NULL, SY_ESYNTAX),
                         "csv:1:1: unterminated quoted field");
}

static void test_csv_error_stray_quotes(void) {
  sy_csv_options o = named("q.csv");
  CU_ASSERT_STRING_EQUAL(read_fail("a,b\n1,ab\"c\n", &o, SY_ESYNTAX),
                         "q.csv:2:5: quote in unquoted field");
  CU_ASSERT_STRING_EQUAL(read_fail("a,b\n\"x\"y,1\n", &o, SY_ESYNTAX),
                         "q.csv:2:4: text after closing quote");
  /* Columns count characters, not bytes: each é is two bytes. */
  CU_ASSERT_STRING_EQUAL(
      read_fail("a,b\n\xC3\xA9\xC3\xA9,x\"\n", &o, SY_ESYNTAX),
      "q.csv:2:5: quote in unquoted field");
  /* The BOM is not a character of line 1. */
  CU_ASSERT_STRING_EQUAL(read_fail("\xEF\xBB\xBF"
                                   "a,b\"\n",
                                   &o, SY_ESYNTAX),
                         "q.csv:1:4: quote in unquoted field");
}

static void test_csv_error_header(void) {
  sy_csv_options o = named("h.csv");
  CU_ASSERT_STRING_EQUAL(read_fail("a,b,a,b\n1,2,3,4\n", &o, SY_ESYNTAX),
                         "h.csv:1:5: duplicate column name 'a'");
  CU_ASSERT_STRING_EQUAL(read_fail("z,b,c,b,a,z\n", &o, SY_ESYNTAX),
                         "h.csv:1:7: duplicate column name 'b'");
  CU_ASSERT_STRING_EQUAL(read_fail("a,,c\n1,2,3\n", &o, SY_ESYNTAX),
                         "h.csv:1:3: empty column name");
  CU_ASSERT_STRING_EQUAL(read_fail("a,\"\"\n", &o, SY_ESYNTAX),
                         "h.csv:1:3: empty column name");
  char longname[300];
  memset(longname, 'n', 256);
  strcpy(longname + 256, "\n1\n");
  CU_ASSERT_STRING_EQUAL(read_fail(longname, &o, SY_ESYNTAX),
                         "h.csv:1:1: column name longer than 255 bytes");
}

static void test_csv_error_nul_byte(void) {
  sy_csv_options o = named("n.csv");
  sy_value *v = NULL;
  sy_error err;
  static const char text[] = "a,b\n1,x\0y\n";
  int rc = sy_csv_read(text, sizeof text - 1, &o, &v, &err);
  CU_ASSERT_EQUAL(rc, SY_ESYNTAX);
  CU_ASSERT_STRING_EQUAL(err.message, "n.csv:2:4: NUL byte");
  CU_ASSERT_PTR_NULL(v);
}

static void test_csv_reads_unterminated_buffer(void) {
  /* The input need not end with a NUL: read only "a\n12" of a longer
   * buffer. */
  const char text[] = "a\n12345";
  sy_value *v = NULL;
  CU_ASSERT_EQUAL(sy_csv_read(text, 4, NULL, &v, NULL), 0);
  CU_ASSERT_FATAL(v != NULL);
  CU_ASSERT_EQUAL(sy_frame_i64(v, 0)[0], 12);
  sy_value_unref(v);
}

/* ---- writing ----------------------------------------------------------- */

static sy_value *sample_frame(void) {
  sy_value *f = NULL;
  CU_ASSERT_FATAL(sy_frame_new(4, &f) == 0);
  const int64_t i[] = {1, -2, 0, INT64_MIN};
  const uint8_t iv[] = {1, 1, 0, 1};
  const double d[] = {0.1, 1.0, 0.1 + 0.2, 1e20};
  const uint8_t dv[] = {1, 1, 1, 0};
  const char *s[] = {"plain", "with,comma", "say \"hi\"\nbye", ""};
  const char *t[] = {NULL, "cr\r", "x", "   "};
  CU_ASSERT(sy_frame_add_i64(f, "i", i, iv) == 0);
  CU_ASSERT(sy_frame_add_f64(f, "d", d, dv) == 0);
  CU_ASSERT(sy_frame_add_str(f, "s", s) == 0);
  CU_ASSERT(sy_frame_add_str(f, "t,u", t) == 0);
  return f;
}

static void test_csv_write_exact(void) {
  sy_value *f = sample_frame();
  char *text = write_text(f, 0);
  CU_ASSERT_STRING_EQUAL(text,
                         "i,d,s,\"t,u\"\n"
                         "1,0.1,plain,\n"
                         "-2,1.0,\"with,comma\",\"cr\r\"\n"
                         ",0.30000000000000004,\"say \"\"hi\"\"\nbye\",x\n"
                         "-9223372036854775808,,\"\",   \n");
  free(text);
  text = write_text(f, ';');
  CU_ASSERT_PTR_NOT_NULL(strstr(text, "i;d;s;t,u\n"));
  CU_ASSERT_PTR_NOT_NULL(strstr(text, ";with,comma;"));
  free(text);
  sy_value_unref(f);
}

static void test_csv_write_f64_forms(void) {
  const double d[] = {1e20,   -0.0, NAN, -INFINITY, 123456789012345678.0,
                      5e-324, 2.5};
  const char *want = "v\n1e+20\n-0.0\nnan\n-inf\n1.2345678901234568e+17\n"
                     "4.94065645841247e-324\n2.5\n";
  sy_value *f = NULL;
  CU_ASSERT_FATAL(sy_frame_new(7, &f) == 0);
  CU_ASSERT(sy_frame_add_f64(f, "v", d, NULL) == 0);
  char *text = write_text(f, 0);
  CU_ASSERT_STRING_EQUAL(text, want);
  free(text);
  sy_value_unref(f);
}

static void test_csv_write_bom_and_empty(void) {
  /* A first header name that starts with a BOM is quoted, or the reader
   * would drop the BOM. */
  sy_value *f = NULL;
  CU_ASSERT_FATAL(sy_frame_new(0, &f) == 0);
  CU_ASSERT(sy_frame_add_i64(f, "\xEF\xBB\xBFx", NULL, NULL) == 0);
  char *text = write_text(f, 0);
  CU_ASSERT_STRING_EQUAL(text, "\"\xEF\xBB\xBFx\"\n");
  free(text);
  sy_value_unref(f);
  /* No columns: nothing at all. */
  CU_ASSERT_FATAL(sy_frame_new(3, &f) == 0);
  text = write_text(f, 0);
  CU_ASSERT_STRING_EQUAL(text, "");
  free(text);
  sy_value_unref(f);
}

static int failing_write(void *ud, const void *buf, size_t len) {
  int *calls = ud;
  (*calls)++;
  return SY_EIO;
}

static void test_csv_write_errors(void) {
  sy_error err;
  int calls = 0;
  sy_value *b = NULL;
  CU_ASSERT_FATAL(sy_bytes_new("x", 1, NULL, &b) == 0);
  CU_ASSERT_EQUAL(sy_csv_write(b, 0, failing_write, &calls, &err), SY_ETYPE);
  sy_value_unref(b);
  sy_value *f = sample_frame();
  CU_ASSERT_EQUAL(sy_csv_write(f, '\n', failing_write, &calls, &err),
                  SY_EINVAL);
  CU_ASSERT_EQUAL(calls, 0);
  CU_ASSERT_EQUAL(sy_csv_write(f, 0, failing_write, &calls, &err), SY_EIO);
  CU_ASSERT_EQUAL(err.code, SY_EIO);
  CU_ASSERT_EQUAL(calls, 1);
  sy_value_unref(f);
}

/* ---- round trips ------------------------------------------------------- */

static void roundtrip(const sy_value *f, char delim) {
  char *text = write_text(f, delim);
  sy_csv_options o = named("rt");
  o.delimiter = delim;
  sy_value *back = read_ok(text, &o);
  CU_ASSERT_PTR_NOT_NULL(back);
  CU_ASSERT_TRUE(sy_value_equal(f, back));
  sy_value_unref(back);
  free(text);
}

static void test_csv_roundtrip_sample(void) {
  sy_value *f = sample_frame();
  /* Strings that look like numbers stay strings as long as the column
   * has others, which it does. */
  roundtrip(f, 0);
  roundtrip(f, ';');
  roundtrip(f, '\t');
  sy_value_unref(f);
}

static void test_csv_roundtrip_f64_exact(void) {
  enum { N = 2000 };
  double *d = malloc(N * sizeof *d);
  CU_ASSERT_FATAL(d != NULL);
  uint64_t x = 0x9E3779B97F4A7C15u;
  for (size_t i = 0; i < N; i++) {
    double v;
    do {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17; /* xorshift64 */
      memcpy(&v, &x, sizeof v);
    } while (!isfinite(v));
    d[i] = i % 3 == 0   ? v
           : i % 3 == 1 ? (double)(x % 100000) / 7.0
                        : (double)(int64_t)(x % 1000);
  }
  sy_value *f = NULL;
  CU_ASSERT_FATAL(sy_frame_new(N, &f) == 0);
  CU_ASSERT(sy_frame_add_f64(f, "v", d, NULL) == 0);
  roundtrip(f, 0);
  sy_value_unref(f);
  free(d);
}

static void test_csv_roundtrip_single_column_nulls(void) {
  /* A single column with nulls writes empty lines, which must read back
   * as null cells, including the last row. */
  const int64_t v[] = {1, 0, 3, 0};
  const uint8_t ok[] = {1, 0, 1, 0};
  sy_value *f = NULL;
  CU_ASSERT_FATAL(sy_frame_new(4, &f) == 0);
  CU_ASSERT(sy_frame_add_i64(f, "a", v, ok) == 0);
  char *text = write_text(f, 0);
  CU_ASSERT_STRING_EQUAL(text, "a\n1\n\n3\n\n");
  free(text);
  roundtrip(f, 0);
  sy_value_unref(f);
}

static int header_column(void *ud, const char *name, sy_col_type type) {
  char *out = ud;
  size_t used = strlen(out);
  snprintf(out + used, 256 - used, "%s:%d;", name, (int)type);
  return 0;
}

/* sy_csv_read_header: only the first record, in pieces: every prefix that
 * stops inside the header asks for more, every longer one gives the same
 * columns, whatever the rows hold. */
static void test_csv_read_header(void) {
  const char *text = "\xEF\xBB\xBF"
                     "id,\"a,b\",\"x\ny\"\r\n1,2\n\"broken";
  size_t header_end = strlen("\xEF\xBB\xBF"
                             "id,\"a,b\",\"x\ny\"\r\n");
  const char *types[] = {"a,b:string", NULL};
  sy_csv_options o = named("h.csv");
  o.types = types;
  sy_error err;
  for (size_t len = 0; len <= strlen(text); len++) {
    char got[256] = "";
    int rc = sy_csv_read_header(text, len, 0, &o, header_column, got, &err);
    if (len < header_end) {
      CU_ASSERT_EQUAL(rc, 1);
    } else {
      CU_ASSERT_EQUAL(rc, 0);
      CU_ASSERT_STRING_EQUAL(got, "id:0;a,b:3;x\ny:0;");
    }
  }
  /* complete: the end of data ends the header. */
  char got[256] = "";
  CU_ASSERT_EQUAL(
      sy_csv_read_header("p,q", 3, 1, NULL, header_column, got, &err), 0);
  CU_ASSERT_STRING_EQUAL(got, "p:0;q:0;");
  /* no_header: c1, c2 */
  got[0] = '\0';
  o.no_header = 1;
  o.types = NULL;
  CU_ASSERT_EQUAL(
      sy_csv_read_header("1,x\n", 4, 0, &o, header_column, got, &err), 0);
  CU_ASSERT_STRING_EQUAL(got, "c1:0;c2:0;");
  o.no_header = 0;
  /* The header's errors are sy_csv_read's. */
  CU_ASSERT_EQUAL(
      sy_csv_read_header("a,,b\n", 5, 0, &o, header_column, got, &err),
      SY_ESYNTAX);
  CU_ASSERT_STRING_EQUAL(err.message, "h.csv:1:3: empty column name");
  CU_ASSERT_EQUAL(
      sy_csv_read_header("\"a\n", 3, 1, &o, header_column, got, &err),
      SY_ESYNTAX);
  CU_ASSERT_STRING_EQUAL(err.message, "h.csv:1:1: unterminated quoted field");
}

int main(void) {
  static const CU_TestInfo tests[] = {
      {"basic_inference", test_csv_basic_inference},
      {"quoted_fields", test_csv_quoted_fields},
      {"line_ends_and_bom", test_csv_line_ends_and_bom},
      {"empty_inputs", test_csv_empty_inputs},
      {"nulls", test_csv_nulls},
      {"inference_edges", test_csv_inference_edges},
      {"bad_cell_in_numeric_column", test_csv_bad_cell_in_numeric_column},
      {"read_header", test_csv_read_header},
      {"no_header_and_delimiter", test_csv_no_header_and_delimiter},
      {"blank_lines", test_csv_blank_lines},
      {"declared_types", test_csv_declared_types},
      {"declared_type_errors", test_csv_declared_type_errors},
      {"error_field_count", test_csv_error_field_count},
      {"error_unterminated_quote", test_csv_error_unterminated_quote},
      {"error_stray_quotes", test_csv_error_stray_quotes},
      {"error_header", test_csv_error_header},
      {"error_nul_byte", test_csv_error_nul_byte},
      {"reads_unterminated_buffer", test_csv_reads_unterminated_buffer},
      {"write_exact", test_csv_write_exact},
      {"write_f64_forms", test_csv_write_f64_forms},
      {"write_bom_and_empty", test_csv_write_bom_and_empty},
      {"write_errors", test_csv_write_errors},
      {"roundtrip_sample", test_csv_roundtrip_sample},
      {"roundtrip_f64_exact", test_csv_roundtrip_f64_exact},
      {"roundtrip_single_column_nulls", test_csv_roundtrip_single_column_nulls},
      CU_TEST_INFO_NULL,
  };
  return fx_run_suite("csv", NULL, NULL, tests);
}
