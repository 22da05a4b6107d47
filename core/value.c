/*
 * value.c - reference-counted values (bytes and frames), their binary
 * encoding, content hash and equality.
 *
 * Wire format, version 1. All integers are little-endian and written byte
 * by byte (never by copying a struct or a host integer), so the encoding
 * is the same on every host. f64 cells travel as the IEEE-754 bit pattern.
 *
 *   offset  size  field
 *   0       3     magic "SYV"
 *   3       1     format version, 1
 *   4       1     value type: 1 bytes, 2 frame (sy_value_type)
 *   5       3     reserved, zero
 *   8       8     body length B (at most SY_VALUE_MAX_BYTES)
 *   16      B     body, by type (below)
 *   16+B    8     checksum: XXH3_64bits of bytes [0, 16+B)
 *
 *   bytes body:
 *     u32 M, then M bytes of media type (1..SY_VALUE_MAX_NAME printable
 *     ASCII characters, one of them '/'); u64 N, then N bytes of data.
 *
 *   frame body:
 *     u64 rows R (at most SY_VALUE_MAX_ROWS); u32 column count C; then C
 *     columns, each:
 *       u32 L, then L bytes of name (1..SY_VALUE_MAX_NAME, no NUL, names
 *           unique within the frame)
 *       u8  column type: 1 f64, 2 i64, 3 str (sy_col_type)
 *       u8  has-nulls: 0 or 1
 *       if has-nulls: ceil(R/8) bytes of validity bitmap, row i present
 *           when bit (i % 8) of byte i / 8 is set (least significant bit
 *           first); spare bits of the last byte are zero, and at least one
 *           row is null (a column without nulls says has-nulls 0).
 *       f64, i64: R cells of u64; a null cell is written as 0.
 *       str: R cells of (u32 length, bytes); no NUL inside; a null cell
 *           has length 0.
 *
 * The encoding is canonical: one value has exactly one encoding, and the
 * decoder refuses anything else (a bitmap without nulls, data under a null
 * cell, trailing bytes). That is what lets the content hash be the hash of
 * the encoding: equal values give equal bytes give equal hashes. In memory
 * the same canonical form is kept (null cells hold 0, a column without
 * nulls has no validity array), so equality is a plain comparison.
 *
 * Decoding trusts nothing: every length is checked against the bytes that
 * remain before anything is allocated, and allocations are bounded by a
 * small multiple of the input size, so a lying length cannot make the
 * decoder reserve memory the input does not back. The checksum is checked
 * before the body is parsed, but the body parser does not rely on it
 * (the fuzz target re-seals mutated input to reach it).
 *
 * Reusing buffers (ABI 1.1): the holder of the only reference to a frame
 * may rewrite its numeric cells and nulls (sy_frame_f64_mut,
 * sy_frame_set_valid); names, types, rows and the column set never change
 * after construction. With one reference there is no other reader, so
 * this does not break immutability as anyone can observe it.
 *
 * Reference counts use C11 atomics: ref is relaxed (a new reference is
 * made from one already held), unref is acq_rel so that the thread which
 * frees sees every write made before other threads dropped theirs.
 */
#include "switchyard/value.h"

#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "switchyard/endian.h"

/* f64 cells travel as their bit pattern in a u64. */
_Static_assert(sizeof(double) == 8, "switchyard needs 64-bit doubles");

#define FORMAT_VERSION 1
#define HEADER_SIZE 16
#define CHECKSUM_SIZE 8
#define DEFAULT_MEDIA_TYPE "application/octet-stream"

typedef struct column {
  char *name;
  sy_col_type type;
  uint8_t *valid; /* one byte per row, 0/1; NULL when no cell is null */
  union {
    double *f64;
    int64_t *i64;
    char **str; /* pointers into blob, NULL for null cells */
  } u;
  char *blob;       /* str: the strings, each NUL-terminated */
  size_t str_bytes; /* str: sum of string lengths, without NULs */
} column;

struct sy_value {
  atomic_size_t refs;
  atomic_bool frozen;
  sy_value_type type;
  union {
    struct {
      void *data;
      size_t len;
      void (*free_fn)(void *);
      char media[SY_VALUE_MAX_NAME + 1];
    } bytes;
    struct {
      size_t rows, ncols, cap;
      column *cols;
    } frame;
  } u;
};

/* ---- references ------------------------------------------------------ */

static sy_value *value_alloc(sy_value_type type) {
  sy_value *v = calloc(1, sizeof *v);
  if (v) {
    atomic_init(&v->refs, 1);
    atomic_init(&v->frozen, false);
    v->type = type;
  }
  return v;
}

static void column_clear(column *col) {
  free(col->name);
  free(col->valid);
  switch (col->type) {
  case SY_COL_F64:
    free(col->u.f64);
    break;
  case SY_COL_I64:
    free(col->u.i64);
    break;
  case SY_COL_STR:
    free(col->u.str);
    break;
  }
  free(col->blob);
  memset(col, 0, sizeof *col);
}

static void value_free(sy_value *v) {
  if (v->type == SY_VALUE_BYTES) {
    if (v->u.bytes.free_fn)
      v->u.bytes.free_fn(v->u.bytes.data);
  } else if (v->type == SY_VALUE_FRAME) {
    for (size_t i = 0; i < v->u.frame.ncols; i++)
      column_clear(&v->u.frame.cols[i]);
    free(v->u.frame.cols);
  }
  free(v);
}

sy_value *sy_value_ref(sy_value *v) {
  if (v) {
    atomic_fetch_add_explicit(&v->refs, 1, memory_order_relaxed);
    /* Handing a value on freezes it for good, even after the other
     * reference is dropped: a reader may have kept pointers into it. */
    atomic_store_explicit(&v->frozen, true, memory_order_relaxed);
  }
  return v;
}

void sy_value_unref(sy_value *v) {
  if (!v)
    return;
  if (atomic_fetch_sub_explicit(&v->refs, 1, memory_order_acq_rel) == 1)
    value_free(v);
}

sy_value_type sy_value_type_of(const sy_value *v) {
  return v ? v->type : (sy_value_type)0;
}

/* ---- bytes ----------------------------------------------------------- */

/* strlen capped at SY_VALUE_MAX_NAME + 1, so that a caller's unterminated
 * or huge name is never scanned further than needed to refuse it. (Plain
 * C11 has no strnlen.) */
static size_t bounded_len(const char *s) {
  size_t n = 0;
  while (n <= SY_VALUE_MAX_NAME && s[n])
    n++;
  return n;
}

/* A media type is 1..SY_VALUE_MAX_NAME printable ASCII characters with a
 * '/', which keeps it safe to print in logs and headers. */
static bool media_type_ok(const char *s, size_t len) {
  if (len == 0 || len > SY_VALUE_MAX_NAME)
    return false;
  bool slash = false;
  for (size_t i = 0; i < len; i++) {
    unsigned char ch = (unsigned char)s[i];
    if (ch < 0x20 || ch > 0x7e)
      return false;
    slash = slash || ch == '/';
  }
  return slash;
}

/* Shared by new and wrap: validates and makes the value around data,
 * which the caller has already arranged to own or borrow. */
static int bytes_make(void *data, size_t len, const char *media_type,
                      void (*free_fn)(void *), sy_value **out) {
  if (!media_type)
    media_type = DEFAULT_MEDIA_TYPE;
  size_t mlen = bounded_len(media_type);
  if (!media_type_ok(media_type, mlen))
    return SY_EINVAL;
  sy_value *v = value_alloc(SY_VALUE_BYTES);
  if (!v)
    return SY_ENOMEM;
  v->u.bytes.data = data;
  v->u.bytes.len = len;
  v->u.bytes.free_fn = free_fn;
  memcpy(v->u.bytes.media, media_type, mlen + 1);
  *out = v;
  return 0;
}

