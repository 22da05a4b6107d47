/*
 * test_layers.c - the public functions that the layers added (ABI 1.3),
 * through the shipped library alone: this test includes public headers
 * only and links core/libswitchyard.la, whose only exports are SY_API.
 */
#include <stdint.h>
#include <stdio.h>
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

/* Export and import (lifecycle.h): a release with two generations from
 * one file registry into an archive and back into another; a rerun adds
 * nothing. */
static void put_fixture_release(sy_platform *p) {
  sy_error err;
  sy_error_clear(&err);
  sy_instance *inst = NULL;
  CU_ASSERT_EQUAL_FATAL(
      sy_instance_create(sy_platform_config(p), sy_platform_catalog(p),
                         SY_KIND_REGISTRY, "src", &inst, &err),
      0);
  const sy_registry_ops *ops = sy_instance_provider(inst)->ops;
  void *self = sy_instance_self(inst);
  sy_value *m = NULL, *states = NULL, *tag = NULL;
  const char flow[] = "name = \"proj\";\n";
  CU_ASSERT_EQUAL_FATAL(sy_bytes_new(flow, sizeof flow - 1,
                                     "application/x-switchyard-release", &m),
                        0);
  CU_ASSERT_EQUAL_FATAL(ops->put_release(self, "proj", "1.0", m, &err), 0);
  for (int g = 1; g <= 2; g++) {
    char text[32];
    int n = snprintf(text, sizeof text, "states %d", g);
    uint32_t made = 0;
    CU_ASSERT_EQUAL_FATAL(sy_bytes_new(text, (size_t)n, NULL, &states), 0);
    CU_ASSERT_EQUAL_FATAL(sy_bytes_new("tag", 3, "text/plain", &tag), 0);
    CU_ASSERT_EQUAL(
        ops->put_generation(self, "proj", "1.0", states, tag, &made, &err), 0);
    CU_ASSERT_EQUAL(made, (uint32_t)g);
    sy_value_unref(states);
    sy_value_unref(tag);
  }
  sy_value_unref(m);
  sy_instance_destroy(inst);
}

static void test_layers_registry_transfer(void) {
  char o1[700], o2[700], file[700];
  fx_use_built_plugins();
  snprintf(o1, sizeof o1, "REGISTRY.src.path=%s", fx_tmp_path("src"));
  snprintf(o2, sizeof o2, "REGISTRY.dst.path=%s", fx_tmp_path("dst"));
  snprintf(file, sizeof file, "%s", fx_tmp_path("proj.tar"));
  const char *overrides[] = {"REGISTRY.src.provider=file", o1,
                             "REGISTRY.dst.provider=file", o2, NULL};
  sy_platform *p = NULL;
  sy_error err;
  CU_ASSERT_EQUAL_FATAL(fx_platform_open(overrides, &p, &err), 0);
  put_fixture_release(p);
  int copied = -1, skipped = -1;
  /* A bad reference, and nothing to export. */
  CU_ASSERT_EQUAL(sy_registry_export(p, "src", "proj:", file, &copied, &err),
                  SY_EUSAGE);
  CU_ASSERT_EQUAL(sy_registry_export(p, "src", "none", file, &copied, NULL),
                  SY_ENOENT);
  CU_ASSERT_EQUAL(copied, 0);
  /* The release and its two generations. */
  CU_ASSERT_EQUAL(sy_registry_export(p, "src", "proj:1.0", file, &copied, &err),
                  0);
  CU_ASSERT_EQUAL(copied, 3);
  CU_ASSERT_EQUAL(sy_registry_import(p, "dst", file, &copied, &skipped, &err),
                  0);
  CU_ASSERT_EQUAL(copied, 3);
  CU_ASSERT_EQUAL(skipped, 0);
  /* A rerun: everything is there already. */
  CU_ASSERT_EQUAL(sy_registry_import(p, "dst", file, &copied, &skipped, &err),
                  0);
  CU_ASSERT_EQUAL(copied, 0);
  CU_ASSERT_EQUAL(skipped, 3);
  CU_ASSERT_EQUAL(sy_registry_import(p, "dst", fx_tmp_path("absent.tar"),
                                     &copied, NULL, &err),
                  SY_ENOENT);
  sy_platform_close(p);
}

/* The registry every --registry option opens: the named one, else the
 * [PLATFORM] registry, else "local". */
static void test_layers_platform_registry(void) {
  char o1[700];
  fx_use_built_plugins();
  snprintf(o1, sizeof o1, "REGISTRY.src.path=%s", fx_tmp_path("reg"));
  const char *named[] = {"REGISTRY.src.provider=file", o1,
                         "PLATFORM.registry=src", NULL};
  sy_platform *p = NULL;
  sy_instance *inst = NULL;
  const char *used = NULL;
  sy_error err;
  CU_ASSERT_EQUAL_FATAL(fx_platform_open(named, &p, &err), 0);
  CU_ASSERT_EQUAL(sy_platform_registry(p, NULL, &inst, &used, &err), 0);
  CU_ASSERT(used && strcmp(used, "src") == 0);
  sy_instance_destroy(inst);
  CU_ASSERT_EQUAL(sy_platform_registry(p, "", &inst, &used, &err), 0);
  CU_ASSERT(used && strcmp(used, "src") == 0);
  sy_instance_destroy(inst);
  CU_ASSERT_NOT_EQUAL(sy_platform_registry(p, "nosuch", &inst, &used, &err), 0);
  CU_ASSERT(used && strcmp(used, "nosuch") == 0);
  sy_platform_close(p);
  const char *plain[] = {NULL};
  CU_ASSERT_EQUAL_FATAL(fx_platform_open(plain, &p, &err), 0);
  used = NULL;
  inst = NULL;
  sy_platform_registry(p, NULL, &inst, &used, &err);
  CU_ASSERT(used && strcmp(used, "local") == 0);
  sy_instance_destroy(inst);
  sy_platform_close(p);
}

int main(void) {
  static const CU_TestInfo tests[] = {
#define T(fn) {#fn, fn}
      T(test_layers_program_builder),
      T(test_layers_option_helpers),
      T(test_layers_registry_transfer),
      T(test_layers_platform_registry),
#undef T
      CU_TEST_INFO_NULL,
  };
  if (fx_tmpdir_make("/tmp/sy-layers-XXXXXX") != 0)
    return 1;
  int rc = fx_run_suite("layers", NULL, NULL, tests);
  fx_tmpdir_remove();
  return rc;
}
