/*
 * query.c - a flow source's pushdown (columns, where, order, limit):
 * applying it to a whole table (sy_feed_query_apply, the reference every
 * feed must match) and carrying it through a program as the FEED step's
 * one parameter "pushdown".
 *
 * The parameter's text is a sequence of length-prefixed tokens
 * ("<decimal length>:<bytes>"), so that any column name or string value
 * (quotes, ';', ',', newlines) travels as it is, and the program's
 * encoding, its cache key and `program show` see one canonical spelling:
 *
 *   C n name...              the columns (n may be 0)
 *   W n (column op type value)...   op "=", "<>", ...; type f, i or s;
 *                            f64 as "%.17g", i64 in decimal
 *   O n (column a|d)...
 *   L limit                  decimal, -1 for none
 *
 * It is written by the compiler and read by the executor, both in this
 * process or in one that loaded a saved program; a malformed text is
 * refused (SY_ECORRUPT) rather than guessed at.
 */
#include "query.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "switchyard/buf.h"

const char *sy_cmp_sql(sy_cmp op) {
  switch (op) {
  case SY_CMP_EQ:
    return "=";
  case SY_CMP_NE:
    return "<>";
  case SY_CMP_LT:
    return "<";
  case SY_CMP_LE:
    return "<=";
  case SY_CMP_GT:
    return ">";
  case SY_CMP_GE:
    return ">=";
  }
  return NULL;
}

int sy__cmp_parse(const char *text, sy_cmp *op) {
  static const struct {
    const char *s;
    sy_cmp op;
  } ops[] = {{"=", SY_CMP_EQ},  {"==", SY_CMP_EQ}, {"!=", SY_CMP_NE},
             {"<>", SY_CMP_NE}, {"<", SY_CMP_LT},  {"<=", SY_CMP_LE},
             {">", SY_CMP_GT},  {">=", SY_CMP_GE}};
  for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
    if (strcmp(text, ops[i].s) == 0) {
      *op = ops[i].op;
      return 0;
    }
  return SY_EINVAL;
}

/* ---- applying ------------------------------------------------------- */

/* "a, b, c": the table's columns, for "unknown column" messages. */
static void column_list(const sy_value *t, char *buf, size_t cap) {
  size_t used = 0;
  buf[0] = '\0';
  for (size_t c = 0; c < sy_frame_cols(t); c++) {
    int k = snprintf(buf + used, cap - used, "%s%s", c ? ", " : "",
                     sy_frame_col_name(t, c));
    if (k < 0 || (size_t)k >= cap - used) {
      if (cap > 4)
        memcpy(buf + cap - 4, "...", 4);
      return;
    }
    used += (size_t)k;
  }
}

static int find_column(const sy_value *t, const char *name, const char *what,
                       sy_error *err) {
  int c = name ? sy_frame_col_index(t, name) : SY_ENOENT;
  if (c >= 0)
    return c;
  char list[512];
  column_list(t, list, sizeof list);
  return sy_error_set(err, SY_EINVAL, "%s: unknown column '%s' (columns: %s)",
                      what, name ? name : "(null)", list);
}

static const char *col_type_name(sy_col_type t) {
  return t == SY_COL_F64 ? "f64" : t == SY_COL_I64 ? "i64" : "string";
}

int sy__cond_type_ok(sy_col_type column, const sy_feed_cond *c) {
  int num_col = column == SY_COL_F64 || column == SY_COL_I64;
  int num_val = c->type == SY_COL_F64 || c->type == SY_COL_I64;
  return column == 0 || (num_col && num_val) ||
         (column == SY_COL_STR && c->type == SY_COL_STR && c->str);
}

int sy__cond_type_error(const char *column, sy_col_type ctype,
                        const sy_feed_cond *c, sy_error *err) {
  return sy_error_set(err, SY_ETYPE,
                      "where: column '%s' is %s, but the value compared with "
                      "it is %s; write a %s",
                      column, col_type_name(ctype),
                      c->type == SY_COL_STR ? "a string" : "a number",
                      ctype == SY_COL_STR ? "string in quotes"
                                          : "number without quotes");
}

