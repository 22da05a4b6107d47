/*
 * test_io_providers.c - the feed-csv, sink-stdout and sink-csv providers.
 *
 * The providers' sources are compiled into this binary (see Makefile.am;
 * their entry.c files are left out, so there is no sy_plugin_entry clash)
 * and driven through their descriptors with config structs filled by hand,
 * as the core would fill them from the option tables. Each test works in
 * its own temporary folder. sink-stdout is pointed at a temporary file or
 * a pipe through sink_stdout_open(), and once at the real stdout (fd 1
 * redirected with dup2) through create().
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "../../providers/feed-csv/feed_csv.h"
#include "../../providers/sink-csv/sink_csv.h"
#include "../../providers/sink-stdout/sink_stdout.h"
#include "fixture.h"

/* ---- helpers ----------------------------------------------------------- */

/* A test that needs an empty temporary folder calls fx_tmpdir_reset(). */
static int suite_init(void) {
  return fx_tmpdir_make("/tmp/sy-io-XXXXXX");
}
static int suite_clean(void) {
  fx_tmpdir_remove();
  return 0;
}

static void put_file(const char *name, const char *text) {
  CU_ASSERT_FATAL(fx_write_text(name, text) == 0);
}

/* The whole content of a file (caller frees), or NULL. */
static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  char *buf = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&buf, &len);
  int ch;
  while ((ch = fgetc(f)) != EOF)
    fputc(ch, m);
  fclose(m);
  fclose(f);
  return buf;
}

static char *slurp_stream(FILE *f) {
  fflush(f);
  rewind(f);
  char *buf = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&buf, &len);
  int ch;
  while ((ch = fgetc(f)) != EOF)
    fputc(ch, m);
  fclose(m);
  return buf;
}

/* How many entries (besides . and ..) the temporary folder holds. */
static int count_entries(void) {
  DIR *d = opendir(fx_tmpdir);
  int n = 0;
  struct dirent *de;
  while (d && (de = readdir(d)) != NULL)
    n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
  if (d)
    closedir(d);
  return n;
}

static const sy_feed_ops *feed_ops(void) {
  return feed_csv_provider.ops;
}
static const sy_sink_ops *csv_ops(void) {
  return sink_csv_provider.ops;
}
static const sy_sink_ops *stdout_ops(void) {
  return sink_stdout_provider.ops;
}

static void *feed_new(const char *delim, const char *const *types) {
  feed_csv_config cfg = {fx_tmpdir, delim, types};
  void *self = NULL;
  sy_error err;
  int rc = feed_csv_provider.create(&cfg, &self, &err);
  if (rc)
    fprintf(stderr, "\ncreate: %s\n", err.message);
  CU_ASSERT_EQUAL(rc, 0);
  return self;
}

/* A frame with an i64 column "n" (row 1 null) and a string column "s". */
static sy_value *small_frame(size_t rows) {
  sy_value *f = NULL;
  CU_ASSERT_FATAL(sy_frame_new(rows, &f) == 0);
  int64_t *n = calloc(rows + 1, sizeof *n);
  uint8_t *ok = calloc(rows + 1, 1);
  const char **s = calloc(rows + 1, sizeof *s);
  for (size_t r = 0; r < rows; r++) {
    n[r] = (int64_t)r * 10;
    ok[r] = r != 1;
    s[r] = r % 2 ? "b,c" : "a";
  }
  CU_ASSERT(sy_frame_add_i64(f, "n", n, ok) == 0);
  CU_ASSERT(sy_frame_add_str(f, "s", s) == 0);
  free(n);
  free(ok);
  free(s);
  return f;
}

/* ---- feed-csv ---------------------------------------------------------- */

