/*
 * csv.c - the platform's CSV dialect: RFC 4180 text to frames and back.
 *
 * Design. Reading is two passes over memory the caller already holds:
 *
 *   1. tokenise: one scan of the bytes splits records and fields, undoes
 *      quoting into one growing text buffer (each field NUL-terminated)
 *      and records, per cell, where its text lives and where its field
 *      started in the input. Null cells (unquoted empty) have no text.
 *   2. build: per column, infer or take the declared type, convert the
 *      cells and append them to a frame builder (value.h), which keeps
 *      them where the frame will own them.
 *
 * Cells are stored row-major in one array, so the memory beyond the frame
 * itself is two size_t per cell plus the unquoted text. Line and column
 * numbers are not tracked while scanning: an error is rare, so the error
 * path recomputes them from the input offset (locate()), which keeps the
 * hot loop small.
 *
 * Numbers are parsed and printed in the "C" locale whatever the process
 * has set, through a per-thread uselocale(): a library must not read
 * "1,5" as a number because the host program called setlocale(), and a
 * file written on one machine must read back on any other.
 *
 * The dialect itself (what is null, what is inferred, every error message)
 * is documented in include/switchyard/csv.h. This file includes only
 * public headers, so fuzz targets can build it with core/value.c and
 * core/error.c alone.
 */
#include "switchyard/csv.h"

#include <errno.h>
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Text offset of a null cell. */
#define NULL_CELL SIZE_MAX

typedef struct cell {
  size_t text; /* offset into parser.text, or NULL_CELL */
  size_t src;  /* offset of the field's first byte in the input */
} cell;

typedef struct parser {
  const char *data;
  size_t len;
  size_t bom; /* 3 when the input starts with a UTF-8 BOM, else 0 */
  char delim;
  const char *name;
  int header; /* the first record is the header */
  char *text;
  size_t tlen, tcap;
  cell *cells;
  size_t ncells, ccap;
  size_t ncols;       /* fields per record; 0 before the first record */
  size_t nrecords;    /* including the header */
  size_t max_records; /* stop after this many records; 0: read them all */
  int partial;        /* data is only the beginning of the text */
} parser;

/* What read_field and tokenise return (above 0) when a partial text ends
 * inside the record being read: the caller needs more of the text. */
#define NEED_MORE 1

/* ---- errors with positions ------------------------------------------- */

/* The 1-based line and character column of input offset off. Columns
 * count UTF-8 characters (bytes that are not continuation bytes); the
 * BOM is not part of line 1. */
static void locate(const parser *p, size_t off, size_t *line, size_t *col) {
  size_t l = 1, start = p->bom;
  for (size_t i = p->bom; i < off && i < p->len; i++) {
    if (p->data[i] == '\n') {
      l++;
      start = i + 1;
    }
  }
  size_t c = 1;
  for (size_t i = start; i < off && i < p->len; i++)
    c += ((unsigned char)p->data[i] & 0xC0) != 0x80;
  *line = l;
  *col = c;
}

/* Fails with SY_ESYNTAX "NAME:LINE:COL: message" for input offset off. */
static int fail_at(const parser *p, sy_error *err, size_t off, const char *fmt,
                   ...) SY_PRINTF(4, 5);