int sy_bytes_new(const void *data, size_t len, const char *media_type,
                 sy_value **out) {
  int rc = SY_EINVAL;
  void *copy = NULL;
  if (!out || (!data && len))
    goto fail;
  *out = NULL;
  rc = SY_ETOOBIG;
  if (len > SY_VALUE_MAX_BYTES)
    goto fail;
  rc = SY_ENOMEM;
  /* Never hand out NULL for empty data: callers may pass it to memcpy. */
  copy = malloc(len ? len : 1);
  if (!copy)
    goto fail;
  if (len)
    memcpy(copy, data, len);
  rc = bytes_make(copy, len, media_type, free, out);
  if (rc < 0)
    goto fail;
  return 0;
fail:
  free(copy);
  return rc;
}

int sy_bytes_wrap(void *data, size_t len, const char *media_type,
                  void (*free_fn)(void *), sy_value **out) {
  if (!out || (!data && len))
    return SY_EINVAL;
  *out = NULL;
  if (len > SY_VALUE_MAX_BYTES)
    return SY_ETOOBIG;
  if (!data) {
    /* Empty and no buffer: keep the promise that data is never NULL. */
    static const char empty[1];
    data = (void *)empty;
    free_fn = NULL;
  }
  return bytes_make(data, len, media_type, free_fn, out);
}

const void *sy_bytes_data(const sy_value *v, size_t *len) {
  bool ok = v && v->type == SY_VALUE_BYTES;
  if (len)
    *len = ok ? v->u.bytes.len : 0;
  return ok ? v->u.bytes.data : NULL;
}

const char *sy_bytes_media_type(const sy_value *v) {
  return v && v->type == SY_VALUE_BYTES ? v->u.bytes.media : NULL;
}

/* ---- frames: building ------------------------------------------------ */

int sy_frame_new(size_t rows, sy_value **out) {
  if (!out)
    return SY_EINVAL;
  *out = NULL;
  if (rows > SY_VALUE_MAX_ROWS)
    return SY_ETOOBIG;
  sy_value *v = value_alloc(SY_VALUE_FRAME);
  if (!v)
    return SY_ENOMEM;
  v->u.frame.rows = rows;
  *out = v;
  return 0;
}

static const column *col_at(const sy_value *f, size_t c) {
  if (!f || f->type != SY_VALUE_FRAME || c >= f->u.frame.ncols)
    return NULL;
  return &f->u.frame.cols[c];
}

/* Checks what every add function checks: a frame still being built, a
 * valid and new name. Returns the name's length through *name_len. */
static int add_check(sy_value *f, const char *name, size_t *name_len) {
  if (!f || f->type != SY_VALUE_FRAME || !name)
    return SY_EINVAL;
  if (atomic_load(&f->frozen) || atomic_load(&f->refs) > 1)
    return SY_ESTATE;
  size_t n = bounded_len(name);
  if (n == 0 || n > SY_VALUE_MAX_NAME)
    return SY_EINVAL;
  if (sy_frame_col_index(f, name) >= 0)
    return SY_EEXIST;
  /* Indexes are returned as int and counted as u32 on the wire. */
  if (f->u.frame.ncols >= (size_t)INT_MAX)
    return SY_ETOOBIG;
  *name_len = n;
  return 0;
}

/* Appends a finished column; on failure the caller still owns col. */
static int frame_push(sy_value *f, column *col) {
  if (f->u.frame.ncols == f->u.frame.cap) {
    size_t cap = f->u.frame.cap ? f->u.frame.cap * 2 : 4;
    column *cols = realloc(f->u.frame.cols, cap * sizeof *cols);
    if (!cols)
      return SY_ENOMEM;
    f->u.frame.cols = cols;
    f->u.frame.cap = cap;
  }
  f->u.frame.cols[f->u.frame.ncols++] = *col;
  memset(col, 0, sizeof *col);
  return 0;
}

/* Copies a caller's validity array in canonical form: NULL when no cell
 * is null, else 0/1 bytes. Returns 0 or SY_ENOMEM. */
static int copy_valid(const uint8_t *valid, size_t rows, uint8_t **out) {
  *out = NULL;
  if (!valid || !memchr(valid, 0, rows))
    return 0;
  uint8_t *v = malloc(rows);
  if (!v)
    return SY_ENOMEM;
  for (size_t i = 0; i < rows; i++)
    v[i] = valid[i] != 0;
  *out = v;
  return 0;
}

/* f64 and i64 columns differ only in their cell type; both are 8 bytes
 * and copied as such, with null cells zeroed to stay canonical. */
static int add_numeric(sy_value *f, const char *name, sy_col_type type,
                       const void *data, const uint8_t *valid) {
  column col = {.type = type};
  size_t name_len = 0;
  int rc = add_check(f, name, &name_len);
  if (rc < 0)
    goto fail;
  size_t rows = f->u.frame.rows;
  rc = SY_EINVAL;
  if (!data && rows)
    goto fail;
  rc = SY_ENOMEM;
  col.name = malloc(name_len + 1);
  void *cells = calloc(rows ? rows : 1, 8);
  if (type == SY_COL_F64)
    col.u.f64 = cells;
  else
    col.u.i64 = cells;
  if (!col.name || !cells)
    goto fail;
  memcpy(col.name, name, name_len + 1);
  rc = copy_valid(valid, rows, &col.valid);
  if (rc < 0)
    goto fail;
  const unsigned char *src = data;
  unsigned char *dst = cells;
  for (size_t i = 0; i < rows; i++)
    if (!col.valid || col.valid[i])
      memcpy(dst + 8 * i, src + 8 * i, 8);
  rc = frame_push(f, &col);
  if (rc < 0)
    goto fail;
  return 0;
fail:
  column_clear(&col);
  return rc;
}

int sy_frame_add_f64(sy_value *f, const char *name, const double *data,
                     const uint8_t *valid) {
  return add_numeric(f, name, SY_COL_F64, data, valid);
}

int sy_frame_add_i64(sy_value *f, const char *name, const int64_t *data,
                     const uint8_t *valid) {
  return add_numeric(f, name, SY_COL_I64, data, valid);
}

int sy_frame_add_str(sy_value *f, const char *name, const char *const *data) {
  column col = {.type = SY_COL_STR};
  size_t name_len = 0;
  size_t *lens = NULL;
  int rc = add_check(f, name, &name_len);
  if (rc < 0)
    goto fail;
  size_t rows = f->u.frame.rows;
  rc = SY_EINVAL;
  if (!data && rows)
    goto fail;
  rc = SY_ENOMEM;
  col.name = malloc(name_len + 1);
  col.u.str = calloc(rows ? rows : 1, sizeof *col.u.str);
  lens = malloc((rows ? rows : 1) * sizeof *lens);
  if (!col.name || !col.u.str || !lens)
    goto fail;
  memcpy(col.name, name, name_len + 1);
  /* One pass to size the blob (and refuse what cannot be encoded), one
   * to fill it: one allocation for all strings of the column. */
  size_t blob = 0, nulls = 0;
  for (size_t i = 0; i < rows; i++) {
    lens[i] = data[i] ? strlen(data[i]) : 0;
    nulls += !data[i];
    rc = SY_ETOOBIG;
    if (lens[i] > SY_VALUE_MAX_BYTES || blob > SY_VALUE_MAX_BYTES)
      goto fail;
    blob += data[i] ? lens[i] + 1 : 0;
    col.str_bytes += lens[i];
  }
  rc = SY_ENOMEM;
  col.blob = malloc(blob ? blob : 1);
  if (!col.blob)
    goto fail;
  if (nulls) {
    col.valid = malloc(rows);
    if (!col.valid)
      goto fail;
  }
  char *p = col.blob;
  for (size_t i = 0; i < rows; i++) {
    if (col.valid)
      col.valid[i] = data[i] != NULL;
    if (!data[i])
      continue;
    memcpy(p, data[i], lens[i] + 1);
    col.u.str[i] = p;
    p += lens[i] + 1;
  }
  rc = frame_push(f, &col);
  if (rc < 0)
    goto fail;
  free(lens);
  return 0;
fail:
  free(lens);
  column_clear(&col);
  return rc;
}

/* ---- frames: reading ------------------------------------------------- */

