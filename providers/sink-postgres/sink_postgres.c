/*
 * sink_postgres.c - sink "postgres": each result written to a table of a
 * PostgreSQL database, all rows or none.
 *
 * One write is one transaction: BEGIN; with mode "replace" DROP TABLE IF
 * EXISTS and CREATE TABLE from the frame's columns (f64 DOUBLE PRECISION,
 * i64 BIGINT, string TEXT); with "append" CREATE TABLE IF NOT EXISTS, then
 * a check that the table has every column of the frame with a fitting
 * type; then the rows through COPY ... FROM STDIN (text format, each cell
 * escaped as that format wants: the data never becomes SQL text); COMMIT.
 * Any failure rolls back, and a killed process or a lost connection
 * leaves the transaction uncommitted, which the server discards: the
 * table is as it was before or as it is after, never in between. Names
 * are quoted with PQescapeIdentifier.
 */
#include "sink_postgres.h"

#include <inttypes.h>
#include <libpq-fe.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct sink_pg {
  const char *conninfo;
  const char *password;
  const char *table;
  int append;
  char timeout[32];
} sink_pg;

static const char *const modes[] = {"replace", "append", NULL};

static const char *first_line(const char *msg, char *buf, size_t cap) {
  snprintf(buf, cap, "%s", msg ? msg : "");
  buf[strcspn(buf, "\n")] = '\0';
  return buf;
}

static int connect_db(const sink_pg *s, PGconn **out, sy_error *err) {
  const char *keys[5] = {"dbname", "connect_timeout", "application_name"};
  const char *vals[5] = {s->conninfo, s->timeout, "switchyard"};
  if (s->password && *s->password) {
    keys[3] = "password";
    vals[3] = s->password;
  }
  PGconn *c = PQconnectdbParams(keys, vals, 1);
  *out = NULL;
  if (!c)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  if (PQstatus(c) != CONNECTION_OK) {
    char line[512];
    const char *m = first_line(PQerrorMessage(c), line, sizeof line);
    int auth = PQconnectionUsedPassword(c) || strstr(m, "authentication") ||
               strstr(m, "password");
    int rc =
        sy_error_set(err, auth ? SY_EPERM : SY_EIO,
                     "cannot connect to PostgreSQL (%s): %s", m,
                     auth ? "check the user in conninfo and the password option"
                          : "check conninfo and that the server is running");
    PQfinish(c);
    return rc;
  }
  *out = c;
  return 0;
}

static int fail_stmt(PGconn *c, PGresult *r, const char *table,
                     const char *what, sy_error *err) {
  char line[512];
  if (PQstatus(c) == CONNECTION_BAD)
    return sy_error_set(err, SY_EIO,
                        "lost the connection to PostgreSQL while %s table "
                        "'%s' (%s); the table is unchanged: run again",
                        what, table,
                        first_line(PQerrorMessage(c), line, sizeof line));
  const char *msg = r ? PQresultErrorMessage(r) : PQerrorMessage(c);
  if (!msg || !*msg)
    msg = PQerrorMessage(c);
  return sy_error_set(err, SY_EIO, "%s table '%s': %s; the table is unchanged",
                      what, table, first_line(msg, line, sizeof line));
}

static int exec_ok(PGconn *c, const char *sql, const char *table,
                   const char *what, sy_error *err) {
  PGresult *r = PQexec(c, sql);
  int rc = PQresultStatus(r) == PGRES_COMMAND_OK
               ? 0
               : fail_stmt(c, r, table, what, err);
  PQclear(r);
  return rc;
}

static int add_ident(PGconn *c, sy_buf *b, const char *name) {
  char *q = PQescapeIdentifier(c, name, strlen(name));
  if (!q)
    return SY_EINVAL;
  int rc = sy_buf_puts(b, q);
  PQfreemem(q);
  return rc;
}

static const char *type_name(sy_col_type t) {
  return t == SY_COL_F64 ? "f64" : t == SY_COL_I64 ? "i64" : "string";
}

