/*
 * feed_postgres.c - feed "postgres": tables of a PostgreSQL database.
 *
 * Every call connects (libpq, PQconnectdbParams with `conninfo` as the
 * connection string and `password` apart, so that the password can come
 * from ${VAR} and `switchyard config` redacts it), runs its queries and
 * disconnects: an instance holds no connection between steps.
 *
 * Types come from each column's type: int2/int4/int8 -> i64,
 * float4/float8/numeric -> f64, bool -> i64 (0/1), anything else ->
 * string (its text form). The SELECT casts each column to the one type
 * its frame column holds (int8, float8 or text) and asks for binary
 * results, so values are copied, not parsed from text.
 *
 * query() (ABI 1.4) pushes the pushdown into one SELECT: names are checked
 * against the table's columns and quoted with PQescapeIdentifier, and
 * every value is a parameter of PQexecParams (typed int8, float8 or
 * text), never text of the query. Strings compare and sort COLLATE "C"
 * (bytewise, as sy_feed_query_apply does); order keys sort NULLS LAST with
 * ties in the table's physical order (ctid); without order the session
 * scans sequentially without parallel workers or synchronized scans, so
 * rows come in the table's order. So every feed gives the same rows.
 *
 * Cache keys: a PostgreSQL table changes behind the platform's back, so
 * the feed is volatile (never cached: fingerprint says SY_ENOTSUP) unless
 * `version_column` names a column that grows with every change (the key
 * hashes its maximum and the row count) or `snapshot` names a fixed
 * snapshot of the data (the key hashes that name).
 */
#include "feed_postgres.h"

#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <switchyard/hash.h>

typedef struct feed_pg {
  const char *conninfo;
  const char *password;
  const char *version_column;
  const char *snapshot;
  char timeout[32];
} feed_pg;

#define FINGERPRINT_TAG "feed-postgres/1"

/* Type OIDs (catalog/pg_type.dat; stable across versions). */
#define BOOLOID 16
#define INT8OID 20
#define INT2OID 21
#define INT4OID 23
#define TEXTOID 25
#define FLOAT4OID 700
#define FLOAT8OID 701
#define NUMERICOID 1700

typedef struct pg_col {
  char *name;
  unsigned oid;
  sy_col_type type;
} pg_col;

typedef struct pg_table {
  pg_col *cols;
  size_t n;
  int plain; /* an ordinary table: ctid is its physical order */
} pg_table;

static void table_free(pg_table *t) {
  for (size_t i = 0; i < t->n; i++)
    free(t->cols[i].name);
  free(t->cols);
  memset(t, 0, sizeof *t);
}

/* The first line of libpq's message, without its trailing newline. */
static const char *first_line(const char *msg, char *buf, size_t cap) {
  snprintf(buf, cap, "%s", msg ? msg : "");
  buf[strcspn(buf, "\n")] = '\0';
  return buf;
}

static int connect_db(const feed_pg *f, PGconn **out, sy_error *err) {
  const char *keys[] = {"dbname", "password", "connect_timeout",
                        "application_name", NULL};
  const char *vals[] = {f->conninfo,
                        f->password && *f->password ? f->password : NULL,
                        f->timeout, "switchyard", NULL};
  if (!vals[1]) {
    keys[1] = "connect_timeout";
    vals[1] = f->timeout;
    keys[2] = "application_name";
    vals[2] = "switchyard";
    keys[3] = vals[3] = NULL;
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
  /* Rows in the table's order when no order is asked (see the top). */
  PGresult *r = PQexec(c, "SET max_parallel_workers_per_gather = 0; "
                          "SET synchronize_seqscans = off");
  PQclear(r);
  *out = c;
  return 0;
}

/* A failed statement: a lost connection says so. A backend terminated
 * (pg_terminate_backend, a server shutting down: SQLSTATE class 57P) or a
 * connection failure (class 08) is a lost connection even while libpq
 * still calls the connection OK. */
static int query_error(PGconn *c, PGresult *r, const char *what,
                       sy_error *err) {
  char line[512];
  const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
  if (PQstatus(c) == CONNECTION_BAD ||
      (state &&
       (strncmp(state, "57P", 3) == 0 || strncmp(state, "08", 2) == 0)))
    return sy_error_set(err, SY_EIO,
                        "lost the connection to PostgreSQL while %s (%s): "
                        "check the server and run again",
                        what,
                        first_line(r && *PQresultErrorMessage(r)
                                       ? PQresultErrorMessage(r)
                                       : PQerrorMessage(c),
                                   line, sizeof line));
  const char *msg = r ? PQresultErrorMessage(r) : PQerrorMessage(c);
  return sy_error_set(
      err, state && strncmp(state, "42", 2) == 0 ? SY_EINVAL : SY_EIO, "%s: %s",
      what, first_line(msg, line, sizeof line));
}

static int no_table(PGconn *c, const char *table, sy_error *err) {
  char list[512] = "";
  size_t used = 0;
  PGresult *r = PQexec(c, "SELECT c.relname FROM pg_class c JOIN pg_namespace "
                          "n ON n.oid = c.relnamespace WHERE c.relkind IN "
                          "('r','v','m','p','f') AND n.nspname = "
                          "ANY (current_schemas(false)) ORDER BY 1");
  if (PQresultStatus(r) == PGRES_TUPLES_OK)
    for (int i = 0; i < PQntuples(r) && used < sizeof list; i++) {
      int k = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
                       PQgetvalue(r, i, 0));
      if (k < 0)
        break;
      used += (size_t)k;
    }
  PQclear(r);
  return sy_error_set(err, SY_ENOENT, "no table '%s' in database '%s' (%s%s)",
                      table, PQdb(c), used ? "tables: " : "it has no tables",
                      list);
}

