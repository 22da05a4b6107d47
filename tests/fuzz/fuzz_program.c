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
// sources: core/program.c core/compile.c core/error.c
// libs: -lxxhash
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "program.h"

/* compile.c needs these at link time; the fuzzer never calls them. */
int sy__flow_load(const char *path, struct sy_flow **out, sy_error *err);
int sy__flow_validate(struct sy_flow *flow, const sy_catalog *cat,
                      void *report, void *ud, sy_error *err);
void sy__flow_free(struct sy_flow *flow);
int sy__flow_load_string(const char *text, const char *name,
                         struct sy_flow **out, sy_error *err);
int sy__flow_load_string(const char *text, const char *name,
                         struct sy_flow **out, sy_error *err) {
  (void)text, (void)name, (void)out;
  return sy_error_set(err, SY_ENOTSUP, "not in the fuzzer");
}
int sy__flow_load(const char *path, struct sy_flow **out, sy_error *err) {
  (void)path;
  (void)out;
  return sy_error_set(err, SY_ENOTSUP, "not in the fuzzer");
}
int sy__flow_validate(struct sy_flow *flow, const sy_catalog *cat,
                      void *report, void *ud, sy_error *err) {
  (void)flow, (void)cat, (void)report, (void)ud;
  return sy_error_set(err, SY_ENOTSUP, "not in the fuzzer");
}
void sy__flow_free(struct sy_flow *flow) { (void)flow; }
sy_config *sy_platform_config(const sy_platform *p) {
  (void)p;
  return NULL;
}
sy_catalog *sy_platform_catalog(const sy_platform *p) {
  (void)p;
  return NULL;
}
const char *sy_config_get(const sy_config *cfg, const char *section,
                          const char *key, const char **origin) {
  (void)cfg, (void)section, (void)key, (void)origin;
  return NULL;
}
int sy_instance_create(const sy_config *cfg, const sy_catalog *cat,
                       sy_kind kind, const char *name, sy_instance **out,
                       sy_error *err) {
  (void)cfg, (void)cat, (void)kind, (void)name, (void)out;
  return sy_error_set(err, SY_ENOTSUP, "not in the fuzzer");
}
void sy_instance_destroy(sy_instance *inst) { (void)inst; }
const sy_provider *sy_instance_provider(const sy_instance *inst) {
  (void)inst;
  return NULL;
}
void *sy_instance_self(const sy_instance *inst) {
  (void)inst;
  return NULL;
}

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
    if (len != size || memcmp(buf, data, size) != 0)
      abort(); /* the format is canonical */
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