size_t sy_frame_rows(const sy_value *f) {
  return f && f->type == SY_VALUE_FRAME ? f->u.frame.rows : 0;
}

size_t sy_frame_cols(const sy_value *f) {
  return f && f->type == SY_VALUE_FRAME ? f->u.frame.ncols : 0;
}

const char *sy_frame_col_name(const sy_value *f, size_t c) {
  const column *col = col_at(f, c);
  return col ? col->name : NULL;
}

sy_col_type sy_frame_col_type(const sy_value *f, size_t c) {
  const column *col = col_at(f, c);
  return col ? col->type : (sy_col_type)0;
}

int sy_frame_col_index(const sy_value *f, const char *name) {
  if (!f || f->type != SY_VALUE_FRAME || !name)
    return SY_ENOENT;
  for (size_t i = 0; i < f->u.frame.ncols; i++)
    if (strcmp(f->u.frame.cols[i].name, name) == 0)
      return (int)i;
  return SY_ENOENT;
}

const double *sy_frame_f64(const sy_value *f, size_t c) {
  const column *col = col_at(f, c);
  return col && col->type == SY_COL_F64 ? col->u.f64 : NULL;
}

const int64_t *sy_frame_i64(const sy_value *f, size_t c) {
  const column *col = col_at(f, c);
  return col && col->type == SY_COL_I64 ? col->u.i64 : NULL;
}

const char *sy_frame_str(const sy_value *f, size_t c, size_t row) {
  const column *col = col_at(f, c);
  if (!col || col->type != SY_COL_STR || row >= f->u.frame.rows)
    return NULL;
  return col->u.str[row];
}

const uint8_t *sy_frame_valid(const sy_value *f, size_t c) {
  const column *col = col_at(f, c);
  return col ? col->valid : NULL;
}

bool sy_frame_is_null(const sy_value *f, size_t c, size_t row) {
  const column *col = col_at(f, c);
  if (!col || row >= f->u.frame.rows)
    return false;
  return col->valid && !col->valid[row];
}

/* ---- frames: reusing buffers --------------------------------------- */

/* acquire pairs with the acq_rel decrement in sy_value_unref: a holder
 * that sees 1 also sees every read other holders made before they let go,
 * so rewriting the cells cannot race with them. */
bool sy_value_exclusive(const sy_value *v) {
  return v && atomic_load_explicit(&v->refs, memory_order_acquire) == 1;
}

static column *col_mut(sy_value *f, size_t c, sy_col_type type) {
  if (!f || f->type != SY_VALUE_FRAME || c >= f->u.frame.ncols ||
      !sy_value_exclusive(f))
    return NULL;
  column *col = &f->u.frame.cols[c];
  return type == 0 || col->type == type ? col : NULL;
}

double *sy_frame_f64_mut(sy_value *f, size_t c) {
  column *col = col_mut(f, c, SY_COL_F64);
  return col ? col->u.f64 : NULL;
}

int64_t *sy_frame_i64_mut(sy_value *f, size_t c) {
  column *col = col_mut(f, c, SY_COL_I64);
  return col ? col->u.i64 : NULL;
}

int sy_frame_set_valid(sy_value *f, size_t c, const uint8_t *valid) {
  if (!f || f->type != SY_VALUE_FRAME || c >= f->u.frame.ncols)
    return SY_EINVAL;
  if (!sy_value_exclusive(f))
    return SY_ESTATE;
  column *col = &f->u.frame.cols[c];
  if (col->type != SY_COL_F64 && col->type != SY_COL_I64)
    return SY_EINVAL;
  size_t rows = f->u.frame.rows;
  if (!valid || !memchr(valid, 0, rows)) {
    /* The common case of a serving loop: no nulls before or after. */
    free(col->valid);
    col->valid = NULL;
    return 0;
  }
  if (!col->valid && !(col->valid = malloc(rows)))
    return SY_ENOMEM;
  for (size_t i = 0; i < rows; i++) {
    col->valid[i] = valid[i] != 0;
    if (col->valid[i])
      continue;
    if (col->type == SY_COL_F64)
      col->u.f64[i] = 0.0; /* +0.0: all bits zero, the canonical null */
    else
      col->u.i64[i] = 0;
  }
  return 0;
}

/* The shortest "%.Ng" text that reads back as the same double. Any double
 * with at most 15 significant digits survives %.15g, so trying 15, 16, 17
 * finds the shortest; 17 always round-trips. */
static int format_f64(double d, char *tmp, size_t cap) {
  if (isnan(d))
    return snprintf(tmp, cap, "nan");
  if (isinf(d))
    return snprintf(tmp, cap, d < 0 ? "-inf" : "inf");
  int n = 0;
  for (int prec = 15; prec <= 17; prec++) {
    n = snprintf(tmp, cap, "%.*g", prec, d);
    if (strtod(tmp, NULL) == d)
      break;
  }
  return n;
}

int sy_frame_format_cell(const sy_value *f, size_t c, size_t row, char *buf,
                         size_t cap) {
  const column *col = col_at(f, c);
  if (!col || row >= f->u.frame.rows || !buf)
    return SY_EINVAL;
  char tmp[64];
  const char *text = tmp;
  size_t n = 0;
  if (col->valid && !col->valid[row]) {
    text = "";
  } else if (col->type == SY_COL_F64) {
    n = (size_t)format_f64(col->u.f64[row], tmp, sizeof tmp);
  } else if (col->type == SY_COL_I64) {
    n = (size_t)snprintf(tmp, sizeof tmp, "%" PRId64, col->u.i64[row]);
  } else {
    text = col->u.str[row];
    n = strlen(text);
  }
  if (n >= cap) {
    if (cap)
      buf[0] = '\0';
    return SY_ERANGE;
  }
  memcpy(buf, text, n + 1);
  return (int)n;
}

/* ---- encoding -------------------------------------------------------- */

/* The body length of v's encoding, or SY_ETOOBIG when it would exceed
 * SY_VALUE_MAX_BYTES. Every addend is below 2^33 and the running total is
 * checked after each, so the u64 sums cannot overflow. */
static int body_size(const sy_value *v, uint64_t *out) {
  uint64_t n = 0;
  if (v->type == SY_VALUE_BYTES) {
    n = 4 + strlen(v->u.bytes.media) + 8 + (uint64_t)v->u.bytes.len;
  } else {
    uint64_t rows = v->u.frame.rows;
    n = 8 + 4;
    for (size_t i = 0; i < v->u.frame.ncols && n <= SY_VALUE_MAX_BYTES; i++) {
      const column *col = &v->u.frame.cols[i];
      n += 4 + strlen(col->name) + 1 + 1;
      n += col->valid ? (rows + 7) / 8 : 0;
      if (col->type == SY_COL_STR)
        n += 4 * rows + (uint64_t)col->str_bytes;
      else
        n += 8 * rows;
    }
  }
  if (n > SY_VALUE_MAX_BYTES)
    return SY_ETOOBIG;
  *out = n;
  return 0;
}

/* A byte sink: either the output buffer (sized in advance), or, for the
 * hash, a staging area flushed into an XXH3 state so that hashing needs no
 * copy of the whole encoding. */
typedef struct writer {
  unsigned char *buf;
  size_t pos;
  XXH3_state_t *st;
  unsigned char stage[4096];
} writer;

static void w_flush(writer *w) {
  if (w->st && w->pos) {
    XXH3_128bits_update(w->st, w->stage, w->pos);
    w->pos = 0;
  }
}

static void w_put(writer *w, const void *p, size_t n) {
  if (!w->st) {
    if (n)
      memcpy(w->buf + w->pos, p, n);
    w->pos += n;
    return;
  }
  if (n >= sizeof w->stage) {
    w_flush(w);
    XXH3_128bits_update(w->st, p, n);
    return;
  }
  if (w->pos + n > sizeof w->stage)
    w_flush(w);
  memcpy(w->stage + w->pos, p, n);
  w->pos += n;
}

static void w_u8(writer *w, unsigned x) {
  unsigned char b = (unsigned char)x;
  w_put(w, &b, 1);
}

