/*
 * test_ini.c - the INI reader: syntax, trimming, quotes, comments, line
 * ends, and errors with line numbers.
 */
#include "internal.h"

#include <CUnit/Basic.h>
#include <stdio.h>
#include <string.h>
#include "fixture.h"

/* Records every callback as "L:[section]" or "L:section/key=<value>". */
typedef struct record {
  char text[4096];
  size_t len;
  int stop_at; /* line at which the callback fails, 0 = never */
} record;

static int on_item(void *ud, const char *section, const char *key,
                   const char *value, int line, sy_error *err) {
  record *r = ud;
  if (r->stop_at && line == r->stop_at)
    return sy_error_set(err, SY_ECONFIG, "stopped at %d", line);
  int n;
  if (key)
    n = snprintf(r->text + r->len, sizeof r->text - r->len, "%d:%s/%s=<%s>\n",
                 line, section, key, value);
  else
    n = snprintf(r->text + r->len, sizeof r->text - r->len, "%d:[%s]\n", line,
                 section);
  if (n > 0)
    r->len += (size_t)n;
  return 0;
}

/* Parses text (with its real length), expecting success and `want`. */
static void parses_to(const char *text, size_t len, const char *want) {
  record r = {{0}, 0, 0};
  sy_error err;
  sy_error_clear(&err);
  int rc = sy__ini_parse(text, len, "t.ini", on_item, &r, &err);
  if (rc != 0)
    fprintf(stderr, "\n  error: %s\n", err.message);
  CU_ASSERT_EQUAL(rc, 0);
  if (strcmp(r.text, want) != 0)
    fprintf(stderr, "\n  got:\n%s  want:\n%s", r.text, want);
  CU_ASSERT_STRING_EQUAL(r.text, want);
}

/* Parses text, expecting an error whose message is exactly `want`. */
static void fails_with(const char *text, size_t len, const char *want) {
  record r = {{0}, 0, 0};
  sy_error err;
  sy_error_clear(&err);
  int rc = sy__ini_parse(text, len, "t.ini", on_item, &r, &err);
  CU_ASSERT_EQUAL(rc, SY_ESYNTAX);
  CU_ASSERT_EQUAL(err.code, SY_ESYNTAX);
  if (strcmp(err.message, want) != 0)
    fprintf(stderr, "\n  got:  %s\n  want: %s\n", err.message, want);
  CU_ASSERT_STRING_EQUAL(err.message, want);
}

#define PARSES_TO(text, want) parses_to(text, strlen(text), want)
#define FAILS_WITH(text, want) fails_with(text, strlen(text), want)

static void test_ini_basic(void) {
  PARSES_TO("[PLATFORM]\nrunner = parallel\n\n[RUNNER.parallel]\n"
            "provider=dask\n  workers   =   4  \n",
            "1:[PLATFORM]\n2:PLATFORM/runner=<parallel>\n4:[RUNNER.parallel]\n"
            "5:RUNNER.parallel/provider=<dask>\n"
            "6:RUNNER.parallel/workers=<4>\n");
  PARSES_TO("", "");
  PARSES_TO("\n\n   \n", "");
  PARSES_TO("[ spaced ]\n", "1:[spaced]\n");
}

static void test_ini_comments(void) {
  PARSES_TO("; top\n# also\n[s] ; trailing\n  ; indented\n"
            "a = 1 ; comment\nb = 2 # comment\nc = x;y\nd = x#y\ne = ;\n"
            "f=\t# only a comment\n",
            "3:[s]\n5:s/a=<1>\n6:s/b=<2>\n7:s/c=<x;y>\n8:s/d=<x#y>\n"
            "9:s/e=<>\n10:s/f=<>\n");
}

static void test_ini_quotes_and_empty(void) {
  PARSES_TO("[s]\na = \"x ; y\"\nb = 'it is'   ; c\nc = \"\"\nd =\n"
            "e = \" padded \"\nf = say \"hi\"\ng = a = b\n",
            "1:[s]\n2:s/a=<x ; y>\n3:s/b=<it is>\n4:s/c=<>\n5:s/d=<>\n"
            "6:s/e=< padded >\n7:s/f=<say \"hi\">\n8:s/g=<a = b>\n");
}

