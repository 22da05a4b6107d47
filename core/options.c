/*
 * options.c - typed options: parsing, checking, suggestions, expansion.
 *
 * Design notes.
 *
 * - One parser per type, shared by every user of options (INI values, -o
 *   overrides, flow parameters, option tables). The parsers are strict: no
 *   surrounding whitespace, no trailing junk, overflow detected rather than
 *   wrapped. They return 0, SY_ETYPE (not that kind of text) or SY_ERANGE
 *   (the right kind of text, but it does not fit).
 * - sy__opt_parse() expands ${VAR} in every value and, for PATH options, a
 *   leading ~ too, before parsing. Expanding here rather than when a file is
 *   read keeps the raw text in the config, so `switchyard config` shows what
 *   the user wrote and never prints a secret taken from the environment.
 *   sy__opt_check_table() parses defaults without expansion, because the
 *   environment of the process that loads a plugin is not the one the
 *   defaults will be used in.
 * - Error texts say what was expected and what was found, in the syntax
 *   the user writes ("expected an int between 0 and 1024, got '2000'");
 *   the caller adds where (file:line) and a hint. The text of a SECRET
 *   option is never echoed.
 * - Range bounds are kept as text in the table and parsed on use, so that
 *   messages show them as the author wrote them ("between 1K and 1G").
 */
#include "internal.h"

#include <ctype.h>
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- pool ------------------------------------------------------------- */

void *sy__pool_add(sy__pool *pool, void *block) {
  if (!block)
    return NULL;
  if (pool->len == pool->cap) {
    size_t cap = pool->cap ? pool->cap * 2 : 8;
    void **items = realloc(pool->items, cap * sizeof *items);
    if (!items) {
      free(block);
      return NULL;
    }
    pool->items = items;
    pool->cap = cap;
  }
  pool->items[pool->len++] = block;
  return block;
}

char *sy__pool_strdup(sy__pool *pool, const char *s) {
  return sy__pool_add(pool, strdup(s ? s : ""));
}

void sy__pool_release(sy__pool *pool) {
  if (!pool)
    return;
  for (size_t i = 0; i < pool->len; i++)
    free(pool->items[i]);
  free(pool->items);
  pool->items = NULL;
  pool->len = pool->cap = 0;
}

/* ---- scalar parsers ----------------------------------------------------- */

int sy__parse_bool(const char *s, bool *out) {
  static const char *const yes[] = {"true", "yes", "on", "1"};
  static const char *const no[] = {"false", "no", "off", "0"};
  if (!s)
    return SY_ETYPE;
  for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
    if (strcasecmp(s, yes[i]) == 0) {
      *out = true;
      return 0;
    }
    if (strcasecmp(s, no[i]) == 0) {
      *out = false;
      return 0;
    }
  }
  return SY_ETYPE;
}

/* Reads decimal digits at *p into an unsigned accumulator; returns the
 * number of digits read, or -1 when the value exceeds `limit`. */
static int read_digits(const char **p, uint64_t limit, uint64_t *out) {
  uint64_t v = 0;
  int n = 0;
  bool over = false;
  while (isdigit((unsigned char)**p)) {
    unsigned d = (unsigned)(**p - '0');
    if (v > (limit - d) / 10)
      over = true;
    else
      v = v * 10 + d;
    (*p)++;
    n++;
  }
  *out = v;
  return over ? -1 : n;
}

int sy__parse_int(const char *s, int64_t *out) {
  if (!s)
    return SY_ETYPE;
  const char *p = s;
  bool neg = false;
  if (*p == '+' || *p == '-')
    neg = *p++ == '-';
  uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
  uint64_t v;
  int n = read_digits(&p, limit, &v);
  if (n == 0 || *p != '\0') {
    /* Digits running past the limit still make a number, only too big. */
    return SY_ETYPE;
  }
  if (n < 0)
    return SY_ERANGE;
  if (neg)
    *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
  else
    *out = (int64_t)v;
  return 0;
}

/* True when s looks like a plain decimal number: sign, digits, at most one
 * point, optional exponent. strtod() alone would also take "inf", "nan",
 * hex floats and leading blanks, none of which a user means as a number. */
