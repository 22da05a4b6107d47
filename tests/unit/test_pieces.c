/*
 * test_pieces.c - the pieces written once and shared by the core and the
 * providers (issue 11, "one of each"): the little-endian codec
 * (switchyard/endian.h).
 */
#include <CUnit/Basic.h>
#include <stdint.h>
#include <string.h>

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

int main(void) {
  static const CU_TestInfo tests[] = {
      {"little-endian codec", test_endian_layout}, CU_TEST_INFO_NULL};
  return fx_run_suite("pieces", suite_init, suite_clean, tests);
}
