/*
 * test_options.c - typed options: scalar parsers, sy__opt_parse for every
 * type, table checks, suggestions and ${VAR}/~ expansion.
 */
#include "internal.h"

#include <CUnit/Basic.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "fixture.h"

/* A config struct with one field of every type. */
typedef struct cfg {
  const char *s;
  const char *path;
  bool b;
  int64_t i;
  double d;
  uint64_t size;
  int64_t dur;
  int e;
  const char *const *list;
} cfg;

static const char *const modes[] = {"threads", "processes", NULL};

static const sy_option table[] = {
    {"name", SY_OPT_STRING, 0, "x", NULL, NULL, NULL, offsetof(cfg, s),
     "A name."},
    {"root", SY_OPT_PATH, 0, NULL, NULL, NULL, NULL, offsetof(cfg, path),
     "A folder."},
    {"on", SY_OPT_BOOL, 0, "false", NULL, NULL, NULL, offsetof(cfg, b),
     "A switch."},
    {"workers", SY_OPT_INT, 0, "0", "0", "1024", NULL, offsetof(cfg, i),
     "Workers."},
    {"rate", SY_OPT_DOUBLE, 0, "0.1", "0", "1", NULL, offsetof(cfg, d),
     "A rate."},
    {"limit", SY_OPT_SIZE, 0, "64M", "1K", "1G", NULL, offsetof(cfg, size),
     "A size."},
    {"timeout", SY_OPT_DURATION, 0, "5s", NULL, "1h", NULL, offsetof(cfg, dur),
     "A timeout."},
    {"mode", SY_OPT_ENUM, 0, "threads", NULL, NULL, modes, offsetof(cfg, e),
     "A mode."},
    {"tags", SY_OPT_LIST, 0, NULL, NULL, NULL, NULL, offsetof(cfg, list),
     "Tags."},
    {"token", SY_OPT_STRING, SY_OPT_SECRET, NULL, NULL, NULL, NULL,
     offsetof(cfg, s), "A secret."},
    {"count", SY_OPT_INT, 0, NULL, NULL, NULL, NULL, offsetof(cfg, i),
     "Unbounded."},
    {"big", SY_OPT_SIZE, 0, NULL, NULL, NULL, NULL, offsetof(cfg, size),
     "Unbounded size."},
    {"wait", SY_OPT_DURATION, 0, NULL, NULL, NULL, NULL, offsetof(cfg, dur),
     "Unbounded duration."},
    SY_OPTION_END};

static const sy_option *opt(const char *name) {
  const sy_option *o = sy__opt_find(table, name);
  CU_ASSERT_PTR_NOT_NULL_FATAL(o);
  return o;
}

/* Parses text into c, expecting success. */
static void parse_ok(cfg *c, sy__pool *pool, const char *name,
                     const char *text) {
  sy_error err;
  sy_error_clear(&err);
  int rc = sy__opt_parse(opt(name), text, c, pool, &err);
  if (rc != 0)
    fprintf(stderr, "\n  %s=%s: %s\n", name, text, err.message);
  CU_ASSERT_EQUAL(rc, 0);
}

/* Parses text, expecting failure with code and exactly message. */
static void parse_fails(const char *name, const char *text, int code,
                        const char *message) {
  sy_error err;
  sy_error_clear(&err);
  cfg c;
  memset(&c, 0, sizeof c);
  sy__pool pool = {0};
  int rc = sy__opt_parse(opt(name), text, &c, &pool, &err);
  CU_ASSERT_EQUAL(rc, code);
  CU_ASSERT_EQUAL(err.code, code);
  if (strcmp(err.message, message) != 0)
    fprintf(stderr, "\n  got:  %s\n  want: %s\n", err.message, message);
  CU_ASSERT_STRING_EQUAL(err.message, message);
  sy__pool_release(&pool);
}

static void test_options_bool(void) {
  const char *yes[] = {"true", "YES", "on", "1", "True"};
  const char *no[] = {"false", "no", "OFF", "0"};
  bool b;
  for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
    b = false;
    CU_ASSERT_EQUAL(sy__parse_bool(yes[i], &b), 0);
    CU_ASSERT_TRUE(b);
  }
  for (size_t i = 0; i < sizeof no / sizeof *no; i++) {
    b = true;
    CU_ASSERT_EQUAL(sy__parse_bool(no[i], &b), 0);
    CU_ASSERT_FALSE(b);
  }
  CU_ASSERT_EQUAL(sy__parse_bool("maybe", &b), SY_ETYPE);
  CU_ASSERT_EQUAL(sy__parse_bool("", &b), SY_ETYPE);
  CU_ASSERT_EQUAL(sy__parse_bool("2", &b), SY_ETYPE);
}

