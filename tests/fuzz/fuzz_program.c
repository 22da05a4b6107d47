/*
 * fuzz_program.c - libFuzzer target for the program file reader.
 *
 * A program file may come from another machine or a damaged disk:
 * sy__program_decode() must refuse anything malformed with SY_ECORRUPT and
 * never crash. Inputs are tried as given and "resealed" (checksum
 * recomputed) so that mutations get past the checksum into the parser.
 * Whatever decodes must encode back to the same bytes.
 *
 * Built and run by tests/fuzz/run.sh (tests/fuzz/run.sh 600 by hand).
 */
// clang-format off
// sources: core/*.c services/*.c
// libs: -lconfig -ljansson -ldl -lxxhash -lm -lpthread
// clang-format on
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "program.h"
#include "switchyard/endian.h"

static void try_decode(const uint8_t *data, size_t size) {
  sy_program *prog = NULL;
  sy_error err;
  if (sy__program_decode(data, size, &prog, &err) != 0) {
    if (prog)
      abort(); /* a failed decode hands nothing out */
    return;
  }
  void *buf = NULL;
  size_t len = 0;
  if (sy__program_encode(prog, &buf, &len) == 0) {
    /* The format is canonical: a program of the current version encodes
     * to the bytes it came from (an older version is rewritten as the
     * current one, so it only has to decode again). */
    if (size >= 6 &&
        sy_le16_get(data + 4) == sy_le16_get((const uint8_t *)buf + 4)) {
      if (len != size || memcmp(buf, data, size) != 0)
        abort();
    } else {
      sy_program *again = NULL;
      if (sy__program_decode(buf, len, &again, &err) != 0)
        abort();
      sy_program_free(again);
    }
    free(buf);
  }
  /* Labels are made from the decoded fields on first use. */
  for (uint32_t i = 0; i < prog->n; i++)
    if (!*sy__instr_text(prog, i) || strlen(sy__instr_key_hex(prog, i)) != 32)
      abort();
  sy_program_free(prog);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  try_decode(data, size);
  if (size >= 16) {
    uint8_t *copy = malloc(size);
    if (!copy)
      return 0;
    memcpy(copy, data, size);
    memcpy(copy, "SYPG", 4);
    uint64_t sum = XXH3_64bits(copy, size - 8);
    for (int i = 0; i < 8; i++)
      copy[size - 8 + i] = (uint8_t)(sum >> (8 * i));
    try_decode(copy, size);
    free(copy);
  }
  return 0;
}
