/*
 * flow.c - reading flow files (libconfig) and checking them.
 *
 * Design notes:
 *
 * - Loading and validating are two steps. Loading needs no catalog: it
 *   checks the shape of the file (syntax, known keys, types, "id:N") and
 *   stops at the first problem, because after a shape error the rest of
 *   the tree means little. Validation needs the catalog and reports every
 *   problem it finds through a callback, so `switchyard check` can list
 *   them all at once; it returns the first.
 *
 * - Every message starts with "file:line: ". libconfig records, for each
 *   setting, the line and the file it came from (an @include'd file has
 *   its own name), so the loader copies both into the flow; validation
 *   then needs no libconfig at all. A thing with no line of its own (a
 *   key that is missing from the whole file) is reported at line 1.
 *   libconfig keeps file names in the config_t, which dies with the load,
 *   so the flow keeps its own copy of each distinct name (`files`).
 *
 * - @include is resolved relative to the flow file's folder (libconfig's
 *   include_dir), so a flow and its fragments move together.
 *
 * - Parameters become canonical text (ints decimal, floats "%.17g", bools
 *   true/false, lists comma-joined); the way each was written is kept in
 *   `type` so validation can refuse `epochs = "200"` for an int option
 *   even though the text would parse. List items may not contain a comma,
 *   since the option parser splits lists on commas.
 *
 * - "source" is a pseudo-node: the feed's features (one output). No actor
 *   may take that id, whether or not the flow has a `source` group, so an
 *   actor called "source" is reported as a duplicate id.
 *
 * - `order` is computed with Kahn's algorithm and a min-heap of node
 *   indices, so ties keep file order and the result is deterministic. It
 *   is set whenever the graph has no cycle (inputs that name nothing are
 *   ignored for it), and NULL when it has one.
 *
 * Thread-safety: a flow is built and validated by one thread; afterwards
 * it is read-only and may be read from any thread.
 */
#include "flow.h"
#include "query.h"

#include <errno.h>
#include <inttypes.h>
#include <libconfig.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "switchyard/actor.h"

#define HINT_ACTOR "try: switchyard providers help actor."
#define HINT_LIST "try: switchyard providers list"

/* ---- small helpers ------------------------------------------------------ */

/* ---- freeing ------------------------------------------------------------ */

/* Strings, inputs and params live in flow->mem. */
void sy__flow_free(sy_flow *flow) {
  if (!flow)
    return;
  free(flow->nodes);
  free(flow->order);
  for (size_t i = 0; i < flow->n_files; i++)
    free(flow->files[i]);
  free(flow->files);
  sy__arena_free(&flow->mem);
  free(flow);
}

sy_flow_node *sy__flow_find(const sy_flow *flow, const char *id) {
  if (!flow || !id)
    return NULL;
  for (size_t i = 0; i < flow->n_nodes; i++)
    if (strcmp(flow->nodes[i].id, id) == 0)
      return &flow->nodes[i];
  return NULL;
}

/* ---- the settings tree --------------------------------------------------- */

/* The loader reads a small tree of its own rather than libconfig's: a
 * 1e6-actor flow made libconfig allocate ~640 bytes per actor (a setting,
 * a name and a value string per key, list arrays grown 16 at a time),
 * more than the whole program it compiles to. Nodes here are 40 bytes,
 * children are one contiguous array, and string values are written
 * straight into the flow's arena, so the model shares them.
 *
 * Two parsers fill it. A fast one reads the subset of libconfig syntax
 * that flows are written in (see fast_parse) and gives up, without a
 * message, on anything else; libconfig then parses the file as before,
 * @include, escapes, hex, 64-bit ints and syntax errors included, and
 * its tree is copied into this one. The fast parser accepts only what
 * libconfig accepts, with the same types, values and line numbers: the
 * flow unit test parses every example with both and compares. */
typedef struct tnode {
  const char *name; /* NULL: the root, or an element of a list or array */
  const char *file; /* where it was written; NULL: the flow file */
  union {
    int64_t i; /* INT, INT64, BOOL */
    double f;
    const char *s;
    struct tnode *kids; /* GROUP, LIST, ARRAY: n of them */
  } v;
  uint32_t n;
  uint32_t line;
  int type; /* CONFIG_TYPE_* */
} tnode;

static int t_aggregate(const tnode *s) {
  return s->type == CONFIG_TYPE_GROUP || s->type == CONFIG_TYPE_LIST ||
         s->type == CONFIG_TYPE_ARRAY;
}
static int t_type(const tnode *s) {
  return s->type;
}
static const char *t_name(const tnode *s) {
  return s->name;
}
static unsigned t_line(const tnode *s) {
  return s->line;
}
static const char *t_file(const tnode *s) {
  return s->file;
}
static int t_length(const tnode *s) {
  return t_aggregate(s) ? (int)s->n : 0;
}
static const tnode *t_elem(const tnode *s, unsigned i) {
  return t_aggregate(s) && i < s->n ? &s->v.kids[i] : NULL;
}
static const tnode *t_member(const tnode *s, const char *name) {
  if (s->type != CONFIG_TYPE_GROUP)
    return NULL;
  for (uint32_t i = 0; i < s->n; i++)
    if (strcmp(s->v.kids[i].name, name) == 0)
      return &s->v.kids[i];
  return NULL;
}
static const char *t_string(const tnode *s) {
  return s->type == CONFIG_TYPE_STRING ? s->v.s : NULL;
}
static int64_t t_int64(const tnode *s) {
  return s->type == CONFIG_TYPE_INT || s->type == CONFIG_TYPE_INT64 ? s->v.i
                                                                    : 0;
}
static double t_float(const tnode *s) {
  return s->type == CONFIG_TYPE_FLOAT ? s->v.f : 0;
}
static int t_bool(const tnode *s) {
  return s->type == CONFIG_TYPE_BOOL ? (int)s->v.i : 0;
}

/* Setting names the loader knows, shared rather than copied. */
static const char *const known_names[] = {
    "name",   "source", "actors", "sink",  "description", "id",       "actor",
    "inputs", "params", "feed",   "table", "label",       "instance", "input"};

static const char *name_copy(sy__arena *tree, const char *s, size_t n) {
  for (size_t k = 0; k < sizeof known_names / sizeof *known_names; k++)
    if (known_names[k][0] == s[0] && strncmp(known_names[k], s, n) == 0 &&
        known_names[k][n] == '\0')
      return known_names[k];
  return sy__arena_strndup(tree, s, n);
}

/* Copies libconfig's tree: nodes and names into `tree`, strings into
 * `strs`; file names stay libconfig's (valid until config_destroy). */
static int from_libconfig(sy__arena *tree, sy__arena *strs,
                          const config_setting_t *s, tnode *out) {
  const char *name = config_setting_name(s);
  memset(out, 0, sizeof *out);
  out->name = name ? name_copy(tree, name, strlen(name)) : NULL;
  out->file = config_setting_source_file(s);
  out->line = config_setting_source_line(s);
  out->type = config_setting_type(s);
  if (name && !out->name)
    return SY_ENOMEM;
  switch (out->type) {
  case CONFIG_TYPE_INT:
  case CONFIG_TYPE_INT64:
    out->v.i = config_setting_get_int64(s);
    return 0;
  case CONFIG_TYPE_FLOAT:
    out->v.f = config_setting_get_float(s);
    return 0;
  case CONFIG_TYPE_BOOL:
    out->v.i = config_setting_get_bool(s);
    return 0;
  case CONFIG_TYPE_STRING: {
    const char *v = config_setting_get_string(s);
    out->v.s = sy__arena_strdup(strs, v ? v : "");
    return out->v.s ? 0 : SY_ENOMEM;
  }
  case CONFIG_TYPE_GROUP:
  case CONFIG_TYPE_LIST:
  case CONFIG_TYPE_ARRAY: {
    int n = config_setting_length(s);
    out->n = n > 0 ? (uint32_t)n : 0;
    out->v.kids = sy__arena_alloc(tree, (out->n ? out->n : 1) * sizeof(tnode));
    if (!out->v.kids)
      return SY_ENOMEM;
    for (uint32_t i = 0; i < out->n; i++) {
      int rc = from_libconfig(tree, strs, config_setting_get_elem(s, i),
                              &out->v.kids[i]);
      if (rc)
        return rc;
    }
    return 0;
  }
  default:
    return 0;
  }
}

/* ---- the fast parser ---------------------------------------------------- */

/* The subset (anything else gives up, FAST_NO, and libconfig decides):
 *   setting  NAME ('=' | ':') VALUE [';' | ',']   NAME [A-Za-z][-A-Za-z0-9_]*
 *            with NAME, '=' and the start of VALUE on one line; a setting
 *            without ';' or ',' must be the last of its group
 *   VALUE    "string" (no backslash, no newline, not followed by another
 *            string), an int of 1-9 decimal digits with an optional sign
 *            and no leading zero, a float [-+]?D+.D+, true, false,
 *            [ scalars of one type ], ( values ), { settings }
 *   a scalar element of a list or array has its ',' or closing bracket
 *            on its own line (libconfig dates such an element by the
 *            token after it)
 *   blanks   space, tab, newline, # and // comments, comments
 * Lines: a setting's is its name's line, an element's its first token's,
 * as libconfig records them in those cases. No names repeat in a group,
 * nesting is at most 32 deep. */
#define FAST_NO 1
/* The fast parser takes a flow read whole, up to this size; libconfig
 * reads a larger one as a stream. */
#define FLOW_FILE_MAX ((size_t)UINT32_MAX)
#define FAST_DEPTH 32

/* Where the parse tree of the top-level actors list lives, so that the
 * loader can give its memory back as it goes (see discard_behind): the
 * list's contents are allocated in an arena of their own, in actor order,
 * and each block of it records the last actor with anything in it. */
typedef struct actors_mem {
  sy__arena arena;
  sy__arena_blk **blk; /* the arena's blocks, in the order first seen */
  uint32_t *last;      /* per block: the last actor index in it */
  uint8_t *gone;       /* per block: discarded already */
  size_t n, cap;
  const tnode *list; /* the actors list, once parsed */
} actors_mem;

typedef struct fparse {
  const char *p, *end;
  uint32_t line;
  sy__arena *tree, *strs;
  tnode *stk; /* children of the aggregates being read */
  size_t n_stk, cap_stk;
  tnode *kept;             /* a stack given to a long list as its children */
  char *disc;              /* own text: discarded up to here; NULL: not ours */
  actors_mem *am;          /* NULL: no discarding */
  const tnode *actors_val; /* the top-level actors value being read */
  size_t kept_cap;         /* kept's length in nodes */
} fparse;

/* Gives back the pages strictly inside [lo, hi) (a private mapping: they
 * read as zeros if touched again, and nothing touches them again). */
static void discard_pages(void *lo, void *hi) {
#if defined(__linux__) && defined(MADV_DONTNEED)
  uintptr_t page = 4096;
  uintptr_t a = ((uintptr_t)lo + page - 1) & ~(page - 1);
  uintptr_t b = (uintptr_t)hi & ~(page - 1);
  if (b > a)
    (void)madvise((void *)a, b - a, MADV_DONTNEED);
#else
  (void)lo;
  (void)hi;
#endif
}

/* After actor k of the actors list was parsed: every block of its arena
 * that got something since is marked as holding actor k, and the text
 * behind the parser is given back (the strings are copied out of it). */
static int actors_parsed(fparse *f, uint32_t k) {
  actors_mem *am = f->am;
  for (sy__arena_blk *b = am->arena.top; b; b = b->prev) {
    size_t j = am->n;
    while (j > 0 && am->blk[j - 1] != b)
      j--;
    if (j > 0 && b != am->arena.top)
      break; /* known and not the top: nothing older gets more */
    if (j > 0) {
      am->last[j - 1] = k;
      continue;
    }
    if (am->n == am->cap) {
      size_t cap = am->cap ? am->cap * 2 : 32;
      sy__arena_blk **nb = realloc(am->blk, cap * sizeof *nb);
      if (nb)
        am->blk = nb;
      uint32_t *nl = nb ? realloc(am->last, cap * sizeof *nl) : NULL;
      if (nl)
        am->last = nl;
      uint8_t *ng = nl ? realloc(am->gone, cap) : NULL;
      if (!ng)
        return SY_ENOMEM;
      am->gone = ng;
      am->cap = cap;
    }
    am->blk[am->n] = b;
    am->last[am->n] = k;
    am->gone[am->n++] = 0;
  }
  if (f->disc && f->p - f->disc >= ((ptrdiff_t)1 << 20)) {
    char *hi = (char *)f->p;
    discard_pages(f->disc, hi);
    f->disc = hi - ((uintptr_t)hi & 4095);
  }
  return 0;
}

