/*
 * ini.c - a small, strict INI reader.
 *
 * Design notes.
 *
 * - Hand-written rather than borrowed so that every error names file:line
 *   in the project's own words, and so that its whole behaviour fits on
 *   this page (it is fuzzed by tests/fuzz/fuzz_ini.c):
 *
 *     [section]            name trimmed; text after ']' must be a comment
 *     key = value          both trimmed; the value may be empty
 *     key = "a ; b"        one pair of quotes ("..." or '...') is removed;
 *                          inside them ';' and '#' are ordinary characters
 *     ; comment, # comment at the start of a line or after whitespace
 *
 *   CRLF line ends and a leading UTF-8 byte order mark are accepted. There
 *   are no continuation lines and no escapes: what is between the quotes is
 *   the value.
 * - The reader copies the text once and cuts lines in the copy, so the
 *   strings handed to the callback are NUL-terminated without further
 *   allocation; they are valid only during the call.
 * - Errors: "name:LINE: what is wrong", code SY_ESYNTAX. A NUL byte inside
 *   the text is refused, because everything after it would silently vanish.
 */
#include "internal.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static char *trim(char *s) {
  while (is_blank(*s))
    s++;
  char *end = s + strlen(s);
  while (end > s && is_blank(end[-1]))
    *--end = '\0';
  return s;
}

/* True when s is only blanks, optionally followed by a comment. */
static bool rest_is_comment(const char *s) {
  while (is_blank(*s))
    s++;
  return *s == '\0' || *s == ';' || *s == '#';
}

/* Cuts a trailing comment: ';' or '#' preceded by whitespace. */
static void cut_comment(char *s) {
  for (char *p = s; *p; p++) {
    if ((*p == ';' || *p == '#') && (p == s || is_blank(p[-1]))) {
      *p = '\0';
      return;
    }
  }
}

/* Shortens what an error quotes so a long line cannot crowd out the rest
 * of the message. */
#define QUOTE_MAX 60

/* Parses the value part of "key = value" in place; returns 0 or an error
 * message (static text). */
static const char *parse_value(char *v, char **out) {
  while (is_blank(*v))
    v++;
  if (*v == '"' || *v == '\'') {
    char *close = strchr(v + 1, *v);
    if (!close)
      return "unterminated quoted value";
    if (!rest_is_comment(close + 1))
      return "text after the closing quote";
    *close = '\0';
    *out = v + 1;
    return NULL;
  }
  cut_comment(v);
  *out = trim(v);
  return NULL;
}

int sy__ini_parse(const char *text, size_t len, const char *name, sy__ini_fn fn,
                  void *ud, sy_error *err) {
  const char *file = name ? name : "(string)";
  char *copy = NULL, *section = NULL;
  int rc = 0, line = 0;
  if (!text)
    len = 0;
  if (len == SIZE_MAX) {
    rc = sy_error_set(err, SY_ETOOBIG, "%s: text too large", file);
    goto done;
  }
  copy = malloc(len + 1);
  if (!copy) {
    rc = sy_error_set(err, SY_ENOMEM, "%s: out of memory", file);
    goto done;
  }
  if (len)
    memcpy(copy, text, len);
  copy[len] = '\0';

  char *p = copy, *end = copy + len;
  if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
    p += 3;
  while (p < end) {
    if (line == INT_MAX) {
      rc = sy_error_set(err, SY_ETOOBIG, "%s: too many lines", file);
      goto done;
    }
    line++;
    char *nl = memchr(p, '\n', (size_t)(end - p));
    char *eol = nl ? nl : end;
    if (memchr(p, '\0', (size_t)(eol - p))) {
      rc = sy_error_set(err, SY_ESYNTAX, "%s:%d: NUL byte in line", file, line);
      goto done;
    }
    *eol = '\0';
    char *s = trim(p);
    p = eol + 1;

    if (*s == '\0' || *s == ';' || *s == '#')
      continue;
    if (*s == '[') {
      char *close = strchr(s, ']');
      if (!close) {
        rc = sy_error_set(err, SY_ESYNTAX,
                          "%s:%d: unterminated section header '%.*s' "
                          "(missing ']')",
                          file, line, QUOTE_MAX, s);
        goto done;
      }
      if (!rest_is_comment(close + 1)) {
        rc = sy_error_set(err, SY_ESYNTAX,
                          "%s:%d: text after section header '%.*s'", file, line,
                          QUOTE_MAX, s);
        goto done;
      }
      *close = '\0';
      char *sname = trim(s + 1);
      if (*sname == '\0') {
        rc = sy_error_set(err, SY_ESYNTAX, "%s:%d: empty section name", file,
                          line);
        goto done;
      }
      section = sname;
      if (fn && (rc = fn(ud, section, NULL, NULL, line, err)) != 0)
        goto done;
      continue;
    }
    char *eq = strchr(s, '=');
    if (!eq) {
      rc = sy_error_set(err, SY_ESYNTAX,
                        "%s:%d: expected 'key = value', '[section]' or a "
                        "comment, got '%.*s'",
                        file, line, QUOTE_MAX, s);
      goto done;
    }
    *eq = '\0';
    char *key = trim(s);
    if (*key == '\0') {
      rc = sy_error_set(err, SY_ESYNTAX, "%s:%d: empty key before '='", file,
                        line);
      goto done;
    }
    if (!section) {
      rc = sy_error_set(err, SY_ESYNTAX,
                        "%s:%d: key '%.*s' before any [section]", file, line,
                        QUOTE_MAX, key);
      goto done;
    }
    char *value = NULL;
    const char *why = parse_value(eq + 1, &value);
    if (why) {
      rc = sy_error_set(err, SY_ESYNTAX, "%s:%d: %s for key '%.*s'", file, line,
                        why, QUOTE_MAX, key);
      goto done;
    }
    if (fn && (rc = fn(ud, section, key, value, line, err)) != 0)
      goto done;
  }
done:
  free(copy);
  return rc;
}