static bool is_decimal(const char *s) {
  const char *p = s;
  if (*p == '+' || *p == '-')
    p++;
  int digits = 0;
  while (isdigit((unsigned char)*p)) {
    p++;
    digits++;
  }
  if (*p == '.') {
    p++;
    while (isdigit((unsigned char)*p)) {
      p++;
      digits++;
    }
  }
  if (digits == 0)
    return false;
  if (*p == 'e' || *p == 'E') {
    p++;
    if (*p == '+' || *p == '-')
      p++;
    if (!isdigit((unsigned char)*p))
      return false;
    while (isdigit((unsigned char)*p))
      p++;
  }
  return *p == '\0';
}

int sy__parse_double(const char *s, double *out) {
  if (!s || !is_decimal(s))
    return SY_ETYPE;
  /* strtod() follows the locale's decimal point; the config syntax always
   * uses '.', so swap it in when a host program changed LC_NUMERIC. */
  char buf[128];
  const char *text = s;
  const char *dp = localeconv()->decimal_point;
  if (dp && strcmp(dp, ".") != 0 && strlen(dp) == 1) {
    size_t n = strlen(s);
    if (n >= sizeof buf)
      return SY_ERANGE;
    memcpy(buf, s, n + 1);
    char *dot = strchr(buf, '.');
    if (dot)
      *dot = dp[0];
    text = buf;
  }
  errno = 0;
  char *end = NULL;
  double v = strtod(text, &end);
  if (!end || *end != '\0')
    return SY_ETYPE;
  if (!isfinite(v))
    return SY_ERANGE;
  *out = v;
  return 0;
}

/* Reads "DIGITS[.DIGITS]" into an integer part and a fraction in [0, 1).
 * Returns 0, SY_ETYPE (no number) or SY_ERANGE (integer part too big). */
static int read_number(const char **p, uint64_t *ipart, long double *frac) {
  const char *start = *p;
  int n = read_digits(p, UINT64_MAX, ipart);
  *frac = 0;
  int fdigits = 0;
  if (**p == '.') {
    (*p)++;
    long double scale = 0.1L;
    while (isdigit((unsigned char)**p)) {
      *frac += (**p - '0') * scale;
      scale /= 10;
      (*p)++;
      fdigits++;
    }
  }
  if (n == 0 && fdigits == 0) {
    *p = start;
    return SY_ETYPE;
  }
  return n < 0 ? SY_ERANGE : 0;
}

/* ipart * mult + frac * mult, or SY_ERANGE past `limit`. */
static int scale_number(uint64_t ipart, long double frac, uint64_t mult,
                        uint64_t limit, uint64_t *out) {
  if (mult != 0 && ipart > limit / mult)
    return SY_ERANGE;
  uint64_t v = ipart * mult;
  uint64_t f = (uint64_t)(frac * (long double)mult);
  if (f > limit - v)
    return SY_ERANGE;
  *out = v + f;
  return 0;
}

static void skip_blanks(const char **p) {
  while (**p == ' ' || **p == '\t')
    (*p)++;
}

int sy__parse_size(const char *s, uint64_t *out) {
  /* Units are powers of 1024 whatever the spelling: "64M", "64MB" and
   * "64MiB" all mean the same, as in most tools users know. */
  static const struct {
    const char *unit;
    unsigned shift;
  } units[] = {{"", 0},     {"b", 0},   {"k", 10},   {"kb", 10}, {"kib", 10},
               {"m", 20},   {"mb", 20}, {"mib", 20}, {"g", 30},  {"gb", 30},
               {"gib", 30}, {"t", 40},  {"tb", 40},  {"tib", 40}};
  if (!s)
    return SY_ETYPE;
  const char *p = s;
  if (*p == '+')
    p++;
  uint64_t ipart;
  long double frac;
  int rc = read_number(&p, &ipart, &frac);
  if (rc == SY_ETYPE)
    return rc;
  int range = rc;
  skip_blanks(&p);
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
    if (strcasecmp(p, units[i].unit) == 0) {
      if (range)
        return SY_ERANGE;
      return scale_number(ipart, frac, (uint64_t)1 << units[i].shift,
                          UINT64_MAX, out);
    }
  }
  return SY_ETYPE;
}

