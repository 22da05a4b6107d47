/*
 * serve_req.c - decoding predict requests, encoding answers (serve_req.h).
 *
 * JSON is parsed by yajl's streaming parser straight into column arrays
 * (a syntax error's line, column and byte offset are in the 400 answer),
 * CSV by sy_csv_read. Both
 * forms end in the same checks: every column the schema names is there,
 * no other column is (the label column aside), and each cell has the
 * column's type, or the answer is 422 naming the column (and the row).
 */
#include "serve_req.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "switchyard/csv.h"

void serve_schema_free(serve_schema *s) {
  if (!s)
    return;
  for (size_t i = 0; i < s->n; i++)
    free(s->names[i]);
  free(s->names);
  free(s->types);
  free(s->label);
  memset(s, 0, sizeof *s);
}

int serve_schema_add(serve_schema *s, const char *name, sy_col_type type) {
  char **names = realloc(s->names, (s->n + 1) * sizeof *names);
  if (!names)
    return SY_ENOMEM;
  s->names = names;
  sy_col_type *types = realloc(s->types, (s->n + 1) * sizeof *types);
  if (!types)
    return SY_ENOMEM;
  s->types = types;
  if (!(s->names[s->n] = strdup(name)))
    return SY_ENOMEM;
  s->types[s->n++] = type;
  return 0;
}

const char *serve_type_name(sy_col_type t) {
  switch (t) {
  case SY_COL_F64:
    return "f64";
  case SY_COL_I64:
    return "i64";
  case SY_COL_STR:
    return "string";
  }
  return "?";
}

static int fail(serve_fail *f, int status, const char *error, const char *fmt,
                ...) SY_PRINTF(4, 5);
static int fail(serve_fail *f, int status, const char *error, const char *fmt,
                ...) {
  f->status = status;
  snprintf(f->error, sizeof f->error, "%s", error);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(f->detail, sizeof f->detail, fmt, ap);
  va_end(ap);
  return SERVE_REFUSED;
}

static int schema_has(const serve_schema *s, const char *name) {
  for (size_t i = 0; i < s->n; i++)
    if (strcmp(s->names[i], name) == 0)
      return 1;
  return 0;
}

/* "a, b, c" of the schema's columns, for messages. */
static void schema_list(const serve_schema *s, char *buf, size_t cap) {
  size_t at = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < s->n && at + 1 < cap; i++) {
    int k = snprintf(buf + at, cap - at, "%s%s", i ? ", " : "", s->names[i]);
    if (k < 0 || (size_t)k >= cap - at)
      break;
    at += (size_t)k;
  }
}

/* ---- JSON: a streaming decoder (yajl) ------------------------------- */

/* yajl reads the body in one pass and calls back per token; the decoder
 * puts each cell straight into its column's array of cells (a tag and a
 * value), with no tree, no hash table per row object and no allocation
 * per cell. Once the text has been read to its end (a syntax error
 * anywhere wins over everything else, as with a parser that builds a
 * tree first), the checks run in the order they always ran: the shape of
 * the body, "rows" elements that are not objects, no rows, column names
 * (unknown, not in rows[0], a "columns" entry that is no array or has
 * another length), then the cells column by column (schema order, then
 * the label), row by row. What yajl does not check and the 400 answer
 * has always covered is checked here: duplicate keys in any object, a
 * scalar as the whole body, integers outside i64, numbers past the
 * doubles, \u0000 in strings, nesting past 2048 levels. */

enum { /* cell tags */
       C_MISSING = 0,
       C_NULL,
       C_INT,
       C_REAL,
       C_STR,
       C_BOOL,
       C_OBJECT,
       C_ARRAY
};

typedef struct jcell {
  uint32_t tag, len; /* len: a string's bytes */
  union {
    double d;
    int64_t i;
    size_t off; /* a string's first byte in jdec.strs */
  } u;
} jcell;

typedef struct jcol {
  const char *name; /* the schema's, or owned (open schema: `own`) */
  char *own;
  size_t name_len;
  uint64_t seen_in; /* the serial of the last object that named it */
  jcell *cells;     /* cells[r] for r < n; beyond: missing */
  size_t n, cap;
} jcol;

/* A key of an object whose keys are not columns, for duplicates. */
typedef struct dkey {
  uint64_t serial, hash;
  uint32_t gen; /* the request's (jdec.gen), else an empty slot */
  uint32_t len;
  size_t off; /* in jdec.keys */
} dkey;

#define JDEPTH_MAX 2048 /* jansson's limit, which the 400 answer had */

enum { X_ROOT = 1, X_ROWS, X_ROW, X_COLS, X_COLARR, X_SKIP };
enum { K_NONE = 0, K_ROWS, K_COLS, K_OTHER };

typedef struct jdec {
  /* kept from request to request on a thread */
  jcol *cols;
  size_t cap_cols;
  int *tab; /* column index + 1 by name hash; 0: empty */
  size_t tab_cap;
  sy_buf strs, keys;
  dkey *dups;
  size_t dup_cap;
  double *f64;
  int64_t *i64;
  uint8_t *valid;
  const char **sv;
  size_t scratch_cap;
  uint64_t serials[JDEPTH_MAX + 2];
  uint32_t gen;         /* of the request, for dups[] */
  serve_fail f, f2, f4; /* filled whole where used */
  /* yajl's memory (the handle, its lexer and buffers, some kB): cut from
   * here, given back whole after each request (yajl_alloc_funcs) */
  _Alignas(16) char ybuf[16384];
  /* one request */
  yajl_handle h;
  size_t yused;
  const char *body;
  const serve_schema *s;
  size_t n_cols, n_fixed, dup_n;
  int depth, skip_from;
  uint8_t stk[4];
  uint64_t serial;
  int pend;       /* X_ROOT: K_*; X_ROW, X_COLS: column or -1 */
  int pend_label; /* the pending key is the label */
  int root_kind;  /* C_OBJECT, C_ARRAY */
  int root_keys;
  int rows_kind, cols_kind; /* C_* of "rows", "columns"; 0: absent */
  size_t rows_n, cur_row, arr_n, n_rows;
  int cur_col, first_arr, first_key_seen, frozen, label_first;
  int oom, bad;         /* bad: a 400 malformed_json is in `f` */
  int finishing;        /* in yajl_complete_parse: the parser is at the end */
  size_t len, root_end; /* root_end: where the body's value ends */
  int have2, have4;
} jdec;

static _Thread_local jdec *tls_dec;
static pthread_key_t jdec_key;
static pthread_once_t jdec_once = PTHREAD_ONCE_INIT;

static void jdec_drop(void *p) {
  jdec *d = p;
  if (!d)
    return;
  for (size_t i = 0; i < d->cap_cols; i++) {
    free(d->cols[i].cells);
    free(d->cols[i].own);
  }
  free(d->cols);
  free(d->tab);
  sy_buf_free(&d->strs);
  sy_buf_free(&d->keys);
  free(d->dups);
  free(d->f64);
  free(d->i64);
  free(d->valid);
  free(d->sv);
  free(d);
  if (tls_dec == d)
    tls_dec = NULL;
}

static void jdec_init(void) {
  pthread_key_create(&jdec_key, jdec_drop);
}

static jdec *jdec_get(void) {
  if (tls_dec)
    return tls_dec;
  pthread_once(&jdec_once, jdec_init);
  jdec *d = calloc(1, sizeof *d);
  if (!d)
    return NULL;
  d->strs = (sy_buf)SY_BUF_INIT;
  d->keys = (sy_buf)SY_BUF_INIT;
  pthread_setspecific(jdec_key, d); /* freed when the thread ends */
  tls_dec = d;
  return d;
}

static uint64_t fnv(const unsigned char *p, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++)
    h = (h ^ p[i]) * 1099511628211ull;
  return h ? h : 1;
}

