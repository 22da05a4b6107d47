/*
 * config.c - the platform configuration and configured instances.
 *
 * Design notes.
 *
 * - A config is a list of sections in first-seen order, each a list of
 *   keys in first-seen order. Every value is stored as the raw text the
 *   user wrote, with its origin: "file:line", "-o" or "default". Layers are
 *   not kept apart: a later layer simply replaces the value and origin of a
 *   key, which is all that "later wins" needs, and keeps lookups trivial.
 * - Section names are canonical: "PLATFORM" or "KIND.instance" with the kind
 *   upper-case and the instance as written. An unknown kind, a kind with no
 *   instance, or an instance name with a dot is refused when the text is
 *   read, so a typo in a header is reported at its line even when nothing
 *   ever asks for that section.
 * - A file is read into a scratch config first and merged only when the
 *   whole file is valid, so a failed load leaves the config as it was. The
 *   scratch config is also where a key set twice in one file is caught:
 *   within a file that is a mistake, across layers it is the point.
 * - ${VAR} and ~ are expanded when a value is parsed (sy__opt_parse, at
 *   validation and instance creation), not when a file is read. The config
 *   therefore holds the text as written, so `switchyard config` shows
 *   "${DATA}/x" rather than whatever the environment held, and never
 *   prints a secret that came from the environment.
 * - [PLATFORM] keys have a built-in option table (sy__platform_options);
 *   its defaults are the config's bottom layer, origin "default". Instance
 *   sections are checked against their provider's table in the catalog.
 * - Every validation error is "ORIGIN: what; hint", code SY_ECONFIG. The
 *   hint for an instance section is "try: switchyard providers help
 *   kind.instance"; for [PLATFORM] it lists the keys.
 *
 * Thread-safety: build from one thread; const functions are safe from any
 * thread once built.
 */
#include "internal.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Config files are small; a bigger one is a wrong path, not a config. */
#define CONFIG_FILE_MAX (16u << 20)

/* ---- the [PLATFORM] table ------------------------------------------------ */

static const char *const log_levels[] = {"error", "warn", "info", "debug",
                                         NULL};
static const char *const cache_modes[] = {"off", "read", "write", "readwrite",
                                          NULL};

/* Offsets are 0: platform values are read raw with sy_config_get() and
 * parsed with sy__opt_parse() by whoever uses them, never written into a
 * struct by this file. */
static const sy_option platform_options[] = {
    {"plugin_path", SY_OPT_STRING, 0, "", NULL, NULL, NULL, 0,
     "Extra folders to scan for provider plugins, colon-separated."},
    {"runner", SY_OPT_STRING, 0, "inline", NULL, NULL, NULL, 0,
     "The runner instance used when a command names none."},
    {"registry", SY_OPT_STRING, 0, "local", NULL, NULL, NULL, 0,
     "The registry instance used when a command names none."},
    {"storage", SY_OPT_STRING, 0, "cache", NULL, NULL, NULL, 0,
     "The storage instance used when a command names none."},
    {"feed", SY_OPT_STRING, 0, "data", NULL, NULL, NULL, 0,
     "The feed instance used when a command names none."},
    {"sink", SY_OPT_STRING, 0, "out", NULL, NULL, NULL, 0,
     "The sink instance used when a command names none."},
    {"log_level", SY_OPT_ENUM, 0, "info", NULL, NULL, log_levels, 0,
     "How much commands print: error is -q, warn and info the default, "
     "debug is -v; -q or -v on the command line wins."},
    {"cache", SY_OPT_ENUM, 0, "readwrite", NULL, NULL, cache_modes, 0,
     "Whether runs read step results from the storage and write them to "
     "it (off, read, write, readwrite)."},
    {"serve_listen", SY_OPT_STRING, 0, "127.0.0.1:8080", NULL, NULL, NULL, 0,
     "Where `switchyard serve` listens without --listen (HOST:PORT, a "
     "loopback address: any other needs --listen)."},
    SY_OPTION_END};

const sy_option *sy__platform_options(void) {
  return platform_options;
}

const sy_option *sy_config_platform_options(void) {
  return platform_options;
}

/* ---- data --------------------------------------------------------------- */

