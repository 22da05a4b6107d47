/*
 * test_batch_sdk.c - what a runner that starts `switchyard exec` elsewhere
 * (runner-slurm) asks of the job it was given (ABI 1.4): the platform it
 * was bound on, its storage and its cache mode, through the shipped
 * library alone (public headers, core/libswitchyard.la).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fixture.h"
#include "switchyard/switchyard.h"

/* A job of a one-step program bound with cache mode `mode` (NULL: the
 * [PLATFORM] cache) on a platform whose storage is a file storage in the
 * test's folder; checks what the accessors say. */
static void check_mode(const char *mode, const char *want, int has_storage) {
  char path[512];
  snprintf(path, sizeof path, "STORAGE.cache.path=%s", fx_tmp_path("store"));
  const char *overrides[] = {"STORAGE.cache.provider=file", path, NULL};
  sy_platform *p = NULL;
  sy_error err;
  CU_ASSERT_EQUAL_FATAL(fx_platform_open(overrides, &p, &err), 0);
  sy_program *prog = NULL;
  CU_ASSERT_EQUAL_FATAL(sy_program_new(SY_MODE_RUN, "b", &prog, NULL), 0);
  CU_ASSERT_EQUAL(sy_program_add_apply(prog, "a", "std.head", "1.0.0", NULL, 0,
                                       NULL, NULL, 0, 1),
                  0);
  sy_job_options jo = {sizeof jo, NULL, mode};
  sy_job *job = NULL;
  CU_ASSERT_EQUAL_FATAL(sy_job_new(p, prog, &jo, &job, &err), 0);
  CU_ASSERT_PTR_EQUAL(sy_job_platform(job), p);
  CU_ASSERT_STRING_EQUAL(sy_job_cache_mode(job), want);
  sy_instance *st = sy_job_storage(job);
  if (has_storage) {
    CU_ASSERT_PTR_NOT_NULL_FATAL(st);
    CU_ASSERT_STRING_EQUAL(sy_instance_provider(st)->name, "file");
    CU_ASSERT_STRING_EQUAL(sy_instance_name(st), "cache");
  } else {
    CU_ASSERT_PTR_NULL(st);
  }
  sy_job_free(job);
  sy_program_free(prog);
  sy_platform_close(p);
}

static void test_batch_sdk_cache_modes(void) {
  check_mode("off", "off", 0);
  check_mode("read", "read", 1);
  check_mode("write", "write", 1);
  check_mode("readwrite", "readwrite", 1);
  check_mode(NULL, "readwrite", 1); /* the [PLATFORM] default */
}

int main(void) {
  static const CU_TestInfo tests[] = {
      {"test_batch_sdk_cache_modes", test_batch_sdk_cache_modes},
      CU_TEST_INFO_NULL,
  };
  fx_use_built_plugins();
  if (fx_tmpdir_make("/tmp/sy-batch-sdk-XXXXXX") != 0)
    return 1;
  int rc = fx_run_suite("batch-sdk", NULL, NULL, tests);
  fx_tmpdir_remove();
  return rc;
}