/* The byte the parser is at, as line, column (characters) and byte. */
static void jpos(const jdec *d, size_t pos, serve_fail *f, const char *what) {
  int line = 1, col = 0;
  for (size_t i = 0; i < pos; i++) {
    unsigned char c = (unsigned char)d->body[i];
    if (c == '\n')
      line++, col = 0;
    else if ((c & 0xc0) != 0x80)
      col++;
  }
  fail(f, 400, "malformed_json", "line %d, column %d (byte %zu): %s", line, col,
       pos, what);
}

/* A 400 found in a callback: stops the parse. */
static int jbad(jdec *d, const char *what) {
  if (!d->bad && !d->oom)
    jpos(d, d->finishing ? d->len : yajl_get_bytes_consumed(d->h), &d->f, what);
  d->bad = 1;
  return 0;
}

static int joom(jdec *d) {
  d->oom = 1;
  return 0;
}

/* Column lookup by name: an open-addressing table over d->cols. */
static int tab_find(const jdec *d, const unsigned char *k, size_t n,
                    uint64_t h) {
  if (!d->tab_cap)
    return -1;
  for (size_t i = h & (d->tab_cap - 1);; i = (i + 1) & (d->tab_cap - 1)) {
    int at = d->tab[i];
    if (!at)
      return -1;
    const jcol *c = &d->cols[at - 1];
    if (c->name_len == n && memcmp(c->name, k, n) == 0)
      return at - 1;
  }
}

static int tab_build(jdec *d, size_t want) {
  size_t cap = 16;
  while (cap < want * 2)
    cap *= 2;
  if (cap > d->tab_cap) {
    int *t = realloc(d->tab, cap * sizeof *t);
    if (!t)
      return SY_ENOMEM;
    d->tab = t;
    d->tab_cap = cap;
  }
  memset(d->tab, 0, d->tab_cap * sizeof *d->tab);
  for (size_t c = 0; c < d->n_cols; c++) {
    const jcol *col = &d->cols[c];
    size_t i =
        fnv((const unsigned char *)col->name, col->name_len) & (d->tab_cap - 1);
    while (d->tab[i])
      i = (i + 1) & (d->tab_cap - 1);
    d->tab[i] = (int)c + 1;
  }
  return 0;
}

/* Adds a column (the request's order in an open schema). */
static int col_add(jdec *d, const char *name, size_t n, int copy) {
  if (d->n_cols == d->cap_cols) {
    size_t cap = d->cap_cols ? d->cap_cols * 2 : 8;
    jcol *c = realloc(d->cols, cap * sizeof *c);
    if (!c)
      return SY_ENOMEM;
    memset(c + d->cap_cols, 0, (cap - d->cap_cols) * sizeof *c);
    d->cols = c;
    d->cap_cols = cap;
  }
  jcol *c = &d->cols[d->n_cols];
  free(c->own);
  c->own = NULL;
  if (copy) {
    if (!(c->own = malloc(n + 1)))
      return SY_ENOMEM;
    memcpy(c->own, name, n);
    c->own[n] = '\0';
    name = c->own;
  }
  c->name = name;
  c->name_len = n;
  c->seen_in = 0;
  c->n = 0;
  d->n_cols++;
  if (d->n_cols * 2 > d->tab_cap)
    return tab_build(d, d->n_cols);
  size_t i = fnv((const unsigned char *)name, n) & (d->tab_cap - 1);
  while (d->tab[i])
    i = (i + 1) & (d->tab_cap - 1);
  d->tab[i] = (int)d->n_cols;
  return 0;
}

/* Whether key k is new in the object of this serial (keys that are not
 * columns): 1 new, 0 a duplicate, SY_ENOMEM. */
static int dup_add(jdec *d, const unsigned char *k, size_t n) {
  if (n > UINT32_MAX)
    return SY_ENOMEM;
  if ((d->dup_n + 1) * 2 > d->dup_cap) {
    size_t cap = d->dup_cap ? d->dup_cap * 2 : 64;
    dkey *t = calloc(cap, sizeof *t);
    if (!t)
      return SY_ENOMEM;
    for (size_t i = 0; i < d->dup_cap; i++)
      if (d->dups[i].gen == d->gen) {
        size_t j = d->dups[i].hash & (cap - 1);
        while (t[j].gen == d->gen)
          j = (j + 1) & (cap - 1);
        t[j] = d->dups[i];
      }
    free(d->dups);
    d->dups = t;
    d->dup_cap = cap;
  }
  uint64_t serial = d->serials[d->depth];
  uint64_t h = fnv(k, n) ^ (serial * 0x9e3779b97f4a7c15ull);
  size_t j = h & (d->dup_cap - 1);
  for (; d->dups[j].gen == d->gen; j = (j + 1) & (d->dup_cap - 1)) {
    const dkey *e = &d->dups[j];
    if (e->serial == serial && e->hash == h && e->len == n &&
        memcmp(d->keys.data + e->off, k, n) == 0)
      return 0;
  }
  size_t off = d->keys.len;
  if (sy_buf_add(&d->keys, k, n ? n : 0))
    return SY_ENOMEM;
  d->dups[j] = (dkey){serial, h, d->gen, (uint32_t)n, off};
  d->dup_n++;
  return 1;
}

static const char *tag_kind(int tag) {
  switch (tag) {
  case C_OBJECT:
    return "an object";
  case C_ARRAY:
    return "an array";
  case C_STR:
    return "a string";
  case C_INT:
    return "an integer";
  case C_REAL:
    return "a number";
  case C_BOOL:
    return "a boolean";
  case C_NULL:
    return "null";
  }
  return "?";
}

/* The current container. */
static int jtop(const jdec *d) {
  if (d->skip_from && d->depth >= d->skip_from)
    return X_SKIP;
  return d->depth ? d->stk[d->depth] : 0;
}

static int cell_put(jdec *d, int col, size_t r, const jcell *v) {
  jcol *c = &d->cols[col];
  if (r >= c->cap) {
    size_t cap = c->cap ? c->cap : 16;
    while (cap <= r)
      cap *= 2;
    jcell *t = realloc(c->cells, cap * sizeof *t);
    if (!t)
      return SY_ENOMEM;
    c->cells = t;
    c->cap = cap;
  }
  if (r >= c->n) {
    memset(c->cells + c->n, 0, (r - c->n) * sizeof *c->cells);
    c->n = r + 1;
  }
  c->cells[r] = *v;
  return 0;
}

/* Where a value goes, by its container: v->tag says what it is
 * (C_OBJECT and C_ARRAY: a container starts, which the caller enters). */
static int jvalue(jdec *d, const jcell *v, int *enter) {
  int top = jtop(d);
  *enter = X_SKIP;
  switch (top) {
  case 0: /* the body */
    d->root_kind = v->tag;
    if (v->tag == C_OBJECT)
      *enter = X_ROOT;
    else if (v->tag != C_ARRAY)
      return jbad(d, "'[' or '{' expected");
    return 1;
  case X_ROOT:
    if (d->pend == K_ROWS) {
      d->rows_kind = v->tag;
      if (v->tag == C_ARRAY)
        *enter = X_ROWS;
    } else if (d->pend == K_COLS) {
      d->cols_kind = v->tag;
      if (v->tag == C_OBJECT)
        *enter = X_COLS;
    }
    return 1;
  case X_ROWS: {
    size_t r = d->rows_n++;
    if (v->tag == C_OBJECT) {
      d->cur_row = r;
      *enter = X_ROW;
    } else if (!d->have2) {
      d->have2 = 1;
      fail(&d->f2, 400, "bad_request", "rows[%zu]: expected an object, got %s",
           r, tag_kind(v->tag));
    }
    return 1;
  }
  case X_ROW:
    if (d->pend >= 0) {
      if (d->pend_label && d->cur_row == 0)
        d->label_first = 1;
      if (cell_put(d, d->pend, d->cur_row, v))
        return joom(d);
    }
    return 1;
  case X_COLS: {
    int first = !d->first_key_seen;
    d->first_key_seen = 1;
    if (d->pend_label)
      d->label_first = 1;
    if (v->tag == C_ARRAY) {
      *enter = X_COLARR;
      d->cur_col = d->pend;
      d->arr_n = 0;
      d->first_arr = first;
    } else if (!d->have4) {
      /* the first column's length is the row count: none here */
      d->have4 = 1;
      fail(&d->f4, 400, "bad_request",
           "columns['%s']: expected an array of cells, got %s",
           d->pend >= 0 ? d->cols[d->pend].name : "?", tag_kind(v->tag));
    }
    return 1;
  }
  case X_COLARR: {
    size_t k = d->arr_n++;
    if (d->cur_col >= 0 && cell_put(d, d->cur_col, k, v))
      return joom(d);
    return 1;
  }
  }
  return 1; /* X_SKIP */
}