typedef struct entry {
  char *key;
  char *value;
  char *origin;
  int line; /* only meaningful while a file is read: duplicate detection */
} entry;

typedef struct section {
  char *name;           /* canonical: "PLATFORM" or "RUNNER.parallel" */
  sy_kind kind;         /* 0 for PLATFORM */
  const char *instance; /* points into name after the dot; NULL for PLATFORM */
  char *origin;         /* where its header was first seen */
  int line;             /* header line while a file is read */
  entry *entries;
  size_t len, cap;
} section;

struct sy_config {
  section *sections;
  size_t len, cap;
};

struct sy_instance {
  const sy_provider *provider;
  sy_kind kind;
  char *name;
  void *config;
  sy__pool pool; /* strings and lists written into config */
  void *self;
  bool created;
};

static const char kinds_list[] =
    "PLATFORM, RUNNER, FEED, SINK, REGISTRY, STORAGE, ACTOR";

/* ---- section names ------------------------------------------------------ */

/* Upper-cases the kind part of `in` into out. False when it does not fit. */
static bool canon_name(const char *in, char *out, size_t cap) {
  size_t n = strlen(in);
  if (n >= cap)
    return false;
  bool kind_part = true;
  for (size_t i = 0; i <= n; i++) {
    if (in[i] == '.')
      kind_part = false;
    out[i] = kind_part ? (char)toupper((unsigned char)in[i]) : in[i];
  }
  return true;
}

static bool valid_instance(const char *s) {
  if (!*s)
    return false;
  for (; *s; s++)
    if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
      return false;
  return true;
}

/* Parses a section name into its canonical form (malloc()ed) and kind. The
 * error says what is wrong but not where. */
static int parse_section(const char *text, char **canon, sy_kind *kind,
                         sy_error *err) {
  char name[256];
  *canon = NULL;
  if (!canon_name(text, name, sizeof name))
    return sy_error_set(err, SY_ECONFIG, "section name too long: [%.60s...]",
                        text);
  char *dot = strchr(name, '.');
  if (dot)
    *dot = '\0';
  const char *inst = dot ? dot + 1 : NULL;
  sy_kind k = 0;
  if (strcmp(name, "PLATFORM") == 0) {
    if (inst)
      return sy_error_set(err, SY_ECONFIG,
                          "[PLATFORM] takes no instance name, got [%s]", text);
  } else if (sy_kind_parse(name, &k) != 0) {
    static const char *const kinds[] = {"PLATFORM", "RUNNER",  "FEED", "SINK",
                                        "REGISTRY", "STORAGE", "ACTOR"};
    const char *near = sy__suggest(name, kinds, sizeof kinds / sizeof *kinds);
    char kind_text[256];
    snprintf(kind_text, sizeof kind_text, "%.*s", (int)strcspn(text, "."),
             text);
    if (near)
      return sy_error_set(err, SY_ECONFIG,
                          "unknown section kind '%s' in [%s] (did you mean "
                          "'%s'?); kinds: %s",
                          kind_text, text, near, kinds_list);
    return sy_error_set(err, SY_ECONFIG,
                        "unknown section kind '%s' in [%s]; kinds: %s",
                        kind_text, text, kinds_list);
  } else if (!inst) {
    return sy_error_set(err, SY_ECONFIG,
                        "[%s] needs an instance name, as in [%s.name]", text,
                        name);
  } else if (!valid_instance(inst)) {
    return sy_error_set(err, SY_ECONFIG,
                        "invalid instance name '%s' in [%s]: use letters, "
                        "digits, '_' and '-' (no dots)",
                        inst, text);
  }
  if (dot)
    *dot = '.';
  *canon = strdup(name);
  if (!*canon)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  *kind = k;
  return 0;
}

static section *find_section(const sy_config *cfg, const char *canon) {
  for (size_t i = 0; i < cfg->len; i++)
    if (strcmp(cfg->sections[i].name, canon) == 0)
      return &cfg->sections[i];
  return NULL;
}

/* The section named `text` in any case of its kind part, or NULL. */
static section *lookup_section(const sy_config *cfg, const char *text) {
  char name[256];
  if (!cfg || !text || !canon_name(text, name, sizeof name))
    return NULL;
  return find_section(cfg, name);
}