static int f_blank(fparse *f) {
  while (f->p < f->end) {
    char c = *f->p;
    if (c == ' ' || c == '\t') {
      f->p++;
    } else if (c == '\n') {
      f->line++;
      f->p++;
    } else if (c == '#' || (c == '/' && f->p + 1 < f->end && f->p[1] == '/')) {
      while (f->p < f->end && *f->p != '\n')
        f->p++;
    } else if (c == '/' && f->p + 1 < f->end && f->p[1] == '*') {
      f->p += 2;
      for (;;) {
        if (f->p + 1 >= f->end)
          return FAST_NO; /* unterminated */
        if (f->p[0] == '*' && f->p[1] == '/')
          break;
        if (*f->p == '\n')
          f->line++;
        f->p++;
      }
      f->p += 2;
    } else {
      return 0;
    }
  }
  return 0;
}

static int f_push(fparse *f, const tnode *n) {
  if (f->n_stk == f->cap_stk) {
    size_t cap = f->cap_stk ? f->cap_stk * 2 : 64;
    tnode *s = realloc(f->stk, cap * sizeof *s);
    if (!s)
      return SY_ENOMEM;
    f->stk = s;
    f->cap_stk = cap;
  }
  f->stk[f->n_stk++] = *n;
  return 0;
}

/* A list this long keeps its children where they were pushed. */
#define FAST_KEEP 4096

/* Moves the children pushed since `base` into the arena, under v. */
static int f_close(fparse *f, size_t base, tnode *v) {
  size_t n = f->n_stk - base;
  if (n >= UINT32_MAX)
    return FAST_NO;
  v->n = (uint32_t)n;
  if (n >= FAST_KEEP && !f->kept) {
    /* The actors list of a large flow: rather than copying its children
     * (40 MB at 1e6 actors, into as many fresh pages), hand it the stack
     * they are on and go on with a new one holding what lies below
     * them. Once per parse: a flow has one such list. */
    tnode *fresh = sy__big_malloc(f->cap_stk * sizeof *fresh);
    if (!fresh)
      return SY_ENOMEM;
    memcpy(fresh, f->stk, base * sizeof *fresh);
    v->v.kids = f->stk + base;
    f->kept = f->stk;
    f->kept_cap = f->cap_stk;
    f->stk = fresh;
    f->n_stk = base;
    return 0;
  }
  v->v.kids = sy__arena_alloc(f->tree, (n ? n : 1) * sizeof(tnode));
  if (!v->v.kids)
    return SY_ENOMEM;
  memcpy(v->v.kids, f->stk + base, n * sizeof(tnode));
  f->n_stk = base;
  return 0;
}

static int is_digit(char c) {
  return c >= '0' && c <= '9';
}
static int is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int f_value(fparse *f, tnode *v, int depth);

static int f_scalar_type(int t) {
  return t == CONFIG_TYPE_INT || t == CONFIG_TYPE_FLOAT ||
         t == CONFIG_TYPE_STRING || t == CONFIG_TYPE_BOOL;
}

/* The settings of a group up to `close` ('}', or 0: the end of text). */
static int f_settings(fparse *f, tnode *g, char close, int depth) {
  size_t base = f->n_stk;
  int rc;
  g->type = CONFIG_TYPE_GROUP;
  for (;;) {
    if ((rc = f_blank(f)) != 0)
      return rc;
    if (f->p == f->end) {
      if (close)
        return FAST_NO;
      break;
    }
    if (close && *f->p == close) {
      f->p++;
      break;
    }
    const char *name = f->p;
    if (!is_alpha(*f->p))
      return FAST_NO;
    while (f->p < f->end &&
           (is_alpha(*f->p) || is_digit(*f->p) || *f->p == '-' || *f->p == '_'))
      f->p++;
    size_t len = (size_t)(f->p - name);
    uint32_t line = f->line;
    for (size_t k = base; k < f->n_stk; k++)
      if (strncmp(f->stk[k].name, name, len) == 0 &&
          f->stk[k].name[len] == '\0')
        return FAST_NO; /* libconfig refuses a duplicate */
    if (f->n_stk - base > 256)
      return FAST_NO;
    if ((rc = f_blank(f)) != 0)
      return rc;
    if (f->p == f->end || (*f->p != '=' && *f->p != ':') || f->line != line)
      return FAST_NO;
    f->p++;
    if ((rc = f_blank(f)) != 0)
      return rc;
    if (f->line != line)
      return FAST_NO;
    tnode s = {0};
    /* The top-level actors list: its contents go to an arena of their
     * own (see actors_mem). */
    int actors = depth == 0 && f->am && !f->actors_val && len == 6 &&
                 strncmp(name, "actors", 6) == 0;
    sy__arena *tree = f->tree;
    /* The name is copied first: the text of a long actors list is given
     * back behind the parser (actors_parsed). */
    if (!(s.name = name_copy(tree, name, len)))
      return SY_ENOMEM;
    if (actors) {
      f->actors_val = &s;
      f->tree = &f->am->arena;
    }
    rc = f_value(f, &s, depth + 1);
    f->tree = tree;
    if (rc != 0)
      return rc;
    s.line = line;
    if ((rc = f_push(f, &s)) != 0)
      return rc;
    if ((rc = f_blank(f)) != 0)
      return rc;
    if (f->p < f->end && (*f->p == ';' || *f->p == ','))
      f->p++;
    else if (!(f->p == f->end ? !close : *f->p == close))
      return FAST_NO;
  }
  return f_close(f, base, g);
}

/* The elements of a list or array up to `close`. */
static int f_elements(fparse *f, tnode *l, char close, int depth) {
  size_t base = f->n_stk;
  int rc, array = close == ']';
  l->type = array ? CONFIG_TYPE_ARRAY : CONFIG_TYPE_LIST;
  if ((rc = f_blank(f)) != 0)
    return rc;
  if (f->p < f->end && *f->p == close) {
    f->p++;
    return f_close(f, base, l);
  }
  for (;;) {
    if ((rc = f_blank(f)) != 0)
      return rc;
    if (f->p == f->end)
      return FAST_NO;
    uint32_t line = f->line;
    tnode e = {0};
    if ((rc = f_value(f, &e, depth + 1)) != 0)
      return rc;
    e.line = line;
    int scalar = f_scalar_type(e.type);
    if (array && (!scalar || (f->n_stk > base && f->stk[base].type != e.type)))
      return FAST_NO;
    if ((rc = f_push(f, &e)) != 0)
      return rc;
    if (l == f->actors_val &&
        (rc = actors_parsed(f, (uint32_t)(f->n_stk - base - 1))) != 0)
      return rc;
    if ((rc = f_blank(f)) != 0)
      return rc;
    if (f->p == f->end || (scalar && f->line != line))
      return FAST_NO;
    if (*f->p == close) {
      f->p++;
      break;
    }
    if (*f->p != ',')
      return FAST_NO;
    f->p++;
    if ((rc = f_blank(f)) != 0)
      return rc;
    if (f->p < f->end && *f->p == close)
      return FAST_NO; /* a trailing comma */
  }
  return f_close(f, base, l);
}

static int f_value(fparse *f, tnode *v, int depth) {
  if (depth > FAST_DEPTH || f->p == f->end)
    return FAST_NO;
  char c = *f->p;
  if (c == '"') {
    const char *s = ++f->p;
    while (f->p < f->end && *f->p != '"') {
      if (*f->p == '\\' || *f->p == '\n' || *f->p == '\0')
        return FAST_NO;
      f->p++;
    }
    if (f->p == f->end)
      return FAST_NO;
    v->type = CONFIG_TYPE_STRING;
    if (!(v->v.s = sy__arena_strndup(f->strs, s, (size_t)(f->p - s))))
      return SY_ENOMEM;
    f->p++;
    /* "a" "b" is one string to libconfig. */
    const char *at = f->p;
    uint32_t line = f->line;
    int rc = f_blank(f);
    if (rc)
      return rc;
    if (f->p < f->end && *f->p == '"')
      return FAST_NO;
    f->p = at;
    f->line = line;
    return 0;
  }
  if (c == '{') {
    f->p++;
    return f_settings(f, v, '}', depth);
  }
  if (c == '(' || c == '[') {
    f->p++;
    return f_elements(f, v, c == '(' ? ')' : ']', depth);
  }
  const char *t = f->p;
  while (f->p < f->end && (is_alpha(*f->p) || is_digit(*f->p) || *f->p == '.' ||
                           *f->p == '+' || *f->p == '-' || *f->p == '_'))
    f->p++;
  size_t n = (size_t)(f->p - t);
  char buf[40];
  if (n == 0 || n >= sizeof buf)
    return FAST_NO;
  memcpy(buf, t, n);
  buf[n] = '\0';
  if (strcmp(buf, "true") == 0 || strcmp(buf, "false") == 0) {
    v->type = CONFIG_TYPE_BOOL;
    v->v.i = buf[0] == 't';
    return 0;
  }
  size_t i = buf[0] == '-' || buf[0] == '+';
  size_t d0 = i;
  while (is_digit(buf[i]))
    i++;
  size_t int_digits = i - d0;
  if (int_digits == 0 || (buf[d0] == '0' && int_digits > 1))
    return FAST_NO;
  if (buf[i] == '\0') {
    if (int_digits > 9)
      return FAST_NO;
    v->type = CONFIG_TYPE_INT;
    v->v.i = strtol(buf, NULL, 10);
    return 0;
  }
  if (buf[i] != '.' || !is_digit(buf[i + 1]))
    return FAST_NO;
  for (i++; is_digit(buf[i]); i++)
    ;
  if (buf[i] != '\0')
    return FAST_NO;
  v->type = CONFIG_TYPE_FLOAT;
  v->v.f = strtod(buf, NULL);
  return 0;
}

/* Parses text into *root: 0, FAST_NO (outside the subset) or SY_ENOMEM.
 * *kept receives memory the tree uses besides `tree` (NULL or a block
 * to free with it). */
static int fast_parse(const char *text, size_t len, char *own, sy__arena *tree,
                      sy__arena *strs, actors_mem *am, tnode *root,
                      tnode **kept, size_t *kept_cap) {
  fparse f = {.p = text,
              .end = text + len,
              .line = 1,
              .tree = tree,
              .strs = strs,
              .disc = own,
              .am = am};
  memset(root, 0, sizeof *root);
  /* A node takes a few bytes of text at least: sized so that a long
   * actors list does not grow the stack by copies (the pages are only
   * touched as they are used). */
  f.cap_stk = len / 24 + 64;
  if (!(f.stk = sy__big_malloc(f.cap_stk * sizeof *f.stk)))
    return SY_ENOMEM;
  int rc = memchr(text, '\r', len) ? FAST_NO : f_settings(&f, root, 0, 0);
  free(f.stk);
  *kept = f.kept;
  *kept_cap = f.kept_cap;
  return rc;
}

/* ---- loading: positions and errors -------------------------------------- */

typedef struct loader {
  sy_flow *flow;
  sy_error *err;
  actors_mem *am;    /* the fast parser's actors list memory, or NULL */
  const tnode *kept; /* the stack a long list got as its children */
  size_t kept_n;     /* its length in nodes */
} loader;

/* The loader has read actors [0, done): the memory of their parse tree
 * goes back (a large flow's tree is as large as its model, and having
 * both was the peak of compile + run; issue 16). Only for a tree of the
 * fast parser, whose actors list lives in blocks of its own. */
static void discard_behind(loader *L, const tnode *list, size_t done) {
  actors_mem *am = L->am;
  for (size_t j = 0; j < am->n; j++)
    if (!am->gone[j] && am->last[j] < done) {
      sy__arena_blk *b = am->blk[j];
      discard_pages(b->data, b->data + b->cap);
      am->gone[j] = 1;
    }
  if (L->kept && list->v.kids >= L->kept &&
      list->v.kids + list->n <= L->kept + L->kept_n)
    discard_pages((void *)list->v.kids, (void *)(list->v.kids + done));
}

/* The flow's own copy of a file name (NULL: the flow file itself). */
static const char *intern(sy_flow *flow, const char *file) {
  if (!file || file == flow->file || strcmp(file, flow->file) == 0)
    return flow->file;
  for (size_t i = 0; i < flow->n_files; i++)
    if (strcmp(flow->files[i], file) == 0)
      return flow->files[i];
  char **files = realloc(flow->files, (flow->n_files + 1) * sizeof *files);
  if (!files)
    return NULL;
  flow->files = files;
  char *copy = strdup(file);
  if (!copy)
    return NULL;
  files[flow->n_files++] = copy;
  return copy;
}

static const char *file_of(const loader *L, const tnode *s) {
  const char *f = s ? t_file(s) : NULL;
  return f ? f : L->flow->file;
}

static int line_of(const tnode *s) {
  int line = s ? (int)t_line(s) : 0;
  return line > 0 ? line : 1;
}