static int jscalar(jdec *d, const jcell *v) {
  int enter;
  return jvalue(d, v, &enter);
}

static int jopen(jdec *d, int tag) {
  jcell v = {(uint32_t)tag, 0, {0}};
  int enter;
  if (!jvalue(d, &v, &enter))
    return 0;
  if (d->depth >= JDEPTH_MAX)
    return jbad(d, "maximum parsing depth reached");
  d->depth++;
  if (tag == C_OBJECT)
    d->serials[d->depth] = ++d->serial;
  if (enter == X_SKIP) {
    if (!d->skip_from)
      d->skip_from = d->depth;
  } else {
    d->stk[d->depth] = (uint8_t)enter;
  }
  return 1;
}

static int jclose(jdec *d) {
  int top = jtop(d);
  if (top == X_ROW && d->cur_row == 0)
    d->frozen = 1; /* an open schema: rows[0] named the columns */
  if (top == X_ROWS)
    d->n_rows = d->rows_n;
  if (top == X_COLARR) {
    if (d->first_arr)
      d->n_rows = d->arr_n;
    else if (d->arr_n != d->n_rows && !d->have4) {
      d->have4 = 1;
      fail(&d->f4, 422, "bad_column",
           "columns['%s'] has %zu values, the first column %zu",
           d->cur_col >= 0 ? d->cols[d->cur_col].name : "?", d->arr_n,
           d->n_rows);
    }
  }
  if (d->skip_from == d->depth)
    d->skip_from = 0;
  if (--d->depth == 0)
    d->root_end = d->finishing ? d->len : yajl_get_bytes_consumed(d->h);
  return 1;
}

static int y_null(void *ud) {
  jcell v = {C_NULL, 0, {0}};
  return jscalar(ud, &v);
}

static int y_bool(void *ud, int b) {
  (void)b;
  jcell v = {C_BOOL, 0, {0}};
  return jscalar(ud, &v);
}

static const double p10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                             1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                             1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;
static void c_locale_init(void) {
  c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

/* A JSON number (yajl has checked its syntax) as the nearest double, as
 * strtod rounds it: exactly, with one rounding, when its digits fit in
 * 2^53 and the power of ten is one of p10[] (both exact doubles), else
 * by strtod in the C locale. 0, 1 past the doubles' range, or
 * SY_ENOMEM. */
static int num_f64(const char *s, size_t n, double *out) {
  const char *p = s, *end = s + n;
  int neg = *p == '-';
  p += neg;
  uint64_t m = 0;
  int digits = 0, scale = 0, ok = 1;
  for (; p < end && *p >= '0' && *p <= '9'; p++)
    if (m || *p != '0') {
      if (++digits > 19)
        ok = 0;
      else
        m = m * 10 + (uint64_t)(*p - '0');
    }
  if (p < end && *p == '.')
    for (p++; p < end && *p >= '0' && *p <= '9'; p++) {
      if (m || *p != '0') {
        if (++digits > 19) {
          ok = 0;
          continue;
        }
        m = m * 10 + (uint64_t)(*p - '0');
      }
      scale--;
    }
  if (p < end) { /* e, E */
    p++;
    int eneg = *p == '-';
    p += *p == '-' || *p == '+';
    long e = 0;
    for (; p < end; p++)
      if (e < 100000)
        e = e * 10 + (*p - '0');
    if (e >= 100000)
      ok = 0;
    scale += (int)(eneg ? -e : e);
  }
  if (ok && m <= (1ull << 53) && scale >= -22 && scale <= 22) {
    double v = (double)m;
    v = scale >= 0 ? v * p10[scale] : v / p10[-scale];
    *out = neg ? -v : v;
    return 0;
  }
  if (ok && m == 0) {
    *out = neg ? -0.0 : 0.0;
    return 0;
  }
  pthread_once(&c_locale_once, c_locale_init);
  char small[64], *t = n < sizeof small ? small : malloc(n + 1);
  if (!t)
    return SY_ENOMEM;
  memcpy(t, s, n);
  t[n] = '\0';
  errno = 0;
  double v = c_locale ? strtod_l(t, NULL, c_locale) : strtod(t, NULL);
  int range = errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL);
  if (t != small)
    free(t);
  if (range)
    return 1;
  *out = v;
  return 0;
}

/* An integer token as i64: 0, or -1 outside its range. */
static int num_i64(const char *s, size_t n, int64_t *out) {
  int neg = *s == '-';
  uint64_t v = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
  for (size_t i = (size_t)neg; i < n; i++) {
    unsigned dgt = (unsigned)(s[i] - '0');
    if (v > (lim - dgt) / 10)
      return -1;
    v = v * 10 + dgt;
  }
  *out = neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v)
             : (int64_t)v;
  return 0;
}

static int y_number(void *ud, const char *s, size_t n) {
  jdec *d = ud;
  jcell v = {C_INT, 0, {0}};
  int real = 0;
  for (size_t i = 0; i < n && !real; i++)
    real = s[i] == '.' || s[i] == 'e' || s[i] == 'E';
  if (real) {
    v.tag = C_REAL;
    int rc = num_f64(s, n, &v.u.d);
    if (rc == SY_ENOMEM)
      return joom(d);
    if (rc)
      return jbad(d, "real number overflow");
  } else if (num_i64(s, n, &v.u.i)) {
    return jbad(d, *s == '-' ? "too big negative integer" : "too big integer");
  }
  /* the common case, a column's cell in a row object, without the
   * general dispatch (jvalue) */
  if (d->depth == 3 && !d->skip_from && d->stk[3] == X_ROW && d->pend >= 0 &&
      !d->pend_label)
    return cell_put(d, d->pend, d->cur_row, &v) ? joom(d) : 1;
  return jscalar(d, &v);
}

static size_t utf8_len(const unsigned char *p);

/* Strict UTF-8 (yajl lets overlong forms through) without NUL: 1, or
 * 0. Eight bytes at a time while they are ASCII and not 0. */
static int utf8_ok(const unsigned char *p, size_t n) {
  const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
  while (n >= 8) {
    uint64_t w;
    memcpy(&w, p, 8);
    if ((w & highs) || ((w - ones) & ~w & highs))
      break;
    p += 8, n -= 8;
  }
  while (n) {
    if (*p < 0x80) {
      if (!*p)
        return 0;
      p++, n--;
      continue;
    }
    size_t k = *p >= 0xc2 && *p <= 0xdf   ? 2
               : *p >= 0xe0 && *p <= 0xef ? 3
               : *p >= 0xf0 && *p <= 0xf4 ? 4
                                          : 0;
    if (k == 0 || k > n || utf8_len(p) != k)
      return 0;
    p += k, n -= k;
  }
  return 1;
}

