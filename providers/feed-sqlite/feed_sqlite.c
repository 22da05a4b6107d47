/*
 * feed_sqlite.c - feed "sqlite": tables of an SQLite database file.
 *
 * Every call opens the database read-only (SQLITE_OPEN_READONLY, so a
 * feed can never change it and a missing file is an error rather than a
 * new empty database), waits up to `busy_timeout` for a writer's lock,
 * and closes it again: an instance holds no connection between steps.
 *
 * Types come from each column's declared type, by SQLite's affinity rules
 * (https://sqlite.org/datatype3.html 3.1): INT -> i64; CHAR, CLOB, TEXT ->
 * string; REAL, FLOA, DOUB and NUMERIC-like -> f64. A column declared
 * with none (or BLOB) takes the type of its first non-null value. A cell
 * that does not fit its column (text in an INTEGER column) fails the read
 * naming the table, column and row: never a silently wrong value.
 *
 * query() (ABI 1.4) pushes the flow's pushdown into one SELECT: columns
 * and names are checked against the table's columns first, quoted as
 * identifiers (sqlite3_mprintf "%w"), and every value is bound as a
 * parameter (sqlite3_bind_*), never written into the SQL text. Strings
 * compare with COLLATE BINARY (bytewise, as sy_feed_query_apply), order
 * keys sort NULLS LAST and ties by rowid (the table's order), so the rows
 * are exactly those the csv feed gives for the same data.
 *
 * fingerprint() hashes the table's content as stored: its schema, then
 * every cell's storage class and bytes, in rowid order. It changes exactly
 * when a row of that table does, and not when other tables of the same
 * file change, so a cached step over one table survives writes to the
 * others.
 */
#include "feed_sqlite.h"

#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <switchyard/hash.h>

typedef struct feed_sqlite {
  const char *path;
  int busy_ms;
} feed_sqlite;

#define FINGERPRINT_TAG "feed-sqlite/1"

typedef struct sq_column {
  char *name;
  sy_col_type type; /* 0 until known */
} sq_column;

typedef struct table_info {
  sq_column *cols;
  size_t n;
  int has_rowid;
} table_info;

static void info_free(table_info *t) {
  for (size_t i = 0; i < t->n; i++)
    free(t->cols[i].name);
  free(t->cols);
  memset(t, 0, sizeof *t);
}

/* An SQLite failure as a switchyard error: a busy database, a missing
 * file and a corrupt one each say what to do. */
static int db_error(const feed_sqlite *f, sqlite3 *db, int src,
                    const char *what, sy_error *err) {
  int code = src & 0xff;
  const char *msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(src);
  if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
    return sy_error_set(err, SY_ETIMEOUT,
                        "database '%s' is locked by another connection "
                        "(waited %d ms): retry when its write is done, or "
                        "raise busy_timeout",
                        f->path, f->busy_ms);
  if (code == SQLITE_CANTOPEN)
    return sy_error_set(err, SY_ENOENT,
                        "database '%s' cannot be opened (%s): check the "
                        "feed's path",
                        f->path, msg);
  if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT)
    return sy_error_set(err, SY_ECORRUPT, "'%s' is not a valid database: %s",
                        f->path, msg);
  if (code == SQLITE_NOMEM)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  return sy_error_set(err, SY_EIO, "database '%s': %s: %s", f->path, what, msg);
}

static int open_db(const feed_sqlite *f, sqlite3 **db, sy_error *err) {
  struct stat st;
  *db = NULL;
  if (stat(f->path, &st) != 0)
    return sy_error_set(err, errno == ENOENT ? SY_ENOENT : SY_EIO,
                        "database '%s': %s%s", f->path, strerror(errno),
                        errno == ENOENT ? " (check the feed's path; "
                                          "sink.sqlite creates one)"
                                        : "");
  int rc = sqlite3_open_v2(f->path, db,
                           SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc != SQLITE_OK) {
    rc = db_error(f, *db, rc, "open", err);
    sqlite3_close(*db);
    *db = NULL;
    return rc;
  }
  sqlite3_busy_timeout(*db, f->busy_ms);
  return 0;
}

/* The affinity of a declared type (sqlite.org/datatype3.html, 3.1). */
static sy_col_type affinity(const char *decl) {
  if (!decl || !*decl)
    return 0;
  char up[128];
  size_t n = 0;
  for (; decl[n] && n + 1 < sizeof up; n++)
    up[n] = (char)(decl[n] >= 'a' && decl[n] <= 'z' ? decl[n] - 32 : decl[n]);
  up[n] = '\0';
  if (strstr(up, "INT"))
    return SY_COL_I64;
  if (strstr(up, "CHAR") || strstr(up, "CLOB") || strstr(up, "TEXT"))
    return SY_COL_STR;
  if (strstr(up, "BLOB"))
    return 0;
  return SY_COL_F64; /* REAL, FLOA, DOUB, NUMERIC and the rest */
}