static section *find_instance(const sy_config *cfg, sy_kind kind,
                              const char *inst) {
  for (size_t i = 0; i < cfg->len; i++) {
    section *s = &cfg->sections[i];
    if (s->kind == kind && s->instance && strcmp(s->instance, inst) == 0)
      return s;
  }
  return NULL;
}

static entry *find_entry(const section *sec, const char *key) {
  for (size_t i = 0; i < sec->len; i++)
    if (strcmp(sec->entries[i].key, key) == 0)
      return &sec->entries[i];
  return NULL;
}

/* ---- building ------------------------------------------------------------ */

static void free_section(section *s) {
  for (size_t i = 0; i < s->len; i++) {
    free(s->entries[i].key);
    free(s->entries[i].value);
    free(s->entries[i].origin);
  }
  free(s->entries);
  free(s->name);
  free(s->origin);
}

static void free_config(sy_config *cfg) {
  for (size_t i = 0; i < cfg->len; i++)
    free_section(&cfg->sections[i]);
  free(cfg->sections);
}

/* Finds or adds the section with canonical name `canon` (taken over on
 * success, freed on failure). */
static int add_section(sy_config *cfg, char *canon, sy_kind kind,
                       const char *origin, int line, section **out) {
  section *s = find_section(cfg, canon);
  if (s) {
    free(canon);
    /* A file's header says more than the built-in defaults did. */
    if (strcmp(s->origin, "default") == 0 && strcmp(origin, "default") != 0) {
      char *o = strdup(origin);
      if (!o)
        return SY_ENOMEM;
      free(s->origin);
      s->origin = o;
    }
    *out = s;
    return 0;
  }
  if (cfg->len == cfg->cap) {
    size_t cap = cfg->cap ? cfg->cap * 2 : 8;
    section *v = realloc(cfg->sections, cap * sizeof *v);
    if (!v) {
      free(canon);
      return SY_ENOMEM;
    }
    cfg->sections = v;
    cfg->cap = cap;
  }
  s = &cfg->sections[cfg->len];
  memset(s, 0, sizeof *s);
  s->name = canon;
  s->kind = kind;
  char *dot = strchr(canon, '.');
  s->instance = dot ? dot + 1 : NULL;
  s->line = line;
  s->origin = strdup(origin);
  if (!s->origin) {
    free(canon);
    return SY_ENOMEM;
  }
  cfg->len++;
  *out = s;
  return 0;
}

/* Moves entry e into sec (replacing an earlier value of its key), leaving
 * e empty: a loaded file's strings change hands instead of being copied
 * once more. */
static int take_entry(section *sec, entry *e) {
  entry *old = find_entry(sec, e->key);
  if (old) {
    free(old->value);
    free(old->origin);
    old->value = e->value;
    old->origin = e->origin;
    old->line = e->line;
    free(e->key);
  } else {
    if (sec->len == sec->cap) {
      size_t cap = sec->cap ? sec->cap * 2 : 8;
      entry *n = realloc(sec->entries, cap * sizeof *n);
      if (!n)
        return SY_ENOMEM;
      sec->entries = n;
      sec->cap = cap;
    }
    sec->entries[sec->len++] = *e;
  }
  *e = (entry){NULL, NULL, NULL, 0};
  return 0;
}

/* Sets key in sec (copies of the strings), replacing an earlier value. */
static int set_entry(section *sec, const char *key, const char *value,
                     const char *origin, int line) {
  entry e = {strdup(key), strdup(value), strdup(origin), line};
  if (!e.key || !e.value || !e.origin || take_entry(sec, &e) != 0) {
    free(e.key);
    free(e.value);
    free(e.origin);
    return SY_ENOMEM;
  }
  return 0;
}

int sy_config_new(sy_config **out) {
  sy_config *cfg = calloc(1, sizeof *cfg);
  section *sec = NULL;
  char *canon = strdup("PLATFORM");
  int rc = SY_ENOMEM;
  *out = NULL;
  if (!cfg || !canon)
    goto fail;
  rc = add_section(cfg, canon, 0, "default", 0, &sec);
  canon = NULL;
  if (rc != 0)
    goto fail;
  for (const sy_option *o = platform_options; o->name; o++)
    if (o->def && (rc = set_entry(sec, o->name, o->def, "default", 0)) != 0)
      goto fail;
  *out = cfg;
  return 0;
fail:
  free(canon);
  sy_config_free(cfg);
  return rc;
}