static void test_io_providers_feed_create_checks_config(void) {
  fx_tmpdir_reset();
  sy_error err;
  void *self = NULL;
  char missing[300], file[300], want[400];
  snprintf(missing, sizeof missing, "%s/nope", fx_tmpdir);
  feed_csv_config cfg = {missing, ",", NULL};
  CU_ASSERT_EQUAL(feed_csv_provider.create(&cfg, &self, &err), SY_ENOENT);
  snprintf(want, sizeof want, "folder '%s': does not exist", missing);
  CU_ASSERT_STRING_EQUAL(err.message, want);
  put_file("plain", "x");
  snprintf(file, sizeof file, "%s/plain", fx_tmpdir);
  cfg.path = file;
  CU_ASSERT_EQUAL(feed_csv_provider.create(&cfg, &self, &err), SY_ECONFIG);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "is not a folder"));
  cfg.path = fx_tmpdir;
  cfg.delimiter = ";;";
  CU_ASSERT_EQUAL(feed_csv_provider.create(&cfg, &self, &err), SY_ECONFIG);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "delimiter"));
  cfg.delimiter = ",";
  const char *bad_types[] = {"iris.a:f64", "nodot:i64", NULL};
  cfg.types = bad_types;
  CU_ASSERT_EQUAL(feed_csv_provider.create(&cfg, &self, &err), SY_ECONFIG);
  CU_ASSERT_STRING_EQUAL(err.message,
                         "types: 'nodot:i64' is not table.column:type (type "
                         "f64, i64 or string)");
  CU_ASSERT_PTR_NULL(self);
}

static void test_io_providers_feed_reads_table(void) {
  fx_tmpdir_reset();
  put_file("iris.csv", "a;n;s\n1;2;x\n3;4;y\n");
  const char *types[] = {"iris.n:f64", "other.a:string", "ir.a:string", NULL};
  void *self = feed_new(";", types);
  CU_ASSERT_FATAL(self != NULL);
  sy_value *v = NULL;
  sy_error err;
  CU_ASSERT_EQUAL_FATAL(feed_ops()->read(self, "iris", &v, &err), 0);
  CU_ASSERT_EQUAL(sy_frame_rows(v), 2);
  CU_ASSERT_EQUAL(sy_frame_cols(v), 3);
  CU_ASSERT_EQUAL(sy_frame_col_type(v, 0), SY_COL_I64); /* not "ir." */
  CU_ASSERT_EQUAL(sy_frame_col_type(v, 1), SY_COL_F64); /* declared */
  CU_ASSERT_STRING_EQUAL(sy_frame_str(v, 2, 1), "y");
  sy_value_unref(v);
  feed_csv_provider.destroy(self);
}

static void test_io_providers_feed_dotted_table_names(void) {
  fx_tmpdir_reset();
  put_file("v1.2-x_y.csv", "a\n1\n");
  const char *types[] = {"v1.2-x_y.a:string", NULL};
  void *self = feed_new(",", types);
  CU_ASSERT_FATAL(self != NULL);
  sy_value *v = NULL;
  CU_ASSERT_EQUAL_FATAL(feed_ops()->read(self, "v1.2-x_y", &v, NULL), 0);
  CU_ASSERT_EQUAL(sy_frame_col_type(v, 0), SY_COL_STR);
  sy_value_unref(v);
  feed_csv_provider.destroy(self);
}

static void test_io_providers_feed_refuses_bad_table_names(void) {
  fx_tmpdir_reset();
  put_file(".hidden.csv", "a\n1\n");
  void *self = feed_new(",", NULL);
  CU_ASSERT_FATAL(self != NULL);
  const char *bad[] = {"../x", "/etc/passwd", ".hidden", "a/b",
                       "",     "a b",         "x\n"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    sy_value *v = NULL;
    sy_error err;
    uint8_t key[16];
    CU_ASSERT_EQUAL(feed_ops()->read(self, bad[i], &v, &err), SY_EINVAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "invalid table name"));
    CU_ASSERT_PTR_NULL(v);
    CU_ASSERT_EQUAL(feed_ops()->fingerprint(self, bad[i], key, &err),
                    SY_EINVAL);
  }
  feed_csv_provider.destroy(self);
}

static void test_io_providers_feed_lists_tables_on_miss(void) {
  fx_tmpdir_reset();
  void *self = feed_new(",", NULL);
  CU_ASSERT_FATAL(self != NULL);
  sy_value *v = NULL;
  sy_error err;
  char want[600];
  CU_ASSERT_EQUAL(feed_ops()->read(self, "iris", &v, &err), SY_ENOENT);
  snprintf(want, sizeof want,
           "no table 'iris' in '%s' (the folder has no .csv files)", fx_tmpdir);
  CU_ASSERT_STRING_EQUAL(err.message, want);
  put_file("wine.csv", "a\n1\n");
  put_file("abalone.csv", "a\n1\n");
  put_file("notes.txt", "x");
  put_file(".secret.csv", "x");
  CU_ASSERT_EQUAL(feed_ops()->read(self, "iris", &v, &err), SY_ENOENT);
  snprintf(want, sizeof want, "no table 'iris' in '%s' (tables: abalone, wine)",
           fx_tmpdir);
  CU_ASSERT_STRING_EQUAL(err.message, want);
  uint8_t key[16];
  CU_ASSERT_EQUAL(feed_ops()->fingerprint(self, "iris", key, &err), SY_ENOENT);
  CU_ASSERT_PTR_NULL(v);
  feed_csv_provider.destroy(self);
}