/* Appending: every column of the frame must be a column of the table with
 * a type its values fit. */
static int check_columns(PGconn *c, const char *table, const char *ident,
                         const sy_value *v, sy_error *err) {
  const char *params[1] = {ident};
  PGresult *r = PQexecParams(
      c,
      "SELECT a.attname, format_type(a.atttypid, NULL) FROM pg_attribute a "
      "WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT "
      "a.attisdropped",
      1, NULL, params, NULL, NULL, 0);
  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    int rc = fail_stmt(c, r, table, "reading the columns of", err);
    PQclear(r);
    return rc;
  }
  int rc = 0;
  for (size_t col = 0; rc == 0 && col < sy_frame_cols(v); col++) {
    const char *name = sy_frame_col_name(v, col);
    sy_col_type t = sy_frame_col_type(v, col);
    int found = -1;
    for (int i = 0; i < PQntuples(r) && found < 0; i++)
      if (strcmp(PQgetvalue(r, i, 0), name) == 0)
        found = i;
    if (found < 0) {
      rc = sy_error_set(err, SY_EINVAL,
                        "table '%s' has no column '%s' to append to; write "
                        "to another table or use mode = replace",
                        table, name);
      break;
    }
    const char *ty = PQgetvalue(r, found, 1);
    int is_int = strcmp(ty, "bigint") == 0 || strcmp(ty, "integer") == 0 ||
                 strcmp(ty, "smallint") == 0;
    int is_num = is_int || strcmp(ty, "double precision") == 0 ||
                 strcmp(ty, "real") == 0 || strcmp(ty, "numeric") == 0;
    int is_text = strcmp(ty, "text") == 0 ||
                  strcmp(ty, "character varying") == 0 ||
                  strcmp(ty, "character") == 0;
    if ((t == SY_COL_STR && !is_text) || (t == SY_COL_I64 && !is_num) ||
        (t == SY_COL_F64 && (!is_num || is_int)))
      rc = sy_error_set(err, SY_ETYPE,
                        "table '%s': column '%s' is %s, but the result's "
                        "column is %s; write to another table or use mode = "
                        "replace",
                        table, name, ty, type_name(t));
  }
  PQclear(r);
  return rc;
}

/* One cell in COPY's text format. */
static int put_cell(sy_buf *b, const sy_value *v, size_t c, size_t r) {
  if (sy_frame_is_null(v, c, r))
    return sy_buf_puts(b, "\\N");
  sy_col_type t = sy_frame_col_type(v, c);
  if (t == SY_COL_I64)
    return sy_buf_printf(b, "%" PRId64, sy_frame_i64(v, c)[r]);
  if (t == SY_COL_F64) {
    double d = sy_frame_f64(v, c)[r];
    if (isnan(d))
      return sy_buf_puts(b, "NaN");
    if (isinf(d))
      return sy_buf_puts(b, d > 0 ? "Infinity" : "-Infinity");
    return sy_buf_printf(b, "%.17g", d);
  }
  int rc = 0;
  for (const char *p = sy_frame_str(v, c, r); *p && rc == 0; p++) {
    switch (*p) {
    case '\\':
      rc = sy_buf_puts(b, "\\\\");
      break;
    case '\t':
      rc = sy_buf_puts(b, "\\t");
      break;
    case '\n':
      rc = sy_buf_puts(b, "\\n");
      break;
    case '\r':
      rc = sy_buf_puts(b, "\\r");
      break;
    default:
      rc = sy_buf_add(b, p, 1);
    }
  }
  return rc;
}