static sy_col_type type_of(unsigned oid) {
  switch (oid) {
  case INT2OID:
  case INT4OID:
  case INT8OID:
  case BOOLOID:
    return SY_COL_I64;
  case FLOAT4OID:
  case FLOAT8OID:
  case NUMERICOID:
    return SY_COL_F64;
  default:
    return SY_COL_STR;
  }
}

/* The table's columns; the table named exactly (quoted identifier). */
static int table_read(PGconn *c, const char *table, pg_table *t,
                      sy_error *err) {
  memset(t, 0, sizeof *t);
  char *ident = PQescapeIdentifier(c, table, strlen(table));
  if (!ident)
    return sy_error_set(err, SY_EINVAL, "table name '%s': %s", table,
                        PQerrorMessage(c));
  const char *params[1] = {ident};
  PGresult *r = PQexecParams(
      c,
      "SELECT a.attname, a.atttypid, c.relkind FROM pg_attribute a JOIN "
      "pg_class c ON c.oid = a.attrelid WHERE a.attrelid = to_regclass($1) "
      "AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
      1, NULL, params, NULL, NULL, 0);
  PQfreemem(ident);
  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    int rc = query_error(c, r, "reading the table's columns", err);
    PQclear(r);
    return rc;
  }
  int n = PQntuples(r);
  if (n == 0) {
    PQclear(r);
    return no_table(c, table, err);
  }
  t->cols = calloc((size_t)n, sizeof *t->cols);
  if (!t->cols) {
    PQclear(r);
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  }
  for (int i = 0; i < n; i++) {
    t->cols[i].name = strdup(PQgetvalue(r, i, 0));
    t->cols[i].oid = (unsigned)strtoul(PQgetvalue(r, i, 1), NULL, 10);
    t->cols[i].type = type_of(t->cols[i].oid);
    t->n++;
    if (!t->cols[i].name) {
      PQclear(r);
      table_free(t);
      return sy_error_set(err, SY_ENOMEM, "out of memory");
    }
  }
  t->plain = strcmp(PQgetvalue(r, 0, 2), "r") == 0;
  PQclear(r);
  return 0;
}

static long find_col(const pg_table *t, const char *name) {
  for (size_t i = 0; i < t->n; i++)
    if (strcmp(t->cols[i].name, name) == 0)
      return (long)i;
  return -1;
}