static void test_ini_crlf_and_bom(void) {
  PARSES_TO("\xEF\xBB\xBF[s]\r\nk = v\r\n\r\nq = \"a\"\r\n",
            "1:[s]\n2:s/k=<v>\n4:s/q=<a>\n");
  PARSES_TO("[s]\nlast = no newline", "1:[s]\n2:s/last=<no newline>\n");
}

static void test_ini_sections_repeat(void) {
  /* The reader reports headers as they come; merging is the caller's. */
  PARSES_TO("[a]\nx=1\n[b]\ny=2\n[a]\nz=3\n",
            "1:[a]\n2:a/x=<1>\n3:[b]\n4:b/y=<2>\n5:[a]\n6:a/z=<3>\n");
}

static void test_ini_errors_name_lines(void) {
  FAILS_WITH("[s]\nk = v\njust text\n",
             "t.ini:3: expected 'key = value', '[section]' or a comment, "
             "got 'just text'");
  FAILS_WITH("\n[RUNNER.x\n", "t.ini:2: unterminated section header "
                              "'[RUNNER.x' (missing ']')");
  FAILS_WITH("[s]\n = v\n", "t.ini:2: empty key before '='");
  FAILS_WITH("# c\nk = v\n", "t.ini:2: key 'k' before any [section]");
  FAILS_WITH("[s] junk\n", "t.ini:1: text after section header '[s] junk'");
  FAILS_WITH("[ ]\n", "t.ini:1: empty section name");
  FAILS_WITH("[s]\nk = \"open\n",
             "t.ini:2: unterminated quoted value for key 'k'");
  FAILS_WITH("[s]\nk = \"a\" b\n",
             "t.ini:2: text after the closing quote for key 'k'");
  static const char nul[] = "[s]\nk = v\na\0b = c\n";
  fails_with(nul, sizeof nul - 1, "t.ini:3: NUL byte in line");
}

static void test_ini_long_line_is_cut_in_errors(void) {
  char text[3000];
  memset(text, 'x', sizeof text - 1);
  text[sizeof text - 1] = '\0';
  record r = {{0}, 0, 0};
  sy_error err;
  CU_ASSERT_EQUAL(sy__ini_parse(text, strlen(text), "t.ini", on_item, &r, &err),
                  SY_ESYNTAX);
  CU_ASSERT(strlen(err.message) < 200);
}

static void test_ini_callback_stops_parse(void) {
  record r = {{0}, 0, 2};
  sy_error err;
  const char *text = "[s]\na=1\nb=2\n";
  CU_ASSERT_EQUAL(sy__ini_parse(text, strlen(text), "t.ini", on_item, &r, &err),
                  SY_ECONFIG);
  CU_ASSERT_STRING_EQUAL(err.message, "stopped at 2");
  CU_ASSERT_STRING_EQUAL(r.text, "1:[s]\n");
}

static void test_ini_null_error_object(void) {
  /* Callers may pass err = NULL; the code still comes back. */
  CU_ASSERT_EQUAL(sy__ini_parse("oops", 4, "t.ini", NULL, NULL, NULL),
                  SY_ESYNTAX);
  CU_ASSERT_EQUAL(sy__ini_parse("[s]\na=1", 7, NULL, NULL, NULL, NULL), 0);
}

int main(void) {
  static const CU_TestInfo tests[] = {
      {"test_ini_basic", test_ini_basic},
      {"test_ini_comments", test_ini_comments},
      {"test_ini_quotes_and_empty", test_ini_quotes_and_empty},
      {"test_ini_crlf_and_bom", test_ini_crlf_and_bom},
      {"test_ini_sections_repeat", test_ini_sections_repeat},
      {"test_ini_errors_name_lines", test_ini_errors_name_lines},
      {"test_ini_long_line_is_cut_in_errors",
       test_ini_long_line_is_cut_in_errors},
      {"test_ini_callback_stops_parse", test_ini_callback_stops_parse},
      {"test_ini_null_error_object", test_ini_null_error_object},
      CU_TEST_INFO_NULL,
  };
  return fx_run_suite("ini", NULL, NULL, tests);
}