/* Sets "file:line: message" for setting s (NULL: line 1 of the flow). */
static int SY_PRINTF(4, 5)
    fail(loader *L, const tnode *s, int code, const char *fmt, ...) {
  char msg[SY_ERROR_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return sy_error_set(L->err, code, "%s:%d: %s", file_of(L, s), line_of(s),
                      msg);
}

static int oom(loader *L) {
  return sy_error_set(L->err, SY_ENOMEM, "%s: out of memory", L->flow->file);
}

/* Zeroed bytes in the flow's arena. */
static void *arena_zalloc(loader *L, size_t n) {
  void *p = sy__arena_alloc(&L->flow->mem, n);
  if (p)
    memset(p, 0, n);
  return p;
}

/* Records where s was written into *file and *line. */
static int place(loader *L, const tnode *s, const char **file, int *line) {
  *file = intern(L->flow, file_of(L, s));
  *line = line_of(s);
  return *file ? 0 : oom(L);
}

/* The index of an interned file name (see sy_flow_input.file_ix). */
static uint32_t file_index(const sy_flow *flow, const char *file) {
  for (size_t k = 0; file && file != flow->file && k < flow->n_files; k++)
    if (flow->files[k] == file)
      return (uint32_t)k + 1;
  return 0;
}

static int place_input(loader *L, const tnode *s, sy_flow_input *in) {
  const char *file;
  int rc = place(L, s, &file, &in->line);
  if (rc == 0)
    in->file_ix = file_index(L->flow, file);
  return rc;
}

/* "an int", "a group": what the user wrote, for "expected X, got Y". */
static const char *type_phrase(const tnode *s) {
  switch (t_type(s)) {
  case CONFIG_TYPE_INT:
  case CONFIG_TYPE_INT64:
    return "an int";
  case CONFIG_TYPE_FLOAT:
    return "a float";
  case CONFIG_TYPE_STRING:
    return "a string";
  case CONFIG_TYPE_BOOL:
    return "a bool";
  case CONFIG_TYPE_ARRAY:
    return "an array";
  case CONFIG_TYPE_LIST:
    return "a list";
  case CONFIG_TYPE_GROUP:
    return "a group";
  default:
    return "nothing";
  }
}

/* Copies a string setting; `what` names it in the error. */
static int get_string(loader *L, const tnode *s, const char *what, char **out) {
  if (t_type(s) != CONFIG_TYPE_STRING)
    return fail(L, s, SY_ETYPE, "%s: expected a string, got %s", what,
                type_phrase(s));
  /* Tree strings are in the flow's arena already. */
  *out = (char *)t_string(s);
  return 0;
}

/* Refuses a key of group s that is not in `keys`, suggesting the nearest.
 * `what` is the group's path ("actors[1]"), NULL at the top level. */
static int check_keys(loader *L, const tnode *s, const char *what,
                      const char *const *keys, size_t n) {
  int count = t_length(s);
  for (int i = 0; i < count; i++) {
    const tnode *c = t_elem(s, (unsigned)i);
    const char *name = t_name(c);
    bool known = false;
    for (size_t k = 0; k < n && !known; k++)
      known = strcmp(keys[k], name) == 0;
    if (known)
      continue;
    char allowed[256] = "";
    size_t used = 0;
    for (size_t k = 0; k < n && used < sizeof allowed; k++) {
      int w = snprintf(allowed + used, sizeof allowed - used, "%s%s",
                       k ? ", " : "", keys[k]);
      if (w < 0)
        break;
      used += (size_t)w;
    }
    const char *near = sy__suggest(name, keys, n);
    char where[96] = "";
    if (what)
      snprintf(where, sizeof where, "%s: ", what);
    if (near)
      return fail(L, c, SY_ECONFIG,
                  "%sunknown key '%s' (did you mean '%s'?); allowed: %s", where,
                  name, near, allowed);
    return fail(L, c, SY_ECONFIG, "%sunknown key '%s'; allowed: %s", where,
                name, allowed);
  }
  return 0;
}

/* ---- loading: ids and inputs -------------------------------------------- */

static bool valid_id(const char *id) {
  if (!*id)
    return false;
  for (const char *p = id; *p; p++) {
    char c = *p;
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'))
      return false;
  }
  return true;
}

/* Splits "id" or "id:N" into in->node and in->output. */
static int parse_input(loader *L, const tnode *s, const char *what,
                       const char *text, sy_flow_input *in) {
  const char *colon = strrchr(text, ':');
  size_t idlen = colon ? (size_t)(colon - text) : strlen(text);
  uint64_t output = 0;
  bool ok = idlen > 0;
  if (colon) {
    const char *d = colon + 1;
    ok = ok && *d && strlen(d) <= 10;
    for (; ok && *d; d++) {
      ok = *d >= '0' && *d <= '9';
      output = output * 10 + (uint64_t)(*d - '0');
    }
    ok = ok && output < UINT32_MAX;
  }
  if (!ok)
    return fail(L, s, SY_ECONFIG,
                "%s: '%s' is not an input (expected ID or ID:N, N an output "
                "index)",
                what, text);
  /* text is in the flow's arena (a tree string, or an id): without an
   * output index it is the id itself, and is not copied again. */
  char *node =
      colon ? sy__arena_strndup(&L->flow->mem, text, idlen) : (char *)text;
  if (!node)
    return oom(L);
  int rc = place_input(L, s, in);
  if (rc != 0)
    return rc;
  in->node = node;
  in->output = (uint32_t)output;
  return 0;
}

static int load_inputs(loader *L, sy_flow_node *node, const tnode *s,
                       const char *what) {
  char path[128];
  int type = t_type(s);
  if (type == CONFIG_TYPE_STRING) {
    node->inputs = arena_zalloc(L, sizeof *node->inputs);
    if (!node->inputs)
      return oom(L);
    int rc = parse_input(L, s, what, t_string(s), &node->inputs[0]);
    if (rc == 0)
      node->n_inputs = 1;
    return rc;
  }
  if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST)
    return fail(L, s, SY_ETYPE,
                "%s: expected a string or a list of strings, got %s", what,
                type_phrase(s));
  int n = t_length(s);
  node->inputs =
      arena_zalloc(L, (n > 0 ? (size_t)n : 1) * sizeof *node->inputs);
  if (!node->inputs)
    return oom(L);
  for (int i = 0; i < n; i++) {
    const tnode *e = t_elem(s, (unsigned)i);
    snprintf(path, sizeof path, "%s[%d]", what, i);
    /* Elements of a list carry no line of their own in every libconfig
     * version; fall back to the list's. */
    const tnode *at = t_line(e) ? e : s;
    if (t_type(e) != CONFIG_TYPE_STRING)
      return fail(L, at, SY_ETYPE, "%s: expected a string, got %s", path,
                  type_phrase(e));
    int rc = parse_input(L, at, path, t_string(e), &node->inputs[i]);
    if (rc != 0)
      return rc;
    node->n_inputs++;
  }
  return 0;
}

/* The default input: the previous actor, or the source for the first. */
static int default_input(loader *L, sy_flow_node *node, const char *prev,
                         int index) {
  node->inputs = arena_zalloc(L, sizeof *node->inputs);
  if (!node->inputs)
    return oom(L);
  /* prev is the previous node's id, in the same arena: shared, and the
   * node's index is a hint for validation (hinted_target). */
  node->inputs[0].node =
      prev ? (char *)prev : sy__arena_strdup(&L->flow->mem, "source");
  node->inputs[0].target = prev ? index - 1 : -1;
  if (!node->inputs[0].node)
    return oom(L);
  node->inputs[0].line = node->line;
  node->inputs[0].file_ix = file_index(L->flow, node->file);
  node->n_inputs = 1;
  return 0;
}

/* ---- loading: parameters ------------------------------------------------ */

/* Canonical text of one scalar into buf (strings are returned as is). */
static const char *scalar_text(const tnode *s, char *buf, size_t cap) {
  switch (t_type(s)) {
  case CONFIG_TYPE_INT:
  case CONFIG_TYPE_INT64:
    snprintf(buf, cap, "%" PRId64, (int64_t)t_int64(s));
    return buf;
  case CONFIG_TYPE_FLOAT:
    snprintf(buf, cap, "%.17g", t_float(s));
    return buf;
  case CONFIG_TYPE_BOOL:
    return t_bool(s) ? "true" : "false";
  case CONFIG_TYPE_STRING:
    return t_string(s);
  default:
    return NULL;
  }
}

static sy_flow_ptype ptype_of(const tnode *s) {
  switch (t_type(s)) {
  case CONFIG_TYPE_INT:
  case CONFIG_TYPE_INT64:
    return SY_FLOW_PINT;
  case CONFIG_TYPE_FLOAT:
    return SY_FLOW_PFLOAT;
  case CONFIG_TYPE_BOOL:
    return SY_FLOW_PBOOL;
  case CONFIG_TYPE_STRING:
    return SY_FLOW_PSTRING;
  default:
    return SY_FLOW_PLIST;
  }
}

static int load_ref(loader *L, sy_flow_param *p, const tnode *s,
                    const char *what);

static int load_param(loader *L, sy_flow_param *p, const tnode *s,
                      const char *what) {
  char buf[64];
  int type = t_type(s);
  int rc = place(L, s, &p->file, &p->line);
  if (rc != 0)
    return rc;
  p->key = sy__arena_strdup(&L->flow->mem, t_name(s));
  if (!p->key)
    return oom(L);
  p->type = ptype_of(s);
  if (type == CONFIG_TYPE_GROUP)
    return load_ref(L, p, s, what);
  if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST) {
    const char *text = scalar_text(s, buf, sizeof buf);
    p->text = type == CONFIG_TYPE_STRING
                  ? (char *)text
                  : sy__arena_strdup(&L->flow->mem, text);
    return p->text ? 0 : oom(L);
  }
  sy_buf b = SY_BUF_INIT;
  sy_buf_puts(&b, "");
  int n = t_length(s);
  for (int i = 0; i < n && rc == 0; i++) {
    const tnode *e = t_elem(s, (unsigned)i);
    const char *text = scalar_text(e, buf, sizeof buf);
    if (!text)
      rc = fail(L, s, SY_ETYPE, "%s[%d]: expected a value, got %s", what, i,
                type_phrase(e));
    else if (strchr(text, ','))
      rc = fail(L, s, SY_ECONFIG, "%s[%d]: '%s': list items cannot contain ','",
                what, i, text);
    else {
      if (i)
        sy_buf_puts(&b, ",");
      sy_buf_puts(&b, text);
    }
  }
  if (rc == 0 && b.failed)
    rc = oom(L);
  if (rc == 0 && !(p->text = sy__arena_strdup(&L->flow->mem, b.data)))
    rc = oom(L);
  sy_buf_free(&b);
  return rc;
}

static int load_params(loader *L, sy_flow_node *node, const tnode *s,
                       const char *what) {
  char path[192];
  if (t_type(s) != CONFIG_TYPE_GROUP)
    return fail(L, s, SY_ETYPE, "%s: expected a group { key = value; }, got %s",
                what, type_phrase(s));
  int n = t_length(s);
  node->params =
      arena_zalloc(L, (n > 0 ? (size_t)n : 1) * sizeof *node->params);
  if (!node->params)
    return oom(L);
  for (int i = 0; i < n; i++) {
    const tnode *e = t_elem(s, (unsigned)i);
    snprintf(path, sizeof path, "%s.%s", what, t_name(e));
    /* Counted before it is filled, so a half-made param is freed too. */
    node->n_params++;
    int rc = load_param(L, &node->params[i], e, path);
    if (rc != 0)
      return rc;
  }
  return 0;
}

/* ---- loading: flow parameters and sweeps (flow_params.c binds them) ---- */

/* The declared names, for a did-you-mean (caller frees the array). */
static const char *near_decl(const sy_flow *flow, const char *name) {
  const char **names = calloc(flow->n_decls + 1, sizeof *names);
  const char *near = NULL;
  if (names) {
    for (size_t i = 0; i < flow->n_decls; i++)
      names[i] = flow->decls[i].name;
    near = sy__suggest(name, names, flow->n_decls);
  }
  free(names);
  return near;
}

/* `key = { param = "NAME"; }`: the value of flow parameter NAME (bound
 * to its default here, to -p / --params by sy__flow_bind_params). */
static int load_ref(loader *L, sy_flow_param *p, const tnode *s,
                    const char *what) {
  const tnode *name = t_member(s, "param");
  if (t_length(s) != 1 || !name || t_type(name) != CONFIG_TYPE_STRING)
    return fail(L, s, SY_ETYPE,
                "%s: expected a value, a list of values or { param = "
                "\"NAME\"; } (a flow parameter), got a group",
                what);
  const sy_flow_decl *d = sy__flow_decl(L->flow, t_string(name));
  if (!d) {
    const char *near = near_decl(L->flow, t_string(name));
    if (near)
      return fail(L, name, SY_ECONFIG,
                  "%s: unknown flow parameter '%s' (did you mean '%s'?)", what,
                  t_string(name), near);
    return fail(L, name, SY_ECONFIG,
                "%s: unknown flow parameter '%s'; declare it: params = { %s = "
                "{ type = \"float\"; default = ...; }; };",
                what, t_string(name), t_string(name));
  }
  p->ref = d->name;
  p->text = d->text;
  p->type = d->type;
  return 0;
}

static const char *const decl_keys[] = {"type", "default", "help",
                                        "description"};
static const char *const ptype_names[] = {"int", "float", "bool", "string"};