void sy_config_free(sy_config *cfg) {
  if (!cfg)
    return;
  free_config(cfg);
  free(cfg);
}

/* Merges `from` (a freshly loaded file, emptied of what moved) into cfg. */
static int merge(sy_config *cfg, sy_config *from) {
  for (size_t i = 0; i < from->len; i++) {
    section *fs = &from->sections[i];
    section *s;
    char *canon = strdup(fs->name);
    if (!canon)
      return SY_ENOMEM;
    int rc = add_section(cfg, canon, fs->kind, fs->origin, 0, &s);
    if (rc != 0)
      return rc;
    for (size_t j = 0; j < fs->len; j++)
      if ((rc = take_entry(s, &fs->entries[j])) != 0)
        return rc;
  }
  return 0;
}

/* "NAME:LINE", as snprintf's "%s:%d" writes it (truncated alike), without
 * the printf machinery: every line of every config layer names its
 * origin, at every start. */
static void origin_format(char *out, size_t cap, const char *name, int line) {
  size_t n = strlen(name);
  if (line < 0 || n + 13 > cap) {
    snprintf(out, cap, "%s:%d", name, line);
    return;
  }
  char digits[12];
  size_t nd = 0;
  unsigned v = (unsigned)line;
  do
    digits[nd++] = (char)('0' + v % 10);
  while ((v /= 10) != 0);
  memcpy(out, name, n);
  out[n++] = ':';
  while (nd)
    out[n++] = digits[--nd];
  out[n] = '\0';
}

typedef struct load_ctx {
  sy_config *scratch;
  const char *name;
  section *current;
} load_ctx;

static int on_ini(void *ud, const char *sname, const char *key,
                  const char *value, int line, sy_error *err) {
  load_ctx *ctx = ud;
  char origin[512];
  origin_format(origin, sizeof origin, ctx->name, line);
  if (!key) {
    char *canon;
    sy_kind kind = 0;
    int rc = parse_section(sname, &canon, &kind, err);
    if (rc != 0)
      return err ? sy_error_prefix(err, "%s", origin) : rc;
    rc = add_section(ctx->scratch, canon, kind, origin, line, &ctx->current);
    if (rc != 0)
      return sy_error_set(err, rc, "%s: out of memory", origin);
    return 0;
  }
  entry *e = find_entry(ctx->current, key);
  if (e)
    return sy_error_set(err, SY_ECONFIG,
                        "%s: key '%s' set twice in [%s] (first at line %d)",
                        origin, key, ctx->current->name, e->line);
  if (set_entry(ctx->current, key, value, origin, line) != 0)
    return sy_error_set(err, SY_ENOMEM, "%s: out of memory", origin);
  return 0;
}

int sy_config_load_string(sy_config *cfg, const char *text, const char *name,
                          sy_error *err) {
  sy_config scratch = {NULL, 0, 0};
  load_ctx ctx = {&scratch, name ? name : "(string)", NULL};
  int rc;
  if (!cfg || !text)
    return sy_error_set(err, SY_EINVAL, "sy_config_load_string: no %s",
                        cfg ? "text" : "config");
  rc = sy__ini_parse(text, strlen(text), ctx.name, on_ini, &ctx, err);
  if (rc == 0 && (rc = merge(cfg, &scratch)) != 0)
    sy_error_set(err, rc, "%s: out of memory", ctx.name);
  free_config(&scratch);
  return rc;
}