static int unknown_column(const pg_table *t, const char *table,
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

/* Appends a quoted identifier. */
static int add_ident(PGconn *c, sy_buf *b, const char *name) {
  char *q = PQescapeIdentifier(c, name, strlen(name));
  if (!q)
    return SY_EINVAL;
  int rc = sy_buf_puts(b, q);
  PQfreemem(q);
  return rc;
}

typedef struct select_stmt {
  sy_buf sql;
  size_t *sel, n_sel;
  const char **values;
  Oid *types;
  char (*texts)[40];
} select_stmt;

static void select_free(select_stmt *s) {
  sy_buf_free(&s->sql);
  free(s->sel);
  free(s->values);
  free(s->types);
  free(s->texts);
}

static int build_select(PGconn *c, const pg_table *t, const char *table,
                        const sy_feed_query *q, select_stmt *s, sy_error *err) {
  size_t n = q && q->n_columns ? q->n_columns : t->n;
  size_t nw = q ? q->n_where : 0;
  sy_buf *b = &s->sql;
  int rc = 0;
  s->sel = malloc(n * sizeof *s->sel + 1);
  s->values = calloc(nw + 1, sizeof *s->values);
  s->types = calloc(nw + 1, sizeof *s->types);
  s->texts = calloc(nw + 1, sizeof *s->texts);
  if (!s->sel || !s->values || !s->types || !s->texts)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  for (size_t i = 0; i < n; i++) {
    long k = q && q->n_columns ? find_col(t, q->columns[i]) : (long)i;
    if (k < 0)
      return unknown_column(t, table, "columns", q->columns[i], err);
    s->sel[s->n_sel++] = (size_t)k;
    rc |= sy_buf_puts(b, i ? ", " : "SELECT ");
    rc |= add_ident(c, b, t->cols[k].name);
    /* Results come in binary: each column cast to the one type its frame
     * column holds (see parse_cell). */
    rc |= sy_buf_puts(b, t->cols[k].oid == BOOLOID       ? "::int4::int8"
                         : t->cols[k].type == SY_COL_I64 ? "::int8"
                         : t->cols[k].type == SY_COL_F64 ? "::float8"
                                                         : "::text");
  }
  rc |= sy_buf_puts(b, " FROM ");
  rc |= add_ident(c, b, table);
  for (size_t i = 0; i < nw; i++) {
    const sy_feed_cond *w = &q->where[i];
    long k = find_col(t, w->column);
    if (k < 0)
      return unknown_column(t, table, "where", w->column, err);
    sy_col_type ct = t->cols[k].type;
    if ((ct == SY_COL_STR) != (w->type == SY_COL_STR))
      return sy_error_set(err, SY_ETYPE,
                          "where: column '%s' of table '%s' is %s, but the "
                          "value compared with it is %s",
                          w->column, table, type_name(ct),
                          w->type == SY_COL_STR ? "a string" : "a number");
    rc |= sy_buf_puts(b, i ? " AND " : " WHERE ");
    rc |= add_ident(c, b, t->cols[k].name);
    if (ct == SY_COL_STR) {
      /* Compared as text, bytewise, whatever the column's own type. */
      rc |= sy_buf_printf(b, "::text COLLATE \"C\" %s $%d::text",
                          sy_cmp_sql(w->op), (int)i + 1);
      s->types[i] = TEXTOID;
      s->values[i] = w->str;
    } else if (w->type == SY_COL_I64) {
      rc |= sy_buf_printf(b, " %s $%d::int8", sy_cmp_sql(w->op), (int)i + 1);
      s->types[i] = INT8OID;
      snprintf(s->texts[i], sizeof s->texts[i], "%" PRId64, w->i64);
      s->values[i] = s->texts[i];
    } else {
      rc |= sy_buf_printf(b, " %s $%d::float8", sy_cmp_sql(w->op), (int)i + 1);
      s->types[i] = FLOAT8OID;
      snprintf(s->texts[i], sizeof s->texts[i], "%.17g", w->f64);
      s->values[i] = s->texts[i];
    }
  }
  size_t no = q ? q->n_order : 0;
  for (size_t i = 0; i < no; i++) {
    long k = find_col(t, q->order[i].column);
    if (k < 0)
      return unknown_column(t, table, "order", q->order[i].column, err);
    rc |= sy_buf_puts(b, i ? ", " : " ORDER BY ");
    rc |= add_ident(c, b, t->cols[k].name);
    if (t->cols[k].type == SY_COL_STR)
      rc |= sy_buf_puts(b, "::text COLLATE \"C\"");
    rc |= sy_buf_puts(b, q->order[i].desc ? " DESC NULLS LAST"
                                          : " ASC NULLS LAST");
  }
  if (no && t->plain)
    rc |= sy_buf_puts(b, ", ctid");
  if (q && q->limit >= 0)
    rc |= sy_buf_printf(b, " LIMIT %" PRId64, q->limit);
  if (rc)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  return 0;
}

/* 8 big-endian bytes. */
static uint64_t be64(const char *p) {
  const unsigned char *u = (const unsigned char *)p;
  uint64_t v = 0;
  for (int i = 0; i < 8; i++)
    v = v << 8 | u[i];
  return v;
}

/* One cell of a binary result: int8, float8 or text (build_select casts
 * every column to one of them). */
static int parse_cell(const char *v, int len, const pg_col *col,
                      sy_frame_builder *b, size_t i) {
  if (col->type == SY_COL_STR)
    return sy_frame_builder_strn(b, i, v, (size_t)len);
  if (len != 8)
    return SY_ETYPE;
  uint64_t bits = be64(v);
  if (col->type == SY_COL_I64)
    return sy_frame_builder_i64(b, i, (int64_t)bits);
  double d;
  memcpy(&d, &bits, sizeof d);
  return sy_frame_builder_f64(b, i, d);
}

static int run_query(const feed_pg *f, const char *table,
                     const sy_feed_query *q, sy_value **out, sy_error *err) {
  PGconn *c = NULL;
  PGresult *r = NULL;
  pg_table t = {0};
  select_stmt s = {SY_BUF_INIT, NULL, 0, NULL, NULL, NULL};
  sy_frame_builder *b = NULL;
  int rc;
  *out = NULL;
  if ((rc = connect_db(f, &c, err)) != 0)
    return rc;
  if ((rc = table_read(c, table, &t, err)) != 0 ||
      (rc = build_select(c, &t, table, q, &s, err)) != 0)
    goto done;
  r = PQexecParams(c, s.sql.data, q ? (int)q->n_where : 0, s.types, s.values,
                   NULL, NULL, 1);
  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    char what[300];
    snprintf(what, sizeof what, "reading table '%s'", table);
    rc = query_error(c, r, what, err);
    goto done;
  }
  size_t rows = (size_t)PQntuples(r);
  if ((rc = sy_frame_builder_new(rows, &b)) != 0) {
    rc = sy_error_set(err, rc, "table '%s': %zu rows: %s", table, rows,
                      sy_strerror(rc));
    goto done;
  }
  for (size_t i = 0; i < s.n_sel; i++) {
    const pg_col *col = &t.cols[s.sel[i]];
    sy_frame_builder_column(b, col->name, col->type);
    for (size_t row = 0; row < rows; row++) {
      if (PQgetisnull(r, (int)row, (int)i)) {
        sy_frame_builder_null(b, i);
        continue;
      }
      const char *v = PQgetvalue(r, (int)row, (int)i);
      if (parse_cell(v, PQgetlength(r, (int)row, (int)i), col, b, i) ==
          SY_ETYPE) {
        rc = sy_error_set(err, SY_ETYPE,
                          "table '%s', column '%s', row %zu: not %s", table,
                          col->name, row + 1,
                          col->type == SY_COL_I64 ? "an integer" : "a number");
        goto done;
      }
    }
  }
  rc = sy_frame_builder_finish(b, out, err);
  b = NULL;
done:
  sy_frame_builder_free(b);
  PQclear(r);
  select_free(&s);
  table_free(&t);
  PQfinish(c);
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
  PGconn *c = NULL;
  pg_table t = {0};
  int rc = connect_db(self, &c, err);
  if (rc == 0)
    rc = table_read(c, table, &t, err);
  for (size_t i = 0; rc == 0 && i < t.n; i++)
    rc = column(ud, t.cols[i].name, t.cols[i].type);
  table_free(&t);
  PQfinish(c);
  return rc;
}