static int load_decl(loader *L, sy_flow_decl *d, const tnode *e) {
  char what[160], buf[64];
  int rc;
  snprintf(what, sizeof what, "params.%s", t_name(e));
  if ((rc = place(L, e, &d->file, &d->line)) != 0)
    return rc;
  d->name = (char *)name_copy(&L->flow->mem, t_name(e), strlen(t_name(e)));
  if (!d->name)
    return oom(L);
  if (t_type(e) != CONFIG_TYPE_GROUP)
    return fail(L, e, SY_ETYPE,
                "%s: expected a group { type = \"int|float|bool|string\"; "
                "default = ...; }, got %s",
                what, type_phrase(e));
  if ((rc = check_keys(L, e, what, decl_keys, 4)) != 0)
    return rc;
  const tnode *type = t_member(e, "type");
  const tnode *def = t_member(e, "default");
  const tnode *help = t_member(e, "help");
  if (!type)
    return fail(L, e, SY_ECONFIG,
                "%s: missing 'type' (\"int\", \"float\", \"bool\" or "
                "\"string\")",
                what);
  const char *tn = t_string(type);
  for (int k = 0; tn && k < 4 && !d->type; k++)
    if (strcmp(tn, ptype_names[k]) == 0)
      d->type = (sy_flow_ptype)(SY_FLOW_PINT + k);
  if (!d->type) {
    const char *near = tn ? sy__suggest(tn, ptype_names, 4) : NULL;
    return fail(L, type, SY_ETYPE,
                "%s.type: expected \"int\", \"float\", \"bool\" or "
                "\"string\"%s%s%s",
                what, near ? " (did you mean '" : "", near ? near : "",
                near ? "'?)" : "");
  }
  if (help && (rc = get_string(L, help, "help", &d->help)) != 0)
    return rc;
  const tnode *desc = t_member(e, "description");
  if (desc && t_type(desc) != CONFIG_TYPE_STRING)
    return fail(L, desc, SY_ETYPE, "%s.description: expected a string, got %s",
                what, type_phrase(desc));
  d->origin = "default";
  if (!def)
    return 0; /* required: -p or --params must give it */
  sy_flow_ptype got = ptype_of(def);
  int ok = got == d->type || (d->type == SY_FLOW_PFLOAT && got == SY_FLOW_PINT);
  if (!ok)
    return fail(L, def, SY_ETYPE, "%s.default: expected %s %s, got %s", what,
                d->type == SY_FLOW_PINT ? "an" : "a",
                ptype_names[d->type - SY_FLOW_PINT], type_phrase(def));
  const char *text = scalar_text(def, buf, sizeof buf);
  if (d->type == SY_FLOW_PFLOAT && got == SY_FLOW_PINT) {
    snprintf(buf, sizeof buf, "%.17g", (double)t_int64(def));
    text = buf;
  }
  d->text = sy__arena_strdup(&L->flow->mem, text);
  return d->text ? 0 : oom(L);
}

static int load_decls(loader *L, const tnode *s) {
  if (t_type(s) != CONFIG_TYPE_GROUP)
    return fail(L, s, SY_ETYPE,
                "params: expected a group { NAME = { type = \"float\"; "
                "default = 0.1; }; }, got %s",
                type_phrase(s));
  int n = t_length(s);
  L->flow->decls =
      arena_zalloc(L, (n > 0 ? (size_t)n : 1) * sizeof *L->flow->decls);
  if (!L->flow->decls)
    return oom(L);
  for (int i = 0; i < n; i++) {
    L->flow->n_decls++;
    int rc = load_decl(L, &L->flow->decls[i], t_elem(s, (unsigned)i));
    if (rc != 0)
      return rc;
  }
  return 0;
}

static int load_sweeps(loader *L, sy_flow_node *node, const tnode *s) {
  char what[160], buf[64];
  snprintf(what, sizeof what, "%s.sweep", node->id);
  if (t_type(s) != CONFIG_TYPE_GROUP)
    return fail(L, s, SY_ETYPE,
                "%s: expected a group { PARAM = [VALUE, ...]; }, got %s", what,
                type_phrase(s));
  int n = t_length(s);
  node->sweeps =
      arena_zalloc(L, (n > 0 ? (size_t)n : 1) * sizeof *node->sweeps);
  if (!node->sweeps)
    return oom(L);
  for (int i = 0; i < n; i++) {
    const tnode *e = t_elem(s, (unsigned)i);
    sy_flow_sweep *w = &node->sweeps[i];
    int rc = place(L, e, &w->file, &w->line);
    if (rc != 0)
      return rc;
    w->key = (char *)name_copy(&L->flow->mem, t_name(e), strlen(t_name(e)));
    int m = t_length(e);
    if (t_type(e) != CONFIG_TYPE_ARRAY && t_type(e) != CONFIG_TYPE_LIST)
      return fail(L, e, SY_ETYPE, "%s.%s: expected a list [VALUE, ...], got %s",
                  what, t_name(e), type_phrase(e));
    if (m < 1)
      return fail(L, e, SY_ECONFIG, "%s.%s: expected at least one value", what,
                  t_name(e));
    w->values = arena_zalloc(L, (size_t)m * sizeof *w->values);
    w->types = arena_zalloc(L, (size_t)m * sizeof *w->types);
    if (!w->key || !w->values || !w->types)
      return oom(L);
    for (int k = 0; k < m; k++) {
      const tnode *v = t_elem(e, (unsigned)k);
      const char *text = scalar_text(v, buf, sizeof buf);
      if (!text)
        return fail(L, e, SY_ETYPE, "%s.%s[%d]: expected a value, got %s", what,
                    t_name(e), k, type_phrase(v));
      for (int j = 0; j < k; j++)
        if (strcmp(w->values[j], text) == 0)
          return fail(L, e, SY_ECONFIG, "%s.%s: value %s is listed twice", what,
                      t_name(e), text);
      if (!(w->values[k] = sy__arena_strdup(&L->flow->mem, text)))
        return oom(L);
      w->types[k] = ptype_of(v);
      w->n_values++;
    }
    for (int j = 0; j < i; j++)
      if (strcmp(node->sweeps[j].key, w->key) == 0)
        return fail(L, e, SY_ECONFIG, "%s.%s: swept twice", what, w->key);
    node->n_sweeps++;
  }
  return 0;
}

/* ---- loading: the tree -------------------------------------------------- */

static const char *const top_keys[] = {
    "name", "source", "actors", "sink", "defaults", "params", "description"};
static const char *const node_keys[] = {"id",      "actor",       "inputs",
                                        "params",  "description", "resources",
                                        "retries", "timeout",     "sweep"};
static const char *const source_keys[] = {"feed",        "table",   "label",
                                          "description", "columns", "where",
                                          "order",       "limit"};
static const char *const where_keys[] = {"column", "op", "value"};
static const char *const sink_keys[] = {"instance", "input", "description"};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* "head" + "tail" into buf, without snprintf: load_node builds four of
 * these per actor, and formatting them cost ~1 s per 1e6 actors. */
static const char *join(char *buf, size_t cap, const char *head,
                        const char *tail) {
  size_t h = strlen(head), t = strlen(tail);
  if (h + t >= cap)
    h = t = 0;
  memcpy(buf, head, h);
  memcpy(buf + h, tail, t);
  buf[h + t] = '\0';
  return buf;
}

/* ---- loading: resources, retries, timeout ------------------------------- */

static const char *const res_keys[] = {"cpus", "memory", "gpus"};
static const char *const defaults_keys[] = {"resources", "retries", "timeout"};

/* A positive count (cpus, gpus) up to 65536. */
static int load_count(loader *L, const tnode *s, const char *what,
                      const char *unit, uint32_t *out) {
  int type = t_type(s);
  int64_t v = t_int64(s);
  if ((type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64) || v < 1 ||
      v > 65536)
    return fail(L, s, SY_ECONFIG,
                "%s: expected a positive integer (%s, e.g. %s = 2;), got %s",
                what, unit, t_name(s),
                type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64
                    ? "a number out of range 1..65536"
                    : type_phrase(s));
  *out = (uint32_t)v;
  return 0;
}

/* A memory size: sy__parse_size's spellings ("4G", "512MiB", "1024"
 * bytes; units are powers of 1024), zero refused. */
int sy__flow_parse_memory(const char *text, uint64_t *out) {
  uint64_t v = 0;
  if (sy__parse_size(text, &v) != 0 || v == 0)
    return -1;
  *out = v;
  return 0;
}

/* A timeout: sy__parse_duration's spellings ("90s", "10m", "1h30m",
 * "2d", "45" seconds) in whole seconds, at least one. */
int sy__flow_parse_timeout(const char *text, uint64_t *out) {
  int64_t ns = 0;
  if (sy__parse_duration(text, &ns) != 0 || ns <= 0 || ns % 1000000000 != 0)
    return -1;
  *out = (uint64_t)(ns / 1000000000);
  return 0;
}

static int load_memory(loader *L, const tnode *s, const char *what,
                       uint64_t *out) {
  int type = t_type(s);
  if (type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64) {
    if (t_int64(s) > 0) {
      *out = (uint64_t)t_int64(s);
      return 0;
    }
  } else if (type == CONFIG_TYPE_STRING &&
             sy__flow_parse_memory(t_string(s), out) == 0) {
    return 0;
  }
  return fail(L, s, SY_ECONFIG,
              "%s: expected a size such as \"512M\" or \"4G\" (K, M, G, T: "
              "powers of 1024; a plain number: bytes), got %s%s%s",
              what, type == CONFIG_TYPE_STRING ? "'" : type_phrase(s),
              type == CONFIG_TYPE_STRING ? t_string(s) : "",
              type == CONFIG_TYPE_STRING ? "'" : "");
}

static int load_res_group(loader *L, const tnode *s, const char *what,
                          sy_flow_res *res) {
  char path[160];
  int rc;
  if (t_type(s) != CONFIG_TYPE_GROUP)
    return fail(L, s, SY_ETYPE,
                "%s: expected a group { cpus = 2; memory = \"4G\"; gpus = 1; "
                "}, got %s",
                what, type_phrase(s));
  if ((rc = check_keys(L, s, what, res_keys, COUNT(res_keys))) != 0)
    return rc;
  const tnode *cpus = t_member(s, "cpus");
  const tnode *gpus = t_member(s, "gpus");
  const tnode *mem = t_member(s, "memory");
  if (cpus) {
    join(path, sizeof path, what, ".cpus");
    if ((rc = load_count(L, cpus, path, "CPU cores", &res->cpus)) != 0)
      return rc;
  }
  if (gpus) {
    join(path, sizeof path, what, ".gpus");
    if ((rc = load_count(L, gpus, path, "GPUs", &res->gpus)) != 0)
      return rc;
  }
  if (mem) {
    join(path, sizeof path, what, ".memory");
    if ((rc = load_memory(L, mem, path, &res->memory)) != 0)
      return rc;
  }
  return 0;
}

/* resources, retries and timeout of group s (a node or `defaults`) over
 * what *res holds already (the defaults, for a node). */
static int load_res(loader *L, const tnode *s, const char *what,
                    sy_flow_res *res) {
  char path[160];
  int rc;
  const tnode *r = t_member(s, "resources");
  const tnode *retries = t_member(s, "retries");
  const tnode *timeout = t_member(s, "timeout");
  if (r) {
    join(path, sizeof path, what, ".resources");
    if ((rc = load_res_group(L, r, path, res)) != 0)
      return rc;
  }
  if (retries) {
    int type = t_type(retries);
    int64_t v = t_int64(retries);
    join(path, sizeof path, what, ".retries");
    if ((type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64) || v < 0 ||
        v > 1000)
      return fail(L, retries, SY_ECONFIG,
                  "%s: expected a number of extra attempts 0..1000 (e.g. "
                  "retries = 3;), got %s",
                  path,
                  type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64
                      ? "a number out of range"
                      : type_phrase(retries));
    res->retries = (int32_t)v;
  }
  if (timeout) {
    int type = t_type(timeout);
    join(path, sizeof path, what, ".timeout");
    if ((type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64) &&
        t_int64(timeout) > 0 && t_int64(timeout) <= ((int64_t)1 << 40))
      res->timeout = (uint64_t)t_int64(timeout);
    else if (type != CONFIG_TYPE_STRING ||
             sy__flow_parse_timeout(t_string(timeout), &res->timeout) != 0)
      return fail(L, timeout, SY_ECONFIG,
                  "%s: expected a duration such as \"90s\", \"10m\", "
                  "\"1h30m\" or \"2d\" (units s, m, h, d; whole seconds; a "
                  "plain number: "
                  "seconds), got %s%s%s",
                  path, type == CONFIG_TYPE_STRING ? "'" : type_phrase(timeout),
                  type == CONFIG_TYPE_STRING ? t_string(timeout) : "",
                  type == CONFIG_TYPE_STRING ? "'" : "");
  }
  return 0;
}

