/*
 * test_sql.c - pushdown (core/query.c, the flow's source keys) and the
 * SQLite feed and sink (providers/feed-sqlite, providers/sink-sqlite,
 * compiled in without their entry.c and driven through their
 * descriptors with config structs filled by hand).
 */
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "../../core/flow.h"
#include "../../core/query.h"
#include "../../providers/feed-sqlite/feed_sqlite.h"
#include "../../providers/sink-sqlite/sink_sqlite.h"
#include "fixture.h"

static int suite_init(void) {
  return fx_tmpdir_make("/tmp/sy-sql-XXXXXX");
}
static int suite_clean(void) {
  fx_tmpdir_remove();
  return 0;
}

/* name (string), age (i64, one null), score (f64, one null). */
static sy_value *people(void) {
  sy_frame_builder *b = NULL;
  sy_value *v = NULL;
  sy_error err;
  CU_ASSERT_FATAL(sy_frame_builder_new(SY_FRAME_GROW, &b) == 0);
  sy_frame_builder_column(b, "name", SY_COL_STR);
  sy_frame_builder_column(b, "age", SY_COL_I64);
  sy_frame_builder_column(b, "score", SY_COL_F64);
  const char *names[] = {"alice", "O'Brien\"; DROP TABLE t; --", "bob", "carol",
                         "dave"};
  const int64_t ages[] = {31, 44, 0, 27, 31};
  const double scores[] = {1.5, 2.25, 3.0, 0, 0.5};
  for (int i = 0; i < 5; i++) {
    sy_frame_builder_str(b, 0, names[i]);
    if (i == 2)
      sy_frame_builder_null(b, 1);
    else
      sy_frame_builder_i64(b, 1, ages[i]);
    if (i == 3)
      sy_frame_builder_null(b, 2);
    else
      sy_frame_builder_f64(b, 2, scores[i]);
  }
  CU_ASSERT_FATAL(sy_frame_builder_finish(b, &v, &err) == 0);
  return v;
}

static void test_apply_where_order_limit(void) {
  sy_value *t = people(), *out = NULL;
  sy_error err;
  const char *cols[] = {"name"};
  sy_feed_cond where[] = {{"age", SY_CMP_GE, SY_COL_F64, 30.5, 0, NULL}};
  sy_feed_order order[] = {{"score", 1}};
  sy_feed_query q = {sizeof q, cols, 1, where, 1, order, 1, 2};
  CU_ASSERT_EQUAL_FATAL(sy_feed_query_apply(t, &q, &out, &err), 0);
  CU_ASSERT_EQUAL(sy_frame_cols(out), 1);
  CU_ASSERT_EQUAL(sy_frame_rows(out), 2);
  /* age >= 30.5: alice (1.5), O'Brien (2.25), dave (0.5); the null age
   * never matches; score descending, at most two. */
  CU_ASSERT_STRING_EQUAL(sy_frame_str(out, 0, 0),
                         "O'Brien\"; DROP TABLE t; --");
  CU_ASSERT_STRING_EQUAL(sy_frame_str(out, 0, 1), "alice");
  sy_value_unref(out);
  /* != never matches a null either; ties keep the table's order; nulls
   * sort last ascending. */
  sy_feed_cond ne[] = {{"age", SY_CMP_NE, SY_COL_I64, 0, 27, NULL}};
  sy_feed_order by_age[] = {{"age", 0}};
  sy_feed_query q2 = {sizeof q2, NULL, 0, ne, 1, by_age, 1, -1};
  CU_ASSERT_EQUAL_FATAL(sy_feed_query_apply(t, &q2, &out, &err), 0);
  CU_ASSERT_EQUAL(sy_frame_rows(out), 3);
  CU_ASSERT_EQUAL(sy_frame_cols(out), 3);
  CU_ASSERT_STRING_EQUAL(sy_frame_str(out, 0, 0), "alice");
  CU_ASSERT_STRING_EQUAL(sy_frame_str(out, 0, 1), "dave");
  sy_value_unref(out);
  sy_feed_query q3 = {sizeof q3, NULL, 0, NULL, 0, by_age, 1, -1};
  CU_ASSERT_EQUAL_FATAL(sy_feed_query_apply(t, &q3, &out, &err), 0);
  CU_ASSERT_STRING_EQUAL(sy_frame_str(out, 0, 4), "bob");
  CU_ASSERT_TRUE(sy_frame_is_null(out, 1, 4));
  sy_value_unref(out);
  /* Strings compare bytewise. */
  sy_feed_cond lt[] = {{"name", SY_CMP_LT, SY_COL_STR, 0, 0, "b"}};
  sy_feed_query q4 = {sizeof q4, NULL, 0, lt, 1, NULL, 0, -1};
  CU_ASSERT_EQUAL_FATAL(sy_feed_query_apply(t, &q4, &out, &err), 0);
  CU_ASSERT_EQUAL(sy_frame_rows(out), 2); /* "O'Brien..." < "alice" */
  sy_value_unref(out);
  sy_value_unref(t);
}