static void w_u32(writer *w, uint32_t x) {
  unsigned char b[4];
  sy_le32_put(b, x);
  w_put(w, b, 4);
}

static void w_u64(writer *w, uint64_t x) {
  unsigned char b[8];
  sy_le64_put(b, x);
  w_put(w, b, 8);
}

/* Cells are 8-byte values (double bits or two's complement int64); they
 * are read as uint64_t through memcpy, which is defined for both. */
static void w_cells(writer *w, const void *cells, size_t rows) {
  const unsigned char *p = cells;
  unsigned char chunk[512];
  size_t k = 0;
  for (size_t i = 0; i < rows; i++) {
    uint64_t x;
    memcpy(&x, p + 8 * i, 8);
    sy_le64_put(chunk + k, x);
    k += 8;
    if (k == sizeof chunk) {
      w_put(w, chunk, k);
      k = 0;
    }
  }
  w_put(w, chunk, k);
}

static void w_bitmap(writer *w, const uint8_t *valid, size_t rows) {
  for (size_t i = 0; i < rows; i += 8) {
    unsigned byte = 0;
    for (size_t j = 0; j < 8 && i + j < rows; j++)
      byte |= (unsigned)(valid[i + j] != 0) << j;
    w_u8(w, byte);
  }
}

/* Writes header and body (everything the checksum covers). */
static void write_value(writer *w, const sy_value *v, uint64_t body) {
  w_put(w, "SYV", 3);
  w_u8(w, FORMAT_VERSION);
  w_u8(w, (unsigned)v->type);
  w_put(w, "\0\0\0", 3);
  w_u64(w, body);
  if (v->type == SY_VALUE_BYTES) {
    size_t m = strlen(v->u.bytes.media);
    w_u32(w, (uint32_t)m);
    w_put(w, v->u.bytes.media, m);
    w_u64(w, v->u.bytes.len);
    w_put(w, v->u.bytes.data, v->u.bytes.len);
    return;
  }
  size_t rows = v->u.frame.rows;
  w_u64(w, rows);
  w_u32(w, (uint32_t)v->u.frame.ncols);
  for (size_t c = 0; c < v->u.frame.ncols; c++) {
    const column *col = &v->u.frame.cols[c];
    size_t l = strlen(col->name);
    w_u32(w, (uint32_t)l);
    w_put(w, col->name, l);
    w_u8(w, (unsigned)col->type);
    w_u8(w, col->valid != NULL);
    if (col->valid)
      w_bitmap(w, col->valid, rows);
    if (col->type == SY_COL_STR) {
      for (size_t i = 0; i < rows; i++) {
        const char *s = col->u.str[i];
        size_t n = s ? strlen(s) : 0;
        w_u32(w, (uint32_t)n);
        w_put(w, s ? s : "", n);
      }
    } else {
      w_cells(w,
              col->type == SY_COL_F64 ? (const void *)col->u.f64
                                      : (const void *)col->u.i64,
              rows);
    }
  }
}

int sy_value_encode(const sy_value *v, void **buf, size_t *len) {
  if (!v || !buf || !len)
    return SY_EINVAL;
  *buf = NULL;
  *len = 0;
  uint64_t body = 0;
  int rc = body_size(v, &body);
  if (rc < 0)
    return rc;
  size_t total = HEADER_SIZE + (size_t)body + CHECKSUM_SIZE;
  unsigned char *out = malloc(total);
  if (!out)
    return SY_ENOMEM;
  writer w = {.buf = out};
  write_value(&w, v, body);
  sy_le64_put(out + w.pos, XXH3_64bits(out, w.pos));
  *buf = out;
  *len = total;
  return 0;
}

int sy_value_hash(const sy_value *v, uint8_t out[SY_VALUE_HASH_SIZE]) {
  if (!v || !out)
    return SY_EINVAL;
  uint64_t body = 0;
  int rc = body_size(v, &body);
  if (rc < 0)
    return rc;
  writer *w = calloc(1, sizeof *w);
  XXH3_state_t *st = XXH3_createState();
  rc = SY_ENOMEM;
  if (!w || !st)
    goto done;
  XXH3_128bits_reset(st);
  w->st = st;
  write_value(w, v, body);
  w_flush(w);
  XXH128_canonical_t canon;
  XXH128_canonicalFromHash(&canon, XXH3_128bits_digest(st));
  memcpy(out, canon.digest, SY_VALUE_HASH_SIZE);
  rc = 0;
done:
  XXH3_freeState(st);
  free(w);
  return rc;
}

/* ---- decoding -------------------------------------------------------- */

typedef struct reader {
  const unsigned char *p;
  size_t end; /* end of the body: the checksum is not read here */
  size_t pos;
  sy_error *err;
} reader;

static int fail_at(sy_error *err, int code, size_t off, const char *fmt, ...)
    SY_PRINTF(4, 5);