static void test_io_providers_feed_parse_error_names_file(void) {
  fx_tmpdir_reset();
  put_file("bad.csv", "a,b\n1,2\n3\n");
  void *self = feed_new(",", NULL);
  CU_ASSERT_FATAL(self != NULL);
  sy_value *v = NULL;
  sy_error err;
  char want[600];
  CU_ASSERT_EQUAL(feed_ops()->read(self, "bad", &v, &err), SY_ESYNTAX);
  snprintf(want, sizeof want, "%s/bad.csv:3:1: 1 fields, header has 2",
           fx_tmpdir);
  CU_ASSERT_STRING_EQUAL(err.message, want);
  feed_csv_provider.destroy(self);
}

/* What describe reported, as "name:type;" pairs. */
typedef struct described {
  char text[4096];
  size_t n;
} described;

static int on_column(void *ud, const char *name, sy_col_type type) {
  described *d = ud;
  size_t used = strlen(d->text);
  snprintf(d->text + used, sizeof d->text - used, "%s:%d;", name, (int)type);
  d->n++;
  return 0;
}

/* Issue 10, item 17: describe reads only the header, so a file whose rows
 * are malformed still describes, and reports declared types (0 for the
 * inferred columns). */
static void test_io_providers_feed_describe_reads_only_the_header(void) {
  fx_tmpdir_reset();
  put_file("t.csv", "\xEF\xBB\xBF"
                    "a,b,\"c\nd\"\n1,2\n\"never closed\n");
  const char *types[] = {"t.a:f64", "other.b:string", NULL};
  void *self = feed_new(",", types);
  CU_ASSERT_FATAL(self != NULL);
  CU_ASSERT_FATAL(SY_FEED_HAS_DESCRIBE(feed_ops()));
  described d = {"", 0};
  sy_error err;
  sy_error_clear(&err);
  CU_ASSERT_EQUAL(feed_ops()->describe(self, "t", on_column, &d, &err), 0);
  CU_ASSERT_STRING_EQUAL(d.text, "a:1;b:0;c\nd:0;");
  /* read() does see the broken row. */
  sy_value *v = NULL;
  CU_ASSERT_EQUAL(feed_ops()->read(self, "t", &v, &err), SY_ESYNTAX);
  /* A header wider than one 64 KiB read, and a body that is not CSV. */
  FILE *f = fopen(fx_tmp_path("wide.csv"), "w");
  CU_ASSERT_FATAL(f != NULL);
  for (int c = 0; c < 9000; c++)
    fprintf(f, "%scolumn_%05d", c ? "," : "", c);
  fputs("\n1,\"x\"y\n", f);
  fclose(f);
  memset(&d, 0, sizeof d);
  CU_ASSERT_EQUAL(feed_ops()->describe(self, "wide", on_column, &d, &err), 0);
  CU_ASSERT_EQUAL(d.n, 9000);
  /* The header's own mistakes are read's, with file:line:column. */
  put_file("dup.csv", "a,b,a\n1,2,3\n");
  CU_ASSERT_EQUAL(feed_ops()->describe(self, "dup", on_column, &d, &err),
                  SY_ESYNTAX);
  char want[600];
  snprintf(want, sizeof want, "%s/dup.csv:1:5: duplicate column name 'a'",
           fx_tmpdir);
  CU_ASSERT_STRING_EQUAL(err.message, want);
  /* A missing table lists the ones there are, as read does. */
  CU_ASSERT_EQUAL(feed_ops()->describe(self, "nope", on_column, &d, &err),
                  SY_ENOENT);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "tables: dup, t, wide"));
  feed_csv_provider.destroy(self);
  /* A declared column the header lacks. */
  const char *typo[] = {"t.zz:i64", NULL};
  self = feed_new(",", typo);
  CU_ASSERT_FATAL(self != NULL);
  CU_ASSERT_EQUAL(feed_ops()->describe(self, "t", on_column, &d, &err),
                  SY_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "types: no column 'zz'"));
  /* An empty file has no columns. */
  put_file("empty.csv", "");
  memset(&d, 0, sizeof d);
  CU_ASSERT_EQUAL(feed_ops()->describe(self, "empty", on_column, &d, &err), 0);
  CU_ASSERT_EQUAL(d.n, 0);
  feed_csv_provider.destroy(self);
}