static int load_defaults(loader *L, const tnode *s) {
  int rc;
  if (t_type(s) != CONFIG_TYPE_GROUP)
    return fail(L, s, SY_ETYPE,
                "defaults: expected a group { resources = { ... }; retries = "
                "...; timeout = ...; }, got %s",
                type_phrase(s));
  if ((rc = check_keys(L, s, "defaults", defaults_keys,
                       COUNT(defaults_keys))) != 0)
    return rc;
  return load_res(L, s, "defaults", &L->flow->defaults);
}

static int load_node(loader *L, sy_flow_node *node, const tnode *s, int index,
                     const char *prev) {
  char what[64], path[96], digits[16];
  int rc;
  /* "actors[INDEX]" */
  size_t nd = 0;
  unsigned u = index < 0 ? 0 : (unsigned)index;
  do {
    digits[nd++] = (char)('0' + u % 10);
    u /= 10;
  } while (u && nd < sizeof digits);
  memcpy(what, "actors[", 7);
  for (size_t k = 0; k < nd; k++)
    what[7 + k] = digits[nd - 1 - k];
  what[7 + nd] = ']';
  what[8 + nd] = '\0';
  if (t_type(s) != CONFIG_TYPE_GROUP)
    return fail(L, s, SY_ETYPE,
                "%s: expected a group { id = \"...\"; actor = \"...\"; }, got "
                "%s",
                what, type_phrase(s));
  if ((rc = place(L, s, &node->file, &node->line)) != 0 ||
      (rc = check_keys(L, s, what, node_keys, COUNT(node_keys))) != 0)
    return rc;
  const tnode *id = t_member(s, "id");
  const tnode *actor = t_member(s, "actor");
  const tnode *inputs = t_member(s, "inputs");
  const tnode *params = t_member(s, "params");
  const tnode *desc = t_member(s, "description");
  if (!id)
    return fail(L, s, SY_ECONFIG, "%s: missing 'id' (a name for this node)",
                what);
  join(path, sizeof path, what, ".id");
  if ((rc = get_string(L, id, path, &node->id)) != 0)
    return rc;
  if (!valid_id(node->id))
    return fail(L, id, SY_ECONFIG,
                "%s: '%s' is not a valid id (letters, digits, '_', '-', '.')",
                path, node->id);
  if (!actor)
    return fail(L, s, SY_ECONFIG,
                "%s: missing 'actor' (the provider, e.g. \"std.scaler\")",
                what);
  join(path, sizeof path, what, ".actor");
  if ((rc = get_string(L, actor, path, &node->actor)) != 0)
    return rc;
  if (desc && t_type(desc) != CONFIG_TYPE_STRING) {
    snprintf(path, sizeof path, "%s.description", what);
    return fail(L, desc, SY_ETYPE, "%s: expected a string, got %s", path,
                type_phrase(desc));
  }
  join(path, sizeof path, what, ".inputs");
  rc = inputs ? load_inputs(L, node, inputs, path)
              : default_input(L, node, prev, index);
  if (rc == 0 && params) {
    snprintf(path, sizeof path, "%s.params", node->id);
    rc = load_params(L, node, params, path);
  }
  node->res = &L->flow->defaults;
  if (rc == 0 && (t_member(s, "resources") || t_member(s, "retries") ||
                  t_member(s, "timeout"))) {
    sy_flow_res *own = arena_zalloc(L, sizeof *own);
    if (!own)
      return oom(L);
    *own = L->flow->defaults;
    node->res = own;
    rc = load_res(L, s, node->id, own);
  }
  const tnode *sweep = t_member(s, "sweep");
  if (rc == 0 && sweep)
    rc = load_sweeps(L, node, sweep);
  return rc;
}

static int load_actors(loader *L, const tnode *s) {
  int type = t_type(s);
  if (type != CONFIG_TYPE_LIST && type != CONFIG_TYPE_ARRAY)
    return fail(L, s, SY_ETYPE,
                "actors: expected a list ( { id = ...; actor = ...; }, ... ), "
                "got %s",
                type_phrase(s));
  int n = t_length(s);
  if (n == 0)
    return fail(L, s, SY_ECONFIG, "actors: expected at least one actor");
  L->flow->nodes = sy__big_calloc((size_t)n, sizeof *L->flow->nodes);
  if (!L->flow->nodes)
    return oom(L);
  for (int i = 0; i < n; i++) {
    const char *prev = i ? L->flow->nodes[i - 1].id : NULL;
    L->flow->n_nodes++;
    int rc = load_node(L, &L->flow->nodes[i], t_elem(s, (unsigned)i), i, prev);
    if (rc != 0)
      return rc;
    if (L->am && (i & 1023) == 1023)
      discard_behind(L, s, (size_t)i);
  }
  return 0;
}

/* ---- the source's pushdown (ABI 1.4) ------------------------------------ */

/* One condition { column = "..."; op = "..."; value = ...; }. */
static int load_cond(loader *L, const tnode *s, const char *what,
                     sy_feed_cond *c, int *line) {
  int rc;
  if (t_type(s) != CONFIG_TYPE_GROUP)
    return fail(L, s, SY_ETYPE,
                "%s: expected a group { column = \"...\"; op = \"=\"; value = "
                "...; }, got %s",
                what, type_phrase(s));
  if ((rc = check_keys(L, s, what, where_keys, COUNT(where_keys))) != 0)
    return rc;
  *line = line_of(s);
  const tnode *col = t_member(s, "column");
  const tnode *op = t_member(s, "op");
  const tnode *val = t_member(s, "value");
  if (!col || !op || !val)
    return fail(L, s, SY_ECONFIG,
                "%s: missing '%s' (a condition names a "
                "column, an op and a value)",
                what,
                !col  ? "column"
                : !op ? "op"
                      : "value");
  char *text = NULL;
  char path[96];
  snprintf(path, sizeof path, "%s.column", what);
  if ((rc = get_string(L, col, path, &text)) != 0)
    return rc;
  if (!*text)
    return fail(L, col, SY_ECONFIG, "%s: must not be empty", path);
  c->column = text;
  snprintf(path, sizeof path, "%s.op", what);
  if ((rc = get_string(L, op, path, &text)) != 0)
    return rc;
  if (sy__cmp_parse(text, &c->op) != 0)
    return fail(L, op, SY_ECONFIG,
                "%s: unknown op '%s'; use one of =, !=, <, <=, >, >=", path,
                text);
  switch (t_type(val)) {
  case CONFIG_TYPE_INT:
  case CONFIG_TYPE_INT64:
    c->type = SY_COL_I64;
    c->i64 = t_int64(val);
    return 0;
  case CONFIG_TYPE_FLOAT:
    c->type = SY_COL_F64;
    c->f64 = t_float(val);
    if (isnan(c->f64))
      return fail(L, val, SY_ECONFIG, "%s.value: NaN matches nothing", what);
    return 0;
  case CONFIG_TYPE_STRING:
    c->type = SY_COL_STR;
    c->str = t_string(val);
    return 0;
  default:
    return fail(L, val, SY_ETYPE,
                "%s.value: expected a number or a string, got %s", what,
                type_phrase(val));
  }
}

/* A list of column names (a string alone is a list of one). */
static int load_names(loader *L, const tnode *s, const char *what,
                      const char ***out, size_t *n) {
  int type = t_type(s);
  if (type == CONFIG_TYPE_STRING) {
    *out = arena_zalloc(L, sizeof **out);
    if (!*out)
      return oom(L);
    (*out)[0] = t_string(s);
    *n = 1;
    return 0;
  }
  if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST)
    return fail(L, s, SY_ETYPE, "%s: expected a list of strings, got %s", what,
                type_phrase(s));
  int len = t_length(s);
  if (len == 0)
    return fail(L, s, SY_ECONFIG, "%s: expected at least one column", what);
  *out = arena_zalloc(L, (size_t)len * sizeof **out);
  if (!*out)
    return oom(L);
  for (int i = 0; i < len; i++) {
    const tnode *e = t_elem(s, (unsigned)i);
    if (t_type(e) != CONFIG_TYPE_STRING || !*t_string(e))
      return fail(L, e, SY_ETYPE, "%s[%d]: expected a column name, got %s",
                  what, i, type_phrase(e));
    (*out)[i] = t_string(e);
  }
  *n = (size_t)len;
  return 0;
}

static int load_pushdown(loader *L, const tnode *s) {
  sy_flow *flow = L->flow;
  sy_feed_query *q = &flow->source.query;
  const tnode *columns = t_member(s, "columns");
  const tnode *where = t_member(s, "where");
  const tnode *order = t_member(s, "order");
  const tnode *limit = t_member(s, "limit");
  int rc;
  q->size = sizeof *q;
  q->limit = -1;
  if (!columns && !where && !order && !limit)
    return 0;
  flow->source.has_query = 1;
  if (columns) {
    flow->source.columns_line = line_of(columns);
    if ((rc = load_names(L, columns, "source.columns",
                         (const char ***)&q->columns, &q->n_columns)) != 0)
      return rc;
    for (size_t i = 0; i < q->n_columns; i++)
      for (size_t j = 0; j < i; j++)
        if (strcmp(q->columns[i], q->columns[j]) == 0)
          return fail(L, columns, SY_ECONFIG,
                      "source.columns: '%s' is listed twice", q->columns[i]);
    const char *label = flow->source.label;
    int has_label = !label;
    for (size_t i = 0; !has_label && i < q->n_columns; i++)
      has_label = strcmp(q->columns[i], label) == 0;
    if (!has_label)
      return fail(L, columns, SY_ECONFIG,
                  "source.columns: add the label '%s' to the columns (the "
                  "source splits it from the features)",
                  label);
  }
  if (where) {
    int type = t_type(where);
    int many = type == CONFIG_TYPE_LIST || type == CONFIG_TYPE_ARRAY;
    size_t n = many ? (size_t)t_length(where) : 1;
    if (many && n == 0)
      return fail(L, where, SY_ECONFIG,
                  "source.where: expected at least one condition");
    sy_feed_cond *conds = arena_zalloc(L, n * sizeof *conds);
    flow->source.where_lines = arena_zalloc(L, n * sizeof(int));
    if (!conds || !flow->source.where_lines)
      return oom(L);
    for (size_t i = 0; i < n; i++) {
      char what[48];
      if (many)
        snprintf(what, sizeof what, "source.where[%zu]", i);
      else
        snprintf(what, sizeof what, "source.where");
      const tnode *e = many ? t_elem(where, (unsigned)i) : where;
      if ((rc = load_cond(L, e, what, &conds[i],
                          &flow->source.where_lines[i])) != 0)
        return rc;
    }
    q->where = conds;
    q->n_where = n;
  }
  if (order) {
    const char **names = NULL;
    size_t n = 0;
    flow->source.order_line = line_of(order);
    if ((rc = load_names(L, order, "source.order", &names, &n)) != 0)
      return rc;
    sy_feed_order *o = arena_zalloc(L, n * sizeof *o);
    if (!o)
      return oom(L);
    for (size_t i = 0; i < n; i++) {
      /* "column", "column asc" or "column desc". */
      const char *sp = strrchr(names[i], ' ');
      size_t len = strlen(names[i]);
      if (sp &&
          (strcasecmp(sp + 1, "desc") == 0 || strcasecmp(sp + 1, "asc") == 0)) {
        o[i].desc = strcasecmp(sp + 1, "desc") == 0;
        len = (size_t)(sp - names[i]);
        while (len && names[i][len - 1] == ' ')
          len--;
      }
      if (!len)
        return fail(L, order, SY_ECONFIG,
                    "source.order: '%s' names no column (write \"column\", "
                    "\"column asc\" or \"column desc\")",
                    names[i]);
      o[i].column = sy__arena_strndup(&flow->mem, names[i], len);
      if (!o[i].column)
        return oom(L);
    }
    q->order = o;
    q->n_order = n;
  }
  if (limit) {
    flow->source.limit_line = line_of(limit);
    int type = t_type(limit);
    if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64)
      return fail(L, limit, SY_ETYPE, "source.limit: expected an int, got %s",
                  type_phrase(limit));
    if (t_int64(limit) < 0)
      return fail(L, limit, SY_ECONFIG,
                  "source.limit: %" PRId64 " is negative; give a row count "
                  ">= 0",
                  t_int64(limit));
    q->limit = t_int64(limit);
  }
  return 0;
}

static int load_source(loader *L, const tnode *s) {
  sy_flow *flow = L->flow;
  int rc;
  if (t_type(s) != CONFIG_TYPE_GROUP)
    return fail(L, s, SY_ETYPE,
                "source: expected a group { feed = ...; table = ...; }, got "
                "%s",
                type_phrase(s));
  if ((rc = place(L, s, &flow->source.file, &flow->source.line)) != 0 ||
      (rc = check_keys(L, s, "source", source_keys, COUNT(source_keys))) != 0)
    return rc;
  const tnode *feed = t_member(s, "feed");
  const tnode *table = t_member(s, "table");
  const tnode *label = t_member(s, "label");
  const tnode *desc = t_member(s, "description");
  if (feed && (rc = get_string(L, feed, "source.feed", &flow->source.feed)))
    return rc;
  if (!table)
    return fail(L, s, SY_ECONFIG,
                "source: missing 'table' (the table the feed reads)");
  if ((rc = get_string(L, table, "source.table", &flow->source.table)) != 0)
    return rc;
  if (label && (rc = get_string(L, label, "source.label", &flow->source.label)))
    return rc;
  if (desc && t_type(desc) != CONFIG_TYPE_STRING)
    return fail(L, desc, SY_ETYPE,
                "source.description: expected a string, "
                "got %s",
                type_phrase(desc));
  return load_pushdown(L, s);
}