/* "no table 'x' in 'db' (tables: a, b)". */
static int no_table(const feed_sqlite *f, sqlite3 *db, const char *table,
                    sy_error *err) {
  char list[512] = "";
  size_t used = 0;
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db,
                         "SELECT name FROM sqlite_schema WHERE type IN "
                         "('table','view') AND name NOT LIKE 'sqlite_%' "
                         "ORDER BY name",
                         -1, &st, NULL) == SQLITE_OK) {
    while (sqlite3_step(st) == SQLITE_ROW && used < sizeof list) {
      int k = snprintf(list + used, sizeof list - used, "%s%s",
                       used ? ", " : "", sqlite3_column_text(st, 0));
      if (k < 0)
        break;
      used += (size_t)k;
    }
  }
  sqlite3_finalize(st);
  return sy_error_set(err, SY_ENOENT, "no table '%s' in database '%s' (%s%s)",
                      table, f->path, used ? "tables: " : "it has no tables",
                      list);
}

/* The table's columns with their declared types. */
static int table_info_read(const feed_sqlite *f, sqlite3 *db, const char *table,
                           table_info *t, sy_error *err) {
  sqlite3_stmt *st = NULL;
  memset(t, 0, sizeof *t);
  int rc = sqlite3_prepare_v2(
      db, "SELECT name, type FROM pragma_table_info(?1)", -1, &st, NULL);
  if (rc != SQLITE_OK)
    return db_error(f, db, rc, "reading the schema", err);
  sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
  size_t cap = 0;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (t->n == cap) {
      cap = cap ? cap * 2 : 16;
      sq_column *c = realloc(t->cols, cap * sizeof *c);
      if (!c) {
        rc = SQLITE_NOMEM;
        break;
      }
      t->cols = c;
    }
    const char *name = (const char *)sqlite3_column_text(st, 0);
    t->cols[t->n].name = strdup(name ? name : "");
    t->cols[t->n].type = affinity((const char *)sqlite3_column_text(st, 1));
    if (!t->cols[t->n].name) {
      rc = SQLITE_NOMEM;
      break;
    }
    t->n++;
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) {
    info_free(t);
    return db_error(f, db, rc, "reading the schema", err);
  }
  if (t->n == 0)
    return no_table(f, db, table, err);
  /* Whether "rowid" names the table's own order (not a WITHOUT ROWID
   * table, a view, or a table with a column of that name). */
  char *sql = sqlite3_mprintf("SELECT rowid FROM \"%w\" LIMIT 0", table);
  t->has_rowid = sql && sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK;
  sqlite3_finalize(st);
  sqlite3_free(sql);
  for (size_t i = 0; i < t->n && t->has_rowid; i++)
    if (strcasecmp(t->cols[i].name, "rowid") == 0)
      t->has_rowid = 0;
  return 0;
}

/* Columns declared without a type: the type of the first non-null value
 * (string when every value is null). */
static int infer_types(const feed_sqlite *f, sqlite3 *db, const char *table,
                       table_info *t, sy_error *err) {
  for (size_t i = 0; i < t->n; i++) {
    if (t->cols[i].type)
      continue;
    sqlite3_stmt *st = NULL;
    char *sql = sqlite3_mprintf(
        "SELECT typeof(\"%w\") FROM \"%w\" WHERE \"%w\" IS NOT NULL LIMIT 1",
        t->cols[i].name, table, t->cols[i].name);
    if (!sql)
      return sy_error_set(err, SY_ENOMEM, "out of memory");
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    sqlite3_free(sql);
    if (rc != SQLITE_OK)
      return db_error(f, db, rc, "reading column types", err);
    rc = sqlite3_step(st);
    const char *ty =
        rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : "text";
    t->cols[i].type = strcmp(ty, "integer") == 0 ? SY_COL_I64
                      : strcmp(ty, "real") == 0  ? SY_COL_F64
                                                 : SY_COL_STR;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
      return db_error(f, db, rc, "reading column types", err);
  }
  return 0;
}

static long find_col(const table_info *t, const char *name) {
  for (size_t i = 0; i < t->n; i++)
    if (strcmp(t->cols[i].name, name) == 0)
      return (long)i;
  return -1;
}