static int hex4(const char *p, unsigned *out) {
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    char c = p[i];
    v = v * 16 + (unsigned)(c >= '0' && c <= '9'   ? c - '0'
                            : c >= 'a' && c <= 'f' ? c - 'a' + 10
                            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                   : -1);
    if (!(c >= '0' && c <= '9') && !(c >= 'a' && c <= 'f') &&
        !(c >= 'A' && c <= 'F'))
      return 0;
  }
  *out = v;
  return 1;
}

/* yajl decodes \uD800-\uDBFF not followed by \uDC00-\uDFFF (to '?' or
 * to some other character) where JSON has no character: the string token
 * just read (s not in the body: it had escapes) is checked in the body,
 * from its closing quote (where the parser is) back to its opening one.
 * 1 fine, 0 a lone surrogate. */
static int surrogates_ok(const jdec *d, const unsigned char *s) {
  const char *b = d->body;
  if ((const char *)s >= b && (const char *)s < b + d->len)
    return 1; /* no escapes */
  size_t end = d->finishing ? d->len : yajl_get_bytes_consumed(d->h);
  if (end == 0 || end > d->len || b[end - 1] != '"')
    return 1; /* cannot tell */
  size_t i = end - 1;
  while (i > 0) {
    i--;
    if (b[i] != '"')
      continue;
    size_t k = i, bs = 0;
    while (k > 0 && b[k - 1] == '\\')
      k--, bs++;
    if (bs % 2 == 0)
      break;
  }
  size_t close = end - 1;
  for (size_t p = i + 1; p < close; p++) {
    if (b[p] != '\\')
      continue;
    unsigned cp, lo;
    if (p + 6 <= close && b[p + 1] == 'u' && hex4(b + p + 2, &cp)) {
      if (cp >= 0xdc00 && cp <= 0xdfff)
        return 0;
      if (cp >= 0xd800 && cp <= 0xdbff) {
        if (!(p + 12 <= close && b[p + 6] == '\\' && b[p + 7] == 'u' &&
              hex4(b + p + 8, &lo) && lo >= 0xdc00 && lo <= 0xdfff))
          return 0;
        p += 6;
      }
      p += 5;
    } else {
      p++; /* \" \\ \n ... */
    }
  }
  return 1;
}

static int y_string(void *ud, const unsigned char *s, size_t n) {
  jdec *d = ud;
  if (!utf8_ok(s, n))
    return jbad(d, memchr(s, 0, n) ? "\\u0000 is not allowed"
                                   : "unable to decode a string: not UTF-8");
  if (!surrogates_ok(d, s))
    return jbad(d, "invalid Unicode: a lone surrogate");
  jcell v = {C_STR, (uint32_t)n, {0}};
  int top = jtop(d);
  if (n > UINT32_MAX)
    return joom(d);
  /* Kept only where a cell is stored. */
  if ((top == X_ROW || top == X_COLS) ? d->pend >= 0 : top == X_COLARR) {
    v.u.off = d->strs.len;
    if (sy_buf_add(&d->strs, s, n) || sy_buf_add(&d->strs, "", 1))
      return joom(d);
  }
  return jscalar(d, &v);
}

static int y_start_map(void *ud) {
  return jopen(ud, C_OBJECT);
}
static int y_start_array(void *ud) {
  return jopen(ud, C_ARRAY);
}
static int y_end(void *ud) {
  return jclose(ud);
}

/* A key that is not a column, recorded: 1 when new, 0 when the parse
 * stops (a duplicate is malformed JSON; out of memory). */
static int key_new(jdec *d, const unsigned char *k, size_t n) {
  int nw = dup_add(d, k, n);
  return nw < 0 ? joom(d) : nw ? 1 : jbad(d, "duplicate object key");
}

static int y_key(void *ud, const unsigned char *k, size_t n) {
  jdec *d = ud;
  int top = jtop(d);
  if (!utf8_ok(k, n))
    return jbad(d, memchr(k, 0, n) ? "\\u0000 is not allowed"
                                   : "unable to decode a key: not UTF-8");
  if (!surrogates_ok(d, k))
    return jbad(d, "invalid Unicode: a lone surrogate");
  if (top == X_ROW || top == X_COLS) {
    /* rows name their columns in the same order, mostly: the column
     * after the last one first, then the table */
    int c = -1;
    size_t g = d->pend >= 0 && (size_t)d->pend + 1 < d->n_cols
                   ? (size_t)d->pend + 1
                   : 0;
    if (g < d->n_cols && d->cols[g].name_len == n &&
        memcmp(d->cols[g].name, k, n) == 0)
      c = (int)g;
    else
      c = tab_find(d, k, n, fnv(k, n));
    int in_first = top == X_COLS || d->cur_row == 0;
    if (c < 0 && d->s->open && in_first && !d->frozen) {
      if (col_add(d, (const char *)k, n, 1))
        return joom(d);
      c = (int)d->n_cols - 1;
    }
    d->pend = c;
    d->pend_label =
        c >= 0 && (size_t)c == d->n_fixed - 1 && d->s->label && !d->s->open;
    if (c >= 0) {
      if (d->cols[c].seen_in == d->serials[d->depth])
        return jbad(d, "duplicate object key");
      d->cols[c].seen_in = d->serials[d->depth];
      return 1;
    }
    /* not a column: a duplicate is still malformed, and the first one
     * in the text is the answer's 422 */
    if (!key_new(d, k, n))
      return 0;
    if (!d->have4) {
      d->have4 = 1;
      char list[400];
      if (!d->s->open) {
        schema_list(d->s, list, sizeof list);
        if (top == X_ROW)
          fail(&d->f4, 422, "unknown_column",
               "rows[%zu]: column '%.*s' is not an input of the model "
               "(inputs: %s)",
               d->cur_row, (int)(n > 1024 ? 1024 : n), (const char *)k, list);
        else
          fail(&d->f4, 422, "unknown_column",
               "columns: column '%.*s' is not an input of the model "
               "(inputs: %s)",
               (int)(n > 1024 ? 1024 : n), (const char *)k, list);
      } else {
        fail(&d->f4, 422, "unknown_column",
             "rows[%zu]: column '%.*s' is not in rows[0]", d->cur_row,
             (int)(n > 1024 ? 1024 : n), (const char *)k);
      }
    }
    return 1;
  }
  if (!key_new(d, k, n))
    return 0;
  if (top == X_ROOT) {
    d->root_keys++;
    d->pend = n == 4 && memcmp(k, "rows", 4) == 0      ? K_ROWS
              : n == 7 && memcmp(k, "columns", 7) == 0 ? K_COLS
                                                       : K_OTHER;
  }
  return 1;
}

/* yajl's allocations: from d->ybuf while it lasts (a 16-byte header
 * before each block holds its size, for realloc), then malloc. */
static int in_ybuf(const jdec *d, const void *p) {
  return (const char *)p >= d->ybuf &&
         (const char *)p < d->ybuf + sizeof d->ybuf;
}

static void *ymalloc(void *ud, size_t n) {
  jdec *d = ud;
  size_t need = 16 + ((n + 15) & ~(size_t)15);
  if (n <= sizeof d->ybuf && sizeof d->ybuf - d->yused >= need) {
    char *p = d->ybuf + d->yused;
    memcpy(p, &n, sizeof n);
    d->yused += need;
    return p + 16;
  }
  return malloc(n);
}

static void yfree(void *ud, void *p) {
  if (!in_ybuf(ud, p))
    free(p);
}

static void *yrealloc(void *ud, void *p, size_t n) {
  jdec *d = ud;
  if (!p || !in_ybuf(d, p))
    return p ? realloc(p, n) : ymalloc(d, n);
  size_t old;
  memcpy(&old, (char *)p - 16, sizeof old);
  if (n <= old)
    return p;
  void *q = ymalloc(d, n);
  if (q)
    memcpy(q, p, old);
  return q;
}