static void test_io_providers_feed_fingerprint(void) {
  fx_tmpdir_reset();
  put_file("t.csv", "a,b\n1,2\n");
  void *plain = feed_new(",", NULL);
  void *semi = feed_new(";", NULL);
  const char *types[] = {"t.a:f64", NULL};
  const char *other_types[] = {"u.a:f64", NULL};
  void *typed = feed_new(",", types);
  void *other = feed_new(",", other_types);
  CU_ASSERT_FATAL(plain && semi && typed && other);
  uint8_t k1[16], k2[16], k3[16], k4[16], k5[16], k6[16];
  sy_error err;
  CU_ASSERT_EQUAL(feed_ops()->fingerprint(plain, "t", k1, &err), 0);
  CU_ASSERT_EQUAL(feed_ops()->fingerprint(plain, "t", k2, &err), 0);
  CU_ASSERT_EQUAL(memcmp(k1, k2, 16), 0); /* stable */
  /* Options that change what read() returns change the key... */
  CU_ASSERT_EQUAL(feed_ops()->fingerprint(semi, "t", k3, &err), 0);
  CU_ASSERT_NOT_EQUAL(memcmp(k1, k3, 16), 0);
  CU_ASSERT_EQUAL(feed_ops()->fingerprint(typed, "t", k4, &err), 0);
  CU_ASSERT_NOT_EQUAL(memcmp(k1, k4, 16), 0);
  /* ...types of other tables do not. */
  CU_ASSERT_EQUAL(feed_ops()->fingerprint(other, "t", k5, &err), 0);
  CU_ASSERT_EQUAL(memcmp(k1, k5, 16), 0);
  /* One changed byte changes the key. */
  put_file("t.csv", "a,b\n1,3\n");
  CU_ASSERT_EQUAL(feed_ops()->fingerprint(plain, "t", k6, &err), 0);
  CU_ASSERT_NOT_EQUAL(memcmp(k1, k6, 16), 0);
  feed_csv_provider.destroy(plain);
  feed_csv_provider.destroy(semi);
  feed_csv_provider.destroy(typed);
  feed_csv_provider.destroy(other);
}

/* ---- sink-csv ---------------------------------------------------------- */

static void *sink_csv_new(const char *path, const char *delim) {
  sink_csv_config cfg = {path, delim, NULL};
  void *self = NULL;
  sy_error err;
  CU_ASSERT_EQUAL(sink_csv_provider.create(&cfg, &self, &err), 0);
  return self;
}

static void test_io_providers_sink_csv_writes_file(void) {
  fx_tmpdir_reset();
  char path[400], file[400];
  snprintf(path, sizeof path, "%s/{name}.csv", fx_tmpdir);
  void *self = sink_csv_new(path, ";");
  CU_ASSERT_FATAL(self != NULL);
  sy_value *f = small_frame(3);
  sy_error err;
  CU_ASSERT_EQUAL(csv_ops()->write(self, "scores", f, &err), 0);
  snprintf(file, sizeof file, "%s/scores.csv", fx_tmpdir);
  char *text = slurp(file);
  CU_ASSERT_PTR_NOT_NULL_FATAL(text);
  CU_ASSERT_STRING_EQUAL(text, "n;s\n0;a\n;b,c\n20;a\n");
  free(text);
  CU_ASSERT_EQUAL(count_entries(), 1); /* no temporary file left */
  /* Bytes are written raw, replacing the file. */
  sy_value *b = NULL;
  CU_ASSERT_FATAL(sy_bytes_new("raw\0bytes", 9, "text/plain", &b) == 0);
  CU_ASSERT_EQUAL(csv_ops()->write(self, "scores", b, &err), 0);
  struct stat st;
  CU_ASSERT_EQUAL(stat(file, &st), 0);
  CU_ASSERT_EQUAL(st.st_size, 9);
  CU_ASSERT_EQUAL(count_entries(), 1);
  /* A node name cannot take the file out of the folder. */
  CU_ASSERT_EQUAL(csv_ops()->write(self, "../x", f, &err), SY_EINVAL);
  CU_ASSERT_EQUAL(csv_ops()->write(self, "..", f, &err), SY_EINVAL);
  sy_value_unref(b);
  sy_value_unref(f);
  sink_csv_provider.destroy(self);
}

