/*
 * fuzz_csv.c - libFuzzer target for sy_csv_read() and sy_csv_write().
 *
 * Built by tests/fuzz/run.sh from the two lines below (error.c needs the
 * generated <switchyard/version.h>: configure in _build and add
 * -I_build/include when building by hand).
 *
 * The first byte picks the options (delimiter ',' ';' or TAB, header or
 * not); the rest is the CSV text. Whatever reads must write, and the
 * written text must read back (always with a header: the writer writes
 * one) to an equal frame. That pins the writer's quoting, null and f64
 * rules to the reader's. sy_csv_read_header() must name the same columns
 * as the frame has whenever the whole text reads, and never crash on a
 * prefix of it.
 */
// clang-format off
// sources: services/csv.c core/value.c core/error.c
// libs: -lxxhash -lm
// clang-format on
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "switchyard/csv.h"

typedef struct buf {
  char *data;
  size_t len, cap;
} buf;

static int buf_write(void *ud, const void *p, size_t len) {
  buf *b = ud;
  if (b->cap - b->len < len) {
    size_t cap = (b->cap ? b->cap : 256);
    while (cap - b->len < len)
      cap *= 2;
    char *d = realloc(b->data, cap);
    if (!d)
      return SY_ENOMEM;
    b->data = d;
    b->cap = cap;
  }
  memcpy(b->data + b->len, p, len);
  b->len += len;
  return 0;
}

typedef struct names {
  const sy_value *frame;
  size_t n;
  int differ;
} names;

static int check_name(void *ud, const char *name, sy_col_type type) {
  names *nm = ud;
  (void)type;
  const char *want = sy_frame_col_name(nm->frame, nm->n++);
  nm->differ |= !want || strcmp(want, name) != 0;
  return 0;
}

static int ignore_name(void *ud, const char *name, sy_col_type type) {
  (void)ud, (void)name, (void)type;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const char delims[] = {',', ';', '\t'};
  if (size < 1)
    return 0;
  sy_csv_options o = {0};
  o.size = sizeof o;
  o.delimiter = delims[(data[0] & 3) % 3];
  o.no_header = (data[0] >> 2) & 1;
  o.name = "fuzz";
  sy_value *f = NULL, *back = NULL;
  sy_error err;
  const char *text = (const char *)data + 1;
  (void)sy_csv_read_header(text, (size - 1) / 2, 0, &o, ignore_name, NULL,
                           &err);
  if (sy_csv_read(text, size - 1, &o, &f, &err) != 0)
    return 0;
  names nm = {f, 0, 0};
  if (sy_csv_read_header(text, size - 1, 1, &o, check_name, &nm, &err) != 0 ||
      nm.differ || nm.n != sy_frame_cols(f))
    abort();
  buf b = {NULL, 0, 0};
  if (sy_csv_write(f, o.delimiter, buf_write, &b, &err) != 0)
    abort();
  o.no_header = 0;
  if (sy_csv_read(b.data ? b.data : "", b.len, &o, &back, &err) != 0)
    abort();
  /* A frame with rows but no columns cannot come out of the reader. */
  if (!sy_value_equal(f, back))
    abort();
  sy_value_unref(back);
  sy_value_unref(f);
  free(b.data);
  return 0;
}