static int feed_fingerprint(void *self, const char *table, uint8_t key[16],
                            sy_error *err) {
  const feed_pg *f = self;
  if (!f->version_column && !f->snapshot)
    return sy_error_set(err, SY_ENOTSUP,
                        "volatile: name version_column or snapshot");
  sy_hasher *h = NULL;
  if (sy_hasher_new(&h) != 0)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  sy_hasher_update(h, FINGERPRINT_TAG, sizeof FINGERPRINT_TAG);
  sy_hasher_update(h, f->conninfo, strlen(f->conninfo) + 1);
  sy_hasher_update(h, table, strlen(table) + 1);
  int rc = 0;
  if (f->snapshot) {
    sy_hasher_update(h, "s", 1);
    sy_hasher_update(h, f->snapshot, strlen(f->snapshot) + 1);
  } else {
    PGconn *c = NULL;
    PGresult *r = NULL;
    sy_buf b = SY_BUF_INIT;
    pg_table t = {0};
    if ((rc = connect_db(f, &c, err)) == 0 &&
        (rc = table_read(c, table, &t, err)) == 0) {
      if (find_col(&t, f->version_column) < 0) {
        rc =
            unknown_column(&t, table, "version_column", f->version_column, err);
      } else {
        int brc = sy_buf_puts(&b, "SELECT max(");
        brc |= add_ident(c, &b, f->version_column);
        brc |= sy_buf_puts(&b, ")::text, count(*) FROM ");
        brc |= add_ident(c, &b, table);
        if (brc)
          rc = sy_error_set(err, SY_ENOMEM, "out of memory");
        else if (PQresultStatus(r = PQexec(c, b.data)) != PGRES_TUPLES_OK)
          rc = query_error(c, r, "reading the version column", err);
      }
      for (size_t i = 0; rc == 0 && i < t.n; i++) {
        sy_hasher_update(h, t.cols[i].name, strlen(t.cols[i].name) + 1);
        sy_hasher_update(h, &t.cols[i].oid, sizeof t.cols[i].oid);
      }
      if (rc == 0) {
        sy_hasher_update(h, "v", 1);
        sy_hasher_update(h, PQgetvalue(r, 0, 0), strlen(PQgetvalue(r, 0, 0)));
        sy_hasher_update(h, "", 1);
        sy_hasher_update(h, PQgetvalue(r, 0, 1), strlen(PQgetvalue(r, 0, 1)));
      }
    }
    PQclear(r);
    sy_buf_free(&b);
    table_free(&t);
    PQfinish(c);
  }
  if (rc == 0)
    sy_hasher_digest(h, key);
  sy_hasher_free(h);
  return rc;
}