static const yajl_callbacks ycb = {y_null,   y_bool,        NULL,        NULL,
                                   y_number, y_string,      y_start_map, y_key,
                                   y_end,    y_start_array, y_end};

static jcell jget(const jdec *d, int col, size_t r) {
  const jcell none = {C_MISSING, 0, {0}};
  if (col < 0 || r >= d->cols[col].n)
    return none;
  return d->cols[col].cells[r];
}

static void jwhere(const jdec *d, const char *name, size_t r, char *buf,
                   size_t cap) {
  if (d->rows_kind)
    snprintf(buf, cap, "rows[%zu]: column '%s'", r, name);
  else
    snprintf(buf, cap, "columns['%s'][%zu]", name, r);
}

/* The type of a column without a schema: numbers (i64 when all are
 * integers), strings, or -1 with f filled when they mix. All null: f64. */
static int jinfer(const jdec *d, int col, sy_col_type *type, serve_fail *f) {
  int seen_int = 0, seen_real = 0, seen_str = 0;
  const char *name = d->cols[col].name;
  for (size_t r = 0; r < d->n_rows; r++) {
    jcell v = jget(d, col, r);
    if (v.tag == C_MISSING || v.tag == C_NULL)
      continue;
    if (v.tag == C_INT)
      seen_int = 1;
    else if (v.tag == C_REAL)
      seen_real = 1;
    else if (v.tag == C_STR)
      seen_str = 1;
    else {
      char where[320];
      jwhere(d, name, r, where, sizeof where);
      return fail(f, 422, "bad_value", "%s: %s is not a cell value", where,
                  tag_kind((int)v.tag));
    }
    if (seen_str && (seen_int || seen_real)) {
      char where[320];
      jwhere(d, name, r, where, sizeof where);
      return fail(f, 422, "bad_value",
                  "%s: column '%s' mixes numbers and strings", where, name);
    }
  }
  *type = seen_str                 ? SY_COL_STR
          : seen_real || !seen_int ? SY_COL_F64
                                   : SY_COL_I64;
  return 0;
}

static int scratch(jdec *d, size_t n) {
  if (n <= d->scratch_cap)
    return 0;
  free(d->f64);
  free(d->i64);
  free(d->valid);
  free(d->sv);
  d->f64 = malloc(n * sizeof *d->f64);
  d->i64 = malloc(n * sizeof *d->i64);
  d->valid = malloc(n);
  d->sv = malloc(n * sizeof *d->sv);
  d->scratch_cap = d->f64 && d->i64 && d->valid && d->sv ? n : 0;
  return d->scratch_cap ? 0 : SY_ENOMEM;
}

/* Column col of type `type` checked cell by cell and added to the frame;
 * col -1: a schema column the request does not name. */
static int jcolumn(jdec *d, sy_value *frame, int col, const char *name,
                   sy_col_type type, serve_fail *f) {
  size_t nl = strlen(name);
  if (nl == 0 || nl > SY_VALUE_MAX_NAME)
    return fail(f, 422, "bad_column", "column '%s': not a valid column name",
                name);
  int nulls = 0;
  for (size_t r = 0; r < d->n_rows; r++) {
    jcell v = jget(d, col, r);
    int ok = 1;
    d->valid[r] = 1;
    switch (v.tag) {
    case C_MISSING: {
      char where[320];
      jwhere(d, name, r, where, sizeof where);
      return fail(f, 422, "missing_column", "%s: missing", where);
    }
    case C_NULL:
      d->valid[r] = 0;
      nulls = 1;
      d->f64[r] = 0;
      d->i64[r] = 0;
      d->sv[r] = NULL;
      break;
    case C_INT:
      if (type == SY_COL_F64)
        d->f64[r] = (double)v.u.i;
      else if (type == SY_COL_I64)
        d->i64[r] = v.u.i;
      else
        ok = 0;
      break;
    case C_REAL:
      if (type == SY_COL_F64)
        d->f64[r] = v.u.d;
      else
        ok = 0;
      break;
    case C_STR:
      if (type == SY_COL_STR)
        d->sv[r] = d->strs.data + v.u.off;
      else
        ok = 0;
      break;
    default:
      ok = 0;
    }
    if (!ok) {
      char where[320];
      jwhere(d, name, r, where, sizeof where);
      return fail(f, 422, "bad_value", "%s: expected %s, got %s", where,
                  type == SY_COL_STR   ? "a string"
                  : type == SY_COL_I64 ? "an integer (i64)"
                                       : "a number (f64)",
                  tag_kind((int)v.tag));
    }
  }
  int rc = type == SY_COL_F64
               ? sy_frame_add_f64(frame, name, d->f64, nulls ? d->valid : NULL)
           : type == SY_COL_I64
               ? sy_frame_add_i64(frame, name, d->i64, nulls ? d->valid : NULL)
               : sy_frame_add_str(frame, name, d->sv);
  if (rc == SY_ENOMEM)
    return rc;
  if (rc)
    return fail(f, 422, "bad_value", "column '%s': refused", name);
  return 0;
}

/* Drops what a big request left, so that one 8 MiB body does not stay. */
static void jdec_trim(jdec *d) {
  for (size_t i = 0; i < d->cap_cols; i++)
    if (d->cols[i].cap > 4096 || i >= 64) {
      free(d->cols[i].cells);
      d->cols[i].cells = NULL;
      d->cols[i].cap = d->cols[i].n = 0;
    }
  for (size_t i = 0; i < d->cap_cols; i++) {
    free(d->cols[i].own);
    d->cols[i].own = NULL;
  }
  if (d->strs.cap > ((size_t)1 << 20))
    sy_buf_free(&d->strs);
  if (d->keys.cap > ((size_t)1 << 20))
    sy_buf_free(&d->keys);
  if (d->dup_cap > 256) {
    free(d->dups);
    d->dups = NULL;
    d->dup_cap = 0;
  }
  if (d->scratch_cap > 4096) {
    free(d->f64);
    free(d->i64);
    free(d->valid);
    free(d->sv);
    d->f64 = NULL;
    d->i64 = NULL;
    d->valid = NULL;
    d->sv = NULL;
    d->scratch_cap = 0;
  }
}

