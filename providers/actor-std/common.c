/*
 * common.c - helpers shared by the actor-std actors: allocation that never
 * confuses an empty request with out of memory, string lists, frame
 * column copies and numeric design matrices.
 *
 * Nothing here keeps state between calls; every function works on what the
 * caller passes, so all of it is safe from any number of threads.
 */
#include "std.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *std_alloc(size_t n, size_t size) {
  if (size != 0 && n > SIZE_MAX / size)
    return NULL;
  /* malloc(0) may return NULL, which callers would take for out of
   * memory; one spare byte keeps the two apart. */
  return malloc(n * size != 0 ? n * size : 1);
}

void *std_calloc(size_t n, size_t size) {
  if (n == 0 || size == 0)
    return calloc(1, 1);
  return calloc(n, size);
}

char *std_strdup(const char *s) {
  size_t len = strlen(s) + 1;
  char *copy = malloc(len);
  if (copy)
    memcpy(copy, s, len);
  return copy;
}

size_t std_strv_len(const char *const *v) {
  size_t n = 0;
  while (v && v[n])
    n++;
  return n;
}

void std_strv_free(char **v) {
  if (!v)
    return;
  for (size_t i = 0; v[i]; i++)
    free(v[i]);
  free(v);
}

char **std_strv_dup(const char *const *v, bool *ok) {
  *ok = true;
  if (!v)
    return NULL;
  size_t n = std_strv_len(v);
  char **copy = std_calloc(n + 1, sizeof *copy);
  if (!copy)
    goto fail;
  for (size_t i = 0; i < n; i++) {
    copy[i] = std_strdup(v[i]);
    if (!copy[i])
      goto fail;
  }
  return copy;
fail:
  std_strv_free(copy);
  *ok = false;
  return NULL;
}

static const char *value_kind(const sy_value *v) {
  switch (sy_value_type_of(v)) {
  case SY_VALUE_BYTES:
    return "a bytes value";
  case SY_VALUE_FRAME:
    return "a frame";
  default:
    return "nothing";
  }
}

int std_want_frame(const char *actor, const sy_value *const *in, size_t n_in,
                   size_t i, sy_error *err) {
  if (!in || i >= n_in || !in[i])
    return sy_error_set(err, SY_EINVAL, "%s: input %zu is missing", actor,
                        i + 1);
  if (sy_value_type_of(in[i]) != SY_VALUE_FRAME)
    return sy_error_set(err, SY_ETYPE, "%s: input %zu is %s, expected a frame",
                        actor, i + 1, value_kind(in[i]));
  return 0;
}

void std_column_list(const sy_value *f, char *buf, size_t cap) {
  size_t cols = sy_frame_cols(f), used = 0;
  if (cap == 0)
    return;
  buf[0] = '\0';
  if (cols == 0) {
    snprintf(buf, cap, "(none)");
    return;
  }
  for (size_t c = 0; c < cols; c++) {
    const char *name = sy_frame_col_name(f, c);
    int n = snprintf(buf + used, cap - used, "%s%s", c ? ", " : "", name);
    if (n < 0 || (size_t)n >= cap - used) {
      /* Cut the list where it stopped fitting and say so. */
      if (cap >= 4)
        memcpy(buf + cap - 4, "...", 4);
      return;
    }
    used += (size_t)n;
  }
}

bool std_is_numeric(const sy_value *f, size_t c) {
  sy_col_type t = sy_frame_col_type(f, c);
  return t == SY_COL_F64 || t == SY_COL_I64;
}

void std_note_text_columns(const char *actor, const sy_value *f,
                           const char *what) {
  for (size_t c = 0; c < sy_frame_cols(f); c++)
    if (!std_is_numeric(f, c))
      sy_note("%s: column '%s' is text (string), %s", actor,
              sy_frame_col_name(f, c), what);
}

double std_cell(const sy_value *f, size_t c, size_t row) {
  if (sy_frame_col_type(f, c) == SY_COL_I64)
    return (double)sy_frame_i64(f, c)[row];
  return sy_frame_f64(f, c)[row];
}

int std_col_find(const sy_value *f, const char *name, size_t guess) {
  const char *at = sy_frame_col_name(f, guess);
  if (at && strcmp(at, name) == 0)
    return (int)guess;
  return sy_frame_col_index(f, name);
}

