/*
 * runlog.c - reads a JSON-lines run log into one final status per step.
 *
 * The log is what `switchyard run --log FILE` writes (services/listeners.c,
 * log_listener): one flat JSON object per line with "event", "step",
 * "label", "key", "worker", "t", "dur", "attempt" and, for failures,
 * "error". A full JSON library would be a dependency for six fields, so
 * this is a small strict parser for flat objects: string, number, true,
 * false and null values; nested objects or arrays, trailing text and
 * broken escapes are errors that name path:line, because a log that does
 * not parse is not a log we should draw conclusions from. Unknown keys
 * and unknown event names are skipped, so a newer core's log still draws.
 *
 * Matching: a line belongs to the step whose cache key it carries, so a
 * log of `run` colours the steps a `train` program shares with it. When
 * no key of the whole log is in the program (the flow was edited since),
 * lines are matched by step number instead; matching line by line would
 * mix the two and colour a step with another step's status.
 *
 * Final status, in the order events arrive: started -> STARTED; done,
 * cached, failed, skipped set their status; retried changes nothing (the
 * next started/done/failed of the retry does); queued changes nothing.
 */
#include "graphviz.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- one line ----------------------------------------------------------- */

static void skip_ws(char **p) {
  while (**p == ' ' || **p == '\t' || **p == '\r' || **p == '\n')
    (*p)++;
}

static int hex4(const char *s, unsigned *out) {
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    char c = s[i];
    v <<= 4;
    if (c >= '0' && c <= '9')
      v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f')
      v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      v |= (unsigned)(c - 'A' + 10);
    else
      return -1;
  }
  *out = v;
  return 0;
}

static char *put_utf8(char *w, unsigned cp) {
  if (cp < 0x80) {
    *w++ = (char)cp;
  } else if (cp < 0x800) {
    *w++ = (char)(0xC0 | (cp >> 6));
    *w++ = (char)(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *w++ = (char)(0xE0 | (cp >> 12));
    *w++ = (char)(0x80 | ((cp >> 6) & 0x3F));
    *w++ = (char)(0x80 | (cp & 0x3F));
  } else {
    *w++ = (char)(0xF0 | (cp >> 18));
    *w++ = (char)(0x80 | ((cp >> 12) & 0x3F));
    *w++ = (char)(0x80 | ((cp >> 6) & 0x3F));
    *w++ = (char)(0x80 | (cp & 0x3F));
  }
  return w;
}

/* Decodes the string whose opening quote is at *p, in place: an escape is
 * never shorter than what it stands for (\uXXXX is 6 bytes for at most 3
 * of UTF-8, a surrogate pair 12 for 4), so the writer never overtakes the
 * reader. On success *out is the decoded text and *p is past the quote. */
static const char *parse_string(char **p, const char **out) {
  char *r = *p + 1, *w = r, *start = r;
  for (;;) {
    unsigned char c = (unsigned char)*r;
    if (c == '\0')
      return "unterminated string";
    if (c == '"')
      break;
    if (c < 0x20)
      return "control character in a string";
    if (c != '\\') {
      *w++ = *r++;
      continue;
    }
    r++;
    switch (*r) {
    case '"':
    case '\\':
    case '/':
      *w++ = *r++;
      break;
    case 'b':
      *w++ = '\b', r++;
      break;
    case 'f':
      *w++ = '\f', r++;
      break;
    case 'n':
      *w++ = '\n', r++;
      break;
    case 'r':
      *w++ = '\r', r++;
      break;
    case 't':
      *w++ = '\t', r++;
      break;
    case 'u': {
      unsigned cp, lo;
      if (hex4(r + 1, &cp) != 0)
        return "bad \\u escape in a string";
      r += 5;
      if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (r[0] != '\\' || r[1] != 'u' || hex4(r + 2, &lo) != 0 ||
            lo < 0xDC00 || lo > 0xDFFF)
          return "unpaired surrogate in a string";
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        r += 6;
      } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
        return "unpaired surrogate in a string";
      } else if (cp == 0) {
        return "\\u0000 in a string";
      }
      w = put_utf8(w, cp);
      break;
    }
    default:
      return "bad escape in a string";
    }
  }
  *p = r + 1;
  *w = '\0'; /* w <= r: at most overwrites the closing quote */
  *out = start;
  return NULL;
}