static int sign_of(int cmp, sy_cmp op) {
  switch (op) {
  case SY_CMP_EQ:
    return cmp == 0;
  case SY_CMP_NE:
    return cmp != 0;
  case SY_CMP_LT:
    return cmp < 0;
  case SY_CMP_LE:
    return cmp <= 0;
  case SY_CMP_GT:
    return cmp > 0;
  case SY_CMP_GE:
    return cmp >= 0;
  }
  return 0;
}

static int cmp_d(double a, double b) {
  return a < b ? -1 : a > b ? 1 : 0;
}
static int cmp_i(int64_t a, int64_t b) {
  return a < b ? -1 : a > b ? 1 : 0;
}

/* Whether row r of column c (of type t) satisfies cond. */
static int row_matches(const sy_value *tab, size_t c, sy_col_type t, size_t r,
                       const sy_feed_cond *cond) {
  if (sy_frame_is_null(tab, c, r))
    return 0;
  int cmp;
  if (t == SY_COL_STR) {
    cmp = strcmp(sy_frame_str(tab, c, r), cond->str);
    cmp = cmp < 0 ? -1 : cmp > 0;
  } else if (t == SY_COL_I64 && cond->type == SY_COL_I64) {
    cmp = cmp_i(sy_frame_i64(tab, c)[r], cond->i64);
  } else {
    double a = t == SY_COL_I64 ? (double)sy_frame_i64(tab, c)[r]
                               : sy_frame_f64(tab, c)[r];
    double b = cond->type == SY_COL_I64 ? (double)cond->i64 : cond->f64;
    if (isnan(a) || isnan(b))
      return 0; /* as SQL: NaN is stored as NULL */
    cmp = cmp_d(a, b);
  }
  return sign_of(cmp, cond->op);
}

typedef struct sort_key {
  size_t col;
  sy_col_type type;
  int desc;
} sort_key;

typedef struct sort_ctx {
  const sy_value *tab;
  const sort_key *keys;
  size_t n_keys;
} sort_ctx;

/* qsort has no context argument in C11: one sort at a time per thread. */
static _Thread_local const sort_ctx *sort_with;

static int cmp_rows(const void *pa, const void *pb) {
  size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
  const sort_ctx *s = sort_with;
  for (size_t k = 0; k < s->n_keys; k++) {
    const sort_key *key = &s->keys[k];
    int na = sy_frame_is_null(s->tab, key->col, a);
    int nb = sy_frame_is_null(s->tab, key->col, b);
    int cmp;
    if (na || nb) {
      cmp = na - nb; /* nulls last, whatever the direction */
      if (cmp)
        return cmp;
      continue;
    }
    if (key->type == SY_COL_STR)
      cmp = strcmp(sy_frame_str(s->tab, key->col, a),
                   sy_frame_str(s->tab, key->col, b));
    else if (key->type == SY_COL_I64)
      cmp = cmp_i(sy_frame_i64(s->tab, key->col)[a],
                  sy_frame_i64(s->tab, key->col)[b]);
    else
      cmp = cmp_d(sy_frame_f64(s->tab, key->col)[a],
                  sy_frame_f64(s->tab, key->col)[b]);
    cmp = cmp < 0 ? -1 : cmp > 0;
    if (cmp)
      return key->desc ? -cmp : cmp;
  }
  return a < b ? -1 : a > b; /* stable: the table's order */
}