int sy__parse_duration(const char *s, int64_t *ns) {
  /* Longest unit names first so that "ms" is not read as "m" + "s". */
  static const struct {
    const char *unit;
    uint64_t ns;
  } units[] = {{"ns", 1ULL},
               {"us", 1000ULL},
               {"ms", 1000000ULL},
               {"s", 1000000000ULL},
               {"m", 60ULL * 1000000000ULL},
               {"h", 3600ULL * 1000000000ULL},
               {"d", 86400ULL * 1000000000ULL}};
  if (!s)
    return SY_ETYPE;
  const char *p = s;
  if (*p == '+')
    p++;
  uint64_t total = 0;
  int parts = 0;
  bool range = false;
  /* Each part is NUMBER UNIT; "1h30m" is two parts. A bare number means
   * seconds and must then be the whole text. */
  while (*p) {
    uint64_t ipart;
    long double frac;
    int rc = read_number(&p, &ipart, &frac);
    if (rc == SY_ETYPE)
      return SY_ETYPE;
    if (rc == SY_ERANGE)
      range = true;
    skip_blanks(&p);
    uint64_t mult = 0;
    if (*p == '\0') {
      if (parts > 0)
        return SY_ETYPE;
      mult = units[3].ns;
    } else {
      size_t best = 0;
      for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        size_t len = strlen(units[i].unit);
        if (len > best && strncasecmp(p, units[i].unit, len) == 0 &&
            !isalpha((unsigned char)p[len])) {
          best = len;
          mult = units[i].ns;
        }
      }
      if (!best)
        return SY_ETYPE;
      p += best;
      skip_blanks(&p);
    }
    uint64_t part;
    if (!range &&
        scale_number(ipart, frac, mult, (uint64_t)INT64_MAX, &part) != 0)
      range = true;
    if (!range && part > (uint64_t)INT64_MAX - total)
      range = true;
    if (!range)
      total += part;
    parts++;
  }
  if (parts == 0)
    return SY_ETYPE;
  if (range)
    return SY_ERANGE;
  *ns = (int64_t)total;
  return 0;
}

/* ---- suggestions ------------------------------------------------------ */

/* Longest name compared; longer ones are not typos of an identifier. */
#define SUGGEST_MAX 128

/* Optimal-string-alignment distance (Levenshtein plus adjacent swaps),
 * case-insensitive. */
static size_t edit_distance(const char *a, size_t la, const char *b,
                            size_t lb) {
  size_t rows[3][SUGGEST_MAX + 1];
  size_t *prev2 = rows[0], *prev = rows[1], *cur = rows[2];
  for (size_t j = 0; j <= lb; j++)
    prev[j] = j;
  for (size_t i = 1; i <= la; i++) {
    cur[0] = i;
    for (size_t j = 1; j <= lb; j++) {
      int ca = tolower((unsigned char)a[i - 1]);
      int cb = tolower((unsigned char)b[j - 1]);
      size_t cost = ca == cb ? 0 : 1;
      size_t best = prev[j] + 1;
      if (cur[j - 1] + 1 < best)
        best = cur[j - 1] + 1;
      if (prev[j - 1] + cost < best)
        best = prev[j - 1] + cost;
      if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
          tolower((unsigned char)a[i - 2]) == cb && prev2[j - 2] + 1 < best)
        best = prev2[j - 2] + 1;
      cur[j] = best;
    }
    size_t *t = prev2;
    prev2 = prev;
    prev = cur;
    cur = t;
  }
  return prev[lb];
}

