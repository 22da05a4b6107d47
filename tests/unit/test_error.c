/*
 * test_error.c - sy_code_from_errno(): the errno -> SY_E* mapping that the
 * file providers (feed-csv, sink-csv, storage-file, registry-file,
 * registry-archive) report failed system calls with.
 */
#include <switchyard/error.h>

#include <CUnit/Basic.h>
#include <errno.h>
#include <stddef.h>
#include "fixture.h"

/* Every errno value a provider passes in, and what it must become. */
static void test_error_mapped_errnos(void) {
  static const struct {
    int e;
    int code;
  } rows[] = {
      {ENOENT, SY_ENOENT}, {ENOTDIR, SY_ENOENT},   {EACCES, SY_EPERM},
      {EPERM, SY_EPERM},   {EROFS, SY_EPERM},      {ENOMEM, SY_ENOMEM},
      {EEXIST, SY_EEXIST}, {ENOTEMPTY, SY_EEXIST},
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
    CU_ASSERT_EQUAL(sy_code_from_errno(rows[i].e), rows[i].code);
}

/* Anything else is an I/O error, never 0: a caller that reports a failure
 * must not turn it into success. */
static void test_error_other_errnos_are_eio(void) {
  static const int others[] = {0,     EIO,    ENOSPC, EISDIR, EINVAL,
                               EBADF, EINTR,  EMFILE, ELOOP,  ENAMETOOLONG,
                               EXDEV, EDQUOT, -1,     99999};
  for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
    CU_ASSERT_EQUAL(sy_code_from_errno(others[i]), SY_EIO);
}

/* It leaves errno alone, so errno can be read again for strerror() in the
 * same call. */
static void test_error_errno_untouched(void) {
  errno = EROFS;
  CU_ASSERT_EQUAL(sy_code_from_errno(errno), SY_EPERM);
  CU_ASSERT_EQUAL(errno, EROFS);
  errno = ENOSPC;
  CU_ASSERT_EQUAL(sy_code_from_errno(errno), SY_EIO);
  CU_ASSERT_EQUAL(errno, ENOSPC);
}

int main(void) {
  static const CU_TestInfo tests[] = {
#define T(fn) {#fn, fn}
      T(test_error_mapped_errnos),
      T(test_error_other_errnos_are_eio),
      T(test_error_errno_untouched),
#undef T
      CU_TEST_INFO_NULL,
  };
  return fx_run_suite("error", NULL, NULL, tests);
}