static void test_options_int(void) {
  int64_t v = 0;
  CU_ASSERT_EQUAL(sy__parse_int("42", &v), 0);
  CU_ASSERT_EQUAL(v, 42);
  CU_ASSERT_EQUAL(sy__parse_int("-17", &v), 0);
  CU_ASSERT_EQUAL(v, -17);
  CU_ASSERT_EQUAL(sy__parse_int("+5", &v), 0);
  CU_ASSERT_EQUAL(v, 5);
  CU_ASSERT_EQUAL(sy__parse_int("9223372036854775807", &v), 0);
  CU_ASSERT_EQUAL(v, INT64_MAX);
  CU_ASSERT_EQUAL(sy__parse_int("-9223372036854775808", &v), 0);
  CU_ASSERT_EQUAL(v, INT64_MIN);
  CU_ASSERT_EQUAL(sy__parse_int("9223372036854775808", &v), SY_ERANGE);
  CU_ASSERT_EQUAL(sy__parse_int("-9223372036854775809", &v), SY_ERANGE);
  CU_ASSERT_EQUAL(sy__parse_int("99999999999999999999", &v), SY_ERANGE);
  CU_ASSERT_EQUAL(sy__parse_int("", &v), SY_ETYPE);
  CU_ASSERT_EQUAL(sy__parse_int("-", &v), SY_ETYPE);
  CU_ASSERT_EQUAL(sy__parse_int("12abc", &v), SY_ETYPE);
  CU_ASSERT_EQUAL(sy__parse_int(" 12", &v), SY_ETYPE);
  CU_ASSERT_EQUAL(sy__parse_int("1.5", &v), SY_ETYPE);
  CU_ASSERT_EQUAL(sy__parse_int("0x10", &v), SY_ETYPE);
}

static void test_options_double(void) {
  double d = 0;
  CU_ASSERT_EQUAL(sy__parse_double("0.25", &d), 0);
  CU_ASSERT_DOUBLE_EQUAL(d, 0.25, 1e-12);
  CU_ASSERT_EQUAL(sy__parse_double("-1e3", &d), 0);
  CU_ASSERT_DOUBLE_EQUAL(d, -1000.0, 1e-9);
  CU_ASSERT_EQUAL(sy__parse_double(".5", &d), 0);
  CU_ASSERT_DOUBLE_EQUAL(d, 0.5, 1e-12);
  CU_ASSERT_EQUAL(sy__parse_double("7", &d), 0);
  CU_ASSERT_DOUBLE_EQUAL(d, 7.0, 1e-12);
  CU_ASSERT_EQUAL(sy__parse_double("1e999", &d), SY_ERANGE);
  CU_ASSERT_EQUAL(sy__parse_double("inf", &d), SY_ETYPE);
  CU_ASSERT_EQUAL(sy__parse_double("nan", &d), SY_ETYPE);
  CU_ASSERT_EQUAL(sy__parse_double("0x1p3", &d), SY_ETYPE);
  CU_ASSERT_EQUAL(sy__parse_double("1e", &d), SY_ETYPE);
  CU_ASSERT_EQUAL(sy__parse_double(".", &d), SY_ETYPE);
  CU_ASSERT_EQUAL(sy__parse_double("", &d), SY_ETYPE);
  CU_ASSERT_EQUAL(sy__parse_double("1.2.3", &d), SY_ETYPE);
}

static void test_options_size_suffixes(void) {
  struct {
    const char *text;
    uint64_t want;
  } ok[] = {{"0", 0},
            {"512", 512},
            {"512B", 512},
            {"4k", 4096},
            {"4K", 4096},
            {"4KiB", 4096},
            {"4KB", 4096},
            {"3M", 3u << 20},
            {"3MiB", 3u << 20},
            {"2G", 2ull << 30},
            {"2 GiB", 2ull << 30},
            {"1T", 1ull << 40},
            {"1TiB", 1ull << 40},
            {"1.5K", 1536},
            {"16777215T", 16777215ull << 40},
            {"18446744073709551615", UINT64_MAX}};
  for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
    uint64_t v = 1;
    int rc = sy__parse_size(ok[i].text, &v);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_EQUAL(v, ok[i].want);
    if (rc != 0 || v != ok[i].want)
      fprintf(stderr, "\n  size '%s' -> rc %d, %llu\n", ok[i].text, rc,
              (unsigned long long)v);
  }
  uint64_t v;
  CU_ASSERT_EQUAL(sy__parse_size("20000000T", &v), SY_ERANGE);
  CU_ASSERT_EQUAL(sy__parse_size("16777216T", &v), SY_ERANGE);
  CU_ASSERT_EQUAL(sy__parse_size("18446744073709551616", &v), SY_ERANGE);
  CU_ASSERT_EQUAL(sy__parse_size("-1", &v), SY_ETYPE);
  CU_ASSERT_EQUAL(sy__parse_size("12X", &v), SY_ETYPE);
  CU_ASSERT_EQUAL(sy__parse_size("K", &v), SY_ETYPE);
  CU_ASSERT_EQUAL(sy__parse_size("", &v), SY_ETYPE);
}