int sy_config_load_file(sy_config *cfg, const char *path, int optional,
                        sy_error *err) {
  void *text = NULL;
  size_t len = 0;
  int rc = 0;
  if (!cfg || !path)
    return sy_error_set(err, SY_EINVAL, "sy_config_load_file: no %s",
                        cfg ? "path" : "config");
  /* Any readable file: a pipe (-c <(...)) and /dev/null are config too. */
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    if (e == ENOENT && optional)
      return 0;
    return sy_error_set(err, e == ENOENT ? SY_ENOENT : SY_EIO,
                        "%s: cannot open: %s", path, strerror(e));
  }
  rc = sy_file_read_fd(fd, path, CONFIG_FILE_MAX, &text, &len, err);
  close(fd);
  if (rc == SY_ETOOBIG)
    return sy_error_set(err, rc,
                        "%s: larger than %u MiB; is this a config "
                        "file?",
                        path, CONFIG_FILE_MAX >> 20);
  if (rc)
    return rc;
  /* Pass the real length so that a NUL byte in the file is reported. */
  sy_config scratch = {NULL, 0, 0};
  load_ctx ctx = {&scratch, path, NULL};
  rc = sy__ini_parse(text, len, path, on_ini, &ctx, err);
  if (rc == 0 && (rc = merge(cfg, &scratch)) != 0)
    sy_error_set(err, rc, "%s: out of memory", path);
  free_config(&scratch);
  free(text);
  return rc;
}

int sy_config_set(sy_config *cfg, const char *sname, const char *key,
                  const char *value, const char *origin, sy_error *err) {
  char *canon = NULL;
  sy_kind kind = 0;
  section *sec;
  int rc;
  if (!origin)
    origin = "(set)";
  if (!cfg || !sname || !key || !value)
    return sy_error_set(err, SY_EINVAL, "%s: missing section, key or value",
                        origin);
  if (!*key || strpbrk(key, ".= \t"))
    return sy_error_set(err, SY_ECONFIG,
                        "%s: invalid key '%s' (keys have no dots, '=' or "
                        "blanks)",
                        origin, key);
  if ((rc = parse_section(sname, &canon, &kind, err)) != 0)
    return err ? sy_error_prefix(err, "%s", origin) : rc;
  if ((rc = add_section(cfg, canon, kind, origin, 0, &sec)) != 0 ||
      (rc = set_entry(sec, key, value, origin, 0)) != 0)
    return sy_error_set(err, rc, "%s: out of memory", origin);
  return 0;
}

int sy_config_override(sy_config *cfg, const char *assignment, sy_error *err) {
  char *copy = assignment ? strdup(assignment) : NULL;
  int rc;
  if (!copy) {
    rc = sy_error_set(err, assignment ? SY_ENOMEM : SY_EINVAL,
                      "-o: no assignment");
    goto done;
  }
  char *eq = strchr(copy, '=');
  if (eq)
    *eq = '\0';
  /* Instance names have no dots and keys have none, so the last dot
   * before '=' separates the section from the key. */
  char *dot = strrchr(copy, '.');
  char *key = dot ? dot + 1 : NULL;
  if (!eq || !dot || dot == copy || !*key) {
    rc = sy_error_set(err, SY_ECONFIG,
                      "-o: expected SECTION.KEY=VALUE (as in "
                      "RUNNER.parallel.workers=4), got '%s'",
                      assignment);
    goto done;
  }
  *dot = '\0';
  char *value = eq + 1;
  while (*value == ' ' || *value == '\t')
    value++;
  char *end = value + strlen(value);
  while (end > value && (end[-1] == ' ' || end[-1] == '\t'))
    *--end = '\0';
  while (*key == ' ' || *key == '\t')
    key++;
  end = key + strlen(key);
  while (end > key && (end[-1] == ' ' || end[-1] == '\t'))
    *--end = '\0';
  rc = sy_config_set(cfg, copy, key, value, "-o", err);
done:
  free(copy);
  return rc;
}

/* ---- reading --------------------------------------------------------------
 */

const char *sy_config_get(const sy_config *cfg, const char *sname,
                          const char *key, const char **origin) {
  const section *sec = lookup_section(cfg, sname);
  const entry *e = sec && key ? find_entry(sec, key) : NULL;
  if (origin)
    *origin = e ? e->origin : NULL;
  return e ? e->value : NULL;
}

size_t sy_config_section_count(const sy_config *cfg) {
  return cfg ? cfg->len : 0;
}

const char *sy_config_section_at(const sy_config *cfg, size_t i) {
  return cfg && i < cfg->len ? cfg->sections[i].name : NULL;
}

size_t sy_config_key_count(const sy_config *cfg, const char *sname) {
  const section *sec = lookup_section(cfg, sname);
  return sec ? sec->len : 0;
}

