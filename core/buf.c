/*
 * buf.c - the growable buffer of switchyard/buf.h.
 */
#include "internal.h"
#include "switchyard/buf.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sy_buf_reserve(sy_buf *b, size_t extra) {
  if (b->failed)
    return SY_ENOMEM;
  /* Room for extra bytes and the NUL after them. */
  if (b->data && b->cap - b->len > extra)
    return 0;
  if (extra >= SIZE_MAX / 2 - b->len) {
    b->failed = 1;
    return SY_ENOMEM;
  }
  size_t cap = b->cap ? b->cap : 64;
  while (cap - b->len <= extra)
    cap *= 2;
  char *d = realloc(b->data, cap);
  if (!d) {
    b->failed = 1;
    return SY_ENOMEM;
  }
  if (!b->data)
    d[0] = '\0';
  b->data = d;
  b->cap = cap;
  return 0;
}

int sy_buf_add(sy_buf *b, const void *p, size_t n) {
  int rc = sy_buf_reserve(b, n);
  if (rc)
    return rc;
  if (n)
    memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
  return 0;
}

int sy_buf_puts(sy_buf *b, const char *s) {
  return sy_buf_add(b, s, strlen(s));
}

int sy_buf_printf(sy_buf *b, const char *fmt, ...) {
  if (b->failed)
    return SY_ENOMEM;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(b->data ? b->data + b->len : NULL,
                    b->data ? b->cap - b->len : 0, fmt, ap);
  va_end(ap);
  if (n < 0) {
    b->failed = 1;
    return SY_ENOMEM;
  }
  if (b->data && (size_t)n < b->cap - b->len) {
    b->len += (size_t)n;
    return 0;
  }
  if (b->data)
    b->data[b->len] = '\0'; /* undo the cut-off attempt */
  int rc = sy_buf_reserve(b, (size_t)n);
  if (rc)
    return rc;
  va_start(ap, fmt);
  vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
  return 0;
}

void sy_buf_reset(sy_buf *b) {
  b->len = 0;
  if (b->data)
    b->data[0] = '\0';
}

void sy_buf_free(sy_buf *b) {
  if (!b)
    return;
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
  b->failed = 0;
}

void *sy__grow_array(void *items, size_t *cap, size_t need, size_t size) {
  if (need <= *cap)
    return items;
  size_t ncap = *cap ? *cap : 8;
  while (ncap < need)
    ncap *= 2;
  if (ncap > SIZE_MAX / size)
    return NULL;
  void *p = realloc(items, ncap * size);
  if (p)
    *cap = ncap;
  return p;
}
