/*
 * sink_sqlite.c - sink "sqlite": each result written to a table of an
 * SQLite database, all rows or none.
 *
 * The table is `table` with "{name}" replaced by the flow node's name. One
 * write is one transaction (BEGIN IMMEDIATE ... COMMIT): with mode
 * "replace" the table is dropped and created again from the frame's
 * columns (f64 REAL, i64 INTEGER, string TEXT); with "append" it is
 * created when missing and the rows are added, after checking that the
 * table has every column of the frame with a matching type. Any failure
 * rolls back; a killed process leaves SQLite's rollback journal, which
 * the next connection replays, so readers see the table as it was before
 * or as it is after, never in between. Identifiers are quoted (sqlite3
 * "%w") and cells are bound as parameters.
 *
 * The database file is created when missing (its folder must exist). A
 * connection is opened per write and closed after it.
 */
#include "sink_sqlite.h"

#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct sink_sqlite {
  const char *path;
  const char *table;
  int append;
  int busy_ms;
} sink_sqlite;

static const char *const modes[] = {"replace", "append", NULL};

static int db_error(const sink_sqlite *s, sqlite3 *db, int src,
                    const char *table, const char *what, sy_error *err) {
  int code = src & 0xff;
  const char *msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(src);
  if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
    return sy_error_set(err, SY_ETIMEOUT,
                        "database '%s' is locked by another connection "
                        "(waited %d ms); table '%s' is unchanged: retry when "
                        "its write is done, or raise busy_timeout",
                        s->path, s->busy_ms, table);
  if (code == SQLITE_CANTOPEN)
    return sy_error_set(err, SY_ENOENT,
                        "database '%s' cannot be opened (%s): its folder must "
                        "exist and be writable",
                        s->path, msg);
  if (code == SQLITE_READONLY)
    return sy_error_set(err, SY_EPERM, "database '%s' is read-only: %s",
                        s->path, msg);
  if (code == SQLITE_NOMEM)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  return sy_error_set(err, SY_EIO,
                      "database '%s', table '%s': %s: %s; the table is "
                      "unchanged",
                      s->path, table, what, msg);
}