static void test_options_duration_suffixes(void) {
  struct {
    const char *text;
    int64_t want;
  } ok[] = {{"250ms", 250000000},     {"1.5s", 1500000000},
            {"5", 5000000000},        {"2m", 120000000000},
            {"1h", 3600000000000},    {"1d", 86400000000000},
            {"10us", 10000},          {"7ns", 7},
            {"1h30m", 5400000000000}, {"0", 0},
            {"2 s", 2000000000}};
  for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
    int64_t v = -1;
    int rc = sy__parse_duration(ok[i].text, &v);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_EQUAL(v, ok[i].want);
    if (rc != 0 || v != ok[i].want)
      fprintf(stderr, "\n  duration '%s' -> rc %d, %lld\n", ok[i].text, rc,
              (long long)v);
  }
  int64_t v;
  CU_ASSERT_EQUAL(sy__parse_duration("soon", &v), SY_ETYPE);
  CU_ASSERT_EQUAL(sy__parse_duration("5 minutes", &v), SY_ETYPE);
  CU_ASSERT_EQUAL(sy__parse_duration("1h30", &v), SY_ETYPE);
  CU_ASSERT_EQUAL(sy__parse_duration("-5s", &v), SY_ETYPE);
  CU_ASSERT_EQUAL(sy__parse_duration("", &v), SY_ETYPE);
  CU_ASSERT_EQUAL(sy__parse_duration("ms", &v), SY_ETYPE);
  CU_ASSERT_EQUAL(sy__parse_duration("200000d", &v), SY_ERANGE);
  CU_ASSERT_EQUAL(sy__parse_duration("99999999999999999999ns", &v), SY_ERANGE);
}

static void test_options_parse_every_type(void) {
  cfg c;
  memset(&c, 0, sizeof c);
  sy__pool pool = {0};
  parse_ok(&c, &pool, "name", "hello world");
  CU_ASSERT_STRING_EQUAL(c.s, "hello world");
  parse_ok(&c, &pool, "on", "yes");
  CU_ASSERT_TRUE(c.b);
  parse_ok(&c, &pool, "workers", "1024");
  CU_ASSERT_EQUAL(c.i, 1024);
  parse_ok(&c, &pool, "rate", "0.5");
  CU_ASSERT_DOUBLE_EQUAL(c.d, 0.5, 1e-12);
  parse_ok(&c, &pool, "limit", "1G");
  CU_ASSERT_EQUAL(c.size, 1ull << 30);
  parse_ok(&c, &pool, "timeout", "250ms");
  CU_ASSERT_EQUAL(c.dur, 250000000);
  parse_ok(&c, &pool, "mode", "processes");
  CU_ASSERT_EQUAL(c.e, 1);
  parse_ok(&c, &pool, "mode", "THREADS");
  CU_ASSERT_EQUAL(c.e, 0);
  parse_ok(&c, &pool, "root", "/tmp/x");
  CU_ASSERT_STRING_EQUAL(c.path, "/tmp/x");
  sy__pool_release(&pool);
  CU_ASSERT_EQUAL(pool.len, 0);
}

static void test_options_validate_only(void) {
  /* config NULL: the text is checked, nothing is written or allocated. */
  sy_error err;
  CU_ASSERT_EQUAL(sy__opt_parse(opt("workers"), "3", NULL, NULL, &err), 0);
  CU_ASSERT_EQUAL(sy__opt_parse(opt("tags"), "a,b", NULL, NULL, &err), 0);
  CU_ASSERT_EQUAL(sy__opt_parse(opt("workers"), "x", NULL, NULL, &err),
                  SY_ETYPE);
}