static int load_sink(loader *L, const tnode *s) {
  sy_flow *flow = L->flow;
  const tnode *input = NULL;
  int rc;
  flow->sink.line = line_of(s);
  if (t_type(s) == CONFIG_TYPE_STRING) {
    if ((rc = get_string(L, s, "sink", &flow->sink.instance)) != 0)
      return rc;
  } else if (t_type(s) == CONFIG_TYPE_GROUP) {
    if ((rc = check_keys(L, s, "sink", sink_keys, COUNT(sink_keys))) != 0)
      return rc;
    const tnode *inst = t_member(s, "instance");
    const tnode *desc = t_member(s, "description");
    input = t_member(s, "input");
    if (!inst)
      return fail(L, s, SY_ECONFIG,
                  "sink: missing 'instance' (the [SINK.name] to write to)");
    if ((rc = get_string(L, inst, "sink.instance", &flow->sink.instance)))
      return rc;
    if (input && t_type(input) != CONFIG_TYPE_STRING)
      return fail(L, input, SY_ETYPE, "sink.input: expected a string, got %s",
                  type_phrase(input));
    if (desc && t_type(desc) != CONFIG_TYPE_STRING)
      return fail(L, desc, SY_ETYPE,
                  "sink.description: expected a string, got %s",
                  type_phrase(desc));
  } else {
    return fail(L, s, SY_ETYPE,
                "sink: expected a string (the instance) or a group { instance "
                "= ...; input = ...; }, got %s",
                type_phrase(s));
  }
  if (input)
    return parse_input(L, input, "sink.input", t_string(input),
                       &flow->sink.input);
  /* The default: the last actor's first output, placed at the sink. */
  const char *last = flow->nodes[flow->n_nodes - 1].id;
  return parse_input(L, s, "sink", last, &flow->sink.input);
}

static int load_tree(loader *L, const tnode *root) {
  sy_flow *flow = L->flow;
  int rc;
  if ((rc = check_keys(L, root, NULL, top_keys, COUNT(top_keys))) != 0)
    return rc;
  const tnode *name = t_member(root, "name");
  const tnode *source = t_member(root, "source");
  const tnode *actors = t_member(root, "actors");
  const tnode *sink = t_member(root, "sink");
  const tnode *desc = t_member(root, "description");
  if (!name)
    return fail(L, NULL, SY_ECONFIG,
                "missing 'name' (e.g. name = \"my-flow\";)");
  if ((rc = get_string(L, name, "name", &flow->name)) != 0)
    return rc;
  flow->name_line = line_of(name);
  if (!*flow->name)
    return fail(L, name, SY_ECONFIG, "name: must not be empty");
  if (desc && t_type(desc) != CONFIG_TYPE_STRING)
    return fail(L, desc, SY_ETYPE, "description: expected a string, got %s",
                type_phrase(desc));
  if (source && (rc = load_source(L, source)) != 0)
    return rc;
  const tnode *defaults = t_member(root, "defaults");
  if (defaults && (rc = load_defaults(L, defaults)) != 0)
    return rc;
  const tnode *decls = t_member(root, "params");
  if (decls && (rc = load_decls(L, decls)) != 0)
    return rc;
  if (!actors)
    return fail(
        L, NULL, SY_ECONFIG,
        "missing 'actors' (a list ( { id = ...; actor = ...; }, ... ))");
  if ((rc = load_actors(L, actors)) != 0)
    return rc;
  if (sink && (rc = load_sink(L, sink)) != 0)
    return rc;
  return 0;
}

/* Loads the tree into a new flow named `file`, which takes over `strs`
 * (the tree's strings) as its arena. */
static int from_tree(const tnode *root, sy__arena *strs, const char *file,
                     actors_mem *am, const tnode *kept, size_t kept_n,
                     sy_flow **out, sy_error *err) {
  sy_flow *flow = calloc(1, sizeof *flow);
  if (!flow)
    return sy_error_set(err, SY_ENOMEM, "%s: out of memory", file);
  flow->mem = *strs;
  *strs = (sy__arena){0};
  if (!(flow->file = sy__arena_strdup(&flow->mem, file))) {
    sy__flow_free(flow);
    return sy_error_set(err, SY_ENOMEM, "%s: out of memory", file);
  }
  flow->defaults = SY_FLOW_RES_UNSET;
  loader L = {flow, err, am, kept, kept_n};
  int rc = load_tree(&L, root);
  if (rc != 0) {
    sy__flow_free(flow);
    return rc;
  }
  *out = flow;
  return 0;
}

static int syntax_error(const config_t *cfg, const char *file, sy_error *err) {
  const char *where = config_error_file(cfg) ? config_error_file(cfg) : file;
  const char *text = config_error_text(cfg) ? config_error_text(cfg) : "?";
  return sy_error_set(err, SY_ESYNTAX, "%s:%d: syntax error: %s", where,
                      config_error_line(cfg), text);
}

/* The fast parser on text; FAST_NO when libconfig must read it. own (may
 * be NULL) is the text's allocation, freed as soon as it is parsed. */
static int load_fast(const char *text, size_t len, char *own, const char *file,
                     sy_flow **out, sy_error *err) {
  sy__arena tree = {0}, strs = {0};
  tnode root, *kept = NULL;
  size_t kept_cap = 0;
  /* Blocks of 1 MiB: the loader gives the tree back a block at a time. */
  actors_mem am = {.arena = {.max = (size_t)1 << 20}};
  int rc = fast_parse(text, len, own, &tree, &strs, own ? &am : NULL, &root,
                      &kept, &kept_cap);
  /* Every string is copied out of the text: it goes before the model is
   * built, so that text, tree and model never all take memory at once
   * (the peak of a large flow's load; issue 16). */
  free(own);
  if (rc == SY_ENOMEM)
    rc = sy_error_set(err, SY_ENOMEM, "%s: out of memory", file);
  else if (rc == 0)
    rc = from_tree(&root, &strs, file, own ? &am : NULL, kept, kept_cap, out,
                   err);
  /* The nodes die here, before anything is compiled from the model. */
  sy__arena_free(&tree);
  sy__arena_free(&am.arena);
  free(am.blk);
  free(am.last);
  free(am.gone);
  sy__arena_free(&strs);
  free(kept);
  return rc;
}

/* libconfig's tree of cfg, copied, then loaded. */
static int load_config(const config_t *cfg, const char *file, sy_flow **out,
                       sy_error *err) {
  sy__arena tree = {0}, strs = {0};
  tnode root;
  int rc = from_libconfig(&tree, &strs, config_root_setting(cfg), &root);
  if (rc != 0)
    rc = sy_error_set(err, SY_ENOMEM, "%s: out of memory", file);
  else
    rc = from_tree(&root, &strs, file, NULL, NULL, 0, out, err);
  sy__arena_free(&tree);
  sy__arena_free(&strs);
  return rc;
}

int sy__flow_load(const char *path, sy_flow **out, sy_error *err) {
  config_t cfg;
  char *dir = NULL, *text = NULL;
  FILE *fp = NULL;
  int rc;
  if (!path || !out)
    return sy_error_set(err, SY_EINVAL, "sy__flow_load: no path");
  *out = NULL;
  bool inited = false; /* libconfig is loaded only when it reads */
  fp = fopen(path, "r");
  if (!fp) {
    int e = errno;
    rc = sy_error_set(err, e == ENOENT ? SY_ENOENT : SY_EIO,
                      "%s: cannot open flow: %s", path, strerror(e));
    goto done;
  }
  struct stat st;
  if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode)) {
    rc = sy_error_set(err, SY_EIO, "%s: not a regular file", path);
    goto done;
  }
  /* The fast parser first; a file it cannot read is read again from the
   * start by libconfig, which has the last word on syntax. */
  size_t len = 0;
  sy_error unread; /* not read whole: libconfig has its go */
  void *data = NULL;
  if (sy_file_read_fd(fileno(fp), path, FLOW_FILE_MAX, &data, &len, &unread) ==
      0) {
    text = data;
    rc = load_fast(text, len, text, path, out, err); /* frees text */
    if (rc != FAST_NO)
      goto done;
  }
  const char *why = sy__libconfig_load();
  if (why) {
    rc = sy_error_set(err, SY_EIO, "%s: cannot read the flow: %s", path, why);
    goto done;
  }
  config_init(&cfg);
  inited = true;
  rewind(fp); /* nothing is buffered in fp: it was read through its fd */
  /* @include "x" means x next to the flow file, wherever we run from. */
  const char *slash = strrchr(path, '/');
  if (slash) {
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    if (!(dir = malloc(n + 1))) {
      rc = sy_error_set(err, SY_ENOMEM, "%s: out of memory", path);
      goto done;
    }
    memcpy(dir, path, n);
    dir[n] = '\0';
    config_set_include_dir(&cfg, dir);
  }
  if (config_read(&cfg, fp) != CONFIG_TRUE) {
    rc = syntax_error(&cfg, path, err);
    goto done;
  }
  rc = load_config(&cfg, path, out, err);
done:
  if (fp)
    fclose(fp);
  if (inited)
    config_destroy(&cfg);
  free(dir);
  return rc;
}

int sy__flow_load_string(const char *text, const char *name, sy_flow **out,
                         sy_error *err) {
  config_t cfg;
  int rc;
  if (!text || !out)
    return sy_error_set(err, SY_EINVAL, "sy__flow_load_string: no text");
  if (!name)
    name = "(string)";
  *out = NULL;
  rc = load_fast(text, strlen(text), NULL, name, out, err);
  if (rc != FAST_NO)
    return rc;
  const char *why = sy__libconfig_load();
  if (why)
    return sy_error_set(err, SY_EIO, "%s: cannot read the flow: %s", name, why);
  config_init(&cfg);
  if (config_read_string(&cfg, text) != CONFIG_TRUE)
    rc = syntax_error(&cfg, name, err);
  else
    rc = load_config(&cfg, name, out, err);
  config_destroy(&cfg);
  return rc;
}

/* ---- validation: reporting ---------------------------------------------- */

typedef struct checker {
  sy_flow *flow;
  const sy_catalog *cat;
  sy__flow_report_fn report;
  void *ud;
  sy_error *err;
  int rc; /* the first problem's code */
  /* Node ids in an open-addressed hash table (node index + 1, 0 empty;
   * the first node with an id holds it), so that lookups cost O(1): a
   * sorted index cost ~20 string compares per lookup at 1e6 nodes. */
  uint32_t *idx;
  size_t mask;
  size_t n_dups; /* nodes whose id an earlier node has */
} checker;

/* FNV-1a: ids are short, and flow.c links without xxhash (fuzz_flow). */
static size_t id_hash(const char *id) {
  uint64_t h = 14695981039346656037u;
  for (const unsigned char *p = (const unsigned char *)id; *p; p++)
    h = (h ^ *p) * 1099511628211u;
  return (size_t)(h ^ (h >> 29));
}

static int build_index(checker *C) {
  size_t n = C->flow->n_nodes, cap = 16;
  while (cap < 2 * n)
    cap *= 2;
  C->idx = sy__big_calloc(cap, sizeof *C->idx);
  if (!C->idx)
    return sy_error_set(C->err, SY_ENOMEM, "%s: out of memory", C->flow->file);
  C->mask = cap - 1;
  for (size_t i = 0; i < n; i++) {
    const char *id = C->flow->nodes[i].id;
    size_t k = id_hash(id) & C->mask;
    while (C->idx[k] && strcmp(C->flow->nodes[C->idx[k] - 1].id, id) != 0)
      k = (k + 1) & C->mask;
    if (!C->idx[k])
      C->idx[k] = (uint32_t)i + 1;
    else
      C->n_dups++;
  }
  return 0;
}

/* The first node (in file order) with this id, or -1. */
static long find_id(const checker *C, const char *id) {
  for (size_t k = id_hash(id) & C->mask; C->idx[k]; k = (k + 1) & C->mask)
    if (strcmp(C->flow->nodes[C->idx[k] - 1].id, id) == 0)
      return (long)C->idx[k] - 1;
  return -1;
}

/* Reports "file:line: message[; try: switchyard providers help actor.A]".
 * `actor` names the actor the problem is about, or NULL. */
