/*
 * test_pieces.c - the pieces written once and shared by the core and the
 * providers (issue 11, "one of each"): the little-endian codec
 * (switchyard/endian.h), the whole-file reader (switchyard/file.h,
 * sy_file_read_fd, which sy_file_read and every other reader use) and the
 * growable buffer (switchyard/buf.h).
 */
#include <CUnit/Basic.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <stdint.h>
#include <string.h>

#include <switchyard/buf.h>
#include <switchyard/endian.h>
#include <switchyard/switchyard.h>

#include "fixture.h"

static int suite_init(void) {
  return 0;
}
static int suite_clean(void) {
  return 0;
}

/* The byte order is fixed (low byte first), whatever the host; a value
 * written and read back is the same; no alignment is needed. */
static void test_endian_layout(void) {
  uint8_t b[17];
  memset(b, 0xee, sizeof b);
  sy_le16_put(b + 1, 0x0102);
  CU_ASSERT_EQUAL(b[0], 0xee);
  CU_ASSERT_EQUAL(b[1], 0x02);
  CU_ASSERT_EQUAL(b[2], 0x01);
  CU_ASSERT_EQUAL(b[3], 0xee);
  CU_ASSERT_EQUAL(sy_le16_get(b + 1), 0x0102);
  sy_le32_put(b + 3, 0x01020304u);
  static const uint8_t want32[] = {4, 3, 2, 1};
  CU_ASSERT_EQUAL(memcmp(b + 3, want32, 4), 0);
  CU_ASSERT_EQUAL(sy_le32_get(b + 3), 0x01020304u);
  sy_le64_put(b + 7, 0x0102030405060708ull);
  static const uint8_t want64[] = {8, 7, 6, 5, 4, 3, 2, 1};
  CU_ASSERT_EQUAL(memcmp(b + 7, want64, 8), 0);
  CU_ASSERT_EQUAL(sy_le64_get(b + 7), 0x0102030405060708ull);
  CU_ASSERT_EQUAL(b[15], 0xee);
  /* The top bit survives (no sign extension). */
  sy_le32_put(b, 0xfffffffeu);
  CU_ASSERT_EQUAL(sy_le32_get(b), 0xfffffffeu);
  sy_le64_put(b, UINT64_MAX - 1);
  CU_ASSERT_EQUAL(sy_le64_get(b), UINT64_MAX - 1);
  sy_le16_put(b, 0xff80);
  CU_ASSERT_EQUAL(sy_le16_get(b), 0xff80);
}

/* A pipe is read until it ends; the limit is exact; the descriptor stays
 * open and the buffer ends with a NUL not counted in len. */
static void test_read_fd(void) {
  int p[2];
  CU_ASSERT_EQUAL_FATAL(pipe(p), 0);
  CU_ASSERT_EQUAL(write(p[1], "hello", 5), 5);
  close(p[1]);
  void *data = NULL;
  size_t len = 0;
  sy_error err;
  CU_ASSERT_EQUAL(sy_file_read_fd(p[0], "pipe", 5, &data, &len, &err), 0);
  CU_ASSERT_EQUAL(len, 5);
  CU_ASSERT_STRING_EQUAL((char *)data, "hello");
  free(data);
  CU_ASSERT(fcntl(p[0], F_GETFD) >= 0); /* still open */
  close(p[0]);

  CU_ASSERT_EQUAL_FATAL(pipe(p), 0);
  CU_ASSERT_EQUAL(write(p[1], "hello!", 6), 6);
  close(p[1]);
  data = (void *)1;
  CU_ASSERT_EQUAL(sy_file_read_fd(p[0], "pipe", 5, &data, &len, &err),
                  SY_ETOOBIG);
  CU_ASSERT_PTR_NULL(data);
  CU_ASSERT_PTR_NOT_NULL(strstr(err.message, "pipe: more than the limit"));
  close(p[0]);

  /* /dev/null: not regular, empty, fine. */
  int fd = open("/dev/null", O_RDONLY);
  CU_ASSERT_FATAL(fd >= 0);
  CU_ASSERT_EQUAL(sy_file_read_fd(fd, "/dev/null", 10, &data, &len, &err), 0);
  CU_ASSERT_EQUAL(len, 0);
  CU_ASSERT_STRING_EQUAL((char *)data, "");
  free(data);
  close(fd);
}