static void test_options_list_splitting(void) {
  cfg c;
  memset(&c, 0, sizeof c);
  sy__pool pool = {0};
  parse_ok(&c, &pool, "tags", " a , b b,,c ,");
  CU_ASSERT_PTR_NOT_NULL_FATAL(c.list);
  CU_ASSERT_STRING_EQUAL(c.list[0], "a");
  CU_ASSERT_STRING_EQUAL(c.list[1], "b b");
  CU_ASSERT_STRING_EQUAL(c.list[2], "c");
  CU_ASSERT_PTR_NULL(c.list[3]);
  parse_ok(&c, &pool, "tags", "");
  CU_ASSERT_PTR_NOT_NULL_FATAL(c.list);
  CU_ASSERT_PTR_NULL(c.list[0]);
  parse_ok(&c, &pool, "tags", "solo");
  CU_ASSERT_STRING_EQUAL(c.list[0], "solo");
  CU_ASSERT_PTR_NULL(c.list[1]);
  sy__pool_release(&pool);
}

static void test_options_error_texts(void) {
  parse_fails("workers", "2000", SY_ERANGE,
              "expected an int between 0 and 1024, got '2000'");
  parse_fails("workers", "-1", SY_ERANGE,
              "expected an int between 0 and 1024, got '-1'");
  parse_fails("workers", "many", SY_ETYPE,
              "expected an int between 0 and 1024, got 'many'");
  parse_fails("count", "99999999999999999999", SY_ERANGE,
              "expected an int, got '99999999999999999999' (out of range)");
  parse_fails("count", "1.5", SY_ETYPE, "expected an int, got '1.5'");
  parse_fails("rate", "1.5", SY_ERANGE,
              "expected a double between 0 and 1, got '1.5'");
  parse_fails("rate", "inf", SY_ETYPE,
              "expected a double between 0 and 1, got 'inf'");
  parse_fails("limit", "512", SY_ERANGE,
              "expected a size between 1K and 1G, got '512'");
  parse_fails("big", "lots", SY_ETYPE,
              "expected a size such as 4096, 64K, 1.5GiB; got 'lots'");
  parse_fails("big", "20000000T", SY_ERANGE,
              "expected a size such as 4096, 64K, 1.5GiB; got '20000000T' "
              "(out of range)");
  parse_fails("wait", "soon", SY_ETYPE,
              "expected a duration such as 250ms, 5s, 2m; got 'soon'");
  parse_fails("timeout", "2h", SY_ERANGE,
              "expected a duration <= 1h, got '2h'");
  parse_fails("on", "maybe", SY_ETYPE,
              "expected a bool (true/false, yes/no, on/off, 1/0), got "
              "'maybe'");
  parse_fails("mode", "thread", SY_EINVAL,
              "expected one of threads, processes; got 'thread' (did you "
              "mean 'threads'?)");
  parse_fails("mode", "gpu", SY_EINVAL,
              "expected one of threads, processes; got 'gpu'");
}

static void test_options_secret_not_echoed(void) {
  static const char *const levels[] = {"low", "high", NULL};
  static const sy_option secret[] = {
      {"pin", SY_OPT_INT, SY_OPT_SECRET, NULL, NULL, NULL, NULL, 0, "A pin."},
      {"level", SY_OPT_ENUM, SY_OPT_SECRET, NULL, NULL, NULL, levels, 0,
       "A level."},
      SY_OPTION_END};
  sy_error err;
  CU_ASSERT_NOT_EQUAL(sy__opt_parse(&secret[0], "hunter2", NULL, NULL, &err),
                      0);
  CU_ASSERT_PTR_NULL(strstr(err.message, "hunter2"));
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "(secret)"));
  CU_ASSERT_NOT_EQUAL(sy__opt_parse(&secret[1], "lowx", NULL, NULL, &err), 0);
  CU_ASSERT_PTR_NULL(strstr(err.message, "lowx"));
}