static void SY_PRINTF(6, 7)
    problem(checker *C, int code, const char *file, int line, const char *actor,
            const char *fmt, ...) {
  char msg[SY_ERROR_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  sy_error e;
  if (actor)
    sy_error_set(&e, code, "%s:%d: %s; " HINT_ACTOR "%s", file, line, msg,
                 actor);
  else
    sy_error_set(&e, code, "%s:%d: %s", file, line, msg);
  if (C->report)
    C->report(C->ud, &e);
  if (C->rc == 0) {
    C->rc = code;
    if (C->err)
      *C->err = e;
  }
}

/* The actor names in the catalog, for suggestions (caller frees). */
static const char **actor_names(const sy_catalog *cat, size_t *n) {
  /* Known names, loaded or not: a typo loads no plugin. */
  size_t count = sy_catalog_known_count(cat);
  const char **names = calloc(count ? count : 1, sizeof *names);
  *n = 0;
  for (size_t i = 0; names && i < count; i++) {
    sy_kind kind = 0;
    const char *name = sy_catalog_known_at(cat, i, &kind, NULL, NULL, NULL);
    if (name && kind == SY_KIND_ACTOR)
      names[(*n)++] = name;
  }
  return names;
}

static const sy_actor_ops *ops_of(const sy_flow_node *node) {
  return node && node->provider ? (const sy_actor_ops *)node->provider->ops
                                : NULL;
}

/* ---- validation: the checks --------------------------------------------- */

static void check_ids(checker *C) {
  sy_flow *flow = C->flow;
  for (size_t i = 0; i < flow->n_nodes; i++) {
    const sy_flow_node *n = &flow->nodes[i];
    if (strcmp(n->id, "source") == 0) {
      if (flow->source.file)
        problem(C, SY_EEXIST, n->file, n->line, NULL,
                "duplicate id 'source': it names the feed's features "
                "(source at %s:%d); pick another id",
                flow->source.file, flow->source.line);
      else
        problem(C, SY_EEXIST, n->file, n->line, NULL,
                "duplicate id 'source': it names the feed's features; pick "
                "another id");
      continue;
    }
    long first = C->n_dups ? find_id(C, n->id) : (long)i;
    if (first >= 0 && (size_t)first != i)
      problem(C, SY_EEXIST, n->file, n->line, NULL,
              "duplicate id '%s' (first defined at %s:%d)", n->id,
              flow->nodes[first].file, flow->nodes[first].line);
  }
}

static int resolve_actors(checker *C) {
  size_t n_names = 0;
  const char **names = NULL;
  for (size_t i = 0; i < C->flow->n_nodes; i++) {
    sy_flow_node *n = &C->flow->nodes[i];
    /* Long flows repeat one actor: the previous node's answer stands. */
    const sy_flow_node *prev = i ? &C->flow->nodes[i - 1] : NULL;
    if (prev && prev->provider && strcmp(prev->actor, n->actor) == 0) {
      n->provider = prev->provider;
      continue;
    }
    n->provider = sy_catalog_find(C->cat, SY_KIND_ACTOR, n->actor);
    if (n->provider && n->provider->ops)
      continue;
    n->provider = NULL;
    if (!names && !(names = actor_names(C->cat, &n_names)))
      return sy_error_set(C->err, SY_ENOMEM, "%s: out of memory",
                          C->flow->file);
    const char *near = sy__suggest(n->actor, names, n_names);
    if (near)
      problem(C, SY_ENOENT, n->file, n->line, NULL,
              "%s: unknown actor '%s' (did you mean '%s'?); " HINT_LIST
              " actor",
              n->id, n->actor, near);
    else
      problem(C, SY_ENOENT, n->file, n->line, NULL,
              "%s: unknown actor '%s'; " HINT_LIST " actor", n->id, n->actor);
  }
  free(names);
  return 0;
}

/* Index of the node an input names, -1 for the source, -2 for nothing. */
static long find_target(const checker *C, const sy_flow_input *in) {
  if (strcmp(in->node, "source") == 0)
    return -1;
  long i = find_id(C, in->node);
  return i >= 0 ? i : -2;
}

/* Looked up once per input (resolve_inputs), then read. */
static long target_of(const checker *C, const sy_flow_input *in) {
  (void)C;
  return in->target;
}

/* An input the loader defaulted to the previous node shares that node's
 * id string and names it in `target` already: with no duplicate ids that
 * node is the one find_id would find, without hashing its id again. */
static long hinted_target(const checker *C, const sy_flow_input *in) {
  const sy_flow *flow = C->flow;
  if (C->n_dups == 0 && in->target >= 0 && (size_t)in->target < flow->n_nodes &&
      flow->nodes[in->target].id == in->node && strcmp(in->node, "source") != 0)
    return in->target;
  return find_target(C, in);
}

static void resolve_inputs(checker *C) {
  sy_flow *flow = C->flow;
  for (size_t i = 0; i < flow->n_nodes; i++)
    for (size_t k = 0; k < flow->nodes[i].n_inputs; k++)
      flow->nodes[i].inputs[k].target =
          (int32_t)hinted_target(C, &flow->nodes[i].inputs[k]);
  if (flow->sink.input.node)
    flow->sink.input.target = (int32_t)find_target(C, &flow->sink.input);
  flow->resolved = 1;
}

/* Checks one input; `who` names its user (a node id, or "sink"). */
static int check_input(checker *C, const sy_flow_input *in, const char *who) {
  sy_flow *flow = C->flow;
  long t = target_of(C, in);
  if (t == -2) {
    const char **ids = calloc(flow->n_nodes + 1, sizeof *ids);
    if (!ids)
      return sy_error_set(C->err, SY_ENOMEM, "%s: out of memory", flow->file);
    ids[0] = "source";
    for (size_t i = 0; i < flow->n_nodes; i++)
      ids[i + 1] = flow->nodes[i].id;
    const char *near = sy__suggest(in->node, ids, flow->n_nodes + 1);
    if (near)
      problem(C, SY_ENOENT, sy__flow_input_file(flow, in), in->line, NULL,
              "%s: unknown input '%s' (did you mean '%s'?)", who, in->node,
              near);
    else
      problem(C, SY_ENOENT, sy__flow_input_file(flow, in), in->line, NULL,
              "%s: unknown input '%s': no actor has that id", who, in->node);
    free(ids);
    return 0;
  }
  if (t == -1) {
    if (in->output != 0)
      problem(C, SY_ERANGE, sy__flow_input_file(flow, in), in->line, NULL,
              "%s: input 'source:%" PRIu32 "': the source has one output "
              "(source:0)",
              who, in->output);
    return 0;
  }
  const sy_flow_node *src = &flow->nodes[t];
  const sy_actor_ops *ops = ops_of(src);
  if (ops && in->output >= ops->n_outputs)
    problem(C, SY_ERANGE, sy__flow_input_file(flow, in), in->line, src->actor,
            "%s: input '%s:%" PRIu32 "': actor %s (%s) has %" PRIu32
            " output%s (%s:0..%s:%" PRIu32 ")",
            who, in->node, in->output, src->id, src->actor, ops->n_outputs,
            ops->n_outputs == 1 ? "" : "s", src->id, src->id,
            ops->n_outputs ? ops->n_outputs - 1 : 0);
  return 0;
}

static void check_arity(checker *C, const sy_flow_node *n) {
  const sy_actor_ops *ops = ops_of(n);
  if (!ops)
    return;
  uint32_t lo = ops->min_inputs, hi = ops->max_inputs;
  if (n->n_inputs >= lo && (hi == SY_ARITY_MANY || n->n_inputs <= hi))
    return;
  char want[64];
  if (hi == SY_ARITY_MANY)
    snprintf(want, sizeof want, "at least %" PRIu32 " input%s", lo,
             lo == 1 ? "" : "s");
  else if (lo == hi)
    snprintf(want, sizeof want, "%" PRIu32 " input%s", lo, lo == 1 ? "" : "s");
  else
    snprintf(want, sizeof want, "%" PRIu32 " to %" PRIu32 " inputs", lo, hi);
  int line = n->n_inputs ? n->inputs[0].line : n->line;
  const char *file =
      n->n_inputs ? sy__flow_input_file(C->flow, &n->inputs[0]) : n->file;
  problem(C, SY_ECONFIG, file, line, n->actor,
          "%s: actor %s takes %s, got %" PRIu32, n->id, n->actor, want,
          n->n_inputs);
}

static const char *ptype_phrase(sy_flow_ptype t) {
  switch (t) {
  case SY_FLOW_PINT:
    return "an int";
  case SY_FLOW_PFLOAT:
    return "a float";
  case SY_FLOW_PBOOL:
    return "a bool";
  case SY_FLOW_PSTRING:
    return "a string";
  case SY_FLOW_PLIST:
    return "a list";
  }
  return "a value";
}

/* NULL when a value written as t suits the option, else what it wants. */
static const char *type_mismatch(const sy_option *o, sy_flow_ptype t) {
  switch (o->type) {
  case SY_OPT_INT:
    return t == SY_FLOW_PINT ? NULL : "an int";
  case SY_OPT_DOUBLE:
    return t == SY_FLOW_PINT || t == SY_FLOW_PFLOAT ? NULL
                                                    : "a number (int or float)";
  case SY_OPT_BOOL:
    return t == SY_FLOW_PBOOL ? NULL : "a bool (true or false)";
  case SY_OPT_STRING:
  case SY_OPT_PATH:
    return t == SY_FLOW_PSTRING ? NULL : "a string";
  case SY_OPT_ENUM:
    return t == SY_FLOW_PSTRING ? NULL : "a string (one of its choices)";
  case SY_OPT_SIZE:
    return t == SY_FLOW_PSTRING || t == SY_FLOW_PINT
               ? NULL
               : "a size (an int of bytes or a string like \"64MiB\")";
  case SY_OPT_DURATION:
    return t == SY_FLOW_PSTRING || t == SY_FLOW_PINT
               ? NULL
               : "a duration (an int of seconds or a string like \"250ms\")";
  case SY_OPT_LIST:
    return t == SY_FLOW_PLIST || t == SY_FLOW_PSTRING
               ? NULL
               : "a list or a comma-separated string";
  }
  return NULL;
}

/* Checks one parameter (or one swept value) of node n. */
static int check_param(checker *C, const sy_flow_node *n,
                       const sy_flow_param *prm) {
  const sy_option *opts = n->provider->options;
  do {
    if (prm->ref && !prm->text) {
      problem(C, SY_ECONFIG, prm->file, prm->line, NULL,
              "%s.params.%s: flow parameter '%s' has no value (no default): "
              "give it with -p %s=VALUE or --params FILE",
              n->id, prm->key, prm->ref, prm->ref);
      return 0;
    }
    const sy_option *o = sy__opt_find(opts, prm->key);
    if (!o) {
      size_t count = 0;
      while (opts && opts[count].name)
        count++;
      const char **names = calloc(count ? count : 1, sizeof *names);
      if (!names)
        return sy_error_set(C->err, SY_ENOMEM, "%s: out of memory",
                            C->flow->file);
      for (size_t k = 0; k < count; k++)
        names[k] = opts[k].name;
      const char *near = sy__suggest(prm->key, names, count);
      if (near)
        problem(C, SY_ECONFIG, prm->file, prm->line, n->actor,
                "%s.params.%s: unknown parameter of %s (did you mean '%s'?)",
                n->id, prm->key, n->actor, near);
      else
        problem(C, SY_ECONFIG, prm->file, prm->line, n->actor,
                "%s.params.%s: unknown parameter of %s", n->id, prm->key,
                n->actor);
      free(names);
      break;
    }
    const char *want = type_mismatch(o, prm->type);
    if (want) {
      if (prm->ref)
        problem(C, SY_ETYPE, prm->file, prm->line, n->actor,
                "%s.params.%s: expected %s, got %s (flow parameter '%s')",
                n->id, prm->key, want, ptype_phrase(prm->type), prm->ref);
      else
        problem(C, SY_ETYPE, prm->file, prm->line, n->actor,
                "%s.params.%s: expected %s, got %s", n->id, prm->key, want,
                ptype_phrase(prm->type));
      break;
    }
    sy_error e;
    sy_error_clear(&e);
    int rc = sy__opt_parse(o, prm->text, NULL, NULL, &e);
    if (rc == SY_ENOMEM)
      return sy_error_set(C->err, rc, "%s: out of memory", C->flow->file);
    if (rc != 0)
      problem(C, rc, prm->file, prm->line, n->actor, "%s.params.%s: %s", n->id,
              prm->key, e.message);
  } while (0);
  return 0;
}

static int check_params(checker *C, const sy_flow_node *n) {
  const sy_provider *p = n->provider;
  if (!p)
    return 0;
  const sy_option *opts = p->options;
  for (size_t i = 0; i < n->n_params; i++) {
    int rc = check_param(C, n, &n->params[i]);
    if (rc != 0)
      return rc;
  }
  for (size_t i = 0; i < n->n_sweeps; i++) {
    const sy_flow_sweep *w = &n->sweeps[i];
    for (size_t k = 0; k < w->n_values; k++) {
      sy_flow_param prm = {w->key,      w->values[k], w->line,
                           w->types[k], w->file,      NULL};
      int rc = check_param(C, n, &prm);
      if (rc != 0)
        return rc;
    }
  }
  for (const sy_option *o = opts; o && o->name; o++) {
    if (!(o->flags & SY_OPT_REQUIRED))
      continue;
    bool set = false;
    for (size_t i = 0; i < n->n_params && !set; i++)
      set = strcmp(n->params[i].key, o->name) == 0;
    if (!set)
      problem(C, SY_ECONFIG, n->file, n->line, n->actor,
              "%s: missing required parameter '%s' (%s: %s)", n->id, o->name,
              sy_opt_type_name(o->type), o->help);
  }
  return 0;
}

/* ---- validation: order and cycles --------------------------------------- */

/* A binary min-heap of node indices: the ready node written first wins. */
typedef struct heap {
  uint32_t *v;
  size_t n;
} heap;

static void heap_push(heap *h, uint32_t x) {
  size_t i = h->n++;
  while (i > 0 && h->v[(i - 1) / 2] > x) {
    h->v[i] = h->v[(i - 1) / 2];
    i = (i - 1) / 2;
  }
  h->v[i] = x;
}

static uint32_t heap_pop(heap *h) {
  uint32_t top = h->v[0], x = h->v[--h->n];
  size_t i = 0;
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= h->n)
      break;
    if (c + 1 < h->n && h->v[c + 1] < h->v[c])
      c++;
    if (h->v[c] >= x)
      break;
    h->v[i] = h->v[c];
    i = c;
  }
  if (h->n)
    h->v[i] = x;
  return top;
}