/* The config reader is sy_file_read_fd on any readable file: /dev/null
 * (an empty config) is still accepted, as it was before it shared the
 * reader. */
static void test_config_reader(void) {
  sy_config *cfg = NULL;
  sy_error err;
  CU_ASSERT_EQUAL_FATAL(sy_config_new(&cfg), 0);
  CU_ASSERT_EQUAL(sy_config_load_file(cfg, "/dev/null", 0, &err), 0);
  CU_ASSERT_EQUAL(sy_config_load_file(cfg, "/nonexistent/x.ini", 1, &err), 0);
  CU_ASSERT_EQUAL(sy_config_load_file(cfg, "/nonexistent/x.ini", 0, &err),
                  SY_ENOENT);
  sy_config_free(cfg);
}

/* Appends keep a NUL after the bytes; printf grows the buffer as needed;
 * reset keeps the memory; free leaves it empty. */
static void test_buf(void) {
  sy_buf b = SY_BUF_INIT;
  CU_ASSERT_EQUAL(sy_buf_add(&b, "", 0), 0);
  CU_ASSERT_PTR_NOT_NULL_FATAL(b.data);
  CU_ASSERT_STRING_EQUAL(b.data, "");
  CU_ASSERT_EQUAL(sy_buf_puts(&b, "a"), 0);
  CU_ASSERT_EQUAL(sy_buf_add(&b, "b\0c", 3), 0);
  CU_ASSERT_EQUAL(b.len, 4);
  CU_ASSERT_EQUAL(memcmp(b.data, "ab\0c", 5), 0); /* and the NUL */
  sy_buf_reset(&b);
  CU_ASSERT_EQUAL(b.len, 0);
  CU_ASSERT_STRING_EQUAL(b.data, "");
  char big[300];
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  for (int i = 0; i < 10; i++)
    CU_ASSERT_EQUAL(sy_buf_printf(&b, "%d:%s;", i, big), 0);
  CU_ASSERT_EQUAL(b.len, 10 * (2 + 1 + 299));
  CU_ASSERT_EQUAL(strlen(b.data), b.len);
  CU_ASSERT_EQUAL(strncmp(b.data + 302 * 9, "9:xx", 4), 0);
  CU_ASSERT(b.cap > b.len);
  CU_ASSERT_EQUAL(b.failed, 0);
  sy_buf_free(&b);
  CU_ASSERT_PTR_NULL(b.data);
  CU_ASSERT_EQUAL(b.len + b.cap, 0);
  /* A request that cannot fit fails, sticks, and keeps what was there. */
  CU_ASSERT_EQUAL(sy_buf_puts(&b, "kept"), 0);
  CU_ASSERT_EQUAL(sy_buf_reserve(&b, SIZE_MAX - 2), SY_ENOMEM);
  CU_ASSERT_EQUAL(b.failed, 1);
  CU_ASSERT_EQUAL(sy_buf_puts(&b, "more"), SY_ENOMEM);
  CU_ASSERT_EQUAL(sy_buf_printf(&b, "%s", "more"), SY_ENOMEM);
  CU_ASSERT_STRING_EQUAL(b.data, "kept");
  sy_buf_free(&b);
  CU_ASSERT_EQUAL(b.failed, 0);
  sy_buf_free(NULL);
}

int main(void) {
  static const CU_TestInfo tests[] = {
      {"little-endian codec", test_endian_layout},
      {"whole-file reader on a descriptor", test_read_fd},
      {"config files through the one reader", test_config_reader},
      {"growable buffer", test_buf},
      CU_TEST_INFO_NULL};
  return fx_run_suite("pieces", suite_init, suite_clean, tests);
}