static int decode_json(const char *body, size_t len, const serve_schema *s,
                       sy_value **out, serve_fail *f) {
  jdec *d = jdec_get();
  if (!d)
    return SY_ENOMEM;
  /* reset the request's part */
  memset(&d->h, 0, sizeof *d - offsetof(jdec, h));
  d->body = body;
  d->len = len;
  d->s = s;
  d->strs.len = d->keys.len = 0;
  d->strs.failed = d->keys.failed = 0;
  if (++d->gen == 0) { /* wrapped: no slot may look current */
    if (d->dup_cap)
      memset(d->dups, 0, d->dup_cap * sizeof *d->dups);
    d->gen = 1;
  }
  int rc = tab_build(d, s->open ? 8 : s->n + 1);
  if (rc == 0 && !s->open) {
    for (size_t i = 0; rc == 0 && i < s->n; i++)
      rc = col_add(d, s->names[i], strlen(s->names[i]), 0);
    if (rc == 0 && s->label)
      rc = col_add(d, s->label, strlen(s->label), 0);
  }
  d->n_fixed = d->n_cols;
  sy_value *frame = NULL;
  if (rc)
    goto done;
  yajl_alloc_funcs af = {ymalloc, yrealloc, yfree, d};
  if (!(d->h = yajl_alloc(&ycb, &af, d))) {
    rc = SY_ENOMEM;
    goto done;
  }
  yajl_status st = yajl_parse(d->h, (const unsigned char *)body, len);
  size_t pos = yajl_get_bytes_consumed(d->h);
  if (st == yajl_status_ok) {
    d->finishing = 1; /* yajl counts bytes from 0 again */
    st = yajl_complete_parse(d->h);
    pos = len;
  }
  if (d->oom) {
    rc = SY_ENOMEM;
    goto done;
  }
  if (st != yajl_status_ok) {
    if (!d->bad) {
      unsigned char *e = yajl_get_error(d->h, 0, NULL, 0);
      const char *what = e ? (const char *)e : "syntax error";
      const char *colon = strstr(what, "error: ");
      if (colon)
        what = colon + 7;
      char msg[200];
      snprintf(msg, sizeof msg, "%s", what);
      msg[strcspn(msg, "\n")] = '\0';
      jpos(d, pos > len ? len : pos, f, msg);
      if (e)
        yajl_free_error(d->h, e);
    } else {
      *f = d->f;
    }
    rc = SERVE_REFUSED;
    goto done;
  }
  rc = SERVE_REFUSED;
  /* yajl drops an unfinished token after the value (`{...}"`), and
   * takes \v and \f for white space (JSON does not: outside strings,
   * where neither may be raw, they are all they can be) */
  for (size_t i = d->root_end; i < len; i++)
    if (!strchr(" \t\r\n", body[i]) || !body[i]) {
      jpos(d, len, f, "end of file expected");
      goto done;
    }
  const char *vf = memchr(body, '\v', len);
  const char *ff = memchr(body, '\f', len);
  if (vf || ff) {
    jpos(d, (size_t)((ff && (!vf || ff < vf) ? ff : vf) - body) + 1, f,
         "invalid token");
    goto done;
  }
  if (d->root_kind != C_OBJECT || d->root_keys != 1 ||
      (!d->rows_kind && !d->cols_kind)) {
    fail(f, 400, "bad_request",
         "the body must be an object with one key, \"rows\" (an array of "
         "objects) or \"columns\" (an object of arrays)");
    goto done;
  }
  if (d->rows_kind && d->rows_kind != C_ARRAY) {
    fail(f, 400, "bad_request", "\"rows\" must be an array of objects");
    goto done;
  }
  if (d->cols_kind && d->cols_kind != C_OBJECT) {
    fail(f, 400, "bad_request", "\"columns\" must be an object of arrays");
    goto done;
  }
  if (d->have2) {
    *f = d->f2;
    goto done;
  }
  if (d->n_rows == 0) {
    fail(f, 422, "no_rows", "the request has no rows");
    goto done;
  }
  if (d->have4) {
    *f = d->f4;
    goto done;
  }
  if ((rc = scratch(d, d->n_rows)) != 0 ||
      (rc = sy_frame_new(d->n_rows, &frame)) != 0)
    goto done;
  /* The schema's columns in its order (what apply's feed gives), then the
   * label; without a schema, the request's columns in its order. */
  if (!s->open) {
    for (size_t i = 0; rc == 0 && i < s->n; i++)
      rc = jcolumn(d, frame, (int)i, s->names[i], s->types[i], f);
    if (rc == 0 && s->label && d->label_first) {
      sy_col_type t;
      int lc = (int)s->n;
      if ((rc = jinfer(d, lc, &t, f)) == 0)
        rc = jcolumn(d, frame, lc, s->label, t, f);
    }
  } else {
    for (size_t i = 0; rc == 0 && i < d->n_cols; i++) {
      sy_col_type t;
      if ((rc = jinfer(d, (int)i, &t, f)) == 0)
        rc = jcolumn(d, frame, (int)i, d->cols[i].name, t, f);
    }
  }
  if (rc == 0) {
    *out = frame;
    frame = NULL;
  }
done:
  sy_value_unref(frame);
  if (d->h)
    yajl_free(d->h);
  d->h = NULL;
  d->n_cols = 0;
  jdec_trim(d);
  return rc;
}

/* ---- CSV ------------------------------------------------------------ */

typedef struct header {
  char **names;
  size_t n;
  int oom;
} header;

static int add_name(void *ud, const char *name, sy_col_type type) {
  (void)type;
  header *h = ud;
  char **names = realloc(h->names, (h->n + 1) * sizeof *names);
  if (!names || !(names[h->n] = strdup(name))) {
    if (names)
      h->names = names;
    h->oom = 1;
    return SY_ENOMEM;
  }
  h->names = names;
  h->n++;
  return 0;
}

static void header_free(header *h) {
  for (size_t i = 0; i < h->n; i++)
    free(h->names[i]);
  free(h->names);
}

static int header_has(const header *h, const char *name) {
  for (size_t i = 0; i < h->n; i++)
    if (strcmp(h->names[i], name) == 0)
      return 1;
  return 0;
}

static int decode_csv(const char *body, size_t len, const serve_schema *s,
                      sy_value **out, serve_fail *f) {
  sy_csv_options o = {sizeof o, ',', 0, NULL, "request"};
  header h = {0};
  sy_error err;
  sy_error_clear(&err);
  char **types = NULL;
  sy_value *raw = NULL, *frame = NULL;
  char list[400];
  int rc = sy_csv_read_header(body, len, 1, &o, add_name, &h, &err);
  if (rc == SY_ENOMEM || h.oom) {
    rc = SY_ENOMEM;
    goto done;
  }
  if (rc) {
    rc = fail(f, 400, "malformed_csv", "%s", err.message);
    goto done;
  }
  if (!s->open) {
    for (size_t i = 0; i < h.n; i++)
      if (!schema_has(s, h.names[i]) &&
          !(s->label && strcmp(h.names[i], s->label) == 0)) {
        schema_list(s, list, sizeof list);
        rc = fail(f, 422, "unknown_column",
                  "header: column '%s' is not an input of the model "
                  "(inputs: %s)",
                  h.names[i], list);
        goto done;
      }
    for (size_t i = 0; i < s->n; i++)
      if (!header_has(&h, s->names[i])) {
        rc = fail(f, 422, "missing_column", "header: missing column '%s'",
                  s->names[i]);
        goto done;
      }
    /* Declared types: "name:type" for each schema column. */
    types = calloc(s->n + 1, sizeof *types);
    if (!types) {
      rc = SY_ENOMEM;
      goto done;
    }
    for (size_t i = 0; i < s->n; i++) {
      size_t n = strlen(s->names[i]) + 8;
      if (!(types[i] = malloc(n))) {
        rc = SY_ENOMEM;
        goto done;
      }
      snprintf(types[i], n, "%s:%s", s->names[i], serve_type_name(s->types[i]));
    }
    o.types = (const char *const *)types;
  }
  rc = sy_csv_read(body, len, &o, &raw, &err);
  if (rc == SY_ENOMEM)
    goto done;
  if (rc == SY_ETOOBIG) {
    rc = fail(f, 413, "too_large", "%s", err.message);
    goto done;
  }
  if (rc) {
    /* A cell of the wrong type names its column: 422; the rest is the
     * text's syntax: 400. Both say request:LINE:COLUMN. */
    int typed = strstr(err.message, ": column '") != NULL;
    rc = fail(f, typed ? 422 : 400, typed ? "bad_value" : "malformed_csv", "%s",
              err.message);
    goto done;
  }
  size_t rows = sy_frame_rows(raw);
  if (rows == 0) {
    rc = fail(f, 422, "no_rows", "the request has no rows");
    goto done;
  }
  if (s->open) {
    frame = raw;
    raw = NULL;
  } else {
    /* In the schema's order, then the label. */
    if ((rc = sy_frame_new(rows, &frame)) != 0)
      goto done;
    for (size_t i = 0; rc == 0 && i <= s->n; i++) {
      const char *name = i < s->n ? s->names[i] : s->label;
      int c = name ? sy_frame_col_index(raw, name) : -1;
      if (c >= 0)
        rc = sy_frame_add_column_from(frame, NULL, raw, (size_t)c);
    }
    if (rc)
      goto done;
  }
  *out = frame;
  frame = NULL;
done:
  if (types)
    for (size_t i = 0; types[i]; i++)
      free(types[i]);
  free(types);
  header_free(&h);
  sy_value_unref(raw);
  sy_value_unref(frame);
  return rc;
}