static void test_io_providers_sink_csv_missing_parent(void) {
  fx_tmpdir_reset();
  char path[400], want[900];
  snprintf(path, sizeof path, "%s/nope/out.csv", fx_tmpdir);
  void *self = sink_csv_new(path, ",");
  CU_ASSERT_FATAL(self != NULL);
  sy_value *f = small_frame(2);
  sy_error err;
  CU_ASSERT_EQUAL(csv_ops()->write(self, "x", f, &err), SY_ENOENT);
  snprintf(want, sizeof want, "folder '%s/nope' does not exist (for '%s')",
           fx_tmpdir, path);
  CU_ASSERT_STRING_EQUAL(err.message, want);
  CU_ASSERT_EQUAL(count_entries(), 0);
  sy_value_unref(f);
  sink_csv_provider.destroy(self);
}

/* A write that fails half way (the file size limit stops it) must leave
 * the old target as it was and no temporary file. */
static void test_io_providers_sink_csv_failed_write_is_atomic(void) {
  fx_tmpdir_reset();
  char path[400];
  snprintf(path, sizeof path, "%s/out.csv", fx_tmpdir);
  put_file("out.csv", "old content\n");
  void *self = sink_csv_new(path, ",");
  CU_ASSERT_FATAL(self != NULL);
  sy_value *f = small_frame(100000); /* ~1 MB of CSV */
  struct rlimit old, lim;
  CU_ASSERT_FATAL(getrlimit(RLIMIT_FSIZE, &old) == 0);
  void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
  lim = old;
  lim.rlim_cur = 100000;
  CU_ASSERT_FATAL(setrlimit(RLIMIT_FSIZE, &lim) == 0);
  sy_error err;
  int rc = csv_ops()->write(self, "x", f, &err);
  setrlimit(RLIMIT_FSIZE, &old);
  signal(SIGXFSZ, prev);
  CU_ASSERT_EQUAL(rc, SY_EIO);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "cannot write"));
  char *text = slurp(path);
  CU_ASSERT_PTR_NOT_NULL_FATAL(text);
  CU_ASSERT_STRING_EQUAL(text, "old content\n");
  free(text);
  CU_ASSERT_EQUAL(count_entries(), 1);
  sy_value_unref(f);
  sink_csv_provider.destroy(self);
}

/* A target that is a folder is refused, naming it, and leaves no
 * temporary file behind. */
static void test_io_providers_sink_csv_failed_rename_cleans_up(void) {
  fx_tmpdir_reset();
  char path[400];
  snprintf(path, sizeof path, "%s/taken", fx_tmpdir);
  CU_ASSERT_FATAL(mkdir(path, 0700) == 0);
  void *self = sink_csv_new(path, ",");
  CU_ASSERT_FATAL(self != NULL);
  sy_value *f = small_frame(3);
  sy_error err;
  CU_ASSERT_NOT_EQUAL(csv_ops()->write(self, "x", f, &err), 0);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "is a directory"));
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, path));
  CU_ASSERT_EQUAL(count_entries(), 1);
  struct stat st;
  CU_ASSERT(stat(path, &st) == 0 && S_ISDIR(st.st_mode));
  sy_value_unref(f);
  sink_csv_provider.destroy(self);
}

static void test_io_providers_sink_csv_create_checks(void) {
  sink_csv_config cfg = {"x.csv", "ab", NULL};
  void *self = NULL;
  sy_error err;
  CU_ASSERT_EQUAL(sink_csv_provider.create(&cfg, &self, &err), SY_ECONFIG);
  cfg.delimiter = "\"";
  CU_ASSERT_EQUAL(sink_csv_provider.create(&cfg, &self, &err), SY_ECONFIG);
  cfg.path = "";
  cfg.delimiter = ",";
  CU_ASSERT_EQUAL(sink_csv_provider.create(&cfg, &self, &err), SY_ECONFIG);
  CU_ASSERT_PTR_NULL(self);
}

/* ---- sink-stdout ------------------------------------------------------- */