static int unknown_column(const table_info *t, const char *table,
                          const char *what, const char *name, sy_error *err) {
  char list[512] = "";
  size_t used = 0;
  for (size_t i = 0; i < t->n && used < sizeof list; i++) {
    int k = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
                     t->cols[i].name);
    if (k < 0)
      break;
    used += (size_t)k;
  }
  return sy_error_set(err, SY_EINVAL,
                      "%s: table '%s' has no column '%s' (columns: %s)", what,
                      table, name, list);
}

static const char *type_name(sy_col_type t) {
  return t == SY_COL_F64 ? "f64" : t == SY_COL_I64 ? "i64" : "string";
}

/* SELECT for table t with query q (NULL: everything). The output columns'
 * indices into t go to sel[] (*n_sel of them). sqlite3_free the text. */
static int build_select(const table_info *t, const char *table,
                        const sy_feed_query *q, size_t *sel, size_t *n_sel,
                        char **out, sy_error *err) {
  sqlite3_str *s = sqlite3_str_new(NULL);
  *out = NULL;
  *n_sel = 0;
  size_t n = q && q->n_columns ? q->n_columns : t->n;
  for (size_t i = 0; i < n; i++) {
    long c = q && q->n_columns ? find_col(t, q->columns[i]) : (long)i;
    if (c < 0) {
      sqlite3_free(sqlite3_str_finish(s));
      return unknown_column(t, table, "columns", q->columns[i], err);
    }
    sel[(*n_sel)++] = (size_t)c;
    sqlite3_str_appendf(s, "%s\"%w\"", i ? ", " : "SELECT ", t->cols[c].name);
  }
  sqlite3_str_appendf(s, " FROM \"%w\"", table);
  for (size_t i = 0; q && i < q->n_where; i++) {
    const sy_feed_cond *w = &q->where[i];
    long c = find_col(t, w->column);
    if (c < 0) {
      sqlite3_free(sqlite3_str_finish(s));
      return unknown_column(t, table, "where", w->column, err);
    }
    sy_col_type ct = t->cols[c].type;
    if ((ct == SY_COL_STR) != (w->type == SY_COL_STR)) {
      sqlite3_free(sqlite3_str_finish(s));
      return sy_error_set(err, SY_ETYPE,
                          "where: column '%s' of table '%s' is %s, but the "
                          "value compared with it is %s",
                          w->column, table, type_name(ct),
                          w->type == SY_COL_STR ? "a string" : "a number");
    }
    sqlite3_str_appendf(s, "%s\"%w\" %s ?%d%s", i ? " AND " : " WHERE ",
                        t->cols[c].name, sy_cmp_sql(w->op), (int)i + 1,
                        ct == SY_COL_STR ? " COLLATE BINARY" : "");
  }
  size_t n_order = q ? q->n_order : 0;
  for (size_t i = 0; i < n_order; i++) {
    long c = find_col(t, q->order[i].column);
    if (c < 0) {
      sqlite3_free(sqlite3_str_finish(s));
      return unknown_column(t, table, "order", q->order[i].column, err);
    }
    sqlite3_str_appendf(s, "%s\"%w\"%s %s NULLS LAST", i ? ", " : " ORDER BY ",
                        t->cols[c].name,
                        t->cols[c].type == SY_COL_STR ? " COLLATE BINARY" : "",
                        q->order[i].desc ? "DESC" : "ASC");
  }
  if (t->has_rowid)
    sqlite3_str_appendf(s, "%srowid", n_order ? ", " : " ORDER BY ");
  if (q && q->limit >= 0)
    sqlite3_str_appendf(s, " LIMIT %" PRId64, q->limit);
  if (sqlite3_str_errcode(s) != SQLITE_OK) {
    sqlite3_free(sqlite3_str_finish(s));
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  }
  *out = sqlite3_str_finish(s);
  return 0;
}

static int bind_where(sqlite3_stmt *st, const sy_feed_query *q) {
  int rc = SQLITE_OK;
  for (size_t i = 0; q && i < q->n_where && rc == SQLITE_OK; i++) {
    const sy_feed_cond *w = &q->where[i];
    int k = (int)i + 1;
    if (w->type == SY_COL_STR)
      rc = sqlite3_bind_text(st, k, w->str, -1, SQLITE_STATIC);
    else if (w->type == SY_COL_I64)
      rc = sqlite3_bind_int64(st, k, w->i64);
    else
      rc = sqlite3_bind_double(st, k, w->f64);
  }
  return rc;
}