bool std_into_fits(const sy_value *o, size_t rows, size_t cols) {
  return o && sy_value_type_of(o) == SY_VALUE_FRAME && sy_value_exclusive(o) &&
         sy_frame_rows(o) == rows && sy_frame_cols(o) == cols;
}

int std_refill(sy_value *o, const sy_value *in, const size_t *idx,
               bool check_names) {
  size_t cols = sy_frame_cols(o), rows = sy_frame_rows(o);
  /* Check everything first, so that a mismatch leaves o as it was. */
  for (size_t j = 0; j < cols; j++) {
    sy_col_type t = sy_frame_col_type(in, idx[j]);
    if (t == SY_COL_STR || t != sy_frame_col_type(o, j))
      return 1;
    if (check_names &&
        strcmp(sy_frame_col_name(o, j), sy_frame_col_name(in, idx[j])) != 0)
      return 1;
  }
  for (size_t j = 0; j < cols; j++) {
    /* f64 and i64 cells are both 8 bytes; copy them as bytes. */
    void *dst = sy_frame_col_type(o, j) == SY_COL_F64
                    ? (void *)sy_frame_f64_mut(o, j)
                    : (void *)sy_frame_i64_mut(o, j);
    const void *src = sy_frame_col_type(in, idx[j]) == SY_COL_F64
                          ? (const void *)sy_frame_f64(in, idx[j])
                          : (const void *)sy_frame_i64(in, idx[j]);
    if (rows)
      memcpy(dst, src, rows * 8);
    int rc = sy_frame_set_valid(o, j, sy_frame_valid(in, idx[j]));
    if (rc < 0)
      return rc;
  }
  return 0;
}

int std_into_fallback(int (*apply)(void *, const sy_value *const *, size_t,
                                   sy_value **, sy_error *),
                      void *self, const sy_value *const *in, size_t n_in,
                      sy_value **out, size_t n_out, sy_error *err) {
  for (size_t k = 0; k < n_out; k++) {
    sy_value_unref(out[k]);
    out[k] = NULL;
  }
  return apply(self, in, n_in, out, err);
}

void std_matrix_free(std_matrix *m) {
  free(m->x);
  free(m->names);
  memset(m, 0, sizeof *m);
}

int std_row_apply_zeros(const char *actor,
                        int (*apply)(void *, const sy_value *const *, size_t,
                                     sy_value **, sy_error *),
                        const void *self, const sy_row_kernel *k,
                        sy_value **out, sy_error *err) {
  sy_value *f = NULL;
  const double zero = 0.0;
  *out = NULL;
  int rc = sy_frame_new(1, &f);
  for (uint32_t c = 0; rc == 0 && c < k->n_in; c++)
    rc = sy_frame_add_f64(f, k->in_names[c], &zero, NULL);
  if (rc) {
    sy_value_unref(f);
    return sy_error_set(err, rc, "%s: %s", actor, sy_strerror(rc));
  }
  const sy_value *in[1] = {f};
  /* apply only reads the instance (the actor contract). */
  rc = apply((void *)self, in, 1, out, err);
  sy_value_unref(f);
  return rc;
}

int std_row_probe(const char *actor,
                  int (*apply)(void *, const sy_value *const *, size_t,
                               sy_value **, sy_error *),
                  const void *self, const sy_row_kernel *k, sy_error *err) {
  sy_value *o = NULL;
  int rc = std_row_apply_zeros(actor, apply, self, k, &o, err);
  if (rc)
    return rc;
  size_t cols = sy_frame_cols(o);
  if (sy_value_type_of(o) != SY_VALUE_FRAME || sy_frame_rows(o) != 1)
    rc = sy_error_set(err, SY_ENOTSUP,
                      "%s: the result of one row is not one row", actor);
  for (size_t c = 0; rc == 0 && c < cols; c++)
    if (sy_frame_col_type(o, c) != SY_COL_F64 || sy_frame_valid(o, c))
      rc = sy_error_set(err, SY_ENOTSUP,
                        "%s: output column '%s' is not f64 without nulls",
                        actor, sy_frame_col_name(o, c));
  if (rc == 0 && cols > k->cap)
    rc = sy_error_set(err, SY_ENOTSUP, "%s: %zu output columns are too many",
                      actor, cols);
  sy_value_unref(o);
  return rc;
}