/* Every decode error reads "value: offset N: what is wrong". */
static int fail_at(sy_error *err, int code, size_t off, const char *fmt, ...) {
  char msg[SY_ERROR_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return sy_error_set(err, code, "value: offset %zu: %s", off, msg);
}

static size_t r_left(const reader *r) {
  return r->end - r->pos;
}

/* Fails unless n more bytes are there; the one guard every read and every
 * allocation goes through. */
static int r_need(reader *r, uint64_t n, const char *what) {
  if (n > r_left(r))
    return fail_at(r->err, SY_ECORRUPT, r->pos,
                   "truncated %s: needs %" PRIu64 " bytes, %zu left", what, n,
                   r_left(r));
  return 0;
}

static int r_u8(reader *r, unsigned *x, const char *what) {
  int rc = r_need(r, 1, what);
  if (rc == 0)
    *x = r->p[r->pos++];
  return rc;
}

static int r_u32(reader *r, uint32_t *x, const char *what) {
  int rc = r_need(r, 4, what);
  if (rc == 0) {
    *x = sy_le32_get(r->p + r->pos);
    r->pos += 4;
  }
  return rc;
}

static int r_u64(reader *r, uint64_t *x, const char *what) {
  int rc = r_need(r, 8, what);
  if (rc == 0) {
    *x = sy_le64_get(r->p + r->pos);
    r->pos += 8;
  }
  return rc;
}

static int decode_bytes(reader *r, sy_value **out) {
  uint32_t m = 0;
  uint64_t n = 0;
  char media[SY_VALUE_MAX_NAME + 1];
  int rc = r_u32(r, &m, "media type length");
  if (rc < 0)
    return rc;
  size_t off = r->pos;
  if (m == 0 || m > SY_VALUE_MAX_NAME)
    return fail_at(r->err, SY_ECORRUPT, off - 4,
                   "media type length %" PRIu32 " is not in 1..%d", m,
                   SY_VALUE_MAX_NAME);
  if ((rc = r_need(r, m, "media type")) < 0)
    return rc;
  memcpy(media, r->p + off, m);
  media[m] = '\0';
  if (!media_type_ok(media, m))
    return fail_at(r->err, SY_ECORRUPT, off,
                   "media type is not printable ASCII with a '/'");
  r->pos += m;
  if ((rc = r_u64(r, &n, "data length")) < 0)
    return rc;
  if ((rc = r_need(r, n, "data")) < 0)
    return rc;
  rc = sy_bytes_new(r->p + r->pos, (size_t)n, media, out);
  if (rc < 0)
    return sy_error_set(r->err, rc, "value: %s", sy_strerror(rc));
  r->pos += (size_t)n;
  return 0;
}

/* Reads a validity bitmap into col->valid (0/1 bytes). The caller has
 * checked that the bitmap and the column's smallest possible data fit, so
 * the allocation of `rows` bytes is backed by at least rows/2 input bytes. */
static int decode_bitmap(reader *r, column *col, size_t rows) {
  size_t nb = (rows + 7) / 8;
  size_t off = r->pos;
  const unsigned char *b = r->p + off;
  col->valid = malloc(rows ? rows : 1);
  if (!col->valid)
    return sy_error_set(r->err, SY_ENOMEM, "value: out of memory");
  size_t nulls = 0;
  for (size_t i = 0; i < rows; i++) {
    col->valid[i] = (b[i / 8] >> (i % 8)) & 1;
    nulls += !col->valid[i];
  }
  if (rows % 8 && (b[nb - 1] >> (rows % 8)) != 0)
    return fail_at(r->err, SY_ECORRUPT, off + nb - 1,
                   "column '%s': spare bits of the validity bitmap are set",
                   col->name);
  if (nulls == 0)
    return fail_at(r->err, SY_ECORRUPT, off,
                   "column '%s' is marked as having nulls but has none",
                   col->name);
  r->pos += nb;
  return 0;
}

static int decode_numeric(reader *r, column *col, size_t rows) {
  size_t off = r->pos;
  uint64_t *cells = malloc(rows ? rows * 8 : 8);
  if (!cells)
    return sy_error_set(r->err, SY_ENOMEM, "value: out of memory");
  /* Stored before any check so that column_clear frees it on failure. */
  if (col->type == SY_COL_F64)
    col->u.f64 = (double *)(void *)cells;
  else
    col->u.i64 = (int64_t *)(void *)cells;
  for (size_t i = 0; i < rows; i++) {
    uint64_t x = sy_le64_get(r->p + off + 8 * i);
    if (x && col->valid && !col->valid[i])
      return fail_at(r->err, SY_ECORRUPT, off + 8 * i,
                     "column '%s': null row %zu carries data", col->name, i);
    /* Write through the column's own type: the bits of an f64 cell go
     * into a double by memcpy, which is defined. */
    memcpy((unsigned char *)cells + 8 * i, &x, 8);
  }
  r->pos += 8 * rows;
  return 0;
}

static int decode_strings(reader *r, column *col, size_t rows) {
  /* First pass: validate every length against the input and size the
   * blob, which thereby cannot exceed the input left plus one NUL per
   * row. Nothing is allocated from a claimed length. */
  size_t start = r->pos, blob = 0;
  int rc = 0;
  for (size_t i = 0; i < rows; i++) {
    uint32_t n = 0;
    if ((rc = r_u32(r, &n, "string length")) < 0)
      return rc;
    bool null = col->valid && !col->valid[i];
    if (null && n)
      return fail_at(r->err, SY_ECORRUPT, r->pos - 4,
                     "column '%s': null row %zu has a string of %" PRIu32
                     " bytes",
                     col->name, i, n);
    if ((rc = r_need(r, n, "string")) < 0)
      return rc;
    const void *nul = memchr(r->p + r->pos, 0, n);
    if (nul)
      return fail_at(r->err, SY_ECORRUPT,
                     (size_t)((const unsigned char *)nul - r->p),
                     "column '%s': row %zu holds a NUL byte", col->name, i);
    r->pos += n;
    blob += null ? 0 : (size_t)n + 1;
    col->str_bytes += n;
  }
  col->u.str = calloc(rows ? rows : 1, sizeof *col->u.str);
  col->blob = malloc(blob ? blob : 1);
  if (!col->u.str || !col->blob)
    return sy_error_set(r->err, SY_ENOMEM, "value: out of memory");
  /* Second pass: copy what the first pass validated. */
  size_t pos = start;
  char *p = col->blob;
  for (size_t i = 0; i < rows; i++) {
    uint32_t n = sy_le32_get(r->p + pos);
    pos += 4;
    if (col->valid && !col->valid[i])
      continue;
    memcpy(p, r->p + pos, n);
    p[n] = '\0';
    col->u.str[i] = p;
    p += (size_t)n + 1;
    pos += n;
  }
  return 0;
}

typedef struct name_at {
  const char *name;
  size_t off;
} name_at;

static int name_at_cmp(const void *a, const void *b) {
  const name_at *x = a, *y = b;
  int c = strcmp(x->name, y->name);
  /* Ties broken by offset so that the later duplicate is reported. */
  return c ? c : (x->off > y->off) - (x->off < y->off);
}

static int decode_column(reader *r, sy_value *f, name_at *seen) {
  column col = {0};
  size_t rows = f->u.frame.rows;
  uint32_t l = 0;
  unsigned type = 0, has_nulls = 0;
  int rc = r_u32(r, &l, "column name length");
  if (rc < 0)
    goto fail;
  size_t off = r->pos;
  if (l == 0 || l > SY_VALUE_MAX_NAME) {
    rc = fail_at(r->err, SY_ECORRUPT, off - 4,
                 "column name length %" PRIu32 " is not in 1..%d", l,
                 SY_VALUE_MAX_NAME);
    goto fail;
  }
  if ((rc = r_need(r, l, "column name")) < 0)
    goto fail;
  if (memchr(r->p + off, 0, l)) {
    rc = fail_at(r->err, SY_ECORRUPT, off, "column name holds a NUL byte");
    goto fail;
  }
  rc = SY_ENOMEM;
  col.name = malloc((size_t)l + 1);
  if (!col.name) {
    sy_error_set(r->err, rc, "value: out of memory");
    goto fail;
  }
  memcpy(col.name, r->p + off, l);
  col.name[l] = '\0';
  r->pos += l;
  if ((rc = r_u8(r, &type, "column type")) < 0)
    goto fail;
  if (type < SY_COL_F64 || type > SY_COL_STR) {
    rc = fail_at(r->err, SY_ECORRUPT, r->pos - 1,
                 "column '%s' has unknown type %u", col.name, type);
    goto fail;
  }
  col.type = (sy_col_type)type;
  if ((rc = r_u8(r, &has_nulls, "null flag")) < 0)
    goto fail;
  if (has_nulls > 1) {
    rc = fail_at(r->err, SY_ECORRUPT, r->pos - 1,
                 "column '%s' has null flag %u, not 0 or 1", col.name,
                 has_nulls);
    goto fail;
  }
  /* Before allocating anything per row, make sure the input holds the
   * bitmap and the least data the column can have. */
  uint64_t least = (uint64_t)rows * (type == SY_COL_STR ? 4 : 8);
  if (has_nulls)
    least += (rows + 7) / 8;
  if ((rc = r_need(r, least, "column data")) < 0)
    goto fail;
  if (has_nulls && (rc = decode_bitmap(r, &col, rows)) < 0)
    goto fail;
  if (type == SY_COL_STR)
    rc = decode_strings(r, &col, rows);
  else
    rc = decode_numeric(r, &col, rows);
  if (rc < 0)
    goto fail;
  seen->name = col.name;
  seen->off = off;
  if ((rc = frame_push(f, &col)) < 0) {
    sy_error_set(r->err, rc, "value: out of memory");
    goto fail;
  }
  return 0;
fail:
  column_clear(&col);
  return rc;
}

static int decode_frame(reader *r, sy_value **out) {
  uint64_t rows = 0;
  uint32_t ncols = 0;
  sy_value *f = NULL;
  name_at *seen = NULL;
  int rc = r_u64(r, &rows, "row count");
  if (rc < 0)
    goto fail;
  if (rows > SY_VALUE_MAX_ROWS) {
    rc = fail_at(r->err, SY_ETOOBIG, r->pos - 8,
                 "row count %" PRIu64 " exceeds SY_VALUE_MAX_ROWS (%zu)", rows,
                 (size_t)SY_VALUE_MAX_ROWS);
    goto fail;
  }
  if ((rc = r_u32(r, &ncols, "column count")) < 0)
    goto fail;
  /* A column takes at least 7 bytes (length, one-byte name, type, flag):
   * refuse a count the input cannot hold before reserving for it. */
  if ((uint64_t)ncols * 7 > r_left(r)) {
    rc = fail_at(r->err, SY_ECORRUPT, r->pos - 4,
                 "column count %" PRIu32 " cannot fit in the %zu bytes left",
                 ncols, r_left(r));
    goto fail;
  }
  if ((rc = sy_frame_new((size_t)rows, &f)) < 0) {
    sy_error_set(r->err, rc, "value: %s", sy_strerror(rc));
    goto fail;
  }
  rc = SY_ENOMEM;
  seen = malloc((ncols ? ncols : 1) * sizeof *seen);
  f->u.frame.cols = malloc((ncols ? ncols : 1) * sizeof *f->u.frame.cols);
  if (!seen || !f->u.frame.cols) {
    sy_error_set(r->err, rc, "value: out of memory");
    goto fail;
  }
  f->u.frame.cap = ncols ? ncols : 1;
  for (uint32_t c = 0; c < ncols; c++)
    if ((rc = decode_column(r, f, &seen[c])) < 0)
      goto fail;
  /* Duplicate names are found by sorting, not pairwise: a hostile input
   * may carry many thousands of columns. */
  qsort(seen, ncols, sizeof *seen, name_at_cmp);
  for (uint32_t c = 1; c < ncols; c++)
    if (strcmp(seen[c - 1].name, seen[c].name) == 0) {
      rc = fail_at(r->err, SY_ECORRUPT, seen[c].off,
                   "duplicate column name '%s'", seen[c].name);
      goto fail;
    }
  free(seen);
  *out = f;
  return 0;
fail:
  free(seen);
  sy_value_unref(f);
  return rc;
}

int sy_value_decode(const void *buf, size_t len, sy_value **out,
                    sy_error *err) {
  const unsigned char *p = buf;
  sy_value *v = NULL;
  if (!out || (!buf && len))
    return sy_error_set(err, SY_EINVAL, "value: no buffer or no result");
  *out = NULL;
  if (len && memcmp(p, "SYV", len < 3 ? len : 3) != 0)
    return fail_at(err, SY_ECORRUPT, 0,
                   "not a switchyard value (bad magic, expected \"SYV\")");
  if (len < HEADER_SIZE + CHECKSUM_SIZE)
    return fail_at(err, SY_ECORRUPT, len,
                   "truncated header: %zu bytes, a value takes at least %d",
                   len, HEADER_SIZE + CHECKSUM_SIZE);
  if (p[3] == 0)
    return fail_at(err, SY_ECORRUPT, 3, "format version 0 is invalid");
  if (p[3] > FORMAT_VERSION)
    return fail_at(err, SY_ENOTSUP, 3,
                   "format version %u is newer than the supported %d", p[3],
                   FORMAT_VERSION);
  if (p[4] != SY_VALUE_BYTES && p[4] != SY_VALUE_FRAME)
    return fail_at(err, SY_ECORRUPT, 4, "unknown value type %u", p[4]);
  if (p[5] || p[6] || p[7])
    return fail_at(err, SY_ECORRUPT, 5, "reserved header bytes are not zero");
  uint64_t body = sy_le64_get(p + 8);
  size_t avail = len - HEADER_SIZE - CHECKSUM_SIZE;
  if (body > SY_VALUE_MAX_BYTES)
    return fail_at(err, SY_ETOOBIG, 8,
                   "body length %" PRIu64 " exceeds SY_VALUE_MAX_BYTES (%zu)",
                   body, (size_t)SY_VALUE_MAX_BYTES);
  if (body > avail)
    return fail_at(err, SY_ECORRUPT, 8,
                   "truncated: the header claims %" PRIu64
                   " body bytes, %zu are there",
                   body, avail);
  if (body < avail)
    return fail_at(err, SY_ECORRUPT, len - (avail - (size_t)body),
                   "%zu unexpected bytes after the checksum",
                   avail - (size_t)body);
  size_t end = HEADER_SIZE + (size_t)body;
  uint64_t stored = sy_le64_get(p + end);
  uint64_t computed = XXH3_64bits(p, end);
  if (stored != computed)
    return fail_at(err, SY_ECORRUPT, end,
                   "checksum mismatch (stored %016" PRIx64
                   ", computed %016" PRIx64 ")",
                   stored, computed);
  reader r = {.p = p, .end = end, .pos = HEADER_SIZE, .err = err};
  int rc = p[4] == SY_VALUE_BYTES ? decode_bytes(&r, &v) : decode_frame(&r, &v);
  if (rc < 0)
    return rc;
  if (r.pos != end) {
    sy_value_unref(v);
    return fail_at(err, SY_ECORRUPT, r.pos,
                   "%zu unexpected bytes at the end of the body", end - r.pos);
  }
  *out = v;
  return 0;
}

/* ---- equality -------------------------------------------------------- */

/* Both sides are canonical (null cells zeroed, no validity array without
 * nulls), so comparing memory compares content. */
static bool column_equal(const column *a, const column *b, size_t rows) {
  if (strcmp(a->name, b->name) != 0 || a->type != b->type)
    return false;
  if ((a->valid == NULL) != (b->valid == NULL))
    return false;
  if (a->valid && memcmp(a->valid, b->valid, rows) != 0)
    return false;
  if (a->type == SY_COL_F64)
    return memcmp(a->u.f64, b->u.f64, rows * 8) == 0;
  if (a->type == SY_COL_I64)
    return memcmp(a->u.i64, b->u.i64, rows * 8) == 0;
  for (size_t i = 0; i < rows; i++) {
    const char *x = a->u.str[i], *y = b->u.str[i];
    if ((x == NULL) != (y == NULL) || (x && strcmp(x, y) != 0))
      return false;
  }
  return true;
}

bool sy_value_equal(const sy_value *a, const sy_value *b) {
  if (a == b)
    return true;
  if (!a || !b || a->type != b->type)
    return false;
  if (a->type == SY_VALUE_BYTES)
    return a->u.bytes.len == b->u.bytes.len &&
           strcmp(a->u.bytes.media, b->u.bytes.media) == 0 &&
           memcmp(a->u.bytes.data, b->u.bytes.data, a->u.bytes.len) == 0;
  if (a->u.frame.rows != b->u.frame.rows ||
      a->u.frame.ncols != b->u.frame.ncols)
    return false;
  for (size_t c = 0; c < a->u.frame.ncols; c++)
    if (!column_equal(&a->u.frame.cols[c], &b->u.frame.cols[c],
                      a->u.frame.rows))
      return false;
  return true;
}

int sy_frame_add_column_from(sy_value *dst, const char *name,
                             const sy_value *src, size_t c) {
  if (!dst || !src || sy_value_type_of(src) != SY_VALUE_FRAME ||
      c >= sy_frame_cols(src) || sy_frame_rows(src) < sy_frame_rows(dst))
    return SY_EINVAL;
  if (!name)
    name = sy_frame_col_name(src, c);
  switch (sy_frame_col_type(src, c)) {
  case SY_COL_F64:
    return sy_frame_add_f64(dst, name, sy_frame_f64(src, c),
                            sy_frame_valid(src, c));
  case SY_COL_I64:
    return sy_frame_add_i64(dst, name, sy_frame_i64(src, c),
                            sy_frame_valid(src, c));
  case SY_COL_STR: {
    /* String cells are reached one by one: gather borrowed pointers (NULL
     * marks a null) and let the frame copy them. */
    size_t rows = sy_frame_rows(dst);
    const char **cells = malloc((rows ? rows : 1) * sizeof *cells);
    if (!cells)
      return SY_ENOMEM;
    for (size_t r = 0; r < rows; r++)
      cells[r] = sy_frame_str(src, c, r);
    int rc = sy_frame_add_str(dst, name, cells);
    free(cells);
    return rc;
  }
  }
  return SY_EINVAL;
}

/* ---- the frame builder (ABI 1.3) -------------------------------------
 *
 * A builder keeps, per column, the very arrays the frame will own: cells
 * grow by doubling, a validity array appears with the first null (earlier
 * rows filled with 1), and strings go into one growing blob. Blob
 * positions are kept as offsets while the blob may still move and turned
 * into pointers by finish, which then moves every column into a new frame
 * without copying a cell. The first failure is kept (code and message)
 * and makes every later call and finish fail, so that a loop of appends
 * may be checked once. */

typedef struct bcol {
  column col;        /* name and type set; cells in u.f64/u.i64 or offs */
  size_t n, cap;     /* cells appended, room */
  size_t *offs;      /* str: blob offset per cell, SIZE_MAX for null */
  size_t blen, bcap; /* str: blob bytes used, room */
} bcol;

struct sy_frame_builder {
  size_t rows; /* SY_FRAME_GROW or the fixed row count */
  bcol *cols;
  size_t ncols, capcols;
  sy_error err; /* the first failure; err.code 0 while none */
};

SY_PRINTF(3, 4)
static int b_fail(sy_frame_builder *b, int code, const char *fmt, ...) {
  if (b->err.code == 0) {
    va_list ap;
    va_start(ap, fmt);
    sy_error_setv(&b->err, code, fmt, ap);
    va_end(ap);
  }
  return code;
}

int sy_frame_builder_new(size_t rows, sy_frame_builder **out) {
  if (!out)
    return SY_EINVAL;
  *out = NULL;
  if (rows != SY_FRAME_GROW && rows > SY_VALUE_MAX_ROWS)
    return SY_ETOOBIG;
  sy_frame_builder *b = calloc(1, sizeof *b);
  if (!b)
    return SY_ENOMEM;
  b->rows = rows;
  sy_error_clear(&b->err);
  *out = b;
  return 0;
}

static void bcol_clear(bcol *c) {
  free(c->offs);
  column_clear(&c->col);
}

void sy_frame_builder_free(sy_frame_builder *b) {
  if (!b)
    return;
  for (size_t i = 0; i < b->ncols; i++)
    bcol_clear(&b->cols[i]);
  free(b->cols);
  free(b);
}

/* Cell storage for a column: what each cell takes in its array. */
static size_t cell_size(sy_col_type t) {
  return t == SY_COL_STR ? sizeof(size_t) : 8;
}

static void **cells_of(bcol *c) {
  if (c->col.type == SY_COL_STR)
    return (void **)&c->offs;
  if (c->col.type == SY_COL_F64)
    return (void **)&c->col.u.f64;
  return (void **)&c->col.u.i64;
}

/* Makes room for `more` cells in column c (and its validity when it has
 * one). Returns 0 or a failure, kept in b. */
static int b_reserve(sy_frame_builder *b, bcol *c, size_t more) {
  size_t limit = b->rows == SY_FRAME_GROW ? SY_VALUE_MAX_ROWS : b->rows;
  if (more > limit - c->n)
    return b_fail(b, b->rows == SY_FRAME_GROW ? SY_ETOOBIG : SY_ERANGE,
                  "column '%s': more than %zu cells", c->col.name, limit);
  if (c->n + more <= c->cap)
    return 0;
  /* A known row count is reserved exactly; growing columns double. */
  size_t cap = b->rows != SY_FRAME_GROW ? limit : c->cap ? c->cap : 16;
  while (cap < c->n + more)
    cap = cap > limit / 2 ? limit : cap * 2;
  void **cells = cells_of(c);
  void *grown = realloc(*cells, cap * cell_size(c->col.type));
  if (!grown)
    return b_fail(b, SY_ENOMEM, "out of memory");
  *cells = grown;
  if (c->col.valid) {
    uint8_t *v = realloc(c->col.valid, cap);
    if (!v)
      return b_fail(b, SY_ENOMEM, "out of memory");
    c->col.valid = v;
  }
  c->cap = cap;
  return 0;
}

int sy_frame_builder_column(sy_frame_builder *b, const char *name,
                            sy_col_type type) {
  if (!b)
    return SY_EINVAL;
  if (b->err.code)
    return b->err.code;
  if (!name)
    return b_fail(b, SY_EINVAL, "a column without a name");
  size_t n = bounded_len(name);
  if (n == 0 || n > SY_VALUE_MAX_NAME)
    return b_fail(b, SY_EINVAL, "column name of %s bytes (1 to %d allowed)",
                  n ? "too many" : "0", SY_VALUE_MAX_NAME);
  if (type != SY_COL_F64 && type != SY_COL_I64 && type != SY_COL_STR)
    return b_fail(b, SY_EINVAL, "column '%s': invalid type %d", name,
                  (int)type);
  for (size_t i = 0; i < b->ncols; i++)
    if (strcmp(b->cols[i].col.name, name) == 0)
      return b_fail(b, SY_EEXIST, "column '%s' twice", name);
  if (b->ncols >= (size_t)INT_MAX)
    return b_fail(b, SY_ETOOBIG, "too many columns");
  if (b->ncols == b->capcols) {
    size_t cap = b->capcols ? b->capcols * 2 : 8;
    bcol *cols = realloc(b->cols, cap * sizeof *cols);
    if (!cols)
      return b_fail(b, SY_ENOMEM, "out of memory");
    b->cols = cols;
    b->capcols = cap;
  }
  bcol *c = &b->cols[b->ncols];
  memset(c, 0, sizeof *c);
  c->col.type = type;
  c->col.name = malloc(n + 1);
  if (!c->col.name)
    return b_fail(b, SY_ENOMEM, "out of memory");
  memcpy(c->col.name, name, n + 1);
  b->ncols++;
  /* A known row count: reserve it all at once. */
  if (b->rows != SY_FRAME_GROW && b->rows > 0 && b_reserve(b, c, b->rows) < 0)
    return b->err.code;
  return (int)(b->ncols - 1);
}

/* Column col of b for an append of `type`, or NULL with the failure kept. */
static bcol *b_col(sy_frame_builder *b, size_t col, sy_col_type type) {
  if (!b || b->err.code)
    return NULL;
  if (col >= b->ncols) {
    b_fail(b, SY_EINVAL, "no column %zu (%zu columns)", col, b->ncols);
    return NULL;
  }
  bcol *c = &b->cols[col];
  if (type && c->col.type != type) {
    static const char *const names[] = {"?", "f64", "i64", "string"};
    b_fail(b, SY_ETYPE, "column '%s' is %s, not %s", c->col.name,
           names[c->col.type], names[type]);
    return NULL;
  }
  return c;
}

/* Gives column c a validity array (every earlier cell present). */
static int b_need_valid(sy_frame_builder *b, bcol *c) {
  if (c->col.valid)
    return 0;
  c->col.valid = malloc(c->cap ? c->cap : 1);
  if (!c->col.valid)
    return b_fail(b, SY_ENOMEM, "out of memory");
  memset(c->col.valid, 1, c->n);
  return 0;
}

/* Appends n numeric cells (8 bytes each) with their validity (NULL: all
 * present). */
static int b_numeric(sy_frame_builder *b, size_t col, sy_col_type type,
                     const void *v, const uint8_t *valid, size_t n) {
  bcol *c = b_col(b, col, type);
  if (!c)
    return b ? (b->err.code ? b->err.code : SY_EINVAL) : SY_EINVAL;
  if (n && !v)
    return b_fail(b, SY_EINVAL, "column '%s': no cells", c->col.name);
  if (b_reserve(b, c, n) < 0)
    return b->err.code;
  bool nulls = valid && memchr(valid, 0, n);
  if (nulls && b_need_valid(b, c) < 0)
    return b->err.code;
  unsigned char *dst = (unsigned char *)*cells_of(c) + c->n * 8;
  if (n)
    memcpy(dst, v, n * 8);
  if (nulls)
    for (size_t i = 0; i < n; i++)
      if (!valid[i])
        memset(dst + i * 8, 0, 8); /* canonical: a null holds 0 */
  if (c->col.valid) {
    if (nulls)
      for (size_t i = 0; i < n; i++)
        c->col.valid[c->n + i] = valid[i] != 0;
    else
      memset(c->col.valid + c->n, 1, n);
  }
  c->n += n;
  return 0;
}

int sy_frame_builder_f64(sy_frame_builder *b, size_t col, double v) {
  return b_numeric(b, col, SY_COL_F64, &v, NULL, 1);
}

int sy_frame_builder_i64(sy_frame_builder *b, size_t col, int64_t v) {
  return b_numeric(b, col, SY_COL_I64, &v, NULL, 1);
}

int sy_frame_builder_f64s(sy_frame_builder *b, size_t col, const double *v,
                          const uint8_t *valid, size_t n) {
  return b_numeric(b, col, SY_COL_F64, v, valid, n);
}

int sy_frame_builder_i64s(sy_frame_builder *b, size_t col, const int64_t *v,
                          const uint8_t *valid, size_t n) {
  return b_numeric(b, col, SY_COL_I64, v, valid, n);
}

/* Appends one string cell of len bytes (s NULL: a null cell). */
static int b_str(sy_frame_builder *b, bcol *c, const char *s, size_t len) {
  if (b_reserve(b, c, 1) < 0)
    return b->err.code;
  if (!s) {
    if (b_need_valid(b, c) < 0)
      return b->err.code;
    c->offs[c->n] = SIZE_MAX;
    c->col.valid[c->n++] = 0;
    return 0;
  }
  if (len > SY_VALUE_MAX_BYTES || c->col.str_bytes + len > SY_VALUE_MAX_BYTES)
    return b_fail(b, SY_ETOOBIG, "column '%s': more than %zu bytes of text",
                  c->col.name, (size_t)SY_VALUE_MAX_BYTES);
  if (memchr(s, '\0', len))
    return b_fail(b, SY_EINVAL, "column '%s': a string with a NUL byte",
                  c->col.name);
  if (c->blen + len + 1 > c->bcap) {
    size_t cap = c->bcap ? c->bcap : 256;
    while (cap < c->blen + len + 1)
      cap *= 2;
    char *blob = realloc(c->col.blob, cap);
    if (!blob)
      return b_fail(b, SY_ENOMEM, "out of memory");
    c->col.blob = blob;
    c->bcap = cap;
  }
  memcpy(c->col.blob + c->blen, s, len);
  c->col.blob[c->blen + len] = '\0';
  c->offs[c->n] = c->blen;
  if (c->col.valid)
    c->col.valid[c->n] = 1;
  c->n++;
  c->blen += len + 1;
  c->col.str_bytes += len;
  return 0;
}

int sy_frame_builder_str(sy_frame_builder *b, size_t col, const char *s) {
  bcol *c = b_col(b, col, SY_COL_STR);
  if (!c)
    return b ? (b->err.code ? b->err.code : SY_EINVAL) : SY_EINVAL;
  return b_str(b, c, s, s ? strlen(s) : 0);
}

int sy_frame_builder_strn(sy_frame_builder *b, size_t col, const char *s,
                          size_t len) {
  bcol *c = b_col(b, col, SY_COL_STR);
  if (!c)
    return b ? (b->err.code ? b->err.code : SY_EINVAL) : SY_EINVAL;
  if (!s && len)
    return b_fail(b, SY_EINVAL, "column '%s': no string", c->col.name);
  return b_str(b, c, s ? s : "", len);
}

int sy_frame_builder_strs(sy_frame_builder *b, size_t col, const char *const *v,
                          size_t n) {
  bcol *c = b_col(b, col, SY_COL_STR);
  if (!c)
    return b ? (b->err.code ? b->err.code : SY_EINVAL) : SY_EINVAL;
  if (n && !v)
    return b_fail(b, SY_EINVAL, "column '%s': no cells", c->col.name);
  if (b_reserve(b, c, n) < 0)
    return b->err.code;
  for (size_t i = 0; i < n; i++)
    if (b_str(b, c, v[i], v[i] ? strlen(v[i]) : 0) < 0)
      return b->err.code;
  return 0;
}

int sy_frame_builder_null(sy_frame_builder *b, size_t col) {
  bcol *c = b_col(b, col, 0);
  if (!c)
    return b ? (b->err.code ? b->err.code : SY_EINVAL) : SY_EINVAL;
  if (c->col.type == SY_COL_STR)
    return b_str(b, c, NULL, 0);
  static const uint8_t null_cell = 0;
  static const uint64_t zero = 0;
  return b_numeric(b, col, c->col.type, &zero, &null_cell, 1);
}

int sy_frame_builder_append_from(sy_frame_builder *b, size_t col,
                                 const sy_value *src, size_t src_col) {
  bcol *c = b_col(b, col, 0);
  if (!c)
    return b ? (b->err.code ? b->err.code : SY_EINVAL) : SY_EINVAL;
  const column *from = col_at(src, src_col);
  if (!from)
    return b_fail(b, SY_EINVAL, "column '%s': no column %zu to copy from",
                  c->col.name, src_col);
  if (from->type != c->col.type)
    return b_fail(b, SY_ETYPE,
                  "column '%s': cannot copy column '%s' of "
                  "another type",
                  c->col.name, from->name);
  size_t n = src->u.frame.rows;
  if (from->type != SY_COL_STR)
    return b_numeric(b, col, from->type,
                     from->type == SY_COL_F64 ? (const void *)from->u.f64
                                              : (const void *)from->u.i64,
                     from->valid, n);
  /* The source's strings are NUL-terminated and NUL-free already. */
  return sy_frame_builder_strs(b, col, (const char *const *)from->u.str, n);
}

int sy_frame_builder_finish(sy_frame_builder *b, sy_value **out,
                            sy_error *err) {
  sy_value *f = NULL;
  column *cols = NULL;
  int rc;
  if (!b || !out) {
    sy_frame_builder_free(b);
    return sy_error_set(err, SY_EINVAL, "frame builder: bad argument");
  }
  *out = NULL;
  if (b->err.code) {
    rc = b->err.code;
    if (err)
      *err = b->err;
    goto done;
  }
  size_t rows =
      b->rows == SY_FRAME_GROW ? (b->ncols ? b->cols[0].n : 0) : b->rows;
  for (size_t i = 0; i < b->ncols; i++)
    if (b->cols[i].n != rows) {
      if (b->rows == SY_FRAME_GROW)
        rc = sy_error_set(err, SY_EINVAL,
                          "column '%s' has %zu cells, the first column has "
                          "%zu",
                          b->cols[i].col.name, b->cols[i].n, rows);
      else
        rc = sy_error_set(err, SY_EINVAL,
                          "column '%s' has %zu cells, the frame has %zu rows",
                          b->cols[i].col.name, b->cols[i].n, rows);
      goto done;
    }
  rc = SY_ENOMEM;
  f = value_alloc(SY_VALUE_FRAME);
  cols = calloc(b->ncols ? b->ncols : 1, sizeof *cols);
  if (!f || !cols)
    goto oom;
  /* Everything that allocates first: a column without cells still gets
   * an array (accessors promise one), and string cells their pointers. */
  for (size_t i = 0; i < b->ncols; i++) {
    bcol *c = &b->cols[i];
    if (c->col.type == SY_COL_STR) {
      c->col.u.str = malloc((rows ? rows : 1) * sizeof *c->col.u.str);
      if (!c->col.u.str || (!c->col.blob && !(c->col.blob = malloc(1))))
        goto oom;
    } else if (!*cells_of(c) && !(*cells_of(c) = calloc(1, 8))) {
      goto oom;
    }
  }
  /* Nothing can fail from here on: move each column into the frame. */
  for (size_t i = 0; i < b->ncols; i++) {
    bcol *c = &b->cols[i];
    if (c->col.type == SY_COL_STR) {
      for (size_t r = 0; r < rows; r++)
        c->col.u.str[r] =
            c->offs[r] == SIZE_MAX ? NULL : c->col.blob + c->offs[r];
      free(c->offs);
      c->offs = NULL;
    }
    if (c->col.valid && !memchr(c->col.valid, 0, rows)) {
      free(c->col.valid); /* canonical: no nulls, no validity */
      c->col.valid = NULL;
    }
    cols[i] = c->col;
    memset(&c->col, 0, sizeof c->col);
  }
  f->u.frame.rows = rows;
  f->u.frame.ncols = f->u.frame.cap = b->ncols;
  f->u.frame.cols = cols;
  atomic_store(&f->frozen, true);
  *out = f;
  sy_frame_builder_free(b);
  return 0;
oom:
  free(cols);
  sy_error_set(err, rc, "out of memory");
done:
  sy_value_unref(f);
  sy_frame_builder_free(b);
  return rc;
}