int sy_feed_query_apply(const sy_value *tab, const sy_feed_query *q,
                        sy_value **out, sy_error *err) {
  *out = NULL;
  if (sy_value_type_of(tab) != SY_VALUE_FRAME || !q)
    return sy_error_set(err, SY_EINVAL, "pushdown: the feed gave no table");
  size_t rows = sy_frame_rows(tab), ncols = sy_frame_cols(tab);
  size_t *idx = NULL, *keep = NULL, n = 0;
  sort_key *keys = NULL;
  size_t *wcol = NULL;
  int rc = 0;
  size_t n_keep = q->n_columns ? q->n_columns : ncols;
  idx = malloc((rows ? rows : 1) * sizeof *idx);
  keep = malloc((n_keep ? n_keep : 1) * sizeof *keep);
  keys = malloc((q->n_order ? q->n_order : 1) * sizeof *keys);
  wcol = malloc((q->n_where ? q->n_where : 1) * sizeof *wcol);
  if (!idx || !keep || !keys || !wcol) {
    rc = sy_error_set(err, SY_ENOMEM, "pushdown: out of memory");
    goto done;
  }
  for (size_t i = 0; i < n_keep; i++) {
    int c =
        q->n_columns ? find_column(tab, q->columns[i], "columns", err) : (int)i;
    if (c < 0) {
      rc = c;
      goto done;
    }
    keep[i] = (size_t)c;
  }
  for (size_t w = 0; w < q->n_where; w++) {
    int c = find_column(tab, q->where[w].column, "where", err);
    if (c < 0) {
      rc = c;
      goto done;
    }
    wcol[w] = (size_t)c;
    sy_col_type t = sy_frame_col_type(tab, (size_t)c);
    if (!sy__cond_type_ok(t, &q->where[w]) || !sy_cmp_sql(q->where[w].op)) {
      rc = sy__cond_type_error(q->where[w].column, t, &q->where[w], err);
      goto done;
    }
  }
  for (size_t k = 0; k < q->n_order; k++) {
    int c = find_column(tab, q->order[k].column, "order", err);
    if (c < 0) {
      rc = c;
      goto done;
    }
    keys[k].col = (size_t)c;
    keys[k].type = sy_frame_col_type(tab, (size_t)c);
    keys[k].desc = q->order[k].desc;
  }
  for (size_t r = 0; r < rows; r++) {
    int ok = 1;
    for (size_t w = 0; ok && w < q->n_where; w++)
      ok = row_matches(tab, wcol[w], sy_frame_col_type(tab, wcol[w]), r,
                       &q->where[w]);
    if (ok)
      idx[n++] = r;
  }
  if (q->n_order && n > 1) {
    sort_ctx ctx = {tab, keys, q->n_order};
    const sort_ctx *saved = sort_with;
    sort_with = &ctx;
    qsort(idx, n, sizeof *idx, cmp_rows);
    sort_with = saved;
  }
  if (q->limit >= 0 && (uint64_t)q->limit < n)
    n = (size_t)q->limit;
  sy_frame_builder *b = NULL;
  if ((rc = sy_frame_builder_new(n, &b)) != 0) {
    rc = sy_error_set(err, rc, "pushdown: out of memory");
    goto done;
  }
  for (size_t i = 0; i < n_keep; i++) {
    size_t c = keep[i];
    sy_col_type t = sy_frame_col_type(tab, c);
    int col = sy_frame_builder_column(b, sy_frame_col_name(tab, c), t);
    if (col < 0)
      break; /* sticky: finish reports it */
    for (size_t r = 0; r < n; r++) {
      size_t row = idx[r];
      if (sy_frame_is_null(tab, c, row))
        sy_frame_builder_null(b, (size_t)col);
      else if (t == SY_COL_F64)
        sy_frame_builder_f64(b, (size_t)col, sy_frame_f64(tab, c)[row]);
      else if (t == SY_COL_I64)
        sy_frame_builder_i64(b, (size_t)col, sy_frame_i64(tab, c)[row]);
      else
        sy_frame_builder_str(b, (size_t)col, sy_frame_str(tab, c, row));
    }
  }
  rc = sy_frame_builder_finish(b, out, err);
done:
  free(idx);
  free(keep);
  free(keys);
  free(wcol);
  return rc;
}

/* ---- the "pushdown" parameter ---------------------------------------- */

static int put_tok(sy_buf *b, const char *s, size_t len) {
  char head[32];
  int k = snprintf(head, sizeof head, "%zu:", len);
  if (sy_buf_add(b, head, (size_t)k) != 0 || sy_buf_add(b, s, len) != 0)
    return SY_ENOMEM;
  return 0;
}
static int put_str(sy_buf *b, const char *s) {
  return put_tok(b, s, strlen(s));
}
static int put_num(sy_buf *b, uint64_t v) {
  char d[32];
  int k = snprintf(d, sizeof d, "%" PRIu64, v);
  return put_tok(b, d, (size_t)k);
}