static void test_apply_errors(void) {
  sy_value *t = people(), *out = NULL;
  sy_error err;
  const char *cols[] = {"nmae"};
  sy_feed_query q = {sizeof q, cols, 1, NULL, 0, NULL, 0, -1};
  CU_ASSERT_EQUAL(sy_feed_query_apply(t, &q, &out, &err), SY_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "unknown column 'nmae'"));
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "name, age, score"));
  CU_ASSERT_PTR_NULL(out);
  sy_feed_cond w[] = {{"name", SY_CMP_EQ, SY_COL_I64, 0, 3, NULL}};
  sy_feed_query q2 = {sizeof q2, NULL, 0, w, 1, NULL, 0, -1};
  CU_ASSERT_EQUAL(sy_feed_query_apply(t, &q2, &out, &err), SY_ETYPE);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "column 'name' is string"));
  sy_value_unref(t);
}

static void test_param_round_trip(void) {
  const char *cols[] = {"a:b", "c,d"};
  sy_feed_cond w[] = {{"x", SY_CMP_LE, SY_COL_STR, 0, 0, "it's; 3:4 \"q\""},
                      {"y", SY_CMP_GT, SY_COL_F64, 0.1, 0, NULL},
                      {"z", SY_CMP_NE, SY_COL_I64, 0, -7, NULL}};
  sy_feed_order o[] = {{"x", 1}, {"y", 0}};
  sy_feed_query q = {sizeof q, cols, 2, w, 3, o, 2, 9};
  char *text = NULL;
  sy__query back;
  sy_error err;
  CU_ASSERT_EQUAL_FATAL(sy__query_encode(&q, &text), 0);
  CU_ASSERT_EQUAL_FATAL(sy__query_decode(text, &back, &err), 0);
  CU_ASSERT_EQUAL(back.q.n_columns, 2);
  CU_ASSERT_STRING_EQUAL(back.q.columns[1], "c,d");
  CU_ASSERT_EQUAL(back.q.n_where, 3);
  CU_ASSERT_STRING_EQUAL(back.q.where[0].str, "it's; 3:4 \"q\"");
  CU_ASSERT_EQUAL(back.q.where[0].op, SY_CMP_LE);
  CU_ASSERT_EQUAL(back.q.where[1].f64, 0.1);
  CU_ASSERT_EQUAL(back.q.where[2].i64, -7);
  CU_ASSERT_EQUAL(back.q.order[0].desc, 1);
  CU_ASSERT_EQUAL(back.q.limit, 9);
  /* The same query encodes to the same text (the cache key's input). */
  char *again = NULL;
  CU_ASSERT_EQUAL(sy__query_encode(&back.q, &again), 0);
  CU_ASSERT_STRING_EQUAL(text, again);
  sy__query_free(&back);
  /* Anything cut or padded is refused. */
  text[strlen(text) - 1] = '\0';
  CU_ASSERT_EQUAL(sy__query_decode(text, &back, &err), SY_ECORRUPT);
  CU_ASSERT_EQUAL(sy__query_decode("1:C9999999999:", &back, &err), SY_ECORRUPT);
  CU_ASSERT_EQUAL(sy__query_decode("", &back, &err), SY_ECORRUPT);
  free(text);
  free(again);
}

/* Loads a flow whose source group is `source`; returns the code, err. */
static int load(const char *source, sy_flow **out, sy_error *err) {
  char text[1024];
  snprintf(text, sizeof text,
           "name = \"q\";\nsource = { table = \"t\"; label = \"y\";\n%s };\n"
           "actors = ( { id = \"a\"; actor = \"std.concat\"; } );\n",
           source);
  *out = NULL;
  return sy__flow_load_string(text, "q.flow", out, err);
}