static serve_fast_fn fast_fn;
static atomic_ulong fast_n;

static serve_rows_fn rows_fn;

void serve_set_fast(serve_fast_fn fn) {
  fast_fn = fn;
}

void serve_set_fast_rows(serve_rows_fn fn) {
  rows_fn = fn;
}

int serve_decode_rows(const char *body, size_t len, const serve_schema *s,
                      size_t max_rows, const double **x, size_t *rows) {
  *x = NULL;
  *rows = 0;
  if (!rows_fn)
    return SERVE_FAST_DECLINED;
  int rc = rows_fn(body, len, s, max_rows, x, rows);
  if (rc == 0)
    atomic_fetch_add_explicit(&fast_n, 1, memory_order_relaxed);
  return rc;
}

unsigned long serve_fast_count(void) {
  return atomic_load_explicit(&fast_n, memory_order_relaxed);
}

int serve_decode(const char *body, size_t len, int kind,
                 const serve_schema *schema, sy_value **out, serve_fail *f) {
  static const serve_schema open = {0, NULL, NULL, NULL, 1};
  *out = NULL;
  memset(f, 0, sizeof *f);
  if (!schema || (schema->open && schema->n == 0))
    schema = &open;
  if (len == 0)
    return fail(f, 400, "empty_body", "the request has no body");
  /* simdjson first; what it declines (errors, corners) is yajl's */
  if (kind == SERVE_BODY_JSON && fast_fn) {
    int rc = fast_fn(body, len, schema, out);
    if (rc == 0) {
      atomic_fetch_add_explicit(&fast_n, 1, memory_order_relaxed);
      return 0;
    }
    *out = NULL;
  }
  return kind == SERVE_BODY_CSV ? decode_csv(body, len, schema, out, f)
                                : decode_json(body, len, schema, out, f);
}

/* ---- answers -------------------------------------------------------- */

/* The length of the valid UTF-8 sequence at p (1 to 4), or 0. */
static size_t utf8_len(const unsigned char *p) {
  unsigned c = p[0];
  size_t n = c < 0x80                 ? 1
             : c >= 0xc2 && c <= 0xdf ? 2
             : c >= 0xe0 && c <= 0xef ? 3
             : c >= 0xf0 && c <= 0xf4 ? 4
                                      : 0;
  for (size_t k = 1; k < n; k++)
    if ((p[k] & 0xc0) != 0x80)
      return 0;
  if (n == 3 && ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f)))
    return 0; /* overlong, surrogate */
  if (n == 4 && ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] > 0x8f)))
    return 0; /* overlong, past U+10FFFF */
  return n;
}

/* A JSON string literal of s; bytes that are not UTF-8 (a CSV request
 * may carry them) become U+FFFD, so that the answer is always JSON. */
void serve_json_str(sy_buf *b, const char *s) {
  sy_buf_add(b, "\"", 1);
  const unsigned char *p = (const unsigned char *)s;
  while (*p) {
    const unsigned char *run = p;
    size_t n;
    while (*p && *p != '"' && *p != '\\' && *p >= 0x20 &&
           (n = utf8_len(p)) != 0)
      p += n;
    if (p > run)
      sy_buf_add(b, run, (size_t)(p - run));
    if (!*p)
      break;
    switch (*p) {
    case '"':
      sy_buf_puts(b, "\\\"");
      break;
    case '\\':
      sy_buf_puts(b, "\\\\");
      break;
    case '\n':
      sy_buf_puts(b, "\\n");
      break;
    case '\r':
      sy_buf_puts(b, "\\r");
      break;
    case '\t':
      sy_buf_puts(b, "\\t");
      break;
    default:
      if (*p < 0x20)
        sy_buf_printf(b, "\\u%04x", *p);
      else
        sy_buf_puts(b, "\\ufffd");
    }
    p++;
  }
  sy_buf_add(b, "\"", 1);
}

void serve_error_json(sy_buf *b, const char *error, const char *detail) {
  sy_buf_puts(b, "{\"error\":");
  serve_json_str(b, error);
  sy_buf_puts(b, ",\"detail\":");
  serve_json_str(b, detail);
  sy_buf_puts(b, "}\n");
}

/* Writes v in decimal at p (room for 21 bytes); returns the length. */
static size_t put_i64(char *p, int64_t v) {
  char t[24];
  size_t n = 0;
  uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
  do
    t[n++] = (char)('0' + u % 10);
  while ((u /= 10) != 0);
  size_t k = 0;
  if (v < 0)
    p[k++] = '-';
  while (n)
    p[k++] = t[--n];
  return k;
}

/* An f64 cell at p (room for 34 bytes) as the CSV sinks write it, in
 * quotes when it is not finite ("nan", "inf", "-inf"); the end. */
static char *put_f64(char *p, double v) {
  int fin = isfinite(v);
  if (!fin)
    *p++ = '"';
  int n = sy_csv_format_f64(v, p, 32);
  p += n > 0 ? n : 0;
  if (!fin)
    *p++ = '"';
  return p;
}

/* The `"name":` text of an answer's columns, kept per thread. */
static _Thread_local sy_buf enc_keys;
static pthread_key_t enc_key;
static pthread_once_t enc_once = PTHREAD_ONCE_INIT;
static void enc_drop(void *p) {
  sy_buf_free(p);
  memset(p, 0, sizeof(sy_buf));
}
static void enc_init(void) {
  pthread_key_create(&enc_key, enc_drop);
}

/* The rows of a frame of up to 64 columns, `"name":` texts given
 * (keys + key_at[c] .. key_at[c + 1]): each row is written straight into
 * room made for its longest text, columns read through their arrays. */
static void encode_rows(const sy_value *frame, const char *keys,
                        const size_t *key_at, sy_buf *b) {
  size_t rows = sy_frame_rows(frame), cols = sy_frame_cols(frame);
  struct {
    sy_col_type type;
    const double *f;
    const int64_t *i;
    const uint8_t *valid;
  } ec[64];
  for (size_t c = 0; c < cols; c++) {
    ec[c].type = sy_frame_col_type(frame, c);
    ec[c].f = ec[c].type == SY_COL_F64 ? sy_frame_f64(frame, c) : NULL;
    ec[c].i = ec[c].type == SY_COL_I64 ? sy_frame_i64(frame, c) : NULL;
    ec[c].valid = ec[c].type != SY_COL_STR ? sy_frame_valid(frame, c) : NULL;
  }
  /* a number: up to 32 bytes, and quotes for nan and inf */
  size_t row_max = 3 + key_at[cols] + cols * 34;
  sy_buf_reserve(b, 16 + rows * row_max);
  sy_buf_puts(b, "{\"rows\":[");
  for (size_t r = 0; r < rows; r++) {
    if (sy_buf_reserve(b, row_max))
      return;
    char *p = b->data + b->len;
    if (r)
      *p++ = ',';
    *p++ = '{';
    for (size_t c = 0; c < cols; c++) {
      memcpy(p, keys + key_at[c], key_at[c + 1] - key_at[c]);
      p += key_at[c + 1] - key_at[c];
      if (ec[c].valid && !ec[c].valid[r]) {
        memcpy(p, "null", 4);
        p += 4;
        continue;
      }
      switch (ec[c].type) {
      case SY_COL_F64:
        p = put_f64(p, ec[c].f[r]);
        break;
      case SY_COL_I64:
        p += put_i64(p, ec[c].i[r]);
        break;
      case SY_COL_STR:
        b->len = (size_t)(p - b->data);
        if (sy_frame_is_null(frame, c, r))
          sy_buf_puts(b, "null");
        else
          serve_json_str(b, sy_frame_str(frame, c, r));
        if (sy_buf_reserve(b, row_max))
          return;
        p = b->data + b->len;
        break;
      }
    }
    *p++ = '}';
    *p = '\0';
    b->len = (size_t)(p - b->data);
  }
  sy_buf_puts(b, "]}\n");
}