int sy__query_encode(const sy_feed_query *q, char **text) {
  sy_buf b = SY_BUF_INIT;
  int rc = put_str(&b, "C") | put_num(&b, q->n_columns);
  for (size_t i = 0; i < q->n_columns; i++)
    rc |= put_str(&b, q->columns[i]);
  rc |= put_str(&b, "W") | put_num(&b, q->n_where);
  for (size_t i = 0; i < q->n_where; i++) {
    const sy_feed_cond *c = &q->where[i];
    char v[64];
    rc |= put_str(&b, c->column) | put_str(&b, sy_cmp_sql(c->op));
    if (c->type == SY_COL_STR) {
      rc |= put_str(&b, "s") | put_str(&b, c->str);
    } else if (c->type == SY_COL_I64) {
      snprintf(v, sizeof v, "%" PRId64, c->i64);
      rc |= put_str(&b, "i") | put_str(&b, v);
    } else {
      snprintf(v, sizeof v, "%.17g", c->f64);
      rc |= put_str(&b, "f") | put_str(&b, v);
    }
  }
  rc |= put_str(&b, "O") | put_num(&b, q->n_order);
  for (size_t i = 0; i < q->n_order; i++)
    rc |= put_str(&b, q->order[i].column) |
          put_str(&b, q->order[i].desc ? "d" : "a");
  char lim[32];
  snprintf(lim, sizeof lim, "%" PRId64, q->limit < 0 ? (int64_t)-1 : q->limit);
  rc |= put_str(&b, "L") | put_str(&b, lim);
  if (rc) {
    sy_buf_free(&b);
    return SY_ENOMEM;
  }
  *text = b.data ? b.data : strdup("");
  return *text ? 0 : SY_ENOMEM;
}

typedef struct reader {
  const char *p, *end;
  char *w; /* where the next token's copy goes (in the query's buffer) */
  int bad;
} reader;

/* The next token, NUL-terminated in the query's buffer; NULL when bad. */
static const char *tok(reader *r) {
  if (r->bad)
    return NULL;
  char *colon = memchr(r->p, ':', (size_t)(r->end - r->p));
  if (!colon || colon == r->p || colon - r->p > 10) {
    r->bad = 1;
    return NULL;
  }
  size_t len = 0;
  for (const char *d = r->p; d < colon; d++) {
    if (*d < '0' || *d > '9') {
      r->bad = 1;
      return NULL;
    }
    len = len * 10 + (size_t)(*d - '0');
  }
  if (len > (size_t)(r->end - colon - 1)) {
    r->bad = 1;
    return NULL;
  }
  char *s = r->w;
  memcpy(s, colon + 1, len);
  s[len] = '\0';
  r->w += len + 1;
  r->p = colon + 1 + len;
  return s;
}

static int tok_is(reader *r, const char *want) {
  const char *t = tok(r);
  if (!t || strcmp(t, want) != 0)
    r->bad = 1;
  return !r->bad;
}

static int64_t tok_int(reader *r, int64_t min) {
  const char *t = tok(r);
  if (!t)
    return 0;
  char *e = NULL;
  errno = 0;
  long long v = strtoll(t, &e, 10);
  if (errno || !*t || *e || v < min) {
    r->bad = 1;
    return 0;
  }
  return (int64_t)v;
}

/* A count of items that each take at least `min` bytes of what is left. */
static size_t tok_count(reader *r, size_t per) {
  int64_t n = tok_int(r, 0);
  if (!r->bad && (uint64_t)n > (size_t)(r->end - r->p) / per)
    r->bad = 1;
  return r->bad ? 0 : (size_t)n;
}

void sy__query_free(sy__query *q) {
  if (!q)
    return;
  free(q->buf);
  free(q->cols);
  free(q->where);
  free(q->order);
  memset(q, 0, sizeof *q);
}

void sy_feed_query_free(sy_feed_query *q) {
  /* q is the first member of the sy__query sy_job_feed_query made. */
  sy__query *owner = (sy__query *)q;
  sy__query_free(owner);
  free(owner);
}