static void test_flow_pushdown(void) {
  sy_flow *f = NULL;
  sy_error err;
  CU_ASSERT_EQUAL_FATAL(
      load("columns = [\"x\", \"y\"];\nwhere = ( { column = \"x\"; op = "
           "\"<>\"; value = 2; }, { column = \"y\"; op = \">=\"; value = "
           "\"b\"; } );\norder = [\"x desc\", \"y\"]; limit = 3;",
           &f, &err),
      0);
  const int *lines = NULL;
  int cline = 0, oline = 0;
  const sy_feed_query *q = sy_flow_source_query(f, &lines, &cline, &oline);
  CU_ASSERT_PTR_NOT_NULL_FATAL(q);
  CU_ASSERT_EQUAL(q->n_columns, 2);
  CU_ASSERT_EQUAL(q->n_where, 2);
  CU_ASSERT_EQUAL(q->where[0].op, SY_CMP_NE);
  CU_ASSERT_EQUAL(q->where[0].type, SY_COL_I64);
  CU_ASSERT_STRING_EQUAL(q->where[1].str, "b");
  CU_ASSERT_STRING_EQUAL(q->order[0].column, "x");
  CU_ASSERT_EQUAL(q->order[0].desc, 1);
  CU_ASSERT_EQUAL(q->limit, 3);
  CU_ASSERT_EQUAL(cline, 3);
  CU_ASSERT_EQUAL(lines[0], 4);
  CU_ASSERT_EQUAL(oline, 5);
  /* Written back as flow text (what a release keeps), it reads back to
   * the same query. */
  char *text = NULL, *enc1 = NULL, *enc2 = NULL;
  size_t len = 0;
  CU_ASSERT_EQUAL_FATAL(sy_flow_text(f, &text, &len), 0);
  sy_flow *again = NULL;
  CU_ASSERT_EQUAL_FATAL(sy__flow_load_string(text, "w.flow", &again, &err), 0);
  const sy_feed_query *q2 = sy_flow_source_query(again, NULL, NULL, NULL);
  CU_ASSERT_PTR_NOT_NULL_FATAL(q2);
  CU_ASSERT_EQUAL(sy__query_encode(q, &enc1), 0);
  CU_ASSERT_EQUAL(sy__query_encode(q2, &enc2), 0);
  CU_ASSERT_STRING_EQUAL(enc1, enc2);
  free(enc1);
  free(enc2);
  free(text);
  sy__flow_free(again);
  sy__flow_free(f);
  /* No pushdown: no query. */
  CU_ASSERT_EQUAL_FATAL(load("", &f, &err), 0);
  CU_ASSERT_PTR_NULL(sy_flow_source_query(f, NULL, NULL, NULL));
  sy__flow_free(f);
  static const struct {
    const char *src, *msg;
  } bad[] = {
      {"where = { column = \"x\"; op = \"~\"; value = 1; };",
       "q.flow:3: source.where.op: unknown op '~'"},
      {"where = { column = \"x\"; op = \"=\"; value = true; };",
       "q.flow:3: source.where.value: expected a number or a string"},
      {"where = { column = \"x\"; op = \"=\"; };", "missing 'value'"},
      {"where = ( { column = \"x\"; op = \"=\"; value = 1; wat = 2; } );",
       "source.where[0]: unknown key 'wat'"},
      {"\nlimit = -1;", "q.flow:4: source.limit: -1 is negative"},
      {"columns = [\"x\"];", "add the label 'y' to the columns"},
      {"columns = [\"y\", \"y\"];", "'y' is listed twice"},
      {"order = \" desc\";", "names no column"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    int rc = load(bad[i].src, &f, &err);
    CU_ASSERT_NOT_EQUAL(rc, 0);
    if (!strstr(err.message, bad[i].msg))
      fprintf(stderr, "\n%s\n  got: %s\n", bad[i].msg, err.message);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.message, bad[i].msg));
    sy__flow_free(f);
  }
}

/* ---- feed.sqlite and sink.sqlite ---------------------------------- */

static void *make_sink(const char *table, int mode) {
  sink_sqlite_config cfg = {fx_tmp_path("t.db"), table, mode, 1000000000};
  static char path[512];
  snprintf(path, sizeof path, "%s", cfg.path);
  cfg.path = path;
  void *self = NULL;
  sy_error err;
  CU_ASSERT_FATAL(sink_sqlite_provider.create(&cfg, &self, &err) == 0);
  return self;
}

