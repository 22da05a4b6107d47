/*
 * serve_req.c - decoding predict requests, encoding answers (serve_req.h).
 *
 * JSON is parsed by jansson (json_loadb: its error says line, column and
 * byte offset, which the 400 answer passes on), CSV by sy_csv_read. Both
 * forms end in the same checks: every column the schema names is there,
 * no other column is (the label column aside), and each cell has the
 * column's type, or the answer is 422 naming the column (and the row).
 */
#include "serve_req.h"

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* ---- jansson's memory: a per-thread arena -------------------------- */

/* A request's JSON tree lives from json_loadb to json_decref, both in
 * decode_json, on one thread: hundreds of small malloc/free pairs per
 * 100 rows (values, keys, hash tables), a good part of a batch's cost.
 * Instead they are cut from one block per thread, dropped whole when the
 * tree is gone. jansson takes one pair of functions for the whole
 * process (json_set_alloc_funcs), so these fall through to malloc/free
 * on a thread that has no arena open (any other use of jansson) or when
 * the block is full; jfree tells the arena's pointers by their address
 * and ignores them. The block grows to what the biggest request asked
 * for (up to JARENA_MAX) at the next open, and is freed when its thread
 * ends (jarena_key's destructor). */
#define JARENA_MIN ((size_t)64 << 10)
#define JARENA_MAX ((size_t)64 << 20)
typedef struct jarena_t {
  char *base;
  size_t cap, used, want;
  int open;
} jarena_t;
static _Thread_local jarena_t jarena;
static pthread_key_t jarena_key;
static pthread_once_t jarena_once = PTHREAD_ONCE_INIT;

static void *jmalloc(size_t n) {
  jarena_t *a = &jarena;
  size_t need = (n + 15) & ~(size_t)15;
  if (a->open && need >= n) {
    a->want += need;
    if (a->cap - a->used >= need) {
      void *p = a->base + a->used;
      a->used += need;
      return p;
    }
  }
  return malloc(n);
}

static void jfree(void *p) {
  jarena_t *a = &jarena;
  uintptr_t u = (uintptr_t)p, b = (uintptr_t)a->base;
  if (a->base && u >= b && u < b + a->cap)
    return; /* the arena's: dropped with it */
  free(p);
}

static void jarena_drop(void *unused) {
  (void)unused;
  free(jarena.base);
  memset(&jarena, 0, sizeof jarena);
}

static void jarena_init(void) {
  pthread_key_create(&jarena_key, jarena_drop);
  json_set_alloc_funcs(jmalloc, jfree);
}

/* Opens this thread's arena for one tree (sized by the last one). */
static void jarena_open(void) {
  pthread_once(&jarena_once, jarena_init);
  jarena_t *a = &jarena;
  size_t want = a->want > JARENA_MAX ? JARENA_MAX : a->want;
  if (!a->base || want > a->cap) {
    size_t cap = a->cap ? a->cap : JARENA_MIN;
    while (cap < want)
      cap *= 2;
    char *base = malloc(cap);
    if (base) {
      free(a->base);
      a->base = base;
      a->cap = cap;
      pthread_setspecific(jarena_key, a); /* freed when the thread ends */
    }
  }
  a->used = a->want = 0;
  a->open = a->base != NULL;
}

/* Closes it: every value cut from it must be gone (json_decref). */
static void jarena_close(void) {
  jarena.open = 0;
  jarena.used = 0;
}

/* ---- JSON ----------------------------------------------------------- */

/* The request as cells: rows[r][name] or columns[name][r]. */
typedef struct jreq {
  json_t *rows; /* array of objects, or NULL */
  json_t *cols; /* object of arrays, or NULL */
  size_t n_rows;
} jreq;

static json_t *jcell(const jreq *q, const char *name, size_t r) {
  if (q->rows)
    return json_object_get(json_array_get(q->rows, r), name);
  return json_array_get(json_object_get(q->cols, name), r);
}

/* Where a cell is, for messages. */
static void jwhere(const jreq *q, const char *name, size_t r, char *buf,
                   size_t cap) {
  if (q->rows)
    snprintf(buf, cap, "rows[%zu]: column '%s'", r, name);
  else
    snprintf(buf, cap, "columns['%s'][%zu]", name, r);
}

static const char *jkind(const json_t *v) {
  switch (json_typeof(v)) {
  case JSON_OBJECT:
    return "an object";
  case JSON_ARRAY:
    return "an array";
  case JSON_STRING:
    return "a string";
  case JSON_INTEGER:
    return "an integer";
  case JSON_REAL:
    return "a number";
  case JSON_TRUE:
  case JSON_FALSE:
    return "a boolean";
  case JSON_NULL:
    return "null";
  }
  return "?";
}

/* The type of a column without a schema: numbers (i64 when all are
 * integers), strings, or -1 with f filled when they mix. All null: f64. */