static int exec(sqlite3 *db, const char *sql) {
  return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

static int table_name(const char *pattern, const char *name, char **out,
                      sy_error *err) {
  static const char key[] = "{name}";
  const size_t klen = sizeof key - 1;
  sy_buf b = SY_BUF_INIT;
  for (const char *p = pattern; *p;) {
    if (strncmp(p, key, klen) == 0) {
      if (!name || !*name)
        return sy_error_set(err, SY_EINVAL, "table: {name} without a name");
      sy_buf_puts(&b, name);
      p += klen;
    } else {
      sy_buf_add(&b, p++, 1);
    }
  }
  if (!b.data && sy_buf_puts(&b, "") != 0)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  if (!b.data) {
    sy_buf_free(&b);
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  }
  *out = b.data;
  return 0;
}

static const char *sql_type(sy_col_type t) {
  return t == SY_COL_F64 ? "REAL" : t == SY_COL_I64 ? "INTEGER" : "TEXT";
}

static const char *type_name(sy_col_type t) {
  return t == SY_COL_F64 ? "f64" : t == SY_COL_I64 ? "i64" : "string";
}

/* Appending: the table's columns must hold the frame's. Returns 1 when the
 * table exists, 0 when not, or < 0. */
static int check_existing(const sink_sqlite *s, sqlite3 *db, const char *table,
                          const sy_value *v, sy_error *err) {
  sqlite3_stmt *st = NULL;
  int src = sqlite3_prepare_v2(
      db, "SELECT name, upper(type) FROM pragma_table_info(?1)", -1, &st, NULL);
  if (src != SQLITE_OK)
    return db_error(s, db, src, table, "reading the schema", err);
  sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
  size_t cols = sy_frame_cols(v), seen = 0, found = 0;
  char *have = calloc(cols ? cols : 1, 1);
  int rc = 0;
  if (!have) {
    sqlite3_finalize(st);
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  }
  while ((src = sqlite3_step(st)) == SQLITE_ROW) {
    seen++;
    const char *name = (const char *)sqlite3_column_text(st, 0);
    const char *decl = (const char *)sqlite3_column_text(st, 1);
    int c = sy_frame_col_index(v, name ? name : "");
    if (c < 0)
      continue;
    have[c] = 1;
    found++;
    sy_col_type t = sy_frame_col_type(v, (size_t)c);
    int num_decl = decl && (strstr(decl, "INT") || strstr(decl, "REAL") ||
                            strstr(decl, "FLOA") || strstr(decl, "DOUB"));
    int txt_decl = decl && (strstr(decl, "CHAR") || strstr(decl, "TEXT") ||
                            strstr(decl, "CLOB"));
    if (rc == 0 &&
        ((t == SY_COL_STR && num_decl) || (t != SY_COL_STR && txt_decl) ||
         (t == SY_COL_F64 && decl && strstr(decl, "INT"))))
      rc = sy_error_set(err, SY_ETYPE,
                        "table '%s' in '%s': column '%s' is %s, but the "
                        "result's column is %s; write to another table or "
                        "use mode = replace",
                        table, s->path, name, decl, type_name(t));
  }
  sqlite3_finalize(st);
  if (src != SQLITE_DONE && rc == 0)
    rc = db_error(s, db, src, table, "reading the schema", err);
  if (rc == 0 && seen && found < cols) {
    size_t c = 0;
    while (have[c])
      c++;
    rc = sy_error_set(err, SY_EINVAL,
                      "table '%s' in '%s' has no column '%s' to append to; "
                      "write to another table or use mode = replace",
                      table, s->path, sy_frame_col_name(v, c));
  }
  free(have);
  return rc < 0 ? rc : seen > 0;
}

static int insert_rows(const sink_sqlite *s, sqlite3 *db, const char *table,
                       const sy_value *v, sy_error *err) {
  size_t cols = sy_frame_cols(v), rows = sy_frame_rows(v);
  sqlite3_str *q = sqlite3_str_new(db);
  sqlite3_str_appendf(q, "INSERT INTO \"%w\" (", table);
  for (size_t c = 0; c < cols; c++)
    sqlite3_str_appendf(q, "%s\"%w\"", c ? ", " : "", sy_frame_col_name(v, c));
  sqlite3_str_appendall(q, ") VALUES (");
  for (size_t c = 0; c < cols; c++)
    sqlite3_str_appendf(q, "%s?%d", c ? ", " : "", (int)c + 1);
  sqlite3_str_appendall(q, ")");
  char *sql = sqlite3_str_finish(q);
  sqlite3_stmt *st = NULL;
  int src = sql ? sqlite3_prepare_v2(db, sql, -1, &st, NULL) : SQLITE_NOMEM;
  sqlite3_free(sql);
  for (size_t r = 0; src == SQLITE_OK && r < rows; r++) {
    for (size_t c = 0; src == SQLITE_OK && c < cols; c++) {
      int k = (int)c + 1;
      if (sy_frame_is_null(v, c, r))
        src = sqlite3_bind_null(st, k);
      else if (sy_frame_col_type(v, c) == SY_COL_F64)
        src = sqlite3_bind_double(st, k, sy_frame_f64(v, c)[r]);
      else if (sy_frame_col_type(v, c) == SY_COL_I64)
        src = sqlite3_bind_int64(st, k, sy_frame_i64(v, c)[r]);
      else
        src =
            sqlite3_bind_text(st, k, sy_frame_str(v, c, r), -1, SQLITE_STATIC);
    }
    if (src == SQLITE_OK)
      src = sqlite3_step(st);
    if (src == SQLITE_DONE)
      src = sqlite3_reset(st);
  }
  sqlite3_finalize(st);
  if (src != SQLITE_OK)
    return db_error(s, db, src, table, "inserting rows", err);
  return 0;
}

static int sink_write(void *self, const char *name, const sy_value *value,
                      sy_error *err) {
  const sink_sqlite *s = self;
  char *table = NULL, *sql = NULL;
  sqlite3 *db = NULL;
  int rc, src, began = 0;
  if (sy_value_type_of(value) != SY_VALUE_FRAME)
    return sy_error_set(err, SY_ETYPE,
                        "'%s' is not a table (bytes cannot be written to a "
                        "database; use sink.csv)",
                        name ? name : "value");
  if (sy_frame_cols(value) == 0)
    return sy_error_set(err, SY_EINVAL,
                        "'%s' has no columns: a table needs at least one",
                        name ? name : "value");
  if ((rc = table_name(s->table, name, &table, err)) != 0)
    return rc;
  src = sqlite3_open_v2(
      s->path, &db,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
  if (src != SQLITE_OK) {
    rc = db_error(s, db, src, table, "open", err);
    goto done;
  }
  sqlite3_busy_timeout(db, s->busy_ms);
  if ((src = exec(db, "BEGIN IMMEDIATE")) != SQLITE_OK) {
    rc = db_error(s, db, src, table, "starting a transaction", err);
    goto done;
  }
  began = 1;
  int exists = 0;
  if (s->append && (exists = check_existing(s, db, table, value, err)) < 0) {
    rc = exists;
    goto done;
  }
  if (!s->append) {
    sql = sqlite3_mprintf("DROP TABLE IF EXISTS \"%w\"", table);
    if ((src = sql ? exec(db, sql) : SQLITE_NOMEM) != SQLITE_OK) {
      rc = db_error(s, db, src, table, "dropping the old table", err);
      goto done;
    }
    sqlite3_free(sql);
    sql = NULL;
  }
  if (!exists) {
    sqlite3_str *q = sqlite3_str_new(db);
    sqlite3_str_appendf(q, "CREATE TABLE \"%w\" (", table);
    for (size_t c = 0; c < sy_frame_cols(value); c++)
      sqlite3_str_appendf(q, "%s\"%w\" %s", c ? ", " : "",
                          sy_frame_col_name(value, c),
                          sql_type(sy_frame_col_type(value, c)));
    sqlite3_str_appendall(q, ")");
    sql = sqlite3_str_finish(q);
    if ((src = sql ? exec(db, sql) : SQLITE_NOMEM) != SQLITE_OK) {
      rc = db_error(s, db, src, table, "creating the table", err);
      goto done;
    }
  }
  if ((rc = insert_rows(s, db, table, value, err)) != 0)
    goto done;
  if ((src = exec(db, "COMMIT")) != SQLITE_OK) {
    rc = db_error(s, db, src, table, "committing", err);
    goto done;
  }
  began = 0;
done:
  if (began)
    exec(db, "ROLLBACK");
  sqlite3_free(sql);
  sqlite3_close(db);
  free(table);
  return rc;
}

static int sink_create(const void *config, void **self, sy_error *err) {
  const sink_sqlite_config *cfg = config;
  if (!cfg->path || !*cfg->path)
    return sy_error_set(err, SY_ECONFIG, "path: a database file is required");
  if (!cfg->table || !*cfg->table)
    return sy_error_set(err, SY_ECONFIG, "table: a table name is required");
  sink_sqlite *s = calloc(1, sizeof *s);
  if (!s)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  s->path = cfg->path;
  s->table = cfg->table;
  s->append = cfg->mode == 1;
  int64_t ms = cfg->busy_timeout / 1000000;
  s->busy_ms = ms > INT32_MAX ? INT32_MAX : (int)ms;
  *self = s;
  return 0;
}

static void sink_destroy(void *self) {
  free(self);
}

static const sy_sink_ops sink_ops = {
    sizeof(sy_sink_ops),
    sink_write,
};

static const sy_option sink_options[] = {
    {"path", SY_OPT_PATH, SY_OPT_REQUIRED, NULL, NULL, NULL, NULL,
     offsetof(sink_sqlite_config, path),
     "The SQLite database file, created when missing (its folder must "
     "exist); relative to the config file that sets it."},
    {"table", SY_OPT_STRING, 0, "{name}", NULL, NULL, NULL,
     offsetof(sink_sqlite_config, table),
     "Table to write; {name} is replaced by the flow node's name. Created "
     "from the result's columns when missing (f64 REAL, i64 INTEGER, "
     "string TEXT)."},
    {"mode", SY_OPT_ENUM, 0, "replace", NULL, NULL, modes,
     offsetof(sink_sqlite_config, mode),
     "replace: the table becomes the result; append: the result's rows are "
     "added (the table must have its columns). Either way in one "
     "transaction: all rows or none."},
    {"busy_timeout", SY_OPT_DURATION, 0, "5s", "0s", "1h", NULL,
     offsetof(sink_sqlite_config, busy_timeout),
     "How long to wait for another connection's lock before failing with "
     "'database is locked'."},
    SY_OPTION_END,
};

const sy_provider sink_sqlite_provider = {
    sizeof(sy_provider),
    SY_KIND_SINK,
    "sqlite",
    "1.0.0",
    "Writes each result to a table of an SQLite database in one "
    "transaction (all rows or none; a killed run leaves the table as it "
    "was).",
    sink_options,
    sizeof(sink_sqlite_config),
    sink_create,
    sink_destroy,
    &sink_ops,
};