static void test_sqlite_round_trip(void) {
  fx_tmpdir_reset();
  const sy_sink_ops *sops = sink_sqlite_provider.ops;
  const sy_feed_ops *fops = feed_sqlite_provider.ops;
  sy_error err;
  sy_value *t = people(), *back = NULL;
  void *sink = make_sink("{name}", 0);
  CU_ASSERT_EQUAL_FATAL(sops->write(sink, "people", t, &err), 0);
  static char path[512];
  snprintf(path, sizeof path, "%s", fx_tmp_path("t.db"));
  feed_sqlite_config fcfg = {path, 1000000000};
  void *feed = NULL;
  CU_ASSERT_FATAL(feed_sqlite_provider.create(&fcfg, &feed, &err) == 0);
  CU_ASSERT_EQUAL_FATAL(fops->read(feed, "people", &back, &err), 0);
  CU_ASSERT_TRUE(sy_value_equal(t, back));
  sy_value_unref(back);
  /* The query op gives what sy_feed_query_apply gives. */
  sy_feed_cond w[] = {
      {"name", SY_CMP_EQ, SY_COL_STR, 0, 0, "O'Brien\"; DROP TABLE t; --"}};
  sy_feed_query q = {sizeof q, NULL, 0, w, 1, NULL, 0, -1};
  sy_value *want = NULL;
  CU_ASSERT_EQUAL_FATAL(sy_feed_query_apply(t, &q, &want, &err), 0);
  CU_ASSERT_EQUAL_FATAL(fops->query(feed, "people", &q, &back, &err), 0);
  CU_ASSERT_EQUAL(sy_frame_rows(back), 1);
  CU_ASSERT_TRUE(sy_value_equal(want, back));
  sy_value_unref(want);
  sy_value_unref(back);
  /* Unknown columns and tables name what there is. */
  const char *cols[] = {"nope"};
  sy_feed_query q2 = {sizeof q2, cols, 1, NULL, 0, NULL, 0, -1};
  CU_ASSERT_EQUAL(fops->query(feed, "people", &q2, &back, &err), SY_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "no column 'nope'"));
  CU_ASSERT_EQUAL(fops->read(feed, "peeple", &back, &err), SY_ENOENT);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "tables: people"));
  /* The fingerprint follows the rows. */
  uint8_t k1[16], k2[16], k3[16];
  CU_ASSERT_EQUAL(fops->fingerprint(feed, "people", k1, &err), 0);
  CU_ASSERT_EQUAL(fops->fingerprint(feed, "people", k2, &err), 0);
  CU_ASSERT_EQUAL(memcmp(k1, k2, 16), 0);
  sqlite3 *db = NULL;
  CU_ASSERT_FATAL(sqlite3_open(path, &db) == SQLITE_OK);
  CU_ASSERT_EQUAL(
      sqlite3_exec(db, "UPDATE people SET score = 2.5 WHERE name = 'bob'", NULL,
                   NULL, NULL),
      SQLITE_OK);
  CU_ASSERT_EQUAL(fops->fingerprint(feed, "people", k3, &err), 0);
  CU_ASSERT_NOT_EQUAL(memcmp(k1, k3, 16), 0);
  /* A text cell in an INTEGER column is an error naming the row. */
  CU_ASSERT_EQUAL(sqlite3_exec(db,
                               "UPDATE people SET age = 'old' WHERE name = "
                               "'dave'",
                               NULL, NULL, NULL),
                  SQLITE_OK);
  CU_ASSERT_EQUAL(fops->read(feed, "people", &back, &err), SY_ETYPE);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "column 'age', row 5"));
  sqlite3_close(db);
  /* Appending a frame whose column the table lacks changes nothing. */
  void *add = make_sink("people", 1);
  sy_value *other = NULL;
  CU_ASSERT_FATAL(sy_frame_new(1, &other) == 0);
  double one = 1;
  CU_ASSERT_FATAL(sy_frame_add_f64(other, "extra", &one, NULL) == 0);
  CU_ASSERT_EQUAL(sops->write(add, "x", other, &err), SY_EINVAL);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "no column 'extra'"));
  sy_value_unref(other);
  sink_sqlite_provider.destroy(add);
  feed_sqlite_provider.destroy(feed);
  sink_sqlite_provider.destroy(sink);
  sy_value_unref(t);
}

int main(void) {
  static const CU_TestInfo tests[] = {
      {"apply: where, order, limit, columns", test_apply_where_order_limit},
      {"apply: unknown column, type mismatch", test_apply_errors},
      {"pushdown parameter round trip", test_param_round_trip},
      {"flow: source pushdown keys", test_flow_pushdown},
      {"sqlite: sink, feed, query, fingerprint", test_sqlite_round_trip},
      CU_TEST_INFO_NULL,
  };
  return fx_run_suite("sql", suite_init, suite_clean, tests);
}
