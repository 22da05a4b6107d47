/*
 * test_f64fmt.c - sy_csv_format_f64 (services/csv.c) prints every double
 * as the definition does: the shortest of %.15g, %.16g and %.17g that
 * strtod reads back to the same bits, ".0" after integer-looking text,
 * nan/inf/-inf. The fast path computes that in 128-bit integers (64.64
 * fixed point where it can); this compares it with the definition
 * (sy_csv_format_f64_ref, the printf + strtod code it replaced) on edge
 * values and on random doubles of every kind: random bits, random
 * magnitudes, small probabilities, integers, exact decimal ties,
 * neighbours of powers of two and of ten.
 *
 * SY_F64FMT_N=N sets how many random doubles of each kind (default
 * 20000); SY_F64FMT_N=3000000 (24 million) is run by hand after each
 * change to the fast path: none may differ.
 */
#include <CUnit/Basic.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <switchyard/csv.h>
#include <switchyard/error.h>

#include "fixture.h"

int sy_csv_format_f64_ref(double v, char *buf, size_t cap);

static unsigned long checked, mismatched;

static void check(double v) {
  char got[32], want[32];
  int n = sy_csv_format_f64(v, got, sizeof got);
  int w = sy_csv_format_f64_ref(v, want, sizeof want);
  checked++;
  if (n != w || strcmp(got, want) != 0) {
    if (mismatched++ < 20)
      fprintf(stderr, "f64fmt: %a: got \"%s\" (%d), want \"%s\" (%d)\n", v, got,
              n, want, w);
  }
}

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t next(void) { /* splitmix64 */
  uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
static double from_bits(uint64_t b) {
  double d;
  memcpy(&d, &b, sizeof d);
  return d;
}
static uint64_t to_bits(double d) {
  uint64_t b;
  memcpy(&b, &d, sizeof b);
  return b;
}

static unsigned long count(void) {
  const char *e = getenv("SY_F64FMT_N");
  return e && atol(e) > 0 ? (unsigned long)atol(e) : 20000UL;
}

static void test_edges(void) {
  static const double v[] = {0.0,
                             -0.0,
                             1.0,
                             -1.0,
                             0.1,
                             0.2,
                             0.30000000000000004,
                             1.0 / 3,
                             2.0 / 3,
                             5e-324,
                             -5e-324,
                             2.2250738585072014e-308,
                             2.2250738585072009e-308,
                             1.7976931348623157e308,
                             1e21,
                             1e22,
                             1e23,
                             -1e21,
                             1e15,
                             1e16,
                             1e17,
                             9007199254740992.0,
                             9007199254740993.0,
                             9007199254740991.0,
                             123456789012345678.0,
                             1e-5,
                             1e-4,
                             9.9999999999999991e-6,
                             0.0001,
                             0.00012345,
                             123456.0,
                             1e36,
                             9.999999999999999e35,
                             4.35,
                             0.5,
                             2.5,
                             1e-7,
                             99999999999999999.0,
                             999999999999999.9,
                             0.999999999999999,
                             0.9999999999999999,
                             5.1,
                             3.5,
                             1.4,
                             0.2};
  for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
    check(v[i]);
  /* Every power of ten and of two in range, and their neighbours. */
  for (int k = -330; k <= 310; k++) {
    char t[16];
    snprintf(t, sizeof t, "1e%d", k);
    double p = strtod(t, NULL);
    check(p), check(-p), check(nextafter(p, 0)), check(nextafter(p, INFINITY));
  }
  for (int k = -1074; k <= 1023; k++) {
    double p = ldexp(1.0, k);
    check(p), check(nextafter(p, 0)), check(nextafter(p, INFINITY));
  }
  char buf[32];
  CU_ASSERT_EQUAL(sy_csv_format_f64(NAN, buf, sizeof buf), 3);
  CU_ASSERT_STRING_EQUAL(buf, "nan");
  CU_ASSERT_EQUAL(sy_csv_format_f64(-INFINITY, buf, sizeof buf), 4);
  CU_ASSERT_STRING_EQUAL(buf, "-inf");
  CU_ASSERT_EQUAL(sy_csv_format_f64(INFINITY, buf, sizeof buf), 3);
  CU_ASSERT_STRING_EQUAL(buf, "inf");
  CU_ASSERT_EQUAL(sy_csv_format_f64(-0.0, buf, sizeof buf), 4);
  CU_ASSERT_STRING_EQUAL(buf, "-0.0");
  CU_ASSERT_EQUAL(sy_csv_format_f64(1e21, buf, sizeof buf), 5);
  CU_ASSERT_STRING_EQUAL(buf, "1e+21");
  CU_ASSERT_EQUAL(sy_csv_format_f64(1e15, buf, sizeof buf), 5);
  CU_ASSERT_STRING_EQUAL(buf, "1e+15");
  CU_ASSERT_EQUAL(sy_csv_format_f64(123456.0, buf, sizeof buf), 8);
  CU_ASSERT_STRING_EQUAL(buf, "123456.0");
  CU_ASSERT_EQUAL(sy_csv_format_f64(1e-5, buf, sizeof buf), 5);
  CU_ASSERT_STRING_EQUAL(buf, "1e-05");
  CU_ASSERT_EQUAL(sy_csv_format_f64(0.1 + 0.2, buf, sizeof buf), 19);
  CU_ASSERT_STRING_EQUAL(buf, "0.30000000000000004");
  CU_ASSERT_EQUAL(sy_csv_format_f64(1, buf, 31), SY_EINVAL);
  CU_ASSERT_EQUAL(mismatched, 0);
}

static void test_random(void) {
  unsigned long n = count();
  mismatched = 0;
  for (unsigned long i = 0; i < n; i++) {
    /* any bits: mostly huge and tiny magnitudes, NaNs, subnormals */
    check(from_bits(next()));
    /* every magnitude the fast path takes, and a little beyond */
    double mag = ldexp(1.0, (int)(next() % 160) - 30);
    check((double)(next() >> 11) / 9007199254740992.0 * mag);
    /* probabilities and scaled features, as a model writes them */
    check((double)(next() >> 11) / 9007199254740992.0);
    check(((double)(next() >> 11) / 9007199254740992.0 - 0.5) * 20);
    /* a classifier's small probabilities: 2^-64 to 2, every binade */
    check(ldexp(1.0 + (double)(next() >> 12) / 4503599627370496.0,
                -(int)(next() % 64)));
    /* short decimals (that read back at 15 digits or fewer) */
    check((double)(int64_t)(next() % 2000001 - 1000000) / 1000);
    /* integers up to 2^70: exact ties at the 15th-17th digit */
    check(ldexp((double)(next() >> 11), (int)(next() % 18)));
    /* neighbours of a double */
    double d = from_bits(next() & 0x7fefffffffffffffULL);
    check(from_bits(to_bits(d) + 1));
  }
  CU_ASSERT(checked > 8 * n);
  CU_ASSERT_EQUAL(mismatched, 0);
  fprintf(stderr, "f64fmt: %lu doubles checked, %lu differ\n", checked,
          mismatched);
}

int main(void) {
  static const CU_TestInfo tests[] = {
      {"edges: the definition's text", test_edges},
      {"random doubles: the definition's text", test_random},
      CU_TEST_INFO_NULL};
  return fx_run_suite("f64fmt", NULL, NULL, tests);
}