/* A JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static const char *parse_number(char **p, locale_t c_locale, double *out) {
  char *s = *p, *e = s;
  if (*e == '-')
    e++;
  if (*e == '0')
    e++;
  else if (*e >= '1' && *e <= '9')
    while (*e >= '0' && *e <= '9')
      e++;
  else
    return "expected a value";
  if (*e == '.') {
    e++;
    if (!(*e >= '0' && *e <= '9'))
      return "bad number";
    while (*e >= '0' && *e <= '9')
      e++;
  }
  if (*e == 'e' || *e == 'E') {
    e++;
    if (*e == '+' || *e == '-')
      e++;
    if (!(*e >= '0' && *e <= '9'))
      return "bad number";
    while (*e >= '0' && *e <= '9')
      e++;
  }
  char *end = NULL;
  errno = 0;
  *out = strtod_l(s, &end, c_locale);
  if (end != e || errno == ERANGE)
    return "bad number";
  *p = e;
  return NULL;
}

typedef enum { V_STRING, V_NUMBER, V_BOOL, V_NULL } vtype;

static const char *parse_value(char **p, locale_t c_locale, vtype *type,
                               const char **str, double *num) {
  if (**p == '"') {
    *type = V_STRING;
    return parse_string(p, str);
  }
  if (**p == '{' || **p == '[')
    return "nested objects and arrays are not part of a run log";
  static const struct {
    const char *word;
    vtype type;
  } words[] = {{"true", V_BOOL}, {"false", V_BOOL}, {"null", V_NULL}};
  for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
    size_t n = strlen(words[i].word);
    if (strncmp(*p, words[i].word, n) == 0) {
      *p += n;
      *type = words[i].type;
      return NULL;
    }
  }
  *type = V_NUMBER;
  return parse_number(p, c_locale, num);
}

static int whole(double v, double lo, double hi) {
  return v >= lo && v <= hi && v == (double)(int64_t)v;
}

const char *gv_parse_line(char *line, locale_t c_locale, gv_record *rec) {
  *rec = (gv_record){NULL, -1, NULL, 0, -1, NULL};
  char *p = line;
  const char *why;
  skip_ws(&p);
  if (*p != '{')
    return "expected '{'";
  p++;
  skip_ws(&p);
  if (*p == '}')
    p++;
  else
    for (;;) {
      const char *key, *str = NULL;
      double num = 0;
      vtype type;
      if (*p != '"')
        return "expected a key in quotes";
      if ((why = parse_string(&p, &key)) != NULL)
        return why;
      skip_ws(&p);
      if (*p != ':')
        return "expected ':' after a key";
      p++;
      skip_ws(&p);
      if ((why = parse_value(&p, c_locale, &type, &str, &num)) != NULL)
        return why;
      if (strcmp(key, "event") == 0) {
        if (type != V_STRING)
          return "\"event\" is not a string";
        rec->event = str;
      } else if (strcmp(key, "step") == 0) {
        if (type != V_NUMBER || !whole(num, 0, UINT32_MAX))
          return "\"step\" is not a step number";
        rec->step = (int64_t)num;
      } else if (strcmp(key, "key") == 0) {
        if (type != V_STRING)
          return "\"key\" is not a string";
        rec->key = str;
      } else if (strcmp(key, "dur") == 0) {
        if (type != V_NUMBER || !(num >= 0))
          return "\"dur\" is not a duration in seconds";
        rec->dur = num;
      } else if (strcmp(key, "worker") == 0) {
        if (type != V_NUMBER || !whole(num, -1, INT32_MAX))
          return "\"worker\" is not a worker number";
        rec->worker = (int)num;
      } else if (strcmp(key, "error") == 0) {
        if (type != V_STRING && type != V_NULL)
          return "\"error\" is not a string";
        rec->error = str;
      }
      skip_ws(&p);
      if (*p == ',') {
        p++;
        skip_ws(&p);
        continue;
      }
      if (*p == '}') {
        p++;
        break;
      }
      return "expected ',' or '}'";
    }
  skip_ws(&p);
  if (*p != '\0')
    return "text after the object";
  if (!rec->event)
    return "no \"event\"";
  if (rec->step < 0)
    return "no \"step\"";
  return NULL;
}

/* ---- the whole log ------------------------------------------------------ */

/* One line that named a known event, kept until every key is seen. */
typedef struct rec_kept {
  gv_status to; /* GV_NEVER for events that change nothing */
  int started;  /* 1 for "started" */
  int64_t step;
  char key[33]; /* "" when absent or not 32 characters */
  double dur;
  int worker;
  char *error; /* owned */
} rec_kept;

/* A step's key, for binary search. */
typedef struct key_ix {
  const char *key;
  size_t step;
} key_ix;

static int cmp_key(const void *a, const void *b) {
  const key_ix *x = a, *y = b;
  int c = strcmp(x->key, y->key);
  return c ? c : (x->step > y->step) - (x->step < y->step);
}

/* The first entry with `key`, or `n` when none. */
static size_t find_key(const key_ix *ix, size_t n, const char *key) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (strcmp(ix[mid].key, key) < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < n && strcmp(ix[lo].key, key) == 0 ? lo : n;
}

static void apply_rec(gv_step_run *run, const rec_kept *r) {
  if (r->started) {
    run->status = GV_STARTED;
    if (r->worker >= 0)
      run->worker = r->worker;
    return;
  }
  if (r->to == GV_NEVER)
    return;
  run->status = r->to;
  if (r->to == GV_SKIPPED)
    return;
  run->dur = r->dur;
  if (r->worker >= 0)
    run->worker = r->worker;
  if (r->to == GV_FAILED && r->error) {
    free(run->error);
    run->error = strdup(r->error);
  }
}