static void test_options_expand_vars(void) {
  sy_error err;
  char *out = NULL;
  setenv("SY_TEST_DIR", "/data", 1);
  unsetenv("SY_TEST_UNSET");
  CU_ASSERT_EQUAL(
      sy__expand("${SY_TEST_DIR}/x/${SY_TEST_DIR}", false, &out, &err), 0);
  CU_ASSERT_STRING_EQUAL(out, "/data/x//data");
  free(out);
  CU_ASSERT_EQUAL(sy__expand("cost $5 and $${SY_TEST_DIR}", false, &out, &err),
                  0);
  CU_ASSERT_STRING_EQUAL(out, "cost $5 and ${SY_TEST_DIR}");
  free(out);
  out = NULL;
  CU_ASSERT_EQUAL(sy__expand("a/${SY_TEST_UNSET}/b", false, &out, &err),
                  SY_ENOENT);
  CU_ASSERT_PTR_NULL(out);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "'SY_TEST_UNSET' is not set"));
  CU_ASSERT_EQUAL(sy__expand("${SY_TEST_DIR", false, &out, &err), SY_ESYNTAX);
  CU_ASSERT_EQUAL(sy__expand("${1X}", false, &out, &err), SY_ESYNTAX);
  CU_ASSERT_EQUAL(sy__expand("${}", false, &out, &err), SY_ESYNTAX);
}

static void test_options_expand_tilde(void) {
  sy_error err;
  char *out = NULL;
  char *saved = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
  setenv("HOME", "/home/ada", 1);
  CU_ASSERT_EQUAL(sy__expand("~/reg", true, &out, &err), 0);
  CU_ASSERT_STRING_EQUAL(out, "/home/ada/reg");
  free(out);
  CU_ASSERT_EQUAL(sy__expand("~", true, &out, &err), 0);
  CU_ASSERT_STRING_EQUAL(out, "/home/ada");
  free(out);
  /* Only a leading ~ of a path, and only when asked. */
  CU_ASSERT_EQUAL(sy__expand("~/reg", false, &out, &err), 0);
  CU_ASSERT_STRING_EQUAL(out, "~/reg");
  free(out);
  CU_ASSERT_EQUAL(sy__expand("~bob/x", true, &out, &err), 0);
  CU_ASSERT_STRING_EQUAL(out, "~bob/x");
  free(out);
  CU_ASSERT_EQUAL(sy__expand("a/~/b", true, &out, &err), 0);
  CU_ASSERT_STRING_EQUAL(out, "a/~/b");
  free(out);
  /* PATH options get it through sy__opt_parse; strings do not. */
  cfg c;
  memset(&c, 0, sizeof c);
  sy__pool pool = {0};
  parse_ok(&c, &pool, "root", "~/cache");
  CU_ASSERT_STRING_EQUAL(c.path, "/home/ada/cache");
  parse_ok(&c, &pool, "name", "~/cache");
  CU_ASSERT_STRING_EQUAL(c.s, "~/cache");
  sy__pool_release(&pool);
  unsetenv("HOME");
  CU_ASSERT_EQUAL(sy__expand("~/x", true, &out, &err), SY_ENOENT);
  if (saved)
    setenv("HOME", saved, 1);
  free(saved);
}

static void test_options_parse_expands_vars(void) {
  cfg c;
  memset(&c, 0, sizeof c);
  sy__pool pool = {0};
  setenv("SY_TEST_N", "12", 1);
  parse_ok(&c, &pool, "workers", "${SY_TEST_N}");
  CU_ASSERT_EQUAL(c.i, 12);
  sy__pool_release(&pool);
  sy_error err;
  unsetenv("SY_TEST_UNSET");
  CU_ASSERT_EQUAL(
      sy__opt_parse(opt("name"), "${SY_TEST_UNSET}", &c, &pool, &err),
      SY_ENOENT);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "SY_TEST_UNSET"));
  sy__pool_release(&pool);
}

static void test_options_suggest(void) {
  const char *names[] = {"workers", "mode", "retries", "timeout"};
  CU_ASSERT_STRING_EQUAL(sy__suggest("wrokers", names, 4), "workers");
  CU_ASSERT_STRING_EQUAL(sy__suggest("worker", names, 4), "workers");
  CU_ASSERT_STRING_EQUAL(sy__suggest("MODE", names, 4), "mode");
  CU_ASSERT_STRING_EQUAL(sy__suggest("mod", names, 4), "mode");
  CU_ASSERT_STRING_EQUAL(sy__suggest("timeuot", names, 4), "timeout");
  CU_ASSERT_PTR_NULL(sy__suggest("xyz", names, 4));
  CU_ASSERT_PTR_NULL(sy__suggest("wkrs", names, 4));
  CU_ASSERT_PTR_NULL(sy__suggest("", names, 4));
  CU_ASSERT_PTR_NULL(sy__suggest("mode", names, 0));
}