const char *sy_config_key_at(const sy_config *cfg, const char *sname,
                             size_t i) {
  const section *sec = lookup_section(cfg, sname);
  return sec && i < sec->len ? sec->entries[i].key : NULL;
}

/* ---- validation -----------------------------------------------------------
 */

/* The hint that ends every error about a section, without the "; ". */
static void section_hint(const section *sec, const char *inst_name,
                         sy_kind kind, char *out, size_t cap) {
  if (kind == 0) {
    size_t used = (size_t)snprintf(out, cap, "keys:");
    for (const sy_option *o = platform_options; o->name && used < cap; o++)
      used += (size_t)snprintf(out + used, cap - used, "%s %s",
                               o == platform_options ? "" : ",", o->name);
    return;
  }
  (void)sec;
  snprintf(out, cap, "try: switchyard providers help %s.%s", sy_kind_name(kind),
           inst_name);
}

/* Replaces err's message with "ORIGIN: [SECTION] KEY: message; hint". */
static int value_error(sy_error *err, int rc, const char *origin,
                       const char *secname, const char *key, const char *hint) {
  if (!err)
    return rc == SY_ENOMEM ? rc : SY_ECONFIG;
  char said[SY_ERROR_MAX];
  memcpy(said, err->message, sizeof said);
  return sy_error_set(err, rc == SY_ENOMEM ? rc : SY_ECONFIG,
                      "%s: [%s] %s: %s; %s", origin, secname, key, said, hint);
}

/* What a section (possibly absent) is checked and filled against. */
typedef struct target {
  const section *sec;     /* NULL: an instance with no section */
  const char *secname;    /* "RUNNER.parallel" */
  const char *hdr_origin; /* where errors about the section point */
  const sy_option *opts;  /* may be NULL */
  const char *hint;
  bool instance; /* `provider` is a key of its own */
  const sy_provider *provider;
} target;

/* Checks the section's keys against the table and parses every option
 * (its value or its default). With `config`, writes the values there. */
/* A relative path set in a file is relative to that file's folder (like
 * paths in a Snakemake config or a systemd unit), so a project's
 * switchyard.ini can say `path = data`; one from -o or a default stays
 * relative to the current folder. `origin` is "file:line". */
static int relative_to_file(void *config, const sy_option *o,
                            const char *origin, sy__pool *pool) {
  const char **slot = (const char **)((char *)config + o->offset);
  const char *path = *slot;
  const char *colon = strrchr(origin, ':');
  if (!path || !*path || path[0] == '/' || !colon || colon == origin ||
      strncmp(origin, "-o", 2) == 0)
    return 0;
  const char *slash = NULL;
  for (const char *c = origin; c < colon; c++)
    if (*c == '/')
      slash = c;
  if (!slash)
    return 0; /* a file in the current folder: already right */
  size_t dir = (size_t)(slash - origin);
  size_t len = dir + 1 + strlen(path) + 1;
  char *joined = malloc(len);
  if (!joined)
    return SY_ENOMEM;
  memcpy(joined, origin, dir);
  joined[dir] = '/';
  strcpy(joined + dir + 1, path);
  if (!sy__pool_add(pool, joined))
    return SY_ENOMEM;
  *slot = joined;
  return 0;
}