static int classify(const char *event, gv_status *to, int *started) {
  static const struct {
    const char *name;
    gv_status to;
  } known[] = {{"queued", GV_NEVER},    {"retried", GV_NEVER},
               {"started", GV_STARTED}, {"done", GV_DONE},
               {"cached", GV_CACHED},   {"failed", GV_FAILED},
               {"skipped", GV_SKIPPED}};
  for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
    if (strcmp(event, known[i].name) == 0) {
      *started = known[i].to == GV_STARTED;
      *to = *started ? GV_NEVER : known[i].to;
      return 1;
    }
  return 0;
}

int gv_runlog_read(const char *path, const sy_job *job, gv_runlog *log,
                   sy_error *err) {
  size_t n = sy_job_size(job);
  int rc = 0;
  FILE *f = NULL;
  char *line = NULL;
  size_t cap = 0, n_recs = 0, cap_recs = 0, matched = 0;
  rec_kept *recs = NULL;
  key_ix *ix = NULL;
  locale_t c_locale = (locale_t)0;

  memset(log, 0, sizeof *log);
  log->n = n;
  log->runs = calloc(n ? n : 1, sizeof *log->runs);
  ix = calloc(n ? n : 1, sizeof *ix);
  c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
  if (!log->runs || !ix || c_locale == (locale_t)0) {
    rc = sy_error_set(err, SY_ENOMEM, "out of memory");
    goto fail;
  }
  for (size_t s = 0; s < n; s++) {
    log->runs[s].worker = -1;
    ix[s].key = sy_job_step_key(job, s);
    ix[s].step = s;
  }
  qsort(ix, n, sizeof *ix, cmp_key);

  if (!(f = fopen(path, "r"))) {
    rc = sy_error_set(err, SY_EIO, "%s: cannot read the run log: %s", path,
                      strerror(errno));
    goto fail;
  }
  ssize_t len;
  for (size_t lineno = 1; (len = getline(&line, &cap, f)) >= 0; lineno++) {
    if (strlen(line) != (size_t)len) {
      rc = sy_error_set(err, SY_ESYNTAX, "%s:%zu: NUL byte in the run log",
                        path, lineno);
      goto fail;
    }
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
      line[--len] = '\0';
    char *p = line;
    while (*p == ' ' || *p == '\t')
      p++;
    if (*p == '\0')
      continue; /* blank lines, e.g. a final newline twice */
    gv_record r;
    const char *why = gv_parse_line(line, c_locale, &r);
    if (why) {
      rc = sy_error_set(err, SY_ESYNTAX, "%s:%zu: malformed run log line: %s",
                        path, lineno, why);
      goto fail;
    }
    gv_status to;
    int started;
    if (!classify(r.event, &to, &started))
      continue; /* an event this version does not know */
    if (n_recs == cap_recs) {
      size_t nc = cap_recs ? cap_recs * 2 : 64;
      rec_kept *g = realloc(recs, nc * sizeof *g);
      if (!g) {
        rc = sy_error_set(err, SY_ENOMEM, "out of memory");
        goto fail;
      }
      recs = g;
      cap_recs = nc;
    }
    rec_kept *k = &recs[n_recs];
    memset(k, 0, sizeof *k);
    k->to = to;
    k->started = started;
    k->step = r.step;
    k->dur = r.dur;
    k->worker = r.worker;
    if (r.key && strlen(r.key) == 32)
      memcpy(k->key, r.key, 33);
    if (r.error && !(k->error = strdup(r.error))) {
      rc = sy_error_set(err, SY_ENOMEM, "out of memory");
      goto fail;
    }
    n_recs++;
    if (k->key[0] && find_key(ix, n, k->key) < n)
      matched++;
  }
  if (ferror(f)) {
    rc = sy_error_set(err, SY_EIO, "%s: cannot read the run log: %s", path,
                      strerror(errno));
    goto fail;
  }

  log->by_index = matched == 0;
  for (size_t i = 0; i < n_recs; i++) {
    const rec_kept *r = &recs[i];
    if (log->by_index) {
      if (r->step >= 0 && (size_t)r->step < n) {
        apply_rec(&log->runs[r->step], r);
        log->records++;
      }
      continue;
    }
    /* Two steps may share a key (the same computation twice): both get
     * the line. */
    for (size_t j = r->key[0] ? find_key(ix, n, r->key) : n;
         j < n && strcmp(ix[j].key, r->key) == 0; j++) {
      apply_rec(&log->runs[ix[j].step], r);
      log->records++;
    }
  }

fail:
  for (size_t i = 0; i < n_recs; i++)
    free(recs[i].error);
  free(recs);
  free(line);
  if (f)
    fclose(f);
  if (c_locale != (locale_t)0)
    freelocale(c_locale);
  free(ix);
  if (rc)
    gv_runlog_free(log);
  return rc;
}

void gv_runlog_free(gv_runlog *log) {
  for (size_t s = 0; log->runs && s < log->n; s++)
    free(log->runs[s].error);
  free(log->runs);
  memset(log, 0, sizeof *log);
}