static const char *class_name(int c) {
  return c == SQLITE_INTEGER ? "an integer"
         : c == SQLITE_FLOAT ? "a real"
         : c == SQLITE_TEXT  ? "text"
                             : "a blob";
}

static int run_query(const feed_sqlite *f, const char *table,
                     const sy_feed_query *q, sy_value **out, sy_error *err) {
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  table_info t = {0};
  size_t *sel = NULL, n_sel = 0;
  char *sql = NULL;
  sy_frame_builder *b = NULL;
  int rc;
  *out = NULL;
  if ((rc = open_db(f, &db, err)) != 0)
    return rc;
  if ((rc = table_info_read(f, db, table, &t, err)) != 0 ||
      (rc = infer_types(f, db, table, &t, err)) != 0)
    goto done;
  sel = malloc((q && q->n_columns ? q->n_columns : t.n) * sizeof *sel + 1);
  if (!sel) {
    rc = sy_error_set(err, SY_ENOMEM, "out of memory");
    goto done;
  }
  if ((rc = build_select(&t, table, q, sel, &n_sel, &sql, err)) != 0)
    goto done;
  int src = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
  if (src == SQLITE_OK)
    src = bind_where(st, q);
  if (src != SQLITE_OK) {
    rc = db_error(f, db, src, "preparing the query", err);
    goto done;
  }
  if ((rc = sy_frame_builder_new(SY_FRAME_GROW, &b)) != 0) {
    rc = sy_error_set(err, rc, "out of memory");
    goto done;
  }
  for (size_t i = 0; i < n_sel; i++)
    sy_frame_builder_column(b, t.cols[sel[i]].name, t.cols[sel[i]].type);
  uint64_t row = 0;
  while ((src = sqlite3_step(st)) == SQLITE_ROW) {
    row++;
    for (size_t i = 0; i < n_sel; i++) {
      int cls = sqlite3_column_type(st, (int)i);
      sy_col_type ty = t.cols[sel[i]].type;
      if (cls == SQLITE_NULL) {
        sy_frame_builder_null(b, i);
      } else if (ty == SY_COL_STR) {
        const unsigned char *s = sqlite3_column_text(st, (int)i);
        sy_frame_builder_strn(b, i, (const char *)s,
                              (size_t)sqlite3_column_bytes(st, (int)i));
      } else if (ty == SY_COL_I64 && cls == SQLITE_INTEGER) {
        sy_frame_builder_i64(b, i, sqlite3_column_int64(st, (int)i));
      } else if (ty == SY_COL_F64 &&
                 (cls == SQLITE_FLOAT || cls == SQLITE_INTEGER)) {
        sy_frame_builder_f64(b, i, sqlite3_column_double(st, (int)i));
      } else {
        rc = sy_error_set(err, SY_ETYPE,
                          "table '%s', column '%s', row %" PRIu64
                          ": %s value in a %s column; fix the row or read "
                          "the column as text",
                          table, t.cols[sel[i]].name, row, class_name(cls),
                          type_name(ty));
        goto done;
      }
    }
  }
  if (src != SQLITE_DONE) {
    rc = db_error(f, db, src, "reading rows", err);
    goto done;
  }
  rc = sy_frame_builder_finish(b, out, err);
  b = NULL;
done:
  sy_frame_builder_free(b);
  sqlite3_finalize(st);
  sqlite3_free(sql);
  free(sel);
  info_free(&t);
  sqlite3_close(db);
  return rc;
}

static int feed_read(void *self, const char *table, sy_value **out,
                     sy_error *err) {
  return run_query(self, table, NULL, out, err);
}

static int feed_query(void *self, const char *table, const sy_feed_query *q,
                      sy_value **out, sy_error *err) {
  return run_query(self, table, q, out, err);
}

static int feed_describe(void *self, const char *table, sy_column_fn column,
                         void *ud, sy_error *err) {
  const feed_sqlite *f = self;
  sqlite3 *db = NULL;
  table_info t = {0};
  int rc = open_db(f, &db, err);
  if (rc == 0)
    rc = table_info_read(f, db, table, &t, err);
  for (size_t i = 0; rc == 0 && i < t.n; i++)
    rc = column(ud, t.cols[i].name, t.cols[i].type);
  info_free(&t);
  sqlite3_close(db);
  return rc;
}

