/*
 * test_layers.c - the public functions that the layers added (ABI 1.3),
 * through the shipped library alone: this test includes public headers
 * only and links core/libswitchyard.la, whose only exports are SY_API.
 */
#include <stdint.h>
#include <string.h>

#include "fixture.h"
#include "switchyard/switchyard.h"

static void test_layers_program_builder(void) {
  sy_program *prog = NULL;
  CU_ASSERT_EQUAL_FATAL(sy_program_new(SY_MODE_RUN, "built", &prog, NULL), 0);
  CU_ASSERT_EQUAL(sy_program_mode(prog), SY_MODE_RUN);
  CU_ASSERT_STRING_EQUAL(sy_program_name(prog), "built");
  CU_ASSERT_EQUAL(sy_program_add_apply(prog, "a", "x.src", "1.0.0", NULL, 0,
                                       NULL, NULL, 0, 1),
                  0);
  uint32_t arg = 0;
  const char *keys[] = {"a", "b"}, *vals[] = {"1", "2"};
  CU_ASSERT_EQUAL(sy_program_add_apply(prog, "b", "x.body", "1.0.0", &arg, 1,
                                       keys, vals, 2, 1),
                  1);
  /* An argument that is not an earlier step, keys out of order. */
  arg = 5;
  CU_ASSERT_EQUAL(sy_program_add_apply(prog, "c", "x.body", "1.0.0", &arg, 1,
                                       NULL, NULL, 0, 1),
                  SY_EINVAL);
  arg = 1;
  const char *unsorted[] = {"b", "a"};
  CU_ASSERT_EQUAL(sy_program_add_apply(prog, "c", "x.body", "1.0.0", &arg, 1,
                                       unsorted, vals, 2, 1),
                  SY_EINVAL);
  /* Refused steps left nothing behind: the next one is step 2. */
  CU_ASSERT_EQUAL(sy_program_add_apply(prog, "c", "x.body", "1.0.0", &arg, 1,
                                       NULL, NULL, 0, 1),
                  2);
  sy_program_free(prog);
}

static void test_layers_option_helpers(void) {
  uint64_t size = 0;
  int64_t ns = 0;
  CU_ASSERT_EQUAL(sy_parse_size("512M", &size), 0);
  CU_ASSERT_EQUAL(size, (uint64_t)512 << 20);
  CU_ASSERT_NOT_EQUAL(sy_parse_size("lots", &size), 0);
  CU_ASSERT_EQUAL(size, (uint64_t)512 << 20);
  CU_ASSERT_EQUAL(sy_parse_duration("1h30m", &ns), 0);
  CU_ASSERT_EQUAL(ns, 5400LL * 1000000000LL);
  CU_ASSERT_NOT_EQUAL(sy_parse_duration("soon", &ns), 0);
  const char *names[] = {"run", "train", "apply"};
  CU_ASSERT_STRING_EQUAL(sy_suggest("trian", names, 3), "train");
  CU_ASSERT_PTR_NULL(sy_suggest("zzzzzzzz", names, 3));
  const sy_option *opts = sy_config_platform_options();
  CU_ASSERT_PTR_NOT_NULL_FATAL(sy_option_find(opts, "runner"));
  CU_ASSERT_STRING_EQUAL(sy_option_find(opts, "runner")->name, "runner");
  CU_ASSERT_PTR_NULL(sy_option_find(opts, "no_such_key"));
}

int main(void) {
  static const CU_TestInfo tests[] = {
#define T(fn) {#fn, fn}
      T(test_layers_program_builder),
      T(test_layers_option_helpers),
#undef T
      CU_TEST_INFO_NULL,
  };
  return fx_run_suite("layers", NULL, NULL, tests);
}