int sy__query_decode(const char *text, sy__query *out, sy_error *err) {
  memset(out, 0, sizeof *out);
  size_t len = strlen(text);
  /* Every token's copy is no longer than the token itself. */
  out->buf = malloc(len + 1);
  reader r = {text, text + len, out->buf, 0};
  if (!out->buf)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  sy_feed_query *q = &out->q;
  q->size = sizeof *q;
  tok_is(&r, "C");
  q->n_columns = tok_count(&r, 2);
  if (!r.bad && q->n_columns) {
    out->cols = calloc(q->n_columns, sizeof *out->cols);
    r.bad |= !out->cols;
    for (size_t i = 0; !r.bad && i < q->n_columns; i++)
      out->cols[i] = tok(&r);
    q->columns = out->cols;
  }
  tok_is(&r, "W");
  q->n_where = tok_count(&r, 8);
  if (!r.bad && q->n_where) {
    out->where = calloc(q->n_where, sizeof *out->where);
    r.bad |= !out->where;
    for (size_t i = 0; !r.bad && i < q->n_where; i++) {
      sy_feed_cond *c = &out->where[i];
      c->column = tok(&r);
      const char *op = tok(&r), *type = tok(&r), *v = tok(&r);
      if (r.bad || sy__cmp_parse(op, &c->op) != 0) {
        r.bad = 1;
        break;
      }
      char *e = NULL;
      if (strcmp(type, "s") == 0) {
        c->type = SY_COL_STR;
        c->str = v;
      } else if (strcmp(type, "i") == 0) {
        c->type = SY_COL_I64;
        errno = 0;
        c->i64 = strtoll(v, &e, 10);
        r.bad |= errno != 0 || !*v || *e;
      } else if (strcmp(type, "f") == 0) {
        c->type = SY_COL_F64;
        c->f64 = strtod(v, &e);
        r.bad |= !*v || *e;
      } else {
        r.bad = 1;
      }
    }
    q->where = out->where;
  }
  tok_is(&r, "O");
  q->n_order = tok_count(&r, 6);
  if (!r.bad && q->n_order) {
    out->order = calloc(q->n_order, sizeof *out->order);
    r.bad |= !out->order;
    for (size_t i = 0; !r.bad && i < q->n_order; i++) {
      out->order[i].column = tok(&r);
      const char *d = tok(&r);
      if (!d || (strcmp(d, "a") && strcmp(d, "d")))
        r.bad = 1;
      else
        out->order[i].desc = *d == 'd';
    }
    q->order = out->order;
  }
  tok_is(&r, "L");
  q->limit = tok_int(&r, -1);
  if (!r.bad && r.p != r.end)
    r.bad = 1;
  if (r.bad) {
    sy__query_free(out);
    return sy_error_set(err, SY_ECORRUPT,
                        "the FEED step's pushdown parameter is malformed "
                        "(a damaged or foreign program): compile the flow "
                        "again");
  }
  return 0;
}

int sy__query_print(const char *text, FILE *out) {
  sy__query q;
  sy_error err;
  if (sy__query_decode(text, &q, &err) != 0)
    return err.code;
  const char *sep = " ";
  fputs("        pushdown:", out);
  if (q.q.n_columns) {
    fprintf(out, "%scolumns ", sep);
    for (size_t i = 0; i < q.q.n_columns; i++)
      fprintf(out, "%s%s", i ? ", " : "", q.q.columns[i]);
    sep = "; ";
  }
  for (size_t i = 0; i < q.q.n_where; i++) {
    const sy_feed_cond *c = &q.q.where[i];
    fprintf(out, "%s%s%s %s ", i ? " AND " : sep, i ? "" : "where ", c->column,
            sy_cmp_sql(c->op));
    if (c->type == SY_COL_STR)
      fprintf(out, "'%s'", c->str);
    else if (c->type == SY_COL_I64)
      fprintf(out, "%" PRId64, c->i64);
    else
      fprintf(out, "%.17g", c->f64);
    sep = "; ";
  }
  for (size_t i = 0; i < q.q.n_order; i++) {
    fprintf(out, "%s%s%s", i ? ", " : sep, i ? "" : "order ",
            q.q.order[i].column);
    fputs(q.q.order[i].desc ? " desc" : "", out);
    sep = "; ";
  }
  if (q.q.limit >= 0)
    fprintf(out, "%slimit %" PRId64, sep, q.q.limit);
  fputc('\n', out);
  sy__query_free(&q);
  return 0;
}