static int fill(const target *t, void *config, size_t config_size,
                sy__pool *pool, sy_error *err) {
  int rc;
  for (size_t i = 0; t->sec && i < t->sec->len; i++) {
    const entry *e = &t->sec->entries[i];
    if (t->instance && strcmp(e->key, "provider") == 0)
      continue;
    if (sy__opt_find(t->opts, e->key))
      continue;
    const char *names[256];
    size_t n = 0;
    for (const sy_option *o = t->opts; o && o->name && n < 256; o++)
      names[n++] = o->name;
    const char *near = sy__suggest(e->key, names, n);
    if (near)
      return sy_error_set(err, SY_ECONFIG,
                          "%s: unknown key '%s' in [%s] (did you mean "
                          "'%s'?); %s",
                          e->origin, e->key, t->secname, near, t->hint);
    return sy_error_set(err, SY_ECONFIG, "%s: unknown key '%s' in [%s]; %s",
                        e->origin, e->key, t->secname, t->hint);
  }
  for (const sy_option *o = t->opts; o && o->name; o++) {
    const entry *e = t->sec ? find_entry(t->sec, o->name) : NULL;
    const char *text = e ? e->value : o->def;
    const char *origin = e ? e->origin : "default";
    size_t size = sy__opt_value_size(o->type);
    if (config &&
        o->offset + (size ? size : sizeof(const char *)) > config_size)
      return sy_error_set(err, SY_EPLUGIN,
                          "%s.%s: option '%s' lies outside its config struct "
                          "(offset %zu, size %zu)",
                          sy_kind_name(t->provider->kind), t->provider->name,
                          o->name, o->offset, config_size);
    if (!text) {
      if (o->flags & SY_OPT_REQUIRED)
        return sy_error_set(
            err, SY_ECONFIG, "%s: [%s] missing required key '%s' (%s); %s",
            t->hdr_origin, t->secname, o->name, o->help, t->hint);
      continue;
    }
    if ((rc = sy__opt_parse(o, text, config, pool, err)) != 0)
      return value_error(err, rc, origin, t->secname, o->name, t->hint);
    if (config && e && o->type == SY_OPT_PATH &&
        (rc = relative_to_file(config, o, origin, pool)) != 0)
      return sy_error_set(err, rc, "out of memory");
  }
  return 0;
}

/* Finds the provider of an instance section; the error names the origin
 * of the provider key, or the header when the name is the default. */
static int find_provider(const section *sec, const sy_catalog *cat,
                         const sy_provider **out, sy_error *err) {
  const entry *pe = find_entry(sec, "provider");
  const char *pname = pe ? pe->value : sec->instance;
  const char *origin = pe ? pe->origin : sec->origin;
  const char *kname = sy_kind_name(sec->kind);
  *out = sy_catalog_find(cat, sec->kind, pname);
  if (*out)
    return 0;
  /* Known names, loaded or not: a typo loads no plugin. */
  size_t count = sy_catalog_known_count(cat), n = 0;
  const char **names = calloc(count ? count : 1, sizeof *names);
  if (!names)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  for (size_t i = 0; i < count; i++) {
    sy_kind kind = 0;
    const char *known = sy_catalog_known_at(cat, i, &kind, NULL, NULL, NULL);
    if (known && kind == sec->kind)
      names[n++] = known;
  }
  const char *near = sy__suggest(pname, names, n);
  int rc;
  if (near)
    rc = sy_error_set(err, SY_ECONFIG,
                      "%s: unknown %s provider '%s' for [%s] (did you mean "
                      "'%s'?); try: switchyard providers list",
                      origin, kname, pname, sec->name, near);
  else
    rc = sy_error_set(err, SY_ECONFIG,
                      "%s: unknown %s provider '%s' for [%s]; try: "
                      "switchyard providers list",
                      origin, kname, pname, sec->name);
  free(names);
  return rc;
}

int sy_config_validate(const sy_config *cfg, const sy_catalog *cat,
                       sy_error *err) {
  if (!cfg)
    return sy_error_set(err, SY_EINVAL, "sy_config_validate: no config");
  for (size_t i = 0; i < cfg->len; i++) {
    const section *sec = &cfg->sections[i];
    char hint[256];
    section_hint(sec, sec->instance, sec->kind, hint, sizeof hint);
    target t = {sec, sec->name, sec->origin, NULL, hint, sec->kind != 0, NULL};
    int rc;
    if (sec->kind == 0) {
      t.opts = platform_options;
    } else {
      /* Without a catalog only the names and [PLATFORM] can be checked. */
      if (!cat)
        continue;
      if ((rc = find_provider(sec, cat, &t.provider, err)) != 0)
        return rc;
      t.opts = t.provider->options;
    }
    if ((rc = fill(&t, NULL, 0, NULL, err)) != 0)
      return rc;
  }
  return 0;
}

/* ---- instances ------------------------------------------------------------
 */