static int jinfer(const jreq *q, const char *name, sy_col_type *type,
                  serve_fail *f) {
  int seen_int = 0, seen_real = 0, seen_str = 0;
  for (size_t r = 0; r < q->n_rows; r++) {
    json_t *v = jcell(q, name, r);
    if (!v || json_is_null(v))
      continue;
    if (json_is_integer(v))
      seen_int = 1;
    else if (json_is_real(v))
      seen_real = 1;
    else if (json_is_string(v))
      seen_str = 1;
    else {
      char where[320];
      jwhere(q, name, r, where, sizeof where);
      return fail(f, 422, "bad_value", "%s: %s is not a cell value", where,
                  jkind(v));
    }
    if (seen_str && (seen_int || seen_real)) {
      char where[320];
      jwhere(q, name, r, where, sizeof where);
      return fail(f, 422, "bad_value",
                  "%s: column '%s' mixes numbers and strings", where, name);
    }
  }
  *type = seen_str                 ? SY_COL_STR
          : seen_real || !seen_int ? SY_COL_F64
                                   : SY_COL_I64;
  return 0;
}

static int jcolumn(const jreq *q, sy_frame_builder *b, const char *name,
                   sy_col_type type, serve_fail *f) {
  int col = sy_frame_builder_column(b, name, type);
  if (col < 0)
    return col == SY_ENOMEM ? SY_ENOMEM
                            : fail(f, 422, "bad_column",
                                   "column '%s': not a valid column "
                                   "name",
                                   name);
  for (size_t r = 0; r < q->n_rows; r++) {
    json_t *v = jcell(q, name, r);
    int rc = 0;
    if (!v) {
      char where[320];
      jwhere(q, name, r, where, sizeof where);
      return fail(f, 422, "missing_column", "%s: missing", where);
    }
    if (json_is_null(v))
      rc = sy_frame_builder_null(b, (size_t)col);
    else if (type == SY_COL_F64 && json_is_number(v))
      rc = sy_frame_builder_f64(b, (size_t)col, json_number_value(v));
    else if (type == SY_COL_I64 && json_is_integer(v))
      rc = sy_frame_builder_i64(b, (size_t)col, json_integer_value(v));
    else if (type == SY_COL_STR && json_is_string(v))
      rc = sy_frame_builder_strn(b, (size_t)col, json_string_value(v),
                                 json_string_length(v));
    else {
      char where[320];
      jwhere(q, name, r, where, sizeof where);
      return fail(f, 422, "bad_value", "%s: expected %s, got %s", where,
                  type == SY_COL_STR   ? "a string"
                  : type == SY_COL_I64 ? "an integer (i64)"
                                       : "a number (f64)",
                  jkind(v));
    }
    if (rc == SY_ENOMEM)
      return rc;
    if (rc)
      return fail(f, 422, "bad_value", "column '%s': cell %zu refused", name,
                  r);
  }
  return 0;
}

/* The column names of the request: the first row's keys, or the columns
 * object's; with a schema, each must be the schema's or the label. */
static int jcheck_names(const jreq *q, const serve_schema *s, serve_fail *f) {
  char list[400];
  size_t n_objs = q->rows ? q->n_rows : 1;
  for (size_t r = 0; r < n_objs; r++) {
    json_t *obj = q->rows ? json_array_get(q->rows, r) : q->cols;
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
      if (!s->open && !schema_has(s, key) &&
          !(s->label && strcmp(key, s->label) == 0)) {
        schema_list(s, list, sizeof list);
        return fail(f, 422, "unknown_column",
                    "%s%zu%s: column '%s' is not an input of the model "
                    "(inputs: %s)",
                    q->rows ? "rows[" : "columns", q->rows ? r : 0,
                    q->rows ? "]" : "", key, list);
      }
      if (q->cols && !json_is_array(v))
        return fail(f, 400, "bad_request",
                    "columns['%s']: expected an array of cells, got %s", key,
                    jkind(v));
      if (q->cols && json_array_size(v) != q->n_rows)
        return fail(f, 422, "bad_column",
                    "columns['%s'] has %zu values, the first column %zu", key,
                    json_array_size(v), q->n_rows);
      if (q->rows && s->open && r > 0 &&
          !json_object_get(json_array_get(q->rows, 0), key))
        return fail(f, 422, "unknown_column",
                    "rows[%zu]: column '%s' is not in rows[0]", r, key);
    }
  }
  return 0;
}