void serve_row_enc_free(serve_row_enc *e) {
  for (size_t c = 0; e->lab_at && c < e->w; c++)
    free(e->lab_at[c]);
  free(e->lab_at);
  free(e->key_at);
  free(e->n_lab);
  sy_buf_free(&e->text);
  memset(e, 0, sizeof *e);
}

int serve_row_enc_init(serve_row_enc *e, size_t w, const char *const *names,
                       const char *const *const *labels,
                       const size_t *n_labels) {
  memset(e, 0, sizeof *e);
  e->text = (sy_buf)SY_BUF_INIT;
  e->w = w;
  e->key_at = calloc(w + 1, sizeof *e->key_at);
  e->lab_at = calloc(w ? w : 1, sizeof *e->lab_at);
  e->n_lab = calloc(w ? w : 1, sizeof *e->n_lab);
  if (!e->key_at || !e->lab_at || !e->n_lab)
    goto nomem;
  for (size_t c = 0; c < w; c++) {
    e->key_at[c] = e->text.len;
    sy_buf_add(&e->text, c ? "," : "", c ? 1 : 0);
    serve_json_str(&e->text, names[c]);
    sy_buf_add(&e->text, ":", 1);
  }
  e->key_at[w] = e->text.len;
  for (size_t c = 0; c < w; c++) {
    if (!labels || !labels[c])
      continue;
    e->n_lab[c] = n_labels[c];
    if (!(e->lab_at[c] = malloc((n_labels[c] + 1) * sizeof **e->lab_at)))
      goto nomem;
    for (size_t i = 0; i < n_labels[c]; i++) {
      e->lab_at[c][i] = e->text.len;
      serve_json_str(&e->text, labels[c][i]);
    }
    e->lab_at[c][n_labels[c]] = e->text.len;
  }
  if (e->text.failed)
    goto nomem;
  /* a number: up to 32 bytes and quotes; a label: its longest text */
  e->row_max = 3 + e->key_at[w];
  for (size_t c = 0; c < w; c++) {
    size_t most = 34;
    for (size_t i = 0; e->lab_at[c] && i < e->n_lab[c]; i++)
      if (e->lab_at[c][i + 1] - e->lab_at[c][i] > most)
        most = e->lab_at[c][i + 1] - e->lab_at[c][i];
    e->row_max += most;
  }
  return 0;
nomem:
  serve_row_enc_free(e);
  return SY_ENOMEM;
}

int serve_label_index(double v, size_t n, size_t *i) {
  /* NaN fails the first test */
  if (!(v >= 0 && v < (double)n) || v != (double)(size_t)v)
    return 0;
  *i = (size_t)v;
  return 1;
}

/* One row's cells at p (room made): the end, or NULL for a label cell
 * that is not an index into its table. */
static char *encode_row(const serve_row_enc *e, const double *y, char *p) {
  for (size_t c = 0; c < e->w; c++) {
    size_t k = e->key_at[c + 1] - e->key_at[c];
    memcpy(p, e->text.data + e->key_at[c], k);
    p += k;
    if (!e->lab_at[c]) {
      p = put_f64(p, y[c]);
      continue;
    }
    size_t i;
    if (!serve_label_index(y[c], e->n_lab[c], &i))
      return NULL;
    size_t at = e->lab_at[c][i];
    k = e->lab_at[c][i + 1] - at;
    memcpy(p, e->text.data + at, k);
    p += k;
  }
  return p;
}

int serve_encode_row_json(const serve_row_enc *e, const double *y, size_t rows,
                          sy_buf *b) {
  size_t row_max = e->row_max;
  if (rows > (SIZE_MAX - 16) / row_max ||
      sy_buf_reserve(b, 16 + rows * row_max))
    return SY_ENOMEM;
  sy_buf_puts(b, "{\"rows\":[");
  for (size_t r = 0; r < rows; r++, y += e->w) {
    if (sy_buf_reserve(b, row_max))
      return SY_ENOMEM;
    char *p = b->data + b->len;
    if (r)
      *p++ = ',';
    *p++ = '{';
    if (!(p = encode_row(e, y, p)))
      return SY_ERANGE;
    *p++ = '}';
    *p = '\0';
    b->len = (size_t)(p - b->data);
  }
  return sy_buf_puts(b, "]}\n") ? SY_ENOMEM : 0;
}

int serve_encode_json(const sy_value *frame, sy_buf *b) {
  size_t rows = sy_frame_rows(frame), cols = sy_frame_cols(frame);
  char num[64];
  /* Each `"name":` once (it is in every row), and room for the answer's
   * usual size up front. */
  sy_buf keys = enc_keys;
  if (!keys.data) {
    pthread_once(&enc_once, enc_init);
    pthread_setspecific(enc_key, &enc_keys); /* freed when the thread ends */
  }
  keys.len = 0;
  keys.failed = 0;
  size_t key_at[65];
  int small = cols <= 64;
  for (size_t c = 0; small && c < cols; c++) {
    key_at[c] = keys.len;
    sy_buf_add(&keys, c ? "," : "", c ? 1 : 0);
    serve_json_str(&keys, sy_frame_col_name(frame, c));
    sy_buf_add(&keys, ":", 1);
  }
  if (small)
    key_at[cols] = keys.len;
  if (keys.failed) {
    sy_buf_free(&keys);
    enc_keys = keys;
    return SY_ENOMEM;
  }
  if (small) {
    encode_rows(frame, keys.data, key_at, b);
  } else {
    sy_buf_puts(b, "{\"rows\":[");
    for (size_t r = 0; r < rows && !b->failed; r++) {
      sy_buf_puts(b, r ? ",{" : "{");
      for (size_t c = 0; c < cols; c++) {
        if (c)
          sy_buf_add(b, ",", 1);
        serve_json_str(b, sy_frame_col_name(frame, c));
        sy_buf_add(b, ":", 1);
        if (sy_frame_is_null(frame, c, r)) {
          sy_buf_puts(b, "null");
          continue;
        }
        switch (sy_frame_col_type(frame, c)) {
        case SY_COL_F64: {
          double v = sy_frame_f64(frame, c)[r];
          if (sy_csv_format_f64(v, num, sizeof num) > 0)
            sy_buf_printf(b, isfinite(v) ? "%s" : "\"%s\"", num);
          break;
        }
        case SY_COL_I64:
          if (sy_buf_reserve(b, 24) == 0)
            b->len += put_i64(b->data + b->len, sy_frame_i64(frame, c)[r]);
          break;
        case SY_COL_STR:
          serve_json_str(b, sy_frame_str(frame, c, r));
          break;
        }
      }
      sy_buf_add(b, "}", 1);
    }
    sy_buf_puts(b, "]}\n");
  }
  if (keys.cap > 65536)
    sy_buf_free(&keys);
  enc_keys = keys;
  return b->failed ? SY_ENOMEM : 0;
}

static int put_buf(void *ud, const void *p, size_t n) {
  return sy_buf_add(ud, p, n) ? SY_ENOMEM : 0;
}

int serve_encode_csv(const sy_value *frame, sy_buf *b) {
  sy_error err;
  sy_error_clear(&err);
  int rc = sy_csv_write(frame, ',', put_buf, b, &err);
  return rc ? SY_ENOMEM : 0;
}