static int copy_rows(PGconn *c, const char *table, const char *ident,
                     const sy_value *v, sy_error *err) {
  sy_buf b = SY_BUF_INIT;
  size_t cols = sy_frame_cols(v), rows = sy_frame_rows(v);
  int rc = sy_buf_printf(&b, "COPY %s (", ident);
  for (size_t col = 0; col < cols; col++) {
    rc |= sy_buf_puts(&b, col ? ", " : "");
    rc |= add_ident(c, &b, sy_frame_col_name(v, col));
  }
  rc |= sy_buf_puts(&b, ") FROM STDIN");
  if (rc) {
    sy_buf_free(&b);
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  }
  PGresult *res = PQexec(c, b.data);
  if (PQresultStatus(res) != PGRES_COPY_IN) {
    rc = fail_stmt(c, res, table, "copying rows into", err);
    PQclear(res);
    sy_buf_free(&b);
    return rc;
  }
  PQclear(res);
  sy_buf_reset(&b);
  int sent = 1;
  for (size_t r = 0; r < rows && sent == 1 && rc == 0; r++) {
    for (size_t col = 0; col < cols && rc == 0; col++) {
      if (col)
        rc = sy_buf_add(&b, "\t", 1);
      if (rc == 0)
        rc = put_cell(&b, v, col, r);
    }
    if (rc == 0)
      rc = sy_buf_add(&b, "\n", 1);
    if (rc == 0 && (b.len >= 1 << 20 || r + 1 == rows)) {
      sent = PQputCopyData(c, b.data, (int)b.len);
      sy_buf_reset(&b);
    }
  }
  sy_buf_free(&b);
  if (rc) {
    PQputCopyEnd(c, "out of memory");
    PQclear(PQgetResult(c));
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  }
  if (sent != 1 || PQputCopyEnd(c, NULL) != 1)
    return fail_stmt(c, NULL, table, "copying rows into", err);
  res = PQgetResult(c);
  rc = PQresultStatus(res) == PGRES_COMMAND_OK
           ? 0
           : fail_stmt(c, res, table, "copying rows into", err);
  PQclear(res);
  while ((res = PQgetResult(c)) != NULL)
    PQclear(res);
  return rc;
}

static int table_name(const char *pattern, const char *name, char **out,
                      sy_error *err) {
  static const char key[] = "{name}";
  const size_t klen = sizeof key - 1;
  sy_buf b = SY_BUF_INIT;
  int rc = sy_buf_puts(&b, "");
  for (const char *p = pattern; *p && rc == 0;) {
    if (strncmp(p, key, klen) == 0) {
      if (!name || !*name) {
        sy_buf_free(&b);
        return sy_error_set(err, SY_EINVAL, "table: {name} without a name");
      }
      rc = sy_buf_puts(&b, name);
      p += klen;
    } else {
      rc = sy_buf_add(&b, p++, 1);
    }
  }
  if (rc || !b.data) {
    sy_buf_free(&b);
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  }
  *out = b.data;
  return 0;
}

static int sink_write(void *self, const char *name, const sy_value *value,
                      sy_error *err) {
  const sink_pg *s = self;
  PGconn *c = NULL;
  char *table = NULL, *ident = NULL;
  sy_buf sql = SY_BUF_INIT;
  int rc, began = 0;
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
  if ((rc = connect_db(s, &c, err)) != 0)
    goto done;
  if (!(ident = PQescapeIdentifier(c, table, strlen(table)))) {
    rc = sy_error_set(err, SY_EINVAL, "table name '%s': %s", table,
                      PQerrorMessage(c));
    goto done;
  }
  if ((rc = exec_ok(c, "BEGIN", table, "starting a transaction for", err)))
    goto done;
  began = 1;
  if (!s->append) {
    sy_buf_printf(&sql, "DROP TABLE IF EXISTS %s", ident);
    if ((rc = exec_ok(c, sql.data, table, "dropping", err)) != 0)
      goto done;
    sy_buf_reset(&sql);
  }
  rc = sy_buf_printf(&sql, "CREATE TABLE IF NOT EXISTS %s (", ident);
  for (size_t col = 0; col < sy_frame_cols(value); col++) {
    sy_col_type t = sy_frame_col_type(value, col);
    rc |= sy_buf_puts(&sql, col ? ", " : "");
    rc |= add_ident(c, &sql, sy_frame_col_name(value, col));
    rc |= sy_buf_puts(&sql, t == SY_COL_F64   ? " DOUBLE PRECISION"
                            : t == SY_COL_I64 ? " BIGINT"
                                              : " TEXT");
  }
  rc |= sy_buf_puts(&sql, ")");
  if (rc) {
    rc = sy_error_set(err, SY_ENOMEM, "out of memory");
    goto done;
  }
  if ((rc = exec_ok(c, sql.data, table, "creating", err)) != 0)
    goto done;
  if (s->append && (rc = check_columns(c, table, ident, value, err)) != 0)
    goto done;
  if ((rc = copy_rows(c, table, ident, value, err)) != 0)
    goto done;
  began = 0;
  rc = exec_ok(c, "COMMIT", table, "committing", err);
done:
  if (began && c && PQstatus(c) == CONNECTION_OK)
    PQclear(PQexec(c, "ROLLBACK"));
  if (ident)
    PQfreemem(ident);
  sy_buf_free(&sql);
  PQfinish(c);
  free(table);
  return rc;
}