static int no_instance(const sy_config *cfg, const sy_catalog *cat,
                       sy_kind kind, const char *name, sy_error *err) {
  const char *kname = sy_kind_name(kind);
  size_t count = sy_catalog_known_count(cat), n = 0;
  const char **names = calloc(count + cfg->len + 1, sizeof *names);
  if (!names)
    return sy_error_set(err, SY_ENOMEM, "out of memory");
  for (size_t i = 0; i < cfg->len; i++)
    if (cfg->sections[i].kind == kind)
      names[n++] = cfg->sections[i].instance;
  for (size_t i = 0; i < count; i++) {
    sy_kind k = 0;
    const char *known = sy_catalog_known_at(cat, i, &k, NULL, NULL, NULL);
    if (known && k == kind)
      names[n++] = known;
  }
  const char *near = sy__suggest(name, names, n);
  char upper[32];
  canon_name(kname, upper, sizeof upper);
  int rc = sy_error_set(
      err, SY_ECONFIG,
      "unknown %s instance '%s': no [%s.%s] section and no %s provider of "
      "that name%s%s%s; try: switchyard providers list",
      kname, name, upper, name, kname, near ? " (did you mean '" : "",
      near ? near : "", near ? "'?)" : "");
  free(names);
  return rc;
}

int sy_instance_create(const sy_config *cfg, const sy_catalog *cat,
                       sy_kind kind, const char *name, sy_instance **out,
                       sy_error *err) {
  sy_instance *inst = NULL;
  sy_error local;
  int rc;
  sy_error_clear(&local);
  if (out)
    *out = NULL;
  if (!cfg || !cat || !name || !out || !sy_kind_name(kind)) {
    rc = sy_error_set(&local, SY_EINVAL, "sy_instance_create: bad argument");
    goto fail;
  }
  const section *sec = find_instance(cfg, kind, name);
  char hint[256], secname[300], upper[32];
  canon_name(sy_kind_name(kind), upper, sizeof upper);
  snprintf(secname, sizeof secname, "%s.%s", upper, name);
  section_hint(sec, name, kind, hint, sizeof hint);
  target t = {sec,  secname, sec ? sec->origin : "default", NULL, hint,
              true, NULL};
  if (sec) {
    if ((rc = find_provider(sec, cat, &t.provider, &local)) != 0)
      goto fail;
  } else if (!(t.provider = sy_catalog_find(cat, kind, name))) {
    rc = no_instance(cfg, cat, kind, name, &local);
    goto fail;
  }
  t.opts = t.provider->options;

  if (!(inst = calloc(1, sizeof *inst)) || !(inst->name = strdup(name)) ||
      !(inst->config =
            calloc(1, t.provider->config_size ? t.provider->config_size : 1))) {
    rc = sy_error_set(&local, SY_ENOMEM, "out of memory");
    goto fail;
  }
  inst->provider = t.provider;
  inst->kind = kind;
  if ((rc = fill(&t, inst->config, t.provider->config_size, &inst->pool,
                 &local)) != 0)
    goto fail;
  if (t.provider->create) {
    rc = t.provider->create(inst->config, &inst->self, &local);
    if (rc != 0) {
      if (rc > 0 || local.code == 0 || !local.message[0])
        sy_error_set(&local, rc < 0 ? rc : SY_EFAILED, "create failed: %s",
                     sy_strerror(rc < 0 ? rc : SY_EFAILED));
      rc = local.code = rc < 0 ? rc : SY_EFAILED;
      sy_error_prefix(&local, "%s.%s", sy_kind_name(kind), name);
      goto fail;
    }
  }
  inst->created = true;
  *out = inst;
  return 0;
fail:
  sy_instance_destroy(inst);
  if (err)
    *err = local;
  return rc;
}

void sy_instance_destroy(sy_instance *inst) {
  if (!inst)
    return;
  if (inst->created && inst->provider->destroy)
    inst->provider->destroy(inst->self);
  sy__pool_release(&inst->pool);
  free(inst->config);
  free(inst->name);
  free(inst);
}

const sy_provider *sy_instance_provider(const sy_instance *inst) {
  return inst ? inst->provider : NULL;
}

void *sy_instance_self(const sy_instance *inst) {
  return inst ? inst->self : NULL;
}

const void *sy_instance_config(const sy_instance *inst) {
  return inst ? inst->config : NULL;
}

const char *sy_instance_name(const sy_instance *inst) {
  return inst ? inst->name : NULL;
}
