/*
 * fuzz_ini.c - libFuzzer target for the INI reader and the config loader.
 *
 * Built and run by tests/fuzz/run.sh from the sources line below
 * (tests/fuzz/run.sh 600 runs it ten minutes).
 *
 * The input is handed to sy__ini_parse() as is (NUL bytes, no newline at
 * the end, anything), with a callback that touches every string it gets,
 * so a pointer past the copy's end shows up under ASan. The first byte
 * also picks whether ${VAR}/~ expansion and every option parser run on
 * each value, since config values end up there.
 */
// clang-format off
// sources: core/ini.c core/error.c core/options.c core/kind.c core/buf.c
// clang-format on
#include "internal.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const choices[] = {"threads", "processes", NULL};

static int on_item(void *ud, const char *section, const char *key,
                   const char *value, int line, sy_error *err) {
  size_t *sum = ud;
  *sum += strlen(section) + (size_t)line;
  if (!key)
    return 0;
  *sum += strlen(key) + strlen(value);
  if (!(*sum & 1))
    return 0;
  static const sy_opt_type types[] = {
      SY_OPT_STRING,   SY_OPT_BOOL, SY_OPT_INT,  SY_OPT_DOUBLE, SY_OPT_SIZE,
      SY_OPT_DURATION, SY_OPT_ENUM, SY_OPT_PATH, SY_OPT_LIST};
  for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
    sy_option opt = {"x",
                     types[i],
                     0,
                     NULL,
                     NULL,
                     NULL,
                     types[i] == SY_OPT_ENUM ? choices : NULL,
                     0,
                     "x"};
    union {
      const char *s;
      const char *const *list;
      int64_t i;
      uint64_t u;
      double d;
      int e;
      bool b;
    } slot;
    sy__pool pool = {0};
    sy_error e;
    (void)sy__opt_parse(&opt, value, &slot, &pool, &e);
    sy__pool_release(&pool);
  }
  (void)err;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* sy__ini_parse() wants NUL-terminated text of `len` bytes. */
  char *text = malloc(size + 1);
  if (!text)
    return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  size_t sum = 0;
  sy_error err;
  (void)sy__ini_parse(text, size, "fuzz.ini", on_item, &sum, &err);
  free(text);
  return 0;
}