/* Names each cycle among the nodes Kahn's algorithm could not place.
 * Every such node has an unplaced input, so walking inputs backwards from
 * one must come back to a node of the walk. */
static int report_cycles(checker *C, const long *target, const size_t *first,
                         const size_t *indeg) {
  sy_flow *flow = C->flow;
  size_t n = flow->n_nodes;
  long *pos = malloc(n * sizeof *pos);
  bool *seen = calloc(n, sizeof *seen);
  size_t *path = malloc(n * sizeof *path);
  int rc = 0;
  if (!pos || !seen || !path) {
    rc = sy_error_set(C->err, SY_ENOMEM, "%s: out of memory", flow->file);
    goto done;
  }
  for (size_t i = 0; i < n; i++)
    pos[i] = -1;
  for (size_t s = 0; s < n; s++) {
    if (indeg[s] == 0 || seen[s])
      continue;
    size_t len = 0, cur = s;
    long hit = -1;
    for (;;) {
      seen[cur] = true;
      pos[cur] = (long)len;
      path[len++] = cur;
      size_t next = n;
      for (size_t e = first[cur]; e < first[cur + 1]; e++)
        if (target[e] >= 0 && indeg[target[e]] > 0) {
          next = (size_t)target[e];
          break;
        }
      if (next == n || (seen[next] && pos[next] < 0))
        break; /* leads into a cycle already named */
      if (pos[next] >= 0) {
        hit = pos[next];
        break;
      }
      cur = next;
    }
    if (hit >= 0) {
      /* path[hit..len-1] walked inputs backwards: path[k+1] feeds
       * path[k]. Name it forwards, from its node written first. */
      size_t lo = (size_t)hit;
      for (size_t k = (size_t)hit; k < len; k++)
        if (path[k] < path[lo])
          lo = k;
      size_t m = len - (size_t)hit;
      sy_buf b = SY_BUF_INIT;
      for (size_t step = 0; step <= m; step++) {
        /* Forwards means decreasing k, wrapping inside [hit, len). */
        size_t k = (size_t)hit + (lo - (size_t)hit + m - step % m) % m;
        if (step)
          sy_buf_puts(&b, " -> ");
        sy_buf_puts(&b, flow->nodes[path[k]].id);
      }
      const sy_flow_node *at = &flow->nodes[path[lo]];
      if (b.failed)
        rc = sy_error_set(C->err, SY_ENOMEM, "%s: out of memory", flow->file);
      else
        problem(C, SY_ECYCLE, at->file, at->line, NULL, "cycle: %s", b.data);
      sy_buf_free(&b);
      if (rc != 0)
        goto done;
    }
    for (size_t k = 0; k < len; k++)
      pos[path[k]] = -1;
  }
done:
  free(pos);
  free(seen);
  free(path);
  return rc;
}

/* Computes flow->order, or reports the cycles that prevent one. */
static int compute_order(checker *C) {
  sy_flow *flow = C->flow;
  size_t n = flow->n_nodes, edges = 0;
  /* When every input names a node written earlier (the usual way to
   * write a flow, and always the case for default inputs), the file
   * order is the order: Kahn's algorithm taking the ready node written
   * first places 0..i-1 before i and nothing else is ready then. That
   * skips ~50 bytes a node of edge arrays and the heap. */
  int forward = 1;
  for (size_t i = 0; i < n && forward; i++) {
    const sy_flow_node *node = &flow->nodes[i];
    edges += node->n_inputs;
    for (size_t k = 0; k < node->n_inputs; k++)
      if (target_of(C, &node->inputs[k]) >= (long)i)
        forward = 0;
  }
  if (forward && n < UINT32_MAX) {
    uint32_t *order = sy__big_malloc((n ? n : 1) * sizeof *order);
    if (!order)
      return sy_error_set(C->err, SY_ENOMEM, "%s: out of memory", flow->file);
    for (size_t i = 0; i < n; i++)
      order[i] = (uint32_t)i;
    free(flow->order);
    flow->order = order;
    return 0;
  }
  edges = 0;
  for (size_t i = 0; i < n; i++)
    edges += flow->nodes[i].n_inputs;
  size_t *first = calloc(n + 1, sizeof *first); /* inputs of node i */
  long *target = calloc(edges ? edges : 1, sizeof *target);
  size_t *indeg = calloc(n ? n : 1, sizeof *indeg);
  size_t *sfirst = calloc(n + 1, sizeof *sfirst); /* users of node i */
  uint32_t *succ = calloc(edges ? edges : 1, sizeof *succ);
  uint32_t *order = calloc(n ? n : 1, sizeof *order);
  heap h = {calloc(n ? n : 1, sizeof *h.v), 0};
  int rc = 0;
  if (!first || !target || !indeg || !sfirst || !succ || !order || !h.v) {
    rc = sy_error_set(C->err, SY_ENOMEM, "%s: out of memory", flow->file);
    goto done;
  }
  size_t e = 0;
  for (size_t i = 0; i < n; i++) {
    first[i] = e;
    for (size_t k = 0; k < flow->nodes[i].n_inputs; k++, e++) {
      target[e] = target_of(C, &flow->nodes[i].inputs[k]);
      if (target[e] >= 0) {
        indeg[i]++;
        sfirst[target[e] + 1]++;
      }
    }
  }
  first[n] = e;
  for (size_t i = 0; i < n; i++)
    sfirst[i + 1] += sfirst[i];
  size_t *fill = calloc(n ? n : 1, sizeof *fill);
  if (!fill) {
    rc = sy_error_set(C->err, SY_ENOMEM, "%s: out of memory", flow->file);
    goto done;
  }
  for (size_t i = 0; i < n; i++)
    for (size_t k = first[i]; k < first[i + 1]; k++)
      if (target[k] >= 0) {
        size_t t = (size_t)target[k];
        succ[sfirst[t] + fill[t]++] = (uint32_t)i;
      }
  free(fill);
  for (size_t i = 0; i < n; i++)
    if (indeg[i] == 0)
      heap_push(&h, (uint32_t)i);
  size_t placed = 0;
  while (h.n) {
    uint32_t i = heap_pop(&h);
    order[placed++] = i;
    for (size_t k = sfirst[i]; k < sfirst[i + 1]; k++)
      if (--indeg[succ[k]] == 0)
        heap_push(&h, succ[k]);
  }
  free(flow->order);
  flow->order = NULL;
  if (placed == n) {
    flow->order = order;
    order = NULL;
  } else {
    rc = report_cycles(C, target, first, indeg);
  }
done:
  free(first);
  free(target);
  free(indeg);
  free(sfirst);
  free(succ);
  free(order);
  free(h.v);
  return rc;
}

static int validate(checker *C);
static int check_label_rows(checker *C);

int sy__flow_validate(sy_flow *flow, const sy_catalog *cat,
                      sy__flow_report_fn report, void *ud, sy_error *err) {
  if (!flow || !cat)
    return sy_error_set(err, SY_EINVAL, "sy__flow_validate: no flow");
  checker C = {flow, cat, report, ud, err, 0, NULL, 0, 0};
  flow->resolved = 0;
  int rc = build_index(&C);
  if (rc == 0)
    rc = validate(&C);
  free(C.idx);
  return rc;
}

void sy__flow_report_file(void *ud, const sy_error *problem) {
  fprintf((FILE *)ud, "%s\n", problem->message);
}

int sy__flow_load_valid(const char *path, const char *text,
                        const sy_catalog *cat, FILE *report, sy_flow **out,
                        sy_error *err) {
  return sy__flow_load_valid_params(path, text, cat, NULL, report, out, err);
}

int sy__flow_load_valid_params(const char *path, const char *text,
                               const sy_catalog *cat, const sy__params *ov,
                               FILE *report, sy_flow **out, sy_error *err) {
  sy_flow *flow = NULL;
  *out = NULL;
  int rc = text ? sy__flow_load_string(text, path, &flow, err)
                : sy__flow_load(path, &flow, err);
  if (rc == 0 && ov)
    rc = sy__flow_bind_params(flow, ov, err);
  if (rc == 0)
    rc = sy__flow_validate(flow, cat, report ? sy__flow_report_file : NULL,
                           report, err);
  else if (report)
    fprintf(report, "%s\n", err ? err->message : sy_strerror(rc));
  if (rc) {
    /* Written to report already: not repeated in err (the code stays). */
    if (report && err)
      err->message[0] = '\0';
    sy__flow_free(flow);
    return rc;
  }
  *out = flow;
  return 0;
}

/* The label the source keeps apart (source.label) reaches a supervised
 * actor whole, one value per source row: an actor that reads rows an
 * SY_ACTOR_ROW_SUBSET actor (std.split, std.head) picked would get more
 * labels than rows, and fail only at run time with a row count. Refused
 * here, at the supervised node's line, naming the actor that picked the
 * rows. (Splitting the label too would need the core to carry a label per
 * path; `switchyard eval --holdout` already splits both.) */
static int check_label_rows(checker *C) {
  sy_flow *flow = C->flow;
  size_t nn = flow->n_nodes;
  if (!flow->source.label || !flow->order || nn == 0)
    return 0;
  long *from = malloc(nn * sizeof *from); /* the subsetting node, or -1 */
  if (!from)
    return sy_error_set(C->err, SY_ENOMEM, "%s: out of memory", flow->file);
  for (size_t k = 0; k < nn; k++) {
    size_t i = flow->order[k];
    const sy_flow_node *n = &flow->nodes[i];
    const sy_actor_ops *ops = ops_of(n);
    long sub = -1;
    for (size_t j = 0; j < n->n_inputs && sub < 0; j++) {
      long t = n->inputs[j].target;
      if (t >= 0 && (size_t)t < nn)
        sub = from[t];
    }
    if (ops && (ops->flags & SY_ACTOR_STATEFUL) &&
        (ops->flags & SY_ACTOR_SUPERVISED) && sub >= 0) {
      const sy_flow_node *s = &flow->nodes[sub];
      problem(C, SY_ECONFIG, n->file ? n->file : flow->file, n->line, NULL,
              "%s (%s) trains on the label, but its rows went through %s "
              "(%s), which picks a subset of them, and the label the source "
              "keeps apart (source.label = \"%s\") does not follow: "
              "evaluate on held-out rows with `switchyard eval %s "
              "--holdout F --seed S`, which splits features and label "
              "together, or put %s after %s",
              n->id, n->actor, s->id, s->actor, flow->source.label, flow->file,
              s->id, n->id);
    }
    from[i] = sub >= 0                                    ? sub
              : ops && (ops->flags & SY_ACTOR_ROW_SUBSET) ? (long)i
                                                          : -1;
  }
  free(from);
  return 0;
}

static int validate(checker *C_) {
  checker C = *C_;
  sy_flow *flow = C.flow;
  int rc;
  resolve_inputs(&C);
  check_ids(&C);
  if ((rc = resolve_actors(&C)) != 0)
    return rc;
  for (size_t i = 0; i < flow->n_nodes; i++) {
    const sy_flow_node *n = &flow->nodes[i];
    for (size_t k = 0; k < n->n_inputs; k++)
      if ((rc = check_input(&C, &n->inputs[k], n->id)) != 0)
        return rc;
    check_arity(&C, n);
    if ((rc = check_params(&C, n)) != 0)
      return rc;
  }
  if (flow->sink.instance &&
      (rc = check_input(&C, &flow->sink.input, "sink")) != 0)
    return rc;
  if ((rc = compute_order(&C)) != 0)
    return rc;
  if ((rc = check_label_rows(&C)) != 0)
    return rc;
  return C.rc;
}