static char *stdout_write(int format, int64_t max_rows, const sy_value *v,
                          int want_rc) {
  sink_stdout_config cfg = {format, max_rows, NULL};
  FILE *out = tmpfile();
  CU_ASSERT_FATAL(out != NULL);
  void *self = NULL;
  sy_error err;
  CU_ASSERT_FATAL(sink_stdout_open(&cfg, out, &self, &err) == 0);
  CU_ASSERT_EQUAL(stdout_ops()->write(self, "node", v, &err), want_rc);
  char *text = slurp_stream(out);
  fclose(out);
  sink_stdout_provider.destroy(self);
  return text;
}

static void test_io_providers_stdout_csv(void) {
  sy_value *f = small_frame(3);
  char *text = stdout_write(SINK_STDOUT_CSV, 50, f, 0);
  CU_ASSERT_STRING_EQUAL(text, "n,s\n0,a\n,\"b,c\"\n20,a\n");
  free(text);
  /* auto on something that is not a terminal means csv. */
  text = stdout_write(SINK_STDOUT_AUTO, 50, f, 0);
  CU_ASSERT_STRING_EQUAL(text, "n,s\n0,a\n,\"b,c\"\n20,a\n");
  free(text);
  sy_value_unref(f);
}

static void test_io_providers_stdout_table(void) {
  sy_value *f = small_frame(4);
  char *text = stdout_write(SINK_STDOUT_TABLE, 3, f, 0);
  CU_ASSERT_STRING_EQUAL(text, "   n  s\n"
                               "----  ---\n"
                               "   0  a\n"
                               "null  b,c\n"
                               "  20  a\n"
                               "... 1 more row\n");
  free(text);
  /* max_rows 0 shows every row. */
  text = stdout_write(SINK_STDOUT_TABLE, 0, f, 0);
  CU_ASSERT_PTR_NULL(strstr(text, "more row"));
  CU_ASSERT_PTR_NOT_NULL(strstr(text, "  30  b,c\n"));
  free(text);
  sy_value_unref(f);
}

static void test_io_providers_stdout_table_long_and_unicode(void) {
  sy_value *f = NULL;
  CU_ASSERT_FATAL(sy_frame_new(2, &f) == 0);
  const char *s[] = {"\xC3\xA9t\xC3\xA9", /* été: 3 characters */
                     "0123456789012345678901234567890123456789xyz"};
  const double d[] = {1.5, -0.25};
  CU_ASSERT(sy_frame_add_str(f, "word", s) == 0);
  CU_ASSERT(sy_frame_add_f64(f, "x", d, NULL) == 0);
  char *text = stdout_write(SINK_STDOUT_TABLE, 50, f, 0);
  CU_ASSERT_STRING_EQUAL(text,
                         "word                                          x\n"
                         "----------------------------------------  -----\n"
                         "\xC3\xA9t\xC3\xA9"
                         "                                         1.5\n"
                         "0123456789012345678901234567890123456...  -0.25\n");
  free(text);
  sy_value_unref(f);
}

static void test_io_providers_stdout_bytes_raw(void) {
  sy_value *b = NULL;
  CU_ASSERT_FATAL(sy_bytes_new("{\"a\": 1}", 8, "application/json", &b) == 0);
  char *text = stdout_write(SINK_STDOUT_TABLE, 50, b, 0);
  CU_ASSERT_STRING_EQUAL(text, "{\"a\": 1}");
  free(text);
  sy_value_unref(b);
}

static void test_io_providers_stdout_broken_pipe(void) {
  int fds[2];
  CU_ASSERT_FATAL(pipe(fds) == 0);
  close(fds[0]); /* the reader is gone */
  void (*prev)(int) = signal(SIGPIPE, SIG_IGN);
  FILE *out = fdopen(fds[1], "w");
  CU_ASSERT_FATAL(out != NULL);
  sink_stdout_config cfg = {SINK_STDOUT_CSV, 50, NULL};
  void *self = NULL;
  sy_error err;
  CU_ASSERT_FATAL(sink_stdout_open(&cfg, out, &self, &err) == 0);
  sy_value *f = small_frame(10);
  CU_ASSERT_EQUAL(stdout_ops()->write(self, "node", f, &err), SY_EIO);
  CU_ASSERT_STRING_EQUAL(err.message, "stdout: cannot write 'node': broken "
                                      "pipe (reader gone)");
  sy_value_unref(f);
  sink_stdout_provider.destroy(self);
  fclose(out);
  signal(SIGPIPE, prev);
}

