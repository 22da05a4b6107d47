/*
 * fuzz_value.c - libFuzzer target for sy_value_decode().
 *
 * Built and run by tests/fuzz/run.sh (from the lines below):
 *   tests/fuzz/run.sh 600    # ten minutes by hand
 *
 * Each input is decoded twice: as given, which mostly exercises the header
 * and checksum checks, and with its checksum recomputed ("resealed"), so
 * that mutations reach the body parser instead of dying at the checksum.
 * Whatever decodes must re-encode, decode again, and compare equal, with
 * equal hashes and identical bytes (the encoding is canonical).
 */
// clang-format off
// sources: core/value.c core/error.c
// libs: -lxxhash -lm
// clang-format on
#include "switchyard/value.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_round_trip(const uint8_t *data, size_t size) {
  sy_value *v = NULL, *w = NULL;
  sy_error err;
  void *buf = NULL;
  size_t len = 0;
  if (sy_value_decode(data, size, &v, &err) != 0) {
    /* Every refusal says where. */
    if (!strstr(err.message, "offset"))
      abort();
    return;
  }
  if (sy_value_encode(v, &buf, &len) != 0)
    abort();
  if (len != size || memcmp(buf, data, size) != 0)
    abort(); /* the decoder accepted a non-canonical encoding */
  if (sy_value_decode(buf, len, &w, &err) != 0)
    abort();
  if (!sy_value_equal(v, w))
    abort();
  uint8_t h1[SY_VALUE_HASH_SIZE], h2[SY_VALUE_HASH_SIZE];
  if (sy_value_hash(v, h1) != 0 || sy_value_hash(w, h2) != 0 ||
      memcmp(h1, h2, sizeof h1) != 0)
    abort();
  /* Read every cell, so that accessors run over decoded data too. */
  char cell[64];
  for (size_t c = 0; c < sy_frame_cols(w); c++)
    for (size_t r = 0; r < sy_frame_rows(w) && r < 64; r++)
      (void)sy_frame_format_cell(w, c, r, cell, sizeof cell);
  free(buf);
  sy_value_unref(w);
  sy_value_unref(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  check_round_trip(data, size);
  if (size >= 24) {
    uint8_t *copy = malloc(size);
    if (!copy)
      return 0;
    memcpy(copy, data, size);
    /* Make the header's body length match and the checksum right. */
    uint64_t body = size - 24, sum;
    for (int i = 0; i < 8; i++)
      copy[8 + i] = (uint8_t)(body >> (8 * i));
    sum = XXH3_64bits(copy, size - 8);
    for (int i = 0; i < 8; i++)
      copy[size - 8 + i] = (uint8_t)(sum >> (8 * i));
    check_round_trip(copy, size);
    free(copy);
  }
  return 0;
}