const char *sy__suggest(const char *name, const char *const *candidates,
                        size_t n) {
  if (!name || !candidates)
    return NULL;
  size_t len = strlen(name);
  if (len == 0 || len > SUGGEST_MAX)
    return NULL;
  size_t limit = len / 3 > 1 ? len / 3 : 1;
  const char *best = NULL;
  size_t best_d = limit + 1;
  for (size_t i = 0; i < n; i++) {
    const char *c = candidates[i];
    if (!c)
      continue;
    size_t lc = strlen(c);
    if (lc > SUGGEST_MAX || (lc > len ? lc - len : len - lc) > limit)
      continue;
    size_t d = edit_distance(name, len, c, lc);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

/* The size of what an option of that type writes into the config struct,
 * or 0 for an unknown type. */
size_t sy__opt_value_size(sy_opt_type type) {
  switch (type) {
  case SY_OPT_STRING:
  case SY_OPT_PATH:
    return sizeof(const char *);
  case SY_OPT_BOOL:
    return sizeof(bool);
  case SY_OPT_INT:
  case SY_OPT_DURATION:
    return sizeof(int64_t);
  case SY_OPT_DOUBLE:
    return sizeof(double);
  case SY_OPT_SIZE:
    return sizeof(uint64_t);
  case SY_OPT_ENUM:
    return sizeof(int);
  case SY_OPT_LIST:
    return sizeof(const char *const *);
  }
  return 0;
}

/* ---- expansion -------------------------------------------------------- */

int sy__expand(const char *text, bool tilde, char **out, sy_error *err) {
  sy_buf b = SY_BUF_INIT;
  int rc = 0;
  const char *p = text ? text : "";
  *out = NULL;
  if ((rc = sy_buf_add(&b, "", 0)) != 0)
    goto nomem;
  if (tilde && p[0] == '~' && (p[1] == '\0' || p[1] == '/')) {
    const char *home = getenv("HOME");
    if (!home || !*home) {
      rc = sy_error_set(err, SY_ENOENT,
                        "cannot expand '~' in '%s': HOME is not set", text);
      goto fail;
    }
    if ((rc = sy_buf_add(&b, home, strlen(home))) != 0)
      goto nomem;
    p++;
  }
  while (*p) {
    const char *dollar = strchr(p, '$');
    size_t n = dollar ? (size_t)(dollar - p) : strlen(p);
    if ((rc = sy_buf_add(&b, p, n)) != 0)
      goto nomem;
    p += n;
    if (!dollar)
      break;
    if (p[1] == '$') {
      /* "$$" is how a literal dollar is written before a brace. */
      if ((rc = sy_buf_add(&b, "$", 1)) != 0)
        goto nomem;
      p += 2;
      continue;
    }
    if (p[1] != '{') {
      if ((rc = sy_buf_add(&b, "$", 1)) != 0)
        goto nomem;
      p++;
      continue;
    }
    const char *name = p + 2;
    const char *close = strchr(name, '}');
    if (!close) {
      rc = sy_error_set(err, SY_ESYNTAX, "unterminated '${' in '%s'", text);
      goto fail;
    }
    size_t nlen = (size_t)(close - name);
    bool valid =
        nlen > 0 && (isalpha((unsigned char)name[0]) || name[0] == '_');
    for (size_t i = 0; valid && i < nlen; i++)
      valid = isalnum((unsigned char)name[i]) || name[i] == '_';
    if (!valid) {
      rc = sy_error_set(err, SY_ESYNTAX,
                        "invalid variable name '${%.*s}' in '%s'", (int)nlen,
                        name, text);
      goto fail;
    }
    char var[256];
    if (nlen >= sizeof var) {
      rc =
          sy_error_set(err, SY_ESYNTAX, "variable name too long in '%s'", text);
      goto fail;
    }
    memcpy(var, name, nlen);
    var[nlen] = '\0';
    const char *value = getenv(var);
    if (!value) {
      rc = sy_error_set(err, SY_ENOENT,
                        "environment variable '%s' is not set (used in '%s')",
                        var, text);
      goto fail;
    }
    if ((rc = sy_buf_add(&b, value, strlen(value))) != 0)
      goto nomem;
    p = close + 1;
  }
  *out = b.data;
  return 0;
nomem:
  rc = sy_error_set(err, SY_ENOMEM, "out of memory");
fail:
  sy_buf_free(&b);
  return rc;
}

/* ---- options ---------------------------------------------------------- */

const sy_option *sy__opt_find(const sy_option *opts, const char *name) {
  if (!opts || !name)
    return NULL;
  for (; opts->name; opts++)
    if (strcmp(opts->name, name) == 0)
      return opts;
  return NULL;
}

/* The text to quote back to the user: never a secret. */
static const char *shown(const sy_option *opt, const char *text) {
  return (opt->flags & SY_OPT_SECRET) ? "(secret)" : text;
}

/* Writes "expected a TYPE[ between MIN and MAX], got 'TEXT'". */
static int expected(const sy_option *opt, const char *text, int code,
                    sy_error *err) {
  const char *article = opt->type == SY_OPT_INT ? "an" : "a";
  const char *type = sy_opt_type_name(opt->type);
  const char *got = shown(opt, text);
  if (opt->min && opt->max)
    return sy_error_set(err, code, "expected %s %s between %s and %s, got '%s'",
                        article, type, opt->min, opt->max, got);
  if (opt->min)
    return sy_error_set(err, code, "expected %s %s >= %s, got '%s'", article,
                        type, opt->min, got);
  if (opt->max)
    return sy_error_set(err, code, "expected %s %s <= %s, got '%s'", article,
                        type, opt->max, got);
  switch (opt->type) {
  case SY_OPT_SIZE:
    return sy_error_set(
        err, code, "expected a size such as 4096, 64K, 1.5GiB; got '%s'", got);
  case SY_OPT_DURATION:
    return sy_error_set(
        err, code, "expected a duration such as 250ms, 5s, 2m; got '%s'", got);
  case SY_OPT_BOOL:
    return sy_error_set(
        err, code,
        "expected a bool (true/false, yes/no, on/off, 1/0), got '%s'", got);
  case SY_OPT_DOUBLE:
    return sy_error_set(err, code, "expected a finite number, got '%s'", got);
  default:
    return sy_error_set(err, code, "expected %s %s, got '%s'", article, type,
                        got);
  }
}

/* A number of any numeric type, as a comparable value. Sizes above 2^63
 * compare as unsigned; everything else fits a signed or a double. */
typedef struct num {
  bool is_double, is_unsigned;
  int64_t i;
  uint64_t u;
  double d;
} num;

static int parse_num(sy_opt_type type, const char *text, num *out) {
  memset(out, 0, sizeof *out);
  switch (type) {
  case SY_OPT_INT:
    return sy__parse_int(text, &out->i);
  case SY_OPT_DURATION:
    return sy__parse_duration(text, &out->i);
  case SY_OPT_SIZE:
    out->is_unsigned = true;
    return sy__parse_size(text, &out->u);
  case SY_OPT_DOUBLE:
    out->is_double = true;
    return sy__parse_double(text, &out->d);
  default:
    return SY_ETYPE;
  }
}

static int num_cmp(const num *a, const num *b) {
  if (a->is_double)
    return a->d < b->d ? -1 : a->d > b->d;
  if (a->is_unsigned)
    return a->u < b->u ? -1 : a->u > b->u;
  return a->i < b->i ? -1 : a->i > b->i;
}

static bool is_numeric(sy_opt_type type) {
  return type == SY_OPT_INT || type == SY_OPT_DOUBLE || type == SY_OPT_SIZE ||
         type == SY_OPT_DURATION;
}

/* Splits comma-separated text into one block: the pointer array followed
 * by the strings, so the pool frees it with one free(). Empty items are
 * dropped, which lets "a, b," and "" mean what they look like. */
static char **split_list(const char *text) {
  size_t n = 1, len = strlen(text);
  for (const char *p = text; *p; p++)
    n += *p == ',';
  size_t head = (n + 1) * sizeof(char *);
  char **list = malloc(head + len + 1);
  if (!list)
    return NULL;
  char *store = (char *)list + head;
  memcpy(store, text, len + 1);
  size_t count = 0;
  char *item = store;
  for (;;) {
    char *comma = strchr(item, ',');
    if (comma)
      *comma = '\0';
    while (isspace((unsigned char)*item))
      item++;
    char *end = item + strlen(item);
    while (end > item && isspace((unsigned char)end[-1]))
      *--end = '\0';
    if (*item)
      list[count++] = item;
    if (!comma)
      break;
    item = comma + 1;
  }
  list[count] = NULL;
  return list;
}

/* Parses already-expanded text; see sy__opt_parse. */
static int parse_value(const sy_option *opt, const char *text, void *config,
                       sy__pool *pool, sy_error *err) {
  char *dst = config ? (char *)config + opt->offset : NULL;
  int rc;
  switch (opt->type) {
  case SY_OPT_STRING:
  case SY_OPT_PATH: {
    if (dst) {
      const char *s = sy__pool_strdup(pool, text);
      if (!s)
        return sy_error_set(err, SY_ENOMEM, "out of memory");
      memcpy(dst, &s, sizeof s);
    }
    return 0;
  }
  case SY_OPT_BOOL: {
    bool b;
    if (sy__parse_bool(text, &b) != 0)
      return expected(opt, text, SY_ETYPE, err);
    if (dst)
      memcpy(dst, &b, sizeof b);
    return 0;
  }
  case SY_OPT_ENUM: {
    int index = -1, n = 0;
    for (; opt->choices && opt->choices[n]; n++)
      if (index < 0 && strcasecmp(opt->choices[n], text) == 0)
        index = n;
    if (index < 0) {
      char list[SY_ERROR_MAX / 2];
      size_t used = 0;
      list[0] = '\0';
      for (int i = 0; i < n && used < sizeof list; i++) {
        int w = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
                         opt->choices[i]);
        if (w < 0)
          break;
        used += (size_t)w;
      }
      const char *near = sy__suggest(text, opt->choices, (size_t)n);
      if (near && !(opt->flags & SY_OPT_SECRET))
        return sy_error_set(err, SY_EINVAL,
                            "expected one of %s; got '%s' (did you mean '%s'?)",
                            list, text, near);
      return sy_error_set(err, SY_EINVAL, "expected one of %s; got '%s'", list,
                          shown(opt, text));
    }
    if (dst)
      memcpy(dst, &index, sizeof index);
    return 0;
  }
  case SY_OPT_LIST: {
    if (dst) {
      char **list = sy__pool_add(pool, split_list(text));
      if (!list)
        return sy_error_set(err, SY_ENOMEM, "out of memory");
      const char *const *v = (const char *const *)list;
      memcpy(dst, &v, sizeof v);
    }
    return 0;
  }
  case SY_OPT_INT:
  case SY_OPT_DOUBLE:
  case SY_OPT_SIZE:
  case SY_OPT_DURATION: {
    num v, bound;
    rc = parse_num(opt->type, text, &v);
    if (rc != 0) {
      int r = expected(opt, text, rc, err);
      if (rc == SY_ERANGE && err) {
        char said[SY_ERROR_MAX];
        memcpy(said, err->message, sizeof said);
        sy_error_set(err, r, "%s (out of range)", said);
      }
      return r;
    }
    if (opt->min && (parse_num(opt->type, opt->min, &bound) != 0 ||
                     num_cmp(&v, &bound) < 0))
      return expected(opt, text, SY_ERANGE, err);
    if (opt->max && (parse_num(opt->type, opt->max, &bound) != 0 ||
                     num_cmp(&v, &bound) > 0))
      return expected(opt, text, SY_ERANGE, err);
    if (dst) {
      if (opt->type == SY_OPT_DOUBLE)
        memcpy(dst, &v.d, sizeof v.d);
      else if (opt->type == SY_OPT_SIZE)
        memcpy(dst, &v.u, sizeof v.u);
      else
        memcpy(dst, &v.i, sizeof v.i);
    }
    return 0;
  }
  }
  return sy_error_set(err, SY_ETYPE, "option '%s' has an unknown type %d",
                      opt->name ? opt->name : "?", (int)opt->type);
}

int sy__opt_parse(const sy_option *opt, const char *text, void *config,
                  sy__pool *pool, sy_error *err) {
  char *expanded = NULL;
  int rc = sy__expand(text, opt->type == SY_OPT_PATH, &expanded, err);
  if (rc == 0)
    rc = parse_value(opt, expanded, config, pool, err);
  free(expanded);
  return rc;
}

/* ---- table check ------------------------------------------------------ */

static bool valid_name(const char *name) {
  if (!name || !islower((unsigned char)name[0]))
    return false;
  for (const char *p = name; *p; p++)
    if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '_')
      return false;
  return true;
}