/* create() writes to the process's stdout: redirect fd 1 to a file. */
static void test_io_providers_stdout_real_stdout(void) {
  fx_tmpdir_reset();
  char path[400];
  snprintf(path, sizeof path, "%s/captured", fx_tmpdir);
  fflush(stdout);
  int saved = dup(1);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  CU_ASSERT_FATAL(saved >= 0 && fd >= 0);
  dup2(fd, 1);
  close(fd);
  sink_stdout_config cfg = {SINK_STDOUT_AUTO, 50, NULL};
  void *self = NULL;
  sy_error err;
  int rc = sink_stdout_provider.create(&cfg, &self, &err);
  sy_value *f = small_frame(2);
  int wrc = rc == 0 ? stdout_ops()->write(self, "node", f, &err) : rc;
  fflush(stdout);
  dup2(saved, 1);
  close(saved);
  CU_ASSERT_EQUAL(rc, 0);
  CU_ASSERT_EQUAL(wrc, 0);
  char *text = slurp(path);
  CU_ASSERT_PTR_NOT_NULL_FATAL(text);
  CU_ASSERT_STRING_EQUAL(text, "n,s\n0,a\n,\"b,c\"\n");
  free(text);
  sy_value_unref(f);
  if (self)
    sink_stdout_provider.destroy(self);
}

static void test_io_providers_descriptors(void) {
  CU_ASSERT_EQUAL(feed_csv_provider.kind, SY_KIND_FEED);
  CU_ASSERT_STRING_EQUAL(feed_csv_provider.name, "csv");
  CU_ASSERT_EQUAL(sink_csv_provider.kind, SY_KIND_SINK);
  CU_ASSERT_STRING_EQUAL(sink_csv_provider.name, "csv");
  CU_ASSERT_EQUAL(sink_stdout_provider.kind, SY_KIND_SINK);
  CU_ASSERT_STRING_EQUAL(sink_stdout_provider.name, "stdout");
  const sy_provider *all[] = {&feed_csv_provider, &sink_csv_provider,
                              &sink_stdout_provider};
  for (size_t i = 0; i < 3; i++) {
    CU_ASSERT_EQUAL(all[i]->size, sizeof(sy_provider));
    CU_ASSERT_EQUAL(*(const uint32_t *)all[i]->ops, all[i]->kind == SY_KIND_FEED
                                                        ? sizeof(sy_feed_ops)
                                                        : sizeof(sy_sink_ops));
    for (const sy_option *o = all[i]->options; o->name; o++) {
      CU_ASSERT_PTR_NOT_NULL(o->help);
      CU_ASSERT(o->offset < all[i]->config_size);
    }
  }
}

int main(void) {
  static const CU_TestInfo tests[] = {
      {"descriptors", test_io_providers_descriptors},
      {"feed_create_checks_config",
       test_io_providers_feed_create_checks_config},
      {"feed_reads_table", test_io_providers_feed_reads_table},
      {"feed_dotted_table_names", test_io_providers_feed_dotted_table_names},
      {"feed_refuses_bad_table_names",
       test_io_providers_feed_refuses_bad_table_names},
      {"feed_lists_tables_on_miss",
       test_io_providers_feed_lists_tables_on_miss},
      {"feed_parse_error_names_file",
       test_io_providers_feed_parse_error_names_file},
      {"feed_fingerprint", test_io_providers_feed_fingerprint},
      {"feed_describe_reads_only_the_header",
       test_io_providers_feed_describe_reads_only_the_header},
      {"sink_csv_writes_file", test_io_providers_sink_csv_writes_file},
      {"sink_csv_missing_parent", test_io_providers_sink_csv_missing_parent},
      {"sink_csv_failed_write_is_atomic",
       test_io_providers_sink_csv_failed_write_is_atomic},
      {"sink_csv_failed_rename_cleans_up",
       test_io_providers_sink_csv_failed_rename_cleans_up},
      {"sink_csv_create_checks", test_io_providers_sink_csv_create_checks},
      {"stdout_csv", test_io_providers_stdout_csv},
      {"stdout_table", test_io_providers_stdout_table},
      {"stdout_table_long_and_unicode",
       test_io_providers_stdout_table_long_and_unicode},
      {"stdout_bytes_raw", test_io_providers_stdout_bytes_raw},
      {"stdout_broken_pipe", test_io_providers_stdout_broken_pipe},
      {"stdout_real_stdout", test_io_providers_stdout_real_stdout},
      CU_TEST_INFO_NULL,
  };
  return fx_run_suite("io_providers", suite_init, suite_clean, tests);
}