static int decode_json(const char *body, size_t len, const serve_schema *s,
                       sy_value **out, serve_fail *f) {
  json_error_t je;
  jarena_open();
  json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
  if (!root) {
    jarena_close();
    return fail(f, 400, "malformed_json", "line %d, column %d (byte %d): %s",
                je.line, je.column, je.position, je.text);
  }
  int rc = SERVE_REFUSED;
  sy_frame_builder *b = NULL;
  jreq q = {0};
  json_t *rows = json_object_get(root, "rows");
  json_t *cols = json_object_get(root, "columns");
  if (!json_is_object(root) || json_object_size(root) != 1 ||
      (!rows && !cols)) {
    fail(f, 400, "bad_request",
         "the body must be an object with one key, \"rows\" (an array of "
         "objects) or \"columns\" (an object of arrays)");
    goto done;
  }
  if (rows) {
    if (!json_is_array(rows)) {
      fail(f, 400, "bad_request", "\"rows\" must be an array of objects");
      goto done;
    }
    for (size_t r = 0; r < json_array_size(rows); r++)
      if (!json_is_object(json_array_get(rows, r))) {
        fail(f, 400, "bad_request", "rows[%zu]: expected an object, got %s", r,
             jkind(json_array_get(rows, r)));
        goto done;
      }
    q.rows = rows;
    q.n_rows = json_array_size(rows);
  } else {
    if (!json_is_object(cols)) {
      fail(f, 400, "bad_request", "\"columns\" must be an object of arrays");
      goto done;
    }
    q.cols = cols;
    const char *key;
    json_t *v;
    json_object_foreach(cols, key, v) {
      q.n_rows = json_is_array(v) ? json_array_size(v) : 0;
      break;
    }
  }
  if (q.n_rows == 0) {
    fail(f, 422, "no_rows", "the request has no rows");
    goto done;
  }
  if ((rc = jcheck_names(&q, s, f)) != 0)
    goto done;
  rc = SERVE_REFUSED;
  if (sy_frame_builder_new(q.n_rows, &b) != 0) {
    rc = SY_ENOMEM;
    goto done;
  }
  /* The schema's columns in its order (what apply's feed gives), then the
   * label; without a schema, the request's columns in its order. */
  json_t *first = q.rows ? json_array_get(q.rows, 0) : q.cols;
  if (!s->open) {
    for (size_t i = 0; i < s->n; i++)
      if ((rc = jcolumn(&q, b, s->names[i], s->types[i], f)) != 0)
        goto done;
    if (s->label && json_object_get(first, s->label)) {
      sy_col_type t;
      if ((rc = jinfer(&q, s->label, &t, f)) != 0 ||
          (rc = jcolumn(&q, b, s->label, t, f)) != 0)
        goto done;
    }
  } else {
    const char *key;
    json_t *v;
    json_object_foreach(first, key, v) {
      sy_col_type t;
      if ((rc = jinfer(&q, key, &t, f)) != 0 ||
          (rc = jcolumn(&q, b, key, t, f)) != 0)
        goto done;
    }
  }
  sy_error err;
  sy_error_clear(&err);
  rc = sy_frame_builder_finish(b, out, &err);
  b = NULL;
  if (rc == SY_ENOMEM)
    goto done;
  if (rc)
    rc = fail(f, 422, "bad_request", "%s", err.message);
done:
  sy_frame_builder_free(b);
  json_decref(root);
  jarena_close();
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

int serve_decode(const char *body, size_t len, int kind,
                 const serve_schema *schema, sy_value **out, serve_fail *f) {
  static const serve_schema open = {0, NULL, NULL, NULL, 1};
  *out = NULL;
  memset(f, 0, sizeof *f);
  if (!schema || (schema->open && schema->n == 0))
    schema = &open;
  if (len == 0)
    return fail(f, 400, "empty_body", "the request has no body");
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

int serve_encode_json(const sy_value *frame, sy_buf *b) {
  size_t rows = sy_frame_rows(frame), cols = sy_frame_cols(frame);
  char num[64];
  /* Each `"name":` once (it is in every row), and room for the answer's
   * usual size up front. */
  sy_buf keys = SY_BUF_INIT;
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
    return SY_ENOMEM;
  }
  sy_buf_reserve(b, 16 + rows * (2 + (cols ? keys.len : 0) + cols * 24));
  sy_buf_puts(b, "{\"rows\":[");
  for (size_t r = 0; r < rows && !b->failed; r++) {
    sy_buf_puts(b, r ? ",{" : "{");
    for (size_t c = 0; c < cols; c++) {
      if (small) {
        sy_buf_add(b, keys.data + key_at[c], key_at[c + 1] - key_at[c]);
      } else {
        if (c)
          sy_buf_add(b, ",", 1);
        serve_json_str(b, sy_frame_col_name(frame, c));
        sy_buf_add(b, ":", 1);
      }
      if (sy_frame_is_null(frame, c, r)) {
        sy_buf_puts(b, "null");
        continue;
      }
      switch (sy_frame_col_type(frame, c)) {
      case SY_COL_F64: {
        double v = sy_frame_f64(frame, c)[r];
        if (isfinite(v)) { /* printed in place */
          if (sy_buf_reserve(b, 32) == 0) {
            int n = sy_csv_format_f64(v, b->data + b->len, 32);
            if (n > 0)
              b->len += (size_t)n;
          }
        } else if (sy_csv_format_f64(v, num, sizeof num) > 0) {
          sy_buf_printf(b, "\"%s\"", num);
        }
        break;
      }
      case SY_COL_I64:
        sy_buf_printf(b, "%lld", (long long)sy_frame_i64(frame, c)[r]);
        break;
      case SY_COL_STR:
        serve_json_str(b, sy_frame_str(frame, c, r));
        break;
      }
    }
    sy_buf_add(b, "}", 1);
  }
  sy_buf_free(&keys);
  sy_buf_puts(b, "]}\n");
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