static int check_option(const sy_option *opts, const sy_option *o,
                        sy_error *err) {
  if (!o->name)
    return sy_error_set(err, SY_EPLUGIN, "an option has no name");
  if (!valid_name(o->name))
    return sy_error_set(err, SY_EPLUGIN,
                        "option name '%s' is not lower_case_with_underscores",
                        o->name);
  for (const sy_option *p = opts; p < o; p++)
    if (strcmp(p->name, o->name) == 0)
      return sy_error_set(err, SY_EPLUGIN, "option '%s' is declared twice",
                          o->name);
  if (!sy_opt_type_name(o->type))
    return sy_error_set(err, SY_EPLUGIN, "option '%s' has unknown type %d",
                        o->name, (int)o->type);
  if (!o->help || !*o->help)
    return sy_error_set(err, SY_EPLUGIN, "option '%s' has no help text",
                        o->name);
  if (o->flags & ~(SY_OPT_REQUIRED | SY_OPT_SECRET))
    return sy_error_set(err, SY_EPLUGIN, "option '%s' has unknown flags 0x%x",
                        o->name, o->flags);
  if ((o->flags & SY_OPT_REQUIRED) && o->def)
    return sy_error_set(err, SY_EPLUGIN,
                        "option '%s' is required but has a default", o->name);
  if (o->type == SY_OPT_ENUM) {
    if (!o->choices || !o->choices[0])
      return sy_error_set(err, SY_EPLUGIN, "enum option '%s' has no choices",
                          o->name);
    for (size_t i = 0; o->choices[i]; i++) {
      if (!*o->choices[i])
        return sy_error_set(err, SY_EPLUGIN,
                            "enum option '%s' has an empty choice", o->name);
      for (size_t j = 0; j < i; j++)
        if (strcasecmp(o->choices[i], o->choices[j]) == 0)
          return sy_error_set(err, SY_EPLUGIN,
                              "enum option '%s' lists '%s' twice", o->name,
                              o->choices[i]);
    }
  } else if (o->choices) {
    return sy_error_set(err, SY_EPLUGIN,
                        "option '%s' has choices but is not an enum", o->name);
  }
  if ((o->min || o->max) && !is_numeric(o->type))
    return sy_error_set(err, SY_EPLUGIN,
                        "option '%s' of type %s cannot have min or max",
                        o->name, sy_opt_type_name(o->type));
  num lo, hi;
  if (o->min && parse_num(o->type, o->min, &lo) != 0)
    return sy_error_set(err, SY_EPLUGIN, "option '%s': min '%s' is not a %s",
                        o->name, o->min, sy_opt_type_name(o->type));
  if (o->max && parse_num(o->type, o->max, &hi) != 0)
    return sy_error_set(err, SY_EPLUGIN, "option '%s': max '%s' is not a %s",
                        o->name, o->max, sy_opt_type_name(o->type));
  if (o->min && o->max && num_cmp(&lo, &hi) > 0)
    return sy_error_set(err, SY_EPLUGIN, "option '%s': min %s exceeds max %s",
                        o->name, o->min, o->max);
  if (o->def) {
    sy_error e;
    sy_error_clear(&e);
    if (parse_value(o, o->def, NULL, NULL, &e) != 0)
      return sy_error_set(err, SY_EPLUGIN, "option '%s': default: %s", o->name,
                          e.message);
  }
  return 0;
}

int sy__opt_check_table(const sy_option *opts, const char *owner,
                        sy_error *err) {
  if (!opts)
    return 0;
  for (const sy_option *o = opts; o->name || o->type || o->help; o++) {
    int rc = check_option(opts, o, err);
    if (rc != 0) {
      if (err && owner)
        sy_error_prefix(err, "%s", owner);
      return rc;
    }
  }
  return 0;
}

/* ---- the public face of the helpers above (option.h, ABI 1.3) ------- */

const sy_option *sy_option_find(const sy_option *opts, const char *name) {
  return sy__opt_find(opts, name);
}

int sy_parse_size(const char *text, uint64_t *out) {
  return sy__parse_size(text, out);
}

int sy_parse_duration(const char *text, int64_t *ns) {
  return sy__parse_duration(text, ns);
}

const char *sy_suggest(const char *name, const char *const *candidates,
                       size_t n) {
  return sy__suggest(name, candidates, n);
}