static int fail_at(const parser *p, sy_error *err, size_t off, const char *fmt,
                   ...) {
  size_t line, col;
  locate(p, off, &line, &col);
  char msg[SY_ERROR_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return sy_error_set(err, SY_ESYNTAX, "%s:%zu:%zu: %s", p->name, line, col,
                      msg);
}

/* ---- pass 1: tokenise ------------------------------------------------ */

static int text_append(parser *p, const char *s, size_t n) {
  if (p->tcap - p->tlen < n + 1) {
    size_t cap = p->tcap ? p->tcap : 4096;
    while (cap - p->tlen < n + 1) {
      if (cap > SIZE_MAX / 2)
        return SY_ENOMEM;
      cap *= 2;
    }
    char *t = realloc(p->text, cap);
    if (!t)
      return SY_ENOMEM;
    p->text = t;
    p->tcap = cap;
  }
  memcpy(p->text + p->tlen, s, n);
  p->tlen += n;
  return 0;
}

static int cell_push(parser *p, size_t text, size_t src) {
  if (p->ncells == p->ccap) {
    size_t cap = p->ccap ? p->ccap * 2 : 256;
    if (cap > SIZE_MAX / sizeof(cell))
      return SY_ENOMEM;
    cell *c = realloc(p->cells, cap * sizeof *c);
    if (!c)
      return SY_ENOMEM;
    p->cells = c;
    p->ccap = cap;
  }
  p->cells[p->ncells].text = text;
  p->cells[p->ncells].src = src;
  p->ncells++;
  return 0;
}

/* Whether a line end (LF or CRLF) starts at i; its length in *n. */
static int line_end_at(const parser *p, size_t i, size_t *n) {
  if (i < p->len && p->data[i] == '\n') {
    *n = 1;
    return 1;
  }
  if (i + 1 < p->len && p->data[i] == '\r' && p->data[i + 1] == '\n') {
    *n = 2;
    return 1;
  }
  return 0;
}

/* Reads one field starting at *pos; leaves *pos on what follows it (a
 * delimiter, a line end or the end of input). */
static int read_field(parser *p, size_t *pos, sy_error *err) {
  const char *d = p->data;
  size_t i = *pos, start = i, eol;
  int rc;
  if (i < p->len && d[i] == '"') {
    size_t text = p->tlen;
    i++;
    for (;;) {
      size_t run = i;
      while (i < p->len && d[i] != '"' && d[i] != '\0')
        i++;
      if (i == p->len)
        return p->partial ? NEED_MORE
                          : fail_at(p, err, start, "unterminated quoted field");
      if (d[i] == '\0')
        return fail_at(p, err, i, "NUL byte");
      /* Copy up to and including the quote; a doubled quote keeps one. */
      if ((rc = text_append(p, d + run, i - run)) < 0)
        return sy_error_set(err, rc, "%s: out of memory", p->name);
      if (i + 1 < p->len && d[i + 1] == '"') {
        if ((rc = text_append(p, "\"", 1)) < 0)
          return sy_error_set(err, rc, "%s: out of memory", p->name);
        i += 2;
        continue;
      }
      i++; /* the closing quote */
      break;
    }
    if (i < p->len && d[i] != p->delim && !line_end_at(p, i, &eol)) {
      /* A CR that ends a partial text may be the first half of CRLF. */
      if (p->partial && i + 1 == p->len && d[i] == '\r')
        return NEED_MORE;
      return fail_at(p, err, i, "text after closing quote");
    }
    if ((rc = text_append(p, "", 1)) < 0)
      return sy_error_set(err, rc, "%s: out of memory", p->name);
    rc = cell_push(p, text, start);
  } else {
    while (i < p->len && d[i] != p->delim && d[i] != '\n' &&
           !(d[i] == '\r' && i + 1 < p->len && d[i + 1] == '\n')) {
      if (d[i] == '"')
        return fail_at(p, err, i, "quote in unquoted field");
      if (d[i] == '\0')
        return fail_at(p, err, i, "NUL byte");
      i++;
    }
    size_t text = NULL_CELL;
    if (i > start) {
      text = p->tlen;
      if ((rc = text_append(p, d + start, i - start)) < 0 ||
          (rc = text_append(p, "", 1)) < 0)
        return sy_error_set(err, rc, "%s: out of memory", p->name);
    }
    rc = cell_push(p, text, start);
  }
  if (rc < 0)
    return sy_error_set(err, rc, "%s: out of memory", p->name);
  *pos = i;
  return 0;
}

static int tokenise(parser *p, sy_error *err) {
  size_t pos = p->bom, eol;
  int rc;
  while (pos < p->len) {
    size_t rec = pos, first = p->ncells;
    int ended = 0;
    /* An empty line can only be a record when records have one field. */
    if (p->ncols > 1 && line_end_at(p, pos, &eol)) {
      pos += eol;
      continue;
    }
    for (;;) {
      if ((rc = read_field(p, &pos, err)) != 0)
        return rc;
      if (pos < p->len && p->data[pos] == p->delim) {
        pos++;
        continue;
      }
      if (line_end_at(p, pos, &eol)) {
        pos += eol;
        ended = 1;
      }
      break;
    }
    /* Without a line end, the record may go on in the rest of the text. */
    if (!ended && p->partial)
      return NEED_MORE;
    size_t nfields = p->ncells - first;
    if (p->ncols == 0) {
      p->ncols = nfields;
    } else if (nfields != p->ncols) {
      return fail_at(p, err, rec, "%zu fields, %s has %zu", nfields,
                     p->header ? "header" : "first row", p->ncols);
    }
    p->nrecords++;
    if (p->nrecords - (size_t)p->header > SY_VALUE_MAX_ROWS)
      return sy_error_set(err, SY_ETOOBIG, "%s: more than %zu rows", p->name,
                          (size_t)SY_VALUE_MAX_ROWS);
    if (p->max_records && p->nrecords == p->max_records)
      break;
  }
  return 0;
}

/* ---- cell conversion ------------------------------------------------- */

/* [+-]?[0-9]+ that fits in int64_t. Parsed by hand: strtoll would accept
 * leading spaces, and the digits are being scanned anyway. */
static int parse_i64(const char *s, int64_t *out) {
  const char *q = s;
  int neg = 0;
  if (*q == '+' || *q == '-')
    neg = *q++ == '-';
  if (*q < '0' || *q > '9')
    return 0;
  const uint64_t lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
  uint64_t v = 0;
  for (; *q >= '0' && *q <= '9'; q++) {
    unsigned d = (unsigned)(*q - '0');
    if (v > (lim - d) / 10)
      return 0;
    v = v * 10 + d;
  }
  if (*q)
    return 0;
  if (neg)
    *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
  else
    *out = (int64_t)v;
  return 1;
}

/* A finite decimal number; with `special`, also nan, inf, -inf. With out
 * NULL it only answers whether s is one: a number without an exponent and
 * with few digits is finite for sure, which spares inference a strtod(). */
static int parse_f64(const char *s, int special, double *out) {
  const char *q = s;
  if (*q == '+' || *q == '-')
    q++;
  if (special) {
    double v = 0;
    if (strcasecmp(q, "nan") == 0)
      v = NAN;
    else if (strcasecmp(q, "inf") == 0 || strcasecmp(q, "infinity") == 0)
      v = INFINITY;
    if (v != 0) {
      if (out)
        *out = *s == '-' ? -v : v;
      return 1;
    }
  }
  size_t digits = 0;
  while (*q >= '0' && *q <= '9')
    q++, digits++;
  if (*q == '.') {
    q++;
    while (*q >= '0' && *q <= '9')
      q++, digits++;
  }
  if (digits == 0)
    return 0;
  int exponent = *q == 'e' || *q == 'E';
  if (exponent) {
    q++;
    if (*q == '+' || *q == '-')
      q++;
    if (*q < '0' || *q > '9')
      return 0;
    while (*q >= '0' && *q <= '9')
      q++;
  }
  if (*q)
    return 0;
  if (!out && !exponent && digits < 300)
    return 1;
  double v = strtod(s, NULL);
  if (!isfinite(v))
    return 0;
  if (out)
    *out = v;
  return 1;
}

/* ---- declared types -------------------------------------------------- */

/* Parses a "column:type" entry: the column is entry[0..*col_len), the type
 * is returned (0 when the entry is malformed). */
static sy_col_type parse_decl(const char *entry, size_t *col_len) {
  const char *colon = strrchr(entry, ':');
  if (!colon || colon == entry)
    return 0;
  *col_len = (size_t)(colon - entry);
  if (strcmp(colon + 1, "f64") == 0)
    return SY_COL_F64;
  if (strcmp(colon + 1, "i64") == 0)
    return SY_COL_I64;
  if (strcmp(colon + 1, "string") == 0)
    return SY_COL_STR;
  return 0;
}

static int check_decls(const char *name, const char *const *types,
                       sy_error *err) {
  for (size_t i = 0; types && types[i]; i++) {
    size_t n;
    if (!parse_decl(types[i], &n))
      return sy_error_set(err, SY_EINVAL,
                          "%s: types: '%s' is not column:type with type "
                          "f64, i64 or string",
                          name, types[i]);
  }
  return 0;
}

/* ---- pass 2: build --------------------------------------------------- */

static const char *cell_text(const parser *p, size_t row, size_t c) {
  size_t t = p->cells[row * p->ncols + c].text;
  return t == NULL_CELL ? NULL : p->text + t;
}

static int check_header(const parser *p, sy_error *err) {
  int rc = 0;
  size_t *order = NULL;
  for (size_t c = 0; c < p->ncols; c++) {
    const char *s = cell_text(p, 0, c);
    if (!s || !*s)
      return fail_at(p, err, p->cells[c].src, "empty column name");
    if (strlen(s) > SY_VALUE_MAX_NAME)
      return fail_at(p, err, p->cells[c].src,
                     "column name longer than %d bytes", SY_VALUE_MAX_NAME);
  }
  /* Duplicates: sort indices by name and report the earliest column that
   * repeats a name seen before it. */
  order = malloc(p->ncols * sizeof *order);
  if (!order)
    return sy_error_set(err, SY_ENOMEM, "%s: out of memory", p->name);
  for (size_t c = 0; c < p->ncols; c++)
    order[c] = c;
  /* A bottom-up merge sort: wide files must not make this quadratic. */
  size_t *tmp = malloc(p->ncols * sizeof *tmp);
  if (!tmp) {
    free(order);
    return sy_error_set(err, SY_ENOMEM, "%s: out of memory", p->name);
  }
  for (size_t width = 1; width < p->ncols; width *= 2) {
    for (size_t lo = 0; lo < p->ncols; lo += 2 * width) {
      size_t mid = lo + width < p->ncols ? lo + width : p->ncols;
      size_t hi = lo + 2 * width < p->ncols ? lo + 2 * width : p->ncols;
      size_t a = lo, b = mid, k = lo;
      while (a < mid && b < hi) {
        /* Stable on ties, so equal names stay in column order. */
        if (strcmp(cell_text(p, 0, order[b]), cell_text(p, 0, order[a])) < 0)
          tmp[k++] = order[b++];
        else
          tmp[k++] = order[a++];
      }
      while (a < mid)
        tmp[k++] = order[a++];
      while (b < hi)
        tmp[k++] = order[b++];
    }
    memcpy(order, tmp, p->ncols * sizeof *order);
  }
  free(tmp);
  size_t dup = SIZE_MAX;
  for (size_t i = 1; i < p->ncols; i++) {
    if (strcmp(cell_text(p, 0, order[i]), cell_text(p, 0, order[i - 1])) == 0 &&
        order[i] < dup)
      dup = order[i];
  }
  free(order);
  if (dup != SIZE_MAX)
    rc = fail_at(p, err, p->cells[dup].src, "duplicate column name '%s'",
                 cell_text(p, 0, dup));
  return rc;
}

/* The declared type of column `cname`, or 0. */
static sy_col_type declared(const char *const *types, const char *cname) {
  sy_col_type t = 0;
  for (size_t i = 0; types && types[i]; i++) {
    size_t n;
    sy_col_type d = parse_decl(types[i], &n);
    if (d && strlen(cname) == n && memcmp(types[i], cname, n) == 0)
      t = d; /* a later entry wins */
  }
  return t;
}

/* Column c's name: the header's, or "c1", "c2", ... in gen. */
static const char *col_name(const parser *p, size_t c, char gen[32]) {
  if (p->header)
    return cell_text(p, 0, c);
  snprintf(gen, 32, "c%zu", c + 1);
  return gen;
}

/* Every declared column must exist: a typo must not go unnoticed. */
static int check_declared(const parser *p, const char *const *types,
                          sy_error *err) {
  for (size_t i = 0; types && types[i]; i++) {
    size_t n, c;
    parse_decl(types[i], &n);
    for (c = 0; c < p->ncols; c++) {
      char gen[32];
      const char *cname = col_name(p, c, gen);
      if (strlen(cname) == n && memcmp(types[i], cname, n) == 0)
        break;
    }
    if (c == p->ncols)
      return sy_error_set(err, SY_EINVAL, "%s: types: no column '%.*s'",
                          p->name, (int)n, types[i]);
  }
  return 0;
}

/* Infers column c's type (see "what counts as a number" in csv.h). A
 * column whose cells are numbers except a minority is not text: its first
 * cell that is not a number is an error, so that one bad cell cannot turn
 * a feature into a string column that actors then skip. Returns the type,
 * or a negative code with err set. */
static int infer(const parser *p, size_t c, size_t first, size_t rows,
                 const char *cname, sy_error *err) {
  int can_int = 1, any_text = 0;
  size_t numbers = 0, others = 0, bad = SIZE_MAX;
  for (size_t r = first; r < first + rows; r++) {
    const char *s = cell_text(p, r, c);
    /* Null and "" (null in a number column) say nothing either way. */
    if (!s || !*s) {
      any_text |= s != NULL;
      continue;
    }
    int64_t iv;
    if (can_int && parse_i64(s, &iv)) {
      numbers++;
      continue;
    }
    if (parse_f64(s, 0, NULL)) {
      can_int = 0;
      numbers++;
      continue;
    }
    if (others++ == 0)
      bad = r;
  }
  if (others == 0 && numbers > 0)
    return can_int ? SY_COL_I64 : SY_COL_F64;
  if (others == 0)
    return any_text ? SY_COL_STR : SY_COL_I64;
  if (numbers <= others)
    return SY_COL_STR;
  return fail_at(p, err, p->cells[bad * p->ncols + c].src,
                 "column '%s': '%.60s' is not a number, but %zu of the "
                 "column's %zu values are; fix the cell, or declare the "
                 "column's type (f64 also reads nan and inf, string reads "
                 "the column as text)",
                 cname, cell_text(p, bad, c), numbers, numbers + others);
}

static int build(parser *p, const char *const *types, sy_value **out,
                 sy_error *err) {
  size_t first = (size_t)p->header;
  size_t rows = p->nrecords > first ? p->nrecords - first : 0;
  sy_frame_builder *b = NULL;
  int rc;
  if ((rc = check_declared(p, types, err)) < 0)
    return rc;
  if ((rc = sy_frame_builder_new(rows, &b)) < 0)
    return sy_error_set(err, rc, "%s: %s", p->name, sy_strerror(rc));
  for (size_t c = 0; c < p->ncols; c++) {
    char gen[32];
    const char *cname = gen;
    if (p->header)
      cname = cell_text(p, 0, c);
    else
      snprintf(gen, sizeof gen, "c%zu", c + 1);
    sy_col_type t = declared(types, cname);
    int decl = t != 0;
    if (!t) {
      int inferred = infer(p, c, first, rows, cname, err);
      if (inferred < 0) {
        rc = inferred;
        goto fail;
      }
      t = (sy_col_type)inferred;
    }
    /* Failures of the builder are kept and reported by finish. */
    sy_frame_builder_column(b, cname, t);
    for (size_t r = 0; r < rows; r++) {
      const char *s = cell_text(p, first + r, c);
      /* A quoted empty field is an empty string, but no number. */
      int present = s && (t == SY_COL_STR || *s);
      if (!present) {
        sy_frame_builder_null(b, c);
      } else if (t == SY_COL_STR) {
        sy_frame_builder_str(b, c, s);
      } else if (t == SY_COL_I64) {
        int64_t v = 0;
        if (!parse_i64(s, &v)) {
          rc = fail_at(p, err, p->cells[(first + r) * p->ncols + c].src,
                       "column '%s': '%s' is not an i64", cname, s);
          goto fail;
        }
        sy_frame_builder_i64(b, c, v);
      } else {
        double v = 0;
        if (!parse_f64(s, decl, &v)) {
          rc = fail_at(p, err, p->cells[(first + r) * p->ncols + c].src,
                       "column '%s': '%s' is not an f64", cname, s);
          goto fail;
        }
        sy_frame_builder_f64(b, c, v);
      }
    }
  }
  rc = sy_frame_builder_finish(b, out, err);
  if (rc < 0)
    sy_error_prefix(err, "%s", p->name);
  return rc;
fail:
  sy_frame_builder_free(b);
  return rc;
}

static int delim_ok(char d) {
  return d != '"' && d != '\r' && d != '\n' && d != '\0' &&
         (unsigned char)d < 0x80;
}

int sy_csv_read(const char *data, size_t len, const sy_csv_options *opts,
                sy_value **out, sy_error *err) {
  parser p = {0};
  locale_t c_locale = (locale_t)0, old = (locale_t)0;
  int rc;
  p.name = opts && opts->name ? opts->name : "csv";
  p.delim = opts && opts->delimiter ? opts->delimiter : ',';
  p.header = !(opts && opts->no_header);
  const char *const *types = opts ? opts->types : NULL;
  if (!out || (!data && len)) {
    rc = sy_error_set(err, SY_EINVAL, "%s: no data or no output", p.name);
    goto fail;
  }
  *out = NULL;
  if (!delim_ok(p.delim)) {
    rc = sy_error_set(err, SY_EINVAL,
                      "%s: delimiter must be one ASCII character other "
                      "than '\"', CR and LF",
                      p.name);
    goto fail;
  }
  if ((rc = check_decls(p.name, types, err)) < 0)
    goto fail;
  p.data = data;
  p.len = len;
  if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
    p.bom = 3;
  c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
  if (!c_locale) {
    rc = sy_error_set(err, SY_ENOMEM, "%s: out of memory", p.name);
    goto fail;
  }
  old = uselocale(c_locale);
  rc = tokenise(&p, err);
  if (rc == 0 && p.header && p.nrecords > 0)
    rc = check_header(&p, err);
  if (rc == 0)
    rc = build(&p, types, out, err);
  uselocale(old);
fail:
  if (c_locale)
    freelocale(c_locale);
  free(p.cells);
  free(p.text);
  return rc;
}

int sy_csv_read_header(const char *data, size_t len, int complete,
                       const sy_csv_options *opts, sy_column_fn fn, void *ud,
                       sy_error *err) {
  parser p = {0};
  int rc;
  p.name = opts && opts->name ? opts->name : "csv";
  p.delim = opts && opts->delimiter ? opts->delimiter : ',';
  p.header = !(opts && opts->no_header);
  p.max_records = 1;
  p.partial = !complete;
  const char *const *types = opts ? opts->types : NULL;
  if (!fn || (!data && len))
    return sy_error_set(err, SY_EINVAL, "%s: no data or no callback", p.name);
  if (!delim_ok(p.delim))
    return sy_error_set(err, SY_EINVAL,
                        "%s: delimiter must be one ASCII character other "
                        "than '\"', CR and LF",
                        p.name);
  if ((rc = check_decls(p.name, types, err)) < 0)
    return rc;
  p.data = data;
  p.len = len;
  /* A partial text shorter than a BOM may still become one. */
  if (len < 3 && !complete &&
      (len == 0 || memcmp(data, "\xEF\xBB\xBF", len) == 0))
    return NEED_MORE;
  if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
    p.bom = 3;
  /* No numbers are parsed, so the locale does not matter here. */
  rc = tokenise(&p, err);
  if (rc == 0 && p.nrecords == 0 && p.partial)
    rc = NEED_MORE; /* nothing but a BOM yet */
  if (rc == 0 && p.header && p.nrecords > 0)
    rc = check_header(&p, err);
  if (rc == 0)
    rc = check_declared(&p, types, err);
  for (size_t c = 0; rc == 0 && c < p.ncols; c++) {
    char gen[32];
    const char *cname = col_name(&p, c, gen);
    rc = fn(ud, cname, declared(types, cname));
    if (rc > 0)
      rc = sy_error_set(err, SY_EINVAL, "%s: the column callback returned %d",
                        p.name, rc);
  }
  free(p.cells);
  free(p.text);
  return rc;
}

/* ---- writing --------------------------------------------------------- */

#define OUT_CAP 65536

typedef struct writer {
  sy_write_fn fn;
  void *ud;
  char delim;
  size_t n;
  char buf[OUT_CAP];
} writer;

static int flush(writer *w) {
  int rc = 0;
  if (w->n)
    rc = w->fn(w->ud, w->buf, w->n);
  w->n = 0;
  return rc < 0 ? rc : 0;
}

static int put(writer *w, const char *s, size_t n) {
  while (n) {
    if (w->n == OUT_CAP) {
      int rc = flush(w);
      if (rc < 0)
        return rc;
    }
    size_t k = OUT_CAP - w->n < n ? OUT_CAP - w->n : n;
    memcpy(w->buf + w->n, s, k);
    w->n += k;
    s += k;
    n -= k;
  }
  return 0;
}

/* Writes one text field, quoting it when reading it back needs that. */
static int put_text(writer *w, const char *s, int first) {
  size_t n = strlen(s);
  int quote = n == 0 || (first && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0);
  for (size_t i = 0; i < n && !quote; i++)
    quote = s[i] == w->delim || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
  if (!quote)
    return put(w, s, n);
  int rc = put(w, "\"", 1);
  while (rc == 0 && n) {
    const char *q = memchr(s, '"', n);
    size_t k = q ? (size_t)(q - s) + 1 : n;
    rc = put(w, s, k);
    if (rc == 0 && q)
      rc = put(w, "\"", 1); /* double the quote */
    s += k;
    n -= k;
  }
  return rc < 0 ? rc : put(w, "\"", 1);
}

/* The shortest of %.15g..%.17g that reads back to the same bits, with
 * ".0" added when it would read back as an integer: the definition, kept
 * as the slow path (and the reference the unit test checks fmt_fast
 * against). It must run in the C locale. */
static int format_f64_slow(double v, char *buf, size_t cap) {
  if (isnan(v))
    return snprintf(buf, cap, "nan");
  if (isinf(v))
    return snprintf(buf, cap, v < 0 ? "-inf" : "inf");
  int n = 0;
  for (int prec = 15; prec <= 17; prec++) {
    n = snprintf(buf, cap, "%.*g", prec, v);
    if (prec == 17)
      break; /* 17 digits always read back: no need to check */
    double back = strtod(buf, NULL);
    if (memcmp(&back, &v, sizeof v) == 0)
      break;
  }
  if (strspn(buf, "-0123456789") == (size_t)n && (size_t)n + 2 < cap) {
    memcpy(buf + n, ".0", 3);
    n += 2;
  }
  return n;
}

/* The same text as format_f64_slow, without printf or strtod, for
 * 1e-5 <= |v| < 1e36 and zero (smaller normal numbers: fmt_pow5
 * below); -1 for anything else (the caller then
 * takes the slow path). In that range the exact value v * 10^s (s chosen
 * so that it has 17 integer digits) is q + r / den with integers that fit
 * in 128 bits: v = m * 2^e, so below 2^53 it is m * 5^s / 2^(-e - s)
 * (decided in 64.64 fixed point: fmt_round64), from 2^53 (m << e) * 10^s
 * or (m << e) / 10^-s (fmt_prec). From it, the correctly rounded 15-, 16- and
 * 17-digit decimals (ties to even, as glibc's printf rounds) and whether each
 * reads back to v (within half an ulp of it, ties to an even m, as strtod
 * rounds) are decided exactly, in integers: the same choice as printing each
 * with
 * %.Ng and reading it back, and the same %g presentation. */
__extension__ typedef unsigned __int128 fmt_u128;
__extension__ typedef __int128 fmt_i128;

static const uint64_t fmt_p10[20] = {1ULL,
                                     10ULL,
                                     100ULL,
                                     1000ULL,
                                     10000ULL,
                                     100000ULL,
                                     1000000ULL,
                                     10000000ULL,
                                     100000000ULL,
                                     1000000000ULL,
                                     10000000000ULL,
                                     100000000000ULL,
                                     1000000000000ULL,
                                     10000000000000ULL,
                                     100000000000000ULL,
                                     1000000000000000ULL,
                                     10000000000000000ULL,
                                     100000000000000000ULL,
                                     1000000000000000000ULL,
                                     10000000000000000000ULL};

static fmt_u128 fmt_pow10(int n) { /* 0 <= n <= 38 */
  return n <= 19 ? (fmt_u128)fmt_p10[n]
                 : (fmt_u128)fmt_p10[19] * fmt_p10[n - 19];
}

/* v * 10^(16 - x) = q + r / den exactly; *ulp is v's ulp in the same
 * units (times 10^(16 - x) times den). */
static void fmt_scale(uint64_t m, int e, int x, fmt_u128 *q, fmt_u128 *r,
                      fmt_u128 *den, fmt_u128 *ulp) {
  int s = 16 - x; /* e >= 0: |v| >= 2^52 (fmt_fast takes the rest) */
  if (s >= 0) {
    *q = ((fmt_u128)m << e) * fmt_pow10(s);
    *r = 0;
    *den = 1;
    *ulp = ((fmt_u128)1 << e) * fmt_pow10(s);
  } else {
    fmt_u128 n = (fmt_u128)m << e, d = fmt_pow10(-s);
    *q = n / d;
    *r = n % d;
    *den = d;
    *ulp = (fmt_u128)1 << e;
  }
}

/* The 8 decimal digits of x < 10^8 as text in one word, first digit in
 * the first byte of memory: x split into halves, pairs and digits in
 * parallel lanes (each lane's /100 and /10 a multiplication and a shift,
 * exact for these ranges; checked for every x). */
static inline uint64_t fmt_swar8(uint32_t x) {
  uint64_t v = (uint64_t)(x / 10000) | ((uint64_t)(x % 10000) << 32);
  uint64_t q = ((v * 10486) >> 20) & 0x0000007F0000007FULL;
  v = q | ((v - q * 100) << 16);
  q = ((v * 103) >> 10) & 0x000F000F000F000FULL;
  v = q | ((v - q * 10) << 8);
  v += 0x3030303030303030ULL;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap64(v);
#endif
  return v;
}

/* The number of '0' digits at the end of an fmt_swar8 word (0 to 8). */
static inline int fmt_swar8_tz(uint64_t w) {
  uint64_t z = w ^ 0x3030303030303030ULL;
  if (!z)
    return 8;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  return __builtin_ctzll(z) / 8;
#else
  return __builtin_clzll(z) / 8;
#endif
}

/* d, a prec-digit decimal scaled to 17 digits (d = a * 10^(17 - prec),
 * 10^16 <= d <= 10^17), with decimal exponent x, as %.{prec}g presents
 * it, then ".0" after an integer. The digits are made as one character
 * and two words of text (the first digit, then 16, trailing zeros to be
 * dropped) and stored where they end up, never moved byte by byte
 * (reading back bytes just stored piecewise stalls the store buffer),
 * except the fraction of a number of ddd.ddd form. buf has room for 32
 * bytes: the words may write past the text's end, and what follows
 * overwrites or ends it. */
static int fmt_present17(char *buf, int neg, uint64_t d, int prec, int x) {
  if (d >= 100000000000000000ULL) { /* rounded up to 10^17 */
    d = 10000000000000000ULL;
    x++;
  }
  uint64_t lo = d % 10000000000000000ULL;
  char c0 = (char)('0' + d / 10000000000000000ULL);
  uint64_t w1 = fmt_swar8((uint32_t)(lo / 100000000u));
  uint64_t w2 = fmt_swar8((uint32_t)(lo % 100000000u));
  int tz = fmt_swar8_tz(w2);
  if (tz == 8)
    tz += fmt_swar8_tz(w1);
  int nd = 17 - tz; /* the digits, trailing zeros dropped (1 to prec) */
  char *p = buf;
  if (neg)
    *p++ = '-';
  if (x < 0 && x >= -4) { /* 0.000ddd: zeros first, then the digits */
    memcpy(p, "0.000000", 8);
    char *t = p + 1 - x;
    t[0] = c0;
    memcpy(t + 1, &w1, 8);
    memcpy(t + 9, &w2, 8);
    p = t + nd;
  } else if (x < -4 || x >= prec) { /* d.ddde+XX */
    p[0] = c0;
    if (nd > 1) {
      p[1] = '.';
      memcpy(p + 2, &w1, 8);
      memcpy(p + 10, &w2, 8);
      p += nd + 1;
    } else {
      p += 1;
    }
    *p++ = 'e';
    *p++ = x < 0 ? '-' : '+';
    int ax = x < 0 ? -x : x;
    if (ax >= 100)
      *p++ = (char)('0' + ax / 100);
    *p++ = (char)('0' + ax / 10 % 10);
    *p++ = (char)('0' + ax % 10);
  } else { /* 0 <= x < prec: the 17 digits where they start */
    p[0] = c0;
    memcpy(p + 1, &w1, 8);
    memcpy(p + 9, &w2, 8);
    if (nd > x + 1) { /* ddd.ddd: the fraction one place right */
      for (int i = nd - 1; i > x; i--)
        p[i + 1] = p[i];
      p[x + 1] = '.';
      p += nd + 1;
    } else { /* an integer: its zeros are in the text; ".0" to read back
                as f64 */
      p += x + 1;
      memcpy(p, ".0", 2);
      p += 2;
    }
  }
  *p = '\0';
  return (int)(p - buf);
}

/* Below 1e-5, 10^s no longer fits in 128 bits: v * 10^s is taken from
 * the top 128 bits of 5^s instead (fmt_pow5, made once), which leaves an
 * error of under 4 units of the last of 64 fraction bits. fmt_digits
 * then falls back to the slow path where that error could change a
 * rounding or a read-back (never in the random tests; exact ties cannot
 * happen this small). */
#define FMT_POW5_MAX 330
static struct {
  uint64_t hi, lo; /* the top 128 bits of 5^s */
  int bits;        /* the bit length of 5^s */
} fmt_pow5[FMT_POW5_MAX + 1];
static pthread_once_t fmt_pow5_once = PTHREAD_ONCE_INIT;

static void fmt_pow5_init(void) {
  uint32_t n[26] = {1}; /* 5^330 < 2^767: 24 limbs */
  int limbs = 1;
  for (int s = 0; s <= FMT_POW5_MAX; s++) {
    if (s > 0) {
      uint64_t carry = 0;
      for (int i = 0; i < limbs; i++) {
        uint64_t t = (uint64_t)n[i] * 5 + carry;
        n[i] = (uint32_t)t;
        carry = t >> 32;
      }
      if (carry)
        n[limbs++] = (uint32_t)carry;
    }
    int top = 31;
    while (!(n[limbs - 1] >> top & 1))
      top--;
    int bits = (limbs - 1) * 32 + top + 1;
    uint64_t hi = 0, lo = 0;
    for (int k = 0; k < 128; k++) { /* bit bits-1-k of 5^s */
      int at = bits - 1 - k;
      unsigned bit = at >= 0 ? (n[at / 32] >> (at % 32)) & 1 : 0;
      if (k < 64)
        hi |= (uint64_t)bit << (63 - k);
      else
        lo |= (uint64_t)bit << (127 - k);
    }
    fmt_pow5[s].hi = hi;
    fmt_pow5[s].lo = lo;
    fmt_pow5[s].bits = bits;
  }
}

/* v * 10^(16 - x) = q + r / 2^64 + (0 to err) / 2^64, for a normal v
 * under 1e-5; -1 when out of the table. */
static int fmt_scale_small(uint64_t m, int e, int x, fmt_u128 *q, fmt_u128 *r,
                           fmt_u128 *ulp) {
  int s = 16 - x;
  if (s < 0 || s > FMT_POW5_MAX)
    return -1;
  /* v 10^s = m 2^e 5^s 2^s = m P 2^(bits - 128 + e + s) */
  int sh = 128 - fmt_pow5[s].bits - e - s - 64; /* to 64 fraction bits */
  if (sh < 1 || sh > 64)
    return -1;
  fmt_u128 hi = (fmt_u128)m * fmt_pow5[s].hi, lo = (fmt_u128)m * fmt_pow5[s].lo;
  fmt_u128 f = (sh == 64 ? hi : hi << (64 - sh)) + (lo >> sh);
  *q = f >> 64;
  *r = f & (((fmt_u128)1 << 64) - 1);
  fmt_u128 p = ((fmt_u128)fmt_pow5[s].hi << 64) | fmt_pow5[s].lo;
  *ulp = p >> sh; /* v's ulp times 10^s, in the same units */
  return 0;
}

/* q (17 digits) split at precision prec: a, its first prec digits, and
 * b, the rest (below 10^(17 - prec)). 0 when b alone rules the rounding
 * out: either neighbour is at least `near` units of q from v (near - 1
 * with any slack), and one that reads back is under half an ulp away
 * (ulpq: an integer above the ulp in units of q); most are, in 64 bits. */
static inline __attribute__((always_inline)) int
fmt_split(const int prec, uint64_t q, uint64_t ulpq, uint64_t *a, uint64_t *b) {
  const uint64_t dp = fmt_p10[17 - prec];
  *a = q / dp;
  *b = q % dp;
  if (prec < 17) {
    uint64_t near = *b < dp - 1 - *b ? *b : dp - 1 - *b;
    if (near > ulpq)
      return 0;
  }
  return 1;
}

/* One precision of fmt_digits (prec a constant where it is inlined, so
 * that the division by 10^(17 - prec) is a multiplication): 1 when the
 * prec-digit rounding of v reads back (*out: the text's length), 0 when
 * it does not. ulpq: an integer above v's ulp in units of q. */
static inline __attribute__((always_inline)) int
fmt_prec(const int prec, char *buf, int *out, int neg, uint64_t m, int at_pow2,
         int x, fmt_u128 q, fmt_u128 r, fmt_u128 den, fmt_u128 ulp,
         uint64_t ulpq) {
  const uint64_t dp = fmt_p10[17 - prec];
  uint64_t a64, b64;
  if (!fmt_split(prec, (uint64_t)q /* < 10^18 */, ulpq, &a64, &b64))
    return 0;
  fmt_u128 a_ = a64, b = b64;
  fmt_u128 twice = 2 * (b * den + r), half = (fmt_u128)dp * den;
  if (twice > half || (twice == half && (a_ & 1)))
    a_++;
  if (prec < 17) { /* 17 digits always read back */
    /* Does a_ * 10^(17 - prec) (scaled as q) read back as v? */
    fmt_i128 diff =
        ((fmt_i128)(a_ * dp) - (fmt_i128)q) * (fmt_i128)den - (fmt_i128)r;
    fmt_u128 dist = (fmt_u128)(diff < 0 ? -diff : diff);
    /* Below a power of two the next double down is half an ulp away. */
    fmt_u128 lim = 2 * dist;
    if (diff < 0 && at_pow2)
      lim = 4 * dist;
    if (!(lim < ulp || (lim == ulp && (m & 1) == 0)))
      return 0;
  }
  *out = fmt_present17(buf, neg, (uint64_t)a_ * dp, prec, x);
  return 1;
}

/* From v * 10^(16 - x) = q + r / den exactly (q of 17 digits) and v's
 * ulp in the units of r (ulpq: an integer above it in units of q): the
 * shortest of 15, 16, 17 digits that reads back, presented. */
static int fmt_digits(char *buf, int neg, uint64_t m, int at_pow2, int x,
                      fmt_u128 q, fmt_u128 r, fmt_u128 den, fmt_u128 ulp,
                      uint64_t ulpq) {
  int n = 0;
  if (fmt_prec(15, buf, &n, neg, m, at_pow2, x, q, r, den, ulp, ulpq) ||
      fmt_prec(16, buf, &n, neg, m, at_pow2, x, q, r, den, ulp, ulpq) ||
      fmt_prec(17, buf, &n, neg, m, at_pow2, x, q, r, den, ulp, ulpq))
    return n;
  return -1; /* not reached: 17 digits always read back */
}

/* An integer above u / 2^k (k <= 127), at most UINT64_MAX. */
static uint64_t fmt_ulpq(fmt_u128 u, int k) {
  fmt_u128 t = u >> k;
  return t >= UINT64_MAX ? UINT64_MAX : (uint64_t)t + 1;
}

/* floor(e * log10(2)) for |e| <= 1650, in integers (78913 / 2^18 is
 * log10(2) to within 8e-7, which no e in that range turns into another
 * integer part): floor() of a double is a library call on a baseline
 * x86-64 build. */
static int fmt_log10_pow2(int e) {
  int32_t t = e * 78913;
  return t >= 0 ? t >> 18 : -(int)((-(int64_t)t + (1 << 18) - 1) >> 18);
}

/* fmt_prec in 64.64 fixed point, for |v| < 2^53: from
 * v * 10^(16 - x) = q + F / 2^64 (plus 0 to fs units of 2^-64: the
 * small path's) and v's ulp in the same units, U (plus 0 to us units),
 * with no shift by a variable count. 1 with *d (the prec-digit rounding, scaled
 * to 17 digits) when it reads back as v, 0 when it does not, -1 when the slack
 * leaves either open. */
static inline __attribute__((always_inline)) int
fmt_round64(const int prec, uint64_t q, uint64_t F, unsigned fs, fmt_u128 U,
            unsigned us, uint64_t ulpq, int m_odd, int at_pow2, uint64_t *d) {
  const uint64_t dp = fmt_p10[17 - prec];
  uint64_t a, b;
  if (!fmt_split(prec, q, ulpq, &a, &b))
    return 0;
  fmt_u128 pos = (fmt_u128)b << 64 | F, half = (fmt_u128)dp << 63;
  int up;
  if (pos > half)
    up = 1;
  else if (pos + fs < half)
    up = 0;
  else if (fs)
    return -1;
  else
    up = (int)(a & 1); /* a tie: to even, as printf rounds */
  if (prec < 17) {
    fmt_u128 dist = up ? ((fmt_u128)dp << 64) - pos : pos;
    /* Below a power of two the next double down is half an ulp away. */
    int sh = !up && at_pow2 && dist ? 2 : 1;
    fmt_u128 lim = dist << sh, slack = (fmt_u128)fs << sh;
    if (fs | us) {
      if (!(lim + slack < U)) {
        if (lim > slack && lim - slack > U + us)
          return 0;
        return -1;
      }
    } else if (!(lim < U || (lim == U && !m_odd))) {
      return 0;
    }
  }
  *d = (a + (uint64_t)up) * dp;
  return 1;
}

/* The shortest of 15, 16, 17 digits that reads back: its precision, *d
 * its digits (as fmt_round64 gives them); -1 when the slack leaves it
 * open. */
static inline __attribute__((always_inline)) int
fmt_choose64(uint64_t m, int at_pow2, uint64_t q, uint64_t F, unsigned fs,
             fmt_u128 U, unsigned us, uint64_t ulpq, uint64_t *d) {
  int odd = (int)(m & 1), rc;
  if ((rc = fmt_round64(15, q, F, fs, U, us, ulpq, odd, at_pow2, d)) != 0)
    return rc > 0 ? 15 : -1;
  if ((rc = fmt_round64(16, q, F, fs, U, us, ulpq, odd, at_pow2, d)) != 0)
    return rc > 0 ? 16 : -1;
  return fmt_round64(17, q, F, fs, U, us, ulpq, odd, at_pow2, d) > 0 ? 17 : -1;
}

/* fmt_pow5 made, once: pthread_once costs a call per number. */
static void fmt_pow5_ready(void) {
  static atomic_int ready;
  if (!atomic_load_explicit(&ready, memory_order_acquire)) {
    pthread_once(&fmt_pow5_once, fmt_pow5_init);
    atomic_store_explicit(&ready, 1, memory_order_release);
  }
}

static int fmt_fast(double v, char *buf) {
  uint64_t bits;
  memcpy(&bits, &v, sizeof bits);
  int neg = (int)(bits >> 63);
  int bexp = (int)((bits >> 52) & 0x7ff);
  uint64_t frac = bits & ((1ULL << 52) - 1);
  if (bexp == 0 && frac == 0) {
    memcpy(buf, neg ? "-0.0" : "0.0", neg ? 5 : 4);
    return neg ? 4 : 3;
  }
  double a = fabs(v);
  /* subnormals, >= 1e36, inf and NaN: the slow path */
  if (bexp == 0 || !(a < 1e36))
    return -1;
  uint64_t m = frac | (1ULL << 52);
  int e = bexp - 1075;
  int at_pow2 = frac == 0 && bexp > 1;
  /* 2^E <= |v| < 2^(E+1), so its decimal exponent is floor(E log10 2) or
   * one more. */
  int ebin = bexp - 1023;
  int x = fmt_log10_pow2(ebin);
  fmt_u128 q, r, den, ulp;
  /* v * 10^(16 - x) = q64 + F / 2^64 (+ 0 to fs units of 2^-64), its ulp
   * in the same units U (+ 0 to us), and an integer above U / 2^64 */
  uint64_t q64, F, ulpq, d = 0;
  unsigned fs, us;
  fmt_u128 U;
  if (a < 1e-5) {
    fmt_pow5_ready();
    if (fmt_scale_small(m, e, x, &q, &r, &ulp))
      return -1;
    if (q >= (fmt_u128)fmt_p10[17] && fmt_scale_small(m, e, ++x, &q, &r, &ulp))
      return -1;
    if (q < (fmt_u128)fmt_p10[16] || q >= (fmt_u128)fmt_p10[17])
      return -1;
    /* r: 64 fraction bits, short by 0 to 4 units; ulp short by under 2 */
    q64 = (uint64_t)q;
    F = (uint64_t)r;
    fs = 4;
    U = ulp;
    us = 2;
    ulpq = fmt_ulpq(ulp, 64);
  } else if (e < 0) {
    /* |v| >= 1e-5 here, so e >= -69 and s = 16 - x <= 22: v * 10^s =
     * m 5^s / 2^sh exactly, sh = -e - s (0 to 50; 5^s < 2^52, so
     * m 5^s < 2^105). q, its integer part (17 digits, or 18: then x is
     * one more), F, its fraction in 64 bits, and U = 5^s / 2^sh in the
     * same units are all exact. */
    int s = 16 - x, sh = -e - s;
    fmt_u128 p5 = fmt_pow10(s) >> s, num = (fmt_u128)m * p5;
    q64 = (uint64_t)(num >> sh);
    if (q64 >= fmt_p10[17]) {
      x++;
      s--;
      sh++;
      p5 = fmt_pow10(s) >> s;
      num = (fmt_u128)m * p5;
      q64 = (uint64_t)(num >> sh);
    }
    F = (uint64_t)(num << (64 - sh));
    U = p5 << (64 - sh);
    fs = us = 0;
    ulpq = (uint64_t)(p5 >> sh) + 1;
  } else {
    goto exact;
  }
  int prec = fmt_choose64(m, at_pow2, q64, F, fs, U, us, ulpq, &d);
  /* -1 only where the small path's slack leaves it open */
  return prec > 0 ? fmt_present17(buf, neg, d, prec, x) : -1;
exact: /* e >= 0: in 128-bit integers (den 1 or a power of ten) */
  fmt_scale(m, e, x, &q, &r, &den, &ulp);
  if (q >= (fmt_u128)fmt_p10[17]) {
    x++;
    fmt_scale(m, e, x, &q, &r, &den, &ulp);
  }
  /* no bound taken for a power of ten: UINT64_MAX rules nothing out */
  ulpq = den == 1 ? fmt_ulpq(ulp, 0) : UINT64_MAX;
  return fmt_digits(buf, neg, m, at_pow2, x, q, r, den, ulp, ulpq);
}

static int format_f64(double v, char *buf, size_t cap) {
  int n = fmt_fast(v, buf);
  return n >= 0 ? n : format_f64_slow(v, buf, cap);
}

/* The C locale, made once for sy_csv_format_f64 (sy_csv_write makes its
 * own per call: a call writes many cells). */
static locale_t format_locale;
static pthread_once_t format_locale_once = PTHREAD_ONCE_INIT;
static void format_locale_init(void) {
  format_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

static int format_f64_c_locale(double v, char *buf, size_t cap) {
  pthread_once(&format_locale_once, format_locale_init);
  locale_t old = format_locale ? uselocale(format_locale) : (locale_t)0;
  int n = format_f64_slow(v, buf, cap);
  if (format_locale)
    uselocale(old);
  return n;
}

int sy_csv_format_f64(double v, char *buf, size_t cap) {
  if (!buf || cap < 32)
    return SY_EINVAL;
  int n = fmt_fast(v, buf);
  return n >= 0 ? n : format_f64_c_locale(v, buf, cap);
}

/* The slow path alone, for tests/unit/test_f64fmt.c to compare with (not
 * exported from libswitchyard.so). */
int sy_csv_format_f64_ref(double v, char *buf, size_t cap);
int sy_csv_format_f64_ref(double v, char *buf, size_t cap) {
  if (!buf || cap < 32)
    return SY_EINVAL;
  return format_f64_c_locale(v, buf, cap);
}

static int put_cell(writer *w, const sy_value *f, size_t c, size_t r) {
  char num[64];
  int n;
  if (sy_frame_is_null(f, c, r))
    return 0;
  switch (sy_frame_col_type(f, c)) {
  case SY_COL_F64:
    n = format_f64(sy_frame_f64(f, c)[r], num, sizeof num);
    return put(w, num, (size_t)n);
  case SY_COL_I64:
    n = snprintf(num, sizeof num, "%" PRId64, sy_frame_i64(f, c)[r]);
    return put(w, num, (size_t)n);
  case SY_COL_STR:
    return put_text(w, sy_frame_str(f, c, r), 0);
  }
  return SY_EINVAL;
}

int sy_csv_write(const sy_value *frame, char delimiter, sy_write_fn write,
                 void *ud, sy_error *err) {
  writer *w = NULL;
  locale_t c_locale = (locale_t)0, old = (locale_t)0;
  int rc;
  char delim = delimiter ? delimiter : ',';
  if (!write) {
    rc = sy_error_set(err, SY_EINVAL, "csv: no write function");
    goto fail;
  }
  if (sy_value_type_of(frame) != SY_VALUE_FRAME) {
    rc = sy_error_set(err, SY_ETYPE,
                      "csv: only a frame can be written as "
                      "CSV");
    goto fail;
  }
  if (!delim_ok(delim)) {
    rc = sy_error_set(err, SY_EINVAL,
                      "csv: delimiter must be one ASCII character other "
                      "than '\"', CR and LF");
    goto fail;
  }
  w = malloc(sizeof *w);
  c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
  if (!w || !c_locale) {
    rc = sy_error_set(err, SY_ENOMEM, "csv: out of memory");
    goto fail;
  }
  w->fn = write;
  w->ud = ud;
  w->delim = delim;
  w->n = 0;
  old = uselocale(c_locale);
  size_t cols = sy_frame_cols(frame), rows = sy_frame_rows(frame);
  rc = 0;
  for (size_t c = 0; c < cols && rc == 0; c++) {
    if (c)
      rc = put(w, &delim, 1);
    if (rc == 0)
      rc = put_text(w, sy_frame_col_name(frame, c), c == 0);
  }
  if (cols && rc == 0)
    rc = put(w, "\n", 1);
  for (size_t r = 0; cols && r < rows && rc == 0; r++) {
    for (size_t c = 0; c < cols && rc == 0; c++) {
      if (c)
        rc = put(w, &delim, 1);
      if (rc == 0)
        rc = put_cell(w, frame, c, r);
    }
    if (rc == 0)
      rc = put(w, "\n", 1);
  }
  if (rc == 0)
    rc = flush(w);
  uselocale(old);
  if (rc < 0)
    sy_error_set(err, rc, "csv: write failed: %s", sy_strerror(rc));
fail:
  if (c_locale)
    freelocale(c_locale);
  free(w);
  return rc;
}