static void test_options_check_table(void) {
  sy_error err;
  CU_ASSERT_EQUAL(sy__opt_check_table(table, "runner.t", &err), 0);
  CU_ASSERT_EQUAL(sy__opt_check_table(NULL, "runner.t", &err), 0);

  static const char *const empty[] = {NULL};
  static const char *const twice[] = {"a", "A", NULL};
  struct {
    sy_option opt;
    const char *want;
  } bad[] = {
      {{"Bad", SY_OPT_INT, 0, NULL, NULL, NULL, NULL, 0, "h"},
       "not lower_case"},
      {{"x", SY_OPT_INT, 0, NULL, NULL, NULL, NULL, 0, ""}, "no help"},
      {{"x", (sy_opt_type)99, 0, NULL, NULL, NULL, NULL, 0, "h"},
       "unknown type"},
      {{"x", SY_OPT_INT, 0x80, NULL, NULL, NULL, NULL, 0, "h"},
       "unknown flags"},
      {{"x", SY_OPT_INT, SY_OPT_REQUIRED, "1", NULL, NULL, NULL, 0, "h"},
       "required but has a default"},
      {{"x", SY_OPT_ENUM, 0, NULL, NULL, NULL, NULL, 0, "h"}, "no choices"},
      {{"x", SY_OPT_ENUM, 0, NULL, NULL, NULL, empty, 0, "h"}, "no choices"},
      {{"x", SY_OPT_ENUM, 0, NULL, NULL, NULL, twice, 0, "h"}, "twice"},
      {{"x", SY_OPT_INT, 0, NULL, NULL, NULL, modes, 0, "h"}, "not an enum"},
      {{"x", SY_OPT_STRING, 0, NULL, "1", NULL, NULL, 0, "h"},
       "cannot have min or max"},
      {{"x", SY_OPT_INT, 0, NULL, "a", NULL, NULL, 0, "h"}, "min 'a'"},
      {{"x", SY_OPT_SIZE, 0, NULL, NULL, "1Q", NULL, 0, "h"}, "max '1Q'"},
      {{"x", SY_OPT_INT, 0, NULL, "10", "1", NULL, 0, "h"}, "exceeds max"},
      {{"x", SY_OPT_INT, 0, "50", "0", "10", NULL, 0, "h"},
       "default: expected an int between 0 and 10, got '50'"},
      {{"x", SY_OPT_ENUM, 0, "c", NULL, NULL, modes, 0, "h"}, "default"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    sy_option t[] = {bad[i].opt, SY_OPTION_END};
    sy_error_clear(&err);
    CU_ASSERT_EQUAL(sy__opt_check_table(t, "runner.t", &err), SY_EPLUGIN);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, bad[i].want));
    CU_ASSERT_EQUAL(strncmp(err.message, "runner.t: ", 10), 0);
    if (!strstr(err.message, bad[i].want))
      fprintf(stderr, "\n  case %zu: %s\n", i, err.message);
  }
  sy_option dup[] = {table[0], table[0], SY_OPTION_END};
  CU_ASSERT_EQUAL(sy__opt_check_table(dup, "runner.t", &err), SY_EPLUGIN);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "declared twice"));
}

static void test_options_pool(void) {
  sy__pool pool = {0};
  for (int i = 0; i < 100; i++)
    CU_ASSERT_PTR_NOT_NULL(sy__pool_strdup(&pool, "x"));
  CU_ASSERT_EQUAL(pool.len, 100);
  CU_ASSERT_PTR_NULL(sy__pool_add(&pool, NULL));
  sy__pool_release(&pool);
  CU_ASSERT_EQUAL(pool.len, 0);
  CU_ASSERT_PTR_NULL(pool.items);
}

int main(void) {
  static const CU_TestInfo tests[] = {
      {"test_options_bool", test_options_bool},
      {"test_options_int", test_options_int},
      {"test_options_double", test_options_double},
      {"test_options_size_suffixes", test_options_size_suffixes},
      {"test_options_duration_suffixes", test_options_duration_suffixes},
      {"test_options_parse_every_type", test_options_parse_every_type},
      {"test_options_validate_only", test_options_validate_only},
      {"test_options_list_splitting", test_options_list_splitting},
      {"test_options_error_texts", test_options_error_texts},
      {"test_options_secret_not_echoed", test_options_secret_not_echoed},
      {"test_options_expand_vars", test_options_expand_vars},
      {"test_options_expand_tilde", test_options_expand_tilde},
      {"test_options_parse_expands_vars", test_options_parse_expands_vars},
      {"test_options_suggest", test_options_suggest},
      {"test_options_check_table", test_options_check_table},
      {"test_options_pool", test_options_pool},
      CU_TEST_INFO_NULL,
  };
  return fx_run_suite("options", NULL, NULL, tests);
}