static int sink_create(const void *config, void **self, sy_error *err) {
  const sink_postgres_config *cfg = config;
  if (!cfg->conninfo || !*cfg->conninfo)
    return sy_error_set(err, SY_ECONFIG,
                        "conninfo: a connection string is required, e.g. "
                        "\"host=/run/postgresql dbname=mydb user=me\"");
  if (!cfg->table || !*cfg->table)
    return sy_error_set(err, SY_ECONFIG, "table: a table name is required");
  sink_pg *s = calloc(1, sizeof *s);
  if (!s)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  s->conninfo = cfg->conninfo;
  s->password = cfg->password;
  s->table = cfg->table;
  s->append = cfg->mode == 1;
  int64_t sec = (cfg->connect_timeout + 999999999) / 1000000000;
  snprintf(s->timeout, sizeof s->timeout, "%" PRId64, sec < 1 ? 1 : sec);
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
    {"conninfo", SY_OPT_STRING, SY_OPT_REQUIRED, NULL, NULL, NULL, NULL,
     offsetof(sink_postgres_config, conninfo),
     "libpq connection string (\"host=/run/postgresql dbname=mydb "
     "user=me\" or a postgresql:// URI); put the password in `password`, "
     "not here."},
    {"password", SY_OPT_STRING, SY_OPT_SECRET, "", NULL, NULL, NULL,
     offsetof(sink_postgres_config, password),
     "The password, typically \"${PGPASSWORD_VAR}\" from the environment; "
     "never shown by `switchyard config`."},
    {"table", SY_OPT_STRING, 0, "{name}", NULL, NULL, NULL,
     offsetof(sink_postgres_config, table),
     "Table to write; {name} is replaced by the flow node's name. Created "
     "from the result's columns when missing (f64 DOUBLE PRECISION, i64 "
     "BIGINT, string TEXT)."},
    {"mode", SY_OPT_ENUM, 0, "replace", NULL, NULL, modes,
     offsetof(sink_postgres_config, mode),
     "replace: the table becomes the result; append: the result's rows are "
     "added (the table must have its columns). Either way in one "
     "transaction: all rows or none."},
    {"connect_timeout", SY_OPT_DURATION, 0, "10s", "1s", "10m", NULL,
     offsetof(sink_postgres_config, connect_timeout),
     "How long to wait for the server when connecting."},
    SY_OPTION_END,
};

const sy_provider sink_postgres_provider = {
    sizeof(sy_provider),
    SY_KIND_SINK,
    "postgres",
    "1.0.0",
    "Writes each result to a table of a PostgreSQL database in one "
    "transaction (all rows or none; a killed run leaves the table as it "
    "was).",
    sink_options,
    sizeof(sink_postgres_config),
    sink_create,
    sink_destroy,
    &sink_ops,
};
