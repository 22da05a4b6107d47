/*
 * release_version.c - the grammar and order of release versions
 * (registry.h). They need nothing but libc, so the registry providers'
 * fuzz targets link this file alone.
 */
#include "switchyard/registry.h"

#include <string.h>

/* ---- release versions (registry.h) ---------------------------------- */

#define VERSION_MAX 128

static int is_digit(char c) {
  return c >= '0' && c <= '9';
}

static int is_pre_char(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         c == '_';
}

int sy_release_version_valid(const char *s) {
  if (!s || strlen(s) > VERSION_MAX)
    return 0;
  /* number *( "." number ) */
  for (;;) {
    if (!is_digit(*s))
      return 0;
    if (*s == '0' && is_digit(s[1]))
      return 0; /* a leading zero */
    while (is_digit(*s))
      s++;
    if (*s != '.')
      break;
    s++;
  }
  if (*s == '\0')
    return 1;
  if (*s != '-')
    return 0;
  /* "-" pre *( "." pre ) */
  s++;
  for (;;) {
    if (!is_pre_char(*s))
      return 0;
    while (is_pre_char(*s))
      s++;
    if (*s != '.')
      break;
    s++;
  }
  return *s == '\0';
}

/* Compares two runs of digits (no leading zeros in valid versions, but
 * skipped anyway) as numbers of any length. */
static int cmp_number(const char *a, size_t an, const char *b, size_t bn) {
  while (an > 1 && *a == '0')
    a++, an--;
  while (bn > 1 && *b == '0')
    b++, bn--;
  if (an != bn)
    return an < bn ? -1 : 1;
  int c = memcmp(a, b, an);
  return (c > 0) - (c < 0);
}

int sy_release_version_compare(const char *a, const char *b) {
  int va = sy_release_version_valid(a), vb = sy_release_version_valid(b);
  if (!va || !vb) {
    if (va != vb)
      return va ? 1 : -1;
    int c = strcmp(a ? a : "", b ? b : "");
    return (c > 0) - (c < 0);
  }
  /* The numbers, part by part; a prefix is older. */
  for (;;) {
    size_t an = strspn(a, "0123456789"), bn = strspn(b, "0123456789");
    int c = cmp_number(a, an, b, bn);
    if (c)
      return c;
    a += an;
    b += bn;
    int amore = *a == '.', bmore = *b == '.';
    if (amore != bmore)
      return amore ? 1 : -1;
    if (!amore)
      break;
    a++;
    b++;
  }
  /* Now both are at "-pre" or the end: a pre-release is older. */
  if (!*a || !*b)
    return *a ? -1 : *b ? 1 : 0;
  a++;
  b++;
  for (;;) {
    size_t an = strcspn(a, "."), bn = strcspn(b, ".");
    size_t ad = strspn(a, "0123456789"), bd = strspn(b, "0123456789");
    int na = ad == an, nb = bd == bn, c;
    if (na && nb) {
      c = cmp_number(a, an, b, bn);
    } else if (na != nb) {
      c = na ? -1 : 1;
    } else {
      c = memcmp(a, b, an < bn ? an : bn);
      c = c ? (c > 0) - (c < 0) : (an > bn) - (an < bn);
    }
    if (c)
      return c;
    a += an;
    b += bn;
    int amore = *a == '.', bmore = *b == '.';
    if (amore != bmore)
      return amore ? 1 : -1;
    if (!amore)
      return 0;
    a++;
    b++;
  }
}