static int feed_create(const void *config, void **self, sy_error *err) {
  const feed_postgres_config *cfg = config;
  if (!cfg->conninfo || !*cfg->conninfo)
    return sy_error_set(err, SY_ECONFIG,
                        "conninfo: a connection string is required, e.g. "
                        "\"host=/run/postgresql dbname=mydb user=me\"");
  feed_pg *f = calloc(1, sizeof *f);
  if (!f)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  f->conninfo = cfg->conninfo;
  f->password = cfg->password;
  f->version_column =
      cfg->version_column && *cfg->version_column ? cfg->version_column : NULL;
  f->snapshot = cfg->snapshot && *cfg->snapshot ? cfg->snapshot : NULL;
  int64_t s = (cfg->connect_timeout + 999999999) / 1000000000;
  snprintf(f->timeout, sizeof f->timeout, "%" PRId64, s < 1 ? 1 : s);
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
    {"conninfo", SY_OPT_STRING, SY_OPT_REQUIRED, NULL, NULL, NULL, NULL,
     offsetof(feed_postgres_config, conninfo),
     "libpq connection string (\"host=/run/postgresql dbname=mydb "
     "user=me\" or a postgresql:// URI); put the password in `password`, "
     "not here."},
    {"password", SY_OPT_STRING, SY_OPT_SECRET, "", NULL, NULL, NULL,
     offsetof(feed_postgres_config, password),
     "The password, typically \"${PGPASSWORD_VAR}\" from the environment; "
     "never shown by `switchyard config`."},
    {"version_column", SY_OPT_STRING, 0, "", NULL, NULL, NULL,
     offsetof(feed_postgres_config, version_column),
     "A column that grows with every change (a version or updated-at "
     "column): the cache key hashes its maximum and the row count, so "
     "cached steps are reused until they change. Empty: volatile."},
    {"snapshot", SY_OPT_STRING, 0, "", NULL, NULL, NULL,
     offsetof(feed_postgres_config, snapshot),
     "The name of a fixed snapshot of the data (e.g. \"2024-06-01\"): the "
     "cache key hashes it, so change it when the data changes. Empty: "
     "volatile."},
    {"connect_timeout", SY_OPT_DURATION, 0, "10s", "1s", "10m", NULL,
     offsetof(feed_postgres_config, connect_timeout),
     "How long to wait for the server when connecting."},
    SY_OPTION_END,
};

const sy_provider feed_postgres_provider = {
    sizeof(sy_provider),
    SY_KIND_FEED,
    "postgres",
    "1.0.0",
    "Reads tables from a PostgreSQL database, pushing the flow's columns, "
    "where, order and limit into the query (values bound as parameters). "
    "Cache key: volatile (never cached) unless version_column or snapshot "
    "is set. Without them the table is first read during the run: a "
    "missing table, column or a lost connection then fails the run (exit "
    "1).",
    feed_options,
    sizeof(feed_postgres_config),
    feed_create,
    feed_destroy,
    &feed_ops,
};