static int feed_fingerprint(void *self, const char *table, uint8_t key[16],
                            sy_error *err) {
  const feed_sqlite *f = self;
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  table_info t = {0};
  sy_hasher *h = NULL;
  char *sql = NULL;
  int rc = open_db(f, &db, err);
  if (rc != 0)
    return rc;
  if ((rc = table_info_read(f, db, table, &t, err)) != 0)
    goto done;
  if (sy_hasher_new(&h) != 0) {
    rc = sy_error_set(err, SY_ENOMEM, "out of memory");
    goto done;
  }
  sy_hasher_update(h, FINGERPRINT_TAG, sizeof FINGERPRINT_TAG);
  for (size_t i = 0; i < t.n; i++) {
    uint8_t ty = (uint8_t)t.cols[i].type;
    sy_hasher_update(h, t.cols[i].name, strlen(t.cols[i].name) + 1);
    sy_hasher_update(h, &ty, 1);
  }
  sql = t.has_rowid
            ? sqlite3_mprintf("SELECT * FROM \"%w\" ORDER BY rowid", table)
            : sqlite3_mprintf("SELECT * FROM \"%w\"", table);
  int src = sql ? sqlite3_prepare_v2(db, sql, -1, &st, NULL) : SQLITE_NOMEM;
  while (src == SQLITE_OK || src == SQLITE_ROW) {
    if ((src = sqlite3_step(st)) != SQLITE_ROW)
      break;
    int nc = sqlite3_column_count(st);
    for (int c = 0; c < nc; c++) {
      uint8_t cls = (uint8_t)sqlite3_column_type(st, c);
      sy_hasher_update(h, &cls, 1);
      if (cls == SQLITE_INTEGER) {
        int64_t v = sqlite3_column_int64(st, c);
        sy_hasher_update(h, &v, sizeof v);
      } else if (cls == SQLITE_FLOAT) {
        double v = sqlite3_column_double(st, c);
        sy_hasher_update(h, &v, sizeof v);
      } else if (cls != SQLITE_NULL) {
        const void *p = cls == SQLITE_TEXT
                            ? (const void *)sqlite3_column_text(st, c)
                            : sqlite3_column_blob(st, c);
        uint64_t len = (uint64_t)sqlite3_column_bytes(st, c);
        sy_hasher_update(h, &len, sizeof len);
        if (len)
          sy_hasher_update(h, p, (size_t)len);
      }
    }
  }
  if (src != SQLITE_DONE) {
    rc = db_error(f, db, src, "hashing the table", err);
    goto done;
  }
  sy_hasher_digest(h, key);
done:
  sy_hasher_free(h);
  sqlite3_finalize(st);
  sqlite3_free(sql);
  info_free(&t);
  sqlite3_close(db);
  return rc;
}

static int feed_create(const void *config, void **self, sy_error *err) {
  const feed_sqlite_config *cfg = config;
  if (!cfg->path || !*cfg->path)
    return sy_error_set(err, SY_ECONFIG, "path: a database file is required");
  feed_sqlite *f = calloc(1, sizeof *f);
  if (!f)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  f->path = cfg->path;
  int64_t ms = cfg->busy_timeout / 1000000;
  f->busy_ms = ms > INT32_MAX ? INT32_MAX : (int)ms;
  *self = f;
  return 0;
}

static void feed_destroy(void *self) {
  free(self);
}

static const sy_feed_ops feed_ops = {
    sizeof(sy_feed_ops), feed_read, feed_fingerprint, feed_describe, feed_query,
};

static const sy_option feed_options[] = {
    {"path", SY_OPT_PATH, SY_OPT_REQUIRED, NULL, NULL, NULL, NULL,
     offsetof(feed_sqlite_config, path),
     "The SQLite database file, opened read-only (it must exist); relative "
     "to the config file that sets it."},
    {"busy_timeout", SY_OPT_DURATION, 0, "5s", "0s", "1h", NULL,
     offsetof(feed_sqlite_config, busy_timeout),
     "How long to wait for another connection's write lock before failing "
     "with 'database is locked'."},
    SY_OPTION_END,
};

const sy_provider feed_sqlite_provider = {
    sizeof(sy_provider),
    SY_KIND_FEED,
    "sqlite",
    "1.0.0",
    "Reads tables from an SQLite database file, pushing the flow's columns, "
    "where, order and limit into the query (values bound as parameters). "
    "Cache key: a hash of the table's rows, so a cached step is reused "
    "until that table changes. The key is computed when the flow is "
    "compiled, before the run: a missing table or a database locked past "
    "busy_timeout stops `run` then, with exit 2 and nothing run.",
    feed_options,
    sizeof(feed_sqlite_config),
    feed_create,
    feed_destroy,
    &feed_ops,
};