int std_row_find(const sy_row_kernel *k, const char *name) {
  for (uint32_t c = 0; c < k->n_in; c++)
    if (strcmp(k->in_names[c], name) == 0)
      return (int)c;
  return -1;
}

int std_matrix_from_frame(const char *actor, const sy_value *f,
                          const char *const *want, size_t nwant, std_matrix *m,
                          sy_error *err) {
  size_t n = sy_frame_rows(f), cols = sy_frame_cols(f), p = 0;
  size_t *idx = NULL;
  int rc = 0;
  char avail[512];

  memset(m, 0, sizeof *m);
  idx = std_alloc(want ? nwant : cols, sizeof *idx);
  if (!idx) {
    rc = sy_error_set(err, SY_ENOMEM, "%s: out of memory", actor);
    goto fail;
  }
  if (want) {
    for (size_t j = 0; j < nwant; j++) {
      int c = sy_frame_col_index(f, want[j]);
      if (c < 0) {
        std_column_list(f, avail, sizeof avail);
        rc = sy_error_set(err, SY_EINVAL,
                          "%s: missing feature column '%s' (available: %s)",
                          actor, want[j], avail);
        goto fail;
      }
      if (!std_is_numeric(f, (size_t)c)) {
        rc = sy_error_set(err, SY_ETYPE,
                          "%s: feature column '%s' is text (string) here, "
                          "but the model was trained on it as a number; "
                          "look for a cell that is not a number in that "
                          "column of the input, or a type declared as "
                          "string",
                          actor, want[j]);
        goto fail;
      }
      idx[p++] = (size_t)c;
    }
  } else {
    for (size_t c = 0; c < cols; c++)
      if (std_is_numeric(f, c))
        idx[p++] = c;
    std_note_text_columns(actor, f, "not a feature; the model leaves it out");
  }
  if (p != 0 && n > SIZE_MAX / p) {
    rc = sy_error_set(err, SY_ETOOBIG, "%s: input too large", actor);
    goto fail;
  }
  m->x = std_alloc(n * p, sizeof *m->x);
  m->names = std_alloc(p, sizeof *m->names);
  if (!m->x || !m->names) {
    rc = sy_error_set(err, SY_ENOMEM, "%s: out of memory", actor);
    goto fail;
  }
  m->n = n;
  m->p = p;
  for (size_t j = 0; j < p; j++) {
    size_t c = idx[j];
    const uint8_t *valid = sy_frame_valid(f, c);
    m->names[j] = sy_frame_col_name(f, c);
    for (size_t i = 0; i < n; i++) {
      if (valid && !valid[i]) {
        rc = sy_error_set(err, SY_EINVAL,
                          "%s: column '%s' is null at row %zu (rows count "
                          "from 0); drop or fill incomplete rows first",
                          actor, m->names[j], i);
        goto fail;
      }
      m->x[j * n + i] = std_cell(f, c, i);
    }
  }
  free(idx);
  return 0;
fail:
  free(idx);
  std_matrix_free(m);
  return rc;
}

void std_json_str(sy_buf *b, const char *s) {
  sy_buf_puts(b, "\"");
  for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
    if (*c == '"' || *c == '\\')
      sy_buf_printf(b, "\\%c", *c);
    else if (*c < 0x20)
      sy_buf_printf(b, "\\u%04x", *c);
    else
      sy_buf_add(b, c, 1);
  }
  sy_buf_puts(b, "\"");
}

void std_json_num(sy_buf *b, double v) {
  if (isfinite(v))
    sy_buf_printf(b, "%.17g", v);
  else
    sy_buf_puts(b, "null");
}

void std_json_named(sy_buf *b, char *const *names, const double *v, size_t n) {
  sy_buf_puts(b, "{");
  for (size_t j = 0; j < n; j++) {
    if (j)
      sy_buf_puts(b, ", ");
    std_json_str(b, names[j]);
    sy_buf_puts(b, ": ");
    std_json_num(b, v[j]);
  }
  sy_buf_puts(b, "}");
}

int std_json_done(const char *actor, const sy_buf *b, sy_error *err) {
  if (b->failed)
    return sy_error_set(err, SY_ENOMEM, "%s: out of memory", actor);
  return 0;
}
